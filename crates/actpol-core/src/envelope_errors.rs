//! Why JSON bytes did not read as an [`Envelope`], worded for the agent
//! that sent them.
//!
//! serde reports a missing or unknown field only as text. Rather than parse
//! that text, the error is classified from the path serde stopped at and
//! the document itself: a path that ends in a key its object's contract
//! does not have names an unknown field; a path that ends at one of the
//! contract's objects, which lacks a required field, names a missing one
//! (the first in declaration order, as serde reports it); anything else is
//! a value of the wrong type.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_path_to_error::Segment;

use crate::envelope::EnvelopeError;
use crate::error::ErrorCode;

/// One field of an envelope object: its name and whether it is required.
type Field = (&'static str, bool);

/// The fields of every object of the envelope contract, by path, in
/// declaration order (a test holds these to the serde structs).
/// `[]` in a path stands for any element of an array.
pub(crate) const CONTRACT: [(&[&str], &[Field]); 8] = [
    (
        &[],
        &[
            ("id", false),
            ("agent", true),
            ("action", true),
            ("object", true),
            ("intent", false),
            ("rollback", false),
            ("plan", false),
            ("time", true),
            ("context", false),
            ("approval", false),
            ("entities", false),
        ],
    ),
    (
        &["agent"],
        &[("id", true), ("owner", true), ("workflow", true)],
    ),
    (&["action"], &[("name", true), ("params", false)]),
    (
        &["object"],
        &[("type", true), ("id", true), ("attrs", false)],
    ),
    (&["intent"], &[("goal", true), ("confidence", true)]),
    (
        &["rollback"],
        &[("kind", true), ("action", false), ("within", false)],
    ),
    (&["plan"], &[("id", true), ("step", true)]),
    (
        &["entities", "[]"],
        &[("type", true), ("id", true), ("attrs", false)],
    ),
];

/// Where in the document serde stopped: object keys, and array elements
/// by index.
#[derive(Clone, Copy)]
enum Step<'k> {
    Key(&'k str),
    Element(usize),
}

impl Step<'_> {
    /// Whether the contract's path segment `pattern` names this step.
    fn is(&self, pattern: &str) -> bool {
        match self {
            Step::Key(key) => *key == pattern,
            Step::Element(_) => pattern == "[]",
        }
    }
}

/// The JSON path serde stopped at: `$`, `$.agent.id`, `$.context.tags[2]`.
pub(crate) fn json_path(path: &serde_path_to_error::Path) -> String {
    let serde_path = path.to_string();
    if serde_path == "." || serde_path.is_empty() {
        "$".to_string()
    } else {
        format!("$.{serde_path}")
    }
}

/// The error for `bytes`, which serde refused with `err` at `path`.
pub(crate) fn classify(
    bytes: &[u8],
    path: &serde_path_to_error::Path,
    err: serde_json::Error,
) -> EnvelopeError {
    use serde_json::error::Category;
    let at = json_path(path);
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => malformed(at, err),
        Category::Data => {
            let keys: Vec<Step<'_>> = path
                .iter()
                .map(|s| match s {
                    Segment::Map { key } => Step::Key(key.as_str()),
                    Segment::Seq { index } => Step::Element(*index),
                    _ => Step::Key(""),
                })
                .collect();
            match field_problem(bytes, &keys) {
                Some(Problem::Unknown(field)) => EnvelopeError::new(
                    ErrorCode::EnvelopeUnknownField,
                    at,
                    format!("unknown field `{field}`"),
                )
                .help("envelope field names are fixed; put extra data under `context`")
                .caused_by(err),
                Some(Problem::Missing(field)) => EnvelopeError::new(
                    ErrorCode::EnvelopeMissingField,
                    format!("{at}.{field}"),
                    format!("missing field `{field}`"),
                )
                .help("see \"The envelope\" in docs/language.md for the fields an envelope has")
                .caused_by(err),
                None => {
                    let message = in_envelope_terms(&without_position(&err));
                    EnvelopeError::new(ErrorCode::EnvelopeWrongType, at, message)
                        .help(
                            "see \"The envelope\" in docs/language.md for what each field holds; \
                             `agent`, `action`, `object`, `intent`, `rollback`, `plan` and each \
                             related entity are objects",
                        )
                        .caused_by(err)
                }
            }
        }
    }
}

/// Bytes that are not one JSON object.
pub(crate) fn malformed(at: String, err: serde_json::Error) -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::EnvelopeMalformedJson,
        at,
        format!("malformed JSON: {err}"),
    )
    .help("send one JSON object per envelope")
    .caused_by(err)
}

/// serde_json's message without the `at line L column C` it appends: the
/// JSON path says where.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// serde's words for a type, in the envelope's: the frame's objects are
/// Rust structs inside (`expected struct AgentInfo`), an object outside.
fn in_envelope_terms(message: &str) -> String {
    match message.split_once("expected struct ") {
        Some((before, after)) => {
            let rest = after.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
            format!("{before}expected an object{rest}")
        }
        None => message.to_string(),
    }
}

enum Problem<'k> {
    Unknown(&'k str),
    Missing(&'static str),
}

/// The fields the contract gives the object at `keys`, if it is one.
fn contract(keys: &[Step<'_>]) -> Option<&'static [Field]> {
    CONTRACT
        .iter()
        .find(|(path, _)| path.len() == keys.len() && keys.iter().zip(*path).all(|(k, p)| k.is(p)))
        .map(|(_, fields)| *fields)
}

/// Which field is unknown (the path's last key) or missing (from the
/// object the path ends at), if either.
fn field_problem<'k>(bytes: &[u8], keys: &[Step<'k>]) -> Option<Problem<'k>> {
    if let Some((Step::Key(last), parent)) = keys.split_last() {
        if contract(parent).is_some_and(|fields| !fields.iter().any(|(name, _)| name == last)) {
            return Some(Problem::Unknown(last));
        }
    }
    let fields = contract(keys)?;
    let present = object_at(bytes, keys)?;
    fields
        .iter()
        .find(|(name, required)| *required && !present.iter().any(|k| k == name))
        .map(|(name, _)| Problem::Missing(name))
}

/// The keys, in document order, of the object at `keys` under the root.
fn object_at(bytes: &[u8], keys: &[Step<'_>]) -> Option<Vec<String>> {
    let mut current: Cow<'_, str> = Cow::Borrowed(std::str::from_utf8(bytes).ok()?);
    for step in keys {
        let value = match step {
            Step::Key(key) => {
                let members: Members = serde_json::from_str(&current).ok()?;
                members.0.into_iter().rev().find(|(k, _)| k == key)?.1
            }
            Step::Element(at) => {
                let items: Vec<Box<RawValue>> = serde_json::from_str(&current).ok()?;
                items.into_iter().nth(*at)?
            }
        };
        current = Cow::Owned(value.get().to_string());
    }
    let members: Members = serde_json::from_str(&current).ok()?;
    Some(members.0.into_iter().map(|(k, _)| k).collect())
}

/// A JSON object's members in document order, values left as text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl EnvelopeError {
    /// Keeps the JSON reader's error as this error's source.
    pub(crate) fn caused_by(mut self, err: serde_json::Error) -> Self {
        self.set_source(Arc::new(err));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Envelope;

    /// An envelope with every optional part present, as JSON.
    const FULL: &str = r#"{"id":"r","agent":{"id":"a","owner":"o","workflow":"w"},
        "action":{"name":"n","params":{}},"object":{"type":"T","id":"i","attrs":{}},
        "intent":{"goal":"g","confidence":0.5},"rollback":{"kind":"k","action":"x","within":"1m"},
        "plan":{"id":"p","step":1},"time":"2026-11-25T14:00:00Z","context":{},"approval":"apr-1",
        "entities":[{"type":"T","id":"j","attrs":{}}]}"#;

    #[test]
    fn the_contract_table_matches_the_serde_structs() {
        let env = Envelope::from_json(FULL.as_bytes()).expect("the full envelope reads");
        let json = serde_json::to_value(&env).unwrap();
        for (path, fields) in CONTRACT {
            let mut node = &json;
            for key in path {
                node = if *key == "[]" { &node[0] } else { &node[key] };
            }
            let written: Vec<&str> = node
                .as_object()
                .unwrap_or_else(|| panic!("{path:?} is an object"))
                .keys()
                .map(String::as_str)
                .collect();
            let mut declared: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
            let mut written_sorted = written.clone();
            written_sorted.sort_unstable();
            declared.sort_unstable();
            assert_eq!(declared, written_sorted, "fields of {path:?}");
            // A required field left out is what serde says is missing.
            for (name, required) in fields.iter() {
                let mut broken = json.clone();
                let mut node = &mut broken;
                for key in path {
                    node = if *key == "[]" {
                        &mut node[0]
                    } else {
                        &mut node[key]
                    };
                }
                node.as_object_mut().unwrap().remove(*name);
                let err = Envelope::from_json(broken.to_string().as_bytes());
                assert_eq!(err.is_err(), *required, "{path:?}.{name}");
                if let Err(err) = err {
                    assert_eq!(err.code, ErrorCode::EnvelopeMissingField, "{err:?}");
                    assert!(err.path.ends_with(&format!(".{name}")), "{err:?}");
                }
            }
        }
    }

    #[test]
    fn the_first_unknown_key_in_document_order_is_named() {
        use std::error::Error as _;
        let text = FULL.replacen(r#""owner":"o""#, r#""zeta":1,"owner":"o","alpha":2"#, 1);
        let err = Envelope::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeUnknownField);
        assert_eq!(err.path, "$.agent.zeta");
        assert!(err.source().is_some(), "serde's error is kept");
    }

    #[test]
    fn a_key_with_a_backtick_is_named_whole() {
        let text = FULL.replacen(r#""time":"#, r#""ti`me":1,"time":"#, 1);
        let err = Envelope::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeUnknownField);
        assert_eq!(err.path, "$.ti`me");
    }

    #[test]
    fn wrong_types_keep_serdes_words_and_cause() {
        use std::error::Error as _;
        let text = FULL.replacen(r#""step":1"#, r#""step":"one""#, 1);
        let err = Envelope::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeWrongType);
        assert_eq!(err.path, "$.plan.step");
        assert_eq!(err.message, "invalid type: string \"one\", expected i64");
        assert!(err.source().is_some());

        let err = Envelope::from_json(b"{\"agent\": ").unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeMalformedJson);
        assert!(err.source().is_some());
    }
}
