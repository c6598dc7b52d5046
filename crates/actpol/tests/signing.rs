//! Signed artifacts: a policy loaded with a required key is the one its
//! signer compiled, or it does not load. The forgeries here are the ones
//! a checksum alone cannot catch: an artifact compiled from a weakened
//! policy with the original's source hash written in and the checksum
//! recomputed.

use actpol::advanced::{Artifact, MAGIC};
use actpol::{
    ArtifactError, CompileFailure, ErrorCode, LoadOptions, MemoryState, Policy, SecretKey,
};
use sha2::{Digest, Sha256};

const HEADER_LEN: usize = 52;

const ORIGINAL: &str = r#"
policy payouts { default deny "no rule matched" }
system bank
entity Account { name: String }
action bank.pay { system bank object Account params { amount: Int } reversible }
agent bot { owner "o@acme.example" workflow w }
rule small on bank.pay { when params.amount <= 100 allow }
"#;

/// The same policy with its cap raised a thousandfold.
fn weakened() -> String {
    ORIGINAL.replace("<= 100", "<= 100000")
}

fn compile(text: &str) -> Artifact {
    actpol::compile_sources([("payouts.actpol", text)]).expect("the policy compiles")
}

const BIG_PAYOUT: &str = r#"{"agent":{"id":"bot","owner":"o@acme.example","workflow":"w"},
  "action":{"name":"bank.pay","params":{"amount":5000}},
  "object":{"type":"Account","id":"a-1","attrs":{"name":"acme"}},
  "time":"2026-11-25T14:00:00Z"}"#;

fn required(key: &SecretKey) -> LoadOptions {
    LoadOptions::new().verify_key(key.public_key())
}

/// The forgery: the weakened policy's artifact, claiming the original's
/// source hash, with a checksum that matches.
fn forged(original: &Artifact) -> Vec<u8> {
    let mut forged = compile(&weakened());
    forged.source_hash = original.source_hash;
    forged.encode().expect("encodes")
}

#[test]
fn a_signed_artifact_loads_with_its_key() {
    let key = SecretKey::generate().unwrap();
    let mut artifact = compile(ORIGINAL);
    let bytes = key.sign(&mut artifact).expect("signs");
    let policy = Policy::load_with(&bytes, &required(&key)).expect("loads");
    let signature = policy.artifact().signature.expect("remembers its signer");
    assert_eq!(signature.key_id(), key.public_key().id());
    let d = policy.decide(BIG_PAYOUT, &MemoryState::default());
    assert_eq!(d.decision, actpol::Level::Deny, "{d:?}");
    // Signed or not, an artifact loads when no key is required.
    assert!(Policy::load(&bytes).is_ok());
}

#[test]
fn the_forged_artifact_is_refused_when_a_key_is_required() {
    let key = SecretKey::generate().unwrap();
    let mut original = compile(ORIGINAL);
    key.sign(&mut original).expect("signs");
    let bytes = forged(&original);

    // Without a key the forgery cannot be told from the original by its
    // hash, and it allows what the original denies: what a key is for.
    let unchecked = Policy::load(&bytes).expect("a well-formed artifact");
    assert_eq!(unchecked.hash(), original.hash_text());
    let d = unchecked.decide(BIG_PAYOUT, &MemoryState::default());
    assert_eq!(d.decision, actpol::Level::Allow);

    let err = Policy::load_with(&bytes, &required(&key)).expect_err("an unsigned forgery");
    assert_eq!(err, ArtifactError::Unsigned);
    assert_eq!(err.code(), ErrorCode::ArtifactUnsigned);
}

#[test]
fn a_signature_moved_onto_a_forged_payload_is_refused() {
    let key = SecretKey::generate().unwrap();
    let mut original = compile(ORIGINAL);
    let signed = key.sign(&mut original).expect("signs");
    let trailer = &signed[signed.len() - 96..];
    // The forged payload in a header that says "signed", with the
    // original's signature block after it, length and checksum true.
    let forged = forged(&original);
    let payload = &forged[HEADER_LEN..];
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&forged[8..10]);
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(payload));
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(trailer);
    for options in [LoadOptions::new(), required(&key)] {
        let err = Policy::load_with(&bytes, &options).expect_err("a moved signature");
        assert!(matches!(err, ArtifactError::BadSignature { .. }), "{err:?}");
        assert_eq!(err.code(), ErrorCode::ArtifactBadSignature);
    }
}

#[test]
fn another_keys_signature_is_refused() {
    let signer = SecretKey::generate().unwrap();
    let other = SecretKey::generate().unwrap();
    let mut artifact = compile(ORIGINAL);
    let bytes = signer.sign(&mut artifact).expect("signs");
    let err = Policy::load_with(&bytes, &required(&other)).expect_err("the wrong signer");
    assert_eq!(err.code(), ErrorCode::ArtifactBadSignature);
    assert!(err.to_string().contains(&signer.public_key().id()), "{err}");
    assert!(err.to_string().contains(&other.public_key().id()), "{err}");
}

#[test]
fn every_flipped_byte_of_a_signed_artifact_is_refused() {
    let key = SecretKey::generate().unwrap();
    let mut artifact = compile(ORIGINAL);
    let bytes = key.sign(&mut artifact).expect("signs");
    let options = required(&key);
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        assert!(
            Policy::load_with(&damaged, &options).is_err(),
            "byte {at} of {} flipped and still loaded",
            bytes.len()
        );
    }
    // Cut off, the signature block is missing and the length says so.
    let err = Policy::load_with(&bytes[..bytes.len() - 96], &options).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ArtifactLength);
}

#[test]
fn sources_are_refused_when_a_signature_is_required() {
    let key = SecretKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("payouts.actpol"), ORIGINAL).unwrap();
    let err = Policy::from_paths_with(&[dir.path()], &required(&key)).unwrap_err();
    assert!(matches!(err, CompileFailure::Unsigned), "{err:?}");
    // Compiled and signed, the same policy loads from its file.
    let mut artifact = compile(ORIGINAL);
    let file = dir.path().join("payouts.actpolc");
    std::fs::write(&file, key.sign(&mut artifact).unwrap()).unwrap();
    let policy = Policy::from_paths_with(&[&file], &required(&key)).expect("loads");
    assert_eq!(policy.name(), "payouts");
}

#[test]
fn a_short_file_named_as_an_artifact_is_not_read_as_policy_text() {
    let dir = tempfile::tempdir().unwrap();
    for (bytes, code) in [
        (&b""[..], ErrorCode::ArtifactTruncated),
        (b"ACTPO", ErrorCode::ArtifactTruncated),
        (b"x", ErrorCode::ArtifactMagic),
        (b"policy", ErrorCode::ArtifactMagic),
    ] {
        let file = dir.path().join("short.actpolc");
        std::fs::write(&file, bytes).unwrap();
        match Policy::from_paths(&[&file]) {
            Err(CompileFailure::Artifact(e)) => assert_eq!(e.code(), code, "{bytes:?}"),
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
}
