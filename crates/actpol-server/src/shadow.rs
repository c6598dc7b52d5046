//! Shadow mode: a candidate policy decides every request beside the one
//! serving, and acts on nothing.
//!
//! The candidate decides inside the serving decision's transaction, on the
//! state that decision read (budgets, windows, approvals), before anything
//! is reserved: the two decisions see the same world. The candidate
//! reserves nothing, consumes nothing, logs nothing and opens no approval;
//! only its outcome is kept. Where the two outcomes differ (a flip), the
//! server writes one JSON line to its log and keeps the flip in a bounded
//! list an operator reads (`GET /v1/shadow/flips`); metrics count every
//! pair of outcomes. The candidate reloads with the serving policy.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use actpol::{Decision, Level};
use serde::Serialize;

use crate::policy::Served;

/// How many flips the server keeps, the most recent.
pub const KEPT_FLIPS: usize = 1000;

/// One policy's side of a flip.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    pub decision: Level,
    /// The policy's hash.
    pub policy: String,
    /// The rules that decided.
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
}

impl Side {
    fn of(decision: &Decision) -> Side {
        Side {
            decision: decision.decision,
            policy: decision.policy.hash.to_string(),
            rules: decision.rules.clone(),
            reasons: decision.reasons.clone(),
        }
    }
}

/// A request the two policies decided differently.
#[derive(Clone, Debug, Serialize)]
pub struct Flip {
    /// The serving decision's id in the log (`dec-…`).
    pub id: String,
    /// When it was decided (RFC 3339).
    pub at: String,
    /// What the serving policy decided, and acted on.
    pub live: Side,
    /// What the candidate would have decided.
    pub shadow: Side,
}

/// The candidate policy and the flips it made.
#[derive(Debug)]
pub struct Shadow {
    served: Served,
    flips: Mutex<VecDeque<Flip>>,
}

impl Shadow {
    pub fn new(served: Served) -> Shadow {
        Shadow {
            served,
            flips: Mutex::new(VecDeque::with_capacity(64)),
        }
    }

    pub fn served(&self) -> &Served {
        &self.served
    }

    /// Compares the serving decision with the candidate's; a flip is
    /// logged and kept. Whether it was one.
    pub fn compare(&self, live: &Decision, shadow: &Decision, at: i64) -> bool {
        if live.decision == shadow.decision {
            return false;
        }
        let flip = Flip {
            id: live.id.clone().unwrap_or_default(),
            at: actpol::values::format_timestamp(at),
            live: Side::of(live),
            shadow: Side::of(shadow),
        };
        if let Ok(line) = serde_json::to_string(&flip) {
            eprintln!("actpol serve: shadow flip {line}");
        }
        let mut flips = self.flips.lock().unwrap_or_else(PoisonError::into_inner);
        if flips.len() == KEPT_FLIPS {
            flips.pop_front();
        }
        flips.push_back(flip);
        true
    }

    /// The flips kept, oldest first.
    pub fn flips(&self) -> Vec<Flip> {
        let flips = self.flips.lock().unwrap_or_else(PoisonError::into_inner);
        flips.iter().cloned().collect()
    }
}
