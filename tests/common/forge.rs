//! What an insider holding a signing key can do to a package with the library alone: rewrite
//! its manifest to list the files as they are now and seal it again. Every hash and the seal's
//! signature are then valid, so only verify's deeper checks (chain, history, re-rendering,
//! identity, timestamps) can tell.
#![allow(dead_code)]

use std::fs;
use std::path::Path;

use gxp_evidence::evidence::sha256_hex;
use gxp_evidence::package::seal::{SEAL_FILE, Seal};
use gxp_evidence::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use gxp_evidence::package::{MANIFEST_FILE, Manifest, ManifestEntry};
use gxp_evidence::signing::{self, local::LocalKey};

use super::files_under;

pub fn signoffs_of(package: &Path) -> SignoffFile {
    SignoffFile::parse(&fs::read(package.join(SIGNOFFS_FILE)).unwrap()).unwrap()
}

pub fn manifest_of(package: &Path) -> Manifest {
    Manifest::parse(&fs::read(package.join(MANIFEST_FILE)).unwrap()).unwrap()
}

/// Lists every file of `dir` as it is now in manifest.json (keeping the report id and the
/// render settings), as someone re-sealing a changed package does. Returns the bytes.
pub fn rewrite_manifest(dir: &Path) -> Vec<u8> {
    let files = files_under(dir)
        .into_iter()
        .filter(|path| path != MANIFEST_FILE && path != SEAL_FILE)
        .map(|path| {
            let bytes = fs::read(dir.join(&path)).unwrap();
            ManifestEntry {
                sha256: sha256_hex(&bytes),
                bytes: bytes.len() as u64,
                path,
            }
        })
        .collect();
    let manifest = Manifest {
        files,
        ..manifest_of(dir)
    };
    let bytes = manifest.to_bytes();
    fs::write(dir.join(MANIFEST_FILE), &bytes).unwrap();
    bytes
}

/// Rewrites the manifest and seals it again with `key` over the whole chain of
/// signoffs.json (`adjust` may change the seal before it is signed).
pub fn reseal_with(dir: &Path, key: &LocalKey, adjust: impl FnOnce(&mut Seal)) {
    let manifest = rewrite_manifest(dir);
    let signoffs = signoffs_of(dir);
    let mut seal = Seal::unsigned(
        &signoffs.report_id,
        sha256_hex(&manifest),
        &signoffs.signoffs,
        key.info.clone(),
    );
    adjust(&mut seal);
    seal.signature = signing::encode_signature(&key.sign(&seal.statement()));
    fs::write(dir.join(SEAL_FILE), seal.to_bytes()).unwrap();
}

pub fn reseal(dir: &Path, key: &LocalKey) {
    reseal_with(dir, key, |_| {});
}
