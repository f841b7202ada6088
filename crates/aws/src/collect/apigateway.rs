//! API Gateway (REST APIs) collection: GetRestApis, then per API GetStages and GetResources
//! with `embed=methods`, converted into the snapshot model with the raw `methodSettings`.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types as aws;
use serde_json::Value;
use tokio::task::JoinSet;

use super::progress::Fetched;
use super::sdk::timestamp;
use super::{CredentialsFailed, RegionContext};
use gxp_evidence_core::evidence::{
    AccessLogSettings, ApiGatewayEvidence, ApiMethod, ApiResource, Extra, MethodSetting, RestApi,
    RestApiEvidence, Stage,
};

const SERVICE: &str = "apigateway";

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
        extra: Extra::new(),
    }))
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
        });
    let resources = context
        .call(
            client
                .get_resources()
                .rest_api_id(&api.id)
                .embed("methods")
                .limit(500)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await;
    let resources = context
        .settle(SERVICE, "GetResources", Some(&resource_name), resources)?
        .map(|list| {
            let mut resources: Vec<ApiResource> = list.iter().map(resource).collect();
            resources.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
            resources
        });
    // Unreadable stages leave the list empty; the recorded gap (resource restapis/<id>,
    // GetStages) makes the evaluation report the API as EVIDENCE_GAP.
    Ok(RestApiEvidence {
        api,
        stages: stages.unwrap_or_default(),
        resources,
        extra: Extra::new(),
    })
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
    if let Some(canary) = stage.canary_settings() {
        extra.insert(
            "canarySettings".into(),
            serde_json::json!({
                "percentTraffic": canary.percent_traffic(),
                "deploymentId": canary.deployment_id(),
                "useStageCache": canary.use_stage_cache(),
            }),
        );
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

fn resource(resource: &aws::Resource) -> ApiResource {
    ApiResource {
        id: resource.id().unwrap_or_default().to_string(),
        path: resource.path().unwrap_or_default().to_string(),
        parent_id: resource.parent_id().map(str::to_string),
        path_part: resource.path_part().map(str::to_string),
        resource_methods: resource
            .resource_methods
            .iter()
            .flatten()
            .map(|(verb, method)| (verb.clone(), api_method(verb, method)))
            .collect(),
        extra: Extra::new(),
    }
}

fn api_method(verb: &str, method: &aws::Method) -> ApiMethod {
    let mut extra = Extra::new();
    insert_string(&mut extra, "operationName", method.operation_name());
    insert_string(
        &mut extra,
        "requestValidatorId",
        method.request_validator_id(),
    );
    if let Some(integration) = method.method_integration() {
        let mut value = serde_json::Map::new();
        if let Some(kind) = integration.r#type() {
            value.insert("type".into(), Value::String(kind.as_str().to_string()));
        }
        if let Some(uri) = integration.uri() {
            value.insert("uri".into(), Value::String(uri.to_string()));
        }
        extra.insert("methodIntegration".into(), Value::Object(value));
    }
    ApiMethod {
        http_method: Some(method.http_method().unwrap_or(verb).to_string()),
        authorization_type: method.authorization_type().map(str::to_string),
        api_key_required: method.api_key_required(),
        authorizer_id: method.authorizer_id().map(str::to_string),
        extra,
    }
}
