//! Document control of a report (EU GMP Annex 11 §4.8 / §7, 21 CFR 11.10(e)): who owns the
//! system, which revision this is and which report it supersedes, which reading decides the
//! verdict, when the report was rendered (as opposed to when the evidence was collected),
//! and which configuration values it used and where each came from. Also the scope and
//! methodology statements every renderer shows, so silence cannot be read as compliance.
//!
//! The report-time parameters (`DocumentSettings`) are sealed in the manifest
//! (`render.document`), so `sign` and `verify` re-render a package byte for byte.

use serde::{Deserialize, Serialize};

use std::borrow::Cow;

use crate::controls::selection::{ControlSelection, NotEvaluated, SelectionReport};
use crate::controls::{ChangeRow, Finding, Status, VerdictReading, View};
use crate::evidence::{EventsFrom, EvidenceSnapshot, Policy, Timestamp};
use crate::report::LookupQueryRow;

/// The report-time parameters of a package, kept in its manifest. A manifest without them
/// (written before they existed) reads as [`DocumentSettings::unrecorded`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_owner: Option<String>,
    /// 1 for a first report of a period; N+1 for a report that supersedes revision N.
    pub revision: u32,
    /// The report id of the revision this one supersedes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    pub verdict_reading: VerdictReading,
    /// When `report` ran. Re-rendering (sign, verify) keeps this value.
    pub rendered_at: Timestamp,
    /// The settings above given on the command line (`--system-owner`, …); the others are
    /// defaults. Shown as each value's source in the document control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_flags: Vec<String>,
    /// The controls the requester chose to evaluate (`--checks`, `--exclude-checks`);
    /// absent: every control of the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_selection: Option<ControlSelection>,
}

impl DocumentSettings {
    /// What a package written before document control was recorded was rendered with: one
    /// revision, the strict reading, rendered "at" its collection time.
    pub fn unrecorded(collected_at: Timestamp) -> Self {
        Self {
            system_owner: None,
            revision: 1,
            supersedes: None,
            verdict_reading: VerdictReading::Strict,
            rendered_at: collected_at,
            from_flags: Vec::new(),
            control_selection: None,
        }
    }

    fn source(&self, flag: &str) -> Source {
        if self.from_flags.iter().any(|f| f == flag) {
            Source::Flag
        } else {
            Source::Default
        }
    }
}

/// The revision a new report supersedes, as read from its package.
#[derive(Debug, Clone, PartialEq)]
pub struct Superseded {
    pub report_id: String,
    pub revision: u32,
}

/// Where a configuration value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A command-line flag of `report`.
    Flag,
    /// Recorded in the evidence snapshot (set when it was collected).
    Snapshot,
    /// The tool's default.
    Default,
}

impl Source {
    /// A snapshot policy setting that is optional: the snapshot's when it names one, the
    /// built-in default otherwise.
    fn of_snapshot_setting<T>(value: &Option<T>) -> Source {
        if value.is_some() {
            Source::Snapshot
        } else {
            Source::Default
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Snapshot => "snapshot",
            Source::Default => "default",
        }
    }
}

/// One configuration or policy value the report used.
#[derive(Debug, Clone, Serialize)]
pub struct SettingUsed {
    pub name: &'static str,
    pub value: String,
    pub source: Source,
}

impl SettingUsed {
    /// `strict (flag)`, as the document control shows it.
    pub fn display(&self) -> String {
        format!("{} ({})", self.value, self.source.as_str())
    }
}

/// What the reading that does not decide the verdict found (so no FAIL of it is dropped
/// silently).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NonDeciding {
    pub reading: &'static str,
    pub fail: usize,
    pub evidence_gap: usize,
}

/// The document control block: what the cover and the document-control page show.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentControl {
    pub system_owner: Option<String>,
    pub revision: u32,
    pub supersedes: Option<String>,
    pub verdict_reading: VerdictReading,
    pub rendered_at: Timestamp,
    pub settings: Vec<SettingUsed>,
    /// `None` when both readings decide (strict).
    pub non_deciding: Option<NonDeciding>,
    /// Which controls were and were not evaluated, when the requester chose (`None`: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_selection: Option<SelectionReport>,
}

impl DocumentControl {
    pub fn new(
        settings: &DocumentSettings,
        snapshot_policy: &Policy,
        findings: &[Finding],
        change_records: Option<&super::ChangeRecordsSource>,
    ) -> Self {
        let reading = settings.verdict_reading;
        let non_deciding = (reading == VerdictReading::Lenient).then(|| {
            let ignored = findings.iter().filter(|f| !reading.decides(f.view));
            let mut counts = NonDeciding {
                reading: View::AwsConfig.label(),
                ..Default::default()
            };
            for finding in ignored {
                match finding.status {
                    Status::Fail => counts.fail += 1,
                    Status::EvidenceGap => counts.evidence_gap += 1,
                    _ => {}
                }
            }
            counts
        });
        let mut used = vec![
            SettingUsed {
                name: "System owner",
                value: settings
                    .system_owner
                    .clone()
                    .unwrap_or_else(|| "not stated".to_string()),
                source: settings.source("--system-owner"),
            },
            SettingUsed {
                name: "Verdict reading",
                value: reading.as_str().to_string(),
                source: settings.source("--verdict-reading"),
            },
            SettingUsed {
                name: "Revision",
                value: settings.revision.to_string(),
                source: settings.source("--supersedes"),
            },
            SettingUsed {
                name: "KMS key rotation period, at most (days)",
                value: snapshot_policy.max_rotation_days.to_string(),
                source: Source::Snapshot,
            },
            SettingUsed {
                name: "CloudTrail delivery age, at most (hours)",
                value: snapshot_policy.max_delivery_age_hours().to_string(),
                source: Source::of_snapshot_setting(&snapshot_policy.max_delivery_age_hours),
            },
            SettingUsed {
                name: "Audit log retention, at least (days)",
                value: snapshot_policy.min_log_retention_days().to_string(),
                source: Source::of_snapshot_setting(&snapshot_policy.min_log_retention_days),
            },
            SettingUsed {
                name: "S3 buckets holding GxP records (data events)",
                value: if snapshot_policy.gxp_buckets.is_empty() {
                    "none listed".to_string()
                } else {
                    snapshot_policy.gxp_buckets.join(", ")
                },
                source: Source::Snapshot,
            },
        ];
        if let Some(records) = change_records {
            used.push(SettingUsed {
                name: "Change records (Annex 11 §10)",
                value: records.describe(),
                source: Source::Flag,
            });
        }
        if let Some(selection) = &settings.control_selection {
            used.push(SettingUsed {
                name: "Controls evaluated (--checks / --exclude-checks)",
                value: selection.evaluated_text(),
                source: Source::Flag,
            });
            used.push(SettingUsed {
                name: "Controls NOT evaluated (the requester's choice)",
                value: selection.not_evaluated_text(),
                source: Source::Flag,
            });
        }
        DocumentControl {
            system_owner: settings.system_owner.clone(),
            revision: settings.revision,
            supersedes: settings.supersedes.clone(),
            verdict_reading: reading,
            rendered_at: settings.rendered_at,
            settings: used,
            non_deciding,
            control_selection: settings
                .control_selection
                .as_ref()
                .map(ControlSelection::report),
        }
    }

    /// `Revision 2, supersedes GXP-…` / `Revision 1 (first issue)`.
    pub fn revision_text(&self) -> String {
        match &self.supersedes {
            Some(id) => format!("Revision {}, supersedes {id}", self.revision),
            None => format!("Revision {} (first issue)", self.revision),
        }
    }

    /// The reading statement of the cover and the methodology.
    pub fn reading_text(&self) -> String {
        let controls = crate::report::two_reading_controls();
        let mut text = match self.verdict_reading {
            VerdictReading::Strict => format!(
                "Verdict reading: strict. For the two-reading controls ({controls}) the AWS \
                 Config (strict) reading decides the verdict and the outcome, and a Security Hub \
                 (lenient) FAIL counts too: every lenient FAIL condition is also a strict one, so \
                 no FAIL is dropped."
            ),
            VerdictReading::Lenient => format!(
                "Verdict reading: lenient (Security Hub). For the two-reading controls \
                 ({controls}) only the Security Hub reading decides the verdict and the outcome; \
                 the AWS Config (strict) reading is shown beside it and does not decide."
            ),
        };
        if let Some(other) = &self.non_deciding {
            text.push_str(&format!(
                " The non-deciding {} reading found {} FAIL and {} EVIDENCE_GAP result(s).",
                other.reading, other.fail, other.evidence_gap
            ));
        }
        if let Some(selection) = &self.control_selection {
            text.push(' ');
            text.push_str(&selection.requested.methodology_text());
        }
        text
    }
}

/// What one service's evidence covers.
#[derive(Debug, Clone, Serialize)]
pub struct Covered {
    pub service: &'static str,
    pub resource_type: &'static str,
    pub count: usize,
}

/// Something the report does not look at, and why it matters.
#[derive(Debug, Clone, Serialize)]
pub struct NotCovered {
    pub what: Cow<'static, str>,
    pub consequence: Cow<'static, str>,
}

impl NotCovered {
    /// A control of the catalog the requester left out (`--checks`, `--exclude-checks`):
    /// named in the scope with everything else the report does not look at.
    fn control(not_evaluated: &NotEvaluated) -> Self {
        NotCovered {
            what: Cow::Owned(format!(
                "Control {}: {}",
                not_evaluated.control_id, not_evaluated.title
            )),
            consequence: Cow::Borrowed(
                "not evaluated, at the requester's choice (--checks / --exclude-checks): the report and its verdict say nothing about it",
            ),
        }
    }
}

/// What the report does not cover: nothing here is evaluated, so no result about it (and no
/// silence) may be read as compliance.
pub const NOT_COVERED: &[NotCovered] = &[
    NotCovered {
        what: Cow::Borrowed(
            "What the authorizers of API Gateway v2 (HTTP and WebSocket) routes check",
        ),
        consequence: Cow::Borrowed(
            "routes are judged on their authorization type and stages on access logging (apigw-v2-route-authorization, apigw-v2-access-logging); v2 APIs have no cache, so the caching control lists them as NOT_APPLICABLE",
        ),
    },
    NotCovered {
        what: Cow::Borrowed("The content of CloudTrail data events and Insights events"),
        consequence: Cow::Borrowed(
            "whether a trail logs the GxP buckets' data events is evaluated (cloudtrail-s3-data-events), but the change register reads management events only (from LookupEvents or the trail's log files); data-plane access itself (S3 objects, Lambda invocations) is not read",
        ),
    },
    NotCovered {
        what: Cow::Borrowed("IAM (users, roles, policies, access keys)"),
        consequence: Cow::Borrowed(
            "who may change the controls is not evaluated; the change register names who did",
        ),
    },
    NotCovered {
        what: Cow::Borrowed("The trail bucket's access points, object ACLs and Object Lock mode"),
        consequence: Cow::Borrowed(
            "cloudtrail-bucket-protection judges the bucket's policy, ACL and Block Public Access, access logging, deletion protection (a default retention of at least the minimum log retention, or MFA delete) and lifecycle expiry; GOVERNANCE-mode retention, which privileged users can bypass, counts",
        ),
    },
    NotCovered {
        what: Cow::Borrowed("CloudWatch alarms and metric filters on the trail's log group"),
        consequence: Cow::Borrowed(
            "cloudtrail-cloudwatch-logs judges that the trail delivers to a retained, KMS-encrypted log group; whether anyone is alerted to a change or a logging gap is not evaluated",
        ),
    },
    NotCovered {
        what: Cow::Borrowed("ElastiCache Memcached clusters and serverless caches"),
        consequence: Cow::Borrowed(
            "they are not replication groups, so elasticache-encryption-at-rest does not list them (serverless caches are always encrypted at rest)",
        ),
    },
    NotCovered {
        what: Cow::Borrowed("AWS Config rules and Security Hub findings of the account"),
        consequence: Cow::Borrowed(
            "the report applies their readings itself; it does not read their results",
        ),
    },
    NotCovered {
        what: Cow::Borrowed("Other AWS services, accounts and regions than those listed above"),
        consequence: Cow::Borrowed("nothing outside the scope table is evaluated"),
    },
];

/// The report's scope: what was looked at, with counts, and what was not.
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    pub covered: Vec<Covered>,
    pub not_covered: Vec<NotCovered>,
}

impl Scope {
    /// The scope with the controls the requester left out first among what is not covered.
    pub fn name_left_out_controls(&mut self, selection: &SelectionReport) {
        let left_out = selection.not_evaluated.iter().map(NotCovered::control);
        self.not_covered = left_out.chain(NOT_COVERED.iter().cloned()).collect();
    }

    pub fn of(snapshot: &EvidenceSnapshot, changes: &[ChangeRow]) -> Self {
        let regions = || {
            snapshot
                .accounts
                .iter()
                .flat_map(|a| a.regions.iter().chain(&a.trail_home_regions))
        };
        let apigateway = || regions().filter_map(|r| r.apigateway.as_ref());
        let rest_apis: usize = apigateway().map(|a| a.rest_apis.len()).sum();
        let stages: usize = apigateway()
            .flat_map(|a| &a.rest_apis)
            .map(|a| a.stages.len())
            .sum();
        let v2_apis: usize = apigateway()
            .map(|a| a.v2_apis.as_ref().map_or(0, Vec::len))
            .sum();
        let keys: usize = snapshot
            .accounts
            .iter()
            .flat_map(|a| &a.regions)
            .filter_map(|r| r.kms.as_ref())
            .map(|k| k.keys.len())
            .sum();
        let replication_groups: usize = snapshot
            .accounts
            .iter()
            .flat_map(|a| &a.regions)
            .filter_map(|r| r.elasticache.as_ref())
            .map(|e| e.replication_groups.len())
            .sum();
        let mut trail_arns: Vec<&str> = regions()
            .filter_map(|r| r.cloudtrail.as_ref())
            .flat_map(|c| &c.trails)
            .filter_map(|t| t.trail.trail_arn.as_deref())
            .collect();
        trail_arns.sort();
        trail_arns.dedup();
        let trail_buckets: usize = snapshot
            .accounts
            .iter()
            .filter_map(|a| a.trail_buckets.as_ref())
            .map(|b| b.buckets.len())
            .sum();
        let mut log_groups: Vec<&str> = regions()
            .filter_map(|r| r.cloudtrail.as_ref())
            .flat_map(|c| &c.trails)
            .filter(|t| t.log_group.is_some())
            .filter_map(|t| t.trail.cloud_watch_logs_log_group_arn.as_deref())
            .collect();
        log_groups.sort();
        log_groups.dedup();
        Scope {
            covered: vec![
                Covered {
                    service: "API Gateway",
                    resource_type: "REST APIs (v1)",
                    count: rest_apis,
                },
                Covered {
                    service: "API Gateway",
                    resource_type: "REST API stages",
                    count: stages,
                },
                Covered {
                    service: "API Gateway",
                    resource_type: "HTTP and WebSocket APIs (v2)",
                    count: v2_apis,
                },
                Covered {
                    service: "KMS",
                    resource_type: "keys (customer and AWS managed)",
                    count: keys,
                },
                Covered {
                    service: "ElastiCache",
                    resource_type: "replication groups (Valkey, Redis OSS)",
                    count: replication_groups,
                },
                Covered {
                    service: "CloudTrail",
                    resource_type: "trails",
                    count: trail_arns.len(),
                },
                Covered {
                    service: "S3",
                    resource_type: "trail buckets",
                    count: trail_buckets,
                },
                Covered {
                    service: "CloudWatch Logs",
                    resource_type: "trails' log groups",
                    count: log_groups.len(),
                },
                Covered {
                    service: "CloudTrail",
                    resource_type: "management write events of API Gateway, CloudTrail, CloudWatch Logs (log group settings), ElastiCache, KMS and S3 (bucket settings) in the period",
                    count: changes.len(),
                },
            ],
            not_covered: NOT_COVERED.to_vec(),
        }
    }
}

/// The AWS API calls of one service the collector makes (`crates/aws/src/collect/`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ApiCalls {
    pub service: &'static str,
    pub calls: &'static str,
}

/// The CloudTrail row of `API_CALLS` when the change events came from the trail's log files.
pub const CLOUDTRAIL_CALLS_WITH_LOG_FILES: &str = "DescribeTrails, GetTrailStatus, GetEventSelectors (per trail); \
     no LookupEvents: the change events were read from the trail's log files (see below)";

/// Every call the collector makes; all are read-only (List/Get/Describe/Lookup).
pub const API_CALLS: &[ApiCalls] = &[
    ApiCalls {
        service: "STS",
        calls: "GetCallerIdentity (per account: who collected)",
    },
    ApiCalls {
        service: "Account",
        calls: "ListRegions (the regions enabled in the account, when no --regions are given)",
    },
    ApiCalls {
        service: "API Gateway",
        calls: "GetRestApis, GetStages (per API), GetDeployment with embed=apisummary (per stage and canary deployment), GetAccount (CloudWatch role)",
    },
    ApiCalls {
        service: "API Gateway v2",
        calls: "GetApis, GetStages and GetRoutes (per API)",
    },
    ApiCalls {
        service: "KMS",
        calls: "ListKeys, DescribeKey, ListAliases, GetKeyRotationStatus, ListKeyRotations (per key)",
    },
    ApiCalls {
        service: "ElastiCache",
        calls: "DescribeReplicationGroups",
    },
    ApiCalls {
        service: "CloudTrail",
        calls: "DescribeTrails, GetTrailStatus, GetEventSelectors (per trail), LookupEvents (the change events, see the plan)",
    },
    ApiCalls {
        service: "CloudWatch Logs",
        calls: "DescribeLogGroups (per trail that delivers to a log group, in its home region)",
    },
    ApiCalls {
        service: "S3",
        calls: "ListBuckets (when the policy lists GxP buckets); per trail bucket GetBucketLocation, GetBucketPolicy, GetBucketAcl, GetPublicAccessBlock, GetBucketLogging, GetObjectLockConfiguration, GetBucketVersioning, GetBucketLifecycleConfiguration; s3control GetPublicAccessBlock (per account)",
    },
];

/// The LookupEvents plan: how many queries and calls were made, and what they cost.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LookupPlan {
    pub account_regions: usize,
    pub queries: usize,
    pub calls: u64,
    pub events_returned: u64,
    pub events_kept: u64,
}

impl LookupPlan {
    pub fn of(queries: &[LookupQueryRow]) -> Self {
        let mut places: Vec<(&str, &str)> = queries
            .iter()
            .map(|q| (q.account_id.as_str(), q.region.as_str()))
            .collect();
        places.sort();
        places.dedup();
        LookupPlan {
            account_regions: places.len(),
            queries: queries.len(),
            calls: queries.iter().map(|q| q.calls).sum(),
            events_returned: queries.iter().map(|q| q.events_returned).sum(),
            events_kept: queries.iter().map(|q| q.events_kept).sum(),
        }
    }

    pub fn text(&self) -> String {
        format!(
            "LookupEvents was queried in {} account-region(s), from the period start to after the settings \
             were read: {} queries (per service one EventSource page; for a service with more events, one \
             EventName query per write operation it has), {} calls (pages of up to 50 events), {} events \
             returned, {} write events kept (per account and region: \"What was searched\", with the change \
             register). {LOOKUP_COST}",
            self.account_regions, self.queries, self.calls, self.events_returned, self.events_kept
        )
    }
}

/// Cost and rate of LookupEvents. Sources: the CloudTrail API Reference, LookupEvents ("two
/// per second, per account, per Region",
/// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html) and
/// the CloudTrail User Guide, How CloudTrail works ("no CloudTrail charges for viewing the
/// Event history page or running the lookup-events command",
/// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html).
pub const LOOKUP_COST: &str = "LookupEvents is rate limited by AWS to two requests per second per account and region \
     (the collector paces its calls at 1.92 per second), so the collection takes at least calls / 2 seconds per account-region; \
     CloudTrail makes no charge for looking up management events in the Event history.";

/// How the posture results relate to the period (docs/controls.md, "The period rule").
pub const PERIOD_STATEMENT: &str = "Posture results cover the whole period as reconstructed from the change events: \
     the settings read at collection time and every successful change event collected up to that time divide \
     each resource's period into versions, and a control PASSes only if every version overlapping the period \
     passes (a FAIL names its interval). What cannot be proven for part of the period (a setting changed with \
     its earlier value unrecorded, a failed or incomplete lookup) is EVIDENCE_GAP, never PASS.";

/// What was read of the trail's log files, over every account-region whose change events came
/// from them (`CloudTrailEvidence::events_from`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrailLogReading {
    pub account_regions: usize,
    /// The folders read (one per collection, normally).
    pub locations: Vec<String>,
    pub files_read: u64,
    pub records_read: u64,
    pub records_kept: u64,
}

impl TrailLogReading {
    /// The reading of `snapshot`'s log files, if any of its regions' events came from them.
    pub fn of(snapshot: &EvidenceSnapshot) -> Option<Self> {
        let mut reading = TrailLogReading::default();
        let reads = snapshot
            .accounts
            .iter()
            .flat_map(|a| &a.regions)
            .filter_map(|r| r.cloudtrail.as_ref()?.events_from.as_ref());
        for read in reads.filter_map(|from| match from {
            EventsFrom::TrailLogFiles(read) => Some(read),
            EventsFrom::Athena(_) => None,
        }) {
            reading.account_regions += 1;
            if !reading.locations.contains(&read.location) {
                reading.locations.push(read.location.clone());
            }
            reading.files_read += read.files_read;
            reading.records_read += read.records_read;
            reading.records_kept += read.records_kept;
        }
        reading.locations.sort();
        (reading.account_regions > 0).then_some(reading)
    }

    pub fn text(&self) -> String {
        format!(
            "The change events were read from the trail's log files in {} (CloudTrail's .json.gz files, \
             AWSLogs/[ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/), not from LookupEvents, in {} account-region(s): \
             every file of the period's days, one day before and the days after up to when the settings were read \
             ({} files, {} records, {} write events of the change-event sources kept by their event time; an event \
             delivered twice, e.g. by an organization trail and an account trail, counted once). A day without log \
             files, a file that cannot be read to its end and a record that cannot be judged are evidence gaps of \
             the change events. Whether the files are complete and unaltered is validated trail by trail from CloudTrail's \
             signed digest files: control cloudtrail-log-integrity.",
            self.locations.join(", "),
            self.account_regions,
            self.files_read,
            self.records_read,
            self.records_kept
        )
    }
}

/// The CloudTrail row of `API_CALLS` when the change events came from an Athena query.
pub const CLOUDTRAIL_CALLS_WITH_ATHENA: &str = "DescribeTrails, GetTrailStatus, GetEventSelectors (per trail); \
     no LookupEvents: the change events came from one Athena query over the trail's table (see below)";

/// The Athena row of `API_CALLS` when the change events came from an Athena query.
pub const ATHENA_CALLS: &str = "StartQueryExecution (once per collection), GetQueryExecution (until the query ended), GetQueryResults (every page)";

/// The Athena queries the change events came from, over every account-region whose events
/// came from one (`EventsFrom::Athena`; normally one query shared by all).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AthenaReading {
    pub account_regions: usize,
    /// `WORKGROUP: DATABASE.TABLE, query ID (STATE), N rows, SHA-256 …` per distinct query.
    pub queries: Vec<String>,
    pub records_kept: u64,
}

impl AthenaReading {
    /// The Athena queries of `snapshot`, if any of its regions' events came from one.
    pub fn of(snapshot: &EvidenceSnapshot) -> Option<Self> {
        let mut reading = AthenaReading::default();
        let queries = snapshot
            .accounts
            .iter()
            .flat_map(|a| a.regions.iter().chain(&a.trail_home_regions))
            .filter_map(|r| match r.cloudtrail.as_ref()?.events_from.as_ref()? {
                EventsFrom::Athena(query) => Some(query),
                EventsFrom::TrailLogFiles(_) => None,
            });
        for query in queries {
            reading.account_regions += 1;
            reading.records_kept += query.records_kept;
            let described = format!(
                "workgroup {}, table {}, query {} ({}), {} result rows{}{}",
                query.workgroup,
                query.table,
                query.query_execution_id.as_deref().unwrap_or("not started"),
                query.state,
                query.rows,
                query
                    .data_scanned_bytes
                    .map(|bytes| format!(", {bytes} bytes scanned"))
                    .unwrap_or_default(),
                query
                    .result_sha256
                    .as_deref()
                    .map(|sha| format!(", result SHA-256 {sha}"))
                    .unwrap_or_default(),
            );
            if !reading.queries.contains(&described) {
                reading.queries.push(described);
            }
        }
        (reading.account_regions > 0).then_some(reading)
    }

    pub fn text(&self) -> String {
        format!(
            "The change events were read with Amazon Athena from the trail's table (the documented CloudTrail \
             table with partition projection), not from LookupEvents, in {} account-region(s): one query for the \
             whole collection over the scoped accounts' and regions' partitions, from the day before the period \
             to the day after the settings were read ({}). The query only narrows the records to the change-event \
             sources; every returned row is rebuilt into its CloudTrail record and judged by the same rules table \
             as LookupEvents and the log files ({} events of the change register kept by their event time; an \
             event returned twice counted once). A second query counts the records per account, region and day, \
             so a day the table does not hold is not taken for a day without changes. A query that did not \
             succeed, a row that cannot be read and a day without records are evidence gaps of the change events. The log files' integrity (CloudTrail's digest files) is not \
             checked here.",
            self.account_regions,
            self.queries.join("; "),
            self.records_kept
        )
    }
}

/// The heading of the change-event method when LookupEvents was queried alone.
pub const LOOKUP_EVENTS_HEADING: &str = "Change events (LookupEvents plan and cost)";

fn is_lookup_events_heading(heading: &&'static str) -> bool {
    *heading == LOOKUP_EVENTS_HEADING
}

/// The methodology section.
#[derive(Debug, Clone, Serialize)]
pub struct Methodology {
    pub api_calls: Vec<ApiCalls>,
    pub lookup_plan: LookupPlan,
    /// Set when some region's change events came from the trail's log files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trail_logs: Option<TrailLogReading>,
    /// Set when some region's change events came from an Athena query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub athena: Option<AthenaReading>,
    /// The heading of the change-event method: LookupEvents, the log files, or both. Left out
    /// of results.json for LookupEvents, whose results keep their earlier shape (the HTML
    /// template falls back to the same heading).
    #[serde(skip_serializing_if = "is_lookup_events_heading")]
    pub change_events_heading: &'static str,
    pub lookup_plan_text: String,
    pub reading_text: String,
    pub period_statement: &'static str,
}

impl Methodology {
    pub fn new(
        queries: &[LookupQueryRow],
        trail_logs: Option<TrailLogReading>,
        athena: Option<AthenaReading>,
        document: &DocumentControl,
    ) -> Self {
        let lookup_plan = LookupPlan::of(queries);
        let (change_events_heading, lookup_plan_text) = match (&trail_logs, &athena) {
            (None, None) => (LOOKUP_EVENTS_HEADING, lookup_plan.text()),
            (Some(logs), None) if queries.is_empty() => {
                ("Change events (the trail's log files)", logs.text())
            }
            (Some(logs), None) => (
                "Change events (LookupEvents and the trail's log files)",
                format!("{} {}", logs.text(), lookup_plan.text()),
            ),
            (None, Some(athena)) if queries.is_empty() => (
                "Change events (Athena query of the trail's table)",
                athena.text(),
            ),
            (None, Some(athena)) => (
                "Change events (LookupEvents and Athena)",
                format!("{} {}", athena.text(), lookup_plan.text()),
            ),
            (Some(logs), Some(athena)) => (
                "Change events (the trail's log files and Athena)",
                format!("{} {} {}", logs.text(), athena.text(), lookup_plan.text()),
            ),
        };
        let mut api_calls = API_CALLS.to_vec();
        if queries.is_empty() {
            // LookupEvents was not called: say so in the list of calls too.
            let cloudtrail_calls = match (&trail_logs, &athena) {
                (_, Some(_)) => Some(CLOUDTRAIL_CALLS_WITH_ATHENA),
                (Some(_), None) => Some(CLOUDTRAIL_CALLS_WITH_LOG_FILES),
                (None, None) => None,
            };
            if let Some(calls) = cloudtrail_calls {
                for row in api_calls.iter_mut().filter(|r| r.service == "CloudTrail") {
                    row.calls = calls;
                }
            }
        }
        if athena.is_some() {
            api_calls.push(ApiCalls {
                service: "Athena",
                calls: ATHENA_CALLS,
            });
        }
        Methodology {
            api_calls,
            lookup_plan_text,
            lookup_plan,
            trail_logs,
            athena,
            change_events_heading,
            reading_text: document.reading_text(),
            period_statement: PERIOD_STATEMENT,
        }
    }
}

/// What the report id is: the period, the start of the evidence SHA-256 and, from the
/// second revision on, `-r<N>`, so each revision of a period has its own id even when it
/// re-renders the same evidence (`GXP-2026-10-1a2b3c4d5e6f-r2`).
/// The inputs besides the evidence that change what a report says, as the report id's tag
/// names them: the change records' SHA-256, the verdict reading, the system owner, the
/// control selection (and, added by `ReportModel::with_previous_period`, the previous
/// period's report id).
pub fn id_inputs(settings: &DocumentSettings, change_records_sha256: Option<&str>) -> Vec<String> {
    let parts = [
        change_records_sha256.map(|sha| format!("change-records={sha}")),
        (settings.verdict_reading != VerdictReading::Strict)
            .then(|| format!("verdict-reading={}", settings.verdict_reading.as_str())),
        settings
            .system_owner
            .as_ref()
            .map(|owner| format!("system-owner={owner}")),
        settings
            .control_selection
            .as_ref()
            .map(ControlSelection::id_input),
    ];
    parts.into_iter().flatten().collect()
}

/// The part of a report id that tells apart reports of the same evidence that say different
/// things: `-` and 6 hex of a SHA-256 over `id_inputs` — empty when none is given (a report
/// of the evidence alone keeps the id `GXP-<period>-<evidence>`, as packages before these
/// inputs had). Two reports with one id are then the same document, rendered at different
/// times.
pub fn inputs_tag(given: &[String]) -> String {
    if given.is_empty() {
        return String::new();
    }
    let digest = crate::evidence::sha256_hex(given.join("\n").as_bytes());
    format!("-{}", &digest[..6])
}

pub fn revision_suffix(revision: u32) -> String {
    if revision > 1 {
        format!("-r{revision}")
    } else {
        String::new()
    }
}

/// The ARN of an API Gateway REST API stage (API Gateway resource ARNs have no account id).
pub fn stage_arn(region: &str, api_id: &str, stage: &str) -> String {
    format!(
        "arn:{}:apigateway:{region}::/restapis/{api_id}/stages/{stage}",
        partition(region)
    )
}

/// The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`), as ARNs name it.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_after_the_first_have_their_own_id_suffix() {
        assert_eq!(revision_suffix(1), "");
        assert_eq!(revision_suffix(2), "-r2");
    }

    #[test]
    fn stage_arns_follow_the_partition() {
        assert_eq!(
            stage_arn("eu-central-1", "a1", "prod"),
            "arn:aws:apigateway:eu-central-1::/restapis/a1/stages/prod"
        );
        assert!(stage_arn("cn-north-1", "a1", "p").starts_with("arn:aws-cn:"));
    }

    #[test]
    fn an_old_manifest_reads_as_today_s_rendering() {
        let at = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
        let settings = DocumentSettings::unrecorded(at);
        assert_eq!(settings.revision, 1);
        assert_eq!(settings.verdict_reading, VerdictReading::Strict);
        assert_eq!(settings.rendered_at, at);
    }
}
