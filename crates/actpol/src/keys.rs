//! Signing keys for artifacts (Ed25519), and their text form.
//!
//! A key file is text: lines starting with `#` are comments, and one line
//! holds the key, a label and 64 hex digits:
//!
//! ```text
//! # actpol artifact signing key ed25519:5f1c9a0b2d3e4f60: keep it secret
//! actpol-secret-key-ed25519 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
//! ```
//!
//! ```text
//! # actpol artifact verifying key ed25519:5f1c9a0b2d3e4f60
//! actpol-public-key-ed25519 d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
//! ```
//!
//! The secret key is the 32-byte Ed25519 seed; the public key the 32-byte
//! compressed point. A key's id (`ed25519:` and the first 8 bytes of the
//! public key's sha256) names it in `actpol inspect` and in errors.

use actpol_bytecode::artifact::{key_id, Artifact, ArtifactError, SigningKey, VerifyingKey};
use actpol_core::canonical::{hex, hex32};
use actpol_core::error::ErrorCode;

const SECRET_LABEL: &str = "actpol-secret-key-ed25519";
const PUBLIC_LABEL: &str = "actpol-public-key-ed25519";

/// A key that signs artifacts (`actpol compile --sign`).
#[derive(Clone)]
pub struct SecretKey(SigningKey);

/// A key that checks artifact signatures (`--verify-key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself: only the public half's id.
        write!(f, "SecretKey({})", self.public_key().id())
    }
}

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SecretKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Reads a secret key file's text.
    pub fn from_text(text: &str) -> Result<SecretKey, KeyError> {
        Ok(SecretKey(SigningKey::from_bytes(&key_line(
            text,
            SECRET_LABEL,
        )?)))
    }

    /// The key file's text (with a comment naming the key).
    pub fn to_text(&self) -> String {
        format!(
            "# actpol artifact signing key {}: keep it secret\n{SECRET_LABEL} {}\n",
            self.public_key().id(),
            hex(self.0.as_bytes())
        )
    }

    /// The public half, which verifies what this key signs.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `artifact` and returns its bytes (`.actpolc`), signature
    /// included; the artifact remembers the signature.
    pub fn sign(&self, artifact: &mut Artifact) -> Result<Vec<u8>, ArtifactError> {
        artifact.sign(&self.0)
    }
}

impl PublicKey {
    /// Reads a public key file's text.
    pub fn from_text(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = key_line(text, PUBLIC_LABEL)?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::Malformed("the 32 bytes are not an Ed25519 public key".into()))
    }

    /// The key file's text (with a comment naming the key).
    pub fn to_text(&self) -> String {
        format!(
            "# actpol artifact verifying key {}\n{PUBLIC_LABEL} {}\n",
            self.id(),
            hex(self.0.as_bytes())
        )
    }

    /// The key's id: `ed25519:` and 16 hex digits.
    pub fn id(&self) -> String {
        key_id(self.0.as_bytes())
    }

    /// The key as 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex(self.0.as_bytes())
    }

    pub(crate) fn verifying(&self) -> &VerifyingKey {
        &self.0
    }
}

/// The 32 bytes on the one key line labelled `label`.
fn key_line(text: &str, label: &str) -> Result<[u8; 32], KeyError> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(line) = lines.next() else {
        return Err(KeyError::Malformed("the file holds no key line".into()));
    };
    if lines.next().is_some() {
        return Err(KeyError::Malformed(
            "the file holds more than one key line".into(),
        ));
    }
    let Some((found, digits)) = line.split_once(char::is_whitespace) else {
        return Err(KeyError::Malformed(format!(
            "the key line is not `{label} <64 hex digits>`"
        )));
    };
    if found != label {
        let other = if label == SECRET_LABEL {
            PUBLIC_LABEL
        } else {
            SECRET_LABEL
        };
        return Err(KeyError::Malformed(if found == other {
            format!("this is a `{other}`, where a `{label}` is needed")
        } else {
            format!("the key line starts with `{found}`, not `{label}`")
        }));
    }
    hex32(digits.trim()).ok_or_else(|| KeyError::Malformed("the key is not 64 hex digits".into()))
}

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file's text is not a key of the kind needed.
    #[error("not an actpol key file: {0}")]
    Malformed(String),
    /// The operating system gave no random bytes.
    #[error("no random bytes for a new key: {0}")]
    Random(String),
}

impl KeyError {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ArtifactKey
    }
}

impl miette::Diagnostic for KeyError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(KeyError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            KeyError::Malformed(_) => {
                "pass a key file written by `actpol keygen` (`KEY` to sign, `KEY.pub` to verify)"
            }
            KeyError::Random(_) => "try again; the system's random source failed",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_from_their_text() {
        let secret = SecretKey::generate().unwrap();
        let again = SecretKey::from_text(&secret.to_text()).unwrap();
        assert_eq!(again.public_key(), secret.public_key());
        let public = PublicKey::from_text(&secret.public_key().to_text()).unwrap();
        assert_eq!(public, secret.public_key());
        assert!(public.id().starts_with("ed25519:") && public.id().len() == 24);
    }

    #[test]
    fn a_key_of_the_wrong_kind_is_named() {
        let secret = SecretKey::generate().unwrap();
        let err = PublicKey::from_text(&secret.to_text()).unwrap_err();
        assert!(err.to_string().contains(SECRET_LABEL), "{err}");
        let err = SecretKey::from_text(&secret.public_key().to_text()).unwrap_err();
        assert!(err.to_string().contains(PUBLIC_LABEL), "{err}");
        for text in [
            "",
            "# only a comment\n",
            "actpol-public-key-ed25519 zz",
            "a\nb",
        ] {
            assert!(PublicKey::from_text(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let secret = SecretKey::generate().unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains(&hex(secret.0.as_bytes())), "{shown}");
    }
}
