//! The two envelope readers agree. JSON bytes are bound by a fast reader
//! that borrows the text and types values as it parses; whatever it
//! refuses is read again by the path-tracking reader, which words errors.
//! So the fast reader must never accept what the other refuses, nor bind a
//! value differently: over generated envelopes, and the same envelopes with
//! one field swapped for an awkward JSON value, `BoundEnvelope::from_json`
//! gives exactly what parsing to an `Envelope` and binding it gives.

use std::cell::Cell;

use actpol_core::envelope::{BoundEnvelope, Envelope, EnvelopeCopy, EnvelopeError, EnvelopeLimits};
use actpol_core::Schema;
use actpol_gen::Rng;
use serde_json::{json, Value as Json};

/// Values that sit on the edges of the types: numbers written as text or
/// with exponents, nulls, wrong containers, units, big integers.
fn awkward() -> Vec<Json> {
    vec![
        json!("12"),
        json!(12.0),
        json!(1.5),
        serde_json::from_str("1e3").unwrap(),
        serde_json::from_str("-0").unwrap(),
        serde_json::from_str("18446744073709551615").unwrap(),
        json!(-9223372036854775808i64),
        json!(null),
        json!(true),
        json!([]),
        json!({}),
        json!("15m"),
        json!("1h30x"),
        json!("2026-11-25T14:00:00Z"),
        // Local readings without an offset: read in a field's declared zone
        // (skipped, passed twice), refused where none is declared; and text
        // that is not quite one.
        json!("2026-03-08T02:30:00"),
        json!("2026-11-01T01:30:00"),
        json!("2026-10-25T02:30:00.5"),
        json!("2026-03-29T02:30"),
        json!("2026-03-29T02:30:00+01"),
        json!(["2026-03-29T01:30:00", "2026-03-29T01:30:00Z"]),
        json!("5 USD"),
        json!("5 EUR"),
        json!("1.5"),
        json!("é"),
        json!([null]),
        json!(["a", "a", "b"]),
        json!([1, 2, 2]),
        json!(0.1),
        // What the screen refuses in any string but the agent's goal.
        json!("a\u{0}b"),
        json!("tab\there"),
        json!("\u{85}next line"),
        json!("\u{7f}"),
        json!(["ok", "bell\u{7}"]),
        json!("café ©"),
    ]
}

fn slow(bytes: &[u8], schema: &Schema) -> Result<BoundEnvelope, EnvelopeError> {
    BoundEnvelope::bind(Envelope::from_json(bytes)?, schema)
}

thread_local! {
    /// Envelopes the fast reader bound itself (it keeps the JSON text; the
    /// fallback keeps a parsed envelope).
    static FAST: Cell<usize> = const { Cell::new(0) };
}

fn agree(bytes: &[u8], schema: &Schema, what: &str) -> bool {
    let fast = BoundEnvelope::from_json(bytes, schema);
    if let Ok(env) = &fast {
        if matches!(env.copy(), EnvelopeCopy::Json(_)) {
            FAST.with(|n| n.set(n.get() + 1));
        }
    }
    let reference = slow(bytes, schema);
    assert_eq!(
        fast,
        reference,
        "{what}: the readers disagree on\n{}",
        String::from_utf8_lossy(bytes)
    );
    reference.is_ok()
}

/// `doc` as JSON text with every object's keys in reverse order. Written
/// from a `Json`, keys come sorted: `name` before `params`, `attrs` before
/// `type`. The fast reader reads a field object in one pass only when what
/// names its declarations came first, so each envelope is read in both
/// orders, to hold both of its ways of reading to the other reader.
fn reversed(doc: &Json) -> Vec<u8> {
    fn write(doc: &Json, out: &mut String) {
        match doc {
            Json::Object(map) => {
                out.push('{');
                for (i, (key, value)) in map.iter().rev().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Json::String(key.clone()).to_string());
                    out.push(':');
                    write(value, out);
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
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(doc, &mut out);
    out.into_bytes()
}

/// [`agree`] on `doc` written with its keys sorted and reversed; the two
/// texts must get the same answer.
fn agree_both(doc: &Json, schema: &Schema, what: &str) -> bool {
    let sorted = agree(&serde_json::to_vec(doc).unwrap(), schema, what);
    let backwards = agree(&reversed(doc), schema, &format!("{what}, keys reversed"));
    assert_eq!(sorted, backwards, "{what}: key order changed the answer");
    sorted
}

/// One of the envelope's parameter, attribute or context fields, set to
/// `value` (or a new, undeclared key when the object is empty).
fn swap_field(doc: &mut Json, rng: &mut Rng, value: Json) {
    let objects = [("action", "params"), ("object", "attrs"), ("context", "")];
    let (outer, inner) = objects[rng.below(objects.len())];
    let target = if inner.is_empty() {
        &mut doc[outer]
    } else {
        &mut doc[outer][inner]
    };
    match target.as_object_mut() {
        Some(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(rng.below(map.len()))
                .cloned()
                .unwrap_or_default();
            map.insert(key, value);
        }
        _ => *target = json!({ "undeclared": value }),
    }
}

#[test]
fn the_fast_reader_binds_what_the_path_tracking_reader_binds() {
    let awkward = awkward();
    let (mut bound, mut refused) = (0, 0);
    for seed in 0..400u64 {
        let schema = actpol_gen::schema(seed);
        let policy = actpol_gen::policy(seed, &schema);
        let envelope = actpol_gen::envelope(seed, &policy);
        let doc = serde_json::to_value(&envelope).unwrap();
        if agree_both(&doc, &schema, "as generated") {
            bound += 1;
        }
        let mut rng = Rng::new(seed);
        for value in &awkward {
            let mut doc = doc.clone();
            swap_field(&mut doc, &mut rng, value.clone());
            if agree_both(&doc, &schema, &format!("with {value}")) {
                bound += 1;
            } else {
                refused += 1;
            }
        }
        // Explicit nulls where the objects may be omitted.
        let mut doc = doc.clone();
        doc["action"]["params"] = Json::Null;
        doc["object"]["attrs"] = Json::Null;
        agree_both(&doc, &schema, "with null objects");
    }
    // Both sides of the comparison must be exercised for it to mean much,
    // and the fast reader must be the one that bound most envelopes.
    assert!(bound > 1_000, "only {bound} envelopes bound");
    // Each envelope that bound was read twice, once in each key order.
    let fast = FAST.with(Cell::get);
    assert!(
        fast * 10 >= 2 * bound * 9,
        "the fast reader bound only {fast} of {} readings",
        2 * bound
    );
    assert!(refused > 1_000, "only {refused} envelopes refused");
}

#[test]
fn text_the_fast_reader_cannot_take_falls_back_with_the_same_answer() {
    let schema = actpol_gen::schema(7);
    let policy = actpol_gen::policy(7, &schema);
    let env = serde_json::to_string(&actpol_gen::envelope(7, &policy)).unwrap();
    let cases = [
        env.replacen('{', "{\"agent\": 1, ", 1),
        format!("{env} trailing"),
        env[..env.len() / 2].to_string(),
        env.replace("\"time\"", "\"tiem\""),
        "[]".to_string(),
        String::new(),
    ];
    for text in cases {
        assert!(!agree(text.as_bytes(), &schema, "broken"), "{text}");
    }
    // Not UTF-8.
    let mut bytes = env.into_bytes();
    bytes.insert(1, 0xff);
    assert!(!agree(&bytes, &schema, "not UTF-8"));
}

#[test]
fn frame_objects_written_as_arrays_are_read_alike() {
    // serde reads a struct from an array of its fields too, which the screen
    // sees as an array: under its limit on elements, and with the agent's
    // goal at `$.intent[0]`, where a line break is not free text. Was: the
    // fast reader bound such an envelope that the screen refused.
    let as_array = |object: &Json, keys: &[&str]| {
        Json::Array(keys.iter().map_while(|k| object.get(*k).cloned()).collect())
    };
    let mut checked = 0;
    for seed in 0..60u64 {
        let schema = actpol_gen::schema(seed);
        let policy = actpol_gen::policy(seed, &schema);
        let doc = serde_json::to_value(actpol_gen::envelope(seed, &policy)).unwrap();
        let mut docs = Vec::new();
        let frames: [(&str, &[&str]); 4] = [
            ("agent", &["id", "owner", "workflow"]),
            ("intent", &["goal", "confidence"]),
            ("rollback", &["kind", "action", "within"]),
            ("plan", &["id", "step"]),
        ];
        for (key, fields) in frames {
            let Some(object) = doc.get(key).filter(|o| o.is_object()) else {
                continue;
            };
            let mut changed = doc.clone();
            changed[key] = as_array(object, fields);
            docs.push(changed);
        }
        let mut goal = doc.clone();
        goal["intent"] = json!(["line one\nline two", 0.5]);
        docs.push(goal);
        for doc in docs {
            let bytes = serde_json::to_vec(&doc).unwrap();
            agree(&bytes, &schema, "a frame object as an array");
            for max_array in 0..4 {
                let limits = EnvelopeLimits {
                    max_array,
                    ..EnvelopeLimits::DEFAULT
                };
                agree_within(&bytes, &schema, &limits, "a frame object as an array");
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} envelopes checked");
}

/// The readers agree under `limits`: the fast reader (which holds the text
/// to the screen's rules as it binds) against screening, reading and then
/// binding.
fn agree_within(bytes: &[u8], schema: &Schema, limits: &EnvelopeLimits, what: &str) -> bool {
    let fast = BoundEnvelope::from_json_within(bytes, schema, limits);
    let reference = Envelope::from_json_within(bytes, limits)
        .and_then(|env| BoundEnvelope::bind_within(env, schema, limits));
    assert_eq!(
        fast,
        reference,
        "{what} under {limits:?}: the readers disagree on\n{}",
        String::from_utf8_lossy(bytes)
    );
    reference.is_ok()
}

/// The default limits with one drawn tight enough that generated
/// envelopes pass it sometimes: short strings, few elements, shallow
/// nesting, few keys, or a byte limit about the envelope's own size.
fn tight_limits(rng: &mut Rng, len: usize) -> EnvelopeLimits {
    let pick = |rng: &mut Rng, choices: &[usize]| choices[rng.below(choices.len())];
    let mut limits = EnvelopeLimits::DEFAULT;
    match rng.below(5) {
        0 => limits.max_bytes = pick(rng, &[len - 1, len]),
        1 => limits.max_string = pick(rng, &[4, 9, 10, 16, 40]),
        2 => limits.max_array = pick(rng, &[0, 1, 2, 3]),
        3 => limits.max_depth = pick(rng, &[1, 2, 3, 4, 5]),
        _ => limits.max_keys = pick(rng, &[1, 2, 3, 5, 9, 10]),
    }
    limits
}

/// The text of `doc` with the first key of the object at `outer.inner`
/// written twice (the second time with `value`), as no JSON tree can hold.
fn with_duplicate_key(doc: &Json, outer: &str, inner: &str, value: &Json) -> Option<String> {
    let object = if inner.is_empty() {
        doc.get(outer)?
    } else {
        doc.get(outer)?.get(inner)?
    };
    let (key, _) = object.as_object()?.iter().next()?;
    let text = serde_json::to_string(object).unwrap();
    let doubled = format!("{{{}:{value},{}", Json::from(key.as_str()), &text[1..]);
    let whole = serde_json::to_string(doc).unwrap();
    Some(whole.replacen(&text, &doubled, 1))
}

#[test]
fn the_fast_reader_refuses_what_the_screen_refuses() {
    let (mut bound, mut refused) = (0, 0);
    for seed in 0..300u64 {
        let schema = actpol_gen::schema(seed);
        let policy = actpol_gen::policy(seed, &schema);
        let envelope = actpol_gen::envelope(seed, &policy);
        let doc = serde_json::to_value(&envelope).unwrap();
        let bytes = serde_json::to_vec(&doc).unwrap();
        let mut rng = Rng::new(seed ^ 0x5eed);
        for _ in 0..6 {
            let limits = tight_limits(&mut rng, bytes.len());
            if agree_within(&bytes, &schema, &limits, "as generated") {
                bound += 1;
            } else {
                refused += 1;
            }
        }
        // A key twice in each object that may hold one, with its own value
        // and with another.
        for (outer, inner) in [("action", "params"), ("object", "attrs"), ("context", "")] {
            let Some((_, first)) = (if inner.is_empty() {
                doc.get(outer)
            } else {
                doc.get(outer).and_then(|o| o.get(inner))
            })
            .and_then(|o| o.as_object())
            .and_then(|o| o.iter().next())
            .map(|(k, v)| (k.clone(), v.clone())) else {
                continue;
            };
            for value in [first, json!(null)] {
                let text = with_duplicate_key(&doc, outer, inner, &value).unwrap();
                assert!(
                    !agree(text.as_bytes(), &schema, "a key twice"),
                    "bound with a key twice: {text}"
                );
                refused += 1;
            }
        }
        // Control characters in the frame's strings, and free text in the
        // goal.
        for (path, text, passes) in [
            ("/object/id", "obj\u{7}", false),
            ("/agent/owner", "o\u{0}@acme.example", false),
            ("/time", "2026-11-25T14:00:00Z\u{1b}", false),
            ("/intent/goal", "line one\nline two\tand a tab", true),
            ("/intent/goal", "stop\u{0}here", false),
        ] {
            let mut doc = doc.clone();
            if path.starts_with("/intent") {
                doc["intent"] = json!({"goal": "", "confidence": 0.9});
            }
            *doc.pointer_mut(path).unwrap() = json!(text);
            let agreed = agree(&serde_json::to_vec(&doc).unwrap(), &schema, path);
            if !passes {
                assert!(!agreed, "{path} = {text:?} was bound");
            }
        }
    }
    assert!(
        bound > 200,
        "only {bound} envelopes bound under tight limits"
    );
    assert!(refused > 500, "only {refused} envelopes refused");
}
