//! Plans: a DAG of proposed actions decided as a whole, before the first
//! step runs (see `docs/plans.md`).
//!
//! ```no_run
//! use actpol::{MemoryState, Policy};
//!
//! let policy = Policy::from_paths(&["examples/growth"]).expect("policy compiles");
//! let bytes = std::fs::read("examples/growth/plans/leak.plan.json").unwrap();
//! let plan = policy.read_plan(&bytes).expect("the plan holds together");
//! let decided = policy.decide_plan(&plan, &MemoryState::default());
//! print!("{}", actpol::plan::render::text(&decided));
//! ```

pub use actpol_plan::document::{MAX_EDGES, MAX_NODES};
pub use actpol_plan::overlay::PlanState;
pub use actpol_plan::render;
pub use actpol_plan::{
    EdgeOut, EscalatedNode, NodeDecision, Plan, PlanDecision, PlanError, PlanErrors, PlanNode,
    PlanPacket,
};

use actpol_core::envelope::{BoundEnvelope, Envelope, EnvelopeError};
use actpol_core::{Decision, Schema, StateView};

use crate::store::{Store, StoreError};
use crate::Policy;

impl Policy {
    /// Reads a plan document and checks it against this policy: its shape,
    /// its edges (no dangling edge, no cycle), unique node ids, and every
    /// node's envelope against the schema; then orders it and adds the
    /// nodes its actions trigger. Every error is reported, each with a
    /// JSON path into the plan.
    pub fn read_plan(&self, bytes: &[u8]) -> Result<Plan, PlanErrors> {
        Plan::read(bytes, &Decide::new(self, false)).map_err(|errors| PlanErrors { errors })
    }

    /// Decides every node of `plan` in order, each against `state` plus
    /// what the nodes before it that run would consume; marks what waits
    /// on a node that does not proceed; gathers the escalations into one
    /// packet. The plan's decision is the strictest of its nodes'.
    pub fn decide_plan(&self, plan: &Plan, state: &dyn StateView) -> PlanDecision {
        plan.decide(&Decide::new(self, false), state)
    }

    /// Decides a plan as [`Policy::decide_plan`] does, each node's decision
    /// with its explanation (in [`NodeDecision::full`]): what rule coverage
    /// reads.
    pub fn decide_plan_explained(&self, plan: &Plan, state: &dyn StateView) -> PlanDecision {
        plan.decide(&Decide::new(self, true), state)
    }

    /// [`Policy::decide_plan`] against a store's state as a decision at
    /// `now` would read it, writing nothing: no reservation, no log record,
    /// no approval. A plan is judged before it runs; its steps, when they
    /// run, are decided one by one.
    pub fn decide_plan_stored(
        &self,
        plan: &Plan,
        store: &dyn Store,
        now: i64,
    ) -> Result<PlanDecision, StoreError> {
        let mut decided = None;
        store.read_state(now, &mut |view| {
            decided = Some(self.decide_plan(plan, view));
        })?;
        decided.ok_or_else(|| {
            StoreError::backend(
                "decide a plan",
                std::io::Error::other("the store read no state"),
            )
        })
    }
}

/// A policy as the plan evaluator decides nodes with.
/// The policy as a plan's decider: explaining each node's decision or not.
struct Decide<'p> {
    policy: &'p Policy,
    explain: bool,
}

impl<'p> Decide<'p> {
    fn new(policy: &'p Policy, explain: bool) -> Self {
        Decide { policy, explain }
    }
}

impl actpol_plan::Decider for Decide<'_> {
    fn schema(&self) -> &Schema {
        &self.policy.runtime.program().schema
    }

    fn bind(&self, envelope: Envelope) -> Result<BoundEnvelope, EnvelopeError> {
        self.policy.bind(envelope)
    }

    fn decide(&self, envelope: &BoundEnvelope, state: &dyn StateView) -> Decision {
        self.policy.run(envelope, self.explain, state)
    }

    fn refuse(&self, error: &EnvelopeError) -> Decision {
        self.policy.runtime.refuse(error)
    }
}
