//! `--format ocsf` and `--format junit`: the demo's findings.ocsf.json validates line by line
//! against the vendored OCSF 1.1.0 Compliance Finding schema (tests/ocsf/), an EVIDENCE_GAP
//! never reads as a pass in either file, both are deterministic package artifacts that the
//! manifest hashes and `sign` and `verify` re-render, and hostile names stay inert in the XML.

mod common;

use std::path::{Path, PathBuf};

use common::{TEST_NOW_VAR, assert_refused, bin, demo_evidence, fixture, read, report, stderr};
use serde_json::{Value, json};

const OCSF_FILE: &str = "findings.ocsf.json";
const JUNIT_FILE: &str = "findings.junit.xml";

fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ocsf/compliance_finding-1.1.0.schema.json");
    let schema: Value = serde_json::from_str(&read(&path)).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

/// The demo package rendered with `formats` into DIR/name.
fn demo_package(dir: &Path, name: &str, formats: &str) -> PathBuf {
    let out = dir.join(name);
    let output = report(&demo_evidence(), &out, &["--format", formats]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    out
}

fn ocsf_records(package: &Path) -> Vec<Value> {
    let text = read(&package.join(OCSF_FILE));
    assert!(text.ends_with('\n'), "JSON Lines end with a newline");
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1))
        })
        .collect()
}

#[test]
fn every_line_of_the_demo_findings_validates_against_the_ocsf_schema() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path(), "r", "ocsf");
    let validator = schema_validator();
    let records = ocsf_records(&package);
    let results = common::results(&package);
    let findings = results["findings"].as_array().unwrap();
    assert_eq!(
        records.len(),
        findings.len(),
        "one record per control result"
    );
    for (n, (record, finding)) in records.iter().zip(findings).enumerate() {
        let errors: Vec<String> = validator
            .iter_errors(record)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "line {}: {errors:?}", n + 1);
        assert_eq!(
            record["finding_info"]["uid"],
            finding["id"],
            "line {}",
            n + 1
        );
        assert_eq!(record["compliance"]["control"], finding["control_id"]);
        assert_eq!(record["compliance"]["status_code"], finding["status"]);
        assert_eq!(record["unmapped"]["report_id"], results["report_id"]);
        assert_eq!(
            record["unmapped"]["evidence_sha256"],
            results["evidence_sha256"]
        );
        assert_eq!(
            record["metadata"]["product"]["version"],
            results["tool_version"]
        );
    }
    // Each record is an event of its own for the consumer, also where two results share a
    // finding id (two changes to one resource in the change-control register).
    let uids: std::collections::BTreeSet<&str> = records
        .iter()
        .map(|r| r["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), records.len(), "event uids are unique");
    // Each reading of a two-reading control is a finding of its own, with its own id.
    let readings: Vec<(&Value, &Value)> = records
        .iter()
        .filter(|r| r["resource"]["name"] == "lims-results-api (k7x2m9p4qa) stage prod")
        .filter(|r| r["compliance"]["control"] == "apigw-cache-encryption")
        .map(|r| (&r["unmapped"]["view"], &r["finding_info"]["uid"]))
        .collect();
    assert_eq!(readings.len(), 2, "{readings:?}");
    assert_eq!(readings[0].0, "security_hub");
    assert_eq!(readings[1].0, "aws_config");
    assert_ne!(readings[0].1, readings[1].1);
}

/// A change that makes a valid record invalid.
type Breaking = fn(&mut Value);

#[test]
fn the_schema_rejects_broken_records() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path(), "r", "ocsf");
    let valid = ocsf_records(&package).remove(0);
    let validator = schema_validator();
    assert!(validator.is_valid(&valid));
    let broken: [(&str, Breaking); 7] = [
        ("no class_uid", |r| {
            r.as_object_mut().unwrap().remove("class_uid");
        }),
        ("another class", |r| r["class_uid"] = json!(2001)),
        ("a compliance status OCSF does not define", |r| {
            r["compliance"]["status_id"] = json!(7)
        }),
        ("no finding uid", |r| {
            r["finding_info"].as_object_mut().unwrap().remove("uid");
        }),
        ("time as text", |r| {
            r["time"] = json!("2026-11-01T06:00:00Z")
        }),
        ("an attribute the class does not have", |r| {
            r["resource_arn"] = json!("arn:aws:kms:eu-west-1:1:key/k")
        }),
        ("another OCSF version", |r| {
            r["metadata"]["version"] = json!("1.3.0")
        }),
    ];
    for (what, breaking) in broken {
        let mut record = valid.clone();
        breaking(&mut record);
        assert!(!validator.is_valid(&record), "accepted: {what}");
    }
}

#[test]
fn an_evidence_gap_never_looks_like_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path(), "r", "ocsf,junit");
    let records = ocsf_records(&package);
    let mut seen = std::collections::BTreeSet::new();
    for record in &records {
        let ours = record["compliance"]["status_code"].as_str().unwrap();
        let ocsf = record["compliance"]["status_id"].as_u64().unwrap();
        let expected = match ours {
            "PASS" | "CONTROLLED" => 1,
            "EVIDENCE_GAP" => 2,
            "FAIL" => 3,
            "NOT_APPLICABLE" | "NO_RESOURCES" => 99,
            other => panic!("unexpected status {other}"),
        };
        assert_eq!(ocsf, expected, "{ours}");
        assert_eq!(
            record.get("remediation").is_some(),
            ours == "FAIL",
            "only a FAIL carries a fix: {record}"
        );
        seen.insert(ours.to_string());
    }
    for status in [
        "PASS",
        "FAIL",
        "EVIDENCE_GAP",
        "NOT_APPLICABLE",
        "NO_RESOURCES",
    ] {
        assert!(seen.contains(status), "the demo has no {status}: {seen:?}");
    }

    let xml = read(&package.join(JUNIT_FILE));
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(
        cases.len(),
        records.len(),
        "one test case per control result"
    );
    for (case, record) in cases.iter().zip(&records) {
        let child = case
            .children()
            .find(|c| c.is_element())
            .map(|c| c.tag_name().name());
        let expected = match record["compliance"]["status_code"].as_str().unwrap() {
            "PASS" | "CONTROLLED" => "system-out",
            "FAIL" => "failure",
            "EVIDENCE_GAP" => "error",
            _ => "skipped",
        };
        assert_eq!(child, Some(expected), "{record}");
        assert_eq!(
            case.attribute("classname"),
            record["compliance"]["control"].as_str()
        );
        assert_eq!(case.attribute("id"), record["finding_info"]["uid"].as_str());
    }
    let root = doc.root_element();
    let count = |status: &[&str]| {
        records
            .iter()
            .filter(|r| status.contains(&r["compliance"]["status_code"].as_str().unwrap()))
            .count()
            .to_string()
    };
    assert_eq!(root.attribute("failures"), Some(count(&["FAIL"]).as_str()));
    assert_eq!(
        root.attribute("errors"),
        Some(count(&["EVIDENCE_GAP"]).as_str())
    );
    assert_eq!(
        root.attribute("skipped"),
        Some(count(&["NOT_APPLICABLE", "NO_RESOURCES"]).as_str())
    );
}

#[test]
fn resources_are_named_by_their_arns() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path(), "r", "ocsf");
    let records = ocsf_records(&package);
    let uid_of = |control: &str, name_start: &str| -> String {
        records
            .iter()
            .find(|r| {
                r["compliance"]["control"] == control
                    && r["resource"]["name"]
                        .as_str()
                        .unwrap()
                        .starts_with(name_start)
            })
            .map(|r| r["resource"]["uid"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {control} record for {name_start}"))
    };
    assert_eq!(
        uid_of("kms-key-rotation", "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"),
        "arn:aws:kms:eu-central-1:111122223333:key/c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
    );
    assert_eq!(
        uid_of("apigw-logging", "lims-results-api (k7x2m9p4qa) stage uat"),
        "arn:aws:apigateway:eu-central-1::/restapis/k7x2m9p4qa/stages/uat"
    );
    // The multi-region control names a trail by its name: the trail rows give its ARN.
    assert_eq!(
        uid_of("cloudtrail-multi-region", "lims-dr-audit"),
        "arn:aws:cloudtrail:eu-central-1:444455556666:trail/lims-dr-audit"
    );
    // A result about a whole region or account has no ARN: Security Hub's account id.
    assert_eq!(
        uid_of("change-control", "(region)"),
        "AWS::::Account:444455556666"
    );
}

#[test]
fn the_same_snapshot_gives_the_same_bytes_whenever_it_is_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let first = demo_package(dir.path(), "first", "ocsf,junit");
    let later = dir.path().join("later");
    let output = bin()
        .env(TEST_NOW_VAR, "2031-05-17T12:34:56Z")
        .arg("report")
        .arg("--evidence")
        .arg(demo_evidence())
        .arg("--out")
        .arg(&later)
        .args(["--format", "ocsf,junit"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    for file in [OCSF_FILE, JUNIT_FILE] {
        assert_eq!(
            std::fs::read(first.join(file)).unwrap(),
            std::fs::read(later.join(file)).unwrap(),
            "{file} depends on when it was rendered"
        );
    }
    let record = &ocsf_records(&first)[0];
    // 2026-11-01T06:00:00Z, the snapshot's collection time, in milliseconds.
    assert_eq!(record["time"], json!(1_793_512_800_000_i64));
}

#[test]
fn both_files_are_hashed_in_the_manifest_and_re_rendered_by_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path(), "r", "pdf,ocsf,junit");
    let manifest: Value = serde_json::from_str(&read(&package.join("manifest.json"))).unwrap();
    for file in [OCSF_FILE, JUNIT_FILE] {
        let entry = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == file)
            .unwrap_or_else(|| panic!("{file} is not in the manifest"));
        let bytes = std::fs::read(package.join(file)).unwrap();
        assert_eq!(entry["bytes"], json!(bytes.len()));
    }
    assert_eq!(
        manifest["render"]["formats"],
        json!(["pdf", "ocsf", "junit"])
    );

    let key = common::keygen(dir.path(), "alice");
    let output = common::sign(&package, &key, "Alice QA", "QA", "Approved");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (code, text) = common::verify(&package, &[]);
    assert_eq!(code, Some(0), "{text}");
    for file in [OCSF_FILE, JUNIT_FILE] {
        assert!(
            text.contains(&format!("OK    {file}: identical to the re-rendering")),
            "{text}"
        );
    }

    // An edited finding (a FAIL turned into a pass) is caught by the hash and the re-rendering.
    let path = package.join(OCSF_FILE);
    let edited = read(&path).replacen("\"status_id\":3", "\"status_id\":1", 1);
    std::fs::write(&path, edited).unwrap();
    let (code, text) = common::verify(&package, &[]);
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains(OCSF_FILE)),
        "{text}"
    );
}

#[test]
fn hostile_resource_names_are_inert_in_the_junit_xml_and_intact_in_ocsf() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(&fixture("hostile"), &out, &["--format", "ocsf,junit"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let xml = read(&out.join(JUNIT_FILE));
    assert!(!xml.contains("<img src=x"), "raw markup in the XML");
    assert!(!xml.contains("<script>"), "raw markup in the XML");
    assert!(!xml.contains('\u{202E}'), "a bidi override reaches the XML");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    // The parser reads back the stage name as it was, so a dashboard shows it as text.
    assert!(
        doc.descendants()
            .filter_map(|n| n.attribute("name"))
            .any(|name| name.contains("stage \"><img src=x onerror=alert(1)>")),
        "{xml}"
    );
    let validator = schema_validator();
    for line in read(&out.join(OCSF_FILE)).lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        assert!(validator.is_valid(&record), "{record}");
    }
}

#[test]
fn the_defaults_are_unchanged_and_an_unknown_format_names_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(&demo_evidence(), &out, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!out.join(OCSF_FILE).exists());
    assert!(!out.join(JUNIT_FILE).exists());

    let output = report(
        &demo_evidence(),
        &dir.path().join("x"),
        &["--format", "sarif"],
    );
    assert_refused(&output, "choose from pdf, html, csv, ocsf, junit");
    assert!(!dir.path().join("x").exists(), "nothing written");
}

#[test]
fn demo_ocsf_and_junit_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path(), "r", "ocsf,junit");
    // A few records, pretty-printed so a change of mapping reads as a diff: the first (a FAIL
    // of a two-reading control), an EVIDENCE_GAP and a NOT_APPLICABLE.
    let records = ocsf_records(&package);
    let first_with = |status: &str| {
        records
            .iter()
            .find(|r| r["compliance"]["status_code"] == status)
            .unwrap()
    };
    let shown = json!([
        records[0],
        first_with("EVIDENCE_GAP"),
        first_with("NOT_APPLICABLE")
    ]);
    insta::assert_snapshot!(
        "demo_findings.ocsf.json",
        serde_json::to_string_pretty(&shown).unwrap()
    );
    insta::assert_snapshot!("demo_findings.junit.xml", read(&package.join(JUNIT_FILE)));
}
