//! End-to-end tests of trusted time: `sign --tsa URL` against a throwaway RFC 3161 TSA made
//! in the test with the `openssl` CLI (a CA, a TSA certificate with critical
//! extendedKeyUsage=timeStamping, `openssl ts -reply` behind a tiny HTTP server on
//! 127.0.0.1), and `verify` with and without `--tsa-certs`: forged, swapped and untrusted
//! tokens fail naming the sign-off; a TSA that refuses or answers garbage makes `sign` fail
//! with exit 2 and leaves the package untouched. `openssl` must be installed (scripts/test
//! installs it); without it these tests fail, they are never skipped.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::*;
use gxp_evidence::evidence::sha256_hex;
use gxp_evidence::package::seal::{SEAL_FILE, Seal};
use gxp_evidence::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use gxp_evidence::package::{MANIFEST_FILE, Manifest};
use gxp_evidence::signing::{self, local::LocalKey};

/// What the test TSA answers to the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Grant,
    /// The same CA's second TSA, with an RSA key (the first has a P-256 one).
    GrantRsa,
    /// `openssl ts -reply` with a policy that accepts no SHA-256 imprint: status rejection.
    Refuse,
    Garbage,
}

struct TestTsa {
    dir: tempfile::TempDir,
    url: String,
    mode: Arc<Mutex<Mode>>,
}

impl TestTsa {
    fn root(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

/// Runs `openssl` in `dir` with `line` (split on whitespace) and then `extra` as they are.
fn openssl(dir: &Path, line: &str, extra: &[&str]) {
    let args: Vec<&str> = line
        .split_whitespace()
        .chain(extra.iter().copied())
        .collect();
    let output = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| {
            panic!("the `openssl` CLI is required by these tests (scripts/test installs it): {err}")
        });
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA named `ca_name` in `dir` (ca.pem, ca.key).
fn make_ca(dir: &Path, ca_name: &str) {
    openssl(
        dir,
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
         -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign",
        &["-subj", &format!("/CN={ca_name}")],
    );
}

/// A TSA certificate `file`.pem (key `file`.key, made with `new_key`) issued by the CA in
/// `dir`, for time stamping only.
fn make_tsa_certificate(dir: &Path, name: &str, new_key: &str, serial: u32, file: &str) {
    openssl(
        dir,
        &format!("req -newkey {new_key} -nodes -keyout {file}.key -out {file}.csr"),
        &["-subj", &format!("/CN={name}")],
    );
    openssl(
        dir,
        &format!(
            "x509 -req -in {file}.csr -CA ca.pem -CAkey ca.key -set_serial {serial} -days 365 \
             -extfile tsa-ext.cnf -out {file}.pem"
        ),
        &[],
    );
}

/// A throwaway TSA: CA, TSA certificate (P-256 key, critical timeStamping usage) and an
/// `openssl ts` configuration, served over HTTP on 127.0.0.1.
fn start_tsa() -> TestTsa {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    make_ca(path, "Test TSA Root");
    fs::write(
        path.join("tsa-ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n",
    )
    .unwrap();
    make_tsa_certificate(
        path,
        "Test TSA",
        "ec -pkeyopt ec_paramgen_curve:P-256",
        2,
        "tsa",
    );
    make_tsa_certificate(path, "Test TSA RSA", "rsa:2048", 3, "tsa-rsa");
    fs::write(path.join("serial"), "01\n").unwrap();
    let section = |name: &str, tsa: &str, digests: &str| {
        format!(
            "[{name}]\ndir = {dir}\nserial = $dir/serial\ncrypto_device = builtin\n\
             signer_cert = $dir/{tsa}.pem\ncerts = $dir/ca.pem\nsigner_key = $dir/{tsa}.key\n\
             signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = {digests}\n\
             accuracy = secs:1\nordering = no\ntsa_name = yes\ness_cert_id_chain = no\n\
             ess_cert_id_alg = sha256\n\n",
            dir = path.display()
        )
    };
    fs::write(
        path.join("ts.cnf"),
        format!(
            "[tsa]\ndefault_tsa = grant\n\n{}{}{}",
            section("grant", "tsa", "sha256, sha384, sha512"),
            section("grant-rsa", "tsa-rsa", "sha256"),
            section("refuse", "tsa", "sha512")
        ),
    )
    .unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let mode = Arc::new(Mutex::new(Mode::Grant));
    let (served_mode, served_dir) = (mode.clone(), path.to_path_buf());
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut query = vec![0u8; length];
            if reader.read_exact(&mut query).is_err() {
                continue;
            }
            let mode = *served_mode.lock().unwrap();
            let body = match mode {
                Mode::Garbage => b"this is not a time-stamp response".to_vec(),
                Mode::Grant | Mode::GrantRsa | Mode::Refuse => {
                    let (tsq, tsr) = (format!("q{n}.tsq"), format!("r{n}.tsr"));
                    fs::write(served_dir.join(&tsq), &query).unwrap();
                    let section = match mode {
                        Mode::Grant => "grant",
                        Mode::GrantRsa => "grant-rsa",
                        _ => "refuse",
                    };
                    openssl(
                        &served_dir,
                        "ts -reply -config ts.cnf -section",
                        &[section, "-queryfile", &tsq, "-out", &tsr],
                    );
                    fs::read(served_dir.join(&tsr)).unwrap()
                }
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    TestTsa { dir, url, mode }
}

/// The demo as an unsigned package with only the CSV files (fast to sign and verify).
fn draft(dir: &Path) -> PathBuf {
    let package = dir.join("package");
    let output = report(&demo_evidence(), &package, &["--format", "csv"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    package
}

/// `sign --tsa URL` at this machine's clock (the TSA's clock is this machine's too).
fn sign_tsa(
    package: &Path,
    key: &Path,
    name: &str,
    meaning: &str,
    tsa: &str,
) -> std::process::Output {
    sign_command(package, key, name, "QA Manager", meaning)
        .env_remove(TEST_NOW_VAR)
        .args(["--tsa", tsa])
        .output()
        .expect("runs")
}

/// What a signer can do with their own key after changing a file: list it in the manifest as
/// it is now and seal again, so only the timestamp check can tell.
fn reseal(package: &Path, key: &LocalKey) {
    let path = package.join(MANIFEST_FILE);
    let mut manifest = Manifest::parse(&fs::read(&path).unwrap()).unwrap();
    for entry in &mut manifest.files {
        let bytes = fs::read(package.join(&entry.path)).unwrap();
        entry.sha256 = sha256_hex(&bytes);
        entry.bytes = bytes.len() as u64;
    }
    let bytes = manifest.to_bytes();
    fs::write(&path, &bytes).unwrap();
    let signoffs = SignoffFile::parse(&fs::read(package.join(SIGNOFFS_FILE)).unwrap()).unwrap();
    let mut seal = Seal::unsigned(
        &signoffs.report_id,
        sha256_hex(&bytes),
        &signoffs.signoffs,
        key.info.clone(),
    );
    seal.signature = signing::encode_signature(&key.sign(&seal.statement()));
    fs::write(package.join(SEAL_FILE), seal.to_bytes()).unwrap();
}

fn lines_about<'a>(output: &'a str, subject: &str) -> Vec<&'a str> {
    output.lines().filter(|l| l.contains(subject)).collect()
}

#[test]
fn a_timestamped_sign_off_verifies_with_and_without_trusted_tsa_certificates() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let package = draft(dir.path());
    let alice = fixed_key(dir.path(), "alice");
    let bob = fixed_key(dir.path(), "bob");

    let output = sign_tsa(&package, &alice, "Alice Author", "authored", &tsa.url);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("timestamped: "),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("by TSA CN=Test TSA"),
        "{}",
        stderr(&output)
    );
    assert!(package.join("timestamps/1.tsr").is_file());
    // A later sign-off stamps itself (here by a TSA with an RSA key) and leaves the earlier
    // token as it was sealed.
    tsa.set(Mode::GrantRsa);
    let output = sign_tsa(&package, &bob, "Bob Approver", "approved", &tsa.url);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    for n in ["1", "2"] {
        let lines = lines_about(&out, &format!("timestamps/{n}.tsr"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("OK    ") && l.contains("token valid over this sign-off")),
            "{out}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("NOTE  ")
                    && l.contains("was not checked against trusted roots")),
            "{out}"
        );
    }
    assert!(
        out.contains("sign-off 1 (Alice Author, authored): timestamp 20"),
        "{out}"
    );

    let root = tsa.root();
    let (code, out) = verify(&package, &["--tsa-certs", root.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    // The token is standard: openssl checks it over the record's digest, as the README shows.
    let signoffs = SignoffFile::parse(&fs::read(package.join(SIGNOFFS_FILE)).unwrap()).unwrap();
    openssl(
        &package,
        "ts -verify -in timestamps/1.tsr -CAfile",
        &[
            root.to_str().unwrap(),
            "-digest",
            &signoffs.signoffs[0].digest(),
        ],
    );
    assert!(
        out.contains("OK    timestamps/2.tsr: sign-off 2 (Bob Approver, approved): the TSA's certificate chains to trusted CN=Test TSA Root"),
        "{out}"
    );

    // A TSA root the auditor does not trust.
    let other = tempfile::tempdir().unwrap();
    make_ca(other.path(), "Other Root");
    let (code, out) = verify(
        &package,
        &["--tsa-certs", other.path().join("ca.pem").to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL  timestamps/1.tsr: sign-off 1 (Alice Author, authored): timestamp: the TSA's certificate (CN=Test TSA) does not chain to a certificate in"),
        "{out}"
    );
    assert_eq!(
        failed_subjects(&out),
        ["timestamps/1.tsr", "timestamps/2.tsr"]
            .map(String::from)
            .into()
    );

    // A later signer swaps sign-off 1's token for another genuine one of the same record.
    let swapped = dir.path().join("swapped");
    copy_dir(&package, &swapped);
    let digest = signoffs.signoffs[0].digest();
    let tsa_dir = tsa.dir.path();
    openssl(
        tsa_dir,
        "ts -query -digest",
        &[&digest, "-sha256", "-cert", "-out", "again.tsq"],
    );
    openssl(
        tsa_dir,
        "ts -reply -config ts.cnf -section grant -queryfile again.tsq -out again.tsr",
        &[],
    );
    fs::copy(tsa_dir.join("again.tsr"), swapped.join("timestamps/1.tsr")).unwrap();
    reseal(
        &swapped,
        &LocalKey::load(
            &bob,
            gxp_evidence::signing::local::Unlock::Passphrase(TEST_PASSPHRASE),
        )
        .unwrap(),
    );
    let (code, out) = verify(&swapped, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL  timestamps/1.tsr: is not the token sealed with sign-off 1 (history/1/manifest.json lists SHA-256"),
        "{out}"
    );
    assert!(
        out.contains("OK    timestamps/1.tsr: sign-off 1 (Alice Author, authored): timestamp 20"),
        "the new token itself is genuine: {out}"
    );

    // A file of something else is refused with its name and line, exit 2.
    let bad = other.path().join("bad.pem");
    fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let output = bin()
        .arg("verify")
        .arg(&package)
        .arg("--tsa-certs")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(", line 1: "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn forged_swapped_or_moved_tokens_fail_naming_the_sign_off() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let signed = draft(dir.path());
    let alice = fixed_key(dir.path(), "alice");
    let output = sign_tsa(&signed, &alice, "Alice Author", "authored", &tsa.url);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let token = fs::read(signed.join("timestamps/1.tsr")).unwrap();
    let key = LocalKey::load(
        &alice,
        gxp_evidence::signing::local::Unlock::Passphrase(TEST_PASSPHRASE),
    )
    .unwrap();
    let root = tsa.root();
    let check = |name: &str, forge: &dyn Fn(&Path), expected: &str| {
        let package = dir.path().join(name);
        copy_dir(&signed, &package);
        forge(&package);
        reseal(&package, &key);
        let (code, out) = verify(&package, &["--tsa-certs", root.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{name}: {out}");
        assert!(
            out.contains(&format!(
                "FAIL  timestamps/1.tsr: sign-off 1 (Alice Author, authored): {expected}"
            )),
            "{name}: {out}"
        );
    };

    // The TSTInfo's genTime, one second later: the TSA signed another TSTInfo.
    let at = token
        .windows(17)
        .position(|w| w[0] == 0x18 && w[1] == 0x0f && w[16] == b'Z')
        .expect("a GeneralizedTime in the TSTInfo");
    let mut later = token.clone();
    later[at + 15] ^= 1;
    check(
        "tstinfo",
        &|p| fs::write(p.join("timestamps/1.tsr"), &later).unwrap(),
        "timestamp: the TSTInfo is not the one the TSA signed",
    );

    // The signature is the token's last field.
    let mut forged = token.clone();
    *forged.last_mut().unwrap() ^= 1;
    check(
        "signature",
        &|p| fs::write(p.join("timestamps/1.tsr"), &forged).unwrap(),
        "timestamp: the TSA's signature does not verify",
    );

    // A genuine token of another sign-off (the same report signed by someone else).
    let other = dir.path().join("other");
    copy_dir(&draft(&dir.path().join("o")), &other);
    let bob = fixed_key(dir.path(), "bob");
    let output = sign_tsa(&other, &bob, "Bob Approver", "approved", &tsa.url);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let foreign = fs::read(other.join("timestamps/1.tsr")).unwrap();
    check(
        "swapped",
        &|p| fs::write(p.join("timestamps/1.tsr"), &foreign).unwrap(),
        "timestamp: the token is for another sign-off",
    );

    // A token file for a sign-off the package does not have.
    let package = dir.path().join("extra");
    copy_dir(&signed, &package);
    fs::write(package.join("timestamps/2.tsr"), &token).unwrap();
    reseal(&package, &key);
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL  timestamps/2.tsr: not the timestamp of a sign-off"),
        "{out}"
    );
}

#[test]
fn a_tsa_that_refuses_or_answers_garbage_makes_sign_fail_and_changes_nothing() {
    let tsa = start_tsa();
    let dir = tempfile::tempdir().unwrap();
    let package = draft(dir.path());
    let alice = fixed_key(dir.path(), "alice");
    let before = files_under(&package)
        .into_iter()
        .map(|f| (fs::read(package.join(&f)).unwrap(), f))
        .collect::<Vec<_>>();
    let unchanged = || {
        let now = files_under(&package)
            .into_iter()
            .map(|f| (fs::read(package.join(&f)).unwrap(), f))
            .collect::<Vec<_>>();
        assert!(now == before, "the package changed");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(
            leftovers, 3,
            "the package and the key only: nothing staged is left"
        );
    };

    tsa.set(Mode::Refuse);
    let output = sign_tsa(&package, &alice, "Alice Author", "authored", &tsa.url);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the TSA did not grant a timestamp: status 2 (rejection)"),
        "{}",
        stderr(&output)
    );
    unchanged();

    tsa.set(Mode::Garbage);
    let output = sign_tsa(&package, &alice, "Alice Author", "authored", &tsa.url);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("unreadable: not an RFC 3161 TimeStampResp"),
        "{}",
        stderr(&output)
    );
    unchanged();

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let output = sign_tsa(&package, &alice, "Alice Author", "authored", &url);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no timestamp from the TSA at http://127.0.0.1:"),
        "{}",
        stderr(&output)
    );
    unchanged();

    // A signing clock an hour behind the TSA's: the claimed time is contradicted.
    tsa.set(Mode::Grant);
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let output = sign_command(&package, &alice, "Alice Author", "QA Manager", "authored")
        .env(TEST_NOW_VAR, &hour_ago)
        .args(["--tsa", &tsa.url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is more than 5 minutes from the sign-off's time"),
        "{}",
        stderr(&output)
    );
    unchanged();
}
