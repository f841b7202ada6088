//! The evidence snapshot: model, schema version, loading with validation, and saving.

pub(crate) mod json_position;
pub mod load;
pub mod model;
pub mod timestamp;

pub use load::{
    EvidenceError, LoadedEvidence, Problem, is_bucket_name, is_region_name, load_bytes, load_file,
    lower_hex, sha256_hex,
};
pub use model::*;
pub use timestamp::Timestamp;

/// The sample snapshot shipped inside the binary (`gxp-evidence demo`).
pub const DEMO_EVIDENCE: &str = include_str!("../../../../samples/demo-evidence.json");

/// Serializes a snapshot the way the tool writes it: pretty JSON with a final newline.
pub fn to_pretty_json(snapshot: &EvidenceSnapshot) -> Vec<u8> {
    let mut bytes =
        serde_json::to_vec_pretty(snapshot).expect("the snapshot model always serializes");
    bytes.push(b'\n');
    bytes
}
