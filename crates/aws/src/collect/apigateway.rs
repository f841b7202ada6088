//! API Gateway collection: GetRestApis, then per API GetStages and, for every deployment a
//! stage serves (its `deploymentId` and its canary's), GetDeployment with `embed=apisummary`;
//! the region's GetAccount (the CloudWatch role execution logging needs) and API Gateway v2
//! GetApis. Converted into the snapshot model with the raw `methodSettings` and summaries.

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
    Extra, MethodSetting, MethodSnapshot, RestApi, RestApiEvidence, Stage,
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

/// GetApis of API Gateway v2, every page (the SDK has no paginator for it).
async fn collect_v2_apis(context: &RegionContext) -> Result<Option<Vec<ApiV2>>, CredentialsFailed> {
    let client = aws_sdk_apigatewayv2::Client::from_conf(
        aws_sdk_apigatewayv2::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let mut apis = Vec::new();
    let mut seen_tokens = BTreeSet::new();
    let mut next_token: Option<String> = None;
    loop {
        let page = context
            .call(
                client
                    .get_apis()
                    .max_results("500")
                    .set_next_token(next_token.clone())
                    .send(),
            )
            .await;
        let Some(page) = context.settle(SERVICE_V2, "GetApis", None, page)? else {
            return Ok(None);
        };
        apis.extend(page.items().iter().map(api_v2));
        match page.next_token().filter(|token| !token.is_empty()) {
            Some(token) if seen_tokens.insert(token.to_string()) => {
                next_token = Some(token.to_string());
            }
            Some(token) => {
                // The same token twice would never end: an incomplete list, said as a gap.
                let failure = super::CallFailure {
                    code: "PaginationLoop".to_string(),
                    message: format!("GetApis: NextToken {token:?} repeated; stopped paging"),
                    http_status: None,
                    kind: super::sdk::FailureKind::Service,
                };
                context.record_gap(SERVICE_V2, "GetApis", None, &failure);
                return Ok(None);
            }
            None => break,
        }
    }
    apis.sort_by(|a, b| a.api_id.cmp(&b.api_id));
    Ok(Some(apis))
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
