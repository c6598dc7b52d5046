//! The shipped example policies end to end: JSON bytes in, decision JSON
//! out, each envelope decided against its state file (budgets consumed,
//! past actions for windows), as `actpol eval` decides them.

use std::path::{Path, PathBuf};

use actpol::{MemoryState, Policy};

use crate::engines::Res;

/// The examples measured, by directory name.
pub const NAMES: [&str; 4] = ["growth", "support", "finance", "assistant"];

/// One example policy with the envelopes it ships.
pub struct Example {
    pub name: &'static str,
    pub policy: Policy,
    /// Each envelope's bytes with its state (empty when it has none).
    pub cases: Vec<(Vec<u8>, MemoryState)>,
}

impl std::fmt::Debug for Example {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Example")
            .field("name", &self.name)
            .field("cases", &self.cases.len())
            .finish()
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

impl Example {
    /// Compiles the example and reads its envelopes and states. Envelopes
    /// made not to fit the schema (`malformed-…`) are left out: they time
    /// the refusal, not a decision.
    pub fn load(name: &'static str) -> Res<Example> {
        let dir = root().join(name);
        let policy = Policy::from_paths(&[&dir])
            .map_err(|e| format!("example {name} does not compile: {e}"))?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("envelopes"))
            .map_err(|e| format!("example {name}: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("malformed-"))
            })
            .collect();
        files.sort();
        let mut cases = Vec::new();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let state_file = dir.join("state").join(file.file_name().unwrap_or_default());
            let state = match std::fs::read(&state_file) {
                Ok(state) => MemoryState::from_json(&state)
                    .map_err(|e| format!("{}: {e}", state_file.display()))?,
                Err(_) => MemoryState::default(),
            };
            cases.push((bytes, state));
        }
        if cases.is_empty() {
            return Err(format!("example {name} has no envelopes"));
        }
        Ok(Example {
            name,
            policy,
            cases,
        })
    }

    /// Decides case `i` from its bytes and writes the decision as JSON:
    /// the length written, so nothing is optimised away.
    pub fn decide_to_json(&self, i: usize) -> usize {
        let (bytes, state) = &self.cases[i];
        let decision = self.policy.decide(bytes.as_slice(), state);
        serde_json::to_vec(&decision).map_or(0, |out| out.len())
    }
}
