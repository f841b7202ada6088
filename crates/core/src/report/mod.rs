//! The report model: one evaluated, sorted, self-describing document that every renderer
//! (PDF, HTML, CSV) and `results.json` present. Shared wording and formatting live here so
//! the three forms say the same thing.

pub mod accounts;
pub mod diff;
pub mod document;
pub mod render;
pub mod table;

use serde::Serialize;

use crate::controls::change_records::{ChangeRecordsFile, RecordOutcome};
use crate::controls::selection::ControlSelection;
use crate::controls::{
    self, CATALOG, ChangeClass, ChangeRow, Control, Evaluation, Finding, Status, Verdict,
    VerdictReading, View,
    apigateway::{MethodRow, StageRow},
    cloudtrail::{LoggingGap, TrailRow},
    elasticache::ReplicationGroupRow,
    kms::KeyRow,
    s3::BucketRow,
};
use crate::evidence::{EvidenceGap, EvidenceSnapshot, LoadedEvidence, Period, Policy, Timestamp};
use document::{DocumentControl, DocumentSettings, Methodology, Scope};

/// Version of the `results.json` layout. 2: every finding carries its stable id
/// (`Finding::id`) and findings.csv a `finding_id` column.
pub const RESULTS_FORMAT: u32 = 2;
/// The layout of packages written before finding ids: re-rendered as they were (verify).
pub const RESULTS_FORMAT_WITHOUT_IDS: u32 = 1;

/// The report's findings, in report order. Results format 2 writes each finding with its
/// stable id first; a package rendered in format 1 is re-rendered without ids, byte for byte.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    list: Vec<Finding>,
    with_ids: bool,
}

impl Findings {
    /// Whether results.json and findings.csv carry each finding's id.
    pub fn with_ids(&self) -> bool {
        self.with_ids
    }
}

impl std::ops::Deref for Findings {
    type Target = Vec<Finding>;
    fn deref(&self) -> &Vec<Finding> {
        &self.list
    }
}

impl std::ops::DerefMut for Findings {
    fn deref_mut(&mut self) -> &mut Vec<Finding> {
        &mut self.list
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Finding;
    type IntoIter = std::slice::Iter<'a, Finding>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// A finding as results format 2 writes it: its id, then its fields.
#[derive(Serialize)]
struct IdentifiedFinding<'a> {
    id: String,
    #[serde(flatten)]
    finding: &'a Finding,
}

impl Serialize for Findings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        if !self.with_ids {
            return self.list.serialize(serializer);
        }
        let mut seq = serializer.serialize_seq(Some(self.list.len()))?;
        for finding in &self.list {
            seq.serialize_element(&IdentifiedFinding {
                id: finding.id(),
                finding,
            })?;
        }
        seq.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub results_format: u32,
    pub report_id: String,
    pub system_name: String,
    pub period: Period,
    pub period_label: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// When the evidence was collected (the snapshot's time). When the report was rendered
    /// is `document.rendered_at`.
    pub collected_at: Timestamp,
    /// Owner, revision, verdict reading, rendering time and the settings used.
    pub document: DocumentControl,
    pub scope: Scope,
    pub methodology: Methodology,
    /// Version of the tool that collected the evidence.
    pub collector_version: String,
    /// Version of the tool that evaluated and rendered it.
    pub tool_version: String,
    pub evidence_sha256: String,
    pub max_rotation_days: u32,
    /// The snapshot's policy, for the document control's list of settings.
    #[serde(skip)]
    policy: Policy,
    pub verdict: Verdict,
    pub verdict_text: String,
    pub collected_by: Vec<CollectedBy>,
    pub controls: Vec<Control>,
    pub summary: Vec<ControlSummary>,
    pub totals: StatusCounts,
    pub change_totals: ChangeTotals,
    pub findings: Findings,
    /// One summary per account of a scope of several accounts (none for one account).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub account_summaries: Vec<accounts::AccountSummary>,
    pub methods: Vec<MethodRow>,
    pub stages: Vec<StageRow>,
    pub keys: Vec<KeyRow>,
    pub trails: Vec<TrailRow>,
    /// ElastiCache replication groups as collected, with the period's at-rest result.
    pub replication_groups: Vec<ReplicationGroupRow>,
    /// The trail buckets (`cloudtrail-bucket-protection`), as collected.
    pub buckets: Vec<BucketRow>,
    pub logging_gaps: Vec<LoggingGap>,
    /// The full change register. Serialized only into results.json (see `to_results_json`):
    /// views that show it to people go through `register_view`, which bounds its size.
    #[serde(skip)]
    pub changes: Vec<ChangeRow>,
    pub evidence_gaps: Vec<EvidenceGap>,
    pub lookup_queries: Vec<LookupQueryRow>,
    /// The change records file the changes were reconciled with (`--change-records`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_records_file: Option<ChangeRecordsSource>,
    /// What became of each change record, in file order (empty without a records file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub change_records: Vec<RecordOutcome>,
    /// The manifestations of the sign-offs so far. Not part of results.json: each sign-off
    /// signs the SHA-256 of results.json, so results.json cannot contain them.
    #[serde(skip)]
    pub signoffs: Vec<Signoff>,
    /// Who attested the evidence snapshot at collection, if anyone: read from the package's
    /// evidence.attestation.json (as the sign-offs from signoffs.json), never from the
    /// snapshot, so it is an input of rendering that verify has too. Not part of results.json,
    /// which is the evaluation of the evidence alone.
    #[serde(skip)]
    pub evidence_attestation: Option<EvidenceAttestation>,
    /// "Changes since last period": the difference from the previous period's report
    /// (`report --previous`), computed from the summary the package keeps of it
    /// (`diff::PREVIOUS_PERIOD_FILE`). Absent without a previous period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes_since_previous: Option<diff::PackageDiff>,
    /// What the report id was made of besides the evidence (`document::id_inputs`), so a
    /// later input (the previous period) can be added to it.
    #[serde(skip)]
    id_inputs: Vec<String>,
}

/// The change records file of a report: where the package keeps it and its SHA-256.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRecordsSource {
    pub path: String,
    pub sha256: String,
    pub records: usize,
}

impl ChangeRecordsSource {
    /// One line for people: `inputs/change-records.csv (4 records, SHA-256 …)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} record(s), SHA-256 {})",
            self.path, self.records, self.sha256
        )
    }
}

/// The collector's attestation of the evidence snapshot, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceAttestation {
    pub key_fingerprint: String,
    /// Algorithm and where the key lives (local file or AWS KMS key ARN).
    pub key_kind: String,
    pub attested_at: Timestamp,
}

/// What a human-readable form shows of the change register: everything up to `limit`
/// changes; above it every weakening change and failed call in full and the rest summarised
/// per event name (changes.csv and results.json always hold every change).
#[derive(Debug, Clone, Serialize)]
pub struct RegisterView<'a> {
    pub limit: usize,
    pub total: usize,
    pub summarised: bool,
    pub listed: Vec<&'a ChangeRow>,
    pub groups: Vec<ChangeGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeGroup {
    pub event_source: String,
    pub event_name: String,
    pub classification: ChangeClass,
    pub count: usize,
    pub first: Timestamp,
    pub last: Timestamp,
}

#[derive(Serialize)]
struct ResultsDocument<'a> {
    #[serde(flatten)]
    model: &'a ReportModel,
    changes: &'a [ChangeRow],
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectedBy {
    pub account_id: String,
    pub caller_arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatusCounts {
    pub pass: usize,
    pub controlled: usize,
    pub fail: usize,
    pub not_applicable: usize,
    pub no_resources: usize,
    pub evidence_gap: usize,
}

impl StatusCounts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Controlled => self.controlled += 1,
            Status::Fail => self.fail += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::NoResources => self.no_resources += 1,
            Status::EvidenceGap => self.evidence_gap += 1,
        }
    }

    /// How many results have `status`.
    pub fn of(&self, status: Status) -> usize {
        match status {
            Status::Pass => self.pass,
            Status::Controlled => self.controlled,
            Status::Fail => self.fail,
            Status::NotApplicable => self.not_applicable,
            Status::NoResources => self.no_resources,
            Status::EvidenceGap => self.evidence_gap,
        }
    }

    /// The control's overall outcome: any FAIL wins, then any gap, then any CONTROLLED (the
    /// control is met, with changes under change control), then any PASS.
    pub fn outcome(&self) -> Status {
        if self.fail > 0 {
            Status::Fail
        } else if self.evidence_gap > 0 {
            Status::EvidenceGap
        } else if self.controlled > 0 {
            Status::Controlled
        } else if self.pass > 0 {
            Status::Pass
        } else if self.not_applicable > 0 {
            Status::NotApplicable
        } else {
            Status::NoResources
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlSummary {
    pub control_id: String,
    pub title: String,
    pub clauses: String,
    pub cross_references: String,
    pub view: Option<View>,
    pub view_label: String,
    /// Whether this reading decides the verdict (`--verdict-reading`).
    pub decides: bool,
    pub counts: StatusCounts,
    pub outcome: Status,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeTotals {
    pub total: usize,
    pub weakening: usize,
    pub weakening_effective: usize,
    /// Applied weakening changes matched by a change record approved before them.
    pub weakening_controlled: usize,
    /// Applied weakening changes without such a record (the change-control FAILs).
    pub weakening_uncontrolled: usize,
    pub strengthening: usize,
    pub neutral: usize,
    pub failed_calls: usize,
    /// Change events after the period, up to collection, that the period rule replayed to
    /// rebuild the period's settings; not part of the register.
    pub replayed_after_period: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct LookupQueryRow {
    pub account_id: String,
    pub region: String,
    pub attribute: String,
    pub calls: u64,
    pub events_returned: u64,
    pub events_kept: u64,
}

/// Both readings of a two-view control for one resource, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct ViewPair<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub resource: &'a str,
    pub security_hub: Option<&'a Finding>,
    pub aws_config: Option<&'a Finding>,
}

/// An electronic signature's manifestation (Annex 11 §14, 21 CFR 11.50).
#[derive(Debug, Clone, Serialize)]
pub struct Signoff {
    pub sequence: u32,
    pub printed_name: String,
    pub user_id: String,
    pub role: String,
    pub meaning: String,
    pub signed_at: Timestamp,
    pub key_fingerprint: String,
    /// Algorithm and where the key lives (local file or AWS KMS key ARN).
    pub key_kind: String,
    pub evidence_sha256: String,
    pub results_sha256: String,
    /// Empty for the first sign-off.
    pub previous_signoff_sha256: String,
    pub signoff_sha256: String,
}

/// Who collected an account of the scope in which no evidence was collected.
pub const NOT_COLLECTED: &str = "no evidence collected (see the evidence gaps)";

/// The words shown where a report carries no signature yet.
pub const UNSIGNED_TEXT: &str = "DRAFT — not signed";

/// The AWS services whose settings and change events the report covers, as its text names them.
pub const SERVICES_TEXT: &str = "API Gateway, CloudTrail, CloudWatch Logs, ElastiCache, KMS and S3";

/// The controls judged in two readings (Security Hub and AWS Config), comma-separated.
pub fn two_reading_controls() -> String {
    crate::controls::catalog::CATALOG
        .iter()
        .filter(|c| c.two_views)
        .map(|c| c.id)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ReportModel {
    pub fn build(
        snapshot: &EvidenceSnapshot,
        evidence_sha256: &str,
        evaluation: Evaluation,
        signoffs: Vec<Signoff>,
    ) -> Self {
        let reading = VerdictReading::default();
        let verdict = evaluation.verdict_read(reading);
        let period_label = snapshot.period.label();
        let mut accounts = snapshot.scope.accounts.clone();
        accounts.sort();
        accounts.dedup();
        let mut regions = snapshot.scope.regions.clone();
        regions.sort();
        regions.dedup();

        let summary = summarize(CATALOG, &evaluation.findings, reading);
        let mut totals = StatusCounts::default();
        for finding in &evaluation.findings {
            totals.add(finding.status);
        }
        let mut change_totals = change_totals(&evaluation.changes);
        change_totals.replayed_after_period = snapshot
            .accounts
            .iter()
            .flat_map(|a| a.regions.iter().chain(&a.trail_home_regions))
            .filter_map(|r| r.cloudtrail.as_ref())
            .map(|c| c.events_after_period.len())
            .sum();

        let mut collected_by: Vec<CollectedBy> = snapshot
            .accounts
            .iter()
            .map(|a| CollectedBy {
                account_id: a.account_id.clone(),
                caller_arn: a
                    .caller_identity
                    .as_ref()
                    .and_then(|c| c.arn.clone())
                    .unwrap_or_else(|| "not recorded".to_string()),
            })
            .collect();
        // An account of the scope without evidence (its role could not be assumed) is named
        // too: a list of who collected what must not silently skip an account.
        for account_id in &accounts {
            if !collected_by.iter().any(|c| c.account_id == *account_id) {
                collected_by.push(CollectedBy {
                    account_id: account_id.clone(),
                    caller_arn: NOT_COLLECTED.to_string(),
                });
            }
        }
        collected_by.sort_by(|a, b| a.account_id.cmp(&b.account_id));

        let mut lookup_queries: Vec<LookupQueryRow> = snapshot
            .accounts
            .iter()
            .flat_map(|a| {
                a.regions.iter().flat_map(move |r| {
                    r.cloudtrail.iter().flat_map(move |c| {
                        c.lookup_queries.iter().map(move |q| LookupQueryRow {
                            account_id: a.account_id.clone(),
                            region: r.region.clone(),
                            attribute: format!("{}={}", q.attribute_key, q.attribute_value),
                            calls: q.calls,
                            events_returned: q.events_returned,
                            events_kept: q.events_kept,
                        })
                    })
                })
            })
            .collect();
        lookup_queries.sort_by(|a, b| {
            (&a.account_id, &a.region, &a.attribute).cmp(&(&b.account_id, &b.region, &b.attribute))
        });

        let unrecorded = DocumentSettings::unrecorded(snapshot.collected_at);
        let document =
            DocumentControl::new(&unrecorded, &snapshot.policy, &evaluation.findings, None);
        let methodology = Methodology::new(
            &lookup_queries,
            document::TrailLogReading::of(snapshot),
            document::AthenaReading::of(snapshot),
            &document,
        );
        let account_summaries = accounts::AccountSummary::of_scope(
            snapshot,
            &evaluation.findings,
            &evaluation.evidence_gaps,
            reading,
        );
        ReportModel {
            results_format: RESULTS_FORMAT,
            report_id: report_id(&snapshot.period, evidence_sha256),
            system_name: snapshot.system_name.clone(),
            period: snapshot.period,
            period_label,
            accounts,
            regions,
            collected_at: snapshot.collected_at,
            document,
            scope: Scope::of(snapshot, &evaluation.changes),
            methodology,
            collector_version: snapshot.tool.version.clone(),
            tool_version: crate::TOOL_VERSION.to_string(),
            evidence_sha256: evidence_sha256.to_string(),
            max_rotation_days: snapshot.policy.max_rotation_days,
            policy: snapshot.policy.clone(),
            verdict,
            verdict_text: verdict_text(verdict).to_string(),
            collected_by,
            controls: CATALOG.to_vec(),
            summary,
            totals,
            change_totals,
            findings: Findings {
                list: evaluation.findings,
                with_ids: true,
            },
            account_summaries,
            methods: evaluation.methods,
            stages: evaluation.stages,
            keys: evaluation.keys,
            trails: evaluation.trails,
            replication_groups: evaluation.replication_groups,
            buckets: evaluation.buckets,
            logging_gaps: evaluation.logging_gaps,
            changes: evaluation.changes,
            evidence_gaps: evaluation.evidence_gaps,
            lookup_queries,
            change_records_file: None,
            change_records: evaluation.change_records,
            signoffs,
            evidence_attestation: None,
            changes_since_previous: None,
            id_inputs: Vec::new(),
        }
    }

    /// The model with its "Changes since last period" section computed against `previous`
    /// (the summary kept in the package), or without the section.
    /// The previous period's report is an input of what this one says: it is one of the
    /// report id's inputs, so the same evidence reported with and without the section (or
    /// against another previous report) never shares an id.
    pub fn with_previous_period(mut self, previous: Option<&diff::PeriodSummary>) -> Self {
        if let Some(previous) = previous {
            self.id_inputs
                .push(format!("previous-period={}", previous.report_id));
            self.compose_report_id();
        }
        self.changes_since_previous = previous.map(|p| diff::PackageDiff::between(p, &self));
        self
    }

    fn compose_report_id(&mut self) {
        self.report_id = format!(
            "{}{}{}",
            report_id(&self.period, &self.evidence_sha256),
            document::inputs_tag(&self.id_inputs),
            document::revision_suffix(self.document.revision)
        );
    }

    /// The model as rendered with the report-time parameters `settings` (owner, revision,
    /// verdict reading, rendering time): what `report` writes and what `sign` and `verify`
    /// re-render from the manifest's record of them.
    pub fn with_document(mut self, settings: &DocumentSettings) -> Self {
        let reading = settings.verdict_reading;
        if let Some(selection) = &settings.control_selection {
            self.select_controls(selection);
        }
        self.id_inputs = document::id_inputs(
            settings,
            self.change_records_file.as_ref().map(|f| f.sha256.as_str()),
        );
        self.document = DocumentControl::new(
            settings,
            &self.policy,
            &self.findings,
            self.change_records_file.as_ref(),
        );
        self.compose_report_id();
        self.methodology = Methodology::new(
            &self.lookup_queries,
            self.methodology.trail_logs.take(),
            self.methodology.athena.take(),
            &self.document,
        );
        self.verdict = Verdict::of(&self.findings, self.evidence_gaps.len(), reading);
        self.verdict_text = verdict_text(self.verdict).to_string();
        if let Some(selection) = &self.document.control_selection {
            self.verdict_text.push(' ');
            self.verdict_text.push_str(&selection.verdict_scope);
            self.scope.name_left_out_controls(selection);
        }
        self.summary = summarize(&self.controls, &self.findings, reading);
        accounts::read_verdicts(&mut self.account_summaries, &self.findings, reading);
        self
    }

    /// Keeps only the results of the controls the requester selected: the catalog shown,
    /// the findings and every count made of them. The evidence tables stay whole (they are
    /// what was collected, not what was judged), and so do the evidence gaps: a failed call
    /// still leaves the verdict INCOMPLETE.
    fn select_controls(&mut self, selection: &ControlSelection) {
        self.controls.retain(|c| selection.evaluates(c.id));
        self.findings.retain(|f| selection.evaluates(&f.control_id));
        self.totals = StatusCounts::default();
        for finding in &self.findings {
            self.totals.add(finding.status);
        }
        accounts::recount(&mut self.account_summaries, &self.findings);
    }

    /// The model in results layout `format` (the manifest's `render.results_format`): a
    /// package written before finding ids existed re-renders without them.
    pub fn with_results_format(mut self, format: u32) -> Self {
        self.results_format = format;
        self.findings.with_ids = format >= RESULTS_FORMAT;
        self
    }

    /// Evaluates and builds in one step.
    pub fn from_evidence(evidence: &LoadedEvidence, signoffs: Vec<Signoff>) -> Self {
        Self::from_snapshot(&evidence.snapshot, &evidence.sha256, signoffs)
    }

    /// Evaluates `snapshot`, whose file has the SHA-256 `evidence_sha256`, and builds the model.
    pub fn from_snapshot(
        snapshot: &EvidenceSnapshot,
        evidence_sha256: &str,
        signoffs: Vec<Signoff>,
    ) -> Self {
        Self::from_inputs(snapshot, evidence_sha256, None, signoffs)
    }

    /// `from_snapshot`, reconciling the changes with QA's change records when given.
    pub fn from_inputs(
        snapshot: &EvidenceSnapshot,
        evidence_sha256: &str,
        change_records: Option<&ChangeRecordsFile>,
        signoffs: Vec<Signoff>,
    ) -> Self {
        let evaluation = match change_records {
            Some(file) => controls::evaluate_with_records(snapshot, &file.records),
            None => controls::evaluate(snapshot),
        };
        let mut model = Self::build(snapshot, evidence_sha256, evaluation, signoffs);
        model.change_records_file = change_records.map(|file| ChangeRecordsSource {
            path: file.format.package_path().to_string(),
            sha256: file.sha256.clone(),
            records: file.records.records.len(),
        });
        model
    }

    pub fn findings_of<'a>(
        &'a self,
        control_id: &'a str,
    ) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings
            .iter()
            .filter(move |f| f.control_id == control_id)
    }

    /// The results of a two-view control paired per account, region and resource, sorted.
    pub fn view_pairs<'a>(&'a self, control_id: &'a str) -> Vec<ViewPair<'a>> {
        let mut pairs: std::collections::BTreeMap<(&str, &str, &str), ViewPair> =
            Default::default();
        for finding in self.findings_of(control_id) {
            let pair = pairs
                .entry((&finding.account_id, &finding.region, &finding.resource))
                .or_insert_with(|| ViewPair {
                    account_id: &finding.account_id,
                    region: &finding.region,
                    resource: &finding.resource,
                    security_hub: None,
                    aws_config: None,
                });
            match finding.view {
                Some(View::SecurityHub) => pair.security_hub = Some(finding),
                Some(View::AwsConfig) => pair.aws_config = Some(finding),
                None => {}
            }
        }
        pairs.into_values().collect()
    }

    /// "<system> — Annex 11 evidence report <period>", as titles and running headers show it.
    pub fn title(&self) -> String {
        format::visible(&format!(
            "{} — Annex 11 evidence report {}",
            self.system_name, self.period_label
        ))
    }

    /// The signatures' manifestation in one line (every PDF page footer, the HTML header):
    /// `Signed: Jane Roe (authored) 2026-11-02 09:00:00 UTC · …`, or the draft notice.
    pub fn signature_status(&self) -> String {
        if self.signoffs.is_empty() {
            return UNSIGNED_TEXT.to_string();
        }
        let names: Vec<String> = self
            .signoffs
            .iter()
            .map(|s| {
                format!(
                    "{} ({}) {}",
                    format::visible(&s.printed_name),
                    format::visible(&s.meaning),
                    s.signed_at.display_utc()
                )
            })
            .collect();
        format!("Signed: {}", names.join(" · "))
    }

    /// Whether the evidence is attested, in one line (the document control of the PDF and
    /// the HTML).
    pub fn attestation_status(&self) -> String {
        match &self.evidence_attestation {
            Some(a) => format!(
                "Evidence attested by collector key {} ({}) at {}",
                a.key_fingerprint,
                format::visible(&a.key_kind),
                a.attested_at.display_utc()
            ),
            None => "Not attested: no collector key signed the evidence snapshot".to_string(),
        }
    }

    pub fn register_view(&self, limit: usize) -> RegisterView<'_> {
        if self.changes.len() <= limit {
            return RegisterView {
                limit,
                total: self.changes.len(),
                summarised: false,
                listed: self.changes.iter().collect(),
                groups: Vec::new(),
            };
        }
        let (listed, rest): (Vec<&ChangeRow>, Vec<&ChangeRow>) = self
            .changes
            .iter()
            .partition(|c| c.classification == ChangeClass::Weakening || !c.took_effect());
        let mut groups: std::collections::BTreeMap<(&str, &str, ChangeClass), ChangeGroup> =
            Default::default();
        for change in rest {
            let group = groups
                .entry((
                    &change.event_source,
                    &change.event_name,
                    change.classification,
                ))
                .or_insert_with(|| ChangeGroup {
                    event_source: change.event_source.clone(),
                    event_name: change.event_name.clone(),
                    classification: change.classification,
                    count: 0,
                    first: change.event_time,
                    last: change.event_time,
                });
            group.count += 1;
            group.first = group.first.min(change.event_time);
            group.last = group.last.max(change.event_time);
        }
        RegisterView {
            limit,
            total: self.changes.len(),
            summarised: true,
            listed,
            groups: groups.into_values().collect(),
        }
    }

    /// The canonical results.json bytes: pretty JSON with a final newline.
    pub fn to_results_json(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_results_json(&mut bytes)
            .expect("the report model always serializes into memory");
        bytes
    }

    /// `to_results_json`, written into `out` as it is serialized.
    pub fn write_results_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let document = ResultsDocument {
            model: self,
            changes: &self.changes,
        };
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
        serde_json::to_writer_pretty(&mut out, &document)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// `GXP-2026-10-1a2b3c4d5e6f`: period plus the start of the snapshot's SHA-256.
pub fn report_id(period: &Period, evidence_sha256: &str) -> String {
    let label = period.label().replace("..", "_").replace(':', "");
    let short: String = evidence_sha256.chars().take(12).collect();
    format!("GXP-{label}-{short}")
}

pub fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Compliant => {
            "Compliant: every control passed or had nothing in scope, and no evidence is missing."
        }
        Verdict::NonCompliant => "Non-compliant: at least one control failed.",
        Verdict::Incomplete => {
            "Incomplete: no control failed, but some evidence could not be collected, so compliance is not shown."
        }
    }
}

fn summarize(
    controls: &[Control],
    findings: &[Finding],
    reading: VerdictReading,
) -> Vec<ControlSummary> {
    let mut summary = Vec::new();
    for control in controls {
        let views: Vec<Option<View>> = if control.two_views {
            View::BOTH.iter().copied().map(Some).collect()
        } else {
            vec![None]
        };
        for view in views {
            let mut counts = StatusCounts::default();
            for finding in findings
                .iter()
                .filter(|f| f.control_id == control.id && (view.is_none() || f.view == view))
            {
                counts.add(finding.status);
            }
            let decides = reading.decides(view);
            let mut view_label = view.map(View::label).unwrap_or("").to_string();
            if !decides {
                view_label.push_str(", shown, does not decide");
            }
            summary.push(ControlSummary {
                control_id: control.id.to_string(),
                title: control.title.to_string(),
                clauses: control.clauses.join("; "),
                cross_references: control.cross_references.join("; "),
                view,
                view_label,
                decides,
                outcome: counts.outcome(),
                counts,
            });
        }
    }
    summary
}

fn change_totals(changes: &[ChangeRow]) -> ChangeTotals {
    let mut totals = ChangeTotals {
        total: changes.len(),
        ..Default::default()
    };
    for change in changes {
        match change.classification {
            ChangeClass::Weakening => {
                totals.weakening += 1;
                if change.took_effect() {
                    totals.weakening_effective += 1;
                    if change
                        .change_record
                        .as_ref()
                        .is_some_and(|r| r.approved_before)
                    {
                        totals.weakening_controlled += 1;
                    } else {
                        totals.weakening_uncontrolled += 1;
                    }
                }
            }
            ChangeClass::Strengthening => totals.strengthening += 1,
            ChangeClass::Neutral => totals.neutral += 1,
        }
        if !change.took_effect() {
            totals.failed_calls += 1;
        }
    }
    totals
}

/// Shared cell wording for all renderers.
pub mod format {
    use crate::controls::Status;
    use crate::evidence::Timestamp;

    /// The statuses in the order the legends of the PDF and the HTML explain them.
    pub const LEGEND: [Status; 6] = [
        Status::Pass,
        Status::Controlled,
        Status::Fail,
        Status::NotApplicable,
        Status::NoResources,
        Status::EvidenceGap,
    ];

    /// What a result status means, as the legends say it.
    pub fn status_meaning(status: Status) -> &'static str {
        match status {
            Status::Pass => "The control is met for the resource.",
            Status::Controlled => {
                "A weakening change matched by a change record approved before it (Annex 11 §10); counts like PASS."
            }
            Status::Fail => "The control is not met for the resource.",
            Status::NotApplicable => {
                "The resource is outside the control's scope; the reason is given."
            }
            Status::NoResources => "The control was evaluated and nothing was in scope.",
            Status::EvidenceGap => {
                "The evidence could not be collected, so the control could not be evaluated."
            }
        }
    }

    pub fn yes_no(value: bool) -> &'static str {
        if value { "yes" } else { "no" }
    }

    pub fn opt_yes_no(value: Option<bool>) -> &'static str {
        match value {
            Some(v) => yes_no(v),
            None => "unknown",
        }
    }

    pub fn time(value: Option<Timestamp>) -> String {
        value
            .map(|t| t.display_utc())
            .unwrap_or_else(|| "—".to_string())
    }

    pub fn date(value: Option<Timestamp>) -> String {
        value
            .map(|t| t.display_date())
            .unwrap_or_else(|| "—".to_string())
    }

    pub fn opt_number(value: Option<u32>) -> String {
        value
            .map(|v| v.to_string())
            .unwrap_or_else(|| "—".to_string())
    }

    /// Makes text safe to show: control characters and bidirectional overrides (which can make
    /// a displayed name read differently from its bytes) become visible `<U+202E>` markers.
    pub fn visible(text: &str) -> String {
        visible_cow(text).into_owned()
    }

    /// `visible`, borrowing `text` when it has nothing to mark (almost always: the check is a
    /// byte scan for anything but printable ASCII and newlines before any character is decoded).
    pub fn visible_cow(text: &str) -> std::borrow::Cow<'_, str> {
        let plain = |b: &u8| (0x20..0x7f).contains(b) || *b == b'\n';
        if text.as_bytes().iter().all(plain) || !text.chars().any(is_hidden_or_control) {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 8);
        for ch in text.chars() {
            if is_hidden_or_control(ch) {
                out.push_str(&format!("<U+{:04X}>", ch as u32));
            } else {
                out.push(ch);
            }
        }
        std::borrow::Cow::Owned(out)
    }

    fn is_hidden_or_control(ch: char) -> bool {
        (ch.is_control() && ch != '\n')
            // Zero-width and bidi controls, the line and paragraph separators (a line break
            // in some viewers, none in others), the byte order mark.
            || matches!(ch, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn bidi_overrides_and_controls_become_visible() {
            assert_eq!(visible("abc\u{202E}fed"), "abc<U+202E>fed");
            assert_eq!(visible("a\tb\u{0}"), "a<U+0009>b<U+0000>");
            assert_eq!(visible("Zürich ł"), "Zürich ł");
            assert_eq!(visible("a\u{7f}b\nc"), "a<U+007F>b\nc");
            assert_eq!(visible("a\u{2028}b\u{2029}"), "a<U+2028>b<U+2029>");
            assert!(matches!(
                visible_cow("plain text\n"),
                std::borrow::Cow::Borrowed(_)
            ));
        }
    }
}

/// The model of the embedded demo snapshot, for the report's unit tests.
#[cfg(test)]
pub(crate) fn demo_model() -> ReportModel {
    let evidence =
        crate::evidence::load_bytes("demo", crate::evidence::DEMO_EVIDENCE.as_bytes().to_vec())
            .expect("the demo evidence loads");
    ReportModel::from_evidence(&evidence, Vec::new())
}
