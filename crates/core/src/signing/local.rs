//! Local Ed25519 signing keys: `keygen` writes a PKCS#8 PEM private key readable only by its
//! owner (mode 0600) and the public key beside it; `load` refuses a key file others can read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer as _, SigningKey};

use super::{Algorithm, KeyInfo, KeySource, SigningError};

/// An Ed25519 private key held in memory (zeroed on drop) with its public description.
pub struct LocalKey {
    signing: SigningKey,
    pub info: KeyInfo,
}

/// What `keygen` wrote.
#[derive(Debug)]
pub struct GeneratedKey {
    pub private_key: PathBuf,
    pub public_key: PathBuf,
    pub fingerprint: String,
}

impl super::SigningKey for LocalKey {
    fn info(&self) -> &KeyInfo {
        &self.info
    }

    fn sign_statement(&self, statement: &[u8]) -> Result<Vec<u8>, super::SigningError> {
        Ok(self.sign(statement))
    }
}

impl LocalKey {
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self::from_signing_key(SigningKey::from_bytes(&secret))
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        let spki = signing
            .verifying_key()
            .to_public_key_der()
            .expect("an Ed25519 public key always encodes");
        let info = KeyInfo::new(KeySource::Local, Algorithm::Ed25519, spki.as_bytes(), None);
        Self { signing, info }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_bytes().to_vec()
    }

    /// Reads a PKCS#8 PEM Ed25519 private key. On Unix the file must not be readable or
    /// writable by group or others, as for an SSH key.
    pub fn load(path: &Path) -> Result<Self, SigningError> {
        let problem =
            |what: String| SigningError::Key(format!("key file {}: {what}", path.display()));
        let meta = fs::metadata(path).map_err(|err| problem(err.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(problem(format!(
                    "permissions {mode:04o} let other users read it; a private key must be 0600 (chmod 600 {})",
                    path.display()
                )));
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text = fs::read_to_string(path).map_err(|err| problem(err.to_string()))?;
        let signing = SigningKey::from_pkcs8_pem(&text).map_err(|err| {
            problem(format!(
                "not an Ed25519 private key in PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\"): {err}"
            ))
        })?;
        Ok(Self::from_signing_key(signing))
    }
}

/// Creates a new Ed25519 key: `out` (PKCS#8 PEM, mode 0600, never overwritten) and
/// `out.pub` (SubjectPublicKeyInfo PEM), the public file written first so a failure never
/// leaves a private key without its public half.
pub fn keygen(out: &Path) -> Result<GeneratedKey, SigningError> {
    let public_path = public_key_path(out);
    for path in [out, public_path.as_path()] {
        if fs::symlink_metadata(path).is_ok() {
            return Err(SigningError::Key(format!(
                "{} already exists; keygen never overwrites a key",
                path.display()
            )));
        }
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|err| {
        SigningError::Key(format!("no randomness from the operating system: {err}"))
    })?;
    let key = LocalKey::from_secret(secret);
    secret.fill(0);
    let private_pem = key
        .signing
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|err| SigningError::Key(format!("cannot encode the private key: {err}")))?;
    let public_pem = key
        .signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|err| SigningError::Key(format!("cannot encode the public key: {err}")))?;

    write_new(&public_path, public_pem.as_bytes(), 0o644)?;
    if let Err(err) = write_new(out, private_pem.as_bytes(), 0o600) {
        let _ = fs::remove_file(&public_path);
        return Err(err);
    }
    Ok(GeneratedKey {
        private_key: out.to_path_buf(),
        public_key: public_path,
        fingerprint: key.info.fingerprint.clone(),
    })
}

pub fn public_key_path(private_key: &Path) -> PathBuf {
    let mut name = private_key.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

/// Creates `path` (failing if it exists) with `mode` from the start, so the private key is
/// never readable by others even for a moment.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SigningError> {
    let failed =
        |err: std::io::Error| SigningError::Key(format!("cannot write {}: {err}", path.display()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(failed)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(err) = written {
        let _ = fs::remove_file(path);
        return Err(failed(err));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        let generated = keygen(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let private = fs::read_to_string(&path).unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let public = fs::read_to_string(&generated.public_key).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));

        let loaded = LocalKey::load(&path).unwrap();
        assert_eq!(loaded.info.fingerprint, generated.fingerprint);
        let signature = loaded.sign(b"statement");
        assert_eq!(loaded.info.verify(b"statement", &signature), Ok(()));

        let again = keygen(&path).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
        assert_eq!(fs::read_to_string(&path).unwrap(), private);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        keygen(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalKey::load(&path).err().unwrap().to_string();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_public_key_is_not_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        let generated = keygen(&path).unwrap();
        let copy = dir.path().join("copy");
        write_new(&copy, &fs::read(&generated.public_key).unwrap(), 0o600).unwrap();
        let err = LocalKey::load(&copy).err().unwrap().to_string();
        assert!(err.contains("not an Ed25519 private key"), "{err}");
    }
}
