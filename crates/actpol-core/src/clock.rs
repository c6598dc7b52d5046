//! Whose clock a decision reads. Deciding with a store, the host's clock
//! supplies `now`: the envelope's `time` is only the agent's claim, checked
//! against the clock with a declared maximum skew. Without a store (tests,
//! snapshots, replays of a corpus) the envelope's time is taken as given.

use crate::envelope::{BoundEnvelope, EnvelopeError};
use crate::error::ErrorCode;
use crate::value::{format_duration, format_timestamp};

/// The host's time and how far an envelope's claim may stray from it, both
/// in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// The host's time.
    pub now: i64,
    /// How far an envelope's `time` may be from `now`, either way.
    pub max_skew: i64,
}

impl Clock {
    /// Checks the envelope's claimed time and, if it is close enough, sets
    /// the envelope's time to the clock's: rules, budgets and windows then
    /// read the host's `now`. A claim beyond the skew is an error, and the
    /// caller decides the policy's `on_error`.
    pub fn admit(self, env: &mut BoundEnvelope) -> Result<(), EnvelopeError> {
        let off = env.time.abs_diff(self.now);
        if off > self.max_skew.unsigned_abs() {
            let direction = if env.time < self.now {
                "behind"
            } else {
                "ahead of"
            };
            let message = format!(
                "the envelope's time `{}` is {} {direction} the host's clock (`{}`); at most {} is allowed",
                format_timestamp(env.time),
                format_duration(i64::try_from(off).unwrap_or(i64::MAX)),
                format_timestamp(self.now),
                format_duration(self.max_skew),
            );
            return Err(
                EnvelopeError::new(ErrorCode::EnvelopeClockSkew, "$.time", message)
                    .help("send the time the action is proposed at, by a synchronised clock"),
            );
        }
        env.time = self.now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_timestamp;

    fn envelope(time: &str) -> BoundEnvelope {
        let mut schema = crate::Schema::new();
        schema.systems.insert("crm".into(), Default::default());
        schema.entities.insert(
            "Account".into(),
            crate::schema::EntityDef {
                attrs: vec![],
                data_classes: vec![],
                system: None,
            },
        );
        schema.actions.insert(
            "crm.touch".into(),
            crate::schema::ActionDef {
                system: crate::ids::SystemId(0),
                object: crate::ids::EntityId(0),
                params: vec![],
                reversibility: crate::schema::ReversibilityClass::Reversible,
                data_classes: vec![],
                reads: Vec::new(),
                sends: Vec::new(),
                triggers: vec![],
            },
        );
        let json = format!(
            r#"{{"agent": {{"id": "a", "owner": "o", "workflow": "w"}},
                "action": {{"name": "crm.touch"}},
                "object": {{"type": "Account", "id": "acc-1"}},
                "time": "{time}"}}"#
        );
        BoundEnvelope::from_json(json.as_bytes(), &schema).unwrap()
    }

    #[test]
    fn a_claim_within_the_skew_takes_the_clocks_time() {
        let now = parse_timestamp("2026-11-25T14:00:00Z").unwrap();
        let clock = Clock {
            now,
            max_skew: 300_000,
        };
        let mut env = envelope("2026-11-25T13:55:00Z");
        clock.admit(&mut env).unwrap();
        assert_eq!(env.time, now);
        // The packet still shows what the agent sent.
        assert_eq!(env.raw().time, "2026-11-25T13:55:00Z");
    }

    #[test]
    fn a_claim_beyond_the_skew_is_an_error_at_time() {
        let now = parse_timestamp("2026-11-25T14:00:00Z").unwrap();
        let clock = Clock {
            now,
            max_skew: 300_000,
        };
        let mut backdated = envelope("2026-11-24T14:00:00Z");
        let err = clock.admit(&mut backdated).unwrap_err();
        assert_eq!(err.code, ErrorCode::EnvelopeClockSkew);
        assert_eq!(err.path, "$.time");
        assert!(err.message.contains("1d behind"), "{}", err.message);
        let mut ahead = envelope("2026-11-25T14:05:00.001Z");
        assert!(clock
            .admit(&mut ahead)
            .unwrap_err()
            .message
            .contains("ahead of"));
    }
}
