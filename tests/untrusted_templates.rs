//! Custom templates are untrusted input: they travel inside the package (`templates/`) and
//! `verify` and `sign` render them again on an auditor's machine. These tests give `report`,
//! `verify` and `sign` hostile templates — edited after signing, reading the environment,
//! printing report data as raw markup, closing `<style>`, endless or exploding — and check
//! that each is refused or reported by name within seconds, that nothing is left behind, and
//! that the other formats are still checked.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use gxp_evidence::evidence::sha256_hex;
use gxp_evidence::package::{MANIFEST_FILE, Manifest};

/// How long a command may take before the test calls it endless. Every hostile template here
/// is stopped by the renderer's limits within its 5 s time limit (a debug build counts fewer
/// steps in that time than a release build); the old renderer ran them for minutes or hours.
const WITHIN: Duration = Duration::from_secs(30);

/// A nest of loops with an empty body: a hundred billion iterations that write nothing.
const ENDLESS: &str =
    "{% for a in range(end=100000) %}{% for b in range(end=100000) %}{% endfor %}{% endfor %}";

fn embedded(name: &str) -> String {
    read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(name),
    )
}

/// A templates directory holding the embedded report.html with `html_extra` inserted just
/// before `</body>`, and the embedded report.css followed by `css_extra`.
fn templates_dir(dir: &Path, html_extra: &str, css_extra: &str) -> PathBuf {
    let templates = dir.join("templates");
    fs::create_dir_all(&templates).unwrap();
    let html = embedded("report.html").replace("</body>", &format!("{html_extra}\n</body>"));
    fs::write(templates.join("report.html"), html).unwrap();
    fs::write(
        templates.join("report.css"),
        embedded("report.css") + css_extra,
    )
    .unwrap();
    templates
}

/// Runs gxp-evidence with `args`, killing it (and failing the test) if it runs past `WITHIN`.
fn run_within(args: &[&str]) -> (Output, Duration) {
    run_command_within(bin_process(), args)
}

/// Runs `command` with `args` the way `run_within` runs gxp-evidence.
fn run_command_within(mut command: std::process::Command, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    loop {
        if child.try_wait().expect("waits").is_some() {
            let output = child.wait_with_output().expect("output");
            return (output, started.elapsed());
        }
        if started.elapsed() > WITHIN {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gxp-evidence {args:?} was still running after {WITHIN:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `report --templates DIR` into `dir/package`.
fn report_with(dir: &Path, templates: &Path, formats: &str) -> (Output, PathBuf) {
    let package = dir.join("package");
    let mut command = bin_process();
    // Rendered before the tests' sign-offs (a sign-off never predates its report).
    command.env(TEST_NOW_VAR, RENDERED_AT);
    let (output, _) = run_command_within(
        command,
        &[
            "report",
            "--evidence",
            demo_evidence().to_str().unwrap(),
            "--out",
            package.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
            "--format",
            formats,
        ],
    );
    (output, package)
}

/// `report` refused the template: exit 2, the message names the template file and says
/// `why`, and no output directory (nor staging leftover) is left behind.
fn assert_template_refused(html_extra: &str, css_extra: &str, file: &str, why: &str) {
    let dir = tempfile::tempdir().unwrap();
    let templates = templates_dir(dir.path(), html_extra, css_extra);
    let (output, package) = report_with(dir.path(), &templates, "html");
    let message = stderr(&output);
    let context = format!("template extra {html_extra:?} / css {css_extra:?}: {message}");
    assert_eq!(output.status.code(), Some(2), "{context}");
    let path = templates.join(file);
    assert!(
        message.contains(&path.display().to_string()),
        "{} not named: {context}",
        path.display()
    );
    assert!(message.contains(why), "`{why}` not said: {context}");
    assert!(!package.exists(), "{context}");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".gxp-evidence"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}: {context}");
}

/// Sets the manifest entry of `path` to the file's current bytes, as someone forging an
/// unsigned draft does (a draft has no seal to break).
fn relist(package: &Path, path: &str) {
    let mut manifest = Manifest::parse(&fs::read(package.join(MANIFEST_FILE)).unwrap()).unwrap();
    let bytes = fs::read(package.join(path)).unwrap();
    let entry = manifest
        .files
        .iter_mut()
        .find(|e| e.path == path)
        .expect("listed");
    entry.sha256 = sha256_hex(&bytes);
    entry.bytes = bytes.len() as u64;
    fs::write(package.join(MANIFEST_FILE), manifest.to_bytes()).unwrap();
}

fn verify_within(package: &Path) -> (Option<i32>, String, Duration) {
    let (output, took) = run_within(&["verify", package.to_str().unwrap()]);
    (output.status.code(), stdout(&output), took)
}

#[test]
fn a_template_edited_in_a_signed_package_is_named_never_rendered_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let templates = templates_dir(dir.path(), "<p>Custom footer</p>", "");
    let (output, package) = report_with(dir.path(), &templates, "pdf,html,csv");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
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
    let (code, out, _) = verify_within(&package);
    assert_eq!(code, Some(0), "{out}");

    let edited = package.join("templates/report.html");
    for (what, text) in [
        (
            "a visible edit",
            read(&edited).replace("Custom footer", "Edited footer"),
        ),
        (
            "an endless template",
            read(&edited).replace("<p>Custom footer</p>", ENDLESS),
        ),
    ] {
        fs::write(&edited, text).unwrap();
        let (code, out, took) = verify_within(&package);
        assert_eq!(code, Some(1), "{what}: {out}");
        assert!(took < Duration::from_secs(10), "{what}: took {took:?}");
        assert_eq!(
            failed_subjects(&out),
            ["templates/report.html".to_string()].into(),
            "{what}: {out}"
        );
        assert!(
            out.contains(
                "SKIP  report.html: not re-rendered: templates/report.html failed its checks"
            ),
            "{what}: {out}"
        );
        for checked in ["report.pdf", "results.json", "findings.csv"] {
            assert!(
                out.contains(&format!("OK    {checked}: identical to the re-")),
                "{what}: {checked} not checked: {out}"
            );
        }
        // sign verifies first: it refuses, naming the template, without rendering it.
        let bob = fixed_key(dir.path(), "bob");
        let (output, took) = run_within(&[
            "sign",
            package.to_str().unwrap(),
            "--key",
            bob.to_str().unwrap(),
            "--name",
            "Bob Reviewer",
            "--user-id",
            "bob.reviewer",
            "--role",
            "QA",
            "--meaning",
            "reviewed",
            "--passphrase-env",
            PASSPHRASE_VAR,
        ]);
        assert_ne!(output.status.code(), Some(0), "{what}");
        assert!(took < Duration::from_secs(10), "{what}: sign took {took:?}");
        assert!(
            stderr(&output).contains("templates/report.html"),
            "{what}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_hostile_template_a_forger_listed_in_the_manifest_fails_only_the_html() {
    let dir = tempfile::tempdir().unwrap();
    let templates = templates_dir(dir.path(), "", "");
    let (output, package) = report_with(dir.path(), &templates, "pdf,html,csv");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let template = package.join("templates/report.html");
    fs::write(
        &template,
        read(&template).replace("</body>", &format!("{ENDLESS}</body>")),
    )
    .unwrap();
    relist(&package, "templates/report.html");
    let (code, out, took) = verify_within(&package);
    assert_eq!(code, Some(1), "{out}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(
        out.contains("FAIL  templates/report.html: cannot re-render report.html:"),
        "{out}"
    );
    assert!(out.contains("stopped after"), "{out}");
    for checked in ["report.pdf", "results.json", "findings.csv"] {
        assert!(
            out.contains(&format!("OK    {checked}: identical to the re-")),
            "{checked} not checked: {out}"
        );
    }
}

#[test]
fn templates_cannot_read_the_environment_the_clock_or_chance() {
    for call in [
        "{{ get_env(name=\"HOME\") }}",
        "{{ get_env(name=\"NOT_SET\", default=\"x\") }}",
        "{{ now() }}",
        "{{ get_random(end=10) }}",
    ] {
        assert_template_refused(call, "", "report.html", "is not available");
    }
}

#[test]
fn report_data_is_always_escaped() {
    for (extra, why) in [
        (
            "{{ report.system_name | safe }}",
            "`safe` filter is not allowed",
        ),
        (
            "{{ report.system_name | upper | safe }}",
            "`safe` filter is not allowed",
        ),
        (
            "{% filter safe %}{{ report.system_name }}{% endfilter %}",
            "filter sections are not allowed",
        ),
        ("{{ __tera_context }}", "`__tera_context` is not allowed"),
        ("{{ report.accounts }}", "cannot print a list"),
        (
            "{% macro raw(x) %}{{ x }}{% endmacro %}",
            "macros are not allowed",
        ),
        (
            "<div {{ report.system_name }}></div>",
            "report data may appear only in text",
        ),
        (
            "<div class={{ report.system_name }}></div>",
            "report data may appear only in text",
        ),
        (
            "<a href=\"{{ report.system_name }}\">x</a>",
            "`href` attribute",
        ),
    ] {
        assert_template_refused(extra, "", "report.html", why);
    }
}

#[test]
fn the_templates_own_markup_has_no_scripts_handlers_or_external_resources() {
    for (extra, why) in [
        (
            "<script>alert(1)</script>",
            "element <script> is not allowed",
        ),
        ("<ScRiPt src=x></ScRiPt>", "element <script> is not allowed"),
        (
            "<p onclick=\"alert(1)\">x</p>",
            "event handler attribute `onclick`",
        ),
        (
            "<img src=\"https://example.org/x.png\">",
            "element <img> is not allowed",
        ),
        (
            "<a href=\"https://example.org/\">x</a>",
            "`href` may only link within the report",
        ),
        (
            "<a href=\"javascript:alert(1)\">x</a>",
            "`href` may only link within the report",
        ),
        (
            "<p style=\"background:url(https://example.org/x)\">x</p>",
            "`url(` is not allowed in CSS",
        ),
    ] {
        assert_template_refused(extra, "", "report.html", why);
    }
}

#[test]
fn the_stylesheet_cannot_close_its_style_element_or_load_anything() {
    for (css, why) in [
        (
            "\n</style><script>alert(1)</script>",
            "`<` is not allowed in CSS",
        ),
        ("\n</STYLE ><p>x</p>", "`<` is not allowed in CSS"),
        ("\n<!-- x -->", "`<` is not allowed in CSS"),
        (
            "\nbody { background: url(https://example.org/x.png); }",
            "`url(` is not allowed in CSS",
        ),
        (
            "\nbody { background: \\75 rl(https://example.org/x.png); }",
            "`url(` is not allowed in CSS",
        ),
        (
            "\n@import \"https://example.org/x.css\";",
            "`@import` is not allowed in CSS",
        ),
        (
            "\nh1::after { content: \"{{ report.system_name }}\"; }",
            "plain CSS",
        ),
    ] {
        assert_template_refused("", css, "report.css", why);
    }
}

#[test]
fn endless_and_exploding_templates_stop_within_seconds() {
    let deep = "{% for a in range(end=10) %}".repeat(9) + "x" + &"{% endfor %}".repeat(9);
    // 10,000 iterations of 10 KB: 100 MB, past the output limit long before the step limit.
    let wide = "{% for a in range(end=100) %}{% for b in range(end=100) %}".to_string()
        + &"0123456789".repeat(1000)
        + "{% endfor %}{% endfor %}";
    let sha = "report.evidence_sha256";
    let grown = format!(
        "{{{{ {sha} | replace(from=\"\", to={sha}) | replace(from=\"\", to={sha}) | replace(from=\"\", to={sha}) }}}}"
    );
    for (extra, why) in [
        (ENDLESS.to_string(), "stopped after"),
        (deep, "stopped after"),
        (wide, "the output passed"),
        (grown, "the limit for one value"),
        // tera parses and evaluates operator chains recursively: this one overflowed the stack.
        (
            format!("{{{{ 1{} }}}}", "+1".repeat(100_000)),
            "has a tag longer than 400 characters",
        ),
        (
            "{% for a in range(end=10000000000) %}{% endfor %}".to_string(),
            "range() of more than 100000 numbers",
        ),
    ] {
        let started = Instant::now();
        assert_template_refused(&extra, "", "report.html", why);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{extra}: took {:?}",
            started.elapsed()
        );
    }
}

/// Markup a browser reads differently from a tag scan: a comment it ends early, a `<title>`
/// whose text hides a tag, a character set whose escape sequences swallow a quote. Each put
/// a working `<script>` into report.html.
#[test]
fn markup_a_browser_reads_differently_is_refused() {
    for (extra, why) in [
        (
            "<!-- x --!><script>alert(1)</script> -->",
            "HTML comments (<!-- … -->) are not allowed",
        ),
        (
            "<!--><script>alert(1)</script> -->",
            "HTML comments (<!-- … -->) are not allowed",
        ),
        (
            "<title><p title=\"</title><script>alert(1)</script>\"></p></title>",
            "only text may be inside <title>",
        ),
        (
            "<meta charset=\"iso-2022-jp\">",
            "the only character set is `<meta charset=\"utf-8\">`",
        ),
        (
            "<p title=\"\u{1b}$B\">\u{1b}(B<b title=\"><script>alert(1)</script>\"></b></p>",
            "control character U+001B",
        ),
    ] {
        assert_template_refused(extra, "", "report.html", why);
    }
}

/// `report` under a 4 GB address-space limit: a value that would grow past it must be
/// refused before it is built, not abort the allocator.
fn report_in_4gb(dir: &Path, templates: &Path) -> (Output, Duration) {
    let package = dir.join("package");
    let mut bash = std::process::Command::new("bash");
    bash.env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    run_command_within(
        bash,
        &[
            "-c",
            "ulimit -v 4000000 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_gxp-evidence"),
            "report",
            "--evidence",
            demo_evidence().to_str().unwrap(),
            "--out",
            package.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
            "--format",
            "html",
        ],
    )
}

#[test]
fn values_that_square_at_each_level_are_refused_before_they_are_built() {
    // Each level squares the length: 36 bytes, 1.4 KB, 1.9 MB, then 3.5 TB (or 8 TB of
    // indented lines). The old check ran after the filter had returned, and the process
    // aborted allocating gigabytes.
    let replace = "{% for a in [report.report_id | replace(from=\"\", to=report.report_id)] %}{% for b in [a | replace(from=\"\", to=a)] %}{% for c in [b | replace(from=\"\", to=b)] %}<p>{{ c | length }}</p>{% endfor %}{% endfor %}{% endfor %}";
    let indent = "{% for a in [report.report_id | replace(from=\"\", to=\"\n\")] %}{% for b in [a | indent(prefix=a)] %}{% for c in [b | indent(prefix=b)] %}{% for d in [c | indent(prefix=c)] %}<p>{{ d | length }}</p>{% endfor %}{% endfor %}{% endfor %}{% endfor %}";
    // `~` is no filter: each level joins 16 copies of the one before, 36 bytes times 16^9.
    let mut concat = String::new();
    let mut previous = "report.report_id".to_string();
    for level in 0..9 {
        let copies = vec![previous.as_str(); 16].join(" ~ ");
        concat += &format!("{{% for v{level} in [{copies}] %}}");
        previous = format!("v{level}");
    }
    concat += &format!("<p>{{{{ {previous} | length }}}}</p>");
    concat += &"{% endfor %}".repeat(9);
    for (template, what) in [
        (replace, "filter `replace`"),
        (indent, "filter `indent`"),
        (concat.as_str(), "`~`"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let templates = templates_dir(dir.path(), template, "");
        let (output, took) = report_in_4gb(dir.path(), &templates);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{what}: {message}");
        assert!(
            message.contains(&templates.join("report.html").display().to_string()),
            "{what}: {message}"
        );
        assert!(
            message.contains(&format!("{what} could return up to")),
            "{what}: {message}"
        );
        assert!(took < Duration::from_secs(10), "{what}: took {took:?}");
        assert!(!dir.path().join("package").exists(), "{what}");
    }
}

#[test]
fn all_filter_results_together_are_bounded() {
    // 270 KB built afresh on every one of 100,000 iterations: 27 GB of work and allocation.
    let sha = "report.evidence_sha256";
    let each = format!("{sha} | replace(from=\"\", to={sha}) | replace(from=\"\", to={sha})");
    let template =
        format!("{{% for i in range(end=100000) %}}{{{{ {each} | length }}}}{{% endfor %}}");
    assert_template_refused(
        &template,
        "",
        "report.html",
        "filters returned more than 268435456 bytes in all",
    );
}

#[test]
fn templates_are_read_only_from_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    fs::write(&secret, "GXP_SECRET_TOKEN=do-not-copy").unwrap();
    let environ = Path::new("/proc/self/environ");
    for (file, kind) in [
        ("report.html", "a symlink to the environment"),
        ("report.css", "a symlink to a secret"),
        ("report.html", "a FIFO"),
    ] {
        let case = tempfile::tempdir().unwrap();
        let templates = case.path().join("templates");
        fs::create_dir(&templates).unwrap();
        let path = templates.join(file);
        match kind {
            "a FIFO" => {
                let made = std::process::Command::new("mkfifo").arg(&path).status();
                assert!(made.unwrap().success());
            }
            "a symlink to a secret" => std::os::unix::fs::symlink(&secret, &path).unwrap(),
            _ => std::os::unix::fs::symlink(environ, &path).unwrap(),
        }
        let package = case.path().join("package");
        let (output, took) = run_within(&[
            "report",
            "--evidence",
            demo_evidence().to_str().unwrap(),
            "--out",
            package.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
            "--format",
            "html,csv",
        ]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{kind}: {message}");
        assert!(
            message.contains(&path.display().to_string())
                && message.contains("is not a regular file"),
            "{kind}: {message}"
        );
        assert!(!message.contains("GXP_SECRET_TOKEN"), "{kind}: {message}");
        assert!(took < Duration::from_secs(10), "{kind}: took {took:?}");
        assert!(!package.exists(), "{kind}");
    }
}
