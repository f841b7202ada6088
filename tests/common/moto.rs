//! A private moto server per test and the live command line that reaches it through the
//! stub (`aws_stub`): what `tests/live.rs` and `tests/attestation.rs` collect against.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::aws_stub::{AwsStub, StubConfig, in_account, previous_month, recorded_events};

/// Distinctive test credentials: no output may ever contain them.
pub const ACCESS_KEY: &str = "AKIAGXPTESTCOLLECTOR";
pub const SECRET_KEY: &str = "gxpTestSecret/DoNotPrint+0123456789abcdefXYZ";
pub const SESSION_TOKEN: &str = "gxpTestSessionTokenNeverShown";
pub const CREDENTIALS: [&str; 3] = [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN];

/// The account moto answers as.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// A moto server of this test's own, stopped when dropped (and, through its closed standard
/// input, when the test process ends).
pub struct Moto {
    pub url: String,
    pub python: String,
    server: Child,
}

/// Starts a private moto server: fixed seed, so ids repeat run to run.
pub fn moto() -> Moto {
    moto_with(&[])
}

/// `moto()` with more options of tests/moto/server.py (e.g. `--require-existing-roles`).
pub fn moto_with(options: &[&str]) -> Moto {
    let python = std::env::var("GXP_MOTO_PYTHON").expect(
        "GXP_MOTO_PYTHON is not set: run the suite with scripts/test, which installs the pinned moto server",
    );
    let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/server.py");
    let mut server = Command::new(&python)
        .arg(launcher)
        .args(["--seed", "42", "--quiet", "--until-stdin-closes"])
        .args(options)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("moto server starts");
    let mut line = String::new();
    if let Some(stdout) = server.stdout.take() {
        // The launcher prints its URL once the server answers.
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
    }
    let url = line.trim().to_string();
    let moto = Moto {
        url,
        python,
        server,
    };
    assert!(
        moto.url.starts_with("http://127.0.0.1:"),
        "moto server did not report its URL: {:?}",
        moto.url
    );
    moto
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Moto {
    /// Runs a Python `script` (`python -c`) with moto's URL as `sys.argv[1]` and `args` after
    /// it; returns its stdout. A failing script fails the test with its stderr.
    pub fn run_script(&self, script: &str, args: &[&str]) -> String {
        let output = Command::new(&self.python)
            .args(["-c", script, &self.url])
            .args(args)
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn seed(&self, args: &[&str]) -> Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/seed.py");
        let output = Command::new(&self.python)
            .arg(script)
            .arg(&self.url)
            .args(args)
            .output()
            .expect("seed runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("seed prints JSON")
    }
}

/// The reporting period of a live test: the previous calendar month, worked out once and used
/// both for the stub's events and, with `--period`, by the binary (at 00:00 UTC on the 1st the
/// binary's own default could be a different month from the one the events were placed in).
pub struct Month {
    pub start: i64,
    pub end: i64,
    pub label: String,
}

pub fn month() -> Month {
    let (start, end) = previous_month();
    let label = chrono::DateTime::from_timestamp(start, 0)
        .expect("in range")
        .format("%Y-%m")
        .to_string();
    Month { start, end, label }
}

/// `gxp-evidence ARGS --period MONTH --endpoint-url STUB` with the test credentials only.
pub fn live(stub: &AwsStub, period: &Month, args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
    cmd.args(args)
        .args(["--period", &period.label])
        .arg("--endpoint-url")
        .arg(&stub.url);
    with_test_credentials(&mut cmd);
    cmd
}

/// The test credentials and nothing else of the environment's AWS settings: no profile,
/// region, endpoint, config files or instance metadata.
pub fn with_test_credentials(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
}

/// A snapshot collected from `moto` through the stub, for us-east-1 and the previous month,
/// with no recorded change events (`collect --out DIR/evidence.json EXTRA…`; exit 0 asserted).
pub struct MotoCollection {
    /// Holds the evidence file; a report package can be written beside it.
    pub dir: tempfile::TempDir,
    pub evidence: std::path::PathBuf,
    pub snapshot: Value,
}

pub fn collect_quiet_month(moto: &Moto, extra: &[&str]) -> MotoCollection {
    let period = month();
    let stub = AwsStub::start(super::aws_stub::StubConfig {
        upstream: Some(moto.url.clone()),
        events: std::collections::BTreeMap::new(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", "us-east-1"]);
    collect.args(extra).arg("--out").arg(&evidence);
    let output = collect.output().expect("gxp-evidence runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot = serde_json::from_str(&super::read(&evidence)).expect("JSON");
    MotoCollection {
        dir,
        evidence,
        snapshot,
    }
}

/// The recorded CloudTrail events placed in `period` as moto's account's, with a stub in front
/// of `moto` answering LookupEvents with them in `region` and reporting its trails logging
/// since before the period (moto dates their start at seeding).
pub fn stub_with_recorded_events(
    moto: &Moto,
    period: &Month,
    region: &str,
) -> (Vec<Value>, AwsStub) {
    let events = in_account(
        recorded_events(period.start, 1, std::time::Duration::ZERO),
        MOTO_ACCOUNT,
    );
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: std::collections::BTreeMap::from([(region.to_string(), events.clone())]),
        trails_started_at: Some((period.start - 86400) as f64),
        ..Default::default()
    });
    (events, stub)
}
