//! The period rule: a control is PASS for a reporting period only if it held at every moment
//! of it (or of the resource's life inside it). The snapshot holds each resource as it was at
//! collection time and the change events from the period start up to that time; this module
//! replays those events over the collected state to rebuild the resource as it was between
//! changes ("versions"), lets the control's own evaluator judge every version that overlaps
//! the period, and merges the verdicts: FAIL if any version failed (with its interval and the
//! event that set it), else EVIDENCE_GAP if any version cannot be rebuilt, else PASS.
//!
//! CloudTrail records what a call asked for, not the value it replaced. So a setting's value
//! before its first recorded change is unknown (an evidence gap) unless the resource was
//! created by a recorded event; after a change it is the value the change set. A setting that
//! no event touched kept its collected value throughout. docs/controls.md "The period rule".

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Evaluation, Finding, Status};
use crate::evidence::{Period, Timestamp};

/// One recorded change event, as the replay names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub id: String,
    pub name: String,
    pub at: Timestamp,
}

impl EventRef {
    /// `UpdateStage 0f1e… at 2026-10-04 09:12:00 UTC`
    pub fn describe(&self) -> String {
        format!("{} {} at {}", self.name, self.id, self.at.display_utc())
    }
}

/// What a change did to one setting: set it, removed it (the AWS default applies again), or
/// something the rules cannot read.
#[derive(Debug, Clone, PartialEq)]
pub enum NewValue {
    Set(Value),
    Removed,
    Unknown(String),
}

/// One setting of one resource changed by one event. `field` is the path of the setting in
/// the resource's snapshot form (its JSON field names).
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub event: EventRef,
    pub field: Vec<String>,
    pub value: NewValue,
}

/// Everything the events say about one resource between the period start and collection.
/// A creation records the settings it gave the resource as effects at the creation time.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub effects: Vec<Effect>,
    /// Created by a recorded event: no version before it.
    pub created: Option<EventRef>,
    /// Deleted by a recorded event: no version after it.
    pub deleted: Option<EventRef>,
}

impl History {
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty() && self.created.is_none() && self.deleted.is_none()
    }

    /// How many distinct events the history holds.
    pub fn event_count(&self) -> usize {
        let mut ids: Vec<&str> = self
            .effects
            .iter()
            .map(|e| e.event.id.as_str())
            .chain(self.created.iter().map(|e| e.id.as_str()))
            .chain(self.deleted.iter().map(|e| e.id.as_str()))
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    }

    /// Whether the resource existed at `at`: after its recorded creation and before its
    /// recorded deletion — or, when it was deleted and then created again under the same
    /// name, before the deletion or after the new creation.
    fn exists_at(&self, at: Timestamp) -> bool {
        let created = self.created.as_ref().map(|e| e.at);
        let deleted = self.deleted.as_ref().map(|e| e.at);
        match (created, deleted) {
            (Some(created), Some(deleted)) if deleted <= created => at < deleted || at >= created,
            _ => created.is_none_or(|c| at >= c) && deleted.is_none_or(|d| at < d),
        }
    }

    fn times(&self) -> Vec<Timestamp> {
        let mut times: Vec<Timestamp> = self
            .effects
            .iter()
            .map(|e| e.event.at)
            .chain(self.created.iter().map(|e| e.at))
            .chain(self.deleted.iter().map(|e| e.at))
            .collect();
        times.sort();
        times.dedup();
        times
    }
}

/// An effect on no particular setting: the event changed the resource in a way the rules
/// cannot read, so no version of it can be trusted.
pub fn opaque(event: EventRef, why: impl Into<String>) -> Effect {
    Effect {
        event,
        field: Vec::new(),
        value: NewValue::Unknown(why.into()),
    }
}

/// The resource as it was over `[from, to)`: rebuilt in snapshot form, with what could not be
/// rebuilt named in `unknown`, and the latest event that changed it before `from`.
#[derive(Debug, Clone)]
pub struct Version {
    pub from: Timestamp,
    pub to: Timestamp,
    pub state: Value,
    pub unknown: Vec<String>,
    /// An event changed the resource in a way the rules cannot read: nothing the evaluator
    /// concludes from this version can be trusted to PASS.
    pub opaque: bool,
    pub set_by: Option<EventRef>,
}

/// How far the change events reach: the replay is sound only over events read without gaps
/// from the period start up to the collection of the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Every change up to the collection time was read.
    Complete,
    /// The changes of this time cannot be known; the reason says why.
    Missing(String),
}

/// The versions of a resource that overlap the period. `current` is the collected state, or
/// for a resource deleted before collection (`collected` false) a skeleton with its name;
/// `until` is the collection time.
pub fn versions(
    current: &Value,
    collected: bool,
    history: &History,
    period: &Period,
    until: Timestamp,
) -> Vec<Version> {
    let mut effects: Vec<&Effect> = history.effects.iter().collect();
    effects.sort_by_key(|e| e.event.at);
    let opaque: Vec<String> = effects
        .iter()
        .filter(|e| e.field.is_empty())
        .filter_map(|e| match &e.value {
            NewValue::Unknown(why) => Some(format!("{}: {why}", e.event.describe())),
            _ => None,
        })
        .collect();
    // Settings changed at some time: their value before the first change is not recorded.
    let mut touched: BTreeMap<&[String], &EventRef> = BTreeMap::new();
    for effect in effects.iter().filter(|e| !e.field.is_empty()) {
        touched
            .entry(effect.field.as_slice())
            .or_insert(&effect.event);
    }
    let unexplained = if collected {
        unexplained_fields(current, &effects, &touched)
    } else {
        Vec::new()
    };

    let mut bounds = vec![period.start];
    bounds.extend(
        history
            .times()
            .into_iter()
            .filter(|t| *t > period.start && *t < until),
    );
    bounds.push(until.max(period.start));
    let mut out = Vec::new();
    for window in bounds.windows(2) {
        let (from, to) = (window[0], window[1]);
        let empty = from == to && to != period.start;
        if from >= period.end || empty || !history.exists_at(from) {
            continue;
        }
        let mut unknown = opaque.clone();
        let mut state = current.clone();
        let mut not_recorded: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (field, first) in &touched {
            mark_unknown(&mut state, field);
            if first.at > from {
                not_recorded
                    .entry(first.describe())
                    .or_default()
                    .push(field.join("."));
            }
        }
        for (event, fields) in not_recorded {
            unknown.push(format!(
                "{} before {event} {} not recorded (CloudTrail records the new value, not the old one)",
                fields.join(", "),
                if fields.len() == 1 { "is" } else { "are" }
            ));
        }
        if !collected && history.created.is_none() {
            unknown.push(
                "the resource was deleted before collection; settings no recorded event set are not known".to_string(),
            );
        }
        let mut set_by = history.created.clone().filter(|e| e.at <= from);
        for effect in effects.iter().filter(|e| e.event.at <= from) {
            set_by = Some(effect.event.clone());
            apply(&mut state, effect, &mut unknown);
        }
        for (field, why) in &unexplained {
            mark_unknown(&mut state, field);
            unknown.push(why.clone());
        }
        out.push(Version {
            from,
            to: to.min(period.end).max(from),
            state,
            unknown,
            opaque: !opaque.is_empty(),
            set_by,
        });
    }
    out
}

fn apply(state: &mut Value, effect: &Effect, unknown: &mut Vec<String>) {
    match &effect.value {
        NewValue::Set(value) => set_field(state, &effect.field, value.clone()),
        NewValue::Removed => remove_field(state, &effect.field),
        NewValue::Unknown(why) if !effect.field.is_empty() => {
            mark_unknown(state, &effect.field);
            unknown.push(format!("{}: {why}", effect.event.describe()));
        }
        NewValue::Unknown(_) => {}
    }
}

/// Settings the replayed events do not bring to their collected value: an event is missing
/// or was misread, so their history cannot be trusted.
fn unexplained_fields(
    current: &Value,
    effects: &[&Effect],
    touched: &BTreeMap<&[String], &EventRef>,
) -> Vec<(Vec<String>, String)> {
    let mut replayed = current.clone();
    for field in touched.keys() {
        mark_unknown(&mut replayed, field);
    }
    let mut ignored = Vec::new();
    for effect in effects {
        apply(&mut replayed, effect, &mut ignored);
    }
    let mut last: BTreeMap<&[String], &EventRef> = BTreeMap::new();
    for effect in effects.iter().filter(|e| !e.field.is_empty()) {
        last.insert(effect.field.as_slice(), &effect.event);
    }
    touched
        .keys()
        .filter(|field| {
            let unknown_last = effects.iter().rev().find(|e| e.field.as_slice() == **field).is_some_and(|e| matches!(e.value, NewValue::Unknown(_)));
            !unknown_last && get_field(&replayed, field) != get_field(current, field)
        })
        .map(|field| {
            let by = last.get(field).map(|e| e.describe()).unwrap_or_default();
            (
                field.to_vec(),
                format!(
                    "{} was last set by {by}, which does not give the collected value: a change is missing from the events",
                    field.join(".")
                ),
            )
        })
        .collect()
}

fn get_field<'v>(state: &'v Value, field: &[String]) -> Option<&'v Value> {
    field
        .iter()
        .try_fold(state, |value, key| value.as_object()?.get(key))
        .filter(|v| !v.is_null())
}

fn set_field(state: &mut Value, field: &[String], value: Value) {
    let Some((last, parents)) = field.split_last() else {
        return;
    };
    let mut node = state;
    for key in parents {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        node = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(map) = node {
        map.insert(last.clone(), value);
    }
}

fn remove_field(state: &mut Value, field: &[String]) {
    let Some((last, parents)) = field.split_last() else {
        return;
    };
    let mut node = state;
    for key in parents {
        match node.as_object_mut().and_then(|m| m.get_mut(key)) {
            Some(next) => node = next,
            None => return,
        }
    }
    if let Some(map) = node.as_object_mut() {
        map.remove(last);
    }
}

/// Maps whose entries are groups of settings (a stage's `methodSettings`): an entry missing
/// from the collected state that an event touched was there before, with unknown settings —
/// never absent, which the evaluators read as "the defaults apply".
/// A whole map that is unknown holds one entry with nothing known: the stage-wide `*/*`.
const ENTRY_MAPS: &[(&str, &str)] = &[("methodSettings", "*/*")];

/// An unknown setting: a leaf is left out (a missing field is unknown to the evaluators); an
/// unknown entry of a map (a method setting) is kept with no known field, also when the
/// collected state no longer has it.
fn mark_unknown(state: &mut Value, field: &[String]) {
    let entry_map = field
        .first()
        .and_then(|name| ENTRY_MAPS.iter().find(|(map, _)| map == name));
    if let (Some((_, unknown_entry)), 1) = (entry_map, field.len()) {
        let mut entries = Map::new();
        entries.insert((*unknown_entry).to_string(), Value::Object(Map::new()));
        set_field(state, field, Value::Object(entries));
        return;
    }
    let entry_len = entry_map.map(|_| 2).filter(|_| field.len() >= 2);
    if let Some(len) = entry_len
        && get_field(state, &field[..len]).is_none()
    {
        set_field(state, &field[..len], Value::Object(Map::new()));
    }
    match get_field(state, field) {
        Some(Value::Object(_)) => set_field(state, field, Value::Object(Map::new())),
        _ => remove_field(state, field),
    }
}

/// Rebuilds a version in the evaluator's type. A version that does not fit the type (a
/// required setting is unknown) cannot be judged.
pub fn typed<T: DeserializeOwned>(version: &Version) -> Option<T> {
    serde_json::from_value(version.state.clone()).ok()
}

/// The snapshot form of a collected resource.
pub fn snapshot_form<T: Serialize>(resource: &T) -> Value {
    serde_json::to_value(resource).unwrap_or(Value::Null)
}

/// What the replay of a region needs: the period, the collection time the collected state is
/// of, and whether the change events up to it were all read.
pub struct Replay<'p> {
    pub period: &'p Period,
    pub until: Timestamp,
    pub coverage: Coverage,
}

impl<'p> Replay<'p> {
    /// A replay with no change recorded and every change read: the collected state held
    /// throughout `period` (collected at its end).
    pub fn unchanged(period: &'p Period) -> Self {
        Replay {
            period,
            until: period.end,
            coverage: Coverage::Complete,
        }
    }

    /// Judges one resource over the period. `current` is its collected state (`None` when a
    /// recorded event deleted it before collection; `skeleton` then names it); `evaluate` is
    /// the control's own evaluator of one state; `gap_rows` gives the rows a state that cannot
    /// be rebuilt gets, with their reason. The detail rows (methods, stages, keys) are those of
    /// the collected state; the findings are the period's, returned and added to `out`.
    pub fn judge<T: Serialize + DeserializeOwned>(
        &self,
        current: Option<&T>,
        skeleton: Value,
        history: &History,
        mut evaluate: impl FnMut(&T, &mut Evaluation),
        gap_rows: impl Fn(&str) -> Vec<Finding>,
        out: &mut Evaluation,
    ) -> Vec<Finding> {
        let mut collected_findings = Vec::new();
        if let Some(current) = current {
            let mut collected = Evaluation::default();
            evaluate(current, &mut collected);
            out.methods.append(&mut collected.methods);
            out.stages.append(&mut collected.stages);
            out.keys.append(&mut collected.keys);
            out.trails.append(&mut collected.trails);
            if !history.is_empty() {
                collected_findings = collected.findings;
            } else {
                // Nothing changed: the collected state is the period's, if no change was missed.
                let whole_period = Version {
                    from: self.period.start,
                    to: self.period.end,
                    state: Value::Null,
                    unknown: Vec::new(),
                    opaque: false,
                    set_by: None,
                };
                let judged = [Judged {
                    version: &whole_period,
                    findings: collected.findings,
                }];
                let findings = merge(&judged, &self.coverage, 0);
                out.findings.extend(findings.iter().cloned());
                return findings;
            }
        }
        let state = current.map_or(skeleton, |c| snapshot_form(c));
        let versions = versions(&state, current.is_some(), history, self.period, self.until);
        let judged: Vec<Judged> = versions
            .iter()
            .map(|version| {
                let findings = match typed::<T>(version) {
                    Some(resource) => {
                        let mut scratch = Evaluation::default();
                        evaluate(&resource, &mut scratch);
                        scratch.findings
                    }
                    None => gap_rows(&format!(
                        "its state {} cannot be rebuilt: {}",
                        interval_text(version),
                        version.unknown.join("; ")
                    )),
                };
                Judged { version, findings }
            })
            .collect();
        let mut findings = merge(&judged, &self.coverage, history.event_count());
        fix_as_collected(&mut findings, &collected_findings);
        out.findings.extend(findings.iter().cloned());
        findings
    }
}

/// The findings of one version, with the version they judge.
pub struct Judged<'v> {
    pub version: &'v Version,
    pub findings: Vec<Finding>,
}

/// Merges the findings of every version into one finding per control, resource and view:
/// the worst status (FAIL, then EVIDENCE_GAP, then PASS, NOT_APPLICABLE, NO_RESOURCES) with
/// the intervals it held and the events that set them. `changes` is how many events were
/// replayed for the resource; `coverage` whether the events can be trusted at all.
pub fn merge(judged: &[Judged], coverage: &Coverage, replayed: usize) -> Vec<Finding> {
    let mut grouped: BTreeMap<_, Vec<(&Version, &Finding)>> = BTreeMap::new();
    for judged_version in judged {
        for finding in &judged_version.findings {
            grouped
                .entry(finding.subject())
                .or_default()
                .push((judged_version.version, finding));
        }
    }
    grouped
        .into_values()
        .filter_map(|rows| merge_rows(&rows, coverage, replayed))
        .collect()
}

/// A FAIL's fix is what to run on the resource as it is now, i.e. as collected, not as it
/// was at the period's end: a setting corrected after the period needs no command (only the
/// deviation recorded), and one broken again since needs today's command.
fn fix_as_collected(findings: &mut [Finding], collected: &[Finding]) {
    for finding in findings.iter_mut().filter(|f| f.status == Status::Fail) {
        let now = collected.iter().find(|c| c.subject() == finding.subject());
        match now {
            Some(now) if now.status == Status::Fail => {
                finding.remediation.clone_from(&now.remediation);
            }
            Some(now) if matches!(now.status, Status::Pass | Status::Controlled) => {
                finding.remediation =
                    super::remediation::corrected_before_collection(&finding.resource);
            }
            _ => {}
        }
    }
}

fn severity(status: Status) -> u8 {
    match status {
        Status::Fail => 4,
        Status::EvidenceGap => 3,
        Status::Pass | Status::Controlled => 2,
        Status::NotApplicable => 1,
        Status::NoResources => 0,
    }
}

fn interval_text(version: &Version) -> String {
    format!(
        "from {} to {}",
        version.from.display_utc(),
        version.to.display_utc()
    )
}

fn merge_rows(
    rows: &[(&Version, &Finding)],
    coverage: &Coverage,
    replayed: usize,
) -> Option<Finding> {
    // A version changed in a way the rules cannot read is no proof of a PASS.
    let opaque_passes: Vec<(&Version, Finding)> = rows
        .iter()
        .filter(|(v, f)| v.opaque && f.status == Status::Pass)
        .map(|(v, f)| {
            let mut gap = (*f).clone();
            gap.status = Status::EvidenceGap;
            (*v, gap)
        })
        .collect();
    let rows: Vec<(&Version, &Finding)> = rows
        .iter()
        .filter(|(v, f)| !(v.opaque && f.status == Status::Pass))
        .copied()
        .chain(opaque_passes.iter().map(|(v, f)| (*v, f)))
        .collect();
    let rows = rows.as_slice();
    let worst = rows
        .iter()
        .map(|(_, f)| f.status)
        .max_by_key(|s| severity(*s))?;
    let mut merged = rows.last().map(|(_, f)| (*f).clone())?;
    if let Coverage::Missing(why) = coverage {
        if matches!(merged.status, Status::Pass | Status::Fail) || worst == Status::Fail {
            merged.reason = format!(
                "as collected: {} — {}; whether this held through the period cannot be established: {why}",
                merged.status.as_str(),
                merged.reason
            );
            merged.status = Status::EvidenceGap;
            merged.remediation.clear();
        }
        return Some(merged);
    }
    let single = rows.len() == 1 && rows[0].0.unknown.is_empty() && !rows[0].0.opaque;
    if single {
        if merged.status == Status::Pass {
            merged.reason = format!(
                "{}. {}",
                merged.reason.trim_end_matches('.'),
                if replayed == 0 {
                    "No change in the period or up to collection.".to_string()
                } else {
                    format!("Held throughout the period ({replayed} change(s) replayed).")
                }
            );
        }
        return Some(merged);
    }
    let of = |status: Status| -> Vec<&(&Version, &Finding)> {
        rows.iter().filter(|(_, f)| f.status == status).collect()
    };
    merged.status = worst;
    if worst == Status::Fail && merged.remediation.is_empty() {
        merged.remediation = super::remediation::corrected_before_collection(&merged.resource);
    }
    merged.reason = match worst {
        Status::Fail => {
            // Adjacent intervals that failed for the same reason read as one.
            let mut spans: Vec<(Timestamp, Timestamp, Option<&EventRef>, &str)> = Vec::new();
            for (version, finding) in of(Status::Fail) {
                let reason = finding.reason.trim_end_matches('.');
                match spans.last_mut() {
                    Some(last) if last.1 == version.from && last.3 == reason => last.1 = version.to,
                    _ => spans.push((version.from, version.to, version.set_by.as_ref(), reason)),
                }
            }
            let listed = list_intervals(&spans, |(from, to, set_by, reason)| {
                let by = set_by
                    .map(|e| format!(" (since {})", e.describe()))
                    .unwrap_or_default();
                format!(
                    "from {} to {}{by}: {reason}",
                    from.display_utc(),
                    to.display_utc()
                )
            });
            format!("Did not hold throughout the period: {listed}.")
        }
        Status::EvidenceGap => {
            let gaps = of(Status::EvidenceGap);
            let (version, finding) = gaps[0];
            let why = if version.unknown.is_empty() {
                finding.reason.clone()
            } else {
                version.unknown.join("; ")
            };
            format!(
                "Cannot be proven for the whole period: {}, {}.",
                interval_text(version),
                why.trim_end_matches('.')
            )
        }
        _ => format!(
            "{}. Held throughout the period ({replayed} change(s) replayed over {} interval(s)).",
            merged.reason.trim_end_matches('.'),
            rows.len()
        ),
    };
    Some(merged)
}

/// How many failing intervals a reason names one by one; a resource flipped more often than
/// this in one period has the rest counted, each traceable to its change in the register.
const LISTED_INTERVALS: usize = 10;

/// The failing intervals of a reason, `; `-joined: the first [`LISTED_INTERVALS`] described,
/// the rest counted.
pub fn list_intervals<T>(intervals: &[T], describe: impl Fn(&T) -> String) -> String {
    let mut parts: Vec<String> = intervals
        .iter()
        .take(LISTED_INTERVALS)
        .map(describe)
        .collect();
    if intervals.len() > LISTED_INTERVALS {
        parts.push(format!(
            "and {} more interval(s), each set by a change in the change register",
            intervals.len() - LISTED_INTERVALS
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn october() -> Period {
        Period {
            start: at("2026-10-01T00:00:00Z"),
            end: at("2026-11-01T00:00:00Z"),
        }
    }

    /// The versions of a resource collected at 06:00 on 1 November, for October.
    fn collected_on_1_november(current: &Value, history: &History) -> Vec<Version> {
        versions(
            current,
            true,
            history,
            &october(),
            at("2026-11-01T06:00:00Z"),
        )
    }

    fn event(name: &str, time: &str) -> EventRef {
        EventRef {
            id: format!("id-{name}-{time}"),
            name: name.to_string(),
            at: at(time),
        }
    }

    fn set(time: &str, field: &[&str], value: Value) -> Effect {
        Effect {
            event: event("Update", time),
            field: field.iter().map(|s| s.to_string()).collect(),
            value: NewValue::Set(value),
        }
    }

    #[test]
    fn no_change_is_one_version_of_the_collected_state() {
        let current = json!({"encrypted": true});
        let versions = versions(
            &current,
            true,
            &History::default(),
            &october(),
            at("2026-11-01T06:00:00Z"),
        );
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].state, current);
        assert!(versions[0].unknown.is_empty());
    }

    #[test]
    fn a_fix_after_the_period_leaves_the_period_unknown_not_pass() {
        let current = json!({"encrypted": true});
        let history = History {
            effects: vec![set("2026-11-03T08:00:00Z", &["encrypted"], json!(true))],
            ..History::default()
        };
        let versions = versions(
            &current,
            true,
            &history,
            &october(),
            at("2026-11-05T00:00:00Z"),
        );
        assert_eq!(
            versions.len(),
            1,
            "only the version inside the period is judged"
        );
        assert_eq!(versions[0].state, json!({}), "encrypted is unknown");
        assert!(versions[0].unknown[0].contains("before Update"));
    }

    #[test]
    fn an_interval_set_by_an_event_is_known_and_bounded() {
        let current = json!({"encrypted": true, "other": 1});
        let history = History {
            effects: vec![
                set("2026-10-04T09:12:00Z", &["encrypted"], json!(false)),
                set("2026-10-20T08:00:00Z", &["encrypted"], json!(true)),
            ],
            ..History::default()
        };
        let versions = collected_on_1_november(&current, &history);
        let states: Vec<&Value> = versions.iter().map(|v| &v.state).collect();
        assert_eq!(
            states,
            [
                &json!({"other": 1}),
                &json!({"encrypted": false, "other": 1}),
                &json!({"encrypted": true, "other": 1})
            ]
        );
        assert_eq!(versions[1].from, at("2026-10-04T09:12:00Z"));
        assert_eq!(versions[1].to, at("2026-10-20T08:00:00Z"));
        assert_eq!(versions[2].to, october().end, "clipped to the period");
    }

    #[test]
    fn a_resource_created_by_a_recorded_event_is_known_from_creation() {
        let current = json!({"encrypted": true});
        let history = History {
            created: Some(event("Update", "2026-10-10T00:00:00Z")),
            effects: vec![
                set("2026-10-10T00:00:00Z", &["encrypted"], json!(false)),
                set("2026-10-12T00:00:00Z", &["encrypted"], json!(true)),
            ],
            ..History::default()
        };
        let versions = collected_on_1_november(&current, &history);
        let states: Vec<&Value> = versions.iter().map(|v| &v.state).collect();
        assert_eq!(
            states,
            [&json!({"encrypted": false}), &json!({"encrypted": true})]
        );
        assert!(versions.iter().all(|v| v.unknown.is_empty()));
    }

    #[test]
    fn a_last_change_that_does_not_give_the_collected_value_makes_the_setting_unknown() {
        let current = json!({"encrypted": false});
        let history = History {
            effects: vec![set("2026-10-04T00:00:00Z", &["encrypted"], json!(true))],
            ..History::default()
        };
        let versions = collected_on_1_november(&current, &history);
        assert!(versions.iter().all(|v| v.state == json!({})));
        assert!(versions[1].unknown[0].contains("a change is missing"));
    }

    #[test]
    fn a_method_setting_removed_later_was_there_before_with_unknown_settings() {
        // Collected without the entry; an UpdateStage removed it on 10 October. Before that
        // the entry existed and its settings are unknown — not absent, which would read as
        // API Gateway's defaults (caching off) and pass.
        let current = json!({"methodSettings": {}});
        let history = History {
            effects: vec![Effect {
                event: event("UpdateStage", "2026-10-10T00:00:00Z"),
                field: vec!["methodSettings".into(), "~1a/GET".into()],
                value: NewValue::Removed,
            }],
            ..History::default()
        };
        let versions = collected_on_1_november(&current, &history);
        assert_eq!(
            versions[0].state,
            json!({"methodSettings": {"~1a/GET": {}}})
        );
        assert_eq!(versions[1].state, json!({"methodSettings": {}}));
        // A setting of an entry that is gone when collected: its entry was there too.
        let history = History {
            effects: vec![set(
                "2026-10-10T00:00:00Z",
                &["methodSettings", "~1b/GET", "cachingEnabled"],
                json!(true),
            )],
            ..History::default()
        };
        let versions = collected_on_1_november(&current, &history);
        assert_eq!(
            versions[0].state,
            json!({"methodSettings": {"~1b/GET": {}}})
        );
    }

    #[test]
    fn a_resource_deleted_and_created_again_is_judged_before_and_after() {
        // Deleted on 10 October, created again under the same name on 12 October: both lives
        // are judged (the first with its settings unknown), never neither.
        let current = json!({"encrypted": true});
        let history = History {
            deleted: Some(event("Delete", "2026-10-10T00:00:00Z")),
            created: Some(event("Create", "2026-10-12T00:00:00Z")),
            effects: vec![set("2026-10-12T00:00:00Z", &["encrypted"], json!(true))],
        };
        let versions = collected_on_1_november(&current, &history);
        let spans: Vec<(Timestamp, Timestamp)> = versions.iter().map(|v| (v.from, v.to)).collect();
        assert_eq!(
            spans,
            [
                (october().start, at("2026-10-10T00:00:00Z")),
                (at("2026-10-12T00:00:00Z"), october().end)
            ]
        );
        assert_eq!(
            versions[0].state,
            json!({}),
            "the first life's setting is unknown"
        );
        assert_eq!(versions[1].state, json!({"encrypted": true}));
        assert!(versions[0].set_by.is_none(), "the creation came after it");
        // A whole map of method settings that is unknown is one entry with nothing known, never
        // an empty map (which reads as API Gateway's defaults).
        let current = json!({"methodSettings": {"*/*": {"cachingEnabled": false}}});
        let history = History {
            deleted: Some(event("Delete", "2026-10-10T00:00:00Z")),
            created: Some(event("Create", "2026-10-12T00:00:00Z")),
            effects: vec![set("2026-10-12T00:00:00Z", &["methodSettings"], json!({}))],
        };
        let versions = collected_on_1_november(&current, &history);
        assert_eq!(versions[0].state, json!({"methodSettings": {"*/*": {}}}));
    }

    #[test]
    fn a_deleted_resource_is_judged_until_its_deletion() {
        let history = History {
            effects: vec![set("2026-10-02T00:00:00Z", &["encrypted"], json!(false))],
            deleted: Some(event("Delete", "2026-10-05T00:00:00Z")),
            ..History::default()
        };
        let versions = versions(
            &json!({}),
            false,
            &history,
            &october(),
            at("2026-11-01T06:00:00Z"),
        );
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1].state, json!({"encrypted": false}));
        assert_eq!(versions[1].to, at("2026-10-05T00:00:00Z"));
    }

    fn finding(status: Status, reason: &str) -> Finding {
        Finding {
            control_id: "c".into(),
            account_id: "a".into(),
            region: "r".into(),
            resource: "x".into(),
            view: None,
            status,
            reason: reason.into(),
            remediation: String::new(),
        }
    }

    #[test]
    fn a_fail_gets_the_fix_of_the_resource_as_collected() {
        let failed_in_period = || Finding {
            remediation: "aws fix --as-at-period-end".into(),
            ..finding(Status::Fail, "off from … to …")
        };
        // Corrected after the period: nothing to run, the interval is a deviation.
        let mut merged = [failed_in_period()];
        fix_as_collected(&mut merged, &[finding(Status::Pass, "on")]);
        assert!(
            merged[0]
                .remediation
                .starts_with("No command to run: x passes as collected"),
            "{}",
            merged[0].remediation
        );
        // Broken again since, differently: today's command.
        let mut merged = [failed_in_period()];
        let now = Finding {
            remediation: "aws fix --as-collected".into(),
            ..finding(Status::Fail, "off")
        };
        fix_as_collected(&mut merged, &[now]);
        assert_eq!(merged[0].remediation, "aws fix --as-collected");
        // Not evaluable now, or gone: the fix stays as the period's end needs it.
        for collected in [vec![finding(Status::EvidenceGap, "?")], vec![]] {
            let mut merged = [failed_in_period()];
            fix_as_collected(&mut merged, &collected);
            assert_eq!(merged[0].remediation, "aws fix --as-at-period-end");
        }
    }

    #[test]
    fn merge_is_fail_if_any_interval_failed_naming_interval_and_event() {
        let current = json!({"encrypted": true});
        let history = History {
            effects: vec![
                set("2026-10-04T09:12:00Z", &["encrypted"], json!(false)),
                set("2026-10-20T08:00:00Z", &["encrypted"], json!(true)),
            ],
            ..History::default()
        };
        let versions = collected_on_1_november(&current, &history);
        let judged: Vec<Judged> = versions
            .iter()
            .map(|v| Judged {
                version: v,
                findings: vec![match v.state.get("encrypted") {
                    Some(Value::Bool(true)) => finding(Status::Pass, "encrypted"),
                    Some(_) => finding(Status::Fail, "not encrypted"),
                    None => finding(Status::EvidenceGap, "unknown"),
                }],
            })
            .collect();
        let merged = merge(&judged, &Coverage::Complete, 2);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].status, Status::Fail);
        // Corrected before collection: no command, but the interval is a deviation to record.
        assert!(
            merged[0]
                .remediation
                .starts_with("No command to run: x passes as collected"),
            "{}",
            merged[0].remediation
        );
        assert!(
            merged[0].reason.contains(
                "from 2026-10-04 09:12:00 UTC to 2026-10-20 08:00:00 UTC (since Update id-Update-2026-10-04T09:12:00Z"
            ),
            "{}",
            merged[0].reason
        );
        // Without the failing interval, the unknown start makes it a gap, never a PASS.
        let without_fail: Vec<Judged> = judged
            .into_iter()
            .filter(|j| j.findings[0].status != Status::Fail)
            .collect();
        let merged = merge(&without_fail, &Coverage::Complete, 2);
        assert_eq!(merged[0].status, Status::EvidenceGap);
        assert!(
            merged[0].reason.contains("is not recorded"),
            "{}",
            merged[0].reason
        );
    }

    #[test]
    fn adjacent_intervals_failing_for_the_same_reason_read_as_one() {
        let version = |from: &str, to: &str| Version {
            from: at(from),
            to: at(to),
            state: json!({}),
            unknown: Vec::new(),
            opaque: false,
            set_by: None,
        };
        let versions = [
            version("2026-10-01T00:00:00Z", "2026-10-05T00:00:00Z"),
            version("2026-10-05T00:00:00Z", "2026-10-09T00:00:00Z"),
            version("2026-10-09T00:00:00Z", "2026-11-01T00:00:00Z"),
        ];
        let judged: Vec<Judged> = versions
            .iter()
            .zip([Status::Fail, Status::Fail, Status::Pass])
            .map(|(version, status)| Judged {
                version,
                findings: vec![finding(status, "not encrypted")],
            })
            .collect();
        let merged = merge(&judged, &Coverage::Complete, 2);
        assert_eq!(
            merged[0].reason,
            "Did not hold throughout the period: from 2026-10-01 00:00:00 UTC to 2026-10-09 00:00:00 UTC: not encrypted."
        );
    }

    #[test]
    fn missing_coverage_never_passes_or_fails() {
        let version = Version {
            from: october().start,
            to: october().end,
            state: json!({}),
            unknown: Vec::new(),
            opaque: false,
            set_by: None,
        };
        for status in [Status::Pass, Status::Fail] {
            let judged = [Judged {
                version: &version,
                findings: vec![finding(status, "r")],
            }];
            let merged = merge(&judged, &Coverage::Missing("LookupEvents failed".into()), 0);
            assert_eq!(merged[0].status, Status::EvidenceGap);
            assert!(merged[0].reason.contains("LookupEvents failed"));
        }
        let judged = [Judged {
            version: &version,
            findings: vec![finding(Status::NotApplicable, "symmetric only")],
        }];
        let merged = merge(&judged, &Coverage::Missing("x".into()), 0);
        assert_eq!(merged[0].status, Status::NotApplicable);
    }
}
