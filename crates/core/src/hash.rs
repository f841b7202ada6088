//! SHA-256 as every file of a snapshot, manifest, seal and report writes it: lowercase hex.
//! Shared by evidence loading, the package, signing and verify (re-exported from `evidence`).

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    lower_hex(&Sha256::digest(bytes))
}

/// Lowercase hex of a digest, as every SHA-256 in snapshots, manifests and reports is written.
pub fn lower_hex(digest: &[u8]) -> String {
    base16ct::lower::encode_string(digest)
}
