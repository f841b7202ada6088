//! Drift between two report packages (`gxp-evidence diff`, the report's "Changes since last
//! period"): which resources came and went, which findings changed status (matched by their
//! stable id, `Finding::id`), which recorded settings changed, which weakening changes are
//! new, and which evidence gaps opened or closed. Both packages are verified first, so a
//! difference is never an artefact of an edited file (Annex 11 §7.1: data integrity of what
//! is compared). Everything is sorted, so the same two packages give the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::controls::{ChangeClass, ChangeRow, Status, View, catalog};
use crate::evidence::{EvidenceGap, Period, Timestamp};
use crate::package::verify::{self, Purpose, VerifyOptions};
use crate::report::render::Format;
use crate::report::{ReportModel, table::Audience};

/// Which report a side of the comparison is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffSide {
    pub report_id: String,
    pub system_name: String,
    pub period: String,
    /// SHA-256 of the package's manifest.json, when the side was read from a package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
}

impl DiffSide {
    fn of(model: &ReportModel) -> Self {
        DiffSide {
            report_id: model.report_id.clone(),
            system_name: model.system_name.clone(),
            period: model.period_label.clone(),
            manifest_sha256: None,
        }
    }
}

/// A finding as a later period compares with it: its id, subject and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingState {
    pub id: String,
    pub control_id: String,
    pub account_id: String,
    pub region: String,
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<View>,
    pub status: Status,
}

/// The recorded settings of one resource (one row of keys.csv, methods.csv or trails.csv).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingRow {
    pub table: String,
    /// The row's identifying values, `/`-joined (account, region, key id, …).
    pub resource: String,
    pub values: BTreeMap<String, String>,
}

/// What a later report is compared with: one verified report's findings, recorded settings,
/// weakening changes and evidence gaps. `report --previous` keeps it in the package
/// (`inputs/previous-period.json`), so `verify` recomputes the "Changes since last period"
/// section from what is in the package, without the previous package at hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodSummary {
    pub summary_format: u32,
    pub report_id: String,
    pub system_name: String,
    pub period: Period,
    /// SHA-256 of the summarised package's manifest.json (the sealed state it was read in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
    pub findings: Vec<FindingState>,
    pub settings: Vec<SettingRow>,
    /// Event ids of the weakening changes the report lists.
    pub weakening_event_ids: Vec<String>,
    pub gaps: Vec<GapRef>,
}

/// Version of the `inputs/previous-period.json` layout.
pub const SUMMARY_FORMAT: u32 = 1;

/// Where a package keeps the summary of the previous period it was compared with.
pub const PREVIOUS_PERIOD_FILE: &str = "inputs/previous-period.json";

impl PeriodSummary {
    /// The summary of a report; `manifest_sha256` when read from a sealed package.
    pub fn of(model: &ReportModel, manifest_sha256: Option<String>) -> Self {
        let findings = model
            .findings
            .iter()
            .map(|f| FindingState {
                id: f.id(),
                control_id: f.control_id.clone(),
                account_id: f.account_id.clone(),
                region: f.region.clone(),
                resource: f.resource.clone(),
                view: f.view,
                status: f.status,
            })
            .collect();
        let settings = settings_of(model)
            .into_iter()
            .map(|((table, resource), values)| SettingRow {
                table: table.to_string(),
                resource,
                values: values
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect(),
            })
            .collect();
        let mut weakening_event_ids: Vec<String> = model
            .changes
            .iter()
            .filter(|c| c.classification == ChangeClass::Weakening)
            .map(|c| c.event_id.clone())
            .collect();
        weakening_event_ids.sort();
        weakening_event_ids.dedup();
        let gaps: BTreeSet<GapRef> = model.evidence_gaps.iter().map(GapRef::from).collect();
        PeriodSummary {
            summary_format: SUMMARY_FORMAT,
            report_id: model.report_id.clone(),
            system_name: model.system_name.clone(),
            period: model.period,
            manifest_sha256,
            findings,
            settings,
            weakening_event_ids,
            gaps: gaps.into_iter().collect(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("the summary always serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Reads `inputs/previous-period.json` strictly: an unknown field or format is an error
    /// naming its position.
    pub fn parse(bytes: &[u8]) -> Result<Self, DiffError> {
        let summary: Self = serde_json::from_slice(bytes)
            .map_err(|err| DiffError::Summary(format!("{PREVIOUS_PERIOD_FILE}: {err}")))?;
        if summary.summary_format != SUMMARY_FORMAT {
            return Err(DiffError::Summary(format!(
                "{PREVIOUS_PERIOD_FILE}: summary_format {} is not supported (this version reads {SUMMARY_FORMAT})",
                summary.summary_format
            )));
        }
        Ok(summary)
    }

    /// The controls the summarised report evaluated: every evaluated control has at least one
    /// result per account (`controls::ensure_every_control_reported`), so they are the
    /// controls of its findings.
    pub fn controls_evaluated(&self) -> BTreeSet<&str> {
        self.findings
            .iter()
            .map(|f| f.control_id.as_str())
            .collect()
    }

    /// Whether this report and `later` evaluated the same controls. A report with a control
    /// selection (`--checks`, `--exclude-checks`) compared with one without it would list
    /// every result of the controls only one of them evaluated as a resource added or
    /// removed: drift that is the requester's choice, not the system's. So it is refused.
    pub fn check_same_controls(&self, later: &ReportModel) -> Result<(), DiffError> {
        let after: BTreeSet<&str> = later
            .findings
            .iter()
            .map(|f| f.control_id.as_str())
            .collect();
        self.check_controls(&later.report_id, &after)
    }

    /// `check_same_controls` before the later report exists: `later` names it, `after` are
    /// the controls it will evaluate (`selection::controls_evaluated`).
    pub fn check_controls(&self, later: &str, after: &BTreeSet<&str>) -> Result<(), DiffError> {
        let before = self.controls_evaluated();
        if before == *after {
            return Ok(());
        }
        let list = |set: Vec<&&str>| {
            if set.is_empty() {
                "none".to_string()
            } else {
                set.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        Err(DiffError::OtherControls {
            earlier: self.report_id.clone(),
            later: later.to_string(),
            only_earlier: list(before.difference(after).collect()),
            only_later: list(after.difference(&before).collect()),
        })
    }

    fn side(&self) -> DiffSide {
        DiffSide {
            report_id: self.report_id.clone(),
            system_name: self.system_name.clone(),
            period: self.period.label(),
            manifest_sha256: self.manifest_sha256.clone(),
        }
    }

    /// Whether this summary may stand as the previous period of a report on `system_name`'s
    /// `period`: the same system, and a period that ended when (or before) that one began.
    pub fn check_precedes(&self, system_name: &str, period: &Period) -> Result<(), DiffError> {
        if self.system_name != system_name {
            return Err(DiffError::OtherSystem {
                report_id: self.report_id.clone(),
                theirs: self.system_name.clone(),
                ours: system_name.to_string(),
            });
        }
        if self.period.end > period.start {
            return Err(DiffError::NotEarlier {
                report_id: self.report_id.clone(),
                theirs: self.period.label(),
                ours: period.label(),
            });
        }
        Ok(())
    }
}

/// A resource a control judged (its findings' subject without the reading).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ResourceRef {
    pub control_id: String,
    pub account_id: String,
    pub region: String,
    pub resource: String,
}

/// One finding (same id on both sides) whose status changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StatusChange {
    pub finding_id: String,
    pub control_id: String,
    pub account_id: String,
    pub region: String,
    pub resource: String,
    pub view: String,
    pub from: Status,
    pub to: Status,
}

impl StatusChange {
    /// People read changes by control, then where: the id only breaks ties.
    fn sort_key(&self) -> (&str, &str, &str, &str, &str, &str) {
        (
            &self.control_id,
            &self.account_id,
            &self.region,
            &self.resource,
            &self.view,
            &self.finding_id,
        )
    }
}

/// One recorded setting of a resource (a column of keys.csv, methods.csv or trails.csv)
/// whose value changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SettingChange {
    /// The table the setting is recorded in: `keys`, `methods` or `trails`.
    pub table: String,
    /// The row's identifying values, `/`-joined (account, region, key id, …).
    pub resource: String,
    pub setting: String,
    pub from: String,
    pub to: String,
}

/// A weakening change of the later period that the earlier report does not list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct WeakeningChange {
    pub event_time: Timestamp,
    pub account_id: String,
    pub region: String,
    pub event_name: String,
    pub event_id: String,
    pub resource: String,
    pub actor: String,
}

impl From<&ChangeRow> for WeakeningChange {
    fn from(c: &ChangeRow) -> Self {
        WeakeningChange {
            event_time: c.event_time,
            account_id: c.account_id.clone(),
            region: c.region.clone(),
            event_name: c.event_name.clone(),
            event_id: c.event_id.clone(),
            resource: c.resource.clone(),
            actor: c.actor.clone(),
        }
    }
}

/// An evidence gap as compared across periods: the failed call, not its message (which names
/// the period's session and request).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapRef {
    pub account_id: String,
    pub region: String,
    pub service: String,
    pub api: String,
    pub resource: String,
    pub error_code: String,
}

impl From<&EvidenceGap> for GapRef {
    fn from(g: &EvidenceGap) -> Self {
        GapRef {
            account_id: g.account_id.clone(),
            region: g.region.clone().unwrap_or_default(),
            service: g.service.clone(),
            api: g.api.clone(),
            resource: g.resource.clone().unwrap_or_default(),
            error_code: g.error_code.clone(),
        }
    }
}

/// Everything that differs between an earlier report (`from`) and a later one (`to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageDiff {
    pub from: DiffSide,
    pub to: DiffSide,
    pub resources_added: Vec<ResourceRef>,
    pub resources_removed: Vec<ResourceRef>,
    pub status_changes: Vec<StatusChange>,
    pub setting_changes: Vec<SettingChange>,
    pub new_weakening_changes: Vec<WeakeningChange>,
    pub new_gaps: Vec<GapRef>,
    pub closed_gaps: Vec<GapRef>,
}

/// The recorded settings compared per resource: for each detail table, the columns that
/// identify a row and the columns that are settings. Observations that move every month by
/// themselves (rotation dates, latest delivery, the row's status and reason) are not
/// settings: a status change is reported per finding instead.
const SETTING_TABLES: &[(&str, &[&str], &[&str])] = &[
    (
        "keys",
        &["account_id", "region", "key_id"],
        &[
            "aliases",
            "key_manager",
            "key_spec",
            "key_usage",
            "origin",
            "key_state",
            "rotation_enabled",
            "rotation_period_days",
        ],
    ),
    (
        "methods",
        &[
            "account_id",
            "region",
            "api_id",
            "stage",
            "resource_path",
            "http_method",
        ],
        &[
            "setting_source",
            "cache_cluster_enabled",
            "caching_enabled",
            "cache_data_encrypted",
            "logging_level",
            "authorization_type",
            "api_key_required",
            "access_logging",
            "xray_tracing",
            "waf_web_acl",
            "client_certificate",
        ],
    ),
    (
        "trails",
        &["account_id", "trail_arn"],
        &[
            "home_region",
            "multi_region",
            "organization_trail",
            "is_logging",
            "log_file_validation",
            "kms_key_id",
            "management_events",
            "kms_events_excluded",
            "cloudwatch_log_group",
        ],
    ),
];

/// Whether a finding is about a resource that can be added or removed. Not a placeholder
/// (`(region)`, `(account)`, `(scope)`: a scope-wide result, usually a gap), and not a
/// change-control finding, whose subject is a change event: new weakening changes are listed
/// as such.
fn is_resource(control_id: &str, resource: &str) -> bool {
    !resource.starts_with('(') && control_id != catalog::CHANGE_CONTROL
}

impl PackageDiff {
    /// What changed from the earlier report summarised in `from` to the report `to`.
    pub fn between(from: &PeriodSummary, to: &ReportModel) -> Self {
        let resource_of =
            |control_id: &str, account_id: &str, region: &str, resource: &str| ResourceRef {
                control_id: control_id.to_string(),
                account_id: account_id.to_string(),
                region: region.to_string(),
                resource: resource.to_string(),
            };
        let before: BTreeSet<ResourceRef> = from
            .findings
            .iter()
            .filter(|f| is_resource(&f.control_id, &f.resource))
            .map(|f| resource_of(&f.control_id, &f.account_id, &f.region, &f.resource))
            .collect();
        let after: BTreeSet<ResourceRef> = to
            .findings
            .iter()
            .filter(|f| is_resource(&f.control_id, &f.resource))
            .map(|f| resource_of(&f.control_id, &f.account_id, &f.region, &f.resource))
            .collect();

        let earlier: BTreeMap<&str, Status> = from
            .findings
            .iter()
            .map(|f| (f.id.as_str(), f.status))
            .collect();
        let mut status_changes: Vec<StatusChange> = to
            .findings
            .iter()
            .filter_map(|later| {
                let id = later.id();
                let was = *earlier.get(id.as_str())?;
                (was != later.status).then(|| StatusChange {
                    finding_id: id,
                    control_id: later.control_id.clone(),
                    account_id: later.account_id.clone(),
                    region: later.region.clone(),
                    resource: later.resource.clone(),
                    view: later
                        .view
                        .map(|v| v.as_str().to_string())
                        .unwrap_or_default(),
                    from: was,
                    to: later.status,
                })
            })
            .collect();
        status_changes.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        status_changes.dedup();

        let known_events: BTreeSet<&str> = from
            .weakening_event_ids
            .iter()
            .map(String::as_str)
            .collect();
        let mut new_weakening_changes: Vec<WeakeningChange> = to
            .changes
            .iter()
            .filter(|c| c.classification == ChangeClass::Weakening)
            .filter(|c| !known_events.contains(c.event_id.as_str()))
            .map(WeakeningChange::from)
            .collect();
        new_weakening_changes.sort();
        new_weakening_changes.dedup();

        let gaps_before: BTreeSet<GapRef> = from.gaps.iter().cloned().collect();
        let gaps_after: BTreeSet<GapRef> = to.evidence_gaps.iter().map(GapRef::from).collect();

        PackageDiff {
            from: from.side(),
            to: DiffSide::of(to),
            resources_added: after.difference(&before).cloned().collect(),
            resources_removed: before.difference(&after).cloned().collect(),
            status_changes,
            setting_changes: setting_changes(&from.settings, to),
            new_weakening_changes,
            new_gaps: gaps_after.difference(&gaps_before).cloned().collect(),
            closed_gaps: gaps_before.difference(&gaps_after).cloned().collect(),
        }
    }

    /// No difference of any kind.
    pub fn is_empty(&self) -> bool {
        self.counts().iter().all(|(_, n)| *n == 0)
    }

    /// How many differences of each kind, in the order every form lists them.
    pub fn counts(&self) -> [(&'static str, usize); 7] {
        [
            ("Resources added", self.resources_added.len()),
            ("Resources removed", self.resources_removed.len()),
            ("Status changes", self.status_changes.len()),
            ("Setting changes", self.setting_changes.len()),
            ("New weakening changes", self.new_weakening_changes.len()),
            ("New evidence gaps", self.new_gaps.len()),
            ("Closed evidence gaps", self.closed_gaps.len()),
        ]
    }

    /// What the report's "Changes since last period" section shows: the counts in one
    /// sentence, then every status change (the other differences are in `gxp-evidence diff`).
    pub fn section(&self) -> SinceLastPeriod<'_> {
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(what, n)| format!("{what}: {n}"))
            .collect();
        let manifest = self
            .from
            .manifest_sha256
            .as_deref()
            .map(|sha| format!(", manifest SHA-256 {sha}"))
            .unwrap_or_default();
        SinceLastPeriod {
            intro: format!(
                "Compared with the previous period's report {} ({}{manifest}). {}.",
                self.from.report_id,
                self.from.period,
                counts.join("; ")
            ),
            status_changes: &self.status_changes,
        }
    }

    /// The difference for people: a heading per kind, one line per difference.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let side = |s: &DiffSide| format!("{} {} ({})", s.system_name, s.period, s.report_id);
        let _ = writeln!(out, "from: {}", side(&self.from));
        let _ = writeln!(out, "to:   {}", side(&self.to));
        if self.is_empty() {
            out.push_str("No differences.\n");
            return out;
        }
        for row in self.rows() {
            let _ = writeln!(out, "{:<22} {}", row.kind, row.describe());
        }
        out
    }

    /// The difference as CSV: one row per difference, the columns of `DiffRow`.
    pub fn to_csv(&self) -> Result<Vec<u8>, DiffError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for row in self.rows() {
            writer
                .serialize(&row)
                .map_err(|err| DiffError::Render(err.to_string()))?;
        }
        writer
            .into_inner()
            .map_err(|err| DiffError::Render(err.to_string()))
    }

    /// The difference as pretty JSON (with a final newline).
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("the diff always serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Every difference as one flat row, in the order of `counts`.
    pub fn rows(&self) -> Vec<DiffRow> {
        let mut rows = Vec::new();
        let resource = |kind: &'static str, r: &ResourceRef| DiffRow {
            kind,
            control_id: r.control_id.clone(),
            account_id: r.account_id.clone(),
            region: r.region.clone(),
            resource: r.resource.clone(),
            ..DiffRow::default()
        };
        rows.extend(
            self.resources_added
                .iter()
                .map(|r| resource("resource_added", r)),
        );
        rows.extend(
            self.resources_removed
                .iter()
                .map(|r| resource("resource_removed", r)),
        );
        rows.extend(self.status_changes.iter().map(|s| DiffRow {
            kind: "status_change",
            finding_id: s.finding_id.clone(),
            control_id: s.control_id.clone(),
            account_id: s.account_id.clone(),
            region: s.region.clone(),
            resource: s.resource.clone(),
            view: s.view.clone(),
            field: "status".to_string(),
            from: s.from.as_str().to_string(),
            to: s.to.as_str().to_string(),
        }));
        rows.extend(self.setting_changes.iter().map(|s| DiffRow {
            kind: "setting_change",
            resource: format!("{}: {}", s.table, s.resource),
            field: s.setting.clone(),
            from: s.from.clone(),
            to: s.to.clone(),
            ..DiffRow::default()
        }));
        rows.extend(self.new_weakening_changes.iter().map(|c| DiffRow {
            kind: "new_weakening_change",
            account_id: c.account_id.clone(),
            region: c.region.clone(),
            resource: c.resource.clone(),
            field: c.event_name.clone(),
            to: format!(
                "{} {} by {}",
                c.event_time.to_rfc3339(),
                c.event_id,
                c.actor
            ),
            ..DiffRow::default()
        }));
        let gap = |kind: &'static str, g: &GapRef| DiffRow {
            kind,
            account_id: g.account_id.clone(),
            region: g.region.clone(),
            resource: g.resource.clone(),
            field: format!("{}:{}", g.service, g.api),
            to: g.error_code.clone(),
            ..DiffRow::default()
        };
        rows.extend(self.new_gaps.iter().map(|g| gap("new_gap", g)));
        rows.extend(self.closed_gaps.iter().map(|g| gap("closed_gap", g)));
        rows
    }
}

/// The report's "Changes since last period" section, as PDF and HTML show it.
#[derive(Debug, Clone, Serialize)]
pub struct SinceLastPeriod<'a> {
    pub intro: String,
    pub status_changes: &'a [StatusChange],
}

/// One difference as the CSV form writes it (and the text form reads it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiffRow {
    /// `resource_added`, `resource_removed`, `status_change`, `setting_change`,
    /// `new_weakening_change`, `new_gap` or `closed_gap`.
    pub kind: &'static str,
    pub finding_id: String,
    pub control_id: String,
    pub account_id: String,
    pub region: String,
    pub resource: String,
    pub view: String,
    /// The status, the setting, the event name, or the failed call.
    pub field: String,
    pub from: String,
    pub to: String,
}

impl DiffRow {
    /// The row in one line: what, where, and the change.
    pub fn describe(&self) -> String {
        let place: Vec<&str> = [
            self.finding_id.as_str(),
            &self.control_id,
            &self.account_id,
            &self.region,
            &self.resource,
            &self.view,
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
        let mut text = place.join(" ");
        let shown = |value: &str| {
            if value.is_empty() {
                "(none)".to_string()
            } else {
                value.to_string()
            }
        };
        match self.kind {
            // A value that appeared or went away reads as such, never as a bare value.
            "status_change" | "setting_change" => text.push_str(&format!(
                ": {} {} → {}",
                self.field,
                shown(&self.from),
                shown(&self.to)
            )),
            _ if !self.field.is_empty() => {
                text.push_str(&format!(": {} {}", self.field, self.to));
            }
            _ => {}
        }
        text
    }
}

/// Setting columns whose value differs for a row present in both reports.
fn setting_changes(before: &[SettingRow], to: &ReportModel) -> Vec<SettingChange> {
    let before: BTreeMap<(&str, &str), &BTreeMap<String, String>> = before
        .iter()
        .map(|row| ((row.table.as_str(), row.resource.as_str()), &row.values))
        .collect();
    let mut changes = Vec::new();
    for ((table, resource), later) in settings_of(to) {
        let Some(earlier) = before.get(&(table, resource.as_str())) else {
            continue;
        };
        for (setting, value) in later {
            let old = earlier.get(setting).cloned().unwrap_or_default();
            if old != value {
                changes.push(SettingChange {
                    table: table.to_string(),
                    resource: resource.clone(),
                    setting: setting.to_string(),
                    from: old,
                    to: value,
                });
            }
        }
    }
    changes.sort();
    changes
}

/// The setting values of every row of the setting tables, by table and row key, as the CSV
/// files write them (one wording for machines).
type SettingRows = BTreeMap<(&'static str, String), BTreeMap<&'static str, String>>;

fn settings_of(model: &ReportModel) -> SettingRows {
    let mut rows = SettingRows::new();
    for table in model.tables(Audience::Machine) {
        let Some((id, keys, settings)) = SETTING_TABLES.iter().find(|(id, _, _)| *id == table.id)
        else {
            continue;
        };
        let names: Vec<&'static str> = table
            .columns(Format::Csv)
            .map(|c| c.csv.unwrap_or(""))
            .collect();
        for cells in table.rows(Format::Csv) {
            let value = |name: &str| {
                names
                    .iter()
                    .position(|n| *n == name)
                    .map(|i| cells[i].text_for_machines().into_owned())
                    .unwrap_or_default()
            };
            let key: Vec<String> = keys.iter().map(|k| value(k)).collect();
            let values = settings.iter().map(|s| (*s, value(s))).collect();
            rows.insert((*id, key.join("/")), values);
        }
    }
    rows
}

/// A package verified for comparison: intact (every check of `verify` passes); an unsigned
/// draft may be compared too.
pub fn read_verified(dir: &Path) -> Result<(ReportModel, PeriodSummary), DiffError> {
    let options = VerifyOptions {
        trusted_keys: None,
        signers: None,
        trusted_tsa: None,
        purpose: Purpose::BeforeSigning,
        max_file_bytes: crate::evidence::load::DEFAULT_MAX_EVIDENCE_BYTES,
    };
    let verification = verify::verify(dir, &options).map_err(|source| DiffError::Read {
        dir: dir.to_path_buf(),
        message: source.message,
    })?;
    match verification.package {
        Some(package) => {
            let manifest_sha256 = crate::hash::sha256_hex(&package.manifest_bytes);
            let summary = PeriodSummary::of(&package.model, Some(manifest_sha256));
            Ok((package.model, summary))
        }
        None => {
            let failed: Vec<&str> = verification.failed_subjects().into_iter().collect();
            Err(DiffError::Invalid {
                dir: dir.to_path_buf(),
                failed: failed.join(", "),
            })
        }
    }
}

/// Why two packages cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot read the package {}: {message}", dir.display())]
    Read { dir: PathBuf, message: String },
    #[error("the package {} does not verify (failed: {failed}); run gxp-evidence verify on it", dir.display())]
    Invalid { dir: PathBuf, failed: String },
    #[error("cannot write the difference: {0}")]
    Render(String),
    #[error("{0}")]
    Summary(String),
    #[error(
        "the previous period's report {report_id} is about the system {theirs:?}, this report about {ours:?}"
    )]
    OtherSystem {
        report_id: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "the previous period's report {report_id} covers {theirs}, which does not end before this report's period {ours} begins"
    )]
    NotEarlier {
        report_id: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "reports {earlier} and {later} evaluated different controls (--checks / --exclude-checks): only {earlier} evaluated {only_earlier}; only {later} evaluated {only_later}. Their difference would show the requester's choice as drift, so they are not compared (report both with the same control selection)"
    )]
    OtherControls {
        earlier: String,
        later: String,
        only_earlier: String,
        only_later: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::demo_model as demo;

    #[test]
    fn a_report_compared_with_itself_has_no_difference() {
        let model = demo();
        let diff = PackageDiff::between(&PeriodSummary::of(&model, None), &model);
        assert!(diff.is_empty(), "{diff:#?}");
        assert!(diff.to_text().ends_with("No differences.\n"));
        assert_eq!(diff.rows(), Vec::<DiffRow>::new());
    }

    #[test]
    fn a_summary_reads_back_as_written_and_refuses_unknown_fields() {
        let summary = PeriodSummary::of(&demo(), Some("ab".repeat(32)));
        let bytes = summary.to_bytes();
        assert_eq!(PeriodSummary::parse(&bytes).unwrap(), summary);
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        value["extra"] = serde_json::json!(1);
        let err = PeriodSummary::parse(value.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
        value.as_object_mut().unwrap().remove("extra");
        value["summary_format"] = serde_json::json!(9);
        let err = PeriodSummary::parse(value.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("summary_format 9"), "{err}");
    }

    #[test]
    fn a_status_change_is_matched_by_finding_id() {
        let earlier = demo();
        let mut summary = PeriodSummary::of(&earlier, None);
        let flipped = summary
            .findings
            .iter_mut()
            .find(|f| f.status == Status::Fail)
            .unwrap();
        flipped.status = Status::Pass;
        let id = flipped.id.clone();
        let diff = PackageDiff::between(&summary, &earlier);
        assert_eq!(diff.status_changes.len(), 1, "{diff:#?}");
        let change = &diff.status_changes[0];
        assert_eq!(change.finding_id, id);
        assert_eq!((change.from, change.to), (Status::Pass, Status::Fail));
        assert_eq!(diff.counts()[2], ("Status changes", 1));
        assert!(diff.section().intro.contains("Status changes: 1"));
    }

    #[test]
    fn a_setting_that_appeared_reads_as_a_change_from_none() {
        let row = DiffRow {
            kind: "setting_change",
            resource: "keys: 1/eu-central-1/k".to_string(),
            field: "rotation_period_days".to_string(),
            to: "365".to_string(),
            ..DiffRow::default()
        };
        assert_eq!(
            row.describe(),
            "keys: 1/eu-central-1/k: rotation_period_days (none) → 365"
        );
    }

    #[test]
    fn the_previous_period_must_be_of_the_same_system_and_end_before() {
        let model = demo();
        let summary = PeriodSummary::of(&model, None);
        let err = summary
            .check_precedes(&model.system_name, &model.period)
            .unwrap_err();
        assert!(matches!(err, DiffError::NotEarlier { .. }), "{err}");
        let next = Period {
            start: model.period.end,
            end: Timestamp::parse("2026-12-01T00:00:00Z").unwrap(),
        };
        summary.check_precedes(&model.system_name, &next).unwrap();
        let err = summary.check_precedes("Other", &next).unwrap_err();
        assert!(matches!(err, DiffError::OtherSystem { .. }), "{err}");
    }
}
