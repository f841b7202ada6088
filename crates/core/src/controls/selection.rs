//! Which controls of the catalog a report evaluates when the requester narrows it
//! (`--checks`, `--exclude-checks`, the run config's `report.checks` / `report.exclude_checks`).
//!
//! A silently missing control is the second-worst thing this product can do, so a selection
//! is never silent: it is validated against the catalog (an unknown id is an error, never
//! ignored), it must leave at least one control, it is sealed in the manifest with the other
//! report-time settings (so `verify` re-evaluates the same controls and the report id changes),
//! and it says which controls were *not* evaluated wherever the verdict is shown.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::catalog::{CATALOG, Control};

/// The requester's choice of controls. `checks` empty means "every control"; `exclude_checks`
/// is applied after `checks`, so `--checks a,b,c --exclude-checks b` evaluates a and c.
/// Constructed only through [`ControlSelection::new`] (also when read from a manifest), so a
/// selection naming an unknown control or leaving none never reaches a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RecordedSelection")]
pub struct ControlSelection {
    /// The controls asked for, in catalog order (empty: all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    checks: Vec<String>,
    /// The controls left out, in catalog order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    exclude_checks: Vec<String>,
}

/// The selection as the manifest records it, before it is checked against the catalog.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordedSelection {
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    exclude_checks: Vec<String>,
}

impl TryFrom<RecordedSelection> for ControlSelection {
    type Error = SelectionError;
    fn try_from(recorded: RecordedSelection) -> Result<Self, SelectionError> {
        let names = SelectionNames::FLAGS;
        ControlSelection::new(&recorded.checks, &recorded.exclude_checks, names)?.ok_or(
            SelectionError::Empty {
                checks: names.checks,
                exclude_checks: names.exclude_checks,
            },
        )
    }
}

/// The ids of the controls a report with `selection` evaluates (every control without one).
pub fn controls_evaluated(selection: Option<&ControlSelection>) -> BTreeSet<&'static str> {
    CATALOG
        .iter()
        .filter(|c| selection.is_none_or(|s| s.evaluates(c.id)))
        .map(|c| c.id)
        .collect()
}

/// How the requester gave the two lists, for error messages: command-line flags or the run
/// config's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectionNames {
    pub checks: &'static str,
    pub exclude_checks: &'static str,
}

impl SelectionNames {
    pub const FLAGS: SelectionNames = SelectionNames {
        checks: "--checks",
        exclude_checks: "--exclude-checks",
    };
}

/// One id that is not a control, and where it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownId {
    pub list: &'static str,
    /// 1-based position in its list.
    pub position: usize,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error(
        "{}: not a control id; the control ids are: {} (gxp-evidence controls lists them)",
        describe_unknown(.0),
        catalog_ids()
    )]
    Unknown(Vec<UnknownId>),
    #[error(
        "{exclude_checks} {id}: {checks} does not select it, so excluding it changes nothing; leave it out of one of the two"
    )]
    ExcludedButNotSelected {
        checks: &'static str,
        exclude_checks: &'static str,
        id: String,
    },
    #[error(
        "{checks} and {exclude_checks} leave no control to evaluate; a report needs at least one (the control ids are: {})",
        catalog_ids()
    )]
    NothingLeft {
        checks: &'static str,
        exclude_checks: &'static str,
    },
    #[error("the recorded control selection names no control in {checks} or {exclude_checks}")]
    Empty {
        checks: &'static str,
        exclude_checks: &'static str,
    },
}

fn describe_unknown(unknown: &[UnknownId]) -> String {
    unknown
        .iter()
        .map(|u| format!("{} `{}` (item {})", u.list, u.id, u.position))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every control id of the catalog, comma-separated, for messages naming the valid ids.
pub fn catalog_ids() -> String {
    CATALOG.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
}

/// Why a control was not evaluated, as every format says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Omission {
    /// The requester listed controls and this one was not among them (`--checks`).
    NotInChecks,
    /// The requester excluded it (`--exclude-checks`).
    Excluded,
}

impl Omission {
    pub fn as_str(self) -> &'static str {
        match self {
            Omission::NotInChecks => "not_in_checks",
            Omission::Excluded => "excluded",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Omission::NotInChecks => "not evaluated: not selected by the requester (--checks)",
            Omission::Excluded => "not evaluated: excluded by the requester (--exclude-checks)",
        }
    }
}

/// A control of the catalog the report does not evaluate, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotEvaluated {
    pub control_id: &'static str,
    pub title: &'static str,
    pub reason: Omission,
    pub reason_text: &'static str,
}

/// What a report says about a selection (the document control in results.json, PDF and
/// HTML): the lists as requested, the controls evaluated and those not evaluated, with why.
#[derive(Debug, Clone, Serialize)]
pub struct SelectionReport {
    #[serde(flatten)]
    pub requested: ControlSelection,
    pub evaluated: Vec<&'static str>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// The sentence beside the verdict.
    pub verdict_scope: String,
}

impl SelectionReport {
    /// The ids of the controls left out, in catalog order (summaries, OCSF records).
    pub fn not_evaluated_ids(&self) -> Vec<&'static str> {
        self.not_evaluated.iter().map(|n| n.control_id).collect()
    }

    /// `2 of 9 controls evaluated`: beside the verdict wherever it is one short line (the PDF
    /// cover's banner, the command's summary line).
    pub fn count_text(&self) -> String {
        format!(
            "{} of {} controls evaluated",
            self.evaluated.len(),
            self.evaluated.len() + self.not_evaluated.len()
        )
    }
}

impl ControlSelection {
    /// What the report shows of this selection.
    pub fn report(&self) -> SelectionReport {
        SelectionReport {
            requested: self.clone(),
            evaluated: self.evaluated().map(|c| c.id).collect(),
            not_evaluated: self.not_evaluated(),
            verdict_scope: self.verdict_scope_text(),
        }
    }

    /// The selection of `checks` then `exclude_checks` (ids, blanks around them ignored);
    /// `None` when both are empty (every control, the report as without the options).
    /// Every unknown id is named at once, with the list and position it was given at.
    pub fn new(
        checks: &[String],
        exclude_checks: &[String],
        names: SelectionNames,
    ) -> Result<Option<Self>, SelectionError> {
        let mut unknown = Vec::new();
        let mut known = |list: &'static str, ids: &[String]| -> Vec<&'static str> {
            let mut found = Vec::new();
            for (index, id) in ids.iter().enumerate() {
                match CATALOG.iter().find(|c| c.id == id.trim()) {
                    Some(control) => found.push(control.id),
                    None => unknown.push(UnknownId {
                        list,
                        position: index + 1,
                        id: id.clone(),
                    }),
                }
            }
            found
        };
        let selected = known(names.checks, checks);
        let excluded = known(names.exclude_checks, exclude_checks);
        if !unknown.is_empty() {
            return Err(SelectionError::Unknown(unknown));
        }
        if selected.is_empty() && excluded.is_empty() {
            return Ok(None);
        }
        if !selected.is_empty()
            && let Some(id) = excluded.iter().find(|id| !selected.contains(id))
        {
            return Err(SelectionError::ExcludedButNotSelected {
                checks: names.checks,
                exclude_checks: names.exclude_checks,
                id: id.to_string(),
            });
        }
        let in_catalog_order = |ids: &[&str]| -> Vec<String> {
            CATALOG
                .iter()
                .filter(|c| ids.contains(&c.id))
                .map(|c| c.id.to_string())
                .collect()
        };
        let selection = ControlSelection {
            checks: in_catalog_order(&selected),
            exclude_checks: in_catalog_order(&excluded),
        };
        match selection.evaluated().count() {
            0 => Err(SelectionError::NothingLeft {
                checks: names.checks,
                exclude_checks: names.exclude_checks,
            }),
            // Every control listed: the full report, one document with one id, not a
            // "partial" report that leaves nothing out.
            all if all == CATALOG.len() => Ok(None),
            _ => Ok(Some(selection)),
        }
    }

    /// Why `control_id` is not evaluated, or `None` when it is.
    pub fn omission(&self, control_id: &str) -> Option<Omission> {
        if !self.checks.is_empty() && !self.checks.iter().any(|c| c == control_id) {
            Some(Omission::NotInChecks)
        } else if self.exclude_checks.iter().any(|c| c == control_id) {
            Some(Omission::Excluded)
        } else {
            None
        }
    }

    pub fn evaluates(&self, control_id: &str) -> bool {
        self.omission(control_id).is_none()
    }

    /// The evaluated controls, in catalog order.
    pub fn evaluated(&self) -> impl Iterator<Item = &'static Control> + '_ {
        CATALOG.iter().filter(|c| self.evaluates(c.id))
    }

    /// The controls of the catalog not evaluated, in catalog order, each with its reason.
    pub fn not_evaluated(&self) -> Vec<NotEvaluated> {
        CATALOG
            .iter()
            .filter_map(|c| {
                self.omission(c.id).map(|reason| NotEvaluated {
                    control_id: c.id,
                    title: c.title,
                    reason,
                    reason_text: reason.text(),
                })
            })
            .collect()
    }

    /// What the report id is made of (`document::id_inputs`): the same evidence with and
    /// without a selection, or with two selections, are different documents. Both lists as
    /// recorded, since the report says why each control was left out.
    pub fn id_input(&self) -> String {
        format!(
            "checks={};exclude-checks={}",
            self.checks.join(","),
            self.exclude_checks.join(",")
        )
    }

    /// `2 of 9: apigw-logging, kms-key-rotation`.
    pub fn evaluated_text(&self) -> String {
        let evaluated: Vec<&str> = self.evaluated().map(|c| c.id).collect();
        format!(
            "{} of {}: {}",
            evaluated.len(),
            CATALOG.len(),
            evaluated.join(", ")
        )
    }

    /// `cloudtrail-encryption (excluded by the requester), …`.
    pub fn not_evaluated_text(&self) -> String {
        self.not_evaluated()
            .iter()
            .map(|n| match n.reason {
                Omission::NotInChecks => format!("{} (not selected)", n.control_id),
                Omission::Excluded => format!("{} (excluded)", n.control_id),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The sentence beside the verdict: what it covers and what it does not.
    pub fn verdict_scope_text(&self) -> String {
        let not = self.not_evaluated();
        format!(
            "This verdict covers only the {} control(s) evaluated; {} control(s) of the catalog were NOT evaluated, \
             at the requester's choice (--checks / --exclude-checks), and the report says nothing about them.",
            CATALOG.len() - not.len(),
            not.len()
        )
    }

    /// The methodology's statement: which controls were evaluated and which were not.
    pub fn methodology_text(&self) -> String {
        format!(
            "Control selection: the requester chose which controls to evaluate (--checks / --exclude-checks). \
             Evaluated: {}. NOT evaluated, at the requester's choice: {}. The verdict, the totals and the \
             per-account verdicts cover the evaluated controls only; the evidence tables (change register, \
             keys, trails, stages, evidence gaps) are shown in full, and a failed collection call still makes \
             the verdict INCOMPLETE.",
            self.evaluated_text(),
            self.not_evaluated_text()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::catalog::{
        APIGW_CACHE_ENCRYPTION, APIGW_LOGGING, CHANGE_CONTROL, KMS_KEY_ROTATION,
    };

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn select(
        checks: &[&str],
        exclude: &[&str],
    ) -> Result<Option<ControlSelection>, SelectionError> {
        ControlSelection::new(&ids(checks), &ids(exclude), SelectionNames::FLAGS)
    }

    #[test]
    fn no_ids_is_no_selection() {
        assert_eq!(select(&[], &[]), Ok(None));
    }

    #[test]
    fn every_control_listed_is_no_selection() {
        let every: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
        assert_eq!(select(&every, &[]), Ok(None));
    }

    #[test]
    fn checks_keep_only_the_named_controls_in_catalog_order() {
        let selection = select(&[KMS_KEY_ROTATION, APIGW_LOGGING], &[])
            .unwrap()
            .unwrap();
        let evaluated: Vec<&str> = selection.evaluated().map(|c| c.id).collect();
        assert_eq!(evaluated, [APIGW_LOGGING, KMS_KEY_ROTATION]);
        assert_eq!(
            selection.omission(CHANGE_CONTROL),
            Some(Omission::NotInChecks)
        );
        assert_eq!(selection.not_evaluated().len(), CATALOG.len() - 2);
    }

    #[test]
    fn exclusions_apply_after_the_checks() {
        let selection = select(&[APIGW_LOGGING, KMS_KEY_ROTATION], &[KMS_KEY_ROTATION])
            .unwrap()
            .unwrap();
        let evaluated: Vec<&str> = selection.evaluated().map(|c| c.id).collect();
        assert_eq!(evaluated, [APIGW_LOGGING]);
        assert_eq!(
            selection.omission(KMS_KEY_ROTATION),
            Some(Omission::Excluded)
        );
    }

    #[test]
    fn excluding_a_control_the_checks_did_not_select_is_refused() {
        let err = select(&[APIGW_LOGGING], &[KMS_KEY_ROTATION]).unwrap_err();
        assert!(
            matches!(err, SelectionError::ExcludedButNotSelected { .. }),
            "{err}"
        );
    }

    #[test]
    fn every_unknown_id_is_named_with_its_position_and_the_valid_ids_listed() {
        let err = select(&[APIGW_LOGGING, "kms-rotation"], &["nope"]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--checks `kms-rotation` (item 2)"), "{text}");
        assert!(text.contains("--exclude-checks `nope` (item 1)"), "{text}");
        assert!(text.contains(APIGW_CACHE_ENCRYPTION), "{text}");
    }

    #[test]
    fn a_selection_that_leaves_nothing_is_refused() {
        let all: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
        let err = select(&[], &all).unwrap_err();
        assert!(matches!(err, SelectionError::NothingLeft { .. }), "{err}");
        let err = select(&[APIGW_LOGGING], &[APIGW_LOGGING]).unwrap_err();
        assert!(matches!(err, SelectionError::NothingLeft { .. }), "{err}");
    }

    #[test]
    fn a_recorded_selection_is_checked_when_read() {
        let read = |json: &str| serde_json::from_str::<ControlSelection>(json);
        let selection = read(r#"{"checks":["apigw-logging"]}"#).unwrap();
        assert!(selection.evaluates(APIGW_LOGGING));
        assert!(read(r#"{"checks":["no-such-control"]}"#).is_err());
        assert!(read(r#"{}"#).is_err());
        assert!(read(r#"{"checks":["apigw-logging"],"other":1}"#).is_err());
        let written = serde_json::to_string(&selection).unwrap();
        assert_eq!(read(&written).unwrap(), selection);
    }

    #[test]
    fn the_id_input_names_both_lists_in_catalog_order() {
        let a = select(&[KMS_KEY_ROTATION, APIGW_LOGGING], &[])
            .unwrap()
            .unwrap();
        assert_eq!(
            a.id_input(),
            format!("checks={APIGW_LOGGING},{KMS_KEY_ROTATION};exclude-checks=")
        );
        let b = select(&[], &[KMS_KEY_ROTATION]).unwrap().unwrap();
        assert_ne!(a.id_input(), b.id_input());
    }
}
