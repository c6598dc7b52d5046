//! A bound on how deeply values and types nest while they are read from
//! untrusted bytes: the derived readers recurse once per level, and a
//! hostile artifact could nest deep enough to exhaust the stack.

use std::cell::Cell;

/// Deeper than any policy nests (`Set<Set<…>>` is not even allowed).
pub const MAX_DEPTH: u32 = 32;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Held while one level is read; leaving the level releases it.
#[derive(Debug)]
pub struct Level(());

impl Drop for Level {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Enters one level of nesting, or fails past [`MAX_DEPTH`].
pub fn enter<E: serde::de::Error>() -> Result<Level, E> {
    DEPTH.with(|d| {
        if d.get() >= MAX_DEPTH {
            return Err(E::custom(format!(
                "values nest deeper than {MAX_DEPTH} levels"
            )));
        }
        d.set(d.get() + 1);
        Ok(Level(()))
    })
}
