//! Explanations (C11): for each candidate rule, whether it matched, and if
//! not, the first part of its condition that failed with the values seen.
//! This path is cold: it re-runs the candidates part by part.

use actpol_core::{BoundEnvelope, StateView};
use serde_json::{json, Value as Json};

use crate::machine::Machine;
use crate::Runtime;

pub(crate) fn explain(runtime: &Runtime, env: &BoundEnvelope, state: &dyn StateView) -> Json {
    let p = runtime.program();
    let machine = Machine::new(p, &runtime.names, env, state);
    let agent = match runtime.admit(&machine, env) {
        Ok(agent) => agent,
        Err(refusal) => {
            // Identity or scope decided before any rule ran.
            return json!({
                "stage": "admission",
                "rules_total": p.rules.len(),
                "because": refusal.reasons,
                "rules": [],
            });
        }
    };
    let mut traces = Vec::new();
    for rule in runtime.candidates(env, agent) {
        let code = &p.rules[rule.index()];
        let info = &p.explain[rule.index()];
        let name = &p.meta.rules[rule.index()].name;
        let mut trace = json!({
            "rule": name,
            "outcome": code.level.as_str(),
            "condition": info.when_text,
        });
        if let Some(doc) = &info.doc {
            trace["doc"] = json!(doc);
        }
        match runtime.fire(&machine, rule) {
            Ok(Some(_)) => trace["matched"] = json!(true),
            Ok(None) => {
                trace["matched"] = json!(false);
                if let Some(failed) = first_failed(p, &machine, info) {
                    trace["failed"] = failed;
                }
            }
            Err(err) => {
                trace["matched"] = json!(false);
                trace["error"] = json!({"code": err.code(), "message": err.to_string()});
            }
        }
        traces.push(trace);
    }
    let candidates = traces.len();
    json!({
        "stage": "rules",
        "rules_total": p.rules.len(),
        "candidates": candidates,
        "rules": traces,
    })
}

/// The first conjunct that does not hold, with its operands' values.
fn first_failed(
    p: &actpol_bytecode::Program,
    machine: &Machine<'_>,
    info: &actpol_bytecode::RuleExplain,
) -> Option<Json> {
    for conjunct in &info.conjuncts {
        match machine.truth(conjunct.block) {
            Ok(true) => continue,
            Ok(false) => {
                let values: Vec<Json> = conjunct
                    .operands
                    .iter()
                    .map(|(text, block, ty)| {
                        let shown = match machine.run(*block) {
                            Ok(v) => v.display(ty, &p.schema),
                            Err(e) => format!("error: {e}"),
                        };
                        json!({"expr": text, "value": shown})
                    })
                    .collect();
                return Some(json!({"condition": conjunct.text, "values": values}));
            }
            Err(e) => {
                return Some(json!({"condition": conjunct.text, "error": e.to_string()}));
            }
        }
    }
    None
}
