//! `fmt` is idempotent: random syntax trees of every declaration and
//! expression kind, printed by the formatter, parse back to the same tree;
//! and formatting the printed text, after comments and line breaks are
//! scattered through it, keeps its tree and comments and is a fixpoint.

mod ast_shape;

use std::sync::LazyLock;

use actpol_syntax::ast::*;
use actpol_syntax::{format_file, parse_file};
use ast_shape::{comment_texts, shape};
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;

// ------------------------------------------------------------------ names --

fn ident_of(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: Span::default(),
    }
}

/// Identifiers, a few of them keywords outside expressions (`data`, `limit`,
/// `system`) to probe where the grammar tells names from keywords.
fn ident() -> impl Strategy<Value = Ident> {
    prop::sample::select(vec![
        "a",
        "amount",
        "region",
        "recipients",
        "params",
        "object",
        "now",
        "Tier",
        "data",
        "limit",
        "system",
        "plan",
        "count",
        "_private",
        "e2",
    ])
    .prop_map(ident_of)
}

/// Enum variants, long enough that some enums overflow one line.
fn variant() -> impl Strategy<Value = Ident> {
    "v[a-z0-9_]{0,18}".prop_map(|name| ident_of(&name))
}

/// Agent, approver, workflow and policy names, which may hold dashes.
fn dashed_name() -> impl Strategy<Value = Ident> {
    prop::sample::select(vec![
        "growth-bot",
        "security-oncall",
        "lead-routing",
        "a",
        "x_1",
        "bot-2-b",
    ])
    .prop_map(ident_of)
}

fn action_name() -> impl Strategy<Value = Ident> {
    prop::sample::select(vec![
        "crm.update_owner",
        "outbound.send",
        "billing.credit.issue",
        "a.b",
    ])
    .prop_map(ident_of)
}

fn pattern() -> impl Strategy<Value = ActionPattern> {
    prop_oneof![
        action_name().prop_map(|n| PatternKind::Exact(n.name)),
        prop::sample::select(vec!["crm", "billing.credit"])
            .prop_map(|ns| PatternKind::Namespace(ns.to_string())),
        Just(PatternKind::Any),
    ]
    .prop_map(|kind| ActionPattern {
        kind,
        span: Span::default(),
    })
}

fn name_list(names: impl Strategy<Value = Ident>) -> impl Strategy<Value = NameList> {
    vec(names, 1..4).prop_map(|names| NameList {
        names,
        span: Span::default(),
    })
}

/// Text of any kind, control and invisible characters included, to exercise
/// escaping.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("no rule covers this action".to_string()),
        "[ -~]{0,12}",
        any::<String>(),
    ]
}

fn str_lit() -> impl Strategy<Value = StrLit> {
    text().prop_map(|value| StrLit {
        value,
        span: Span::default(),
    })
}

fn timing_entry() -> impl Strategy<Value = TimingEntry> {
    (
        prop::sample::select(vec![
            TimingKind::MaxSkew,
            TimingKind::ReservationTtl,
            TimingKind::ApprovalTtl,
        ]),
        duration(),
    )
        .prop_map(|(kind, duration)| TimingEntry {
            kind,
            duration,
            span: Span::default(),
        })
}

fn duration() -> impl Strategy<Value = DurationLit> {
    "([0-9]{1,3}(ms|s|m|h|d|w)){1,2}".prop_map(|text| DurationLit {
        text,
        span: Span::default(),
    })
}

fn window_span() -> impl Strategy<Value = WindowSpan> {
    prop_oneof![
        3 => duration().prop_map(WindowSpan::Duration),
        1 => Just(WindowSpan::Plan(Span::default())),
    ]
}

fn budget_key() -> impl Strategy<Value = BudgetKeyLit> {
    prop::sample::select(BudgetKey::ALL.to_vec()).prop_map(|key| BudgetKeyLit {
        key,
        span: Span::default(),
    })
}

fn type_expr() -> impl Strategy<Value = TypeExpr> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "Int", "String", "Bool", "Account", "Tier", "Setting", "Money"
        ])
        .prop_map(|n| TypeExprKind::Named(ident_of(n))),
        currency().prop_map(|c| TypeExprKind::Money(ident_of(&c))),
        prop::sample::select(vec!["\"Europe/Paris\"", "\"America/New_York\"", "UTC"]).prop_map(
            |z| {
                let quoted = z.starts_with('"');
                TypeExprKind::Zoned(
                    ident_of("Timestamp"),
                    Box::new(ZoneArg {
                        name: z.trim_matches('"').to_string(),
                        quoted,
                        span: Span::default(),
                    }),
                )
            }
        ),
    ];
    leaf.prop_map(|kind| TypeExpr {
        kind,
        span: Span::default(),
    })
    .prop_recursive(2, 4, 1, |inner| {
        inner.prop_map(|element| TypeExpr {
            kind: TypeExprKind::Set(Box::new(element)),
            span: Span::default(),
        })
    })
}

fn currency() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["USD", "EUR", "GBP"]).prop_map(str::to_string)
}

// ------------------------------------------------------------ expressions --

fn expr_of(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        "[0-9][0-9_]{0,5}".prop_map(Literal::Int),
        "[0-9]{1,3}\\.[0-9]{1,3}".prop_map(Literal::Decimal),
        ("[0-9]{1,4}(\\.[0-9]{2})?", currency())
            .prop_map(|(amount, currency)| Literal::Money { amount, currency }),
        duration().prop_map(Literal::Duration),
        "[0-2][0-9]:[0-5][0-9]".prop_map(Literal::TimeOfDay),
        text().prop_map(Literal::String),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn window_call() -> impl Strategy<Value = WindowCall> {
    (
        prop::sample::select(vec![WindowFn::Count, WindowFn::Sum, WindowFn::Baseline]),
        prop::sample::select(vec![
            "*",
            "crm.*",
            "crm.update_owner",
            "billing.credit.amount",
            "crm",
        ]),
        window_span(),
        weighted(0.5, budget_key()),
    )
        .prop_map(|(func, target, over, by)| WindowCall {
            func,
            target: ident_of(target),
            over,
            by,
        })
}

/// What `has` takes: a name and accessors.
fn has_operand() -> impl Strategy<Value = Expr> {
    (ident(), vec((ident(), any::<bool>()), 0..3)).prop_map(|(base, accessors)| {
        let mut expr = expr_of(ExprKind::Name(base));
        for (name, is_call) in accessors {
            expr = if is_call {
                expr_of(ExprKind::Method(Box::new(expr), name, Vec::new()))
            } else {
                expr_of(ExprKind::Field(Box::new(expr), name))
            };
        }
        expr
    })
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    prop::sample::select(vec![
        BinaryOp::Or,
        BinaryOp::And,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::In,
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
    ])
}

/// Random expressions, then parenthesized where the parser needs it.
fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        3 => literal().prop_map(ExprKind::Lit),
        3 => ident().prop_map(ExprKind::Name),
        1 => window_call().prop_map(ExprKind::Window),
    ]
    .prop_map(expr_of);
    leaf.prop_recursive(4, 40, 3, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec![UnaryOp::Not, UnaryOp::Neg]),
                inner.clone()
            )
                .prop_map(|(op, e)| ExprKind::Unary(op, Box::new(e))),
            (binary_op(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| ExprKind::Binary(
                op,
                Box::new(l),
                Box::new(r)
            )),
            (binary_op(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| ExprKind::Binary(
                op,
                Box::new(l),
                Box::new(r)
            )),
            inner.clone().prop_map(|e| ExprKind::Paren(Box::new(e))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| ExprKind::If(
                Box::new(c),
                Box::new(a),
                Box::new(b)
            )),
            vec(inner.clone(), 0..3).prop_map(ExprKind::Set),
            (
                prop::sample::select(vec!["min", "max", "abs", "timestamp", "count", "sum"]),
                vec(inner.clone(), 0..3)
            )
                .prop_map(|(name, args)| ExprKind::Call(ident_of(name), args)),
            (inner.clone(), ident()).prop_map(|(base, name)| ExprKind::Field(Box::new(base), name)),
            (inner.clone(), ident(), vec(inner.clone(), 0..3))
                .prop_map(|(base, name, args)| ExprKind::Method(Box::new(base), name, args)),
            has_operand().prop_map(|e| ExprKind::Has(Box::new(e))),
        ]
        .prop_map(expr_of)
    })
    .prop_map(parenthesize)
}

/// Wraps in `Paren` each subexpression that, printed bare, the parser would
/// read as a different tree; the result is a tree the parser can produce.
fn parenthesize(expr: Expr) -> Expr {
    let kind = match expr.kind {
        ExprKind::Unary(op, operand) => {
            let operand = parenthesize(*operand);
            let wrap = match op {
                // `not` takes comparisons and tighter: `not a == b`.
                UnaryOp::Not => {
                    binary_precedence(&operand).is_some_and(|p| p <= 2) || is_if(&operand)
                }
                // `-` takes only a term.
                UnaryOp::Neg => {
                    binary_precedence(&operand).is_some() || is_not(&operand) || is_if(&operand)
                }
            };
            ExprKind::Unary(op, Box::new(wrap_if(wrap, operand)))
        }
        ExprKind::Binary(op, left, right) => {
            let (left, right) = (parenthesize(*left), parenthesize(*right));
            let p = op.precedence();
            // `if … else x` takes all to its right, and `not x` all that binds
            // tighter than `and`: both are safe bare only as operands of
            // `and`/`or`, and `if` not even there.
            let loose = |e: &Expr| is_if(e) || (is_not(e) && p > 2);
            let wrap_left = binary_precedence(&left).is_some_and(|q| q < p) || loose(&left);
            let wrap_right = binary_precedence(&right).is_some_and(|q| q <= p) || loose(&right);
            ExprKind::Binary(
                op,
                Box::new(wrap_if(wrap_left, left)),
                Box::new(wrap_if(wrap_right, right)),
            )
        }
        ExprKind::Field(base, name) => ExprKind::Field(Box::new(accessor_base(*base)), name),
        ExprKind::Method(base, name, args) => ExprKind::Method(
            Box::new(accessor_base(*base)),
            name,
            args.into_iter().map(parenthesize).collect(),
        ),
        ExprKind::Call(name, args) => {
            ExprKind::Call(name, args.into_iter().map(parenthesize).collect())
        }
        ExprKind::Set(elements) => ExprKind::Set(elements.into_iter().map(parenthesize).collect()),
        ExprKind::If(c, a, b) => ExprKind::If(
            Box::new(parenthesize(*c)),
            Box::new(parenthesize(*a)),
            Box::new(parenthesize(*b)),
        ),
        ExprKind::Paren(inner) => ExprKind::Paren(Box::new(parenthesize(*inner))),
        leaf @ (ExprKind::Lit(_) | ExprKind::Name(_) | ExprKind::Window(_) | ExprKind::Has(_)) => {
            leaf
        }
    };
    expr_of(kind)
}

/// `.field` follows only a primary that ends where it seems to: not a bare
/// integer (`1.x` is no number), not an operator or `if`/`has`/`not`.
fn accessor_base(base: Expr) -> Expr {
    let base = parenthesize(base);
    let bare_ok = matches!(
        base.kind,
        ExprKind::Name(_)
            | ExprKind::Call(..)
            | ExprKind::Window(_)
            | ExprKind::Set(_)
            | ExprKind::Paren(_)
            | ExprKind::Field(..)
            | ExprKind::Method(..)
            | ExprKind::Lit(Literal::String(_))
    );
    wrap_if(!bare_ok, base)
}

fn binary_precedence(expr: &Expr) -> Option<u8> {
    match &expr.kind {
        ExprKind::Binary(op, ..) => Some(op.precedence()),
        _ => None,
    }
}

fn is_if(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::If(..))
}

fn is_not(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Unary(UnaryOp::Not, _))
}

fn wrap_if(wrap: bool, expr: Expr) -> Expr {
    if wrap {
        expr_of(ExprKind::Paren(Box::new(expr)))
    } else {
        expr
    }
}

// --------------------------------------------------------------- outcomes --

fn constraint() -> impl Strategy<Value = Constraint> {
    prop_oneof![
        prop::sample::select(vec![Requirement::DryRun, Requirement::Rollback])
            .prop_map(|r| Constraint::Require(r, Span::default())),
        (
            ident(),
            prop::sample::select(vec![
                ConstraintOp::Le,
                ConstraintOp::Lt,
                ConstraintOp::Ge,
                ConstraintOp::Gt,
                ConstraintOp::In,
            ]),
            expr()
        )
            .prop_map(|(param, op, value)| Constraint::Param {
                param,
                op,
                value,
                span: Span::default(),
            }),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    let kind = prop_oneof![
        Just(OutcomeKind::Allow),
        Just(OutcomeKind::Deny),
        dashed_name().prop_map(OutcomeKind::Escalate),
        vec(constraint(), 0..3).prop_map(OutcomeKind::Constrain),
    ];
    (kind, weighted(0.6, str_lit())).prop_map(|(kind, reason)| Outcome {
        kind,
        reason,
        span: Span::default(),
    })
}

// ----------------------------------------------------------- declarations --

fn bound_lit() -> impl Strategy<Value = BoundLit> {
    let amount = prop_oneof![
        Just("0".to_string()),
        Just("-5".to_string()),
        Just("10_000".to_string()),
        Just("0.25".to_string()),
    ];
    let currency = prop_oneof![Just(None), Just(Some("USD".to_string()))];
    (amount, currency).prop_map(|(amount, currency)| BoundLit {
        amount,
        currency,
        span: Span::default(),
    })
}

/// Bounds with at least one end, as the grammar requires.
fn bounds() -> impl Strategy<Value = Bounds> {
    (weighted(0.7, bound_lit()), bound_lit(), any::<bool>()).prop_map(|(least, end, open)| {
        let most = if least.is_some() && open {
            None
        } else {
            Some(end)
        };
        Bounds {
            least,
            most,
            span: Span::default(),
        }
    })
}

fn field() -> impl Strategy<Value = Field> {
    (ident(), any::<bool>(), type_expr(), weighted(0.2, bounds())).prop_map(
        |(name, optional, ty, bounds)| Field {
            name,
            optional,
            ty,
            bounds,
            span: Span::default(),
        },
    )
}

fn entity_member() -> impl Strategy<Value = EntityMember> {
    prop_oneof![
        3 => field().prop_map(EntityMember::Field),
        1 => name_list(ident()).prop_map(EntityMember::Data),
        1 => ident().prop_map(|n| EntityMember::System(n, Span::default())),
    ]
}

fn action_member() -> impl Strategy<Value = ActionMember> {
    let reversibility = prop_oneof![
        Just(ReversibilityKind::Reversible),
        Just(ReversibilityKind::Irreversible),
        (action_name(), weighted(0.5, duration()))
            .prop_map(|(by, within)| ReversibilityKind::Compensable { by, within }),
    ];
    let trigger = prop_oneof![
        action_name().prop_map(Trigger::Action),
        ident().prop_map(Trigger::System),
    ];
    prop_oneof![
        ident().prop_map(|n| ActionMember::System(n, Span::default())),
        ident().prop_map(|n| ActionMember::Object(n, Span::default())),
        vec(field(), 0..3).prop_map(|f| ActionMember::Params(f, Span::default())),
        reversibility.prop_map(|kind| ActionMember::Reversibility(Reversibility {
            kind,
            span: Span::default(),
        })),
        name_list(ident()).prop_map(ActionMember::Data),
        name_list(ident()).prop_map(ActionMember::Reads),
        name_list(ident()).prop_map(ActionMember::Sends),
        vec(trigger, 1..3).prop_map(|t| ActionMember::Triggers(t, Span::default())),
    ]
}

fn agent_member() -> impl Strategy<Value = AgentMember> {
    let scope_item = prop_oneof![
        name_list(ident()).prop_map(ScopeItem::Systems),
        name_list(ident()).prop_map(ScopeItem::Objects),
        (ident(), expr()).prop_map(|(entity, predicate)| ScopeItem::Records {
            entity,
            predicate,
            span: Span::default(),
        }),
    ];
    prop_oneof![
        str_lit().prop_map(|s| AgentMember::Owner(s, Span::default())),
        dashed_name().prop_map(|n| AgentMember::Workflow(n, Span::default())),
        vec(scope_item, 0..4).prop_map(|items| AgentMember::Scope(items, Span::default())),
    ]
}

fn budget_member() -> impl Strategy<Value = BudgetMember> {
    prop_oneof![
        expr().prop_map(|e| BudgetMember::Limit(e, Span::default())),
        window_span().prop_map(|w| BudgetMember::Window(w, Span::default())),
        budget_key().prop_map(|k| BudgetMember::Per(k, Span::default())),
        outcome().prop_map(|o| BudgetMember::OnExhausted(o, Span::default())),
    ]
}

fn item_kind() -> impl Strategy<Value = ItemKind> {
    let policy_entry = (any::<bool>(), outcome()).prop_map(|(is_default, outcome)| PolicyEntry {
        kind: if is_default {
            PolicyEntryKind::Default
        } else {
            PolicyEntryKind::OnError
        },
        outcome,
        span: Span::default(),
    });
    let described = || {
        (ident(), weighted(0.5, str_lit()))
            .prop_map(|(name, description)| DescribedDecl { name, description })
    };
    let approver_member = prop_oneof![
        str_lit().prop_map(|s| ApproverMember::Title(s, Span::default())),
        str_lit().prop_map(|s| ApproverMember::Contact(s, Span::default())),
    ];
    let consume = (ident(), expr()).prop_map(|(budget, amount)| Consume {
        budget,
        amount,
        span: Span::default(),
    });
    let rule = (
        ident(),
        vec(pattern(), 1..3),
        weighted(0.3, name_list(dashed_name())),
        weighted(0.3, name_list(dashed_name())),
        weighted(0.7, expr()),
        outcome(),
        weighted(0.2, name_list(ident())),
        vec(consume, 0..3),
    )
        .prop_map(
            |(name, on, agents, workflows, when, outcome, overrides, consumes)| RuleDecl {
                name,
                on,
                agents,
                workflows,
                when,
                outcome,
                overrides,
                consumes,
            },
        );
    let raise_arm = (
        prop::sample::select(vec![Level::Allow, Level::Constrain, Level::Escalate]),
        outcome(),
    )
        .prop_map(|(from, outcome)| RaiseArm {
            from,
            from_span: Span::default(),
            outcome,
            span: Span::default(),
        });
    prop_oneof![
        str_lit().prop_map(|path| ItemKind::Import(Import { path })),
        (
            dashed_name(),
            vec(policy_entry, 0..3),
            vec(timing_entry(), 0..3)
        )
            .prop_map(|(name, entries, timing)| ItemKind::Policy(PolicyDecl {
                name,
                entries,
                timing
            })),
        (ident(), vec(variant(), 0..7))
            .prop_map(|(name, variants)| ItemKind::Enum(EnumDecl { name, variants })),
        described().prop_map(ItemKind::DataClass),
        described().prop_map(ItemKind::System),
        vec(field(), 0..3).prop_map(|fields| ItemKind::Context(ContextDecl { fields })),
        (ident(), vec(entity_member(), 0..4))
            .prop_map(|(name, members)| ItemKind::Entity(EntityDecl { name, members })),
        (action_name(), vec(action_member(), 0..5))
            .prop_map(|(name, members)| ItemKind::Action(ActionDecl { name, members })),
        (dashed_name(), vec(agent_member(), 0..3))
            .prop_map(|(name, members)| ItemKind::Agent(AgentDecl { name, members })),
        (dashed_name(), vec(approver_member, 0..3))
            .prop_map(|(name, members)| ItemKind::Approver(ApproverDecl { name, members })),
        (ident(), type_expr(), vec(budget_member(), 0..4))
            .prop_map(|(name, ty, members)| ItemKind::Budget(BudgetDecl { name, ty, members })),
        (ident(), weighted(0.4, vec(pattern(), 1..3)), expr())
            .prop_map(|(name, on, expr)| ItemKind::Risk(RiskDecl { name, on, expr })),
        rule.prop_map(ItemKind::Rule),
        (
            ident(),
            weighted(0.4, vec(pattern(), 1..3)),
            expr(),
            vec(raise_arm, 0..3)
        )
            .prop_map(|(name, on, when, arms)| ItemKind::Raise(RaiseDecl {
                name,
                on,
                when,
                arms
            })),
    ]
}

/// Documentation as the parser reads it: lines without trailing whitespace.
fn doc() -> impl Strategy<Value = String> {
    vec("[ -~]{0,16}", 1..3).prop_map(|lines| {
        let lines: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
        lines.join("\n")
    })
}

fn file() -> impl Strategy<Value = File> {
    let item = (weighted(0.25, doc()), item_kind()).prop_map(|(doc, kind)| Item {
        doc,
        kind,
        span: Span::default(),
    });
    vec(item, 0..6).prop_map(|items| File {
        items,
        comments: Vec::new(),
    })
}

// ---------------------------------------------------- comments and breaks --

/// An edit that leaves the text's meaning alone: a comment on a line of its
/// own or at a line's end, a blank line, a line break where a space was, or
/// a space where a line break was.
#[derive(Clone, Debug)]
enum Edit {
    OwnLine {
        line: usize,
        indent: usize,
        comment: String,
    },
    Trailing {
        line: usize,
        comment: String,
    },
    Blank {
        line: usize,
    },
    Break {
        line: usize,
        space: usize,
        comment: Option<String>,
    },
    Join {
        line: usize,
    },
}

/// Comments of every kind; `///` ones most often, as only they can change
/// the tree (by coming to document a declaration).
fn comment() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "// [ -~]{0,10}",
        3 => "/// [ -~]{0,10}",
        1 => "////[ -~]{0,6}",
        1 => Just("//".to_string()),
        1 => Just("// trailing blanks   ".to_string()),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    // Breaks weigh most: a comment inside a construct the formatter joins
    // onto one line is where placement is hardest.
    prop_oneof![
        2 => (any::<usize>(), 0..6usize, comment())
            .prop_map(|(line, indent, comment)| Edit::OwnLine { line, indent, comment }),
        2 => (any::<usize>(), comment()).prop_map(|(line, comment)| Edit::Trailing { line, comment }),
        1 => any::<usize>().prop_map(|line| Edit::Blank { line }),
        1 => any::<usize>().prop_map(|line| Edit::Join { line }),
        4 => (any::<usize>(), any::<usize>(), weighted(0.7, comment()))
            .prop_map(|(line, space, comment)| Edit::Break { line, space, comment }),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for edit in edits {
        let at = |line: usize, len: usize| line % (len + 1);
        match edit {
            Edit::OwnLine {
                line,
                indent,
                comment,
            } => {
                let i = at(*line, lines.len());
                lines.insert(i, format!("{}{comment}", " ".repeat(*indent)));
            }
            Edit::Trailing { line, comment } => {
                let i = line % lines.len().max(1);
                if let Some(text) = lines.get_mut(i) {
                    text.push(' ');
                    text.push_str(comment);
                }
            }
            Edit::Blank { line } => {
                let i = at(*line, lines.len());
                lines.insert(i, String::new());
            }
            Edit::Break {
                line,
                space,
                comment,
            } => {
                let i = line % lines.len().max(1);
                let Some(text) = lines.get(i) else { continue };
                let spaces = breakable_spaces(text);
                if spaces.is_empty() {
                    continue;
                }
                let at = spaces[space % spaces.len()];
                let (head, tail) = (&text[..at], &text[at + 1..]);
                let head = match comment {
                    Some(comment) => format!("{head} {comment}"),
                    None => head.to_string(),
                };
                let tail = format!("    {tail}");
                lines.splice(i..=i, [head, tail]);
            }
            Edit::Join { line } => {
                let i = line % lines.len().max(1);
                // A line ending in a comment would swallow the next one.
                if i + 1 < lines.len() && line_code(&lines[i]).end == lines[i].len() {
                    let next = lines.remove(i + 1);
                    lines[i] = format!("{} {}", lines[i], next.trim_start());
                }
            }
        }
    }
    lines.join("\n")
}

/// A line's code as the parser reads it.
struct LineCode {
    /// Where the code ends: at the line's comment, if it has one.
    end: usize,
    /// Offsets of the spaces outside strings.
    spaces: Vec<usize>,
}

fn line_code(line: &str) -> LineCode {
    let mut spaces = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'/' if bytes.get(i + 1) == Some(&b'/') => return LineCode { end: i, spaces },
            b' ' => spaces.push(i),
            _ => {}
        }
    }
    LineCode {
        end: line.len(),
        spaces,
    }
}

/// Byte offsets of the spaces in a line's code where a line break means
/// what the space meant. A space before an upper-case letter may sit inside
/// a money literal (`500 USD`), which holds no line break.
fn breakable_spaces(line: &str) -> Vec<usize> {
    let bytes = line.as_bytes();
    line_code(line)
        .spaces
        .into_iter()
        .filter(|&i| !bytes.get(i + 1).is_some_and(u8::is_ascii_uppercase))
        .collect()
}

// ------------------------------------------------------------- properties --

const MESSY: &str = include_str!("samples/messy.actpol");

static HAZARDS: LazyLock<File> = LazyLock::new(|| {
    parse_file(include_str!("samples/comment_hazards.actpol")).expect("sample parses")
});

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// The formatter prints any tree the parser can produce as text that
    /// parses back to that tree; printing that again changes nothing.
    #[test]
    fn printed_trees_parse_back_unchanged(file in file()) {
        let text = format_file(&file, "");
        let parsed = parse_file(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n--- printed:\n{text}")))?;
        prop_assert_eq!(shape(&parsed), shape(&file), "printed:\n{}", text);
        let again = format_file(&parsed, &text);
        prop_assert_eq!(again, text);
    }

    /// A tree printed against a source it was not parsed from (a caller's
    /// mistake) gives some text, not a panic.
    #[test]
    fn mismatched_source_does_not_panic(
        file in file(),
        source in prop_oneof![any::<String>(), Just(MESSY.to_string())],
    ) {
        format_file(&file, &source);
        format_file(&HAZARDS, &source);
    }

    /// Comments, blank lines and line breaks anywhere: formatting keeps the
    /// tree and every comment, and formatting twice changes nothing.
    #[test]
    fn formatting_commented_text_is_a_fixpoint(file in file(), edits in vec(edit(), 0..24)) {
        let source = apply(&format_file(&file, ""), &edits);
        let original = parse_file(&source)
            .map_err(|e| TestCaseError::fail(format!("edits broke the text: {e}\n{source}")))?;
        let formatted = format_file(&original, &source);
        let reparsed = parse_file(&formatted)
            .map_err(|e| TestCaseError::fail(format!("{e}\n--- source:\n{source}\n--- formatted:\n{formatted}")))?;
        prop_assert_eq!(shape(&reparsed), shape(&original), "source:\n{}\nformatted:\n{}", source, formatted);
        prop_assert_eq!(comment_texts(&reparsed), comment_texts(&original));
        let again = format_file(&reparsed, &formatted);
        prop_assert_eq!(again, formatted, "source:\n{}", source);
    }
}
