//! The meaning of IR expressions for one bound envelope and one state view.
//!
//! Each [`ExprKind`] is one match arm, evaluated by plain recursion. Every
//! operation on values is delegated to [`actpol_core::ops`]; this module
//! decides only what is read and in which order.

use actpol_core::collections::{self, LoopKind};
use actpol_core::decision::{EvalError, Hit, ParamLimit, Probe, ValueOut};
use actpol_core::envelope::BoundEnvelope;
use actpol_core::ids::{BudgetId, DataClassId, RaiseId, RiskId};
use actpol_core::ops::{self, ArithOp};
use actpol_core::reads::{FieldKind, Names, Presence, Reader};
use actpol_core::schema::{ActionDef, BudgetDef, KeyKind, Window};
use actpol_core::state::{StateView, WindowKind, WindowQuery};
use actpol_core::types::Type;
use actpol_core::value::Value;
use actpol_core::Decimal;
use actpol_ir::{BudgetField, Expr, ExprKind, Policy, Rule, WindowRead};

/// The IR refers to something that does not exist (an id out of range, a
/// field the action does not declare): an IR the checker did not make.
pub(crate) fn malformed(message: impl Into<String>) -> EvalError {
    EvalError::Malformed(message.into())
}

/// Evaluates expressions against one envelope.
pub(crate) struct Eval<'a> {
    policy: &'a Policy,
    env: &'a BoundEnvelope,
    state: &'a dyn StateView,
    /// The envelope's reads, shared with the VM; its action and object
    /// are looked up once so that a bad id is found here and not by an
    /// indexing panic later.
    reader: Reader<'a>,
    /// The risks being evaluated, innermost last. Meeting one again is a
    /// cycle the checker should have rejected; without this it would
    /// recurse until the stack ran out.
    open_risks: Vec<RiskId>,
    /// The variables of the loops being evaluated, outermost first.
    vars: Vec<Value>,
}

impl<'a> Eval<'a> {
    pub(crate) fn new(
        policy: &'a Policy,
        names: &'a Names,
        env: &'a BoundEnvelope,
        state: &'a dyn StateView,
    ) -> Result<Self, EvalError> {
        Ok(Eval {
            policy,
            env,
            state,
            reader: Reader::new(env, &policy.schema, names)?,
            open_risks: Vec::new(),
            vars: Vec::new(),
        })
    }

    pub(crate) fn env(&self) -> &'a BoundEnvelope {
        self.env
    }

    pub(crate) fn action_def(&self) -> &'a ActionDef {
        self.reader.action()
    }

    /// The rule's hit if its condition holds, with its outcome's
    /// expressions evaluated; `None` if the condition is false.
    pub(crate) fn hit(&mut self, rule: &'a Rule) -> Result<Option<Hit<'a>>, EvalError> {
        if let Some(when) = &rule.when {
            if !self.truth(when)? {
                return Ok(None);
            }
        }
        let outcome = &rule.outcome;
        let mut limits = Vec::with_capacity(outcome.limits.len());
        for limit in &outcome.limits {
            limits.push(ParamLimit {
                param: limit.param,
                op: limit.op,
                value: self.eval(&limit.value)?,
            });
        }
        let mut consumes = Vec::with_capacity(rule.consumes.len());
        for consume in &rule.consumes {
            consumes.push((consume.budget, self.eval(&consume.amount)?));
        }
        Ok(Some(Hit {
            rule: rule.id,
            level: outcome.level,
            approver: outcome.approver,
            reason: outcome.reason.as_deref(),
            limits,
            requires: &outcome.requires,
            consumes,
        }))
    }

    /// Evaluates a condition.
    pub(crate) fn truth(&mut self, expr: &Expr) -> Result<bool, EvalError> {
        match self.eval(expr)? {
            Value::Bool(b) => Ok(b),
            _ => Err(EvalError::Type("a condition is not a `Bool`".to_string())),
        }
    }

    pub(crate) fn eval(&mut self, expr: &Expr) -> Result<Value, EvalError> {
        Ok(match &expr.kind {
            ExprKind::Const(value) => value.clone(),
            ExprKind::Env(field) => self.reader.field(*field)?,
            ExprKind::Param(name) => self.reader.value(FieldKind::Param, *name)?.clone(),
            ExprKind::Attr(name) => self.reader.value(FieldKind::Attr, *name)?.clone(),
            ExprKind::Context(name) => self.reader.value(FieldKind::Context, *name)?.clone(),
            ExprKind::Touches(class) => {
                Value::Bool(self.policy.schema.touches(self.env.action, *class))
            }
            ExprKind::Sends(destination) => {
                Value::Bool(self.policy.schema.sends(self.env.action, *destination))
            }
            ExprKind::Upstream(class, within) => Value::Bool(self.upstream_reads(*class, *within)?),
            ExprKind::Has(presence) => Value::Bool(self.reader.has(*presence)?),
            ExprKind::Budget(budget, field) => self.budget(*budget, *field)?,
            ExprKind::Window(read) => self.window(read, &expr.ty)?,
            ExprKind::Risk(risk) => self.risk(*risk)?,
            ExprKind::Not(a) => Value::Bool(!self.truth(a)?),
            // Left to right, stopping early: the right side is not
            // evaluated at all, so its errors cannot surface.
            ExprKind::And(a, b) => Value::Bool(self.truth(a)? && self.truth(b)?),
            ExprKind::Or(a, b) => Value::Bool(self.truth(a)? || self.truth(b)?),
            ExprKind::Cmp(op, a, b) => {
                let a = self.eval(a)?;
                let b = self.eval(b)?;
                Value::Bool(ops::compare(*op, &a, &b)?)
            }
            ExprKind::Arith(op, a, b) => {
                let a = self.eval(a)?;
                let b = self.eval(b)?;
                ops::arith(*op, &a, &b)?
            }
            ExprKind::Neg(a) => ops::negate(&self.eval(a)?)?,
            ExprKind::In(elem, set) => {
                let elem = self.eval(elem)?;
                let set = self.eval(set)?;
                Value::Bool(ops::member(&elem, &set)?)
            }
            ExprKind::Call(builtin, args) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(self.eval(arg)?);
                }
                ops::call(*builtin, &values)?
            }
            ExprKind::If(cond, then, otherwise) => {
                if self.truth(cond)? {
                    self.eval(then)?
                } else {
                    self.eval(otherwise)?
                }
            }
            ExprKind::SetLit(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.eval(item)?);
                }
                Value::set(values)
            }
            ExprKind::ToDecimal(a) => ops::to_decimal(&self.eval(a)?)?,
            ExprKind::Var(slot) => self
                .vars
                .get(*slot as usize)
                .cloned()
                .ok_or_else(|| malformed(format!("variable #{slot} is not bound")))?,
            ExprKind::Loop {
                kind,
                indexed,
                over,
                body,
            } => {
                let over = self.eval(over)?;
                self.run_loop(*kind, *indexed, &over, body)?
            }
            ExprKind::Coll(op, args) => collections::apply(*op, &self.eval_all(args)?)?,
            ExprKind::Part(kind, slot, args) => {
                let args = self.eval_all(args)?;
                self.reader
                    .part(*kind, *slot, &args)?
                    .ok_or_else(|| collections::absent(*kind))?
            }
            ExprKind::HasPart(kind, slot, args) => {
                let args = self.eval_all(args)?;
                Value::Bool(self.reader.part(*kind, *slot, &args)?.is_some())
            }
        })
    }

    fn eval_all(&mut self, args: &[Expr]) -> Result<Vec<Value>, EvalError> {
        args.iter().map(|a| self.eval(a)).collect()
    }

    /// A quantifier, written as its definition: the body's value for each
    /// element in order, stopping once the answer cannot change.
    fn run_loop(
        &mut self,
        kind: LoopKind,
        indexed: bool,
        over: &Value,
        body: &Expr,
    ) -> Result<Value, EvalError> {
        let items = collections::elements(over)
            .ok_or_else(|| EvalError::Type("a loop over a non-collection".to_string()))?;
        let mut results = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let mark = self.vars.len();
            if indexed {
                self.vars.push(Value::Int(i as i64));
            }
            self.vars.push(item.clone());
            let value = self.eval(body);
            self.vars.truncate(mark);
            let value = value?;
            let settled = match (kind, &value) {
                (LoopKind::All, Value::Bool(false)) | (LoopKind::Any, Value::Bool(true)) => true,
                (LoopKind::Map, _) | (_, Value::Bool(_)) => false,
                _ => return Err(EvalError::Type("a loop's condition is not a `Bool`".into())),
            };
            results.push((item, value));
            if settled {
                break;
            }
        }
        let holds = |v: &Value| *v == Value::Bool(true);
        Ok(match kind {
            LoopKind::All => Value::Bool(results.iter().all(|(_, v)| holds(v))),
            LoopKind::Any => Value::Bool(results.iter().any(|(_, v)| holds(v))),
            LoopKind::Count => Value::Int(results.iter().filter(|(_, v)| holds(v)).count() as i64),
            LoopKind::Filter => {
                let kept: Vec<Value> = results
                    .into_iter()
                    .filter(|(_, v)| holds(v))
                    .map(|(item, _)| item.clone())
                    .collect();
                match over {
                    Value::Set(_) => Value::set(kept),
                    _ => Value::List(kept.into()),
                }
            }
            LoopKind::Map => Value::List(results.into_iter().map(|(_, v)| v).collect()),
        })
    }

    fn budget(&self, budget: BudgetId, field: BudgetField) -> Result<Value, EvalError> {
        let (name, def) = self
            .policy
            .meta
            .budgets
            .get_index(budget.index())
            .ok_or_else(|| malformed(format!("budget #{} is not declared", budget.0)))?;
        Ok(match field {
            // The limit is a declared constant: reading it needs no key
            // and no state, so neither can make it fail.
            BudgetField::Limit => def.limit.clone(),
            BudgetField::Consumed => self.consumed(name, def)?,
            BudgetField::Remaining => {
                ops::arith(ArithOp::Sub, &def.limit, &self.consumed(name, def)?)?
            }
        })
    }

    /// What the state says is consumed of a budget under this envelope's
    /// key, as a value of the budget's type.
    fn consumed(&self, name: &str, def: &BudgetDef) -> Result<Value, EvalError> {
        let key = self.env.key(def.key, &self.policy.schema)?;
        let amount = self.state.consumed(name, key, def.window, self.env.time)?;
        self.amount(&def.ty, amount)
    }

    /// Whether a step upstream of this one in its plan (within `within`
    /// when given) reads `class`: an envelope without a plan has nothing
    /// upstream.
    fn upstream_reads(&self, class: DataClassId, within: Option<i64>) -> Result<bool, EvalError> {
        if !self.reader.has(Presence::Plan)? {
            return Ok(false);
        }
        let schema = &self.policy.schema;
        for (reader, _) in schema.readers(class) {
            let read = WindowRead {
                kind: WindowKind::Count,
                pattern: reader.to_string(),
                param: None,
                window: Window::Upstream(within),
                key: KeyKind::Plan,
            };
            if self.window(&read, &Type::Int)? != Value::Int(0) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn window(&self, read: &WindowRead, ty: &Type) -> Result<Value, EvalError> {
        let schema = &self.policy.schema;
        let param = match (read.kind, read.param) {
            (WindowKind::Sum, None) => return Err(malformed("a `sum` names no parameter")),
            (_, param) => param.map(|name| schema.field_name(name)),
        };
        let key_value = self.env.key(read.key, schema)?;
        let query = WindowQuery {
            kind: read.kind,
            pattern: &read.pattern,
            param,
            window: read.window,
            key: read.key,
            key_value,
            now: self.env.time,
        };
        let amount = self.state.window(&query)?;
        // The kind fixes the result type, except a sum, which has the type
        // of the parameter summed: the expression's.
        let result_ty = match read.kind {
            WindowKind::Count => &Type::Int,
            WindowKind::Baseline => &Type::Decimal,
            WindowKind::Sum => ty,
        };
        self.amount(result_ty, amount)
    }

    /// An amount the state view returned, as a value of type `ty`.
    fn amount(&self, ty: &Type, amount: Decimal) -> Result<Value, EvalError> {
        Value::from_amount(ty, amount).ok_or(EvalError::OutOfRange(amount))
    }

    fn risk(&mut self, risk: RiskId) -> Result<Value, EvalError> {
        let policy = self.policy;
        let name = policy
            .meta
            .risks
            .get(risk.index())
            .map_or("?", |r| r.name.as_str());
        let expr = policy
            .risks
            .get(risk.index())
            .ok_or_else(|| malformed(format!("risk #{} has no expression", risk.0)))?;
        if self.open_risks.contains(&risk) {
            return Err(malformed(format!(
                "risk `{name}` is defined in terms of itself"
            )));
        }
        self.open_risks.push(risk);
        let value = self.eval(expr);
        self.open_risks.pop();
        value
    }
}

/// What the combiner asks back while settling: raise conditions, and the
/// risk factors of an exception packet.
impl Probe for Eval<'_> {
    fn raise_holds(&mut self, raise: RaiseId) -> Result<bool, EvalError> {
        let policy = self.policy;
        let condition = policy
            .raises
            .get(raise.index())
            .ok_or_else(|| malformed(format!("raise #{} has no condition", raise.0)))?;
        self.truth(condition)
    }

    fn risk_factors(&mut self) -> Vec<(String, ValueOut)> {
        let policy = self.policy;
        let action = self.env.action;
        let mut factors = Vec::new();
        for (index, meta) in policy.meta.risks.iter().enumerate() {
            if !meta
                .actions
                .as_ref()
                .is_none_or(|list| list.contains(&action))
            {
                continue;
            }
            // A risk that fails is left out rather than failing the
            // escalation: the approver still gets the packet.
            if let Ok(value) = self.risk(RiskId::from_index(index)) {
                factors.push((meta.name.clone(), value.to_out(&meta.ty, &policy.schema)));
            }
        }
        factors
    }
}
