//! Broken test files: each problem is a diagnostic with a stable code and a
//! span into the file, the file runs no case, and nothing panics.

mod common;

use actpol_testing::resolve;
use actpol_testing::{Kind, TestDiagnostic};
use common::Fixture;

/// The diagnostics of a test file placed in the fixture's `tests/`.
fn diagnose(text: &str) -> Vec<TestDiagnostic> {
    let f = Fixture::new();
    let path = f.write("tests/broken.test.toml", text);
    resolve::load(&path).expect_err("the file is broken")
}

/// The one diagnostic of `text`: its kind and the text its span covers.
fn one(text: &str) -> (Kind, String, TestDiagnostic) {
    let diagnostics = diagnose(text);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = diagnostics.into_iter().next().unwrap();
    let span = d.span.clone().expect("a span");
    (d.kind, text[span].to_string(), d)
}

const HEAD: &str = "[template]\nenvelope = \"../envelopes/send.json\"\n\n";

#[test]
fn toml_syntax_errors() {
    let text = "[[case]\nname = \"x\"\n";
    let (kind, _, d) = one(text);
    assert_eq!(kind, Kind::TomlSyntax);
    let rendered = d.render_text(100);
    assert!(rendered.contains("actpol::test::toml_syntax"), "{rendered}");
    assert!(rendered.contains("broken.test.toml:1:"), "{rendered}");
    assert!(
        rendered.contains("help:") || rendered.contains("help"),
        "{rendered}"
    );
}

#[test]
fn unknown_keys_suggest_the_right_one() {
    let text = format!(
        "{HEAD}[[case]]\nname = \"x\"\nenvelop = \"a.json\"\nexpect.decision = \"allow\"\n"
    );
    let (kind, covered, d) = one(&text);
    assert_eq!((kind, covered.as_str()), (Kind::UnknownKey, "envelop"));
    assert_eq!(d.message, "unknown key `envelop` in case `x`");
    assert_eq!(d.help_text(), "did you mean `envelope`?");

    let text = format!("{HEAD}[[case]]\nname = \"x\"\nexpect.decison = \"allow\"\n");
    let diagnostics = diagnose(&text);
    assert_eq!(
        diagnostics[0].message,
        "unknown key `expect.decison` in case `x`"
    );
    assert_eq!(
        diagnostics[0].help_text(),
        "did you mean `expect.decision`?"
    );
    assert_eq!(diagnostics[1].message, "case `x` has no `expect.decision`");

    let (kind, covered, _) = one("polcy = \"..\"\n");
    assert_eq!((kind, covered.as_str()), (Kind::UnknownKey, "polcy"));
}

#[test]
fn bad_decision_values() {
    let text = format!("{HEAD}[[case]]\nname = \"x\"\nexpect.decision = \"permit\"\n");
    let (kind, covered, d) = one(&text);
    assert_eq!(
        (kind, covered.as_str()),
        (Kind::UnknownDecision, "\"permit\"")
    );
    assert_eq!(d.message, "unknown decision `permit`");
    assert!(d
        .help_text()
        .contains("`allow`, `constrain`, `escalate`, `deny`"));
}

#[test]
fn rows_of_the_wrong_length() {
    let text = format!(
        "{HEAD}[[table]]\nname = \"t\"\ncolumns = [\"action.params.recipients\", \"expect.decision\"]\nrows = [\n  [\"ok\", 1, \"allow\"],\n  [\"short\", 2],\n]\n"
    );
    let (kind, covered, d) = one(&text);
    assert_eq!(
        (kind, covered.as_str()),
        (Kind::RowLength, "[\"short\", 2]")
    );
    assert_eq!(
        d.message,
        "a row of table `t` has 2 value(s), but 2 column(s) need 3"
    );
}

#[test]
fn wrong_types_and_missing_keys() {
    let text = format!("{HEAD}[[case]]\nname = 7\nexpect.decision = \"allow\"\n");
    let (kind, covered, d) = one(&text);
    assert_eq!((kind, covered.as_str()), (Kind::WrongType, "7"));
    assert_eq!(d.message, "`name` must be a string, not an integer");

    let text = format!("{HEAD}[[case]]\nname = \"x\"\n");
    let (kind, covered, d) = one(&text);
    assert_eq!((kind, covered.as_str()), (Kind::MissingKey, "[[case]]"));
    assert_eq!(d.message, "case `x` has no `expect`");

    let (kind, _, _) = one(&format!("case = [1]\n{HEAD}"));
    assert_eq!(kind, Kind::WrongType);
}

#[test]
fn unreadable_and_invalid_files_it_names() {
    let text = "[template]\nenvelope = \"../envelopes/missing.json\"\n";
    let (kind, covered, d) = one(text);
    assert_eq!(
        (kind, covered.as_str()),
        (Kind::Unreadable, "\"../envelopes/missing.json\"")
    );
    assert!(
        d.message.starts_with("cannot read envelope `"),
        "{}",
        d.message
    );

    let text = "[template]\nenvelope = \"../main.actpol\"\n";
    let (kind, _, d) = one(text);
    assert_eq!(kind, Kind::InvalidEnvelope);
    assert!(d.message.contains("is not valid JSON"), "{}", d.message);

    let text = "state = { budgets = [{ name = \"sends\" }] }\n";
    let (kind, covered, d) = one(text);
    assert_eq!(kind, Kind::InvalidState);
    assert!(covered.starts_with('{'));
    assert!(d.message.contains("missing field `key`"), "{}", d.message);
}

#[test]
fn a_case_needs_an_envelope() {
    let (kind, covered, _) = one("[[case]]\nname = \"x\"\nexpect.decision = \"allow\"\n");
    assert_eq!((kind, covered.as_str()), (Kind::MissingKey, "[[case]]"));
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    let text = format!(
        "{HEAD}[[case]]\nname = \"a\"\nexpect.decision = \"alow\"\n\n[[case]]\nname = \"b\"\nunset = [\"nope\"]\nexpect.decision = \"deny\"\n\n[[case]]\nname = \"a\"\nexpect.decision = \"deny\"\n"
    );
    let codes: Vec<&str> = diagnose(&text).iter().map(|d| d.code()).collect();
    assert_eq!(
        codes,
        [
            "actpol::test::unknown_decision",
            "actpol::test::duplicate_case",
            "actpol::test::bad_override",
        ]
    );
}

#[test]
fn json_renderings_carry_the_contract_fields() {
    let text = format!("{HEAD}[[case]]\nname = \"x\"\nexpect.decision = \"permit\"\n");
    let (_, _, d) = one(&text);
    let j = d.render_json();
    for field in [
        "code", "severity", "message", "file", "span", "line", "column", "help",
    ] {
        assert!(j.get(field).is_some(), "missing {field}: {j}");
    }
    assert_eq!(j["line"], 6);
    assert_eq!(j["column"], 19);
    assert_eq!(j["severity"], "error");
}

/// Every prefix of a valid test file is read without a panic: truncation
/// is the most common way a file goes bad mid-edit.
#[test]
fn truncated_files_never_panic() {
    let f = Fixture::new();
    let text = f.read("tests/send.test.toml");
    let path = f.path("tests/cut.test.toml");
    let mut cut = 0;
    while cut < text.len() {
        std::fs::write(&path, &text[..cut]).unwrap();
        if let Err(diagnostics) = resolve::load(&path) {
            for d in diagnostics {
                let _ = d.render_text(80);
                let _ = d.render_json();
            }
        }
        cut += 7;
        while !text.is_char_boundary(cut.min(text.len())) {
            cut += 1;
        }
    }
}

#[test]
fn hostile_values_never_panic() {
    for body in [
        "x = 1e999999\n",
        "[[case]]\nname = \"\u{0}\"\nexpect.decision = \"allow\"\nset = { \"\" = 1 }\n",
        "[[case]]\nname = \"x\"\nexpect = { decision = \"allow\", constraints = [[]], budgets = [{ limit = nan }] }\n",
        "[[table]]\nname = \"t\"\ncolumns = [1, {a = 1}]\nrows = [[], [[]], \"x\"]\n",
        "[[table]]\nname = \"t\"\ncolumns = []\nrows = [[\"only a name\"]]\n",
        "state = \"/\"\n",
        "\u{feff}[template]\nenvelope = \"..\"\n",
    ] {
        let f = Fixture::new();
        let path = f.write("tests/h.test.toml", body);
        if let Err(diagnostics) = resolve::load(&path) {
            assert!(!diagnostics.is_empty());
            for d in diagnostics {
                let _ = d.render_text(80);
            }
        }
    }
}
