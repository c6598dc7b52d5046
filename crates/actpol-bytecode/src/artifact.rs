//! The `.actpolc` file: a header, then the program.
//!
//! ```text
//! offset  size  field
//!      0     8  magic  "ACTPOLC\0"
//!      8     2  format version (little endian)
//!     10     2  reserved, zero
//!     12     8  payload length in bytes (little endian)
//!     20    32  sha256 of the payload
//!     52     …  payload: postcard encoding of `Body`
//! ```
//!
//! Loading checks every field of the header, the checksum, that the payload
//! decodes with no bytes left over, and then [`verify`](crate::verify)s the
//! program. Any single flipped or missing byte is caught by one of them.

use actpol_core::error::ErrorCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::verify::{verify, VerifyError};
use crate::Program;

pub const MAGIC: &[u8; 8] = b"ACTPOLC\0";
pub const FORMAT_VERSION: u16 = 4;
const HEADER_LEN: usize = 52;

/// A compiled policy with what identifies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub policy: String,
    /// sha256 of the policy's sources, in file order.
    pub source_hash: [u8; 32],
    /// The compiler that produced it.
    pub compiler: String,
    pub program: Program,
}

impl Artifact {
    /// `sha256:<hex>`, as decisions report it.
    pub fn hash_text(&self) -> String {
        hash_text(&self.source_hash)
    }

    /// Encodes the artifact. The program should have been verified.
    pub fn encode(&self) -> Result<Vec<u8>, ArtifactError> {
        let payload = postcard::to_allocvec(self).map_err(ArtifactError::Encode)?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&payload));
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Decodes and verifies an artifact.
    pub fn decode(bytes: &[u8]) -> Result<Artifact, ArtifactError> {
        if bytes.len() < HEADER_LEN {
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
        if bytes[10..12] != [0, 0] {
            return Err(ArtifactError::Reserved);
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[12..20]);
        let declared = u64::from_le_bytes(len);
        let payload = &bytes[HEADER_LEN..];
        if declared != payload.len() as u64 {
            return Err(ArtifactError::Length {
                declared,
                found: payload.len() as u64,
            });
        }
        if Sha256::digest(payload).as_slice() != &bytes[20..52] {
            return Err(ArtifactError::Checksum);
        }
        let (artifact, rest): (Artifact, &[u8]) =
            postcard::take_from_bytes(payload).map_err(ArtifactError::Decode)?;
        if !rest.is_empty() {
            return Err(ArtifactError::TrailingBytes(rest.len()));
        }
        verify(&artifact.program)?;
        Ok(artifact)
    }
}

pub fn hash_text(hash: &[u8; 32]) -> String {
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
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
