//! Random envelopes for a generated policy: mostly well formed and from a
//! declared agent, with values at the edges (zero, negatives, `i64::MAX`),
//! optional parts present or not; and now and then an impostor, an
//! envelope out of the agent's scope, one that does not fit the schema, or
//! JSON bytes that do not even make an envelope.

use actpol_core::envelope::{
    ActionInfo, AgentInfo, IntentInfo, ObjectInfo, PlanInfo, RollbackInfo,
};
use actpol_core::ids::ActionId;
use actpol_core::schema::{AgentDef, FieldDef, Schema};
use actpol_core::types::Type;
use actpol_core::value::format_timestamp;
use actpol_core::zones::Zone;
use actpol_core::Envelope;
use actpol_ir::Policy;
use serde_json::{json, Map, Value as Json};

use crate::{instant, Rng, Stream, OBJECT_IDS, OWNERS, PLAN_IDS, WORKFLOWS};

/// What a decision is asked about: an envelope built in Rust, or the JSON
/// bytes of one, which may not parse.
// Inputs are made and used one at a time: boxing the envelope would only
// add a dereference for every caller.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Envelope(Envelope),
    Json(Vec<u8>),
}

impl Input {
    /// The input as JSON text, for reports.
    pub fn to_json_string(&self) -> String {
        match self {
            Input::Envelope(env) => serde_json::to_string_pretty(env).unwrap_or_default(),
            Input::Json(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        }
    }
}

/// Generates an envelope for `policy`. Most fit the schema and come from a
/// declared agent; some do not, on purpose.
pub fn envelope(seed: u64, policy: &Policy) -> Envelope {
    let mut rng = Rng::stream(seed, Stream::Envelope);
    build(&mut rng, policy)
}

/// Like [`envelope`], but now and then as JSON bytes: some of them well
/// formed, some with an unknown or missing field, a field of the wrong
/// type, or broken syntax. When it is an envelope, it is the one
/// [`envelope`] gives for the same seed.
pub fn input(seed: u64, policy: &Policy) -> Input {
    let mut rng = Rng::stream(seed, Stream::Envelope);
    let env = build(&mut rng, policy);
    if rng.chance(5) {
        Input::Json(json_bytes(&mut rng, &env))
    } else {
        Input::Envelope(env)
    }
}

const GOALS: [&str; 3] = ["win back churned accounts", "", "clean up duplicates"];
const ROLLBACK_KINDS: [&str; 3] = ["revert", "compensate", "snapshot"];
const STRINGS: [&str; 11] = [
    "",
    "Ana@Acme.example",
    "https://Pay.Evil.example:8443/now",
    "pay at https://a.example/x or http://B.example.",
    "emea",
    "apac",
    "q4-winback",
    "q4-",
    "growth-bot",
    "é",
    "o1",
];

fn build(rng: &mut Rng, policy: &Policy) -> Envelope {
    let schema = &policy.schema;
    let meta = &policy.meta;
    // A policy without agents still gets envelopes: from an unknown agent.
    let declared = meta.agents.get_index(rng.below(meta.agents.len().max(1)));
    let (name, def) = match declared {
        Some((name, def)) => (name.clone(), def.clone()),
        None => (
            "rogue-bot".to_string(),
            AgentDef {
                owner: OWNERS[0].to_string(),
                workflow: WORKFLOWS[0].to_string(),
                scope: None,
            },
        ),
    };
    let mut agent = AgentInfo {
        id: name,
        owner: def.owner.clone(),
        workflow: def.workflow.clone(),
    };
    // Impostors (C2): an undeclared agent, or a declared one with another
    // owner or workflow.
    match rng.below(100) {
        0..=2 => agent.id = "rogue-bot".to_string(),
        3..=5 => agent.owner = other(rng, &OWNERS, &def.owner, "eve@acme.example"),
        6..=7 => agent.workflow = other(rng, &WORKFLOWS, &def.workflow, "exfiltration"),
        _ => {}
    }

    // Mostly an action the agent's scope admits, so that rules run.
    let all: Vec<ActionId> = (0..schema.actions.len())
        .map(ActionId::from_index)
        .collect();
    let admitted: Vec<ActionId> = match &def.scope {
        None => all.clone(),
        Some(scope) => all
            .iter()
            .copied()
            .filter(|a| {
                let action = schema.action(*a);
                scope
                    .systems
                    .as_ref()
                    .is_none_or(|s| s.contains(&action.system))
                    && scope
                        .objects
                        .as_ref()
                        .is_none_or(|o| o.contains(&action.object))
            })
            .collect(),
    };
    let action = if !admitted.is_empty() && rng.chance(88) {
        rng.pick(&admitted)
    } else {
        rng.pick(&all)
    };
    let action_def = schema.action(action);
    let entity = action_def.object;

    let mut env = Envelope {
        id: rng.chance(50).then(|| format!("env-{}", rng.below(1000))),
        agent,
        action: ActionInfo {
            name: schema.action_name(action).to_string(),
            params: fields(rng, schema, &action_def.params),
        },
        object: ObjectInfo {
            ty: schema.entity_name(entity).to_string(),
            id: rng.pick(&OBJECT_IDS).to_string(),
            attrs: fields(rng, schema, &schema.entity(entity).attrs),
        },
        intent: rng.chance(35).then(|| IntentInfo {
            goal: rng.pick(&GOALS).to_string(),
            confidence: rng.pick(&[0.0, 0.25, 0.5, 0.9, 1.0]),
        }),
        rollback: rng.chance(40).then(|| RollbackInfo {
            kind: rng.pick(&ROLLBACK_KINDS).to_string(),
            action: rng
                .chance(50)
                .then(|| schema.action_name(rng.pick(&all)).to_string()),
            within: rng
                .chance(50)
                .then(|| rng.pick(&["15m", "1h", "0s", "90s"]).to_string()),
        }),
        plan: rng.chance(60).then(|| PlanInfo {
            id: rng.pick(&PLAN_IDS).to_string(),
            step: rng.pick(&[0, 1, 2, -1, i64::MAX]),
        }),
        time: format_timestamp(instant(rng) + rng.below(3) as i64 * 1000),
        context: (!schema.context.is_empty() || rng.chance(20))
            .then(|| fields(rng, schema, &schema.context)),
        approval: None,
        entities: None,
    };
    if rng.chance(7) {
        misfit(rng, schema, &mut env);
    }
    if rng.chance(60) {
        env.entities = Some(related(rng, schema));
    }
    env
}

/// Attributes for a related entity: as [`fields`] draws them, but a number
/// whose declaration bounds it at an end of its range, so that the several
/// entities of an envelope do not all but always put one out of range
/// (which would refuse the envelope before any rule reads them; the
/// object's attributes already reach past the bounds).
fn within_bounds(rng: &mut Rng, schema: &Schema, defs: &[FieldDef]) -> Map<String, Json> {
    let mut out = fields(rng, schema, defs);
    for def in defs {
        let Some(bounds) = &def.bounds else {
            continue;
        };
        let name = schema.field_name(def.name);
        let end = if rng.chance(50) {
            bounds.least.or(bounds.most)
        } else {
            bounds.most.or(bounds.least)
        };
        let number = end.and_then(|end| serde_json::from_str::<Json>(&end.to_string()).ok());
        if let (Some(value), Some(number)) = (out.get_mut(name), number) {
            if !value.is_null() {
                *value = number;
            }
        }
    }
    out
}

/// Related entities: of each type, some of the ids references are drawn
/// from, so that a reference now resolves and now names an entity the
/// envelope does not carry; now and then one that does not fit (an unknown
/// type, an entity given twice, an attribute its type does not declare).
fn related(rng: &mut Rng, schema: &Schema) -> Vec<ObjectInfo> {
    let mut out = Vec::new();
    for (ty, def) in &schema.entities {
        for id in OBJECT_IDS {
            if rng.chance(60) {
                out.push(ObjectInfo {
                    ty: ty.clone(),
                    id: id.to_string(),
                    attrs: within_bounds(rng, schema, &def.attrs),
                });
            }
        }
    }
    if rng.chance(30) {
        out.reverse();
    }
    match rng.below(100) {
        0 => out.push(ObjectInfo {
            ty: "Nonesuch".into(),
            id: "o1".into(),
            attrs: Map::new(),
        }),
        1 if !out.is_empty() => out.push(out[0].clone()),
        2 if !out.is_empty() => {
            out[0].attrs.insert("nonesuch".into(), json!(1));
        }
        _ => {}
    }
    out
}

/// One of `pool` other than `not`, or `fallback`.
fn other(rng: &mut Rng, pool: &[&str], not: &str, fallback: &str) -> String {
    let rest: Vec<&str> = pool.iter().copied().filter(|x| *x != not).collect();
    if rest.is_empty() || rng.chance(30) {
        fallback.to_string()
    } else {
        rng.pick(&rest).to_string()
    }
}

/// Values for declared fields: every required one, optional ones now and
/// then (absent, or `null`, which also means absent).
fn fields(rng: &mut Rng, schema: &Schema, defs: &[FieldDef]) -> Map<String, Json> {
    let mut out = Map::new();
    for def in defs {
        let name = schema.field_name(def.name).to_string();
        if def.optional {
            match rng.below(100) {
                0..=29 => continue,
                30..=34 => {
                    out.insert(name, Json::Null);
                    continue;
                }
                _ => {}
            }
        }
        out.insert(name, value(rng, schema, &def.ty, def.zone));
    }
    out
}

/// A JSON value that binds to `ty`, in any of the forms the envelope
/// contract accepts, often at the edges of the type's range; timestamps of
/// a field that declares `zone` often as local time there.
fn value(rng: &mut Rng, schema: &Schema, ty: &Type, zone: Option<Zone>) -> Json {
    match ty {
        Type::Bool => json!(rng.chance(50)),
        Type::Int => {
            if rng.chance(8) {
                json!(rng.pick(&[i64::MAX, i64::MIN]))
            } else {
                json!(rng.pick(&[0, 1, -1, 2, 5, 7, 10, 24, 99, 100, 101, 500, 1000]))
            }
        }
        // Magnitudes stay far below `Decimal::MAX`: budget amounts read
        // from parameters are summed by the combiner without a check.
        Type::Decimal => rng.pick(&[
            json!(0),
            json!(0.5),
            json!("2.25"),
            json!(-1.5),
            json!(100),
            json!(10.1),
            json!("1000000000000000"),
            json!(-0.001),
        ]),
        Type::Money(c) => rng.pick(&[
            json!(12.5),
            json!("12.50"),
            json!(format!("99.99 {c}")),
            json!(0),
            json!(-5),
            json!(500),
            json!(5000),
            json!(format!("1000000000000000 {c}")),
        ]),
        Type::Duration => json!(rng.pick(&["0s", "250ms", "15m", "1h30m", "1d", "7d", "2w"])),
        Type::Timestamp => timestamp(rng, zone),
        Type::String => json!(rng.pick(&STRINGS)),
        Type::Set(elem) => Json::Array(
            (0..rng.below(4))
                .map(|_| value(rng, schema, elem, zone))
                .collect(),
        ),
        Type::Enum(id) => json!(rng.pick(&schema.enum_def(*id).variants)),
        Type::Entity(_) => json!(rng.pick(&OBJECT_IDS)),
        // Mostly short, often empty, now and then long enough that a
        // quantifier over it runs many times.
        Type::List(elem) => {
            let len = match rng.below(10) {
                0 => 0,
                1 => 100 + rng.below(200),
                _ => rng.below(5),
            };
            Json::Array((0..len).map(|_| value(rng, schema, elem, zone)).collect())
        }
        Type::Record(id) => {
            let mut fields = serde_json::Map::new();
            if let Some(def) = schema.record(*id) {
                for f in &def.fields {
                    if f.optional && rng.chance(40) {
                        continue;
                    }
                    let name = schema.field_name(f.name).to_string();
                    fields.insert(name, value(rng, schema, &f.ty, f.zone));
                }
            }
            Json::Object(fields)
        }
    }
}

/// A timestamp: in a field that declares a zone, often a local reading
/// without an offset next to one of the zone's clock changes (skipped,
/// passed twice, or either side); elsewhere, now and then one without an
/// offset, which the field refuses; otherwise an instant with its offset,
/// often either side of a change.
fn timestamp(rng: &mut Rng, zone: Option<Zone>) -> Json {
    let local: Vec<&str> = crate::LOCAL_EDGES
        .iter()
        .filter(|e| zone.is_some_and(|z| z.name() == e.zone))
        .map(|e| e.text)
        .collect();
    if !local.is_empty() && rng.chance(35) {
        return json!(rng.pick(&local));
    }
    if zone.is_none() && rng.chance(2) {
        return json!(rng.pick(&crate::LOCAL_EDGES).text);
    }
    if rng.chance(20) {
        json!(format_timestamp(rng.pick(&crate::DST_EDGES)))
    } else {
        json!(format_timestamp(instant(rng)))
    }
}

/// A JSON value that does not bind to `ty`.
fn wrong_value(rng: &mut Rng, ty: &Type) -> Json {
    match ty {
        Type::Bool => json!("yes"),
        Type::Int => rng.pick(&[json!("many"), json!(1.5), json!(true)]),
        Type::Decimal => rng.pick(&[json!("1.2.3"), json!([1])]),
        Type::Money(_) => rng.pick(&[json!("5 XXX"), json!(true)]),
        Type::Duration => rng.pick(&[json!("15x"), json!(900)]),
        Type::Timestamp => json!("yesterday"),
        Type::String => json!(5),
        Type::Enum(_) => json!("nonesuch"),
        Type::Entity(_) => json!(7),
        Type::Set(elem) | Type::List(elem) => {
            let inner = wrong_value(rng, elem);
            rng.pick(&[json!("x"), Json::Array(vec![inner])])
        }
        Type::Record(_) => rng.pick(&[json!("x"), json!({"nonesuch": 1})]),
    }
}

/// Makes the envelope not fit the schema, in one of the ways binding must
/// catch and name by JSON path.
fn misfit(rng: &mut Rng, schema: &Schema, env: &mut Envelope) {
    let action = schema.action_id(&env.action.name);
    let params = action
        .map(|a| schema.action(a).params.clone())
        .unwrap_or_default();
    let attrs = action
        .map(|a| schema.entity(schema.action(a).object).attrs.clone())
        .unwrap_or_default();
    match rng.below(10) {
        0 => env.action.name = format!("{}x", env.action.name),
        1 => env.object.ty = "Nope".to_string(),
        2 if !params.is_empty() => {
            let f = rng.pick(&params);
            let bad = wrong_value(rng, &f.ty);
            env.action
                .params
                .insert(schema.field_name(f.name).to_string(), bad);
        }
        3 if !attrs.is_empty() => {
            let f = rng.pick(&attrs);
            let bad = wrong_value(rng, &f.ty);
            env.object
                .attrs
                .insert(schema.field_name(f.name).to_string(), bad);
        }
        4 => {
            env.action.params.insert("bogus".to_string(), json!(1));
        }
        5 => {
            env.object.attrs.insert("bogus".to_string(), json!(1));
        }
        6 => {
            let required: Vec<&FieldDef> = params
                .iter()
                .chain(&attrs)
                .filter(|f| !f.optional)
                .collect();
            if let Some(f) = required.first() {
                let name = schema.field_name(f.name);
                env.action.params.remove(name);
                env.object.attrs.remove(name);
            } else {
                env.time = "yesterday".to_string();
            }
        }
        7 => env.time = "2026-13-45T99:00:00Z".to_string(),
        8 => match &mut env.rollback {
            Some(r) => r.within = Some("15x".to_string()),
            None => {
                env.intent = Some(IntentInfo {
                    goal: String::new(),
                    confidence: 1.5,
                })
            }
        },
        _ => {
            env.context
                .get_or_insert_with(Map::new)
                .insert("bogus".to_string(), json!(true));
        }
    }
}

/// The envelope as JSON bytes: as is, or broken in one of the ways reading
/// an envelope must reject with a JSON path.
fn json_bytes(rng: &mut Rng, env: &Envelope) -> Vec<u8> {
    let mut doc = serde_json::to_value(env).unwrap_or(Json::Null);
    let text = |doc: &Json| serde_json::to_vec(doc).unwrap_or_default();
    match rng.below(8) {
        0 => {
            doc["extra"] = json!(1);
            text(&doc)
        }
        1 => {
            if let Some(map) = doc.as_object_mut() {
                map.remove("time");
            }
            text(&doc)
        }
        2 => {
            doc["agent"] = json!(5);
            text(&doc)
        }
        3 => {
            doc["agent"]["role"] = json!("admin");
            text(&doc)
        }
        4 => {
            let mut bytes = text(&doc);
            bytes.truncate(bytes.len() / 2);
            bytes
        }
        5 => {
            let mut bytes = text(&doc);
            bytes.extend_from_slice(b" {}");
            bytes
        }
        // Well formed: the JSON path of deciding must agree with the
        // envelope one.
        _ => text(&doc),
    }
}
