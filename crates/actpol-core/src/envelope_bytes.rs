//! Binding an envelope straight from JSON bytes: the text is borrowed, each
//! parameter, attribute and context field is read into its typed slot as it
//! is parsed, and no intermediate JSON tree is built. The bytes are kept so
//! an exception packet can read the envelope whole, should it need to.
//!
//! This reader only accepts: anything it refuses is read again by
//! [`Envelope::from_json`], which words the error with its JSON path. So
//! the two must accept exactly the same envelopes and bind them the same
//! way (tests hold them to it over generated inputs).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use rust_decimal::Decimal;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::amount;
use crate::envelope::{
    assemble, BoundEnvelope, EnvelopeError, Fields, IntentInfo, Parts, PlanInfo, RollbackInfo,
    Source,
};
use crate::schema::{FieldDef, Schema};
use crate::types::Type;
use crate::value::{parse_duration, parse_timestamp, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope<'a> {
    #[serde(default, borrow)]
    #[allow(dead_code)] // Read to refuse what the slow reader refuses.
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

/// Binds `bytes`, or refuses (the caller then reads them the slow way).
pub(crate) fn bind(bytes: &[u8], schema: &Schema) -> Result<BoundEnvelope, Refused> {
    let text = std::str::from_utf8(bytes).map_err(|_| Refused)?;
    let raw: RawEnvelope<'_> = serde_json::from_str(text).map_err(|_| Refused)?;
    let parts = Parts {
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
        let text = match fields {
            Fields::Params => raw.action.params,
            Fields::Attrs => raw.object.attrs,
            Fields::Context => raw.context,
            Fields::Entity(i) => raw.entities.as_ref().and_then(|e| e.get(i)?.attrs),
        };
        match text {
            None => absent_fields(defs),
            Some(text) => {
                let mut de = serde_json::Deserializer::from_str(text.get());
                de.deserialize_any(FieldsVisitor { defs, schema })
                    .map_err(|_| Refused)
            }
        }
    };
    let source = Source::Json(Arc::from(text), Arc::new(OnceLock::new()));
    assemble(&parts, schema, &mut read, source)
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

/// Reads a JSON object whose keys are the declared fields.
struct FieldsVisitor<'s> {
    defs: &'s [FieldDef],
    schema: &'s Schema,
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
        let mut slots: Vec<Option<Value>> = vec![None; self.defs.len()];
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = self
                .defs
                .iter()
                .position(|d| self.schema.field_name(d.name) == key)
                .ok_or_else(|| A::Error::custom("an undeclared field"))?;
            let def = &self.defs[slot];
            slots[slot] = map.next_value_seed(Typed {
                ty: &def.ty,
                schema: self.schema,
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

/// Reads one JSON value as a value of `ty`; `null` reads as absent.
#[derive(Clone, Copy)]
struct Typed<'s> {
    ty: &'s Type,
    schema: &'s Schema,
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
        Ok(Some(match self.ty {
            Type::String => Value::String(Arc::from(s)),
            Type::Entity(_) => Value::Ref(Arc::from(s)),
            Type::Enum(id) => Value::Enum(self.schema.enum_def(*id).variant(s).ok_or_else(bad)?),
            Type::Duration => Value::Duration(parse_duration(s).ok_or_else(bad)?),
            Type::Timestamp => Value::Timestamp(parse_timestamp(s).ok_or_else(bad)?),
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
        let item = Typed {
            ty: elem,
            schema: self.schema,
        };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(item)? {
            if items.len() == crate::envelope::MAX_ELEMENTS {
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
        }
        .visit_map(map)?;
        Ok(Some(Value::Record(fields.into())))
    }
}
