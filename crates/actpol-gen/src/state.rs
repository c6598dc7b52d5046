//! Random budget and window state for a generated policy: consumption
//! near and past each budget's limit under the keys envelopes use, and past
//! events around the times envelopes happen at.

use actpol_core::schema::{KeyKind, PolicyMeta, Schema};
use actpol_core::state::{BudgetEntry, Event, MemoryState};
use actpol_core::types::Type;
use actpol_core::value::format_timestamp;
use actpol_core::Decimal;
use actpol_ir::Policy;
use serde_json::{json, Map};

use crate::{instant, Rng, Stream, DAY, HOUR, MINUTE, OBJECT_IDS, OWNERS, PLAN_IDS, WORKFLOWS};

/// How long before an envelope-like instant events happen: inside and just
/// outside the windows policies use (10m, 1h, 1d, 7d) and the baseline's
/// week before them.
const AGES: [i64; 13] = [
    0,
    1000,
    MINUTE,
    10 * MINUTE,
    59 * MINUTE,
    HOUR + MINUTE,
    5 * HOUR,
    23 * HOUR,
    DAY + HOUR,
    3 * DAY,
    6 * DAY,
    8 * DAY,
    13 * DAY,
];

/// Generates a state for `policy`. The same seed gives the same state.
pub fn state(seed: u64, policy: &Policy) -> MemoryState {
    let mut rng = Rng::stream(seed, Stream::State);
    let schema = &policy.schema;
    let meta = &policy.meta;
    let mut state = MemoryState::default();
    for (name, def) in &meta.budgets {
        let limit = def.limit.as_amount().unwrap_or_default();
        for key in keys(schema, meta, def.key) {
            if rng.chance(35) {
                // A negative amount is drawn, then refused as a state file
                // refuses it: the draw keeps the stream of later draws.
                let _refused = state.push_budget(BudgetEntry {
                    name: name.clone(),
                    key,
                    consumed: consumed(&mut rng, limit),
                    time: None,
                });
            }
        }
    }
    for _ in 0..rng.below(13) {
        if let Some(event) = event(&mut rng, schema, meta) {
            state
                .push_event(event)
                .expect("a generated event's time is a timestamp");
        }
    }
    state
}

/// Every key envelopes of this policy can have for `kind`, and one no
/// envelope has.
fn keys(schema: &Schema, meta: &PolicyMeta, kind: KeyKind) -> Vec<String> {
    let with = |prefix: &str, names: Vec<&str>| -> Vec<String> {
        names.into_iter().map(|n| format!("{prefix}:{n}")).collect()
    };
    match kind {
        KeyKind::Agent => {
            let mut names: Vec<&str> = meta.agents.keys().map(String::as_str).collect();
            names.push("rogue-bot");
            with("agent", names)
        }
        KeyKind::Workflow => with("workflow", WORKFLOWS.to_vec()),
        KeyKind::Owner => with("owner", OWNERS.to_vec()),
        KeyKind::Object => schema
            .entities
            .keys()
            .flat_map(|e| OBJECT_IDS.iter().map(move |id| format!("object:{e}/{id}")))
            .collect(),
        KeyKind::Plan => with("plan", PLAN_IDS.to_vec()),
    }
}

/// Consumption around `limit`: nothing, just under, at, just past, far
/// past; rarely negative (which a state refuses), fractional, or beyond what an `Int` holds.
fn consumed(rng: &mut Rng, limit: Decimal) -> Decimal {
    let one = Decimal::ONE;
    match rng.below(100) {
        0..=2 => Decimal::new(-5, 0),
        3..=5 => Decimal::new(5, 1),
        // 10^20: more than an `Int` or `Duration` budget can hold.
        6..=12 => Decimal::from(10u64.pow(19)) * Decimal::TEN,
        _ => rng.pick(&[
            Decimal::ZERO,
            limit - one,
            limit,
            limit + one,
            limit / Decimal::TWO,
            one,
            limit * Decimal::TWO,
        ]),
    }
}

fn event(rng: &mut Rng, schema: &Schema, meta: &PolicyMeta) -> Option<Event> {
    let action_id = rng.below(schema.actions.len());
    let (action, def) = schema.actions.get_index(action_id)?;
    // An action the schema no longer declares still counts for `*`.
    let action = if rng.chance(90) {
        action.clone()
    } else {
        "legacy.cleanup".to_string()
    };
    let (agent, owner, workflow) = match meta.agents.get_index(rng.below(meta.agents.len().max(1)))
    {
        Some((name, a)) if rng.chance(85) => (name.clone(), a.owner.clone(), a.workflow.clone()),
        _ => (
            "rogue-bot".to_string(),
            rng.pick(&OWNERS).to_string(),
            rng.pick(&WORKFLOWS).to_string(),
        ),
    };
    let mut params = Map::new();
    for p in &def.params {
        if !rng.chance(70) {
            continue;
        }
        let value = match &p.ty {
            // Now and then a value no sum can add: the state view fails.
            _ if rng.chance(3) => json!("lots"),
            // More than a sum of `Int`s can hold.
            Type::Int if rng.chance(8) => json!(10u64.pow(19)),
            Type::Int => json!(rng.pick(&[1, 5, 50, 700])),
            Type::Decimal => json!(rng.pick(&[0.5, 2.25, 100.0])),
            Type::Money(c) => rng.pick(&[json!(12.5), json!(format!("40 {c}"))]),
            Type::Duration => json!(rng.pick(&[1000, 60_000])),
            _ => continue,
        };
        params.insert(schema.field_name(p.name).to_string(), value);
    }
    Some(Event {
        action,
        agent,
        workflow: rng.chance(90).then_some(workflow),
        owner: rng.chance(90).then_some(owner),
        object: rng.chance(85).then(|| {
            format!(
                "{}/{}",
                schema.entity_name(def.object),
                rng.pick(&OBJECT_IDS)
            )
        }),
        plan: rng.chance(60).then(|| rng.pick(&PLAN_IDS).to_string()),
        time: format_timestamp(instant(rng) - rng.pick(&AGES)),
        params,
    })
}
