//! What the checker reports: errors (the policy cannot be compiled) and
//! lints (warnings: it compiles, but something in it is likely a mistake).
//!
//! Every diagnostic has a stable code from the table in `docs/language.md`,
//! a lowercase message quoting user input in backticks, a labelled span and
//! a help line that says what to do.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// Errors: a policy with any of these yields no IR.
#[derive(Clone, Debug, Error, Diagnostic, PartialEq, Eq)]
pub enum CheckError {
    #[error("unknown type `{name}`")]
    #[diagnostic(code(actpol::check::unknown_type), help("{help}"))]
    UnknownType {
        name: String,
        #[label("no type, enum or entity is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("unknown entity `{name}`")]
    #[diagnostic(code(actpol::check::unknown_entity), help("{help}"))]
    UnknownEntity {
        name: String,
        #[label("no entity is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::unknown_attribute), help("{help}"))]
    UnknownAttribute {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("unknown action `{name}`")]
    #[diagnostic(code(actpol::check::unknown_action), help("{help}"))]
    UnknownAction {
        name: String,
        #[label("no action is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("enum `{enum_name}` has no variant `{variant}`")]
    #[diagnostic(code(actpol::check::unknown_variant), help("{help}"))]
    UnknownVariant {
        enum_name: String,
        variant: String,
        #[label("not a variant of `{enum_name}`")]
        span: SourceSpan,
        help: String,
    },

    #[error("unknown budget `{name}`")]
    #[diagnostic(code(actpol::check::unknown_budget), help("{help}"))]
    UnknownBudget {
        name: String,
        #[label("no budget is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("unknown agent `{name}`")]
    #[diagnostic(code(actpol::check::unknown_agent), help("{help}"))]
    UnknownAgent {
        name: String,
        #[label("no agent is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("unknown rule `{name}`")]
    #[diagnostic(code(actpol::check::unknown_rule), help("{help}"))]
    UnknownRule {
        name: String,
        #[label("no rule is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::invalid_precedence), help("{help}"))]
    InvalidPrecedence {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("unknown approver `{name}`")]
    #[diagnostic(code(actpol::check::unknown_approver), help("{help}"))]
    UnknownApprover {
        name: String,
        #[label("no approver is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("no agent runs workflow `{name}`")]
    #[diagnostic(code(actpol::check::unknown_workflow), help("{help}"))]
    UnknownWorkflow {
        name: String,
        #[label("no agent declares `workflow {name}`")]
        span: SourceSpan,
        help: String,
    },

    #[error("unknown system `{name}`")]
    #[diagnostic(code(actpol::check::unknown_system), help("{help}"))]
    UnknownSystem {
        name: String,
        #[label("no system is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("unknown data class `{name}`")]
    #[diagnostic(code(actpol::check::unknown_data_class), help("{help}"))]
    UnknownDataClass {
        name: String,
        #[label("no data class is called this")]
        span: SourceSpan,
        help: String,
    },

    #[error("unknown destination `{name}`")]
    #[diagnostic(code(actpol::check::unknown_destination), help("{help}"))]
    UnknownDestination {
        name: String,
        #[label("an action sends `internal` or `external`")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::unknown_param), help("{help}"))]
    UnknownParam {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("the context has no field `{name}`")]
    #[diagnostic(code(actpol::check::unknown_context), help("{help}"))]
    UnknownContext {
        name: String,
        #[label("not a context field")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::unknown_name), help("{help}"))]
    UnknownName {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("cannot import `{path}`")]
    #[diagnostic(
        code(actpol::check::unknown_import),
        help("an import path is relative to the importing file; check the spelling and that the file exists")
    )]
    UnknownImport {
        path: String,
        #[label("{problem}")]
        span: SourceSpan,
        problem: String,
    },

    #[error("files import each other in a cycle: {cycle}")]
    #[diagnostic(
        code(actpol::check::import_cycle),
        help("break the cycle: move what these files share into a file that imports none of them")
    )]
    ImportCycle {
        cycle: String,
        #[label("this import closes the cycle")]
        span: SourceSpan,
    },

    #[error("`{path}` imports itself")]
    #[diagnostic(
        code(actpol::check::self_import),
        help("remove this import: a file's own declarations are already in scope")
    )]
    SelfImport {
        path: String,
        #[label("this import names the file it is in")]
        span: SourceSpan,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::type_mismatch), help("{help}"))]
    TypeMismatch {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        /// The other operand, when two clash.
        #[label("{also_label}")]
        also: Option<SourceSpan>,
        also_label: String,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::unit_mismatch), help("{help}"))]
    UnitMismatch {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        /// The other operand, when two clash.
        #[label("{also_label}")]
        also: Option<SourceSpan>,
        also_label: String,
        help: String,
    },

    #[error("`{field}` is optional and may be absent here")]
    #[diagnostic(code(actpol::check::optional_without_has), help("{help}"))]
    OptionalWithoutHas {
        field: String,
        #[label("read without `has {field}` proving it present")]
        span: SourceSpan,
        help: String,
    },

    #[error("`{read}` goes through too many references")]
    #[diagnostic(code(actpol::check::too_many_hops), help("{help}"))]
    TooManyHops {
        read: String,
        #[label("more references than a read may follow")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::constrain_unknown_param), help("{help}"))]
    ConstrainUnknownParam {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("budget `{budget}` counts `{expected}`, but this amount is `{found}`")]
    #[diagnostic(code(actpol::check::consume_type), help("{help}"))]
    ConsumeType {
        budget: String,
        expected: String,
        found: String,
        #[label("an amount of `{found}`")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::duplicate_name), help("{help}"))]
    DuplicateName {
        message: String,
        #[label("declared again here")]
        span: SourceSpan,
        #[label("first declared here")]
        first: Option<SourceSpan>,
        help: String,
    },

    #[error("`{member}` is given twice in {owner}")]
    #[diagnostic(code(actpol::check::duplicate_member), help("{help}"))]
    DuplicateMember {
        member: String,
        owner: String,
        #[label("given again here")]
        span: SourceSpan,
        #[label("first given here")]
        first: Option<SourceSpan>,
        help: String,
    },

    #[error("{owner} has no `{member}`")]
    #[diagnostic(code(actpol::check::missing_member), help("{help}"))]
    MissingMember {
        member: String,
        owner: String,
        #[label("`{member}` is required here")]
        span: SourceSpan,
        help: String,
    },

    #[error("`{level}` needs a reason")]
    #[diagnostic(code(actpol::check::missing_reason), help("{help}"))]
    MissingReason {
        level: String,
        #[label("no reason given")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::invalid_outcome), help("{help}"))]
    InvalidOutcome {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("`{from} -> {to}` does not lead to a stricter decision")]
    #[diagnostic(code(actpol::check::raise_not_stricter), help("{help}"))]
    RaiseNotStricter {
        from: String,
        to: String,
        #[label("`{to}` is not stricter than `{from}`")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::invalid_literal), help("{help}"))]
    InvalidLiteral {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::invalid_bounds), help("{help}"))]
    InvalidBounds {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },

    #[error("unknown time zone `{name}`")]
    #[diagnostic(code(actpol::check::unknown_zone), help("{help}"))]
    UnknownZone {
        name: String,
        #[label("not a zone of the IANA database")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::invalid_pattern), help("{help}"))]
    InvalidPattern {
        message: String,
        #[label("this pattern does not compile")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::not_constant), help("{help}"))]
    NotConstant {
        message: String,
        #[label("not a constant")]
        span: SourceSpan,
        help: String,
    },

    #[error("`{func}` takes {expected}, but {found} given")]
    #[diagnostic(code(actpol::check::wrong_arity), help("{help}"))]
    WrongArity {
        func: String,
        expected: String,
        found: String,
        #[label("{found} given")]
        span: SourceSpan,
        help: String,
    },

    #[error("risk `{risk}` does not apply to `{action}`")]
    #[diagnostic(code(actpol::check::risk_out_of_scope), help("{help}"))]
    RiskOutOfScope {
        risk: String,
        action: String,
        #[label("read where `{action}` may be the action")]
        span: SourceSpan,
        help: String,
    },

    #[error("`{path}` has no `policy` header")]
    #[diagnostic(
        code(actpol::check::no_policy),
        help("add a header such as `policy growth {{ default deny \"no rule matched\" }}`, or import this file from a file that has one")
    )]
    NoPolicy {
        path: String,
        #[label("a policy to compile starts here")]
        span: SourceSpan,
    },

    #[error("a second `policy` header: policy `{name}` is already named")]
    #[diagnostic(code(actpol::check::duplicate_policy), help("{help}"))]
    DuplicatePolicy {
        name: String,
        #[label("second header")]
        span: SourceSpan,
        #[label("first header")]
        first: Option<SourceSpan>,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(actpol::check::invalid_type), help("{help}"))]
    InvalidType {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
}

/// Warnings: the policy compiles, but part of it cannot do what it says.
#[derive(Clone, Debug, Error, Diagnostic, PartialEq, Eq)]
pub enum Lint {
    #[error("pattern `{pattern}` matches no declared action")]
    #[diagnostic(
        code(actpol::lint::unmatched_pattern),
        severity(Warning),
        help("{help}")
    )]
    UnmatchedPattern {
        pattern: String,
        #[label("matches nothing")]
        span: SourceSpan,
        help: String,
    },

    #[error("rule `{rule}` can never fire")]
    #[diagnostic(code(actpol::lint::never_fires), severity(Warning), help("{help}"))]
    NeverFires {
        rule: String,
        #[label("{why}")]
        span: SourceSpan,
        why: String,
        help: String,
    },

    #[error("rule `{rule}` can never change a decision: rule `{by}` always outranks it")]
    #[diagnostic(code(actpol::lint::shadowed), severity(Warning), help("{help}"))]
    Shadowed {
        rule: String,
        by: String,
        #[label("shadowed by `{by}`")]
        span: SourceSpan,
        help: String,
    },

    #[error("`has {field}` always holds")]
    #[diagnostic(code(actpol::lint::has_required), severity(Warning), help("{help}"))]
    HasRequired {
        field: String,
        #[label("a required field: always present")]
        span: SourceSpan,
        help: String,
    },

    #[error("budget `{name}` is never consumed or read")]
    #[diagnostic(
        code(actpol::lint::unused_budget),
        severity(Warning),
        help("consume it in a rule (`consume {name} by …`) or remove it")
    )]
    UnusedBudget {
        name: String,
        #[label("unused")]
        span: SourceSpan,
    },

    #[error("no rule can ever apply to agent `{name}`")]
    #[diagnostic(code(actpol::lint::unused_agent), severity(Warning), help("{help}"))]
    UnusedAgent {
        name: String,
        #[label("{why}")]
        span: SourceSpan,
        why: String,
        help: String,
    },

    #[error(
        "rule `{rule}` allows irreversible action `{action}` without asking for a rollback plan"
    )]
    #[diagnostic(
        code(actpol::lint::allow_irreversible),
        severity(Warning),
        help("{help}")
    )]
    AllowIrreversible {
        rule: String,
        action: String,
        #[label("allows `{action}`, which cannot be undone")]
        span: SourceSpan,
        help: String,
    },

    #[error("rule `{rule}` stops checking when `{field}` is absent")]
    #[diagnostic(code(actpol::lint::guarded_by_has), severity(Warning), help("{help}"))]
    GuardedByHas {
        rule: String,
        field: String,
        #[label("the rule holds only where `{field}` is given")]
        span: SourceSpan,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(
        code(actpol::lint::invalid_suppression),
        severity(Warning),
        help("{help}")
    )]
    InvalidSuppression {
        message: String,
        #[label("this suppresses nothing")]
        span: SourceSpan,
        help: String,
    },
}

/// "did you mean `x`?" when a candidate is close to `word`, else `otherwise`.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    otherwise: impl FnOnce() -> String,
) -> String {
    match actpol_core::suggest::did_you_mean(word, candidates) {
        Some(close) => format!("did you mean `{close}`?"),
        None => otherwise(),
    }
}

/// `` `a`, `b` and `c` `` for help lines; the first `limit` names only.
pub(crate) fn list<'a>(names: impl IntoIterator<Item = &'a str>, limit: usize) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        return "none".to_string();
    }
    let mut shown: Vec<String> = names.iter().take(limit).map(|n| format!("`{n}`")).collect();
    if names.len() > limit {
        shown.push(format!("{} more", names.len() - limit));
    }
    match shown.len() {
        1 => shown.remove(0),
        _ => {
            let last = shown.pop().unwrap_or_default();
            format!("{} and {last}", shown.join(", "))
        }
    }
}

/// An import the loader refused to follow, under the refusal's own code
/// (`ErrorCode::LoadImportOutsideRoot`, …): the label says why, and never
/// quotes the file.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("cannot import `{path}`")]
pub struct ImportRefused {
    path: String,
    span: SourceSpan,
    refusal: crate::ImportRefusal,
}

impl ImportRefused {
    pub fn new(path: &str, span: actpol_syntax::ast::Span, refusal: &crate::ImportRefusal) -> Self {
        ImportRefused {
            path: path.to_string(),
            span: span.into(),
            refusal: refusal.clone(),
        }
    }
}

impl Diagnostic for ImportRefused {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.refusal.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.refusal.help))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.refusal.reason.clone()), self.span),
        )))
    }
}
