//! Seeded generators of everything a decision needs: a schema, a checked
//! policy over it (the typed IR, as the checker would produce it), action
//! envelopes for that policy, and the budget and window state a decision
//! reads.
//!
//! This crate exists for tests and benchmarks only: the differential test
//! of the VM against the reference evaluator, the artifact corruption
//! tests, and benchmarks that want many realistic policies. Nothing in the
//! product links it.
//!
//! Everything is deterministic: the same seed gives the same output, on
//! every platform, so a failing case is reproduced from its seed alone.
//!
//! ```
//! let schema = actpol_gen::schema(7);
//! let policy = actpol_gen::policy(7, &schema);
//! let envelope = actpol_gen::envelope(7, &policy);
//! let state = actpol_gen::state(7, &policy);
//! assert_eq!(policy.rules.len(), actpol_gen::policy(7, &schema).rules.len());
//! # let _ = (envelope, state);
//! ```
//!
//! What the generated policies respect (the IR contract the checker keeps):
//! `Rule::id` is the rule's position; rule, raise and risk action lists are
//! sorted and without duplicates; `Policy::scopes` has one entry per agent;
//! every id is in range; every expression has its exact type (an `Int`
//! meeting a `Decimal` is wrapped in `ToDecimal`); a read of an optional
//! field is guarded by `has`, except, rarely and on purpose, where the
//! absent-read error is what is being exercised.

mod collections;
mod dump;
mod envelope;
mod expr;
mod policy;
mod related;
mod rng;
mod schema;
mod state;

pub use dump::dump;
pub use envelope::{envelope, input, Input};
pub use policy::policy;
pub use rng::Rng;
pub use schema::schema;
pub use state::state;

/// The generated envelopes and events happen in the week from this instant,
/// 2026-11-23T00:00:00Z, a Monday, in milliseconds since the epoch.
pub const BASE_TIME: i64 = 1_795_392_000_000;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// Object ids envelopes and state events share, so windows and budgets kept
/// per object see the same records.
const OBJECT_IDS: [&str; 3] = ["o1", "o2", "o3"];
/// Plan ids envelopes and state events share.
const PLAN_IDS: [&str; 2] = ["p1", "p2"];
/// Owners and workflows agents are drawn from: several agents share them,
/// so budgets kept per owner or workflow are shared too.
const OWNERS: [&str; 3] = ["ana@acme.example", "ben@acme.example", "cy@acme.example"];
const WORKFLOWS: [&str; 3] = ["routing", "billing-ops", "cleanup"];

/// Instants either side of daylight-saving changes of the generated zones:
/// New York springs forward at 2026-03-08T07:00Z and falls back at
/// 2026-11-01T06:00Z; London falls back at 2026-10-25T01:00Z.
const DST_EDGES: [i64; 6] = [
    1_772_953_199_000, // 2026-03-08T06:59:59Z
    1_772_953_200_000, // 2026-03-08T07:00:00Z
    1_793_510_400_000, // 2026-11-01T05:20:00Z
    1_793_516_400_000, // 2026-11-01T07:00:00Z
    1_792_889_940_000, // 2026-10-25T00:59:00Z
    1_792_890_000_000, // 2026-10-25T01:00:00Z
];

/// What the clocks do at a wall-clock reading of [`LOCAL_EDGES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clocks {
    /// They skip it (spring forward): it is read after the gap.
    Skip,
    /// They pass it twice (fall back): it is read as the earlier.
    Twice,
    /// They pass it once, next to a change.
    Once,
}

/// A wall-clock reading without an offset, next to a daylight-saving change
/// of a zone the generated fields declare, as an envelope sends it.
#[derive(Clone, Copy, Debug)]
pub struct LocalEdge {
    pub zone: &'static str,
    pub text: &'static str,
    pub clocks: Clocks,
}

const fn edge(zone: &'static str, text: &'static str, clocks: Clocks) -> LocalEdge {
    LocalEdge { zone, text, clocks }
}

/// Readings in, and either side of, the gaps and overlaps of the zones the
/// generated schemas declare (New York, London, Paris), in 2026.
pub const LOCAL_EDGES: [LocalEdge; 18] = [
    edge("America/New_York", "2026-03-08T02:30:00", Clocks::Skip),
    edge("America/New_York", "2026-03-08T02:00:00", Clocks::Skip),
    edge("America/New_York", "2026-03-08T01:59:59", Clocks::Once),
    edge("America/New_York", "2026-03-08T03:00:00", Clocks::Once),
    edge("America/New_York", "2026-11-01T01:30:00", Clocks::Twice),
    edge("America/New_York", "2026-11-01T01:00:00", Clocks::Twice),
    edge("America/New_York", "2026-11-01T00:59:59", Clocks::Once),
    edge("America/New_York", "2026-11-01T02:00:00", Clocks::Once),
    edge("Europe/London", "2026-03-29T01:30:00", Clocks::Skip),
    edge("Europe/London", "2026-03-29T00:59:59", Clocks::Once),
    edge("Europe/London", "2026-10-25T01:30:00", Clocks::Twice),
    edge("Europe/London", "2026-10-25T02:00:00", Clocks::Once),
    edge("Europe/London", "2026-10-25T00:59:59.500", Clocks::Once),
    edge("Europe/Paris", "2026-03-29T02:30:00", Clocks::Skip),
    edge("Europe/Paris", "2026-03-29T03:00:00", Clocks::Once),
    edge("Europe/Paris", "2026-10-25T02:30:00", Clocks::Twice),
    edge("Europe/Paris", "2026-10-25T02:59:59", Clocks::Twice),
    edge("Europe/Paris", "2026-10-25T03:00:00", Clocks::Once),
];

/// The hours of day envelopes and events cluster around, so short windows
/// hold events as often as not.
const HOURS: [i64; 4] = [3, 9, 14, 20];

/// Separate streams for each generator, so that `policy(seed)` does not
/// replay the random numbers `schema(seed)` used.
#[derive(Clone, Copy, Debug)]
enum Stream {
    Schema = 1,
    Policy = 2,
    Envelope = 3,
    State = 4,
}

/// An instant the generated envelopes and events cluster around: one of
/// the [`HOURS`] of one day of the week from [`BASE_TIME`], or now and then
/// any minute of that week.
fn instant(rng: &mut Rng) -> i64 {
    let day = rng.below(7) as i64;
    if rng.chance(80) {
        BASE_TIME + day * DAY + rng.pick(&HOURS) * HOUR
    } else {
        BASE_TIME + day * DAY + rng.below(24 * 60) as i64 * MINUTE
    }
}
