//! State file bytes → read, check against the growth policy, and decide.
#![no_main]

use actpol::{MemoryState, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(state) = MemoryState::from_json(data) else {
        return;
    };
    let policy = actpol_fuzz::growth();
    if policy.check_state(&state).is_err() {
        return;
    }
    let _ = policy.decide(Request::new(actpol_fuzz::routine_send()).explained(), &state);
});
