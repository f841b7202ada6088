//! Issue 17, "Messages that point at the cause": each failure a new user meets first (no
//! credentials, an unreachable endpoint, a profile that does not exist, a month or time out
//! of range, a missing evidence file, a period LookupEvents no longer covers) gives one
//! short message naming the cause, exit code 2 and no output; and no message or log line
//! (also with -vv) carries Rust Debug output of an SDK error or an Option.
//!
//! Every run gets a temporary HOME and AWS config files, no credentials unless the test
//! sets them, instance metadata disabled, and endpoints on 127.0.0.1 only.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::thread;

struct Sandbox {
    home: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(home.path().join(".aws")).expect("mkdir");
        Sandbox { home }
    }

    fn path(&self) -> &Path {
        self.home.path()
    }

    /// The binary with nothing of this machine's AWS setup: no credentials, no profiles,
    /// no instance metadata.
    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gxp-evidence"));
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_ENDPOINT_URL",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "eu-west-1")
            .current_dir(self.path());
        cmd
    }

    fn with_credentials(&self) -> Command {
        let mut cmd = self.command();
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDTESTONLY")
            .env("AWS_SECRET_ACCESS_KEY", "secret-test-only");
        cmd
    }

    fn out(&self) -> std::path::PathBuf {
        self.path().join("out")
    }
}

fn run(cmd: &mut Command) -> (i32, String) {
    let output: Output = cmd.output().expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Rust Debug renderings of structs, enums and Options, and the SDK's Debug dump.
fn assert_no_debug_output(stderr: &str) {
    for marker in [
        "Some(",
        "None)",
        "DispatchFailure(",
        "DispatchFailure {",
        "ConnectorError {",
        "ResponseError {",
        "source: ",
        " { ",
        "Os {",
        "kind: ",
    ] {
        assert!(
            !stderr.contains(marker),
            "Debug output ({marker:?}) in:\n{stderr}"
        );
    }
}

/// A refused run: exit code 2, one error line, nothing written.
fn assert_refused(sandbox: &Sandbox, (code, stderr): &(i32, String), wanted: &str) {
    assert_eq!(*code, 2, "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("gxp-evidence: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains(wanted),
        "wanted {wanted:?} in:\n{stderr}"
    );
    assert!(!sandbox.out().exists(), "output left behind");
    assert_no_debug_output(stderr);
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// An endpoint on 127.0.0.1 answering sts:GetCallerIdentity for account 111122223333 and
/// every other request with HTTP 200 and a body no AWS client can read.
fn garbled_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || answer(stream));
        }
    });
    url
}

fn answer(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    // Headers, then the body as long as Content-Length says.
    loop {
        let Ok(n) = stream.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&request);
    let body = if text.contains("Action=GetCallerIdentity") {
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/qa</Arn><UserId>AIDATEST</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    } else {
        "{\"garbled"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn collect<'a>(cmd: &'a mut Command, sandbox: &Sandbox) -> &'a mut Command {
    cmd.arg("collect")
        .arg("--out")
        .arg(sandbox.out())
        .args(["--regions", "eu-west-1"])
        // The default period is the previous month: in a month's first hour it has not
        // settled yet, and that refusal would come before the message each test is about.
        .args(["--settle-minutes", "0"])
}

#[test]
fn no_credentials_name_the_chain_that_was_tried() {
    let sandbox = Sandbox::new();
    let url = format!("http://127.0.0.1:{}", closed_port());
    for verbosity in [None, Some("-vv")] {
        let mut cmd = sandbox.command();
        collect(&mut cmd, &sandbox).args(["--endpoint-url", &url]);
        cmd.args(verbosity);
        let result = run(&mut cmd);
        assert_refused(
            &sandbox,
            &result,
            "no AWS credentials found; tried the environment",
        );
        for source in [
            "~/.aws/config",
            "~/.aws/credentials",
            "web identity",
            "ECS container",
            "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)",
            "aws sso login",
        ] {
            assert!(result.1.contains(source), "{source}: {}", result.1);
        }
        assert!(!result.1.contains("cannot connect"), "{}", result.1);
        assert!(
            result
                .1
                .contains("sts:GetCallerIdentity: no AWS credentials found"),
            "{}",
            result.1
        );
    }
}

#[test]
fn an_unreachable_endpoint_is_named_without_its_user_info() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    let mut cmd = sandbox.with_credentials();
    collect(&mut cmd, &sandbox)
        .args(["--endpoint-url", &format!("http://127.0.0.1:{port}/")])
        .arg("-vv");
    let result = run(&mut cmd);
    assert_refused(
        &sandbox,
        &result,
        &format!("cannot connect to http://127.0.0.1:{port}/ (connection refused)"),
    );
    assert!(
        !result.1.contains("credentials are missing"),
        "{}",
        result.1
    );
}

/// An endpoint URL the SDK cannot use is refused before any call, named without its user
/// name, password or query, and not blamed on the credentials: the SDK's own error quoted
/// the whole URL and a dump of the request.
#[test]
fn a_malformed_endpoint_url_is_refused_without_its_secrets() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    for (url, from_env, why) in [
        (
            format!("qa:s3cr3t@127.0.0.1:{port}"),
            false,
            "does not start with http://",
        ),
        (
            format!("http://qa:s3cr3t@127.0.0.1:{port}"),
            false,
            "no user name or password",
        ),
        (
            format!("http://qa:s3cr3t@[::1:{port}"),
            false,
            "no user name or password",
        ),
        (
            format!("http://127.0.0.1:{port}/?token=s3cr3t"),
            false,
            "no query",
        ),
        (
            format!("http://qa:s3cr3t@127.0.0.1:{port}"),
            true,
            "AWS_ENDPOINT_URL",
        ),
    ] {
        let mut cmd = sandbox.with_credentials();
        collect(&mut cmd, &sandbox).arg("-vv");
        if from_env {
            cmd.env("AWS_ENDPOINT_URL", &url);
        } else {
            cmd.args(["--endpoint-url", &url]);
        }
        let result = run(&mut cmd);
        assert_refused(&sandbox, &result, why);
        for secret in ["s3cr3t", "Request {", "credentials are missing"] {
            assert!(!result.1.contains(secret), "{url}: {secret}: {}", result.1);
        }
    }
}

#[test]
fn a_profile_that_does_not_exist_is_named_with_the_profiles_found() {
    let sandbox = Sandbox::new();
    let config = sandbox.path().join("aws-config");
    let credentials = sandbox.path().join("aws-credentials");
    std::fs::write(&config, "[profile qa-prod]\nregion = eu-west-1\n").expect("write");
    std::fs::write(
        &credentials,
        "[qa-dev]\naws_access_key_id = AKIDTESTONLY\naws_secret_access_key = s\n",
    )
    .expect("write");
    let unused = format!("http://127.0.0.1:{}", closed_port());
    // The flag, then the environment variable: both checked before any AWS call (a closed
    // port would otherwise say "cannot connect").
    for (flag, env_profile, named) in [
        (Some("nope"), None, "profile nope (--profile)"),
        (None, Some("nope"), "profile nope (AWS_PROFILE)"),
        // A control character in the name reaches the terminal only as text.
        (
            Some("ev\u{1b}[31mil"),
            None,
            "profile ev<U+001B>[31mil (--profile)",
        ),
        (Some(""), None, "profile \"\" (--profile)"),
    ] {
        let mut cmd = sandbox.command();
        cmd.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
        if let Some(name) = env_profile {
            cmd.env("AWS_PROFILE", name);
        }
        collect(&mut cmd, &sandbox).args(["--endpoint-url", &unused]);
        if let Some(name) = flag {
            cmd.args(["--profile", name]);
        }
        let result = run(&mut cmd);
        assert_refused(&sandbox, &result, named);
        assert!(
            result.1.contains(&format!(
                "does not exist in {} (AWS_CONFIG_FILE) or {} (AWS_SHARED_CREDENTIALS_FILE); profiles found: qa-dev, qa-prod",
                config.display(),
                credentials.display()
            )),
            "{}",
            result.1
        );
    }
}

#[test]
fn a_month_out_of_range_is_named() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command();
    collect(&mut cmd, &sandbox).args(["--period", "2026-13"]);
    let result = run(&mut cmd);
    assert_refused(
        &sandbox,
        &result,
        "--period \"2026-13\": month 13 is out of range (01–12)",
    );
    let mut cmd = sandbox.command();
    collect(&mut cmd, &sandbox).args([
        "--from",
        "2026-02-30T00:00:00Z",
        "--to",
        "2026-03-01T00:00:00Z",
    ]);
    let result = run(&mut cmd);
    assert_refused(
        &sandbox,
        &result,
        "--from \"2026-02-30T00:00:00Z\": day 30 is out of range (01–28 in 2026-02)",
    );
}

#[test]
fn a_period_older_than_lookup_events_keeps_says_what_can_be_done_now() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command();
    collect(&mut cmd, &sandbox).args(["--period", "2020-01"]);
    let result = run(&mut cmd);
    assert_refused(
        &sandbox,
        &result,
        "CloudTrail LookupEvents only keeps 90 days of events",
    );
    assert!(
        result.1.contains("Choose a period that starts at or after"),
        "{}",
        result.1
    );
    assert!(
        result
            .1
            .contains("read the change events from the trail's log files instead"),
        "{}",
        result.1
    );
    assert!(
        !result.1.contains("build the change register from"),
        "{}",
        result.1
    );
}

#[test]
fn a_missing_evidence_file_is_said_once() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command();
    cmd.arg("report")
        .arg("--evidence")
        .arg(sandbox.path().join("nope.json"))
        .arg("--out")
        .arg(sandbox.out());
    let result = run(&mut cmd);
    assert_refused(&sandbox, &result, "cannot read evidence file");
    assert_eq!(result.1.matches("nope.json").count(), 1, "{}", result.1);
}

#[test]
fn organizations_and_kms_failures_have_no_debug_output() {
    let sandbox = Sandbox::new();
    let url = garbled_endpoint();
    let mut cmd = sandbox.with_credentials();
    collect(&mut cmd, &sandbox)
        .args([
            "--endpoint-url",
            &url,
            "--organization",
            "--role-name",
            "gxp",
        ])
        .arg("-vv");
    let (code, stderr) = run(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("organizations:ListAccounts"), "{stderr}");
    assert_no_debug_output(&stderr);

    let package = sandbox.path().join("pkg");
    let status = sandbox
        .command()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .output()
        .expect("demo runs");
    assert!(package.join("manifest.json").exists(), "{status:?}");
    let refusing = format!("http://127.0.0.1:{}", closed_port());
    for (credentials, endpoint) in [
        (true, url.clone()),
        (false, url.clone()),
        (true, refusing.clone()),
    ] {
        let mut cmd = if credentials {
            sandbox.with_credentials()
        } else {
            sandbox.command()
        };
        cmd.arg("sign")
            .arg(&package)
            .args(["--kms-key-id", "alias/gxp", "--endpoint-url", &endpoint])
            .args([
                "--name",
                "Q A",
                "--user-id",
                "qa1",
                "--role",
                "QA",
                "--meaning",
                "reviewed",
            ])
            .arg("-vv");
        let (code, stderr) = run(&mut cmd);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("GetPublicKey"), "{stderr}");
        assert_no_debug_output(&stderr);
        if endpoint == refusing {
            assert!(
                stderr.contains(&format!("cannot connect to {refusing}")),
                "{stderr}"
            );
        }
    }
}
