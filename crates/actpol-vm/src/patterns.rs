//! The regular expressions of a program, compiled once when it is loaded
//! (the verifier has already compiled each under the checker's limits).

use actpol_bytecode::{Instr, Program};
use actpol_core::text::compile_regex;
use actpol_core::value::Value;
use regex::Regex;

/// Compiled patterns by the index of their constant.
#[derive(Debug, Default)]
pub(crate) struct Patterns {
    by_const: Vec<(u32, Regex)>,
}

impl Patterns {
    pub(crate) fn of(program: &Program) -> Patterns {
        let mut by_const: Vec<(u32, Regex)> = Vec::new();
        for ins in &program.code {
            let Instr::Regex(i) = *ins else { continue };
            if by_const.iter().any(|(at, _)| *at == i) {
                continue;
            }
            // A pattern that does not compile is left out: the instruction
            // then fails closed as a corrupt program.
            if let Some(Value::String(p)) = program.consts.get(i as usize) {
                if let Ok(re) = compile_regex(p) {
                    by_const.push((i, re));
                }
            }
        }
        by_const.sort_by_key(|(i, _)| *i);
        Patterns { by_const }
    }

    pub(crate) fn get(&self, i: u32) -> Option<&Regex> {
        self.by_const
            .binary_search_by_key(&i, |(at, _)| *at)
            .ok()
            .map(|k| &self.by_const[k].1)
    }
}
