//! Envelope bytes → decide (plain and explained) with the growth policy.
#![no_main]

use actpol::{Level, MemoryState, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let policy = actpol_fuzz::growth();
    let state = MemoryState::default();
    let decision = policy.decide(data, &state);
    // Fails closed: an envelope that did not bind is never allowed.
    if policy.bind_json(data).is_err() {
        assert_ne!(decision.decision, Level::Allow, "a refused envelope was allowed");
    }
    let explained = policy.decide(Request::new(data).explained(), &state);
    assert_eq!(decision.decision, explained.decision);
    let _ = actpol::explain_text(&explained);
});
