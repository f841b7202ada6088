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

/// A writer that passes everything on to `inner` and keeps the SHA-256 and size of what went
/// through: a file is hashed as it is written, and a re-rendering is compared with a stored
/// file without holding either in memory.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: std::io::Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The writer back, with the lowercase hex SHA-256 and the size of what was written.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, lower_hex(&self.hasher.finalize()), self.bytes)
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn hashing_writer_hashes_what_it_passes_on() {
        let mut writer = HashingWriter::new(Vec::new());
        writer
            .write_all(b"hello ")
            .and_then(|()| writer.write_all(b"world"))
            .unwrap();
        let (inner, sha256, bytes) = writer.finish();
        assert_eq!(inner, b"hello world");
        assert_eq!(sha256, sha256_hex(b"hello world"));
        assert_eq!(bytes, 11);
    }
}
