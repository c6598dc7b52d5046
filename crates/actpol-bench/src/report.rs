//! The results: a text table, a JSON document, and the benchmark's
//! targets (docs/benchmarks.md) judged against them.

use serde_json::{json, Value as Json};

use crate::engines::Kind;
use crate::family::Shape;
use crate::measure::Stats;

#[derive(Debug)]
pub struct Run {
    pub quick: bool,
    pub requests: usize,
    pub seed: u64,
    pub timer_overhead_ns: f64,
    pub sizes: Vec<SizeResult>,
    /// The shipped examples end to end.
    pub examples: Vec<ExampleResult>,
    pub seconds: f64,
}

/// One shipped example, JSON bytes in and decision JSON out, with state.
#[derive(Debug)]
pub struct ExampleResult {
    pub name: &'static str,
    pub envelopes: usize,
    pub stats: Stats,
}

#[derive(Debug)]
pub struct SizeResult {
    pub shape: Shape,
    pub rules: usize,
    pub actions: usize,
    pub agents: usize,
    pub requests: usize,
    pub allowed: usize,
    pub engines: Vec<EngineResult>,
    /// Engines that could not take the policy at this size, and why.
    pub unavailable: Vec<(Kind, String)>,
    pub actpol: ActpolExtras,
}

#[derive(Debug)]
pub struct EngineResult {
    pub kind: Kind,
    /// From text to ready to decide.
    pub compile_ms: f64,
    pub preparsed: Stats,
    pub from_json: Stats,
    pub memory: Option<Memory>,
}

/// Live heap, counted by the bench's allocator in a child process that
/// built this engine alone.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// The most bytes live at once while the engine was built.
    pub build_peak_bytes: usize,
    /// Bytes the built engine keeps.
    pub kept_bytes: usize,
    /// actpol: bytes the policy keeps when loaded from its artifact.
    pub from_artifact_bytes: Option<usize>,
}

#[derive(Debug)]
pub struct ActpolExtras {
    /// `compile_sources`: parse + check + codegen, without building a runtime.
    pub compile_ms: f64,
    /// `Policy::load` of the artifact bytes (decode + verify).
    pub load_ms: f64,
    pub artifact_bytes: usize,
    pub envelope: Option<Stats>,
    pub explain: Option<Stats>,
    pub json_to_decision_json: Option<Stats>,
}

impl SizeResult {
    fn engine(&self, kind: Kind) -> Option<&EngineResult> {
        self.engines.iter().find(|e| e.kind == kind)
    }

    /// The indexed Cedar with the lower pre-parsed median: the peer the
    /// headline compares against.
    fn best_cedar(&self) -> Option<&EngineResult> {
        self.engines
            .iter()
            .filter(|e| e.kind.is_indexed_cedar())
            .min_by(|a, b| a.preparsed.median_ns.total_cmp(&b.preparsed.median_ns))
    }

    /// `peer / actpol` per input path.
    fn ratios(&self, kind: Kind) -> Option<(f64, f64)> {
        let a = self.engine(Kind::Actpol)?;
        let p = self.engine(kind)?;
        Some((
            p.preparsed.median_ns / a.preparsed.median_ns,
            p.from_json.median_ns / a.from_json.median_ns,
        ))
    }
}

/// One of the benchmark's targets, judged.
#[derive(Debug)]
pub struct Target {
    pub name: &'static str,
    pub target: String,
    pub measured: String,
    pub holds: bool,
}

pub fn targets(run: &Run) -> Vec<Target> {
    let spread: Vec<&SizeResult> = run
        .sizes
        .iter()
        .filter(|s| s.shape == Shape::Spread)
        .collect();
    let size = |n: usize| spread.iter().copied().find(|s| s.rules == n);
    let actpol_pre = |s: &SizeResult| s.engine(Kind::Actpol).map(|e| e.preparsed.median_ns);
    let mut out = Vec::new();
    if let (Some(small), Some(large)) = (spread.first(), spread.last()) {
        if let (Some(a), Some(b)) = (actpol_pre(small), actpol_pre(large)) {
            if large.rules > small.rules {
                let ratio = b / a;
                out.push(Target {
                    name: "flat",
                    target: format!(
                        "decision at {} rules within 2x of {} rules{}",
                        fmt_ns(large.rules as f64),
                        fmt_ns(small.rules as f64),
                        if large.rules < 10_000 {
                            " (the target is 10,000 vs 10)"
                        } else {
                            ""
                        }
                    ),
                    measured: format!("{ratio:.2}x ({} ns vs {} ns)", fmt_ns(b), fmt_ns(a)),
                    holds: ratio <= 2.0,
                });
            }
        }
    }
    for (n, factor) in [(10usize, 5.0), (1_000, 100.0)] {
        let Some(s) = size(n) else { continue };
        let Some(best) = s.best_cedar() else { continue };
        if let Some((pre, json)) = s.ratios(best.kind) {
            out.push(Target {
                name: if n == 10 {
                    "vs_cedar_10"
                } else {
                    "vs_cedar_1000"
                },
                target: format!(
                    "at {n} rules at least {factor}x faster than the best-indexed Cedar per decision"
                ),
                measured: format!("{pre:.1}x pre-parsed, {json:.1}x from JSON ({})", best.kind.name()),
                holds: pre >= factor,
            });
        }
    }
    if let Some(stats) = size(1_000).and_then(|s| s.actpol.json_to_decision_json) {
        out.push(Target {
            name: "json_e2e_1000",
            target: "JSON bytes to decision JSON under 5 us median at 1,000 rules".to_string(),
            measured: format!(
                "{} ns median, {} ns p99",
                fmt_ns(stats.median_ns),
                fmt_ns(stats.p99_ns)
            ),
            holds: stats.median_ns < 5_000.0,
        });
    }
    for e in &run.examples {
        out.push(Target {
            name: "example_e2e",
            target: format!(
                "the {} example end to end (JSON in, decision JSON out, with state) under 3 us",
                e.name
            ),
            measured: format!(
                "{} ns median, {} ns p99",
                fmt_ns(e.stats.median_ns),
                fmt_ns(e.stats.p99_ns)
            ),
            holds: e.stats.median_ns < 3_000.0,
        });
    }
    if let Some(s) = size(10_000) {
        out.push(Target {
            name: "compile_10000",
            target: "compile (parse + check + codegen) of 10,000 rules under 1 s".to_string(),
            measured: format!("{:.0} ms", s.actpol.compile_ms),
            holds: s.actpol.compile_ms < 1_000.0,
        });
        out.push(Target {
            name: "load_10000",
            target: "artifact load under 50 ms (10,000 rules)".to_string(),
            measured: format!("{:.1} ms", s.actpol.load_ms),
            holds: s.actpol.load_ms < 50.0,
        });
    }
    out
}

/// `1234567.8` → `1,234,568`.
pub fn fmt_ns(ns: f64) -> String {
    let digits = format!("{:.0}", ns.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt_stats(s: &Stats) -> String {
    format!("{:>10} / {:>10}", fmt_ns(s.median_ns), fmt_ns(s.p99_ns))
}

pub fn table(run: &Run) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "actpol-bench{}: {} requests per size, seed {}, timer overhead {:.0} ns per sample (included), {:.0} s\n",
        if run.quick { " --quick" } else { "" },
        run.requests,
        run.seed,
        run.timer_overhead_ns,
        run.seconds
    ));
    for s in &run.sizes {
        t.push_str(&format!(
            "\n{} N={} rules, {} actions, {} agents; {} requests, {} allowed\n",
            s.shape.name(),
            fmt_ns(s.rules as f64),
            s.actions,
            s.agents,
            s.requests,
            s.allowed
        ));
        t.push_str(&format!(
            "{:<15} {:>10}  {:>23}  {:>23}  {:>19}  {:>23}\n",
            "engine",
            "compile ms",
            "pre-parsed ns med/p99",
            "from JSON ns med/p99",
            "x actpol pre/JSON",
            "live heap KiB peak/kept"
        ));
        // Engines in their fixed order, an unavailable one in its place.
        for kind in Kind::ALL {
            if let Some((_, why)) = s.unavailable.iter().find(|(k, _)| *k == kind) {
                t.push_str(&format!("{:<15} unavailable: {why}\n", kind.name()));
                continue;
            }
            let Some(e) = s.engine(kind) else { continue };
            let (rp, rj) = s.ratios(e.kind).unwrap_or((f64::NAN, f64::NAN));
            let mem = e.memory.map_or("-".to_string(), |m| {
                format!(
                    "{:>10} / {:>10}",
                    fmt_ns(m.build_peak_bytes as f64 / 1024.0),
                    fmt_ns(m.kept_bytes as f64 / 1024.0)
                )
            });
            t.push_str(&format!(
                "{:<15} {:>10.2}  {}  {}  {:>8.1} / {:>8.1}  {:>23}\n",
                e.kind.name(),
                e.compile_ms,
                fmt_stats(&e.preparsed),
                fmt_stats(&e.from_json),
                rp,
                rj,
                mem
            ));
        }
        let a = &s.actpol;
        let opt = |s: &Option<Stats>| s.as_ref().map_or("-".to_string(), fmt_stats);
        t.push_str(&format!(
            "actpol alone: compile {:.2} ms, artifact {} KiB loads in {:.2} ms; ns med/p99: from Envelope {}, with explanation {}, JSON to decision JSON {}\n",
            a.compile_ms,
            a.artifact_bytes.div_ceil(1024),
            a.load_ms,
            opt(&a.envelope),
            opt(&a.explain),
            opt(&a.json_to_decision_json)
        ));
        if let Some(m) = s.engine(Kind::Actpol).and_then(|e| e.memory) {
            t.push_str(&format!(
                "actpol live heap: {} bytes a rule built from text, {} bytes a rule loaded from the artifact ({} KiB)\n",
                fmt_ns(m.kept_bytes as f64 / s.rules as f64),
                fmt_ns(m.from_artifact_bytes.unwrap_or(0) as f64 / s.rules as f64),
                fmt_ns(m.from_artifact_bytes.unwrap_or(0) as f64 / 1024.0)
            ));
        }
    }
    if !run.examples.is_empty() {
        t.push_str(
            "\nexamples end to end (JSON bytes in, decision JSON out, with state), ns med/p99\n",
        );
        for e in &run.examples {
            t.push_str(&format!(
                "{:<10} {:>3} envelopes  {}  ({:.0} decisions/s)\n",
                e.name,
                e.envelopes,
                fmt_stats(&e.stats),
                1e9 / e.stats.median_ns
            ));
        }
    }
    t.push_str("\ntargets\n");
    for target in targets(run) {
        t.push_str(&format!(
            "  [{}] {}: {}\n",
            if target.holds { "holds" } else { "MISSED" },
            target.target,
            target.measured
        ));
    }
    t
}

fn stats_json(s: &Stats) -> Json {
    json!({
        "median_ns": s.median_ns.round(),
        "p99_ns": s.p99_ns.round(),
        "samples": s.samples,
    })
}

pub fn json(run: &Run) -> Json {
    let sizes: Vec<Json> = run
        .sizes
        .iter()
        .map(|s| {
            let mut engines = serde_json::Map::new();
            for e in &s.engines {
                let (rp, rj) = s.ratios(e.kind).unwrap_or((f64::NAN, f64::NAN));
                engines.insert(
                    e.kind.name().to_string(),
                    json!({
                        "preparsed": stats_json(&e.preparsed),
                        "from_json": stats_json(&e.from_json),
                        "compile_ms": round3(e.compile_ms),
                        "live_heap": e.memory.map(|m| json!({
                            "build_peak_bytes": m.build_peak_bytes,
                            "kept_bytes": m.kept_bytes,
                            "from_artifact_bytes": m.from_artifact_bytes,
                        })),
                        "ratio_vs_actpol": {
                            "preparsed": round3(rp),
                            "from_json": round3(rj),
                        },
                    }),
                );
            }
            for (kind, why) in &s.unavailable {
                engines.insert(kind.name().to_string(), json!({ "unavailable": why }));
            }
            let a = &s.actpol;
            json!({
                "family": s.shape.name(),
                "rules": s.rules,
                "actions": s.actions,
                "agents": s.agents,
                "requests": s.requests,
                "allowed": s.allowed,
                "engines": engines,
                "actpol": {
                    "compile_ms": round3(a.compile_ms),
                    "load_ms": round3(a.load_ms),
                    "artifact_bytes": a.artifact_bytes,
                    "from_envelope": a.envelope.as_ref().map(stats_json),
                    "explain": a.explain.as_ref().map(stats_json),
                    "json_to_decision_json": a.json_to_decision_json.as_ref().map(stats_json),
                },
            })
        })
        .collect();
    let targets: Vec<Json> = targets(run)
        .into_iter()
        .map(|t| {
            json!({
                "name": t.name,
                "target": t.target,
                "measured": t.measured,
                "holds": t.holds,
            })
        })
        .collect();
    json!({
        "quick": run.quick,
        "requests_per_size": run.requests,
        "seed": run.seed,
        "timer_overhead_ns": run.timer_overhead_ns.round(),
        "seconds": round3(run.seconds),
        "machine": machine(),
        "sizes": sizes,
        "examples": run.examples.iter().map(|e| json!({
            "name": e.name,
            "envelopes": e.envelopes,
            "end_to_end": stats_json(&e.stats),
        })).collect::<Vec<_>>(),
        "targets": targets,
    })
}

fn round3(x: f64) -> Json {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        Json::Null
    }
}

/// What the numbers were measured on.
fn machine() -> Json {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    });
    let mem_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemTotal:"))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    });
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "mem_total_kib": mem_kib,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    })
}
