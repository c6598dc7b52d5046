//! Nudges: small changes to an envelope that put it at or next to a
//! boundary a condition draws, so a tool can search for an envelope on
//! which a mutant and its policy decide differently.
//!
//! Nudges are guesses, made from the condition alone: which fields it
//! reads, and the constants it compares them with. Whoever uses one decides
//! the nudged envelope under both policies and keeps it only if they differ.

use actpol_core::ops::{self, ArithOp, Builtin};
use actpol_core::reads::{EnvField, Presence};
use actpol_core::types::Type;
use actpol_core::value::{format_timestamp, parse_timestamp, time_of_day, Value, DAY_MS};
use actpol_core::Schema;
use actpol_ir::{Expr, ExprKind, Policy};
use serde_json::Value as Json;

use crate::literal;

/// How deep nudges look through risks that use risks.
const MAX_RISK_DEPTH: usize = 8;

/// A change to an envelope: one or more fields set or removed.
#[derive(Clone, Debug, PartialEq)]
pub struct Nudge {
    /// Dotted envelope paths (`action.params.recipients`) and what becomes
    /// of each.
    pub edits: Vec<(String, NudgeValue)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NudgeValue {
    /// This JSON value.
    Set(Json),
    /// The field removed.
    Unset,
    /// The envelope's `time` moved to this many milliseconds after
    /// midnight, on the same day.
    TimeOfDay(i64),
    /// A timestamp this many milliseconds after the envelope's `time`.
    FromNow(i64),
    /// The value of another field of the envelope.
    CopyOf(String),
}

impl Nudge {
    fn one(path: impl Into<String>, value: NudgeValue) -> Nudge {
        Nudge {
            edits: vec![(path.into(), value)],
        }
    }

    /// Makes the change on `envelope`; `false` when it cannot (a field to
    /// copy is missing, the envelope's time is unreadable).
    pub fn apply(&self, envelope: &mut Json) -> bool {
        for (path, value) in &self.edits {
            let ok = match value {
                NudgeValue::Set(v) => set(envelope, path, v.clone()),
                NudgeValue::Unset => unset(envelope, path),
                NudgeValue::TimeOfDay(ms) => match now(envelope) {
                    Some(t) => set(envelope, "time", time_json(t - time_of_day(t) + ms)),
                    None => false,
                },
                NudgeValue::FromNow(ms) => match now(envelope) {
                    Some(t) => set(envelope, path, time_json(t + ms)),
                    None => false,
                },
                NudgeValue::CopyOf(from) => match get(envelope, from).cloned() {
                    Some(v) => set(envelope, path, v),
                    None => false,
                },
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

fn now(envelope: &Json) -> Option<i64> {
    parse_timestamp(envelope.get("time")?.as_str()?)
}

fn time_json(ms: i64) -> Json {
    Json::String(format_timestamp(ms))
}

fn get<'j>(envelope: &'j Json, path: &str) -> Option<&'j Json> {
    path.split('.').try_fold(envelope, |j, key| j.get(key))
}

/// Sets a field, making the objects on its path if they are missing.
fn set(envelope: &mut Json, path: &str, value: Json) -> bool {
    let mut at = envelope;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let Some(object) = at.as_object_mut() else {
            return false;
        };
        if keys.peek().is_none() {
            object.insert(key.to_string(), value);
            return true;
        }
        at = object
            .entry(key.to_string())
            .or_insert_with(|| Json::Object(Default::default()));
    }
    false
}

fn unset(envelope: &mut Json, path: &str) -> bool {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (get_mut(envelope, parent), key),
        None => (Some(envelope), path),
    };
    parent
        .and_then(Json::as_object_mut)
        .is_some_and(|o| o.remove(key).is_some())
}

fn get_mut<'j>(envelope: &'j mut Json, path: &str) -> Option<&'j mut Json> {
    path.split('.').try_fold(envelope, |j, key| j.get_mut(key))
}

/// The nudges `e` suggests (looking into the risks it reads).
pub(crate) fn nudges(policy: &Policy, e: &Expr) -> Vec<Nudge> {
    let mut out = Vec::new();
    collect(policy, e, 0, &mut out);
    let mut unique: Vec<Nudge> = Vec::with_capacity(out.len());
    for n in out {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    unique
}

fn collect(policy: &Policy, e: &Expr, depth: usize, out: &mut Vec<Nudge>) {
    let schema = &policy.schema;
    match &e.kind {
        ExprKind::Cmp(_, a, b) => comparison(policy, a, b, out),
        ExprKind::In(a, b) => {
            if let (Some(path), Some(Value::Set(items))) = (field_in(a, schema), b.as_const()) {
                if let Some(first) = items.first() {
                    out.push(Nudge::one(
                        &path,
                        NudgeValue::Set(json_of(first, &a.ty, schema)),
                    ));
                }
                if let Some(outside) = outside_of(items, &a.ty, schema) {
                    out.push(Nudge::one(path, NudgeValue::Set(outside)));
                }
            }
        }
        ExprKind::Call(Builtin::StartsWith | Builtin::Matches, args) => {
            if let [subject, pattern] = args.as_slice() {
                if let (Some(path), Some(Value::String(p))) =
                    (field_in(subject, schema), pattern.as_const())
                {
                    let fitting = p.replace(['*', '?'], "1");
                    out.push(Nudge::one(
                        &path,
                        NudgeValue::Set(Json::String(format!("{fitting}1"))),
                    ));
                    out.push(Nudge::one(path, NudgeValue::Set(Json::String("~".into()))));
                }
            }
        }
        ExprKind::Has(presence) => {
            out.push(Nudge::one(
                presence_path(*presence, schema),
                NudgeValue::Unset,
            ));
        }
        ExprKind::Param(_) | ExprKind::Attr(_) | ExprKind::Context(_) if e.ty == Type::Bool => {
            if let Some(path) = field_in(e, schema) {
                out.push(Nudge::one(&path, NudgeValue::Set(Json::Bool(true))));
                out.push(Nudge::one(path, NudgeValue::Set(Json::Bool(false))));
            }
        }
        ExprKind::Risk(id) if depth < MAX_RISK_DEPTH => {
            if let Some(body) = policy.risks.get(id.index()) {
                collect(policy, body, depth + 1, out);
            }
        }
        _ => {}
    }
    for child in e.children() {
        collect(policy, child, depth, out);
    }
}

/// Nudges for `a op b`: the boundary and its neighbours when one side is
/// a constant, the two sides made equal when both are fields.
fn comparison(policy: &Policy, a: &Expr, b: &Expr, out: &mut Vec<Nudge>) {
    let schema = &policy.schema;
    let (side, constant) = match (a.as_const(), b.as_const()) {
        (None, Some(c)) => (a, c),
        (Some(c), None) => (b, c),
        _ => {
            if let (Some(pa), Some(pb)) = (field_in(a, schema), field_in(b, schema)) {
                out.push(Nudge::one(&pa, NudgeValue::CopyOf(pb.clone())));
                out.push(Nudge::one(pb, NudgeValue::CopyOf(pa)));
            }
            return;
        }
    };
    match constant {
        Value::Int(_) | Value::Decimal(_) | Value::Money(_) | Value::Duration(_) => {
            let text = policy
                .text(if a.as_const().is_some() {
                    a.span
                } else {
                    b.span
                })
                .unwrap_or("");
            let mut targets = vec![constant.clone()];
            for up in [false, true] {
                if let Some((v, _)) = literal::moved(constant, text, up) {
                    targets.push(v);
                }
            }
            for target in targets {
                for edits in solve(policy, side, &target, 0) {
                    out.push(Nudge { edits });
                }
            }
        }
        Value::Enum(_) | Value::String(_) | Value::Bool(_) => {
            if let Some(path) = field_in(side, schema) {
                out.push(Nudge::one(
                    &path,
                    NudgeValue::Set(json_of(constant, &side.ty, schema)),
                ));
                let single = Value::set(vec![constant.clone()]);
                if let Some(other) = outside_of(single_items(&single), &side.ty, schema) {
                    out.push(Nudge::one(path, NudgeValue::Set(other)));
                }
            }
        }
        _ => {}
    }
}

fn single_items(set: &Value) -> &[Value] {
    match set {
        Value::Set(items) => items,
        _ => &[],
    }
}

/// Field edits that make `e` equal `target`, as far as simple arithmetic
/// goes: a field alone, a sum or product with other fields (set to zero or
/// one) or a constant, the time of day, a timestamp's distance from now.
fn solve(
    policy: &Policy,
    e: &Expr,
    target: &Value,
    depth: usize,
) -> Vec<Vec<(String, NudgeValue)>> {
    let schema = &policy.schema;
    if depth > MAX_RISK_DEPTH {
        return Vec::new();
    }
    if let Some(path) = field_in(e, schema) {
        return vec![vec![(
            path,
            NudgeValue::Set(json_of(target, &e.ty, schema)),
        )]];
    }
    match &e.kind {
        ExprKind::Env(EnvField::NowTimeOfDay) => match target {
            Value::Duration(ms) if (0..DAY_MS).contains(ms) => {
                vec![vec![("time".to_string(), NudgeValue::TimeOfDay(*ms))]]
            }
            _ => Vec::new(),
        },
        ExprKind::ToDecimal(inner) => match target {
            Value::Decimal(d) if d.fract().is_zero() => d
                .trunc()
                .to_string()
                .parse::<i64>()
                .map(|i| solve(policy, inner, &Value::Int(i), depth))
                .unwrap_or_default(),
            _ => Vec::new(),
        },
        ExprKind::Call(Builtin::Abs, args) => match args.as_slice() {
            [inner] => solve(policy, inner, target, depth),
            _ => Vec::new(),
        },
        ExprKind::Risk(id) => policy
            .risks
            .get(id.index())
            .map(|body| solve(policy, body, target, depth + 1))
            .unwrap_or_default(),
        ExprKind::Arith(op, a, b) => arith(policy, *op, a, b, target, depth),
        _ => Vec::new(),
    }
}

fn arith(
    policy: &Policy,
    op: ArithOp,
    a: &Expr,
    b: &Expr,
    target: &Value,
    depth: usize,
) -> Vec<Vec<(String, NudgeValue)>> {
    let schema = &policy.schema;
    // `now - x` and `x - now`: x is a timestamp that far from now.
    if let (ArithOp::Sub, Value::Duration(d)) = (op, target) {
        match (&a.kind, field_in(b, schema), field_in(a, schema), &b.kind) {
            (ExprKind::Env(EnvField::Now), Some(path), _, _) => {
                return vec![vec![(path, NudgeValue::FromNow(-d))]];
            }
            (_, _, Some(path), ExprKind::Env(EnvField::Now)) => {
                return vec![vec![(path, NudgeValue::FromNow(*d))]];
            }
            _ => {}
        }
    }
    // With a constant on one side, the other side's target is known.
    let inverse = |other: &Value, constant_first: bool| -> Option<Value> {
        match (op, constant_first) {
            (ArithOp::Add, _) => ops::arith(ArithOp::Sub, target, other).ok(),
            (ArithOp::Sub, false) => ops::arith(ArithOp::Add, target, other).ok(),
            (ArithOp::Sub, true) => ops::arith(ArithOp::Sub, other, target).ok(),
            (ArithOp::Mul, _) => exact_div(target, other),
            (ArithOp::Div, false) => ops::arith(ArithOp::Mul, target, other).ok(),
            _ => None,
        }
    };
    match (a.as_const(), b.as_const()) {
        (None, Some(k)) => inverse(k, false)
            .map(|t| solve(policy, a, &t, depth))
            .unwrap_or_default(),
        (Some(k), None) => inverse(k, true)
            .map(|t| solve(policy, b, &t, depth))
            .unwrap_or_default(),
        _ => {
            // Two fields: one takes the target, the other the neutral value.
            let neutral = |ty: &Type| match op {
                ArithOp::Add | ArithOp::Sub => zero(ty),
                ArithOp::Mul | ArithOp::Div => one(ty),
                ArithOp::Rem => None,
            };
            let mut out = Vec::new();
            for (solved, other) in [(a, b), (b, a)] {
                let (Some(path), Some(n)) = (field_in(other, schema), neutral(&other.ty)) else {
                    continue;
                };
                let fixed = (path, NudgeValue::Set(json_of(&n, &other.ty, schema)));
                for mut edits in solve(policy, solved, target, depth) {
                    edits.push(fixed.clone());
                    out.push(edits);
                }
            }
            out
        }
    }
}

fn exact_div(target: &Value, by: &Value) -> Option<Value> {
    let q = ops::arith(ArithOp::Div, target, by).ok()?;
    let back = ops::arith(ArithOp::Mul, &q, by).ok()?;
    (back == *target).then_some(q)
}

fn zero(ty: &Type) -> Option<Value> {
    match ty {
        Type::Int => Some(Value::Int(0)),
        Type::Decimal => Some(Value::Decimal(Default::default())),
        Type::Money(_) => Some(Value::Money(Default::default())),
        Type::Duration => Some(Value::Duration(0)),
        _ => None,
    }
}

fn one(ty: &Type) -> Option<Value> {
    match ty {
        Type::Int => Some(Value::Int(1)),
        Type::Decimal => Some(Value::Decimal(1.into())),
        _ => None,
    }
}

/// The envelope path of a field read directly.
fn field_in(e: &Expr, schema: &Schema) -> Option<String> {
    Some(match &e.kind {
        ExprKind::Param(n) => format!("action.params.{}", schema.field_name(*n)),
        ExprKind::Attr(n) => format!("object.attrs.{}", schema.field_name(*n)),
        ExprKind::Context(n) => format!("context.{}", schema.field_name(*n)),
        ExprKind::Env(EnvField::IntentConfidence) => "intent.confidence".into(),
        ExprKind::Env(EnvField::RollbackWithin) => "rollback.within".into(),
        ExprKind::Env(EnvField::RollbackAction) => "rollback.action".into(),
        ExprKind::Env(EnvField::RollbackKind) => "rollback.kind".into(),
        ExprKind::Env(EnvField::PlanStep) => "plan.step".into(),
        _ => return None,
    })
}

fn presence_path(presence: Presence, schema: &Schema) -> String {
    match presence {
        Presence::Param(n) => format!("action.params.{}", schema.field_name(n)),
        Presence::Attr(n) => format!("object.attrs.{}", schema.field_name(n)),
        Presence::Context(n) => format!("context.{}", schema.field_name(n)),
        Presence::Intent => "intent".into(),
        Presence::Rollback => "rollback".into(),
        Presence::RollbackAction => "rollback.action".into(),
        Presence::RollbackWithin => "rollback.within".into(),
        Presence::Plan => "plan".into(),
    }
}

/// How a value is written in an envelope: money as `"500 USD"`.
fn json_of(value: &Value, ty: &Type, schema: &Schema) -> Json {
    match (value, ty) {
        (Value::Money(d), Type::Money(c)) => Json::String(format!("{} {c}", d.normalize())),
        _ => serde_json::to_value(value.to_out(ty, schema)).unwrap_or(Json::Null),
    }
}

/// A value of `ty` not among `items`: another enum variant, another string.
fn outside_of(items: &[Value], ty: &Type, schema: &Schema) -> Option<Json> {
    match ty {
        Type::Enum(id) => {
            let (_, def) = schema.enums.get_index(id.index())?;
            (0..def.variants.len() as u32)
                .find(|v| !items.contains(&Value::Enum(*v)))
                .map(|v| Json::String(def.variants[v as usize].clone()))
        }
        Type::String => Some(Json::String("~".into())),
        Type::Bool => [true, false]
            .into_iter()
            .find(|b| !items.contains(&Value::Bool(*b)))
            .map(Json::Bool),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope() -> Json {
        json!({
            "action": {"params": {"recipients": 800, "channel": "email"}},
            "object": {"attrs": {"owner_team": "growth"}},
            "time": "2026-11-25T14:10:00Z"
        })
    }

    #[test]
    fn nudges_set_remove_and_copy_fields() {
        let mut e = envelope();
        let nudge = Nudge {
            edits: vec![
                (
                    "action.params.recipients".into(),
                    NudgeValue::Set(json!(1001)),
                ),
                ("context.incident_mode".into(), NudgeValue::Set(json!(true))),
                ("object.attrs.owner_team".into(), NudgeValue::Unset),
                (
                    "object.attrs.channel".into(),
                    NudgeValue::CopyOf("action.params.channel".into()),
                ),
            ],
        };
        assert!(nudge.apply(&mut e));
        assert_eq!(e["action"]["params"]["recipients"], 1001);
        assert_eq!(e["context"]["incident_mode"], true);
        assert!(e["object"]["attrs"].get("owner_team").is_none());
        assert_eq!(e["object"]["attrs"]["channel"], "email");
    }

    #[test]
    fn nudges_move_the_clock() {
        let mut e = envelope();
        let nudge = Nudge {
            edits: vec![
                (
                    "object.attrs.paid_at".into(),
                    NudgeValue::FromNow(-3 * 86_400_000),
                ),
                ("time".into(), NudgeValue::TimeOfDay(7 * 3_600_000)),
            ],
        };
        assert!(nudge.apply(&mut e));
        assert_eq!(e["object"]["attrs"]["paid_at"], "2026-11-22T14:10:00Z");
        assert_eq!(e["time"], "2026-11-25T07:00:00Z");
    }

    #[test]
    fn a_nudge_that_cannot_apply_says_so() {
        let mut e = envelope();
        let missing = Nudge {
            edits: vec![(
                "action.params.x".into(),
                NudgeValue::CopyOf("no.such.field".into()),
            )],
        };
        assert!(!missing.apply(&mut e));
        let mut no_time = json!({});
        let clock = Nudge {
            edits: vec![("time".into(), NudgeValue::TimeOfDay(0))],
        };
        assert!(!clock.apply(&mut no_time));
        let gone = Nudge {
            edits: vec![("action.params.nothing".into(), NudgeValue::Unset)],
        };
        assert!(!gone.apply(&mut envelope()));
    }
}
