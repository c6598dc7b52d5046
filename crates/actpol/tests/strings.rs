//! Text the policy reads for itself: case, email domains, URL hosts, the
//! URLs inside a text, and regular expressions compiled before they run.

use actpol::{ErrorCode, Level, MemoryState, Policy};

const MAIL: &str = r#"
policy mail { default deny "no rule matched" on_error deny "evaluation failed" }
system mail
entity Thread { subject: String }
action mail.send { system mail object Thread params { to: String body: String ref: String } reversible }
agent bot { owner "o@acme.example" workflow w }
approver privacy-lead { contact "p@acme.example" }
rule sends on mail.send { allow }
rule outside on mail.send {
  when params.to.email_domain() != "acme.example"
  escalate to privacy-lead "mail to an outside domain"
}
rule shortened on mail.send {
  when params.body.url_hosts().contains_any(["bit.ly", "tinyurl.com"])
  deny "the message links through a URL shortener"
}
rule too_many_links on mail.send {
  when params.body.urls().len() > 2
  escalate to privacy-lead "more than two links"
}
rule odd_ref on mail.send {
  when not params.ref.lower().matches_regex("^inv-[0-9]{6}$")
  deny "the reference is not of the form inv-NNNNNN"
}
"#;

fn envelope(to: &str, body: &str, reference: &str) -> String {
    serde_json::json!({
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "action": {"name": "mail.send", "params": {"to": to, "body": body, "ref": reference}},
        "object": {"type": "Thread", "id": "t-1", "attrs": {"subject": "hello"}},
        "time": "2026-11-25T14:00:00Z"
    })
    .to_string()
}

fn decide(policy: &Policy, to: &str, body: &str, reference: &str) -> actpol::Decision {
    policy.decide(
        envelope(to, body, reference).as_str(),
        &MemoryState::default(),
    )
}

fn mail() -> Policy {
    Policy::from_sources([("mail.actpol", MAIL)]).expect("the mail policy compiles")
}

#[test]
fn domains_are_compared_case_insensitively_and_junk_is_outside() {
    let p = mail();
    let ok = "see you";
    assert_eq!(
        decide(&p, "Ana@ACME.example", ok, "INV-123456").decision,
        Level::Allow
    );
    assert_eq!(
        decide(&p, "ana@evil.example", ok, "inv-123456").decision,
        Level::Escalate
    );
    // `a@acme.example@evil.example` is delivered to evil.example.
    assert_eq!(
        decide(&p, "a@acme.example@evil.example", ok, "inv-123456").decision,
        Level::Escalate
    );
    // Not an address at all: its domain is empty, never the company's.
    assert_eq!(
        decide(&p, "acme.example", ok, "inv-123456").decision,
        Level::Escalate
    );
}

#[test]
fn urls_in_the_body_are_found_and_their_hosts_read() {
    let p = mail();
    let to = "ana@acme.example";
    let one = "details at https://docs.acme.example/q4.";
    assert_eq!(decide(&p, to, one, "inv-000001").decision, Level::Allow);
    let short = "click https://BIT.LY/x1 now";
    let d = decide(&p, to, short, "inv-000001");
    assert_eq!(d.decision, Level::Deny, "{d:?}");
    let three = "https://a.example http://b.example/y and https://c.example/z";
    assert_eq!(
        decide(&p, to, three, "inv-000001").decision,
        Level::Escalate
    );
}

#[test]
fn a_regular_expression_decides_the_shape_of_a_text() {
    let p = mail();
    let to = "ana@acme.example";
    assert_eq!(decide(&p, to, "", "inv-123456").decision, Level::Allow);
    for bad in ["inv-12345", "inv-1234567", "xinv-123456", "inv-12a456", ""] {
        assert_eq!(decide(&p, to, "", bad).decision, Level::Deny, "{bad}");
    }
}

#[test]
fn a_long_text_is_paid_for_in_fuel_and_fails_closed() {
    // 12 MB of text is past the default envelope limits (1 MiB, strings of
    // 64 KiB): a host that raises them still has the fuel to stop a scan.
    let p = mail().with_limits(actpol::EnvelopeLimits {
        max_bytes: 16 << 20,
        max_string: 16 << 20,
        ..actpol::EnvelopeLimits::default()
    });
    // More text than the fuel of one decision (10,000,000) can scan.
    let long = "a ".repeat(6_000_000);
    let d = decide(&p, "ana@acme.example", &long, "inv-123456");
    assert!(d.decision >= Level::Escalate, "{d:?}");
    assert!(
        d.errors.iter().any(|e| e.code == ErrorCode::EvalFuel),
        "{:?}",
        d.errors
    );
}

#[test]
fn a_pattern_that_does_not_compile_is_refused_when_the_artifact_loads() {
    let mut artifact = actpol::compile_sources([("mail.actpol", MAIL)]).expect("compiles");
    let program = &mut artifact.program;
    let pattern = program
        .code
        .iter()
        .find_map(|i| match i {
            actpol::advanced::Instr::Regex(c) => Some(*c as usize),
            _ => None,
        })
        .expect("the rule's pattern is a `Regex` instruction");
    program.consts[pattern] = actpol::advanced::Value::str("(unclosed");
    let bytes = artifact.encode().expect("encodes");
    let err = Policy::load(&bytes).expect_err("an invalid pattern does not load");
    assert!(err.to_string().contains("unclosed"), "{err}");
}

const TAGS: &str = r#"
policy tags { default deny "no rule matched" on_error deny "evaluation failed" }
system mail
entity Thread { subject: String }
action mail.label { system mail object Thread params { labels: String path: String } reversible }
agent bot { owner "o@acme.example" workflow w }
rule known_labels on mail.label {
  when params.labels.split(",").all(l, l in ["work", "home", "later"])
    and params.path.split("/").count(p, p == "") == 0
  allow
}
"#;

fn label(labels: &str, path: &str) -> Level {
    let policy = Policy::from_sources([("tags.actpol", TAGS)]).expect("compiles");
    let envelope = serde_json::json!({
        "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "action": {"name": "mail.label", "params": {"labels": labels, "path": path}},
        "object": {"type": "Thread", "id": "t-1", "attrs": {"subject": "hello"}},
        "time": "2026-11-25T14:00:00Z"
    })
    .to_string();
    policy
        .decide(envelope.as_bytes(), &MemoryState::default())
        .decision
}

#[test]
fn split_walks_the_pieces_of_a_text_in_order() {
    assert_eq!(label("work,home", "inbox/2026"), Level::Allow);
    assert_eq!(label("work,spam", "inbox/2026"), Level::Deny);
    // An empty piece is a piece: `work,,home` holds `""`.
    assert_eq!(label("work,,home", "inbox/2026"), Level::Deny);
    // A path ending in `/` has an empty last piece.
    assert_eq!(label("work", "inbox/"), Level::Deny);
}
