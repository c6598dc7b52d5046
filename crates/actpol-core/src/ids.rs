//! Table indices. Names are resolved once, by the checker; everything after
//! it speaks in these ids.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }

            pub fn from_index(index: usize) -> Self {
                // INVARIANT: tables are far smaller than u32::MAX entries.
                $name(index as u32)
            }
        }
    };
}

id!(
    /// An enum in [`crate::Schema::enums`].
    EnumId
);
id!(
    /// An entity in [`crate::Schema::entities`].
    EntityId
);
id!(
    /// A record type in [`crate::Schema::records`].
    RecordId
);
id!(
    /// An action in [`crate::Schema::actions`].
    ActionId
);
id!(
    /// A system in [`crate::Schema::systems`].
    SystemId
);
id!(
    /// A data class in [`crate::Schema::data_classes`].
    DataClassId
);
id!(
    /// A field name (parameter, attribute or context field) in
    /// [`crate::Schema::field_names`]: one id per distinct name, so a rule
    /// over several actions reads `params.amount` the same way on each.
    NameId
);
id!(
    /// An agent in [`crate::PolicyMeta::agents`].
    AgentId
);
id!(
    /// An approver in [`crate::PolicyMeta::approvers`].
    ApproverId
);
id!(
    /// A budget in [`crate::PolicyMeta::budgets`].
    BudgetId
);
id!(
    /// A rule, in declaration order.
    RuleId
);
id!(
    /// A raise declaration, in declaration order.
    RaiseId
);
id!(
    /// A named risk expression, in declaration order.
    RiskId
);
