//! The screen every envelope passes before it binds: no key twice, no
//! control character outside free text, nothing past the limits, by every
//! entry (JSON bytes, an `Envelope` built in Rust, a host's own limits).
//! Each refusal fails closed with its code and the JSON path.

use std::path::Path;

use actpol::{Decision, Envelope, EnvelopeLimits, ErrorCode, Level, MemoryState, Policy};

fn growth() -> Policy {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/growth");
    Policy::from_paths(&[dir]).expect("the growth example compiles")
}

/// The routine send (allowed) with `from` replaced by `to` in its text.
fn routine_send(from: &str, to: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/growth/envelopes/routine-send-allows.json");
    let text = std::fs::read_to_string(path).expect("the envelope is shipped");
    assert!(text.contains(from), "`{from}` is in the routine send");
    text.replacen(from, to, 1)
}

/// A refused decision: not allowed, with exactly the error `code` at `path`.
fn assert_refused(d: &Decision, code: ErrorCode, path: &str) {
    assert_ne!(d.decision, Level::Allow, "{d:?}");
    assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
    assert_eq!(d.errors[0].code, code, "{:?}", d.errors);
    assert_eq!(d.errors[0].path.as_deref(), Some(path), "{:?}", d.errors);
}

#[test]
fn the_routine_send_is_allowed_as_shipped() {
    let d = growth().decide(routine_send("", "").as_str(), &MemoryState::default());
    assert_eq!(d.decision, Level::Allow, "{d:?}");
}

#[test]
fn a_parameter_given_twice_is_refused_not_read_last() {
    // A consumer that reads the first key would send 5,000 mails where 800
    // were decided.
    let text = routine_send(
        r#""recipients": 800"#,
        r#""recipients": 5000, "recipients": 800"#,
    );
    let d = growth().decide(text.as_str(), &MemoryState::default());
    assert_refused(
        &d,
        ErrorCode::EnvelopeDuplicateKey,
        "$.action.params.recipients",
    );
}

#[test]
fn duplicates_are_refused_at_every_depth_and_in_the_envelope_itself() {
    let policy = growth();
    let state = MemoryState::default();
    let cases = [
        (
            r#""segment": "smb","#,
            r#""segment": "smb", "segment": "enterprise","#,
            "$.object.attrs.segment",
        ),
        (
            r#""change_freeze": false"#,
            r#""change_freeze": false, "change_freeze": true"#,
            "$.context.change_freeze",
        ),
        (
            r#""time": "2026-11-25T14:10:00Z","#,
            r#""time": "2026-11-25T14:10:00Z", "time": "2026-11-28T14:10:00Z","#,
            "$.time",
        ),
        (
            r#""id": "growth-bot","#,
            r#""id": "growth-bot", "id": "other-bot","#,
            "$.agent.id",
        ),
    ];
    for (from, to, path) in cases {
        let d = policy.decide(routine_send(from, to).as_str(), &state);
        assert_refused(&d, ErrorCode::EnvelopeDuplicateKey, path);
    }
}

#[test]
fn an_escaped_nul_no_longer_passes_starts_with() {
    // `lib/\u0000…` starts with `lib/` and was allowed as a library send.
    let text = routine_send(
        r#""lib/q4-winback", "channel""#,
        r#""lib/\u0000../drafts/x", "channel""#,
    );
    let d = growth().decide(text.as_str(), &MemoryState::default());
    assert_refused(
        &d,
        ErrorCode::EnvelopeControlCharacter,
        "$.action.params.template",
    );
    assert!(d.errors[0].message.contains("`U+0000`"), "{:?}", d.errors);
}

#[test]
fn control_characters_are_refused_in_keys_ids_and_values_but_not_in_the_goal() {
    let policy = growth();
    let state = MemoryState::default();
    for (from, to, path) in [
        (
            r#""seq-q4-winback""#,
            r#""seq-q4\u001bwinback""#,
            "$.object.id",
        ),
        (
            r#""change_freeze""#,
            r#""change\u0000freeze""#,
            "$.context.change\u{0}freeze",
        ),
        (r#""growth-bot""#, r#""growth-bot\r""#, "$.agent.id"),
    ] {
        let d = policy.decide(routine_send(from, to).as_str(), &state);
        assert_refused(&d, ErrorCode::EnvelopeControlCharacter, path);
    }
    // The goal is free text: lines and tabs are fine, a bell is not.
    let goal = r#""re-engage leads that went quiet this quarter""#;
    let text = routine_send(goal, r#""re-engage leads\n\tthat went quiet""#);
    assert_eq!(policy.decide(text.as_str(), &state).decision, Level::Allow);
    let text = routine_send(goal, r#""re-engage\u0007""#);
    let d = policy.decide(text.as_str(), &state);
    assert_refused(&d, ErrorCode::EnvelopeControlCharacter, "$.intent.goal");
}

#[test]
fn an_envelope_built_in_rust_is_screened_too() {
    let policy = growth();
    let text = routine_send("", "");
    let mut env = Envelope::from_json(text.as_bytes()).expect("the routine send reads");
    env.action.params.insert(
        "template".to_string(),
        serde_json::Value::String("lib/\u{0}x".to_string()),
    );
    let d = policy.decide(env.clone(), &MemoryState::default());
    assert_refused(
        &d,
        ErrorCode::EnvelopeControlCharacter,
        "$.action.params.template",
    );
    let err = policy.bind(env).unwrap_err();
    assert_eq!(err.code(), ErrorCode::EnvelopeControlCharacter);
    assert!(err.help.is_some());
}

#[test]
fn limits_refuse_what_is_too_large_and_a_host_may_raise_them() {
    let state = MemoryState::default();
    // 2 MiB of padding in the goal: past the 1 MiB default.
    let padded = routine_send(
        r#""re-engage leads that went quiet this quarter""#,
        &format!("\"{}\"", "x".repeat(2 << 20)),
    );
    let d = growth().decide(padded.as_str(), &state);
    assert_refused(&d, ErrorCode::EnvelopeTooLarge, "$");
    let wider = growth().with_limits(EnvelopeLimits {
        max_bytes: 4 << 20,
        max_string: 4 << 20,
        ..EnvelopeLimits::default()
    });
    assert_eq!(wider.decide(padded.as_str(), &state).decision, Level::Allow);
    // A tighter host refuses a string the default would take.
    let tight = growth().with_limits(EnvelopeLimits {
        max_string: 8,
        ..EnvelopeLimits::default()
    });
    let d = tight.decide(routine_send("", "").as_str(), &state);
    assert_refused(&d, ErrorCode::EnvelopeStringTooLong, "$.id");
    assert_eq!(tight.limits().max_string, 8);
}

#[test]
fn deep_and_wide_unknown_values_are_refused_by_the_screen() {
    let policy = growth();
    let state = MemoryState::default();
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let text = routine_send(r#""change_freeze": false"#, &format!(r#""junk": {deep}"#));
    assert_refused(
        &policy.decide(text.as_str(), &state),
        ErrorCode::EnvelopeTooDeep,
        &format!("$.context.junk{}", "[0]".repeat(30)),
    );
    let keys: Vec<String> = (0..2000).map(|i| format!("\"k{i}\":{i}")).collect();
    let text = routine_send(
        r#""change_freeze": false"#,
        &format!(r#""change_freeze": false, "junk": {{{}}}"#, keys.join(",")),
    );
    assert_refused(
        &policy.decide(text.as_str(), &state),
        ErrorCode::EnvelopeTooManyKeys,
        "$.context.junk",
    );
    let items = vec!["0"; 1500].join(",");
    let text = routine_send(
        r#""change_freeze": false"#,
        &format!(r#""junk": [{items}]"#),
    );
    assert_refused(
        &policy.decide(text.as_str(), &state),
        ErrorCode::EnvelopeTooLong,
        "$.context.junk",
    );
}
