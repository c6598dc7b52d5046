//! The action envelope (docs/language.md, "The envelope"): its JSON form, and its
//! binding against a schema into typed slots the evaluators read.
//!
//! Binding is where untrusted input meets the schema: every field that does
//! not fit is an [`EnvelopeError`] naming its JSON path.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::amount;
use crate::envelope_errors;
pub use crate::envelope_screen::{screen_envelope, screen_json, EnvelopeLimits, FREE_TEXT};
use crate::error::{ErrorCode, EvalError};
use crate::ids::{ActionId, RecordId};
use crate::schema::{FieldDef, KeyKind, Schema};
use crate::suggest::did_you_mean;
use crate::types::Type;
use crate::value::{parse_duration, parse_timestamp, Value};
use crate::zones::{local_reading, parse_timestamp_in, Zone};

pub use crate::related::Related;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(deserialize_with = "crate::json_object::object")]
    pub agent: AgentInfo,
    #[serde(deserialize_with = "crate::json_object::object")]
    pub action: ActionInfo,
    #[serde(deserialize_with = "crate::json_object::object")]
    pub object: ObjectInfo,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::json_object::optional"
    )]
    pub intent: Option<IntentInfo>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::json_object::optional"
    )]
    pub rollback: Option<RollbackInfo>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::json_object::optional"
    )]
    pub plan: Option<PlanInfo>,
    /// RFC 3339.
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Json>>,
    /// The id of a granted approval, when the agent resubmits an escalated
    /// action (read by a store; see [`crate::approval`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// Related entities, by type and id: what a reference attribute
    /// (`object.vendor`) resolves to.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::json_object::optional_list"
    )]
    pub entities: Option<Vec<ObjectInfo>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentInfo {
    pub id: String,
    pub owner: String,
    pub workflow: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInfo {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub params: Map<String, Json>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectInfo {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub attrs: Map<String, Json>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentInfo {
    pub goal: String,
    /// From 0 to 1.
    pub confidence: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackInfo {
    /// `revert`, `compensate`, `snapshot`…: free text the policy may test.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// A duration such as `15m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInfo {
    pub id: String,
    pub step: i64,
}

/// `"params": null` reads as no parameters, like a missing `params`.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Map<String, Json>, D::Error> {
    Ok(Option::<Map<String, Json>>::deserialize(d)?.unwrap_or_default())
}

/// An envelope that does not fit the contract or the schema.
#[derive(Clone, Debug)]
pub struct EnvelopeError {
    /// The stable code, one of the `actpol::envelope::*` family.
    pub code: ErrorCode,
    /// JSON path of the offending field, such as `$.action.params.recipients`.
    pub path: String,
    /// What is wrong, for people.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The JSON reader's error, when the bytes did not read as an envelope.
    source: Option<Arc<serde_json::Error>>,
}

/// Two envelope errors are equal when they say the same thing; the JSON
/// reader's error they may carry is not compared.
impl PartialEq for EnvelopeError {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.path == other.path
            && self.message == other.message
            && self.help == other.help
    }
}

impl Eq for EnvelopeError {}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at `{}`", self.message, self.path)
    }
}

impl std::error::Error for EnvelopeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl miette::Diagnostic for EnvelopeError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

impl EnvelopeError {
    pub(crate) fn new(
        code: ErrorCode,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        EnvelopeError {
            code,
            path: path.into(),
            message: message.into(),
            help: None,
            source: None,
        }
    }

    /// An envelope bound against another policy's schema, for the action
    /// it names: its slots are not this policy's to read.
    pub fn foreign(action: &str) -> Self {
        EnvelopeError::new(
            ErrorCode::EnvelopeForeign,
            "$.action.name",
            format!("the envelope was bound against another policy's schema (action `{action}`)"),
        )
    }

    /// The envelope's stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn set_source(&mut self, source: Arc<serde_json::Error>) {
        self.source = Some(source);
    }
}

impl Envelope {
    /// Reads an envelope from JSON bytes, screened under the default
    /// [`EnvelopeLimits`]; errors name the JSON path.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        Envelope::from_json_within(bytes, &EnvelopeLimits::DEFAULT)
    }

    /// Reads an envelope from JSON bytes, screened under `limits` (no
    /// duplicate key, no control character, nothing past a limit).
    pub fn from_json_within(
        bytes: &[u8],
        limits: &EnvelopeLimits,
    ) -> Result<Envelope, EnvelopeError> {
        screen_json(bytes, limits)?;
        Envelope::read_screened(bytes)
    }

    /// Reads bytes the screen has passed already.
    pub(crate) fn read_screened(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let whole = crate::json_object::ObjectOnly(&mut de);
        let env: Envelope = serde_path_to_error::deserialize(whole).map_err(|err| {
            let path = err.path().clone();
            envelope_errors::classify(bytes, &path, err.into_inner())
        })?;
        de.end()
            .map_err(|e| envelope_errors::malformed("$".to_string(), e))?;
        Ok(env)
    }
}

/// An envelope checked against the schema, its values in typed slots.
#[derive(Clone, Debug)]
pub struct BoundEnvelope {
    /// The envelope's own `id`, if it gave one.
    pub id: Option<Arc<str>>,
    pub agent_id: Arc<str>,
    pub owner: Arc<str>,
    pub workflow: Arc<str>,
    pub action: ActionId,
    /// The action's name as the envelope gave it: ties `action` to the
    /// schema the envelope was bound against.
    pub action_name: Arc<str>,
    /// One slot per parameter the action declares, in declaration order.
    pub params: Vec<Option<Value>>,
    pub object_id: Arc<str>,
    /// One slot per attribute the object's entity declares.
    pub attrs: Vec<Option<Value>>,
    pub intent: Option<(Arc<str>, Decimal)>,
    pub rollback: Option<BoundRollback>,
    pub plan: Option<(Arc<str>, i64)>,
    /// Milliseconds since the epoch.
    pub time: i64,
    /// One slot per field of the schema's `context`.
    pub context: Vec<Option<Value>>,
    /// The approval the agent presents, if any.
    pub approval: Option<Arc<str>>,
    /// The related entities, bound to their declarations.
    pub entities: Related,
    /// The envelope as received, for exception packets.
    source: EnvelopeCopy,
    /// Budget and window keys, each built the first time it is asked for:
    /// rules, budgets and windows of one decision share them.
    keys: [OnceLock<Box<str>>; KeyKind::COUNT],
}

/// An envelope as received: the parsed envelope, or the JSON text it
/// arrived as. A bound envelope keeps it as its source, and an exception
/// packet carries a copy (sharing it, not copying the text). JSON text is
/// read into an [`Envelope`] only if someone asks for one: decisions never
/// need to.
#[derive(Clone, Debug)]
pub enum EnvelopeCopy {
    Parsed(Arc<Envelope>),
    Json(EnvelopeText),
}

impl EnvelopeCopy {
    /// The copy of an envelope read from `text`.
    pub(crate) fn json(text: &str) -> EnvelopeCopy {
        EnvelopeCopy::Json(EnvelopeText::new(Arc::from(text)))
    }
}

/// An envelope's JSON text as it was bound, and the envelope read from it
/// the first time anyone asks: the bound envelope and every packet copied
/// from it share that one reading.
#[derive(Clone, Debug)]
pub struct EnvelopeText {
    text: Arc<str>,
    read: Arc<OnceLock<Option<Arc<Envelope>>>>,
}

impl EnvelopeText {
    fn new(text: Arc<str>) -> EnvelopeText {
        EnvelopeText {
            text,
            read: Arc::new(OnceLock::new()),
        }
    }

    /// The text, as received.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The envelope the text holds, read once.
    fn envelope(&self) -> Option<Arc<Envelope>> {
        // The text passed a reader (and the screen's rules) that accepts
        // no more than this one, perhaps under wider limits than the
        // defaults, so it is read without the screen or path tracking.
        self.read
            .get_or_init(|| serde_json::from_str(&self.text).ok().map(Arc::new))
            .clone()
    }
}

impl EnvelopeCopy {
    /// The envelope itself (reads JSON text if that is what is held, once).
    pub fn envelope(&self) -> Option<Arc<Envelope>> {
        match self {
            EnvelopeCopy::Parsed(env) => Some(Arc::clone(env)),
            EnvelopeCopy::Json(text) => text.envelope(),
        }
    }
}

impl PartialEq for EnvelopeCopy {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EnvelopeCopy::Json(a), EnvelopeCopy::Json(b)) if a.text == b.text => true,
            _ => self.envelope() == other.envelope(),
        }
    }
}

impl Serialize for EnvelopeCopy {
    /// Written as the parsed envelope either way, so a packet reads the
    /// same whichever reader bound it. Text is read only here, when a
    /// packet is written out, never while deciding.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.envelope() {
            Some(env) => env.serialize(s),
            None => Err(serde::ser::Error::custom(
                "the envelope text no longer reads",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for EnvelopeCopy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(EnvelopeCopy::Parsed(Arc::new(Envelope::deserialize(d)?)))
    }
}

impl PartialEq for BoundEnvelope {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.agent_id == other.agent_id
            && self.owner == other.owner
            && self.workflow == other.workflow
            && self.action == other.action
            && self.action_name == other.action_name
            && self.params == other.params
            && self.object_id == other.object_id
            && self.attrs == other.attrs
            && self.intent == other.intent
            && self.rollback == other.rollback
            && self.plan == other.plan
            && self.time == other.time
            && self.context == other.context
            && self.approval == other.approval
            && self.entities == other.entities
            && self.raw() == other.raw()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BoundRollback {
    pub kind: Arc<str>,
    pub action: Option<Arc<str>>,
    /// Milliseconds.
    pub within: Option<i64>,
    /// `within` as the agent wrote it, for packets.
    pub within_text: Option<Arc<str>>,
}

/// The parts of an envelope both readers (of an [`Envelope`] and of JSON
/// bytes) hold in the same form.
pub(crate) struct Parts<'e> {
    pub(crate) id: Option<&'e str>,
    pub(crate) agent: &'e str,
    pub(crate) owner: &'e str,
    pub(crate) workflow: &'e str,
    pub(crate) action: &'e str,
    /// The action, if the reader has already looked `action` up in the
    /// schema (it must be that name's id).
    pub(crate) action_id: Option<ActionId>,
    pub(crate) object_type: &'e str,
    pub(crate) object_id: &'e str,
    /// The intent's goal and confidence.
    pub(crate) intent: Option<(&'e str, f64)>,
    pub(crate) rollback: Option<&'e RollbackInfo>,
    pub(crate) plan: Option<&'e PlanInfo>,
    pub(crate) time: &'e str,
    pub(crate) approval: Option<&'e str>,
    /// The type and id of each related entity, in the order given.
    pub(crate) entities: Vec<(&'e str, &'e str)>,
}

/// Binds the fields of one object (params, attrs or context) to their
/// declarations; the two readers differ only here.
pub(crate) type FieldReader<'r, E> =
    &'r mut dyn FnMut(Fields, &[FieldDef]) -> Result<Vec<Option<Value>>, E>;

/// Which object of the envelope a field list comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fields {
    Params,
    Attrs,
    Context,
    /// The attributes of the related entity at this index of `entities`.
    Entity(usize),
}

impl Fields {
    fn path(self) -> String {
        match self {
            Fields::Params => "$.action.params".into(),
            Fields::Attrs => "$.object.attrs".into(),
            Fields::Context => "$.context".into(),
            Fields::Entity(i) => format!("$.entities[{i}].attrs"),
        }
    }

    fn unknown_code(self) -> ErrorCode {
        match self {
            Fields::Params => ErrorCode::EnvelopeUnknownParam,
            Fields::Attrs | Fields::Entity(_) => ErrorCode::EnvelopeUnknownAttribute,
            Fields::Context => ErrorCode::EnvelopeUnknownContext,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Fields::Params => "parameter",
            Fields::Attrs | Fields::Entity(_) => "attribute",
            Fields::Context => "context field",
        }
    }
}

impl BoundEnvelope {
    /// Binds `env` against `schema`, screened under the default
    /// [`EnvelopeLimits`].
    pub fn bind(env: Envelope, schema: &Schema) -> Result<BoundEnvelope, EnvelopeError> {
        BoundEnvelope::bind_within(env, schema, &EnvelopeLimits::DEFAULT)
    }

    /// Binds `env` against `schema`, screened under `limits`.
    pub fn bind_within(
        env: Envelope,
        schema: &Schema,
        limits: &EnvelopeLimits,
    ) -> Result<BoundEnvelope, EnvelopeError> {
        screen_envelope(&env, limits)?;
        BoundEnvelope::bind_screened(env, schema)
    }

    fn bind_screened(env: Envelope, schema: &Schema) -> Result<BoundEnvelope, EnvelopeError> {
        let env = Arc::new(env);
        let empty = Map::new();
        let related = env.entities.as_deref().unwrap_or_default();
        let mut read = |fields: Fields, defs: &[FieldDef]| {
            let given = match fields {
                Fields::Params => &env.action.params,
                Fields::Attrs => &env.object.attrs,
                Fields::Context => env.context.as_ref().unwrap_or(&empty),
                Fields::Entity(i) => related.get(i).map_or(&empty, |e| &e.attrs),
            };
            bind_fields(given, defs, schema, fields)
        };
        let parts = Parts {
            id: env.id.as_deref(),
            agent: &env.agent.id,
            owner: &env.agent.owner,
            workflow: &env.agent.workflow,
            action: &env.action.name,
            action_id: None,
            object_type: &env.object.ty,
            object_id: &env.object.id,
            intent: env.intent.as_ref().map(|i| (i.goal.as_str(), i.confidence)),
            rollback: env.rollback.as_ref(),
            plan: env.plan.as_ref(),
            time: &env.time,
            approval: env.approval.as_deref(),
            entities: related
                .iter()
                .map(|e| (e.ty.as_str(), e.id.as_str()))
                .collect(),
        };
        assemble(
            &parts,
            schema,
            &mut read,
            EnvelopeCopy::Parsed(Arc::clone(&env)),
        )
    }

    /// Reads and binds JSON bytes, screened under the default
    /// [`EnvelopeLimits`].
    pub fn from_json(bytes: &[u8], schema: &Schema) -> Result<BoundEnvelope, EnvelopeError> {
        BoundEnvelope::from_json_within(bytes, schema, &EnvelopeLimits::DEFAULT)
    }

    /// Reads and binds JSON bytes under `limits`. The fast reader borrows
    /// the text, holds it to the screen's rules and binds values straight
    /// into slots, in one pass; anything it refuses is screened and read
    /// again by the reader of [`Envelope`], whose errors name the JSON path.
    pub fn from_json_within(
        bytes: &[u8],
        schema: &Schema,
        limits: &EnvelopeLimits,
    ) -> Result<BoundEnvelope, EnvelopeError> {
        match crate::envelope_bytes::bind(bytes, schema, limits) {
            Ok(bound) => Ok(bound),
            Err(crate::envelope_bytes::Refused) => {
                screen_json(bytes, limits)?;
                BoundEnvelope::bind_screened(Envelope::read_screened(bytes)?, schema)
            }
        }
    }

    /// Whether this envelope was bound against `schema` (and not another
    /// policy's): its action id names the same action there.
    pub fn is_bound_to(&self, schema: &Schema) -> bool {
        schema
            .actions
            .get_index(self.action.index())
            .is_some_and(|(name, _)| **name == *self.action_name)
    }

    /// The envelope as received.
    pub fn raw(&self) -> Arc<Envelope> {
        // INVARIANT: text was read as an envelope already, by a reader that
        // accepts no more than this one.
        self.source
            .envelope()
            .unwrap_or_else(|| Arc::new(self.sketch()))
    }

    /// The envelope as received, without reading JSON text again.
    pub fn copy(&self) -> EnvelopeCopy {
        self.source.clone()
    }

    /// An envelope rebuilt from what was bound, should the bytes not read.
    fn sketch(&self) -> Envelope {
        Envelope {
            id: None,
            agent: AgentInfo {
                id: self.agent_id.to_string(),
                owner: self.owner.to_string(),
                workflow: self.workflow.to_string(),
            },
            action: ActionInfo {
                name: String::new(),
                params: Map::new(),
            },
            object: ObjectInfo {
                ty: String::new(),
                id: self.object_id.to_string(),
                attrs: Map::new(),
            },
            intent: None,
            rollback: None,
            plan: None,
            time: crate::value::format_timestamp(self.time),
            context: None,
            approval: self.approval.as_deref().map(str::to_string),
            entities: None,
        }
    }

    /// `sha256:<hex>` over the envelope as sent, less `approval` and
    /// `time`: what an approval is bound to (see [`crate::approval`]).
    pub fn canonical_hash(&self) -> String {
        canonical_hash(&self.raw())
    }

    /// The key a budget or window of this kind counts under:
    /// `agent:growth-bot`, `object:Sequence/seq-42`… Built once per
    /// envelope and kind.
    pub fn key(&self, kind: KeyKind, schema: &Schema) -> Result<&str, EvalError> {
        let slot = &self.keys[kind.index()];
        if let Some(key) = slot.get() {
            return Ok(key);
        }
        let key = self.key_text(kind, schema)?.into_boxed_str();
        Ok(slot.get_or_init(|| key))
    }

    fn key_text(&self, kind: KeyKind, schema: &Schema) -> Result<String, EvalError> {
        Ok(match kind {
            KeyKind::Agent => format!("agent:{}", self.agent_id),
            KeyKind::Workflow => format!("workflow:{}", self.workflow),
            KeyKind::Owner => format!("owner:{}", self.owner),
            KeyKind::Object => format!(
                "object:{}/{}",
                schema.entity_name(schema.action(self.action).object),
                self.object_id
            ),
            KeyKind::Plan => match &self.plan {
                Some((id, _)) => format!("plan:{id}"),
                None => return Err(EvalError::NoPlan),
            },
        })
    }
}

/// Builds a bound envelope from its parts; `read` binds the three field
/// objects.
pub(crate) fn assemble<E: From<EnvelopeError>>(
    p: &Parts<'_>,
    schema: &Schema,
    read: FieldReader<'_, E>,
    source: EnvelopeCopy,
) -> Result<BoundEnvelope, E> {
    let action = p.action_id.or_else(|| schema.action_id(p.action));
    let action = action.ok_or_else(|| {
        let names = schema.actions.keys().map(String::as_str);
        let mut err = EnvelopeError::new(
            ErrorCode::EnvelopeUnknownAction,
            "$.action.name",
            format!("unknown action `{}`", p.action),
        );
        err.help = Some(match did_you_mean(p.action, names) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "the action must be declared in the policy's schema".to_string(),
        });
        err
    })?;
    let def = schema.action(action);
    let entity_name = schema.entity_name(def.object);
    if p.object_type != entity_name {
        return Err(E::from(
            EnvelopeError::new(
                ErrorCode::EnvelopeObjectType,
                "$.object.type",
                format!(
                    "action `{}` acts on `{entity_name}`, not `{}`",
                    p.action, p.object_type
                ),
            )
            .help(format!("set `object.type` to `{entity_name}`")),
        ));
    }
    let params = read(Fields::Params, &def.params)?;
    let attrs = read(Fields::Attrs, &schema.entity(def.object).attrs)?;
    let context = read(Fields::Context, &schema.context)?;
    let entities = crate::related::bind(p, schema, &mut *read)?;
    let time = parse_timestamp(p.time).ok_or_else(|| {
        EnvelopeError::new(
            ErrorCode::EnvelopeBadValue,
            "$.time",
            crate::value::timestamp_problem(p.time),
        )
        .help("write the time as `2026-11-25T14:00:00Z`")
    })?;
    let intent = match p.intent {
        None => None,
        Some((goal, confidence)) => {
            if !(0.0..=1.0).contains(&confidence) {
                return Err(E::from(EnvelopeError::new(
                    ErrorCode::EnvelopeBadValue,
                    "$.intent.confidence",
                    format!("confidence {confidence} is outside 0..1"),
                )));
            }
            let confidence = amount::from_f64(confidence).ok_or_else(|| {
                EnvelopeError::new(
                    ErrorCode::EnvelopeBadValue,
                    "$.intent.confidence",
                    "confidence is not a decimal number",
                )
            })?;
            Some((Arc::from(goal), confidence))
        }
    };
    let rollback = match p.rollback {
        None => None,
        Some(r) => Some(BoundRollback {
            kind: Arc::from(r.kind.as_str()),
            action: r.action.as_deref().map(Arc::from),
            within: match &r.within {
                None => None,
                Some(text) => Some(parse_duration(text).ok_or_else(|| {
                    EnvelopeError::new(
                        ErrorCode::EnvelopeBadValue,
                        "$.rollback.within",
                        format!("`{text}` is not a duration"),
                    )
                    .help("write a duration such as `15m` or `1h30m`")
                })?),
            },
            within_text: r.within.as_deref().map(Arc::from),
        }),
    };
    Ok(BoundEnvelope {
        id: p.id.map(Arc::from),
        agent_id: Arc::from(p.agent),
        owner: Arc::from(p.owner),
        workflow: Arc::from(p.workflow),
        action,
        action_name: Arc::from(p.action),
        params,
        object_id: Arc::from(p.object_id),
        attrs,
        intent,
        rollback,
        plan: p.plan.map(|plan| (Arc::from(plan.id.as_str()), plan.step)),
        time,
        context,
        approval: p.approval.map(Arc::from),
        entities,
        source,
        keys: Default::default(),
    })
}

/// `sha256:<hex>` of an envelope's canonical JSON, less `approval` (which
/// names the approval, so cannot be part of what it approves) and `time`
/// (the agent's claim of when it sends, which a resubmission changes; the
/// host's clock decides anyway). Object keys are sorted and whitespace
/// dropped, so the same envelope written two ways hashes the same; a
/// changed value, or a value written in another form (`12.5` for
/// `"12.50 USD"`), hashes differently.
pub fn canonical_hash(env: &Envelope) -> String {
    use sha2::{Digest, Sha256};
    let mut bare = env.clone();
    bare.approval = None;
    bare.time = String::new();
    // INVARIANT: an `Envelope` always serialises (its maps have string keys).
    let json = serde_json::to_value(&bare).unwrap_or(Json::Null);
    let mut text = String::new();
    crate::canonical::write(&json, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    format!("sha256:{}", crate::canonical::hex(&digest))
}

fn bind_fields(
    given: &Map<String, Json>,
    defs: &[FieldDef],
    schema: &Schema,
    fields: Fields,
) -> Result<Vec<Option<Value>>, EnvelopeError> {
    let path = fields.path();
    bind_object(given, defs, schema, Owner::Envelope(fields), &|| {
        path.clone()
    })
}

/// Whose fields an object holds, for the errors that name them.
#[derive(Clone, Copy)]
enum Owner<'a> {
    /// The envelope's parameters, attributes or context.
    Envelope(Fields),
    /// A value of the record type of this name.
    Record(&'a str),
}

impl Owner<'_> {
    fn unknown(self, path: String, name: &str) -> EnvelopeError {
        match self {
            Owner::Envelope(fields) => EnvelopeError::new(
                fields.unknown_code(),
                path,
                format!("unknown {} `{name}`", fields.what()),
            ),
            Owner::Record(record) => EnvelopeError::new(
                ErrorCode::EnvelopeUnknownField,
                path,
                format!("`{record}` has no field `{name}`"),
            ),
        }
    }

    /// The help for an unknown name nothing declared resembles.
    fn none_declared(self) -> String {
        match self {
            Owner::Envelope(fields) => {
                format!("the schema declares no {} of that name", fields.what())
            }
            Owner::Record(record) => format!("the record type `{record}` declares no such field"),
        }
    }

    fn missing(self, name: &str) -> String {
        match self {
            Owner::Envelope(fields) => format!("missing {} `{name}`", fields.what()),
            Owner::Record(record) => format!("missing field `{name}` of `{record}`"),
        }
    }
}

/// Binds the fields of an object to their declarations, in declaration
/// order: an unknown name, or a required field absent or null, is an error
/// naming its path.
fn bind_object(
    given: &Map<String, Json>,
    defs: &[FieldDef],
    schema: &Schema,
    owner: Owner<'_>,
    path: &dyn Fn() -> String,
) -> Result<Vec<Option<Value>>, EnvelopeError> {
    for name in given.keys() {
        if !defs.iter().any(|d| schema.field_name(d.name) == name) {
            let names = defs.iter().map(|d| schema.field_name(d.name));
            let err = owner.unknown(format!("{}.{name}", path()), name);
            return Err(match did_you_mean(name, names) {
                Some(best) => err.help(format!("did you mean `{best}`?")),
                None => err.help(owner.none_declared()),
            });
        }
    }
    defs.iter()
        .map(|def| {
            let name = schema.field_name(def.name);
            let field_path = || format!("{}.{name}", path());
            match given.get(name) {
                None | Some(Json::Null) if def.optional => Ok(None),
                None | Some(Json::Null) => Err(EnvelopeError::new(
                    ErrorCode::EnvelopeMissingField,
                    field_path(),
                    owner.missing(name),
                )
                .help(format!(
                    "`{name}` is required: {}",
                    describe(&def.ty, schema)
                ))),
                Some(json) => {
                    let value = value_at(json, &def.ty, def.zone, schema, &field_path)?;
                    within_bounds(value, def, schema, &field_path).map(Some)
                }
            }
        })
        .collect()
}

/// `value`, if its field's bounds admit it.
fn within_bounds(
    value: Value,
    def: &FieldDef,
    schema: &Schema,
    path: &dyn Fn() -> String,
) -> Result<Value, EnvelopeError> {
    match (&def.bounds, value.as_amount()) {
        (Some(bounds), Some(n)) if !bounds.admits(n) => {
            let name = schema.field_name(def.name);
            let declared = format!(
                "{}: {} in {}",
                name,
                schema.type_name(&def.ty),
                bounds.text(&def.ty)
            );
            Err(EnvelopeError::new(
                ErrorCode::EnvelopeOutOfRange,
                path(),
                format!("`{n}` is outside the bounds `{}`", bounds.text(&def.ty)),
            )
            .help(format!(
                "the schema declares `{declared}`: send a value within them"
            )))
        }
        _ => Ok(value),
    }
}

/// Converts JSON to a value of the field `def`'s type, as an envelope's
/// field would be (its bounds aside); the error names `path`.
pub fn bind_value(
    json: &Json,
    def: &FieldDef,
    schema: &Schema,
    path: &str,
) -> Result<Value, EnvelopeError> {
    value_at(json, &def.ty, def.zone, schema, &|| path.to_string())
}

/// Converts JSON to a value of type `ty`, offset-less timestamps read in
/// `zone`; errors name the path, built only if an error needs it.
fn value_at(
    json: &Json,
    ty: &Type,
    zone: Option<Zone>,
    schema: &Schema,
    path: &dyn Fn() -> String,
) -> Result<Value, EnvelopeError> {
    let wrong = || {
        EnvelopeError::new(
            ErrorCode::EnvelopeWrongType,
            path(),
            format!(
                "expected {}, found {}",
                describe(ty, schema),
                json_kind(json)
            ),
        )
    };
    Ok(match ty {
        Type::Bool => Value::Bool(json.as_bool().ok_or_else(wrong)?),
        Type::Int => Value::Int(json.as_i64().ok_or_else(wrong)?),
        Type::Decimal => Value::Decimal(json_decimal(json).ok_or_else(wrong)?),
        Type::Money(currency) => {
            let amount = match json {
                Json::String(s) => {
                    let (num, cur) = amount::split_unit(s);
                    let cur = cur.unwrap_or(currency.as_str());
                    if cur != currency.as_str() {
                        return Err(EnvelopeError::new(
                            ErrorCode::EnvelopeCurrency,
                            path(),
                            format!("expected an amount in {currency}, found {cur}"),
                        ));
                    }
                    amount::from_text(num)
                }
                other => json_decimal(other),
            };
            Value::Money(amount.ok_or_else(wrong)?)
        }
        Type::Duration => {
            let text = json.as_str().ok_or_else(wrong)?;
            Value::Duration(parse_duration(text).ok_or_else(|| {
                EnvelopeError::new(
                    ErrorCode::EnvelopeBadValue,
                    path(),
                    format!("`{text}` is not a duration"),
                )
                .help("write a duration such as `15m` or `1h30m`")
            })?)
        }
        Type::Timestamp => {
            let text = json.as_str().ok_or_else(wrong)?;
            Value::Timestamp(
                parse_timestamp_in(text, zone).ok_or_else(|| not_a_timestamp(text, path()))?,
            )
        }
        Type::String => Value::String(Arc::from(json.as_str().ok_or_else(wrong)?)),
        Type::Entity(_) => Value::Ref(Arc::from(json.as_str().ok_or_else(wrong)?)),
        Type::Enum(id) => {
            let text = json.as_str().ok_or_else(wrong)?;
            let def = schema.enum_def(*id);
            match def.variant(text) {
                Some(v) => Value::Enum(v),
                None => {
                    let err = EnvelopeError::new(
                        ErrorCode::EnvelopeUnknownVariant,
                        path(),
                        format!("`{text}` is not a variant of `{}`", schema.enum_name(*id)),
                    );
                    return Err(
                        match did_you_mean(text, def.variants.iter().map(String::as_str)) {
                            Some(best) => err.help(format!("did you mean `{best}`?")),
                            None => err.help(format!("one of: {}", def.variants.join(", "))),
                        },
                    );
                }
            }
        }
        Type::Set(elem) | Type::List(elem) => {
            let items = json.as_array().ok_or_else(wrong)?;
            if items.len() > MAX_ELEMENTS {
                return Err(too_long(path(), items.len()));
            }
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| value_at(item, elem, zone, schema, &|| format!("{}[{i}]", path())))
                .collect::<Result<Vec<_>, _>>()?;
            match ty {
                Type::List(_) => Value::List(values.into()),
                _ => Value::set(values),
            }
        }
        Type::Record(id) => {
            let given = json.as_object().ok_or_else(wrong)?;
            let def = schema.record(*id).ok_or_else(wrong)?;
            record_at(given, *id, &def.fields, schema, path)?
        }
    })
}

/// Why `text` did not read as a timestamp: one written without an offset,
/// for a field that declares no zone, is told how to say which instant it
/// means.
fn not_a_timestamp(text: &str, path: String) -> EnvelopeError {
    if local_reading(text).is_some() {
        EnvelopeError::new(
            ErrorCode::EnvelopeBadValue,
            path,
            format!("`{text}` has no UTC offset, and the field declares no time zone"),
        )
        .help(format!(
            "send the offset (`{text}Z`, `{text}+02:00`), or declare the zone the field's local \
             times are in, as in `departs: Timestamp<\"Europe/Paris\">`"
        ))
    } else {
        EnvelopeError::new(
            ErrorCode::EnvelopeBadValue,
            path,
            crate::value::timestamp_problem(text),
        )
        .help("write a date, time and offset, such as `2026-11-25T14:00:00Z`")
    }
}

/// The most elements one list or set of an envelope may hold. It bounds
/// what a quantifier can cost: the compiler states each rule's instruction
/// bound with it.
pub const MAX_ELEMENTS: usize = 1024;

pub(crate) fn too_long(path: String, len: usize) -> EnvelopeError {
    EnvelopeError::new(
        ErrorCode::EnvelopeTooLong,
        path,
        format!("{len} elements, more than the {MAX_ELEMENTS} an envelope may carry in one list"),
    )
    .help("split the action, or carry the elements as related entities")
}

/// A record: a JSON object of the record type's fields.
fn record_at(
    given: &Map<String, Json>,
    id: RecordId,
    defs: &[FieldDef],
    schema: &Schema,
    path: &dyn Fn() -> String,
) -> Result<Value, EnvelopeError> {
    let owner = Owner::Record(schema.record_name(id));
    let fields = bind_object(given, defs, schema, owner, path)?;
    Ok(Value::Record(fields.into()))
}

fn json_decimal(json: &Json) -> Option<Decimal> {
    match json {
        Json::Number(n) => amount::from_number(n),
        Json::String(s) => amount::from_text(s),
        _ => None,
    }
}

fn describe(ty: &Type, schema: &Schema) -> String {
    match ty {
        Type::Duration => "a duration such as \"15m\"".into(),
        Type::Timestamp => "an RFC 3339 timestamp".into(),
        Type::Enum(id) => format!("a `{}` variant (a string)", schema.enum_name(*id)),
        Type::Entity(id) => format!("the id of a `{}` (a string)", schema.entity_name(*id)),
        Type::Set(elem) | Type::List(elem) => {
            format!("an array of {}", describe(elem, schema))
        }
        Type::Record(id) => format!("a `{}` (an object)", schema.record_name(*id)),
        other => {
            let name = schema.type_name(other);
            let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
                "an"
            } else {
                "a"
            };
            format!("{article} `{name}`")
        }
    }
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
