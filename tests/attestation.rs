//! End-to-end tests of the collector attestation: a snapshot signed with the collector's key
//! at collection time goes into the package beside evidence.json, and `verify` says by whom
//! it was attested — or that it was not — and fails a snapshot that is not the one attested,
//! even when the package was rebuilt consistently on the edited snapshot. `report --evidence`
//! refuses an attestation that does not match its snapshot. One live test collects with
//! `--attest-key` against moto and the LookupEvents stub.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::aws_stub::{AwsStub, StubConfig};
use common::moto::{live, month, moto};
use common::*;
use gxp_evidence::evidence::{self, Timestamp};
use gxp_evidence::package::attestation::{ATTESTATION_FILE, Attestation, sidecar_path};
use gxp_evidence::package::seal::{SEAL_FILE, Seal};
use gxp_evidence::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use gxp_evidence::package::{self, EVIDENCE_FILE, MANIFEST_FILE, Manifest};
use gxp_evidence::report::render::{self, RenderOptions};
use gxp_evidence::signing::{self, Signer, local::LocalKey};

/// When the tests' collector attests the demo snapshot (collected 2026-11-01T06:00:00Z).
const ATTESTED_AT: &str = "2026-11-01T06:05:00Z";

/// Loads a private key made by `keygen` as the library holds it. Every test loads keys
/// through here, so a change in how keys are stored (e.g. encrypted) is adapted in one place.
fn load_key(path: &Path) -> LocalKey {
    LocalKey::load(path, signing::local::Unlock::Passphrase(TEST_PASSPHRASE))
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn fingerprint_of(key: &Path) -> String {
    load_key(key).info.fingerprint
}

/// Writes `evidence` (a snapshot file's bytes) to `dir/evidence.json` and its attestation by
/// `collector` beside it, as `collect --attest-key` does; returns the snapshot's path.
fn attested_snapshot(dir: &Path, evidence: &[u8], collector: &Path) -> PathBuf {
    let path = dir.join("evidence.json");
    fs::write(&path, evidence).unwrap();
    let loaded = evidence::load_bytes("evidence.json", evidence.to_vec()).unwrap();
    let signer = Signer::new(load_key(collector));
    let attestation =
        Attestation::create(&loaded, &signer, Timestamp::parse(ATTESTED_AT).unwrap()).unwrap();
    fs::write(sidecar_path(&path), attestation.to_bytes()).unwrap();
    path
}

fn demo_bytes() -> Vec<u8> {
    fs::read(demo_evidence()).unwrap()
}

/// `report --evidence SNAPSHOT --format csv` into `dir/package`, then signed by Alice (at
/// the fixed time, after the demo's collection).
fn signed_package(dir: &Path, snapshot: &Path) -> PathBuf {
    signed_package_at(dir, snapshot, Some(ALICE_SIGNS_AT), "csv")
}

/// `signed_package` at `at` (or at this machine's clock) in `formats`.
fn signed_package_at(dir: &Path, snapshot: &Path, at: Option<&str>, formats: &str) -> PathBuf {
    let package = dir.join("package");
    let output = report(snapshot, &package, &["--format", formats]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let alice = fixed_key(dir, "alice");
    let (name, role, meaning) = ("Alice Author", "Validation Engineer", "authored");
    let signed = match at {
        Some(at) => sign_at(&package, &alice, name, role, meaning, at),
        None => sign(&package, &alice, name, role, meaning),
    };
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    package
}

/// A `--trusted-keys` file listing the public keys of `keys` (their `.pub` files).
fn trusted_keys(dir: &Path, keys: &[&Path]) -> PathBuf {
    let path = dir.join("trusted.txt");
    let text: String = keys
        .iter()
        .map(|key| read(&PathBuf::from(format!("{}.pub", key.display()))))
        .collect();
    fs::write(&path, text).unwrap();
    path
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn attested_evidence_goes_into_the_package_and_verifies_as_attested_by_the_collector_key() {
    let dir = tempfile::tempdir().unwrap();
    let collector = keygen(dir.path(), "collector");
    let snapshot = attested_snapshot(dir.path(), &demo_bytes(), &collector);
    let package = signed_package_at(dir.path(), &snapshot, Some(ALICE_SIGNS_AT), "pdf,html,csv");
    assert_eq!(
        fs::read(package.join(ATTESTATION_FILE)).unwrap(),
        fs::read(sidecar_path(&snapshot)).unwrap(),
        "the sidecar goes into the package as it is"
    );
    let manifest = read(&package.join("manifest.json"));
    assert!(manifest.contains(ATTESTATION_FILE), "{manifest}");

    let fingerprint = fingerprint_of(&collector);
    // The document control of both human-readable forms says who attested the evidence.
    let shown = format!(
        "Evidence attested by collector key {fingerprint} (Ed25519 local key) at 2026-11-01 06:05:00 UTC"
    );
    let html = read(&package.join("report.html"));
    assert!(html.contains(&shown), "{shown} not in the HTML");
    let (_, pdf) = pdf_text(&package.join("report.pdf"));
    assert!(
        pdf.replace('\n', " ").contains(&shown),
        "{shown} not in the PDF"
    );

    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "OK    {ATTESTATION_FILE}: evidence.json attested by collector key {fingerprint} \
             (Ed25519 local key) at 2026-11-01 06:05:00 UTC; signature valid, its SHA-256, size \
             and collection facts match"
        )),
        "{out}"
    );
    assert!(out.lines().last().unwrap().starts_with("VALID"), "{out}");

    let alice = dir.path().join("alice.key");
    let trusted = trusted_keys(dir.path(), &[&alice, &collector]);
    let (code, out) = verify(&package, &["--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "OK    {ATTESTATION_FILE}: collector key {fingerprint} is trusted"
        )),
        "{out}"
    );

    // The signer removes the attestation and re-seals the manifest with her own key: the
    // package then reads as unattested, but its report says otherwise, which the
    // re-rendering shows.
    fs::remove_file(package.join(ATTESTATION_FILE)).unwrap();
    let mut manifest = Manifest::parse(&fs::read(package.join(MANIFEST_FILE)).unwrap()).unwrap();
    manifest
        .files
        .retain(|entry| entry.path != ATTESTATION_FILE);
    let manifest_bytes = manifest.to_bytes();
    fs::write(package.join(MANIFEST_FILE), &manifest_bytes).unwrap();
    let signoffs = SignoffFile::parse(&fs::read(package.join(SIGNOFFS_FILE)).unwrap()).unwrap();
    let alice = load_key(&alice);
    let mut seal = Seal::unsigned(
        &manifest.report_id,
        evidence::sha256_hex(&manifest_bytes),
        &signoffs.signoffs,
        alice.info.clone(),
    );
    seal.signature = signing::encode_signature(&alice.sign(&seal.statement()));
    fs::write(package.join(SEAL_FILE), seal.to_bytes()).unwrap();
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        failed_subjects(&out),
        set(&[
            "report.html",
            "report.pdf",
            // The draft's manifest, kept under history/0, still lists it.
            &format!("history/0/{ATTESTATION_FILE}"),
        ]),
        "{out}"
    );
    assert!(out.contains("NOTE  evidence.json: not attested"), "{out}");
}

#[test]
fn an_attestation_by_a_key_not_in_the_trusted_keys_fails() {
    let dir = tempfile::tempdir().unwrap();
    let collector = keygen(dir.path(), "collector");
    let snapshot = attested_snapshot(dir.path(), &demo_bytes(), &collector);
    let package = signed_package(dir.path(), &snapshot);
    // The sign-off's key is trusted, the collector's is not.
    let trusted = trusted_keys(dir.path(), &[&dir.path().join("alice.key")]);
    let (code, out) = verify(&package, &["--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(failed_subjects(&out), set(&[ATTESTATION_FILE]), "{out}");
    assert!(
        out.contains(&format!(
            "FAIL  {ATTESTATION_FILE}: collector key {} is not in the trusted keys",
            fingerprint_of(&collector)
        )),
        "{out}"
    );
}

#[test]
fn unattested_evidence_gets_a_note_not_a_failure() {
    let (code, out) = verify(&shared_demo().signed, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "NOTE  evidence.json: not attested: the package has no {ATTESTATION_FILE}"
        )),
        "{out}"
    );
}

#[test]
fn a_snapshot_edited_after_collection_fails_the_attestation_even_in_a_consistent_package() {
    let dir = tempfile::tempdir().unwrap();
    let collector = keygen(dir.path(), "collector");
    let original = attested_snapshot(dir.path(), &demo_bytes(), &collector);
    let attestation = Attestation::parse(&fs::read(sidecar_path(&original)).unwrap()).unwrap();

    // An insider turns an unencrypted cache into an encrypted one (a FAIL that reads as PASS)
    // and builds the package with the library, carrying the collector's attestation along:
    // every hash, the results and every rendering are consistent with the edited snapshot.
    let edited = read(&original).replacen(
        "\"cacheDataEncrypted\": false",
        "\"cacheDataEncrypted\": true",
        1,
    );
    let loaded = evidence::load_bytes(EVIDENCE_FILE, edited.into_bytes()).unwrap();
    let collected_at = loaded.snapshot.collected_at;
    let package = dir.path().join("package");
    let document = gxp_evidence::report::document::DocumentSettings::unrecorded(collected_at);
    let inputs = package::ReportInputs {
        evidence: loaded,
        attestation: Some(&attestation),
        change_records: None,
        document: &document,
        previous_period: None,
    };
    package::create_report_package(
        &package,
        false,
        inputs,
        &render::parse_formats("csv").unwrap(),
        &RenderOptions::default(),
    )
    .unwrap();

    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    // The draft is unsealed; otherwise only the attestation fails, against evidence.json.
    assert_eq!(
        failed_subjects(&out),
        set(&[EVIDENCE_FILE, SEAL_FILE]),
        "{out}"
    );
    let fingerprint = fingerprint_of(&collector);
    assert!(
        out.contains(&format!(
            "FAIL  evidence.json: not the snapshot attested by collector key {fingerprint}"
        )) && out.contains("the snapshot was changed after collection"),
        "{out}"
    );
    assert!(out.contains("OK    results.json: identical"), "{out}");

    // Signing it is refused, so no one signs an edited snapshot unknowingly.
    let alice = fixed_key(dir.path(), "alice");
    let refused = sign_at(
        &package,
        &alice,
        "Alice Author",
        "QA",
        "approved",
        ALICE_SIGNS_AT,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("refusing to sign") && message.contains("not the snapshot attested"),
        "{message}"
    );

    // The same edit made in a signed package, with the manifest's hashes recomputed.
    let signed = signed_package(&dir.path().join("signed"), &original);
    let path = signed.join(EVIDENCE_FILE);
    let text = read(&path).replacen(
        "\"cacheDataEncrypted\": false",
        "\"cacheDataEncrypted\": true",
        1,
    );
    fs::write(&path, text).unwrap();
    recompute_manifest(&signed);
    let (code, out) = verify(&signed, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "FAIL  evidence.json: not the snapshot attested by collector key {fingerprint}"
        )),
        "{out}"
    );
}

/// Rewrites manifest.json's hashes to match the files as they are now (no key needed).
fn recompute_manifest(package: &Path) {
    let path = package.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    for entry in manifest["files"].as_array_mut().unwrap() {
        let bytes = fs::read(package.join(entry["path"].as_str().unwrap())).unwrap();
        entry["sha256"] = evidence::sha256_hex(&bytes).into();
        entry["bytes"] = bytes.len().into();
    }
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn report_refuses_an_attestation_that_does_not_match_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let collector = keygen(dir.path(), "collector");
    let snapshot = attested_snapshot(dir.path(), &demo_bytes(), &collector);
    let edited = read(&snapshot).replacen(
        "\"cacheDataEncrypted\": false",
        "\"cacheDataEncrypted\": true",
        1,
    );
    fs::write(&snapshot, edited).unwrap();
    let sidecar = sidecar_path(&snapshot);
    let out = dir.path().join("package");

    // Picked up beside the snapshot.
    let output = report(&snapshot, &out, &["--format", "csv"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "attestation {} does not attest",
            sidecar.display()
        )) && message.contains("the snapshot was changed after collection"),
        "{message}"
    );
    assert!(!out.exists(), "nothing is written");

    // Named with --attestation, for another snapshot.
    let other = dir.path().join("other.attestation.json");
    fs::rename(&sidecar, &other).unwrap();
    let output = report(
        &snapshot,
        &out,
        &["--format", "csv", "--attestation", other.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains(&other.display().to_string()));
    assert!(!out.exists(), "nothing is written");

    // Without any attestation the snapshot reports as unattested; a collector key cannot be
    // given to a report on an existing snapshot (attesting later would vouch for nothing).
    let output = report(
        &snapshot,
        &out,
        &["--attest-key", collector.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--attest-key apply only to a live collection"));
    let output = report(&snapshot, &out, &["--format", "csv"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!out.join(ATTESTATION_FILE).exists());
}

#[test]
fn collect_with_an_attest_key_writes_a_sidecar_that_verifies() {
    let moto = moto();
    moto.seed(&["compliant", "us-east-1"]);
    let period = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let collector = keygen(dir.path(), "collector");
    let snapshot = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", "us-east-1"]);
    collect
        .arg("--out")
        .arg(&snapshot)
        .arg("--attest-key")
        .arg(&collector)
        .args(["--passphrase-env", PASSPHRASE_VAR])
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE);
    let output = collect.output().unwrap();
    let message = stderr(&output);
    assert!(output.status.code().is_some_and(|c| c <= 1), "{message}");
    let fingerprint = fingerprint_of(&collector);
    assert!(
        message.contains(&format!("attested by collector key {fingerprint}")),
        "{message}"
    );
    let sidecar = sidecar_path(&snapshot);
    let attestation = Attestation::parse(&fs::read(&sidecar).unwrap()).unwrap();
    let loaded =
        evidence::load_file(&snapshot, evidence::load::DEFAULT_MAX_EVIDENCE_BYTES).unwrap();
    assert_eq!(attestation.evidence_sha256, loaded.sha256);
    assert!(attestation.attested_at >= loaded.snapshot.collected_at);
    assert_eq!(
        attestation.collected_by[0].caller_arn,
        loaded.snapshot.accounts[0]
            .caller_identity
            .as_ref()
            .and_then(|c| c.arn.clone())
    );

    let package = signed_package_at(dir.path(), &snapshot, None, "csv");
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "OK    {ATTESTATION_FILE}: evidence.json attested by collector key {fingerprint}"
        )),
        "{out}"
    );

    // Collected again over it without a key: the old attestation, which no longer matches,
    // goes with the old snapshot.
    let mut again = live(&stub, &period, &["collect", "--regions", "us-east-1"]);
    again.arg("--out").arg(&snapshot).arg("--force");
    let output = again.output().unwrap();
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&output)
    );
    assert!(
        !sidecar.exists(),
        "a stale attestation is left beside the new snapshot"
    );
}

#[test]
fn a_collector_key_that_cannot_sign_stops_collect_before_anything_is_collected() {
    let dir = tempfile::tempdir().unwrap();
    let collector = keygen(dir.path(), "collector");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&collector, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let snapshot = dir.path().join("evidence.json");
    for key in [collector.clone(), dir.path().join("missing.key")] {
        let output = bin()
            .args([
                "collect",
                "--regions",
                "us-east-1",
                "--period",
                &common::moto::month().label,
            ])
            .arg("--out")
            .arg(&snapshot)
            .arg("--attest-key")
            .arg(&key)
            .args(["--passphrase-env", PASSPHRASE_VAR])
            .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
            // Nothing may be called: an endpoint that refuses every connection.
            .arg("--endpoint-url")
            .arg("http://127.0.0.1:9")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("key file {}", key.display())),
            "{}",
            stderr(&output)
        );
        assert!(!snapshot.exists() && !sidecar_path(&snapshot).exists());
    }
}
