//! API Gateway collection: GetRestApis, then per API GetStages and, for every deployment a
//! stage serves (its `deploymentId` and its canary's), GetDeployment with `embed=apisummary`;
//! the region's GetAccount (the CloudWatch role execution logging needs) and API Gateway v2
//! GetApis with each API's GetStages and GetRoutes. Converted into the snapshot model with the raw `methodSettings` and summaries.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types as aws;
use serde_json::Value;
use tokio::task::JoinSet;

use super::progress::Fetched;
use super::sdk::timestamp;
use super::{CredentialsFailed, RegionContext};
use gxp_evidence_core::evidence::{
    AccessLogSettings, ApiGatewayAccount, ApiGatewayEvidence, ApiV2, CanarySettings, Deployment,
    Extra, MethodSetting, MethodSnapshot, RestApi, RestApiEvidence, RouteV2, Stage, StageV2,
};

const SERVICE: &str = "apigateway";
const SERVICE_V2: &str = ApiV2::GAP_SERVICE;

pub async fn collect(
    context: &Arc<RegionContext>,
) -> Result<Option<ApiGatewayEvidence>, CredentialsFailed> {
    let client = Client::from_conf(
        aws_sdk_apigateway::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let listed = context
        .call(
            client
                .get_rest_apis()
                .limit(500)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await;
    let Some(apis) = context.settle(SERVICE, "GetRestApis", None, listed)? else {
        return Ok(None);
    };
    context.progress.add(Fetched::RestApis, apis.len() as u64);

    let mut tasks = JoinSet::new();
    for api in apis {
        let context = context.clone();
        let client = client.clone();
        tasks.spawn(async move { collect_api(&context, &client, api).await });
    }
    let account = collect_account(context, &client).await?;
    let v2_apis = collect_v2_apis(context).await?;
    let mut rest_apis = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(api) => rest_apis.push(api?),
            Err(join_error) => panic!("an API Gateway collection task panicked: {join_error}"),
        }
    }
    rest_apis.sort_by(|a, b| a.api.id.cmp(&b.api.id));
    Ok(Some(ApiGatewayEvidence {
        rest_apis,
        account,
        v2_apis,
        extra: Extra::new(),
    }))
}

async fn collect_account(
    context: &RegionContext,
    client: &Client,
) -> Result<Option<ApiGatewayAccount>, CredentialsFailed> {
    let answer = context.call(client.get_account().send()).await;
    let Some(answer) = context.settle(
        SERVICE,
        "GetAccount",
        Some(ApiGatewayAccount::GAP_RESOURCE),
        answer,
    )?
    else {
        return Ok(None);
    };
    let mut extra = Extra::new();
    if let Some(throttle) = answer.throttle_settings() {
        extra.insert(
            "throttleSettings".into(),
            serde_json::json!({
                "burstLimit": throttle.burst_limit(),
                "rateLimit": throttle.rate_limit(),
            }),
        );
    }
    extra.insert("features".into(), Value::from(answer.features().to_vec()));
    insert_string(&mut extra, "apiKeyVersion", answer.api_key_version());
    Ok(Some(ApiGatewayAccount {
        cloudwatch_role_arn: answer.cloudwatch_role_arn().map(str::to_string),
        extra,
    }))
}

/// API Gateway v2: GetApis, then per API its stages (GetStages) and routes (GetRoutes), every
/// page of each. A failed GetApis leaves the list `None`; a failed GetStages or GetRoutes
/// leaves that API's list `None` with a gap naming `apis/<apiId>`.
async fn collect_v2_apis(context: &RegionContext) -> Result<Option<Vec<ApiV2>>, CredentialsFailed> {
    let client = aws_sdk_apigatewayv2::Client::from_conf(
        aws_sdk_apigatewayv2::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let listed = v2_pages(
        context,
        "GetApis",
        None,
        |token| {
            client
                .get_apis()
                .max_results("500")
                .set_next_token(token)
                .send()
        },
        |page| {
            let items = page.items().iter().map(api_v2).collect();
            (items, page.next_token().map(str::to_string))
        },
    )
    .await?;
    let Some(mut apis) = listed else {
        return Ok(None);
    };
    for api in &mut apis {
        let resource = ApiV2::gap_resource(&api.api_id);
        let api_id = api.api_id.clone();
        api.stages = v2_pages(
            context,
            "GetStages",
            Some(&resource),
            |token| {
                client
                    .get_stages()
                    .api_id(&api_id)
                    .max_results("500")
                    .set_next_token(token)
                    .send()
            },
            |page| {
                let items = page.items().iter().map(stage_v2).collect();
                (items, page.next_token().map(str::to_string))
            },
        )
        .await?
        .map(|mut stages| {
            stages.sort_by(|a, b| a.stage_name.cmp(&b.stage_name));
            stages
        });
        api.routes = v2_pages(
            context,
            "GetRoutes",
            Some(&resource),
            |token| {
                client
                    .get_routes()
                    .api_id(&api_id)
                    .max_results("500")
                    .set_next_token(token)
                    .send()
            },
            |page| {
                let items = page.items().iter().map(route_v2).collect();
                (items, page.next_token().map(str::to_string))
            },
        )
        .await?
        .map(|mut routes| {
            routes.sort_by(|a, b| (&a.route_key, &a.route_id).cmp(&(&b.route_key, &b.route_id)));
            routes
        });
    }
    apis.sort_by(|a, b| a.api_id.cmp(&b.api_id));
    Ok(Some(apis))
}

/// Every page of an API Gateway v2 list call (the SDK has no paginators for them): `fetch`
/// asks for the page after a `NextToken`, `read` takes its items and next token. A failed
/// page, or a token seen twice (which would never end), makes the whole list a gap.
async fn v2_pages<Page, Item, Fut, E>(
    context: &RegionContext,
    api: &str,
    resource: Option<&str>,
    fetch: impl Fn(Option<String>) -> Fut,
    read: impl Fn(&Page) -> (Vec<Item>, Option<String>),
) -> Result<Option<Vec<Item>>, CredentialsFailed>
where
    Fut: std::future::Future<
            Output = Result<
                Page,
                aws_sdk_apigatewayv2::error::SdkError<
                    E,
                    aws_sdk_apigatewayv2::config::http::HttpResponse,
                >,
            >,
        >,
    E: aws_sdk_apigatewayv2::error::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    let mut items = Vec::new();
    let mut tokens = super::sdk::PageTokens::default();
    let mut next_token: Option<String> = None;
    loop {
        let page = context.call(fetch(next_token.clone())).await;
        let Some(page) = context.settle(SERVICE_V2, api, resource, page)? else {
            return Ok(None);
        };
        let (page_items, token) = read(&page);
        items.extend(page_items);
        match tokens.next(api, token.as_deref()) {
            Ok(Some(token)) => next_token = Some(token),
            Ok(None) => return Ok(Some(items)),
            Err(failure) => {
                context.record_gap(SERVICE_V2, api, resource, &failure);
                return Ok(None);
            }
        }
    }
}

fn stage_v2(stage: &aws_sdk_apigatewayv2::types::Stage) -> StageV2 {
    let mut extra = Extra::new();
    insert_string(&mut extra, "deploymentId", stage.deployment_id());
    insert_string(&mut extra, "description", stage.description());
    insert_string(
        &mut extra,
        "clientCertificateId",
        stage.client_certificate_id(),
    );
    if let Some(auto_deploy) = stage.auto_deploy() {
        extra.insert("autoDeploy".into(), Value::Bool(auto_deploy));
    }
    if let Some(managed) = stage.api_gateway_managed() {
        extra.insert("apiGatewayManaged".into(), Value::Bool(managed));
    }
    if let Some(settings) = stage.default_route_settings() {
        let mut route_settings = Extra::new();
        insert_string(
            &mut route_settings,
            "loggingLevel",
            settings.logging_level().map(|l| l.as_str()),
        );
        if let Some(trace) = settings.data_trace_enabled() {
            route_settings.insert("dataTraceEnabled".into(), Value::Bool(trace));
        }
        if let Some(metrics) = settings.detailed_metrics_enabled() {
            route_settings.insert("detailedMetricsEnabled".into(), Value::Bool(metrics));
        }
        extra.insert(
            "defaultRouteSettings".into(),
            Value::Object(route_settings.into_iter().collect()),
        );
    }
    if let Some(tags) = string_map(stage.tags.as_ref()) {
        extra.insert("tags".into(), tags);
    }
    StageV2 {
        stage_name: stage.stage_name().unwrap_or_default().to_string(),
        access_log_settings: stage.access_log_settings().map(|s| AccessLogSettings {
            format: s.format().map(str::to_string),
            destination_arn: s.destination_arn().map(str::to_string),
            extra: Extra::new(),
        }),
        created_date: stage.created_date().and_then(timestamp),
        last_updated_date: stage.last_updated_date().and_then(timestamp),
        extra,
    }
}

fn route_v2(route: &aws_sdk_apigatewayv2::types::Route) -> RouteV2 {
    let mut extra = Extra::new();
    insert_string(&mut extra, "target", route.target());
    insert_string(&mut extra, "operationName", route.operation_name());
    if !route.authorization_scopes().is_empty() {
        extra.insert(
            "authorizationScopes".into(),
            Value::from(route.authorization_scopes().to_vec()),
        );
    }
    if let Some(managed) = route.api_gateway_managed() {
        extra.insert("apiGatewayManaged".into(), Value::Bool(managed));
    }
    RouteV2 {
        route_id: route.route_id().unwrap_or_default().to_string(),
        route_key: route.route_key().map(str::to_string),
        authorization_type: route.authorization_type().map(|a| a.as_str().to_string()),
        authorizer_id: route.authorizer_id().map(str::to_string),
        api_key_required: route.api_key_required(),
        extra,
    }
}

fn api_v2(api: &aws_sdk_apigatewayv2::types::Api) -> ApiV2 {
    let mut extra = Extra::new();
    insert_string(&mut extra, "apiEndpoint", api.api_endpoint());
    insert_string(&mut extra, "description", api.description());
    insert_string(&mut extra, "version", api.version());
    if let Some(created) = api.created_date().and_then(timestamp) {
        extra.insert("createdDate".into(), serde_json::json!(created));
    }
    if let Some(tags) = string_map(api.tags.as_ref()) {
        extra.insert("tags".into(), tags);
    }
    ApiV2 {
        api_id: api.api_id().unwrap_or_default().to_string(),
        name: api.name().map(str::to_string),
        protocol_type: api.protocol_type().map(|p| p.as_str().to_string()),
        stages: None,
        routes: None,
        extra,
    }
}

async fn collect_api(
    context: &RegionContext,
    client: &Client,
    api: aws::RestApi,
) -> Result<RestApiEvidence, CredentialsFailed> {
    let api = rest_api(api);
    let resource_name = format!("restapis/{}", api.id);
    let stages = context
        .call(client.get_stages().rest_api_id(&api.id).send())
        .await;
    let stages = context
        .settle(SERVICE, "GetStages", Some(&resource_name), stages)?
        .map(|out| {
            let mut stages: Vec<Stage> = out.item().iter().map(stage).collect();
            stages.sort_by(|a, b| a.stage_name.cmp(&b.stage_name));
            stages
        })
        .unwrap_or_default();
    // What the stages serve is their deployments, not the API's current resources (GetResources
    // shows the draft, which may never have been deployed).
    let deployment_ids: BTreeSet<&str> = stages
        .iter()
        .flat_map(|stage| {
            let canary = stage
                .canary_settings
                .as_ref()
                .and_then(|c| c.deployment_id.as_deref());
            stage.deployment_id.as_deref().into_iter().chain(canary)
        })
        .collect();
    let mut deployments = Vec::new();
    for deployment_id in deployment_ids {
        let answer = context
            .call(
                client
                    .get_deployment()
                    .rest_api_id(&api.id)
                    .deployment_id(deployment_id)
                    .embed("apisummary")
                    .send(),
            )
            .await;
        let gap_resource = format!("{resource_name}/deployments/{deployment_id}");
        if let Some(answer) =
            context.settle(SERVICE, "GetDeployment", Some(&gap_resource), answer)?
        {
            deployments.push(Deployment {
                id: answer.id().unwrap_or(deployment_id).to_string(),
                description: answer.description().map(str::to_string),
                created_date: answer.created_date().and_then(timestamp),
                api_summary: answer.api_summary().map(api_summary),
                extra: Extra::new(),
            });
        }
    }
    // Unreadable stages leave the list empty; the recorded gap (resource restapis/<id>,
    // GetStages) makes the evaluation report the API as EVIDENCE_GAP.
    Ok(RestApiEvidence {
        api,
        stages,
        resources: None,
        deployments: Some(deployments),
        extra: Extra::new(),
    })
}

fn api_summary(
    summary: &std::collections::HashMap<
        String,
        std::collections::HashMap<String, aws::MethodSnapshot>,
    >,
) -> BTreeMap<String, BTreeMap<String, MethodSnapshot>> {
    summary
        .iter()
        .map(|(path, methods)| {
            let methods = methods
                .iter()
                .map(|(verb, method)| {
                    let snapshot = MethodSnapshot {
                        authorization_type: method.authorization_type().map(str::to_string),
                        api_key_required: Some(method.api_key_required()),
                        extra: Extra::new(),
                    };
                    (verb.clone(), snapshot)
                })
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

fn insert_string(extra: &mut Extra, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        extra.insert(name.to_string(), Value::String(value.to_string()));
    }
}

fn string_map(map: Option<&std::collections::HashMap<String, String>>) -> Option<Value> {
    map.map(|m| {
        let sorted: BTreeMap<&String, &String> = m.iter().collect();
        serde_json::to_value(sorted).unwrap_or(Value::Null)
    })
}

fn rest_api(api: aws::RestApi) -> RestApi {
    let mut extra = Extra::new();
    insert_string(&mut extra, "version", api.version());
    insert_string(&mut extra, "policy", api.policy());
    insert_string(
        &mut extra,
        "apiKeySource",
        api.api_key_source().map(|s| s.as_str()),
    );
    insert_string(&mut extra, "rootResourceId", api.root_resource_id());
    if let Some(types) = api.endpoint_configuration().map(|c| c.types()) {
        let types: Vec<Value> = types
            .iter()
            .map(|t| Value::String(t.as_str().to_string()))
            .collect();
        extra.insert(
            "endpointConfiguration".into(),
            serde_json::json!({ "types": types }),
        );
    }
    extra.insert(
        "disableExecuteApiEndpoint".into(),
        Value::Bool(api.disable_execute_api_endpoint()),
    );
    if let Some(tags) = string_map(api.tags.as_ref()) {
        extra.insert("tags".into(), tags);
    }
    RestApi {
        id: api.id.clone().unwrap_or_default(),
        name: api.name.clone(),
        description: api.description.clone(),
        created_date: api.created_date().and_then(timestamp),
        extra,
    }
}

fn stage(stage: &aws::Stage) -> Stage {
    let mut extra = Extra::new();
    insert_string(&mut extra, "description", stage.description());
    insert_string(
        &mut extra,
        "documentationVersion",
        stage.documentation_version(),
    );
    if let Some(variables) = string_map(stage.variables.as_ref()) {
        extra.insert("variables".into(), variables);
    }
    if let Some(tags) = string_map(stage.tags.as_ref()) {
        extra.insert("tags".into(), tags);
    }
    Stage {
        stage_name: stage.stage_name().unwrap_or_default().to_string(),
        deployment_id: stage.deployment_id().map(str::to_string),
        cache_cluster_enabled: Some(stage.cache_cluster_enabled()),
        cache_cluster_size: stage.cache_cluster_size().map(|s| s.as_str().to_string()),
        cache_cluster_status: stage.cache_cluster_status().map(|s| s.as_str().to_string()),
        method_settings: stage
            .method_settings
            .iter()
            .flatten()
            .map(|(key, setting)| (key.clone(), method_setting(setting)))
            .collect(),
        tracing_enabled: Some(stage.tracing_enabled()),
        web_acl_arn: stage.web_acl_arn().map(str::to_string),
        client_certificate_id: stage.client_certificate_id().map(str::to_string),
        access_log_settings: stage.access_log_settings().map(|s| AccessLogSettings {
            format: s.format().map(str::to_string),
            destination_arn: s.destination_arn().map(str::to_string),
            extra: Extra::new(),
        }),
        created_date: stage.created_date().and_then(timestamp),
        last_updated_date: stage.last_updated_date().and_then(timestamp),
        canary_settings: stage.canary_settings().map(|canary| CanarySettings {
            percent_traffic: Some(canary.percent_traffic()),
            deployment_id: canary.deployment_id().map(str::to_string),
            stage_variable_overrides: canary
                .stage_variable_overrides()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            use_stage_cache: Some(canary.use_stage_cache()),
            extra: Extra::new(),
        }),
        extra,
    }
}

fn method_setting(setting: &aws::MethodSetting) -> MethodSetting {
    let mut extra = Extra::new();
    extra.insert(
        "throttlingBurstLimit".into(),
        Value::from(setting.throttling_burst_limit()),
    );
    extra.insert(
        "throttlingRateLimit".into(),
        Value::from(setting.throttling_rate_limit()),
    );
    extra.insert(
        "requireAuthorizationForCacheControl".into(),
        Value::Bool(setting.require_authorization_for_cache_control()),
    );
    insert_string(
        &mut extra,
        "unauthorizedCacheControlHeaderStrategy",
        setting
            .unauthorized_cache_control_header_strategy()
            .map(|s| s.as_str()),
    );
    MethodSetting {
        logging_level: setting.logging_level().map(str::to_string),
        data_trace_enabled: Some(setting.data_trace_enabled()),
        metrics_enabled: Some(setting.metrics_enabled()),
        caching_enabled: Some(setting.caching_enabled()),
        cache_data_encrypted: Some(setting.cache_data_encrypted()),
        cache_ttl_in_seconds: Some(i64::from(setting.cache_ttl_in_seconds())),
        extra,
    }
}
