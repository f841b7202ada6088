//! End-to-end tests of "a signature is bound to a person" (21 CFR 11.70, 11.100, 11.200;
//! Annex 11 §14): QA's signer registry checked by `verify --signers` and enforced by
//! `sign --signers`; earlier states that the last signer re-sealed or re-rendered with other
//! templates; and passphrase-protected local keys (the second identification component),
//! readable by OpenSSL 3.0 and Python `cryptography`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::forge::reseal;
use common::*;
use gxp_evidence::evidence::{self, sha256_hex};
use gxp_evidence::package::seal::{SEAL_FILE, Seal};
use gxp_evidence::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use gxp_evidence::package::{EVIDENCE_FILE, MANIFEST_FILE, Manifest};
use gxp_evidence::report::ReportModel;
use gxp_evidence::report::render::{self, Format};
use gxp_evidence::signing::{
    self,
    local::{LocalKey, Unlock},
};

/// The fingerprint of a `.pub` file (as `keygen` prints it).
fn fingerprint_of(private_key: &Path) -> String {
    LocalKey::load(private_key, Unlock::Passphrase(TEST_PASSPHRASE))
        .expect("the test key opens")
        .info
        .fingerprint
}

/// One registry entry as JSON.
struct Entry<'a> {
    key: &'a str,
    user_id: &'a str,
    name: &'a str,
    role: &'a str,
    issued: &'a str,
    revoked: Option<(&'a str, &'a str)>,
}

impl Entry<'_> {
    fn json(&self) -> serde_json::Value {
        let mut entry = serde_json::json!({
            "key": self.key,
            "user_id": self.user_id,
            "printed_name": self.name,
            "role": self.role,
            "issued": self.issued,
        });
        if let Some((at, reason)) = self.revoked {
            entry["revoked"] = at.into();
            entry["revocation_reason"] = reason.into();
        }
        entry
    }
}

/// Writes a registry of `entries` to `dir/signers.json`.
fn registry(dir: &Path, entries: &[Entry]) -> PathBuf {
    let path = dir.join("signers.json");
    let document = serde_json::json!({
        "signers_format": 1,
        "signers": entries.iter().map(Entry::json).collect::<Vec<_>>(),
    });
    fs::write(&path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    path
}

/// The registry entries that match the shared demo's two sign-offs.
fn alice_entry(key: &str) -> Entry<'_> {
    Entry {
        key,
        user_id: "alice.author",
        name: "Alice Author",
        role: "Validation Engineer",
        issued: "2026-01-15",
        revoked: None,
    }
}

fn bob_entry(key: &str) -> Entry<'_> {
    Entry {
        key,
        user_id: "bob.approver",
        name: "Bob Approver",
        role: "QA Manager",
        issued: "2026-01-15T09:00:00Z",
        revoked: None,
    }
}

struct Keys {
    alice: String,
    bob: String,
}

fn keys() -> Keys {
    let shared = shared_demo();
    Keys {
        alice: fingerprint_of(&shared.alice),
        bob: fingerprint_of(&shared.bob),
    }
}

/// `verify PACKAGE --signers REGISTRY`.
fn verify_with(package: &Path, registry: &Path) -> (Option<i32>, String) {
    verify(package, &["--signers", registry.to_str().unwrap()])
}

/// Verify with the registry fails only on `signoffs.json` (and the seal, if `seal_too`), with
/// a line for `label` containing `expected`.
fn assert_identity_fails(entries: &[Entry], label: &str, expected: &str, seal_too: bool) {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry(dir.path(), entries);
    let (code, out) = verify_with(&shared_demo().signed_csv, &registry);
    assert_eq!(code, Some(1), "{out}");
    let mut subjects = vec![SIGNOFFS_FILE.to_string()];
    if seal_too {
        subjects.push(SEAL_FILE.to_string());
    }
    assert_eq!(
        failed_subjects(&out),
        subjects.into_iter().collect(),
        "{out}"
    );
    assert!(
        out.lines().any(
            |l| l.starts_with(&format!("FAIL  signoffs.json: {label}: ")) && l.contains(expected)
        ),
        "no FAIL for {label} with `{expected}` in:\n{out}"
    );
}

// ---- verify --signers ----

#[test]
fn a_package_whose_signers_match_the_registry_verifies_and_says_whose_keys_they_are() {
    let keys = keys();
    let dir = tempfile::tempdir().unwrap();
    let registry = registry(
        dir.path(),
        &[alice_entry(&keys.alice), bob_entry(&keys.bob)],
    );
    let (code, out) = verify_with(&shared_demo().signed_csv, &registry);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "OK    signoffs.json: sign-off 1 (Alice Author, authored): key {} is bound to alice.author (Alice Author, Validation Engineer) in the signer registry (line 3), issued 2026-01-15 00:00:00 UTC",
            keys.alice
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "OK    manifest.sig: sealing key {} is bound to bob.approver in the signer registry",
            keys.bob
        )),
        "{out}"
    );
    // A registry replaces the trusted-keys note; without one, verify says it did not check.
    assert!(!out.contains("NOTE  trusted keys"), "{out}");
    assert!(!out.contains("NOTE  signer identities"), "{out}");
    let (code, out) = verify(&shared_demo().signed_csv, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("NOTE  signer identities: not checked: the names, user ids and roles are what each signer typed; pass --signers FILE"),
        "{out}"
    );
}

#[test]
fn a_sign_off_under_another_printed_name_fails() {
    let keys = keys();
    let alice = Entry {
        name: "Alice Smith",
        ..alice_entry(&keys.alice)
    };
    assert_identity_fails(
        &[alice, bob_entry(&keys.bob)],
        "sign-off 1 (Alice Author, authored)",
        &format!(
            "the printed name is `Alice Author`, but the registry binds key {} to alice.author (Alice Smith, Validation Engineer)",
            keys.alice
        ),
        false,
    );
}

#[test]
fn a_sign_off_under_another_user_id_fails() {
    let keys = keys();
    let bob = Entry {
        user_id: "bapprover",
        ..bob_entry(&keys.bob)
    };
    assert_identity_fails(
        &[alice_entry(&keys.alice), bob],
        "sign-off 2 (Bob Approver, approved)",
        "the user id is `bob.approver`, but the registry binds key",
        false,
    );
}

#[test]
fn a_sign_off_made_after_its_key_was_revoked_fails() {
    let keys = keys();
    let alice = Entry {
        revoked: Some(("2026-11-01T12:00:00Z", "laptop stolen")),
        ..alice_entry(&keys.alice)
    };
    assert_identity_fails(
        &[alice, bob_entry(&keys.bob)],
        "sign-off 1 (Alice Author, authored)",
        &format!(
            "signed at 2026-11-02 09:00:00 UTC, after key {} was revoked (2026-11-01 12:00:00 UTC: laptop stolen)",
            keys.alice
        ),
        false,
    );
    // Revoked after it signed: the sign-off stands, and verify says when.
    let dir = tempfile::tempdir().unwrap();
    let later = Entry {
        revoked: Some(("2026-11-02T09:00:01Z", "left the company")),
        ..alice_entry(&keys.alice)
    };
    let registry = registry(dir.path(), &[later, bob_entry(&keys.bob)]);
    let (code, out) = verify_with(&shared_demo().signed_csv, &registry);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("revoked 2026-11-02 09:00:01 UTC after signing"),
        "{out}"
    );
}

#[test]
fn a_sign_off_made_before_its_key_was_issued_fails() {
    let keys = keys();
    let bob = Entry {
        issued: "2026-11-04",
        ..bob_entry(&keys.bob)
    };
    assert_identity_fails(
        &[alice_entry(&keys.alice), bob],
        "sign-off 2 (Bob Approver, approved)",
        &format!(
            "signed at 2026-11-03 14:30:00 UTC, before key {} was issued (2026-11-04 00:00:00 UTC)",
            keys.bob
        ),
        false,
    );
}

#[test]
fn a_key_the_registry_does_not_list_fails_for_its_sign_off_and_the_seal() {
    let keys = keys();
    assert_identity_fails(
        &[alice_entry(&keys.alice)],
        "sign-off 2 (Bob Approver, approved)",
        &format!("key {} is not in the signer registry", keys.bob),
        true,
    );
}

#[test]
fn a_registry_with_problems_is_refused_with_every_problem_and_its_position() {
    let keys = keys();
    let dir = tempfile::tempdir().unwrap();
    let path = registry(
        dir.path(),
        &[
            alice_entry(&keys.alice),
            Entry {
                revoked: Some(("2026-01-01", "never used")),
                ..bob_entry(&keys.alice)
            },
        ],
    );
    let output = bin()
        .arg("verify")
        .arg(&shared_demo().signed_csv)
        .arg("--signers")
        .arg(&path)
        .output()
        .unwrap();
    assert_refused(&output, "is not valid (2 problems)");
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "signers.json:12:14: signers[1].key: key {} is bound to user id alice.author at line 3 already; a key belongs to one person",
            keys.alice
        )),
        "{message}"
    );
    assert!(
        message.contains(
            "signers[1].revoked: revoked 2026-01-01 00:00:00 UTC before it was issued (2026-01-15 09:00:00 UTC)"
        ),
        "{message}"
    );
    assert!(output.stdout.is_empty(), "nothing verified");
}

// ---- sign --signers ----

#[test]
fn sign_refuses_what_the_registry_does_not_bind_to_the_key_and_signs_what_it_does() {
    let keys = keys();
    let shared = shared_demo();
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared.after_alice, &package);
    let before = files_under(&package)
        .into_iter()
        .map(|f| (fs::read(package.join(&f)).unwrap(), f))
        .collect::<Vec<_>>();
    let registry = registry(
        dir.path(),
        &[alice_entry(&keys.alice), bob_entry(&keys.bob)],
    );
    let sign_as = |role: &str| -> Output {
        sign_command(&package, &shared.bob, "Bob Approver", role, "approved")
            .arg("--signers")
            .arg(&registry)
            .env(TEST_NOW_VAR, BOB_SIGNS_AT)
            .output()
            .unwrap()
    };
    let refused = sign_as("QA Director");
    assert_refused(
        &refused,
        &format!(
            "does not let this key sign as sign-off 2 (Bob Approver, approved):\n  the role is `QA Director`, but the registry binds key {} to bob.approver (Bob Approver, QA Manager)",
            keys.bob
        ),
    );
    let after = files_under(&package)
        .into_iter()
        .map(|f| (fs::read(package.join(&f)).unwrap(), f))
        .collect::<Vec<_>>();
    assert!(before == after, "a refused sign-off writes nothing");

    let signed = sign_as("QA Manager");
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let (code, out) = verify_with(&package, &registry);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn sign_with_a_registry_refuses_to_countersign_an_earlier_signer_it_does_not_bind() {
    let keys = keys();
    let shared = shared_demo();
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared.after_alice, &package);
    let registry = registry(dir.path(), &[bob_entry(&keys.bob)]);
    let refused = sign_command(
        &package,
        &shared.bob,
        "Bob Approver",
        "QA Manager",
        "approved",
    )
    .arg("--signers")
    .arg(&registry)
    .env(TEST_NOW_VAR, BOB_SIGNS_AT)
    .output()
    .unwrap();
    assert_refused(
        &refused,
        &format!(
            "FAIL  signoffs.json: sign-off 1 (Alice Author, authored): key {} is not in the signer registry",
            keys.alice
        ),
    );
}

// ---- history: what the earlier signers saw ----

/// Seals `manifest` (a path in `dir`) with `key` over the first `count` sign-offs (all when
/// none), writing the seal beside it.
fn seal(dir: &Path, manifest: &str, count: Option<usize>, key: &LocalKey) {
    let chain = SignoffFile::parse(&fs::read(dir.join(SIGNOFFS_FILE)).unwrap()).unwrap();
    let count = count.unwrap_or(chain.signoffs.len());
    let bytes = fs::read(dir.join(manifest)).unwrap();
    let mut seal = Seal::unsigned(
        &chain.report_id,
        sha256_hex(&bytes),
        &chain.signoffs[..count],
        key.info.clone(),
    );
    seal.signature = signing::encode_signature(&key.sign(&seal.statement()));
    let path = dir.join(manifest).with_file_name(SEAL_FILE);
    fs::write(path, seal.to_bytes()).unwrap();
}

fn fixed(path: &Path) -> LocalKey {
    LocalKey::load(path, Unlock::Passphrase(TEST_PASSPHRASE)).unwrap()
}

#[test]
fn an_earlier_state_the_last_signer_re_sealed_with_their_own_key_fails_naming_the_state() {
    let shared = shared_demo();
    let keys = keys();
    let bob = fixed(&shared.bob);
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared.signed_csv, &package);
    // Alice's state, its register edited and sealed again by Bob, then the whole package.
    let register = package.join("history/1/signoffs.csv");
    let text = read(&register).replace(",Validation Engineer,", ",QA Director,");
    fs::write(&register, text).unwrap();
    let state = package.join("history/1/manifest.json");
    let mut manifest = Manifest::parse(&fs::read(&state).unwrap()).unwrap();
    let bytes = fs::read(&register).unwrap();
    for entry in &mut manifest.files {
        if entry.path == "signoffs.csv" {
            entry.sha256 = sha256_hex(&bytes);
            entry.bytes = bytes.len() as u64;
        }
    }
    fs::write(&state, manifest.to_bytes()).unwrap();
    seal(&package, "history/1/manifest.json", Some(1), &bob);
    reseal(&package, &bob);
    let dir2 = tempfile::tempdir().unwrap();
    let registry = registry(
        dir2.path(),
        &[alice_entry(&keys.alice), bob_entry(&keys.bob)],
    );
    let (code, out) = verify_with(&package, &registry);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        failed_subjects(&out),
        ["history/1/manifest.sig".to_string()].into(),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "FAIL  history/1/manifest.sig: sealed with key {}, but sign-off 1 (Alice Author, authored) was made with key {}",
            keys.bob, keys.alice
        )),
        "{out}"
    );
}

/// The demo as an HTML-only package rendered with the project's templates as custom ones
/// (`report --templates`), signed by Alice and then Bob.
fn signed_with_templates(dir: &Path) -> PathBuf {
    let shared = shared_demo();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let package = dir.join("package");
    let output = report(
        &demo_evidence(),
        &package,
        &[
            "--format",
            "html",
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    for (key, name, role, meaning, at) in [
        (
            &shared.alice,
            "Alice Author",
            "Validation Engineer",
            "authored",
            ALICE_SIGNS_AT,
        ),
        (
            &shared.bob,
            "Bob Approver",
            "QA Manager",
            "approved",
            BOB_SIGNS_AT,
        ),
    ] {
        let signed = sign_at(&package, key, name, role, meaning, at);
        assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    }
    package
}

#[test]
fn templates_the_last_signer_swapped_and_re_rendered_with_fail_naming_the_template() {
    // Bob keeps the templates Alice's state was rendered with under history/1/, drops the
    // sign-off table from today's template, re-renders report.html with it and re-seals:
    // every hash and signature holds and the re-rendering matches, but the manifestations
    // every signer saw are no longer what the package shows.
    let dir = tempfile::tempdir().unwrap();
    let package = signed_with_templates(dir.path());
    let bob = fixed(&shared_demo().bob);
    let template = package.join("templates/report.html");
    fs::create_dir_all(package.join("history/1/templates")).unwrap();
    fs::copy(&template, package.join("history/1/templates/report.html")).unwrap();
    let text = read(&template).replace(
        "{{ tables.signoffs | table }}",
        "<p>Signed by the QA department.</p>",
    );
    fs::write(&template, text).unwrap();
    let manifest = Manifest::parse(&fs::read(package.join(MANIFEST_FILE)).unwrap()).unwrap();
    let loaded = evidence::load_bytes(
        EVIDENCE_FILE,
        fs::read(package.join(EVIDENCE_FILE)).unwrap(),
    )
    .unwrap();
    let chain = SignoffFile::parse(&fs::read(package.join(SIGNOFFS_FILE)).unwrap()).unwrap();
    // Rendered as the package was: with the report-time parameters its manifest seals.
    let model =
        ReportModel::from_snapshot(&loaded.snapshot, &loaded.sha256, chain.manifestations())
            .with_document(&manifest.render.document(loaded.snapshot.collected_at));
    render::render_each(
        &model,
        &[Format::Html].into(),
        &manifest.render.options(&package),
        |file| {
            if file.name == "report.html" {
                fs::write(package.join("report.html"), file.into_bytes().unwrap()).unwrap();
            }
            Ok::<_, render::RenderError>(())
        },
    )
    .unwrap();
    assert!(read(&package.join("report.html")).contains("Signed by the QA department."));
    reseal(&package, &bob);
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        failed_subjects(&out),
        ["templates/report.html".to_string()].into(),
        "{out}"
    );
    assert!(
        out.contains("FAIL  templates/report.html: changed by sign-off 2 (Bob Approver, approved): a sign-off never changes the report's templates (the state with 1 sign-off(s) had SHA-256"),
        "{out}"
    );
}

// ---- passphrase-protected local keys ----

const OTHER_VAR: &str = "GXP_TEST_OTHER_PASSPHRASE";

#[test]
fn keygen_writes_an_encrypted_key_that_openssl_and_python_cryptography_read() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "qa");
    let pem = read(&key);
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
        "{pem}"
    );
    let public = read(&PathBuf::from(format!("{}.pub", key.display())));

    // OpenSSL 3.0 opens it with the passphrase and derives the same public key.
    let openssl = std::process::Command::new("openssl")
        .args(["pkey", "-in"])
        .arg(&key)
        .args(["-passin", &format!("env:{PASSPHRASE_VAR}"), "-pubout"])
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .output();
    match openssl {
        Ok(output) => {
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&output.stdout), public);
            let wrong = std::process::Command::new("openssl")
                .args(["pkey", "-noout", "-in"])
                .arg(&key)
                .args(["-passin", "pass:not the passphrase"])
                .output()
                .unwrap();
            assert!(!wrong.status.success(), "OpenSSL needs the passphrase too");
        }
        Err(err) => println!("NOTE: openssl not run ({err}); the OpenSSL check is skipped"),
    }

    // Python `cryptography` (in the moto venv, when there is one) reads it as well.
    let python = std::env::var_os("GXP_MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv/bin/python")
        });
    let script = "import os, sys\n\
        from cryptography.hazmat.primitives import serialization\n\
        key = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), os.environb[b'PASS'])\n\
        sys.stdout.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())\n";
    let has_cryptography = std::process::Command::new(&python)
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_cryptography {
        let output = std::process::Command::new(&python)
            .args(["-c", script])
            .arg(&key)
            .env("PASS", TEST_PASSPHRASE)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&output.stdout), public);
    } else {
        println!(
            "NOTE: no Python with `cryptography` at {} (scripts/moto.sh installs it); the Python check is skipped",
            python.display()
        );
    }
}

#[test]
fn keygen_without_a_passphrase_source_or_with_a_short_one_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("qa.key");
    let output = bin()
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .args(["--passphrase-env", OTHER_VAR])
        .env_remove(OTHER_VAR)
        .output()
        .unwrap();
    assert_refused(
        &output,
        &format!("--passphrase-env {OTHER_VAR}: the variable is not set"),
    );
    let output = bin()
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .args(["--passphrase-env", OTHER_VAR])
        .env(OTHER_VAR, "short")
        .output()
        .unwrap();
    assert_refused(&output, "the passphrase must have at least 8 characters");
    assert!(files_under(dir.path()).is_empty(), "nothing written");
}

#[test]
fn a_wrong_passphrase_is_refused_without_showing_it_and_nothing_is_signed() {
    let shared = shared_demo();
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared.after_alice, &package);
    let before = read(&package.join(MANIFEST_FILE));
    let wrong = "Tr0ub4dor&3-not-it";
    let output = sign_command(
        &package,
        &shared.bob,
        "Bob Approver",
        "QA Manager",
        "approved",
    )
    .env(PASSPHRASE_VAR, wrong)
    .env(TEST_NOW_VAR, BOB_SIGNS_AT)
    .output()
    .unwrap();
    assert_refused(
        &output,
        &format!("key file {}: wrong passphrase", shared.bob.display()),
    );
    assert!(
        !stderr(&output).contains(wrong),
        "the secret is never shown"
    );
    assert!(!stderr(&output).contains(TEST_PASSPHRASE));
    assert_eq!(read(&package.join(MANIFEST_FILE)), before);
    assert!(!package.join("history/1").exists());
}

/// The fixed key `name` decrypted and written unencrypted (PKCS#8 PEM, mode 0600) into `dir`.
fn unencrypted_copy(dir: &Path, name: &str) -> PathBuf {
    let key = fixed_key(dir, name);
    let plain = dir.join(format!("{name}-plain.key"));
    let output = std::process::Command::new("openssl")
        .args(["pkey", "-in"])
        .arg(&key)
        .args(["-passin", &format!("env:{PASSPHRASE_VAR}"), "-out"])
        .arg(&plain)
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&plain, fs::Permissions::from_mode(0o600)).unwrap();
    }
    plain
}

#[test]
fn an_unencrypted_key_is_refused_unless_a_reason_is_given_which_the_sign_off_records() {
    let shared = shared_demo();
    let dir = tempfile::tempdir().unwrap();
    let plain = unencrypted_copy(dir.path(), "bob");
    let package = dir.path().join("package");
    copy_dir(&shared.after_alice, &package);
    let before = read(&package.join(MANIFEST_FILE));
    let sign = |extra: &[&str]| -> Output {
        bin()
            .arg("sign")
            .arg(&package)
            .arg("--key")
            .arg(&plain)
            .args(["--name", "Bob Approver", "--user-id", "bob.approver"])
            .args(["--role", "QA Manager", "--meaning", "approved"])
            .args(extra)
            .env(TEST_NOW_VAR, BOB_SIGNS_AT)
            .output()
            .unwrap()
    };
    let refused = sign(&[]);
    assert_refused(
        &refused,
        &format!(
            "key file {} is not encrypted: a signature needs the key and its passphrase (21 CFR 11.200(a)(1))",
            plain.display()
        ),
    );
    assert_eq!(read(&package.join(MANIFEST_FILE)), before);

    let reason = "validation of the test system, no production data";
    let signed = sign(&["--unencrypted-key-reason", reason]);
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let chain = SignoffFile::parse(&fs::read(package.join(SIGNOFFS_FILE)).unwrap()).unwrap();
    assert_eq!(chain.signoffs[0].unencrypted_key_reason, None);
    assert_eq!(
        chain.signoffs[1].unencrypted_key_reason.as_deref(),
        Some(reason)
    );
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "NOTE  signoffs.json: sign-off 2 (Bob Approver, approved): signed with a local key without a passphrase (one identification component, 21 CFR 11.200(a)(1)); the signer's reason: {reason}"
        )),
        "{out}"
    );
    // The reason is signed: changing it breaks the sign-off's signature.
    let text = read(&package.join(SIGNOFFS_FILE)).replace(reason, "approved by IT");
    fs::write(package.join(SIGNOFFS_FILE), text).unwrap();
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "sign-off 2 (Bob Approver, approved) signature: the signature does not verify"
        ),
        "{out}"
    );
}
