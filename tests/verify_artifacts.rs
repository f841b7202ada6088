//! verify accepts only the report files the re-rendering of the package produces: a rendered
//! file slipped into the manifest (and sealed by whoever signs next) is a failure naming it,
//! and so is a file the re-rendering produces that the manifest does not list.

mod common;

use std::fs;
use std::path::Path;

use common::forge::{manifest_of, rewrite_manifest};
use common::*;
use gxp_evidence::package::MANIFEST_FILE;
use gxp_evidence::signing::local::{LocalKey, Unlock};

/// A copy of `name` from a report of the demo rendered with `extra` is put into
/// `package` and listed in its manifest, as a forger with write access to the draft would.
fn forge_from_other_report(package: &Path, name: &str, extra: &[&str], scratch: &Path) {
    let other = scratch.join("other");
    let output = report(&demo_evidence(), &other, extra);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    fs::copy(other.join(name), package.join(name)).expect("the other report holds the file");
    rewrite_manifest(package);
    assert!(manifest_of(package).entry(name).is_some());
}

/// verify fails `name` as not rendered, and nothing else (but the missing seal of a `draft`).
fn assert_not_rendered(package: &Path, name: &str, draft: bool) {
    let (code, out) = verify(package, &[]);
    assert_eq!(code, Some(1), "{out}");
    let mut expected = std::collections::BTreeSet::from([name.to_string()]);
    if draft {
        expected.insert("manifest.sig".to_string());
    }
    assert_eq!(
        failed_subjects(&out),
        expected,
        "only the forged file fails: {out}"
    );
    assert!(
        out.contains(&format!("{name} is not part of this report's rendering")),
        "{out}"
    );
}

/// The attacker test's case: controls-not-evaluated.csv of a report made with
/// --exclude-checks, added to a full report, is refused by verify and by sign (which would
/// otherwise seal it into the record), and still refused once an insider re-seals it.
#[test]
fn a_not_evaluated_csv_in_a_full_report_is_not_part_of_its_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("full");
    csv_draft(&package);
    forge_from_other_report(
        &package,
        "controls-not-evaluated.csv",
        &[
            "--format",
            "csv",
            "--exclude-checks",
            "kms-key-deletion,change-control",
        ],
        dir.path(),
    );
    assert_not_rendered(&package, "controls-not-evaluated.csv", true);

    let alice = fixed_key(dir.path(), "alice");
    let before = contents(&package);
    let signed = sign_at(
        &package,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        ALICE_SIGNS_AT,
    );
    assert_refused(
        &signed,
        "controls-not-evaluated.csv is not part of this report's rendering",
    );
    assert_eq!(contents(&package), before, "nothing written");
}

/// The same file added to a signed package and sealed again with the last signer's key: every
/// hash and the seal hold, the re-rendering does not.
#[test]
fn a_forged_csv_sealed_into_a_signed_package_fails() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared_demo().signed_csv, &package);
    forge_from_other_report(
        &package,
        "controls-not-evaluated.csv",
        &["--format", "csv", "--exclude-checks", "kms-key-deletion"],
        dir.path(),
    );
    let bob = LocalKey::load(
        &fixed_key(dir.path(), "bob"),
        Unlock::Passphrase(TEST_PASSPHRASE),
    )
    .expect("the fixed key loads");
    common::forge::reseal(&package, &bob);
    assert_not_rendered(&package, "controls-not-evaluated.csv", false);
}

/// findings.ocsf.json from an OCSF rendering, added to a package rendered without
/// `--format ocsf`.
#[test]
fn ocsf_findings_in_a_package_without_the_ocsf_format_fail() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    forge_from_other_report(
        &package,
        "findings.ocsf.json",
        &["--format", "csv,ocsf"],
        dir.path(),
    );
    assert_not_rendered(&package, "findings.ocsf.json", true);
}

/// A file the re-rendering produces that the manifest does not list (here left on disk,
/// identical to the rendering) is named as such, not reported identical.
#[test]
fn a_rendered_file_the_manifest_does_not_list_fails() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    let mut manifest = manifest_of(&package);
    manifest.files.retain(|entry| entry.path != "gaps.csv");
    fs::write(package.join(MANIFEST_FILE), manifest.to_bytes()).unwrap();
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL  gaps.csv: not listed in the manifest: the re-rendering of evidence.json and signoffs.json produces it"),
        "{out}"
    );
    assert!(!out.contains("OK    gaps.csv"), "{out}");
}

/// What a package holds besides its renderings (the inputs, the sign-off record, history,
/// timestamps) is not taken for a rendering: the signed demo, with history/, still verifies.
#[test]
fn inputs_and_records_are_not_renderings() {
    let (code, out) = verify(&shared_demo().signed_csv, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("history/1"), "{out}");
}
