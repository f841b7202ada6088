//! `apigw-v2-access-logging` and `apigw-v2-route-authorization` end to end: crafted snapshots
//! for each rule and each evidence gap (built from the demo's HTTP API), the period rule
//! replaying the v2 stage, route and API events over the collected state, and moto (which
//! implements GetStages and GetRoutes with access log settings and authorization types)
//! collected then reported.

mod common;

use common::moto::moto;
use gxp_evidence::controls::{ChangeClass, Evaluation, Finding, Status};
use serde_json::{Value, json};

const LOGGING: &str = "apigw-v2-access-logging";
const AUTHORIZATION: &str = "apigw-v2-route-authorization";
/// The demo's production account and region, and its HTTP API.
const ACCOUNT: &str = "111122223333";
const HOME: &str = "eu-central-1";
const API: &str = "h8t2w5x9pq";
const PROD_STAGE: &str = "lims-instrument-webhooks (h8t2w5x9pq) HTTP API stage prod";
const DEFAULT_STAGE: &str = "lims-instrument-webhooks (h8t2w5x9pq) HTTP API stage $default";
const IAM_ROUTE_ID: &str = "r4p8q2z";
const IAM_ROUTE: &str =
    "lims-instrument-webhooks (h8t2w5x9pq) HTTP API route GET /status (r4p8q2z)";
const OPEN_ROUTE: &str =
    "lims-instrument-webhooks (h8t2w5x9pq) HTTP API route POST /instrument-results (r9t1c6w)";
const LOG_GROUP: &str =
    "arn:aws:logs:eu-central-1:111122223333:log-group:/aws/apigateway/lims-instrument-webhooks";

fn base() -> Value {
    common::demo_account_alone(ACCOUNT)
}

fn home(snapshot: &mut Value) -> &mut Value {
    snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == HOME)
        .expect("home region")
}

fn api(snapshot: &mut Value) -> &mut Value {
    home(snapshot)["apigateway"]["v2_apis"]
        .as_array_mut()
        .expect("v2_apis")
        .iter_mut()
        .find(|a| a["apiId"] == API)
        .expect("the demo's HTTP API")
}

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

/// The one finding of `control` about `resource` in the home region.
fn row(evaluation: &Evaluation, control: &str, resource: &str) -> Finding {
    let rows: Vec<&Finding> = evaluation
        .findings
        .iter()
        .filter(|f| f.control_id == control && f.region == HOME && f.resource == resource)
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "{control} {resource}: {:#?}",
        evaluation.findings
    );
    rows[0].clone()
}

fn rows_of<'e>(evaluation: &'e Evaluation, control: &str) -> Vec<&'e Finding> {
    evaluation
        .findings
        .iter()
        .filter(|f| f.control_id == control)
        .collect()
}

/// An API Gateway change event of the home region, as LookupEvents returns it.
fn apigw_event(id: &str, name: &str, at: &str, params: Value, response: Value) -> Value {
    let record = json!({"eventVersion": "1.09", "eventTime": at,
        "eventSource": "apigateway.amazonaws.com", "eventName": name, "awsRegion": HOME,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/dev/jdoe")},
        "requestParameters": params, "responseElements": response, "eventID": id,
        "readOnly": false});
    json!({"EventId": id, "EventName": name, "ReadOnly": "false", "EventTime": at,
        "EventSource": "apigateway.amazonaws.com", "Resources": [],
        "CloudTrailEvent": record.to_string()})
}

fn add_events(snapshot: &mut Value, events: Vec<Value>) {
    home(snapshot)["cloudtrail"]["events"]
        .as_array_mut()
        .expect("events")
        .extend(events);
}

#[test]
fn the_demo_api_has_a_failing_and_a_passing_stage_and_route() {
    let evaluation = evaluate(&base());
    let prod = row(&evaluation, LOGGING, PROD_STAGE);
    assert_eq!(prod.status, Status::Pass, "{prod:#?}");
    assert!(prod.reason.contains(LOG_GROUP), "{}", prod.reason);
    let default = row(&evaluation, LOGGING, DEFAULT_STAGE);
    assert_eq!(default.status, Status::Fail, "{default:#?}");
    assert!(
        default
            .remediation
            .contains("aws apigatewayv2 update-stage --api-id h8t2w5x9pq")
            && default.remediation.contains("'$default'")
            && default.remediation.contains("--region eu-central-1"),
        "{}",
        default.remediation
    );
    let iam = row(&evaluation, AUTHORIZATION, IAM_ROUTE);
    assert_eq!(iam.status, Status::Pass, "{iam:#?}");
    assert!(iam.reason.contains("AWS_IAM"));
    let open = row(&evaluation, AUTHORIZATION, OPEN_ROUTE);
    assert_eq!(open.status, Status::Fail, "{open:#?}");
    assert!(open.reason.contains("NONE"));
    assert!(
        open.remediation
            .contains("aws apigatewayv2 update-route --api-id h8t2w5x9pq --route-id r9t1c6w"),
        "{}",
        open.remediation
    );
    // The other region of the account has no HTTP or WebSocket API: evaluated, nothing there.
    for control in [LOGGING, AUTHORIZATION] {
        let west: Vec<&Finding> = rows_of(&evaluation, control)
            .into_iter()
            .filter(|f| f.region == "eu-west-1")
            .collect();
        assert_eq!(west.len(), 1, "{west:#?}");
        assert_eq!(west[0].status, Status::NoResources);
        assert_eq!(west[0].reason, "no HTTP or WebSocket APIs in this region");
    }
}

#[test]
fn an_api_without_stages_or_routes_is_no_resources_only_when_every_list_was_read() {
    let mut snapshot = base();
    api(&mut snapshot)["stages"] = json!([]);
    api(&mut snapshot)["routes"] = json!([]);
    let evaluation = evaluate(&snapshot);
    for (control, what) in [(LOGGING, "a stage"), (AUTHORIZATION, "a route")] {
        let region = row(&evaluation, control, "(region)");
        assert_eq!(region.status, Status::NoResources);
        assert_eq!(
            region.reason,
            format!("1 HTTP or WebSocket API(s), none with {what}")
        );
    }
}

#[test]
fn get_stages_or_get_routes_denied_is_a_gap_for_that_api_naming_the_call() {
    let mut snapshot = base();
    api(&mut snapshot)
        .as_object_mut()
        .expect("api")
        .remove("stages");
    snapshot["gaps"] = json!([{"account_id": ACCOUNT, "region": HOME, "service": "apigatewayv2",
        "api": "GetStages", "resource": format!("apis/{API}"), "error_code": "AccessDeniedException",
        "message": "not authorized to perform apigateway:GET on /apis/h8t2w5x9pq/stages"}]);
    let evaluation = evaluate(&snapshot);
    let gap = row(
        &evaluation,
        LOGGING,
        "lims-instrument-webhooks (h8t2w5x9pq) HTTP API (all stages)",
    );
    assert_eq!(gap.status, Status::EvidenceGap);
    assert!(
        gap.reason
            .contains("apigatewayv2:GetStages failed with AccessDeniedException"),
        "{}",
        gap.reason
    );
    // Never NO_RESOURCES for the region while an API's stages are unknown.
    assert!(
        rows_of(&evaluation, LOGGING)
            .iter()
            .all(|f| !(f.region == HOME && f.status == Status::NoResources))
    );
    // The routes were read: judged as ever.
    assert_eq!(
        row(&evaluation, AUTHORIZATION, OPEN_ROUTE).status,
        Status::Fail
    );

    let mut snapshot = base();
    api(&mut snapshot)
        .as_object_mut()
        .expect("api")
        .remove("routes");
    snapshot["gaps"] = json!([{"account_id": ACCOUNT, "region": HOME, "service": "apigatewayv2",
        "api": "GetRoutes", "resource": format!("apis/{API}"), "error_code": "TooManyRequestsException",
        "message": "Rate exceeded"}]);
    let evaluation = evaluate(&snapshot);
    let gap = row(
        &evaluation,
        AUTHORIZATION,
        "lims-instrument-webhooks (h8t2w5x9pq) HTTP API (all routes)",
    );
    assert_eq!(gap.status, Status::EvidenceGap);
    assert!(
        gap.reason.contains("apigatewayv2:GetRoutes failed"),
        "{}",
        gap.reason
    );
    assert_eq!(row(&evaluation, LOGGING, PROD_STAGE).status, Status::Pass);
}

#[test]
fn get_apis_denied_or_a_snapshot_without_stages_and_routes_is_a_gap_never_a_pass() {
    let mut snapshot = base();
    home(&mut snapshot)["apigateway"]
        .as_object_mut()
        .expect("apigateway")
        .remove("v2_apis");
    snapshot["gaps"] = json!([{"account_id": ACCOUNT, "region": HOME, "service": "apigatewayv2",
        "api": "GetApis", "error_code": "AccessDeniedException", "message": "denied"}]);
    let evaluation = evaluate(&snapshot);
    for control in [LOGGING, AUTHORIZATION] {
        let gap = row(&evaluation, control, "(region)");
        assert_eq!(gap.status, Status::EvidenceGap);
        assert!(
            gap.reason
                .contains("apigatewayv2:GetApis failed with AccessDeniedException"),
            "{}",
            gap.reason
        );
    }

    // A snapshot of an earlier version: the API is listed, its stages and routes were not read.
    let mut snapshot = base();
    let listed = api(&mut snapshot).as_object_mut().expect("api");
    listed.remove("stages");
    listed.remove("routes");
    let evaluation = evaluate(&snapshot);
    for (control, resource) in [
        (
            LOGGING,
            "lims-instrument-webhooks (h8t2w5x9pq) HTTP API (all stages)",
        ),
        (
            AUTHORIZATION,
            "lims-instrument-webhooks (h8t2w5x9pq) HTTP API (all routes)",
        ),
    ] {
        let gap = row(&evaluation, control, resource);
        assert_eq!(gap.status, Status::EvidenceGap);
        assert!(gap.reason.contains("were not collected"), "{}", gap.reason);
    }
}

#[test]
fn a_route_whose_authorization_type_is_missing_from_the_evidence_is_a_gap() {
    let mut snapshot = base();
    for route in api(&mut snapshot)["routes"].as_array_mut().expect("routes") {
        route
            .as_object_mut()
            .expect("route")
            .remove("authorizationType");
    }
    let evaluation = evaluate(&snapshot);
    for resource in [IAM_ROUTE, OPEN_ROUTE] {
        let gap = row(&evaluation, AUTHORIZATION, resource);
        assert_eq!(gap.status, Status::EvidenceGap, "{gap:#?}");
    }
}

fn websocket_api(routes: Value) -> Value {
    json!({"apiId": "w5s9k2m7qa", "name": "lims-live", "protocolType": "WEBSOCKET",
        "stages": [], "routes": routes})
}

#[test]
fn websocket_message_routes_are_not_applicable_under_an_authorized_connect_and_fail_without_one() {
    let mut snapshot = base();
    home(&mut snapshot)["apigateway"]["v2_apis"]
        .as_array_mut()
        .expect("v2_apis")
        .push(websocket_api(json!([
            {"routeId": "c1", "routeKey": "$connect", "authorizationType": "CUSTOM", "authorizerId": "au1"},
            {"routeId": "m1", "routeKey": "sendresult", "authorizationType": "NONE"}])));
    let evaluation = evaluate(&snapshot);
    let connect = row(
        &evaluation,
        AUTHORIZATION,
        "lims-live (w5s9k2m7qa) WEBSOCKET API route $connect (c1)",
    );
    assert_eq!(connect.status, Status::Pass);
    let message = row(
        &evaluation,
        AUTHORIZATION,
        "lims-live (w5s9k2m7qa) WEBSOCKET API route sendresult (m1)",
    );
    assert_eq!(message.status, Status::NotApplicable, "{message:#?}");
    assert!(message.reason.contains("$connect route only"));

    let mut snapshot = base();
    home(&mut snapshot)["apigateway"]["v2_apis"]
        .as_array_mut()
        .expect("v2_apis")
        .push(websocket_api(json!([
            {"routeId": "m1", "routeKey": "sendresult", "authorizationType": "NONE"}])));
    let evaluation = evaluate(&snapshot);
    let message = row(
        &evaluation,
        AUTHORIZATION,
        "lims-live (w5s9k2m7qa) WEBSOCKET API route sendresult (m1)",
    );
    assert_eq!(message.status, Status::Fail, "{message:#?}");
    assert!(
        message.remediation.contains("create-route"),
        "{}",
        message.remediation
    );
}

#[test]
fn access_logging_removed_and_restored_inside_the_period_fails_for_the_interval() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![
            apigw_event(
                "ev-stage-create",
                "CreateStage",
                "2026-10-02T09:00:00Z",
                json!({"apiId": API, "stageName": "prod", "deploymentId": "d7k2m4",
                    "accessLogSettings": {"destinationArn": LOG_GROUP, "format": "$context.requestId"}}),
                Value::Null,
            ),
            apigw_event(
                "ev-log-off",
                "DeleteAccessLogSettings",
                "2026-10-10T12:00:00Z",
                json!({"apiId": API, "stageName": "prod"}),
                Value::Null,
            ),
            apigw_event(
                "ev-log-on",
                "UpdateStage",
                "2026-10-12T08:30:00Z",
                json!({"apiId": API, "stageName": "prod",
                    "accessLogSettings": {"destinationArn": LOG_GROUP, "format": "$context.requestId"}}),
                Value::Null,
            ),
        ],
    );
    let evaluation = evaluate(&snapshot);
    let prod = row(&evaluation, LOGGING, PROD_STAGE);
    assert_eq!(prod.status, Status::Fail, "{prod:#?}");
    assert!(
        prod.reason
            .contains("from 2026-10-10 12:00:00 UTC to 2026-10-12 08:30:00 UTC")
            && prod.reason.contains("DeleteAccessLogSettings ev-log-off"),
        "{}",
        prod.reason
    );
    // Logging again at collection: nothing to run, the deviation is to be recorded.
    assert!(
        !prod.remediation.contains("update-stage"),
        "{}",
        prod.remediation
    );
    // The REST API stages of the region are not put in doubt by the v2 stage events.
    assert!(
        evaluation
            .findings
            .iter()
            .filter(|f| f.control_id == "apigw-logging" && f.region == HOME)
            .all(|f| !f.reason.contains("names no stage")),
        "{:#?}",
        evaluation.findings
    );
    // The change register classifies each of them.
    let class = |id: &str| {
        evaluation
            .changes
            .iter()
            .find(|c| c.event_id == id)
            .map(|c| c.classification)
            .unwrap_or_else(|| panic!("{id} is in the register"))
    };
    assert_eq!(class("ev-stage-create"), ChangeClass::Neutral);
    assert_eq!(class("ev-log-off"), ChangeClass::Weakening);
    assert_eq!(class("ev-log-on"), ChangeClass::Strengthening);
}

#[test]
fn a_stage_whose_logging_before_its_first_recorded_change_is_unknown_cannot_pass() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![apigw_event(
            "ev-log-set",
            "UpdateStage",
            "2026-10-15T10:00:00Z",
            json!({"apiId": API, "stageName": "prod",
                "accessLogSettings": {"destinationArn": LOG_GROUP, "format": "$context.requestId"}}),
            Value::Null,
        )],
    );
    let prod = row(&evaluate(&snapshot), LOGGING, PROD_STAGE);
    assert_eq!(prod.status, Status::EvidenceGap, "{prod:#?}");
    assert!(prod.reason.contains("not recorded"), "{}", prod.reason);
}

#[test]
fn an_update_stage_record_without_its_body_leaves_the_stage_untrusted() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![apigw_event(
            "ev-bodyless",
            "UpdateStage",
            "2026-10-20T10:00:00Z",
            json!({"apiId": API, "stageName": "prod"}),
            Value::Null,
        )],
    );
    let evaluation = evaluate(&snapshot);
    let prod = row(&evaluation, LOGGING, PROD_STAGE);
    assert_eq!(prod.status, Status::EvidenceGap, "{prod:#?}");
    assert!(
        prod.reason.contains("request body is not in the record"),
        "{}",
        prod.reason
    );
    // An UpdateStage changing only the description says nothing about access logging.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![apigw_event(
            "ev-description",
            "UpdateStage",
            "2026-10-20T10:00:00Z",
            json!({"apiId": API, "stageName": "prod", "description": "webhooks"}),
            Value::Null,
        )],
    );
    assert_eq!(
        row(&evaluate(&snapshot), LOGGING, PROD_STAGE).status,
        Status::Pass
    );
}

#[test]
fn a_route_opened_during_the_period_fails_for_the_interval_and_its_creation_sets_none() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![
            // Created without an authorization type (NONE), then given IAM.
            apigw_event(
                "ev-route-create",
                "CreateRoute",
                "2026-10-05T10:00:00Z",
                json!({"apiId": API, "routeKey": "GET /status", "target": "integrations/i3n5v7"}),
                json!({"routeId": IAM_ROUTE_ID, "routeKey": "GET /status", "authorizationType": "NONE"}),
            ),
            apigw_event(
                "ev-route-iam",
                "UpdateRoute",
                "2026-10-06T11:00:00Z",
                json!({"apiId": API, "routeId": IAM_ROUTE_ID, "authorizationType": "AWS_IAM"}),
                Value::Null,
            ),
        ],
    );
    let evaluation = evaluate(&snapshot);
    let iam = row(&evaluation, AUTHORIZATION, IAM_ROUTE);
    assert_eq!(iam.status, Status::Fail, "{iam:#?}");
    assert!(
        iam.reason
            .contains("from 2026-10-05 10:00:00 UTC to 2026-10-06 11:00:00 UTC")
            && iam.reason.contains("CreateRoute ev-route-create"),
        "{}",
        iam.reason
    );
    let class = |id: &str| {
        evaluation
            .changes
            .iter()
            .find(|c| c.event_id == id)
            .map(|c| c.classification)
            .unwrap_or_else(|| panic!("{id} is in the register"))
    };
    assert_eq!(class("ev-route-create"), ChangeClass::Weakening);
}

#[test]
fn a_route_deleted_before_collection_is_judged_on_its_events() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![
            apigw_event(
                "ev-open-create",
                "CreateRoute",
                "2026-10-08T10:00:00Z",
                json!({"apiId": API, "routeKey": "DELETE /results", "authorizationType": "NONE"}),
                json!({"routeId": "rgone1"}),
            ),
            apigw_event(
                "ev-open-delete",
                "DeleteRoute",
                "2026-10-09T10:00:00Z",
                json!({"apiId": API, "routeId": "rgone1"}),
                Value::Null,
            ),
        ],
    );
    let evaluation = evaluate(&snapshot);
    let gone = row(
        &evaluation,
        AUTHORIZATION,
        "lims-instrument-webhooks (h8t2w5x9pq) HTTP API route rgone1",
    );
    // Its one version (its life in the period) was open: a FAIL, never left out.
    assert_eq!(gone.status, Status::Fail, "{gone:#?}");
    assert!(
        gone.reason.contains("authorization type NONE"),
        "{}",
        gone.reason
    );
}

#[test]
fn an_api_deleted_before_collection_is_a_gap_for_both_controls() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![apigw_event(
            "ev-api-delete",
            "DeleteApi",
            "2026-10-18T10:00:00Z",
            json!({"apiId": "z0gone0000"}),
            Value::Null,
        )],
    );
    let evaluation = evaluate(&snapshot);
    for control in [LOGGING, AUTHORIZATION] {
        let gap = row(&evaluation, control, "z0gone0000 v2 API (deleted API)");
        assert_eq!(gap.status, Status::EvidenceGap, "{gap:#?}");
        assert!(
            gap.reason.contains("DeleteApi ev-api-delete"),
            "{}",
            gap.reason
        );
    }
}

#[test]
fn an_event_naming_no_route_puts_every_route_in_doubt() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![apigw_event(
            "ev-unnamed",
            "UpdateRoute",
            "2026-10-20T10:00:00Z",
            json!({"authorizationType": "AWS_IAM"}),
            Value::Null,
        )],
    );
    let evaluation = evaluate(&snapshot);
    let iam = row(&evaluation, AUTHORIZATION, IAM_ROUTE);
    assert_eq!(iam.status, Status::EvidenceGap, "{iam:#?}");
    // A FAIL stays a FAIL: the route was open at collection whatever the event did.
    assert_eq!(
        row(&evaluation, AUTHORIZATION, OPEN_ROUTE).status,
        Status::Fail
    );
}

// ---------------------------------------------------------------------------------------------
// Against moto: GetStages and GetRoutes in their real shapes, collect then report.

fn seed_v2(moto: &common::moto::Moto) -> Value {
    let script = "import boto3, sys, json\n\
        v2 = boto3.client('apigatewayv2', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
            aws_access_key_id='testing', aws_secret_access_key='testing')\n\
        http = v2.create_api(Name='orders', ProtocolType='HTTP')['ApiId']\n\
        v2.create_stage(ApiId=http, StageName='prod', AccessLogSettings={\n\
            'DestinationArn': 'arn:aws:logs:us-east-1:123456789012:log-group:orders-access',\n\
            'Format': '$context.requestId'})\n\
        v2.create_stage(ApiId=http, StageName='dev')\n\
        open_route = v2.create_route(ApiId=http, RouteKey='POST /orders')['RouteId']\n\
        iam_route = v2.create_route(ApiId=http, RouteKey='GET /orders', AuthorizationType='AWS_IAM')['RouteId']\n\
        ws = v2.create_api(Name='live', ProtocolType='WEBSOCKET', RouteSelectionExpression='$request.body.action')['ApiId']\n\
        connect = v2.create_route(ApiId=ws, RouteKey='$connect', AuthorizationType='AWS_IAM')['RouteId']\n\
        message = v2.create_route(ApiId=ws, RouteKey='send')['RouteId']\n\
        print(json.dumps({'http': http, 'open': open_route, 'iam': iam_route, 'ws': ws,\n\
            'connect': connect, 'message': message}))\n";
    serde_json::from_str(&moto.run_script(script, &[])).expect("JSON")
}

#[test]
fn moto_stages_and_routes_are_collected_raw_and_reported() {
    let moto = moto();
    let made = seed_v2(&moto);
    let text = |name: &str| made[name].as_str().expect("id").to_string();
    let collected = common::moto::collect_quiet_month(&moto, &[]);
    let (dir, evidence, snapshot) = (collected.dir, collected.evidence, collected.snapshot);
    let apis = snapshot["accounts"][0]["regions"][0]["apigateway"]["v2_apis"]
        .as_array()
        .expect("v2_apis");
    let http = apis
        .iter()
        .find(|a| a["apiId"] == text("http"))
        .expect("the HTTP API");
    let stages: Vec<&str> = http["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|s| s["stageName"].as_str())
        .collect();
    assert_eq!(stages, ["dev", "prod"]);
    assert_eq!(
        http["stages"][1]["accessLogSettings"]["destinationArn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:orders-access"
    );
    assert!(http["stages"][0].get("accessLogSettings").is_none());
    let open = http["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .find(|r| r["routeId"] == text("open"))
        .expect("the open route");
    assert_eq!(open["authorizationType"], "NONE");
    assert_eq!(open["routeKey"], "POST /orders");

    let out = dir.path().join("package");
    let output = common::report(&evidence, &out, &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = common::results(&out);
    let status = |control: &str, resource: &str| {
        let rows: Vec<&Value> = results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["control_id"] == control && f["resource"] == resource)
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "{control} {resource}: {:#?}",
            results["findings"]
        );
        rows[0]["status"].as_str().unwrap_or_default().to_string()
    };
    let http_api = format!("orders ({}) HTTP API", text("http"));
    let ws_api = format!("live ({}) WEBSOCKET API", text("ws"));
    assert_eq!(status(LOGGING, &format!("{http_api} stage prod")), "PASS");
    assert_eq!(status(LOGGING, &format!("{http_api} stage dev")), "FAIL");
    assert_eq!(
        status(
            AUTHORIZATION,
            &format!("{http_api} route POST /orders ({})", text("open"))
        ),
        "FAIL"
    );
    assert_eq!(
        status(
            AUTHORIZATION,
            &format!("{http_api} route GET /orders ({})", text("iam"))
        ),
        "PASS"
    );
    assert_eq!(
        status(
            AUTHORIZATION,
            &format!("{ws_api} route $connect ({})", text("connect"))
        ),
        "PASS"
    );
    assert_eq!(
        status(
            AUTHORIZATION,
            &format!("{ws_api} route send ({})", text("message"))
        ),
        "NOT_APPLICABLE"
    );
}
