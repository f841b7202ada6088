//! CSV renderer: one RFC 4180 UTF-8 file per table, stable column order, every row carrying
//! the report id, and cells that a spreadsheet would run as a formula neutralised.

use crate::controls::{Status, View, catalog};
use crate::report::ReportModel;
use crate::report::format::{date, opt_number, opt_yes_no, time, visible, yes_no};
use crate::report::render::{RenderError, RenderedFile};

/// File names and their columns, in the order the files are written. README.md documents them.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "findings.csv",
        &[
            "report_id",
            "control_id",
            "control_title",
            "account_id",
            "region",
            "resource",
            "view",
            "status",
            "reason",
        ],
    ),
    (
        "methods.csv",
        &[
            "report_id",
            "account_id",
            "region",
            "api_id",
            "api_name",
            "stage",
            "resource_path",
            "http_method",
            "setting_source",
            "cache_cluster_enabled",
            "caching_enabled",
            "cache_data_encrypted",
            "security_hub_status",
            "aws_config_status",
            "logging_level",
            "authorization_type",
            "api_key_required",
            "access_logging",
            "xray_tracing",
            "waf_web_acl",
            "client_certificate",
            "observation",
        ],
    ),
    (
        "keys.csv",
        &[
            "report_id",
            "account_id",
            "region",
            "key_id",
            "key_arn",
            "aliases",
            "key_manager",
            "key_spec",
            "key_usage",
            "origin",
            "key_state",
            "rotation_enabled",
            "rotation_period_days",
            "next_rotation_date",
            "last_rotation_date",
            "automatic_rotations_in_period",
            "on_demand_rotations_in_period",
            "status",
            "reason",
        ],
    ),
    (
        "trails.csv",
        &[
            "report_id",
            "account_id",
            "trail_name",
            "trail_arn",
            "home_region",
            "multi_region",
            "organization_trail",
            "is_logging",
            "log_file_validation",
            "kms_key_id",
            "management_events",
            "kms_events_excluded",
            "latest_delivery",
        ],
    ),
    (
        "changes.csv",
        &[
            "report_id",
            "event_time",
            "account_id",
            "region",
            "event_source",
            "event_name",
            "classification",
            "classification_reason",
            "outcome",
            "error_code",
            "error_message",
            "actor",
            "actor_type",
            "invoked_by",
            "session_issuer",
            "source_ip",
            "user_agent",
            "resource",
            "request_summary",
            "event_id",
        ],
    ),
    (
        "gaps.csv",
        &[
            "report_id",
            "gap_type",
            "account_id",
            "region",
            "subject",
            "started_at",
            "ended_at",
            "duration_minutes",
            "started_by",
            "ended_by",
            "error_code",
            "message",
        ],
    ),
    (
        "signoffs.csv",
        &[
            "report_id",
            "sequence",
            "printed_name",
            "user_id",
            "role",
            "meaning",
            "signed_at",
            "key_fingerprint",
            "key_kind",
            "evidence_sha256",
            "results_sha256",
            "previous_signoff_sha256",
            "signoff_sha256",
        ],
    ),
];

/// Spreadsheets execute cells starting with these; a leading `'` makes them text (OWASP).
fn neutralise(cell: &str) -> String {
    let shown = visible(cell);
    match shown.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{shown}"),
        _ => shown,
    }
}

fn status(s: Status) -> String {
    s.as_str().to_string()
}

fn rows(model: &ReportModel, file: &str) -> Vec<Vec<String>> {
    match file {
        "findings.csv" => model
            .findings
            .iter()
            .map(|f| {
                vec![
                    f.control_id.clone(),
                    catalog::find(&f.control_id)
                        .map(|c| c.title)
                        .unwrap_or("")
                        .to_string(),
                    f.account_id.clone(),
                    f.region.clone(),
                    f.resource.clone(),
                    f.view.map(View::as_str).unwrap_or("").to_string(),
                    status(f.status),
                    f.reason.clone(),
                ]
            })
            .collect(),
        "methods.csv" => {
            // Stage context joined per method; indexed once (10,000 methods × 1,000 stages
            // would otherwise be ten million comparisons).
            let stages: std::collections::HashMap<_, _> =
                model.stages.iter().map(|s| (s.sort_key(), s)).collect();
            model
                .methods
                .iter()
                .map(|m| {
                    let stage = stages
                        .get(&(&*m.account_id, &*m.region, &*m.api_id, &*m.stage))
                        .copied();
                    let stage_field =
                        |get: fn(&crate::controls::apigateway::StageRow) -> String| {
                            stage.map(get).unwrap_or_default()
                        };
                    vec![
                        m.account_id.clone(),
                        m.region.clone(),
                        m.api_id.clone(),
                        m.api_name.clone(),
                        m.stage.clone(),
                        m.resource_path.clone(),
                        m.http_method.clone(),
                        m.setting_source.clone(),
                        opt_yes_no(m.cache_cluster_enabled).to_string(),
                        opt_yes_no(m.caching_enabled).to_string(),
                        opt_yes_no(m.cache_data_encrypted).to_string(),
                        status(m.security_hub),
                        status(m.aws_config),
                        m.logging_level.clone(),
                        m.authorization_type.clone(),
                        yes_no(m.api_key_required).to_string(),
                        stage_field(|s| s.access_logging.clone()),
                        stage_field(|s| yes_no(s.xray_tracing).to_string()),
                        stage_field(|s| s.waf_web_acl.clone()),
                        stage_field(|s| s.client_certificate.clone()),
                        m.observation.clone(),
                    ]
                })
                .collect()
        }
        "keys.csv" => model
            .keys
            .iter()
            .map(|k| {
                vec![
                    k.account_id.clone(),
                    k.region.clone(),
                    k.key_id.clone(),
                    k.key_arn.clone(),
                    k.aliases.join(";"),
                    k.key_manager.clone(),
                    k.key_spec.clone(),
                    k.key_usage.clone(),
                    k.origin.clone(),
                    k.key_state.clone(),
                    opt_yes_no(k.rotation_enabled).to_string(),
                    opt_number(k.rotation_period_days),
                    date(k.next_rotation_date),
                    time(k.last_rotation_date),
                    k.automatic_rotations_in_period.to_string(),
                    k.on_demand_rotations_in_period.to_string(),
                    status(k.status),
                    k.reason.clone(),
                ]
            })
            .collect(),
        "trails.csv" => model
            .trails
            .iter()
            .map(|t| {
                vec![
                    t.account_id.clone(),
                    t.trail_name.clone(),
                    t.trail_arn.clone(),
                    t.home_region.clone(),
                    opt_yes_no(t.multi_region).to_string(),
                    opt_yes_no(t.organization_trail).to_string(),
                    opt_yes_no(t.is_logging).to_string(),
                    opt_yes_no(t.log_file_validation).to_string(),
                    t.kms_key_id.clone(),
                    t.management_events.clone(),
                    yes_no(t.kms_events_excluded).to_string(),
                    time(t.latest_delivery),
                ]
            })
            .collect(),
        "changes.csv" => model
            .changes
            .iter()
            .map(|c| {
                vec![
                    c.event_time.to_rfc3339(),
                    c.account_id.clone(),
                    c.region.clone(),
                    c.event_source.clone(),
                    c.event_name.clone(),
                    c.classification.as_str().to_string(),
                    c.classification_reason.clone(),
                    if c.took_effect() { "applied" } else { "failed" }.to_string(),
                    c.error_code.clone(),
                    c.error_message.clone(),
                    c.actor.clone(),
                    c.actor_type.clone(),
                    c.invoked_by.clone(),
                    c.session_issuer.clone(),
                    c.source_ip.clone(),
                    c.user_agent.clone(),
                    c.resource.clone(),
                    c.request_summary.clone(),
                    c.event_id.clone(),
                ]
            })
            .collect(),
        "gaps.csv" => {
            let logging = model.logging_gaps.iter().map(|g| {
                vec![
                    "logging".to_string(),
                    g.account_id.clone(),
                    g.region.clone(),
                    format!("trail {}", g.trail_name),
                    g.started_at.to_rfc3339(),
                    g.ended_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    g.minutes.to_string(),
                    g.started_by.clone(),
                    g.ended_by.clone(),
                    String::new(),
                    g.cause.clone(),
                ]
            });
            let evidence = model.evidence_gaps.iter().map(|g| {
                let mut subject = format!("{}:{}", g.service, g.api);
                if let Some(resource) = &g.resource {
                    subject.push_str(&format!(" {resource}"));
                }
                vec![
                    "evidence".to_string(),
                    g.account_id.clone(),
                    g.region.clone().unwrap_or_else(|| "all".to_string()),
                    subject,
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    g.error_code.clone(),
                    g.message.clone(),
                ]
            });
            logging.chain(evidence).collect()
        }
        "signoffs.csv" => model
            .signoffs
            .iter()
            .map(|s| {
                vec![
                    s.sequence.to_string(),
                    s.printed_name.clone(),
                    s.user_id.clone(),
                    s.role.clone(),
                    s.meaning.clone(),
                    s.signed_at.to_rfc3339(),
                    s.key_fingerprint.clone(),
                    s.key_kind.clone(),
                    s.evidence_sha256.clone(),
                    s.results_sha256.clone(),
                    s.previous_signoff_sha256.clone(),
                    s.signoff_sha256.clone(),
                ]
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub fn render(model: &ReportModel) -> Result<Vec<RenderedFile>, RenderError> {
    TABLES
        .iter()
        .map(|(name, columns)| {
            let mut writer = ::csv::WriterBuilder::new()
                .terminator(::csv::Terminator::CRLF)
                .from_writer(Vec::new());
            let csv_error = |err: ::csv::Error| RenderError::Csv(format!("{name}: {err}"));
            writer.write_record(*columns).map_err(csv_error)?;
            for row in rows(model, name) {
                let record = std::iter::once(model.report_id.clone())
                    .chain(row.iter().map(|cell| neutralise(cell)));
                writer.write_record(record).map_err(csv_error)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|err| RenderError::Csv(format!("{name}: {err}")))?;
            Ok(RenderedFile {
                name: (*name).to_string(),
                bytes,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("plain"), "plain");
    }
}
