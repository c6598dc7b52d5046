//! The compiled form of a policy: a [`Program`] of small [`Instr`]uctions in
//! code blocks, the tables they index, and the rule index that finds the
//! rules a decision must run without scanning the rest. Also the `.actpolc`
//! artifact format ([`artifact`]), the verifier every program passes before
//! it runs ([`verify`]), and the disassembler ([`disasm`]).
//!
//! This crate knows the schema and values (`actpol-core`) but nothing of
//! policy text, the checker or the IR: the runtime links it without them.

use actpol_core::collections::{CollOp, LoopKind, PartKind};
use actpol_core::decision::{ConstraintOp, Level, Requirement};
use actpol_core::ids::*;
use actpol_core::ops::{ArithOp, Builtin, CmpOp};
use actpol_core::reads::{BudgetField, EnvField, Presence};
use actpol_core::schema::{Destination, KeyKind, PolicyMeta, Schema, Window};
use actpol_core::state::WindowKind;
use actpol_core::types::Type;
use actpol_core::value::Value;
use serde::{Deserialize, Serialize};

pub mod artifact;
pub mod disasm;
pub mod verify;

pub use artifact::{Artifact, ArtifactError};
pub use verify::{verify, VerifyError};

/// One instruction. Operands index the program's tables; the verifier checks
/// every index and every jump before a program runs.
///
/// The machine is a stack machine: each instruction pops its operands and
/// pushes its result. Blocks end with [`Instr::Return`], leaving one value.
/// Jumps go forward only, so a block runs at most its length in steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Instr {
    /// Push `consts[i]`.
    Const(u32),
    /// Push the parameter of this name (an error if absent).
    Param(NameId),
    /// Push the object's attribute of this name (an error if absent).
    Attr(NameId),
    /// Push the context field of this name (an error if absent).
    Context(NameId),
    /// Push a field of the envelope.
    Env(EnvField),
    /// Push whether the action touches the data class.
    Touches(DataClassId),
    /// Push whether the action declares it sends to the destination.
    Sends(Destination),
    /// Push whether an optional part of the envelope is present (see
    /// [`Instr::has`]; the pair keeps the instruction one word).
    Has(HasKind, u32),
    /// Push a budget's limit, consumption or remainder for this envelope.
    Budget(BudgetId, BudgetField),
    /// Push `windows[i]` read from the state view.
    Window(u32),
    /// Pop `b`, `a`; push `a op b`.
    Cmp(CmpOp),
    /// Pop `b`, `a`; push `a op b`.
    Arith(ArithOp),
    /// Pop `a`; push `-a`.
    Neg,
    /// Pop a `Bool`; push its negation.
    Not,
    /// Pop an `Int`; push it as a `Decimal`.
    ToDecimal,
    /// Pop `set`, `elem`; push `elem in set`.
    In,
    /// Pop the builtin's arguments (last on top); push its result.
    Call(Builtin),
    /// Pop `n` values; push the set of them.
    MakeSet(u32),
    /// Pop `n` values, then `elem`; push whether `elem` is one of them
    /// (`x in [a, b]` with elements known only at run time).
    InList(u32),
    /// `and`: if the top is `false`, jump to the target keeping it; else pop it.
    JumpIfFalseOrPop(u32),
    /// `or`: if the top is `true`, jump to the target keeping it; else pop it.
    JumpIfTrueOrPop(u32),
    /// Pop a `Bool`; jump to the target if it is `false`.
    JumpIfFalse(u32),
    /// Jump to the target.
    Jump(u32),
    /// End the block: its value is the one on the stack.
    Return,
    /// Push the variable in slot `i`, bound by an enclosing `Loop`.
    Var(u32),
    /// Pop a list or set; run block `b` once per element with the element
    /// (after its index, when the flag says so) bound to the next variable
    /// slots; push what the kind makes of the results. The block must come
    /// after the one holding this instruction, so loops nest and end.
    Loop(LoopKind, bool, u32),
    /// Pop the operation's arguments (last on top); push its result.
    Coll(CollOp),
    /// Pop the part's arguments; push the part (an error if absent). The
    /// `u32` is a record field's slot.
    Part(PartKind, u32),
    /// Pop the part's arguments; push whether the part is present.
    HasPart(PartKind, u32),
    /// Pop a `String`; push whether the regular expression `consts[i]`
    /// matches it. The runtime compiles each pattern once, on load.
    Regex(u32),
}

impl Instr {
    /// How many values the instruction pops and pushes.
    pub fn stack_effect(self) -> (usize, usize) {
        match self {
            Instr::Const(_)
            | Instr::Param(_)
            | Instr::Attr(_)
            | Instr::Context(_)
            | Instr::Env(_)
            | Instr::Touches(_)
            | Instr::Sends(_)
            | Instr::Has(..)
            | Instr::Budget(..)
            | Instr::Window(_)
            | Instr::Var(_) => (0, 1),
            Instr::Loop(..) => (1, 1),
            Instr::Coll(op) => (op.arity(), 1),
            Instr::Part(kind, _) | Instr::HasPart(kind, _) => (kind.arity(), 1),
            Instr::Cmp(_) | Instr::Arith(_) | Instr::In => (2, 1),
            Instr::Neg | Instr::Not | Instr::ToDecimal | Instr::Regex(_) => (1, 1),
            Instr::Call(b) => (b.arity(), 1),
            Instr::MakeSet(n) => (n as usize, 1),
            Instr::InList(n) => (n as usize + 1, 1),
            // Conditional keep-or-pop: modelled in the verifier.
            Instr::JumpIfFalseOrPop(_) | Instr::JumpIfTrueOrPop(_) => (1, 0),
            Instr::JumpIfFalse(_) => (1, 0),
            Instr::Jump(_) => (0, 0),
            Instr::Return => (1, 0),
        }
    }

    pub fn jump_target(self) -> Option<u32> {
        match self {
            Instr::JumpIfFalseOrPop(t)
            | Instr::JumpIfTrueOrPop(t)
            | Instr::JumpIfFalse(t)
            | Instr::Jump(t) => Some(t),
            _ => None,
        }
    }
}

/// What a `Has` instruction asks about; the `u32` beside it is the field
/// name for the first three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HasKind {
    Param,
    Attr,
    Context,
    Intent,
    Rollback,
    RollbackAction,
    RollbackWithin,
    Plan,
}

impl Instr {
    pub fn has(presence: Presence) -> Instr {
        let (kind, name) = match presence {
            Presence::Param(n) => (HasKind::Param, n.0),
            Presence::Attr(n) => (HasKind::Attr, n.0),
            Presence::Context(n) => (HasKind::Context, n.0),
            Presence::Intent => (HasKind::Intent, 0),
            Presence::Rollback => (HasKind::Rollback, 0),
            Presence::RollbackAction => (HasKind::RollbackAction, 0),
            Presence::RollbackWithin => (HasKind::RollbackWithin, 0),
            Presence::Plan => (HasKind::Plan, 0),
        };
        Instr::Has(kind, name)
    }
}

impl HasKind {
    pub fn presence(self, name: u32) -> Presence {
        match self {
            HasKind::Param => Presence::Param(NameId(name)),
            HasKind::Attr => Presence::Attr(NameId(name)),
            HasKind::Context => Presence::Context(NameId(name)),
            HasKind::Intent => Presence::Intent,
            HasKind::Rollback => Presence::Rollback,
            HasKind::RollbackAction => Presence::RollbackAction,
            HasKind::RollbackWithin => Presence::RollbackWithin,
            HasKind::Plan => Presence::Plan,
        }
    }
}

/// A run of [`Program::code`] that computes one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub start: u32,
    pub len: u32,
    /// The deepest the stack gets (set by the verifier's rules).
    pub max_stack: u32,
}

/// Index of a [`Block`] in [`Program::blocks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockId(pub u32);

impl BlockId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A read of the state view over a window.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WindowSpec {
    pub kind: WindowKind,
    pub pattern: String,
    pub param: Option<NameId>,
    pub window: Window,
    pub key: KeyKind,
    /// The type the read yields.
    pub ty: Type,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleCode {
    /// The condition; `None` when the rule always fires.
    pub when: Option<BlockId>,
    pub level: Level,
    pub approver: Option<ApproverId>,
    pub reason: Option<String>,
    pub limits: Vec<(NameId, ConstraintOp, BlockId)>,
    pub requires: Vec<Requirement>,
    pub consumes: Vec<(BudgetId, BlockId)>,
    /// `for workflow …`; checked at run time (agents are in the index).
    pub workflows: Option<Vec<String>>,
    /// The most instructions one decision can run for this rule.
    pub bound: u32,
}

/// The rules a decision on one action must consider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRules {
    /// Rules for any agent, in rule order.
    pub any_agent: Vec<RuleId>,
    /// Rules pinned to agents (`for agent …`): per agent, sorted by agent.
    pub by_agent: Vec<(AgentId, Vec<RuleId>)>,
}

impl ActionRules {
    pub fn for_agent(&self, agent: AgentId) -> &[RuleId] {
        self.by_agent
            .binary_search_by_key(&agent, |(a, _)| *a)
            .map_or(&[][..], |i| &self.by_agent[i].1)
    }
}

/// For explanations (C11): a rule's condition split at its top-level
/// `and`s, each part with its text and the values it compares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleExplain {
    pub doc: Option<String>,
    /// The whole condition as written.
    pub when_text: Option<String>,
    pub conjuncts: Vec<Conjunct>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conjunct {
    pub text: String,
    pub block: BlockId,
    /// The sides of a comparison (or the arguments of a call): text, code
    /// and type, so an explanation can show the values seen.
    pub operands: Vec<(String, BlockId, Type)>,
}

/// A compiled policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub schema: Schema,
    pub meta: PolicyMeta,
    pub consts: Vec<Value>,
    pub code: Vec<Instr>,
    pub blocks: Vec<Block>,
    /// Indexed by [`RuleId`].
    pub rules: Vec<RuleCode>,
    /// Indexed by [`ActionId`].
    pub index: Vec<ActionRules>,
    /// Record predicates of each agent's scope, indexed by [`AgentId`].
    pub scopes: Vec<Vec<(EntityId, BlockId)>>,
    /// Raise conditions, indexed by [`RaiseId`].
    pub raises: Vec<BlockId>,
    /// Risk expressions, indexed by [`RiskId`] (for exception packets).
    pub risks: Vec<BlockId>,
    pub windows: Vec<WindowSpec>,
    /// Indexed by [`RuleId`]; read only to explain.
    pub explain: Vec<RuleExplain>,
}

impl Program {
    /// Gives back the spare capacity of the program's tables. A table the
    /// compiler builds, or one read from an artifact past a mebibyte
    /// (serde pre-sizes no more), grows by doubling, so a large program
    /// would keep up to as much again as slack for as long as it is loaded.
    pub fn shrink_to_fit(&mut self) {
        self.consts.shrink_to_fit();
        self.code.shrink_to_fit();
        self.blocks.shrink_to_fit();
        self.rules.shrink_to_fit();
        for action in &mut self.index {
            action.any_agent.shrink_to_fit();
            for (_, rules) in &mut action.by_agent {
                rules.shrink_to_fit();
            }
            action.by_agent.shrink_to_fit();
        }
        self.index.shrink_to_fit();
        self.scopes.shrink_to_fit();
        self.raises.shrink_to_fit();
        self.risks.shrink_to_fit();
        self.windows.shrink_to_fit();
        self.explain.shrink_to_fit();
        self.meta.rules.shrink_to_fit();
    }

    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.index()]
    }

    /// The instructions of a block.
    pub fn block_code(&self, id: BlockId) -> &[Instr] {
        let b = self.block(id);
        &self.code[b.start as usize..(b.start + b.len) as usize]
    }

    /// The candidate rules for an action and agent, in rule order.
    pub fn candidates(&self, action: ActionId, agent: AgentId) -> (&[RuleId], &[RuleId]) {
        match self.index.get(action.index()) {
            Some(rules) => (&rules.any_agent, rules.for_agent(agent)),
            None => (&[], &[]),
        }
    }
}

// The VM's loop reads instructions from a dense array: keep them to one
// word so a block fits in few cache lines.
const _: () = assert!(std::mem::size_of::<Instr>() == 8);
