//! The interpreter: runs one verified block against one envelope.

use std::cell::{Cell, RefCell};

use smallvec::SmallVec;

use actpol_bytecode::{BlockId, Instr, Program};
use actpol_core::collections::{self, LoopKind};

use crate::patterns::Patterns;
use actpol_core::decision::EvalError;
use actpol_core::ops::{self, ArithOp};
use actpol_core::reads::{BudgetField, FieldKind, Names, Reader};
use actpol_core::state::{WindowKind, WindowQuery};
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::{BoundEnvelope, Decimal, StateView};

/// Instructions one decision may run. Jumps only go forward, so a decision
/// runs at most the length of the blocks it touches; this bounds even a
/// program far larger than any policy.
pub const FUEL: u64 = 10_000_000;

/// The evaluation stack: inline while it is shallow, as a condition's
/// almost always is, so a decision neither allocates one nor fetches one
/// from a pool.
type Stack = SmallVec<[Value; STACK_INLINE]>;

/// How many values the stack holds before it spills to the heap.
const STACK_INLINE: usize = 16;

/// A decision's evaluation stack, made by the caller and lent to its
/// machine: the machine stays a few words, so making one and handing it
/// on copies no stack.
pub(crate) struct StackRoom(RefCell<Stack>);

impl StackRoom {
    pub(crate) fn new() -> Self {
        StackRoom(RefCell::new(Stack::new()))
    }
}

/// One decision's evaluation state: the envelope with its action's and
/// object's declarations, the state view, a stack reused across blocks
/// (lent by the caller), and the fuel left.
pub(crate) struct Machine<'a> {
    prog: &'a Program,
    env: &'a BoundEnvelope,
    /// The envelope's reads, its declarations looked up once.
    reader: Reader<'a>,
    state: &'a dyn StateView,
    patterns: &'a Patterns,
    stack: &'a RefCell<Stack>,
    fuel: Cell<u64>,
    /// The variables enclosing loops bound, outermost first.
    vars: RefCell<Vec<Value>>,
}

/// How deeply loops may nest while running: the verifier orders loop
/// bodies after their loops, and this bounds a damaged artifact's chain of
/// them before it could exhaust the native stack.
const MAX_LOOP_DEPTH: usize = actpol_bytecode::verify::MAX_VARIABLES as usize;

fn corrupt(what: &str) -> EvalError {
    EvalError::InvalidProgram(what.to_string())
}

impl<'a> Machine<'a> {
    /// A machine for one decision on `env`, which must have been bound
    /// against `prog`'s schema.
    pub(crate) fn new(
        prog: &'a Program,
        names: &'a Names,
        patterns: &'a Patterns,
        env: &'a BoundEnvelope,
        state: &'a dyn StateView,
        room: &'a StackRoom,
    ) -> Result<Self, EvalError> {
        let reader = Reader::new(env, &prog.schema, names)?;
        Ok(Machine {
            prog,
            env,
            reader,
            state,
            patterns,
            stack: &room.0,
            fuel: Cell::new(FUEL),
            vars: RefCell::new(Vec::new()),
        })
    }

    /// Runs a block that must yield a `Bool`.
    #[inline]
    pub(crate) fn truth(&self, block: BlockId) -> Result<bool, EvalError> {
        match self.run(block)? {
            Value::Bool(b) => Ok(b),
            _ => Err(corrupt("a condition did not yield a boolean")),
        }
    }

    /// Runs a block to its value.
    #[inline]
    pub(crate) fn run(&self, block: BlockId) -> Result<Value, EvalError> {
        let b = self
            .prog
            .blocks
            .get(block.index())
            .ok_or_else(|| corrupt("block index out of range"))?;
        let start = b.start as usize;
        let code = self
            .prog
            .code
            .get(start..start + b.len as usize)
            .ok_or_else(|| corrupt("block outside the code"))?;
        // Blocks run one after another, never one inside another (a loop's
        // body shares its loop's stack), so the stack is free here; were it
        // not, that is a fault to report, not to panic on.
        let mut stack = self
            .stack
            .try_borrow_mut()
            .map_err(|_| corrupt("a block ran inside another"))?;
        stack.clear();
        self.exec(code, start, &mut stack)
    }

    fn exec(&self, code: &[Instr], start: usize, stack: &mut Stack) -> Result<Value, EvalError> {
        let mut pc = 0usize;
        let fuel = self.fuel.get();
        if fuel < code.len() as u64 {
            return Err(EvalError::Fuel);
        }
        // Each instruction runs at most once (jumps go forward), so charging
        // the block's length up front bounds the run.
        self.fuel.set(fuel - code.len() as u64);
        let pop = |stack: &mut Stack| stack.pop().ok_or_else(|| corrupt("stack underflow"));
        loop {
            let ins = *code
                .get(pc)
                .ok_or_else(|| corrupt("ran off the end of a block"))?;
            pc += 1;
            match ins {
                Instr::Const(_) | Instr::Param(_) | Instr::Attr(_) | Instr::Context(_) => {
                    let v = self.read(ins)?;
                    match self.fused(v, &code[pc..])? {
                        Some(done) => {
                            stack.push(Value::Bool(done));
                            pc += 2;
                        }
                        None => stack.push(v.clone()),
                    }
                }
                Instr::Env(field) => stack.push(self.reader.field(field)?),
                Instr::Touches(d) => {
                    stack.push(Value::Bool(self.prog.schema.touches(self.env.action, d)))
                }
                Instr::Sends(d) => {
                    stack.push(Value::Bool(self.prog.schema.sends(self.env.action, d)))
                }
                Instr::Has(kind, name) => {
                    stack.push(Value::Bool(self.reader.has(kind.presence(name))?))
                }
                Instr::Budget(b, field) => stack.push(self.budget(b, field)?),
                Instr::Window(i) => stack.push(self.window(i)?),
                Instr::Cmp(op) => {
                    let (b, a) = (pop(stack)?, pop(stack)?);
                    stack.push(Value::Bool(ops::compare(op, &a, &b)?));
                }
                Instr::Arith(op) => {
                    let (b, a) = (pop(stack)?, pop(stack)?);
                    stack.push(ops::arith(op, &a, &b)?);
                }
                Instr::Neg => {
                    let a = pop(stack)?;
                    stack.push(ops::negate(&a)?);
                }
                Instr::Not => match pop(stack)? {
                    Value::Bool(b) => stack.push(Value::Bool(!b)),
                    _ => return Err(corrupt("`not` of a non-boolean")),
                },
                Instr::ToDecimal => {
                    let a = pop(stack)?;
                    stack.push(ops::to_decimal(&a)?);
                }
                Instr::In => {
                    let (set, elem) = (pop(stack)?, pop(stack)?);
                    stack.push(Value::Bool(ops::member(&elem, &set)?));
                }
                Instr::Call(f) => {
                    // Builtins take one or two arguments: no vector needed.
                    let result = if f.arity() == 1 {
                        let a = pop(stack)?;
                        let args = std::slice::from_ref(&a);
                        self.burn(f.scan_cost(args))?;
                        ops::call(f, args)?
                    } else {
                        let (b, a) = (pop(stack)?, pop(stack)?);
                        let args = [a, b];
                        self.burn(f.scan_cost(&args))?;
                        ops::call(f, &args)?
                    };
                    stack.push(result);
                }
                Instr::Regex(i) => {
                    let Value::String(text) = pop(stack)? else {
                        return Err(corrupt("`matches_regex` of a non-string"));
                    };
                    self.burn(actpol_core::text::scan_cost(&text))?;
                    let matched = self
                        .patterns
                        .get(i)
                        .ok_or_else(|| corrupt("pattern index"))?
                        .is_match(&text);
                    stack.push(Value::Bool(matched));
                }
                Instr::InList(n) => {
                    // `elem in [a, b, …]` with values known only now: compare
                    // in place rather than build a set.
                    let n = n as usize;
                    let Some(at) = stack.len().checked_sub(n + 1) else {
                        return Err(corrupt("stack underflow"));
                    };
                    let found = stack[at + 1..].contains(&stack[at]);
                    stack.truncate(at);
                    stack.push(Value::Bool(found));
                }
                Instr::MakeSet(n) => {
                    let n = n as usize;
                    if stack.len() < n {
                        return Err(corrupt("stack underflow"));
                    }
                    let items: Vec<Value> = stack.drain(stack.len() - n..).collect();
                    stack.push(Value::set(items));
                }
                Instr::JumpIfFalseOrPop(t) | Instr::JumpIfTrueOrPop(t) => {
                    let jump_on = matches!(ins, Instr::JumpIfTrueOrPop(_));
                    match stack.last() {
                        Some(Value::Bool(b)) if *b == jump_on => pc = jump(t, start, pc)?,
                        Some(Value::Bool(_)) => {
                            stack.pop();
                        }
                        _ => return Err(corrupt("`and`/`or` of a non-boolean")),
                    }
                }
                Instr::JumpIfFalse(t) => match pop(stack)? {
                    Value::Bool(false) => pc = jump(t, start, pc)?,
                    Value::Bool(true) => {}
                    _ => return Err(corrupt("`if` on a non-boolean")),
                },
                Instr::Jump(t) => pc = jump(t, start, pc)?,
                Instr::Return => return pop(stack),
                Instr::Var(slot) => {
                    let v = self
                        .vars
                        .borrow()
                        .get(slot as usize)
                        .cloned()
                        .ok_or_else(|| corrupt("a variable no loop bound"))?;
                    stack.push(v);
                }
                Instr::Loop(kind, indexed, body) => {
                    let over = pop(stack)?;
                    let result = self.run_loop(kind, indexed, body, &over, stack)?;
                    stack.push(result);
                }
                Instr::Coll(op) => {
                    let at = stack
                        .len()
                        .checked_sub(op.arity())
                        .ok_or_else(|| corrupt("stack underflow"))?;
                    let result = collections::apply(op, &stack[at..])?;
                    stack.truncate(at);
                    stack.push(result);
                }
                Instr::Part(kind, slot) | Instr::HasPart(kind, slot) => {
                    let at = stack
                        .len()
                        .checked_sub(kind.arity())
                        .ok_or_else(|| corrupt("stack underflow"))?;
                    let found = self.reader.part(kind, slot, &stack[at..])?;
                    stack.truncate(at);
                    stack.push(match (ins, found) {
                        (Instr::HasPart(..), found) => Value::Bool(found.is_some()),
                        (_, Some(v)) => v,
                        (_, None) => return Err(collections::absent(kind)),
                    });
                }
            }
        }
    }

    /// `consts[i]`.
    #[inline]
    fn constant(&self, i: u32) -> Result<&'a Value, EvalError> {
        self.prog
            .consts
            .get(i as usize)
            .ok_or_else(|| corrupt("constant index"))
    }

    /// The parameter, attribute or context field a read instruction names.
    #[inline(always)]
    fn read(&self, ins: Instr) -> Result<&'a Value, EvalError> {
        match ins {
            Instr::Param(n) => self.reader.value(FieldKind::Param, n),
            Instr::Attr(n) => self.reader.value(FieldKind::Attr, n),
            Instr::Context(n) => self.reader.value(FieldKind::Context, n),
            Instr::Const(i) => self.constant(i),
            _ => Err(corrupt("not a read")),
        }
    }

    /// The most common conditions, `params.x > 500`, `object.tier in
    /// ["a", "b"]`, `"emea" in object.regions`, compiled as two reads and a
    /// comparison or membership, decided in one step from borrowed operands
    /// rather than by cloning both onto the stack and popping them again.
    ///
    /// `a` has just been read; `next` is the code after it. When the next
    /// two instructions are a read of a field or constant and a `Cmp` or
    /// `In`, the answer is returned and the caller skips them. This is the
    /// same computation in the same order, and no jump can fall between
    /// instructions that run one after the other, so it holds whatever
    /// jumps elsewhere target.
    #[inline(always)]
    fn fused(&self, a: &Value, next: &[Instr]) -> Result<Option<bool>, EvalError> {
        let [second, third, ..] = next else {
            return Ok(None);
        };
        if !matches!(
            second,
            Instr::Const(_) | Instr::Param(_) | Instr::Attr(_) | Instr::Context(_)
        ) {
            return Ok(None);
        }
        match *third {
            Instr::Cmp(op) => Ok(Some(ops::compare(op, a, self.read(*second)?)?)),
            Instr::In => Ok(Some(ops::member(a, self.read(*second)?)?)),
            _ => Ok(None),
        }
    }

    /// Runs a loop's body once per element of `over`, stopping where the
    /// kind's answer is settled (`all` at the first `false`, `any` at the
    /// first `true`). Each run is charged the body's length in fuel.
    fn run_loop(
        &self,
        kind: LoopKind,
        indexed: bool,
        body: u32,
        over: &Value,
        stack: &mut Stack,
    ) -> Result<Value, EvalError> {
        let items =
            collections::elements(over).ok_or_else(|| corrupt("a loop over a non-collection"))?;
        let b = self
            .prog
            .blocks
            .get(body as usize)
            .ok_or_else(|| corrupt("block index out of range"))?;
        let start = b.start as usize;
        let code = self
            .prog
            .code
            .get(start..start + b.len as usize)
            .ok_or_else(|| corrupt("block outside the code"))?;
        let mark = self.vars.borrow().len();
        if mark >= MAX_LOOP_DEPTH {
            return Err(corrupt("loops nested too deeply"));
        }
        let mut count = 0i64;
        let mut kept = Vec::new();
        for (i, item) in items.iter().enumerate() {
            {
                let mut vars = self.vars.borrow_mut();
                if indexed {
                    vars.push(Value::Int(i as i64));
                }
                vars.push(item.clone());
            }
            let result = self.exec(code, start, stack);
            self.vars.borrow_mut().truncate(mark);
            let value = result?;
            if kind == LoopKind::Map {
                kept.push(value);
                continue;
            }
            let Value::Bool(holds) = value else {
                return Err(corrupt("a loop's condition did not yield a boolean"));
            };
            match kind {
                LoopKind::All if !holds => return Ok(Value::Bool(false)),
                LoopKind::Any if holds => return Ok(Value::Bool(true)),
                LoopKind::Count if holds => count += 1,
                LoopKind::Filter if holds => kept.push(item.clone()),
                _ => {}
            }
        }
        Ok(match kind {
            LoopKind::All => Value::Bool(true),
            LoopKind::Any => Value::Bool(false),
            LoopKind::Count => Value::Int(count),
            // A subset of a set stays sorted and without duplicates.
            LoopKind::Filter if matches!(over, Value::Set(_)) => Value::Set(kept.into()),
            LoopKind::Filter | LoopKind::Map => Value::List(kept.into()),
        })
    }

    /// Takes fuel for work that grows with its input (a scan of a long
    /// text), beyond the one unit its instruction was charged.
    fn burn(&self, cost: u64) -> Result<(), EvalError> {
        if cost == 0 {
            return Ok(());
        }
        let fuel = self.fuel.get();
        if fuel < cost {
            return Err(EvalError::Fuel);
        }
        self.fuel.set(fuel - cost);
        Ok(())
    }

    fn budget(&self, id: actpol_core::BudgetId, field: BudgetField) -> Result<Value, EvalError> {
        let (name, def) = self
            .prog
            .meta
            .budgets
            .get_index(id.index())
            .ok_or_else(|| corrupt("budget index out of range"))?;
        if field == BudgetField::Limit {
            return Ok(def.limit.clone());
        }
        let key = self.env.key(def.key, &self.prog.schema)?;
        let amount = self.state.consumed(name, key, def.window, self.env.time)?;
        let consumed = amount_value(&def.ty, amount)?;
        match field {
            BudgetField::Consumed => Ok(consumed),
            _ => ops::arith(ArithOp::Sub, &def.limit, &consumed),
        }
    }

    fn window(&self, index: u32) -> Result<Value, EvalError> {
        let spec = self
            .prog
            .windows
            .get(index as usize)
            .ok_or_else(|| corrupt("window index out of range"))?;
        let key = self.env.key(spec.key, &self.prog.schema)?;
        let query = WindowQuery {
            kind: spec.kind,
            pattern: &spec.pattern,
            param: spec.param.map(|n| self.prog.schema.field_name(n)),
            window: spec.window,
            key: spec.key,
            key_value: key,
            now: self.env.time,
        };
        let amount = self.state.window(&query)?;
        match spec.kind {
            WindowKind::Baseline => Ok(Value::Decimal(amount)),
            WindowKind::Count => amount_value(&Type::Int, amount),
            WindowKind::Sum => amount_value(&spec.ty, amount),
        }
    }
}

fn amount_value(ty: &Type, amount: Decimal) -> Result<Value, EvalError> {
    Value::from_amount(ty, amount).ok_or(EvalError::OutOfRange(amount))
}

fn jump(target: u32, start: usize, pc: usize) -> Result<usize, EvalError> {
    let to = (target as usize)
        .checked_sub(start)
        .ok_or_else(|| corrupt("jump before the block"))?;
    if to < pc {
        return Err(corrupt("backward jump"));
    }
    Ok(to)
}
