//! Artifact bytes → load (decode and verify), and decide with what loads.
#![no_main]

use actpol::{MemoryState, Policy, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::load(data) else {
        return;
    };
    let state = MemoryState::default();
    let _ = policy.decide(Request::new(actpol_fuzz::routine_send()).explained(), &state);
    let _ = policy.disassemble(None);
});
