//! The state of one check, shared by the phases in `schema`, `expr`,
//! `policy` and `lints`.

use std::collections::HashMap;

use actpol_core::ids::{ActionId, RiskId};
use actpol_core::schema::{AgentDef, ApproverDef, BudgetDef, Schema};
use actpol_core::types::Type;
use indexmap::{IndexMap, IndexSet};

use crate::decls::Decls;
use crate::patterns::PatternIndex;
use crate::schema::Tables;
use crate::unit::Unit;

#[derive(Debug)]
pub(crate) struct Checker<'a> {
    pub unit: Unit<'a>,
    pub decls: Decls<'a>,
    pub schema: Schema,
    pub tables: Tables,
    pub patterns: PatternIndex,
    pub approvers: IndexMap<String, ApproverDef>,
    pub agents: IndexMap<String, AgentDef>,
    /// Workflows some agent runs.
    pub workflows: IndexSet<String>,
    pub budgets: IndexMap<String, BudgetDef>,
    /// A budget's type, `None` where it was wrong; indexed by budget id.
    pub budget_types: Vec<Option<Type>>,
    /// Whether any rule, risk, raise or scope reads or consumes the budget.
    pub budget_used: Vec<bool>,
    pub risks: Vec<RiskSlot>,
    pub risk_ids: HashMap<String, RiskId>,
}

/// A named risk, checked on first use so a risk may read a later one.
#[derive(Debug, Default)]
pub(crate) struct RiskSlot {
    /// `None`: the risk has no `on` and applies to every action.
    pub actions: Option<Vec<ActionId>>,
    pub state: RiskState,
    pub expr: Option<actpol_ir::Expr>,
    pub ty: Option<Type>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum RiskState {
    #[default]
    Unchecked,
    /// Being checked: reading it now would be a cycle.
    Checking,
    Done,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(mut unit: Unit<'a>) -> Self {
        let decls = Decls::collect(&mut unit);
        Checker {
            unit,
            decls,
            schema: Schema::new(),
            tables: Tables::default(),
            patterns: PatternIndex::default(),
            approvers: IndexMap::new(),
            agents: IndexMap::new(),
            workflows: IndexSet::new(),
            budgets: IndexMap::new(),
            budget_types: Vec::new(),
            budget_used: Vec::new(),
            risks: Vec::new(),
            risk_ids: HashMap::new(),
        }
    }
}
