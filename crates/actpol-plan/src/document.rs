//! The plan document and its checks.
//!
//! ```json
//! {"id": "plan-7",
//!  "agent": {"id": "growth-bot", "owner": "maria@acme.example", "workflow": "lead-routing"},
//!  "time": "2026-11-25T14:00:00Z",
//!  "context": {"change_freeze": false},
//!  "nodes": [
//!    {"id": "export", "action": {"name": "crm.export", "params": {}},
//!     "object": {"type": "Account", "id": "acc-1", "attrs": {}}},
//!    {"id": "send", "action": {"name": "outbound.send", "params": {"recipients": 40}},
//!     "object": {"type": "Sequence", "id": "seq-42", "attrs": {}}}],
//!  "edges": [{"from": "export", "to": "send"}]}
//! ```
//!
//! A node is an envelope without the fields the plan shares: `agent` and
//! `plan` come from the plan, `time` and `context` from the plan unless the
//! node gives its own (a node's context fields join the plan's). A node may
//! say, under `triggers`, what the actions its action triggers act on:
//! `{"crm.log_activity": {"object": {...}, "params": {...}}}`; without
//! that, an implied node acts on its trigger's object with the parameters
//! of its trigger that the triggered action declares.

use std::collections::HashMap;

use actpol_core::envelope::{BoundEnvelope, Envelope, EnvelopeError};
use actpol_core::schema::TriggerDef;
use actpol_core::suggest::did_you_mean_clause;
use actpol_core::{ActionId, ErrorCode};
use serde_json::{Map, Value as Json};

use crate::error::PlanError;
use crate::{graph, Decider};

/// The most nodes a plan may hold, implied nodes included.
pub const MAX_NODES: usize = 20_000;
/// The most edges a plan may hold.
pub const MAX_EDGES: usize = 200_000;

const PLAN_FIELDS: &[&str] = &[
    "id", "agent", "time", "context", "entities", "triggers", "nodes", "edges",
];
const NODE_FIELDS: &[&str] = &[
    "id", "action", "object", "intent", "rollback", "context", "time", "triggers",
];
/// Fields of the envelope a node does not give: the plan gives them.
const SHARED_FIELDS: &[&str] = &["agent", "plan", "approval", "entities"];

/// A checked plan: its nodes bound to a policy's schema, implied nodes
/// added, and the order they are decided in.
#[derive(Debug)]
pub struct Plan {
    /// The plan's id: what `plan.id` reads and `per plan` budgets key by.
    pub id: String,
    /// The agent proposing it.
    pub agent: String,
    /// Written nodes first, in document order, then implied nodes.
    pub nodes: Vec<PlanNode>,
    /// Every edge, `from` before `to`, implied ones included.
    pub edges: Vec<(usize, usize)>,
    /// The order nodes are decided in: topological, ties to document
    /// order, each node's implied nodes right after it.
    pub order: Vec<usize>,
    /// Each node's predecessors.
    pub(crate) parents: Vec<Vec<usize>>,
}

/// One node of a plan.
#[derive(Debug)]
pub struct PlanNode {
    /// The id the document gives, or `<trigger>~<action>` for an implied
    /// node.
    pub id: String,
    /// The action's name.
    pub action: String,
    /// For an implied node, the node whose action triggers it.
    pub implied_by: Option<usize>,
    /// Systems the action declares it triggers (`system analytics`):
    /// effects with no action to decide.
    pub effects: Vec<String>,
    /// Its 1-based place in the order: what `plan.step` reads.
    pub step: i64,
    /// The bound envelope. Only an implied node can fail to bind (the plan
    /// is refused when a written node does): it is then decided as the
    /// policy's `on_error`.
    pub envelope: Result<BoundEnvelope, EnvelopeError>,
}

impl Plan {
    /// Reads and checks a plan document against `decider`'s schema. Every
    /// error is reported at once, each with a JSON path.
    pub fn read(bytes: &[u8], decider: &dyn Decider) -> Result<Plan, Vec<PlanError>> {
        let doc: Json = serde_json::from_slice(bytes).map_err(|e| {
            vec![PlanError::new(
                ErrorCode::PlanMalformed,
                "$",
                format!("the plan is not JSON: {e}"),
            )
            .help("a plan is one JSON object with `id`, `agent`, `time`, `nodes` and `edges`")]
        })?;
        let mut errors = Vec::new();
        let shape = Shape::read(&doc, &mut errors);
        let Some(shape) = shape else {
            return Err(errors);
        };
        let written = shape.nodes.len();
        let edges = shape.edges(&mut errors);
        let order = if errors.is_empty() {
            match graph::topological(written, &edges) {
                Ok(order) => order,
                Err(cycle) => {
                    errors.push(shape.cycle_error(&cycle, &edges));
                    (0..written).collect()
                }
            }
        } else {
            (0..written).collect()
        };
        let mut builder = Builder {
            shape: &shape,
            decider,
            nodes: Vec::with_capacity(written),
            edges,
            order: Vec::with_capacity(written),
            errors,
        };
        builder.add_written();
        for &i in &order {
            builder.place(i);
        }
        if builder.nodes.len() > MAX_NODES {
            builder.errors.push(too_large(builder.nodes.len()));
        }
        if !builder.errors.is_empty() {
            return Err(builder.errors);
        }
        let mut parents = vec![Vec::new(); builder.nodes.len()];
        for &(from, to) in &builder.edges {
            parents[to].push(from);
        }
        Ok(Plan {
            id: shape.id.to_string(),
            agent: shape.agent_id.to_string(),
            nodes: builder.nodes,
            edges: builder.edges,
            order: builder.order,
            parents,
        })
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&PlanNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

fn too_large(count: usize) -> PlanError {
    PlanError::new(
        ErrorCode::PlanTooLarge,
        "$.nodes",
        format!("the plan has {count} nodes with its implied ones, more than {MAX_NODES}"),
    )
    .help("split the plan into plans of fewer steps")
}

/// Joins an implied node's id to its trigger's: `send-1~crm.log_activity`.
const IMPLIED_SEPARATOR: char = '~';

/// A written node's id that could be an implied node's: every implied id
/// holds the separator, so no written id may, and the two never collide.
fn implied_id(id: &str, i: usize) -> Option<PlanError> {
    let (trigger, action) = id.split_once(IMPLIED_SEPARATOR)?;
    Some(
        PlanError::new(
            ErrorCode::PlanImpliedId,
            format!("$.nodes[{i}].id"),
            format!("node id `{id}` holds `{IMPLIED_SEPARATOR}`, which names the steps a node triggers"),
        )
        .help(format!(
            "`{trigger}{IMPLIED_SEPARATOR}{action}` is the id of what `{trigger}` triggers; give this node an id without `{IMPLIED_SEPARATOR}`, as in `{trigger}-{}`",
            action.replace(IMPLIED_SEPARATOR, "-")
        )),
    )
}

/// The document's fields, read but not yet bound.
struct Shape<'a> {
    id: &'a str,
    agent: &'a Json,
    agent_id: &'a str,
    time: &'a Json,
    context: Option<&'a Map<String, Json>>,
    /// Related entities every node's envelope carries, as given (the
    /// envelope's reader checks them, at `$.entities…`).
    entities: Option<&'a Json>,
    /// What triggered actions act on, for every node that does not say.
    triggers: Option<&'a Map<String, Json>>,
    nodes: Vec<&'a Map<String, Json>>,
    node_ids: HashMap<&'a str, usize>,
    raw_edges: &'a [Json],
}

fn malformed(path: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError::new(ErrorCode::PlanMalformed, path, message)
}

impl<'a> Shape<'a> {
    fn read(doc: &'a Json, errors: &mut Vec<PlanError>) -> Option<Shape<'a>> {
        let Some(top) = doc.as_object() else {
            errors.push(malformed("$", "a plan is a JSON object").help(
                "write {\"id\": …, \"agent\": …, \"time\": …, \"nodes\": […], \"edges\": […]}",
            ));
            return None;
        };
        for key in top.keys() {
            if !PLAN_FIELDS.contains(&key.as_str()) {
                errors.push(
                    malformed(
                        format!("$.{key}"),
                        format!(
                            "a plan has no field `{key}`{}",
                            did_you_mean_clause(key, PLAN_FIELDS.iter().copied())
                        ),
                    )
                    .help("a plan holds `id`, `agent`, `time`, `context`, `entities`, `triggers`, `nodes` and `edges`"),
                );
            }
        }
        let id = required_str(top, "id", "$", errors);
        let agent = top.get("agent");
        let agent_id = agent
            .and_then(|a| a.get("id"))
            .and_then(Json::as_str)
            .unwrap_or("");
        if agent.is_none() {
            errors.push(missing("$.agent", "agent").help(
                "give the agent as in an envelope: {\"id\": …, \"owner\": …, \"workflow\": …}",
            ));
        }
        let time = top.get("time");
        if time.is_none() {
            errors.push(missing("$.time", "time").help("give the plan's time, RFC 3339"));
        }
        let context = match top.get("context") {
            None | Some(Json::Null) => None,
            Some(Json::Object(map)) => Some(map),
            Some(_) => {
                errors.push(malformed("$.context", "`context` is not an object"));
                None
            }
        };
        let entities = top.get("entities").filter(|e| !e.is_null());
        let triggers = read_triggers(top.get("triggers"), "$.triggers", errors);
        let nodes = read_nodes(top, errors);
        let raw_edges: &[Json] = match top.get("edges") {
            None | Some(Json::Null) => &[],
            Some(Json::Array(edges)) => edges,
            Some(_) => {
                errors.push(
                    malformed("$.edges", "`edges` is not an array")
                        .help("write edges as [{\"from\": \"a\", \"to\": \"b\"}, …]"),
                );
                &[]
            }
        };
        if raw_edges.len() > MAX_EDGES {
            errors.push(
                PlanError::new(
                    ErrorCode::PlanTooLarge,
                    "$.edges",
                    format!(
                        "the plan has {} edges, more than {MAX_EDGES}",
                        raw_edges.len()
                    ),
                )
                .help("split the plan into plans of fewer steps"),
            );
        }
        let mut node_ids = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            let Some(nid) = required_str(node, "id", &format!("$.nodes[{i}]"), errors) else {
                continue;
            };
            if let Some(first) = node_ids.insert(nid, i) {
                node_ids.insert(nid, first);
                errors.push(
                    PlanError::new(
                        ErrorCode::PlanDuplicateNode,
                        format!("$.nodes[{i}].id"),
                        format!("node id `{nid}` is also the id of `$.nodes[{first}]`"),
                    )
                    .help("give every node of a plan its own id"),
                );
            }
            if let Some(error) = implied_id(nid, i) {
                errors.push(error);
            }
            check_node_fields(node, i, errors);
            read_triggers(
                node.get("triggers"),
                &format!("$.nodes[{i}].triggers"),
                errors,
            );
        }
        if nodes.len() > MAX_NODES {
            errors.push(too_large(nodes.len()));
        }
        let (Some(id), Some(agent), Some(time)) = (id, agent, time) else {
            return None;
        };
        if !errors.is_empty() && nodes.is_empty() {
            return None;
        }
        Some(Shape {
            id,
            agent,
            agent_id,
            time,
            context,
            entities,
            triggers,
            nodes,
            node_ids,
            raw_edges,
        })
    }

    /// The edges as node indices; dangling and malformed edges are errors.
    fn edges(&self, errors: &mut Vec<PlanError>) -> Vec<(usize, usize)> {
        let mut edges = Vec::with_capacity(self.raw_edges.len());
        for (k, edge) in self.raw_edges.iter().enumerate() {
            let path = format!("$.edges[{k}]");
            let Some(map) = edge.as_object() else {
                errors.push(
                    malformed(&path, "an edge is an object")
                        .help("write an edge as {\"from\": \"a\", \"to\": \"b\"}"),
                );
                continue;
            };
            for key in map.keys() {
                if key != "from" && key != "to" {
                    errors.push(
                        malformed(
                            format!("{path}.{key}"),
                            format!("an edge has no field `{key}`"),
                        )
                        .help("an edge holds `from` and `to`"),
                    );
                }
            }
            let from = self.endpoint(map, "from", &path, errors);
            let to = self.endpoint(map, "to", &path, errors);
            if let (Some(from), Some(to)) = (from, to) {
                edges.push((from, to));
            }
        }
        edges
    }

    fn endpoint(
        &self,
        edge: &Map<String, Json>,
        end: &str,
        path: &str,
        errors: &mut Vec<PlanError>,
    ) -> Option<usize> {
        let name = required_str(edge, end, path, errors)?;
        match self.node_ids.get(name) {
            Some(&i) => Some(i),
            None => {
                errors.push(
                    PlanError::new(
                        ErrorCode::PlanDanglingEdge,
                        format!("{path}.{end}"),
                        format!(
                            "no node `{name}`{}",
                            did_you_mean_clause(name, self.node_ids.keys().copied())
                        ),
                    )
                    .help("an edge joins two nodes of the plan, by their ids"),
                );
                None
            }
        }
    }

    fn node_id(&self, i: usize) -> &str {
        self.nodes[i].get("id").and_then(Json::as_str).unwrap_or("")
    }

    fn cycle_error(&self, cycle: &[usize], edges: &[(usize, usize)]) -> PlanError {
        let first = cycle[0];
        let second = cycle[(1) % cycle.len()];
        let k = edges
            .iter()
            .position(|&e| e == (first, second))
            .unwrap_or(0);
        let mut names: Vec<String> = cycle
            .iter()
            .map(|&i| format!("`{}`", self.node_id(i)))
            .collect();
        names.push(format!("`{}`", self.node_id(first)));
        PlanError::new(
            ErrorCode::PlanCycle,
            format!("$.edges[{k}]"),
            format!("the edges make a cycle: {}", names.join(" -> ")),
        )
        .help("a plan is a DAG: remove an edge of the cycle")
    }
}

fn read_nodes<'a>(
    top: &'a Map<String, Json>,
    errors: &mut Vec<PlanError>,
) -> Vec<&'a Map<String, Json>> {
    let nodes = match top.get("nodes") {
        Some(Json::Array(nodes)) => nodes,
        Some(_) => {
            errors.push(malformed("$.nodes", "`nodes` is not an array"));
            return Vec::new();
        }
        None => {
            errors.push(missing("$.nodes", "nodes"));
            return Vec::new();
        }
    };
    if nodes.is_empty() {
        errors.push(
            PlanError::new(ErrorCode::PlanEmpty, "$.nodes", "the plan has no nodes")
                .help("a plan holds at least one action"),
        );
    }
    let mut out = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        match node.as_object() {
            Some(map) => out.push(map),
            None => errors.push(malformed(
                format!("$.nodes[{i}]"),
                "a node is a JSON object",
            )),
        }
    }
    out
}

/// A `triggers` map: action name to `{"object": …, "params": …}`.
fn read_triggers<'a>(
    value: Option<&'a Json>,
    path: &str,
    errors: &mut Vec<PlanError>,
) -> Option<&'a Map<String, Json>> {
    let map = match value {
        None | Some(Json::Null) => return None,
        Some(Json::Object(map)) => map,
        Some(_) => {
            errors.push(
                malformed(path, "`triggers` is not an object")
                    .help("write {\"<triggered action>\": {\"object\": {…}, \"params\": {…}}}"),
            );
            return None;
        }
    };
    for (action, spec) in map {
        let Some(spec) = spec.as_object() else {
            errors.push(malformed(
                format!("{path}.{action}"),
                format!("what `{action}` acts on is not an object"),
            ));
            continue;
        };
        for key in spec.keys() {
            if key != "object" && key != "params" {
                errors.push(
                    malformed(
                        format!("{path}.{action}.{key}"),
                        format!("a trigger has no field `{key}`"),
                    )
                    .help("a trigger gives the triggered action's `object` and `params`"),
                );
            }
        }
    }
    Some(map)
}

fn check_node_fields(node: &Map<String, Json>, i: usize, errors: &mut Vec<PlanError>) {
    for key in node.keys() {
        if NODE_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let path = format!("$.nodes[{i}].{key}");
        let error = if key == "entities" {
            PlanError::new(
                ErrorCode::PlanNodeField,
                path,
                "a node does not give `entities`: the plan does",
            )
            .help("give related entities once, in the plan's `entities`: every node reads the same ones")
        } else if SHARED_FIELDS.contains(&key.as_str()) {
            PlanError::new(
                ErrorCode::PlanNodeField,
                path,
                format!("a node does not give `{key}`: the plan does"),
            )
            .help("every node of a plan is the plan's agent's, under the plan's id")
        } else {
            PlanError::new(
                ErrorCode::PlanNodeField,
                path,
                format!(
                    "a node has no field `{key}`{}",
                    did_you_mean_clause(key, NODE_FIELDS.iter().copied())
                ),
            )
            .help("a node holds `id`, `action`, `object` and optionally `intent`, `rollback`, `context`, `time`, `triggers`")
        };
        errors.push(error);
    }
}

fn missing(path: &str, field: &str) -> PlanError {
    PlanError::new(
        ErrorCode::PlanMalformed,
        path,
        format!("missing field `{field}`"),
    )
}

fn required_str<'a>(
    map: &'a Map<String, Json>,
    field: &str,
    path: &str,
    errors: &mut Vec<PlanError>,
) -> Option<&'a str> {
    match map.get(field) {
        Some(Json::String(s)) if !s.is_empty() => Some(s),
        Some(Json::String(_)) => {
            errors.push(malformed(
                format!("{path}.{field}"),
                format!("`{field}` is empty"),
            ));
            None
        }
        Some(_) => {
            errors.push(malformed(
                format!("{path}.{field}"),
                format!("`{field}` is not a string"),
            ));
            None
        }
        None => {
            errors.push(missing(&format!("{path}.{field}"), field));
            None
        }
    }
}

/// Builds bound nodes: written ones in document order, then implied ones
/// as each written node takes its place in the order.
struct Builder<'s, 'a> {
    shape: &'s Shape<'a>,
    decider: &'s dyn Decider,
    nodes: Vec<PlanNode>,
    edges: Vec<(usize, usize)>,
    order: Vec<usize>,
    errors: Vec<PlanError>,
}

impl Builder<'_, '_> {
    /// Adds the written nodes, in document order, to be bound as each takes
    /// its place in the order (their step is part of the envelope).
    fn add_written(&mut self) {
        for i in 0..self.shape.nodes.len() {
            let node = self.shape.nodes[i];
            self.nodes.push(PlanNode {
                id: self.shape.node_id(i).to_string(),
                action: action_name(node),
                implied_by: None,
                effects: Vec::new(),
                step: 0,
                // INVARIANT: `place` binds every written node, since the
                // order holds each once; until then it is not bound.
                envelope: Err(EnvelopeError::foreign(&action_name(node))),
            });
        }
    }

    /// Puts node `i` next in the order, with its implied nodes after it.
    fn place(&mut self, i: usize) {
        self.order.push(i);
        let step = self.order.len() as i64;
        let node = self.shape.nodes[i];
        let bound = bind_json(self.decider, self.envelope_json(node, None, step));
        self.nodes[i].step = step;
        let action = match bound {
            Ok(env) => {
                let action = env.action;
                self.nodes[i].envelope = Ok(env);
                action
            }
            Err(err) => {
                self.errors.push(node_error(&err, i, node));
                self.nodes[i].envelope = Err(err);
                return;
            }
        };
        let mut chain = vec![action];
        self.expand(i, i, action, &mut chain);
    }

    /// Adds the nodes `action` (of node `at`, written node `root`)
    /// triggers, depth first; an action already on the chain of triggers is
    /// not added again, so trigger cycles end.
    fn expand(&mut self, at: usize, root: usize, action: ActionId, chain: &mut Vec<ActionId>) {
        let schema = self.decider.schema();
        let mut triggers = schema.action(action).triggers.clone();
        // An action listed twice is one step: its id names it once.
        let mut seen = Vec::with_capacity(triggers.len());
        triggers.retain(|t| {
            let first = !seen.contains(t);
            seen.push(*t);
            first
        });
        for trigger in triggers {
            match trigger {
                TriggerDef::System(system) => {
                    let name = format!("system {}", schema.system_name(system));
                    self.nodes[at].effects.push(name);
                }
                TriggerDef::Action(next) => {
                    if chain.contains(&next) || self.nodes.len() > MAX_NODES {
                        continue;
                    }
                    let child = self.implied(at, root, next);
                    chain.push(next);
                    self.expand(child, root, next, chain);
                    chain.pop();
                }
            }
        }
    }

    /// The node `action` makes when node `at` runs.
    fn implied(&mut self, at: usize, root: usize, action: ActionId) -> usize {
        let schema = self.decider.schema();
        let name = schema.action_name(action).to_string();
        let written = self.shape.nodes[root];
        let override_ = written
            .get("triggers")
            .and_then(|t| t.get(&name))
            .or_else(|| self.shape.triggers.and_then(|t| t.get(&name)))
            .and_then(Json::as_object);
        let parent_env = self.nodes[at].envelope.as_ref().ok();
        let mut node = Map::new();
        let params = match override_.and_then(|o| o.get("params")) {
            Some(params) => params.clone(),
            None => carried_params(parent_env, action, schema),
        };
        let mut action_json = Map::new();
        action_json.insert("name".into(), Json::String(name.clone()));
        action_json.insert("params".into(), params);
        node.insert("action".into(), Json::Object(action_json));
        let object = override_
            .and_then(|o| o.get("object"))
            .or_else(|| written.get("object"))
            .cloned()
            .unwrap_or(Json::Null);
        node.insert("object".into(), object);
        for shared in ["intent", "context", "time"] {
            if let Some(v) = written.get(shared) {
                node.insert(shared.into(), v.clone());
            }
        }
        let id = format!("{}{IMPLIED_SEPARATOR}{name}", self.nodes[at].id);
        let index = self.nodes.len();
        let step = self.order.len() as i64 + 1;
        let envelope = bind_json(self.decider, self.envelope_json(&node, Some(&id), step));
        self.nodes.push(PlanNode {
            id,
            action: name,
            implied_by: Some(at),
            effects: Vec::new(),
            step,
            envelope,
        });
        self.edges.push((at, index));
        self.order.push(index);
        index
    }

    /// The envelope a node stands for: the node's fields, and the plan's
    /// where the node gives none.
    fn envelope_json(&self, node: &Map<String, Json>, implied_id: Option<&str>, step: i64) -> Json {
        let shape = self.shape;
        let node_id = implied_id
            .or_else(|| node.get("id").and_then(Json::as_str))
            .unwrap_or("");
        let mut env = Map::new();
        env.insert("id".into(), Json::String(format!("{}/{node_id}", shape.id)));
        env.insert("agent".into(), shape.agent.clone());
        for field in ["action", "object", "intent", "rollback"] {
            if let Some(v) = node.get(field) {
                env.insert(field.into(), v.clone());
            }
        }
        env.insert(
            "time".into(),
            node.get("time").unwrap_or(shape.time).clone(),
        );
        let mut context = shape.context.cloned().unwrap_or_default();
        if let Some(Json::Object(own)) = node.get("context") {
            for (k, v) in own {
                context.insert(k.clone(), v.clone());
            }
        } else if let Some(other) = node.get("context") {
            // Not an object: let the envelope's reader say so at its path.
            env.insert("context".into(), other.clone());
        }
        if !env.contains_key("context") && (shape.context.is_some() || node.contains_key("context"))
        {
            env.insert("context".into(), Json::Object(context));
        }
        if let Some(entities) = shape.entities {
            env.insert("entities".into(), entities.clone());
        }
        let mut plan = Map::new();
        plan.insert("id".into(), Json::String(shape.id.to_string()));
        plan.insert("step".into(), Json::from(step));
        env.insert("plan".into(), Json::Object(plan));
        Json::Object(env)
    }
}

/// The parameters of the triggering envelope that `action` declares.
fn carried_params(
    parent: Option<&BoundEnvelope>,
    action: ActionId,
    schema: &actpol_core::Schema,
) -> Json {
    let Some(parent) = parent else {
        return Json::Object(Map::new());
    };
    let raw = parent.raw();
    let def = schema.action(action);
    let carried = raw
        .action
        .params
        .iter()
        .filter(|(name, _)| {
            def.params
                .iter()
                .any(|p| schema.field_name(p.name) == *name)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Json::Object(carried)
}

fn action_name(node: &Map<String, Json>) -> String {
    node.get("action")
        .and_then(|a| a.get("name"))
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

fn bind_json(decider: &dyn Decider, envelope: Json) -> Result<BoundEnvelope, EnvelopeError> {
    // The envelope's own reader gives its errors their paths and codes.
    let bytes = serde_json::to_vec(&envelope).unwrap_or_default();
    let envelope = Envelope::from_json(&bytes)?;
    decider.bind(envelope)
}

/// An envelope error of written node `i`, at its path in the plan.
fn node_error(err: &EnvelopeError, i: usize, node: &Map<String, Json>) -> PlanError {
    let node_has = |field: &str| node.contains_key(field);
    let rest = err.path.strip_prefix('$').unwrap_or(&err.path);
    let first = rest
        .trim_start_matches('.')
        .split(['.', '['])
        .next()
        .unwrap_or("");
    let path = match first {
        "agent" => format!("${rest}"),
        "plan" => "$.id".to_string(),
        "id" => format!("$.nodes[{i}].id"),
        "time" if !node_has("time") => "$.time".to_string(),
        "entities" => format!("${rest}"),
        "context" if !context_from_node(node, rest) => format!("${rest}"),
        _ => format!("$.nodes[{i}]{rest}"),
    };
    PlanError {
        code: err.code,
        path,
        message: err.message.clone(),
        help: err.help.clone(),
    }
}

/// Whether the context field at `rest` (`.context.region`) is the node's.
fn context_from_node(node: &Map<String, Json>, rest: &str) -> bool {
    let Some(Json::Object(own)) = node.get("context") else {
        return node.contains_key("context");
    };
    match rest.strip_prefix(".context.") {
        Some(field) => own.contains_key(field.split(['.', '[']).next().unwrap_or("")),
        None => true,
    }
}
