//! Deciding a plan: every node in order, against what came before it.

use actpol_core::decision::{BudgetUse, ConstraintOut, ErrorOut, PolicyRef};
use actpol_core::packet::Packet;
use actpol_core::{Decision, Level, StateView};
use serde::Serialize;

use crate::document::Plan;
use crate::overlay::PlanState;
use crate::Decider;

/// A plan decided: each node's decision, what blocks it, the plan's
/// decision and its exception packet.
#[derive(Clone, Debug, Serialize)]
pub struct PlanDecision {
    /// The plan's id.
    pub plan: String,
    /// The agent proposing it.
    pub agent: String,
    /// The strictest decision of its nodes.
    pub decision: Level,
    /// Each node, in the order they were decided.
    pub nodes: Vec<NodeDecision>,
    /// Every edge, by node id; `implied` for a trigger's.
    pub edges: Vec<EdgeOut>,
    /// Every escalated node, for the approvers: present when one escalates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<PlanPacket>,
    /// The policy that decided.
    pub policy: PolicyRef,
}

/// An edge of a decided plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EdgeOut {
    /// The node that runs first.
    pub from: String,
    /// The node that runs after it.
    pub to: String,
    /// Whether the edge is a declared trigger rather than written.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub implied: bool,
}

/// One node of a decided plan.
#[derive(Clone, Debug, Serialize)]
pub struct NodeDecision {
    /// The node's id.
    pub id: String,
    /// The action's name.
    pub action: String,
    /// Its 1-based place in the order (`plan.step`).
    pub step: i64,
    /// For an implied node, the node whose action triggers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implied_by: Option<String>,
    /// The node's own decision, against the state with every earlier node
    /// that proceeds added.
    pub decision: Level,
    /// Why, in the words of the rules that set the level.
    pub reasons: Vec<String>,
    /// The rules and raises that set the level.
    pub rules: Vec<String>,
    /// What a `constrain` decision binds the action to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<ConstraintOut>,
    /// Budgets after this node: consumption accumulated along the plan.
    pub budgets: Vec<BudgetUse>,
    /// Earlier nodes, upstream of this one, that do not proceed (`deny`,
    /// `escalate`), nearest the start first: while any is not resolved,
    /// this node does not run, and it consumes nothing in the plan.
    pub blocked_by: Vec<String>,
    /// For an escalated node, the approver it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Systems the action declares it triggers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<String>,
    /// Errors met deciding it; a node with errors never allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorOut>,
    /// The rest of the decision (its escalation, policy, explanation):
    /// its reasons, rules, constraints, budgets and errors moved into this
    /// node's fields, and an escalation's packet into the plan's packet.
    #[serde(skip)]
    pub full: Decision,
}

impl NodeDecision {
    /// Whether the node runs as the plan stands: it proceeds and nothing
    /// upstream blocks it.
    pub fn runs(&self) -> bool {
        self.decision.proceeds() && self.blocked_by.is_empty()
    }
}

/// One exception packet for a plan: every escalated node with its
/// evidence, and what waits on it.
#[derive(Clone, Debug, Serialize)]
pub struct PlanPacket {
    /// One line for the approvers.
    pub summary: String,
    /// The approvers named, each once, in order of first escalation.
    pub approvers: Vec<String>,
    /// Every escalated node, in plan order.
    pub escalated: Vec<EscalatedNode>,
}

/// An escalated node in a plan's packet.
#[derive(Clone, Debug, Serialize)]
pub struct EscalatedNode {
    /// The node's id.
    pub node: String,
    /// The action.
    pub action: String,
    /// Who decides it.
    pub approver: String,
    /// Why it escalates.
    pub reasons: Vec<String>,
    /// The nodes that wait on it.
    pub blocks: Vec<String>,
    /// The node's own exception packet: the evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<Packet>,
}

impl Plan {
    /// Decides every node in order against `base` plus what the nodes
    /// before it that run consume. Never fails: a node that cannot be
    /// decided is the policy's `on_error`, never `allow`.
    pub fn decide(&self, decider: &dyn Decider, base: &dyn StateView) -> PlanDecision {
        let mut state = PlanState::new(base);
        let schema = decider.schema();
        // Only a schema in which some action reads a data class has
        // anything to flow along the edges.
        let flows = schema.actions.values().any(|a| !a.reads.is_empty());
        // Per node: the nodes upstream that do not proceed, as indices.
        let mut blockers: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        let mut decided: Vec<Option<Decision>> = vec![None; self.nodes.len()];
        for &i in &self.order {
            let mut blocking = Vec::new();
            for &p in &self.parents[i] {
                blocking.extend_from_slice(&blockers[p]);
                if decided[p].as_ref().is_some_and(|d| !d.decision.proceeds()) {
                    blocking.push(p);
                }
            }
            blocking.sort_by_key(|&b| self.nodes[b].step);
            blocking.dedup();
            let node = &self.nodes[i];
            let decision = match &node.envelope {
                Ok(env) => {
                    if flows {
                        state.focus(i, &self.parents);
                    }
                    let d = decider.decide(env, &state);
                    if blocking.is_empty() {
                        state.record(i, env, &d, schema);
                    }
                    d
                }
                Err(err) => decider.refuse(err),
            };
            blockers[i] = blocking;
            decided[i] = Some(decision);
        }
        let mut nodes = Vec::with_capacity(self.order.len());
        for &i in &self.order {
            // INVARIANT: the order holds every node, each decided above.
            let full = decided[i]
                .take()
                .unwrap_or_else(|| unreachable_decision(decider));
            nodes.push(self.node_out(i, full, &blockers[i]));
        }
        self.finish(nodes, decider)
    }

    fn node_out(&self, i: usize, mut full: Decision, blockers: &[usize]) -> NodeDecision {
        let node = &self.nodes[i];
        NodeDecision {
            id: node.id.clone(),
            action: node.action.clone(),
            step: node.step,
            implied_by: node.implied_by.map(|p| self.nodes[p].id.clone()),
            decision: full.decision,
            reasons: std::mem::take(&mut full.reasons),
            rules: std::mem::take(&mut full.rules),
            constraints: std::mem::take(&mut full.constraints),
            budgets: std::mem::take(&mut full.budgets),
            blocked_by: blockers.iter().map(|&b| self.nodes[b].id.clone()).collect(),
            approver: full.escalation.as_ref().map(|e| e.approver.clone()),
            effects: node.effects.clone(),
            errors: std::mem::take(&mut full.errors),
            full,
        }
    }

    fn finish(&self, mut nodes: Vec<NodeDecision>, decider: &dyn Decider) -> PlanDecision {
        let decision = nodes
            .iter()
            .map(|n| n.decision)
            .max()
            .unwrap_or(Level::Deny);
        let policy = nodes
            .first()
            .map(|n| n.full.policy.clone())
            .unwrap_or_else(|| unreachable_decision(decider).policy);
        let edges = self
            .edges
            .iter()
            .map(|&(from, to)| EdgeOut {
                from: self.nodes[from].id.clone(),
                to: self.nodes[to].id.clone(),
                implied: self.nodes[to].implied_by == Some(from),
            })
            .collect();
        let packet = plan_packet(&mut nodes);
        PlanDecision {
            plan: self.id.clone(),
            agent: self.agent.clone(),
            decision,
            nodes,
            edges,
            packet,
            policy,
        }
    }
}

/// A decision for a node the order somehow missed: fail closed.
fn unreachable_decision(decider: &dyn Decider) -> Decision {
    decider.refuse(&actpol_core::EnvelopeError::foreign("(not decided)"))
}

/// The plan's packet, each escalated node's own packet moved into it.
fn plan_packet(nodes: &mut [NodeDecision]) -> Option<PlanPacket> {
    let mut approvers: Vec<String> = Vec::new();
    let mut escalated = Vec::new();
    for k in 0..nodes.len() {
        if nodes[k].decision != Level::Escalate {
            continue;
        }
        let node = &nodes[k];
        let Some(escalation) = &node.full.escalation else {
            continue;
        };
        if !approvers.contains(&escalation.approver) {
            approvers.push(escalation.approver.clone());
        }
        escalated.push(EscalatedNode {
            node: node.id.clone(),
            action: node.action.clone(),
            approver: escalation.approver.clone(),
            reasons: node.reasons.clone(),
            blocks: nodes[k + 1..]
                .iter()
                .filter(|n| n.blocked_by.contains(&node.id))
                .map(|n| n.id.clone())
                .collect(),
            packet: None,
        });
        if let (Some(last), Some(escalation)) =
            (escalated.last_mut(), &mut nodes[k].full.escalation)
        {
            last.packet = escalation.packet.take();
        }
    }
    if escalated.is_empty() {
        return None;
    }
    let steps = escalated.len();
    let waiting: usize = nodes.iter().filter(|n| !n.blocked_by.is_empty()).count();
    let summary = format!(
        "{steps} step(s) of the plan need a human ({}); {waiting} step(s) wait on them",
        approvers.join(", ")
    );
    Some(PlanPacket {
        summary,
        approvers,
        escalated,
    })
}
