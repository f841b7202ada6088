//! Local Ed25519 signing keys: `keygen` writes the private key as an encrypted PKCS#8 PEM
//! (`ENCRYPTED PRIVATE KEY`: PBES2 with scrypt and AES-256-CBC, around a PKCS#8 v1
//! PrivateKeyInfo that OpenSSL 3.0 and Python `cryptography` read) readable only by its owner
//! (mode 0600), and the public key beside it. The passphrase is the second identification
//! component of a local key (21 CFR 11.200(a)(1): something the signer has, the key file, and
//! something they know); `KeyFile::unlock` opens a key with it, or opens an unencrypted key
//! only with the reason recorded in the sign-off, and refuses a file others can read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, KeypairBytes};
use ed25519_dalek::{Signer as _, SigningKey};
use pkcs8::EncryptedPrivateKeyInfoRef;
use zeroize::Zeroizing;

use super::{Algorithm, KeyInfo, KeySource, SigningError};

/// The shortest passphrase `keygen` accepts (NIST SP 800-63B §5.1.1.1: at least 8 characters
/// for a memorized secret chosen by the user).
pub const MIN_PASSPHRASE_CHARS: usize = 8;

const ENCRYPTED_PEM_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";

/// An Ed25519 private key held in memory (zeroed on drop) with its public description.
pub struct LocalKey {
    signing: SigningKey,
    pub info: KeyInfo,
    /// Why the signer used a key file without a passphrase (none for an encrypted key).
    unencrypted_reason: Option<String>,
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

    fn unencrypted_reason(&self) -> Option<&str> {
        self.unencrypted_reason.as_deref()
    }
}

/// How a private key file is opened.
#[derive(Clone, Copy)]
pub enum Unlock<'a> {
    /// With its passphrase: the file must be an encrypted key.
    Passphrase(&'a str),
    /// Without one: the file must be an unencrypted key, and the reason why is recorded in
    /// the sign-off, so an inspector sees which signatures lacked the second component.
    Unencrypted { reason: &'a str },
}

/// A private key file as read from disk, not yet decrypted.
pub struct KeyFile {
    path: PathBuf,
    pem: Zeroizing<String>,
}

impl KeyFile {
    /// Reads a PKCS#8 PEM private key file. On Unix the file must not be readable or
    /// writable by group or others, as for an SSH key.
    pub fn read(path: &Path) -> Result<Self, SigningError> {
        let problem = |what: String| key_problem(path, what);
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
        let pem = Zeroizing::new(fs::read_to_string(path).map_err(|err| problem(err.to_string()))?);
        Ok(Self {
            path: path.to_path_buf(),
            pem,
        })
    }

    /// Whether the key is passphrase-protected (`ENCRYPTED PRIVATE KEY`).
    pub fn is_encrypted(&self) -> bool {
        self.pem.trim_start().starts_with(ENCRYPTED_PEM_BEGIN)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the key as `unlock` says. A wrong passphrase, a passphrase for an unencrypted
    /// key and an unencrypted key without a reason are refused, each with its own message.
    pub fn unlock(&self, unlock: Unlock<'_>) -> Result<LocalKey, SigningError> {
        let problem = |what: String| key_problem(&self.path, what);
        match (unlock, self.is_encrypted()) {
            (Unlock::Passphrase(passphrase), true) => {
                let (label, document) = pkcs8::SecretDocument::from_pem(&self.pem)
                    .map_err(|err| problem(format!("not a PKCS#8 PEM key: {err}")))?;
                if label != "ENCRYPTED PRIVATE KEY" {
                    return Err(problem(format!("unexpected PEM label {label}")));
                }
                let encrypted = EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
                    .map_err(|err| problem(format!("not a PKCS#8 encrypted private key: {err}")))?;
                // A wrong passphrase shows as a padding error, or (1 time in 256) as plaintext
                // that is not a key: both mean the passphrase did not open this file.
                let wrong = || SigningError::WrongPassphrase(self.path.clone());
                let plain = encrypted.decrypt(passphrase).map_err(|_| wrong())?;
                let signing = SigningKey::from_pkcs8_der(plain.as_bytes()).map_err(|_| wrong())?;
                Ok(LocalKey::from_signing_key(signing, None))
            }
            (Unlock::Passphrase(_), false) => Err(problem(
                "is not encrypted: it has no passphrase (give --unencrypted-key-reason to sign with it anyway, \
                 or make a passphrase-protected key with keygen)"
                    .into(),
            )),
            (Unlock::Unencrypted { reason }, false) => {
                if reason.trim().is_empty() {
                    return Err(SigningError::UnencryptedKey(self.path.clone()));
                }
                // The reason goes into the signed record: the same rules as a printed name.
                crate::package::signoff::check_identity_field("--unencrypted-key-reason", reason)
                    .map_err(|err| SigningError::Key(err.to_string()))?;
                let signing = SigningKey::from_pkcs8_pem(&self.pem).map_err(|err| {
                    problem(format!(
                        "not an Ed25519 private key in PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\"): {err}"
                    ))
                })?;
                Ok(LocalKey::from_signing_key(signing, Some(reason.to_string())))
            }
            (Unlock::Unencrypted { .. }, true) => Err(problem(
                "is encrypted: give its passphrase; --unencrypted-key-reason is for keys without one"
                    .into(),
            )),
        }
    }
}

fn key_problem(path: &Path, what: String) -> SigningError {
    SigningError::Key(format!("key file {}: {what}", path.display()))
}

impl LocalKey {
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self::from_signing_key(SigningKey::from_bytes(&secret), None)
    }

    fn from_signing_key(signing: SigningKey, unencrypted_reason: Option<String>) -> Self {
        let spki = signing
            .verifying_key()
            .to_public_key_der()
            .expect("an Ed25519 public key always encodes");
        let info = KeyInfo::new(KeySource::Local, Algorithm::Ed25519, spki.as_bytes(), None);
        Self {
            signing,
            info,
            unencrypted_reason,
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_bytes().to_vec()
    }

    /// Reads and opens a private key file (`KeyFile::read`, `KeyFile::unlock`).
    pub fn load(path: &Path, unlock: Unlock<'_>) -> Result<Self, SigningError> {
        KeyFile::read(path)?.unlock(unlock)
    }
}

/// Refuses to create a key over an existing file: `out` or its `.pub` is taken. `keygen`
/// checks this too; the CLI calls it before it asks for a passphrase.
pub fn check_new_key_paths(out: &Path) -> Result<(), SigningError> {
    for path in [out.to_path_buf(), public_key_path(out)] {
        if fs::symlink_metadata(&path).is_ok() {
            return Err(SigningError::Key(format!(
                "{} already exists; keygen never overwrites a key",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Creates a new Ed25519 key: `out` (encrypted PKCS#8 PEM under `passphrase`, mode 0600,
/// never overwritten) and `out.pub` (SubjectPublicKeyInfo PEM), the public file written
/// first so a failure never leaves a private key without its public half.
pub fn keygen(out: &Path, passphrase: &str) -> Result<GeneratedKey, SigningError> {
    check_new_key_paths(out)?;
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(SigningError::Key(format!(
            "the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters"
        )));
    }
    let public_path = public_key_path(out);
    let mut secret = Zeroizing::new([0u8; 32]);
    getrandom::fill(secret.as_mut()).map_err(|err| {
        SigningError::Key(format!("no randomness from the operating system: {err}"))
    })?;
    let key = LocalKey::from_secret(*secret);
    // PKCS#8 v1 (no public key inside): OpenSSL 3.0 cannot read a v2 OneAsymmetricKey.
    let v1 = KeypairBytes {
        secret_key: *secret,
        public_key: None,
    };
    let private_pem = v1
        .to_pkcs8_encrypted_pem(passphrase.as_bytes(), LineEnding::LF)
        .map_err(|err| SigningError::Key(format!("cannot encrypt the private key: {err}")))?;
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

    const PASSPHRASE: &str = "correct horse battery";

    #[test]
    fn keygen_writes_an_encrypted_key_only_its_owner_can_read_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        let generated = keygen(&path, PASSPHRASE).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let private = fs::read_to_string(&path).unwrap();
        assert!(private.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let public = fs::read_to_string(&generated.public_key).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));

        let loaded = LocalKey::load(&path, Unlock::Passphrase(PASSPHRASE)).unwrap();
        assert_eq!(loaded.info.fingerprint, generated.fingerprint);
        assert_eq!(super::super::SigningKey::unencrypted_reason(&loaded), None);
        let signature = loaded.sign(b"statement");
        assert_eq!(loaded.info.verify(b"statement", &signature), Ok(()));

        let again = keygen(&path, PASSPHRASE).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
        assert_eq!(fs::read_to_string(&path).unwrap(), private);
    }

    #[test]
    fn the_encrypted_key_holds_a_pkcs8_v1_private_key_without_the_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        keygen(&path, PASSPHRASE).unwrap();
        let (_, document) =
            pkcs8::SecretDocument::from_pem(&fs::read_to_string(&path).unwrap()).unwrap();
        let plain = EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
            .unwrap()
            .decrypt(PASSPHRASE)
            .unwrap();
        let info = pkcs8::PrivateKeyInfoRef::try_from(plain.as_bytes()).unwrap();
        assert!(info.public_key.is_none());
    }

    #[test]
    fn a_wrong_passphrase_a_short_one_and_a_missing_reason_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        let short = keygen(&path, "seven77").unwrap_err().to_string();
        assert!(short.contains("at least 8 characters"), "{short}");
        assert!(!path.exists());
        keygen(&path, PASSPHRASE).unwrap();
        let wrong = LocalKey::load(&path, Unlock::Passphrase("incorrect horse"))
            .err()
            .unwrap();
        assert!(matches!(wrong, SigningError::WrongPassphrase(_)), "{wrong}");
        let err = LocalKey::load(&path, Unlock::Unencrypted { reason: "CI" })
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("is encrypted"), "{err}");

        let plain = dir.path().join("plain.key");
        let pem = LocalKey::from_secret([5; 32])
            .signing
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap();
        write_new(&plain, pem.as_bytes(), 0o600).unwrap();
        let err = LocalKey::load(&plain, Unlock::Unencrypted { reason: " " })
            .err()
            .unwrap();
        assert!(matches!(err, SigningError::UnencryptedKey(_)), "{err}");
        let err = LocalKey::load(&plain, Unlock::Passphrase(PASSPHRASE))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("is not encrypted"), "{err}");
        let key = LocalKey::load(
            &plain,
            Unlock::Unencrypted {
                reason: "validation test system",
            },
        )
        .unwrap();
        assert_eq!(
            super::super::SigningKey::unencrypted_reason(&key),
            Some("validation test system")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        keygen(&path, PASSPHRASE).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalKey::load(&path, Unlock::Passphrase(PASSPHRASE))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_public_key_is_not_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qa.key");
        let generated = keygen(&path, PASSPHRASE).unwrap();
        let copy = dir.path().join("copy");
        write_new(&copy, &fs::read(&generated.public_key).unwrap(), 0o600).unwrap();
        let err = LocalKey::load(&copy, Unlock::Unencrypted { reason: "test" })
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not an Ed25519 private key"), "{err}");
    }
}
