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
    /// Hand-written Rust over a parsed struct, answering allow or deny: the
    /// least any engine could do.
    Floor,
    /// The same, building the decision actpol returns (its rule names and
    /// reasons as owned strings): the least a decision could cost.
    FloorDecision,
    /// One `PolicySet` per action, found by the action's name.
    CedarAction,
    /// One `PolicySet` per action and agent (the agent's pinned rules with
    /// the action's unpinned ones), as actpol's own index keys.
    CedarAgent,
    /// One `PolicySet` of every rule: Cedar evaluates each per request.
    CedarNaive,
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
    pub const ALL: [Kind; 10] = [
        Kind::Actpol,
        Kind::Floor,
        Kind::FloorDecision,
        Kind::CedarAction,
        Kind::CedarAgent,
        Kind::CedarNaive,
        Kind::Rego,
        Kind::RegoInterp,
        Kind::Cel,
        Kind::CelIndexed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Actpol => "actpol",
            Kind::Floor => "floor",
            Kind::FloorDecision => "floor-decision",
            Kind::CedarAction => "cedar-action",
            Kind::CedarAgent => "cedar-agent",
            Kind::CedarNaive => "cedar-naive",
            Kind::Rego => "rego",
            Kind::RegoInterp => "rego-interp",
            Kind::Cel => "cel",
            Kind::CelIndexed => "cel-indexed",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Cedar with an index written around it: the peers the headline
    /// compares against.
    pub fn is_indexed_cedar(self) -> bool {
        matches!(self, Kind::CedarAction | Kind::CedarAgent)
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
        Kind::Floor => Box::new(Floor::build(&sources.model, false)),
        Kind::FloorDecision => Box::new(Floor::build(&sources.model, true)),
        Kind::CedarAction => Box::new(CedarIndexed::build(&sources.model, CedarKey::Action)?),
        Kind::CedarAgent => Box::new(CedarIndexed::build(&sources.model, CedarKey::ActionAgent)?),
        Kind::CedarNaive => Box::new(Cedar::build(&sources.cedar)?),
        Kind::Rego => Box::new(Rego::build(&sources.rego_packages)?),
        Kind::RegoInterp => Box::new(RegoInterp::build(&sources.rego_flat)?),
        Kind::Cel => Box::new(Cel::build(&sources.cel)?),
        Kind::CelIndexed => Box::new(CelIndexed::build(&sources.cel_indexed)?),
    })
}

/// The family's text in every language, rendered before anything is timed.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The family itself, for the engines written by hand around it.
    pub model: Family,
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
            model: f.clone(),
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
        let env: Json = serde_json::from_slice(json).map_err(|e| format!("cedar: {e}"))?;
        self.inputs_of(&env)
    }

    /// [`Cedar::inputs`], with the action's and agent's names an index
    /// looks the policy set up by.
    #[allow(clippy::type_complexity)]
    fn inputs_keyed(
        &self,
        json: &[u8],
    ) -> Res<(
        (cedar_policy::Request, cedar_policy::Entities),
        (String, String),
    )> {
        let env: Json = serde_json::from_slice(json).map_err(|e| format!("cedar: {e}"))?;
        let keys = (
            str_field(&env, &["action", "name"])?.to_string(),
            str_field(&env, &["agent", "id"])?.to_string(),
        );
        Ok((self.inputs_of(&env)?, keys))
    }

    fn inputs_of(&self, env: &Json) -> Res<(cedar_policy::Request, cedar_policy::Entities)> {
        use cedar_policy::{Context, Entities, Entity, EntityId, EntityUid, RestrictedExpression};
        let uid = |ty: &cedar_policy::EntityTypeName, id: &str| {
            EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
        };
        let principal = uid(&self.agent_type, str_field(env, &["agent", "id"])?);
        let action = uid(&self.action_type, str_field(env, &["action", "name"])?);
        let resource = uid(&self.record_type, str_field(env, &["object", "id"])?);
        let attrs = field(env, &["object", "attrs"])?
            .as_object()
            .ok_or("cedar: `object.attrs` is not an object")?
            .iter()
            .map(|(k, v)| Ok((k.clone(), cedar_value(v)?)))
            .collect::<Res<HashMap<String, RestrictedExpression>>>()?;
        let entity = Entity::new(resource.clone(), attrs, HashSet::new())
            .map_err(|e| format!("cedar: {e}"))?;
        let entities =
            Entities::from_entities([entity], None).map_err(|e| format!("cedar: {e}"))?;
        let params = field(env, &["action", "params"])?
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

/// How an indexed Cedar finds the policy set of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CedarKey {
    Action,
    ActionAgent,
}

/// The policy sets of one action: the unpinned rules alone (for an agent
/// with no rules of its own), and by agent when keyed on the agent too.
struct CedarSets {
    any_agent: cedar_policy::PolicySet,
    by_agent: HashMap<String, cedar_policy::PolicySet>,
}

/// Cedar with the index a Cedar user who cares would write around it: a
/// hash map from the action's name (and the agent's) to a `PolicySet` of
/// only the rules that can apply.
pub struct CedarIndexed {
    inner: Cedar,
    by_action: HashMap<String, CedarSets>,
    prepared_keys: Vec<(String, String)>,
}

impl CedarIndexed {
    pub fn build(f: &Family, key: CedarKey) -> Res<CedarIndexed> {
        let parse = |rules: &[&family::Rule]| {
            let text: String = rules.iter().map(|r| family::cedar_rule(r) + "\n").collect();
            cedar_policy::PolicySet::from_str(&text)
                .map_err(|e| format!("cedar: the policy set does not parse: {e}"))
        };
        let mut by_action = HashMap::new();
        for action in 0..f.actions {
            let rules: Vec<&family::Rule> = f.rules.iter().filter(|r| r.action == action).collect();
            let unpinned: Vec<&family::Rule> = rules
                .iter()
                .copied()
                .filter(|r| r.agent.is_none())
                .collect();
            let mut by_agent = HashMap::new();
            let any_agent = match key {
                CedarKey::Action => parse(&rules)?,
                CedarKey::ActionAgent => {
                    let mut agents: Vec<usize> = rules.iter().filter_map(|r| r.agent).collect();
                    agents.sort_unstable();
                    agents.dedup();
                    for agent in agents {
                        let own: Vec<&family::Rule> = rules
                            .iter()
                            .copied()
                            .filter(|r| r.agent.is_none_or(|a| a == agent))
                            .collect();
                        by_agent.insert(family::agent_name(agent), parse(&own)?);
                    }
                    parse(&unpinned)?
                }
            };
            by_action.insert(
                family::action_name(action),
                CedarSets {
                    any_agent,
                    by_agent,
                },
            );
        }
        Ok(CedarIndexed {
            inner: Cedar::build("")?,
            by_action,
            prepared_keys: Vec::new(),
        })
    }

    fn allowed(
        &self,
        action: &str,
        agent: &str,
        request: &cedar_policy::Request,
        entities: &cedar_policy::Entities,
    ) -> bool {
        // An action with no rules is denied by default, as every engine does.
        let Some(sets) = self.by_action.get(action) else {
            return false;
        };
        let set = sets.by_agent.get(agent).unwrap_or(&sets.any_agent);
        self.inner
            .authorizer
            .is_authorized(request, set, entities)
            .decision()
            == cedar_policy::Decision::Allow
    }
}

impl Engine for CedarIndexed {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        let (inputs, keys) = self.inner.inputs_keyed(json)?;
        self.inner.prepared.push(inputs);
        self.prepared_keys.push(keys);
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        let (request, entities) = &self.inner.prepared[i];
        let (action, agent) = &self.prepared_keys[i];
        self.allowed(action, agent, request, entities)
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        let ((request, entities), (action, agent)) = self.inner.inputs_keyed(json)?;
        Ok(self.allowed(&action, &agent, &request, &entities))
    }
}

// ----------------------------------------------------------------- floor --

/// A request as hand-written Rust would hold it: names resolved to
/// indices, the tier and regions as small numbers.
#[derive(Debug, Clone, Copy)]
struct FloorInput {
    action: usize,
    agent: usize,
    amount: i64,
    count: i64,
    risk: i64,
    tier: u8,
    regions: u8,
}

/// One rule as a hand-written function sees it.
#[derive(Debug, Clone)]
struct FloorRule {
    agent: Option<usize>,
    deny: bool,
    conds: Vec<FloorCond>,
}

#[derive(Debug, Clone, Copy)]
enum FloorCond {
    Amount(family::Cmp, i64),
    Count(family::Cmp, i64),
    Risk(family::Cmp, i64),
    /// Bit of the region that must be present.
    Region(u8),
    /// Bits of the tiers allowed.
    Tier(u8),
}

/// The floor: the family's rules as plain Rust over [`FloorInput`], indexed
/// by action. With `decision`, it builds the [`actpol::Decision`] actpol
/// returns for the family (the check before timing holds it to that).
pub struct Floor {
    decision: bool,
    actions: HashMap<String, usize>,
    agents: HashMap<String, usize>,
    by_action: Vec<Vec<(usize, FloorRule)>>,
    names: Vec<String>,
    default_reason: String,
    policy: Option<actpol::decision::PolicyRef>,
    prepared: Vec<FloorInput>,
}

impl Floor {
    pub fn build(f: &Family, decision: bool) -> Floor {
        let bit = |list: &[&str], name: &str| {
            list.iter().position(|t| *t == name).map_or(0, |i| 1u8 << i)
        };
        let mut by_action: Vec<Vec<(usize, FloorRule)>> = vec![Vec::new(); f.actions];
        for r in &f.rules {
            let conds = r
                .conds
                .iter()
                .map(|c| match c {
                    family::Cond::Compare(family::Field::Amount, cmp, v) => {
                        FloorCond::Amount(*cmp, *v)
                    }
                    family::Cond::Compare(family::Field::Count, cmp, v) => {
                        FloorCond::Count(*cmp, *v)
                    }
                    family::Cond::Compare(family::Field::Risk, cmp, v) => FloorCond::Risk(*cmp, *v),
                    family::Cond::Region(name) => FloorCond::Region(bit(&family::REGIONS, name)),
                    family::Cond::Tier(tiers) => {
                        FloorCond::Tier(tiers.iter().fold(0, |acc, t| acc | bit(&family::TIERS, t)))
                    }
                })
                .collect();
            by_action[r.action].push((
                r.id,
                FloorRule {
                    agent: r.agent,
                    deny: r.effect == Effect::Deny,
                    conds,
                },
            ));
        }
        // The decision names its policy as actpol does: the name and the
        // hash of the same sources.
        let policy = decision.then(|| {
            let source = family::actpol_source(f);
            let hash = actpol::compile_sources([("bench.actpol", source.as_str())])
                .map(|a| Policy::from_artifact(a).map(|p| p.hash().to_string()));
            actpol::decision::PolicyRef::new(
                "bench",
                &hash.ok().and_then(Result::ok).unwrap_or_default(),
            )
        });
        Floor {
            decision,
            actions: (0..f.actions)
                .map(|a| (family::action_name(a), a))
                .collect(),
            agents: (0..f.agents).map(|g| (family::agent_name(g), g)).collect(),
            by_action,
            names: f.rules.iter().map(|r| format!("r{}", r.id)).collect(),
            default_reason: family::DEFAULT_REASON.to_string(),
            policy,
            prepared: Vec::new(),
        }
    }

    fn parse(&self, json: &[u8]) -> Res<FloorInput> {
        let env: Json = serde_json::from_slice(json).map_err(|e| format!("floor: {e}"))?;
        let int = |path: &[&str]| {
            field(&env, path)?
                .as_i64()
                .ok_or_else(|| format!("`{}` is not an integer", path.join(".")))
        };
        let bits = |list: &[&str], name: &str| {
            list.iter().position(|t| *t == name).map_or(0, |i| 1u8 << i)
        };
        let regions = field(&env, &["object", "attrs", "regions"])?
            .as_array()
            .ok_or("floor: `regions` is not a list")?
            .iter()
            .filter_map(Json::as_str)
            .fold(0, |acc, r| acc | bits(&family::REGIONS, r));
        Ok(FloorInput {
            action: *self
                .actions
                .get(str_field(&env, &["action", "name"])?)
                .ok_or("floor: unknown action")?,
            agent: *self
                .agents
                .get(str_field(&env, &["agent", "id"])?)
                .ok_or("floor: unknown agent")?,
            amount: int(&["action", "params", "amount"])?,
            count: int(&["action", "params", "count"])?,
            risk: int(&["object", "attrs", "risk"])?,
            tier: bits(
                &family::TIERS,
                str_field(&env, &["object", "attrs", "tier"])?,
            ),
            regions,
        })
    }

    /// Allowed, and the rules that decided (in rule order).
    fn rules_deciding(&self, input: &FloorInput, hits: &mut Vec<usize>) -> bool {
        let holds = |c: &FloorCond| match *c {
            FloorCond::Amount(cmp, v) => cmp.holds(input.amount, v),
            FloorCond::Count(cmp, v) => cmp.holds(input.count, v),
            FloorCond::Risk(cmp, v) => cmp.holds(input.risk, v),
            FloorCond::Region(bit) => input.regions & bit != 0,
            FloorCond::Tier(bits) => input.tier & bits != 0,
        };
        let mut denied = false;
        for (id, rule) in &self.by_action[input.action] {
            if rule.agent.is_some_and(|a| a != input.agent) || !rule.conds.iter().all(holds) {
                continue;
            }
            if rule.deny && !denied {
                // A deny outranks every allow found so far.
                denied = true;
                hits.clear();
            }
            if rule.deny == denied {
                hits.push(*id);
            }
        }
        !denied && !hits.is_empty()
    }

    fn decide_input(&self, input: &FloorInput) -> bool {
        let mut hits = Vec::new();
        let allowed = self.rules_deciding(input, &mut hits);
        if self.decision {
            std::hint::black_box(self.decision_of(allowed, &hits));
        }
        allowed
    }

    /// The decision actpol returns: the rules that decided, each rule's
    /// reason (its name), or the default.
    fn decision_of(&self, allowed: bool, hits: &[usize]) -> actpol::Decision {
        let names: Vec<String> = hits.iter().map(|id| self.names[*id].clone()).collect();
        let reasons = if hits.is_empty() {
            vec![self.default_reason.clone()]
        } else {
            names.clone()
        };
        actpol::Decision {
            decision: if allowed {
                actpol::Level::Allow
            } else {
                actpol::Level::Deny
            },
            reasons,
            rules: names,
            constraints: Vec::new(),
            escalation: None,
            budgets: Vec::new(),
            policy: self
                .policy
                .clone()
                .unwrap_or_else(|| actpol::decision::PolicyRef::new("", "")),
            errors: Vec::new(),
            explanation: None,
            id: None,
            reservations: Vec::new(),
            approval: None,
        }
    }

    /// The decision for prepared input `i`, for the check that holds the
    /// floor to actpol's own.
    pub fn decision(&self, i: usize) -> actpol::Decision {
        let mut hits = Vec::new();
        let allowed = self.rules_deciding(&self.prepared[i], &mut hits);
        self.decision_of(allowed, &hits)
    }
}

impl Engine for Floor {
    fn prepare(&mut self, json: &[u8]) -> Res<()> {
        let input = self.parse(json)?;
        self.prepared.push(input);
        Ok(())
    }

    fn decide(&mut self, i: usize) -> bool {
        self.decide_input(&self.prepared[i])
    }

    fn decide_json(&mut self, json: &[u8]) -> Res<bool> {
        let input = self.parse(json)?;
        Ok(self.decide_input(&input))
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
        for (shape, n) in [
            (family::Shape::Spread, 10),
            (family::Shape::Spread, 30),
            (family::Shape::OneAction, 30),
        ] {
            let family = Family::generate_shaped(shape, n, 40, 11);
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

    /// The floor that builds a decision builds exactly actpol's.
    #[test]
    fn the_floor_builds_actpols_decision() {
        for shape in [family::Shape::Spread, family::Shape::OneAction] {
            let family = Family::generate_shaped(shape, 30, 40, 5);
            let sources = Sources::render(&family);
            let mut actpol = Actpol::build(&sources.actpol).unwrap();
            let mut floor = Floor::build(&family, true);
            for (i, r) in family.requests.iter().enumerate() {
                actpol.prepare(&r.json).unwrap();
                floor.prepare(&r.json).unwrap();
                let ours = actpol.policy.decide(&actpol.bound[i], &actpol.state);
                assert_eq!(floor.decision(i), ours, "{} request {i}", shape.name());
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
