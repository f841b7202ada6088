//! `--checks` / `--exclude-checks` of `report`, `demo` and `controls`: the command-line form
//! of a control selection (comma-separated ids, the flags repeatable), read into the core's
//! `ControlSelection`, which checks it against the catalog.

use anyhow::Result;
use clap::Args;

use crate::controls::selection::{ControlSelection, SelectionNames};
use crate::report::ReportModel;

#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Evaluate only these controls: comma-separated ids (`gxp-evidence controls` lists them).
    /// The report names every control it did not evaluate, and its verdict covers only the
    /// evaluated ones. Without it, every control is evaluated.
    #[arg(long, value_name = "IDS")]
    checks: Vec<String>,
    /// Leave these controls out (comma-separated ids), after --checks: `--checks a,b,c
    /// --exclude-checks b` evaluates a and c. An id --checks did not select is refused.
    #[arg(long, value_name = "IDS")]
    exclude_checks: Vec<String>,
}

impl SelectionArgs {
    /// The selection the flags give, or `None` without them. An empty item (`a,,b`), an id
    /// that is not a control, or a selection that leaves no control is an error naming it.
    pub fn selection(&self) -> Result<Option<ControlSelection>> {
        let names = SelectionNames::FLAGS;
        let checks = split_ids(names.checks, &self.checks)?;
        let exclude_checks = split_ids(names.exclude_checks, &self.exclude_checks)?;
        Ok(ControlSelection::new(&checks, &exclude_checks, names)?)
    }
}

/// The summary line's note on a selection: ` (2 of 9 controls evaluated, at the requester's
/// choice; the verdict covers only them)`, or nothing.
pub fn summary_note(model: &ReportModel) -> String {
    model
        .document
        .control_selection
        .as_ref()
        .map(|s| {
            format!(
                " ({}, at the requester's choice; the verdict covers only them)",
                s.count_text()
            )
        })
        .unwrap_or_default()
}

/// The ids of a flag given once or more, each value a comma-separated list.
fn split_ids(flag: &str, values: &[String]) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for value in values {
        for id in value.split(',') {
            let id = id.trim();
            if id.is_empty() {
                anyhow::bail!(
                    "{flag} {value:?}: item {} is empty; give control ids separated by single commas (gxp-evidence controls lists them)",
                    ids.len() + 1
                );
            }
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_split_at_commas_across_repeated_flags() {
        let values = [
            "apigw-logging, kms-key-rotation".to_string(),
            "change-control".to_string(),
        ];
        assert_eq!(
            split_ids("--checks", &values).unwrap(),
            ["apigw-logging", "kms-key-rotation", "change-control"]
        );
    }

    #[test]
    fn an_empty_item_is_named_by_position() {
        let err = split_ids("--checks", &["apigw-logging,,kms-key-rotation".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("item 2 is empty"), "{err}");
        assert!(split_ids("--checks", &["".to_string()]).is_err());
    }
}
