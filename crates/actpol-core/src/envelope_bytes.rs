//! Binding an envelope straight from JSON bytes: the text is borrowed, each
//! parameter, attribute and context field is read into its typed slot as it
//! is parsed, and no intermediate JSON tree is built. The bytes are kept so
//! an exception packet can read the envelope whole, should it need to.
//!
//! This reader also holds the envelope to the screen's rules
//! ([`EnvelopeLimits`], no key twice, no control character) as it reads,
//! so an envelope is read once, not screened and then read.
//!
//! This reader only accepts: anything it refuses is screened and read
//! again by [`Envelope::from_json`], which words the error with its JSON
//! path. So the two must accept exactly the same envelopes and bind them
//! the same way (tests hold them to it over generated and hostile inputs).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::amount;
use crate::envelope::{
    assemble, BoundEnvelope, EnvelopeCopy, EnvelopeError, Fields, IntentInfo, Parts, PlanInfo,
    RollbackInfo,
};
use crate::envelope_screen::{string_passes, EnvelopeLimits};
use crate::schema::{FieldDef, Schema};
use crate::types::Type;
use crate::value::{parse_duration, Value};
use crate::zones::{parse_timestamp_in, Zone};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    agent: RawAgent<'a>,
    #[serde(borrow)]
    action: RawAction<'a>,
    #[serde(borrow)]
    object: RawObject<'a>,
    #[serde(default)]
    intent: Option<IntentInfo>,
    #[serde(default)]
    rollback: Option<RollbackInfo>,
    #[serde(default)]
    plan: Option<PlanInfo>,
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(default, borrow)]
    context: Option<&'a RawValue>,
    #[serde(default, borrow)]
    approval: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    entities: Option<Vec<RawObject<'a>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    owner: Cow<'a, str>,
    #[serde(borrow)]
    workflow: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObject<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    attrs: Option<&'a RawValue>,
}

/// Binds `bytes`, or refuses (the caller then screens them and reads them
/// the slow way).
pub(crate) fn bind(
    bytes: &[u8],
    schema: &Schema,
    limits: &EnvelopeLimits,
) -> Result<BoundEnvelope, Refused> {
    if bytes.len() > limits.max_bytes || !frame_fits(limits) {
        return Err(Refused);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Refused)?;
    // The derived readers refuse a key given twice and any key not in the
    // contract, as the screen and the slow reader do.
    let raw: RawEnvelope<'_> = serde_json::from_str(text).map_err(|_| Refused)?;
    if !raw.strings_pass(limits) {
        return Err(Refused);
    }
    let parts = Parts {
        id: raw.id.as_deref(),
        agent: &raw.agent.id,
        owner: &raw.agent.owner,
        workflow: &raw.agent.workflow,
        action: &raw.action.name,
        object_type: &raw.object.ty,
        object_id: &raw.object.id,
        intent: raw.intent.as_ref(),
        rollback: raw.rollback.as_ref(),
        plan: raw.plan.as_ref(),
        time: &raw.time,
        approval: raw.approval.as_deref(),
        entities: raw
            .entities
            .iter()
            .flatten()
            .map(|e| (&*e.ty, &*e.id))
            .collect(),
    };
    let mut read = |fields: Fields, defs: &[FieldDef]| {
        let (text, depth) = match fields {
            Fields::Params => (raw.action.params, PARAMS_DEPTH),
            Fields::Attrs => (raw.object.attrs, PARAMS_DEPTH),
            Fields::Context => (raw.context, CONTEXT_DEPTH),
            Fields::Entity(i) => (
                raw.entities.as_ref().and_then(|e| e.get(i)?.attrs),
                ENTITY_ATTRS_DEPTH,
            ),
        };
        match text {
            None => absent_fields(defs),
            Some(text) => {
                let mut de = serde_json::Deserializer::from_str(text.get());
                de.deserialize_any(FieldsVisitor {
                    defs,
                    schema,
                    limits,
                    depth,
                })
                .map_err(|_| Refused)
            }
        }
    };
    let source = EnvelopeCopy::json(text);
    assemble(&parts, schema, &mut read, source)
}

/// How deep `params` and `attrs` sit (`$.action.params`: the envelope is
/// depth 1), and the context (`$.context`).
const PARAMS_DEPTH: usize = 3;
const CONTEXT_DEPTH: usize = 2;
/// How deep a related entity's attributes sit (`$.entities[0].attrs`).
const ENTITY_ATTRS_DEPTH: usize = 4;

/// The envelope's own frame: the most keys one of its fixed objects has
/// (the envelope itself), how deep they go and how long their keys are.
/// Limits tighter than the frame are left to the screen, which words what
/// they refuse.
const FRAME_KEYS: usize = 11;
/// The longest key of the frame (`confidence`).
const FRAME_KEY_BYTES: usize = 10;

fn frame_fits(limits: &EnvelopeLimits) -> bool {
    limits.max_keys >= FRAME_KEYS
        && limits.max_depth >= ENTITY_ATTRS_DEPTH
        && limits.max_string >= FRAME_KEY_BYTES
}

impl RawEnvelope<'_> {
    /// Whether every string of the envelope's frame passes the screen; the
    /// agent's goal is free text.
    fn strings_pass(&self, limits: &EnvelopeLimits) -> bool {
        let rollback = self.rollback.as_ref();
        let strings = [
            self.id.as_deref(),
            Some(&*self.agent.id),
            Some(&*self.agent.owner),
            Some(&*self.agent.workflow),
            Some(&*self.action.name),
            Some(&*self.object.ty),
            Some(&*self.object.id),
            rollback.map(|r| r.kind.as_str()),
            rollback.and_then(|r| r.action.as_deref()),
            rollback.and_then(|r| r.within.as_deref()),
            self.plan.as_ref().map(|p| p.id.as_str()),
            Some(&*self.time),
            self.approval.as_deref(),
        ];
        let goal = self.intent.as_ref().map(|i| i.goal.as_str());
        let entities = self.entities.as_deref().unwrap_or_default();
        let entity_strings = entities.iter().flat_map(|e| [&*e.ty, &*e.id]);
        entities.len() <= limits.max_array
            && strings
                .into_iter()
                .flatten()
                .chain(entity_strings)
                .all(|text| string_passes(text, limits, false))
            && goal.is_none_or(|text| string_passes(text, limits, true))
    }
}

/// The reader's refusal; never shown (the slow reader words the error).
#[derive(Debug)]
pub(crate) struct Refused;

impl From<EnvelopeError> for Refused {
    fn from(_: EnvelopeError) -> Self {
        Refused
    }
}

/// No object at all: every field absent, which only optional ones may be.
fn absent_fields(defs: &[FieldDef]) -> Result<Vec<Option<Value>>, Refused> {
    if defs.iter().all(|d| d.optional) {
        Ok(vec![None; defs.len()])
    } else {
        Err(Refused)
    }
}

/// Reads a JSON object whose keys are the declared fields. The object sits
/// at `depth`.
struct FieldsVisitor<'s> {
    defs: &'s [FieldDef],
    schema: &'s Schema,
    limits: &'s EnvelopeLimits,
    depth: usize,
}

impl<'de> Visitor<'de> for FieldsVisitor<'_> {
    type Value = Vec<Option<Value>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of declared fields")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        // `null` stands for an empty object, as in the slow reader.
        absent_fields(self.defs).map_err(|_| E::custom("a required field is missing"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        if self.depth > self.limits.max_depth {
            return Err(A::Error::custom("too deep"));
        }
        let mut slots: Vec<Option<Value>> = vec![None; self.defs.len()];
        // A key given as `null` leaves its slot empty, so what was given is
        // kept apart from what was read.
        let mut given = Given::new(self.defs.len());
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = self
                .defs
                .iter()
                .position(|d| self.schema.field_name(d.name) == key)
                .ok_or_else(|| A::Error::custom("an undeclared field"))?;
            // Only declared names get here, and no name twice: the count
            // of keys is the count of slots given.
            if !given.first(slot) {
                return Err(A::Error::custom("a key given twice"));
            }
            if given.count > self.limits.max_keys || key.len() > self.limits.max_string {
                return Err(A::Error::custom("past a limit"));
            }
            let def = &self.defs[slot];
            slots[slot] = map.next_value_seed(Typed {
                ty: &def.ty,
                zone: def.zone,
                schema: self.schema,
                limits: self.limits,
                depth: self.depth + 1,
            })?;
            if slots[slot].as_ref().is_some_and(|v| !def.admits(v)) {
                return Err(A::Error::custom("out of bounds"));
            }
        }
        for (def, slot) in self.defs.iter().zip(&slots) {
            if slot.is_none() && !def.optional {
                return Err(A::Error::custom("a required field is missing"));
            }
        }
        Ok(slots)
    }
}

/// Which declared fields an object has given so far: a bit per field, in a
/// word for the common case of 64 fields or fewer.
struct Given {
    small: u64,
    large: Vec<bool>,
    count: usize,
}

impl Given {
    fn new(fields: usize) -> Given {
        Given {
            small: 0,
            large: if fields > 64 {
                vec![false; fields]
            } else {
                Vec::new()
            },
            count: 0,
        }
    }

    /// Marks `slot` given; false when it was already.
    fn first(&mut self, slot: usize) -> bool {
        let was = if self.large.is_empty() {
            let bit = 1u64 << slot;
            let was = self.small & bit != 0;
            self.small |= bit;
            was
        } else {
            std::mem::replace(&mut self.large[slot], true)
        };
        self.count += 1;
        !was
    }
}

/// Reads one JSON value as a value of `ty`; `null` reads as absent.
#[derive(Clone, Copy)]
struct Typed<'s> {
    ty: &'s Type,
    /// The zone an offset-less timestamp is local time in, if the field
    /// declares one.
    zone: Option<Zone>,
    schema: &'s Schema,
    limits: &'s EnvelopeLimits,
    /// How deep the value sits, should it be an array or an object.
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Typed<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Typed<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a `{}`", self.schema.type_name(self.ty))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
        match self.ty {
            Type::Bool => Ok(Some(Value::Bool(b))),
            _ => Err(E::custom("wrong type")),
        }
    }

    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Self::Value, E> {
        match self.ty {
            Type::Int => Ok(Some(Value::Int(i))),
            Type::Decimal => Ok(Some(Value::Decimal(Decimal::from(i)))),
            Type::Money(_) => Ok(Some(Value::Money(Decimal::from(i)))),
            _ => Err(E::custom("wrong type")),
        }
    }

    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Self::Value, E> {
        match (self.ty, i64::try_from(u)) {
            (_, Ok(i)) => self.visit_i64(i),
            (Type::Decimal, Err(_)) => Ok(Some(Value::Decimal(Decimal::from(u)))),
            (Type::Money(_), Err(_)) => Ok(Some(Value::Money(Decimal::from(u)))),
            _ => Err(E::custom("wrong type")),
        }
    }

    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Self::Value, E> {
        // The slow reader sees the same number through `serde_json::Number`,
        // which `amount` reads the same way.
        let d = amount::from_f64(f).ok_or_else(|| E::custom("not a decimal"))?;
        match self.ty {
            Type::Decimal => Ok(Some(Value::Decimal(d))),
            Type::Money(_) => Ok(Some(Value::Money(d))),
            _ => Err(E::custom("wrong type")),
        }
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let bad = || E::custom("wrong value");
        if !string_passes(s, self.limits, false) {
            return Err(E::custom("refused by the screen"));
        }
        Ok(Some(match self.ty {
            Type::String => Value::String(Arc::from(s)),
            Type::Entity(_) => Value::Ref(Arc::from(s)),
            Type::Enum(id) => Value::Enum(self.schema.enum_def(*id).variant(s).ok_or_else(bad)?),
            Type::Duration => Value::Duration(parse_duration(s).ok_or_else(bad)?),
            Type::Timestamp => Value::Timestamp(parse_timestamp_in(s, self.zone).ok_or_else(bad)?),
            Type::Decimal => Value::Decimal(amount::from_text(s).ok_or_else(bad)?),
            Type::Money(currency) => {
                let (num, cur) = amount::split_unit(s);
                if cur.is_some_and(|c| c != currency.as_str()) {
                    return Err(bad());
                }
                Value::Money(amount::from_text(num).ok_or_else(bad)?)
            }
            _ => return Err(E::custom("wrong type")),
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let (Type::Set(elem) | Type::List(elem)) = self.ty else {
            return Err(A::Error::custom("wrong type"));
        };
        if self.depth > self.limits.max_depth {
            return Err(A::Error::custom("too deep"));
        }
        let item = Typed {
            ty: elem,
            depth: self.depth + 1,
            ..self
        };
        let most = self.limits.max_array.min(crate::envelope::MAX_ELEMENTS);
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(item)? {
            if items.len() == most {
                return Err(A::Error::custom("too many elements"));
            }
            // A `null` element is an error in the slow reader too.
            items.push(v.ok_or_else(|| A::Error::custom("null in a set"))?);
        }
        Ok(Some(match self.ty {
            Type::List(_) => Value::List(items.into()),
            _ => Value::set(items),
        }))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let Type::Record(id) = self.ty else {
            return Err(A::Error::custom("wrong type"));
        };
        let def = self
            .schema
            .record(*id)
            .ok_or_else(|| A::Error::custom("wrong type"))?;
        let fields = FieldsVisitor {
            defs: &def.fields,
            schema: self.schema,
            limits: self.limits,
            depth: self.depth,
        }
        .visit_map(map)?;
        Ok(Some(Value::Record(fields.into())))
    }
}
