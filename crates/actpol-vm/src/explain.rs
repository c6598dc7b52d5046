//! Explanations (C11): for each candidate rule, whether it matched, and if
//! not, the first part of its condition that failed with the values seen.
//! This path is cold: it re-runs the candidates part by part.

use actpol_core::decision::precedence::held_denials;
use actpol_core::decision::{ErrorOut, Explanation, FailedPart, Operand, RuleTrace, Stage};
use actpol_core::{BoundEnvelope, StateView};

use crate::machine::{Machine, StackRoom};
use crate::Runtime;

/// The explanation of a decision on `env`; none if the machine cannot
/// start on it (the decision then says why).
pub(crate) fn explain(
    runtime: &Runtime,
    env: &BoundEnvelope,
    state: &dyn StateView,
) -> Option<Explanation> {
    let p = runtime.program();
    let room = StackRoom::new();
    let machine = Machine::new(p, &runtime.names, &runtime.patterns, env, state, &room).ok()?;
    let agent = match runtime.admit(&machine, env) {
        Ok(agent) => agent,
        Err(refusal) => {
            // Identity or scope decided before any rule ran.
            return Some(Explanation {
                because: Some(refusal.reasons),
                candidates: None,
                rules: Vec::new(),
                rules_total: p.rules.len(),
                stage: Stage::Admission,
            });
        }
    };
    let mut traces = Vec::new();
    let mut matched = Vec::new();
    for rule in runtime.candidates(env, agent) {
        let code = &p.rules[rule.index()];
        let info = &p.explain[rule.index()];
        let mut trace = RuleTrace {
            condition: info.when_text.clone(),
            doc: info.doc.clone(),
            error: None,
            failed: None,
            matched: false,
            outcome: code.level,
            overridden_by: None,
            rule: p.meta.rules[rule.index()].name.clone(),
        };
        match runtime.fire(&machine, rule) {
            Ok(Some(_)) => {
                trace.matched = true;
                matched.push((rule, code.level));
            }
            Ok(None) => trace.failed = first_failed(p, &machine, info),
            Err(err) => trace.error = Some(ErrorOut::eval(&err, None)),
        }
        traces.push(trace);
    }
    for held in held_denials(&p.meta, matched.iter().copied()) {
        let denial = &p.meta.rules[held.denial.index()].name;
        if let Some(trace) = traces.iter_mut().find(|t| &t.rule == denial) {
            trace.overridden_by = Some(p.meta.rules[held.by.index()].name.clone());
        }
    }
    Some(Explanation {
        because: None,
        candidates: Some(traces.len()),
        rules: traces,
        rules_total: p.rules.len(),
        stage: Stage::Rules,
    })
}

/// The first conjunct that does not hold, with its operands' values.
fn first_failed(
    p: &actpol_bytecode::Program,
    machine: &Machine<'_>,
    info: &actpol_bytecode::RuleExplain,
) -> Option<FailedPart> {
    for conjunct in &info.conjuncts {
        match machine.truth(conjunct.block) {
            Ok(true) => continue,
            Ok(false) => {
                let values = conjunct
                    .operands
                    .iter()
                    .map(|(text, block, ty)| Operand {
                        expr: text.clone(),
                        value: match machine.run(*block) {
                            Ok(v) => v.display(ty, &p.schema),
                            Err(e) => format!("error: {e}"),
                        },
                    })
                    .collect();
                return Some(FailedPart {
                    condition: conjunct.text.clone(),
                    error: None,
                    values: Some(values),
                });
            }
            Err(e) => {
                return Some(FailedPart {
                    condition: conjunct.text.clone(),
                    error: Some(e.to_string()),
                    values: None,
                });
            }
        }
    }
    None
}
