//! Side-by-side benchmark of actpol against Cedar (`cedar-policy`), Rego
//! (`regorus`) and CEL (`cel`), and beside hand-written Rust floors, in one
//! process, on generated policy families rendered in every language.
//!
//! For each family (`spread`: four candidate rules a request at every size;
//! `one-action`: every rule on one action) and size it generates the family
//! and a request set, compiles every engine (timed), checks that every
//! engine gives the expected allow/deny on every request (pre-parsed and
//! from JSON) and that the floor building a decision builds actpol's, then
//! times decisions on pre-parsed input and from JSON bytes, and measures
//! live heap in a child process per engine. It times the shipped examples
//! end to end, prints a table (and with `--json` a JSON document on stdout,
//! the table then going to stderr) and says which of its targets hold.
//! `--callgrind` counts instructions per decision instead, under valgrind.
//!
//! `docs/benchmarks.md` explains the mapping and the method.
//!
//! ```text
//! cargo run --release -p actpol-bench -- [--quick] [--json] [--family one-action] [--sizes 10,1000] [--seed N]
//! cargo run --release -p actpol-bench -- --callgrind [--family …] [--sizes …]
//! ```

mod callgrind;
mod engines;
mod examples;
mod family;
mod measure;
mod report;

#[global_allocator]
static ALLOCATOR: measure::heap::Counting = measure::heap::Counting;

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Duration;

use engines::{Engine, Kind, Res, Sources};
use family::{Family, Shape};
use measure::Sampler;
use report::{ActpolExtras, EngineResult, ExampleResult, Memory, Run, SizeResult};

/// How long each measurement runs, and how many requests it cycles over.
#[derive(Debug, Clone)]
struct Plan {
    /// The families run, each at its sizes.
    families: Vec<(Shape, Vec<usize>)>,
    requests: usize,
    /// Per engine, size and input path, split over `rounds`.
    budget: Duration,
    /// Rounds interleave the engines, so that a burst of load from a
    /// neighbouring process lands on all of them rather than on one.
    rounds: u32,
    compile_reps: usize,
    seed: u64,
    quick: bool,
    json: bool,
    memory: bool,
}

impl Plan {
    fn from_args(args: &[String]) -> Res<Plan> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut plan = Plan {
            families: if quick {
                vec![
                    (Shape::Spread, vec![10, 100]),
                    (Shape::OneAction, vec![10, 100]),
                ]
            } else {
                vec![
                    (Shape::Spread, vec![10, 100, 1_000, 10_000]),
                    (Shape::OneAction, vec![10, 100, 1_000]),
                ]
            },
            requests: if quick { 64 } else { 200 },
            budget: Duration::from_millis(if quick { 60 } else { 1_200 }),
            rounds: if quick { 1 } else { 3 },
            compile_reps: if quick { 1 } else { 3 },
            seed: 0x00ac_7001,
            quick,
            json: false,
            memory: true,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => {}
                "--json" => plan.json = true,
                "--no-memory" => plan.memory = false,
                "--family" => {
                    let name = it.next().ok_or("--family needs spread or one-action")?;
                    let shape = Shape::from_name(name)
                        .ok_or_else(|| format!("--family: no family `{name}`"))?;
                    plan.families.retain(|(s, _)| *s == shape);
                }
                "--sizes" => {
                    let list = it.next().ok_or("--sizes needs a list such as 10,1000")?;
                    let sizes: Vec<usize> = list
                        .split(',')
                        .map(|s| s.trim().replace('_', "").parse::<usize>())
                        .collect::<Result<_, _>>()
                        .map_err(|e| format!("--sizes: {e}"))?;
                    let per = family::RULES_PER_ACTION;
                    if let Some(bad) = sizes.iter().find(|n| **n == 0 || **n % per != 0) {
                        return Err(format!(
                            "--sizes: {bad} is not a positive multiple of {per}"
                        ));
                    }
                    for (_, each) in &mut plan.families {
                        each.clone_from(&sizes);
                    }
                }
                "--seed" => {
                    let seed = it.next().ok_or("--seed needs a number")?;
                    plan.seed = seed.parse().map_err(|e| format!("--seed: {e}"))?;
                }
                other => return Err(format!("unknown argument `{other}` (see --help)")),
            }
        }
        Ok(plan)
    }
}

const USAGE: &str = "usage: actpol-bench [--quick] [--json] [--family spread|one-action] [--sizes 10,100,...] [--seed N] [--no-memory]
       actpol-bench --callgrind [--quick] [--family …] [--sizes …]   instructions per decision (valgrind)
       actpol-bench --loop <engine> <pre|json|envelope|explain|json-out> <rules> <seconds>
       actpol-bench --count <engine|example> <path|name> <family> <rules> <decisions>
engines: actpol, floor, floor-decision, cedar-action, cedar-agent, cedar-naive, rego, rego-interp, cel, cel-indexed";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("--memory-probe") => memory_probe(&args[1..]),
        Some("--loop") => decide_loop(&args[1..]),
        Some("--count") => callgrind::count(&args[1..]),
        _ if args.iter().any(|a| a == "--callgrind") => {
            let rest: Vec<String> = args
                .iter()
                .filter(|a| *a != "--callgrind")
                .cloned()
                .collect();
            Plan::from_args(&rest).and_then(|plan| callgrind::run(&plan.families, plan.seed))
        }
        _ => Plan::from_args(&args).and_then(|plan| run(&plan)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("actpol-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Progress goes to stderr: stdout carries only the results.
fn progress(message: &str) {
    eprintln!("{message}");
}

fn run(plan: &Plan) -> Res<()> {
    let started = std::time::Instant::now();
    let mut sizes = Vec::new();
    for (shape, each) in &plan.families {
        for &n in each {
            sizes.push(run_size(plan, *shape, n)?);
        }
    }
    let examples = time_examples(plan)?;
    let run = Run {
        examples,
        quick: plan.quick,
        requests: plan.requests,
        seed: plan.seed,
        timer_overhead_ns: measure::timer_overhead_ns(),
        sizes,
        seconds: started.elapsed().as_secs_f64(),
    };
    let table = report::table(&run);
    if plan.json {
        eprintln!("{table}");
        println!(
            "{}",
            serde_json::to_string_pretty(&report::json(&run)).map_err(|e| e.to_string())?
        );
    } else {
        println!("{table}");
    }
    Ok(())
}

fn run_size(plan: &Plan, shape: Shape, n: usize) -> Res<SizeResult> {
    let family = Family::generate_shaped(shape, n, plan.requests, plan.seed);
    let sources = Sources::render(&family);
    let expected: Vec<bool> = family.requests.iter().map(|r| family.expected(r)).collect();
    let allowed = expected.iter().filter(|a| **a).count();
    progress(&format!(
        "{} N={n}: {} actions, {} agents, {} requests ({allowed} allowed)",
        shape.name(),
        family.actions,
        family.agents,
        family.requests.len()
    ));

    // Compile every engine: the engines are kept from the last repetition.
    // A peer that cannot take the policy at this size (a documented limit
    // of that engine) is reported as unavailable; actpol must always build.
    let compile_budget = Duration::from_secs(if plan.quick { 1 } else { 3 });
    let mut built: Vec<(Kind, f64, Box<dyn Engine>)> = Vec::new();
    let mut unavailable = Vec::new();
    for kind in Kind::ALL {
        let (ms, engine) = measure::time_ms(plan.compile_reps, compile_budget, || {
            engines::build(kind, &sources)
        });
        match engine {
            Ok(engine) => built.push((kind, ms, engine)),
            Err(e) if kind != Kind::Actpol => {
                progress(&format!("N={n}: {} is unavailable: {e}", kind.name()));
                unavailable.push((kind, e));
            }
            Err(e) => return Err(e),
        }
    }
    let extras = actpol_extras(plan, &sources)?;

    // Every engine turns every request into its input form once, untimed.
    for (kind, _, engine) in &mut built {
        for r in &family.requests {
            engine
                .prepare(&r.json)
                .map_err(|e| format!("N={n}: {} cannot take a request: {e}", kind.name()))?;
        }
    }
    check_agreement(n, &family, &expected, &mut built)?;
    check_floor_decision(n, &family, &sources)?;

    let mut pre: Vec<Sampler> = built.iter().map(|_| Sampler::default()).collect();
    let mut from_json: Vec<Sampler> = built.iter().map(|_| Sampler::default()).collect();
    let round_budget = plan.budget / plan.rounds;
    let min = plan.requests.div_ceil(plan.rounds as usize);
    let jsons: Vec<&[u8]> = family.requests.iter().map(|r| r.json.as_slice()).collect();
    for round in 0..plan.rounds {
        progress(&format!(
            "N={n}: timing, round {}/{}",
            round + 1,
            plan.rounds
        ));
        for (slot, (_, _, engine)) in built.iter_mut().enumerate() {
            pre[slot].run(plan.requests, round_budget, min, |i| engine.decide(i));
            // Agreement was checked above: an error here cannot happen, and
            // would deny.
            from_json[slot].run(plan.requests, round_budget, min, |i| {
                engine.decide_json(black_box(jsons[i])).unwrap_or(false)
            });
        }
    }
    let [envelope, explain, json_to_json] = time_actpol_paths(plan, &sources, &family)?;

    let mut results = Vec::new();
    for (slot, (kind, compile_ms, _)) in built.iter().enumerate() {
        let memory = if plan.memory {
            Some(memory_of(*kind, shape, n, plan)?)
        } else {
            None
        };
        results.push(EngineResult {
            kind: *kind,
            compile_ms: *compile_ms,
            preparsed: pre[slot].stats(plan.requests),
            from_json: from_json[slot].stats(plan.requests),
            memory,
        });
    }
    Ok(SizeResult {
        shape: family.shape,
        rules: family.rules.len(),
        actions: family.actions,
        agents: family.agents,
        requests: family.requests.len(),
        allowed,
        engines: results,
        unavailable,
        actpol: ActpolExtras {
            envelope: Some(envelope),
            explain: Some(explain),
            json_to_decision_json: Some(json_to_json),
            ..extras
        },
    })
}

/// Stops at the first request on which some engine differs from the
/// family's own answer, naming every engine's answer.
fn check_agreement(
    n: usize,
    family: &Family,
    expected: &[bool],
    built: &mut [(Kind, f64, Box<dyn Engine>)],
) -> Res<()> {
    let word = |b: bool| if b { "allow" } else { "deny" };
    for (i, r) in family.requests.iter().enumerate() {
        let mut answers = Vec::new();
        for (kind, _, engine) in built.iter_mut() {
            let pre = engine.decide(i);
            let json = engine.decide_json(&r.json).map_err(|e| {
                format!("N={n}, request {i}: {} failed from JSON: {e}", kind.name())
            })?;
            answers.push((*kind, pre, json));
        }
        if let Some((kind, pre, json)) = answers
            .iter()
            .find(|(_, pre, json)| *pre != expected[i] || *json != expected[i])
        {
            let all: Vec<String> = answers
                .iter()
                .map(|(k, p, j)| format!("{}={}/{}", k.name(), word(*p), word(*j)))
                .collect();
            return Err(format!(
                "engines disagree: {} at N={n} on request {i} answered {} (pre-parsed) / {} (from JSON), expected {}; \
                 all answers (pre-parsed/from JSON): {}; request: {}",
                kind.name(),
                word(*pre),
                word(*json),
                word(expected[i]),
                all.join(", "),
                String::from_utf8_lossy(&r.json)
            ));
        }
    }
    Ok(())
}

/// The floor that builds a decision must build exactly actpol's, or it is
/// not the floor of the same work.
fn check_floor_decision(n: usize, family: &Family, sources: &Sources) -> Res<()> {
    let mut actpol = engines::Actpol::build(&sources.actpol)?;
    let mut floor = engines::Floor::build(family, true);
    for (i, r) in family.requests.iter().enumerate() {
        actpol.prepare(&r.json)?;
        floor.prepare(&r.json)?;
        let ours = actpol.policy.decide(&actpol.bound[i], &actpol.state);
        let theirs = floor.decision(i);
        if theirs != ours {
            return Err(format!(
                "N={n}, request {i}: the floor's decision differs from actpol's: {theirs:?} vs {ours:?}"
            ));
        }
    }
    Ok(())
}

/// The shipped examples end to end, each envelope with its state.
fn time_examples(plan: &Plan) -> Res<Vec<ExampleResult>> {
    let mut out = Vec::new();
    for name in examples::NAMES {
        let example = examples::Example::load(name)?;
        let n = example.cases.len();
        progress(&format!("example {name}: {n} envelopes, timing"));
        let mut sampler = Sampler::default();
        sampler.run(n, plan.budget, n, |i| example.decide_to_json(i) > 2);
        out.push(ExampleResult {
            name,
            envelopes: n,
            stats: sampler.stats(n),
        });
    }
    Ok(out)
}

/// actpol's own costs beside the comparison: compile alone, artifact load.
fn actpol_extras(plan: &Plan, sources: &Sources) -> Res<ActpolExtras> {
    let budget = Duration::from_secs(if plan.quick { 1 } else { 3 });
    let (compile_ms, artifact) = measure::time_ms(plan.compile_reps, budget, || {
        actpol::compile_sources([("bench.actpol", sources.actpol.as_str())])
    });
    let artifact = artifact.map_err(|e| format!("actpol: {e}"))?;
    let bytes = artifact.encode().map_err(|e| format!("actpol: {e}"))?;
    let (load_ms, policy) = measure::time_ms(plan.compile_reps.max(5), budget, || {
        actpol::Policy::load(&bytes)
    });
    policy.map_err(|e| format!("actpol: the artifact does not load: {e}"))?;
    Ok(ActpolExtras {
        compile_ms,
        load_ms,
        artifact_bytes: bytes.len(),
        envelope: None,
        explain: None,
        json_to_decision_json: None,
    })
}

/// actpol's other input paths: from an `Envelope` struct (cloned and bound
/// on every call, as a caller handing over an owned envelope pays), with an
/// explanation, and from JSON bytes to decision JSON bytes (the end-to-end
/// figure). A separate instance keeps the concrete facade types.
fn time_actpol_paths(plan: &Plan, sources: &Sources, family: &Family) -> Res<[measure::Stats; 3]> {
    let mut a = engines::Actpol::build(&sources.actpol)?;
    for r in &family.requests {
        a.prepare(&r.json)?;
    }
    let a = a;
    let n = family.requests.len();
    let mut envelope = Sampler::default();
    envelope.run(n, plan.budget, n, |i| {
        a.policy
            .decide(a.envelopes[i].clone(), &a.state)
            .decision
            .proceeds()
    });
    let mut explain = Sampler::default();
    explain.run(n, plan.budget, n, |i| {
        let d = a
            .policy
            .decide(actpol::Request::new(&a.bound[i]).explained(), &a.state);
        d.explanation.is_some() && d.decision.proceeds()
    });
    let mut json = Sampler::default();
    json.run(n, plan.budget, n, |i| {
        let d = a
            .policy
            .decide(black_box(&family.requests[i].json), &a.state);
        let out = serde_json::to_vec(&d).unwrap_or_default();
        black_box(out).len() > 2 && d.decision.proceeds()
    });
    Ok([envelope.stats(n), explain.stats(n), json.stats(n)])
}

fn memory_of(kind: Kind, shape: Shape, n: usize, plan: &Plan) -> Res<Memory> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .args([
            "--memory-probe",
            kind.name(),
            shape.name(),
            &n.to_string(),
            &plan.requests.to_string(),
            &plan.seed.to_string(),
        ])
        .output()
        .map_err(|e| format!("memory probe: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "memory probe for {} at N={n} failed: {}",
            kind.name(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<usize> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match nums.as_slice() {
        [peak, kept, artifact] => Ok(Memory {
            build_peak_bytes: *peak,
            kept_bytes: *kept,
            from_artifact_bytes: (kind == Kind::Actpol).then_some(*artifact),
        }),
        _ => Err(format!("memory probe printed `{text}`")),
    }
}

/// Child-process mode: `--memory-probe <engine> <family> <rules> <requests> <seed>`.
///
/// Live heap, counted by the bench's allocator from just before the engine
/// is built: the peak while building, and what the built engine keeps.
/// For actpol, also what the policy keeps when loaded from its artifact
/// (compiled beforehand, outside the count). A small family goes through
/// the engine first, so lazily built statics are not counted. Prints
/// `<build peak> <kept> <kept from the artifact, or 0>` in bytes.
fn memory_probe(args: &[String]) -> Res<()> {
    let [kind, shape, n, requests, seed] = args else {
        return Err("--memory-probe <engine> <family> <rules> <requests> <seed>".to_string());
    };
    let kind = Kind::from_name(kind).ok_or_else(|| format!("no engine `{kind}`"))?;
    let shape = Shape::from_name(shape).ok_or_else(|| format!("no family `{shape}`"))?;
    let n: usize = n.parse().map_err(|e| format!("{e}"))?;
    let requests: usize = requests.parse().map_err(|e| format!("{e}"))?;
    let seed: u64 = seed.parse().map_err(|e| format!("{e}"))?;
    {
        let warm = Family::generate(family::RULES_PER_ACTION, 4, seed.wrapping_add(1));
        let mut engine = engines::build(kind, &Sources::render(&warm))?;
        for (i, r) in warm.requests.iter().enumerate() {
            engine.prepare(&r.json)?;
            black_box(engine.decide(i));
            black_box(engine.decide_json(&r.json)?);
        }
    }
    let family = Family::generate_shaped(shape, n, requests, seed);
    let sources = Sources::render(&family);
    let artifact = if kind == Kind::Actpol {
        let artifact = actpol::compile_sources([("bench.actpol", sources.actpol.as_str())])
            .map_err(|e| format!("actpol: {e}"))?;
        Some(artifact.encode().map_err(|e| format!("actpol: {e}"))?)
    } else {
        None
    };
    measure::heap::counting();
    let engine = engines::build(kind, &sources)?;
    let kept = measure::heap::live();
    let peak = measure::heap::peak();
    drop(black_box(engine));
    let from_artifact = match &artifact {
        Some(bytes) => {
            measure::heap::counting();
            let policy = actpol::Policy::load(bytes).map_err(|e| format!("actpol: {e}"))?;
            let live = measure::heap::live();
            drop(black_box(policy));
            live
        }
        None => 0,
    };
    println!("{peak} {kept} {from_artifact}");
    Ok(())
}

/// Profiling mode: `--loop <engine> <pre|json> <rules> <seconds>` decides
/// in a loop, untimed, for a profiler (`perf record`, `valgrind
/// --tool=callgrind`) to attribute the time. `actpol` also takes the paths
/// `envelope`, `explain` and `json-out` (JSON bytes to decision JSON).
fn decide_loop(args: &[String]) -> Res<()> {
    let [kind, path, n, seconds] = args else {
        return Err(
            "--loop <engine> <pre|json|envelope|explain|json-out> <rules> <seconds>".to_string(),
        );
    };
    let kind = Kind::from_name(kind).ok_or_else(|| format!("no engine `{kind}`"))?;
    let n: usize = n.parse().map_err(|e| format!("{e}"))?;
    let seconds: f64 = seconds.parse().map_err(|e| format!("{e}"))?;
    let family = Family::generate(n, 200, Plan::from_args(&[])?.seed);
    let sources = Sources::render(&family);
    // The clock starts once the engine is ready: under a profiler such as
    // valgrind, building a large policy alone takes seconds.
    let run_for = Duration::from_secs_f64(seconds);
    let mut decisions = 0usize;
    let requests = family.requests.len();
    if kind == Kind::Actpol && matches!(path.as_str(), "envelope" | "explain" | "json-out") {
        let mut a = engines::Actpol::build(&sources.actpol)?;
        for r in &family.requests {
            a.prepare(&r.json)?;
        }
        let deadline = std::time::Instant::now() + run_for;
        while std::time::Instant::now() < deadline {
            let i = decisions % requests;
            let allowed = match path.as_str() {
                "envelope" => a
                    .policy
                    .decide(a.envelopes[i].clone(), &a.state)
                    .decision
                    .proceeds(),
                "explain" => a
                    .policy
                    .decide(actpol::Request::new(&a.bound[i]).explained(), &a.state)
                    .decision
                    .proceeds(),
                _ => {
                    let d = a.policy.decide(&family.requests[i].json, &a.state);
                    black_box(serde_json::to_vec(&d).unwrap_or_default());
                    d.decision.proceeds()
                }
            };
            black_box(allowed);
            decisions += 1;
        }
    } else {
        let mut engine = engines::build(kind, &sources)?;
        for r in &family.requests {
            engine.prepare(&r.json)?;
        }
        let json = match path.as_str() {
            "pre" => false,
            "json" => true,
            other => return Err(format!("no path `{other}` for {}", kind.name())),
        };
        let deadline = std::time::Instant::now() + run_for;
        while std::time::Instant::now() < deadline {
            let i = decisions % requests;
            let allowed = if json {
                engine.decide_json(&family.requests[i].json)?
            } else {
                engine.decide(i)
            };
            black_box(allowed);
            decisions += 1;
        }
    }
    eprintln!("{decisions} decisions");
    Ok(())
}
