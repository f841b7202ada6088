//! The portable Linux build made by `scripts/release`: the binary needs no glibc newer than 2.17
//! (so validated RHEL 8 and Amazon Linux 2 hosts run it), it runs the demo, and its container
//! image runs the demo as a non-root user with the package readable on the host.
//!
//! The binary under test is named by `GXP_PORTABLE_BINARY`; `scripts/test` builds it with
//! `scripts/release --debug --no-dist` (a dev-profile zigbuild links against the same glibc 2.17
//! stubs as the release build, in a fraction of the time). Without that variable these tests
//! fail and say how to get it, unless `GXP_SKIP_PORTABLE=1` states that the run leaves them out:
//! a test that passes without having looked at the binary would hide a regression.
//! The image test needs podman; it prints `SKIPPED: <why>` when podman is missing or cannot run
//! containers, except under `GXP_REQUIRE_CONTAINER_ENGINE=1` (set by scripts/test, which installs
//! podman), where that is a failure.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use object::Endianness;
use object::elf::FileHeader64;
use object::read::elf::FileHeader;

/// RHEL 7 and Amazon Linux 2 ship glibc 2.17; RHEL 8 ships 2.28.
const GLIBC_CEILING: [u32; 2] = [2, 17];

/// The user of the Containerfile's `USER` line (distroless's `nonroot`).
const IMAGE_USER: u32 = 65532;

fn portable_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GXP_PORTABLE_BINARY") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "GXP_PORTABLE_BINARY names {}, which is not a file",
            path.display()
        );
        return Some(path);
    }
    if std::env::var_os("GXP_SKIP_PORTABLE").is_some_and(|value| value == "1") {
        eprintln!("SKIPPED: GXP_SKIP_PORTABLE=1 (the portable binary is not tested in this run)");
        return None;
    }
    panic!(
        "GXP_PORTABLE_BINARY is not set. Build the portable binary with \
         `scripts/release --debug --no-dist` (its last line is the path) and run \
         `GXP_PORTABLE_BINARY=<that path> cargo test --test portable`, or run scripts/test, \
         which does both; set GXP_SKIP_PORTABLE=1 to leave these tests out on purpose"
    );
}

/// Every `GLIBC_x.y[.z]` the binary's `.gnu.version_r` section asks the dynamic loader for,
/// as numbers (`GLIBC_2.2.5` is `[2, 2, 5]`, which sorts below `[2, 17]`).
fn glibc_versions_needed(binary: &Path) -> Vec<Vec<u32>> {
    let data = std::fs::read(binary).unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let header = FileHeader64::<Endianness>::parse(&*data)
        .unwrap_or_else(|e| panic!("{}: not a 64-bit ELF file: {e}", binary.display()));
    let endian = header.endian().expect("ELF byte order");
    let sections = header.sections(endian, &*data).expect("ELF section table");
    let Some((mut needs, strings_index)) = sections
        .gnu_verneed(endian, &*data)
        .expect("ELF .gnu.version_r")
    else {
        return Vec::new();
    };
    let strings = sections
        .strings(endian, &*data, strings_index)
        .expect("string table of .gnu.version_r");
    let mut versions = Vec::new();
    while let Some((_library, mut entries)) = needs.next().expect("ELF verneed entry") {
        while let Some(entry) = entries.next().expect("ELF vernaux entry") {
            let name = entry.name(endian, strings).expect("version name");
            let Some(number) = name.strip_prefix(b"GLIBC_") else {
                continue;
            };
            // GLIBC_PRIVATE and the like are not releases; the loader matches them exactly.
            let parts: Option<Vec<u32>> = std::str::from_utf8(number)
                .ok()
                .and_then(|text| text.split('.').map(|part| part.parse().ok()).collect());
            if let Some(parts) = parts {
                versions.push(parts);
            }
        }
    }
    versions.sort();
    versions.dedup();
    versions
}

fn highest_glibc_needed(binary: &Path) -> Vec<u32> {
    glibc_versions_needed(binary)
        .pop()
        .unwrap_or_else(|| panic!("{} names no GLIBC symbol version", binary.display()))
}

fn dotted(version: &[u32]) -> String {
    let parts: Vec<String> = version.iter().map(u32::to_string).collect();
    parts.join(".")
}

#[test]
fn portable_binary_needs_no_glibc_newer_than_2_17() {
    let Some(binary) = portable_binary() else {
        return;
    };
    let highest = highest_glibc_needed(&binary);
    eprintln!(
        "{} needs at most GLIBC_{}",
        binary.display(),
        dotted(&highest)
    );
    assert!(
        highest.as_slice() <= GLIBC_CEILING.as_slice(),
        "{} needs GLIBC_{}, newer than {}: it would not start on RHEL 7/8 or Amazon Linux 2 \
         (build it with scripts/release, not cargo build)",
        binary.display(),
        dotted(&highest),
        dotted(&GLIBC_CEILING)
    );
}

/// The check above must be able to fail: the ordinary host build (glibc 2.36 on the project's
/// Debian machines; anything since 2.18) links symbols newer than the ceiling, and the parser
/// has to see them.
#[test]
fn the_glibc_check_sees_the_newer_symbols_of_an_ordinary_build() {
    let host_build = Path::new(env!("CARGO_BIN_EXE_gxp-evidence"));
    let highest = highest_glibc_needed(host_build);
    assert!(
        highest.as_slice() > GLIBC_CEILING.as_slice(),
        "the host build needs only GLIBC_{}: is this host's glibc older than 2.18?",
        dotted(&highest)
    );
    assert!(glibc_versions_needed(host_build).contains(&vec![2, 2, 5]));
}

fn assert_demo_package(out: &Path, output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "the demo is non-compliant by design (exit 1); stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in [
        "evidence.json",
        "results.json",
        "report.html",
        "manifest.json",
    ] {
        assert!(
            out.join(file).is_file(),
            "{file} missing in {}",
            out.display()
        );
    }
    let pdf = std::fs::read(out.join("report.pdf")).expect("report.pdf");
    assert!(pdf.starts_with(b"%PDF-"), "report.pdf is not a PDF");
}

#[test]
fn portable_binary_runs_the_demo() {
    let Some(binary) = portable_binary() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    let started = Instant::now();
    let output = Command::new(&binary)
        .arg("demo")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run the portable binary");
    eprintln!("portable demo: {:.1} s", started.elapsed().as_secs_f64());
    assert_demo_package(&out, &output);
}

/// How podman runs containers here: plainly, or (where cgroups are not delegated and setrlimit
/// is not permitted, as in some CI sandboxes) with runc, cgroupfs and no default ulimits.
struct Podman {
    global_args: Vec<String>,
    containers_conf: Option<tempfile::NamedTempFile>,
}

impl Podman {
    fn command(&self) -> Command {
        let mut command = Command::new("podman");
        command.args(&self.global_args);
        if let Some(conf) = &self.containers_conf {
            command.env("CONTAINERS_CONF", conf.path());
        }
        command
    }

    fn can_run(&self, image: &str) -> bool {
        self.command()
            .args(["run", "--rm", "--pull=never", image, "--version"])
            .output()
            .is_ok_and(|output| output.status.success())
    }

    fn for_image(image: &str) -> Podman {
        let plain = Podman {
            global_args: Vec::new(),
            containers_conf: None,
        };
        if plain.can_run(image) {
            return plain;
        }
        let conf = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(conf.path(), "[containers]\ndefault_ulimits = []\n").expect("write conf");
        let fallback = Podman {
            global_args: ["--runtime", "runc", "--cgroup-manager", "cgroupfs"]
                .map(String::from)
                .to_vec(),
            containers_conf: Some(conf),
        };
        eprintln!(
            "plain `podman run` fails here; running with runc, cgroupfs and no default ulimits"
        );
        assert!(
            fallback.can_run(image),
            "podman cannot run {image}, neither plainly nor with runc and cgroupfs"
        );
        fallback
    }
}

/// Why no container can be built here, if none can.
fn podman_unavailable() -> Option<String> {
    match Command::new("podman").arg("info").output() {
        Err(_) => Some("podman is not installed (apt-get install podman runc)".to_string()),
        Ok(output) if !output.status.success() => Some(format!(
            "`podman info` fails: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Ok(_) => None,
    }
}

#[test]
fn container_image_runs_the_demo_as_non_root() {
    let Some(binary) = portable_binary() else {
        return;
    };
    if let Some(why) = podman_unavailable() {
        assert!(
            std::env::var_os("GXP_REQUIRE_CONTAINER_ENGINE").is_none_or(|value| value != "1"),
            "GXP_REQUIRE_CONTAINER_ENGINE=1 but {why}"
        );
        eprintln!("SKIPPED: {why}");
        return;
    }
    let tag = "localhost/gxp-evidence:portable-test";
    // No registry is needed: the base is made from this host's glibc (scripts/release --base
    // host), and the Containerfile's from-source stage is skipped.
    let started = Instant::now();
    let built = Command::new("bash")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scripts/release", "--no-dist", "--image", "--base", "host"])
        .arg("--binary")
        .arg(&binary)
        .args(["--tag", tag])
        .output()
        .expect("run scripts/release");
    assert!(
        built.status.success(),
        "scripts/release --image failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    eprintln!("image built in {:.1} s", started.elapsed().as_secs_f64());
    let podman = Podman::for_image(tag);

    let user = podman
        .command()
        .args(["image", "inspect", "--format", "{{.Config.User}}", tag])
        .output()
        .expect("podman image inspect");
    assert_eq!(
        String::from_utf8_lossy(&user.stdout).trim(),
        format!("{IMAGE_USER}:{IMAGE_USER}")
    );

    let host_dir = tempfile::tempdir().expect("temp dir");
    let we_are_root = std::fs::metadata(host_dir.path()).expect("stat").uid() == 0;
    let mut run = podman.command();
    run.args(["run", "--rm", "--pull=never"]);
    if we_are_root {
        // Rootful: the container's user is host uid 65532, which must be let into the folder.
        std::fs::set_permissions(host_dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
    } else {
        // Rootless: map the invoking user to the image's user, so the package is theirs.
        run.arg(format!(
            "--userns=keep-id:uid={IMAGE_USER},gid={IMAGE_USER}"
        ));
    }
    // The package must be a new directory (it refuses to overwrite), so the mount is its parent.
    run.arg("-v")
        .arg(format!("{}:/out", host_dir.path().display()))
        .args([tag, "demo", "--out", "/out/demo"]);
    let started = Instant::now();
    let output = run.output().expect("podman run");
    eprintln!(
        "demo in the container: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let out = host_dir.path().join("demo");
    assert_demo_package(&out, &output);

    let report = std::fs::metadata(out.join("report.pdf")).expect("report.pdf");
    if we_are_root {
        assert_eq!(
            report.uid(),
            IMAGE_USER,
            "the demo ran as uid {}",
            report.uid()
        );
        assert_ne!(
            report.mode() & 0o004,
            0,
            "report.pdf is not readable by other users on the host"
        );
    } else {
        let our_uid = std::fs::metadata(host_dir.path()).expect("stat").uid();
        assert_eq!(report.uid(), our_uid, "the package does not belong to us");
    }
    let _ = podman.command().args(["rmi", "--force", tag]).output();
}
