//! The verifier: every program passes it after compiling and on every load,
//! so the VM may trust what it checks: blocks end in `Return`, jumps land
//! forward inside their block, the stack never underflows and each block
//! leaves exactly one value, and every table index is in range.

use actpol_core::collections::PartKind;
use actpol_core::error::ErrorCode;
use actpol_core::ids::*;
use actpol_core::reads::Presence;
use actpol_core::schema::{OutcomeSpec, ReversibilityClass, Schema, TriggerDef};
use actpol_core::types::Type;
use actpol_core::Level;

use crate::{BlockId, Instr, Program};

/// Most values a `MakeSet` may gather; far above any policy's set literal.
pub const MAX_SET_LITERAL: u32 = 4096;

/// A program the verifier refuses: what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid program: {0}")]
pub struct VerifyError(pub String);

impl VerifyError {
    pub(crate) const HELP: &'static str =
        "the artifact is damaged or was not written by `actpol compile`: compile the policy again";

    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ArtifactVerify
    }
}

impl miette::Diagnostic for VerifyError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(VerifyError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(VerifyError::HELP))
    }
}

fn fail<T>(what: impl Into<String>) -> Result<T, VerifyError> {
    Err(VerifyError(what.into()))
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), VerifyError> {
    if ok {
        Ok(())
    } else {
        fail(what())
    }
}

/// Checks a program; see the module documentation.
pub fn verify(p: &Program) -> Result<(), VerifyError> {
    verify_schema(&p.schema)?;
    let mut v = Verifier { p, current: 0 };
    v.meta()?;
    for (i, _) in p.blocks.iter().enumerate() {
        v.current = i as u32;
        v.block(BlockId(i as u32))?;
    }
    v.tables()
}

struct Verifier<'a> {
    p: &'a Program,
    /// The block being verified.
    current: u32,
}

/// Most variables quantifiers may bind at once; far above any policy's
/// nesting.
pub const MAX_VARIABLES: u32 = 64;

impl Verifier<'_> {
    fn block_id(&self, id: BlockId, what: &str) -> Result<(), VerifyError> {
        check(id.index() < self.p.blocks.len(), || {
            format!("{what} names block {} of {}", id.0, self.p.blocks.len())
        })
    }

    fn name(&self, id: NameId, what: &str) -> Result<(), VerifyError> {
        check(id.index() < self.p.schema.field_names.len(), || {
            format!(
                "{what} names field {} of {}",
                id.0,
                self.p.schema.field_names.len()
            )
        })
    }

    fn rule(&self, id: RuleId) -> Result<(), VerifyError> {
        check(id.index() < self.p.rules.len(), || {
            format!("rule index names rule {} of {}", id.0, self.p.rules.len())
        })
    }

    fn approver(&self, id: Option<ApproverId>) -> Result<(), VerifyError> {
        match id {
            Some(a) => check(a.index() < self.p.meta.approvers.len(), || {
                format!("approver {} of {}", a.0, self.p.meta.approvers.len())
            }),
            None => Ok(()),
        }
    }

    fn budget(&self, id: BudgetId) -> Result<(), VerifyError> {
        check(id.index() < self.p.meta.budgets.len(), || {
            format!("budget {} of {}", id.0, self.p.meta.budgets.len())
        })
    }

    fn spec(&self, spec: &OutcomeSpec, what: &str) -> Result<(), VerifyError> {
        self.approver(spec.approver)?;
        check(
            spec.level != Level::Escalate || spec.approver.is_some(),
            || format!("{what} escalates to no approver"),
        )
    }

    fn meta(&self) -> Result<(), VerifyError> {
        let m = &self.p.meta;
        let s = &self.p.schema;
        self.spec(&m.default, "the default")?;
        self.spec(&m.on_error, "on_error")?;
        check(m.on_error.level >= Level::Escalate, || {
            "on_error must deny or escalate".to_string()
        })?;
        for (name, agent) in &m.agents {
            if let Some(scope) = &agent.scope {
                for sys in scope.systems.iter().flatten() {
                    check(sys.index() < s.systems.len(), || {
                        format!("agent `{name}` scope system")
                    })?;
                }
                for ent in scope.objects.iter().flatten() {
                    check(ent.index() < s.entities.len(), || {
                        format!("agent `{name}` scope object")
                    })?;
                }
            }
        }
        for (name, budget) in &m.budgets {
            verify_type(s, &budget.ty)
                .map_err(|e| VerifyError(format!("budget `{name}`: {}", e.0)))?;
            self.spec(&budget.on_exhausted, "a budget's on_exhausted")?;
            check(budget.limit.as_amount().is_some(), || {
                format!("budget `{name}` limit is not a number")
            })?;
        }
        for raise in &m.raises {
            for a in raise.actions.iter().flatten() {
                check(a.index() < s.actions.len(), || {
                    format!("raise `{}` action", raise.name)
                })?;
            }
            for (from, spec) in &raise.arms {
                self.spec(spec, "a raise arm")?;
                // `constrain -> constrain` tightens when it adds requirements.
                let tightens = spec.level > *from
                    || (spec.level == Level::Constrain
                        && *from == Level::Constrain
                        && !spec.requires.is_empty());
                check(tightens, || {
                    format!("raise `{}` does not tighten a decision", raise.name)
                })?;
            }
        }
        for risk in &m.risks {
            verify_type(s, &risk.ty)?;
            for a in risk.actions.iter().flatten() {
                check(a.index() < s.actions.len(), || {
                    format!("risk `{}` action", risk.name)
                })?;
            }
        }
        Ok(())
    }

    fn tables(&self) -> Result<(), VerifyError> {
        let p = self.p;
        let counts = [
            (p.rules.len(), p.meta.rules.len(), "rules"),
            (p.explain.len(), p.meta.rules.len(), "explanations"),
            (p.index.len(), p.schema.actions.len(), "index entries"),
            (p.scopes.len(), p.meta.agents.len(), "scopes"),
            (p.raises.len(), p.meta.raises.len(), "raises"),
            (p.risks.len(), p.meta.risks.len(), "risks"),
        ];
        for (found, want, what) in counts {
            check(found == want, || {
                format!("{found} {what} where {want} are declared")
            })?;
        }
        for (i, rule) in p.rules.iter().enumerate() {
            let what = format!("rule {i}");
            if let Some(b) = rule.when {
                self.block_id(b, &what)?;
            }
            self.approver(rule.approver)?;
            check(
                rule.level != Level::Escalate || rule.approver.is_some(),
                || format!("{what} escalates to no approver"),
            )?;
            for (name, _, b) in &rule.limits {
                self.name(*name, &what)?;
                self.block_id(*b, &what)?;
            }
            for (budget, b) in &rule.consumes {
                self.budget(*budget)?;
                self.block_id(*b, &what)?;
            }
        }
        for entry in &p.index {
            for r in &entry.any_agent {
                self.rule(*r)?;
            }
            let mut last: Option<AgentId> = None;
            for (agent, rules) in &entry.by_agent {
                check(agent.index() < p.meta.agents.len(), || {
                    "rule index agent".to_string()
                })?;
                check(last.is_none_or(|l| l < *agent), || {
                    "rule index agents out of order".to_string()
                })?;
                last = Some(*agent);
                for r in rules {
                    self.rule(*r)?;
                }
            }
        }
        for predicates in &p.scopes {
            for (entity, b) in predicates {
                check(entity.index() < p.schema.entities.len(), || {
                    "scope entity".to_string()
                })?;
                self.block_id(*b, "a scope")?;
            }
        }
        for b in p.raises.iter().chain(&p.risks) {
            self.block_id(*b, "a raise or risk")?;
        }
        for w in &p.windows {
            if let Some(param) = w.param {
                self.name(param, "a window")?;
            }
            verify_type(&p.schema, &w.ty)?;
        }
        for e in &p.explain {
            for c in &e.conjuncts {
                self.block_id(c.block, "an explanation")?;
                for (_, b, ty) in &c.operands {
                    self.block_id(*b, "an explanation")?;
                    verify_type(&p.schema, ty)?;
                }
            }
        }
        Ok(())
    }

    fn instr(&self, ins: Instr, at: usize) -> Result<(), VerifyError> {
        let p = self.p;
        let s = &p.schema;
        let what = || format!("instruction {at} ({ins:?})");
        let ok = match ins {
            Instr::Const(i) => (i as usize) < p.consts.len(),
            Instr::Param(n) | Instr::Attr(n) | Instr::Context(n) => n.index() < s.field_names.len(),
            Instr::Has(kind, n) => match kind.presence(n) {
                Presence::Param(n) | Presence::Attr(n) | Presence::Context(n) => {
                    n.index() < s.field_names.len()
                }
                _ => true,
            },
            Instr::Touches(d) => d.index() < s.data_classes.len(),
            Instr::Budget(b, _) => b.index() < p.meta.budgets.len(),
            Instr::Window(w) => (w as usize) < p.windows.len(),
            Instr::MakeSet(n) | Instr::InList(n) => n <= MAX_SET_LITERAL,
            // A loop's body comes later: no block runs itself, so nested
            // loops end.
            Instr::Loop(_, _, b) => (b as usize) < p.blocks.len() && b > self.current,
            Instr::Var(slot) => slot < MAX_VARIABLES,
            Instr::Part(PartKind::Related, e) | Instr::HasPart(PartKind::Related, e) => {
                (e as usize) < s.entities.len()
            }
            Instr::Regex(i) => return self.pattern(i, what),
            _ => true,
        };
        check(ok, || format!("{} indexes past its table", what()))
    }

    /// A `Regex` instruction's constant: a string that compiles under the
    /// limits the checker applied.
    fn pattern(&self, i: u32, what: impl Fn() -> String) -> Result<(), VerifyError> {
        match self.p.consts.get(i as usize) {
            Some(actpol_core::Value::String(pattern)) => actpol_core::text::compile_regex(pattern)
                .map(drop)
                .map_err(|why| VerifyError(format!("{}: pattern `{pattern}`: {why}", what()))),
            Some(_) => fail(format!("{}: the pattern is not a string", what())),
            None => fail(format!("{} indexes past its table", what())),
        }
    }

    /// Abstract interpretation of one block's stack depth.
    fn block(&self, id: BlockId) -> Result<(), VerifyError> {
        let p = self.p;
        let b = p.block(id);
        let start = b.start as usize;
        let end = start
            .checked_add(b.len as usize)
            .filter(|e| *e <= p.code.len() && b.len > 0)
            .ok_or_else(|| VerifyError(format!("block {} lies outside the code", id.0)))?;
        // depth[i]: the stack depth on entering instruction start + i.
        let mut depth: Vec<Option<usize>> = vec![None; end - start];
        depth[0] = Some(0);
        let mut max = 0usize;
        let arrive =
            |depth: &mut Vec<Option<usize>>, at: usize, d: usize| -> Result<(), VerifyError> {
                match depth[at - start] {
                    Some(existing) if existing != d => fail(format!(
                        "block {}: paths reach instruction {at} with stacks of {existing} and {d}",
                        id.0
                    )),
                    _ => {
                        depth[at - start] = Some(d);
                        Ok(())
                    }
                }
            };
        for pc in start..end {
            let ins = p.code[pc];
            self.instr(ins, pc)?;
            let Some(d) = depth[pc - start] else {
                // Unreachable (after a jump nothing lands past): never runs.
                continue;
            };
            let (pops, pushes) = ins.stack_effect();
            check(d >= pops, || {
                format!(
                    "block {}: instruction {pc} ({ins:?}) pops an empty stack",
                    id.0
                )
            })?;
            if ins == Instr::Return {
                check(d == 1 && pc == end - 1, || {
                    format!("block {}: `Return` at {pc} with {d} values (must be the last instruction, with one)", id.0)
                })?;
                continue;
            }
            check(pc != end - 1, || {
                format!("block {} does not end in `Return`", id.0)
            })?;
            if let Some(target) = ins.jump_target() {
                let target = target as usize;
                check(target > pc && target < end, || {
                    format!(
                        "block {}: jump at {pc} to {target} leaves the block or goes back",
                        id.0
                    )
                })?;
                let at_target = match ins {
                    // These keep the tested value when they jump.
                    Instr::JumpIfFalseOrPop(_) | Instr::JumpIfTrueOrPop(_) => d,
                    _ => d - pops,
                };
                arrive(&mut depth, target, at_target)?;
                if matches!(ins, Instr::Jump(_)) {
                    continue;
                }
            }
            let next = d - pops + pushes;
            max = max.max(next);
            arrive(&mut depth, pc + 1, next)?;
        }
        check(b.max_stack as usize >= max, || {
            format!(
                "block {} claims a stack of {} but needs {max}",
                id.0, b.max_stack
            )
        })
    }
}

fn verify_type(s: &Schema, ty: &Type) -> Result<(), VerifyError> {
    match ty {
        Type::Money(c) => check(c.is_valid(), || "a currency code is malformed".to_string()),
        Type::Set(elem) => {
            check(elem.is_set_element(), || {
                "a set holds values that cannot be in a set".to_string()
            })?;
            verify_type(s, elem)
        }
        Type::List(elem) => {
            check(elem.is_list_element(), || {
                "a list holds values that cannot be in a list".to_string()
            })?;
            verify_type(s, elem)
        }
        Type::Record(r) => check(r.index() < s.records.len(), || {
            format!("record {} of {}", r.0, s.records.len())
        }),
        Type::Enum(e) => check(e.index() < s.enums.len(), || {
            format!("enum {} of {}", e.0, s.enums.len())
        }),
        Type::Entity(e) => check(e.index() < s.entities.len(), || {
            format!("entity {} of {}", e.0, s.entities.len())
        }),
        _ => Ok(()),
    }
}

fn verify_schema(s: &Schema) -> Result<(), VerifyError> {
    let field = |f: &actpol_core::schema::FieldDef| -> Result<(), VerifyError> {
        check(f.name.index() < s.field_names.len(), || {
            "a field name index".to_string()
        })?;
        verify_type(s, &f.ty)
    };
    for f in &s.context {
        field(f)?;
    }
    for (name, r) in &s.records {
        for f in &r.fields {
            field(f)?;
            // Records hold no records: a record type cannot contain itself.
            let nested = matches!(&f.ty, Type::Record(_))
                || f.ty.element().is_some_and(|e| matches!(e, Type::Record(_)));
            check(!nested, || format!("record `{name}` holds a record"))?;
        }
    }
    for (name, e) in &s.entities {
        for a in &e.attrs {
            field(a)?;
        }
        for d in &e.data_classes {
            check(d.index() < s.data_classes.len(), || {
                format!("entity `{name}` data class")
            })?;
        }
        if let Some(sys) = e.system {
            check(sys.index() < s.systems.len(), || {
                format!("entity `{name}` system")
            })?;
        }
    }
    for (name, a) in &s.actions {
        let bad = || format!("action `{name}` refers past a table");
        check(a.system.index() < s.systems.len(), bad)?;
        check(a.object.index() < s.entities.len(), bad)?;
        for p in &a.params {
            field(p)?;
        }
        if let ReversibilityClass::Compensable { by, .. } = a.reversibility {
            check(by.index() < s.actions.len(), bad)?;
        }
        for d in a.data_classes.iter().chain(&a.reads) {
            check(d.index() < s.data_classes.len(), bad)?;
        }
        for t in &a.triggers {
            let ok = match t {
                TriggerDef::Action(x) => x.index() < s.actions.len(),
                TriggerDef::System(x) => x.index() < s.systems.len(),
            };
            check(ok, bad)?;
        }
    }
    Ok(())
}
