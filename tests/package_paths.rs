//! End-to-end tests of the package on disk against mistakes, races and crashes: `report` and
//! `demo` never write inside a package and `--force` replaces only an unsigned one; a package
//! named through a symlink is locked and replaced as the same package; a write killed between
//! the two renames of its swap is recovered by the next command, and the leftovers of dead
//! processes are removed (never a live writer's); the swap is synced to disk.
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use common::*;
use gxp_evidence::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use gxp_evidence::package::swap::TEST_CRASH_VAR;

/// Staging and backup directories left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".gxp-evidence"))
        .collect();
    names.sort();
    names
}

fn demo(out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("demo")
        .arg("--out")
        .arg(out)
        .args(["--format", "csv"])
        .args(extra)
        .output()
        .expect("runs")
}

fn signers(package: &Path) -> BTreeSet<String> {
    let signoffs = SignoffFile::parse(&fs::read(package.join(SIGNOFFS_FILE)).unwrap()).unwrap();
    signoffs
        .signoffs
        .iter()
        .map(|r| r.user_id.clone())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

/// The command died of a signal (the test hook's abort), as a crash would end it.
fn assert_crashed(output: &Output) {
    assert_eq!(output.status.code(), None, "{}", stderr(output));
}

#[test]
fn report_and_demo_never_write_inside_a_package() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    let key = fixed_key(dir.path(), "alice");
    let signed = sign_at(
        &package,
        &key,
        "Alice Author",
        "QA",
        "authored",
        ALICE_SIGNS_AT,
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&package, &link).unwrap();
    let sealed = contents(&package);

    let inside = [
        "history",
        "history/0",
        "templates",
        "newdir",
        "history/0/new",
    ];
    for out in inside
        .iter()
        .map(|name| package.join(name))
        .chain([link.join("newdir")])
    {
        for force in [&[][..], &["--force"][..]] {
            let mut extra = vec!["--format", "csv"];
            extra.extend(force);
            let output = report(&demo_evidence(), &out, &extra);
            assert_refused(&output, "is inside the gxp-evidence package");
            assert_refused(&demo(&out, force), "is inside the gxp-evidence package");
        }
    }
    assert!(contents(&package) == sealed, "a refused report wrote");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    assert_eq!(leftovers(&package), Vec::<String>::new());
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");

    // An unsigned draft is one unit too.
    let draft = dir.path().join("draft");
    csv_draft(&draft);
    let before = contents(&draft);
    let output = report(
        &demo_evidence(),
        &draft.join("newdir"),
        &["--format", "csv"],
    );
    assert_refused(&output, "is inside the gxp-evidence package");
    assert!(contents(&draft) == before, "a refused report wrote");
}

#[test]
fn force_replaces_only_an_unsigned_package() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(home.join("notes")).unwrap();
    fs::write(home.join(".bashrc"), "export EDITOR=vi\n").unwrap();
    fs::write(home.join("notes/todo.txt"), "renew passport\n").unwrap();
    // A web app's manifest.json is not a gxp-evidence package either.
    let web = dir.path().join("web");
    fs::create_dir(&web).unwrap();
    fs::write(web.join("manifest.json"), r#"{"name": "app"}"#).unwrap();
    for target in [&home, &web] {
        let before = contents(target);
        let output = report(&demo_evidence(), target, &["--format", "csv", "--force"]);
        assert_refused(&output, "is not a gxp-evidence package");
        assert_refused(&demo(target, &["--force"]), "is not a gxp-evidence package");
        assert!(contents(target) == before, "--force replaced {target:?}");
    }

    // An unsigned package, named through a symlink: the package is replaced, the link kept.
    let draft = dir.path().join("draft");
    csv_draft(&draft);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink("draft", &link).unwrap();
    let output = report(
        &fixture("no-resources"),
        &link,
        &["--format", "csv", "--force"],
    );
    assert!(output.status.code() != Some(2), "{}", stderr(&output));
    assert!(is_symlink(&link), "the symlink was replaced");
    assert!(read(&draft.join("evidence.json")) == read(&fixture("no-resources")));

    // An empty directory holds nothing to lose.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let output = demo(&empty, &["--force"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

/// Starts `sign` in the background as `name` at a fixed time; `crash` aborts it between the
/// renames of its swap.
fn spawn_sign(package: &Path, key: &Path, name: &str, meaning: &str) -> Child {
    let mut cmd = bin_process();
    cmd.arg("sign")
        .arg(package)
        .arg("--key")
        .arg(key)
        .args(["--name", name, "--user-id", &user_id(name)])
        .args(["--role", "QA", "--meaning", meaning])
        .args(["--passphrase-env", PASSPHRASE_VAR])
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .env(TEST_NOW_VAR, BOB_SIGNS_AT)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("starts")
}

#[test]
fn signers_through_a_symlink_and_the_real_path_at_once_both_sign_the_one_package() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template");
    csv_draft(&template);
    let alice = fixed_key(dir.path(), "alice");
    let bob = fixed_key(dir.path(), "bob");
    // The link lives in another folder than the package: the folder lock must be the real one.
    let package = dir.path().join("archive/package");
    fs::create_dir_all(dir.path().join("links")).unwrap();
    let link = dir.path().join("links/package");
    std::os::unix::fs::symlink(&package, &link).unwrap();

    for round in 0..20 {
        if package.exists() {
            fs::remove_dir_all(&package).unwrap();
        }
        copy_dir(&template, &package);
        let through_link = spawn_sign(&link, &alice, "Alice Author", "authored");
        let through_path = spawn_sign(&package, &bob, "Bob Approver", "approved");
        for signer in [through_link, through_path] {
            let output = signer.wait_with_output().unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "round {round}: {}",
                stderr(&output)
            );
        }
        assert!(is_symlink(&link), "round {round}: the symlink was replaced");
        assert_eq!(
            signers(&package),
            set(&["alice.author", "bob.approver"]),
            "round {round}"
        );
        let (code, out) = verify(&link, &[]);
        assert_eq!(code, Some(0), "round {round}: {out}");
        assert_eq!(leftovers(&dir.path().join("archive")), Vec::<String>::new());
        assert_eq!(leftovers(&dir.path().join("links")), Vec::<String>::new());
    }
}

#[test]
fn a_report_force_killed_between_the_renames_is_recovered_by_the_next_verify() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    let before = contents(&package);

    let mut crashing = bin();
    crashing
        .arg("report")
        .arg("--evidence")
        .arg(fixture("no-resources"))
        .arg("--out")
        .arg(&package)
        .args(["--format", "csv", "--force"])
        .env(TEST_CRASH_VAR, "1");
    assert_crashed(&crashing.output().unwrap());
    assert!(!package.exists(), "the crash was not between the renames");
    assert_eq!(leftovers(dir.path()).len(), 1);

    let verified = bin().arg("verify").arg(&package).output().unwrap();
    let message = stderr(&verified);
    assert!(
        message
            .contains("was missing after an interrupted write; its earlier state was moved back"),
        "{message}"
    );
    // The unsigned draft again: readable, and invalid only for want of a seal.
    assert_eq!(verified.status.code(), Some(1), "{message}");
    assert!(contents(&package) == before, "the draft was not restored");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn a_sign_killed_between_the_renames_is_recovered_by_the_next_sign() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    csv_draft(&package);
    let alice = fixed_key(dir.path(), "alice");
    let bob = fixed_key(dir.path(), "bob");

    let crashed = sign_command(&package, &alice, "Alice Author", "QA", "authored")
        .env(TEST_NOW_VAR, ALICE_SIGNS_AT)
        .env(TEST_CRASH_VAR, "1")
        .output()
        .unwrap();
    assert_crashed(&crashed);
    assert!(!package.exists(), "the crash was not between the renames");

    let signed = sign_at(
        &package,
        &bob,
        "Bob Approver",
        "QA",
        "approved",
        BOB_SIGNS_AT,
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    assert!(
        stderr(&signed).contains("its earlier state was moved back"),
        "{}",
        stderr(&signed)
    );
    // Alice's sign-off never completed (she saw no success): only Bob's is in the package.
    assert_eq!(signers(&package), set(&["bob.approver"]));
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn leftovers_of_dead_processes_are_removed_and_a_live_writers_are_kept() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().canonicalize().unwrap();
    let package = dir.join("package");
    csv_draft(&package);
    let fresh = dir.join("fresh");
    let mut crashing = bin();
    crashing
        .arg("demo")
        .arg("--out")
        .arg(&fresh)
        .args(["--format", "csv"])
        .env(TEST_CRASH_VAR, "1");
    assert_crashed(&crashing.output().unwrap());
    let dead = leftovers(dir.as_path());
    assert_eq!(dead.len(), 1, "the crashed demo left its staging directory");

    // A live writer holds the lock of its staging directory for as long as it runs.
    let live_name = ".gxp-evidence-staging-live";
    let live = dir.as_path().join(live_name);
    fs::create_dir_all(live.join("new")).unwrap();
    fs::write(live.join("new/evidence.json"), "{}").unwrap();
    let held = fs::File::open(&live).unwrap();
    held.lock().unwrap();

    let key = fixed_key(dir.as_path(), "alice");
    let signed = sign_at(
        &package,
        &key,
        "Alice Author",
        "QA",
        "authored",
        ALICE_SIGNS_AT,
    );
    let message = stderr(&signed);
    assert_eq!(signed.status.code(), Some(0), "{message}");
    assert!(
        message.contains(&format!(
            "removed {}",
            dir.as_path().join(&dead[0]).display()
        )),
        "{message}"
    );
    assert!(message.contains("interrupted write of"), "{message}");
    assert_eq!(leftovers(dir.as_path()), vec![live_name.to_string()]);
    assert!(!fresh.exists(), "an interrupted report appeared");
    assert!(live.join("new/evidence.json").is_file());

    // Once its writer is gone, it is a dead process's leftover like any other.
    drop(held);
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(leftovers(dir.as_path()), Vec::<String>::new());
}

/// The system calls of `report --force` on `package` as strace saw them, or none where strace
/// cannot run.
fn traced_report(dir: &Path, package: &Path) -> Option<Vec<String>> {
    let log = dir.join("strace.log");
    let status = std::process::Command::new("strace")
        .args(["-f", "-qq", "-s", "4096", "-o"])
        .arg(&log)
        .args([
            "-e",
            "trace=open,openat,close,fsync,fdatasync,rename,renameat,renameat2",
        ])
        .arg(env!("CARGO_BIN_EXE_gxp-evidence"))
        .arg("report")
        .arg("--evidence")
        .arg(fixture("no-resources"))
        .arg("--out")
        .arg(package)
        .args(["--format", "csv", "--force"])
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let text = fs::read_to_string(&log).ok()?;
    assert!(
        status.code() == Some(0) || status.code() == Some(1),
        "{text}"
    );
    Some(text.lines().map(str::to_string).collect())
}

/// The quoted strings of a strace line (paths), in order.
fn quoted(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

#[test]
fn the_swap_into_place_is_synced_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let folder: PathBuf = dir.path().canonicalize().unwrap();
    let package = folder.join("package");
    csv_draft(&package);
    let Some(calls) = traced_report(&folder, &package) else {
        eprintln!("strace cannot run here; the durability of the swap is not checked");
        return;
    };
    let package_text = package.display().to_string();
    let folder_text = folder.display().to_string();
    let into_place = calls
        .iter()
        .rposition(|line| {
            line.contains("rename") && quoted(line).last() == Some(&package_text.as_str())
        })
        .unwrap_or_else(|| panic!("no rename onto the package:\n{}", calls.join("\n")));
    // After the rename, the folder is opened and synced (its fd is the result of the open).
    let mut folder_fds = BTreeSet::new();
    let mut synced = false;
    for line in &calls[into_place..] {
        if line.contains("open") && quoted(line).last() == Some(&folder_text.as_str()) {
            if let Some(fd) = line
                .rsplit("= ")
                .next()
                .and_then(|fd| fd.trim().parse::<i32>().ok())
            {
                folder_fds.insert(fd);
            }
        } else if let Some(args) = line.split("close(").nth(1) {
            let fd = args.split(')').next().and_then(|fd| fd.parse::<i32>().ok());
            fd.map(|fd| folder_fds.remove(&fd));
        } else if let Some(args) = line.split("fsync(").nth(1) {
            let fd = args.split(')').next().and_then(|fd| fd.parse::<i32>().ok());
            synced |= fd.is_some_and(|fd| folder_fds.contains(&fd));
        }
    }
    assert!(
        synced,
        "the folder was not synced after the package was renamed into place:\n{}",
        calls[into_place..].join("\n")
    );
}

#[test]
fn staging_leftovers_that_are_links_or_pipes_are_named_and_never_followed() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().canonicalize().unwrap();
    let archive = dir.join("archive");
    let package = archive.join("package");
    csv_draft(&package);
    // A directory outside the folder, shaped like a staging directory whose package is
    // missing: following the link would move `outside/victim/old` into the archive.
    let victim = dir.join("outside/victim");
    fs::create_dir_all(victim.join("old")).unwrap();
    fs::write(victim.join("old/data.txt"), "precious").unwrap();
    fs::write(victim.join("target"), "moved-here").unwrap();
    std::os::unix::fs::symlink(&victim, archive.join(".gxp-evidence-staging-link")).unwrap();
    // A pipe would block the open of a lock file for ever.
    let fifo = archive.join(".gxp-evidence-staging-fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());

    let output = bin()
        .arg("verify")
        .arg(&package)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}"); // an unsigned draft
    for name in [".gxp-evidence-staging-link", ".gxp-evidence-staging-fifo"] {
        assert!(
            message.contains(name) && message.contains("not a directory"),
            "{name}: {message}"
        );
    }
    assert!(
        victim.join("old/data.txt").is_file(),
        "the victim's directory moved"
    );
    assert!(!archive.join("moved-here").exists());
    assert!(fs::symlink_metadata(&fifo).is_ok(), "the pipe was removed");
}
