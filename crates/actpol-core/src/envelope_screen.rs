//! The screen every envelope passes before it is bound: limits on its size
//! and shape ([`EnvelopeLimits`]), no key twice in one object, and no
//! control character in a string.
//!
//! JSON bytes are screened in one pass that builds nothing: strings are
//! borrowed from the text where they hold no escape, each object keeps only
//! its own keys (to find a duplicate) while it is read, and the JSON path
//! of the offending value is built only when there is an error. So a
//! screened envelope costs memory bounded by a small multiple of its size,
//! and what the screen refuses costs no more than reading it once. An
//! [`Envelope`] built in Rust is screened by walking its values (no key can
//! be written twice in a map).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

use crate::envelope::{Envelope, EnvelopeError, ObjectInfo};
use crate::error::ErrorCode;

/// How large and how deep an envelope may be. Each limit is checked before
/// anything is bound; an envelope past one is refused with the limit's code
/// and the JSON path of what passed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvelopeLimits {
    /// The most bytes of JSON one envelope may take (default 1 MiB).
    pub max_bytes: usize,
    /// The most bytes one string (a key or a value, unescaped) may hold
    /// (default 64 KiB).
    pub max_string: usize,
    /// The most elements of one array (default 1,024). A list or set a
    /// policy reads is held to [`MAX_ELEMENTS`](crate::envelope::MAX_ELEMENTS)
    /// whatever this says: the compiler bounds quantifiers by it.
    pub max_array: usize,
    /// How deeply objects and arrays may nest, the envelope itself being
    /// depth 1 (default 32).
    pub max_depth: usize,
    /// The most keys of one object (default 1,024).
    pub max_keys: usize,
}

impl EnvelopeLimits {
    /// The defaults: 1 MiB, 64 KiB strings, 1,024 elements, depth 32,
    /// 1,024 keys per object.
    pub const DEFAULT: EnvelopeLimits = EnvelopeLimits {
        max_bytes: 1 << 20,
        max_string: 64 << 10,
        max_array: crate::envelope::MAX_ELEMENTS,
        max_depth: 32,
        max_keys: 1024,
    };
}

impl Default for EnvelopeLimits {
    fn default() -> Self {
        EnvelopeLimits::DEFAULT
    }
}

/// The one field whose text is free prose, where a tab, a line feed and a
/// carriage return are allowed: the agent's stated goal. Every other string
/// (ids, names, keys, parameter, attribute and context values) is refused
/// any control character.
pub const FREE_TEXT: &str = "$.intent.goal";

/// Screens JSON bytes before they are bound.
pub fn screen_json(bytes: &[u8], limits: &EnvelopeLimits) -> Result<(), EnvelopeError> {
    if bytes.len() > limits.max_bytes {
        return Err(EnvelopeError::too_large(bytes.len(), limits));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(EnvelopeError::new(
            ErrorCode::EnvelopeMalformedJson,
            "$",
            "the envelope is empty",
        )
        .help("send one JSON object per envelope (in a batch, one per line)"));
    }
    let found = RefCell::new(None);
    let screen = Screen {
        limits,
        found: &found,
        at: &At::Root,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // JSON that does not read is left to the readers, which word the error
    // with its path; the screen only refuses what reads.
    let _ = screen.deserialize(&mut de);
    match found.into_inner() {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Screens an envelope built in Rust: every string, and the parameters,
/// attributes and context as JSON values.
pub fn screen_envelope(env: &Envelope, limits: &EnvelopeLimits) -> Result<(), EnvelopeError> {
    let check = |path: &str, text: &str| {
        check_string(text, limits, &|| path.to_string(), path == FREE_TEXT)
    };
    let strings = [
        ("$.id", env.id.as_deref()),
        ("$.agent.id", Some(env.agent.id.as_str())),
        ("$.agent.owner", Some(env.agent.owner.as_str())),
        ("$.agent.workflow", Some(env.agent.workflow.as_str())),
        ("$.action.name", Some(env.action.name.as_str())),
        ("$.object.type", Some(env.object.ty.as_str())),
        ("$.object.id", Some(env.object.id.as_str())),
        (
            "$.intent.goal",
            env.intent.as_ref().map(|i| i.goal.as_str()),
        ),
        (
            "$.rollback.kind",
            env.rollback.as_ref().map(|r| r.kind.as_str()),
        ),
        (
            "$.rollback.action",
            env.rollback.as_ref().and_then(|r| r.action.as_deref()),
        ),
        (
            "$.rollback.within",
            env.rollback.as_ref().and_then(|r| r.within.as_deref()),
        ),
        ("$.plan.id", env.plan.as_ref().map(|p| p.id.as_str())),
        ("$.time", Some(env.time.as_str())),
        ("$.approval", env.approval.as_deref()),
    ];
    for (path, text) in strings {
        if let Some(text) = text {
            check(path, text)?;
        }
    }
    let objects = [
        ("$.action.params", Some(&env.action.params)),
        ("$.object.attrs", Some(&env.object.attrs)),
        ("$.context", env.context.as_ref()),
    ];
    for (path, object) in objects {
        if let Some(object) = object {
            // The object sits at depth 3 at most (`$.action.params`).
            let depth = path.matches('.').count() + 1;
            screen_object(object, limits, depth, &|| path.to_string())?;
        }
    }
    if let Some(entities) = &env.entities {
        screen_entities(entities, limits)?;
    }
    Ok(())
}

/// The related entities: as many as an array may hold, each one's type,
/// id and attributes as the object's.
fn screen_entities(entities: &[ObjectInfo], limits: &EnvelopeLimits) -> Result<(), EnvelopeError> {
    if entities.len() > limits.max_array {
        return Err(too_many_elements(
            "$.entities".into(),
            entities.len(),
            limits,
        ));
    }
    for (i, entity) in entities.iter().enumerate() {
        let at = |field: &str| format!("$.entities[{i}].{field}");
        check_string(&entity.ty, limits, &|| at("type"), false)?;
        check_string(&entity.id, limits, &|| at("id"), false)?;
        // `$.entities[i].attrs` sits at depth 4.
        screen_object(&entity.attrs, limits, 4, &|| at("attrs"))?;
    }
    Ok(())
}

fn screen_object(
    object: &Map<String, Json>,
    limits: &EnvelopeLimits,
    depth: usize,
    path: &dyn Fn() -> String,
) -> Result<(), EnvelopeError> {
    if depth > limits.max_depth {
        return Err(too_deep(path(), limits));
    }
    if object.len() > limits.max_keys {
        return Err(too_many_keys(path(), object.len(), limits));
    }
    for (key, value) in object {
        let at = || format!("{}.{key}", path());
        check_string(key, limits, &at, false)?;
        screen_value(value, limits, depth + 1, &at)?;
    }
    Ok(())
}

fn screen_value(
    value: &Json,
    limits: &EnvelopeLimits,
    depth: usize,
    path: &dyn Fn() -> String,
) -> Result<(), EnvelopeError> {
    match value {
        Json::String(text) => check_string(text, limits, path, false),
        Json::Object(object) => screen_object(object, limits, depth, path),
        Json::Array(items) => {
            if depth > limits.max_depth {
                return Err(too_deep(path(), limits));
            }
            if items.len() > limits.max_array {
                return Err(too_many_elements(path(), items.len(), limits));
            }
            for (i, item) in items.iter().enumerate() {
                screen_value(item, limits, depth + 1, &|| format!("{}[{i}]", path()))?;
            }
            Ok(())
        }
        Json::Null | Json::Bool(_) | Json::Number(_) => Ok(()),
    }
}

/// Whether a string passes the screen: no longer than the limit, and no
/// control character (in free text, only a tab, a line feed or a carriage
/// return). The readers that bind without building an error ask this.
pub(crate) fn string_passes(text: &str, limits: &EnvelopeLimits, free_text: bool) -> bool {
    text.len() <= limits.max_string && control_character(text, free_text).is_none()
}

/// The first control character `text` may not hold, if any. Every control
/// character (`U+0000`–`U+001F`, `U+007F`–`U+009F`) is encoded with a byte
/// below 0x20, 0x7F, or the lead byte 0xC2; a string with none of those
/// (nearly every string) is passed without decoding it.
fn control_character(text: &str, free_text: bool) -> Option<char> {
    let suspect = |b: &u8| *b < 0x20 || *b == 0x7f || *b == 0xc2;
    if !text.as_bytes().iter().any(suspect) {
        return None;
    }
    let allowed = |c: char| free_text && matches!(c, '\t' | '\n' | '\r');
    text.chars().find(|c| c.is_control() && !allowed(*c))
}

/// A string's length and characters.
fn check_string(
    text: &str,
    limits: &EnvelopeLimits,
    path: &dyn Fn() -> String,
    free_text: bool,
) -> Result<(), EnvelopeError> {
    if text.len() > limits.max_string {
        return Err(EnvelopeError::new(
            ErrorCode::EnvelopeStringTooLong,
            path(),
            format!(
                "a string of {} bytes, more than the {} allowed",
                text.len(),
                limits.max_string
            ),
        )
        .help("shorten the string, or raise the limit (`--max-string-bytes`)"));
    }
    if let Some(c) = control_character(text, free_text) {
        let help = if free_text {
            "only a tab, a line feed and a carriage return may appear in free text"
        } else {
            "identifiers and values may not hold control characters; \
             remove it (only `intent.goal` is free text)"
        };
        return Err(EnvelopeError::new(
            ErrorCode::EnvelopeControlCharacter,
            path(),
            format!("the control character `U+{:04X}` in a string", u32::from(c)),
        )
        .help(help));
    }
    Ok(())
}

impl EnvelopeError {
    /// An envelope of `len` bytes, past `limits`: for a host that stops
    /// reading at the limit and counts the rest rather than keep it.
    pub fn too_large(len: usize, limits: &EnvelopeLimits) -> EnvelopeError {
        EnvelopeError::new(
            ErrorCode::EnvelopeTooLarge,
            "$",
            format!(
                "the envelope is {len} bytes, more than the {} allowed",
                limits.max_bytes
            ),
        )
        .help("send a smaller envelope, or raise the limit (`--max-envelope-bytes`)")
    }
}

fn too_deep(path: String, limits: &EnvelopeLimits) -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::EnvelopeTooDeep,
        path,
        format!(
            "objects and arrays nest deeper than the {} levels allowed",
            limits.max_depth
        ),
    )
    .help("flatten the value, or raise the limit (`--max-depth`)")
}

fn too_many_keys(path: String, count: usize, limits: &EnvelopeLimits) -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::EnvelopeTooManyKeys,
        path,
        format!(
            "an object of {count} keys or more, more than the {} allowed",
            limits.max_keys
        ),
    )
    .help("send fewer fields, or raise the limit (`--max-keys`)")
}

fn too_many_elements(path: String, count: usize, limits: &EnvelopeLimits) -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::EnvelopeTooLong,
        path,
        format!(
            "an array of {count} elements or more, more than the {} allowed",
            limits.max_array
        ),
    )
    .help("split the action, or raise the limit (`--max-array-len`)")
}

/// Where the screen is in the document: a chain through the stack, turned
/// into a JSON path only for an error.
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    fn path(&self) -> String {
        match self {
            At::Root => "$".to_string(),
            At::Key(parent, key) => format!("{}.{key}", parent.path()),
            At::Index(parent, i) => format!("{}[{i}]", parent.path()),
        }
    }

    /// How deep a value here is: the envelope itself is depth 1.
    fn depth(&self) -> usize {
        match self {
            At::Root => 1,
            At::Key(parent, _) | At::Index(parent, _) => parent.depth() + 1,
        }
    }

    /// Whether a string here is [`FREE_TEXT`], told from the chain itself
    /// so that no path is built for a string that is not refused.
    fn is_free_text(&self) -> bool {
        matches!(self, At::Key(At::Key(At::Root, "intent"), "goal"))
    }
}

/// Reads one value, refusing what the limits and rules refuse. The first
/// refusal is kept in `found` and stops the reading.
#[derive(Clone, Copy)]
struct Screen<'s> {
    limits: &'s EnvelopeLimits,
    found: &'s RefCell<Option<EnvelopeError>>,
    at: &'s At<'s>,
}

impl Screen<'_> {
    fn refuse<E: serde::de::Error>(&self, err: EnvelopeError) -> E {
        let mut found = self.found.borrow_mut();
        found.get_or_insert(err);
        E::custom("refused by the envelope screen")
    }

    fn string<E: serde::de::Error>(&self, text: &str) -> Result<(), E> {
        check_string(
            text,
            self.limits,
            &|| self.at.path(),
            self.at.is_free_text(),
        )
        .map_err(|err| self.refuse(err))
    }

    fn enter<E: serde::de::Error>(&self) -> Result<(), E> {
        if self.at.depth() > self.limits.max_depth {
            return Err(self.refuse(too_deep(self.at.path(), self.limits)));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Screen<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Screen<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<(), E> {
        self.string(text)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.enter()?;
        let mut count = 0;
        loop {
            let at = At::Index(self.at, count);
            let item = Screen { at: &at, ..self };
            if seq.next_element_seed(item)?.is_none() {
                return Ok(());
            }
            count += 1;
            if count > self.limits.max_array {
                let err = too_many_elements(self.at.path(), count, self.limits);
                return Err(self.refuse(err));
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.enter()?;
        let mut keys = Keys::default();
        while let Some(key) = map.next_key_seed(KeyOf(self))? {
            if keys.len() == self.limits.max_keys {
                let err = too_many_keys(self.at.path(), keys.len() + 1, self.limits);
                return Err(self.refuse(err));
            }
            {
                let at = At::Key(self.at, &key);
                if !keys.is_new(&key) {
                    return Err(self.refuse(duplicate_key(at.path())));
                }
                map.next_value_seed(Screen { at: &at, ..self })?;
            }
            keys.keep(key);
        }
        Ok(())
    }
}

fn duplicate_key(path: String) -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::EnvelopeDuplicateKey,
        path,
        "a key given twice in one object",
    )
    .help("give each key once: readers disagree on which of two copies counts")
}

/// The keys of one object so far. A handful are searched in order; past
/// that, hashed, so an object of many keys costs linear time.
#[derive(Default)]
struct Keys<'de> {
    list: Vec<Cow<'de, str>>,
    hashed: Option<HashSet<Cow<'de, str>>>,
}

/// Up to this many keys are searched in order.
const LINEAR_KEYS: usize = 16;

impl<'de> Keys<'de> {
    fn len(&self) -> usize {
        self.hashed.as_ref().map_or(self.list.len(), HashSet::len)
    }

    /// Whether `key` is new here (checked before its value is read).
    fn is_new(&self, key: &str) -> bool {
        match &self.hashed {
            Some(set) => !set.contains(key),
            None => !self.list.iter().any(|k| k == key),
        }
    }

    /// Remembers a key once its value has been read.
    fn keep(&mut self, key: Cow<'de, str>) {
        match &mut self.hashed {
            Some(set) => {
                set.insert(key);
            }
            None if self.list.len() < LINEAR_KEYS => self.list.push(key),
            None => {
                let mut set: HashSet<Cow<'de, str>> = self.list.drain(..).collect();
                set.insert(key);
                self.hashed = Some(set);
            }
        }
    }
}

/// Reads a key, borrowed where it holds no escape, and checks it as a
/// string (a key is named by the path of the object it is in plus itself).
struct KeyOf<'s>(Screen<'s>);

impl<'de> DeserializeSeed<'de> for KeyOf<'_> {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyOf<'_> {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        self.check(key)?;
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        self.check(key)?;
        Ok(Cow::Owned(key.to_string()))
    }
}

impl KeyOf<'_> {
    fn check<E: serde::de::Error>(&self, key: &str) -> Result<(), E> {
        let screen = self.0;
        check_string(
            key,
            screen.limits,
            &|| At::Key(screen.at, key).path(),
            false,
        )
        .map_err(|err| screen.refuse(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(text: &str) -> Result<(), EnvelopeError> {
        screen_json(text.as_bytes(), &EnvelopeLimits::default())
    }

    #[test]
    fn a_duplicate_key_is_named_at_any_depth() {
        let err = screen(r#"{"a":{"b":[{"c":1,"c":2}]}}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeDuplicateKey);
        assert_eq!(err.path, "$.a.b[0].c");
        // Written two ways, still the same key.
        let err = screen(r#"{"ab":1,"\u0061b":2}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeDuplicateKey);
        assert_eq!(err.path, "$.ab");
    }

    #[test]
    fn duplicates_among_many_keys_are_found_once_hashed() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"k{i}\":{i},"));
        }
        text.push_str("\"k7\":0}");
        let err = screen(&text).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeDuplicateKey);
        assert_eq!(err.path, "$.k7");
    }

    #[test]
    fn control_characters_are_refused_except_in_free_text() {
        let err = screen(r#"{"a":"x\u0000y"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeControlCharacter);
        assert_eq!(err.path, "$.a");
        assert!(err.message.contains("`U+0000`"), "{}", err.message);
        let err = screen(r#"{"a\n":1}"#).unwrap_err();
        assert_eq!(err.path, "$.a\n");
        let err = screen(r#"{"a":"\u009b"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeControlCharacter);
        assert!(screen(r#"{"intent":{"goal":"two\nlines\tand\r"}}"#).is_ok());
        let err = screen(r#"{"intent":{"goal":"\u0007"}}"#).unwrap_err();
        assert_eq!(err.path, "$.intent.goal");
        let err = screen(r#"{"context":{"goal":"a\nb"}}"#).unwrap_err();
        assert_eq!(err.path, "$.context.goal");
    }

    #[test]
    fn each_limit_refuses_with_its_code_and_path() {
        let limits = EnvelopeLimits {
            max_bytes: 64,
            max_string: 4,
            max_array: 2,
            max_depth: 3,
            max_keys: 2,
        };
        let cases = [
            (
                format!("{{\"a\":\"{}\"}}", "x".repeat(70)),
                ErrorCode::EnvelopeTooLarge,
                "$",
            ),
            (
                r#"{"a":"xxxxx"}"#.to_string(),
                ErrorCode::EnvelopeStringTooLong,
                "$.a",
            ),
            (
                r#"{"abcde":1}"#.to_string(),
                ErrorCode::EnvelopeStringTooLong,
                "$.abcde",
            ),
            (
                r#"{"a":[1,2,3]}"#.to_string(),
                ErrorCode::EnvelopeTooLong,
                "$.a",
            ),
            (
                r#"{"a":{"b":{"c":{}}}}"#.to_string(),
                ErrorCode::EnvelopeTooDeep,
                "$.a.b.c",
            ),
            (
                r#"{"a":[[[1]]]}"#.to_string(),
                ErrorCode::EnvelopeTooDeep,
                "$.a[0][0]",
            ),
            (
                r#"{"a":1,"b":2,"c":3}"#.to_string(),
                ErrorCode::EnvelopeTooManyKeys,
                "$",
            ),
        ];
        for (text, code, path) in cases {
            let err = screen_json(text.as_bytes(), &limits).unwrap_err();
            assert_eq!((err.code, err.path.as_str()), (code, path), "{text}");
            assert!(err.help.is_some(), "{text}");
        }
        assert!(screen_json(br#"{"a":{"b":[1,2]},"c":"xxxx"}"#, &limits).is_ok());
    }

    #[test]
    fn malformed_json_is_left_to_the_readers_but_nothing_is_not() {
        assert!(screen(r#"{"a":"#).is_ok());
        for empty in ["", " \r\n\t "] {
            let err = screen(empty).unwrap_err();
            assert_eq!(err.code, ErrorCode::EnvelopeMalformedJson);
            assert_eq!(err.message, "the envelope is empty");
        }
        assert!(screen("\u{1}").is_ok());
    }
}
