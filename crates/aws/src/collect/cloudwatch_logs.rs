//! The CloudWatch Logs group a trail delivers to: DescribeLogGroups (by name prefix, every
//! page, the exact name kept) in the trail's home region with the owner account's credentials,
//! for `cloudtrail-cloudwatch-logs` to judge its retention and KMS key. A group in another
//! account or region than the one collecting is not read (the evaluator says so).

use gxp_evidence_core::controls::cloudwatch_logs::LogGroupRef;
use gxp_evidence_core::evidence::{Extra, LogGroup, LogGroupAnswer, Trail};

use super::sdk::PageTokens;
use super::{CredentialsFailed, RegionContext};

const SERVICE: &str = "logs";
const API: &str = "DescribeLogGroups";

/// DescribeLogGroups returns at most 50 groups a page.
const PAGE_SIZE: i32 = 50;

/// The trail's log group as this account-region can read it; `None` when the trail names no
/// log group, or one this account-region cannot read.
pub(crate) async fn trail_log_group(
    context: &RegionContext,
    trail: &Trail,
) -> Result<Option<LogGroupAnswer>, CredentialsFailed> {
    let Some(arn) = trail
        .cloud_watch_logs_log_group_arn
        .as_deref()
        .filter(|arn| !arn.is_empty())
    else {
        return Ok(None);
    };
    let Some(group) = LogGroupRef::parse(arn) else {
        return Ok(None);
    };
    if group.account_id != context.account_id || group.region != context.region {
        return Ok(None);
    }
    let client = aws_sdk_cloudwatchlogs::Client::from_conf(
        aws_sdk_cloudwatchlogs::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let mut tokens = PageTokens::default();
    let mut token: Option<String> = None;
    loop {
        let page = context
            .call(
                client
                    .describe_log_groups()
                    .log_group_name_prefix(&group.name)
                    .limit(PAGE_SIZE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await;
        let page = match page {
            Ok(page) => page,
            Err(failure) => {
                context.check_credentials(SERVICE, API, &failure)?;
                context.record_gap(SERVICE, API, Some(arn), &failure);
                return Ok(Some(LogGroupAnswer::Failed(failure.api_error())));
            }
        };
        if let Some(found) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(group.name.as_str()))
        {
            return Ok(Some(LogGroupAnswer::Found(LogGroup {
                log_group_name: group.name.clone(),
                arn: found.arn().map(str::to_string),
                retention_in_days: found.retention_in_days().map(i64::from),
                kms_key_id: found.kms_key_id().map(str::to_string),
                creation_time: found.creation_time(),
                extra: Extra::new(),
            })));
        }
        match tokens.next(API, page.next_token()) {
            Ok(Some(next)) => token = Some(next),
            Ok(None) => return Ok(Some(LogGroupAnswer::NotFound)),
            Err(failure) => {
                // The group's settings stay unknown.
                context.record_gap(SERVICE, API, Some(arn), &failure);
                return Ok(Some(LogGroupAnswer::Failed(failure.api_error())));
            }
        }
    }
}
