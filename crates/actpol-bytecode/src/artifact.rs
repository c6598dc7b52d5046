//! The `.actpolc` file: a header, the program, and optionally a signature.
//!
//! ```text
//! offset  size  field
//!      0     8  magic  "ACTPOLC\0"
//!      8     2  format version (little endian)
//!     10     2  flags (little endian): bit 0 set when signed; others zero
//!     12     8  payload length in bytes (little endian)
//!     20    32  sha256 of the payload
//!     52     …  payload: postcard encoding of `Artifact`
//!  52+len   32  signed only: the signer's Ed25519 public key
//!  84+len   64  signed only: its Ed25519 signature over bytes 0 .. 52+len
//! ```
//!
//! Loading checks every field of the header, the signature (before reading
//! the payload, when one is required), the checksum, that the payload
//! decodes with no bytes left over, and then [`verify`](crate::verify)s the
//! program. Any single flipped or missing byte is caught by one of them.
//! The checksum only catches damage; the signature covers the header and
//! the whole payload (the source hash, the compiler, the program), so an
//! artifact changed by anyone without the signing key is refused when a
//! key is required.

use actpol_core::canonical::hex;
use actpol_core::error::ErrorCode;
use ed25519_dalek::Signer as _;
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::verify::{verify, VerifyError};
use crate::Program;

pub const MAGIC: &[u8; 8] = b"ACTPOLC\0";
pub const FORMAT_VERSION: u16 = 9;
const HEADER_LEN: usize = 52;
/// The flag bit of a signed artifact.
const SIGNED: u16 = 1;
/// A signature block: the public key, then the signature.
const SIGNATURE_LEN: usize = 32 + 64;

/// A compiled policy with what identifies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub policy: String,
    /// sha256 of the policy's sources, in file order.
    pub source_hash: [u8; 32],
    /// The compiler that produced it.
    pub compiler: String,
    /// When it was compiled, in milliseconds since the epoch.
    pub compiled_at: i64,
    pub program: Program,
    /// Who signed it, when it was read from signed bytes or signed; not
    /// part of the payload.
    #[serde(skip)]
    pub signature: Option<Signature>,
}

/// An Ed25519 signature over an artifact's header and payload, with the
/// key that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    pub public_key: [u8; 32],
    pub signature: [u8; 64],
}

impl Signature {
    /// The signer's key id ([`key_id`]).
    pub fn key_id(&self) -> String {
        key_id(&self.public_key)
    }
}

/// A public key's short, stable name: `ed25519:` and the first 8 bytes of
/// the key's sha256, in hex.
pub fn key_id(public_key: &[u8; 32]) -> String {
    let digest = Sha256::digest(public_key);
    format!("ed25519:{}", hex(&digest[..8]))
}

impl Artifact {
    /// `sha256:<hex>`, as decisions report it.
    pub fn hash_text(&self) -> String {
        hash_text(&self.source_hash)
    }

    /// Encodes the artifact, with the signature it was read with if any.
    /// The program should have been verified.
    pub fn encode(&self) -> Result<Vec<u8>, ArtifactError> {
        let mut out = self.signed_bytes(self.signature.is_some())?;
        if let Some(signature) = &self.signature {
            out.extend_from_slice(&signature.public_key);
            out.extend_from_slice(&signature.signature);
        }
        Ok(out)
    }

    /// Signs the artifact with `key` and encodes it.
    pub fn sign(&mut self, key: &SigningKey) -> Result<Vec<u8>, ArtifactError> {
        self.signature = None;
        let mut out = self.signed_bytes(true)?;
        let signature = Signature {
            public_key: key.verifying_key().to_bytes(),
            signature: key.sign(&out).to_bytes(),
        };
        out.extend_from_slice(&signature.public_key);
        out.extend_from_slice(&signature.signature);
        self.signature = Some(signature);
        Ok(out)
    }

    /// The header and payload: what a signature covers.
    fn signed_bytes(&self, signed: bool) -> Result<Vec<u8>, ArtifactError> {
        let payload = postcard::to_allocvec(self).map_err(ArtifactError::Encode)?;
        let flags: u16 = if signed { SIGNED } else { 0 };
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + SIGNATURE_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&payload));
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Decodes and verifies an artifact, signed or not (a signature it
    /// carries must still be valid).
    pub fn decode(bytes: &[u8]) -> Result<Artifact, ArtifactError> {
        Artifact::decode_with(bytes, None)
    }

    /// Decodes and verifies an artifact; with `required`, only one signed
    /// by that key, checked before the payload is read.
    pub fn decode_with(
        bytes: &[u8],
        required: Option<&VerifyingKey>,
    ) -> Result<Artifact, ArtifactError> {
        let framed = Framed::read(bytes)?;
        let signature = framed.check_signature(required)?;
        if Sha256::digest(framed.payload).as_slice() != framed.checksum {
            return Err(ArtifactError::Checksum);
        }
        let (mut artifact, rest): (Artifact, &[u8]) =
            postcard::take_from_bytes(framed.payload).map_err(ArtifactError::Decode)?;
        if !rest.is_empty() {
            return Err(ArtifactError::TrailingBytes(rest.len()));
        }
        verify(&artifact.program)?;
        artifact.program.shrink_to_fit();
        artifact.signature = signature;
        Ok(artifact)
    }
}

/// An artifact's bytes split by its header, nothing in them read yet.
struct Framed<'a> {
    /// Header and payload: what a signature covers.
    signed: &'a [u8],
    checksum: &'a [u8],
    payload: &'a [u8],
    /// The signature block, when the header says there is one.
    signature: Option<&'a [u8]>,
}

impl<'a> Framed<'a> {
    fn read(bytes: &'a [u8]) -> Result<Framed<'a>, ArtifactError> {
        if bytes.len() < HEADER_LEN {
            // A file that does not even start like an artifact is not one.
            if !MAGIC.starts_with(&bytes[..bytes.len().min(MAGIC.len())]) {
                return Err(ArtifactError::Magic);
            }
            return Err(ArtifactError::Truncated {
                len: bytes.len(),
                need: HEADER_LEN,
            });
        }
        if &bytes[..8] != MAGIC {
            return Err(ArtifactError::Magic);
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != FORMAT_VERSION {
            return Err(ArtifactError::Version { found: version });
        }
        let flags = u16::from_le_bytes([bytes[10], bytes[11]]);
        if flags & !SIGNED != 0 {
            return Err(ArtifactError::Reserved);
        }
        let trailer = if flags & SIGNED != 0 {
            SIGNATURE_LEN
        } else {
            0
        };
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[12..20]);
        let declared = u64::from_le_bytes(len);
        let found = (bytes.len() - HEADER_LEN).saturating_sub(trailer) as u64;
        if declared != found || bytes.len() < HEADER_LEN + trailer {
            return Err(ArtifactError::Length { declared, found });
        }
        let end = bytes.len() - trailer;
        Ok(Framed {
            signed: &bytes[..end],
            checksum: &bytes[20..HEADER_LEN],
            payload: &bytes[HEADER_LEN..end],
            signature: (trailer > 0).then(|| &bytes[end..]),
        })
    }

    /// The signature, checked: valid for the key it names, and that key the
    /// required one when one is required.
    fn check_signature(
        &self,
        required: Option<&VerifyingKey>,
    ) -> Result<Option<Signature>, ArtifactError> {
        let Some(block) = self.signature else {
            return match required {
                Some(_) => Err(ArtifactError::Unsigned),
                None => Ok(None),
            };
        };
        let mut signature = Signature {
            public_key: [0; 32],
            signature: [0; 64],
        };
        signature.public_key.copy_from_slice(&block[..32]);
        signature.signature.copy_from_slice(&block[32..]);
        if let Some(key) = required {
            if key.to_bytes() != signature.public_key {
                return Err(ArtifactError::WrongSigner {
                    signer: signature.key_id(),
                    required: key_id(&key.to_bytes()),
                });
            }
        }
        let valid = VerifyingKey::from_bytes(&signature.public_key).is_ok_and(|key| {
            key.verify_strict(
                self.signed,
                &ed25519_dalek::Signature::from_bytes(&signature.signature),
            )
            .is_ok()
        });
        if !valid {
            return Err(ArtifactError::BadSignature {
                signer: signature.key_id(),
            });
        }
        Ok(Some(signature))
    }
}

pub fn hash_text(hash: &[u8; 32]) -> String {
    format!("sha256:{}", hex(hash))
}

/// Why an artifact does not load (or cannot be written).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArtifactError {
    /// Shorter than its header.
    #[error("artifact is {len} bytes, shorter than its {need}-byte header")]
    Truncated {
        /// The artifact's length.
        len: usize,
        /// The header's length.
        need: usize,
    },

    /// Not an actpol artifact.
    #[error("not an actpol artifact: the magic bytes are wrong")]
    Magic,

    /// Another format version.
    #[error("artifact format version {found} is not supported (this build reads version {FORMAT_VERSION})")]
    Version {
        /// The version the header names.
        found: u16,
    },

    /// Reserved header bytes are set.
    #[error("artifact header has non-zero reserved bytes")]
    Reserved,

    /// The payload's length is not the header's.
    #[error("artifact says its payload is {declared} bytes, but {found} follow the header")]
    Length {
        /// The length the header declares.
        declared: u64,
        /// The bytes that follow the header.
        found: u64,
    },

    /// The checksum does not match.
    #[error("artifact checksum does not match its contents")]
    Checksum,

    /// The payload does not decode.
    #[error("artifact payload cannot be read: {0}")]
    Decode(#[source] postcard::Error),

    /// The payload decodes with bytes left over.
    #[error("artifact payload cannot be read: {0} bytes left over")]
    TrailingBytes(usize),

    /// The artifact cannot be encoded.
    #[error("artifact cannot be written: {0}")]
    Encode(#[source] postcard::Error),

    /// The program fails verification.
    #[error(transparent)]
    Verify(#[from] VerifyError),

    /// A signature is required and the artifact carries none.
    #[error("the artifact is not signed, and a signature is required")]
    Unsigned,

    /// The signature does not match the artifact's bytes.
    #[error("the artifact's signature (by `{signer}`) does not match its contents")]
    BadSignature {
        /// The key id the signature names.
        signer: String,
    },

    /// Signed, but not by the key required.
    #[error("the artifact is signed by `{signer}`, not by the required key `{required}`")]
    WrongSigner {
        /// The key id of the key that signed it.
        signer: String,
        /// The key id of the key required.
        required: String,
    },
}

impl ArtifactError {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ArtifactError::Truncated { .. } => ErrorCode::ArtifactTruncated,
            ArtifactError::Magic => ErrorCode::ArtifactMagic,
            ArtifactError::Version { .. } => ErrorCode::ArtifactVersion,
            ArtifactError::Reserved => ErrorCode::ArtifactReserved,
            ArtifactError::Length { .. } => ErrorCode::ArtifactLength,
            ArtifactError::Checksum => ErrorCode::ArtifactChecksum,
            ArtifactError::Decode(_) | ArtifactError::TrailingBytes(_) => ErrorCode::ArtifactDecode,
            ArtifactError::Encode(_) => ErrorCode::ArtifactEncode,
            ArtifactError::Verify(e) => e.code(),
            ArtifactError::Unsigned => ErrorCode::ArtifactUnsigned,
            ArtifactError::BadSignature { .. } | ArtifactError::WrongSigner { .. } => {
                ErrorCode::ArtifactBadSignature
            }
        }
    }

    fn help(&self) -> &'static str {
        match self {
            ArtifactError::Truncated { .. } => "the file was cut short: compile the policy again",
            ArtifactError::Magic => "pass a file written by `actpol compile`",
            ArtifactError::Version { .. } => "compile the policy again with this version of actpol",
            ArtifactError::Reserved | ArtifactError::Checksum => {
                "the file is damaged: compile the policy again"
            }
            ArtifactError::Length { .. } => {
                "the file was cut short or appended to: compile the policy again"
            }
            ArtifactError::Decode(_) | ArtifactError::TrailingBytes(_) => {
                "the file is damaged or from another version: compile the policy again"
            }
            ArtifactError::Encode(_) => "report this as a bug",
            ArtifactError::Verify(_) => VerifyError::HELP,
            ArtifactError::Unsigned => {
                "sign the artifact with `actpol compile --sign KEY`, or load it without `--verify-key`"
            }
            ArtifactError::BadSignature { .. } => {
                "the artifact was changed after it was signed: compile and sign it again"
            }
            ArtifactError::WrongSigner { .. } => {
                "pass the public key of the key that signed it, or sign it with the required key"
            }
        }
    }
}

impl miette::Diagnostic for ArtifactError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(ArtifactError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(ArtifactError::help(self)))
    }
}
