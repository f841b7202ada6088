//! API Gateway v2 (HTTP and WebSocket API) controls: every stage writes access logs
//! (`apigw-v2-access-logging`, Security Hub APIGateway.9, AWS Config
//! api-gwv2-access-logs-enabled) and every route specifies an authorization type
//! (`apigw-v2-route-authorization`, Security Hub APIGateway.8, AWS Config
//! api-gwv2-authorization-type-configured). Each stage and route is judged over the period by
//! replaying its change events (`history`, `period`); the judged settings are held in the
//! small replay states below, where an absent value means "not known", never "off".

use serde::{Deserialize, Serialize};

use super::catalog::{APIGW_V2_ACCESS_LOGGING, APIGW_V2_ROUTE_AUTHORIZATION};
use super::history::RegionHistory;
use super::period::Replay;
use super::remediation;
use super::{Evaluation, Finding, RegionScope, Status};
use crate::evidence::{ApiGatewayEvidence, ApiV2, EvidenceGap, RouteV2, StageV2};

/// What `apigw-v2-access-logging` judges of a stage, in the form the period rule replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V2StageState {
    pub stage_name: String,
    /// The access log destination (a CloudWatch Logs log group or Firehose ARN); empty: the
    /// stage writes no access log; absent: not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_destination: Option<String>,
}

impl V2StageState {
    /// The replayed field of the destination.
    pub const DESTINATION: &'static str = "access_log_destination";

    fn of(stage: &StageV2) -> Self {
        let destination = stage
            .access_log_settings
            .as_ref()
            .and_then(|s| s.destination_arn.clone())
            .unwrap_or_default();
        V2StageState {
            stage_name: stage.stage_name.clone(),
            access_log_destination: Some(destination),
        }
    }
}

/// What `apigw-v2-route-authorization` judges of a route, in the form the period rule replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V2RouteState {
    pub route_id: String,
    /// `GET /items`, `$connect`, …; absent: not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_key: Option<String>,
    /// `NONE`, `AWS_IAM`, `CUSTOM`, `JWT`; absent: not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_type: Option<String>,
}

impl V2RouteState {
    pub const ROUTE_KEY: &'static str = "route_key";
    pub const AUTHORIZATION: &'static str = "authorization_type";

    fn of(route: &RouteV2) -> Self {
        V2RouteState {
            route_id: route.route_id.clone(),
            route_key: route.route_key.clone(),
            authorization_type: route.authorization_type.clone(),
        }
    }
}

/// The WebSocket route on which a connection is authorized: API Gateway allows authorization
/// on `$connect` only (developer guide, "$connect and $disconnect routes").
pub const CONNECT_ROUTE: &str = "$connect";

const ROWS: &[(&str, Option<super::View>)] = &[
    (APIGW_V2_ACCESS_LOGGING, None),
    (APIGW_V2_ROUTE_AUTHORIZATION, None),
];

/// An API as the rows name it: `orders (a1b2c3) HTTP API`.
fn api_label(api_id: &str, api: Option<&ApiV2>) -> String {
    let protocol = api.and_then(|a| a.protocol_type.as_deref()).unwrap_or("v2");
    match api.and_then(|a| a.name.as_deref()) {
        Some(name) => format!("{name} ({api_id}) {protocol} API"),
        None => format!("{api_id} {protocol} API"),
    }
}

fn stage_resource(api_id: &str, api: Option<&ApiV2>, stage_name: &str) -> String {
    format!("{} stage {stage_name}", api_label(api_id, api))
}

fn route_resource(api_id: &str, api: Option<&ApiV2>, route: &V2RouteState) -> String {
    match route.route_key.as_deref() {
        Some(key) => format!(
            "{} route {key} ({})",
            api_label(api_id, api),
            route.route_id
        ),
        None => format!("{} route {}", api_label(api_id, api), route.route_id),
    }
}

/// Evaluates both controls for one account-region.
pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&ApiGatewayEvidence>,
    history: &RegionHistory,
    replay: &Replay,
    out: &mut Evaluation,
) {
    // GetApis runs after GetRestApis: without API Gateway evidence the v1 gaps say why.
    let gaps: Vec<&EvidenceGap> = match evidence {
        None => scope.service_gaps("apigateway"),
        Some(_) => scope.service_gaps(ApiV2::GAP_SERVICE),
    };
    let apis = evidence.and_then(|e| e.v2_apis.as_ref());
    let Some(available) = scope.available(ROWS, "API Gateway v2", &gaps, apis, out) else {
        return;
    };
    let apis = available.evidence;
    let mut stages_seen = 0;
    let mut routes_seen = 0;
    let mut lists_missing = [false, false];
    for api in apis {
        let list_gaps = |call: &str| -> Vec<&EvidenceGap> {
            scope
                .resource_gaps(ApiV2::GAP_SERVICE, &[&ApiV2::gap_resource(&api.api_id)])
                .into_iter()
                .filter(|gap| gap.api == call)
                .collect()
        };
        match &api.stages {
            Some(stages) if list_gaps("GetStages").is_empty() => {
                for stage in stages {
                    stages_seen += 1;
                    judge_stage(
                        scope,
                        &api.api_id,
                        Some(api),
                        Some(stage),
                        &stage.stage_name,
                        history,
                        replay,
                        out,
                    );
                }
            }
            _ => {
                lists_missing[0] = true;
                let reason = list_missing_reason("stages (GetStages)", &list_gaps("GetStages"));
                let resource = format!("{} (all stages)", api_label(&api.api_id, Some(api)));
                out.findings.push(scope.finding(
                    APIGW_V2_ACCESS_LOGGING,
                    resource,
                    None,
                    Status::EvidenceGap,
                    reason,
                ));
            }
        }
        match &api.routes {
            Some(routes) if list_gaps("GetRoutes").is_empty() => {
                let has_connect = routes
                    .iter()
                    .any(|r| r.route_key.as_deref() == Some(CONNECT_ROUTE));
                for route in routes {
                    routes_seen += 1;
                    judge_route(
                        scope,
                        &api.api_id,
                        Some(api),
                        Some(route),
                        &route.route_id,
                        has_connect,
                        history,
                        replay,
                        out,
                    );
                }
            }
            _ => {
                lists_missing[1] = true;
                let reason = list_missing_reason("routes (GetRoutes)", &list_gaps("GetRoutes"));
                let resource = format!("{} (all routes)", api_label(&api.api_id, Some(api)));
                out.findings.push(scope.finding(
                    APIGW_V2_ROUTE_AUTHORIZATION,
                    resource,
                    None,
                    Status::EvidenceGap,
                    reason,
                ));
            }
        }
    }
    // Stages and routes a recorded event deleted before collection were there for part of
    // the period: judged on what the events say, never left out.
    let collected = |api_id: &str| apis.iter().find(|a| a.api_id == api_id);
    for (api_id, stage_name) in
        deleted_before_collection(&history.v2_stages, history, |api_id, name| {
            collected(api_id)
                .and_then(|a| a.stages.as_ref())
                .is_some_and(|stages| stages.iter().any(|s| s.stage_name == name))
        })
    {
        stages_seen += 1;
        judge_stage(
            scope,
            &api_id,
            collected(&api_id),
            None,
            &stage_name,
            history,
            replay,
            out,
        );
    }
    for (api_id, route_id) in
        deleted_before_collection(&history.v2_routes, history, |api_id, id| {
            collected(api_id)
                .and_then(|a| a.routes.as_ref())
                .is_some_and(|routes| routes.iter().any(|r| r.route_id == id))
        })
    {
        routes_seen += 1;
        let api = collected(&api_id);
        let has_connect = api.and_then(|a| a.routes.as_ref()).is_some_and(|routes| {
            routes
                .iter()
                .any(|r| r.route_key.as_deref() == Some(CONNECT_ROUTE))
        });
        judge_route(
            scope,
            &api_id,
            api,
            None,
            &route_id,
            has_connect,
            history,
            replay,
            out,
        );
    }
    // An API a recorded DeleteApi removed before collection had stages and routes the
    // snapshot does not hold (GetStages and GetRoutes read only existing APIs).
    for (api_id, api_history) in &history.v2_apis {
        let Some(deleted) = &api_history.deleted else {
            continue;
        };
        if collected(api_id).is_some()
            || api_history
                .created
                .as_ref()
                .is_some_and(|c| c.at > deleted.at)
        {
            continue;
        }
        let reason = format!(
            "the API was deleted by {} before collection; its stages and routes during the period \
             are not in the evidence",
            deleted.describe()
        );
        let resource = format!("{} (deleted API)", api_label(api_id, None));
        scope.push_rows(ROWS, &resource, Status::EvidenceGap, &reason, out);
    }
    if !available.complete {
        return;
    }
    let none = |what: &str| {
        if apis.is_empty() {
            "no HTTP or WebSocket APIs in this region".to_string()
        } else {
            format!("{} HTTP or WebSocket API(s), none with {what}", apis.len())
        }
    };
    if stages_seen == 0 && !lists_missing[0] {
        out.findings.push(scope.finding(
            APIGW_V2_ACCESS_LOGGING,
            "(region)",
            None,
            Status::NoResources,
            none("a stage"),
        ));
    }
    if routes_seen == 0 && !lists_missing[1] {
        out.findings.push(scope.finding(
            APIGW_V2_ROUTE_AUTHORIZATION,
            "(region)",
            None,
            Status::NoResources,
            none("a route"),
        ));
    }
}

fn list_missing_reason(what: &str, gaps: &[&EvidenceGap]) -> String {
    if gaps.is_empty() {
        format!("the API's {what} were not collected (a snapshot older than their collection)")
    } else {
        format!(
            "the API's {what} could not be read: {}",
            super::describe_gaps(gaps)
        )
    }
}

/// The (API id, name) of the stages or routes a recorded event deleted and collection did not
/// find (`still_there` says whether it did).
fn deleted_before_collection(
    all: &std::collections::BTreeMap<(String, String), super::period::History>,
    history: &RegionHistory,
    still_there: impl Fn(&str, &str) -> bool,
) -> Vec<(String, String)> {
    all.iter()
        .filter(|((api_id, name), own)| {
            let api_deleted = history
                .v2_apis
                .get(api_id)
                .is_some_and(|a| a.deleted.is_some());
            !api_id.is_empty()
                && (own.deleted.is_some() || api_deleted)
                && !still_there(api_id, name)
        })
        .map(|(id, _)| id.clone())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn judge_stage(
    scope: &RegionScope,
    api_id: &str,
    api: Option<&ApiV2>,
    stage: Option<&StageV2>,
    stage_name: &str,
    history: &RegionHistory,
    replay: &Replay,
    out: &mut Evaluation,
) {
    let resource = stage_resource(api_id, api, stage_name);
    let state = stage.map(V2StageState::of);
    replay.judge(
        state.as_ref(),
        serde_json::json!({ "stage_name": stage_name }),
        &history.v2_stage(api_id, stage_name),
        |version, scratch| {
            scratch
                .findings
                .push(evaluate_stage(scope, api_id, &resource, version));
        },
        |reason| {
            vec![scope.finding(
                APIGW_V2_ACCESS_LOGGING,
                &resource,
                None,
                Status::EvidenceGap,
                reason,
            )]
        },
        out,
    );
}

/// Judges one version of a stage: PASS with a destination, FAIL without access logging.
pub fn evaluate_stage(
    scope: &RegionScope,
    api_id: &str,
    resource: &str,
    stage: &V2StageState,
) -> Finding {
    match stage.access_log_destination.as_deref() {
        None => scope.finding(
            APIGW_V2_ACCESS_LOGGING,
            resource,
            None,
            Status::EvidenceGap,
            "the stage's access log destination is not known",
        ),
        Some("") => scope
            .finding(
                APIGW_V2_ACCESS_LOGGING,
                resource,
                None,
                Status::Fail,
                "no access logging: the stage has no accessLogSettings destination, so requests \
                 to it leave no record of who called what",
            )
            .with_remediation(remediation::apigatewayv2_access_logging(
                api_id,
                &stage.stage_name,
                scope.region,
            )),
        Some(destination) => scope.finding(
            APIGW_V2_ACCESS_LOGGING,
            resource,
            None,
            Status::Pass,
            format!("access logs are written to {destination}"),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn judge_route(
    scope: &RegionScope,
    api_id: &str,
    api: Option<&ApiV2>,
    route: Option<&RouteV2>,
    route_id: &str,
    has_connect: bool,
    history: &RegionHistory,
    replay: &Replay,
    out: &mut Evaluation,
) {
    let state = route.map(V2RouteState::of);
    let named = state.clone().unwrap_or(V2RouteState {
        route_id: route_id.to_string(),
        route_key: None,
        authorization_type: None,
    });
    let resource = route_resource(api_id, api, &named);
    let protocol = api.and_then(|a| a.protocol_type.as_deref());
    replay.judge(
        state.as_ref(),
        serde_json::json!({ "route_id": route_id }),
        &history.v2_route(api_id, route_id),
        |version, scratch| {
            let context = RouteContext {
                api_id,
                protocol,
                has_connect,
            };
            scratch
                .findings
                .push(evaluate_route(scope, &context, &resource, version));
        },
        |reason| {
            vec![scope.finding(
                APIGW_V2_ROUTE_AUTHORIZATION,
                &resource,
                None,
                Status::EvidenceGap,
                reason,
            )]
        },
        out,
    );
}

/// What a route's judgement needs of its API.
pub struct RouteContext<'a> {
    pub api_id: &'a str,
    /// `HTTP` or `WEBSOCKET`; `None`: the API is not in the evidence.
    pub protocol: Option<&'a str>,
    /// The API has a `$connect` route (WebSocket APIs).
    pub has_connect: bool,
}

/// Judges one version of a route: FAIL with authorization type NONE (as both cited rules),
/// PASS with AWS_IAM, CUSTOM or JWT. A WebSocket route other than `$connect` cannot carry an
/// authorization type: it is NOT_APPLICABLE when the API has a `$connect` route (judged on its
/// own row), and FAIL when it has none (connections are then never authorized).
pub fn evaluate_route(
    scope: &RegionScope,
    api: &RouteContext,
    resource: &str,
    route: &V2RouteState,
) -> Finding {
    let finding = |status: Status, reason: String| {
        scope.finding(APIGW_V2_ROUTE_AUTHORIZATION, resource, None, status, reason)
    };
    let Some(authorization) = route.authorization_type.as_deref() else {
        return finding(
            Status::EvidenceGap,
            "the route's authorization type is not known".to_string(),
        );
    };
    let open = authorization.eq_ignore_ascii_case("NONE");
    if !open {
        return finding(
            Status::Pass,
            format!("the route requires {authorization} authorization"),
        );
    }
    let fix =
        remediation::apigatewayv2_route_authorization(api.api_id, &route.route_id, scope.region);
    let websocket = match api.protocol {
        Some(protocol) => protocol.eq_ignore_ascii_case("WEBSOCKET"),
        None => {
            return finding(
                Status::EvidenceGap,
                "authorization type NONE, but whether the API is a WebSocket API (where only \
                 $connect carries authorization) is not in the evidence"
                    .to_string(),
            );
        }
    };
    match (websocket, route.route_key.as_deref()) {
        (false, _) | (true, Some(CONNECT_ROUTE)) => finding(
            Status::Fail,
            "authorization type NONE: anyone who can reach the API can call the route".to_string(),
        )
        .with_remediation(fix),
        (true, None) => finding(
            Status::EvidenceGap,
            "authorization type NONE on a WebSocket route whose route key (whether it is \
             $connect) is not known"
                .to_string(),
        ),
        (true, Some(_)) if api.has_connect => finding(
            Status::NotApplicable,
            "a WebSocket API authorizes connections on its $connect route only (API Gateway \
             developer guide); this route's messages travel on connections $connect admitted, \
             which its own row judges"
                .to_string(),
        ),
        (true, Some(_)) => finding(
            Status::Fail,
            "the WebSocket API has no $connect route, so connections, and the messages this \
             route receives, are never authorized"
                .to_string(),
        )
        .with_remediation(remediation::apigatewayv2_connect_route(
            api.api_id,
            scope.region,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> RegionScope<'static> {
        RegionScope::new("111122223333", "eu-west-1", &[])
    }

    fn route(key: Option<&str>, authorization: Option<&str>) -> V2RouteState {
        V2RouteState {
            route_id: "r1".into(),
            route_key: key.map(str::to_string),
            authorization_type: authorization.map(str::to_string),
        }
    }

    fn judged(protocol: Option<&str>, has_connect: bool, route: &V2RouteState) -> Status {
        let api = RouteContext {
            api_id: "a1",
            protocol,
            has_connect,
        };
        evaluate_route(&scope(), &api, "r", route).status
    }

    #[test]
    fn a_stage_passes_with_a_destination_fails_without_and_is_a_gap_when_unknown() {
        let stage = |destination: Option<&str>| V2StageState {
            stage_name: "prod".into(),
            access_log_destination: destination.map(str::to_string),
        };
        let arn = "arn:aws:logs:eu-west-1:111122223333:log-group:access";
        let pass = evaluate_stage(&scope(), "a1", "s", &stage(Some(arn)));
        assert_eq!(pass.status, Status::Pass);
        assert!(pass.reason.contains(arn));
        let fail = evaluate_stage(&scope(), "a1", "s", &stage(Some("")));
        assert_eq!(fail.status, Status::Fail);
        assert!(fail.remediation.contains("update-stage"));
        assert_eq!(
            evaluate_stage(&scope(), "a1", "s", &stage(None)).status,
            Status::EvidenceGap
        );
    }

    #[test]
    fn a_route_fails_with_authorization_none_and_passes_with_any_other_type() {
        for protocol in ["HTTP", "WEBSOCKET"] {
            let connect = route(Some("$connect"), Some("NONE"));
            assert_eq!(judged(Some(protocol), true, &connect), Status::Fail);
        }
        assert_eq!(
            judged(
                Some("HTTP"),
                false,
                &route(Some("GET /items"), Some("NONE"))
            ),
            Status::Fail
        );
        for kind in ["AWS_IAM", "CUSTOM", "JWT"] {
            assert_eq!(
                judged(Some("HTTP"), false, &route(Some("GET /items"), Some(kind))),
                Status::Pass
            );
        }
        assert_eq!(
            judged(Some("HTTP"), false, &route(Some("GET /items"), None)),
            Status::EvidenceGap
        );
    }

    #[test]
    fn websocket_message_routes_follow_the_connect_route() {
        let message = route(Some("sendmessage"), Some("NONE"));
        assert_eq!(
            judged(Some("WEBSOCKET"), true, &message),
            Status::NotApplicable
        );
        assert_eq!(judged(Some("WEBSOCKET"), false, &message), Status::Fail);
        assert_eq!(
            judged(Some("WEBSOCKET"), true, &route(None, Some("NONE"))),
            Status::EvidenceGap
        );
        // The API is not in the evidence: whether only $connect may authorize is unknown.
        assert_eq!(judged(None, false, &message), Status::EvidenceGap);
    }
}
