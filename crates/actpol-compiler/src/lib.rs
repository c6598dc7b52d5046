//! Lowers a checked policy ([`actpol_ir::Policy`]) to a verified
//! [`Program`]: folds constants, emits one code block per condition and
//! value, inlines named risks, builds the rule index (by action, then by
//! agent) so a decision touches only its candidate rules, states an
//! instruction bound per rule, and keeps a side table for explanations.
//!
//! The compiler knows the IR and bytecode, not source text or the runtime.

use std::collections::{BTreeMap, HashMap, VecDeque};

use actpol_bytecode::artifact::Artifact;
use actpol_bytecode::{
    verify, ActionRules, Block, BlockId, Conjunct, Instr, Program, RuleCode, RuleExplain,
    VerifyError, WindowSpec,
};
use actpol_core::collections::{self, CollOp};
use actpol_core::envelope::MAX_ELEMENTS;
use actpol_core::ids::DataClassId;
use actpol_core::ids::{AgentId, RuleId};
use actpol_core::ops::Builtin;
use actpol_core::ops::CmpOp;
use actpol_core::reads::Presence;
use actpol_core::schema::{KeyKind, Schema, Window};
use actpol_core::state::WindowKind;
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_ir::fold::fold;
use actpol_ir::{Expr, ExprKind, Policy, Rule, SrcSpan, WindowRead};

/// How deeply named risks may use one another. The checker rejects cycles;
/// this bounds what a malformed IR could do.
const MAX_RISK_DEPTH: usize = 32;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CompileError {
    #[error("risk `{name}` uses risks nested deeper than {MAX_RISK_DEPTH} levels")]
    #[diagnostic(
        code(actpol::compile::risk_depth),
        help("a risk may not use itself, directly or through other risks")
    )]
    RiskDepth { name: String },

    #[error("the compiled program failed verification: {0}")]
    #[diagnostic(
        code(actpol::compile::verify),
        help("this is a compiler bug: please report it with the policy")
    )]
    Verify(#[from] VerifyError),
}

/// Compiles a checked policy. `source_hash` is the sha256 of its sources.
/// The artifact's `compiled_at` is left at zero: the compiler reads no
/// clock, its caller stamps the time.
pub fn compile(policy: &Policy, source_hash: [u8; 32]) -> Result<Artifact, CompileError> {
    let program = lower(policy)?;
    verify(&program)?;
    Ok(Artifact {
        policy: policy.meta.name.clone(),
        source_hash,
        compiler: format!("actpol {}", env!("CARGO_PKG_VERSION")),
        compiled_at: 0,
        program,
        signature: None,
    })
}

/// Lowers without verifying (the verifier's own tests start from this).
pub fn lower(policy: &Policy) -> Result<Program, CompileError> {
    let mut c = Emitter {
        policy,
        consts: Vec::new(),
        const_ids: HashMap::new(),
        code: Vec::new(),
        blocks: Vec::new(),
        windows: Vec::new(),
        window_ids: HashMap::new(),
        depth: 0,
        max_depth: 0,
        risk_depth: 0,
        pending: VecDeque::new(),
        loop_bounds: HashMap::new(),
    };
    let mut rules = Vec::with_capacity(policy.rules.len());
    let mut explain = Vec::with_capacity(policy.rules.len());
    for rule in &policy.rules {
        rules.push(c.rule(rule)?);
        explain.push(c.explain(rule)?);
    }
    let scopes = policy
        .scopes
        .iter()
        .map(|preds| {
            preds
                .iter()
                .map(|(entity, e)| Ok((*entity, c.block(e)?)))
                .collect::<Result<Vec<_>, CompileError>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let raises = policy
        .raises
        .iter()
        .map(|e| c.block(e))
        .collect::<Result<Vec<_>, _>>()?;
    let risks = policy
        .risks
        .iter()
        .map(|e| c.block(e))
        .collect::<Result<Vec<_>, _>>()?;
    let mut program = Program {
        schema: policy.schema.clone(),
        meta: policy.meta.clone(),
        consts: c.consts,
        code: c.code,
        blocks: c.blocks,
        index: build_index(policy),
        rules,
        scopes,
        raises,
        risks,
        windows: c.windows,
        explain,
    };
    program.shrink_to_fit();
    Ok(program)
}

/// Per action: the rules for any agent, and per agent the pinned ones.
fn build_index(policy: &Policy) -> Vec<ActionRules> {
    let mut any: Vec<Vec<RuleId>> = vec![Vec::new(); policy.schema.actions.len()];
    let mut pinned: Vec<BTreeMap<AgentId, Vec<RuleId>>> =
        vec![BTreeMap::new(); policy.schema.actions.len()];
    // An agent or action named twice in a rule must not make the rule run
    // twice (and consume twice): rules are visited in order, so a repeat
    // is always the last entry of its list.
    let add = |list: &mut Vec<RuleId>, rule: RuleId| {
        if list.last() != Some(&rule) {
            list.push(rule);
        }
    };
    for rule in &policy.rules {
        for action in &rule.actions {
            let Some(slot) = any.get_mut(action.index()) else {
                continue;
            };
            match &rule.agents {
                None => add(slot, rule.id),
                Some(agents) => {
                    for agent in agents {
                        add(pinned[action.index()].entry(*agent).or_default(), rule.id);
                    }
                }
            }
        }
    }
    any.into_iter()
        .zip(pinned)
        .map(|(any_agent, by)| ActionRules {
            any_agent,
            by_agent: by.into_iter().collect(),
        })
        .collect()
}

struct Emitter<'p> {
    policy: &'p Policy,
    consts: Vec<Value>,
    /// Keyed by the value and whether it is a negative zero (see
    /// [`Emitter::constant`]).
    const_ids: HashMap<(Value, bool), u32>,
    code: Vec<Instr>,
    blocks: Vec<Block>,
    windows: Vec<WindowSpec>,
    window_ids: HashMap<WindowSpec, u32>,
    /// Stack depth at the current point of emission.
    depth: u32,
    max_depth: u32,
    risk_depth: usize,
    /// Loop bodies whose block is reserved, to emit once the block being
    /// emitted is done (a block's code is one contiguous run).
    pending: VecDeque<(BlockId, Expr)>,
    /// Per loop body: the most elements its loop can walk.
    loop_bounds: HashMap<BlockId, u64>,
}

impl Emitter<'_> {
    fn rule(&mut self, rule: &Rule) -> Result<RuleCode, CompileError> {
        let mut bound = 0;
        let when = match &rule.when {
            Some(e) => Some(self.block_counted(e, &mut bound)?),
            None => None,
        };
        let mut limits = Vec::new();
        for limit in &rule.outcome.limits {
            limits.push((
                limit.param,
                limit.op,
                self.block_counted(&limit.value, &mut bound)?,
            ));
        }
        let mut consumes = Vec::new();
        for consume in &rule.consumes {
            consumes.push((
                consume.budget,
                self.block_counted(&consume.amount, &mut bound)?,
            ));
        }
        Ok(RuleCode {
            when,
            level: rule.outcome.level,
            approver: rule.outcome.approver,
            reason: rule.outcome.reason.clone(),
            limits,
            requires: rule.outcome.requires.clone(),
            consumes,
            workflows: rule.workflows.clone(),
            bound,
        })
    }

    fn block_counted(&mut self, e: &Expr, bound: &mut u32) -> Result<BlockId, CompileError> {
        let id = self.block(e)?;
        let total = u64::from(*bound).saturating_add(self.bound_of(id, 0));
        *bound = u32::try_from(total).unwrap_or(u32::MAX);
        Ok(id)
    }

    /// The most instructions a block can run: its length, and for each
    /// loop in it, the body's bound times the most elements the loop can
    /// walk. Loop bodies come after their loops, so this ends.
    fn bound_of(&self, id: BlockId, depth: usize) -> u64 {
        let Some(b) = self.blocks.get(id.index()) else {
            return u64::MAX;
        };
        let code = &self.code[b.start as usize..(b.start + b.len) as usize];
        code.iter().fold(u64::from(b.len), |total, ins| match ins {
            Instr::Loop(_, _, body) if depth < MAX_RISK_DEPTH => {
                let body = BlockId(*body);
                let walks = self.loop_bounds.get(&body).copied().unwrap_or(u64::MAX);
                total.saturating_add(walks.saturating_mul(self.bound_of(body, depth + 1)))
            }
            Instr::Loop(..) => u64::MAX,
            _ => total,
        })
    }

    /// Splits the condition at its top-level `and`s and compiles each part
    /// and each side of each comparison separately, for explanations.
    fn explain(&mut self, rule: &Rule) -> Result<RuleExplain, CompileError> {
        let doc = self
            .policy
            .meta
            .rules
            .get(rule.id.index())
            .and_then(|r| r.doc.clone());
        let Some(when) = &rule.when else {
            return Ok(RuleExplain {
                doc,
                ..RuleExplain::default()
            });
        };
        let mut parts = Vec::new();
        conjuncts(when, &mut parts);
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            let mut operands = Vec::new();
            for operand in operands_of(part) {
                let text = self.text(operand);
                operands.push((text, self.block(operand)?, operand.ty.clone()));
            }
            out.push(Conjunct {
                text: self.text(part),
                block: self.block(part)?,
                operands,
            });
        }
        Ok(RuleExplain {
            doc,
            when_text: Some(self.text(when)),
            conjuncts: out,
        })
    }

    fn text(&self, e: &Expr) -> String {
        self.policy
            .text(e.span)
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "(condition)".to_string())
    }

    /// Compiles one expression into a new block ending in `Return`, and
    /// the bodies of its loops into blocks after it.
    fn block(&mut self, e: &Expr) -> Result<BlockId, CompileError> {
        let folded = fold(e.clone());
        let id = self.reserve();
        self.fill(id, &folded)?;
        while let Some((body_id, body)) = self.pending.pop_front() {
            self.fill(body_id, &body)?;
        }
        Ok(id)
    }

    /// A block id whose code comes later.
    fn reserve(&mut self) -> BlockId {
        self.blocks.push(Block {
            start: 0,
            len: 0,
            max_stack: 0,
        });
        BlockId(self.blocks.len() as u32 - 1)
    }

    fn fill(&mut self, id: BlockId, e: &Expr) -> Result<(), CompileError> {
        let start = self.code.len() as u32;
        self.depth = 0;
        self.max_depth = 0;
        self.expr(e)?;
        self.emit(Instr::Return);
        self.blocks[id.index()] = Block {
            start,
            len: self.code.len() as u32 - start,
            max_stack: self.max_depth,
        };
        Ok(())
    }

    fn emit(&mut self, ins: Instr) {
        let (pops, pushes) = ins.stack_effect();
        self.depth = self.depth.saturating_sub(pops as u32) + pushes as u32;
        self.max_depth = self.max_depth.max(self.depth);
        self.code.push(ins);
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    /// Points the jump at `at` to the current position.
    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.code[at] = match self.code[at] {
            Instr::JumpIfFalseOrPop(_) => Instr::JumpIfFalseOrPop(target),
            Instr::JumpIfTrueOrPop(_) => Instr::JumpIfTrueOrPop(target),
            Instr::JumpIfFalse(_) => Instr::JumpIfFalse(target),
            _ => Instr::Jump(target),
        };
    }

    fn constant(&mut self, v: &Value) -> u32 {
        // `Value` equality holds `-0` equal to `0`, yet the sign shows: the
        // combiner refuses a consumption whose sign is negative. Sharing
        // one slot between them would change what the policy says.
        let negative_zero = matches!(v, Value::Decimal(d) | Value::Money(d)
            if d.is_zero() && d.is_sign_negative());
        let key = (v.clone(), negative_zero);
        if let Some(id) = self.const_ids.get(&key) {
            return *id;
        }
        let id = self.consts.len() as u32;
        self.consts.push(v.clone());
        self.const_ids.insert(key, id);
        id
    }

    fn call(&mut self, f: Builtin, args: &[Expr]) -> Result<(), CompileError> {
        if let (Builtin::RegexMatch, [text, pattern]) = (f, args) {
            if let ExprKind::Const(pattern @ Value::String(_)) = &pattern.kind {
                // A constant pattern: the runtime compiles it once, on load.
                self.expr(text)?;
                let id = self.constant(pattern);
                self.emit(Instr::Regex(id));
                return Ok(());
            }
        }
        for a in args {
            self.expr(a)?;
        }
        self.emit(Instr::Call(f));
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), CompileError> {
        match &e.kind {
            ExprKind::Const(v) => {
                let id = self.constant(v);
                self.emit(Instr::Const(id));
            }
            ExprKind::Env(f) => self.emit(Instr::Env(*f)),
            ExprKind::Param(n) => self.emit(Instr::Param(*n)),
            ExprKind::Attr(n) => self.emit(Instr::Attr(*n)),
            ExprKind::Context(n) => self.emit(Instr::Context(*n)),
            ExprKind::Touches(d) => self.emit(Instr::Touches(*d)),
            ExprKind::Sends(d) => self.emit(Instr::Sends(*d)),
            ExprKind::Upstream(class, within) => {
                let windows = upstream_windows(&self.policy.schema, *class, *within, e.span);
                self.expr(&windows)?;
            }
            ExprKind::Has(p) => self.emit(Instr::has(*p)),
            ExprKind::Budget(b, f) => self.emit(Instr::Budget(*b, *f)),
            ExprKind::Window(read) => {
                let spec = WindowSpec {
                    kind: read.kind,
                    pattern: read.pattern.clone(),
                    param: read.param,
                    window: read.window,
                    key: read.key,
                    ty: e.ty.clone(),
                };
                let id = match self.window_ids.get(&spec) {
                    Some(id) => *id,
                    None => {
                        let id = self.windows.len() as u32;
                        self.windows.push(spec.clone());
                        self.window_ids.insert(spec, id);
                        id
                    }
                };
                self.emit(Instr::Window(id));
            }
            ExprKind::Risk(id) => {
                let risk = self.policy.risks.get(id.index());
                let name = self
                    .policy
                    .meta
                    .risks
                    .get(id.index())
                    .map_or("?", |r| r.name.as_str());
                match risk {
                    Some(body) if self.risk_depth < MAX_RISK_DEPTH => {
                        self.risk_depth += 1;
                        let body = fold(body.clone());
                        let result = self.expr(&body);
                        self.risk_depth -= 1;
                        result?;
                    }
                    _ => {
                        return Err(CompileError::RiskDepth {
                            name: name.to_string(),
                        })
                    }
                }
            }
            ExprKind::Not(a) => {
                self.expr(a)?;
                self.emit(Instr::Not);
            }
            ExprKind::Neg(a) => {
                self.expr(a)?;
                self.emit(Instr::Neg);
            }
            ExprKind::ToDecimal(a) => {
                self.expr(a)?;
                self.emit(Instr::ToDecimal);
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.expr(a)?;
                let jump = self.code.len();
                let is_and = matches!(e.kind, ExprKind::And(..));
                self.emit(if is_and {
                    Instr::JumpIfFalseOrPop(0)
                } else {
                    Instr::JumpIfTrueOrPop(0)
                });
                self.expr(b)?;
                self.patch(jump);
            }
            ExprKind::Cmp(op, a, b) => {
                self.expr(a)?;
                self.expr(b)?;
                self.emit(Instr::Cmp(*op));
            }
            ExprKind::Arith(op, a, b) => {
                self.expr(a)?;
                self.expr(b)?;
                self.emit(Instr::Arith(*op));
            }
            ExprKind::In(a, b) => {
                self.expr(a)?;
                if let ExprKind::SetLit(items) = &b.kind {
                    // Compare against each element; no set is built.
                    for item in items {
                        self.expr(item)?;
                    }
                    self.emit(Instr::InList(items.len() as u32));
                } else {
                    self.expr(b)?;
                    self.emit(Instr::In);
                }
            }
            ExprKind::Call(f, args) => self.call(*f, args)?,
            ExprKind::SetLit(items) => {
                for a in items {
                    self.expr(a)?;
                }
                self.emit(Instr::MakeSet(items.len() as u32));
            }
            ExprKind::Var(slot) => self.emit(Instr::Var(*slot)),
            ExprKind::Loop {
                kind,
                indexed,
                over,
                body,
            } => {
                self.expr(over)?;
                let body_id = self.reserve();
                self.loop_bounds.insert(body_id, max_len(over));
                self.pending.push_back((body_id, (**body).clone()));
                self.emit(Instr::Loop(*kind, *indexed, body_id.0));
            }
            ExprKind::Coll(op, args) => {
                for a in args {
                    self.expr(a)?;
                }
                self.emit(Instr::Coll(*op));
            }
            ExprKind::Part(kind, slot, args) | ExprKind::HasPart(kind, slot, args) => {
                for a in args {
                    self.expr(a)?;
                }
                self.emit(match e.kind {
                    ExprKind::Part(..) => Instr::Part(*kind, *slot),
                    _ => Instr::HasPart(*kind, *slot),
                });
            }
            ExprKind::If(cond, then, other) => {
                self.expr(cond)?;
                let to_else = self.code.len();
                self.emit(Instr::JumpIfFalse(0));
                let depth = self.depth;
                self.expr(then)?;
                let to_end = self.code.len();
                self.emit(Instr::Jump(0));
                self.patch(to_else);
                self.depth = depth;
                self.expr(other)?;
                self.patch(to_end);
            }
        }
        Ok(())
    }
}

/// The most elements a collection-valued expression can hold: an
/// envelope's lists and sets hold at most [`MAX_ELEMENTS`], and what is
/// built from them at most what it is built from.
fn max_len(e: &Expr) -> u64 {
    let cap = MAX_ELEMENTS as u64;
    match &e.kind {
        ExprKind::Const(v) => collections::elements(v).map_or(0, |items| items.len() as u64),
        ExprKind::SetLit(items) => items.len() as u64,
        ExprKind::Coll(CollOp::Union, args) => {
            args.iter().map(max_len).fold(0, u64::saturating_add)
        }
        ExprKind::Coll(_, args) => args.first().map_or(cap, max_len),
        ExprKind::Loop { over, .. } => max_len(over),
        ExprKind::If(_, a, b) => max_len(a).max(max_len(b)),
        _ => cap,
    }
}

/// The top-level conjuncts of a condition.
fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::And(a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        _ => out.push(e),
    }
}

/// `upstream.reads(class)` as the windows a store keeps: the envelope has
/// a plan, and a step of that plan upstream of it (within `within`) is an
/// action that reads `class` (`count(<reader> over upstream by plan) > 0`
/// for some reader). False when no action reads the class.
fn upstream_windows(
    schema: &Schema,
    class: DataClassId,
    within: Option<i64>,
    span: SrcSpan,
) -> Expr {
    let bool_of = |kind| Expr {
        kind,
        ty: Type::Bool,
        span,
    };
    let ran = |reader: &str| {
        let count = Expr {
            kind: ExprKind::Window(WindowRead {
                kind: WindowKind::Count,
                pattern: reader.to_string(),
                param: None,
                window: Window::Upstream(within),
                key: KeyKind::Plan,
            }),
            ty: Type::Int,
            span,
        };
        let zero = Expr::constant(Value::Int(0), Type::Int, span);
        bool_of(ExprKind::Cmp(CmpOp::Gt, Box::new(count), Box::new(zero)))
    };
    let any = schema
        .readers(class)
        .map(|(name, _)| ran(name))
        .reduce(|a, b| bool_of(ExprKind::Or(Box::new(a), Box::new(b))));
    match any {
        Some(any) => bool_of(ExprKind::And(
            Box::new(bool_of(ExprKind::Has(Presence::Plan))),
            Box::new(any),
        )),
        None => Expr::constant(Value::Bool(false), Type::Bool, span),
    }
}

/// The values worth showing when a conjunct is false.
fn operands_of(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Cmp(_, a, b) | ExprKind::In(a, b) | ExprKind::Arith(_, a, b) => vec![&**a, &**b],
        ExprKind::Call(_, args) => args.iter().collect(),
        ExprKind::Not(inner) => operands_of(inner),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|x| x.as_const().is_none())
    .collect()
}
