//! End-to-end tests of electronic sign-off and offline verification: the demo package signed
//! by two people, the manifestations in every human-readable form, and verify naming
//! precisely each kind of tampering.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::*;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).expect("JSON")
}

/// Rewrites manifest.json's entries to match the files as they are now — what someone
/// without the signing key can do after editing a file.
fn recompute_manifest(package: &Path) {
    let path = package.join("manifest.json");
    let mut manifest = json(&path);
    for entry in manifest["files"].as_array_mut().unwrap() {
        let bytes = fs::read(package.join(entry["path"].as_str().unwrap())).unwrap();
        entry["sha256"] = gxp_evidence::evidence::sha256_hex(&bytes).into();
        entry["bytes"] = bytes.len().into();
    }
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn demo_signed_by_two_people_verifies_and_shows_both_signatures_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (package, alice, bob) = signed_demo(dir.path());

    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.lines().last().unwrap().starts_with("VALID: "), "{out}");
    assert!(
        out.contains("OK    manifest.sig: signature valid over manifest.json and 2 sign-off(s)")
    );
    assert!(out.contains("sign-off 1 (Alice Author, authored)"), "{out}");
    assert!(out.contains("sign-off 2 (Bob Approver, approved)"), "{out}");
    assert!(
        out.contains("OK    report.pdf: identical to the re-rendering"),
        "{out}"
    );
    assert!(
        out.contains("OK    results.json: identical to the re-evaluation"),
        "{out}"
    );
    assert!(out.contains("OK    history/0: the state with 0 sign-off(s) is intact"));
    assert!(out.contains("OK    history/1: the state with 1 sign-off(s) is intact"));
    assert!(out.contains("NOTE  trusted keys: not checked"), "{out}");

    // PDF: the footer of every page carries both manifestations; the sign-off page has the
    // table with names, roles, meanings and times.
    let pages = pdf_pages(&package.join("report.pdf"));
    assert!(pages.len() > 10);
    for (number, text) in pages.iter().enumerate() {
        for expected in ["Signed: Alice Author (authored)", "Bob Approver (approved)"] {
            assert!(
                text.contains(expected),
                "page {} lacks {expected:?}",
                number + 1
            );
        }
        assert!(
            !text.contains("DRAFT"),
            "page {} still says draft",
            number + 1
        );
    }
    let last = pages.last().unwrap();
    for expected in [
        "Sign-off",
        "Validation Engineer",
        "QA Manager",
        "alice.author",
        "bob.approver",
        "Ed25519 local key",
    ] {
        assert!(last.contains(expected), "sign-off page lacks {expected:?}");
    }

    let html = read(&package.join("report.html"));
    assert!(html.contains("<td>Alice Author</td>") && html.contains("<td>approved</td>"));
    assert!(!html.contains("not been electronically signed"));

    let mut csv = csv::Reader::from_path(package.join("signoffs.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][2], "Alice Author");
    assert_eq!(&rows[1][5], "approved");
    let signoffs = json(&package.join("signoffs.json"));
    assert_eq!(
        signoffs["signoffs"][1]["previous_signoff_sha256"],
        serde_json::Value::String(rows[0][12].to_string()),
        "signoffs.csv names each sign-off's digest, and the chain links them"
    );

    // A signed package is never replaced, not even with --force.
    let forced = bin()
        .args(["demo", "--force", "--out"])
        .arg(&package)
        .output()
        .unwrap();
    assert_eq!(forced.status.code(), Some(2));
    assert!(
        stderr(&forced).contains("--force never replaces a signed record"),
        "{}",
        stderr(&forced)
    );
    assert!(package.join("manifest.sig").is_file());

    // Earlier states are kept: the unsigned draft and the state after Alice's sign-off.
    let draft = pdf_pages(&package.join("history/0/report.pdf"));
    assert!(draft.last().unwrap().contains("DRAFT"));
    let after_alice = pdf_pages(&package.join("history/1/report.pdf"));
    assert!(after_alice[0].contains("Alice Author") && !after_alice[0].contains("Bob Approver"));

    // The public keys beside the private keys are what an auditor trusts.
    let trusted = dir.path().join("trusted.pem");
    let both = read(&alice.with_extension("key.pub")) + &read(&bob.with_extension("key.pub"));
    fs::write(&trusted, both).unwrap();
    let (code, out) = verify(&package, &["--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("OK    manifest.sig: sealing key SHA256:"),
        "{out}"
    );
}

#[test]
fn changing_one_byte_of_any_file_names_exactly_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let (package, _, _) = signed_demo(dir.path());
    let files = files_under(&package);
    assert_eq!(files.len(), 25, "{files:?}");
    for (index, file) in files.iter().enumerate() {
        let copy = dir.path().join(format!("tampered-{index}"));
        copy_dir(&package, &copy);
        let path = copy.join(file);
        let mut bytes = fs::read(&path).unwrap();
        // First, middle or last byte, in turn: headers, content and trailing newlines.
        let position = [0, bytes.len() / 2, bytes.len() - 1][index % 3];
        bytes[position] ^= 0x01;
        fs::write(&path, bytes).unwrap();

        let (code, out) = verify(&copy, &[]);
        assert_eq!(code, Some(1), "{file} byte {position}: {out}");
        assert_eq!(
            failed_subjects(&out),
            set(&[file]),
            "{file} byte {position}:\n{out}"
        );
        assert!(
            out.lines().last().unwrap().starts_with("INVALID: "),
            "{out}"
        );
        fs::remove_dir_all(&copy).unwrap();
    }
}

#[test]
fn deleted_and_added_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (package, _, _) = signed_demo(dir.path());
    for file in [
        "report.html",
        "evidence.json",
        "manifest.sig",
        "history/0/report.pdf",
    ] {
        let copy = dir
            .path()
            .join(format!("without-{}", file.replace('/', "-")));
        copy_dir(&package, &copy);
        fs::remove_file(copy.join(file)).unwrap();
        let (code, out) = verify(&copy, &[]);
        assert_eq!(code, Some(1), "{out}");
        assert_eq!(failed_subjects(&out), set(&[file]), "{file}:\n{out}");
        assert!(out.contains(&format!("FAIL  {file}: missing")), "{out}");
    }
    for file in ["notes.txt", "history/1/extra.pdf", "templates/report.css"] {
        let copy = dir.path().join(format!("with-{}", file.replace('/', "-")));
        copy_dir(&package, &copy);
        fs::create_dir_all(copy.join(file).parent().unwrap()).unwrap();
        fs::write(copy.join(file), "added later").unwrap();
        let (code, out) = verify(&copy, &[]);
        assert_eq!(code, Some(1), "{out}");
        assert_eq!(failed_subjects(&out), set(&[file]), "{file}:\n{out}");
        assert!(out.contains(&format!("FAIL  {file}: extra file")), "{out}");
    }
}

#[test]
fn swapped_sign_offs_and_a_replaced_signature_break_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (package, _, _) = signed_demo(dir.path());

    let swapped = dir.path().join("swapped");
    copy_dir(&package, &swapped);
    let mut signoffs = json(&swapped.join("signoffs.json"));
    signoffs["signoffs"].as_array_mut().unwrap().swap(0, 1);
    fs::write(
        swapped.join("signoffs.json"),
        serde_json::to_vec_pretty(&signoffs).unwrap(),
    )
    .unwrap();
    let (code, out) = verify(&swapped, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(failed_subjects(&out), set(&["signoffs.json"]), "{out}");
    assert!(
        out.contains("the order of the sign-offs was changed"),
        "{out}"
    );
    assert!(out.contains("chain broken"), "{out}");

    // Alice's signature replaced by Bob's (a valid signature, over another statement).
    let replaced = dir.path().join("replaced");
    copy_dir(&package, &replaced);
    let mut signoffs = json(&replaced.join("signoffs.json"));
    let bobs = signoffs["signoffs"][1]["signature"].clone();
    signoffs["signoffs"][0]["signature"] = bobs;
    fs::write(
        replaced.join("signoffs.json"),
        serde_json::to_vec_pretty(&signoffs).unwrap(),
    )
    .unwrap();
    recompute_manifest(&replaced);
    let (code, out) = verify(&replaced, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL  signoffs.json: sign-off 1 (Alice Author, authored) signature: the signature does not verify"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  manifest.json: modified after it was sealed"),
        "{out}"
    );
    assert!(!out.contains("FAIL  report.pdf"), "{out}");
}

#[test]
fn edited_evidence_with_a_recomputed_manifest_is_caught_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (package, _, _) = signed_demo(dir.path());
    let evidence = package.join("evidence.json");
    let text = read(&evidence);
    // Turn an unencrypted cache into an encrypted one: a FAIL that would read as PASS.
    let edited = text.replacen(
        "\"cacheDataEncrypted\": false",
        "\"cacheDataEncrypted\": true",
        1,
    );
    assert_ne!(edited, text);
    fs::write(&evidence, edited).unwrap();
    recompute_manifest(&package);

    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        failed_subjects(&out),
        set(&["evidence.json", "manifest.json"]),
        "{out}"
    );
    assert!(
        out.contains("FAIL  manifest.json: modified after it was sealed"),
        "{out}"
    );
    assert!(
        out.contains(
            "FAIL  evidence.json: is not the file sign-off 1 (Alice Author, authored) signed"
        ),
        "{out}"
    );
    assert!(out.contains("SKIP  re-evaluation"), "{out}");

    // Signing on top of it is refused, and nothing is written.
    let carol = keygen(dir.path(), "carol");
    let before = files_under(&package);
    let refused = sign(&package, &carol, "Carol Reviewer", "QA", "reviewed");
    assert_eq!(refused.status.code(), Some(2));
    let message = stderr(&refused);
    assert!(message.contains("refusing to sign"), "{message}");
    assert!(message.contains("evidence.json"), "{message}");
    assert_eq!(files_under(&package), before);
}

#[test]
fn a_package_re_signed_with_another_key_fails_only_against_the_trusted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (package, alice, bob) = signed_demo(dir.path());
    // Someone with their own key builds a fresh package from edited evidence and signs it
    // with the same names: signatures are valid, but the keys are not the trusted ones.
    let evidence = dir.path().join("edited.json");
    let text = read(&package.join("evidence.json"));
    fs::write(
        &evidence,
        text.replacen(
            "\"cacheDataEncrypted\": false",
            "\"cacheDataEncrypted\": true",
            1,
        ),
    )
    .unwrap();
    let forged = dir.path().join("forged");
    let output = report(&evidence, &forged, &[]);
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "{}",
        stderr(&output)
    );
    let mallory = keygen(dir.path(), "mallory");
    for (name, role, meaning) in [
        ("Alice Author", "Validation Engineer", "authored"),
        ("Bob Approver", "QA Manager", "approved"),
    ] {
        let signed = sign(&forged, &mallory, name, role, meaning);
        assert!(signed.status.success(), "{}", stderr(&signed));
    }
    let (code, out) = verify(&forged, &[]);
    assert_eq!(code, Some(0), "self-consistent without a trust list: {out}");

    let trusted = dir.path().join("trusted.txt");
    let fingerprint = |key: &Path| {
        let pem = read(&key.with_extension("key.pub"));
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64_decode(&body);
        format!("SHA256:{}", gxp_evidence::evidence::sha256_hex(&der))
    };
    fs::write(
        &trusted,
        format!(
            "# QA signers\n{}  Alice Author\n{}  Bob Approver\n",
            fingerprint(&alice),
            fingerprint(&bob)
        ),
    )
    .unwrap();
    let (code, out) = verify(&forged, &["--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        failed_subjects(&out),
        set(&["manifest.sig", "signoffs.json"]),
        "{out}"
    );
    assert!(out.contains("is not in the trusted keys"), "{out}");
    let (code, out) = verify(&package, &["--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("is trusted (Alice Author)"), "{out}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|a| *a == byte).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

#[test]
fn an_unsigned_draft_does_not_verify_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("draft");
    bin().arg("demo").arg("--out").arg(&draft).output().unwrap();
    let (code, out) = verify(&draft, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(failed_subjects(&out), set(&["manifest.sig"]), "{out}");
    assert!(out.contains("unsigned draft"), "{out}");
    // Everything else about the draft is checked and fine.
    assert!(
        out.contains("OK    report.pdf: identical to the re-rendering"),
        "{out}"
    );

    let missing = bin()
        .arg("verify")
        .arg(dir.path().join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nowhere"));

    let bad_keys = dir.path().join("keys.txt");
    fs::write(&bad_keys, "# ok\nSHA256:not-hex\n").unwrap();
    let output = bin()
        .arg("verify")
        .arg(&draft)
        .arg("--trusted-keys")
        .arg(&bad_keys)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("keys.txt, line 2"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn signing_refuses_bad_identities_duplicates_and_unprotected_keys() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    bin()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .output()
        .unwrap();
    let key = keygen(dir.path(), "alice");
    let before = read(&package.join("manifest.json"));

    let hidden = sign(&package, &key, "Alice\u{202E}rohtuA", "QA", "authored");
    assert_eq!(hidden.status.code(), Some(2));
    assert!(stderr(&hidden).contains("--name contains control or invisible characters"));
    let empty = sign(&package, &key, "Alice Author", "QA", "");
    assert_eq!(empty.status.code(), Some(2));
    assert!(stderr(&empty).contains("--meaning must not be empty"));
    assert_eq!(read(&package.join("manifest.json")), before);

    let first = sign(&package, &key, "Alice Author", "QA", "authored");
    assert!(first.status.success(), "{}", stderr(&first));
    let again = sign(&package, &key, "Alice Author", "QA", "authored");
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already signed this report as `authored`"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
        let open = sign(&package, &key, "Alice Author", "QA", "reviewed");
        assert_eq!(open.status.code(), Some(2));
        assert!(
            stderr(&open).contains("permissions 0640"),
            "{}",
            stderr(&open)
        );
    }
    let leftovers: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".gxp-evidence"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_report_with_custom_templates_keeps_them_so_it_can_be_re_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    fs::create_dir(&templates).unwrap();
    let css = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/report.css"));
    fs::write(
        templates.join("report.css"),
        css + "\nh1 { color: #123456; }\n",
    )
    .unwrap();
    let package = dir.path().join("package");
    let output = report(
        &demo_evidence(),
        &package,
        &[
            "--templates",
            templates.to_str().unwrap(),
            "--format",
            "html",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(package.join("templates/report.css").is_file());
    assert!(!package.join("report.pdf").exists());
    let key = keygen(dir.path(), "alice");
    let signed = sign(&package, &key, "Alice Author", "QA", "approved");
    assert!(signed.status.success(), "{}", stderr(&signed));
    assert!(read(&package.join("report.html")).contains("#123456"));
    // The templates directory given at report time is not needed any more.
    fs::remove_dir_all(&templates).unwrap();
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("OK    report.html: identical to the re-rendering"),
        "{out}"
    );
    assert!(!out.contains("report.pdf"), "{out}");
}
