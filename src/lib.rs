//! gxp-evidence: Annex 11 / 21 CFR Part 11 audit evidence for AWS API Gateway, KMS and
//! CloudTrail. The pipeline is `evidence` (snapshot) → `controls` (evaluation) → `report`
//! (model and renderers) → `package` (output directory, manifest, sign-off, verify), with `signing` (keys and
//! signatures) and `collect` (live AWS), driven by `cli`.

pub mod cli;
pub mod collect;
pub mod controls;
pub mod evidence;
pub mod package;
pub mod report;
pub mod signing;
