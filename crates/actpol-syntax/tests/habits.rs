//! Habits from other languages and misspelt keywords: the error names the
//! habit and says how this language writes it, under a code of its own.

use actpol_syntax::{parse_file, SyntaxError};
use miette::Diagnostic;

const HEAD: &str = "action crm.rename { system crm object Account }\n";

/// The error of a rule whose condition is `when`, as code, help and the
/// text its label points at.
fn error_of(body: &str) -> (String, String, String) {
    let source = format!("{HEAD}rule r on crm.rename {{\n  {body}\n}}\n");
    let err = parse_file(&source).expect_err("the text is not in the grammar");
    let code = err.code().map(|c| c.to_string()).unwrap_or_default();
    let help = err.help().map(|h| h.to_string()).unwrap_or_default();
    let span = err.span();
    let marked = source[span.offset()..span.offset() + span.len()].to_string();
    (code, help, marked)
}

fn assert_habit(body: &str, code: &str, help: &str, marked: &str) {
    let (found_code, found_help, found_marked) = error_of(body);
    assert_eq!(found_code, code, "for {body:?}: {found_help}");
    assert!(found_help.contains(help), "for {body:?}: {found_help}");
    assert_eq!(found_marked, marked, "for {body:?}");
}

#[test]
fn a_single_equals_sign_is_asked_to_compare() {
    assert_habit(
        "when params.count = 5 deny \"x\"",
        "actpol::syntax::single_equals",
        "compare with `==`",
        "=",
    );
}

#[test]
fn symbol_operators_are_asked_for_their_words() {
    assert_habit(
        "when params.a && params.b deny \"x\"",
        "actpol::syntax::symbol_operator",
        "write `and`",
        "&&",
    );
    assert_habit(
        "when params.a || params.b deny \"x\"",
        "actpol::syntax::symbol_operator",
        "write `or`",
        "||",
    );
    assert_habit(
        "when !params.a deny \"x\"",
        "actpol::syntax::symbol_operator",
        "write `not`",
        "!",
    );
}

#[test]
fn single_quotes_are_asked_to_be_double() {
    assert_habit(
        "when params.name == 'bob' deny \"x\"",
        "actpol::syntax::single_quote",
        "write `\"bob\"`",
        "'bob'",
    );
}

#[test]
fn commas_in_numbers_are_asked_to_be_underscores() {
    assert_habit(
        "when params.count > 1,000 deny \"x\"",
        "actpol::syntax::digit_group",
        "write `1_000`",
        "1,000",
    );
    assert_habit(
        "when params.count > 1,000,000 deny \"x\"",
        "actpol::syntax::digit_group",
        "write `1_000_000`",
        "1,000,000",
    );
}

#[test]
fn currency_symbols_are_asked_to_be_codes() {
    assert_habit(
        "when params.amount > $50 deny \"x\"",
        "actpol::syntax::currency_symbol",
        "`50 USD`",
        "$50",
    );
    assert_habit(
        "when params.amount > €12.50 deny \"x\"",
        "actpol::syntax::currency_symbol",
        "`12.50 EUR`",
        "€12.50",
    );
}

#[test]
fn twelve_hour_times_are_asked_for_the_24_hour_clock() {
    assert_habit(
        "when now.time_of_day_in(\"UTC\") > 7am deny \"x\"",
        "actpol::syntax::clock_time",
        "write `07:00`",
        "7am",
    );
    assert_habit(
        "when now.time_of_day_in(\"UTC\") > 7:30 pm deny \"x\"",
        "actpol::syntax::clock_time",
        "write `19:30`",
        "7:30 pm",
    );
    assert_habit(
        "when now.time_of_day_in(\"UTC\") < 12am deny \"x\"",
        "actpol::syntax::clock_time",
        "write `00:00`",
        "12am",
    );
}

#[test]
fn misspelt_keywords_get_a_did_you_mean() {
    let (code, help, marked) = error_of("wehn params.a deny \"x\"");
    assert_eq!(code, "actpol::syntax::unexpected");
    assert_eq!(help, "did you mean `when`?");
    assert_eq!(marked, "w");
    let (_, help, _) = error_of("when params.a deni \"x\"");
    assert_eq!(help, "did you mean `deny`?");
    let (_, help, _) = error_of("escalte to lead \"x\"");
    assert_eq!(help, "did you mean `escalate`?");
    let err = parse_file("entiy Account { name: String }").expect_err("misspelt");
    assert_eq!(
        err.help().map(|h| h.to_string()).as_deref(),
        Some("did you mean `entity`?")
    );
}

#[test]
fn a_word_far_from_every_keyword_keeps_the_general_help() {
    let (code, help, _) = error_of("zzzzzz params.a deny \"x\"");
    assert_eq!(code, "actpol::syntax::unexpected");
    assert!(!help.contains("did you mean"), "{help}");
}

#[test]
fn a_money_literal_may_be_glued_to_its_currency() {
    // `100USD` is the amount `100 USD`, as `15m` is a duration: the
    // formatter writes the space.
    let glued = format!("{HEAD}budget b: Money<USD> {{ limit 100USD }}\n");
    let spaced = format!("{HEAD}budget b: Money<USD> {{ limit 100 USD }}\n");
    let glued_file = parse_file(&glued).expect("a glued money literal parses");
    let spaced_file = parse_file(&spaced).expect("a money literal parses");
    let formatted = actpol_syntax::format_file(&glued_file, &glued);
    assert!(formatted.contains("limit 100 USD"), "{formatted}");
    assert_eq!(formatted, actpol_syntax::format_file(&spaced_file, &spaced));
}

#[test]
fn habit_errors_are_syntax_errors_with_a_span() {
    let err = parse_file("rule r on a.b { when 1 = 1 allow }").expect_err("habit");
    assert!(matches!(err, SyntaxError::Habit(_)));
    assert_eq!(err.labels().into_iter().flatten().count(), 1);
}
