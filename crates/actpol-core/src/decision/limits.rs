//! The constraints of a `constrain` decision: the tightest bound on each
//! parameter over every matched constrain rule, and whether they can all
//! hold at once.

use indexmap::IndexMap;

use crate::envelope::BoundEnvelope;
use crate::ids::NameId;
use crate::schema::Schema;
use crate::value::Value;

use super::{ConstraintOp, ConstraintOut, Hit, Level, Requirement, ValueOut};

/// The tightest bounds on each parameter, in order of first mention.
#[derive(Debug, Default)]
pub(super) struct MergedLimits {
    params: IndexMap<NameId, Bounds>,
    pub(super) requires: Vec<Requirement>,
}

#[derive(Debug, Default)]
struct Bounds {
    /// The upper bound and whether it is strict (`<`).
    upper: Option<(Value, bool)>,
    lower: Option<(Value, bool)>,
    members: Option<Vec<Value>>,
}

#[inline]
pub(super) fn merge_limits(hits: &[Hit<'_>]) -> MergedLimits {
    let mut merged = MergedLimits::default();
    for hit in hits.iter().filter(|h| h.level == Level::Constrain) {
        for req in hit.requires {
            if !merged.requires.contains(req) {
                merged.requires.push(*req);
            }
        }
        for limit in &hit.limits {
            let bounds = merged.params.entry(limit.param).or_default();
            match limit.op {
                ConstraintOp::Le | ConstraintOp::Lt => {
                    let strict = limit.op == ConstraintOp::Lt;
                    tighten(
                        &mut bounds.upper,
                        &limit.value,
                        strict,
                        std::cmp::Ordering::Less,
                    );
                }
                ConstraintOp::Ge | ConstraintOp::Gt => {
                    let strict = limit.op == ConstraintOp::Gt;
                    tighten(
                        &mut bounds.lower,
                        &limit.value,
                        strict,
                        std::cmp::Ordering::Greater,
                    );
                }
                ConstraintOp::In => {
                    let items: Vec<Value> = match &limit.value {
                        Value::Set(items) => items.to_vec(),
                        other => vec![other.clone()],
                    };
                    bounds.members = Some(match bounds.members.take() {
                        None => items,
                        Some(prev) => prev.into_iter().filter(|v| items.contains(v)).collect(),
                    });
                }
            }
        }
    }
    merged
}

/// Keeps the tighter of two bounds: `better` is the direction of tighter.
fn tighten(
    slot: &mut Option<(Value, bool)>,
    value: &Value,
    strict: bool,
    better: std::cmp::Ordering,
) {
    let replace = match slot {
        None => true,
        Some((current, current_strict)) => match value.compare(current) {
            Some(ord) if ord == better => true,
            Some(std::cmp::Ordering::Equal) => strict && !*current_strict,
            _ => false,
        },
    };
    if replace {
        *slot = Some((value.clone(), strict));
    }
}

impl MergedLimits {
    /// A reason when the merged limits admit no value.
    pub(super) fn conflict(&self, schema: &Schema) -> Option<String> {
        for (param, b) in &self.params {
            let name = schema.field_name(*param);
            if let (Some((hi, hi_strict)), Some((lo, lo_strict))) = (&b.upper, &b.lower) {
                let empty = match lo.compare(hi) {
                    Some(std::cmp::Ordering::Greater) => true,
                    Some(std::cmp::Ordering::Equal) => *hi_strict || *lo_strict,
                    _ => false,
                };
                if empty {
                    return Some(format!("constraints on `{name}` cannot all hold"));
                }
            }
            let admitted = |v: &Value| {
                let under = b.upper.as_ref().is_none_or(|(hi, strict)| {
                    matches!(v.compare(hi), Some(std::cmp::Ordering::Less))
                        || (!strict && v.compare(hi) == Some(std::cmp::Ordering::Equal))
                });
                let over = b.lower.as_ref().is_none_or(|(lo, strict)| {
                    matches!(v.compare(lo), Some(std::cmp::Ordering::Greater))
                        || (!strict && v.compare(lo) == Some(std::cmp::Ordering::Equal))
                });
                under && over
            };
            if b.members.as_ref().is_some_and(|m| !m.iter().any(admitted)) {
                return Some(format!("constraints on `{name}` leave no allowed value"));
            }
        }
        None
    }

    pub(super) fn render(&self, schema: &Schema, env: &BoundEnvelope) -> Vec<ConstraintOut> {
        let action = schema.action(env.action);
        let mut out = Vec::new();
        for (param, b) in &self.params {
            let name = schema.field_name(*param).to_string();
            let ty = action
                .param_slot(*param)
                .map(|slot| action.params[slot].ty.clone())
                .unwrap_or(crate::types::Type::Int);
            let mut push = |op: ConstraintOp, value: ValueOut| {
                out.push(ConstraintOut::Param {
                    param: name.clone(),
                    op,
                    value,
                })
            };
            if let Some((v, strict)) = &b.lower {
                let op = if *strict {
                    ConstraintOp::Gt
                } else {
                    ConstraintOp::Ge
                };
                push(op, v.to_out(&ty, schema));
            }
            if let Some((v, strict)) = &b.upper {
                let op = if *strict {
                    ConstraintOp::Lt
                } else {
                    ConstraintOp::Le
                };
                push(op, v.to_out(&ty, schema));
            }
            if let Some(members) = &b.members {
                let items = members.iter().map(|v| v.to_out(&ty, schema)).collect();
                push(ConstraintOp::In, ValueOut::List(items));
            }
        }
        for req in &self.requires {
            out.push(ConstraintOut::Require { require: *req });
        }
        out
    }
}
