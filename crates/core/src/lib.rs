//! gxp-evidence's offline core: everything an auditor needs years later without AWS. The
//! pipeline is `evidence` (snapshot) → `controls` (evaluation) → `report` (model and
//! renderers) → `package` (output directory, manifest, sign-off, verify), with `signing`
//! (keys and signatures; a KMS key is plugged in by the AWS adapter through `SigningKey`).
//! This crate depends on no AWS SDK and no async runtime, so the compiler keeps verify offline.

pub mod archive;
pub mod atomic;
pub mod controls;
pub mod evidence;
pub mod hash;
pub mod log_integrity;
pub mod memory;
pub mod package;
pub mod report;
pub mod signing;
pub mod trail_logs;

/// The tool's name, as snapshots and packages record it.
pub const TOOL_NAME: &str = "gxp-evidence";
/// The tool's version (one version for the whole workspace), as reports and packages record it.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
