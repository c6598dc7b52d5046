//! Running what `actpol test` found: each test file's cases against its
//! policy (compiled once per run), each snapshot against its corpus, and
//! rule coverage gathered per policy along the way.

use std::path::{Path, PathBuf};

use actpol::{Decision, Policy, Request};

use crate::coverage::Coverage;
use crate::diagnostic::TestDiagnostic;
use crate::discover::{discover, Found};
use crate::policy::PolicyCache;
use crate::record::Record;
use crate::resolve::{self, Case, TestFile};
use crate::results::{CaseResult, RunReport, Status, Suite, SuiteKind};
use crate::snapshot;
use crate::walk;

/// How a run is asked to behave.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only cases (and snapshot entries) whose name contains this.
    pub filter: Option<String>,
    /// Rewrite snapshots whose decisions changed.
    pub accept: bool,
    /// Fail when a policy's rule coverage is below this percentage.
    pub min_coverage: Option<f64>,
}

/// Runs every test file and snapshot under `paths`. An error only when
/// there is nothing to run; everything else is in the report.
pub fn run(paths: &[PathBuf], options: &Options) -> Result<RunReport, TestDiagnostic> {
    let found = discover(paths)?;
    let mut runner = Runner::default();
    let mut suites = Vec::new();
    for item in &found {
        suites.push(match item {
            Found::Tests(path) => runner.test_file(path, options),
            Found::Snapshot(path) => snapshot::check(
                path,
                &mut runner.policies,
                snapshot::CheckOptions {
                    filter: options.filter.as_deref(),
                    accept: options.accept,
                },
            ),
        });
    }
    Ok(RunReport {
        suites,
        coverage: runner.coverage.into_iter().map(|(_, c)| c).collect(),
        min_coverage: options.min_coverage,
    })
}

#[derive(Debug, Default)]
struct Runner {
    policies: PolicyCache,
    /// By canonical policy path, in the order first met.
    coverage: Vec<(PathBuf, Coverage)>,
}

impl Runner {
    fn test_file(&mut self, path: &Path, options: &Options) -> Suite {
        let shown = path.display().to_string();
        let file = match resolve::load(path) {
            Ok(file) => file,
            Err(diagnostics) => return Suite::broken(shown, SuiteKind::Cases, diagnostics),
        };
        let compiled = self.policies.get(&file.policy);
        let policy = match compiled.as_ref() {
            Ok(policy) => policy,
            Err(e) => {
                let at = file.policy_span.clone().map(|span| (&file.source, span));
                return Suite::broken(shown, SuiteKind::Cases, vec![e.diagnostic(&file.path, at)]);
            }
        };
        let selected: Vec<&Case> = file
            .cases
            .iter()
            .filter(|c| options.filter.as_deref().is_none_or(|f| c.name.contains(f)))
            .collect();
        let mut suite = Suite::new(shown, SuiteKind::Cases);
        if selected.is_empty() {
            return suite;
        }
        let coverage = self.coverage_of(&file, policy);
        for case in selected {
            let decision = decide(policy, case);
            coverage.observe(&decision);
            suite.results.push(result(case, &decision));
        }
        suite
    }

    fn coverage_of(&mut self, file: &TestFile, policy: &Policy) -> &mut Coverage {
        let key = file
            .policy
            .canonicalize()
            .unwrap_or_else(|_| file.policy.clone());
        let index = match self.coverage.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let shown = walk::tidy(&file.policy).display().to_string();
                self.coverage.push((key, Coverage::new(policy, &shown)));
                self.coverage.len() - 1
            }
        };
        &mut self.coverage[index].1
    }
}

/// Decides a case with an explanation, which coverage reads. An envelope
/// that does not fit the contract is decided as the runtime would (the
/// policy's `on_error`), so a case can expect that too.
fn decide(policy: &Policy, case: &Case) -> Decision {
    let bytes = serde_json::to_vec(&case.envelope).unwrap_or_default();
    policy.decide(Request::new(&bytes).explained(), &*case.state)
}

fn result(case: &Case, decision: &Decision) -> CaseResult {
    let actual = Record::from(decision);
    let differences = case.expect.check(&actual);
    CaseResult {
        name: case.name.clone(),
        line: Some(case.line),
        status: if differences.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        },
        expected: case.expect.headline(),
        expected_json: serde_json::to_value(&case.expect).unwrap_or_default(),
        actual: Some(actual),
        differences,
    }
}
