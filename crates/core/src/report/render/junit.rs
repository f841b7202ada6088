//! JUnit XML renderer: `findings.junit.xml`, every control result as one test case, so a CI
//! dashboard (GitLab, Jenkins, GitHub test reporters) shows the month's compliance like a test
//! run. One test suite per control (classname = control id); a test case is named by its
//! resource, account, region and reading. A FAIL is a `<failure>`; an EVIDENCE_GAP is an
//! `<error>` (the check could not run: dashboards count it as not passed, where `<skipped>`
//! would read as harmless); NOT_APPLICABLE and NO_RESOURCES are `<skipped>`.

use std::io::{self, Write};

use crate::controls::selection::NotEvaluated;
use crate::controls::{CATALOG, Finding, Status};
use crate::report::ReportModel;
use crate::report::format::visible_cow;

/// The file `--format junit` writes.
pub const FILE_NAME: &str = "findings.junit.xml";

/// What a result is in a JUnit report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failure,
    Error,
    Skipped,
}

impl Outcome {
    pub fn of(status: Status) -> Self {
        match status {
            Status::Pass | Status::Controlled => Outcome::Passed,
            Status::Fail => Outcome::Failure,
            Status::EvidenceGap => Outcome::Error,
            Status::NotApplicable | Status::NoResources => Outcome::Skipped,
        }
    }
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(findings: impl Iterator<Item = &'a Finding>) -> Self {
        findings.fold(Counts::default(), |mut counts, finding| {
            counts.tests += 1;
            match Outcome::of(finding.status) {
                Outcome::Passed => {}
                Outcome::Failure => counts.failures += 1,
                Outcome::Error => counts.errors += 1,
                Outcome::Skipped => counts.skipped += 1,
            }
            counts
        })
    }

    fn attributes(&self) -> String {
        format!(
            r#"tests="{}" failures="{}" errors="{}" skipped="{}""#,
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

/// Text as XML character data or an attribute value: markup characters escaped, control and
/// bidirectional characters made visible (`report::format::visible`: XML 1.0 cannot carry most
/// control characters at all, and a bidi override would make a resource name on the dashboard
/// read differently from its bytes), and the two non-characters XML forbids replaced.
pub fn escape(text: &str) -> String {
    let shown = visible_cow(text);
    let mut out = String::with_capacity(shown.len());
    for ch in shown.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // In attributes a raw newline would be normalised to a space by every parser.
            '\n' => out.push_str("&#10;"),
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            other => out.push(other),
        }
    }
    out
}

/// A test case's name: resource, account, region and, for a two-reading control, the reading.
/// With the classname (control id) it names what the finding id names (`Finding::id`).
pub fn case_name(finding: &Finding) -> String {
    let mut name = format!(
        "{} [account {}, region {}]",
        finding.resource, finding.account_id, finding.region
    );
    if let Some(view) = finding.view {
        name.push_str(&format!(" [{}]", view.label()));
    }
    name
}

/// Writes the JUnit XML of `model`'s results: one `<testsuite>` per control in catalog order.
/// A control the requester left out (`--checks`/`--exclude-checks`) is a suite with one
/// skipped case saying so: a dashboard must not show a smaller report as a complete one.
pub fn write(model: &ReportModel, out: &mut dyn Write) -> io::Result<()> {
    let named = |err: io::Error| io::Error::new(err.kind(), format!("{FILE_NAME}: {err}"));
    let not_evaluated: Vec<&NotEvaluated> = model
        .document
        .control_selection
        .iter()
        .flat_map(|selection| &selection.not_evaluated)
        .collect();
    let mut totals = Counts::of(model.findings.iter());
    totals.tests += not_evaluated.len();
    totals.skipped += not_evaluated.len();
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"{}\" {} timestamp=\"{}\">\n",
        escape(&format!("gxp-evidence {}", model.report_id)),
        totals.attributes(),
        model.collected_at.to_rfc3339(),
    ));
    out.write_all(xml.as_bytes()).map_err(named)?;
    for control in CATALOG {
        let findings = || model.findings.iter().filter(|f| f.control_id == control.id);
        let left_out = not_evaluated.iter().find(|n| n.control_id == control.id);
        let xml = match (findings().next(), left_out) {
            (Some(_), _) => {
                let mut xml = format!(
                    "  <testsuite name=\"{}\" {} timestamp=\"{}\">\n",
                    escape(control.id),
                    Counts::of(findings()).attributes(),
                    model.collected_at.to_rfc3339(),
                );
                for finding in findings() {
                    test_case(finding, &mut xml);
                }
                xml.push_str("  </testsuite>\n");
                xml
            }
            (None, Some(left_out)) => {
                let counts = Counts {
                    tests: 1,
                    skipped: 1,
                    ..Counts::default()
                };
                format!(
                    "  <testsuite name=\"{id}\" {} timestamp=\"{}\">\n    <testcase classname=\"{id}\" name=\"not evaluated\">\n      <skipped message=\"NOT EVALUATED: {}\"/>\n    </testcase>\n  </testsuite>\n",
                    counts.attributes(),
                    model.collected_at.to_rfc3339(),
                    escape(left_out.reason_text),
                    id = escape(control.id),
                )
            }
            (None, None) => continue,
        };
        out.write_all(xml.as_bytes()).map_err(named)?;
    }
    out.write_all(b"</testsuites>\n").map_err(named)
}

fn test_case(finding: &Finding, xml: &mut String) {
    xml.push_str(&format!(
        "    <testcase classname=\"{}\" name=\"{}\" id=\"{}\"",
        escape(&finding.control_id),
        escape(&case_name(finding)),
        finding.id(),
    ));
    let reason = escape(&finding.reason);
    let status = finding.status.as_str();
    match Outcome::of(finding.status) {
        Outcome::Passed => {
            xml.push_str(&format!(
                ">\n      <system-out>{status}: {reason}</system-out>\n    </testcase>\n"
            ));
        }
        Outcome::Failure => {
            xml.push_str(&format!(
                ">\n      <failure type=\"{status}\" message=\"{reason}\">{}</failure>\n    </testcase>\n",
                escape(&finding.remediation)
            ));
        }
        Outcome::Error => {
            xml.push_str(&format!(
                ">\n      <error type=\"{status}\" message=\"{reason}\"/>\n    </testcase>\n"
            ));
        }
        Outcome::Skipped => {
            xml.push_str(&format!(
                ">\n      <skipped message=\"{status}: {reason}\"/>\n    </testcase>\n"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_hidden_characters_are_escaped() {
        assert_eq!(
            escape("a<b>&\"c'\u{202E}\u{7}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&lt;U+202E&gt;&lt;U+0007&gt;"
        );
        assert_eq!(escape("x\u{FFFF}"), "x\u{FFFD}");
    }

    #[test]
    fn an_evidence_gap_is_an_error_never_a_skip() {
        assert_eq!(Outcome::of(Status::EvidenceGap), Outcome::Error);
        assert_eq!(Outcome::of(Status::NotApplicable), Outcome::Skipped);
        assert_eq!(Outcome::of(Status::NoResources), Outcome::Skipped);
        assert_eq!(Outcome::of(Status::Controlled), Outcome::Passed);
    }
}
