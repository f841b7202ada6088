//! OCSF renderer: `findings.ocsf.json`, every control result as one OCSF 1.1.0 Compliance
//! Finding (class 2003) on a line of its own (JSON Lines, as Security Lake, SIEM forwarders and
//! `jq -c` read them, despite the `.json` name), for the security tools downstream of the
//! package. It presents the report model and decides nothing: the mapping of each field is
//! docs/ocsf.md, and every time in it comes from the snapshot, so the same evidence gives the
//! same bytes.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::controls::{ALL_REGIONS, CATALOG, Control, Finding, Status};
use crate::evidence::Timestamp;
use crate::report::ReportModel;
use crate::report::document::{partition, stage_arn};

/// The file `--format ocsf` writes.
pub const FILE_NAME: &str = "findings.ocsf.json";

/// The OCSF version the records follow: the one Amazon Security Lake stores and the oldest
/// with the Compliance Finding class, so every OCSF consumer of today reads it.
pub const OCSF_VERSION: &str = "1.1.0";

/// Findings category (2), Compliance Finding class (2003), activity Create (1): OCSF's
/// `type_uid` is `class_uid * 100 + activity_id`.
const CATEGORY_UID: u32 = 2;
const CLASS_UID: u32 = 2003;
const ACTIVITY_CREATE: u32 = 1;
const TYPE_UID: u32 = CLASS_UID * 100 + ACTIVITY_CREATE;

/// OCSF `account.type_id` 10: AWS Account.
const AWS_ACCOUNT_TYPE_ID: u32 = 10;

/// Writes one Compliance Finding per control result of `model`, in report order, each line
/// ending in `\n`.
pub fn write(model: &ReportModel, out: &mut dyn Write) -> io::Result<()> {
    let arns = KnownArns::of(model);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for finding in &model.findings {
        let mut record = record(model, &arns, finding);
        // Two results can share a finding id (two changes to one resource in the change-control
        // register have one subject); each is still an event of its own to the consumer.
        let id = finding.id();
        let occurrence = seen.entry(id.clone()).or_default();
        *occurrence += 1;
        if *occurrence > 1 {
            record["metadata"]["uid"] = json!(format!("{}/{id}/{occurrence}", model.report_id));
        }
        serde_json::to_writer(&mut *out, &record)
            .map_err(|err| io::Error::other(format!("{FILE_NAME}: {err}")))?;
        out.write_all(b"\n")
            .map_err(|err| io::Error::new(err.kind(), format!("{FILE_NAME}: {err}")))?;
    }
    Ok(())
}

/// OCSF `compliance.status_id` and its caption for a result. An EVIDENCE_GAP is Warning
/// ("did not yield a result due to missing information"), never Pass: a SIEM rule on
/// `status_id = 1` must not count unproven evidence as compliant (21 CFR 11.10(a),
/// Annex 11 §4.8). NOT_APPLICABLE and NO_RESOURCES have no OCSF status of their own: Other
/// (99), with our status in `status_code`.
pub fn compliance_status(status: Status) -> (u32, &'static str) {
    match status {
        Status::Pass | Status::Controlled => (1, "Pass"),
        Status::EvidenceGap => (2, "Warning"),
        Status::Fail => (3, "Fail"),
        Status::NotApplicable => (99, "Not Applicable"),
        Status::NoResources => (99, "No Resources"),
    }
}

/// OCSF `severity_id` and its caption. The catalog gives every control the same weight (each
/// protects GxP records), so the severity follows the result: a FAIL needs action (High), an
/// EVIDENCE_GAP keeps the report from being COMPLIANT (Medium), the rest inform.
pub fn severity(status: Status) -> (u32, &'static str) {
    match status {
        Status::Fail => (4, "High"),
        Status::EvidenceGap => (3, "Medium"),
        Status::Pass | Status::Controlled | Status::NotApplicable | Status::NoResources => {
            (1, "Informational")
        }
    }
}

/// The standards a control's clauses and cross-references belong to, in a fixed order.
pub fn standards(control: &Control) -> Vec<&'static str> {
    let cited = |prefix: &str| {
        control
            .clauses
            .iter()
            .chain(control.cross_references)
            .any(|c| c.starts_with(prefix))
    };
    [
        ("Annex 11", "EU GMP Annex 11"),
        ("21 CFR", "21 CFR Part 11"),
        (
            "Security Hub",
            "AWS Foundational Security Best Practices (Security Hub)",
        ),
        ("AWS Config", "AWS Config managed rules"),
    ]
    .into_iter()
    .filter(|(prefix, _)| cited(prefix))
    .map(|(_, standard)| standard)
    .collect()
}

/// What a result is about, as OCSF's `resource` names it: its ARN where it has one, else
/// (a result about a whole region or account) Security Hub's account resource id
/// `AWS::::Account:<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    pub uid: String,
    /// The AWS CloudFormation resource type, as Security Hub and AWS Config name types.
    pub kind: &'static str,
}

/// The ARNs the evidence states, looked up once per file (a busy account has thousands of
/// keys, and each key has a result per KMS control).
pub struct KnownArns<'m> {
    /// (account, region, key id) → key ARN.
    keys: HashMap<(&'m str, &'m str, &'m str), &'m str>,
    /// (account, trail name) → trail ARN.
    trails: HashMap<(&'m str, &'m str), &'m str>,
}

impl<'m> KnownArns<'m> {
    pub fn of(model: &'m ReportModel) -> Self {
        let keys = model
            .keys
            .iter()
            .filter(|k| !k.key_arn.is_empty())
            .map(|k| {
                let key = (k.account_id.as_str(), k.region.as_str(), k.key_id.as_str());
                (key, k.key_arn.as_str())
            })
            .collect();
        // A name shared by trails of two regions names neither: no ARN is guessed.
        let mut by_name: HashMap<(&str, &str), Option<&str>> = HashMap::new();
        for trail in model.trails.iter().filter(|t| !t.trail_arn.is_empty()) {
            by_name
                .entry((trail.account_id.as_str(), trail.trail_name.as_str()))
                .and_modify(|arn| *arn = None)
                .or_insert(Some(trail.trail_arn.as_str()));
        }
        let trails = by_name
            .into_iter()
            .filter_map(|(name, arn)| Some((name, arn?)))
            .collect();
        Self { keys, trails }
    }
}

/// The resource of `finding`: read from the result's label as the evaluators write it
/// (`name (id) stage s`, `key-id (alias)`, a trail ARN or name, `(region)`), and from the
/// evidence's key and trail ARNs where it states them.
pub fn resource_id(arns: &KnownArns, finding: &Finding) -> ResourceId {
    let account_resource = || ResourceId {
        uid: format!("AWS::::Account:{}", finding.account_id),
        kind: "AWS::::Account",
    };
    let label = finding.resource.as_str();
    let region = finding.region.as_str();
    let service = control_of(finding).map(|c| c.service).unwrap_or_default();
    if label.starts_with('(') && label.ends_with(')') && !label.contains(' ') {
        return account_resource();
    }
    if label.starts_with("arn:") {
        return ResourceId {
            uid: label.to_string(),
            kind: arn_kind(label),
        };
    }
    match service {
        "kms" => {
            let key_id = label.split(' ').next().unwrap_or(label);
            let uid = arns
                .keys
                .get(&(finding.account_id.as_str(), region, key_id))
                .map(|arn| arn.to_string())
                .unwrap_or_else(|| {
                    format!(
                        "arn:{}:kms:{region}:{}:key/{key_id}",
                        partition(region),
                        finding.account_id
                    )
                });
            ResourceId {
                uid,
                kind: "AWS::KMS::Key",
            }
        }
        "apigateway" => apigateway_resource(label, region).unwrap_or_else(account_resource),
        "cloudtrail" => arns
            .trails
            .get(&(finding.account_id.as_str(), label))
            .map(|arn| ResourceId {
                uid: arn.to_string(),
                kind: "AWS::CloudTrail::Trail",
            })
            .unwrap_or_else(account_resource),
        _ => account_resource(),
    }
}

/// `name (id) stage s` (or `id stage s`), `name (id) (all stages)` and `name (id) v2 HTTP API`.
fn apigateway_resource(label: &str, region: &str) -> Option<ResourceId> {
    let api_id = |api_label: &str| -> String {
        match api_label.rsplit_once(" (") {
            Some((_, id)) if id.ends_with(')') => id.trim_end_matches(')').to_string(),
            _ => api_label.trim_matches(|c| c == '(' || c == ')').to_string(),
        }
    };
    if let Some((api, stage)) = label.rsplit_once(" stage ") {
        return Some(ResourceId {
            uid: stage_arn(region, &api_id(api), stage),
            kind: "AWS::ApiGateway::Stage",
        });
    }
    if let Some(api) = label.strip_suffix(" (all stages)") {
        return Some(ResourceId {
            uid: format!(
                "arn:{}:apigateway:{region}::/restapis/{}",
                partition(region),
                api_id(api)
            ),
            kind: "AWS::ApiGateway::RestApi",
        });
    }
    let (api, _kind) = label.rsplit_once(" v2 ")?;
    Some(ResourceId {
        uid: format!(
            "arn:{}:apigateway:{region}::/apis/{}",
            partition(region),
            api_id(api)
        ),
        kind: "AWS::ApiGatewayV2::Api",
    })
}

fn arn_kind(arn: &str) -> &'static str {
    match arn.split(':').nth(2) {
        Some("cloudtrail") => "AWS::CloudTrail::Trail",
        Some("kms") => "AWS::KMS::Key",
        Some("apigateway") => "AWS::ApiGateway::Stage",
        _ => "Other",
    }
}

fn control_of(finding: &Finding) -> Option<&'static Control> {
    CATALOG.iter().find(|c| c.id == finding.control_id)
}

/// Milliseconds since the epoch: OCSF's `timestamp_t`.
fn millis(at: Timestamp) -> i64 {
    at.0.timestamp_millis()
}

/// One finding as an OCSF Compliance Finding.
pub fn record(model: &ReportModel, arns: &KnownArns, finding: &Finding) -> Value {
    let control = control_of(finding);
    let id = finding.id();
    let (status_id, status_caption) = compliance_status(finding.status);
    let (severity_id, severity_caption) = severity(finding.status);
    let resource = resource_id(arns, finding);
    // A result that covers a whole account says "all"; OCSF's region is then absent.
    let region = (!finding.region.is_empty() && finding.region != ALL_REGIONS)
        .then_some(finding.region.as_str());
    let title = match (control, finding.view) {
        (Some(c), Some(view)) => format!("{} ({})", c.title, view.label()),
        (Some(c), None) => c.title.to_string(),
        (None, _) => finding.control_id.clone(),
    };
    let mut requirements: Vec<&str> = Vec::new();
    if let Some(c) = control {
        requirements.extend(c.clauses);
        requirements.extend(c.cross_references);
    }
    let mut record = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "time": millis(model.collected_at),
        "start_time": millis(model.period.start),
        "end_time": millis(model.period.end),
        "severity_id": severity_id,
        "severity": severity_caption,
        // One line for a SIEM's event list; the reason in full is `compliance.status_detail`.
        "message": format!(
            "{} {} on {}{}",
            finding.control_id,
            finding.status.as_str(),
            finding.resource,
            finding
                .view
                .map(|view| format!(" ({})", view.label()))
                .unwrap_or_default()
        ),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": format!("{}/{id}", model.report_id),
            "profiles": ["cloud"],
            "product": {
                "name": "gxp-evidence",
                "vendor_name": "gxp-evidence",
                "version": model.tool_version,
            },
        },
        "cloud": {
            "provider": "AWS",
            "account": {
                "uid": finding.account_id,
                "type_id": AWS_ACCOUNT_TYPE_ID,
                "type": "AWS Account",
            },
        },
        "finding_info": {
            "uid": id,
            "title": title,
            "product_uid": finding.control_id,
            "created_time": millis(model.collected_at),
        },
        "compliance": {
            "control": finding.control_id,
            "standards": control.map(standards).unwrap_or_default(),
            "requirements": requirements,
            "status_id": status_id,
            "status": status_caption,
            "status_code": finding.status.as_str(),
            "status_detail": finding.reason,
        },
        "resource": {
            "uid": resource.uid,
            "name": finding.resource,
            "type": resource.kind,
            "cloud_partition": resource
                .uid
                .strip_prefix("arn:")
                .and_then(|arn| arn.split(':').next())
                .unwrap_or_else(|| partition(region.unwrap_or_default())),
        },
        "unmapped": {
            "report_id": model.report_id,
            "evidence_sha256": model.evidence_sha256,
            "system_name": model.system_name,
            "period": model.period_label,
            "view": finding.view.map(|v| v.as_str()),
            "verdict": model.verdict.as_str(),
        },
    });
    if let Some(c) = control {
        record["finding_info"]["desc"] = json!(c.rationale);
    }
    // The verdict of a report narrowed by --checks/--exclude-checks covers the evaluated
    // controls only: a consumer reading `verdict` must see which ones it leaves out.
    if let Some(selection) = &model.document.control_selection {
        record["unmapped"]["controls_not_evaluated"] = json!(selection.not_evaluated_ids());
        record["unmapped"]["verdict_scope"] = json!(selection.verdict_scope);
    }
    if let Some(region) = region {
        record["cloud"]["region"] = json!(region);
        record["resource"]["region"] = json!(region);
    }
    // Only a FAIL carries a fix (`Finding::with_remediation`): a PASS never reads as work to do.
    if finding.status == Status::Fail {
        let desc = match (finding.remediation.as_str(), control) {
            ("", Some(c)) => c.remediation,
            (own, _) => own,
        };
        if !desc.is_empty() {
            record["remediation"] = json!({ "desc": desc });
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evidence_gap_is_never_a_pass_and_not_applicable_is_other() {
        assert_eq!(compliance_status(Status::EvidenceGap), (2, "Warning"));
        assert_eq!(compliance_status(Status::Fail).0, 3);
        assert_eq!(compliance_status(Status::Controlled).0, 1);
        assert_eq!(compliance_status(Status::NotApplicable).0, 99);
        assert_eq!(compliance_status(Status::NoResources).0, 99);
        assert!(severity(Status::EvidenceGap).0 > severity(Status::Pass).0);
    }

    #[test]
    fn api_gateway_labels_name_their_arns() {
        let uid = |label| apigateway_resource(label, "eu-west-1").map(|r| r.uid);
        assert_eq!(
            uid("lims api (k7x2m9p4qa) stage prod").as_deref(),
            Some("arn:aws:apigateway:eu-west-1::/restapis/k7x2m9p4qa/stages/prod")
        );
        assert_eq!(
            uid("k7x2m9p4qa stage uat").as_deref(),
            Some("arn:aws:apigateway:eu-west-1::/restapis/k7x2m9p4qa/stages/uat")
        );
        assert_eq!(
            uid("hooks (h8t2w5x9pq) v2 HTTP API").as_deref(),
            Some("arn:aws:apigateway:eu-west-1::/apis/h8t2w5x9pq")
        );
        assert_eq!(
            uid("lims api (k7x2m9p4qa) (all stages)").as_deref(),
            Some("arn:aws:apigateway:eu-west-1::/restapis/k7x2m9p4qa")
        );
    }
}
