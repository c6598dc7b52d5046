//! The engines behind one interface: build from the family's text (the
//! timed compile), turn a request's JSON into the engine's input form once
//! (the pre-parsed path), and decide, either on that input or straight from
//! the JSON bytes.
//!
//! Each engine is used the way its own documentation shows, with the
//! cheapest natural input path: what an integrator would write, no more and
//! no less. Per-decision work that the engine's API requires (cloning an
//! input into the engine, allocating a rule path) stays inside the timed
//! call, for every engine alike.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use actpol::{BoundEnvelope, Envelope, MemoryState, Policy};
use serde_json::Value as Json;

use crate::family::{self, Effect, Family};

pub type Res<T> = Result<T, String>;

/// The engines, in the order tables list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Actpol,
    Cedar,
    /// Regorus's virtual machine (RVM): Rego compiled to bytecode.
    Rego,
    /// Regorus's tree-walking interpreter (`Engine::eval_rule`), the
    /// embedding its README shows.
    RegoInterp,
    Cel,
    /// CEL with the host indexing programs by action and agent: not CEL's
    /// own model, shown to separate what the index buys from the language.
    CelIndexed,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Actpol,
        Kind::Cedar,
        Kind::Rego,
        Kind::RegoInterp,
        Kind::Cel,
        Kind::CelIndexed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Actpol => "actpol",
            Kind::Cedar => "cedar",
            Kind::Rego => "rego",
            Kind::RegoInterp => "rego-interp",
            Kind::Cel => "cel",
            Kind::CelIndexed => "cel-indexed",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One engine, loaded with one family.
pub trait Engine {
    /// Turns one request's JSON into the engine's input form and keeps it:
    /// the `i`-th call prepares input `i` for [`Engine::decide`].
    fn prepare(&mut self, json: &[u8]) -> Res<()>;
    /// Decides on prepared input `i`: `true` for allow.
    fn decide(&mut self, i: usize) -> bool;
    /// Parses JSON bytes into the input form and decides.
    fn decide_json(&mut self, json: &[u8]) -> Res<bool>;
}

/// Builds (compiles) one engine from the family's text in its language.
pub fn build(kind: Kind, sources: &Sources) -> Res<Box<dyn Engine>> {
    Ok(match kind {
        Kind::Actpol => Box::new(Actpol::build(&sources.actpol)?),
        Kind::Cedar => Box::new(Cedar::build(&sources.cedar)?),
        Kind::Rego => Box::new(Rego::build(&sources.rego_packages)?),
        Kind::RegoInterp => Box::new(RegoInterp::build(&sources.rego_flat)?),
        Kind::Cel => Box::new(Cel::build(&sources.cel)?),
        Kind::CelIndexed => Box::new(CelIndexed::build(&sources.cel_indexed)?),
    })
}

/// The family's text in every language, rendered before anything is timed.
#[derive(Debug, Clone)]
pub struct Sources {
    pub actpol: String,
    pub cedar: String,
    /// One module per action plus the combining module: what the RVM runs.
    pub rego_packages: Vec<(String, String)>,
    /// One flat package: the interpreter's fastest encoding (see the docs).
    pub rego_flat: Vec<(String, String)>,
    /// One whole program per rule, with its effect.
    pub cel: Vec<(String, Effect)>,
    pub cel_indexed: CelIndexedSource,
}

/// Conditions only; the scope of each is the host's index key.
#[derive(Debug, Clone)]
pub struct CelIndexedSource {
    pub rules: Vec<(String, Effect)>,
    /// Action, then agent: nested so a lookup borrows the request's strings.
    pub pinned: HashMap<String, HashMap<String, Vec<usize>>>,
    pub any_agent: HashMap<String, Vec<usize>>,
}

impl Sources {
    pub fn render(f: &Family) -> Sources {
        let mut pinned: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        let mut any_agent: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in f.rules.iter().enumerate() {
            let action = family::action_name(r.action);
            match r.agent {
                Some(g) => pinned
                    .entry(action)
                    .or_default()
                    .entry(family::agent_name(g))
                    .or_default()
                    .push(i),
                None => any_agent.entry(action).or_default().push(i),
            }
        }
        Sources {
            actpol: family::actpol_source(f),
            cedar: family::cedar_source(f),
            rego_packages: family::rego_packages(f),
            rego_flat: family::rego_flat(f),
            cel: f
                .rules
                .iter()
                .map(|r| (family::cel_program(r), r.effect))
                .collect(),
            cel_indexed: CelIndexedSource {
                rules: f
                    .rules
                    .iter()
                    .map(|r| (family::cel_condition(r), r.effect))
                    .collect(),
                pinned,
                any_agent,
            },
        }
    }
}

fn field<'a>(json: &'a Json, path: &[&str]) -> Res<&'a Json> {
    path.iter().try_fold(json, |v, key| {
        v.get(key)
            .ok_or_else(|| format!("request JSON lacks `{}`", path.join(".")))
    })
}

fn str_field<'a>(json: &'a Json, path: &[&str]) -> Res<&'a str> {
    field(json, path)?
        .as_str()
        .ok_or_else(|| format!("`{}` is not a string", path.join(".")))
}

// ---------------------------------------------------------------- actpol --

/// actpol through its facade: compile the text, then decide on envelopes
/// bound once to the schema.
pub struct Actpol {
    pub policy: Policy,
    pub state: MemoryState,
    pub bound: Vec<BoundEnvelope>,
    pub envelopes: Vec<Envelope>,
}

impl Actpol {
    pub fn build(source: &str) -> Res<Actpol> {
        let policy = Policy::from_sources([("bench.actpol", source)]).map_err(|e| match e {
            // The diagnostics themselves, so a generator bug names its line.
            actpol::CompileFailure::Invalid(report) => format!(
                "actpol: the generated policy does not check:\n{}",
                report.render_text(100)
            ),
            other => format!("actpol: the policy does not compile: {other}"),
        })?;
        Ok(Actpol {
            policy,
            state: MemoryState::default(),
            bound: Vec::new(),
            envelopes: Vec::new(),
        })
    }
}

impl Engine for Actpol {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        let env = Envelope::from_json(json).map_err(|e| format!("actpol: {e}"))?;
        let bound = self
            .policy
            .bind(env.clone())
            .map_err(|e| format!("actpol: {e}"))?;
        self.envelopes.push(env);
        self.bound.push(bound);
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        self.policy
            .decide(&self.bound[i], &self.state)
            .decision
            .proceeds()
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        let decision = self.policy.decide(json, &self.state);
        if !decision.errors.is_empty() {
            return Err(format!("actpol: {:?}", decision.errors));
        }
        Ok(decision.decision.proceeds())
    }
}

// ----------------------------------------------------------------- Cedar --

/// Cedar: the agent is the principal, the object the resource entity (its
/// attributes as entity attributes), the parameters the context.
pub struct Cedar {
    policies: cedar_policy::PolicySet,
    authorizer: cedar_policy::Authorizer,
    agent_type: cedar_policy::EntityTypeName,
    action_type: cedar_policy::EntityTypeName,
    record_type: cedar_policy::EntityTypeName,
    prepared: Vec<(cedar_policy::Request, cedar_policy::Entities)>,
}

impl Cedar {
    pub fn build(source: &str) -> Res<Cedar> {
        let policies = cedar_policy::PolicySet::from_str(source)
            .map_err(|e| format!("cedar: the policy set does not parse: {e}"))?;
        let name =
            |n: &str| cedar_policy::EntityTypeName::from_str(n).map_err(|e| format!("cedar: {e}"));
        Ok(Cedar {
            policies,
            authorizer: cedar_policy::Authorizer::new(),
            agent_type: name("Agent")?,
            action_type: name("Action")?,
            record_type: name("Record")?,
            prepared: Vec::new(),
        })
    }

    /// The request and the one entity it reads, from the envelope JSON.
    fn inputs(&self, json: &[u8]) -> Res<(cedar_policy::Request, cedar_policy::Entities)> {
        use cedar_policy::{Context, Entities, Entity, EntityId, EntityUid, RestrictedExpression};
        let env: Json = serde_json::from_slice(json).map_err(|e| format!("cedar: {e}"))?;
        let uid = |ty: &cedar_policy::EntityTypeName, id: &str| {
            EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
        };
        let principal = uid(&self.agent_type, str_field(&env, &["agent", "id"])?);
        let action = uid(&self.action_type, str_field(&env, &["action", "name"])?);
        let resource = uid(&self.record_type, str_field(&env, &["object", "id"])?);
        let attrs = field(&env, &["object", "attrs"])?
            .as_object()
            .ok_or("cedar: `object.attrs` is not an object")?
            .iter()
            .map(|(k, v)| Ok((k.clone(), cedar_value(v)?)))
            .collect::<Res<HashMap<String, RestrictedExpression>>>()?;
        let entity = Entity::new(resource.clone(), attrs, HashSet::new())
            .map_err(|e| format!("cedar: {e}"))?;
        let entities =
            Entities::from_entities([entity], None).map_err(|e| format!("cedar: {e}"))?;
        let params = field(&env, &["action", "params"])?
            .as_object()
            .ok_or("cedar: `action.params` is not an object")?
            .iter()
            .map(|(k, v)| Ok((k.clone(), cedar_value(v)?)))
            .collect::<Res<Vec<_>>>()?;
        let context = Context::from_pairs(params).map_err(|e| format!("cedar: {e}"))?;
        let request = cedar_policy::Request::new(principal, action, resource, context, None)
            .map_err(|e| format!("cedar: {e}"))?;
        Ok((request, entities))
    }
}

/// The JSON values the family uses, as Cedar values.
fn cedar_value(v: &Json) -> Res<cedar_policy::RestrictedExpression> {
    use cedar_policy::RestrictedExpression as R;
    match v {
        Json::Number(n) => n
            .as_i64()
            .map(R::new_long)
            .ok_or_else(|| format!("cedar: {n} is not an integer")),
        Json::String(s) => Ok(R::new_string(s.clone())),
        Json::Bool(b) => Ok(R::new_bool(*b)),
        Json::Array(items) => Ok(R::new_set(
            items.iter().map(cedar_value).collect::<Res<Vec<_>>>()?,
        )),
        other => Err(format!("cedar: no mapping for {other}")),
    }
}

impl Engine for Cedar {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        let inputs = self.inputs(json)?;
        self.prepared.push(inputs);
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        let (request, entities) = &self.prepared[i];
        self.authorizer
            .is_authorized(request, &self.policies, entities)
            .decision()
            == cedar_policy::Decision::Allow
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        let (request, entities) = self.inputs(json)?;
        Ok(self
            .authorizer
            .is_authorized(&request, &self.policies, &entities)
            .decision()
            == cedar_policy::Decision::Allow)
    }
}

// ------------------------------------------------------------------ Rego --

/// The rule every Rego encoding answers.
pub const REGO_RULE: &str = "data.actpol.bench.allow";

fn rego_input(json: &[u8]) -> Res<regorus::Value> {
    let text = std::str::from_utf8(json).map_err(|e| format!("rego: {e}"))?;
    regorus::Value::from_json_str(text).map_err(|e| format!("rego: {e}"))
}

fn rego_engine(files: &[(String, String)]) -> Res<regorus::Engine> {
    let mut engine = regorus::Engine::new();
    for (path, text) in files {
        engine
            .add_policy(path.clone(), text.clone())
            .map_err(|e| format!("rego: {path} does not parse: {e}"))?;
    }
    Ok(engine)
}

/// Regorus's RVM: the envelope is `input`; the program's entry point is
/// `data.actpol.bench.allow`.
pub struct Rego {
    vm: regorus::rvm::RegoVM,
    inputs: Vec<regorus::Value>,
}

impl Rego {
    pub fn build(files: &[(String, String)]) -> Res<Rego> {
        let mut engine = rego_engine(files)?;
        let compiled = engine
            .compile_with_entrypoint(&REGO_RULE.into())
            .map_err(|e| format!("rego: {e}"))?;
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
            &compiled,
            &[REGO_RULE],
        )
        .map_err(|e| format!("rego: the RVM compiler refused the policy: {e}"))?;
        let mut vm = regorus::rvm::RegoVM::new();
        vm.load_program(program);
        Ok(Rego {
            vm,
            inputs: Vec::new(),
        })
    }

    fn allowed(&mut self) -> Res<bool> {
        let v = self.vm.execute().map_err(|e| format!("rego: {e}"))?;
        Ok(v == regorus::Value::from(true))
    }
}

impl Engine for Rego {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        self.inputs.push(rego_input(json)?);
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        // A regorus value is reference counted: the clone is a pointer copy.
        self.vm.set_input(self.inputs[i].clone());
        // An evaluation error denies (fails closed), as in every engine here.
        self.allowed().unwrap_or(false)
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        self.vm.set_input(rego_input(json)?);
        self.allowed()
    }
}

/// Regorus's interpreter, as its README embeds it: `set_input`, then
/// `eval_rule`.
pub struct RegoInterp {
    engine: regorus::Engine,
    inputs: Vec<regorus::Value>,
}

impl RegoInterp {
    pub fn build(files: &[(String, String)]) -> Res<RegoInterp> {
        let mut engine = rego_engine(files)?;
        // Regorus analyses and schedules the modules on the first
        // evaluation; doing it here puts that one-time cost in the compile
        // time, where it belongs, and not in the first timed decision.
        engine.set_input(regorus::Value::new_object());
        engine
            .eval_rule(REGO_RULE.to_string())
            .map_err(|e| format!("rego: the policy does not evaluate: {e}"))?;
        Ok(RegoInterp {
            engine,
            inputs: Vec::new(),
        })
    }

    fn allowed(&mut self) -> Res<bool> {
        let v = self
            .engine
            .eval_rule(REGO_RULE.to_string())
            .map_err(|e| format!("rego: {e}"))?;
        Ok(v == regorus::Value::from(true))
    }
}

impl Engine for RegoInterp {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        self.inputs.push(rego_input(json)?);
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        self.engine.set_input(self.inputs[i].clone());
        self.allowed().unwrap_or(false)
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        // `set_input_json` is regorus's own JSON entry: the same parse.
        let text = std::str::from_utf8(json).map_err(|e| format!("rego: {e}"))?;
        self.engine
            .set_input_json(text)
            .map_err(|e| format!("rego: {e}"))?;
        self.allowed()
    }
}

// ------------------------------------------------------------------- CEL --

/// The variables every CEL program reads, as CEL values.
fn cel_context(env: &Arc<cel::Env>, json: &[u8]) -> Res<cel::Context<'static, 'static>> {
    let parsed: Json = serde_json::from_slice(json).map_err(|e| format!("cel: {e}"))?;
    let mut ctx = cel::Context::with_env(env.clone());
    let value = |v: &Json| cel::to_value(v).map_err(|e| format!("cel: {e}"));
    ctx.add_variable_from_value("action", value(field(&parsed, &["action", "name"])?)?);
    ctx.add_variable_from_value("agent", value(field(&parsed, &["agent", "id"])?)?);
    ctx.add_variable_from_value("params", value(field(&parsed, &["action", "params"])?)?);
    ctx.add_variable_from_value("object", value(field(&parsed, &["object", "attrs"])?)?);
    Ok(ctx)
}

/// Runs `programs` in order with forbid overriding: the first deny that
/// holds decides; otherwise any allow that held allows. A program that
/// fails to evaluate never allows.
fn cel_decide<'a>(
    programs: impl Iterator<Item = &'a (cel::Program, Effect)>,
    ctx: &cel::Context<'_, '_>,
) -> bool {
    let mut allowed = false;
    for (program, effect) in programs {
        let holds = matches!(program.execute(ctx), Ok(cel::Value::Bool(true)));
        match (effect, holds) {
            (Effect::Deny, true) => return false,
            (Effect::Allow, true) => allowed = true,
            _ => {}
        }
    }
    allowed
}

fn cel_compile(rules: &[(String, Effect)], env: &cel::Env) -> Res<Vec<(cel::Program, Effect)>> {
    rules
        .iter()
        .map(|(text, effect)| {
            env.compile(text)
                .map(|p| (p, *effect))
                .map_err(|e| format!("cel: `{text}` does not compile: {e}"))
        })
        .collect()
}

/// CEL as a list of programs, one per rule, each carrying its own scope.
pub struct Cel {
    env: Arc<cel::Env>,
    programs: Vec<(cel::Program, Effect)>,
    contexts: Vec<cel::Context<'static, 'static>>,
}

impl Cel {
    pub fn build(rules: &[(String, Effect)]) -> Res<Cel> {
        let env = Arc::new(cel::Env::stdlib());
        let programs = cel_compile(rules, &env)?;
        Ok(Cel {
            env,
            programs,
            contexts: Vec::new(),
        })
    }
}

impl Engine for Cel {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        let ctx = cel_context(&self.env, json)?;
        self.contexts.push(ctx);
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        cel_decide(self.programs.iter(), &self.contexts[i])
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        let ctx = cel_context(&self.env, json)?;
        Ok(cel_decide(self.programs.iter(), &ctx))
    }
}

/// CEL with the host's own index: only the programs of the request's action
/// (and agent) run.
pub struct CelIndexed {
    env: Arc<cel::Env>,
    programs: Vec<(cel::Program, Effect)>,
    pinned: HashMap<String, HashMap<String, Vec<usize>>>,
    any_agent: HashMap<String, Vec<usize>>,
    /// Per prepared request: its context and its index key.
    prepared: Vec<(cel::Context<'static, 'static>, String, String)>,
}

impl CelIndexed {
    pub fn build(source: &CelIndexedSource) -> Res<CelIndexed> {
        let env = Arc::new(cel::Env::stdlib());
        let programs = cel_compile(&source.rules, &env)?;
        Ok(CelIndexed {
            env,
            programs,
            pinned: source.pinned.clone(),
            any_agent: source.any_agent.clone(),
            prepared: Vec::new(),
        })
    }

    fn key(json: &[u8]) -> Res<(String, String)> {
        // The host needs the key before CEL runs; it reads it from the same
        // parse in `decide_json` (see there), here once at preparation.
        let parsed: Json = serde_json::from_slice(json).map_err(|e| format!("cel: {e}"))?;
        Ok((
            str_field(&parsed, &["action", "name"])?.to_string(),
            str_field(&parsed, &["agent", "id"])?.to_string(),
        ))
    }

    fn run(&self, ctx: &cel::Context<'_, '_>, action: &str, agent: &str) -> bool {
        let any = self.any_agent.get(action).map_or(&[][..], Vec::as_slice);
        let pinned = self
            .pinned
            .get(action)
            .and_then(|by_agent| by_agent.get(agent))
            .map_or(&[][..], Vec::as_slice);
        cel_decide(any.iter().chain(pinned).map(|&i| &self.programs[i]), ctx)
    }
}

impl Engine for CelIndexed {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        let ctx = cel_context(&self.env, json)?;
        let (action, agent) = CelIndexed::key(json)?;
        self.prepared.push((ctx, action, agent));
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        let (ctx, action, agent) = &self.prepared[i];
        self.run(ctx, action, agent)
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        let parsed: Json = serde_json::from_slice(json).map_err(|e| format!("cel: {e}"))?;
        let mut ctx = cel::Context::with_env(self.env.clone());
        let value = |v: &Json| cel::to_value(v).map_err(|e| format!("cel: {e}"));
        let action = str_field(&parsed, &["action", "name"])?;
        let agent = str_field(&parsed, &["agent", "id"])?;
        ctx.add_variable_from_value("params", value(field(&parsed, &["action", "params"])?)?);
        ctx.add_variable_from_value("object", value(field(&parsed, &["object", "attrs"])?)?);
        Ok(self.run(&ctx, action, agent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check the benchmark runs before timing, at the smallest sizes:
    /// every engine, on both input paths, gives the family's own answer.
    #[test]
    fn every_engine_agrees_with_the_family_on_small_sizes() {
        for n in [10, 30] {
            let family = Family::generate(n, 40, 11);
            let sources = Sources::render(&family);
            for kind in Kind::ALL {
                let mut engine = build(kind, &sources).unwrap();
                for (i, r) in family.requests.iter().enumerate() {
                    engine.prepare(&r.json).unwrap();
                    let expected = family.expected(r);
                    assert_eq!(
                        engine.decide(i),
                        expected,
                        "{} N={n} request {i}",
                        kind.name()
                    );
                    assert_eq!(
                        engine.decide_json(&r.json).unwrap(),
                        expected,
                        "{} N={n} request {i} from JSON",
                        kind.name()
                    );
                }
            }
        }
    }

    #[test]
    fn engine_names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
        }
    }
}
