//! Turns pest's failures into [`SyntaxError`]s that speak of the language,
//! never of grammar rule names.

use pest::error::{ErrorVariant, InputLocation};

use crate::ast::Span;
use crate::error::SyntaxError;
use crate::parser::Rule;

/// Keyword and punctuation rules: matched for their text, dropped from the
/// tree.
pub(crate) fn is_token(rule: Rule) -> bool {
    keyword_text(rule).is_some() || punctuation_text(rule).is_some()
}

fn punctuation_text(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        lbrace => "{",
        rbrace => "}",
        lparen => "(",
        rparen => ")",
        lbracket => "[",
        rbracket => "]",
        langle => "<",
        rangle => ">",
        colon => ":",
        equals => "=",
        arrow => "->",
        comma => ",",
        dot => ".",
        range_dots => "..",
        _ => return None,
    })
}

fn keyword_text(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        kw_import => "import",
        kw_policy => "policy",
        kw_default => "default",
        kw_on_error => "on_error",
        kw_max_skew => "max_skew",
        kw_reservation_ttl => "reservation_ttl",
        kw_approval_ttl => "approval_ttl",
        kw_enum => "enum",
        kw_data_class => "data_class",
        kw_system => "system",
        kw_context => "context",
        kw_entity => "entity",
        kw_record => "record",
        kw_data => "data",
        kw_action => "action",
        kw_object => "object",
        kw_params => "params",
        kw_reversible => "reversible",
        kw_compensable => "compensable",
        kw_irreversible => "irreversible",
        kw_within => "within",
        kw_triggers => "triggers",
        kw_reads => "reads",
        kw_sends => "sends",
        kw_agent => "agent",
        kw_owner => "owner",
        kw_workflow => "workflow",
        kw_scope => "scope",
        kw_systems => "systems",
        kw_objects => "objects",
        kw_records => "records",
        kw_where => "where",
        kw_approver => "approver",
        kw_title => "title",
        kw_contact => "contact",
        kw_budget => "budget",
        kw_limit => "limit",
        kw_window => "window",
        kw_per => "per",
        kw_on_exhausted => "on_exhausted",
        kw_risk => "risk",
        kw_rule => "rule",
        kw_raise => "raise",
        kw_on => "on",
        kw_for => "for",
        kw_when => "when",
        kw_consume => "consume",
        kw_by => "by",
        kw_allow => "allow",
        kw_deny => "deny",
        kw_escalate => "escalate",
        kw_constrain => "constrain",
        kw_to => "to",
        kw_require => "require",
        kw_if => "if",
        kw_then => "then",
        kw_else => "else",
        kw_has => "has",
        kw_over => "over",
        kw_overrides => "overrides",
        _ => return None,
    })
}

/// Keywords that open a top-level declaration.
const DECLARATION_KEYWORDS: &[Rule] = &[
    Rule::kw_import,
    Rule::kw_policy,
    Rule::kw_enum,
    Rule::kw_data_class,
    Rule::kw_system,
    Rule::kw_context,
    Rule::kw_entity,
    Rule::kw_record,
    Rule::kw_action,
    Rule::kw_agent,
    Rule::kw_approver,
    Rule::kw_budget,
    Rule::kw_risk,
    Rule::kw_rule,
    Rule::kw_raise,
];

const OUTCOME_KEYWORDS: &[Rule] = &[
    Rule::kw_allow,
    Rule::kw_deny,
    Rule::kw_escalate,
    Rule::kw_constrain,
];

const DECLARATION: &str = "a declaration (`rule`, `action`, `entity`, `agent`, `budget`, …)";

/// What a user should read for a rule the parser expected.
fn phrase(rule: Rule) -> Option<String> {
    use Rule::*;
    if let Some(token) = keyword_text(rule).or_else(|| punctuation_text(rule)) {
        return Some(format!("`{token}`"));
    }
    let text = match rule {
        EOI => "end of file",
        ident | name => "a name",
        action_name => "an action name such as `crm.update_owner`",
        action_pattern | action_patterns => {
            "an action pattern such as `crm.update_owner`, `crm.*` or `*`"
        }
        window_target => "an action pattern",
        string | string_inner => "a string",
        int_lit | number => "a number",
        decimal_lit => "a decimal number",
        money_lit | currency => "a currency code such as `USD`",
        duration_lit => "a duration such as `15m`",
        time_of_day => "a time of day such as `09:30`",
        bool_lit => "`true` or `false`",
        expr | term | paren | set_lit | if_expr | has_expr | window_call | call | op_not
        | op_neg => "an expression",
        op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_in | op_add
        | op_sub | op_mul | op_div | op_rem => "an operator",
        accessor => "`.`",
        call_args => "`(`",
        type_expr | set_type | list_type | money_type => "a type such as `Int` or `Money<USD>`",
        field => "a field such as `amount: Money<USD>`",
        optional_mark => "`?`",
        outcome | allow_outcome | deny_outcome | escalate_outcome | constrain_outcome => {
            "an outcome (`allow`, `deny`, `escalate to …`, `constrain { … }`)"
        }
        constraint | require_constraint | param_constraint => {
            "a constraint such as `params.count <= 10` or `require dry_run`"
        }
        requirement => "`dry_run` or `rollback`",
        constraint_op => "`<=`, `<`, `>=`, `>` or `in`",
        decision_level => "`allow`, `constrain` or `escalate`",
        raise_arm => "an arm such as `allow -> escalate to approver \"reason\"`",
        window_span | plan_window => "a duration such as `1h`, or `plan`",
        window_fn => "`count`, `sum` or `baseline`",
        budget_key => "`agent`, `workflow`, `owner`, `object` or `plan`",
        file | import_decl | policy_decl | enum_decl | data_class_decl | system_decl
        | context_decl | entity_decl | record_decl | action_decl | agent_decl | approver_decl
        | budget_decl | risk_decl | rule_decl | raise_decl => DECLARATION,
        reversibility | reversible | irreversible | compensable => {
            "`reversible`, `compensable by …` or `irreversible`"
        }
        trigger => "an action name or `system <name>`",
        overrides_clause => "`overrides` and the rules whose denials the escalation stands above",
        _ => return None,
    };
    Some(text.to_string())
}

fn expected_phrase(positives: &[Rule]) -> String {
    let mut rules: Vec<Rule> = positives.to_vec();
    let mut phrases: Vec<String> = Vec::new();
    if DECLARATION_KEYWORDS
        .iter()
        .filter(|k| rules.contains(k))
        .count()
        > 3
    {
        rules.retain(|r| !DECLARATION_KEYWORDS.contains(r));
        phrases.push(DECLARATION.into());
    }
    if OUTCOME_KEYWORDS.iter().all(|k| rules.contains(k)) {
        rules.retain(|r| !OUTCOME_KEYWORDS.contains(r));
        phrases.push("an outcome (`allow`, `deny`, `escalate to …`, `constrain { … }`)".into());
    }
    for rule in rules {
        if let Some(p) = phrase(rule) {
            if !phrases.contains(&p) {
                phrases.push(p);
            }
        }
    }
    if phrases.iter().any(|p| p == "an expression") {
        phrases.retain(|p| p != "a name" && p != "a number" && p != "a string");
    }
    // A number may always be followed by a currency; saying so only helps
    // when nothing else could follow.
    if phrases.len() > 1 {
        phrases.retain(|p| !p.starts_with("a currency code"));
    }
    match phrases.len() {
        0 => "something else".to_string(),
        1 => phrases.remove(0),
        _ => {
            let last = phrases.pop().unwrap_or_default();
            format!("{} or {}", phrases.join(", "), last)
        }
    }
}

/// What stands at `pos`, as a phrase.
fn found_phrase(source: &str, pos: usize) -> String {
    let rest = source.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of file".to_string();
    };
    if first.is_ascii_alphanumeric() || first == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        return format!("`{word}`");
    }
    match first {
        '\n' | '\r' => "end of line".to_string(),
        c if c.is_whitespace() => "whitespace".to_string(),
        '`' => "a backtick".to_string(),
        c => format!("`{c}`"),
    }
}

fn help_for(expected: &str, found: &str) -> String {
    if found == "end of file" {
        return "the file ends inside a declaration: close every `{` with `}`".into();
    }
    if expected.contains("an outcome") {
        return "a rule ends with one outcome: `allow`, `deny \"reason\"`, `escalate to <approver> \"reason\"` or `constrain { … }`".into();
    }
    if expected.starts_with("a declaration") {
        return "each top-level item starts with a keyword such as `rule`, `action`, `entity` or `import`".into();
    }
    if expected.contains("an expression") {
        return "write a value, a path such as `params.amount`, or a comparison".into();
    }
    if expected.contains("a type") {
        return "types are `Bool`, `Int`, `Decimal`, `String`, `Money<USD>`, `Duration`, `Timestamp`, `Set<T>`, an enum or an entity".into();
    }
    format!("write {expected} here")
}

/// A binary operator of the expression grammar.
pub(crate) fn is_binary_operator(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        op_or
            | op_and
            | op_eq
            | op_ne
            | op_le
            | op_ge
            | op_lt
            | op_gt
            | op_in
            | op_add
            | op_sub
            | op_mul
            | op_div
            | op_rem
    )
}

/// The words the grammar would have read at a place it expected `rule`.
fn words_of(rule: Rule) -> &'static [&'static str] {
    use Rule::*;
    match rule {
        budget_key => &["agent", "workflow", "owner", "object", "plan"],
        requirement => &["dry_run", "rollback"],
        decision_level => &["allow", "constrain", "escalate"],
        window_fn => &["count", "sum", "baseline"],
        plan_window | window_span => &["plan"],
        outcome | allow_outcome | deny_outcome | escalate_outcome | constrain_outcome => {
            &["allow", "deny", "escalate", "constrain"]
        }
        reversibility | reversible | irreversible | compensable => {
            &["reversible", "compensable", "irreversible"]
        }
        constraint | require_constraint | param_constraint => &["params", "require"],
        op_and => &["and"],
        op_or => &["or"],
        op_not => &["not"],
        op_in => &["in"],
        _ => &[],
    }
}

/// The keyword a misspelt word at `pos` is likely to be: the nearest word
/// the grammar would have read there.
fn misspelt_word(source: &str, pos: usize, positives: &[Rule]) -> Option<&'static str> {
    let rest = source.get(pos..)?;
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let word = &rest[..len];
    if word.len() < 2 || !word.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let declares = positives
        .iter()
        .any(|r| DECLARATION_KEYWORDS.contains(r) || phrase(*r).as_deref() == Some(DECLARATION));
    let candidates = positives
        .iter()
        .filter_map(|r| keyword_text(*r))
        .chain(positives.iter().flat_map(|r| words_of(*r).iter().copied()))
        .chain(
            DECLARATION_KEYWORDS
                .iter()
                .filter(|_| declares)
                .filter_map(|r| keyword_text(*r)),
        );
    actpol_vocab::suggest::did_you_mean(word, candidates)
}

/// Index of the first `"` on the line around `pos` that opens a string not
/// closed before the line ends, if any.
fn unclosed_string(source: &str, pos: usize) -> Option<(usize, usize)> {
    let pos = pos.min(source.len());
    let line_start = source[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[line_start..]
        .find('\n')
        .map_or(source.len(), |i| line_start + i);
    let line = &source[line_start..line_end];
    let mut open = None;
    let mut escaped = false;
    let mut in_comment = false;
    for (i, ch) in line.char_indices() {
        if in_comment {
            break;
        }
        match (ch, open, escaped) {
            (_, Some(_), true) => escaped = false,
            ('\\', Some(_), false) => escaped = true,
            ('"', Some(_), false) => open = None,
            ('"', None, _) => open = Some(i),
            ('/', None, _) if line[i..].starts_with("//") => in_comment = true,
            _ => {}
        }
    }
    open.map(|i| (line_start + i, line_end))
}

pub(crate) fn syntax_error(source: &str, err: pest::error::Error<Rule>) -> SyntaxError {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let point = |p: usize| {
        let end = source
            .get(p..)
            .and_then(|r| r.chars().next())
            .map_or(p, |c| p + c.len_utf8());
        Span::new(p, end).into()
    };
    match err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            if let Some((start, end)) = unclosed_string(source, pos) {
                if start <= pos {
                    return SyntaxError::UnclosedString {
                        span: Span::new(start, end).into(),
                    };
                }
            }
            let operator_expected = positives.iter().any(|r| is_binary_operator(*r));
            if let Some(habit) = crate::habits::habit_at(source, pos, operator_expected) {
                return SyntaxError::Habit(habit);
            }
            let expected = expected_phrase(&positives);
            let found = found_phrase(source, pos);
            let help = misspelt_word(source, pos, &positives)
                .map(|word| format!("did you mean `{word}`?"))
                .unwrap_or_else(|| help_for(&expected, &found));
            SyntaxError::Unexpected {
                help,
                found,
                expected,
                span: point(pos),
            }
        }
        ErrorVariant::CustomError { message } => SyntaxError::Limit {
            reason: message,
            span: point(pos),
        },
    }
}
