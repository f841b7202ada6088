//! CloudTrail collection: trail posture (DescribeTrails with shadow trails; GetTrailStatus and
//! GetEventSelectors asked once per trail, in its home region, also when that region is
//! outside the scope: `collect_home_region`) and the period's change events
//! through the LookupEvents query plan of DESIGN.md (one page per event source, then, for a
//! source with more events than that, one query per event name of the rules table), paced
//! below AWS's 2 calls/s per account-region, retried with backoff and jitter, following
//! NextToken, deduplicated; or, with `--trail-logs`, from the trail's log files
//! (`gxp_evidence_core::trail_logs`, `changes_from_log_files`); or, with `--athena`, from the
//! collection's one Athena query (`super::athena`), filled in once every region was read.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::types::{self as aws, LookupAttribute, LookupAttributeKey};
use serde_json::Value;
use tokio::task::JoinSet;

use super::pacing::{Backoff, LOOKUP_EVENTS_PER_SECOND, Pacer};
use super::progress::Fetched;
use super::sdk::{CallFailure, FailureKind, PageTokens, call_failure, sdk_datetime, timestamp};
use super::trail_log_store::TrailLogStore;
use super::{CredentialsFailed, RegionContext, cloudwatch_logs, trail_integrity};
use gxp_evidence_core::controls::events::{self, QueriedBy};
use gxp_evidence_core::evidence::{
    AdvancedEventSelector, CloudTrailEvidence, EventSelector, EventSelectors, EventsFrom, Extra,
    FieldSelector, LookupEvent, LookupQuery, Period, Timestamp, Trail, TrailEvidence,
    TrailLogFilesRead, TrailStatus,
};
use gxp_evidence_core::trail_logs;

const SERVICE: &str = "cloudtrail";

/// LookupEvents returns at most 50 events a call.
const LOOKUP_PAGE_SIZE: i32 = 50;

/// Queries of one region in flight together: enough to keep the pacer busy while one waits
/// for a slow answer; the pacer alone decides the rate.
const LOOKUP_QUERIES_IN_FLIGHT: usize = 3;

pub async fn collect(
    context: &Arc<RegionContext>,
    period: Period,
) -> Result<Option<CloudTrailEvidence>, CredentialsFailed> {
    let client = Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    // Trails first, then the events up to now: a change after the trail was read is seen.
    let trails = collect_trails(context, &client).await?;
    let (lookup, until) = changes_up_to_now(context, period, &events::SOURCES).await?;
    if trails.is_none()
        && lookup.events_from.is_none()
        && lookup.queries.iter().all(|q| !q.completed)
    {
        return Ok(None);
    }
    // The files the events came from, proven complete and unaltered (or not) trail by trail.
    let log_integrity = match (&context.trail_logs, &trails) {
        (Some(store), Some(trails)) => {
            Some(trail_integrity::validate_trails(context, &client, store, trails, period).await?)
        }
        _ => None,
    };
    let mut evidence = evidence(trails.unwrap_or_default(), lookup, period, until);
    evidence.log_integrity = log_integrity;
    Ok(Some(evidence))
}

/// The change events from the period start up to now (after the settings were read), and
/// that end: from the trail's log files when `--trail-logs` names them, else LookupEvents.
async fn changes_up_to_now(
    context: &Arc<RegionContext>,
    period: Period,
    sources: &[&'static str],
) -> Result<(LookupResult, Timestamp), CredentialsFailed> {
    let until = Timestamp(chrono::Utc::now()).max(period.end);
    if let Some(athena) = &context.athena {
        // One query for every account-region, run once all their settings were read
        // (`collect::collect`): the region waits for it.
        return Ok((
            LookupResult {
                events: Vec::new(),
                queries: Vec::new(),
                events_from: Some(athena.pending()),
            },
            until,
        ));
    }
    if let Some(store) = &context.trail_logs {
        return Ok((
            changes_from_log_files(context, store.clone(), period, until, sources).await,
            until,
        ));
    }
    let window = Period {
        start: period.start,
        end: until,
    };
    Ok((
        lookup_changes(context.clone(), window, sources).await?,
        until,
    ))
}

/// One account-region's log files are read at a time, each on every core: account-regions
/// are collected concurrently, and their readers would otherwise only contend for the cores.
pub(super) static LOG_FILE_READS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The change events of `sources` in the region's log files (`trail_logs::read_region`); what
/// could not be read is an evidence gap of the region's change events.
async fn changes_from_log_files(
    context: &Arc<RegionContext>,
    store: TrailLogStore,
    period: Period,
    until: Timestamp,
    sources: &[&'static str],
) -> LookupResult {
    let _one_region_at_a_time = LOG_FILE_READS.lock().await;
    let (account_id, region) = (context.account_id.clone(), context.region.clone());
    let location = store.log_files().location();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let read = tokio::task::spawn_blocking(move || {
        trail_logs::read_region(
            store.log_files(),
            &account_id,
            &region,
            period,
            until,
            threads,
        )
    })
    .await;
    let read = match read {
        Ok(read) => read,
        Err(join_error) => panic!("reading the trail's log files panicked: {join_error}"),
    };
    for gap in &read.gaps {
        let failure = CallFailure {
            code: gap.code.to_string(),
            message: gap.message.clone(),
            http_status: None,
            kind: FailureKind::Service,
        };
        context.record_gap(SERVICE, trail_logs::EVIDENCE_GAP_API, None, &failure);
    }
    context.progress.add(Fetched::Events, read.records_read);
    LookupResult {
        events: read
            .events
            .into_iter()
            .filter(|e| sources.contains(&e.event_source.as_str()))
            .collect(),
        queries: Vec::new(),
        events_from: Some(EventsFrom::TrailLogFiles(TrailLogFilesRead {
            location,
            files_read: read.files_read,
            records_read: read.records_read,
            records_kept: read.records_kept,
            extra: Extra::new(),
        })),
    }
}

/// The evidence of a region: the period's changes are its register; the later ones, up to
/// `until`, only serve the period rule's replay.
fn evidence(
    trails: Vec<TrailEvidence>,
    lookup: LookupResult,
    period: Period,
    until: Timestamp,
) -> CloudTrailEvidence {
    let (events, events_after_period) = lookup
        .events
        .into_iter()
        .partition(|event| event.event_time < period.end);
    CloudTrailEvidence {
        trails,
        events,
        lookup_queries: lookup.queries.into_iter().map(|q| q.record).collect(),
        events_after_period,
        events_until: Some(until),
        events_from: lookup.events_from,
        log_integrity: None,
        extra: Extra::new(),
    }
}

/// The CloudTrail evidence of a trail's home region outside the scope: the trails of `arns`
/// as DescribeTrails lists them there, with their status, selectors and CloudWatch Logs group,
/// and the region's CloudTrail, CloudWatch Logs and S3 change events (StartLogging,
/// StopLogging, UpdateTrail, PutEventSelectors and the like are called, so recorded, in a
/// trail's home region: CloudTrail API Reference; its log group is there too).
pub async fn collect_home_region(
    context: &Arc<RegionContext>,
    period: Period,
    arns: &BTreeSet<String>,
) -> Result<Option<CloudTrailEvidence>, CredentialsFailed> {
    let client = Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let trails = collect_trails(context, &client).await?.map(|trails| {
        trails
            .into_iter()
            .filter(|t| t.trail.trail_arn.as_ref().is_some_and(|a| arns.contains(a)))
            .collect::<Vec<_>>()
    });
    // The trail's own events, and those of what is judged there: its CloudWatch Logs group
    // and, often in the same region, its S3 bucket.
    let (lookup, until) = changes_up_to_now(
        context,
        period,
        &[events::CLOUDTRAIL, events::LOGS, events::S3],
    )
    .await?;
    Ok(trails.map(|trails| evidence(trails, lookup, period, until)))
}

// ---------------------------------------------------------------------------------------------
// Trails

/// Which region asks for a trail's status and selectors: its home region (GetTrailStatus
/// returns the status of one region; the CLI guide says to ask the home region), which is
/// collected on its own when it is outside the scope; a trail without a home region is asked
/// in the first collected region.
fn status_region<'a>(trail_home: Option<&'a str>, scope_regions: &'a [String]) -> Option<&'a str> {
    match trail_home {
        Some(home) => Some(home),
        None => scope_regions.iter().map(String::as_str).min(),
    }
}

async fn collect_trails(
    context: &RegionContext,
    client: &Client,
) -> Result<Option<Vec<TrailEvidence>>, CredentialsFailed> {
    let described = context
        .call(client.describe_trails().include_shadow_trails(true).send())
        .await;
    let Some(described) = context.settle(SERVICE, "DescribeTrails", None, described)? else {
        return Ok(None);
    };
    let mut trails = Vec::new();
    for listed in described.trail_list() {
        let trail = trail(listed);
        let asks_status = status_region(trail.home_region.as_deref(), &context.scope_regions)
            == Some(context.region.as_str());
        let mut evidence = TrailEvidence {
            trail,
            status: None,
            event_selectors: None,
            log_group: None,
            extra: Extra::new(),
        };
        if asks_status {
            let id = evidence
                .trail
                .trail_arn
                .clone()
                .unwrap_or_else(|| evidence.trail.name.clone());
            let status = context
                .call(client.get_trail_status().name(&id).send())
                .await;
            evidence.status = context
                .settle(SERVICE, "GetTrailStatus", Some(&id), status)?
                .map(|out| trail_status(&out));
            let selectors = context
                .call(client.get_event_selectors().trail_name(&id).send())
                .await;
            evidence.event_selectors = context
                .settle(SERVICE, "GetEventSelectors", Some(&id), selectors)?
                .map(|out| event_selectors(&out));
            evidence.log_group = cloudwatch_logs::trail_log_group(context, &evidence.trail).await?;
        }
        trails.push(evidence);
    }
    trails.sort_by(|a, b| {
        (a.trail.trail_arn.as_deref(), &a.trail.name)
            .cmp(&(b.trail.trail_arn.as_deref(), &b.trail.name))
    });
    context.progress.add(Fetched::Trails, trails.len() as u64);
    Ok(Some(trails))
}

fn put_string(extra: &mut Extra, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        extra.insert(name.to_string(), Value::String(value.to_string()));
    }
}

fn put_time(
    extra: &mut Extra,
    name: &str,
    value: Option<&aws_sdk_cloudtrail::primitives::DateTime>,
) {
    if let Some(at) = value.and_then(timestamp) {
        extra.insert(name.to_string(), Value::String(at.to_string()));
    }
}

fn trail(t: &aws::Trail) -> Trail {
    let mut extra = Extra::new();
    put_string(&mut extra, "S3KeyPrefix", t.s3_key_prefix());
    put_string(&mut extra, "SnsTopicARN", t.sns_topic_arn());
    if let Some(value) = t.has_custom_event_selectors() {
        extra.insert("HasCustomEventSelectors".into(), Value::Bool(value));
    }
    if let Some(value) = t.has_insight_selectors() {
        extra.insert("HasInsightSelectors".into(), Value::Bool(value));
    }
    Trail {
        name: t.name().unwrap_or_default().to_string(),
        trail_arn: t.trail_arn().map(str::to_string),
        home_region: t.home_region().map(str::to_string),
        is_multi_region_trail: t.is_multi_region_trail(),
        is_organization_trail: t.is_organization_trail(),
        log_file_validation_enabled: t.log_file_validation_enabled(),
        kms_key_id: t.kms_key_id().map(str::to_string),
        s3_bucket_name: t.s3_bucket_name().map(str::to_string),
        include_global_service_events: t.include_global_service_events(),
        cloud_watch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn().map(str::to_string),
        cloud_watch_logs_role_arn: t.cloud_watch_logs_role_arn().map(str::to_string),
        extra,
    }
}

fn trail_status(
    s: &aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput,
) -> TrailStatus {
    let mut extra = Extra::new();
    put_time(
        &mut extra,
        "LatestDigestDeliveryTime",
        s.latest_digest_delivery_time(),
    );
    put_string(
        &mut extra,
        "LatestDigestDeliveryError",
        s.latest_digest_delivery_error(),
    );
    put_string(
        &mut extra,
        "LatestNotificationError",
        s.latest_notification_error(),
    );
    TrailStatus {
        is_logging: s.is_logging(),
        start_logging_time: s.start_logging_time().and_then(timestamp),
        stop_logging_time: s.stop_logging_time().and_then(timestamp),
        latest_delivery_time: s.latest_delivery_time().and_then(timestamp),
        latest_delivery_error: s.latest_delivery_error().map(str::to_string),
        latest_cloud_watch_logs_delivery_time: s
            .latest_cloud_watch_logs_delivery_time()
            .and_then(timestamp),
        latest_cloud_watch_logs_delivery_error: s
            .latest_cloud_watch_logs_delivery_error()
            .map(str::to_string),
        extra,
    }
}

fn strings(values: Option<&[String]>) -> Vec<String> {
    values.unwrap_or_default().to_vec()
}

fn event_selectors(
    out: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> EventSelectors {
    let classic = out.event_selectors.as_ref().map(|list| {
        list.iter()
            .map(|s| {
                let mut extra = Extra::new();
                let data: Vec<Value> = s
                    .data_resources()
                    .iter()
                    .map(|d| serde_json::json!({"Type": d.r#type(), "Values": d.values()}))
                    .collect();
                if !data.is_empty() {
                    extra.insert("DataResources".into(), Value::Array(data));
                }
                EventSelector {
                    read_write_type: s.read_write_type().map(|t| t.as_str().to_string()),
                    include_management_events: s.include_management_events(),
                    exclude_management_event_sources: s.exclude_management_event_sources().to_vec(),
                    extra,
                }
            })
            .collect()
    });
    let advanced = out.advanced_event_selectors.as_ref().map(|list| {
        list.iter()
            .map(|s| AdvancedEventSelector {
                name: s.name().map(str::to_string),
                field_selectors: s
                    .field_selectors()
                    .iter()
                    .map(|f| {
                        let mut extra = Extra::new();
                        for (name, values) in [
                            ("EndsWith", f.ends_with()),
                            ("NotEndsWith", f.not_ends_with()),
                        ] {
                            if !values.is_empty() {
                                extra.insert(name.into(), serde_json::json!(values));
                            }
                        }
                        FieldSelector {
                            field: f.field().to_string(),
                            equals: strings(Some(f.equals())),
                            not_equals: strings(Some(f.not_equals())),
                            starts_with: strings(Some(f.starts_with())),
                            not_starts_with: strings(Some(f.not_starts_with())),
                            extra,
                        }
                    })
                    .collect(),
                extra: Extra::new(),
            })
            .collect()
    });
    EventSelectors {
        event_selectors: classic,
        advanced_event_selectors: advanced,
        extra: Extra::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// LookupEvents

/// One query of the plan: a single lookup attribute, as LookupEvents requires.
pub type PlannedQuery = events::Lookup;

/// The LookupEvents plan of one account-region, in the order the report lists it: built from
/// the core's rules table, so the classifier knows every event queried by name and every
/// event it knows is queried. Its `EventName` queries run only for a source whose
/// `EventSource` query did not read all of the source's events in its page limit.
pub fn query_plan() -> Vec<PlannedQuery> {
    events::lookup_plan()
}

struct QueryOutcome {
    record: LookupQuery,
    /// No call gave up: every page it meant to read was read.
    completed: bool,
    /// The last page was read (not stopped at the query's page limit).
    read_to_end: bool,
    events: Vec<LookupEvent>,
}

impl QueryOutcome {
    fn not_sent(query: PlannedQuery) -> Self {
        QueryOutcome {
            record: LookupQuery {
                attribute_key: query.attribute_key().to_string(),
                attribute_value: query.value.to_string(),
                calls: 0,
                events_returned: 0,
                events_kept: 0,
                stopped_after_pages: None,
                extra: Extra::new(),
            },
            completed: false,
            read_to_end: false,
            events: Vec::new(),
        }
    }

    /// Whether this query alone searched its source completely.
    fn covers_its_source(&self) -> bool {
        self.completed && self.read_to_end
    }
}

struct LookupResult {
    events: Vec<LookupEvent>,
    queries: Vec<QueryOutcome>,
    /// Set when the events came from the trail's log files.
    events_from: Option<EventsFrom>,
}

/// The queries of one stage of the plan, run together under the region's pacer; outcomes in
/// the order of `queries`.
async fn run_queries(
    context: &Arc<RegionContext>,
    client: &Client,
    pacer: &Arc<Pacer>,
    period: Period,
    queries: Vec<PlannedQuery>,
) -> Result<Vec<QueryOutcome>, CredentialsFailed> {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(LOOKUP_QUERIES_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for (index, query) in queries.into_iter().enumerate() {
        let (context, client, pacer, in_flight) = (
            context.clone(),
            client.clone(),
            pacer.clone(),
            in_flight.clone(),
        );
        tasks.spawn(async move {
            let _slot = in_flight.acquire_owned().await;
            let outcome = if context.region_rejected() {
                Ok(QueryOutcome::not_sent(query))
            } else {
                run_query(&context, &client, &pacer, period, query).await
            };
            (index, outcome)
        });
    }
    let mut outcomes: Vec<(usize, QueryOutcome)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, outcome)) => match outcome {
                Ok(outcome) => outcomes.push((index, outcome)),
                Err(failed) => {
                    tasks.abort_all();
                    return Err(failed);
                }
            },
            Err(join_error) => panic!("a LookupEvents task panicked: {join_error}"),
        }
    }
    outcomes.sort_by_key(|(index, _)| *index);
    Ok(outcomes.into_iter().map(|(_, outcome)| outcome).collect())
}

async fn lookup_changes(
    context: Arc<RegionContext>,
    period: Period,
    sources: &[&str],
) -> Result<LookupResult, CredentialsFailed> {
    // Retries are ours: every attempt must wait for the pacer, which the SDK's retries would not.
    let client = Client::from_conf(
        aws_sdk_cloudtrail::config::Builder::from(&context.sdk)
            .region(context.region())
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let pacer = Arc::new(Pacer::per_second(LOOKUP_EVENTS_PER_SECOND));
    // First one page of each source; then the event names of each source that page did not
    // cover (more events than the page limit, or a query that gave up).
    let by_source: Vec<PlannedQuery> = query_plan()
        .into_iter()
        .filter(|q| q.queried_by == QueriedBy::EventSource && sources.contains(&q.value))
        .collect();
    let mut outcomes = run_queries(&context, &client, &pacer, period, by_source.clone()).await?;
    let uncovered: Vec<&str> = by_source
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| !outcome.covers_its_source())
        .map(|(query, _)| query.value)
        .collect();
    let searched_by_name: Vec<PlannedQuery> = query_plan()
        .into_iter()
        .filter(|q| uncovered.iter().any(|source| q.searches(source)))
        .collect();
    outcomes.extend(run_queries(&context, &client, &pacer, period, searched_by_name).await?);
    let not_sent: Vec<String> = outcomes
        .iter()
        .filter(|o| o.record.calls == 0)
        .map(|o| format!("{}={}", o.record.attribute_key, o.record.attribute_value))
        .collect();
    if !not_sent.is_empty() {
        // One gap for the queries a rejecting region was not asked: the first failure already
        // says why.
        let failure = CallFailure {
            code: "RegionRejected".to_string(),
            message: format!(
                "{} queries not sent because {} rejected the credentials: {}",
                not_sent.len(),
                context.region,
                not_sent.join(", ")
            ),
            http_status: None,
            kind: FailureKind::Service,
        };
        context.record_gap(SERVICE, "LookupEvents", None, &failure);
    }
    // Each event once, even if two queries or a repeated page returned it.
    let mut seen = HashSet::new();
    let mut events = Vec::new();
    let mut queries = Vec::new();
    for mut outcome in outcomes {
        let mut kept = 0;
        for event in outcome.events.drain(..) {
            if seen.insert(event.event_id.clone()) {
                kept += 1;
                events.push(event);
            }
        }
        outcome.record.events_kept = kept;
        queries.push(outcome);
    }
    events.sort_by(|a, b| {
        b.event_time
            .cmp(&a.event_time)
            .then_with(|| a.event_id.cmp(&b.event_id))
    });
    Ok(LookupResult {
        events,
        queries,
        events_from: None,
    })
}

async fn run_query(
    context: &RegionContext,
    client: &Client,
    pacer: &Pacer,
    period: Period,
    query: PlannedQuery,
) -> Result<QueryOutcome, CredentialsFailed> {
    let attribute = LookupAttribute::builder()
        .attribute_key(match query.queried_by {
            QueriedBy::EventName => LookupAttributeKey::EventName,
            QueriedBy::EventSource => LookupAttributeKey::EventSource,
        })
        .attribute_value(query.value)
        .build()
        .expect("attribute key and value are set");
    let label = format!("{}={}", query.attribute_key(), query.value);
    let QueryOutcome {
        mut record,
        mut events,
        ..
    } = QueryOutcome::not_sent(query);
    let mut next_token: Option<String> = None;
    let mut tokens = PageTokens::default();
    let mut pages: u64 = 0;
    loop {
        let mut attempt = 0;
        let page = loop {
            attempt += 1;
            pacer.acquire().await;
            record.calls += 1;
            context.progress.add(Fetched::LookupCalls, 1);
            let sent = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .start_time(sdk_datetime(period.start))
                .end_time(sdk_datetime(period.end))
                .max_results(LOOKUP_PAGE_SIZE)
                .set_next_token(next_token.clone())
                .send()
                .await;
            match sent {
                Ok(page) => break page,
                Err(err) => {
                    let failure = call_failure(&err);
                    context.check_credentials(SERVICE, "LookupEvents", &failure)?;
                    if failure.is_retryable() && attempt < Backoff::LOOKUP_EVENTS.max_attempts {
                        let delay = Backoff::LOOKUP_EVENTS.delay(attempt, fastrand::f64());
                        tracing::debug!(
                            region = %context.region,
                            query = %label,
                            attempt,
                            "LookupEvents {}: retrying in {:.1} s",
                            failure.code,
                            delay.as_secs_f64()
                        );
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    let failure = CallFailure {
                        message: format!(
                            "query {label}{}: {}",
                            if attempt > 1 {
                                format!(", gave up after {attempt} attempts")
                            } else {
                                String::new()
                            },
                            failure.message
                        ),
                        ..failure
                    };
                    context.record_gap(SERVICE, "LookupEvents", None, &failure);
                    return Ok(QueryOutcome {
                        record,
                        completed: false,
                        read_to_end: false,
                        events,
                    });
                }
            }
        };
        pages += 1;
        for raw in page.events() {
            record.events_returned += 1;
            match lookup_event(raw) {
                Some(event) => {
                    if query.keeps(&event) && period.contains(event.event_time) {
                        events.push(event);
                    }
                }
                None => {
                    let failure = CallFailure {
                        code: "MalformedEvent".to_string(),
                        message: format!(
                            "query {label}: an event without EventId or EventTime (EventId {})",
                            raw.event_id().unwrap_or("missing")
                        ),
                        http_status: None,
                        kind: FailureKind::Service,
                    };
                    context.record_gap(SERVICE, "LookupEvents", None, &failure);
                }
            }
        }
        context
            .progress
            .add(Fetched::Events, page.events().len() as u64);
        match page.next_token().filter(|t| !t.is_empty()) {
            None => break,
            Some(_) if query.page_limit().is_some_and(|limit| pages >= limit) => {
                // More events than the limit: the source is searched by name instead.
                record.stopped_after_pages = Some(pages);
                return Ok(QueryOutcome {
                    record,
                    completed: true,
                    read_to_end: false,
                    events,
                });
            }
            Some(token) => match tokens.next(&format!("query {label}"), Some(token)) {
                Ok(next) => next_token = next,
                Err(failure) => {
                    context.record_gap(SERVICE, "LookupEvents", None, &failure);
                    return Ok(QueryOutcome {
                        record,
                        completed: false,
                        read_to_end: false,
                        events,
                    });
                }
            },
        }
    }
    Ok(QueryOutcome {
        record,
        completed: true,
        read_to_end: true,
        events,
    })
}

fn lookup_event(raw: &aws::Event) -> Option<LookupEvent> {
    let cloud_trail_event = raw.cloud_trail_event().unwrap_or_default().to_string();
    let event_time = raw.event_time().and_then(timestamp).or_else(|| {
        let record: Value = serde_json::from_str(&cloud_trail_event).ok()?;
        Timestamp::parse(record.get("eventTime")?.as_str()?)
    })?;
    Some(LookupEvent {
        event_id: raw.event_id()?.to_string(),
        event_name: raw.event_name().unwrap_or_default().to_string(),
        event_source: raw.event_source().unwrap_or_default().to_string(),
        event_time,
        read_only: raw.read_only().map(str::to_string),
        username: raw.username().map(str::to_string),
        access_key_id: raw.access_key_id().map(str::to_string),
        resources: raw
            .resources()
            .iter()
            .map(|r| serde_json::json!({"ResourceType": r.resource_type(), "ResourceName": r.resource_name()}))
            .collect(),
        cloud_trail_event,
        extra: Extra::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of a hand-written fixture of operation names, shared with the live tests.
    fn fixture_list(doc: &str, list: &str) -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(doc).expect("the fixture is JSON");
        doc[list]
            .as_array()
            .expect("a list")
            .iter()
            .map(|name| name.as_str().expect("a name").to_string())
            .collect()
    }

    const KMS_API: &str = include_str!("../../../../tests/fixtures/kms-api-operations.json");
    const AWS_CHANGES: &str = include_str!("../../../../tests/fixtures/aws-change-operations.json");
    const ELASTICACHE_API: &str =
        include_str!("../../../../tests/fixtures/elasticache-api-operations.json");

    #[test]
    fn the_plan_reads_each_source_then_queries_exactly_the_changes_of_the_api_models() {
        let plan = query_plan();
        let by_source: Vec<&str> = plan
            .iter()
            .filter(|q| q.queried_by == QueriedBy::EventSource)
            .map(|q| q.value)
            .collect();
        assert_eq!(
            by_source,
            [
                "apigateway.amazonaws.com",
                "cloudtrail.amazonaws.com",
                "elasticache.amazonaws.com",
                "kms.amazonaws.com",
                "logs.amazonaws.com",
                "s3.amazonaws.com"
            ]
        );
        for (source, documented) in [
            (
                events::APIGATEWAY,
                fixture_list(AWS_CHANGES, "apigateway_changes"),
            ),
            (
                events::CLOUDTRAIL,
                fixture_list(AWS_CHANGES, "cloudtrail_changes"),
            ),
            (
                events::ELASTICACHE,
                fixture_list(ELASTICACHE_API, "changes"),
            ),
            (
                events::KMS,
                [
                    fixture_list(KMS_API, "changes"),
                    fixture_list(KMS_API, "recorded_by_aws"),
                ]
                .concat(),
            ),
            (events::LOGS, fixture_list(AWS_CHANGES, "logs_changes")),
            (events::S3, fixture_list(AWS_CHANGES, "s3_changes")),
        ] {
            let names: BTreeSet<&str> = plan
                .iter()
                .filter(|q| q.searches(source))
                .map(|q| q.value)
                .collect();
            let expected: BTreeSet<&str> = documented.iter().map(String::as_str).collect();
            assert_eq!(
                names,
                expected,
                "{source}: not queried: {:?}; not a change: {:?}",
                expected.difference(&names).collect::<Vec<_>>(),
                names.difference(&expected).collect::<Vec<_>>()
            );
        }
        let all_names: Vec<&str> = plan
            .iter()
            .skip(events::SOURCES.len())
            .map(|q| q.value)
            .collect();
        let unique: BTreeSet<&str> = all_names.iter().copied().collect();
        assert_eq!(unique.len(), all_names.len(), "each name once");
        // The two hand-written KMS lists split the API without overlap.
        let all: BTreeSet<String> = fixture_list(KMS_API, "changes")
            .into_iter()
            .chain(fixture_list(KMS_API, "no_change"))
            .collect();
        assert_eq!(all.len(), 56);
    }

    /// The plan and the classifier read one table: every event the classifier has a rule for
    /// is queried by name, every name queried has a rule, and every query keeps the events of
    /// its rules, so no classified event goes unqueried and none queried goes unjudged. A
    /// source's `EventSource` query keeps its write events too (when one page holds them all).
    #[test]
    fn the_plan_queries_exactly_the_events_the_classifier_knows() {
        let plan = query_plan();
        let queried: BTreeSet<(&str, &str)> = plan
            .iter()
            .flat_map(|q| {
                events::SOURCES
                    .into_iter()
                    .filter(|source| q.searches(source))
                    .map(|source| (source, q.value))
            })
            .collect();
        let known: BTreeSet<(&str, &str)> =
            events::RULES.iter().map(|r| (r.source, r.name)).collect();
        assert_eq!(queried, known);
        for q in plan.iter().filter(|q| q.queried_by == QueriedBy::EventName) {
            assert!(
                events::SOURCES.iter().any(|source| q.searches(source)),
                "{} has no rule",
                q.value
            );
        }
        for rule in events::RULES {
            let write = event(rule.source, rule.name, Some("false"));
            let by_name = plan.iter().filter(|q| {
                q.queried_by == QueriedBy::EventName && q.value == rule.name && q.keeps(&write)
            });
            assert_eq!(by_name.count(), 1, "{} {}", rule.source, rule.name);
            let by_source = plan.iter().filter(|q| {
                q.queried_by == QueriedBy::EventSource && q.value == rule.source && q.keeps(&write)
            });
            assert_eq!(by_source.count(), 1, "{} {}", rule.source, rule.name);
        }
    }

    fn event(source: &str, name: &str, read_only: Option<&str>) -> LookupEvent {
        LookupEvent {
            event_id: "e1".into(),
            event_name: name.into(),
            event_source: source.into(),
            event_time: Timestamp::parse("2026-10-05T10:00:00Z").expect("valid"),
            read_only: read_only.map(str::to_string),
            username: None,
            access_key_id: None,
            resources: Vec::new(),
            cloud_trail_event: "{}".into(),
            extra: Extra::new(),
        }
    }

    #[test]
    fn source_queries_keep_writes_and_name_queries_keep_the_events_of_their_rules() {
        let by_source = PlannedQuery {
            queried_by: QueriedBy::EventSource,
            value: "apigateway.amazonaws.com",
        };
        assert!(by_source.keeps(&event(
            "apigateway.amazonaws.com",
            "UpdateStage",
            Some("false")
        )));
        assert!(by_source.keeps(&event("apigateway.amazonaws.com", "UpdateStage", None)));
        assert!(!by_source.keeps(&event(
            "apigateway.amazonaws.com",
            "GetStages",
            Some("true")
        )));
        let by_name = PlannedQuery {
            queried_by: QueriedBy::EventName,
            value: "TagResource",
        };
        assert!(by_name.keeps(&event("kms.amazonaws.com", "TagResource", Some("false"))));
        assert!(by_name.keeps(&event(
            "apigateway.amazonaws.com",
            "TagResource",
            Some("false")
        )));
        assert!(!by_name.keeps(&event(
            "cloudtrail.amazonaws.com",
            "TagResource",
            Some("false")
        )));
        assert!(!by_name.keeps(&event("lambda.amazonaws.com", "TagResource", Some("false"))));
    }

    #[test]
    fn status_is_asked_in_the_home_region_also_outside_the_scope() {
        let scope = vec!["eu-west-1".to_string(), "us-east-1".to_string()];
        assert_eq!(status_region(Some("us-east-1"), &scope), Some("us-east-1"));
        assert_eq!(
            status_region(Some("ap-south-1"), &scope),
            Some("ap-south-1")
        );
        assert_eq!(status_region(None, &scope), Some("eu-west-1"));
    }
}
