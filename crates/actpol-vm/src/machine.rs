//! The interpreter: runs one verified block against one envelope.

use std::cell::{Cell, RefCell};

use actpol_bytecode::{BlockId, Instr, Program};
use actpol_core::decision::EvalError;
use actpol_core::ids::NameId;
use actpol_core::ops::{self, ArithOp};
use actpol_core::reads::{BudgetField, EnvField, Presence};
use actpol_core::schema::{ActionDef, EntityDef, ReversibilityClass};
use actpol_core::state::{WindowKind, WindowQuery};
use actpol_core::types::Type;
use actpol_core::value::{time_of_day, weekday, Value};
use actpol_core::{BoundEnvelope, Decimal, StateView};

/// Instructions one decision may run. Jumps only go forward, so a decision
/// runs at most the length of the blocks it touches; this bounds even a
/// program far larger than any policy.
pub const FUEL: u64 = 10_000_000;

/// Names a policy reads as values, built once per loaded program so that
/// reading `action.name` allocates nothing.
#[derive(Debug)]
pub(crate) struct Names {
    actions: Vec<Value>,
    systems: Vec<Value>,
}

impl Names {
    pub(crate) fn of(schema: &actpol_core::Schema) -> Names {
        Names {
            actions: schema.actions.keys().map(|n| Value::str(n)).collect(),
            systems: schema.systems.keys().map(|n| Value::str(n)).collect(),
        }
    }
}

thread_local! {
    /// Evaluation stacks kept between decisions on this thread, so a
    /// decision does not allocate one.
    static STACKS: RefCell<Vec<Vec<Value>>> = const { RefCell::new(Vec::new()) };
}

/// One decision's evaluation state: the envelope with its action's and
/// object's declarations, the state view, a stack reused across blocks,
/// and the fuel left.
pub(crate) struct Machine<'a> {
    prog: &'a Program,
    names: &'a Names,
    env: &'a BoundEnvelope,
    /// The declarations the envelope's slots follow, looked up once.
    action: &'a ActionDef,
    entity: &'a EntityDef,
    state: &'a dyn StateView,
    stack: RefCell<Vec<Value>>,
    fuel: Cell<u64>,
}

impl Drop for Machine<'_> {
    fn drop(&mut self) {
        let mut stack = std::mem::take(self.stack.get_mut());
        stack.clear();
        // A stack that grew large is dropped rather than kept.
        if stack.capacity() <= 256 {
            STACKS.with(|s| s.borrow_mut().push(stack));
        }
    }
}

/// Which of the envelope's typed objects a read is of.
#[derive(Clone, Copy)]
enum FieldKind {
    Param,
    Attr,
    Context,
}

fn absent(what: &str) -> EvalError {
    EvalError::absent(what)
}

fn corrupt(what: &str) -> EvalError {
    EvalError::InvalidProgram(what.to_string())
}

impl<'a> Machine<'a> {
    pub(crate) fn new(
        prog: &'a Program,
        names: &'a Names,
        env: &'a BoundEnvelope,
        state: &'a dyn StateView,
    ) -> Self {
        let stack = STACKS
            .with(|s| s.borrow_mut().pop())
            .unwrap_or_else(|| Vec::with_capacity(16));
        // INVARIANT: the envelope was bound against this program's schema,
        // so its action and the action's object are in the schema.
        let action = prog.schema.action(env.action);
        Machine {
            prog,
            names,
            env,
            action,
            entity: prog.schema.entity(action.object),
            state,
            stack: RefCell::new(stack),
            fuel: Cell::new(FUEL),
        }
    }

    /// Runs a block that must yield a `Bool`.
    pub(crate) fn truth(&self, block: BlockId) -> Result<bool, EvalError> {
        match self.run(block)? {
            Value::Bool(b) => Ok(b),
            _ => Err(corrupt("a condition did not yield a boolean")),
        }
    }

    /// Runs a block to its value.
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
        let mut stack = std::mem::take(&mut *self.stack.borrow_mut());
        stack.clear();
        let result = self.exec(code, start, &mut stack);
        *self.stack.borrow_mut() = stack;
        result
    }

    fn exec(
        &self,
        code: &[Instr],
        start: usize,
        stack: &mut Vec<Value>,
    ) -> Result<Value, EvalError> {
        let mut pc = 0usize;
        let fuel = self.fuel.get();
        if fuel < code.len() as u64 {
            return Err(EvalError::Fuel);
        }
        // Each instruction runs at most once (jumps go forward), so charging
        // the block's length up front bounds the run.
        self.fuel.set(fuel - code.len() as u64);
        let pop = |stack: &mut Vec<Value>| stack.pop().ok_or_else(|| corrupt("stack underflow"));
        loop {
            let ins = *code
                .get(pc)
                .ok_or_else(|| corrupt("ran off the end of a block"))?;
            pc += 1;
            match ins {
                Instr::Const(i) => {
                    let v = self
                        .prog
                        .consts
                        .get(i as usize)
                        .ok_or_else(|| corrupt("constant index"))?;
                    stack.push(v.clone());
                }
                Instr::Param(n) => stack.push(self.field(FieldKind::Param, n)?.clone()),
                Instr::Attr(n) => stack.push(self.field(FieldKind::Attr, n)?.clone()),
                Instr::Context(n) => stack.push(self.field(FieldKind::Context, n)?.clone()),
                Instr::Env(field) => stack.push(self.env_field(field)?),
                Instr::Touches(d) => {
                    stack.push(Value::Bool(self.prog.schema.touches(self.env.action, d)))
                }
                Instr::Has(kind, name) => stack.push(Value::Bool(self.has(kind.presence(name)))),
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
                        ops::call(f, std::slice::from_ref(&a))?
                    } else {
                        let (b, a) = (pop(stack)?, pop(stack)?);
                        ops::call(f, &[a, b])?
                    };
                    stack.push(result);
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
                    let items = stack.split_off(stack.len() - n);
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
            }
        }
    }

    fn env_field(&self, field: EnvField) -> Result<Value, EvalError> {
        let env = self.env;
        let action = self.action;
        Ok(match field {
            EnvField::AgentId => Value::String(env.agent_id.clone()),
            EnvField::AgentOwner => Value::String(env.owner.clone()),
            EnvField::AgentWorkflow => Value::String(env.workflow.clone()),
            EnvField::ActionName => self
                .names
                .actions
                .get(env.action.index())
                .cloned()
                .ok_or_else(|| corrupt("action index"))?,
            EnvField::ActionSystem => self
                .names
                .systems
                .get(action.system.index())
                .cloned()
                .ok_or_else(|| corrupt("system index"))?,
            EnvField::ActionReversibility => Value::Enum(action.reversibility.variant()),
            EnvField::ObjectId => Value::String(env.object_id.clone()),
            EnvField::IntentGoal => Value::String(
                env.intent
                    .as_ref()
                    .ok_or_else(|| absent("intent"))?
                    .0
                    .clone(),
            ),
            EnvField::IntentConfidence => {
                Value::Decimal(env.intent.as_ref().ok_or_else(|| absent("intent"))?.1)
            }
            EnvField::RollbackKind => Value::String(
                env.rollback
                    .as_ref()
                    .ok_or_else(|| absent("rollback"))?
                    .kind
                    .clone(),
            ),
            EnvField::RollbackAction => Value::String(
                env.rollback
                    .as_ref()
                    .and_then(|r| r.action.clone())
                    .ok_or_else(|| absent("rollback.action"))?,
            ),
            EnvField::RollbackWithin => Value::Duration(
                env.rollback
                    .as_ref()
                    .and_then(|r| r.within)
                    .ok_or_else(|| absent("rollback.within"))?,
            ),
            EnvField::PlanId => {
                Value::String(env.plan.as_ref().ok_or_else(|| absent("plan"))?.0.clone())
            }
            EnvField::PlanStep => Value::Int(env.plan.as_ref().ok_or_else(|| absent("plan"))?.1),
            EnvField::Now => Value::Timestamp(env.time),
            EnvField::NowHour => Value::Int(time_of_day(env.time) / 3_600_000),
            EnvField::NowWeekday => Value::Enum(weekday(env.time)),
            EnvField::NowTimeOfDay => Value::Duration(time_of_day(env.time)),
            EnvField::Reversible => Value::Bool(match action.reversibility {
                ReversibilityClass::Reversible => true,
                ReversibilityClass::Compensable { .. } => env.rollback.is_some(),
                ReversibilityClass::Irreversible => false,
            }),
        })
    }

    /// The value of a parameter, attribute or context field, if present.
    fn slot(&self, kind: FieldKind, name: NameId) -> Option<&'a Value> {
        let (defs, values) = match kind {
            FieldKind::Param => (&self.action.params, &self.env.params),
            FieldKind::Attr => (&self.entity.attrs, &self.env.attrs),
            FieldKind::Context => (&self.prog.schema.context, &self.env.context),
        };
        let index = defs.iter().position(|d| d.name == name)?;
        values.get(index)?.as_ref()
    }

    /// The value of a field, or the `absent` error naming it.
    fn field(&self, kind: FieldKind, name: NameId) -> Result<&'a Value, EvalError> {
        self.slot(kind, name).ok_or_else(|| {
            let prefix = match kind {
                FieldKind::Param => "params",
                FieldKind::Attr => "object",
                FieldKind::Context => "context",
            };
            absent(&format!("{prefix}.{}", self.prog.schema.field_name(name)))
        })
    }

    fn has(&self, presence: Presence) -> bool {
        let env = self.env;
        match presence {
            Presence::Param(n) => self.slot(FieldKind::Param, n).is_some(),
            Presence::Attr(n) => self.slot(FieldKind::Attr, n).is_some(),
            Presence::Context(n) => self.slot(FieldKind::Context, n).is_some(),
            Presence::Intent => env.intent.is_some(),
            Presence::Rollback => env.rollback.is_some(),
            Presence::RollbackAction => env.rollback.as_ref().is_some_and(|r| r.action.is_some()),
            Presence::RollbackWithin => env.rollback.as_ref().is_some_and(|r| r.within.is_some()),
            Presence::Plan => env.plan.is_some(),
        }
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
