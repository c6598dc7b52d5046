//! The VM against the reference evaluator.
//!
//! For generated policies (each within its own generated schema), compiled
//! to an artifact, and for generated envelopes and budget and window
//! states, the VM and the reference evaluator (which walks the IR directly)
//! must return the same decision, whole: level, rules, reasons,
//! constraints, escalation with its packet, budgets and errors.
//!
//! The run also counts what the decisions exercised and requires minimums,
//! so that a change to the generators cannot quietly make the test weak.
//!
//! A failure prints the policy seed and case; to run that policy alone:
//! `ACTPOL_DIFF_SEED=<seed> cargo test -p actpol-vm --test differential`.
//! `ACTPOL_DIFF_POLICIES=<n>` runs `n` policies instead of the default.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use actpol_core::decision::{self, ConstraintOut, Decision, ErrorOut, Level, Settle};
use actpol_core::error::ErrorFamily;
use actpol_core::{Envelope, ErrorCode, MemoryState};
use actpol_gen::{Clocks, Input};
use actpol_ir::Policy;
use actpol_vm::Runtime;

/// Policies per run, and envelope-and-state cases per policy: 10,000 cases.
const POLICIES: u64 = 2_000;
const CASES_PER_POLICY: u64 = 5;
/// Seeds are `FIRST_SEED + i`; changing it runs a different (equally
/// valid) sample.
const FIRST_SEED: u64 = 0xAC7_0000;

#[test]
fn vm_and_reference_evaluator_agree() {
    let started = Instant::now();
    let only = env_number("ACTPOL_DIFF_SEED");
    // A longer run, for soaking: the minimums below hold for the default.
    let policies = env_number("ACTPOL_DIFF_POLICIES").unwrap_or(POLICIES);
    let seeds: Vec<u64> = match only {
        Some(seed) => vec![seed],
        None => (0..policies).map(|i| FIRST_SEED + i).collect(),
    };
    let mut coverage = Coverage::default();
    for seed in seeds {
        run_policy(seed, &mut coverage);
    }
    eprintln!(
        "differential: {} cases in {:.1?}\n{coverage}",
        coverage.cases,
        started.elapsed()
    );
    if only.is_none() && policies == POLICIES {
        coverage.assert_minimums();
    }
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {text:?}")),
    )
}

fn run_policy(seed: u64, coverage: &mut Coverage) {
    let schema = actpol_gen::schema(seed);
    let policy = actpol_gen::policy(seed, &schema);
    let mut source_hash = [0u8; 32];
    source_hash[..8].copy_from_slice(&seed.to_le_bytes());
    let artifact = actpol_compiler::compile(&policy, source_hash).unwrap_or_else(|err| {
        panic!(
            "policy seed {seed}: the compiler refused a well-typed policy: {err}\n{}",
            actpol_gen::dump(&policy)
        )
    });
    let runtime = Runtime::new(artifact)
        .unwrap_or_else(|err| panic!("policy seed {seed}: the VM refused the artifact: {err}"));
    coverage.policies += 1;

    for case in 0..CASES_PER_POLICY {
        let case_seed = seed.wrapping_mul(CASES_PER_POLICY).wrapping_add(case);
        let input = actpol_gen::input(case_seed, &policy);
        let state = actpol_gen::state(case_seed, &policy);
        let (vm, reference) = decide_both(&runtime, &policy, &input, &state);
        let report = |headline: &str| {
            Report {
                headline,
                seed,
                case,
                policy: &policy,
                input: &input,
                state: &state,
                vm: &vm,
                reference: &reference,
            }
            .to_string()
        };
        if vm != reference {
            panic!("{}", report("the VM and the reference evaluator disagree"));
        }
        // Both may agree and still be wrong in the same way: an error only a
        // mistyped or corrupt program can meet means the generated policy
        // was not well typed, or an evaluator mistook a type.
        if let Some(e) = vm.errors.iter().find(|e| ILL_TYPED.contains(&e.code)) {
            panic!(
                "{}",
                report(&format!("a well-typed policy met `{}`", e.code))
            );
        }
        coverage.record(&policy, &input, &vm);
    }
}

/// The VM's decision and the reference evaluator's, for one input.
fn decide_both(
    runtime: &Runtime,
    policy: &Policy,
    input: &Input,
    state: &MemoryState,
) -> (Decision, Decision) {
    let hash = runtime.hash();
    match input {
        Input::Envelope(env) => (
            runtime.decide_envelope(env.clone(), state),
            actpol_refeval::decide(policy, env.clone(), state, hash),
        ),
        Input::Json(bytes) => {
            let vm = runtime.decide_json(bytes, state);
            let reference = match Envelope::from_json(bytes) {
                Ok(env) => actpol_refeval::decide(policy, env, state, hash),
                // The reference evaluator starts from an `Envelope`; bytes
                // that make none must fail closed, as the policy's
                // `on_error`, with the error and its JSON path.
                Err(err) => {
                    assert!(vm.decision >= Level::Escalate, "{vm:#?}");
                    assert!(vm.errors.iter().all(|e| e.path.is_some()), "{vm:#?}");
                    let named = decision::PolicyRef::new(&policy.meta.name, hash);
                    let ctx = Settle {
                        schema: &policy.schema,
                        meta: &policy.meta,
                        policy: &named,
                    };
                    decision::failed(ctx, vec![ErrorOut::from(&err)])
                }
            };
            (vm, reference)
        }
    }
}

/// Errors a checked policy can never meet: they mean an operand of the
/// wrong type, a reference out of range, or a runaway program.
const ILL_TYPED: [ErrorCode; 6] = [
    ErrorCode::EvalType,
    ErrorCode::EvalInvalidProgram,
    ErrorCode::EvalMalformed,
    ErrorCode::EvalFuel,
    ErrorCode::EvalBadBudget,
    ErrorCode::EvalBadRaise,
];

/// Everything needed to reproduce and read a failed case.
struct Report<'a> {
    headline: &'a str,
    seed: u64,
    case: u64,
    policy: &'a Policy,
    input: &'a Input,
    state: &'a MemoryState,
    vm: &'a Decision,
    reference: &'a Decision,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = |d: &Decision| serde_json::to_value(d).unwrap_or_default();
        let (vm, reference) = (json(self.vm), json(self.reference));
        let differ: Vec<&String> = vm
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|k| vm.get(k.as_str()) != reference.get(k.as_str()))
            .collect();
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
        writeln!(
            f,
            "{} on policy seed {}, case {}",
            self.headline, self.seed, self.case
        )?;
        writeln!(f, "fields that differ: {differ:?}")?;
        writeln!(
            f,
            "reproduce: ACTPOL_DIFF_SEED={} cargo test -p actpol-vm --test differential",
            self.seed
        )?;
        writeln!(f, "--- policy ---\n{}", actpol_gen::dump(self.policy))?;
        writeln!(f, "--- envelope ---\n{}", self.input.to_json_string())?;
        writeln!(
            f,
            "--- state ---\n{}",
            serde_json::to_string_pretty(self.state).unwrap_or_default()
        )?;
        writeln!(f, "--- VM ---\n{}", pretty(&vm))?;
        write!(f, "--- reference evaluator ---\n{}", pretty(&reference))
    }
}

const LOOP_CASES: u64 = 3_000;
const LOOP_MATCHES: u64 = 200;
const ABSENT_PARTS: u64 = 8;
const LONG_LISTS: u64 = 1_000;
const HELD_DENIALS: u64 = 20;
const RELATED_CASES: u64 = 1_200;
const MISSING_ENTITIES: u64 = 30;
const ENTITY_ERRORS: u64 = 20;
const LOCAL_SKIPPED: u64 = 1_800;
const LOCAL_TWICE: u64 = 1_800;
const LOCAL_REFUSED: u64 = 150;
const LOCAL_JSON: u64 = 30;

/// The input as JSON text.
fn json_text(input: &Input) -> String {
    match input {
        Input::Json(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Input::Envelope(env) => serde_json::to_string(env).unwrap_or_default(),
    }
}

/// Whether the input sends, as a JSON string, a local reading of
/// [`actpol_gen::LOCAL_EDGES`] the clocks treat as `clocks`.
fn sends_local(text: &str, clocks: actpol_gen::Clocks) -> bool {
    actpol_gen::LOCAL_EDGES
        .iter()
        .any(|e| e.clocks == clocks && text.contains(&format!("\"{}\"", e.text)))
}

/// Whether an expression reads through a reference to a related entity.
fn reads_related(e: &actpol_ir::Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        found |= matches!(
            x.kind,
            actpol_ir::ExprKind::Part(actpol_core::collections::PartKind::Related, ..)
                | actpol_ir::ExprKind::HasPart(actpol_core::collections::PartKind::Related, ..)
        )
    });
    found
}

/// Whether the input carries related entities.
fn carries_entities(input: &Input) -> bool {
    match input {
        Input::Envelope(env) => env.entities.as_ref().is_some_and(|e| !e.is_empty()),
        Input::Json(bytes) => serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| {
                v.get("entities")
                    .and_then(|e| e.as_array())
                    .map(|e| !e.is_empty())
            })
            .unwrap_or(false),
    }
}

/// Whether an expression walks a collection.
fn has_loop(e: &actpol_ir::Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| found |= matches!(x.kind, actpol_ir::ExprKind::Loop { .. }));
    found
}

/// Whether the input carries a list or set of 100 elements or more.
fn long_list(input: &Input) -> bool {
    let json = match input {
        Input::Json(bytes) => serde_json::from_slice(bytes).unwrap_or_default(),
        Input::Envelope(env) => serde_json::to_value(env).unwrap_or_default(),
    };
    fn walk(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Array(items) => items.len() >= 100 || items.iter().any(walk),
            serde_json::Value::Object(map) => map.values().any(walk),
            _ => false,
        }
    }
    walk(&json)
}

/// What the run's decisions exercised.
#[derive(Debug, Default)]
struct Coverage {
    policies: u64,
    cases: u64,
    json_inputs: u64,
    levels: BTreeMap<Level, u64>,
    /// Decisions that report at least one error, and the errors by code.
    with_errors: u64,
    error_codes: BTreeMap<ErrorCode, u64>,
    /// Escalations whose packet is the full one (with risks, budgets and
    /// recovery), and those whose packet lists some risk's value.
    full_packets: u64,
    packets_with_risks: u64,
    /// Decisions that constrain parameters, and that require something.
    param_constraints: u64,
    requirements: u64,
    /// Denials because merged limits admit no value.
    conflicts: u64,
    /// Decisions a spent budget decided.
    exhausted: u64,
    /// Decisions that consume a budget.
    consumed: u64,
    /// Decisions a raise decided.
    raised: u64,
    /// Decisions the default decided.
    defaults: u64,
    identity_refusals: u64,
    scope_refusals: u64,
    record_refusals: u64,
    /// Cases decided by a rule with a loop over a list or set, and cases
    /// where such a rule matched.
    loop_cases: u64,
    loop_matches: u64,
    /// Parts (`first`, `at`, a record's optional field…) read where absent.
    absent_parts: u64,
    /// Cases whose envelope carries a list of 100 elements or more.
    long_lists: u64,
    /// Escalations that held a named rule's denial by precedence.
    held_denials: u64,
    /// Cases decided by a rule that reads through a reference, with
    /// related entities in the envelope.
    related_cases: u64,
    /// Reads of an entity the envelope does not carry, unguarded.
    missing_entities: u64,
    /// Envelopes bound with an offset-less reading the clocks skip, and one
    /// they pass twice (in a field that declares its zone); and offset-less
    /// timestamps refused in a field that declares none.
    local_skipped: u64,
    local_twice: u64,
    local_refused: u64,
    /// JSON inputs bound with a local reading at a clock change, which the
    /// VM's one-pass reader and the reference's envelope reader both read.
    local_json: u64,
}

impl Coverage {
    fn record(&mut self, policy: &Policy, input: &Input, d: &Decision) {
        self.cases += 1;
        let looping: Vec<String> = policy
            .rules
            .iter()
            .filter(|r| r.when.as_ref().is_some_and(has_loop))
            .map(|r| policy.meta.rules[r.id.index()].name.clone())
            .collect();
        self.loop_cases += u64::from(!looping.is_empty());
        self.loop_matches += u64::from(d.rules.iter().any(|r| looping.contains(r)));
        self.absent_parts += u64::from(d.errors.iter().any(|e| {
            e.code == ErrorCode::EvalAbsent
                && (e.message.contains("()") || e.message.contains("record's optional field"))
        }));
        self.long_lists += u64::from(long_list(input));
        self.related_cases += u64::from(
            carries_entities(input)
                && policy
                    .rules
                    .iter()
                    .any(|r| r.when.as_ref().is_some_and(reads_related)),
        );
        self.missing_entities += u64::from(
            d.errors
                .iter()
                .any(|e| e.code == ErrorCode::EvalAbsent && e.message.contains("related entity")),
        );
        if matches!(input, Input::Json(_)) {
            self.json_inputs += 1;
        }
        let text = json_text(input);
        let bound = d
            .errors
            .iter()
            .all(|e| e.code.family() != ErrorFamily::Envelope);
        self.local_skipped += u64::from(bound && sends_local(&text, Clocks::Skip));
        self.local_twice += u64::from(bound && sends_local(&text, Clocks::Twice));
        self.local_json += u64::from(
            bound
                && matches!(input, Input::Json(_))
                && (sends_local(&text, Clocks::Skip) || sends_local(&text, Clocks::Twice)),
        );
        self.local_refused +=
            u64::from(d.errors.iter().any(|e| {
                e.code == ErrorCode::EnvelopeBadValue && e.message.contains("no UTC offset")
            }));
        *self.levels.entry(d.decision).or_default() += 1;
        if !d.errors.is_empty() {
            self.with_errors += 1;
        }
        for e in &d.errors {
            *self.error_codes.entry(e.code).or_default() += 1;
        }
        if let Some(esc) = &d.escalation {
            assert!(
                !esc.approver.is_empty(),
                "an escalation names its approver: {d:#?}"
            );
            // Read through the packet's JSON form, the contract approvers
            // see: a full packet lists the risks that apply.
            let packet = serde_json::to_value(&esc.packet).unwrap_or_default();
            if let Some(risks) = packet.get("risk").and_then(|r| r.as_array()) {
                self.full_packets += 1;
                self.packets_with_risks += u64::from(!risks.is_empty());
            }
        }
        let constraints = |param: bool| {
            d.constraints
                .iter()
                .any(|c| matches!(c, ConstraintOut::Param { .. }) == param)
        };
        self.param_constraints += u64::from(constraints(true));
        self.requirements += u64::from(constraints(false));
        let reason = |pred: &dyn Fn(&str) -> bool| d.reasons.iter().any(|r| pred(r));
        self.conflicts += u64::from(reason(&|r| {
            r.ends_with("cannot all hold") || r.ends_with("leave no allowed value")
        }));
        self.exhausted += u64::from(reason(&|r| {
            r.contains(" is spent: ")
                || (r.starts_with("budget `") && r.contains("is exhausted for"))
        }));
        self.consumed += u64::from(d.budgets.iter().any(|b| !b.delta.value().is_zero()));
        let raise_names: Vec<&str> = policy.meta.raises.iter().map(|r| r.name.as_str()).collect();
        self.raised += u64::from(
            d.rules.iter().any(|r| raise_names.contains(&r.as_str()))
                && d.errors.iter().all(|e| {
                    e.rule
                        .as_ref()
                        .is_none_or(|r| !raise_names.contains(&r.as_str()))
                }),
        );
        self.defaults += u64::from(reason(&|r| r.starts_with("default: ")));
        self.held_denials += u64::from(reason(&|r| r.contains("takes precedence over the denial")));
        let refused = d.decision == Level::Deny && d.rules.is_empty() && d.errors.is_empty();
        if refused {
            self.identity_refusals += u64::from(reason(&|r| {
                r.ends_with("is not declared")
                    || r.contains("` belongs to `")
                    || r.contains("` runs workflow `")
            }));
            self.scope_refusals += u64::from(reason(&|r| {
                r.contains("may not touch system") || r.ends_with("objects")
            }));
            self.record_refusals += u64::from(reason(&|r| r.ends_with(" record")));
        }
    }

    /// Roughly half of what the default run exercises: room for the
    /// generators to change, none for them to stop reaching a path.
    fn assert_minimums(&self) {
        let level = |l: Level| self.levels.get(&l).copied().unwrap_or(0);
        let code = |c: ErrorCode| self.error_codes.get(&c).copied().unwrap_or(0);
        let wanted: &[(&str, u64, u64)] = &[
            ("cases", self.cases, 10_000),
            ("JSON inputs", self.json_inputs, 250),
            ("allow decisions", level(Level::Allow), 600),
            ("constrain decisions", level(Level::Constrain), 400),
            ("escalate decisions", level(Level::Escalate), 1_200),
            ("deny decisions", level(Level::Deny), 2_500),
            ("decisions with errors", self.with_errors, 800),
            ("absent reads", code(ErrorCode::EvalAbsent), 50),
            ("overflows", code(ErrorCode::EvalOverflow), 10),
            ("divisions by zero", code(ErrorCode::EvalDivisionByZero), 50),
            ("plan keys without a plan", code(ErrorCode::EvalNoPlan), 50),
            (
                "negative consumptions",
                code(ErrorCode::EvalNegativeConsume),
                50,
            ),
            (
                "state amounts out of range",
                code(ErrorCode::StateOutOfRange),
                8,
            ),
            ("state view failures", code(ErrorCode::StateUnavailable), 3),
            (
                "unknown parameters",
                code(ErrorCode::EnvelopeUnknownParam),
                25,
            ),
            (
                "values of the wrong type",
                code(ErrorCode::EnvelopeWrongType),
                50,
            ),
            (
                "unknown envelope fields",
                code(ErrorCode::EnvelopeUnknownField),
                50,
            ),
            ("malformed JSON", code(ErrorCode::EnvelopeMalformedJson), 50),
            ("escalations with a full packet", self.full_packets, 1_000),
            ("packets with risks", self.packets_with_risks, 500),
            ("parameter constraints", self.param_constraints, 130),
            ("requirements", self.requirements, 250),
            ("limit conflicts", self.conflicts, 150),
            ("exhausted budgets", self.exhausted, 400),
            ("consumed budgets", self.consumed, 120),
            ("raises", self.raised, 400),
            ("defaults", self.defaults, 900),
            ("identity refusals", self.identity_refusals, 350),
            ("scope refusals", self.scope_refusals, 150),
            ("record refusals", self.record_refusals, 250),
            ("cases with a loop", self.loop_cases, LOOP_CASES),
            ("loops that matched", self.loop_matches, LOOP_MATCHES),
            ("absent parts read", self.absent_parts, ABSENT_PARTS),
            ("lists of 100 or more", self.long_lists, LONG_LISTS),
            (
                "denials held by precedence",
                self.held_denials,
                HELD_DENIALS,
            ),
            (
                "reads through references",
                self.related_cases,
                RELATED_CASES,
            ),
            (
                "missing entities read",
                self.missing_entities,
                MISSING_ENTITIES,
            ),
            (
                "unknown entity types",
                code(ErrorCode::EnvelopeUnknownEntity),
                ENTITY_ERRORS,
            ),
            (
                "entities given twice",
                code(ErrorCode::EnvelopeDuplicateEntity),
                ENTITY_ERRORS,
            ),
            (
                "local times the clocks skip, bound",
                self.local_skipped,
                LOCAL_SKIPPED,
            ),
            (
                "local times the clocks pass twice, bound",
                self.local_twice,
                LOCAL_TWICE,
            ),
            (
                "offset-less timestamps refused",
                self.local_refused,
                LOCAL_REFUSED,
            ),
            (
                "local times at a clock change, bound from JSON",
                self.local_json,
                LOCAL_JSON,
            ),
        ];
        let short: Vec<String> = wanted
            .iter()
            .filter(|(_, have, min)| have < min)
            .map(|(what, have, min)| format!("{what}: {have} (want at least {min})"))
            .collect();
        assert!(
            short.is_empty(),
            "the generated cases exercise too little:\n  {}\n{self}",
            short.join("\n  ")
        );
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "policies {}, cases {}, JSON inputs {}",
            self.policies, self.cases, self.json_inputs
        )?;
        writeln!(f, "levels {:?}", self.levels)?;
        writeln!(f, "errors {} ({:?})", self.with_errors, self.error_codes)?;
        writeln!(
            f,
            "full packets {}, with risks {}; constraints {}, requirements {}, conflicts {}",
            self.full_packets,
            self.packets_with_risks,
            self.param_constraints,
            self.requirements,
            self.conflicts
        )?;
        writeln!(
            f,
            "exhausted {}, consumed {}, raised {}, defaults {}",
            self.exhausted, self.consumed, self.raised, self.defaults
        )?;
        writeln!(
            f,
            "refusals: identity {}, scope {}, record {}",
            self.identity_refusals, self.scope_refusals, self.record_refusals
        )?;
        write!(
            f,
            "collections: cases with a loop {}, loops matched {}, absent parts {}, long lists {}",
            self.loop_cases, self.loop_matches, self.absent_parts, self.long_lists
        )?;
        write!(f, "\nprecedence: denials held {}", self.held_denials)?;
        write!(
            f,
            "\nrelated entities: cases {}, missing entities read {}",
            self.related_cases, self.missing_entities
        )?;
        write!(
            f,
            "\nlocal times: skipped {}, passed twice {}, refused without a zone {}, from JSON {}",
            self.local_skipped, self.local_twice, self.local_refused, self.local_json
        )
    }
}
