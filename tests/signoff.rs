//! End-to-end tests of electronic sign-off and offline verification: the demo package signed
//! by two people, the manifestations in every human-readable form, verify naming precisely
//! each kind of tampering — by someone without a key and by an insider who re-seals with a
//! valid one — and signing itself: a fixed clock, the lock, a package changed meanwhile.
//!
//! The signed demo is built once per test binary (`shared_demo`) with fixed keys at fixed
//! times; a test that changes a package works on its own copy.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Output, Stdio};

use common::forge::{reseal, reseal_with, rewrite_manifest, signoffs_of};
use common::*;
use gxp_evidence::evidence::{self, Timestamp, sha256_hex};
use gxp_evidence::package::seal::{SEAL_FILE, Seal};
use gxp_evidence::package::signoff::{SIGNOFFS_FILE, SignoffRecord};
use gxp_evidence::package::{
    EVIDENCE_FILE, HISTORY_DIR, MANIFEST_FILE, Manifest, PackageError, PackageWriter, RESULTS_FILE,
};
use gxp_evidence::report::{ReportModel, render};
use gxp_evidence::signing::{
    self,
    local::{LocalKey, Unlock},
};

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

/// Replaces the first `from` in the file with `to`.
fn edit(path: &Path, from: &str, to: &str) {
    let text = read(path);
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The fixed keys as the library holds them, for building what an insider builds.
fn fixed_keys() -> (LocalKey, LocalKey) {
    let shared = shared_demo();
    (
        LocalKey::load(&shared.alice, Unlock::Passphrase(TEST_PASSPHRASE)).unwrap(),
        LocalKey::load(&shared.bob, Unlock::Passphrase(TEST_PASSPHRASE)).unwrap(),
    )
}

/// `sign` without any of its checks, as an insider holding `key` could build it with the
/// library: the package is not verified first, the sign-off is made at `at` over whatever
/// evidence.json and results.json hold, the manifestations are re-rendered (results.json is
/// left as it is), the replaced files go to history/<n>/ and the new manifest is sealed.
fn forge_sign(dir: &Path, key: &LocalKey, name: &str, role: &str, meaning: &str, at: &str) {
    let manifest_bytes = fs::read(dir.join(MANIFEST_FILE)).unwrap();
    let manifest = Manifest::parse(&manifest_bytes).unwrap();
    let seal = fs::read(dir.join(SEAL_FILE)).ok();
    let mut signoffs = signoffs_of(dir);
    let loaded =
        evidence::load_bytes(EVIDENCE_FILE, fs::read(dir.join(EVIDENCE_FILE)).unwrap()).unwrap();
    let chain = &signoffs.signoffs;
    let mut record = SignoffRecord {
        sequence: chain.len() as u32 + 1,
        report_id: manifest.report_id.clone(),
        printed_name: name.to_string(),
        user_id: user_id(name),
        role: role.to_string(),
        meaning: meaning.to_string(),
        signed_at: Timestamp::parse(at).unwrap(),
        evidence_sha256: loaded.sha256.clone(),
        results_sha256: sha256_hex(&fs::read(dir.join(RESULTS_FILE)).unwrap()),
        previous_signoff_sha256: chain.last().map(SignoffRecord::digest),
        key: key.info.clone(),
        unencrypted_key_reason: None,
        signature: String::new(),
    };
    record.signature = signing::encode_signature(&key.sign(&record.statement()));
    let state = format!("{HISTORY_DIR}/{}", chain.len());
    signoffs.signoffs.push(record);

    // Rendered as the package was: with the report-time parameters its manifest seals.
    let model =
        ReportModel::from_snapshot(&loaded.snapshot, &loaded.sha256, signoffs.manifestations())
            .with_document(&manifest.render.document(loaded.snapshot.collected_at));
    let mut writer = PackageWriter::replace(dir).unwrap();
    let mut replaced = BTreeSet::new();
    let mut put = |name: &str, bytes: &[u8]| {
        match manifest.entry(name) {
            Some(entry) if entry.sha256 == sha256_hex(bytes) => return,
            Some(_) => {
                replaced.insert(name.to_string());
            }
            None => {}
        }
        writer.add_bytes(name, bytes).unwrap();
    };
    put(SIGNOFFS_FILE, &signoffs.to_bytes());
    let formats = manifest.render.formats().unwrap();
    render::render_each(&model, &formats, &manifest.render.options(dir), |file| {
        if file.name != RESULTS_FILE {
            let name = file.name.clone();
            put(&name, &file.into_bytes().unwrap());
        }
        Ok::<_, render::RenderError>(())
    })
    .unwrap();
    for entry in &manifest.files {
        let path = if replaced.contains(&entry.path) {
            format!("{state}/{}", entry.path)
        } else {
            entry.path.clone()
        };
        writer
            .link(&path, &dir.join(&entry.path), &entry.sha256)
            .unwrap();
    }
    writer
        .add_bytes(&format!("{state}/{MANIFEST_FILE}"), &manifest_bytes)
        .unwrap();
    if let Some(seal) = seal {
        writer
            .add_bytes(&format!("{state}/{SEAL_FILE}"), &seal)
            .unwrap();
    }
    writer
        .commit(&manifest.report_id, manifest.render.clone(), |bytes| {
            let mut seal = Seal::unsigned(
                &manifest.report_id,
                sha256_hex(bytes),
                &signoffs.signoffs,
                key.info.clone(),
            );
            seal.signature = signing::encode_signature(&key.sign(&seal.statement()));
            Ok::<_, PackageError>(Some(seal.to_bytes()))
        })
        .unwrap();
}

/// Verifies `package`, expecting it to be invalid with exactly `subjects` failing; returns
/// verify's output.
fn assert_invalid(package: &Path, subjects: &[&str]) -> String {
    let (code, out) = verify(package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(failed_subjects(&out), set(subjects), "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("INVALID: "),
        "{out}"
    );
    out
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
    assert!(
        out.contains("sign-off 1 (Alice Author, authored): Alice Author (Validation Engineer, user id alice.author), 2026-11-02 09:00:00 UTC"),
        "{out}"
    );
    assert!(
        out.contains("sign-off 2 (Bob Approver, approved): Bob Approver (QA Manager, user id bob.approver), 2026-11-03 14:30:00 UTC"),
        "{out}"
    );
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
    let before = contents(&package);
    let forced = bin()
        .args(["demo", "--force", "--out"])
        .arg(&package)
        .output()
        .unwrap();
    assert_refused(&forced, "--force never replaces a signed record");
    assert!(contents(&package) == before, "the signed package changed");

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
    let package = &shared_demo().signed;
    let files = files_under(package);
    assert_eq!(files.len(), 30, "{files:?}");
    // One copy per worker; each file is changed, verified and restored in turn.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let (files, copy) = (&files, dir.path().join(format!("tampered-{worker}")));
            scope.spawn(move || {
                copy_dir(package, &copy);
                for (index, file) in files.iter().enumerate().skip(worker).step_by(workers) {
                    let path = copy.join(file);
                    let original = fs::read(&path).unwrap();
                    let mut bytes = original.clone();
                    // First, middle or last byte, in turn: headers, content and trailing
                    // newlines.
                    let mut middle = bytes.len() / 2;
                    // In manifest.json the middle may fall in a listed path, and a changed
                    // path rightly also reports that file missing and another extra: change
                    // the next digest instead.
                    if file == MANIFEST_FILE {
                        let digest = b"\"sha256\": \"";
                        middle += bytes[middle..]
                            .windows(digest.len())
                            .position(|w| w == digest)
                            .map_or(0, |at| at + digest.len());
                    }
                    let position = [0, middle, bytes.len() - 1][index % 3];
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
                    fs::write(&path, original).unwrap();
                }
            });
        }
    });
}

#[test]
fn deleted_and_added_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let package = &shared_demo().signed;
    for file in [
        "report.html",
        "evidence.json",
        "manifest.sig",
        "history/0/report.pdf",
    ] {
        let copy = dir
            .path()
            .join(format!("without-{}", file.replace('/', "-")));
        copy_dir(package, &copy);
        fs::remove_file(copy.join(file)).unwrap();
        let (code, out) = verify(&copy, &[]);
        assert_eq!(code, Some(1), "{out}");
        assert_eq!(failed_subjects(&out), set(&[file]), "{file}:\n{out}");
        assert!(out.contains(&format!("FAIL  {file}: missing")), "{out}");
    }
    for file in ["notes.txt", "history/1/extra.pdf", "templates/report.css"] {
        let copy = dir.path().join(format!("with-{}", file.replace('/', "-")));
        copy_dir(package, &copy);
        fs::create_dir_all(copy.join(file).parent().unwrap()).unwrap();
        fs::write(copy.join(file), "added later").unwrap();
        let (code, out) = verify(&copy, &[]);
        assert_eq!(code, Some(1), "{out}");
        assert_eq!(failed_subjects(&out), set(&[file]), "{file}:\n{out}");
        assert!(out.contains(&format!("FAIL  {file}: extra file")), "{out}");
    }
    // A package never holds an empty directory: one added afterwards is named.
    for added in ["x/y", "timestamps", "templates"] {
        let copy = dir
            .path()
            .join(format!("with-dir-{}", added.replace('/', "-")));
        copy_dir(package, &copy);
        fs::create_dir_all(copy.join(added)).unwrap();
        let (code, out) = verify(&copy, &[]);
        assert_eq!(code, Some(1), "{out}");
        let subject = format!("{added}/");
        assert_eq!(
            failed_subjects(&out),
            set(&[subject.as_str()]),
            "{added}:\n{out}"
        );
        assert!(
            out.contains(&format!("FAIL  {subject}: extra directory")),
            "{out}"
        );
    }
}

#[test]
fn swapped_sign_offs_and_a_replaced_signature_break_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let package = &shared_demo().signed;

    let swapped = dir.path().join("swapped");
    copy_dir(package, &swapped);
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
    copy_dir(package, &replaced);
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
    // Turn an unencrypted cache into an encrypted one: a FAIL that would read as PASS.
    edit(
        &package.join("evidence.json"),
        "\"cacheDataEncrypted\": false",
        "\"cacheDataEncrypted\": true",
    );
    recompute_manifest(&package);

    let out = assert_invalid(&package, &["evidence.json", "manifest.json"]);
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
    let before = contents(&package);
    let refused = sign_at(
        &package,
        &carol,
        "Carol Reviewer",
        "QA",
        "reviewed",
        BOB_SIGNS_AT,
    );
    assert_eq!(refused.status.code(), Some(2));
    let message = stderr(&refused);
    assert!(message.contains("refusing to sign"), "{message}");
    assert!(message.contains("evidence.json"), "{message}");
    assert!(contents(&package) == before, "the refused sign wrote");
}

#[test]
fn a_package_re_signed_with_another_key_fails_only_against_the_trusted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let shared = shared_demo();
    // Someone with their own key builds a fresh package from edited evidence and signs it
    // with the same names: signatures are valid, but the keys are not the trusted ones.
    let evidence = dir.path().join("edited.json");
    fs::copy(shared.signed.join("evidence.json"), &evidence).unwrap();
    edit(
        &evidence,
        "\"cacheDataEncrypted\": false",
        "\"cacheDataEncrypted\": true",
    );
    let forged = dir.path().join("forged");
    let output = report(&evidence, &forged, &["--format", "csv"]);
    // One FAIL fewer; the demo has many more.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mallory = keygen(dir.path(), "mallory");
    for (name, role, meaning, at) in [
        (
            "Alice Author",
            "Validation Engineer",
            "authored",
            ALICE_SIGNS_AT,
        ),
        ("Bob Approver", "QA Manager", "approved", BOB_SIGNS_AT),
    ] {
        let signed = sign_at(&forged, &mallory, name, role, meaning, at);
        assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
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
            fingerprint(&shared.alice),
            fingerprint(&shared.bob)
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
    let (code, out) = verify(
        &shared.signed,
        &["--trusted-keys", trusted.to_str().unwrap()],
    );
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
    let draft = &shared_demo().draft;
    let (code, out) = verify(draft, &[]);
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
    assert_refused(&missing, "nowhere");

    let bad_keys = dir.path().join("keys.txt");
    fs::write(&bad_keys, "# ok\nSHA256:not-hex\n").unwrap();
    let output = bin()
        .arg("verify")
        .arg(draft)
        .arg("--trusted-keys")
        .arg(&bad_keys)
        .output()
        .unwrap();
    assert_refused(&output, "keys.txt, line 2");
    assert!(output.stdout.is_empty());
}

#[test]
fn signing_refuses_bad_identities_duplicates_and_unprotected_keys() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    let key = fixed_key(dir.path(), "alice");
    let before = contents(&package);
    let sign =
        |name: &str, meaning: &str| sign_at(&package, &key, name, "QA", meaning, ALICE_SIGNS_AT);

    let hidden = sign("Alice\u{202E}rohtuA", "authored");
    assert_refused(&hidden, "--name contains control or invisible characters");
    let empty = sign("Alice Author", "");
    assert_refused(&empty, "--meaning must not be empty");
    assert!(contents(&package) == before, "a refused sign wrote");

    let first = sign("Alice Author", "authored");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let signed = contents(&package);
    let again = sign("Alice Author", "authored");
    assert_refused(&again, "already signed this report as `authored`");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
        let open = sign("Alice Author", "reviewed");
        assert_refused(&open, "permissions 0640");
    }
    assert!(contents(&package) == signed, "a refused sign wrote");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
}

/// Temporary directories that signing left beside the packages in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".gxp-evidence"))
        .collect()
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
    let key = fixed_key(dir.path(), "alice");
    let signed = sign_at(
        &package,
        &key,
        "Alice Author",
        "QA",
        "approved",
        ALICE_SIGNS_AT,
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
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

// ---- An insider: a signer with a valid key who changes the package and seals it again ----

#[test]
fn a_rendered_file_an_insider_edited_and_resealed_differs_from_the_re_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = fixed_keys();
    let shared = shared_demo();
    for (package, file, from, to) in [
        // The HTML's verdict: a file each sign-off re-renders (state 1's is in history/1).
        (
            &shared.signed,
            "report.html",
            "verdict verdict-NON_COMPLIANT\">NON_COMPLIANT<",
            "verdict verdict-COMPLIANT\">COMPLIANT<",
        ),
        // Bob's meaning in the sign-off register.
        (
            &shared.signed_csv,
            "signoffs.csv",
            ",approved,",
            ",reviewed,",
        ),
        // A finding: a file no sign-off changed, which every state shares.
        (&shared.signed_csv, "findings.csv", ",FAIL,", ",PASS,"),
    ] {
        let package = copy_of(package, dir.path(), file);
        edit(&package.join(file), from, to);
        reseal(&package, &bob);

        let shared_by_every_state = file == "findings.csv";
        let lost = format!("history/1/{file}");
        let out = if shared_by_every_state {
            // The version the earlier states recorded is gone, which verify says too.
            let out = assert_invalid(&package, &[file, &lost]);
            assert!(
                out.contains(&format!(
                    "FAIL  {lost}: missing: needed by the manifest of history/0"
                )),
                "{out}"
            );
            out
        } else {
            assert_invalid(&package, &[file])
        };
        // The hashes and the seal hold; the content is not what the evidence renders to.
        assert!(
            out.contains(&format!("OK    {file}: SHA-256 matches the manifest")),
            "{out}"
        );
        assert!(
            out.contains(
                "OK    manifest.sig: signature valid over manifest.json and 2 sign-off(s)"
            ),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "FAIL  {file}: differs from the re-rendering of evidence.json and signoffs.json"
            )),
            "{file}:\n{out}"
        );
    }
}

#[test]
fn results_an_insider_edited_and_resealed_are_not_what_was_signed_or_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = fixed_keys();
    let package = copy_of(&shared_demo().signed_csv, dir.path(), "package");
    // A FAIL turned into a PASS.
    edit(
        &package.join(RESULTS_FILE),
        "\"status\": \"FAIL\"",
        "\"status\": \"PASS\"",
    );
    reseal(&package, &bob);

    // The version the sign-offs and the earlier states recorded is gone: verify says so.
    let out = assert_invalid(&package, &[RESULTS_FILE, "history/1/results.json"]);
    assert!(
        out.contains("FAIL  history/1/results.json: missing: needed by the manifest of history/0"),
        "{out}"
    );
    assert!(
        out.contains("OK    manifest.sig: signature valid over manifest.json and 2 sign-off(s)"),
        "{out}"
    );
    for signoff in [
        "sign-off 1 (Alice Author, authored)",
        "sign-off 2 (Bob Approver, approved)",
    ] {
        assert!(
            out.contains(&format!(
                "FAIL  results.json: is not the file {signoff} signed"
            )),
            "{out}"
        );
    }
    assert!(
        out.contains(
            "FAIL  results.json: differs from the re-evaluation of evidence.json (NON_COMPLIANT)"
        ),
        "{out}"
    );
}

#[test]
fn the_insiders_tool_builds_exactly_what_sign_builds() {
    // The forging helper below is `sign` without its checks: on an honest package it makes
    // the very bytes `sign` makes, so what verify finds in a forged package is the forgery.
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = fixed_keys();
    let signed = dir.path().join("signed/package");
    let forged = dir.path().join("forged/package");
    csv_draft(&signed);
    copy_dir(&signed, &forged);
    for (key_path, name, role, meaning, at) in [
        (
            &shared_demo().alice,
            "Alice Author",
            "Validation Engineer",
            "authored",
            ALICE_SIGNS_AT,
        ),
        (
            &shared_demo().bob,
            "Bob Approver",
            "QA Manager",
            "approved",
            BOB_SIGNS_AT,
        ),
    ] {
        let output = sign_at(&signed, key_path, name, role, meaning, at);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    forge_sign(
        &forged,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        ALICE_SIGNS_AT,
    );
    forge_sign(
        &forged,
        &bob,
        "Bob Approver",
        "QA Manager",
        "approved",
        BOB_SIGNS_AT,
    );
    assert!(
        contents(&forged) == contents(&signed),
        "the forging helper drifted from sign"
    );
    let (code, out) = verify(&forged, &[]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn results_every_sign_off_signed_are_still_checked_against_the_evidence() {
    // An insider edits results.json of the draft and then builds the whole chain on it with
    // valid keys: both sign-offs sign the edited results, every state is sealed and intact.
    // Only re-evaluating evidence.json shows the results are not what the evidence says.
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = fixed_keys();
    let package = dir.path().join("package");
    csv_draft(&package);
    edit(
        &package.join(RESULTS_FILE),
        "\"status\": \"FAIL\"",
        "\"status\": \"PASS\"",
    );
    rewrite_manifest(&package);
    forge_sign(
        &package,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        ALICE_SIGNS_AT,
    );
    forge_sign(
        &package,
        &bob,
        "Bob Approver",
        "QA Manager",
        "approved",
        BOB_SIGNS_AT,
    );

    let edited = sha256_hex(&fs::read(package.join(RESULTS_FILE)).unwrap());
    assert!(
        signoffs_of(&package)
            .signoffs
            .iter()
            .all(|r| r.results_sha256 == edited)
    );
    let out = assert_invalid(&package, &[RESULTS_FILE]);
    assert!(
        out.contains(
            "FAIL  results.json: differs from the re-evaluation of evidence.json (NON_COMPLIANT)"
        ),
        "{out}"
    );
    for intact in [
        "OK    manifest.sig: signature valid over manifest.json and 2 sign-off(s)",
        "OK    history/0: the state with 0 sign-off(s) is intact",
        "OK    history/1: the state with 1 sign-off(s) is intact",
        "sign-off 2 (Bob Approver, approved): Bob Approver (QA Manager, user id bob.approver), 2026-11-03 14:30:00 UTC — signature valid",
    ] {
        assert!(out.contains(intact), "{out}");
    }
}

#[test]
fn a_seal_made_with_another_key_than_the_last_sign_offs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = fixed_keys();
    let mallory = LocalKey::from_secret([0x4d; 32]);
    // Alice signed first, so her key is not the one to seal the state Bob signed; Mallory
    // signed nothing.
    for (name, key) in [("alice", &alice), ("mallory", &mallory)] {
        let package = copy_of(&shared_demo().signed_csv, dir.path(), name);
        reseal(&package, key);
        let out = assert_invalid(&package, &[SEAL_FILE]);
        assert!(
            out.contains(&format!(
                "FAIL  manifest.sig: sealed with key {}, but the last sign-off was made with key {}",
                key.info.fingerprint, bob.info.fingerprint
            )),
            "{name}:\n{out}"
        );
    }
}

#[test]
fn a_seal_over_another_sign_off_chain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = fixed_keys();
    let chain = signoffs_of(&shared_demo().signed).signoffs;
    let alices = chain[0].digest();
    let bobs = chain[1].digest();
    // Bob seals the package as if Alice's sign-off ended the chain, and as if his own were
    // the only one: the seal's head or count is not the file's.
    for (name, count, head) in [("head", 2, alices), ("count", 1, bobs)] {
        let package = copy_of(&shared_demo().signed_csv, dir.path(), name);
        reseal_with(&package, &bob, |seal| {
            seal.signoff_count = count;
            seal.last_signoff_sha256 = Some(head);
        });
        let out = assert_invalid(&package, &[SIGNOFFS_FILE]);
        assert!(
            out.contains("FAIL  signoffs.json: is not the sign-off chain that was sealed"),
            "{name}:\n{out}"
        );
    }
}

#[test]
fn a_sign_off_dated_before_the_one_it_follows_is_refused() {
    // Both sign-offs are validly signed; Bob's is dated an hour before Alice's, which `sign`
    // refuses and an insider builds anyway.
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = fixed_keys();
    let package = dir.path().join("package");
    csv_draft(&package);
    let alice = sign_at(
        &package,
        &shared_demo().alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        ALICE_SIGNS_AT,
    );
    assert_eq!(alice.status.code(), Some(0), "{}", stderr(&alice));
    forge_sign(
        &package,
        &bob,
        "Bob Approver",
        "QA Manager",
        "approved",
        "2026-11-02T08:00:00Z",
    );

    let out = assert_invalid(&package, &[SIGNOFFS_FILE]);
    assert!(
        out.contains("FAIL  signoffs.json: sign-off 2 (Bob Approver, approved) signed at 2026-11-02 08:00:00 UTC, before sign-off 1 (2026-11-02 09:00:00 UTC)"),
        "{out}"
    );
    assert!(out.contains("OK    manifest.sig: signature valid"), "{out}");
}

#[test]
fn a_sign_off_dated_before_the_evidence_was_collected_is_refused() {
    // Alice's sign-off, validly signed, dated an hour before the evidence she signs was
    // collected: `sign` refuses that clock, an insider builds it anyway.
    let dir = tempfile::tempdir().unwrap();
    let (alice, _) = fixed_keys();
    let package = dir.path().join("package");
    csv_draft(&package);
    forge_sign(
        &package,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        "2026-11-01T05:00:00Z",
    );
    let out = assert_invalid(&package, &[SIGNOFFS_FILE]);
    assert!(
        out.contains("FAIL  signoffs.json: sign-off 1 (Alice Author, authored) signed at 2026-11-01 05:00:00 UTC, before the evidence it signs was collected (2026-11-01 06:00:00 UTC)"),
        "{out}"
    );
}

/// A copy of the package `from` in `dir`, named `name`.
fn copy_of(from: &Path, dir: &Path, name: &str) -> std::path::PathBuf {
    let package = dir.join(name);
    copy_dir(from, &package);
    package
}

/// Seals the manifest of history/<state> with `key`, naming the first `count` sign-offs of
/// the package's chain.
fn seal_history(package: &Path, state: usize, count: usize, key: &LocalKey) {
    let chain = signoffs_of(package);
    let manifest = fs::read(package.join(format!("history/{state}/manifest.json"))).unwrap();
    let mut seal = Seal::unsigned(
        &chain.report_id,
        sha256_hex(&manifest),
        &chain.signoffs[..count],
        key.info.clone(),
    );
    seal.signature = signing::encode_signature(&key.sign(&seal.statement()));
    fs::write(
        package.join(format!("history/{state}/manifest.sig")),
        seal.to_bytes(),
    )
    .unwrap();
}

#[test]
fn a_state_the_package_cannot_have_is_named() {
    // history/1 copied to history/2 in a package with two sign-offs, re-sealed by Bob.
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = fixed_keys();
    let package = copy_of(&shared_demo().signed_csv, dir.path(), "package");
    copy_dir(&package.join("history/1"), &package.join("history/2"));
    reseal(&package, &bob);
    let out = assert_invalid(&package, &["history/2"]);
    assert!(
        out.contains("FAIL  history/2: not a state of this package (it has 2 sign-offs)"),
        "{out}"
    );
}

#[test]
fn an_earlier_state_replaced_by_the_draft_is_named() {
    // history/1 holding the draft's files (0 sign-offs), sealed by Bob as if it were a state.
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = fixed_keys();
    let package = copy_of(&shared_demo().signed_csv, dir.path(), "package");
    fs::remove_dir_all(package.join("history/1")).unwrap();
    copy_dir(&package.join("history/0"), &package.join("history/1"));
    seal_history(&package, 1, 0, &bob);
    reseal(&package, &bob);
    let out = assert_invalid(
        &package,
        &["history/1/manifest.sig", "history/1/signoffs.json"],
    );
    assert!(
        out.contains(
            "FAIL  history/1/signoffs.json: does not hold the first 1 sign-off(s) of today's chain"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "FAIL  history/1/manifest.sig: seals 0 sign-off(s), not the first 1 of today's chain"
        ),
        "{out}"
    );
}

#[test]
fn an_earlier_state_a_later_signer_changed_and_resealed_is_named() {
    // The sign-off register Alice signed (state 1's signoffs.csv), changed by Bob: state 1's
    // manifest rewritten for it and sealed again with Bob's key, then the package itself.
    // Every hash and signature holds; the state's seal is not Alice's.
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = fixed_keys();
    let package = copy_of(&shared_demo().signed_csv, dir.path(), "package");
    let register = package.join("history/1/signoffs.csv");
    edit(&register, ",Validation Engineer,", ",QA Director,");
    let bytes = fs::read(&register).unwrap();
    let state = package.join("history/1/manifest.json");
    let mut manifest = Manifest::parse(&fs::read(&state).unwrap()).unwrap();
    for entry in &mut manifest.files {
        if entry.path == "signoffs.csv" {
            entry.sha256 = sha256_hex(&bytes);
            entry.bytes = bytes.len() as u64;
        }
    }
    fs::write(&state, manifest.to_bytes()).unwrap();
    seal_history(&package, 1, 1, &bob);
    reseal(&package, &bob);
    let out = assert_invalid(&package, &["history/1/manifest.sig"]);
    assert!(
        out.contains(&format!(
            "FAIL  history/1/manifest.sig: sealed with key {}, but sign-off 1 (Alice Author, authored) was made with key {}",
            bob.info.fingerprint, alice.info.fingerprint
        )),
        "{out}"
    );
}

#[test]
fn an_earlier_state_from_another_signing_is_named() {
    // Alice signed another copy of the draft an hour later; that state's files are put in
    // place of the state Bob's sign-off followed, and Bob re-seals the package.
    let dir = tempfile::tempdir().unwrap();
    let (_, bob) = fixed_keys();
    let shared = shared_demo();
    let other = dir.path().join("other/package");
    csv_draft(&other);
    let signed = sign_at(
        &other,
        &shared.alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        "2026-11-02T10:00:00Z",
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let package = copy_of(&shared.signed_csv, dir.path(), "package");
    for file in files_under(&package.join("history/1")) {
        fs::copy(other.join(&file), package.join("history/1").join(&file)).unwrap();
    }
    reseal(&package, &bob);
    let out = assert_invalid(
        &package,
        &["history/1/manifest.sig", "history/1/signoffs.json"],
    );
    assert!(
        out.contains(
            "FAIL  history/1/signoffs.json: does not hold the first 1 sign-off(s) of today's chain"
        ),
        "{out}"
    );
    assert!(
        out.contains("FAIL  history/1/manifest.sig: seals another chain: its last sign-off is not today's sign-off 1 (Alice Author, authored)"),
        "{out}"
    );
}

// ---- Signing: the clock, the lock and a package changed meanwhile ----

#[test]
fn a_package_signed_with_fixed_keys_at_fixed_times_is_byte_identical_run_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    let output = bin()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .env(TEST_NOW_VAR, RENDERED_AT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let alice = fixed_key(dir.path(), "alice");
    let bob = fixed_key(dir.path(), "bob");
    for (key, name, role, meaning, at) in [
        (
            &alice,
            "Alice Author",
            "Validation Engineer",
            "authored",
            ALICE_SIGNS_AT,
        ),
        (&bob, "Bob Approver", "QA Manager", "approved", BOB_SIGNS_AT),
    ] {
        let signed = sign_at(&package, key, name, role, meaning, at);
        assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    }
    let shared = &shared_demo().signed;
    assert_eq!(files_under(&package), files_under(shared));
    for ((file, bytes), (_, expected)) in contents(&package).into_iter().zip(contents(shared)) {
        assert!(bytes == expected, "{file} differs from one run to the next");
    }
    // The clock was the one given.
    let times: Vec<String> = signoffs_of(&package)
        .signoffs
        .iter()
        .map(|r| r.signed_at.to_rfc3339())
        .collect();
    assert_eq!(times, [ALICE_SIGNS_AT, BOB_SIGNS_AT]);
}

#[test]
fn signing_refuses_a_clock_earlier_than_the_previous_sign_off_or_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let shared = shared_demo();
    let package = dir.path().join("package");
    csv_draft(&package);
    let draft = contents(&package);

    let early = sign_at(
        &package,
        &shared.alice,
        "Alice Author",
        "QA",
        "authored",
        "2026-11-01T05:59:59Z",
    );
    assert_refused(
        &early,
        "this machine's clock (2026-11-01 05:59:59 UTC) is earlier than the evidence collection (2026-11-01 06:00:00 UTC)",
    );
    let garbled = sign_at(
        &package,
        &shared.alice,
        "Alice Author",
        "QA",
        "authored",
        "2 Nov 2026",
    );
    assert_refused(
        &garbled,
        "GXP_EVIDENCE_TEST_NOW=2 Nov 2026 is not an RFC 3339 time",
    );
    assert!(contents(&package) == draft, "a refused sign wrote");

    let alice = sign_at(
        &package,
        &shared.alice,
        "Alice Author",
        "QA",
        "authored",
        ALICE_SIGNS_AT,
    );
    assert_eq!(alice.status.code(), Some(0), "{}", stderr(&alice));
    let after_alice = contents(&package);
    let backwards = sign_at(
        &package,
        &shared.bob,
        "Bob Approver",
        "QA",
        "approved",
        "2026-11-02T08:59:59Z",
    );
    assert_refused(
        &backwards,
        "this machine's clock (2026-11-02 08:59:59 UTC) is earlier than the previous sign-off (2026-11-02 09:00:00 UTC)",
    );
    assert!(contents(&package) == after_alice, "a refused sign wrote");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());

    // The same second is not earlier.
    let same = sign_at(
        &package,
        &shared.bob,
        "Bob Approver",
        "QA",
        "approved",
        ALICE_SIGNS_AT,
    );
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
}

/// Starts `gxp-evidence sign` in the background with a local key, at `now` (RFC 3339) or at
/// this machine's clock.
fn spawn_sign(package: &Path, key: &Path, name: &str, meaning: &str, now: Option<&str>) -> Child {
    let mut cmd = bin_process();
    cmd.arg("sign")
        .arg(package)
        .arg("--key")
        .arg(key)
        .args(["--name", name, "--user-id", &user_id(name)])
        .args(["--role", "QA", "--meaning", meaning])
        .args(["--passphrase-env", PASSPHRASE_VAR])
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .env_remove(TEST_NOW_VAR)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(now) = now {
        cmd.env(TEST_NOW_VAR, now);
    }
    cmd.spawn().expect("starts")
}

/// Holds the lock `sign` takes: an exclusive lock on the package's parent directory.
fn hold_sign_lock(package: &Path) -> fs::File {
    let parent = fs::File::open(package.parent().unwrap()).unwrap();
    parent.lock().unwrap();
    parent
}

/// Waits until `child` is queued on the lock of `locked` (a directory the test holds locked),
/// as /proc/locks shows it on Linux. Panics if the child finishes first: it did not wait.
fn wait_until_queued_on_lock(child: &mut Child, locked: &Path) {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("sign finished ({status}) while the test held the lock it must wait for");
        }
        if !cfg!(target_os = "linux") || queued_on_lock(child.id(), locked) {
            return;
        }
        // A watchdog, not a timing assertion: a signer that never queues hangs the test.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "sign never queued on the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Is process `pid` blocked waiting for a lock on `dir`? A waiter's /proc/locks line reads
/// `1: -> FLOCK ADVISORY WRITE <pid> <major>:<minor>:<inode> 0 EOF`. Where /proc/locks cannot
/// be read, the wait is taken on trust.
fn queued_on_lock(pid: u32, dir: &Path) -> bool {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&fs::metadata(dir).unwrap()).to_string();
    #[cfg(not(unix))]
    let inode = String::new();
    let Ok(locks) = fs::read_to_string("/proc/locks") else {
        return true;
    };
    locks.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.get(1) == Some(&"->")
            && fields.get(5) == Some(&pid.to_string().as_str())
            && fields.get(6).and_then(|f| f.rsplit(':').next()) == Some(inode.as_str())
    })
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("sign ends")
}

#[test]
fn two_signers_racing_for_a_package_sign_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    let alice = fixed_key(dir.path(), "alice");
    let bob = fixed_key(dir.path(), "bob");
    let draft = contents(&package);

    // The test holds the lock, so both signers start, queue on it, and go one at a time
    // once it is released, in whichever order they get it.
    let lock = hold_sign_lock(&package);
    let mut signers = vec![
        spawn_sign(
            &package,
            &alice,
            "Alice Author",
            "authored",
            Some(BOB_SIGNS_AT),
        ),
        spawn_sign(
            &package,
            &bob,
            "Bob Approver",
            "approved",
            Some(BOB_SIGNS_AT),
        ),
    ];
    for signer in &mut signers {
        wait_until_queued_on_lock(signer, dir.path());
    }
    assert!(
        contents(&package) == draft,
        "a signer wrote without the lock"
    );
    drop(lock);

    let mut sequences = BTreeSet::new();
    for signer in signers {
        let output = finish(signer);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let message = stderr(&output);
        let sequence = message
            .split(" as sign-off ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .unwrap_or_else(|| panic!("{message}"))
            .to_string();
        sequences.insert(sequence);
    }
    assert_eq!(sequences, set(&["1", "2"]));
    let chain = signoffs_of(&package).signoffs;
    let users: BTreeSet<String> = chain.iter().map(|r| r.user_id.clone()).collect();
    assert_eq!(users, set(&["alice.author", "bob.approver"]));
    assert_eq!(chain[1].previous_signoff_sha256, Some(chain[0].digest()));
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("OK    history/1: the state with 1 sign-off(s) is intact"),
        "{out}"
    );
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn a_signer_who_waited_for_the_lock_signs_at_the_time_it_got_it() {
    // On this machine's clock. Alice starts signing and queues on the lock; meanwhile Bob
    // signs, a second later by the clock, and his state is in place when she gets the lock.
    // Her sign-off is dated when she signs, after his — not when she started waiting.
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    let alice = fixed_key(dir.path(), "alice");
    let bob = fixed_key(dir.path(), "bob");

    let lock = hold_sign_lock(&package);
    let mut waiting = spawn_sign(&package, &alice, "Alice Author", "authored", None);
    wait_until_queued_on_lock(&mut waiting, dir.path());
    let queued_at = chrono::Utc::now().timestamp();
    while chrono::Utc::now().timestamp() == queued_at {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Bob's sign-off, made on a copy and moved into place while the test holds the lock,
    // as his own `sign` would have done.
    let elsewhere = dir.path().join("elsewhere/package");
    copy_dir(&package, &elsewhere);
    let bobs = finish(spawn_sign(
        &elsewhere,
        &bob,
        "Bob Approver",
        "approved",
        None,
    ));
    assert_eq!(bobs.status.code(), Some(0), "{}", stderr(&bobs));
    fs::rename(&package, dir.path().join("replaced")).unwrap();
    fs::rename(&elsewhere, &package).unwrap();
    drop(lock);

    let output = finish(waiting);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let chain = signoffs_of(&package).signoffs;
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0].user_id, "bob.approver");
    assert_eq!(chain[1].user_id, "alice.author");
    assert!(chain[1].signed_at >= chain[0].signed_at);
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
}

/// A stand-in for AWS KMS on 127.0.0.1 holding one ECC_NIST_P256 key: GetPublicKey and Sign
/// (ECDSA_SHA_256, RAW), one request per connection. Before answering Sign call `n` (from 1)
/// it runs `on_sign(n)`, while the signer waits for the signature. Returns the endpoint URL.
fn fake_kms(mut on_sign: impl FnMut(usize) + Send + 'static) -> String {
    use base64ct::{Base64, Encoding};
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::EncodePublicKey;
    const ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/0b7e4f5c-test";
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let key = p256::ecdsa::SigningKey::from_slice(&[0x2a; 32]).unwrap();
    let public_key = key.verifying_key().to_public_key_der().unwrap();
    std::thread::spawn(move || {
        let mut signs = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((target, body)) = read_request(&stream) else {
                continue;
            };
            let answer = match target.as_str() {
                "TrentService.GetPublicKey" => serde_json::json!({
                    "KeyId": ARN,
                    "PublicKey": Base64::encode_string(public_key.as_bytes()),
                    "KeySpec": "ECC_NIST_P256",
                    "KeyUsage": "SIGN_VERIFY",
                    "SigningAlgorithms": ["ECDSA_SHA_256"],
                }),
                "TrentService.Sign" => {
                    signs += 1;
                    on_sign(signs);
                    let message = body["Message"].as_str().unwrap_or_default();
                    let message = Base64::decode_vec(message).unwrap_or_default();
                    let signature: p256::ecdsa::DerSignature = key.sign(&message);
                    serde_json::json!({
                        "KeyId": ARN,
                        "Signature": Base64::encode_string(signature.as_bytes()),
                        "SigningAlgorithm": "ECDSA_SHA_256",
                    })
                }
                other => panic!("the fake KMS does not answer {other}"),
            };
            let answer = answer.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    endpoint
}

/// The `X-Amz-Target` and JSON body of one HTTP request.
fn read_request(stream: &TcpStream) -> Option<(String, serde_json::Value)> {
    let mut reader = BufReader::new(stream);
    let (mut target, mut length) = (String::new(), 0);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "x-amz-target" => target = value.trim().to_string(),
                "content-length" => length = value.trim().parse().ok()?,
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((target, serde_json::from_slice(&body).ok()?))
}

fn kms_sign(package: &Path, endpoint: &str, name: &str, meaning: &str) -> Output {
    bin()
        .arg("sign")
        .arg(package)
        .args(["--kms-key-id", "alias/qa-signing", "--region", "eu-west-1"])
        .args(["--endpoint-url", endpoint])
        .args(["--name", name, "--user-id", &user_id(name)])
        .args(["--role", "QA", "--meaning", meaning])
        .env(TEST_NOW_VAR, ALICE_SIGNS_AT)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("runs")
}

#[test]
fn a_package_changed_while_it_is_being_signed_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);

    // Signing with the fake KMS works when nothing interferes.
    let undisturbed = dir.path().join("undisturbed/package");
    copy_dir(&package, &undisturbed);
    let signed = kms_sign(&undisturbed, &fake_kms(|_| {}), "Carol Chemist", "authored");
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let (code, out) = verify(&undisturbed, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("ECDSA P-256 SHA-256 AWS KMS key arn:aws:kms:"),
        "{out}"
    );

    // Bob's sign-off of the same draft, made elsewhere, lands in the package while Carol's
    // `sign` waits for KMS to sign her record — after it verified the package, before it
    // swaps its new state in (a signer whose path to the package has another parent
    // directory takes another lock).
    let bobs = dir.path().join("bobs/package");
    copy_dir(&package, &bobs);
    let bob_key = fixed_key(dir.path(), "bob");
    let signed = sign_at(
        &bobs,
        &bob_key,
        "Bob Approver",
        "QA",
        "approved",
        ALICE_SIGNS_AT,
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let expected = contents(&bobs);
    let (from, to) = (bobs.clone(), package.clone());
    let endpoint = fake_kms(move |call| {
        if call == 1 {
            fs::rename(&to, to.with_extension("draft")).unwrap();
            fs::rename(&from, &to).unwrap();
        }
    });
    let refused = kms_sign(&package, &endpoint, "Carol Chemist", "authored");
    assert_refused(
        &refused,
        "changed while it was being signed; nothing was written, sign again",
    );
    assert!(
        contents(&package) == expected,
        "the package Bob signed was changed"
    );
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
}

/// The SHA-256 of every file of the demo package, unsigned and signed by the fixed keys at
/// the fixed times: any change to any byte of any output (PDF included) shows up here as a
/// reviewable diff. Refactorings must leave it unchanged.
#[test]
fn every_byte_of_the_demo_package_is_pinned() {
    let shared = shared_demo();
    let mut listing = String::new();
    for (name, package) in [("draft", &shared.draft), ("signed", &shared.signed)] {
        for file in files_under(package) {
            let bytes = fs::read(package.join(&file)).unwrap();
            listing.push_str(&format!(
                "{name}/{file} {}\n",
                gxp_evidence::evidence::sha256_hex(&bytes)
            ));
        }
    }
    insta::assert_snapshot!("demo_package_sha256", listing);
}
