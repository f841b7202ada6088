//! gxp-evidence: Annex 11 / 21 CFR Part 11 audit evidence for AWS API Gateway, KMS and
//! CloudTrail. The command line (`cli`) drives the offline core (`gxp-evidence-core`:
//! evidence, controls, report, package, signing) and the AWS adapter (`gxp-evidence-aws`:
//! collect, kms, archive_s3), re-exported here under their module names.

pub mod cli;

pub use gxp_evidence_aws::{archive_s3, collect, kms};
pub use gxp_evidence_core::{
    TOOL_NAME, TOOL_VERSION, archive, controls, evidence, log_integrity, package, report, signing,
    trail_logs,
};
