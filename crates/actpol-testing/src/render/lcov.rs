//! Condition coverage as an lcov tracefile, which coverage dashboards
//! (Codecov, Coveralls, SonarQube, `genhtml`) read and lay over the
//! policy's files.
//!
//! lcov's three kinds of record fit a policy as they are: a rule is a
//! function (`FN`/`FNDA`: where it is, how many cases it matched), each
//! part of a condition is a branch with two sides (`BRDA`: held, did not
//! hold; `-` when no case reached it), and a rule's own outcome (matched,
//! not matched) is a branch at its head. Lines (`DA`) are the lines of
//! rules and parts, counted by the cases that reached them. Budgets and
//! `on_error` have no place in the format: the text and JSON reports carry
//! them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::coverage::Coverage;
use crate::results::RunReport;

/// One record per policy file, for every policy whose condition coverage
/// was gathered.
pub fn lcov(report: &RunReport) -> String {
    let mut out = String::new();
    for c in &report.coverage {
        policy_records(&mut out, c);
    }
    out
}

#[derive(Default)]
struct FileRecord {
    /// (line, rule name, cases matched)
    functions: Vec<(usize, String, u32)>,
    /// (line, block, branch, taken: `None` when never reached)
    branches: Vec<(usize, usize, u8, Option<u32>)>,
    /// Line → cases that reached something on it.
    lines: BTreeMap<usize, u32>,
}

impl FileRecord {
    fn line(&mut self, line: usize, count: u32) {
        let slot = self.lines.entry(line).or_insert(0);
        *slot = (*slot).max(count);
    }
}

fn policy_records(out: &mut String, c: &Coverage) {
    let Some(conditions) = &c.conditions else {
        return;
    };
    let mut files: BTreeMap<&str, FileRecord> = BTreeMap::new();
    for (site_index, site) in conditions.sites.iter().enumerate() {
        let at = &site.site.location;
        let record = files.entry(at.file.as_str()).or_default();
        let reached = site.held + site.failed;
        let taken = |n: u32| (reached > 0).then_some(n);
        record
            .branches
            .push((at.line, site_index, 0, taken(site.held)));
        record
            .branches
            .push((at.line, site_index, 1, taken(site.failed)));
        record.line(at.line, reached + site.errors);
    }
    let first_rule_block = conditions.sites.len();
    for (index, (rule, at)) in c.rules.iter().zip(&conditions.rule_locations).enumerate() {
        let record = files.entry(at.file.as_str()).or_default();
        record
            .functions
            .push((at.line, rule.name.clone(), rule.matched));
        let considered = rule.matched + rule.not_matched + rule.failed;
        let block = first_rule_block + index;
        let reached = |n: u32| (considered > 0).then_some(n);
        record
            .branches
            .push((at.line, block, 0, reached(rule.matched)));
        if rule.conditional {
            record
                .branches
                .push((at.line, block, 1, reached(rule.not_matched)));
        }
        record.line(at.line, considered);
    }
    for (file, record) in files {
        let _ = writeln!(out, "TN:{}", c.name);
        let _ = writeln!(out, "SF:{file}");
        for (line, name, _) in &record.functions {
            let _ = writeln!(out, "FN:{line},{name}");
        }
        for (_, name, hits) in &record.functions {
            let _ = writeln!(out, "FNDA:{hits},{name}");
        }
        let _ = writeln!(out, "FNF:{}", record.functions.len());
        let _ = writeln!(
            out,
            "FNH:{}",
            record.functions.iter().filter(|f| f.2 > 0).count()
        );
        for (line, block, branch, taken) in &record.branches {
            let taken = taken.map_or_else(|| "-".to_string(), |n| n.to_string());
            let _ = writeln!(out, "BRDA:{line},{block},{branch},{taken}");
        }
        let _ = writeln!(out, "BRF:{}", record.branches.len());
        let _ = writeln!(
            out,
            "BRH:{}",
            record
                .branches
                .iter()
                .filter(|b| b.3.is_some_and(|n| n > 0))
                .count()
        );
        for (line, count) in &record.lines {
            let _ = writeln!(out, "DA:{line},{count}");
        }
        let _ = writeln!(out, "LF:{}", record.lines.len());
        let _ = writeln!(
            out,
            "LH:{}",
            record.lines.values().filter(|n| **n > 0).count()
        );
        out.push_str("end_of_record\n");
    }
}
