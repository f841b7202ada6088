//! A small AWS double on 127.0.0.1 for what moto lacks: it answers CloudTrail LookupEvents from
//! recorded events (paged by 50 with NextToken, filtered by attribute and time, newest first),
//! account ListRegions, injected faults (ThrottlingException bursts, HTTP 500, slow answers,
//! one query failing on every call after its first pages, AccessDenied for one service in one
//! region, expired credentials), optionally AWS's own 2 calls/s LookupEvents limit, and fixed
//! answers for REST calls moto answers differently from AWS (GetDeployment's `apiSummary`,
//! stages with `canarySettings`), and CloudTrail ListPublicKeys (moto lacks it: the keys of
//! `StubConfig::public_keys`, one per page, so paging is exercised).
//! Everything else is forwarded unchanged to moto.
//! It records every request it saw (service, region, HTTP method, path, operation: what IAM
//! authorises) and when each LookupEvents call arrived, per region, so tests can check the rate.
//! Calls made with credentials from an AssumeRole it forwarded are told apart by account: their
//! LookupEvents events and rate limit are per account and region (`StubConfig::events` keyed
//! `ACCOUNT/REGION`), as AWS's are.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Faults injected into LookupEvents calls, by the call's number within its region (from 0).
/// They never hit one page more than `MAX_FAULTS_IN_A_ROW` times in a row: the collector
/// gives up after 8 attempts, and these faults are there to exercise its retries, not to
/// exhaust them (`FailingQuery` does that, on purpose). Without the cap, three queries sharing
/// a region's call numbers now and then lined one query's attempts up with the faults eight
/// times running, and a test expecting no gaps failed.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every this-many calls, a burst of `throttle_burst` ThrottlingException answers.
    pub throttle_every: u32,
    pub throttle_burst: u32,
    /// Every this-many calls, one HTTP 500.
    pub server_error_every: u32,
    /// Every this-many calls, one answer delayed by `slow_for`.
    pub slow_every: u32,
    pub slow_for: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct StubConfig {
    /// moto's address; calls the stub does not answer go there.
    pub upstream: Option<String>,
    /// LookupEvents events per region, in the API's JSON shape: keyed `REGION` for the
    /// caller's own credentials, `ACCOUNT/REGION` for a role assumed in ACCOUNT.
    pub events: BTreeMap<String, Vec<Value>>,
    /// What account:ListRegions answers.
    pub enabled_regions: Vec<String>,
    /// (signing service name, region) pairs answered with AccessDenied.
    pub deny: Vec<(String, String)>,
    /// Regions not enabled for the account: every call there is rejected the way AWS rejects
    /// credentials in an opt-in region that was never enabled.
    pub disabled_regions: Vec<String>,
    /// Answer every STS call with ExpiredToken.
    pub expired_credentials: bool,
    pub faults: Faults,
    /// One LookupEvents query that fails on every call after its first pages.
    pub failing_query: Option<FailingQuery>,
    /// Throttle LookupEvents calls beyond 2 in any second per region, as AWS does (measured
    /// with `RATE_TOLERANCE`, see there).
    pub enforce_rate_limit: bool,
    /// Fixed JSON answers by `METHOD /path?query` exactly as sent (e.g.
    /// `GET /restapis/a1/deployments/d1?embed=apisummary`), for what moto lacks.
    pub answers: BTreeMap<String, Value>,
    /// GetTrailStatus answers per region (moto never reports delivery errors): every trail of
    /// the region gets this status.
    pub trail_status: BTreeMap<String, Value>,
    /// moto stamps a trail's StartLoggingTime with the time the seed started it, after the
    /// reporting period; when set, moto's GetTrailStatus answers carry this time (epoch
    /// seconds) instead, as for trails logging since before the period.
    pub trails_started_at: Option<f64>,
    /// What ListPublicKeys answers (`PublicKeyList` entries, one per page); none: an empty list.
    pub public_keys: Vec<Value>,
    /// Faults of S3 GETs (listings and objects), which moto never gives.
    pub s3_faults: S3Faults,
    /// Athena answered by the stub instead of moto (whose queries always succeed and whose
    /// results are one page).
    pub athena: Option<AthenaScript>,
}

/// What the stub answers in moto's place for S3 GETs.
#[derive(Debug, Clone, Default)]
pub struct S3Faults {
    /// GETs whose path (path-style: `/BUCKET…`) starts with this are refused with
    /// `403 AccessDenied`.
    pub deny_path: Option<String>,
    /// Every this-many S3 GETs, one `503 SlowDown` (the SDK retries it).
    pub slow_down_every: u64,
}

/// How the stub's Athena answers: StartQueryExecution gives the ids `stub-query-1`, `-2`, …;
/// GetQueryExecution says RUNNING `running_polls` times and then `final_state` (with
/// `reason`), GetQueryResults returns `pages` one by one, linked by NextToken.
#[derive(Debug, Clone, Default)]
pub struct AthenaScript {
    pub final_state: &'static str,
    pub reason: String,
    pub running_polls: u32,
    /// Each page: the `Rows` array of GetQueryResults (the header first on the first page).
    pub pages: Vec<Value>,
    pub data_scanned_bytes: u64,
    /// The second query (the coverage query, `stub-query-2`): succeeds at once with these rows.
    pub coverage_rows: Value,
}

/// A LookupEvents query (`AttributeKey=AttributeValue`, e.g.
/// `EventSource=cloudtrail.amazonaws.com`) answered normally for its first `pages_ok` pages and
/// then, on every call, alternately with ThrottlingException and HTTP 503: the collector's
/// retries run out part-way through the query. The faults are answered at once.
#[derive(Debug, Clone, Default)]
pub struct FailingQuery {
    pub query: String,
    pub pages_ok: usize,
}

/// One request as the stub saw it, in the terms IAM authorises.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// The SigV4 signing name (`kms`, `cloudtrail`, `apigateway`, `account`, `sts`).
    pub service: String,
    pub region: String,
    pub method: String,
    /// The request path without the query string.
    pub path: String,
    /// The query string (S3 names its bucket subresources there: `?policy`, `?acl`, …).
    pub query: String,
    /// JSON protocols: the operation of `x-amz-target`; query protocols: `Action`; REST: empty.
    pub operation: String,
    /// The JSON request body (`Null` for other bodies).
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct LookupCall {
    pub arrived: Instant,
    pub query: String,
    pub outcome: &'static str,
}

/// The most injected faults one page (region, query, NextToken) gets in a row.
pub const MAX_FAULTS_IN_A_ROW: u32 = 3;

#[derive(Default)]
struct State {
    /// Keyed like `StubConfig::events`: `REGION`, or `ACCOUNT/REGION` for an assumed role.
    lookup_calls: BTreeMap<String, Vec<LookupCall>>,
    /// The account of each access key an AssumeRole answer forwarded from moto handed out.
    assumed_accounts: BTreeMap<String, String>,
    /// Faults in a row per (region, query, page offset).
    faults_in_a_row: BTreeMap<(String, String, usize), u32>,
    forwarded: Vec<(Instant, String)>,
    requests: Vec<SeenRequest>,
    rate_limited: u64,
    failing_query_faults: u64,
    s3_gets: u64,
    s3_slow_downs: u64,
    athena_polls: u32,
    athena_started: u32,
}

pub struct AwsStub {
    pub url: String,
    state: Arc<Mutex<State>>,
    stopping: Arc<AtomicBool>,
    _runtime: tokio::runtime::Runtime,
}

impl AwsStub {
    /// Starts the stub on its own runtime thread (usable from sync and async tests).
    pub fn start(config: StubConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("stub runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let index = Arc::new(EventIndex::new(&config.events));
        let config = Arc::new(config);
        let stopping = Arc::new(AtomicBool::new(false));
        let (shared, handle, stop) = (state.clone(), runtime.handle().clone(), stopping.clone());
        // Connections are accepted on a thread of their own, blocked in accept(2): a call
        // "arrives" when the kernel hands its connection over, not when a busy runtime gets
        // round to polling the listener (which made calls look closer together than they were).
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let arrived = Instant::now();
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(socket) = socket else {
                    continue;
                };
                let (config, state, index) = (config.clone(), shared.clone(), index.clone());
                handle.spawn(async move {
                    let socket = socket
                        .set_nonblocking(true)
                        .and_then(|()| TcpStream::from_std(socket));
                    if let Ok(socket) = socket {
                        let _ = serve_connection(socket, arrived, &config, &index, &state).await;
                    }
                });
            }
        });
        AwsStub {
            url: format!("http://{addr}"),
            state,
            stopping,
            _runtime: runtime,
        }
    }

    /// Every LookupEvents call per region (`ACCOUNT/REGION` for an assumed role), in arrival
    /// order.
    pub fn lookup_calls(&self) -> BTreeMap<String, Vec<LookupCall>> {
        self.state.lock().expect("stub state").lookup_calls.clone()
    }

    /// Calls forwarded to moto: arrival time and `service:target`.
    pub fn forwarded(&self) -> Vec<(Instant, String)> {
        self.state.lock().expect("stub state").forwarded.clone()
    }

    /// Every request the stub saw, answered by itself or forwarded, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state.lock().expect("stub state").requests.clone()
    }

    /// LookupEvents calls the rate limit refused.
    pub fn rate_limited(&self) -> u64 {
        self.state.lock().expect("stub state").rate_limited
    }

    /// Calls of the `failing_query` answered with a fault.
    pub fn failing_query_faults(&self) -> u64 {
        self.state.lock().expect("stub state").failing_query_faults
    }

    /// S3 GETs answered with `503 SlowDown` (`S3Faults::slow_down_every`).
    pub fn s3_slow_downs(&self) -> u64 {
        self.state.lock().expect("stub state").s3_slow_downs
    }
}

impl Drop for AwsStub {
    fn drop(&mut self) {
        // Wake the accept thread so that it sees the flag and ends.
        self.stopping.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

/// How much earlier than it was sent a LookupEvents call may be stamped, relative to another
/// call, before the rate checks count it against the limit: the rate is judged over windows of
/// `1 s - RATE_TOLERANCE`.
///
/// The stub stamps a call when it accepts its connection. On a busy machine (2 cores, a build
/// beside the tests) the collector's send and the stub's accept can each be held up by a few
/// hundred milliseconds; stamps are then late by different amounts, and two calls the pacer
/// spaced 520 ms apart can look 300 ms closer. With this tolerance three calls at the pacer's
/// spacing span 1.04 s against a 0.7 s window, so their stamps would have to be off by 340 ms
/// to be counted as too fast, while the pacer at twice its rate puts three calls within
/// 0.52 s, which every window still catches. The exact 2 calls/s spacing is the pacer's unit
/// test (src/collect/pacing.rs, on a paused clock); this checks the collector end to end.
pub const RATE_TOLERANCE: Duration = Duration::from_millis(300);

/// The window over which at most 2 LookupEvents calls of a region may arrive.
pub fn rate_window() -> Duration {
    Duration::from_secs(1) - RATE_TOLERANCE
}

/// The most calls that arrived within any window of length `window`.
pub fn max_calls_within(calls: &[LookupCall], window: Duration) -> usize {
    let mut times: Vec<Instant> = calls.iter().map(|c| c.arrived).collect();
    times.sort();
    let mut max = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= window {
            start += 1;
        }
        max = max.max(end - start + 1);
    }
    max
}

/// The most calls that arrived within any one second (the benchmark's figure).
pub fn max_calls_in_any_second(calls: &[LookupCall]) -> usize {
    max_calls_within(calls, Duration::from_secs(1))
}

struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    fn path(&self) -> &str {
        self.head.split_whitespace().nth(1).unwrap_or("/")
    }

    fn method(&self) -> &str {
        self.head.split_whitespace().next().unwrap_or_default()
    }

    /// A field of a form-encoded (query protocol) body, percent-decoded.
    fn form_field(&self, name: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        body.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| percent_decode(value))
        })
    }

    /// What IAM authorises: method, path, operation and JSON body.
    fn seen(&self, service: &str, region: &str) -> SeenRequest {
        let target = self.header("x-amz-target").unwrap_or_default();
        let operation = match target.rsplit_once('.') {
            Some((_, operation)) => operation.to_string(),
            None => String::from_utf8_lossy(&self.body)
                .split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .unwrap_or_default()
                .to_string(),
        };
        SeenRequest {
            service: service.to_string(),
            region: region.to_string(),
            method: self.method().to_string(),
            path: self
                .path()
                .split('?')
                .next()
                .unwrap_or_default()
                .to_string(),
            query: self
                .path()
                .split_once('?')
                .map(|(_, query)| query.to_string())
                .unwrap_or_default(),
            operation,
            body: serde_json::from_slice(&self.body).unwrap_or(Value::Null),
        }
    }

    /// The access key id of the SigV4 credential (the secret is never sent).
    fn access_key_id(&self) -> &str {
        let auth = self.header("authorization").unwrap_or_default();
        auth.split("Credential=")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
    }

    /// (region, service) from the SigV4 credential scope; the credential itself is not kept.
    fn scope(&self) -> (String, String) {
        let auth = self.header("authorization").unwrap_or_default();
        let scope = auth
            .split("Credential=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_default();
        let parts: Vec<&str> = scope.split('/').collect();
        match parts.as_slice() {
            [_, _, region, service, ..] => (region.to_string(), service.to_string()),
            _ => (String::new(), String::new()),
        }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or_default();
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut request = Request {
        head,
        body: buffer[head_end..].to_vec(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while request.body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        request.body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(request))
}

fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn json_error(status: u16, code: &str, message: &str) -> Vec<u8> {
    let body = json!({"__type": code, "message": message}).to_string();
    response(
        status,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amzn-errortype", code),
        ],
        body.as_bytes(),
    )
}

/// An error in the protocol of `service`: REST-JSON services answer 403 with the code in a
/// header, JSON 1.1 services 400 with `__type`.
fn service_error(service: &str, code: &str, message: &str) -> Vec<u8> {
    match service {
        "apigateway" | "account" => response(
            403,
            &[
                ("content-type", "application/json"),
                ("x-amzn-errortype", code),
            ],
            json!({"message": message}).to_string().as_bytes(),
        ),
        _ => json_error(400, code, message),
    }
}

fn access_denied(service: &str, region: &str) -> Vec<u8> {
    let message = format!(
        "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform this action in {region} ({service})"
    );
    service_error(service, "AccessDeniedException", &message)
}

/// The fault `faults` asks for this request, if it is an S3 GET that gets one.
fn s3_fault(
    service: &str,
    request: &Request,
    faults: &S3Faults,
    state: &Mutex<State>,
) -> Option<Vec<u8>> {
    if service != "s3" || request.method() != "GET" {
        return None;
    }
    let s3_error = |status, code: &str, message: &str| {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>stub</RequestId></Error>"
        );
        response(
            status,
            &[("content-type", "application/xml")],
            body.as_bytes(),
        )
    };
    if faults
        .deny_path
        .as_deref()
        .is_some_and(|denied| request.path().starts_with(denied))
    {
        return Some(s3_error(403, "AccessDenied", "Access Denied"));
    }
    let mut state = state.lock().expect("stub state");
    state.s3_gets += 1;
    if faults.slow_down_every > 0 && state.s3_gets.is_multiple_of(faults.slow_down_every) {
        state.s3_slow_downs += 1;
        return Some(s3_error(
            503,
            "SlowDown",
            "Please reduce your request rate.",
        ));
    }
    None
}

fn expired_token() -> Vec<u8> {
    let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>stub</RequestId></ErrorResponse>";
    response(400, &[("content-type", "text/xml")], body.as_bytes())
}

/// The events of each region by lookup attribute, newest first, built once.
struct EventIndex {
    by_attribute: BTreeMap<(String, String, String), Vec<(f64, Value)>>,
}

impl EventIndex {
    fn new(events: &BTreeMap<String, Vec<Value>>) -> Self {
        let mut by_attribute: BTreeMap<(String, String, String), Vec<(f64, Value)>> =
            BTreeMap::new();
        for (region, events) in events {
            for event in events {
                let time = event["EventTime"].as_f64().unwrap_or(0.0);
                for key in ["EventSource", "EventName", "EventId", "Username"] {
                    if let Some(value) = event[key].as_str() {
                        by_attribute
                            .entry((region.clone(), key.to_string(), value.to_string()))
                            .or_default()
                            .push((time, event.clone()));
                    }
                }
            }
        }
        for list in by_attribute.values_mut() {
            list.sort_by(|(ta, a), (tb, b)| {
                tb.partial_cmp(ta)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a["EventId"].as_str().cmp(&b["EventId"].as_str()))
            });
        }
        EventIndex { by_attribute }
    }
}

async fn serve_connection(
    mut socket: TcpStream,
    arrived: Instant,
    config: &StubConfig,
    index: &EventIndex,
    state: &Mutex<State>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut socket).await? else {
        return Ok(());
    };
    let (region, service) = request.scope();
    state
        .lock()
        .expect("stub state")
        .requests
        .push(request.seen(&service, &region));
    let target = request
        .header("x-amz-target")
        .unwrap_or_default()
        .to_string();
    let reply = if service == "sts" && config.expired_credentials {
        expired_token()
    } else if service != "sts" && config.disabled_regions.contains(&region) {
        service_error(
            &service,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    } else if config
        .deny
        .iter()
        .any(|(s, r)| *s == service && *r == region)
    {
        access_denied(&service, &region)
    } else if let Some(fault) = s3_fault(&service, &request, &config.s3_faults, state) {
        fault
    } else if let (true, Some(status)) = (
        target.ends_with(".GetTrailStatus"),
        config.trail_status.get(&region),
    ) {
        response(
            200,
            &[("content-type", "application/x-amz-json-1.1")],
            status.to_string().as_bytes(),
        )
    } else if target.ends_with(".ListPublicKeys") {
        list_public_keys(&request, config)
    } else if let (Some(script), true) = (&config.athena, target.starts_with("AmazonAthena.")) {
        athena_answer(&request, &target, script, state)
    } else if target.ends_with(".LookupEvents") {
        let assumed = state
            .lock()
            .expect("stub state")
            .assumed_accounts
            .get(request.access_key_id())
            .cloned();
        let key = match assumed {
            Some(account) => format!("{account}/{region}"),
            None => region.clone(),
        };
        lookup_events(&request, &key, arrived, config, index, state).await
    } else if service == "account" && request.path().starts_with("/listRegions") {
        list_regions(config)
    } else if let Some(answer) =
        config
            .answers
            .get(&format!("{} {}", request.method(), request.path()))
    {
        response(
            200,
            &[("content-type", "application/json")],
            answer.to_string().as_bytes(),
        )
    } else if let Some(upstream) = &config.upstream {
        state.lock().expect("stub state").forwarded.push((
            Instant::now(),
            format!("{service}:{target}{}", request.path()),
        ));
        let answer = forward(&request, upstream).await?;
        if service == "sts" && request.form_field("Action").as_deref() == Some("AssumeRole") {
            remember_assumed_account(&request, &answer, state);
        }
        match config.trails_started_at {
            _ if target.ends_with(".GetTrailStatus") => {
                with_trail_status(answer, config.trails_started_at)
            }
            _ if request.method() == "GET" && request.path().ends_with("?versioning") => {
                with_versioning_root(answer)
            }
            _ => answer,
        }
    } else {
        json_error(400, "UnknownOperationException", "the stub has no upstream")
    };
    socket.write_all(&reply).await?;
    socket.shutdown().await
}

/// ListPublicKeys: the configured keys, one per page (`NextToken` is the next key's index).
fn list_public_keys(request: &Request, config: &StubConfig) -> Vec<u8> {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let index: usize = body["NextToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let mut answer =
        json!({"PublicKeyList": config.public_keys.get(index).into_iter().collect::<Vec<_>>()});
    if index + 1 < config.public_keys.len() {
        answer["NextToken"] = json!((index + 1).to_string());
    }
    response(
        200,
        &[("content-type", "application/x-amz-json-1.1")],
        answer.to_string().as_bytes(),
    )
}

/// Records which account the credentials of a forwarded AssumeRole answer belong to: the
/// account of the role ARN asked for.
fn remember_assumed_account(request: &Request, answer: &[u8], state: &Mutex<State>) {
    let role_arn = request.form_field("RoleArn").unwrap_or_default();
    let Some(account) = role_arn.split(':').nth(4).filter(|a| !a.is_empty()) else {
        return;
    };
    let answer = String::from_utf8_lossy(answer);
    let key = answer
        .split("<AccessKeyId>")
        .nth(1)
        .and_then(|rest| rest.split("</AccessKeyId>").next());
    if let Some(key) = key {
        state
            .lock()
            .expect("stub state")
            .assumed_accounts
            .insert(key.to_string(), account.to_string());
    }
}

/// moto's GetTrailStatus answer with `StartLoggingTime` replaced (see
/// `StubConfig::trails_started_at`), and the CloudWatch Logs delivery moto never reports: a
/// trail that delivers to a log group has delivered a minute ago (a trail without one ignores
/// it); other answers unchanged.
fn with_trail_status(answer: Vec<u8>, started: Option<f64>) -> Vec<u8> {
    let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer;
    };
    let ok = answer.starts_with(b"HTTP/1.1 200");
    match serde_json::from_slice::<Value>(&answer[split + 4..]) {
        Ok(mut status) if ok && status.is_object() => {
            if let (Some(started), Some(_)) = (started, status.get("StartLoggingTime")) {
                status["StartLoggingTime"] = json!(started);
            }
            if status.get("LatestCloudWatchLogsDeliveryTime").is_none() {
                status["LatestCloudWatchLogsDeliveryTime"] =
                    json!((chrono::Utc::now().timestamp() - 60) as f64);
            }
            response(
                200,
                &[("content-type", "application/x-amz-json-1.1")],
                status.to_string().as_bytes(),
            )
        }
        _ => answer,
    }
}

/// moto answers GetBucketVersioning with the root element `GetBucketVersioningResponse`; S3
/// (and so the SDK) uses `VersioningConfiguration` (S3 API reference GetBucketVersioning).
fn with_versioning_root(answer: Vec<u8>) -> Vec<u8> {
    let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer;
    };
    if !answer.starts_with(b"HTTP/1.1 200") {
        return answer;
    }
    let body = String::from_utf8_lossy(&answer[split + 4..])
        .replace("GetBucketVersioningResponse", "VersioningConfiguration");
    response(200, &[("content-type", "application/xml")], body.as_bytes())
}

async fn forward(request: &Request, upstream: &str) -> std::io::Result<Vec<u8>> {
    let addr = upstream.trim_start_matches("http://");
    let mut upstream = TcpStream::connect(addr).await?;
    let mut head: Vec<&str> = request
        .head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    head.push("connection: close");
    let mut bytes = head.join("\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes.extend_from_slice(&request.body);
    upstream.write_all(&bytes).await?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer).await?;
    Ok(answer)
}

fn athena_answer(
    request: &Request,
    target: &str,
    script: &AthenaScript,
    state: &Mutex<State>,
) -> Vec<u8> {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let answer = match target.rsplit_once('.').map(|(_, op)| op) {
        Some("StartQueryExecution") => {
            let mut state = state.lock().expect("stub state");
            state.athena_started += 1;
            json!({"QueryExecutionId": format!("stub-query-{}", state.athena_started)})
        }
        Some("GetQueryExecution") if body["QueryExecutionId"] == "stub-query-2" => {
            json!({"QueryExecution": {"QueryExecutionId": "stub-query-2",
                "Status": {"State": "SUCCEEDED"}, "Statistics": {"DataScannedInBytes": 1}}})
        }
        Some("GetQueryResults") if body["QueryExecutionId"] == "stub-query-2" => {
            json!({"ResultSet": {"Rows": script.coverage_rows, "ResultSetMetadata": {"ColumnInfo": []}}})
        }
        Some("GetQueryExecution") => {
            let polls = {
                let mut state = state.lock().expect("stub state");
                state.athena_polls += 1;
                state.athena_polls
            };
            let (status, reason) = if polls <= script.running_polls {
                ("RUNNING", None)
            } else {
                (script.final_state, Some(script.reason.clone()))
            };
            json!({"QueryExecution": {
                "QueryExecutionId": "stub-query-1",
                "Status": {"State": status, "StateChangeReason": reason},
                "Statistics": {"DataScannedInBytes": script.data_scanned_bytes}
            }})
        }
        Some("GetQueryResults") => {
            let page: usize = body["NextToken"]
                .as_str()
                .and_then(|t| t.strip_prefix("page-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let rows = script.pages.get(page).cloned().unwrap_or(json!([]));
            let mut answer =
                json!({"ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": []}}});
            if page + 1 < script.pages.len() {
                answer["NextToken"] = json!(format!("page-{}", page + 1));
            }
            answer
        }
        _ => return json_error(400, "InvalidRequestException", "not scripted"),
    };
    response(
        200,
        &[("content-type", "application/x-amz-json-1.1")],
        answer.to_string().as_bytes(),
    )
}

fn list_regions(config: &StubConfig) -> Vec<u8> {
    let regions: Vec<Value> = config
        .enabled_regions
        .iter()
        .map(|r| json!({"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"}))
        .collect();
    response(
        200,
        &[("content-type", "application/json")],
        json!({"Regions": regions}).to_string().as_bytes(),
    )
}

fn seconds(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64)
}

/// Whether a call arriving at `now` would make 3 calls of the region within one rate window
/// (calls are recorded as their handlers run, so some may have arrived after `now`).
fn would_exceed_rate(calls: &[LookupCall], now: Instant) -> bool {
    let window = rate_window();
    let near: Vec<Instant> = calls
        .iter()
        .map(|c| c.arrived)
        .filter(|t| t.max(&now).duration_since(*t.min(&now)) < window)
        .collect();
    near.iter().enumerate().any(|(i, a)| {
        near[i + 1..].iter().any(|b| {
            let times = [*a, *b, now];
            let (first, last) = (
                times.iter().min().copied().unwrap_or(now),
                times.iter().max().copied().unwrap_or(now),
            );
            last.duration_since(first) < window
        })
    })
}

async fn lookup_events(
    request: &Request,
    region: &str,
    now: Instant,
    config: &StubConfig,
    index: &EventIndex,
    state: &Mutex<State>,
) -> Vec<u8> {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let attribute = &body["LookupAttributes"][0];
    let key = attribute["AttributeKey"].as_str().unwrap_or_default();
    let value = attribute["AttributeValue"].as_str().unwrap_or_default();
    let token = body["NextToken"].as_str().unwrap_or_default().to_string();
    let query = format!("{key}={value}");

    let offset: usize = token
        .strip_prefix("page-")
        .and_then(|t| t.split('-').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let max = body["MaxResults"].as_u64().unwrap_or(50).clamp(1, 50) as usize;
    let page_number = offset / max;
    let faults = &config.faults;
    let outcome: &'static str = {
        let mut state = state.lock().expect("stub state");
        let calls = state.lookup_calls.entry(region.to_string()).or_default();
        let number = calls.len() as u32;
        let rate_exceeded = would_exceed_rate(calls, now);
        let page = (region.to_string(), query.clone(), offset);
        let may_fault =
            state.faults_in_a_row.get(&page).copied().unwrap_or(0) < MAX_FAULTS_IN_A_ROW;
        let outcome = if config.enforce_rate_limit && rate_exceeded {
            "rate-limited"
        } else if config
            .failing_query
            .as_ref()
            .is_some_and(|f| f.query == query && page_number >= f.pages_ok)
        {
            if state.failing_query_faults.is_multiple_of(2) {
                "query-throttled"
            } else {
                "query-unavailable"
            }
        } else if may_fault
            && faults.throttle_every > 0
            && number % faults.throttle_every < faults.throttle_burst
        {
            "throttled"
        } else if may_fault
            && faults.server_error_every > 0
            && number % faults.server_error_every == 1
        {
            "server-error"
        } else if faults.slow_every > 0 && number % faults.slow_every == 2 {
            "slow"
        } else {
            "ok"
        };
        match outcome {
            "rate-limited" => state.rate_limited += 1,
            "query-throttled" | "query-unavailable" => state.failing_query_faults += 1,
            _ => {}
        }
        if matches!(outcome, "ok" | "slow") {
            state.faults_in_a_row.remove(&page);
        } else {
            *state.faults_in_a_row.entry(page).or_default() += 1;
        }
        state
            .lookup_calls
            .entry(region.to_string())
            .or_default()
            .push(LookupCall {
                arrived: now,
                query: query.clone(),
                outcome,
            });
        outcome
    };
    match outcome {
        "rate-limited" | "throttled" | "query-throttled" => {
            return json_error(400, "ThrottlingException", "Rate exceeded");
        }
        "server-error" => {
            return json_error(500, "InternalFailure", "stub: injected server error");
        }
        "query-unavailable" => {
            return json_error(
                503,
                "ServiceUnavailableException",
                "stub: query unavailable",
            );
        }
        "slow" => tokio::time::sleep(faults.slow_for).await,
        _ => {}
    }

    let start = seconds(body.get("StartTime")).unwrap_or(f64::MIN);
    let end = seconds(body.get("EndTime")).unwrap_or(f64::MAX);
    let matching: Vec<&Value> = index
        .by_attribute
        .get(&(region.to_string(), key.to_string(), value.to_string()))
        .into_iter()
        .flatten()
        .filter(|(t, _)| start <= *t && *t <= end)
        .map(|(_, event)| event)
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(max)
        .map(|e| (*e).clone())
        .collect();
    let mut answer = json!({ "Events": page });
    if offset + max < matching.len() {
        answer["NextToken"] = Value::String(format!("page-{}-{query}", offset + max));
    }
    response(
        200,
        &[("content-type", "application/x-amz-json-1.1")],
        answer.to_string().as_bytes(),
    )
}

/// The 79 recorded events as they are in the fixture files (tests/fixtures/cloudtrail), newest
/// first.
pub fn recorded_originals() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudtrail");
    let mut originals = Vec::new();
    for page in ["page1", "page2"] {
        let path = dir.join(format!("invictus-selected.lookup-events.{page}.json"));
        let text = std::fs::read_to_string(&path).expect("recorded events");
        let parsed: Value = serde_json::from_str(&text).expect("recorded events are JSON");
        originals.extend(parsed["Events"].as_array().cloned().unwrap_or_default());
    }
    originals
}

/// The 79 recorded events, moved so the earliest falls one hour into `period_start`, as
/// `copies` numbered copies spaced `spacing` apart (copy 0 keeps the original ids).
pub fn recorded_events(period_start_epoch: i64, copies: u32, spacing: Duration) -> Vec<Value> {
    let originals = recorded_originals();
    let earliest = originals
        .iter()
        .filter_map(|e| e["EventTime"].as_f64())
        .fold(f64::MAX, f64::min);
    let base_shift = (period_start_epoch + 3600) as f64 - earliest;
    let mut events = Vec::new();
    for copy in 0..copies {
        let shift = base_shift + (copy as f64) * spacing.as_secs_f64();
        for original in &originals {
            let mut event = original.clone();
            let time = original["EventTime"].as_f64().unwrap_or(earliest) + shift;
            let id = match copy {
                0 => original["EventId"].as_str().unwrap_or_default().to_string(),
                n => format!("{}-c{n}", original["EventId"].as_str().unwrap_or_default()),
            };
            event["EventTime"] = json!(time);
            event["EventId"] = json!(id);
            let mut record: Value =
                serde_json::from_str(original["CloudTrailEvent"].as_str().unwrap_or("{}"))
                    .unwrap_or(Value::Null);
            if let Some(object) = record.as_object_mut() {
                let at = chrono::DateTime::from_timestamp(time as i64, 0)
                    .expect("in range")
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                object.insert("eventTime".into(), json!(at));
                object.insert("eventID".into(), json!(id));
            }
            event["CloudTrailEvent"] = json!(record.to_string());
            events.push(event);
        }
    }
    events
}

/// `count` events of one source and name spaced evenly over `period` (epoch seconds, an hour
/// kept free at each end), in LookupEvents' shape, each with a readable record of `account`.
pub fn synthetic_events(
    period: (i64, i64),
    account: &str,
    source: &str,
    name: &str,
    read_only: bool,
    count: usize,
) -> Vec<Value> {
    let (start, end) = period;
    let spacing = (end - start - 7200) as f64 / count as f64;
    (0..count)
        .map(|i| {
            let time = start as f64 + 3600.0 + spacing * i as f64;
            let id = format!("{name}-{i:06}");
            let at = chrono::DateTime::from_timestamp(time as i64, 0)
                .expect("in range")
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let record = json!({"eventVersion": "1.08", "eventTime": at, "eventSource": source,
                "eventName": name, "eventID": id, "readOnly": read_only,
                "recipientAccountId": account,
                "userIdentity": {"type": "AssumedRole", "accountId": account,
                    "arn": format!("arn:aws:sts::{account}:assumed-role/scanner/s")},
                "requestParameters": {"resourceArn": "x"}});
            json!({"EventId": id, "EventName": name, "EventSource": source, "EventTime": time,
                "ReadOnly": read_only.to_string(), "Username": "s",
                "CloudTrailEvent": record.to_string()})
        })
        .collect()
}

/// The events as recorded by the account being collected: the records' `recipientAccountId`
/// and `userIdentity.accountId` become `account_id` (the recorded events come from another
/// account, 123837392027; LookupEvents only ever returns the caller's own account's events,
/// and the evaluation attributes a change to the record's account). Nothing else changes.
pub fn in_account(events: Vec<Value>, account_id: &str) -> Vec<Value> {
    events
        .into_iter()
        .map(|mut event| {
            let mut record: Value =
                serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap_or("{}"))
                    .unwrap_or(Value::Null);
            if let Some(object) = record.as_object_mut() {
                object.insert("recipientAccountId".into(), json!(account_id));
                if let Some(identity) = object
                    .get_mut("userIdentity")
                    .and_then(Value::as_object_mut)
                    .filter(|identity| identity.contains_key("accountId"))
                {
                    identity.insert("accountId".into(), json!(account_id));
                }
            }
            event["CloudTrailEvent"] = json!(record.to_string());
            event
        })
        .collect()
}

/// The events that belong in the change register, as (event source, event name): for API
/// Gateway (REST and V2) and CloudTrail the operations that change something, written down
/// from their API models in `tests/fixtures/aws-change-operations.json`; for KMS its changing
/// operations and the events it records itself, from the hand-written split of the KMS API
/// Reference in `tests/fixtures/kms-api-operations.json` (neither from the collector).
pub fn change_operations() -> Vec<(&'static str, &'static str)> {
    static NAMES: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            let aws: Value =
                serde_json::from_str(include_str!("../fixtures/aws-change-operations.json"))
                    .expect("the fixture is JSON");
            let kms: Value =
                serde_json::from_str(include_str!("../fixtures/kms-api-operations.json"))
                    .expect("the fixture is JSON");
            let elasticache: Value =
                serde_json::from_str(include_str!("../fixtures/elasticache-api-operations.json"))
                    .expect("the fixture is JSON");
            [
                (&aws, "apigateway_changes", "apigateway.amazonaws.com"),
                (&aws, "cloudtrail_changes", "cloudtrail.amazonaws.com"),
                (&elasticache, "changes", "elasticache.amazonaws.com"),
                (&kms, "changes", "kms.amazonaws.com"),
                (&kms, "recorded_by_aws", "kms.amazonaws.com"),
                (&aws, "logs_changes", "logs.amazonaws.com"),
                (&aws, "s3_changes", "s3.amazonaws.com"),
            ]
            .into_iter()
            .flat_map(|(doc, list, source)| {
                doc[list]
                    .as_array()
                    .expect("a list")
                    .iter()
                    .map(move |name| (source, name.as_str().expect("a name").to_string()))
                    .collect::<Vec<_>>()
            })
            .collect()
        })
        .iter()
        .map(|(source, name)| (*source, name.as_str()))
        .collect()
}

/// The event sources, in the order of the query plan.
pub const SOURCES: [&str; 6] = [
    "apigateway.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "elasticache.amazonaws.com",
    "kms.amazonaws.com",
    "logs.amazonaws.com",
    "s3.amazonaws.com",
];

/// LookupEvents events a page.
pub const PAGE: usize = 50;

/// The events of `source` in `[start, end]` in the stub's order (newest first).
fn source_events<'a>(events: &'a [Value], source: &str, start: i64, end: i64) -> Vec<&'a Value> {
    let mut found: Vec<&Value> = events
        .iter()
        .filter(|e| e["EventSource"] == source)
        .filter(|e| {
            let t = e["EventTime"].as_f64().unwrap_or(0.0);
            (start as f64) <= t && t <= (end as f64)
        })
        .collect();
    found.sort_by(|a, b| {
        let (ta, tb) = (
            a["EventTime"].as_f64().unwrap_or(0.0),
            b["EventTime"].as_f64().unwrap_or(0.0),
        );
        tb.partial_cmp(&ta)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a["EventId"].as_str().cmp(&b["EventId"].as_str()))
    });
    found
}

/// The sources a correct collection searches by event name: those with more than one page of
/// events (read or write) in `[start, end]`, in plan order.
pub fn sources_searched_by_name(events: &[Value], start: i64, end: i64) -> Vec<&'static str> {
    SOURCES
        .into_iter()
        .filter(|source| source_events(events, source, start, end).len() > PAGE)
        .collect()
}

/// The events a correct collection keeps, inside `[start, end)`: of a source with one page of
/// events at most, every write event; of a busier one, the write events of that first page
/// and every event whose name is one of `changes`.
pub fn expected_kept_ids(
    events: &[Value],
    start: i64,
    end: i64,
    changes: &[(&str, &str)],
) -> BTreeSet<String> {
    let in_period = |e: &Value| {
        let t = e["EventTime"].as_f64().unwrap_or(0.0);
        (start as f64) <= t && t < (end as f64)
    };
    let write = |e: &Value| e["ReadOnly"].as_str() != Some("true");
    let mut kept = BTreeSet::new();
    for source in SOURCES {
        let of_source = source_events(events, source, start, end);
        let first_page = of_source.iter().take(PAGE);
        kept.extend(
            first_page
                .filter(|e| write(e) && in_period(e))
                .filter_map(|e| e["EventId"].as_str().map(str::to_string)),
        );
        if of_source.len() > PAGE {
            kept.extend(
                of_source
                    .iter()
                    .filter(|e| {
                        let name = e["EventName"].as_str().unwrap_or_default();
                        changes.contains(&(source, name)) && in_period(e)
                    })
                    .filter_map(|e| e["EventId"].as_str().map(str::to_string)),
            );
        }
    }
    kept
}

/// The last calendar month that ended more than a day ago, as (start, end) epoch seconds:
/// the previous month, except on a month's first day, when it is the one before. Tests pass
/// it to the binary as `--period`; a month that ended within the settle time (60 min by
/// default) is refused, so the plain previous month would fail every test in the first hour
/// of a month. The binary's own default is worked out at another instant anyway.
pub fn previous_month() -> (i64, i64) {
    use chrono::{Datelike, TimeZone, Utc};
    let settled = Utc::now() - chrono::Duration::days(1);
    let this_month = Utc
        .with_ymd_and_hms(settled.year(), settled.month(), 1, 0, 0, 0)
        .single()
        .expect("valid");
    let start = this_month
        .checked_sub_months(chrono::Months::new(1))
        .expect("valid");
    (start.timestamp(), this_month.timestamp())
}

/// POSTs to moto's control API (`/moto-api/reset`, `/moto-api/seed?a=42`).
pub fn moto_post(url: &str, path: &str) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("moto is reachable");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
        "{answer}"
    );
}
