//! Command-line interface: argument parsing, the commands, exit codes (0 compliant, 1
//! non-compliant or incomplete, 2 error) and the one-line summary on stderr.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

mod archive;
mod completion;
mod config;
mod diff;
mod push;
mod run;
mod select;
mod summary;
mod tsa;
mod validate_logs;

use crate::collect::{
    self, AwsSettings, CollectRequest, RegionSelection, accounts::AccountIds, progress::Progress,
};
use crate::controls::change_records::{ChangeRecordsFile, DEMO_CHANGE_RECORDS};
use crate::controls::selection::{ControlSelection, controls_evaluated};
use crate::controls::{CATALOG, Control, Verdict, VerdictReading};
use crate::evidence::{self, EvidenceSnapshot, LoadedEvidence, Policy};
use crate::package;
use crate::report::ReportModel;
use crate::report::diff::PeriodSummary;
use crate::report::document::DocumentSettings;
use crate::report::render::{self, Format, RenderOptions};
use crate::signing::{self, Signer, registry::SignerRegistry, trusted::TrustedKeys};

#[derive(Debug, Parser)]
#[command(
    name = "gxp-evidence",
    version,
    about = "Annex 11 / 21 CFR Part 11 audit evidence for AWS API Gateway, KMS and CloudTrail",
    long_about = "Evaluates an evidence snapshot against controls mapped to EU GMP Annex 11 and writes the \
                  report as PDF, HTML and CSV.\n\nExit codes: 0 report produced and compliant; 1 report \
                  produced and non-compliant or incomplete; 2 usage, input or runtime error (nothing written)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log what is being done to stderr (-v: progress of each region, -vv: every retry).
    /// Credentials never appear in logs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect the period's evidence live from AWS into an evidence snapshot (JSON).
    /// Exit 0 when everything was collected, 1 when evidence gaps were recorded.
    Collect(CollectArgs),
    /// Write the report set into a new directory: from an evidence snapshot (--evidence), or
    /// collected live from AWS for a period (the collection flags).
    Report(Box<ReportArgs>),
    /// Write the report set of the embedded sample evidence (no AWS account needed).
    Demo(OutputArgs),
    /// Create an Ed25519 signing key: KEY (PKCS#8 PEM encrypted under a passphrase, mode
    /// 0600) and KEY.pub; prints the key's fingerprint. The passphrase is asked twice on the
    /// terminal, or read from --passphrase-env. Never overwrites an existing key.
    Keygen {
        /// The private key file to create; the public key goes to the same name + `.pub`.
        #[arg(long, value_name = "KEY")]
        out: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Sign a report package electronically (printed name, user id, role, meaning, UTC time):
    /// verifies the package, appends the sign-off, re-renders PDF/HTML/CSV with every
    /// signature's manifestation and re-seals the manifest. Earlier states go to history/.
    Sign(SignArgs),
    /// Verify a package offline: hashes, missing and extra files, the manifest seal, every
    /// sign-off signature and the chain, re-evaluation and re-rendering, history. One line per
    /// check. Exit 0 valid, 1 invalid, 2 unreadable.
    Verify {
        /// The package directory.
        dir: PathBuf,
        /// Public keys allowed to sign: `SHA256:<hex>` fingerprint lines and/or PEM PUBLIC KEY
        /// blocks (.pub files from keygen, KMS public keys).
        #[arg(long, value_name = "FILE")]
        trusted_keys: Option<PathBuf>,
        #[command(flatten)]
        limits: InputLimits,
        /// QA's signer registry (JSON): each sign-off's key must be bound to its user id,
        /// printed name and role, issued before and not revoked at its signing time. Its keys
        /// are trusted keys; with --trusted-keys as well, both are checked.
        #[arg(long, value_name = "FILE")]
        signers: Option<PathBuf>,
        /// Certificates (PEM) a sign-off's RFC 3161 timestamp must chain to: TSA roots,
        /// intermediates or TSA certificates. Without it a timestamp's TSA is named, not trusted.
        #[arg(long, value_name = "FILE")]
        tsa_certs: Option<PathBuf>,
    },
    /// Compare two packages (directories, or two periods of a system in an archive): resources
    /// added and removed, status changes per finding id, setting changes, new weakening
    /// changes, new and closed evidence gaps. Both must verify. Exit 0 no difference, 1
    /// differences, 2 error.
    Diff(diff::DiffArgs),
    /// Upload a sealed package into the S3 archive (Object Lock): verifies it, files it as the
    /// next revision of its system and month, reads back every object's retention.
    Push(push::PushArgs),
    /// The scheduled monthly job: collect (or re-report a snapshot), evaluate, render and seal
    /// the package with the job's key into the archive as the period's next revision.
    /// Exit 0 when the package was produced (whatever the verdict; see --fail-on), 2 on errors.
    Run(run::RunArgs),
    /// List the controls, their Annex 11 clauses and Security Hub / AWS Config counterparts.
    Controls {
        /// Output as an aligned table or as JSON.
        #[arg(long, value_enum, default_value_t = CatalogFormat::Table)]
        format: CatalogFormat,
        /// Preview a control selection: list only the controls `report --checks …
        /// --exclude-checks …` would evaluate.
        #[command(flatten)]
        selection: select::SelectionArgs,
    },
    /// Browse an archive of monthly packages (ARCHIVE/<system>/<YYYY-MM>/r<N>/) as an
    /// auditor: list, show, verify every revision, or write an HTML index.
    Archive(archive::ArchiveArgs),
    /// Validate a CloudTrail trail's log file integrity offline, from a local copy of its
    /// bucket: every digest's signature with CloudTrail's public key, the digest chain, every
    /// log file's SHA-256, missing and extra log files, hours without a digest. The report as
    /// JSON on stdout, a summary on stderr. Exit 0 intact, 1 findings, 2 error.
    ValidateLogs(validate_logs::ValidateLogsArgs),
    /// Print the shell completion script for SHELL on stdout (see the README for where to
    /// install it).
    Completion(completion::CompletionArgs),
    /// Write the man pages: gxp-evidence.1 and one per command (gxp-evidence-report.1, …)
    /// into --out DIR, or the main page on stdout (`man -l -`).
    Man(completion::ManArgs),
}

impl Command {
    /// The name and summary flags of a command that writes a JSON summary here (`run`
    /// writes its own, with the archive's revision).
    fn summary(&self) -> Option<(&'static str, &summary::SummaryArgs)> {
        match self {
            Command::Collect(args) => Some(("collect", &args.summary)),
            Command::Report(args) => Some(("report", &args.output.summary)),
            Command::Demo(output) => Some(("demo", &output.summary)),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
struct SignArgs {
    /// The package directory (written by `report`, `demo` or an earlier `sign`).
    dir: PathBuf,
    /// Local Ed25519 private key (from `gxp-evidence keygen`).
    #[arg(
        long,
        value_name = "KEY",
        required_unless_present = "kms_key_id",
        conflicts_with = "kms_key_id"
    )]
    key: Option<PathBuf>,
    /// AWS KMS asymmetric signing key: key id, key ARN, alias name (alias/…) or alias ARN.
    /// ECC_NIST_P256 signs with ECDSA_SHA_256, RSA keys with RSASSA_PSS_SHA_256. Credentials
    /// come from the AWS SDK's standard chain.
    #[arg(long, value_name = "ARN|ALIAS")]
    kms_key_id: Option<String>,
    /// The signer's full printed name, as it appears on every page.
    #[arg(long, value_name = "FULL NAME")]
    name: String,
    /// The signer's unique user id (e.g. the company directory id).
    #[arg(long, value_name = "ID")]
    user_id: String,
    /// The signer's role, e.g. "QA Manager".
    #[arg(long, value_name = "ROLE")]
    role: String,
    /// The meaning of the signature: authored, reviewed, approved, …
    #[arg(long, value_name = "MEANING")]
    meaning: String,
    /// QA's signer registry (JSON): refuse to sign unless it binds the key to this name, user
    /// id and role now, and the earlier sign-offs' keys to theirs.
    #[arg(long, value_name = "FILE")]
    signers: Option<PathBuf>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
    /// Sign with a local key that has no passphrase, for this reason (recorded in the
    /// sign-off and shown by verify). Without it an unencrypted key is refused.
    #[arg(
        long,
        value_name = "REASON",
        requires = "key",
        conflicts_with = "passphrase_env"
    )]
    unencrypted_key_reason: Option<String>,
    /// Named profile from the AWS shared config files (KMS signing).
    #[arg(long, value_name = "NAME", requires = "kms_key_id")]
    profile: Option<String>,
    /// Region of the KMS key, when not the configured region or the key ARN's.
    #[arg(long, value_name = "REGION", requires = "kms_key_id", value_parser = parse_region_name)]
    region: Option<String>,
    /// Send KMS calls to this endpoint (a VPC endpoint, or a test double).
    #[arg(long, value_name = "URL", requires = "kms_key_id")]
    endpoint_url: Option<String>,
    /// An RFC 3161 time-stamping authority (http:// or https://): the new sign-off is stamped
    /// with its trusted time, kept as timestamps/<n>.tsr. Signing fails if it cannot.
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    #[command(flatten)]
    limits: InputLimits,
}

/// Bounds on what is read into memory from files that may come from anywhere.
#[derive(Debug, Args)]
struct InputLimits {
    /// The largest evidence file read, in bytes (a package's manifest, seal and sign-off
    /// files too); a larger file is refused before it is read.
    #[arg(long, value_name = "BYTES", default_value_t = evidence::load::DEFAULT_MAX_EVIDENCE_BYTES)]
    max_evidence_bytes: u64,
}

/// Where a key's passphrase comes from: the terminal (no echo) unless --passphrase-env names
/// an environment variable that holds it (for automation; the flag never holds the secret).
#[derive(Debug, Args, Default)]
struct PassphraseArgs {
    /// Read the key's passphrase from this environment variable instead of the terminal.
    #[arg(long, value_name = "NAME")]
    passphrase_env: Option<String>,
}

impl PassphraseArgs {
    /// The passphrase: from the named variable, or asked on the terminal (`confirm`: twice).
    fn read(&self, prompt: &str, confirm: bool) -> Result<zeroize::Zeroizing<String>> {
        use std::io::IsTerminal;
        if let Some(name) = &self.passphrase_env {
            return match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(zeroize::Zeroizing::new(value)),
                Ok(_) => anyhow::bail!("--passphrase-env {name}: the variable is empty"),
                Err(std::env::VarError::NotPresent) => {
                    anyhow::bail!("--passphrase-env {name}: the variable is not set")
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    anyhow::bail!("--passphrase-env {name}: the variable is not UTF-8 text")
                }
            };
        }
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "the key's passphrase is needed and there is no terminal to ask for it; \
                 give --passphrase-env NAME (the environment variable that holds it)"
            );
        }
        let first = zeroize::Zeroizing::new(rpassword::prompt_password(prompt)?);
        if confirm {
            let again = zeroize::Zeroizing::new(rpassword::prompt_password("Repeat it: ")?);
            if *first != *again {
                anyhow::bail!("the two passphrases differ; nothing was written");
            }
        }
        Ok(first)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CatalogFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The evidence snapshot (JSON) to evaluate. Without it, the evidence is collected live.
    /// Its collector attestation FILE.attestation.json, if present, goes into the package.
    #[arg(long, value_name = "FILE")]
    evidence: Option<PathBuf>,
    /// The collector attestation of --evidence, when it is not FILE.attestation.json.
    #[arg(long, value_name = "FILE", requires = "evidence")]
    attestation: Option<PathBuf>,
    /// QA's change records (Annex 11 §10), CSV or JSON (by extension, else by content): id,
    /// title, approved_by, approved_at (RFC 3339 or YYYY-MM-DD), and event_id or account_id,
    /// resource, from, to. A weakening change a record approved beforehand is CONTROLLED; the
    /// file is kept in the package as inputs/change-records.csv|json.
    #[arg(long, value_name = "FILE")]
    change_records: Option<PathBuf>,
    /// The previous period's package of the same system (it must verify): the report gets a
    /// "Changes since last period" section, and keeps a summary of that package as
    /// inputs/previous-period.json so verify re-renders the section without it.
    #[arg(long, value_name = "DIR")]
    previous: Option<PathBuf>,
    #[command(flatten)]
    limits: InputLimits,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    attest: AttestArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct CollectArgs {
    /// The evidence snapshot file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace the file (and its attestation) if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    attest: AttestArgs,
    #[command(flatten)]
    summary: summary::SummaryArgs,
}

/// The collector's key, which signs the snapshot as collected (`FILE.attestation.json`, and
/// `evidence.attestation.json` in a package), so a snapshot edited after collection shows.
#[derive(Debug, Args, Default)]
struct AttestArgs {
    /// Attest the collected snapshot with this local Ed25519 private key (from `keygen`).
    #[arg(long, value_name = "KEY", conflicts_with = "attest_kms_key_id")]
    attest_key: Option<PathBuf>,
    /// Attest the collected snapshot with this AWS KMS asymmetric signing key (key id, ARN,
    /// alias or alias ARN), reached with the collection's credentials, --profile and
    /// --endpoint-url.
    #[arg(long, value_name = "ARN|ALIAS")]
    attest_kms_key_id: Option<String>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
    /// Attest with a local key that has no passphrase, for this reason (a collector running
    /// unattended without a secret store). Without it an unencrypted key is refused.
    #[arg(
        long,
        value_name = "REASON",
        requires = "attest_key",
        conflicts_with = "passphrase_env"
    )]
    unencrypted_key_reason: Option<String>,
}

impl AttestArgs {
    fn given_flags(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        if self.attest_key.is_some() {
            given.push("--attest-key");
        }
        if self.attest_kms_key_id.is_some() {
            given.push("--attest-kms-key-id");
        }
        given
    }

    /// The collector's signer, opened before collecting so a bad key fails in seconds, not
    /// after a collection of many minutes.
    fn signer(&self, live: &LiveArgs) -> Result<Option<Signer>> {
        Ok(match (&self.attest_key, &self.attest_kms_key_id) {
            (Some(path), _) => Some(Signer::new(open_local_key(
                path,
                &self.passphrase,
                self.unencrypted_key_reason.as_ref(),
            )?)),
            (None, Some(key_id)) => {
                let settings = AwsSettings {
                    profile: live.profile.clone(),
                    endpoint_url: live.endpoint_url.clone(),
                };
                Some(Signer::new(crate::kms::KmsKey::connect(
                    &settings, None, key_id,
                )?))
            }
            (None, None) => None,
        })
    }
}

/// What to collect and from where. Credentials and region come from the AWS SDK's standard
/// chain (environment, profiles, SSO, assume-role, AWS_ENDPOINT_URL).
#[derive(Debug, Args, Default)]
struct LiveArgs {
    /// The calendar month to report on (UTC). Default: the previous calendar month.
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["from", "to"])]
    period: Option<String>,
    /// Start of a custom period (RFC 3339, inclusive); needs --to.
    #[arg(long, value_name = "TIME", requires = "to")]
    from: Option<String>,
    /// End of a custom period (RFC 3339, exclusive); needs --from.
    #[arg(long, value_name = "TIME", requires = "from")]
    to: Option<String>,
    /// Regions to collect: a comma-separated list, or `all` for every region enabled for the
    /// account. Default: the configured region.
    #[arg(long, value_name = "LIST", value_parser = RegionSelection::parse)]
    regions: Option<RegionSelection>,
    /// The one region to collect (as the AWS CLI's --region); --regions for several.
    /// Default: the configured region.
    #[arg(long, value_name = "REGION", conflicts_with = "regions", value_parser = parse_region_name)]
    region: Option<String>,
    /// Boxed: the account flags would otherwise make `Command`'s variants differ in size
    /// beyond clippy's bound.
    #[command(flatten)]
    accounts: Box<AccountArgs>,
    /// Named profile from the AWS shared config files.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Send every service's calls to this endpoint (a private endpoint, or a test double).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The regulated system the evidence is about, recorded in the snapshot when it is
    /// collected and shown on every report page (live collection only: a snapshot keeps the
    /// name it was collected with). Default: "AWS account <id>".
    #[arg(long, value_name = "NAME")]
    system_name: Option<String>,
    /// The longest key rotation period the policy accepts, in days.
    #[arg(long, value_name = "DAYS", default_value_t = Policy::DEFAULT_MAX_ROTATION_DAYS)]
    max_rotation_days: u32,
    /// Account-regions collected at the same time.
    #[arg(long, value_name = "N", default_value_t = collect::DEFAULT_MAX_PARALLEL_REGIONS)]
    max_parallel_regions: usize,
    /// How long after the period's end collection must wait, in minutes: CloudTrail delivers
    /// events late (typically minutes, not guaranteed).
    #[arg(long, value_name = "MINUTES", default_value_t = collect::period::DEFAULT_SETTLE_MINUTES)]
    settle_minutes: u32,
    /// The longest time a logging trail may go without delivering a log file, in hours,
    /// before it counts as not logging since its last delivery.
    #[arg(long, value_name = "HOURS", default_value_t = Policy::DEFAULT_MAX_DELIVERY_AGE_HOURS)]
    max_delivery_age_hours: u32,
    /// The shortest time the audit trail's log files must be kept, in days: the trail
    /// bucket's lifecycle rules and its CloudWatch Logs group's retention are judged against it.
    #[arg(long, value_name = "DAYS", default_value_t = Policy::DEFAULT_MIN_LOG_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..))]
    min_log_retention_days: u32,
    /// The S3 buckets that hold GxP records (comma-separated names): a trail must log their
    /// data events.
    #[arg(long, value_name = "BUCKETS", value_delimiter = ',', value_parser = parse_bucket_name)]
    gxp_buckets: Vec<String>,
    /// Read the period's change events from the trail's log files instead of LookupEvents:
    /// the trail's bucket and key prefix (s3://BUCKET/PREFIX, the level holding AWSLogs/, read
    /// with the caller's credentials) or a local copy of it (the folder holding AWSLogs/, e.g.
    /// from `aws s3 sync`). Any period, not only the last 90 days. The settings still come from AWS.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    trail_logs: Option<String>,
    /// Read the period's change events with one Amazon Athena query in this workgroup over the
    /// trail's table (--athena-table), instead of LookupEvents: any period, for estates whose
    /// log files are too many to read (docs/controls.md, "Collecting the change events with
    /// Athena").
    #[arg(long, value_name = "WORKGROUP", requires = "athena_table", conflicts_with = "trail_logs",
          value_parser = parse_athena_workgroup)]
    athena: Option<String>,
    /// The trail's CloudTrail table for --athena, as DATABASE.TABLE.
    #[arg(long, value_name = "DATABASE.TABLE", requires = "athena",
          value_parser = parse_athena_table)]
    athena_table: Option<String>,
}

/// `--athena`: a workgroup name Athena accepts.
fn parse_athena_workgroup(text: &str) -> Result<String, String> {
    collect::athena::parse_workgroup(text).map_err(|e| e.to_string())
}

/// `--athena-table`: `DATABASE.TABLE` as the Glue Data Catalog names them.
fn parse_athena_table(text: &str) -> Result<String, String> {
    collect::athena::parse_table(text)
        .map(|table| table.to_string())
        .map_err(|e| e.to_string())
}

impl LiveArgs {
    /// Flags that only make sense for a live collection, by name, when given.
    fn given_flags(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        let flags: [(&str, bool); 19] = [
            ("--period", self.period.is_some()),
            ("--from", self.from.is_some()),
            ("--regions", self.regions.is_some()),
            ("--region", self.region.is_some()),
            ("--accounts", self.accounts.accounts.is_some()),
            ("--organization", self.accounts.organization),
            ("--role-name", self.accounts.role_name.is_some()),
            ("--external-id", self.accounts.external_id.is_some()),
            ("--profile", self.profile.is_some()),
            ("--endpoint-url", self.endpoint_url.is_some()),
            ("--system-name", self.system_name.is_some()),
            (
                "--max-rotation-days",
                self.max_rotation_days != Policy::DEFAULT_MAX_ROTATION_DAYS,
            ),
            (
                "--max-parallel-regions",
                self.max_parallel_regions != collect::DEFAULT_MAX_PARALLEL_REGIONS,
            ),
            (
                "--settle-minutes",
                self.settle_minutes != collect::period::DEFAULT_SETTLE_MINUTES,
            ),
            (
                "--max-delivery-age-hours",
                self.max_delivery_age_hours != Policy::DEFAULT_MAX_DELIVERY_AGE_HOURS,
            ),
            (
                "--min-log-retention-days",
                self.min_log_retention_days != Policy::DEFAULT_MIN_LOG_RETENTION_DAYS,
            ),
            ("--gxp-buckets", !self.gxp_buckets.is_empty()),
            ("--trail-logs", self.trail_logs.is_some()),
            ("--athena", self.athena.is_some()),
        ];
        for (flag, set) in flags {
            if set {
                given.push(flag);
            }
        }
        given
    }

    /// The regions collected: --regions, --region (clap lets only one of them through), or
    /// the configured one.
    fn region_selection(&self) -> RegionSelection {
        match (&self.regions, &self.region) {
            (Some(regions), _) => regions.clone(),
            (None, Some(region)) => RegionSelection::Listed(vec![region.clone()]),
            (None, None) => RegionSelection::Configured,
        }
    }
}

/// `--region`: one region name, checked as each name of --regions is.
fn parse_region_name(text: &str) -> Result<String, String> {
    if evidence::is_region_name(text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{text:?} is not an AWS region name (expected one region, e.g. eu-west-1; --regions takes a list or `all`)"
        ))
    }
}

/// `--gxp-buckets`: each name checked against the S3 bucket naming rules.
fn parse_bucket_name(text: &str) -> Result<String, String> {
    if evidence::is_bucket_name(text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{text:?} is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens; \
             give the name, not an s3:// URL or ARN)"
        ))
    }
}

/// Which accounts a live collection covers (the credentials' own by default).
#[derive(Debug, Args, Default)]
struct AccountArgs {
    /// Collect these accounts (comma-separated 12-digit ids) instead of the credentials' own,
    /// each through --role-name (the credentials' own account, if listed, directly).
    #[arg(long, value_name = "IDS", value_parser = AccountIds::parse, requires = "role_name", conflicts_with = "organization")]
    accounts: Option<AccountIds>,
    /// Collect every ACTIVE account of the organization (organizations:ListAccounts, with the
    /// credentials of the management or a delegated administrator account), each through
    /// --role-name (the credentials' own account directly).
    #[arg(long, requires = "role_name")]
    organization: bool,
    /// The role assumed in each account of --accounts or --organization (NAME or PATH/NAME),
    /// e.g. OrganizationAccountAccessRole or a read-only role granting docs/iam-policy.json.
    #[arg(long, value_name = "NAME", value_parser = collect::accounts::parse_role_name)]
    role_name: Option<String>,
    /// The external id the role's trust policy asks for (sts:ExternalId).
    #[arg(long, value_name = "ID", requires = "role_name", value_parser = collect::accounts::parse_external_id)]
    external_id: Option<String>,
}

impl AccountArgs {
    /// The accounts collected: the credentials' own, or those of --accounts or --organization
    /// through --role-name.
    fn selection(&self) -> Result<collect::AccountSelection> {
        use collect::{AccountSelection, AccountTarget};
        Ok(match (&self.accounts, self.organization, &self.role_name) {
            (Some(accounts), _, Some(role_name)) => AccountSelection::Listed(
                accounts
                    .0
                    .iter()
                    .map(|account_id| AccountTarget {
                        account_id: account_id.clone(),
                        role_name: role_name.clone(),
                        external_id: self.external_id.clone(),
                    })
                    .collect(),
            ),
            (None, true, Some(role_name)) => AccountSelection::Organization {
                role_name: role_name.clone(),
                external_id: self.external_id.clone(),
            },
            (None, false, None) => AccountSelection::Caller,
            (None, false, Some(_)) => anyhow::bail!(
                "--role-name is the role assumed in the accounts of --accounts or --organization; give one of them"
            ),
            // clap requires --role-name with --accounts and --organization.
            (Some(_), _, None) | (None, true, None) => {
                anyhow::bail!("--accounts and --organization need --role-name")
            }
        })
    }
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Directory to create for the report set. It must not exist unless --force is given.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Formats to render, comma-separated. results.json, evidence.json and manifest.json are always written.
    #[arg(long, value_name = "LIST", default_value = "pdf,html,csv", value_parser = parse_formats)]
    format: BTreeSet<Format>,
    /// Directory with templates (report.html, report.css) replacing the embedded ones.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Above this many changes the PDF (and the HTML) list weakening changes and failed calls
    /// in full and summarise the rest per event name (changes.csv always has all).
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pdf_max_changes: usize,
    /// Start every CSV file with a UTF-8 byte order mark, so Excel shows non-ASCII names
    /// right (the default).
    #[arg(long, overrides_with = "no_csv_bom")]
    csv_bom: bool,
    /// Write the CSV files without a byte order mark (for tools that do not expect one).
    #[arg(long, overrides_with = "csv_bom")]
    no_csv_bom: bool,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    document: DocumentArgs,
    #[command(flatten)]
    summary: summary::SummaryArgs,
}

/// Document control of the report (shown on the cover, sealed in the manifest).
#[derive(Debug, Args)]
struct DocumentArgs {
    /// The system owner named in the document control (Annex 11 §4 / §7: the person
    /// responsible for the system).
    #[arg(long, value_name = "NAME")]
    system_owner: Option<String>,
    /// A previous report package of the same period that this report replaces: this report
    /// is its revision + 1 and names it. A package of another period is refused.
    #[arg(long, value_name = "DIR")]
    supersedes: Option<PathBuf>,
    /// Which reading of two-reading controls (apigw-cache-encryption: AWS Config strict,
    /// Security Hub lenient) decides the verdict; the other is still shown.
    #[arg(long, value_name = "READING", value_parser = ["strict", "lenient"])]
    verdict_reading: Option<String>,
    #[command(flatten)]
    selection: select::SelectionArgs,
}

impl DocumentArgs {
    /// The report-time parameters of a report on `period` written to `out`, rendered now.
    fn settings(&self, snapshot: &EvidenceSnapshot, out: &Path) -> Result<DocumentSettings> {
        let (period, system_name) = (&snapshot.period, snapshot.system_name.as_str());
        let mut from_flags = Vec::new();
        if let Some(owner) = &self.system_owner {
            package::signoff::check_identity_field("--system-owner", owner)?;
            from_flags.push("--system-owner".to_string());
        }
        let verdict_reading: VerdictReading = match &self.verdict_reading {
            Some(text) => {
                from_flags.push("--verdict-reading".to_string());
                text.parse().map_err(anyhow::Error::msg)?
            }
            None => VerdictReading::default(),
        };
        let (revision, supersedes) = match &self.supersedes {
            Some(dir) => {
                // The superseded report stays on record (Annex 11 §7.1: data kept readable);
                // `--force` replacing it with its own revision would destroy it.
                if let (Ok(previous), Ok(new)) = (dir.canonicalize(), out.canonicalize())
                    && previous == new
                {
                    anyhow::bail!(
                        "--supersedes {} is the --out directory: write the new revision to another directory, the superseded report stays on record",
                        dir.display()
                    );
                }
                let previous = package::read_superseded(dir, period, system_name)?;
                from_flags.push("--supersedes".to_string());
                let revision = previous.revision.checked_add(1).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--supersedes {}: report {} is revision {}, the last one there can be",
                        dir.display(),
                        previous.report_id,
                        previous.revision
                    )
                })?;
                (revision, Some(previous.report_id))
            }
            None => (1, None),
        };
        Ok(DocumentSettings {
            system_owner: self.system_owner.clone(),
            revision,
            supersedes,
            verdict_reading,
            // Whole seconds, as sign-offs are recorded: a sign-off in the same second as
            // the rendering is not "before" it.
            rendered_at: chrono::DateTime::from_timestamp(package::sign::now()?.timestamp(), 0)
                .ok_or_else(|| anyhow::anyhow!("the clock is out of range"))?
                .into(),
            from_flags,
            control_selection: self.selection.selection()?,
        })
    }
}

fn parse_formats(text: &str) -> Result<BTreeSet<Format>, render::FormatError> {
    render::parse_formats(text)
}

/// Runs the CLI and maps the outcome to the documented exit codes.
pub fn main() -> ExitCode {
    gxp_evidence_core::memory::share_arenas();
    restore_default_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            if let Some(message) = mistaken_output_flag(
                &err,
                std::env::args_os().map(|arg| arg.to_string_lossy().into_owned()),
            ) {
                eprintln!("gxp-evidence: error: {message}");
                return ExitCode::from(2);
            }
            err.exit()
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gxp-evidence: error: {}", error_chain(&err));
            ExitCode::from(2)
        }
    }
}

/// Rust starts programs with SIGPIPE ignored, so printing to a pipe whose reader has gone
/// (`gxp-evidence archive list ARCHIVE | head -1`) fails, and `println!` panics. The default
/// action ends the process quietly, as for any other command-line tool.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread is started; setting a signal's
    // disposition to SIG_DFL installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The error and its causes, each said once: many errors already print their cause in
/// their own message (`cannot read FILE: No such file or directory`), which `{:#}` would
/// append a second time.
fn error_chain(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn run(cli: Cli) -> Result<ExitCode> {
    init_logging(cli.verbose);
    let summary = cli
        .command
        .summary()
        .map(|(name, args)| (name, args.clone()));
    let outcome = run_command(cli.command, cli.verbose);
    if let (Err(err), Some((name, summary))) = (&outcome, &summary) {
        summary.emit_error(name, err);
    }
    outcome
}

fn run_command(command: Command, verbose: u8) -> Result<ExitCode> {
    match command {
        Command::Collect(args) => {
            args.summary.check()?;
            args.summary
                .check_not_among(&[&args.out, &package::attestation::sidecar_path(&args.out)])?;
            check_output_file(&args.out, args.force)?;
            check_parents_creatable(&args.out)?;
            let signer = args.attest.signer(&args.live)?;
            let loaded = collect_live(&args.live, verbose, args.summary.quiet)?;
            let attestation = attest(&loaded, signer.as_ref())?;
            let created = create_missing_parents(&args.out, 0o777)?;
            write_evidence_files(&args.out, &loaded.bytes, attestation.as_ref(), args.force)
                .inspect_err(|_| remove_created(&created))?;
            if !args.summary.quiet {
                eprintln!("{}", collect_summary(&loaded.snapshot, &args.out));
                if let Some(attestation) = &attestation {
                    eprintln!(
                        "{} {}; written to {}",
                        args.out.display(),
                        attestation.describe(),
                        package::attestation::sidecar_path(&args.out).display()
                    );
                }
            }
            let code = u8::from(!loaded.snapshot.gaps.is_empty());
            args.summary.emit_result(
                "collect",
                &summary::collect_line(&loaded.snapshot, &args.out, code),
            );
            Ok(ExitCode::from(code))
        }
        Command::Report(args) => {
            args.output.summary.check()?;
            args.output.summary.check_not_among(&[&args.output.out])?;
            package::check_output_name(&args.output.out)?;
            recover_interrupted(&args.output.out)?;
            package::check_output_dir(&args.output.out, args.output.force)?;
            let selection = args.output.document.selection.selection()?;
            // Read before a live collection, so a bad file fails in seconds.
            let change_records = args
                .change_records
                .as_deref()
                .map(|path| ChangeRecordsFile::load(path, args.limits.max_evidence_bytes))
                .transpose()?;
            let previous = args
                .previous
                .as_deref()
                .map(diff::read_previous)
                .transpose()?;
            let (evidence, attestation) = match &args.evidence {
                Some(path) => {
                    let mut live_flags = args.live.given_flags();
                    live_flags.extend(args.attest.given_flags());
                    if !live_flags.is_empty() {
                        anyhow::bail!(
                            "--evidence reports on a snapshot file, whose system name and policy were set when it was collected; {} apply only to a live collection (collect)",
                            live_flags.join(", ")
                        );
                    }
                    let evidence = evidence::load_file(path, args.limits.max_evidence_bytes)?;
                    let attestation = attestation_of(path, args.attestation.as_deref(), &evidence)?;
                    (evidence, attestation)
                }
                None => {
                    let signer = args.attest.signer(&args.live)?;
                    let evidence = collect_live(&args.live, verbose, args.output.summary.quiet)?;
                    let attestation = attest(&evidence, signer.as_ref())?;
                    (evidence, attestation)
                }
            };
            if let Some(previous) = &previous {
                previous
                    .check_precedes(&evidence.snapshot.system_name, &evidence.snapshot.period)
                    .and_then(|()| {
                        let evaluated = controls_evaluated(selection.as_ref());
                        previous.check_controls("this report", &evaluated)
                    })
                    .map_err(|err| anyhow::anyhow!("--previous: {err} (nothing written)"))?;
            }
            write_report(
                "report",
                evidence,
                attestation.as_ref(),
                change_records.as_ref(),
                previous.as_ref(),
                &args.output,
            )
        }
        Command::Demo(output) => {
            output.summary.check()?;
            output.summary.check_not_among(&[&output.out])?;
            package::check_output_name(&output.out)?;
            recover_interrupted(&output.out)?;
            package::check_output_dir(&output.out, output.force)?;
            let evidence = evidence::load_bytes(
                "samples/demo-evidence.json (embedded)",
                evidence::DEMO_EVIDENCE.as_bytes().to_vec(),
            )?;
            let change_records = ChangeRecordsFile::parse(
                "samples/demo-change-records.csv (embedded)",
                DEMO_CHANGE_RECORDS.as_bytes().to_vec(),
            )?;
            write_report("demo", evidence, None, Some(&change_records), None, &output)
        }
        Command::Keygen { out, passphrase } => {
            signing::local::check_new_key_paths(&out)?;
            check_parents_creatable(&out)?;
            let passphrase = passphrase.read("Passphrase for the new key: ", true)?;
            // A key's folder (a fresh ~/.gxp) is private to its owner.
            let created = create_missing_parents(&out, 0o700)?;
            let generated = signing::local::keygen(&out, &passphrase)
                .inspect_err(|_| remove_created(&created))?;
            println!(
                "private key: {} (encrypted under your passphrase, mode 0600, keep it secret)",
                generated.private_key.display()
            );
            println!("public key:  {}", generated.public_key.display());
            println!("fingerprint: {}", generated.fingerprint);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign(args) => {
            recover_interrupted(&args.dir)?;
            sign_package(&args)
        }
        Command::Verify {
            dir,
            trusted_keys,
            signers,
            tsa_certs,
            limits,
        } => {
            recover_interrupted(&dir)?;
            verify_package(
                &dir,
                trusted_keys.as_deref(),
                signers.as_deref(),
                tsa_certs.as_deref(),
                &limits,
            )
        }
        Command::Diff(args) => diff::diff_packages(&args),
        Command::Push(args) => push::push(&args),
        Command::Run(args) => run::run(&args, verbose),
        Command::Controls { format, selection } => {
            print_controls(format, selection.selection()?.as_ref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Archive(args) => archive::run(args),
        Command::ValidateLogs(args) => validate_logs::validate_logs(&args),
        Command::Completion(args) => {
            completion::completion(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(args) => {
            completion::man(&args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--output` where a command has `--out`: clap's "a similar argument exists" reads as if
/// the two were synonyms, and a user of the AWS CLI (where --output is the output *format*)
/// or of Prowler (where -o is the output directory) cannot tell which it meant. Says what
/// the command's --out and --format are instead; None for every other error.
fn mistaken_output_flag(
    err: &clap::Error,
    argv: impl IntoIterator<Item = String>,
) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(given)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    // Prowler's `-o DIR` is the same mistake, spelled short (`-o`, `-oDIR`).
    let flag = if given.starts_with("-o") {
        "-o"
    } else if given == "--output" || given.starts_with("--output=") {
        "--output"
    } else {
        return None;
    };
    let root = <Cli as clap::CommandFactory>::command();
    let mut command = &root;
    let mut path = vec![command.get_name().to_string()];
    for arg in argv.into_iter().skip(1).filter(|arg| !arg.starts_with('-')) {
        match command.find_subcommand(&arg) {
            Some(sub) => {
                path.push(sub.get_name().to_string());
                command = sub;
            }
            None => break,
        }
    }
    // Each alternative with the first sentence of its own help, so the hint cannot drift
    // from what the flag does.
    let instead: Vec<String> = ["out", "format", "summary-json"]
        .into_iter()
        .filter_map(|long| command.get_arguments().find(|a| a.get_long() == Some(long)))
        .map(|arg| {
            let value = arg
                .get_value_names()
                .and_then(|names| names.first())
                .map(|name| format!(" {name}"))
                .unwrap_or_default();
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let first_sentence = help.split(". ").next().unwrap_or_default();
            let first_sentence = first_sentence.trim_end_matches('.');
            format!(
                "--{}{value}: {first_sentence}",
                arg.get_long().unwrap_or_default()
            )
        })
        .collect();
    let command_line = path.join(" ");
    Some(if instead.is_empty() {
        format!("{flag} is not an option of {command_line} (see {command_line} --help)")
    } else {
        format!(
            "{flag} is not an option of {command_line}; did you mean one of these? {} (see {command_line} --help)",
            instead.join("; ")
        )
    })
}

/// Whether stderr gets ANSI colours: only on a terminal, never in a pipe or a log file, and
/// not when NO_COLOR is set to anything non-empty (no-color.org) or the terminal is dumb.
fn use_colour(
    stderr_is_terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    stderr_is_terminal
        && no_color.is_none_or(|value| value.is_empty())
        && term != Some(std::ffi::OsStr::new("dumb"))
}

/// Before a command reads or replaces the package at `path`: puts back what a write that
/// crashed mid-swap left, and says what it did.
fn recover_interrupted(path: &Path) -> Result<()> {
    for recovery in package::swap::recover_interrupted(path)? {
        eprintln!("gxp-evidence: note: {recovery}");
    }
    Ok(())
}

/// Logs go to stderr only when asked for; the SDK's own logs stay at warnings, so request
/// details (signed headers) are never printed.
fn init_logging(verbose: u8) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    if verbose == 0 {
        return;
    }
    let ours = if verbose == 1 {
        tracing::Level::INFO
    } else {
        tracing::Level::DEBUG
    };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::WARN)
        .with_target(env!("CARGO_CRATE_NAME"), ours);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(use_colour(
                    std::io::IsTerminal::is_terminal(&std::io::stderr()),
                    std::env::var_os("NO_COLOR").as_deref(),
                    std::env::var_os("TERM").as_deref(),
                ))
                .with_target(false),
        )
        .with(filter)
        .try_init();
}

/// Collects live and returns the snapshot as the loader sees it: the collected evidence
/// passes the same validation as an archived file before anything is written.
fn collect_live(live: &LiveArgs, verbose: u8, quiet: bool) -> Result<LoadedEvidence> {
    use std::io::IsTerminal;
    let now = chrono::Utc::now();
    let period = collect::period::resolve(
        live.period.as_deref(),
        live.from.as_deref(),
        live.to.as_deref(),
        now,
        live.settle_minutes,
        if live.athena.is_some() {
            collect::period::ChangeEventSource::Athena
        } else if live.trail_logs.is_some() {
            collect::period::ChangeEventSource::TrailLogFiles
        } else {
            collect::period::ChangeEventSource::LookupEvents
        },
    )?;
    let athena = match (&live.athena, &live.athena_table) {
        (Some(workgroup), Some(table)) => {
            Some(collect::athena::AthenaSource::parse(workgroup, table)?)
        }
        _ => None,
    };
    // A folder that holds no log files, or a malformed bucket URL, fails now, not after the
    // settings were collected.
    let trail_logs = live
        .trail_logs
        .as_deref()
        .map(collect::TrailLogSource::parse)
        .transpose()?;
    let request = CollectRequest {
        period,
        accounts: live.accounts.selection()?,
        regions: live.region_selection(),
        system_name: live.system_name.clone(),
        policy: Policy {
            max_rotation_days: live.max_rotation_days,
            max_delivery_age_hours: Some(live.max_delivery_age_hours),
            min_log_retention_days: Some(live.min_log_retention_days),
            ..Policy::default()
        }
        .with_gxp_buckets(live.gxp_buckets.iter().cloned()),
        settle_minutes: live.settle_minutes,
        max_parallel_regions: live.max_parallel_regions,
        calls_per_region: 8,
        trail_logs,
        athena,
    };
    let settings = AwsSettings {
        profile: live.profile.clone(),
        endpoint_url: live.endpoint_url.clone(),
    };
    let progress = Progress::new(!quiet && verbose == 0 && std::io::stderr().is_terminal());
    let snapshot = collect::collect_blocking(&settings, &request, &progress)?;
    let bytes = evidence::to_pretty_json(&snapshot);
    Ok(evidence::load_bytes("collected evidence", bytes)?)
}

/// The snapshot file and its attestation beside it may be written: neither is a directory,
/// and neither exists unless `force`.
fn check_output_file(path: &Path, force: bool) -> Result<()> {
    for path in [path.to_path_buf(), package::attestation::sidecar_path(path)] {
        if path.is_dir() {
            anyhow::bail!("output path {} is a directory", path.display());
        }
        if path.exists() && !force {
            anyhow::bail!(
                "output file {} already exists (use --force to replace it)",
                path.display()
            );
        }
    }
    Ok(())
}

/// The folders above an output file that are missing can be created: the nearest one that
/// exists is a folder. Checked before a long collection, which would otherwise be lost.
fn check_parents_creatable(path: &Path) -> Result<()> {
    let parent = gxp_evidence_core::atomic::parent_dir(path);
    if let Some(existing) = parent.ancestors().find(|dir| dir.exists())
        && !existing.is_dir()
    {
        anyhow::bail!(
            "cannot create the folder {} for {}: {} is not a folder",
            parent.display(),
            path.display(),
            existing.display()
        );
    }
    Ok(())
}

/// Creates the missing folders above an output file with `mode` (less the umask); returns
/// the ones created, outermost first, so a failed write can remove them again.
fn create_missing_parents(path: &Path, mode: u32) -> Result<Vec<PathBuf>> {
    use std::os::unix::fs::DirBuilderExt;
    let parent = gxp_evidence_core::atomic::parent_dir(path);
    let mut missing: Vec<PathBuf> = parent
        .ancestors()
        .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    for (done, dir) in missing.iter().enumerate() {
        if let Err(err) = std::fs::DirBuilder::new().mode(mode).create(dir) {
            remove_created(&missing[..done]);
            anyhow::bail!("cannot create the folder {}: {err}", dir.display());
        }
    }
    Ok(missing)
}

/// Removes the folders `create_missing_parents` made (if still empty), innermost first.
fn remove_created(dirs: &[PathBuf]) {
    for dir in dirs.iter().rev() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// The collector's attestation of the snapshot just collected, made right after collection.
fn attest(
    evidence: &LoadedEvidence,
    signer: Option<&Signer>,
) -> Result<Option<package::attestation::Attestation>> {
    let Some(signer) = signer else {
        return Ok(None);
    };
    let now = package::sign::now()?;
    Ok(Some(package::attestation::Attestation::create(
        evidence,
        signer,
        now.into(),
    )?))
}

/// The attestation that comes with the snapshot file `evidence_path`: the one named, or else
/// the sidecar `FILE.attestation.json` if there is one. One that does not attest exactly this
/// snapshot stops the report (exit 2): dropping it would turn an edited snapshot into merely
/// an unattested one, and keeping it would make a package that is invalid from the start.
fn attestation_of(
    evidence_path: &Path,
    named: Option<&Path>,
    evidence: &LoadedEvidence,
) -> Result<Option<package::attestation::Attestation>> {
    let sidecar = package::attestation::sidecar_path(evidence_path);
    let path = match named {
        Some(path) => path,
        None if sidecar.exists() => sidecar.as_path(),
        None => return Ok(None),
    };
    Ok(Some(package::attestation::load_for(
        path,
        evidence_path,
        evidence,
    )?))
}

/// Writes the snapshot and its attestation atomically (each a temporary sibling and a
/// rename; the attestation first, and removed again if the snapshot cannot be written), so a
/// reader never sees half a file and a failure leaves nothing behind. A snapshot replaced
/// without an attestation loses the old one's, which would no longer match.
fn write_evidence_files(
    path: &Path,
    bytes: &[u8],
    attestation: Option<&package::attestation::Attestation>,
    force: bool,
) -> Result<()> {
    use gxp_evidence_core::atomic;
    let sidecar = package::attestation::sidecar_path(path);
    match attestation {
        Some(attestation) => {
            atomic::write_file(&sidecar, &attestation.to_bytes(), force)?;
            if let Err(err) = atomic::write_file(path, bytes, force) {
                let _ = std::fs::remove_file(&sidecar);
                return Err(err.into());
            }
        }
        None => {
            atomic::write_file(path, bytes, force)?;
            if sidecar.exists() {
                std::fs::remove_file(&sidecar).map_err(|err| {
                    anyhow::anyhow!(
                        "cannot remove {}, the attestation of the replaced snapshot: {err}",
                        sidecar.display()
                    )
                })?;
            }
        }
    }
    Ok(())
}

fn collect_summary(snapshot: &EvidenceSnapshot, out: &Path) -> String {
    let summary::CollectedCounts {
        rest_apis: apis,
        stages,
        v2_apis,
        keys,
        trails,
        replication_groups,
        trail_buckets,
        change_events: events,
    } = summary::CollectedCounts::of(snapshot);
    format!(
        "collected {} for {} in {}: {apis} REST APIs, {stages} stages, {v2_apis} HTTP/WebSocket APIs, {keys} keys, {trails} trails (shadow copies included), {trail_buckets} trail buckets, {replication_groups} ElastiCache replication groups, {events} change events; {} evidence gaps; written to {}",
        snapshot.scope.accounts.join(", "),
        snapshot.period.label(),
        snapshot.scope.regions.join(", "),
        snapshot.gaps.len(),
        out.display()
    )
}

fn write_report(
    command: &str,
    evidence: LoadedEvidence,
    attestation: Option<&package::attestation::Attestation>,
    change_records: Option<&ChangeRecordsFile>,
    previous_period: Option<&PeriodSummary>,
    output: &OutputArgs,
) -> Result<ExitCode> {
    if let Some(dir) = output.templates.as_ref().filter(|dir| !dir.is_dir()) {
        anyhow::bail!("templates directory {} does not exist", dir.display());
    }
    let options = RenderOptions {
        pdf_max_changes: output.pdf_max_changes,
        templates: output.templates.clone(),
        csv_bom: !output.no_csv_bom,
    };
    let document = output.document.settings(&evidence.snapshot, &output.out)?;
    let inputs = package::ReportInputs {
        evidence,
        attestation,
        change_records,
        document: &document,
        previous_period,
    };
    let model = package::create_report_package(
        &output.out,
        output.force,
        inputs,
        &output.format,
        &options,
    )?;
    let code = verdict_exit_code(model.verdict);
    if !output.summary.quiet {
        eprintln!("{}", summary_line(&model, &output.out));
    }
    output.summary.emit_result(
        command,
        &summary::report_line(command, &model, &output.out, code),
    );
    Ok(ExitCode::from(code))
}

fn sign_package(args: &SignArgs) -> Result<ExitCode> {
    let request = package::sign::SignRequest {
        printed_name: args.name.clone(),
        user_id: args.user_id.clone(),
        role: args.role.clone(),
        meaning: args.meaning.clone(),
        signers: args
            .signers
            .as_deref()
            .map(SignerRegistry::load)
            .transpose()?,
    };
    request.check()?;
    let signer = match (&args.key, &args.kms_key_id) {
        (Some(path), _) => Signer::new(open_local_key(
            path,
            &args.passphrase,
            args.unencrypted_key_reason.as_ref(),
        )?),
        (None, Some(key_id)) => {
            let settings = AwsSettings {
                profile: args.profile.clone(),
                endpoint_url: args.endpoint_url.clone(),
            };
            Signer::new(crate::kms::KmsKey::connect(
                &settings,
                args.region.as_deref(),
                key_id,
            )?)
        }
        (None, None) => anyhow::bail!("give --key KEY or --kms-key-id ARN|ALIAS"),
    };
    let tsa = args.tsa.as_deref().map(tsa::HttpTsa::new).transpose()?;
    let signed = package::sign::sign_timestamped(
        &args.dir,
        &request,
        &signer,
        args.limits.max_evidence_bytes,
        package::sign::now,
        tsa.as_ref()
            .map(|tsa| tsa as &dyn signing::timestamp::TimestampAuthority),
    )?;
    let record = &signed.record;
    eprintln!(
        "signed report {} as sign-off {}: {} ({}, {}) {} at {} with {}; re-rendered {} and re-sealed {}",
        record.report_id,
        record.sequence,
        crate::report::format::visible(&record.printed_name),
        crate::report::format::visible(&record.role),
        crate::report::format::visible(&record.user_id),
        crate::report::format::visible(&record.meaning),
        record.signed_at.display_utc(),
        record.key.describe(),
        signed.replaced.join(", "),
        args.dir.display()
    );
    if let Some(stamp) = &signed.timestamp {
        eprintln!(
            "timestamped: {} ({})",
            stamp.describe(),
            package::timestamp::timestamp_path(record.sequence)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens a local key: an encrypted one with its passphrase, an unencrypted one only with
/// --unencrypted-key-reason.
fn open_local_key(
    path: &Path,
    passphrase: &PassphraseArgs,
    unencrypted_key_reason: Option<&String>,
) -> Result<signing::local::LocalKey> {
    use signing::local::{KeyFile, Unlock};
    let file = KeyFile::read(path)?;
    let key = match (unencrypted_key_reason, file.is_encrypted()) {
        (Some(reason), _) => file.unlock(Unlock::Unencrypted { reason })?,
        (None, true) => {
            let passphrase =
                passphrase.read(&format!("Passphrase for {}: ", path.display()), false)?;
            file.unlock(Unlock::Passphrase(&passphrase))?
        }
        (None, false) => Err(signing::SigningError::UnencryptedKey(path.to_path_buf()))?,
    };
    Ok(key)
}

fn verify_package(
    dir: &Path,
    trusted_keys: Option<&Path>,
    signers: Option<&Path>,
    tsa_certs: Option<&Path>,
    limits: &InputLimits,
) -> Result<ExitCode> {
    let trusted = trusted_keys.map(TrustedKeys::load).transpose()?;
    let signers = signers.map(SignerRegistry::load).transpose()?;
    let trusted_tsa = tsa_certs
        .map(signing::timestamp::TrustedTsaCertificates::load)
        .transpose()?;
    let verification = package::verify::verify(
        dir,
        &package::verify::VerifyOptions {
            trusted_keys: trusted.as_ref(),
            signers: signers.as_ref(),
            trusted_tsa: trusted_tsa.as_ref(),
            purpose: package::verify::Purpose::Audit,
            max_file_bytes: limits.max_evidence_bytes,
        },
    )?;
    for check in &verification.checks {
        println!("{check}");
    }
    println!("{}", verification.summary());
    Ok(if verification.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn exit_code(verdict: Verdict) -> ExitCode {
    ExitCode::from(verdict_exit_code(verdict))
}

/// 0 compliant, 1 non-compliant or incomplete: the exit code and the summary's `exit_code`.
fn verdict_exit_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Compliant => 0,
        Verdict::NonCompliant | Verdict::Incomplete => 1,
    }
}

fn summary_line(model: &ReportModel, out: &Path) -> String {
    let t = &model.totals;
    // Under the lenient reading the totals still count the strict reading's results, which
    // do not decide: say so, or "COMPLIANT: … 1 FAIL" reads as a contradiction.
    let non_deciding = model
        .document
        .non_deciding
        .as_ref()
        .map(|n| {
            format!(
                " (verdict reading lenient: {} FAIL, {} EVIDENCE_GAP of the {} reading do not decide)",
                n.fail, n.evidence_gap, n.reading
            )
        })
        .unwrap_or_default();
    let selection = select::summary_note(model);
    format!(
        "{}{non_deciding}{selection}: {} PASS, {} CONTROLLED, {} FAIL, {} NOT_APPLICABLE, {} NO_RESOURCES, {} EVIDENCE_GAP; {} changes ({} weakening applied); report {} written to {}",
        model.verdict.as_str(),
        t.pass,
        t.controlled,
        t.fail,
        t.not_applicable,
        t.no_resources,
        t.evidence_gap,
        model.change_totals.total,
        model.change_totals.weakening_effective,
        model.report_id,
        out.display()
    )
}

fn print_controls(format: CatalogFormat, selection: Option<&ControlSelection>) -> Result<()> {
    let evaluated = controls_evaluated(selection);
    let controls: Vec<&Control> = CATALOG
        .iter()
        .filter(|c| evaluated.contains(c.id))
        .collect();
    match format {
        CatalogFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&controls)?);
        }
        CatalogFormat::Table => {
            let rows: Vec<[String; 4]> = controls
                .iter()
                .map(|c| {
                    [
                        c.id.to_string(),
                        c.title.to_string(),
                        c.clauses.join("; "),
                        c.cross_references.join("; "),
                    ]
                })
                .collect();
            let header =
                ["ID", "TITLE", "ANNEX 11 / 21 CFR 11", "CROSS-REFERENCES"].map(String::from);
            print_aligned(&header, &rows);
        }
    }
    Ok(())
}

/// Prints a header and rows as left-aligned columns two spaces apart (a terminal table).
fn print_aligned<const N: usize>(header: &[String; N], rows: &[[String; N]]) {
    let mut widths = [0usize; N];
    for row in std::iter::once(header).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
