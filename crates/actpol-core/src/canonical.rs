//! Canonical JSON text: object keys sorted, no whitespace. What is hashed
//! (approvals, the decision log) must not depend on the order a map was
//! built in, and `serde_json` keeps insertion order in some builds.

use serde_json::Value as Json;

/// Appends `value` as canonical JSON to `out`.
pub fn write(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(&map[key], out);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Json::String(s) => write_string(s, out),
        // Numbers, booleans and null have one text form in serde_json.
        other => out.push_str(&other.to_string()),
    }
}

/// `value` as canonical JSON.
pub fn to_string(value: &Json) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write_string(s: &str, out: &mut String) {
    // serde_json's string escaping is deterministic; reuse it.
    out.push_str(&Json::String(s.to_string()).to_string());
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// The 32 bytes that 64 hex digits (either case) write, as keys and
/// SHA-256 hashes are written in files; `None` for anything else.
pub fn hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_depth_and_whitespace_dropped() {
        let a: Json =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": "q\""}}"#)
                .unwrap();
        assert_eq!(
            to_string(&a),
            r#"{"a":{"x":"q\"","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn hex_is_lowercase_and_two_digits_a_byte() {
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }
}
