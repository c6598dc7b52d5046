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
    assemble, BoundEnvelope, EnvelopeCopy, EnvelopeError, Fields, Parts, PlanInfo, RollbackInfo,
};
use crate::envelope_screen::{string_passes, EnvelopeLimits};
use crate::ids::ActionId;
use crate::json_object::Object;
use crate::schema::{FieldDef, Schema};
use crate::types::Type;
use crate::value::{parse_duration, Value};
use crate::zones::{parse_timestamp_in, Zone};

/// The envelope as the reader met it: strings borrowed from the text where
/// they hold no escape, and each field object read into its slots as it
/// was met when its declarations were known by then (see [`Fieldset`]).
struct RawEnvelope<'a, 's> {
    id: Option<Text<'a>>,
    agent: RawAgent<'a>,
    action: RawAction<'a, 's>,
    object: RawSubject<'a, 's>,
    intent: Option<RawIntent<'a>>,
    rollback: Option<RollbackInfo>,
    plan: Option<PlanInfo>,
    time: Text<'a>,
    context: Fieldset<'a, 's>,
    approval: Option<Text<'a>>,
    entities: Option<Vec<RawSubject<'a, 's>>>,
}

/// An intent (`crate::envelope::IntentInfo`), its goal borrowed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntent<'a> {
    #[serde(borrow)]
    goal: Cow<'a, str>,
    confidence: f64,
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

struct RawAction<'a, 's> {
    name: Text<'a>,
    /// The action `name` names, when it came before `params` (and was
    /// looked up then).
    id: Option<ActionId>,
    params: Fieldset<'a, 's>,
}

/// The envelope's object, or one of its related entities: its attributes
/// read as they were met when its type came first.
struct RawSubject<'a, 's> {
    ty: Text<'a>,
    id: Text<'a>,
    attrs: Fieldset<'a, 's>,
}

/// A field object (`params`, `attrs`, `context`) as the reader met it.
/// Objects are read in one pass where they can be: a field's declaration
/// gives its type, so an object is read straight into typed slots when
/// what names its declarations (the action's name, the object's type)
/// came before it, as it does in nearly every envelope. Otherwise its text
/// is kept, to be read once the declarations are known.
enum Fieldset<'a, 's> {
    /// Read against these declarations.
    Read(&'s [FieldDef], Vec<Option<Value>>),
    /// The object's text (`None`: absent), not read yet.
    Text(Option<&'a RawValue>),
}

impl<'a, 's> Fieldset<'a, 's> {
    /// This field object, leaving an absent one in its place.
    fn take(&mut self) -> Self {
        std::mem::replace(self, Fieldset::Text(None))
    }

    /// The slots for `defs`, reading the text if it was kept. Slots read
    /// against other declarations than `defs` are refused, never used.
    fn bind(
        &mut self,
        defs: &[FieldDef],
        schema: &Schema,
        screen: Screen<'_>,
        depth: usize,
    ) -> Result<Vec<Option<Value>>, Refused> {
        match self.take() {
            Fieldset::Read(read, slots) if std::ptr::eq(read, defs) => Ok(slots),
            Fieldset::Read(..) => Err(Refused),
            Fieldset::Text(None) => absent_fields(defs),
            Fieldset::Text(Some(text)) => {
                let mut de = serde_json::Deserializer::from_str(text.get());
                de.deserialize_any(FieldsVisitor {
                    defs,
                    schema,
                    screen,
                    depth,
                })
                .map_err(|_| Refused)
            }
        }
    }
}

/// Reads a field object now if `defs` are known, else keeps its text.
fn read_or_keep<'de, 's, A: MapAccess<'de>>(
    map: &mut A,
    defs: Option<&'s [FieldDef]>,
    schema: &'s Schema,
    screen: Screen<'s>,
    depth: usize,
) -> Result<Fieldset<'de, 's>, A::Error> {
    Ok(match defs {
        Some(defs) => Fieldset::Read(
            defs,
            map.next_value_seed(FieldsSeed(FieldsVisitor {
                defs,
                schema,
                screen,
                depth,
            }))?,
        ),
        None => Fieldset::Text(map.next_value()?),
    })
}

/// The envelope's keys, a bit each, to refuse one given twice.
#[derive(Clone, Copy)]
#[repr(u16)]
enum Key {
    Id = 1 << 0,
    Agent = 1 << 1,
    Action = 1 << 2,
    Object = 1 << 3,
    Intent = 1 << 4,
    Rollback = 1 << 5,
    Plan = 1 << 6,
    Time = 1 << 7,
    Context = 1 << 8,
    Approval = 1 << 9,
    Entities = 1 << 10,
}

impl Key {
    fn of(name: &str) -> Option<Key> {
        Some(match name {
            "id" => Key::Id,
            "agent" => Key::Agent,
            "action" => Key::Action,
            "object" => Key::Object,
            "intent" => Key::Intent,
            "rollback" => Key::Rollback,
            "plan" => Key::Plan,
            "time" => Key::Time,
            "context" => Key::Context,
            "approval" => Key::Approval,
            "entities" => Key::Entities,
            _ => return None,
        })
    }
}

/// Reads the envelope against `schema`. Like the derived readers it
/// replaces, it refuses a key not in the contract, a key given twice and a
/// required key left out.
struct EnvelopeSeed<'s> {
    schema: &'s Schema,
    screen: Screen<'s>,
}

impl<'de, 's> DeserializeSeed<'de> for EnvelopeSeed<'s> {
    type Value = RawEnvelope<'de, 's>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 's> Visitor<'de> for EnvelopeSeed<'s> {
    type Value = RawEnvelope<'de, 's>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let (schema, screen) = (self.schema, self.screen);
        let mut seen = 0u16;
        let (mut id, mut agent, mut action, mut object) = (None, None, None, None);
        let (mut intent, mut rollback, mut plan, mut time) = (None, None, None, None);
        let (mut context, mut approval, mut entities) = (None, None, None);
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            let key = Key::of(&name).ok_or_else(|| A::Error::custom("an unknown key"))?;
            if seen & key as u16 != 0 {
                return Err(A::Error::custom("a key given twice"));
            }
            seen |= key as u16;
            match key {
                Key::Id => id = map.next_value()?,
                Key::Agent => agent = Some(map.next_value::<Object<_>>()?.0),
                Key::Action => action = Some(map.next_value_seed(ActionSeed { schema, screen })?),
                Key::Object => {
                    let seed = SubjectSeed {
                        schema,
                        screen,
                        depth: PARAMS_DEPTH,
                    };
                    object = Some(map.next_value_seed(seed)?);
                }
                Key::Intent => intent = map.next_value::<Option<Object<_>>>()?.map(|o| o.0),
                Key::Rollback => rollback = map.next_value::<Option<Object<_>>>()?.map(|o| o.0),
                Key::Plan => plan = map.next_value::<Option<Object<_>>>()?.map(|o| o.0),
                Key::Time => time = Some(map.next_value()?),
                Key::Context => {
                    let defs = Some(&schema.context[..]);
                    context = Some(read_or_keep(&mut map, defs, schema, screen, CONTEXT_DEPTH)?);
                }
                Key::Approval => approval = map.next_value()?,
                Key::Entities => entities = map.next_value_seed(EntitiesSeed { schema, screen })?,
            }
        }
        let missing = || A::Error::custom("a required key is missing");
        Ok(RawEnvelope {
            id,
            agent: agent.ok_or_else(missing)?,
            action: action.ok_or_else(missing)?,
            object: object.ok_or_else(missing)?,
            intent,
            rollback,
            plan,
            time: time.ok_or_else(missing)?,
            context: context.unwrap_or(Fieldset::Text(None)),
            approval,
            entities,
        })
    }
}

/// Reads `action`: its parameters straight into slots when its name came
/// first and names a declared action.
struct ActionSeed<'s> {
    schema: &'s Schema,
    screen: Screen<'s>,
}

impl<'de, 's> DeserializeSeed<'de> for ActionSeed<'s> {
    type Value = RawAction<'de, 's>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 's> Visitor<'de> for ActionSeed<'s> {
    type Value = RawAction<'de, 's>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an action")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let schema = self.schema;
        let (mut name, mut params): (Option<Text<'de>>, _) = (None, None);
        let mut id = None;
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            match &*key {
                "name" if name.is_none() => name = Some(map.next_value()?),
                "params" if params.is_none() => {
                    id = name.as_ref().and_then(|n| schema.action_id(&n.0));
                    let defs = id.map(|a| &schema.action(a).params[..]);
                    params = Some(read_or_keep(
                        &mut map,
                        defs,
                        schema,
                        self.screen,
                        PARAMS_DEPTH,
                    )?);
                }
                _ => return Err(A::Error::custom("an unknown key, or one given twice")),
            }
        }
        Ok(RawAction {
            name: name.ok_or_else(|| A::Error::custom("no name"))?,
            id,
            params: params.unwrap_or(Fieldset::Text(None)),
        })
    }
}

/// Reads `object` or a related entity: its attributes straight into slots
/// when its type came first and names a declared entity.
#[derive(Clone, Copy)]
struct SubjectSeed<'s> {
    schema: &'s Schema,
    screen: Screen<'s>,
    /// How deep its attributes sit.
    depth: usize,
}

impl<'de, 's> DeserializeSeed<'de> for SubjectSeed<'s> {
    type Value = RawSubject<'de, 's>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 's> Visitor<'de> for SubjectSeed<'s> {
    type Value = RawSubject<'de, 's>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let schema = self.schema;
        let (mut ty, mut id, mut attrs): (Option<Text<'de>>, Option<Text<'de>>, _) =
            (None, None, None);
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            match &*key {
                "type" if ty.is_none() => ty = Some(map.next_value()?),
                "id" if id.is_none() => id = Some(map.next_value()?),
                "attrs" if attrs.is_none() => {
                    let defs = ty
                        .as_ref()
                        .and_then(|t| schema.entities.get(&*t.0))
                        .map(|e| &e.attrs[..]);
                    attrs = Some(read_or_keep(
                        &mut map,
                        defs,
                        schema,
                        self.screen,
                        self.depth,
                    )?);
                }
                _ => return Err(A::Error::custom("an unknown key, or one given twice")),
            }
        }
        let missing = || A::Error::custom("a required key is missing");
        Ok(RawSubject {
            ty: ty.ok_or_else(missing)?,
            id: id.ok_or_else(missing)?,
            attrs: attrs.unwrap_or(Fieldset::Text(None)),
        })
    }
}

/// Reads `entities`: a list of [`SubjectSeed`]s, or `null`.
struct EntitiesSeed<'s> {
    schema: &'s Schema,
    screen: Screen<'s>,
}

impl<'de, 's> DeserializeSeed<'de> for EntitiesSeed<'s> {
    type Value = Option<Vec<RawSubject<'de, 's>>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, 's> Visitor<'de> for EntitiesSeed<'s> {
    type Value = Option<Vec<RawSubject<'de, 's>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of entities")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self).map(Some).map(Option::flatten)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let seed = SubjectSeed {
            schema: self.schema,
            screen: self.screen,
            depth: ENTITY_ATTRS_DEPTH,
        };
        // How many there may be is the screen's rule, checked with the
        // frame's strings (`strings_pass`).
        let mut entities = Vec::new();
        while let Some(entity) = seq.next_element_seed(seed)? {
            entities.push(entity);
        }
        Ok(Some(entities))
    }
}

/// [`FieldsVisitor`] as a seed, for a value read in place.
struct FieldsSeed<'s>(FieldsVisitor<'s>);

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = Vec<Option<Value>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0)
    }
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
    let screen = Screen {
        limits,
        plain: no_control_character_possible(bytes),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let mut raw = EnvelopeSeed { schema, screen }
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw))
        .map_err(|_| Refused)?;
    if !raw.strings_pass(screen) {
        return Err(Refused);
    }
    // The field objects are taken out, to be bound as the parts ask.
    let (mut params, mut attrs, mut context) = (
        raw.action.params.take(),
        raw.object.attrs.take(),
        raw.context.take(),
    );
    let mut related: Vec<Fieldset<'_, '_>> = raw
        .entities
        .iter_mut()
        .flatten()
        .map(|e| e.attrs.take())
        .collect();
    let parts = Parts {
        id: raw.id.as_ref().map(|t| &*t.0),
        agent: &raw.agent.id,
        owner: &raw.agent.owner,
        workflow: &raw.agent.workflow,
        action: &raw.action.name.0,
        action_id: raw.action.id,
        object_type: &raw.object.ty.0,
        object_id: &raw.object.id.0,
        intent: raw.intent.as_ref().map(|i| (&*i.goal, i.confidence)),
        rollback: raw.rollback.as_ref(),
        plan: raw.plan.as_ref(),
        time: &raw.time.0,
        approval: raw.approval.as_ref().map(|t| &*t.0),
        entities: raw
            .entities
            .iter()
            .flatten()
            .map(|e| (&*e.ty.0, &*e.id.0))
            .collect(),
    };
    let mut read = |fields: Fields, defs: &[FieldDef]| match fields {
        Fields::Params => params.bind(defs, schema, screen, PARAMS_DEPTH),
        Fields::Attrs => attrs.bind(defs, schema, screen, PARAMS_DEPTH),
        Fields::Context => context.bind(defs, schema, screen, CONTEXT_DEPTH),
        Fields::Entity(i) => match related.get_mut(i) {
            Some(set) => set.bind(defs, schema, screen, ENTITY_ATTRS_DEPTH),
            None => absent_fields(defs),
        },
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

impl RawEnvelope<'_, '_> {
    /// Whether every string of the envelope's frame passes the screen; the
    /// agent's goal is free text.
    fn strings_pass(&self, screen: Screen<'_>) -> bool {
        let rollback = self.rollback.as_ref();
        let strings = [
            self.id.as_ref().map(|t| &*t.0),
            Some(&*self.agent.id),
            Some(&*self.agent.owner),
            Some(&*self.agent.workflow),
            Some(&*self.action.name.0),
            Some(&*self.object.ty.0),
            Some(&*self.object.id.0),
            rollback.map(|r| r.kind.as_str()),
            rollback.and_then(|r| r.action.as_deref()),
            rollback.and_then(|r| r.within.as_deref()),
            self.plan.as_ref().map(|p| p.id.as_str()),
            Some(&*self.time.0),
            self.approval.as_ref().map(|t| &*t.0),
        ];
        let goal = self.intent.as_ref().map(|i| &*i.goal);
        let entities = self.entities.as_deref().unwrap_or_default();
        let entity_strings = entities.iter().flat_map(|e| [&*e.ty.0, &*e.id.0]);
        entities.len() <= screen.limits.max_array
            && strings
                .into_iter()
                .flatten()
                .chain(entity_strings)
                .all(|text| screen.passes(text, false))
            && goal.is_none_or(|text| screen.passes(text, true))
    }
}

/// The screen's rules on strings as this reader applies them.
#[derive(Clone, Copy)]
struct Screen<'s> {
    limits: &'s EnvelopeLimits,
    /// Whether no string of the text can hold a control character, so
    /// only lengths are left to check (see
    /// [`no_control_character_possible`]).
    plain: bool,
}

impl Screen<'_> {
    /// Whether `text` passes the screen; free text may hold a tab or a
    /// line break.
    fn passes(&self, text: &str, free_text: bool) -> bool {
        if self.plain {
            text.len() <= self.limits.max_string
        } else {
            string_passes(text, self.limits, free_text)
        }
    }
}

/// Whether no string read from `bytes` can hold a control character. A
/// JSON string holds one only raw or escaped: raw, `U+0000`–`U+001F` are
/// refused by the parser itself, `U+007F` is the byte 0x7F and
/// `U+0080`–`U+009F` begin with 0xC2; every escape begins with a
/// backslash. Text with none of those three bytes (nearly every envelope)
/// is screened for control characters by one scan of the whole, rather
/// than one scan of each string.
fn no_control_character_possible(bytes: &[u8]) -> bool {
    memchr::memchr3(0x7f, 0xc2, b'\\', bytes).is_none()
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
    screen: Screen<'s>,
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
        if self.depth > self.screen.limits.max_depth {
            return Err(A::Error::custom("too deep"));
        }
        let mut slots: Vec<Option<Value>> = vec![None; self.defs.len()];
        // A key given as `null` leaves its slot empty, so what was given is
        // kept apart from what was read.
        let mut given = Given::new(self.defs.len());
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
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
            if given.count > self.screen.limits.max_keys
                || key.len() > self.screen.limits.max_string
            {
                return Err(A::Error::custom("past a limit"));
            }
            let def = &self.defs[slot];
            slots[slot] = map.next_value_seed(Typed {
                ty: &def.ty,
                zone: def.zone,
                schema: self.schema,
                screen: self.screen,
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

/// A string or an object's key, borrowed from the text unless it holds an
/// escape. (`Cow<str>` deserialises owned, but for a derived field marked
/// `borrow`: a key or an optional string would each allocate.)
struct Text<'de>(Cow<'de, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(TextVisitor(std::marker::PhantomData))
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
    screen: Screen<'s>,
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
        if !self.screen.passes(s, false) {
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
        if self.depth > self.screen.limits.max_depth {
            return Err(A::Error::custom("too deep"));
        }
        let item = Typed {
            ty: elem,
            depth: self.depth + 1,
            ..self
        };
        let most = self
            .screen
            .limits
            .max_array
            .min(crate::envelope::MAX_ELEMENTS);
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
            screen: self.screen,
            depth: self.depth,
        }
        .visit_map(map)?;
        Ok(Some(Value::Record(fields.into())))
    }
}
