//! Mutation testing: does the suite hold each part of the policy in place?
//!
//! Every mutant of a policy (see `actpol::mutate`) is compiled in process
//! and decided on by the policy's suite: each case of every test file that
//! names the policy, and each envelope of every snapshot that does. The
//! first case whose expectations fail (or snapshot entry whose decision
//! changes) kills the mutant. A mutant no case kills survives, and is
//! reported with where it is, what it changes, and, when one can be found
//! by nudging the suite's envelopes towards the boundaries near the change,
//! an envelope on which the policy and the mutant decide differently.
//!
//! Mutants run in parallel, each on its own; results come back in the
//! mutants' order, and each mutant's killer is the first in suite order,
//! so a report does not depend on scheduling.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actpol::mutate::{Mutant, MutantKind, Source};
use actpol::values::did_you_mean;
use actpol::{MemoryState, Policy};
use serde::Serialize;
use serde_json::Value as Json;

use crate::diagnostic::{Kind, TestDiagnostic};
use crate::expect::Expect;
use crate::record::{differences, Record};
use crate::resolve::Mark;

/// A case or snapshot entry, as mutation testing runs it.
#[derive(Debug)]
pub struct Killer {
    /// The test or snapshot file.
    pub file: String,
    /// The case's name, or the snapshot entry's envelope.
    pub name: String,
    pub line: Option<usize>,
    envelope: Json,
    bytes: Vec<u8>,
    state: Arc<MemoryState>,
    check: Check,
}

#[derive(Debug)]
enum Check {
    Expect(Box<Expect>),
    Recorded(Box<Record>),
}

impl Killer {
    /// A case of a test file.
    pub fn case(
        file: &str,
        name: &str,
        line: usize,
        envelope: &Json,
        state: &Arc<MemoryState>,
        expect: &Expect,
    ) -> Killer {
        Killer {
            file: file.to_string(),
            name: name.to_string(),
            line: Some(line),
            bytes: serde_json::to_vec(envelope).unwrap_or_default(),
            envelope: envelope.clone(),
            state: Arc::clone(state),
            check: Check::Expect(Box::new(expect.clone())),
        }
    }

    /// An envelope of a snapshot, with the decision recorded for it.
    pub fn recorded(
        file: &str,
        name: &str,
        bytes: Vec<u8>,
        state: Arc<MemoryState>,
        record: Record,
    ) -> Killer {
        Killer {
            file: file.to_string(),
            name: name.to_string(),
            line: None,
            envelope: serde_json::from_slice(&bytes).unwrap_or(Json::Null),
            bytes,
            state,
            check: Check::Recorded(Box::new(record)),
        }
    }

    fn decide(&self, policy: &Policy, bytes: &[u8]) -> Record {
        Record::from(&policy.decide(bytes, &*self.state))
    }

    /// Whether `policy` meets the case's expectations (decides the entry as
    /// recorded).
    fn holds(&self, policy: &Policy) -> bool {
        let now = self.decide(policy, &self.bytes);
        match &self.check {
            Check::Expect(expect) => expect.check(&now).is_empty(),
            Check::Recorded(recorded) => differences(recorded, &now).is_empty(),
        }
    }

    fn action(&self) -> Option<&str> {
        self.envelope.get("action")?.get("name")?.as_str()
    }
}

/// Mutation testing of one policy.
#[derive(Clone, Debug)]
pub struct MutationReport {
    /// The policy's path, as test files name it.
    pub policy: String,
    /// The policy's declared name.
    pub name: String,
    pub results: Vec<MutantResult>,
    /// Cases (and snapshot entries) left out because they fail on the
    /// policy itself.
    pub left_out: usize,
    /// Marks that name no mutant, or a mutant a case kills.
    pub problems: Vec<TestDiagnostic>,
    /// Why no mutant ran (a policy loaded from an artifact has none).
    pub not_run: Option<String>,
}

#[derive(Clone, Debug)]
pub struct MutantResult {
    pub mutant: Mutant,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Killed {
        file: String,
        case: String,
    },
    Survived {
        suggestion: Option<Box<Suggestion>>,
    },
    /// Marked equivalent in a test file, and no case kills it.
    Equivalent {
        reason: String,
        file: String,
        line: usize,
    },
    /// The mutant did not compile: a fault of the mutation, not the suite.
    Invalid {
        error: String,
    },
}

/// An envelope the policy and a surviving mutant decide differently: a
/// case of the suite, as it is or nudged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suggestion {
    pub file: String,
    pub case: String,
    pub line: Option<usize>,
    /// The fields changed, and their new values (`None`: removed). Empty:
    /// the case as it is already decides differently, and its
    /// expectations do not notice.
    pub set: Vec<(String, Option<Json>)>,
    pub policy: Record,
    pub mutant: Record,
}

/// The numbers of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MutationCounts {
    pub mutants: usize,
    pub killed: usize,
    pub survived: usize,
    pub equivalent: usize,
    pub invalid: usize,
}

impl MutationReport {
    pub fn counts(&self) -> MutationCounts {
        let mut c = MutationCounts {
            mutants: self.results.len(),
            ..MutationCounts::default()
        };
        for r in &self.results {
            match r.outcome {
                Outcome::Killed { .. } => c.killed += 1,
                Outcome::Survived { .. } => c.survived += 1,
                Outcome::Equivalent { .. } => c.equivalent += 1,
                Outcome::Invalid { .. } => c.invalid += 1,
            }
        }
        c
    }

    /// Percent of the mutants that can be killed (all but the equivalent
    /// and the invalid) that the suite kills.
    pub fn score(&self) -> f64 {
        let c = self.counts();
        let killable = c.killed + c.survived;
        if killable == 0 {
            return 100.0;
        }
        c.killed as f64 * 100.0 / killable as f64
    }

    pub fn survivors(&self) -> impl Iterator<Item = &MutantResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Survived { .. }))
    }

    /// Killed and surviving mutants by kind, in [`MutantKind::ALL`] order.
    pub fn by_kind(&self) -> Vec<(MutantKind, MutationCounts)> {
        MutantKind::ALL
            .iter()
            .filter_map(|kind| {
                let mut c = MutationCounts::default();
                for r in self.results.iter().filter(|r| r.mutant.kind == *kind) {
                    c.mutants += 1;
                    match r.outcome {
                        Outcome::Killed { .. } => c.killed += 1,
                        Outcome::Survived { .. } => c.survived += 1,
                        Outcome::Equivalent { .. } => c.equivalent += 1,
                        Outcome::Invalid { .. } => c.invalid += 1,
                    }
                }
                (c.mutants > 0).then_some((*kind, c))
            })
            .collect()
    }
}

/// A mark, with the test file it is written in.
#[derive(Clone, Debug)]
pub struct MarkIn {
    pub file: String,
    pub source: Arc<str>,
    pub mark: Mark,
}

/// What one policy's mutation run needs.
#[derive(Debug)]
pub struct Target<'a> {
    pub policy: String,
    pub source: &'a Source,
    pub killers: Vec<Killer>,
    pub marks: Vec<MarkIn>,
}

/// Runs every mutant of the target's policy against its suite on `threads`
/// threads.
pub fn run(target: Target<'_>, threads: usize) -> MutationReport {
    let Target {
        policy: shown,
        source,
        killers,
        marks,
    } = target;
    let original = source.policy();
    let total = killers.len();
    let killers: Vec<Killer> = killers.into_iter().filter(|k| k.holds(original)).collect();
    let left_out = total - killers.len();
    let mutants = source.mutants();
    let outcomes = parallel(&mutants, threads, |mutant| judge(source, &killers, mutant));

    let mut problems = Vec::new();
    let marked = index_marks(&marks, &mutants, &mut problems);
    let results = mutants
        .into_iter()
        .zip(outcomes)
        .map(|(mutant, outcome)| {
            let outcome = match (outcome, marked.get(mutant.id.as_str())) {
                (Outcome::Survived { .. }, Some(m)) => Outcome::Equivalent {
                    reason: m.mark.reason.clone(),
                    file: m.file.clone(),
                    line: m.mark.line,
                },
                (killed @ Outcome::Killed { .. }, Some(m)) => {
                    problems.push(not_equivalent(m, &killed));
                    killed
                }
                (other, _) => other,
            };
            MutantResult { mutant, outcome }
        })
        .collect();
    MutationReport {
        policy: shown,
        name: original.name().to_string(),
        results,
        left_out,
        problems,
        not_run: None,
    }
}

/// `work` applied to every item, on up to `threads` threads, results in
/// the items' order.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, items.len().max(1));
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            break;
                        };
                        out.push((i, work(item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Compiles the mutant and runs the suite on it until a case fails.
fn judge(source: &Source, killers: &[Killer], mutant: &Mutant) -> Outcome {
    let policy = match source.compile(mutant) {
        Ok(policy) => policy,
        Err(e) => {
            return Outcome::Invalid {
                error: e.to_string(),
            }
        }
    };
    match killers.iter().find(|k| !k.holds(&policy)) {
        Some(k) => Outcome::Killed {
            file: k.file.clone(),
            case: k.name.clone(),
        },
        None => Outcome::Survived {
            suggestion: suggest(source.policy(), &policy, killers, mutant).map(Box::new),
        },
    }
}

/// An envelope the policy and the mutant decide differently: first a case
/// as it is (its expectations are too loose to notice), then each case of
/// the mutated actions nudged towards the boundaries near the change.
fn suggest(
    original: &Policy,
    mutated: &Policy,
    killers: &[Killer],
    mutant: &Mutant,
) -> Option<Suggestion> {
    let found = |k: &Killer, bytes: &[u8], set: Vec<(String, Option<Json>)>| {
        let (policy, mutant) = (k.decide(original, bytes), k.decide(mutated, bytes));
        (!differences(&policy, &mutant).is_empty()).then(|| Suggestion {
            file: k.file.clone(),
            case: k.name.clone(),
            line: k.line,
            set,
            policy,
            mutant,
        })
    };
    if let Some(s) = killers.iter().find_map(|k| found(k, &k.bytes, Vec::new())) {
        return Some(s);
    }
    let relevant = |k: &&Killer| {
        mutant
            .actions
            .as_ref()
            .is_none_or(|actions| k.action().is_some_and(|a| actions.iter().any(|x| x == a)))
    };
    killers.iter().filter(relevant).find_map(|k| {
        mutant.nudges.iter().find_map(|nudge| {
            let mut envelope = k.envelope.clone();
            if !nudge.apply(&mut envelope) {
                return None;
            }
            let set = nudge
                .edits
                .iter()
                .map(|(path, _)| (path.clone(), lookup(&envelope, path).cloned()))
                .collect();
            let bytes = serde_json::to_vec(&envelope).ok()?;
            found(k, &bytes, set)
        })
    })
}

fn lookup<'j>(envelope: &'j Json, path: &str) -> Option<&'j Json> {
    path.split('.').try_fold(envelope, |j, key| j.get(key))
}

/// Marks by the mutant they name; a mark naming no mutant is a problem.
fn index_marks<'m>(
    marks: &'m [MarkIn],
    mutants: &[Mutant],
    problems: &mut Vec<TestDiagnostic>,
) -> HashMap<&'m str, &'m MarkIn> {
    let mut out = HashMap::new();
    for m in marks {
        if mutants.iter().any(|x| x.id == m.mark.mutant) {
            out.entry(m.mark.mutant.as_str()).or_insert(m);
            continue;
        }
        let known = mutants.iter().map(|x| x.id.as_str());
        let help = match did_you_mean(&m.mark.mutant, known) {
            Some(close) => format!("did you mean `{close}`?"),
            None => "copy a survivor's id from `actpol test --mutants`: the mark may be stale after an edit".to_string(),
        };
        problems.push(
            TestDiagnostic::new(
                Kind::UnknownMutant,
                &m.file,
                format!("`{}` names no mutant of this policy", m.mark.mutant),
            )
            .at(&m.source, m.mark.span.clone(), "this mark")
            .with_help(help),
        );
    }
    out
}

fn not_equivalent(m: &MarkIn, killed: &Outcome) -> TestDiagnostic {
    let by = match killed {
        Outcome::Killed { file, case } => format!("case `{case}` of `{file}`"),
        _ => "a case".to_string(),
    };
    TestDiagnostic::new(
        Kind::NotEquivalent,
        &m.file,
        format!(
            "mutant `{}` is marked equivalent, but {by} kills it",
            m.mark.mutant
        ),
    )
    .at(&m.source, m.mark.span.clone(), "this mark")
    .with_help("remove the mark: the suite already tells this mutant from the policy")
}

/// What to do about a survivor no nudge could tell apart.
pub fn hint(kind: MutantKind) -> &'static str {
    match kind {
        MutantKind::ComparisonFlipped | MutantKind::ConditionDropped => {
            "add a case that reaches this condition and expects its rule's outcome"
        }
        MutantKind::ComparisonRelaxed | MutantKind::ThresholdMoved => {
            "add cases at the boundary and one unit past it, each expecting its outcome"
        }
        MutantKind::AndOrSwapped | MutantKind::PartDropped | MutantKind::NegationDropped => {
            "add a case where this part alone decides whether the condition holds"
        }
        MutantKind::OutcomeWeakened => {
            "add a case this outcome decides, expecting the decision (and approver)"
        }
        MutantKind::ScopePredicateRemoved => {
            "add a case with a record outside the scope, expecting it refused"
        }
        MutantKind::ConsumeChanged => {
            "expect `budgets` (the `delta`) on a case whose rule consumes here"
        }
    }
}
