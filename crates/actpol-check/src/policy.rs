//! Everything after the schema: the header, identities, budgets, risks,
//! rules and raises, and the agents' scope predicates; then the IR.

use actpol_core::ids::{ActionId, AgentId, EntityId, RiskId, RuleId};
use actpol_core::schema::{
    AgentDef, ApproverDef, BudgetDef, KeyKind, OutcomeSpec, RaiseDef, RiskMeta, RuleMeta, ScopeDef,
    Timing, Window,
};
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::Level;
use actpol_ir::{self as ir, fold::fold};
use actpol_syntax::ast::{
    self, ActionPattern, AgentMember, ApproverMember, BudgetMember, ExprKind, Ident, PatternKind,
    PolicyEntryKind, ScopeItem, Span, TimingEntry, TimingKind, WindowSpan,
};

use crate::checker::{Checker, RiskSlot, RiskState};
use crate::diag::{suggest, CheckError, Lint};
use crate::expr::{key_kind, Cx, Denial, Frame};
use crate::literal;
use crate::members::Members;
use crate::operators::{self, clash, Clash};
use crate::outcome::{widen_decimal, DEFAULT, ON_ERROR, ON_EXHAUSTED};
use crate::patterns::union;

/// The header's parts, with the defaults of docs/language.md.
#[derive(Debug)]
pub(crate) struct Header {
    pub name: String,
    pub default: OutcomeSpec,
    pub on_error: OutcomeSpec,
    pub timing: Timing,
    pub present: bool,
}

/// Where a rule was written, for lints.
#[derive(Debug)]
pub(crate) struct RuleSite {
    pub file: u32,
    pub name: String,
    pub name_span: Span,
    pub when_span: Option<Span>,
    /// Whether the condition checked without errors (lints read its IR).
    pub when_ok: bool,
    /// Whether every agent and workflow the rule names exists: lints must
    /// not take a filter with a misspelt name for a narrower one.
    pub filters_ok: bool,
    pub outcome_span: Span,
}

/// A records predicate waiting for risks and budgets to be known.
struct PendingRecords<'a> {
    agent: usize,
    entity: EntityId,
    file: u32,
    predicate: &'a ast::Expr,
}

/// How to write a budget's limit of type `wanted`, given one of `found`
/// written as `text`: the literal with its unit set right where it is one.
fn limit_help(wanted: &Type, w: &str, found: &Type, expr: &ast::Expr, text: &str) -> String {
    let amount = match &expr.kind {
        ast::ExprKind::Lit(ast::Literal::Money { amount, .. }) => Some(amount.as_str()),
        ast::ExprKind::Lit(ast::Literal::Int(n)) => Some(n.as_str()),
        _ => None,
    };
    match (wanted, found, amount) {
        (Type::Money(c), Type::Money(_), Some(amount)) => {
            format!("a `{w}` budget counts `{c}`: write `{amount} {c}`")
        }
        (Type::Int | Type::Decimal, Type::Money(_), Some(amount)) => {
            format!("a `{w}` budget counts a number: write `{amount}`")
        }
        (Type::Duration, _, Some(amount)) if !amount.contains('.') => {
            let digits = amount.replace('_', "");
            format!("write the number with a unit: `{digits}h`, `{digits}m` or `{digits}d`")
        }
        _ => match example_of(wanted) {
            Some(example) => format!("write a `{w}` in place of `{text}`, as in `{example}`"),
            None => format!("write a `{w}` in place of `{text}`"),
        },
    }
}

/// A literal of `ty`, for a help line.
fn example_of(ty: &Type) -> Option<String> {
    Some(match ty {
        Type::Money(c) => format!("100 {c}"),
        Type::Duration => "8h".into(),
        Type::Int => "100".into(),
        Type::Decimal => "0.5".into(),
        _ => return None,
    })
}

fn deny(reason: &str) -> OutcomeSpec {
    OutcomeSpec {
        level: Level::Deny,
        approver: None,
        reason: Some(reason.to_string()),
        requires: Vec::new(),
    }
}

/// Whether a budget limit is written with constants only: literals,
/// operators, enum variants and calls of the built-in functions.
fn constant_syntax(e: &ast::Expr, is_enum: &dyn Fn(&str) -> bool) -> bool {
    let all = |items: &[ast::Expr]| items.iter().all(|x| constant_syntax(x, is_enum));

    match &e.kind {
        ExprKind::Lit(_) => true,
        ExprKind::Paren(a) | ExprKind::Unary(_, a) => constant_syntax(a, is_enum),
        ExprKind::Binary(_, a, b) => constant_syntax(a, is_enum) && constant_syntax(b, is_enum),
        ExprKind::If(c, a, b) => [c, a, b].iter().all(|x| constant_syntax(x, is_enum)),
        ExprKind::Set(items) | ExprKind::Call(_, items) => all(items),
        ExprKind::Field(base, _) => matches!(&base.kind, ExprKind::Name(n) if is_enum(&n.name)),
        ExprKind::Name(_) | ExprKind::Method(..) | ExprKind::Window(_) | ExprKind::Has(_) => false,
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn header(&mut self) -> Header {
        let mut header = Header {
            name: String::new(),
            default: deny("no rule matched"),
            on_error: deny("policy evaluation failed"),
            timing: Timing::default(),
            present: !self.decls.headers.is_empty(),
        };
        let Some(first) = self.decls.headers.first() else {
            return header;
        };
        let (file, node, first_span) = (first.file, first.node, first.node.name.span);
        header.name = node.name.name.clone();
        for extra in &self.decls.headers[1..] {
            let same_file = extra.file == file;
            let help = if same_file {
                "a policy has one header: remove this one".to_string()
            } else {
                format!(
                    "a policy has one header, and this file is imported by the policy whose header is at {}: remove one header, or stop importing this file",
                    self.unit.place(file, first_span)
                )
            };
            let diag = CheckError::DuplicatePolicy {
                name: header.name.clone(),
                span: extra.node.name.span.into(),
                first: same_file.then(|| first_span.into()),
                help,
            };
            self.unit.report(extra.file, diag);
        }
        let owner = format!("policy `{}`", header.name);
        let mut members = Members::new(&owner);
        for entry in &node.entries {
            let (member, place) = match entry.kind {
                PolicyEntryKind::Default => ("default", DEFAULT),
                PolicyEntryKind::OnError => ("on_error", ON_ERROR),
            };
            let spec = self.outcome_spec(file, &entry.outcome, place);
            if members.once(&mut self.unit, file, member, entry.span) {
                match entry.kind {
                    PolicyEntryKind::Default => header.default = spec,
                    PolicyEntryKind::OnError => header.on_error = spec,
                }
            }
        }
        for entry in &node.timing {
            let ms = self.timing_duration(file, entry);
            if members.once(&mut self.unit, file, entry.kind.keyword(), entry.span) {
                let slot = match entry.kind {
                    TimingKind::MaxSkew => &mut header.timing.max_skew,
                    TimingKind::ReservationTtl => &mut header.timing.reservation_ttl,
                    TimingKind::ApprovalTtl => &mut header.timing.approval_ttl,
                };
                *slot = ms;
            }
        }
        header
    }

    /// A header duration: `max_skew 0s` is allowed (the clock is exact),
    /// a hold or an approval of no length is not.
    fn timing_duration(&mut self, file: u32, entry: &TimingEntry) -> Option<i64> {
        let d = &entry.duration;
        match literal::duration(&d.text) {
            Ok(ms) if ms > 0 || entry.kind == TimingKind::MaxSkew => Some(ms),
            Ok(_) => {
                self.unit.report(
                    file,
                    CheckError::InvalidLiteral {
                        message: format!(
                            "`{} {}` would expire everything at once",
                            entry.kind.keyword(),
                            d.text
                        ),
                        span: d.span.into(),
                        label: "zero length".into(),
                        help: format!("give it a length, as in `{} 15m`", entry.kind.keyword()),
                    },
                );
                None
            }
            Err(invalid) => {
                self.invalid_literal(file, d.span, invalid);
                None
            }
        }
    }

    fn error_count(&self) -> usize {
        self.unit.errors
    }

    pub(crate) fn approvers(&mut self) {
        for i in 0..self.decls.approvers.len() {
            let d = &self.decls.approvers[i];
            let (file, node) = (d.file, d.node);
            let owner = format!("approver `{}`", node.name.name);
            let mut members = Members::new(&owner);
            let mut def = ApproverDef::default();
            for m in &node.members {
                match m {
                    ApproverMember::Title(text, span) => {
                        if members.once(&mut self.unit, file, "title", *span) {
                            def.title = Some(text.value.clone());
                        }
                    }
                    ApproverMember::Contact(text, span) => {
                        if members.once(&mut self.unit, file, "contact", *span) {
                            def.contact = Some(text.value.clone());
                        }
                    }
                }
            }
            self.approvers.insert(node.name.name.clone(), def);
        }
    }

    /// Agents without their records predicates (which are expressions,
    /// checked once risks and budgets are known).
    fn agents(&mut self) -> Vec<PendingRecords<'a>> {
        let mut pending = Vec::new();
        for i in 0..self.decls.agents.len() {
            let d = &self.decls.agents[i];
            let (file, node) = (d.file, d.node);
            let owner = format!("agent `{}`", node.name.name);
            let mut members = Members::new(&owner);
            let mut def = AgentDef {
                owner: String::new(),
                workflow: String::new(),
                scope: None,
            };
            for m in &node.members {
                match m {
                    AgentMember::Owner(text, span) => {
                        if members.once(&mut self.unit, file, "owner", *span) {
                            def.owner = text.value.clone();
                        }
                    }
                    AgentMember::Workflow(name, span) => {
                        if members.once(&mut self.unit, file, "workflow", *span) {
                            def.workflow = name.name.clone();
                        }
                    }
                    AgentMember::Scope(items, span) => {
                        if members.once(&mut self.unit, file, "scope", *span) {
                            def.scope = Some(self.scope(file, i, items, &mut pending));
                        }
                    }
                }
            }
            let required = [
                ("owner", "owner \"maria@acme.example\""),
                ("workflow", "workflow lead-routing"),
            ];
            members.require(&mut self.unit, file, node.name.span, &required, |example| {
                format!("an agent is tied to an owner and a workflow: add `{example}`")
            });
            if !def.workflow.is_empty() {
                self.workflows.insert(def.workflow.clone());
            }
            self.agents.insert(node.name.name.clone(), def);
        }
        pending
    }

    fn scope(
        &mut self,
        file: u32,
        agent: usize,
        items: &'a [ScopeItem],
        pending: &mut Vec<PendingRecords<'a>>,
    ) -> ScopeDef {
        let owner = format!(
            "the scope of agent `{}`",
            self.decls.agents[agent].name.name
        );
        let mut members = Members::new(&owner);
        let mut records: Vec<(EntityId, Span)> = Vec::new();
        let mut scope = ScopeDef::default();
        for item in items {
            match item {
                ScopeItem::Systems(list) => {
                    if members.once(&mut self.unit, file, "systems", list.span) {
                        let ids = list
                            .names
                            .iter()
                            .filter_map(|n| self.system_id(file, n))
                            .collect();
                        scope.systems = Some(ids);
                    }
                }
                ScopeItem::Objects(list) => {
                    if members.once(&mut self.unit, file, "objects", list.span) {
                        let ids = list
                            .names
                            .iter()
                            .filter_map(|n| self.entity_id(file, n))
                            .collect();
                        scope.objects = Some(ids);
                    }
                }
                ScopeItem::Records {
                    entity,
                    predicate,
                    span,
                } => {
                    let Some(id) = self.entity_id(file, entity) else {
                        continue;
                    };
                    if let Some((_, first)) = records.iter().find(|(e, _)| *e == id) {
                        self.unit.report(
                            file,
                            CheckError::DuplicateMember {
                                member: format!("records {}", entity.name),
                                owner: owner.clone(),
                                span: (*span).into(),
                                first: Some((*first).into()),
                                help: "join the predicates with `and` in one `records` clause"
                                    .into(),
                            },
                        );
                        continue;
                    }
                    records.push((id, *span));
                    pending.push(PendingRecords {
                        agent,
                        entity: id,
                        file,
                        predicate,
                    });
                }
            }
        }
        scope
    }

    pub(crate) fn budgets(&mut self) {
        // Names and types first: rules read them.
        for d in &self.decls.budgets {
            self.budgets.insert(
                d.name.name.clone(),
                BudgetDef {
                    ty: Type::Int,
                    limit: Value::Int(0),
                    window: Window::Plan,
                    key: KeyKind::Agent,
                    on_exhausted: OutcomeSpec {
                        level: Level::Deny,
                        approver: None,
                        reason: None,
                        requires: Vec::new(),
                    },
                },
            );
        }
        for i in 0..self.decls.budgets.len() {
            let (file, node) = (self.decls.budgets[i].file, self.decls.budgets[i].node);
            let ty = self.budget_type(file, &node.ty);
            self.budget_types.push(ty);
            self.budget_used.push(false);
        }
        for i in 0..self.decls.budgets.len() {
            let (file, node) = (self.decls.budgets[i].file, self.decls.budgets[i].node);
            self.budget_body(i, file, node);
        }
    }

    fn budget_type(&mut self, file: u32, te: &ast::TypeExpr) -> Option<Type> {
        let ty = self.resolve_type(file, te)?;
        if matches!(
            ty,
            Type::Int | Type::Decimal | Type::Money(_) | Type::Duration
        ) {
            return Some(ty);
        }
        let name = self.schema.type_name(&ty);
        self.unit.report(
            file,
            CheckError::InvalidType {
                message: format!("a budget cannot count `{name}`"),
                span: te.span.into(),
                label: "not a countable type".into(),
                help: "a budget counts `Int`, `Decimal`, `Money<…>` or `Duration`".into(),
            },
        );
        None
    }

    fn budget_body(&mut self, index: usize, file: u32, node: &ast::BudgetDecl) {
        let owner = format!("budget `{}`", node.name.name);
        let mut members = Members::new(&owner);
        let ty = self.budget_types[index].clone();
        for m in &node.members {
            match m {
                BudgetMember::Limit(expr, span) => {
                    if members.once(&mut self.unit, file, "limit", *span) {
                        if let Some(limit) = self.budget_limit(file, expr, ty.as_ref()) {
                            self.budgets[index].limit = limit;
                        }
                    }
                }
                BudgetMember::Window(w, span) => {
                    if members.once(&mut self.unit, file, "window", *span) {
                        if let Some(window) = self.budget_window(file, w) {
                            self.budgets[index].window = window;
                        }
                    }
                }
                BudgetMember::Per(key, span) => {
                    if members.once(&mut self.unit, file, "per", *span) {
                        self.budgets[index].key = key_kind(key.key);
                    }
                }
                BudgetMember::OnExhausted(outcome, span) => {
                    let spec = self.outcome_spec(file, outcome, ON_EXHAUSTED);
                    if members.once(&mut self.unit, file, "on_exhausted", *span) {
                        self.budgets[index].on_exhausted = spec;
                    }
                }
            }
        }
        let required = [
            ("limit", "limit 500"),
            ("window", "window 1d"),
            ("per", "per agent"),
        ];
        members.require(&mut self.unit, file, node.name.span, &required, |example| {
            format!("add `{example}` to the budget's body")
        });
        if let Some(ty) = ty {
            self.budgets[index].ty = ty;
        }
    }

    fn budget_window(&mut self, file: u32, w: &WindowSpan) -> Option<Window> {
        match w {
            WindowSpan::Plan(_) => Some(Window::Plan),
            WindowSpan::Duration(d) => match literal::duration(&d.text) {
                Ok(ms) if ms > 0 => Some(Window::Span(ms)),
                Ok(_) => {
                    self.unit.report(
                        file,
                        CheckError::InvalidLiteral {
                            message: format!("a budget window of `{}` never holds anything", d.text),
                            span: d.span.into(),
                            label: "zero length".into(),
                            help: "give the window a length, as in `window 1d`, or write `window plan`".into(),
                        },
                    );
                    None
                }
                Err(invalid) => {
                    self.invalid_literal(file, d.span, invalid);
                    None
                }
            },
        }
    }

    /// A limit must fold to a constant of the budget's type.
    fn budget_limit(&mut self, file: u32, expr: &ast::Expr, ty: Option<&Type>) -> Option<Value> {
        let enums = &self.schema.enums;
        let is_enum = |n: &str| enums.contains_key(n);
        if !constant_syntax(expr, &is_enum) {
            self.unit.report(
                file,
                CheckError::NotConstant {
                    message: "a budget limit must be a constant".into(),
                    span: self.unit.tight(file, expr.span).into(),
                    help: "write the amount itself, as in `limit 500` or `limit 5000 USD`: a limit cannot read the envelope".into(),
                },
            );
            return None;
        }
        let nothing = Denial {
            message: "a budget limit cannot read `params` or `object`".into(),
            help: "write the amount itself, as in `limit 500`".into(),
        };
        let frame = Frame {
            file,
            actions: &[],
            objects: Vec::new(),
            params_denied: Some(nothing.clone()),
            object_denied: Some(nothing),
            unresolved: false,
        };
        let mut cx = Cx::new(&frame);
        let typed = self.expr(&mut cx, expr);
        let (Some(wanted), Some(found)) = (ty, typed.ty.clone()) else {
            return None;
        };
        let value = match operators::join(wanted, &found) {
            Some(t) if !t.widen_left && t.widen_right => fold(widen_decimal(typed.expr)),
            Some(t) if !t.widen_left => fold(typed.expr),
            _ => {
                self.limit_type_mismatch(file, expr, wanted, &found);
                return None;
            }
        };
        match value.kind {
            ir::ExprKind::Const(v) => Some(v),
            _ => {
                self.unit.report(
                    file,
                    CheckError::NotConstant {
                        message: "this budget limit does not fold to a value".into(),
                        span: self.unit.tight(file, expr.span).into(),
                        help:
                            "its arithmetic overflows or divides by zero: write the amount itself"
                                .into(),
                    },
                );
                None
            }
        }
    }

    fn limit_type_mismatch(&mut self, file: u32, expr: &ast::Expr, wanted: &Type, found: &Type) {
        let (w, f) = (self.schema.type_name(wanted), self.schema.type_name(found));
        let span = self.unit.tight(file, expr.span);
        let text = self.unit.text(file, span);
        let message = format!("the limit of a `{w}` budget must be `{w}`, not `{f}`");
        let label = format!("this is `{f}`");
        let diag = match (clash(wanted, found), wanted) {
            (Clash::Unit, Type::Money(c)) if found.is_numeric() => CheckError::UnitMismatch {
                message,
                span: span.into(),
                label,
                also: None,
                also_label: String::new(),
                help: format!("write the amount with its currency: `{text} {c}`"),
            },
            (Clash::Unit, _) => CheckError::UnitMismatch {
                message,
                span: span.into(),
                label,
                also: None,
                also_label: String::new(),
                help: limit_help(wanted, &w, found, expr, text),
            },
            (Clash::Type, _) => CheckError::TypeMismatch {
                message,
                span: span.into(),
                label,
                also: None,
                also_label: String::new(),
                help: format!("write a `{w}`"),
            },
        };
        self.unit.report(file, diag);
    }

    /// The actions a list of patterns names. An exact name that names no
    /// action is an error (a misspelling, most likely); a namespace or `*`
    /// that names none is a lint.
    pub(crate) fn resolve_patterns(
        &mut self,
        file: u32,
        patterns: &[ActionPattern],
    ) -> Vec<ActionId> {
        let mut lists = Vec::with_capacity(patterns.len());
        for p in patterns {
            let ids = self.patterns.resolve(&self.schema, &p.kind);
            if ids.is_empty() {
                self.unmatched_pattern(file, p);
            }
            lists.push(ids);
        }
        union(lists)
    }

    /// Whether an exact action name among `patterns` names no action.
    pub(crate) fn names_unknown_action(&self, patterns: Option<&[ActionPattern]>) -> bool {
        patterns.into_iter().flatten().any(|p| {
            matches!(&p.kind, PatternKind::Exact(_))
                && self.patterns.resolve(&self.schema, &p.kind).is_empty()
        })
    }

    fn unmatched_pattern(&mut self, file: u32, p: &ActionPattern) {
        let help = match &p.kind {
            PatternKind::Exact(name) => {
                let help = suggest(name, self.schema.actions.keys().map(String::as_str), || {
                    format!("declare `action {name} {{ … }}`, or remove the pattern")
                });
                let error = CheckError::UnknownAction {
                    name: name.clone(),
                    span: p.span.into(),
                    help,
                };
                self.unit.report(file, error);
                return;
            }
            PatternKind::Namespace(ns) => {
                match actpol_core::suggest::did_you_mean(ns, self.patterns.namespaces()) {
                    Some(close) => format!("did you mean `{close}.*`?"),
                    None => format!(
                        "no declared action is in namespace `{ns}`: declare one, or remove the pattern"
                    ),
                }
            }
            PatternKind::Any => "the policy declares no action yet".into(),
        };
        self.unit.report(
            file,
            Lint::UnmatchedPattern {
                pattern: p.to_string(),
                span: p.span.into(),
                help,
            },
        );
    }

    fn agent_id(&mut self, file: u32, name: &Ident) -> Option<AgentId> {
        if let Some(i) = self.agents.get_index_of(&name.name) {
            return Some(AgentId::from_index(i));
        }
        let help = if self.workflows.contains(&name.name) {
            format!(
                "`{0}` is a workflow, not an agent: write `for workflow {0}`",
                name.name
            )
        } else {
            suggest(&name.name, self.agents.keys().map(String::as_str), || {
                format!(
                    "declare it with `agent {} {{ owner \"…\" workflow … }}`",
                    name.name
                )
            })
        };
        self.unit.report(
            file,
            CheckError::UnknownAgent {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    fn workflow(&mut self, file: u32, name: &Ident) -> Option<String> {
        if self.workflows.contains(&name.name) {
            return Some(name.name.clone());
        }
        let help = if self.agents.contains_key(&name.name) {
            format!(
                "`{0}` is an agent, not a workflow: write `for agent {0}`, or name a workflow an agent runs ({1})",
                name.name,
                crate::diag::list(self.workflows.iter().map(String::as_str), 5)
            )
        } else {
            suggest(
                &name.name,
                self.workflows.iter().map(String::as_str),
                || {
                    format!(
                        "a workflow is named by the agents that run it: add `workflow {}` to an agent",
                        name.name
                    )
                },
            )
        };
        self.unit.report(
            file,
            CheckError::UnknownWorkflow {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    pub(crate) fn prepare_risks(&mut self) {
        for i in 0..self.decls.risks.len() {
            let d = &self.decls.risks[i];
            let (file, node) = (d.file, d.node);
            self.risk_ids
                .insert(node.name.name.clone(), RiskId::from_index(i));
            let actions = node.on.as_ref().map(|on| self.resolve_patterns(file, on));
            self.risks.push(RiskSlot {
                actions,
                ..RiskSlot::default()
            });
        }
    }

    /// The type of a risk, checking it first if need be.
    pub(crate) fn risk_type(&mut self, id: RiskId, file: u32, span: Span) -> Option<Type> {
        match self.risks[id.index()].state {
            RiskState::Done => {}
            RiskState::Unchecked => self.check_risk(id),
            RiskState::Checking => {
                let name = self.decls.risks[id.index()].name.name.clone();
                self.unit.report(
                    file,
                    CheckError::TypeMismatch {
                        message: format!("risk `{name}` depends on its own value"),
                        span: span.into(),
                        label: "read while it is being computed".into(),
                        also: None,
                        also_label: String::new(),
                        help: "a risk cannot read itself, directly or through other risks".into(),
                    },
                );
                return None;
            }
        }
        self.risks[id.index()].ty.clone()
    }

    fn check_risk(&mut self, id: RiskId) {
        self.risks[id.index()].state = RiskState::Checking;
        let d = &self.decls.risks[id.index()];
        let (file, node) = (d.file, d.node);
        let actions = match &self.risks[id.index()].actions {
            Some(list) => list.clone(),
            None => self.patterns.all().to_vec(),
        };
        let mut frame = Frame::over(self, file, &actions);
        frame.unresolved = self.names_unknown_action(node.on.as_deref());
        if node.on.is_none() {
            frame.params_denied = Some(Denial {
                message: format!(
                    "risk `{}` has no `on`, so it cannot read `params`",
                    node.name.name
                ),
                help:
                    "parameters differ from action to action: name the actions with `on <patterns>`"
                        .into(),
            });
        }
        let mut cx = Cx::new(&frame);
        let typed = self.expr(&mut cx, &node.expr);
        let slot = &mut self.risks[id.index()];
        slot.expr = Some(fold(typed.expr));
        slot.ty = typed.ty;
        slot.state = RiskState::Done;
    }

    pub(crate) fn check_risks(&mut self) {
        for i in 0..self.risks.len() {
            if self.risks[i].state == RiskState::Unchecked {
                self.check_risk(RiskId::from_index(i));
            }
        }
    }

    pub(crate) fn rule(&mut self, index: usize) -> (ir::Rule, RuleSite) {
        let d = &self.decls.rules[index];
        let (file, node, span) = (d.file, d.node, d.span);
        let actions = self.resolve_patterns(file, &node.on);
        let errors_before_filters = self.error_count();
        let agents = node.agents.as_ref().map(|list| {
            list.names
                .iter()
                .filter_map(|n| self.agent_id(file, n))
                .collect()
        });
        let workflows = node.workflows.as_ref().map(|list| {
            list.names
                .iter()
                .filter_map(|n| self.workflow(file, n))
                .collect()
        });
        let filters_ok = self.error_count() == errors_before_filters;
        let mut frame = Frame::over(self, file, &actions);
        frame.unresolved = self.names_unknown_action(Some(&node.on));
        let mut cx = Cx::new(&frame);
        let what = format!("rule `{}`", node.name.name);
        let errors_before = self.error_count();
        let when = node
            .when
            .as_ref()
            .map(|w| fold(self.condition(&mut cx, w, &what).expr));
        // Reads of actions an unknown name hides are silent, not sound.
        let when_ok = self.error_count() == errors_before && !frame.unresolved;
        // What the condition proves holds in the outcome and consumes.
        if let Some(w) = &node.when {
            self.facts_if(w, true, &mut cx.facts);
        }
        let outcome = self.rule_outcome(&mut cx, &node.outcome);
        let consumes = node
            .consumes
            .iter()
            .filter_map(|c| self.consume(&mut cx, c))
            .collect();
        let rule = ir::Rule {
            id: RuleId::from_index(index),
            actions: actions.clone(),
            agents,
            workflows,
            when,
            outcome,
            consumes,
            span: self.unit.src(file, span),
        };
        let site = RuleSite {
            file,
            name: node.name.name.clone(),
            name_span: node.name.span,
            when_span: node.when.as_ref().map(|w| self.unit.tight(file, w.span)),
            when_ok,
            filters_ok,
            outcome_span: self.unit.tight(file, node.outcome.span),
        };
        (rule, site)
    }

    pub(crate) fn raise(&mut self, index: usize) -> (ir::Expr, RaiseDef) {
        let d = &self.decls.raises[index];
        let (file, node) = (d.file, d.node);
        let listed = node.on.as_ref().map(|on| self.resolve_patterns(file, on));
        let actions = listed
            .clone()
            .unwrap_or_else(|| self.patterns.all().to_vec());
        let mut frame = Frame::over(self, file, &actions);
        frame.unresolved = self.names_unknown_action(node.on.as_deref());
        let mut cx = Cx::new(&frame);
        let what = format!("raise `{}`", node.name.name);
        let when = fold(self.condition(&mut cx, &node.when, &what).expr);
        let arms = self.raise_arms(file, node);
        let def = RaiseDef {
            name: node.name.name.clone(),
            actions: listed,
            arms,
        };
        (when, def)
    }

    /// Checks the records predicates, by agent.
    fn scopes(&mut self, pending: Vec<PendingRecords<'_>>) -> Vec<Vec<(EntityId, ir::Expr)>> {
        let mut scopes: Vec<Vec<(EntityId, ir::Expr)>> = vec![Vec::new(); self.agents.len()];
        let all = self.patterns.all().to_vec();
        for p in pending {
            let agent = &self.decls.agents[p.agent].name.name;
            let denial = Denial {
                message: format!("the scope of agent `{agent}` cannot read `params`"),
                help: "a scope is checked before any rule, for every action: only `object` and the envelope can be read".into(),
            };
            let frame = Frame {
                file: p.file,
                actions: &all,
                objects: vec![p.entity],
                params_denied: Some(denial),
                object_denied: None,
                unresolved: false,
            };
            let mut cx = Cx::new(&frame);
            let what = format!("a `records` clause of agent `{agent}`");
            let typed = self.condition(&mut cx, p.predicate, &what);
            scopes[p.agent].push((p.entity, fold(typed.expr)));
        }
        scopes
    }

    /// Runs every phase; returns the IR when nothing was wrong.
    pub(crate) fn run(&mut self) -> Outcome {
        self.build_schema();
        self.patterns = crate::patterns::PatternIndex::new(&self.schema);
        self.approvers();
        self.budgets();
        let pending = self.agents();
        let header = self.header();
        self.prepare_risks();
        self.check_risks();
        let mut rules = Vec::with_capacity(self.decls.rules.len());
        let mut sites = Vec::with_capacity(self.decls.rules.len());
        for i in 0..self.decls.rules.len() {
            let (rule, site) = self.rule(i);
            rules.push(rule);
            sites.push(site);
        }
        let mut raise_exprs = Vec::new();
        let mut raise_defs = Vec::new();
        for i in 0..self.decls.raises.len() {
            let (expr, def) = self.raise(i);
            raise_exprs.push(expr);
            raise_defs.push(def);
        }
        let scopes = self.scopes(pending);
        let overrides = self.precedence();
        self.lints(&rules, &sites, &raise_defs);
        Outcome {
            header,
            overrides,
            rules,
            raise_exprs,
            raise_defs,
            scopes,
        }
    }

    /// The IR of a policy checked without errors.
    pub(crate) fn into_policy(self, out: Outcome) -> ir::Policy {
        let rule_meta = self
            .decls
            .rules
            .iter()
            .zip(out.overrides)
            .map(|(d, overrides)| RuleMeta {
                name: d.name.name.clone(),
                doc: d.doc.map(str::to_string),
                overrides,
            })
            .collect();
        let mut risk_meta = Vec::new();
        let mut risk_exprs = Vec::new();
        for (d, slot) in self.decls.risks.iter().zip(self.risks) {
            risk_meta.push(RiskMeta {
                name: d.name.name.clone(),
                ty: slot.ty.unwrap_or(Type::Bool),
                actions: slot.actions,
            });
            if let Some(expr) = slot.expr {
                risk_exprs.push(expr);
            }
        }
        let files = self
            .unit
            .files
            .iter()
            .map(|id| {
                let entry = self.unit.db.file(*id);
                ir::SourceFile {
                    path: entry.path.clone(),
                    text: entry.text.clone(),
                }
            })
            .collect();
        ir::Policy {
            schema: self.schema,
            meta: actpol_core::schema::PolicyMeta {
                name: out.header.name,
                agents: self.agents,
                approvers: self.approvers,
                budgets: self.budgets,
                default: out.header.default,
                on_error: out.header.on_error,
                rules: rule_meta,
                raises: out.raise_defs,
                risks: risk_meta,
                timing: out.header.timing,
            },
            scopes: out.scopes,
            rules: out.rules,
            raises: out.raise_exprs,
            risks: risk_exprs,
            files,
        }
    }
}

/// What [`Checker::run`] produced, before it becomes IR.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub header: Header,
    /// By rule: the rules whose denials its escalation stands above.
    pub overrides: Vec<Vec<RuleId>>,
    pub rules: Vec<ir::Rule>,
    pub raise_exprs: Vec<ir::Expr>,
    pub raise_defs: Vec<RaiseDef>,
    pub scopes: Vec<Vec<(EntityId, ir::Expr)>>,
}
