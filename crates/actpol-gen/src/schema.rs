//! Random schemas: systems, data classes, enums, entities with attributes
//! of every type, actions in a few namespaces with parameters, every
//! reversibility class, and context fields.

use actpol_core::ids::{ActionId, DataClassId, EntityId, EnumId, RecordId, SystemId};
use actpol_core::schema::{
    ActionDef, Bounds, Described, Destination, EntityDef, EnumDef, FieldDef, RecordDef,
    ReversibilityClass, Schema, TriggerDef,
};
use actpol_core::types::{Currency, Type};
use actpol_core::zones::Zone;
use actpol_core::Decimal;

use crate::{Rng, Stream, MINUTE};

const SYSTEMS: [&str; 3] = ["crm", "outreach", "billing"];
const DATA_CLASSES: [&str; 3] = ["pii", "financial", "health"];
/// Some variants are data values that are no names (`"north america"`),
/// as a policy writes them in strings.
const ENUMS: [(&str, &[&str]); 3] = [
    ("Tier", &["bronze", "silver", "gold", "platinum"]),
    (
        "Region",
        &["emea", "north america", "apac", "latin america"],
    ),
    (
        "Stage",
        &["lead", "mql", "sql", "customer", "churned by owner"],
    ),
];
const ENTITIES: [&str; 4] = ["Account", "Sequence", "Contact", "Invoice"];
const NAMESPACES: [&str; 3] = ["crm", "outbound", "billing"];
const VERBS: [&str; 7] = [
    "update",
    "send",
    "merge",
    "credit.issue",
    "recall",
    "close",
    "export",
];

pub(crate) fn currency(code: &str) -> Currency {
    // INVARIANT: only called with the literal codes below.
    Currency::parse(code).unwrap_or(Currency(*b"USD"))
}

/// Generates a schema. The same seed gives the same schema.
pub fn schema(seed: u64) -> Schema {
    let mut rng = Rng::stream(seed, Stream::Schema);
    let mut s = Schema::new();
    let described = |rng: &mut Rng, what: &str| Described {
        description: rng.chance(50).then(|| format!("the {what}")),
    };

    for name in &SYSTEMS[..rng.range(1, SYSTEMS.len())] {
        let d = described(&mut rng, name);
        s.systems.insert(name.to_string(), d);
    }
    for name in &DATA_CLASSES[..rng.range(1, DATA_CLASSES.len())] {
        let d = described(&mut rng, name);
        s.data_classes.insert(name.to_string(), d);
    }
    let mut enums = ENUMS.to_vec();
    rng.shuffle(&mut enums);
    enums.truncate(rng.range(1, ENUMS.len()));
    let mut enum_ids = Vec::new();
    for (name, variants) in &enums {
        let count = rng.range(2, variants.len());
        enum_ids.push(EnumId::from_index(s.enums.len()));
        s.enums.insert(
            name.to_string(),
            EnumDef {
                variants: variants[..count].iter().map(|v| v.to_string()).collect(),
                builtin: false,
            },
        );
    }

    // One record type, so lists of records reach parameters and attributes.
    let usd = Type::Money(currency("USD"));
    let line_fields = [
        ("qty", Type::Int, false),
        ("price", usd, false),
        ("label", Type::String, false),
        ("note", Type::String, true),
        ("at", Type::Timestamp, true),
    ];
    let fields = line_fields
        .into_iter()
        .map(|(name, ty, optional)| FieldDef {
            name: s.intern_field(name),
            ty,
            optional,
            bounds: None,
            zone: declared_zone(name),
        })
        .collect();
    s.records.insert("Line".to_string(), RecordDef { fields });

    let entity_count = rng.range(2, ENTITIES.len());
    let catalogue = catalogue(&mut rng, &s, &enum_ids, entity_count);

    // Every entity declares the first two catalogue fields it draws, so
    // that rules over several actions (on different objects) can read some
    // attributes; then a random share of the rest.
    let mut shared: Vec<usize> = (0..catalogue.len()).collect();
    rng.shuffle(&mut shared);
    shared.truncate(2);
    let mut used = vec![false; catalogue.len()];
    let mut entities: Vec<Vec<usize>> = Vec::new();
    for _ in 0..entity_count {
        let mut attrs = shared.clone();
        for i in 0..catalogue.len() {
            if !attrs.contains(&i) && rng.chance(30) {
                attrs.push(i);
            }
        }
        for i in &attrs {
            used[*i] = true;
        }
        entities.push(attrs);
    }
    // Every type appears as some entity's attribute.
    for (i, was_used) in used.iter().enumerate() {
        if !was_used {
            let e = rng.below(entity_count);
            entities[e].push(i);
        }
    }
    for (e, attrs) in entities.into_iter().enumerate() {
        let fields = attrs
            .into_iter()
            .map(|i| {
                let (name, ty) = &catalogue[i];
                let optional = rng.chance(30);
                FieldDef {
                    name: s.intern_field(name),
                    ty: ty.clone(),
                    optional,
                    bounds: declared_bounds(name),
                    zone: declared_zone(name),
                }
            })
            .collect();
        let data_classes = (0..s.data_classes.len())
            .filter(|_| rng.chance(40))
            .map(DataClassId::from_index)
            .collect();
        let system = rng
            .chance(70)
            .then(|| SystemId::from_index(rng.below(s.systems.len())));
        s.entities.insert(
            ENTITIES[e].to_string(),
            EntityDef {
                attrs: fields,
                data_classes,
                system,
            },
        );
    }

    actions(&mut rng, &mut s, &catalogue);

    let mut context = Vec::new();
    for (name, ty) in &catalogue {
        if context.len() < 4 && rng.chance(15) {
            let optional = rng.chance(50);
            context.push(FieldDef {
                name: s.intern_field(name),
                ty: ty.clone(),
                optional,
                bounds: declared_bounds(name),
                zone: declared_zone(name),
            });
        }
    }
    s.context = context;
    s
}

/// The fields of this schema: one type per name, so that a parameter or
/// attribute of one name reads the same way on every action and entity
/// that declares it. Every type of the language appears.
/// The bounds a catalogue field is declared with, wherever it is used:
/// `arr` may not be negative and `seats` lies in `0..1000`, so generated
/// envelopes (whose numbers reach past both) are sometimes out of range.
/// Drawn from no randomness, so the rest of a seed's schema is unchanged.
fn declared_bounds(name: &str) -> Option<Bounds> {
    match name {
        "arr" => Some(Bounds {
            least: Some(Decimal::ZERO),
            most: None,
        }),
        "seats" => Some(Bounds {
            least: Some(Decimal::ZERO),
            most: Some(Decimal::from(1000)),
        }),
        _ => None,
    }
}

/// The zone a catalogue field declares for its offset-less timestamps,
/// wherever it is used: `due` is local time in New York, whose clock
/// changes the generated envelopes' local times straddle; `slots` (a list)
/// in London; a `Line`'s `at` in Paris; `since` declares none, so an
/// offset-less `since` is refused.
/// Drawn from no randomness, as [`declared_bounds`].
pub(crate) fn declared_zone(name: &str) -> Option<Zone> {
    match name {
        "due" => Zone::named("America/New_York"),
        "slots" => Zone::named("Europe/London"),
        "at" => Zone::named("Europe/Paris"),
        _ => None,
    }
}

fn catalogue(
    rng: &mut Rng,
    s: &Schema,
    enum_ids: &[EnumId],
    entity_count: usize,
) -> Vec<(String, Type)> {
    let usd = Type::Money(currency("USD"));
    // One or two currencies: with two, money of different currencies sits
    // side by side and must never mix.
    let other = if rng.chance(50) {
        Type::Money(currency("EUR"))
    } else {
        usd.clone()
    };
    let set = |t: Type| Type::Set(Box::new(t));
    let list = |t: Type| Type::List(Box::new(t));
    let entity = |rng: &mut Rng| Type::Entity(EntityId::from_index(rng.below(entity_count)));
    let mut out: Vec<(String, Type)> = vec![
        ("active".into(), Type::Bool),
        ("flagged".into(), Type::Bool),
        ("count".into(), Type::Int),
        ("seats".into(), Type::Int),
        ("recipients".into(), Type::Int),
        ("ratio".into(), Type::Decimal),
        ("discount".into(), Type::Decimal),
        ("name".into(), Type::String),
        ("territory".into(), Type::String),
        ("template".into(), Type::String),
        ("amount".into(), usd.clone()),
        ("arr".into(), usd),
        ("fee".into(), other),
        ("delay".into(), Type::Duration),
        ("ttl".into(), Type::Duration),
        ("due".into(), Type::Timestamp),
        ("since".into(), Type::Timestamp),
        ("tags".into(), set(Type::String)),
        ("labels".into(), set(Type::String)),
        ("codes".into(), set(Type::Int)),
        ("parent".into(), entity(rng)),
        ("peer".into(), entity(rng)),
        ("members".into(), set(entity(rng))),
        ("lines".into(), list(Type::Record(RecordId(0)))),
        ("prices".into(), list(Type::Money(currency("USD")))),
        ("counts".into(), list(Type::Int)),
        ("words".into(), list(Type::String)),
        ("slots".into(), list(Type::Timestamp)),
    ];
    // Named after their enums (`tier: Tier`), which no other field is.
    for id in enum_ids {
        let name = s.enum_name(*id).to_lowercase();
        out.push((format!("{name}s"), set(Type::Enum(*id))));
        out.push((name, Type::Enum(*id)));
    }
    out
}

fn actions(rng: &mut Rng, s: &mut Schema, catalogue: &[(String, Type)]) {
    let mut namespaces = NAMESPACES.to_vec();
    rng.shuffle(&mut namespaces);
    namespaces.truncate(rng.range(2, NAMESPACES.len()));
    // Actions of a namespace share two parameters, so that `crm.*` rules
    // can read and constrain them.
    let ns_params: Vec<Vec<usize>> = namespaces
        .iter()
        .map(|_| {
            let mut all: Vec<usize> = (0..catalogue.len()).collect();
            rng.shuffle(&mut all);
            all.truncate(2);
            all
        })
        .collect();
    // One action from each namespace first, so that each is represented.
    let mut names: Vec<(usize, String)> = Vec::new();
    let mut pool: Vec<(usize, String)> = Vec::new();
    for (n, ns) in namespaces.iter().enumerate() {
        let mut verbs = VERBS.to_vec();
        rng.shuffle(&mut verbs);
        names.push((n, format!("{ns}.{}", verbs[0])));
        pool.extend(verbs[1..].iter().map(|v| (n, format!("{ns}.{v}"))));
    }
    rng.shuffle(&mut pool);
    let count = rng.range(3, 8);
    names.extend(pool.into_iter().take(count.saturating_sub(names.len())));
    rng.shuffle(&mut names);

    // Every reversibility class appears: the first three actions take one
    // each, in a random order.
    let mut classes = [0usize, 1, 2];
    rng.shuffle(&mut classes);
    let total = names.len();
    for (i, (ns, name)) in names.into_iter().enumerate() {
        let mut fields: Vec<usize> = ns_params[ns].clone();
        for f in 0..catalogue.len() {
            if fields.len() < 6 && !fields.contains(&f) && rng.chance(15) {
                fields.push(f);
            }
        }
        let params = fields
            .into_iter()
            .map(|f| {
                let (field, ty) = &catalogue[f];
                let optional = rng.chance(30);
                FieldDef {
                    name: s.intern_field(field),
                    ty: ty.clone(),
                    optional,
                    bounds: declared_bounds(field),
                    zone: declared_zone(field),
                }
            })
            .collect();
        let class = if i < 3 { classes[i] } else { rng.below(3) };
        let reversibility = match class {
            0 => ReversibilityClass::Reversible,
            1 => ReversibilityClass::Compensable {
                by: ActionId::from_index((i + 1 + rng.below(total - 1)) % total),
                within: rng
                    .chance(50)
                    .then(|| rng.pick(&[15 * MINUTE, 60 * MINUTE, 0])),
            },
            _ => ReversibilityClass::Irreversible,
        };
        let data_classes = (0..s.data_classes.len())
            .filter(|_| rng.chance(30))
            .map(DataClassId::from_index)
            .collect();
        let mut triggers = Vec::new();
        for _ in 0..rng.below(3) {
            triggers.push(if rng.chance(50) {
                TriggerDef::Action(ActionId::from_index(rng.below(total)))
            } else {
                TriggerDef::System(SystemId::from_index(rng.below(s.systems.len())))
            });
        }
        let reads = (0..s.data_classes.len())
            .filter(|_| rng.chance(30))
            .map(DataClassId::from_index)
            .collect();
        let sends = Destination::ALL
            .into_iter()
            .filter(|_| rng.chance(30))
            .collect();
        let def = ActionDef {
            system: SystemId::from_index(rng.below(s.systems.len())),
            object: EntityId::from_index(rng.below(s.entities.len())),
            params,
            reversibility,
            data_classes,
            reads,
            sends,
            triggers,
        };
        s.actions.insert(name, def);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_hold_every_kind_of_declaration() {
        for seed in 0..200 {
            let s = schema(seed);
            assert!((1..=3).contains(&s.systems.len()));
            assert!((2..=4).contains(&s.entities.len()));
            assert!((3..=8).contains(&s.actions.len()), "{}", s.actions.len());
            let namespaces: std::collections::BTreeSet<&str> = s
                .actions
                .keys()
                .map(|n| n.split('.').next().unwrap_or(""))
                .collect();
            assert!((2..=3).contains(&namespaces.len()));
            for class in 0..3 {
                assert!(s
                    .actions
                    .values()
                    .any(|a| a.reversibility.variant() == class));
            }
            let types: Vec<&Type> = s
                .entities
                .values()
                .flat_map(|e| e.attrs.iter().map(|a| &a.ty))
                .collect();
            for wanted in [
                Type::Bool,
                Type::Int,
                Type::Decimal,
                Type::String,
                Type::Duration,
                Type::Timestamp,
                Type::Set(Box::new(Type::String)),
                Type::Set(Box::new(Type::Int)),
            ] {
                assert!(types.contains(&&wanted), "seed {seed}: no {wanted:?}");
            }
            assert!(types.iter().any(|t| matches!(t, Type::Money(_))));
            assert!(types.iter().any(|t| matches!(t, Type::Enum(_))));
            assert!(types.iter().any(|t| matches!(t, Type::Entity(_))));
        }
    }

    #[test]
    fn field_names_are_unique_per_declaration() {
        for seed in 0..200 {
            let s = schema(seed);
            let lists = s
                .entities
                .values()
                .map(|e| &e.attrs)
                .chain(s.actions.values().map(|a| &a.params))
                .chain(std::iter::once(&s.context));
            for list in lists {
                let mut names: Vec<_> = list.iter().map(|f| f.name).collect();
                names.sort();
                names.dedup();
                assert_eq!(
                    names.len(),
                    list.len(),
                    "seed {seed}: a field declared twice"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_schema() {
        assert_eq!(schema(11), schema(11));
        assert_ne!(schema(11), schema(12));
    }
}
