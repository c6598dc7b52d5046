//! [`Policy`]: a compiled policy, and the one way to decide with it.

use std::borrow::Cow;
use std::path::Path;

use actpol_bytecode::artifact::{Artifact, ArtifactError, MAGIC};
use actpol_core::clock::Clock;
use actpol_core::decision::Decision;
use actpol_core::envelope::{BoundEnvelope, Envelope, EnvelopeError, EnvelopeLimits};
use actpol_core::schema::KeyKind;
use actpol_core::state::{MemoryState, StateError, StateView};
use actpol_vm::Runtime;

use crate::compile::{compile_paths_with, compile_sources, CompileFailure};
use crate::load::{LoadError, LoadOptions, ReadFailure};
use crate::PublicKey;

/// A policy ready to decide: compiled from sources or loaded from an
/// artifact, verified either way.
///
/// One method decides, [`Policy::decide`]; what it decides on and how are
/// given by a [`Request`], which JSON bytes, an [`Envelope`] or a
/// [`BoundEnvelope`] convert into.
#[derive(Debug)]
pub struct Policy {
    pub(crate) runtime: Runtime,
    /// The key kinds its windows read history by, for a store to index.
    pub(crate) window_keys: Vec<KeyKind>,
    /// What every envelope it binds is screened under.
    pub(crate) limits: EnvelopeLimits,
}

impl Policy {
    /// The policy under `paths`: its `.actpol` files or directory,
    /// compiled; or one compiled artifact (`.actpolc`, recognised by its
    /// header whatever its name), loaded and verified.
    pub fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Policy, CompileFailure> {
        Policy::from_paths_with(paths, &LoadOptions::default())
    }

    /// [`Policy::from_paths`], loaded as `options` say: where imports may
    /// reach, and whether a signature is required. When one is, only a
    /// signed artifact loads: policy sources carry no signature and are
    /// refused ([`CompileFailure::Unsigned`]).
    pub fn from_paths_with<P: AsRef<Path>>(
        paths: &[P],
        options: &LoadOptions,
    ) -> Result<Policy, CompileFailure> {
        if let [one] = paths {
            if let Some(bytes) = artifact_at(one.as_ref())? {
                return Ok(Policy::load_with(&bytes, options)?);
            }
        }
        if options.verify_key.is_some() {
            return Err(CompileFailure::Unsigned);
        }
        Policy::from_artifact(compile_paths_with(paths, options)?)
    }

    /// Compiles in-memory sources `(path, text)`; imports resolve between
    /// the given paths.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Policy, CompileFailure> {
        Policy::from_artifact(compile_sources(sources)?)
    }

    /// Loads an `.actpolc` artifact (verified on load). A signature it
    /// carries must be valid; none is required.
    pub fn load(bytes: &[u8]) -> Result<Policy, ArtifactError> {
        Policy::load_with(bytes, &LoadOptions::default())
    }

    /// Loads an `.actpolc` artifact, requiring the signature `options`
    /// name: an unsigned artifact, or one signed by another key or changed
    /// since it was signed, is refused before its program is read.
    pub fn load_with(bytes: &[u8], options: &LoadOptions) -> Result<Policy, ArtifactError> {
        let key = options.verify_key.as_ref().map(PublicKey::verifying);
        Ok(Policy::with(Runtime::load_with(bytes, key)?))
    }

    /// Runs a compiled artifact held in memory (verified again here).
    pub fn from_artifact(artifact: Artifact) -> Result<Policy, CompileFailure> {
        let runtime = Runtime::new(artifact).map_err(actpol_compiler::CompileError::from)?;
        Ok(Policy::with(runtime))
    }

    fn with(runtime: Runtime) -> Policy {
        let mut window_keys: Vec<KeyKind> = Vec::new();
        for spec in &runtime.program().windows {
            if !window_keys.contains(&spec.key) {
                window_keys.push(spec.key);
            }
        }
        Policy {
            runtime,
            window_keys,
            limits: EnvelopeLimits::DEFAULT,
        }
    }

    /// This policy screening envelopes under `limits` (sizes, depth, keys)
    /// in place of the defaults: every way it binds an envelope (JSON
    /// bytes, an [`Envelope`], a plan's nodes, a store's requests) uses
    /// them.
    #[must_use]
    pub fn with_limits(mut self, limits: EnvelopeLimits) -> Policy {
        self.limits = limits;
        self
    }

    /// The limits envelopes are screened under.
    pub fn limits(&self) -> &EnvelopeLimits {
        &self.limits
    }

    /// The policy's declared name.
    pub fn name(&self) -> &str {
        &self.runtime.program().meta.name
    }

    /// `sha256:<hex>` of the policy's sources.
    pub fn hash(&self) -> &str {
        self.runtime.hash()
    }

    /// Decides. `request` is JSON bytes, an [`Envelope`], a
    /// [`BoundEnvelope`], or a [`Request`] built from one with options.
    /// Never fails: an envelope that does not fit, or an evaluation that
    /// fails, is a decision of the policy's `on_error` outcome, never
    /// `allow`, with the error listed.
    ///
    /// ```no_run
    /// # use actpol::{MemoryState, Policy, Request};
    /// # let policy = Policy::from_paths(&["examples/growth"]).unwrap();
    /// # let bytes = Vec::new();
    /// let state = MemoryState::default();
    /// let decision = policy.decide(&bytes, &state);
    /// let explained = policy.decide(Request::new(&bytes).explained(), &state);
    /// ```
    pub fn decide<'a>(&self, request: impl Into<Request<'a>>, state: &dyn StateView) -> Decision {
        let request = request.into();
        let explain = request.explain;
        if let Some(env) = request.bound_as_is() {
            return self.run(env, explain, state);
        }
        match self.admit(request, None) {
            Ok(env) => self.run(&env, explain, state),
            Err(refused) => *refused,
        }
    }

    /// Binds a request's envelope, presents its approval and checks its
    /// time against its clock (`clock` when the request names none). What
    /// does not bind or is beyond the skew is refused with the policy's
    /// `on_error` decision.
    pub(crate) fn admit<'e>(
        &self,
        request: Request<'e>,
        clock: Option<i64>,
    ) -> Result<Cow<'e, BoundEnvelope>, Box<Decision>> {
        let mut env = match request.input {
            Input::Bound(env) => Cow::Borrowed(env),
            Input::Json(bytes) => Cow::Owned(
                self.bind_json(bytes)
                    .map_err(|err| Box::new(self.runtime.refuse(&err)))?,
            ),
            Input::Envelope(envelope) => Cow::Owned(
                self.bind(envelope)
                    .map_err(|err| Box::new(self.runtime.refuse(&err)))?,
            ),
        };
        if let Some(approval) = request.approval {
            env.to_mut().approval = Some(approval.into());
        }
        if let Some(now) = request.now.or(clock) {
            let timing = &self.runtime.program().meta.timing;
            let clock = Clock {
                now,
                max_skew: request.max_skew.unwrap_or(timing.max_skew_or_default()),
            };
            if env.time != now {
                if let Err(err) = clock.admit(env.to_mut()) {
                    return Err(Box::new(self.runtime.refuse_bound(&env, &err)));
                }
            }
        }
        Ok(env)
    }

    /// Runs the policy on a bound, admitted envelope.
    pub(crate) fn run(
        &self,
        env: &BoundEnvelope,
        explain: bool,
        state: &dyn StateView,
    ) -> Decision {
        if explain {
            self.runtime.explain(env, state)
        } else {
            self.runtime.decide(env, state)
        }
    }

    /// Binds an envelope to this policy's schema, to decide on it later
    /// (possibly many times) without binding again.
    /// The envelope is screened under [`Policy::limits`] first.
    pub fn bind(&self, envelope: Envelope) -> Result<BoundEnvelope, EnvelopeError> {
        BoundEnvelope::bind_within(envelope, &self.runtime.program().schema, &self.limits)
    }

    /// Screens JSON bytes under [`Policy::limits`], then reads and binds
    /// them.
    pub fn bind_json(&self, bytes: &[u8]) -> Result<BoundEnvelope, EnvelopeError> {
        BoundEnvelope::from_json_within(bytes, &self.runtime.program().schema, &self.limits)
    }

    /// The decision on an envelope refused before it bound (by a host that
    /// read no further than a limit, say): the policy's `on_error`, with
    /// the error. Never `allow`.
    pub fn refuse(&self, err: &EnvelopeError) -> Decision {
        self.runtime.refuse(err)
    }

    /// Checks a state file against this policy: every budget, key, agent,
    /// action and parameter it names is declared, amounts are not
    /// negative, money is in the parameter's currency. What does not fit
    /// is an error with a "did you mean", never read as zero.
    pub fn check_state(&self, state: &MemoryState) -> Result<(), StateError> {
        let program = self.runtime.program();
        state.check(&program.schema, &program.meta)
    }

    /// Records in `state` what `decision` on `envelope` consumed and the
    /// action itself, for windows, as a store would once it proceeds (a
    /// decision that does not proceed records nothing): deciding a batch
    /// against one state then sees each earlier decision.
    pub fn record(&self, state: &mut MemoryState, envelope: &BoundEnvelope, decision: &Decision) {
        state.apply(envelope, decision, &self.runtime.program().schema);
    }

    /// The artifact bytes (`.actpolc`).
    pub fn to_artifact_bytes(&self) -> Result<Vec<u8>, ArtifactError> {
        self.runtime.artifact().encode()
    }

    /// The compiled artifact.
    pub fn artifact(&self) -> &Artifact {
        self.runtime.artifact()
    }

    /// The policy's rules, in declaration order.
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> + '_ {
        let program = self.runtime.program();
        program
            .meta
            .rules
            .iter()
            .enumerate()
            .map(move |(i, rule)| RuleInfo {
                name: &rule.name,
                conditional: program
                    .explain
                    .get(i)
                    .is_some_and(|e| e.when_text.is_some()),
            })
    }

    /// The names of the policy's raises, in declaration order.
    pub fn raises(&self) -> impl Iterator<Item = &str> + '_ {
        self.runtime
            .program()
            .meta
            .raises
            .iter()
            .map(|r| r.name.as_str())
    }

    /// The bytecode as text: the whole program, or one rule's code
    /// (`None` if the policy has no rule of that name).
    pub fn disassemble(&self, rule: Option<&str>) -> Option<String> {
        let program = self.runtime.program();
        let Some(name) = rule else {
            return Some(actpol_bytecode::disasm::program(program));
        };
        let index = program.meta.rules.iter().position(|r| r.name == name)?;
        let id = actpol_core::RuleId::from_index(index);
        Some(actpol_bytecode::disasm::rule(program, id))
    }
}

/// The bytes at `path` if it is given as a compiled artifact: a file named
/// `.actpolc`, or one that starts with the artifact header's magic bytes.
/// A file named `.actpolc` is read as an artifact whatever it holds, so a
/// damaged or truncated one is refused as an artifact, never read as
/// policy text.
fn artifact_at(path: &Path) -> Result<Option<Vec<u8>>, LoadError> {
    use std::io::Read as _;
    if !path.is_file() {
        return Ok(None);
    }
    let unreadable = |source: std::io::Error| LoadError::Unreadable {
        path: crate::load::display(path),
        source: ReadFailure::Io(source),
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut start = Vec::with_capacity(MAGIC.len());
    (&mut file)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut start)
        .map_err(unreadable)?;
    let named = path.extension().is_some_and(|e| e == "actpolc");
    if !named && start != MAGIC {
        return Ok(None);
    }
    let mut bytes = start;
    file.read_to_end(&mut bytes).map_err(unreadable)?;
    Ok(Some(bytes))
}

/// A rule of a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo<'a> {
    /// The rule's name.
    pub name: &'a str,
    /// Whether it has a `when` condition (a rule without one matches
    /// whenever it applies).
    pub conditional: bool,
}

/// What [`Policy::decide`] decides on.
#[derive(Debug)]
#[non_exhaustive]
// An input lives on the stack for one call and is consumed by it: boxing
// the envelope would add an allocation to every decision made from one.
#[allow(clippy::large_enum_variant)]
pub enum Input<'a> {
    /// JSON bytes, bound to the policy's schema first.
    Json(&'a [u8]),
    /// An envelope built in Rust, bound to the policy's schema first.
    Envelope(Envelope),
    /// An envelope already bound to this policy ([`Policy::bind`]).
    Bound(&'a BoundEnvelope),
}

/// One decision to make: its input, and how to decide it.
///
/// Built from an input (`Request::new(&bytes)`, or implicitly: every input
/// converts into a request), then refined by options. New per-decision
/// options join here rather than as new methods of [`Policy`].
///
/// Whose clock: without [`Request::at`], [`Policy::decide`] takes the
/// envelope's `time` as given (tests, snapshots, replays), and
/// [`Policy::decide_stored`] reads the host's clock. With a clock, the
/// envelope's `time` is the agent's claim: further from the clock than the
/// maximum skew, the decision is the policy's `on_error` with the error
/// [`ErrorCode::EnvelopeClockSkew`](crate::ErrorCode::EnvelopeClockSkew);
/// within it, rules, budgets and windows read the clock's time.
#[derive(Debug)]
#[must_use]
pub struct Request<'a> {
    pub(crate) input: Input<'a>,
    pub(crate) explain: bool,
    /// The host's clock, in milliseconds since the epoch.
    pub(crate) now: Option<i64>,
    pub(crate) max_skew: Option<i64>,
    /// An approval presented beside the envelope.
    pub(crate) approval: Option<Box<str>>,
    pub(crate) holds: Holds,
}

/// What a store is told about a decision besides its envelope: each `None`
/// takes the policy's declaration (`reservation_ttl`, `approval_ttl`), else
/// the built-in default.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Holds {
    pub(crate) reservation_ttl: Option<i64>,
    pub(crate) approval_ttl: Option<i64>,
    pub(crate) precedent: Option<usize>,
}

impl<'a> Request<'a> {
    /// The bound envelope this request decides on unchanged: no approval to
    /// present and no clock to check it against, so there is nothing to
    /// admit and nothing to copy.
    fn bound_as_is(&self) -> Option<&'a BoundEnvelope> {
        match self.input {
            Input::Bound(env) if self.approval.is_none() && self.now.is_none() => Some(env),
            _ => None,
        }
    }

    /// A request to decide on `input`, with no options.
    pub fn new(input: impl Into<Input<'a>>) -> Self {
        Request {
            input: input.into(),
            explain: false,
            now: None,
            max_skew: None,
            approval: None,
            holds: Holds::default(),
        }
    }

    /// Decides at `now` (milliseconds since the epoch) by the host's clock:
    /// the envelope's `time` is checked against it (see [`Request`]). With
    /// a store, this replays a decision at a given time.
    pub fn at(mut self, now: i64) -> Self {
        self.now = Some(now);
        self
    }

    /// How far the envelope's `time` may be from the clock, in
    /// milliseconds (default: the policy's `max_skew`, else 5 minutes).
    pub fn max_skew(mut self, millis: i64) -> Self {
        self.max_skew = Some(millis);
        self
    }

    /// Presents approval `id` (`apr-…`), as an envelope's `approval` field
    /// does; this one wins over the envelope's.
    pub fn approval(mut self, id: impl Into<Box<str>>) -> Self {
        self.approval = Some(id.into());
        self
    }

    /// With a store: how long the decision's reservation holds before it
    /// releases itself, in milliseconds (default: the policy's
    /// `reservation_ttl`, else 15 minutes).
    pub fn reservation_ttl(mut self, millis: i64) -> Self {
        self.holds.reservation_ttl = Some(millis);
        self
    }

    /// With a store: how long an escalation's approval stays usable, in
    /// milliseconds (default: the policy's `approval_ttl`, else one day).
    pub fn approval_ttl(mut self, millis: i64) -> Self {
        self.holds.approval_ttl = Some(millis);
        self
    }

    /// With a store: how many past decisions an escalation's packet lists
    /// as precedent (default 5).
    pub fn precedent(mut self, count: usize) -> Self {
        self.holds.precedent = Some(count);
        self
    }

    /// Asks for an explanation: which candidate rules matched, which did
    /// not and why (slower: the candidates run again part by part).
    pub fn explained(self) -> Self {
        self.explain(true)
    }

    /// Asks for an explanation or not.
    pub fn explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }
}

impl<'a> From<&'a [u8]> for Input<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Input::Json(bytes)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Input<'a> {
    fn from(bytes: &'a [u8; N]) -> Self {
        Input::Json(bytes)
    }
}

impl<'a> From<&'a Vec<u8>> for Input<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Input::Json(bytes)
    }
}

impl<'a> From<&'a str> for Input<'a> {
    fn from(text: &'a str) -> Self {
        Input::Json(text.as_bytes())
    }
}

impl From<Envelope> for Input<'_> {
    fn from(envelope: Envelope) -> Self {
        Input::Envelope(envelope)
    }
}

impl<'a> From<&'a BoundEnvelope> for Input<'a> {
    fn from(envelope: &'a BoundEnvelope) -> Self {
        Input::Bound(envelope)
    }
}

/// Every input is a request without options.
macro_rules! request_from {
    ($($t:ty),*) => {$(
        impl<'a> From<$t> for Request<'a> {
            fn from(input: $t) -> Self {
                Request::new(input)
            }
        }
    )*};
}

request_from!(
    Input<'a>,
    &'a [u8],
    &'a Vec<u8>,
    &'a str,
    Envelope,
    &'a BoundEnvelope
);

impl<'a, const N: usize> From<&'a [u8; N]> for Request<'a> {
    fn from(bytes: &'a [u8; N]) -> Self {
        Request::new(bytes)
    }
}
