//! What a test run found: one suite per test file or snapshot, a result per
//! case or recorded envelope, coverage per policy, and the counts and
//! verdict derived from them. Renderers read these; they decide nothing.

use serde_json::Value as Json;

use crate::coverage::Coverage;
use crate::diagnostic::TestDiagnostic;
use crate::mutation::MutationReport;
use crate::record::{Difference, Record};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuiteKind {
    /// A `*.test.toml` file.
    Cases,
    /// A `*.snapshot.json` file.
    Snapshot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    /// A snapshot entry that differed and was rewritten (`--accept`).
    Accepted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Failed => "fail",
            Status::Accepted => "accepted",
        }
    }
}

/// One case, or one envelope of a snapshot.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub name: String,
    /// The case's line in its test file.
    pub line: Option<usize>,
    pub status: Status,
    /// The expected (or recorded) decision in one line.
    pub expected: String,
    /// The expectations (or the recorded decision) as JSON.
    pub expected_json: Json,
    /// The decision made now; `None` for a recorded envelope that is gone.
    pub actual: Option<Record>,
    /// Where the decision differs from what was expected or recorded.
    pub differences: Vec<Difference>,
}

/// The results of one file.
#[derive(Clone, Debug)]
pub struct Suite {
    pub file: String,
    pub kind: SuiteKind,
    pub results: Vec<CaseResult>,
    /// Why the file could not run (or not all of it).
    pub diagnostics: Vec<TestDiagnostic>,
    /// Whether `--accept` rewrote this snapshot.
    pub rewritten: bool,
}

impl Suite {
    pub fn new(file: impl Into<String>, kind: SuiteKind) -> Self {
        Suite {
            file: file.into(),
            kind,
            results: Vec::new(),
            diagnostics: Vec::new(),
            rewritten: false,
        }
    }

    pub fn broken(
        file: impl Into<String>,
        kind: SuiteKind,
        diagnostics: Vec<TestDiagnostic>,
    ) -> Self {
        Suite {
            diagnostics,
            ..Suite::new(file, kind)
        }
    }

    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// Everything a run found.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub suites: Vec<Suite>,
    /// Per policy tested by cases, in the order first met.
    pub coverage: Vec<Coverage>,
    /// The threshold every policy's rule coverage must reach, in percent.
    pub min_coverage: Option<f64>,
    /// The threshold every policy's condition coverage must reach.
    pub min_condition_coverage: Option<f64>,
    /// Mutation testing, per policy tested by cases, when asked.
    pub mutation: Vec<MutationReport>,
    /// The mutation score every policy must reach, in percent.
    pub min_mutation_score: Option<f64>,
}

/// The numbers of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub test_files: usize,
    pub snapshots: usize,
    pub decisions: usize,
    pub changed: usize,
    pub accepted: usize,
    /// Files that could not run, in whole or in part.
    pub broken: usize,
}

impl RunReport {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for suite in &self.suites {
            c.broken += usize::from(!suite.diagnostics.is_empty());
            match suite.kind {
                SuiteKind::Cases => {
                    c.test_files += 1;
                    c.cases += suite.results.len();
                    c.passed += suite.count(Status::Passed);
                    c.failed += suite.count(Status::Failed);
                }
                SuiteKind::Snapshot => {
                    c.snapshots += 1;
                    c.decisions += suite.results.len();
                    c.changed += suite.count(Status::Failed);
                    c.accepted += suite.count(Status::Accepted);
                }
            }
        }
        c
    }

    /// Policies whose rule coverage is below the threshold.
    pub fn below_threshold(&self) -> Vec<&Coverage> {
        let Some(min) = self.min_coverage else {
            return Vec::new();
        };
        self.coverage.iter().filter(|c| c.percent() < min).collect()
    }

    /// Policies whose condition coverage is below its threshold (or was
    /// not gathered, which a threshold cannot accept).
    pub fn below_condition_threshold(&self) -> Vec<&Coverage> {
        let Some(min) = self.min_condition_coverage else {
            return Vec::new();
        };
        self.coverage
            .iter()
            .filter(|c| c.condition_percent().is_none_or(|p| p < min))
            .collect()
    }

    /// Policies whose mutation score is below the threshold (or that could
    /// not be mutated).
    pub fn below_mutation_threshold(&self) -> Vec<&MutationReport> {
        let Some(min) = self.min_mutation_score else {
            return Vec::new();
        };
        self.mutation
            .iter()
            .filter(|m| m.not_run.is_some() || m.score() < min)
            .collect()
    }

    /// Problems found by mutation testing: marks that name no mutant, or a
    /// mutant a case kills.
    pub fn mutation_problems(&self) -> impl Iterator<Item = &TestDiagnostic> {
        self.mutation.iter().flat_map(|m| m.problems.iter())
    }

    /// Whether the run passes: every case and snapshot entry as expected,
    /// every file readable, every policy covered enough, every mutation
    /// score high enough and every equivalence mark sound.
    pub fn passed(&self) -> bool {
        let c = self.counts();
        c.failed == 0
            && c.changed == 0
            && c.broken == 0
            && self.below_threshold().is_empty()
            && self.below_condition_threshold().is_empty()
            && self.below_mutation_threshold().is_empty()
            && self.mutation_problems().next().is_none()
    }
}
