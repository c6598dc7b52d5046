//! Running what `actpol test` found: each test file's cases against its
//! policy (compiled once per run), each snapshot against its corpus,
//! coverage gathered per policy along the way, and, when asked, every
//! mutant of each policy against its whole suite.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use actpol::mutate::Conditions;
use actpol::{Decision, Policy, Request};
use serde_json::Value as Json;

use crate::coverage::{ConditionCoverage, Coverage};
use crate::diagnostic::{Kind, TestDiagnostic};
use crate::discover::{discover, Found};
use crate::mutation::{self, Killer, MarkIn, MutationReport, Target};
use crate::policy::{Compiled, PolicyCache, PolicyError};
use crate::record::{self, Difference, Record};
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
    /// Gather condition coverage (parts of conditions, record predicates,
    /// budget exhaustion, `on_error`).
    pub conditions: bool,
    /// Fail when a policy's condition coverage is below this percentage
    /// (gathers it).
    pub min_condition_coverage: Option<f64>,
    /// Run every mutant of each policy against its suite.
    pub mutants: bool,
    /// Fail when a policy's mutation score is below this percentage (runs
    /// the mutants).
    pub min_mutation_score: Option<f64>,
    /// Threads for mutants; 0: one per core.
    pub threads: usize,
    /// What the policies screen envelopes under.
    pub envelope_limits: actpol::EnvelopeLimits,
    /// How policies load: a signature required (then only signed
    /// artifacts are tested), where imports may reach.
    pub load: actpol::LoadOptions,
}

impl Options {
    fn gather_conditions(&self) -> bool {
        self.conditions || self.min_condition_coverage.is_some()
    }

    fn run_mutants(&self) -> bool {
        self.mutants || self.min_mutation_score.is_some()
    }
}

/// Runs every test file and snapshot under `paths`. An error only when
/// there is nothing to run; everything else is in the report.
pub fn run(paths: &[PathBuf], options: &Options) -> Result<RunReport, TestDiagnostic> {
    let found = discover(paths)?;
    let mut runner = Runner {
        policies: PolicyCache::new(options.load.clone(), options.envelope_limits),
        ..Runner::default()
    };
    let mut suites = Vec::new();
    for item in &found {
        suites.push(match item {
            Found::Tests(path) => runner.test_file(path, options),
            Found::Snapshot(path) => {
                if options.run_mutants() {
                    runner.snapshots.push(path.clone());
                }
                snapshot::check(
                    path,
                    &mut runner.policies,
                    snapshot::CheckOptions {
                        filter: options.filter.as_deref(),
                        accept: options.accept,
                    },
                )
            }
        });
    }
    let mutation = if options.run_mutants() {
        runner.mutants(options)
    } else {
        Vec::new()
    };
    Ok(RunReport {
        suites,
        coverage: runner.tested.into_iter().map(|t| t.coverage).collect(),
        min_coverage: options.min_coverage,
        min_condition_coverage: options.min_condition_coverage,
        mutation,
        min_mutation_score: options.min_mutation_score,
    })
}

#[derive(Debug, Default)]
struct Runner {
    policies: PolicyCache,
    /// By canonical policy path, in the order first met.
    tested: Vec<Tested>,
    /// Snapshot files, for mutation testing.
    snapshots: Vec<PathBuf>,
}

/// A policy tested by cases.
#[derive(Debug)]
struct Tested {
    key: PathBuf,
    /// As test files name it.
    shown: String,
    compiled: Rc<Result<Compiled, PolicyError>>,
    coverage: Coverage,
    conditions: Option<Conditions>,
    /// The test files that name it (kept for mutation testing).
    files: Vec<TestFile>,
}

impl Runner {
    fn test_file(&mut self, path: &Path, options: &Options) -> Suite {
        let shown = path.display().to_string();
        let file = match resolve::load(path) {
            Ok(file) => file,
            Err(diagnostics) => return Suite::broken(shown, SuiteKind::Cases, diagnostics),
        };
        let shared = self.policies.get(&file.policy);
        let compiled = match shared.as_ref() {
            Ok(compiled) => compiled,
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
        // A state that names what the policy does not declare would be read
        // as zero: the file is broken, not its cases failed.
        let misfits: Vec<TestDiagnostic> = selected
            .iter()
            .filter_map(|case| {
                compiled.policy().check_state(&case.state).err().map(|e| {
                    TestDiagnostic::new(
                        Kind::InvalidState,
                        &shown,
                        format!(
                            "case `{}`: the state does not fit the policy: {e}",
                            case.name
                        ),
                    )
                })
            })
            .collect();
        if !misfits.is_empty() {
            return Suite::broken(shown, SuiteKind::Cases, misfits);
        }
        let mut suite = Suite::new(shown, SuiteKind::Cases);
        if selected.is_empty() {
            return suite;
        }
        let policy = compiled.policy();
        let tested = self.tested_of(&file, &shared, compiled, options);
        for case in selected {
            if let Some(plan) = &case.plan {
                suite
                    .results
                    .push(plan_case(policy, case, plan, &mut tested.coverage));
                continue;
            }
            let (decision, bytes) = decide(policy, case);
            tested.coverage.observe(&decision);
            if let (Some(conditions), Some(cov)) =
                (&tested.conditions, tested.coverage.conditions.as_mut())
            {
                cov.observe(&conditions.observe(&decision, &bytes, &*case.state));
            }
            suite.results.push(result(case, &decision));
        }
        if options.run_mutants() {
            tested.files.push(file);
        }
        suite
    }

    fn tested_of(
        &mut self,
        file: &TestFile,
        shared: &Rc<Result<Compiled, PolicyError>>,
        compiled: &Compiled,
        options: &Options,
    ) -> &mut Tested {
        let key = canonical(&file.policy);
        if let Some(i) = self.tested.iter().position(|t| t.key == key) {
            return &mut self.tested[i];
        }
        let shown = walk::tidy(&file.policy).display().to_string();
        let mut coverage = Coverage::new(compiled.policy(), &shown);
        let conditions = compiled
            .source()
            .filter(|_| options.gather_conditions())
            .and_then(|s| s.conditions().ok());
        coverage.conditions = conditions.as_ref().map(ConditionCoverage::new);
        self.tested.push(Tested {
            key,
            shown,
            compiled: Rc::clone(shared),
            coverage,
            conditions,
            files: Vec::new(),
        });
        self.tested.last_mut().expect("just pushed")
    }

    /// Mutation testing of every policy some case tested, with its cases
    /// and the snapshots that name it.
    fn mutants(&mut self, options: &Options) -> Vec<MutationReport> {
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let mut snapshot_killers = Vec::new();
        for path in &self.snapshots {
            if let Ok((policy, killers)) = snapshot_killers_of(path, options) {
                snapshot_killers.push((canonical(&policy), killers));
            }
        }
        let mut reports = Vec::new();
        for tested in &self.tested {
            let compiled = match tested.compiled.as_ref() {
                Ok(compiled) => compiled,
                Err(_) => continue,
            };
            let Some(source) = compiled.source() else {
                reports.push(MutationReport {
                    policy: tested.shown.clone(),
                    name: compiled.policy().name().to_string(),
                    results: Vec::new(),
                    left_out: 0,
                    problems: Vec::new(),
                    not_run: Some(
                        "a compiled artifact has no source to mutate: point the tests at the policy's directory"
                            .to_string(),
                    ),
                });
                continue;
            };
            let mut killers = Vec::new();
            let mut marks = Vec::new();
            for file in &tested.files {
                // A plan case is not run against mutants: a mutant is
                // judged by the envelopes it decides differently.
                for case in file
                    .cases
                    .iter()
                    .filter(|c| c.plan.is_none())
                    .filter(|c| options.filter.as_deref().is_none_or(|f| c.name.contains(f)))
                {
                    killers.push(Killer::case(
                        &file.path,
                        &case.name,
                        case.line,
                        &case.envelope,
                        &case.state,
                        &case.expect,
                    ));
                }
                marks.extend(file.marks.iter().map(|mark| MarkIn {
                    file: file.path.clone(),
                    source: Arc::clone(&file.source),
                    mark: mark.clone(),
                }));
            }
            for (policy, entries) in &mut snapshot_killers {
                if *policy == tested.key {
                    killers.append(entries);
                }
            }
            reports.push(mutation::run(
                Target {
                    policy: tested.shown.clone(),
                    source,
                    killers,
                    marks,
                },
                threads,
            ));
        }
        reports
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// A snapshot's policy and its entries as killers. A snapshot that cannot
/// be read is reported by its own check, not here.
fn snapshot_killers_of(
    path: &Path,
    options: &Options,
) -> Result<(PathBuf, Vec<Killer>), TestDiagnostic> {
    let (policy, entries) = snapshot::entries(path)?;
    let shown = path.display().to_string();
    let killers = entries
        .into_iter()
        .filter(|e| options.filter.as_deref().is_none_or(|f| e.key.contains(f)))
        .map(|e| Killer::recorded(&shown, &e.key, e.bytes, e.state, e.record))
        .collect();
    Ok((policy, killers))
}

/// Decides a case with an explanation, which coverage reads. An envelope
/// that does not fit the contract is decided as the runtime would (the
/// policy's `on_error`), so a case can expect that too.
fn decide(policy: &Policy, case: &Case) -> (Decision, Vec<u8>) {
    let bytes = serde_json::to_vec(&case.envelope).unwrap_or_default();
    let decision = policy.decide(Request::new(&bytes).explained(), &*case.state);
    (decision, bytes)
}

/// Decides a plan case, every node explained so rule coverage counts the
/// rules its nodes hit. A plan that does not hold together fails the case,
/// with its errors.
fn plan_case(policy: &Policy, case: &Case, plan: &Json, coverage: &mut Coverage) -> CaseResult {
    let bytes = serde_json::to_vec(plan).unwrap_or_default();
    match policy.read_plan(&bytes) {
        Ok(plan) => {
            let decided = policy.decide_plan_explained(&plan, &*case.state);
            coverage.observe_plan(&decided);
            result_of(case, Record::from(&decided))
        }
        Err(refused) => {
            let errors: Vec<String> = refused
                .errors
                .iter()
                .map(|e| format!("{} at {}: {}", e.code, e.path, e.message))
                .collect();
            CaseResult {
                name: case.name.clone(),
                line: Some(case.line),
                status: Status::Failed,
                expected: case.expect.headline(),
                expected_json: serde_json::to_value(&case.expect).unwrap_or_default(),
                actual: None,
                differences: vec![Difference::new(
                    "plan",
                    "a plan that holds together",
                    record::quoted_list(&errors),
                )],
            }
        }
    }
}

fn result(case: &Case, decision: &Decision) -> CaseResult {
    result_of(case, Record::from(decision))
}

fn result_of(case: &Case, actual: Record) -> CaseResult {
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
