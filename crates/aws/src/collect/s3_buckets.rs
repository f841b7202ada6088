//! S3 bucket inventory of an account: ListBuckets (every page), which names the buckets the
//! account owns in all regions with each bucket's region. `cloudtrail-s3-data-events` reads it
//! to find the account that owns each GxP bucket and the region its data events are recorded in.

use gxp_evidence_core::evidence::{Extra, S3Bucket};

use super::sdk;
use super::{CredentialsFailed, RegionContext};

const SERVICE: &str = S3Bucket::GAP_SERVICE;
const API: &str = "ListBuckets";

/// The account's buckets, sorted by name; `None` when ListBuckets failed (recorded as a gap).
pub(crate) async fn collect(
    context: &RegionContext,
) -> Result<Option<Vec<S3Bucket>>, CredentialsFailed> {
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let mut buckets = Vec::new();
    let mut tokens = sdk::PageTokens::default();
    let mut token: Option<String> = None;
    loop {
        let page = context
            .call(
                client
                    .list_buckets()
                    .max_buckets(1000)
                    .set_continuation_token(token.clone())
                    .send(),
            )
            .await;
        let Some(page) = context.settle(SERVICE, API, None, page)? else {
            return Ok(None);
        };
        buckets.extend(page.buckets().iter().map(|bucket| S3Bucket {
            name: bucket.name().unwrap_or_default().to_string(),
            bucket_region: bucket.bucket_region().map(str::to_string),
            creation_date: bucket.creation_date().and_then(sdk::timestamp),
            extra: Extra::new(),
        }));
        match tokens.next(API, page.continuation_token()) {
            Ok(Some(next)) => token = Some(next),
            Ok(None) => break,
            Err(failure) => {
                context.record_gap(SERVICE, API, None, &failure);
                return Ok(None);
            }
        }
    }
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(buckets))
}
