//! The parser never panics: on any text it returns a tree or a syntax error,
//! quickly. A syntax error speaks the language (never a grammar rule's name)
//! and points inside the text. Whatever odd text does parse must also
//! survive formatting.

mod ast_shape;

use std::time::{Duration, Instant};

use actpol_syntax::{format_source, parse_file, SyntaxError};
use ast_shape::{comment_texts, shape};
use miette::Diagnostic;
use proptest::collection::vec;
use proptest::prelude::*;

const SAMPLES: [&str; 4] = [
    include_str!("samples/tour.actpol"),
    include_str!("samples/messy.actpol"),
    include_str!("samples/comment_hazards.actpol"),
    include_str!("samples/crowded.actpol"),
];

/// Fragments of grammar rule names that must never reach a user.
const RULE_NAME_MARKERS: [&str; 7] = [
    "kw_",
    "op_",
    "_decl",
    "_item",
    "EOI",
    "COMMENT",
    "WHITESPACE",
];

/// Generous: a policy parses in milliseconds. The bound catches runaway
/// backtracking, not slowness on a busy machine.
const PARSE_TIME_LIMIT: Duration = Duration::from_secs(10);

/// What is wrong with how `source` parses, if anything. A panic fails the
/// calling test by itself.
fn parse_problems(source: &str) -> Vec<String> {
    let started = Instant::now();
    let result = parse_file(source);
    let elapsed = started.elapsed();
    let mut problems = Vec::new();
    if elapsed > PARSE_TIME_LIMIT {
        problems.push(format!("parsing took {elapsed:?}"));
    }
    if let Err(err) = &result {
        problems.extend(error_problems(source, err));
    }
    problems
}

/// Formatting keeps the tree and the comments, and is a fixpoint.
fn format_problems(source: &str, file: &actpol_syntax::ast::File) -> Vec<String> {
    let Ok(formatted) = format_source(source) else {
        return vec!["parses, but format_source fails".into()];
    };
    let Ok(reparsed) = parse_file(&formatted) else {
        return vec![format!("formatted text does not parse:\n{formatted}")];
    };
    let mut problems = Vec::new();
    if shape(&reparsed) != shape(file) || comment_texts(&reparsed) != comment_texts(file) {
        problems.push(format!(
            "formatting changed the tree or comments:\n{formatted}"
        ));
    }
    if format_source(&formatted).as_ref() != Ok(&formatted) {
        problems.push(format!("formatting twice changed the text:\n{formatted}"));
    }
    problems
}

fn error_problems(source: &str, err: &SyntaxError) -> Vec<String> {
    let mut problems = Vec::new();
    let span = err.span();
    let (start, end) = (span.offset(), span.offset() + span.len());
    if end > source.len() {
        problems.push(format!(
            "span {start}..{end} runs past the end ({})",
            source.len()
        ));
    } else if !source.is_char_boundary(start) || !source.is_char_boundary(end) {
        problems.push(format!("span {start}..{end} splits a character"));
    }
    for text in own_words(err) {
        for marker in RULE_NAME_MARKERS {
            if text.contains(marker) {
                problems.push(format!("`{marker}` in {text:?}"));
            }
        }
    }
    problems
}

/// The error's message, help and labels, without the text it quotes from
/// the source (which may hold anything).
fn own_words(err: &SyntaxError) -> Vec<String> {
    let message = err.to_string();
    let mut words = match err {
        SyntaxError::Unexpected {
            found, expected, ..
        } => vec![message.replace(found.as_str(), ""), expected.clone()],
        SyntaxError::BadEscape { text, .. } => vec![message.replace(text.as_str(), "")],
        _ => vec![message],
    };
    words.extend(err.help().map(|h| h.to_string()));
    words.extend(
        err.labels()
            .into_iter()
            .flatten()
            .filter_map(|l| l.label().map(str::to_string)),
    );
    words
}

/// Parses soundly, and formats soundly if it parses.
fn assert_sound(source: &str) -> Result<(), TestCaseError> {
    let mut problems = parse_problems(source);
    if let Ok(file) = parse_file(source) {
        problems.extend(format_problems(source, &file));
    }
    prop_assert!(problems.is_empty(), "{problems:?} for {source:?}");
    Ok(())
}

// ------------------------------------------------------------ token soup --

/// Words of the language, and a few of what it does not hold.
const VOCABULARY: &[&str] = &[
    "import",
    "policy",
    "default",
    "on_error",
    "enum",
    "data_class",
    "system",
    "context",
    "entity",
    "data",
    "action",
    "object",
    "params",
    "reversible",
    "compensable",
    "irreversible",
    "within",
    "triggers",
    "reads",
    "sends",
    "upstream",
    "agent",
    "owner",
    "workflow",
    "scope",
    "systems",
    "objects",
    "records",
    "where",
    "approver",
    "title",
    "contact",
    "budget",
    "limit",
    "window",
    "per",
    "on_exhausted",
    "risk",
    "rule",
    "raise",
    "on",
    "for",
    "when",
    "consume",
    "by",
    "allow",
    "deny",
    "escalate",
    "constrain",
    "to",
    "require",
    "dry_run",
    "rollback",
    "if",
    "then",
    "else",
    "has",
    "over",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "plan",
    "count",
    "sum",
    "baseline",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ":",
    "=",
    "->",
    ",",
    ".",
    "?",
    "*",
    ".*",
    "==",
    "!=",
    "<=",
    ">=",
    "+",
    "-",
    "/",
    "%",
    "42",
    "1_000",
    "0.75",
    "500 USD",
    "12.50EUR",
    "15m",
    "1h30m",
    "09:00",
    "\"text\"",
    "\"a\\nb\"",
    "\"\\u{1F600}\"",
    "\"\\u{110000}\"",
    "\"\\q\"",
    "\"open",
    "a",
    "x.y",
    "crm.update_owner",
    "crm.*",
    "growth-bot",
    "Set<Int>",
    "Money<USD>",
    "// c",
    "/// d",
    "`",
    "@",
    "#",
    "\u{0}",
    "é",
    "\u{202E}",
    "\r",
    "日本",
];

fn token_soup() -> impl Strategy<Value = String> {
    let separator = prop::sample::select(vec![" ", "\n", "", "\t", "\r\n"]);
    vec((prop::sample::select(VOCABULARY), separator), 0..120).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(token, separator)| [token, separator])
            .collect()
    })
}

// -------------------------------------------------------------- mutations --

#[derive(Clone, Debug)]
enum Mutation {
    DeleteByte(usize),
    InsertByte(usize, u8),
    SwapBytes(usize, usize),
    DeleteToken(usize),
    DuplicateToken(usize),
    SwapTokens(usize, usize),
    InsertToken(usize, &'static str),
    DuplicateLine(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>;
    prop_oneof![
        at().prop_map(Mutation::DeleteByte),
        (at(), any::<u8>()).prop_map(|(i, b)| Mutation::InsertByte(i, b)),
        (at(), at()).prop_map(|(i, j)| Mutation::SwapBytes(i, j)),
        at().prop_map(Mutation::DeleteToken),
        at().prop_map(Mutation::DuplicateToken),
        (at(), at()).prop_map(|(i, j)| Mutation::SwapTokens(i, j)),
        (at(), prop::sample::select(VOCABULARY)).prop_map(|(i, t)| Mutation::InsertToken(i, t)),
        at().prop_map(Mutation::DuplicateLine),
        at().prop_map(Mutation::Truncate),
    ]
}

fn mutate(source: &str, mutations: &[Mutation]) -> String {
    let mut text = source.to_string();
    for m in mutations {
        text = match *m {
            Mutation::DeleteByte(_) | Mutation::InsertByte(..) | Mutation::SwapBytes(..) => {
                let mut bytes = text.into_bytes();
                mutate_bytes(&mut bytes, m);
                // A broken character becomes U+FFFD: the parser takes `&str`.
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Mutation::DuplicateLine(i) => {
                let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
                if !lines.is_empty() {
                    let i = i % lines.len();
                    lines.insert(i, lines[i]);
                }
                lines.concat()
            }
            Mutation::Truncate(i) => {
                let mut cut = i % (text.len() + 1);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text[..cut].to_string()
            }
            _ => {
                let mut tokens: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
                mutate_tokens(&mut tokens, m);
                tokens.concat()
            }
        };
    }
    text
}

fn mutate_bytes(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    match *m {
        Mutation::DeleteByte(i) if len > 0 => {
            bytes.remove(i % len);
        }
        Mutation::InsertByte(i, b) => bytes.insert(i % (len + 1), b),
        Mutation::SwapBytes(i, j) if len > 0 => bytes.swap(i % len, j % len),
        _ => {}
    }
}

fn mutate_tokens(tokens: &mut Vec<&str>, m: &Mutation) {
    let len = tokens.len();
    match *m {
        Mutation::DeleteToken(i) if len > 0 => {
            tokens.remove(i % len);
        }
        Mutation::DuplicateToken(i) if len > 0 => {
            let i = i % len;
            tokens.insert(i, tokens[i]);
        }
        Mutation::SwapTokens(i, j) if len > 0 => tokens.swap(i % len, j % len),
        Mutation::InsertToken(i, token) => tokens.insert(i % (len + 1), token),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_never_panics(source in any::<String>()) {
        assert_sound(&source)?;
    }

    #[test]
    fn arbitrary_ascii_never_panics(source in "[\\x00-\\x7f]{0,300}") {
        assert_sound(&source)?;
    }

    #[test]
    fn token_soup_never_panics(source in token_soup()) {
        assert_sound(&source)?;
    }

    #[test]
    fn mutated_policies_never_panic(
        sample in prop::sample::select(SAMPLES.to_vec()),
        mutations in vec(mutation(), 1..8),
    ) {
        assert_sound(&mutate(sample, &mutations))?;
    }
}

// ---------------------------------------------------------- deep nesting --

/// Nesting far past any policy: the parser answers (an error, here), and
/// fast.
#[test]
fn deep_nesting_is_refused_not_crashed_on() {
    let n = 10_000;
    let deep = |open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(n), close.repeat(n))
    };
    let cases = [
        format!("risk r = {}", deep("(", "x", ")")),
        format!("risk r = {}", deep("(", "x", "")),
        format!("risk r = {}", deep("[", "x", "]")),
        format!("risk r = {}", deep("not ", "x", "")),
        format!("risk r = {}", deep("- ", "x", "")),
        format!("risk r = {}", deep("not -", "x", "")),
        format!("risk r = {}", deep("has ", "x", "")),
        format!("risk r = {}", deep("if a then ", "x", " else b")),
        format!("risk r = {}", deep("f(", "x", ")")),
        format!("risk r = {}", deep("x.f(", "x", ")")),
        format!("risk r = {}", deep("count(", "x", ")")),
        format!("rule r on a.b {{ when {} allow }}", deep("(", "x", ")")),
        format!("budget b: Int {{ limit {} }}", deep("[", "1", "]")),
        format!("entity E {{ f: {} }}", deep("Set<", "Int", ">")),
        deep("rule r on a.b {", "", "}"),
        deep("rule r on a.b { constrain {", "", "} }"),
        deep("{", "", "}"),
        deep("\"", "", ""),
        deep("// ", "", "\n"),
    ];
    let mut problems = Vec::new();
    for source in &cases {
        for problem in parse_problems(source) {
            problems.push(format!("{}…: {problem}", &source[..40.min(source.len())]));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Nesting within the limit parses; one level more is refused with the
/// error that names the limit.
#[test]
fn nesting_limit_is_exact() {
    let limit = actpol_syntax::MAX_NESTING;
    let nested = |levels: usize| format!("risk r = {}x{}", "(".repeat(levels), ")".repeat(levels));
    // The risk's expression is one level; each parenthesis adds one.
    assert!(parse_file(&nested(limit - 1)).is_ok());
    let refused = parse_file(&nested(limit)).expect_err("past the limit");
    assert!(
        matches!(refused, SyntaxError::TooDeep { .. }),
        "{refused:?}"
    );
}

/// A flat chain is a tree one level deeper per operator or accessor: chains
/// up to the depth limit parse, longer ones are refused with `too_deep`.
#[test]
fn long_chains_parse_up_to_the_depth_limit() {
    let fits = actpol_syntax::MAX_DEPTH - 1;
    for (op, n) in [(" + y", fits), (" or y", fits), (".y", fits)] {
        let source = format!("risk r = x{}", op.repeat(n));
        assert!(parse_problems(&source).is_empty());
        assert!(parse_file(&source).is_ok(), "{n} x `{op}`");
        let longer = format!("risk r = x{}", op.repeat(n + 2));
        let err = parse_file(&longer).expect_err("past the limit");
        assert!(err.to_string().contains("nests deeper"), "{err}");
    }
}

/// A chain of operators or accessors builds a tree as deep as the chain is
/// long, and dropping (or cloning, comparing, printing) that tree recurses
/// once per level: the parser refuses chains past its depth limit.
#[test]
fn very_long_chains_are_parsed_or_refused_without_overflow() {
    let source = format!("risk r = x{}", " + y".repeat(100_000));
    let outcome = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || parse_file(&source).is_ok())
        .expect("thread starts")
        .join();
    assert!(outcome.is_ok());
}

// ------------------------------------------------------- text direction --

/// Trojan Source (CVE-2021-42574): a text-direction control makes a line
/// read differently from what the parser sees. Refused wherever it stands,
/// in code, strings and comments, with the place and the code point.
#[test]
fn text_direction_controls_are_refused_everywhere() {
    let controls = ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}');
    for control in controls {
        for source in [
            format!("rule r on a.b {{ when params.x == \"admin{control}\" deny \"x\" }}"),
            format!("// reviewed {control} ok\nrule r on a.b {{ deny \"x\" }}"),
            format!("rule r on a.b {{ {control}deny \"x\" }}"),
        ] {
            let err = parse_file(&source).expect_err("a text-direction control is refused");
            assert_eq!(
                err.code().map(|c| c.to_string()).as_deref(),
                Some("actpol::syntax::bidi_control"),
                "{source:?}"
            );
            let span = err.span();
            assert_eq!(
                &source[span.offset()..span.offset() + span.len()],
                control.to_string()
            );
            let code_point = format!("U+{:04X}", u32::from(control));
            assert!(err.to_string().contains(&code_point), "{err}");
            let help = err.help().map(|h| h.to_string()).unwrap_or_default();
            assert!(
                help.contains(&format!("\\u{{{:04X}}}", u32::from(control))),
                "{help}"
            );
        }
    }
    // The escape the help suggests is accepted.
    assert!(parse_file("rule r on a.b { when params.x == \"\\u{202E}\" deny \"x\" }").is_ok());
    assert!(actpol_syntax::parse_expr("\"a\u{2067}b\"").is_err());
}
