//! Source text to [`ast::File`]: pest does the matching, this module builds
//! the tree and turns pest's failures into [`SyntaxError`]s.

use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::error::SyntaxError;
use crate::expected;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/actpol.pest"]
pub(crate) struct Grammar;

/// Deepest nesting of expressions (parentheses, arguments, set elements)
/// the parser accepts. Policies nest a handful of levels; the cap keeps
/// hostile input from exhausting the parser's own stack.
pub const MAX_NESTING: usize = 128;

/// Deepest expression tree the parser builds, counting a level per nesting,
/// per operator in a chain (`a + b + c` nests to the left), per accessor
/// and per prefix operator: every later pass walks the tree recursively.
pub const MAX_DEPTH: usize = 512;

/// Largest source the parser accepts (spans are `u32`).
pub const MAX_SOURCE_LEN: usize = 64 * 1024 * 1024;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_rem, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// Whether `text` is a name as the grammar reads one (`on_time`; not
/// `on time`, `2fa` or a reserved word such as `in`).
pub fn is_plain_name(text: &str) -> bool {
    Grammar::parse(Rule::ident, text)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .is_some_and(|pair| pair.as_str().len() == text.len())
}

/// Parses one file. On failure returns the first syntax error: pest stops at
/// the first place the text leaves the grammar.
pub fn parse_file(source: &str) -> Result<File, SyntaxError> {
    if source.len() > MAX_SOURCE_LEN {
        return Err(SyntaxError::TooLarge {
            size: source.len(),
            span: Span::new(0, 0).into(),
        });
    }
    if let Some(err) = bidi_control(source) {
        return Err(err);
    }
    let mut pairs =
        Grammar::parse(Rule::file, source).map_err(|e| expected::syntax_error(source, e))?;
    let file = pairs.next().expect("grammar: `file` is the root");
    let comments = collect_comments(file.clone().into_inner());
    let mut builder = Builder {
        nesting: 0,
        depth: 0,
        comments: &comments,
    };
    let mut items = Vec::new();
    for pair in significant(file.into_inner()) {
        if pair.as_rule() == Rule::EOI {
            break;
        }
        items.push(builder.item(pair)?);
    }
    Ok(File { items, comments })
}

/// Whether `c` is a text-direction embedding, override or isolate
/// (U+202A–U+202E, U+2066–U+2069): each is three bytes in UTF-8, as
/// U+FFFD is, so a renderer may show one as `�` without moving a span.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first text-direction control in `source`, anywhere (in a comment
/// or a string too: that is where they hide), as the error refusing it.
fn bidi_control(source: &str) -> Option<SyntaxError> {
    let (at, c) = source.char_indices().find(|(_, c)| is_bidi_control(*c))?;
    let hex = format!("{:04X}", u32::from(c));
    Some(SyntaxError::BidiControl {
        code_point: format!("U+{hex}"),
        hex,
        span: Span::new(at, at + c.len_utf8()).into(),
    })
}

/// Parses a lone expression (for tools and tests).
pub fn parse_expr(source: &str) -> Result<Expr, SyntaxError> {
    if let Some(err) = bidi_control(source) {
        return Err(err);
    }
    let mut pairs =
        Grammar::parse(Rule::expr_only, source).map_err(|e| expected::syntax_error(source, e))?;
    let root = pairs.next().expect("grammar: `expr_only` is the root");
    let mut builder = Builder {
        nesting: 0,
        depth: 0,
        comments: &[],
    };
    let expr = significant(root.into_inner())
        .next()
        .expect("grammar: `expr_only` holds an expression");
    builder.expr(expr)
}

fn collect_comments(pairs: Pairs<'_, Rule>) -> Vec<Comment> {
    pairs
        .flatten()
        .filter(|p| p.as_rule() == Rule::COMMENT)
        .map(|p| Comment {
            text: p.as_str().trim_end_matches('\r').to_string(),
            span: span_of(&p),
        })
        .collect()
}

/// The pair's span, ending at its last token: pest's span of a rule that
/// ends in an optional part also covers the whitespace and comments it
/// skipped looking for that part.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    Span::new(pair.as_span().start(), last_token_end(pair.clone()))
}

fn last_token_end(pair: Pair<'_, Rule>) -> usize {
    let end = pair.as_span().end();
    let input = pair.get_input();
    let last = pair
        .into_inner()
        .filter(|p| p.as_rule() != Rule::COMMENT)
        .last();
    let Some(last) = last else {
        return end;
    };
    // Past the last child there may be skipped whitespace and comments, or
    // a literal that closes the rule (a string's `"`): only the first is
    // trimmed.
    let gap = input
        .get(last.as_span().end()..end)
        .unwrap_or("")
        .trim_start();
    if gap.is_empty() || gap.starts_with("//") {
        last_token_end(last)
    } else {
        end
    }
}

/// Children that carry meaning: comments and keywords are dropped.
fn significant<'i>(pairs: Pairs<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pairs.filter(|p| !is_noise(p.as_rule()))
}

fn is_noise(rule: Rule) -> bool {
    rule == Rule::COMMENT || expected::is_token(rule)
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

struct Builder<'c> {
    /// Expressions inside expressions.
    nesting: usize,
    /// Levels of the tree being built.
    depth: usize,
    comments: &'c [Comment],
}

/// A node's meaningful children. Running out means the grammar and this
/// builder disagree, which no input can cause.
struct Children<'i> {
    inner: std::iter::Peekable<std::vec::IntoIter<Pair<'i, Rule>>>,
}

impl<'i> Children<'i> {
    fn of(pair: Pair<'i, Rule>) -> Self {
        let kids: Vec<_> = significant(pair.into_inner()).collect();
        Children {
            inner: kids.into_iter().peekable(),
        }
    }

    fn next(&mut self) -> Pair<'i, Rule> {
        self.inner
            .next()
            .expect("grammar: node has the children the builder reads")
    }

    fn next_if(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        self.inner.next_if(|p| p.as_rule() == rule)
    }

    fn rest(self) -> impl Iterator<Item = Pair<'i, Rule>> {
        self.inner
    }
}

impl Builder<'_> {
    /// The `///` comments right above `start`, each on its own line with
    /// nothing but a line break between it and what follows.
    fn doc_before(&self, source: &str, start: u32) -> Option<String> {
        let adjacent = |end: u32, next: u32| {
            source
                .get(end as usize..next as usize)
                .is_some_and(|gap| gap.trim().is_empty() && gap.matches('\n').count() <= 1)
        };
        let idx = self.comments.partition_point(|c| c.span.end <= start);
        let mut lines = Vec::new();
        let mut next_start = start;
        for c in self.comments[..idx].iter().rev() {
            if !c.is_doc() || !adjacent(c.span.end, next_start) {
                break;
            }
            lines.push(
                c.text[3..]
                    .strip_prefix(' ')
                    .unwrap_or(&c.text[3..])
                    .to_string(),
            );
            next_start = c.span.start;
        }
        if lines.is_empty() {
            return None;
        }
        lines.reverse();
        Some(lines.join("\n"))
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Result<Item, SyntaxError> {
        let span = span_of(&pair);
        let doc = self.doc_before(pair.get_input(), span.start);
        let rule = pair.as_rule();
        let mut c = Children::of(pair);
        let kind = match rule {
            Rule::import_decl => ItemKind::Import(Import {
                path: string_lit(c.next())?,
            }),
            Rule::policy_decl => {
                let name = ident(c.next());
                let mut entries = Vec::new();
                let mut timing = Vec::new();
                for entry in c.rest() {
                    let span = span_of(&entry);
                    let kind = match entry.as_rule() {
                        Rule::default_item => PolicyEntryKind::Default,
                        Rule::on_error_item => PolicyEntryKind::OnError,
                        other => {
                            let kind = match other {
                                Rule::max_skew_item => TimingKind::MaxSkew,
                                Rule::reservation_ttl_item => TimingKind::ReservationTtl,
                                _ => TimingKind::ApprovalTtl,
                            };
                            let lit = Children::of(entry).next();
                            timing.push(TimingEntry {
                                kind,
                                duration: DurationLit {
                                    text: lit.as_str().to_string(),
                                    span: span_of(&lit),
                                },
                                span,
                            });
                            continue;
                        }
                    };
                    let outcome = self.outcome(Children::of(entry).next())?;
                    entries.push(PolicyEntry {
                        kind,
                        outcome,
                        span,
                    });
                }
                ItemKind::Policy(PolicyDecl {
                    name,
                    entries,
                    timing,
                })
            }
            Rule::enum_decl => {
                let name = ident(c.next());
                let variants = c
                    .rest()
                    .map(|v| match v.as_rule() {
                        Rule::string => string_lit(v).map(|s| Ident {
                            name: s.value,
                            span: s.span,
                        }),
                        _ => Ok(ident(v)),
                    })
                    .collect::<Result<_, _>>()?;
                ItemKind::Enum(EnumDecl { name, variants })
            }
            Rule::data_class_decl | Rule::system_decl => {
                let name = ident(c.next());
                let description = c.rest().next().map(string_lit).transpose()?;
                let decl = DescribedDecl { name, description };
                if rule == Rule::system_decl {
                    ItemKind::System(decl)
                } else {
                    ItemKind::DataClass(decl)
                }
            }
            Rule::context_decl => ItemKind::Context(ContextDecl {
                fields: c.rest().map(field).collect(),
            }),
            Rule::entity_decl => {
                let name = ident(c.next());
                let members = c
                    .rest()
                    .map(|m| match m.as_rule() {
                        Rule::data_item => EntityMember::Data(name_list(m)),
                        Rule::system_item => {
                            let span = span_of(&m);
                            EntityMember::System(ident(Children::of(m).next()), span)
                        }
                        _ => EntityMember::Field(field(m)),
                    })
                    .collect();
                ItemKind::Entity(EntityDecl { name, members })
            }
            Rule::record_decl => {
                let name = ident(c.next());
                ItemKind::Record(RecordDecl {
                    name,
                    fields: c.rest().map(field).collect(),
                })
            }
            Rule::action_decl => {
                let name = ident(c.next());
                let members = c.rest().map(action_member).collect();
                ItemKind::Action(ActionDecl { name, members })
            }
            Rule::agent_decl => {
                let name = ident(c.next());
                let mut members = Vec::new();
                for m in c.rest() {
                    let span = span_of(&m);
                    members.push(match m.as_rule() {
                        Rule::owner_item => {
                            AgentMember::Owner(string_lit(Children::of(m).next())?, span)
                        }
                        Rule::workflow_item => {
                            AgentMember::Workflow(ident(Children::of(m).next()), span)
                        }
                        _ => AgentMember::Scope(self.scope_items(m)?, span),
                    });
                }
                ItemKind::Agent(AgentDecl { name, members })
            }
            Rule::approver_decl => {
                let name = ident(c.next());
                let mut members = Vec::new();
                for m in c.rest() {
                    let span = span_of(&m);
                    let is_title = m.as_rule() == Rule::title_item;
                    let text = string_lit(Children::of(m).next())?;
                    members.push(if is_title {
                        ApproverMember::Title(text, span)
                    } else {
                        ApproverMember::Contact(text, span)
                    });
                }
                ItemKind::Approver(ApproverDecl { name, members })
            }
            Rule::budget_decl => {
                let name = ident(c.next());
                let ty = type_expr(c.next());
                let mut members = Vec::new();
                for m in c.rest() {
                    let span = span_of(&m);
                    let rule = m.as_rule();
                    let inner = Children::of(m).next();
                    members.push(match rule {
                        Rule::limit_item => BudgetMember::Limit(self.expr(inner)?, span),
                        Rule::window_item => BudgetMember::Window(window_span(inner), span),
                        Rule::per_item => BudgetMember::Per(budget_key(inner), span),
                        _ => BudgetMember::OnExhausted(self.outcome(inner)?, span),
                    });
                }
                ItemKind::Budget(BudgetDecl { name, ty, members })
            }
            Rule::risk_decl => {
                let name = ident(c.next());
                let on = c.next_if(Rule::action_patterns).map(action_patterns);
                let expr = self.expr(c.next())?;
                ItemKind::Risk(RiskDecl { name, on, expr })
            }
            Rule::rule_decl => {
                let name = ident(c.next());
                let on = action_patterns(c.next());
                let agents = c.next_if(Rule::agent_filter).map(name_list);
                let workflows = c.next_if(Rule::workflow_filter).map(name_list);
                let when = match c.next_if(Rule::when_clause) {
                    Some(w) => Some(self.expr(Children::of(w).next())?),
                    None => None,
                };
                let outcome = self.outcome(c.next())?;
                let overrides = c.next_if(Rule::overrides_clause).map(name_list);
                let mut consumes = Vec::new();
                for cons in c.rest() {
                    let span = span_of(&cons);
                    let mut cc = Children::of(cons);
                    let budget = ident(cc.next());
                    let amount = self.expr(cc.next())?;
                    consumes.push(Consume {
                        budget,
                        amount,
                        span,
                    });
                }
                ItemKind::Rule(RuleDecl {
                    name,
                    on,
                    agents,
                    workflows,
                    when,
                    outcome,
                    overrides,
                    consumes,
                })
            }
            Rule::raise_decl => {
                let name = ident(c.next());
                let on = c.next_if(Rule::action_patterns).map(action_patterns);
                let when = self.expr(c.next())?;
                let mut arms = Vec::new();
                for arm in c.rest() {
                    let span = span_of(&arm);
                    let mut ac = Children::of(arm);
                    let level = ac.next();
                    let from_span = span_of(&level);
                    let from = match level.as_str() {
                        "allow" => Level::Allow,
                        "constrain" => Level::Constrain,
                        _ => Level::Escalate,
                    };
                    let outcome = self.outcome(ac.next())?;
                    arms.push(RaiseArm {
                        from,
                        from_span,
                        outcome,
                        span,
                    });
                }
                ItemKind::Raise(RaiseDecl {
                    name,
                    on,
                    when,
                    arms,
                })
            }
            other => unreachable!("grammar: {other:?} is not an item"),
        };
        Ok(Item { doc, kind, span })
    }

    fn scope_items(&mut self, scope: Pair<'_, Rule>) -> Result<Vec<ScopeItem>, SyntaxError> {
        let mut items = Vec::new();
        for s in Children::of(scope).rest() {
            items.push(match s.as_rule() {
                Rule::scope_systems => ScopeItem::Systems(name_list(s)),
                Rule::scope_objects => ScopeItem::Objects(name_list(s)),
                _ => {
                    let span = span_of(&s);
                    let mut sc = Children::of(s);
                    let entity = ident(sc.next());
                    let predicate = self.expr(sc.next())?;
                    ScopeItem::Records {
                        entity,
                        predicate,
                        span,
                    }
                }
            });
        }
        Ok(items)
    }

    fn outcome(&mut self, pair: Pair<'_, Rule>) -> Result<Outcome, SyntaxError> {
        let span = span_of(&pair);
        let inner = Children::of(pair).next();
        let rule = inner.as_rule();
        let mut c = Children::of(inner);
        let (kind, reason) = match rule {
            Rule::allow_outcome => (OutcomeKind::Allow, c.rest().next()),
            Rule::deny_outcome => (OutcomeKind::Deny, c.rest().next()),
            Rule::escalate_outcome => {
                let approver = ident(c.next());
                (OutcomeKind::Escalate(approver), c.rest().next())
            }
            _ => {
                let reason = c.next_if(Rule::string);
                let mut constraints = Vec::new();
                for con in c.rest() {
                    constraints.push(self.constraint(con)?);
                }
                (OutcomeKind::Constrain(constraints), reason)
            }
        };
        Ok(Outcome {
            kind,
            reason: reason.map(string_lit).transpose()?,
            span,
        })
    }

    fn constraint(&mut self, pair: Pair<'_, Rule>) -> Result<Constraint, SyntaxError> {
        let span = span_of(&pair);
        let inner = Children::of(pair).next();
        let is_require = inner.as_rule() == Rule::require_constraint;
        let mut c = Children::of(inner);
        if is_require {
            // The grammar admits only the requirements' own words.
            let what = Requirement::from_text(c.next().as_str()).unwrap_or(Requirement::Rollback);
            return Ok(Constraint::Require(what, span));
        }
        let param = ident(c.next());
        // The grammar admits only the operators' own words.
        let op = ConstraintOp::from_text(c.next().as_str()).unwrap_or(ConstraintOp::In);
        let value = self.expr(c.next())?;
        Ok(Constraint::Param {
            param,
            op,
            value,
            span,
        })
    }

    /// Runs `f` `nest` expressions and `levels` tree levels deeper, or
    /// fails past [`MAX_NESTING`] or [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        span: Span,
        nest: usize,
        levels: usize,
        f: impl FnOnce(&mut Self) -> Result<T, SyntaxError>,
    ) -> Result<T, SyntaxError> {
        let limit = if self.nesting + nest > MAX_NESTING {
            MAX_NESTING
        } else if self.depth + levels > MAX_DEPTH {
            MAX_DEPTH
        } else {
            self.nesting += nest;
            self.depth += levels;
            let result = f(self);
            self.nesting -= nest;
            self.depth -= levels;
            return result;
        };
        Err(SyntaxError::TooDeep {
            limit,
            span: span.into(),
        })
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let span = span_of(&pair);
        // `a + b + c …` nests to the left: the tree is one level deeper per
        // operator, and every later pass walks it recursively.
        // A prefix operator adds a level too.
        let operators = pair
            .clone()
            .into_inner()
            .filter(|p| is_operator(p.as_rule()))
            .count();
        self.nested(span, 1, 1 + operators, |b| b.expr_inner(pair))
    }

    fn expr_inner(&mut self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let parts: Vec<Pair<'_, Rule>> = significant(pair.into_inner()).collect();
        let builder = std::cell::RefCell::new(self);
        PRATT
            .map_primary(|term| builder.borrow_mut().term(term))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let op_span = span_of(&op);
                let kind = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                Ok(Expr {
                    span: op_span.to(rhs.span),
                    kind: ExprKind::Unary(kind, Box::new(rhs)),
                })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op = binary_op(op.as_rule());
                Ok(Expr {
                    span: lhs.span.to(rhs.span),
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                })
            })
            .parse(parts.into_iter())
    }

    fn term(&mut self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        // Each accessor wraps what comes before it: a level per accessor.
        let span = span_of(&pair);
        let accessors = pair
            .clone()
            .into_inner()
            .filter(|p| p.as_rule() == Rule::accessor)
            .count();
        self.nested(span, 0, accessors, |b| b.term_inner(pair))
    }

    fn term_inner(&mut self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let mut c = Children::of(pair);
        let mut expr = self.primary(c.next())?;
        for acc in c.rest() {
            let acc_span = span_of(&acc);
            let mut ac = Children::of(acc);
            let name = ident(ac.next());
            let span = expr.span.to(acc_span);
            expr = match ac.rest().next() {
                Some(args) => {
                    let args = self.call_args(args)?;
                    Expr {
                        kind: ExprKind::Method(Box::new(expr), name, args),
                        span,
                    }
                }
                None => Expr {
                    kind: ExprKind::Field(Box::new(expr), name),
                    span,
                },
            };
        }
        Ok(expr)
    }

    fn call_args(&mut self, pair: Pair<'_, Rule>) -> Result<Vec<Expr>, SyntaxError> {
        Children::of(pair).rest().map(|a| self.expr(a)).collect()
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let kind = match rule {
            Rule::paren => {
                let inner = self.expr(Children::of(pair).next())?;
                ExprKind::Paren(Box::new(inner))
            }
            Rule::set_lit => {
                let mut elems = Vec::new();
                for e in Children::of(pair).rest() {
                    elems.push(self.expr(e)?);
                }
                ExprKind::Set(elems)
            }
            Rule::if_expr => {
                let mut c = Children::of(pair);
                let cond = self.expr(c.next())?;
                let then = self.expr(c.next())?;
                let other = self.expr(c.next())?;
                ExprKind::If(Box::new(cond), Box::new(then), Box::new(other))
            }
            Rule::has_expr => {
                let inner = Children::of(pair).next();
                let inner = self.nested(span, 1, 1, |b| b.term(inner))?;
                ExprKind::Has(Box::new(inner))
            }
            Rule::window_call => {
                let mut c = Children::of(pair);
                let func = match c.next().as_str() {
                    "count" => WindowFn::Count,
                    "sum" => WindowFn::Sum,
                    _ => WindowFn::Baseline,
                };
                let target = ident(c.next());
                let over = window_span(c.next());
                let by = c.rest().next().map(budget_key);
                ExprKind::Window(WindowCall {
                    func,
                    target,
                    over,
                    by,
                })
            }
            Rule::call => {
                let mut c = Children::of(pair);
                let name = ident(c.next());
                let args = self.call_args(c.next())?;
                ExprKind::Call(name, args)
            }
            Rule::money_lit => {
                let mut c = Children::of(pair);
                let amount = c.next().as_str().to_string();
                let currency = c.next().as_str().to_string();
                ExprKind::Lit(Literal::Money { amount, currency })
            }
            Rule::duration_lit => ExprKind::Lit(Literal::Duration(DurationLit {
                text: pair.as_str().to_string(),
                span,
            })),
            Rule::time_of_day => ExprKind::Lit(Literal::TimeOfDay(pair.as_str().to_string())),
            Rule::decimal_lit => ExprKind::Lit(Literal::Decimal(pair.as_str().to_string())),
            Rule::int_lit => ExprKind::Lit(Literal::Int(pair.as_str().to_string())),
            Rule::string => ExprKind::Lit(Literal::String(string_lit(pair)?.value)),
            Rule::bool_lit => ExprKind::Lit(Literal::Bool(pair.as_str() == "true")),
            Rule::ident => ExprKind::Name(ident(pair)),
            other => unreachable!("grammar: {other:?} is not a primary"),
        };
        Ok(Expr { kind, span })
    }
}

/// An operator of the expression grammar: a binary one, or a prefix `not`
/// or `-`.
fn is_operator(rule: Rule) -> bool {
    crate::expected::is_binary_operator(rule) || matches!(rule, Rule::op_not | Rule::op_neg)
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_in => BinaryOp::In,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        Rule::op_rem => BinaryOp::Rem,
        other => unreachable!("grammar: {other:?} is not an infix operator"),
    }
}

fn field(pair: Pair<'_, Rule>) -> Field {
    let span = span_of(&pair);
    let mut c = Children::of(pair);
    let name = ident(c.next());
    let optional = c.next_if(Rule::optional_mark).is_some();
    let ty = type_expr(c.next());
    let bounds = c.next_if(Rule::field_bounds).map(field_bounds);
    Field {
        name,
        optional,
        ty,
        bounds,
        span,
    }
}

/// `in least..most`: which end a bound is, is told by whether it comes
/// before or after the `..`.
fn field_bounds(pair: Pair<'_, Rule>) -> Bounds {
    let span = span_of(&pair);
    let (mut least, mut most, mut past_dots) = (None, None, false);
    for child in pair.into_inner() {
        match child.as_rule() {
            Rule::range_dots => past_dots = true,
            Rule::bound if past_dots => most = Some(bound_lit(child)),
            Rule::bound => least = Some(bound_lit(child)),
            _ => {}
        }
    }
    Bounds { least, most, span }
}

fn bound_lit(pair: Pair<'_, Rule>) -> BoundLit {
    let span = span_of(&pair);
    let mut c = Children::of(pair);
    let sign = if c.next_if(Rule::op_neg).is_some() {
        "-"
    } else {
        ""
    };
    let value = c.next();
    let (amount, currency) = match value.as_rule() {
        Rule::money_lit => {
            let mut m = Children::of(value);
            let amount = m.next().as_str().to_string();
            (amount, Some(m.next().as_str().to_string()))
        }
        _ => (value.as_str().to_string(), None),
    };
    BoundLit {
        amount: format!("{sign}{amount}"),
        currency,
        span,
    }
}

fn type_expr(pair: Pair<'_, Rule>) -> TypeExpr {
    let span = span_of(&pair);
    let inner = Children::of(pair).next();
    let kind = match inner.as_rule() {
        Rule::set_type => TypeExprKind::Set(Box::new(type_expr(Children::of(inner).next()))),
        Rule::list_type => TypeExprKind::List(Box::new(type_expr(Children::of(inner).next()))),
        Rule::money_type => TypeExprKind::Money(ident(Children::of(inner).next())),
        Rule::zoned_type => {
            let mut c = Children::of(inner);
            let base = ident(c.next());
            TypeExprKind::Zoned(base, Box::new(zone_arg(c.next())))
        }
        _ => TypeExprKind::Named(ident(inner)),
    };
    TypeExpr { kind, span }
}

/// A type's zone argument, kept as written: a zone name has no escapes, and
/// one that holds a `\\` is no zone the checker knows.
fn zone_arg(pair: Pair<'_, Rule>) -> ZoneArg {
    let span = span_of(&pair);
    let text = pair.as_str();
    let quoted = pair.as_rule() == Rule::string;
    let name = if quoted {
        text[1..text.len() - 1].to_string()
    } else {
        text.to_string()
    };
    ZoneArg { name, quoted, span }
}

fn name_list(pair: Pair<'_, Rule>) -> NameList {
    let span = span_of(&pair);
    NameList {
        names: Children::of(pair).rest().map(ident).collect(),
        span,
    }
}

fn action_patterns(pair: Pair<'_, Rule>) -> Vec<ActionPattern> {
    Children::of(pair)
        .rest()
        .map(|p| {
            let span = span_of(&p);
            let text = p.as_str();
            let kind = if text == "*" {
                PatternKind::Any
            } else if let Some(ns) = text.strip_suffix(".*") {
                PatternKind::Namespace(ns.to_string())
            } else {
                PatternKind::Exact(text.to_string())
            };
            ActionPattern { kind, span }
        })
        .collect()
}

fn action_member(pair: Pair<'_, Rule>) -> ActionMember {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::system_item => ActionMember::System(ident(Children::of(pair).next()), span),
        Rule::object_item => ActionMember::Object(ident(Children::of(pair).next()), span),
        Rule::params_block => {
            ActionMember::Params(Children::of(pair).rest().map(field).collect(), span)
        }
        Rule::data_item => ActionMember::Data(name_list(pair)),
        Rule::reads_item => ActionMember::Reads(name_list(pair)),
        Rule::sends_item => ActionMember::Sends(name_list(pair)),
        Rule::triggers_item => ActionMember::Triggers(
            Children::of(pair)
                .rest()
                .map(|t| {
                    let mut tc = t.clone().into_inner();
                    let is_system = tc.next().is_some_and(|p| p.as_rule() == Rule::kw_system);
                    let name = ident(Children::of(t).next());
                    if is_system {
                        Trigger::System(name)
                    } else {
                        Trigger::Action(name)
                    }
                })
                .collect(),
            span,
        ),
        _ => {
            let inner = Children::of(pair).next();
            let kind = match inner.as_rule() {
                Rule::reversible => ReversibilityKind::Reversible,
                Rule::irreversible => ReversibilityKind::Irreversible,
                _ => {
                    let mut c = Children::of(inner);
                    let by = ident(c.next());
                    let within = c.rest().next().map(|d| DurationLit {
                        text: d.as_str().to_string(),
                        span: span_of(&d),
                    });
                    ReversibilityKind::Compensable { by, within }
                }
            };
            ActionMember::Reversibility(Reversibility { kind, span })
        }
    }
}

fn window_span(pair: Pair<'_, Rule>) -> WindowSpan {
    let inner = Children::of(pair).next();
    let span = span_of(&inner);
    if inner.as_rule() == Rule::plan_window {
        WindowSpan::Plan(span)
    } else {
        WindowSpan::Duration(DurationLit {
            text: inner.as_str().to_string(),
            span,
        })
    }
}

fn budget_key(pair: Pair<'_, Rule>) -> BudgetKeyLit {
    BudgetKeyLit {
        // INVARIANT: the grammar admits only the five key words.
        key: BudgetKey::parse(pair.as_str()).unwrap_or(BudgetKey::Agent),
        span: span_of(&pair),
    }
}

fn string_lit(pair: Pair<'_, Rule>) -> Result<StrLit, SyntaxError> {
    let span = span_of(&pair);
    let raw = pair.as_str();
    let body = &raw[1..raw.len() - 1];
    Ok(StrLit {
        value: unescape(body, span.start as usize + 1)?,
        span,
    })
}

fn unescape(body: &str, offset: usize) -> Result<String, SyntaxError> {
    if !body.contains('\\') {
        return Ok(body.to_string());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, ch)) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'u')) => {
                let rest = &body[i + 2..];
                let close = rest.find('}').unwrap_or(rest.len());
                let hex = rest.get(1..close).unwrap_or("");
                let end = i + 2 + close + 1;
                let span = Span::new(offset + i, offset + end.min(body.len()));
                let ch = u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or(SyntaxError::BadEscape {
                        text: body[i..end.min(body.len())].to_string(),
                        span: span.into(),
                    })?;
                out.push(ch);
                // Skip `{hex}` (the grammar guarantees it is there).
                for _ in 0..close + 1 {
                    chars.next();
                }
            }
            _ => {
                return Err(SyntaxError::BadEscape {
                    text: body[i..].chars().take(2).collect(),
                    span: Span::new(offset + i, offset + i + 2).into(),
                })
            }
        }
    }
    Ok(out)
}
