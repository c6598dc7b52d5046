//! The results: a text table, a JSON document, and the benchmark's
//! targets (docs/benchmarks.md) judged against them.

use serde_json::{json, Value as Json};

use crate::engines::Kind;
use crate::measure::Stats;

#[derive(Debug)]
pub struct Run {
    pub quick: bool,
    pub requests: usize,
    pub seed: u64,
    pub timer_overhead_ns: f64,
    pub sizes: Vec<SizeResult>,
    pub seconds: f64,
}

#[derive(Debug)]
pub struct SizeResult {
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

/// Resident-set growth of a child process that built this engine alone.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub peak_kib: u64,
    pub retained_kib: u64,
    /// Whether VmHWM could be reset before building; if not, the peak is
    /// the process's since it started (an upper bound).
    pub peak_was_reset: bool,
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
    let size = |n: usize| run.sizes.iter().find(|s| s.rules == n);
    let actpol_pre = |s: &SizeResult| s.engine(Kind::Actpol).map(|e| e.preparsed.median_ns);
    let mut out = Vec::new();
    if let (Some(small), Some(large)) = (run.sizes.first(), run.sizes.last()) {
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
        if let Some(s) = size(n) {
            if let Some((pre, _)) = s.ratios(Kind::Cedar) {
                out.push(Target {
                    name: if n == 10 {
                        "vs_cedar_10"
                    } else {
                        "vs_cedar_1000"
                    },
                    target: format!(
                        "at {n} rules at least {factor}x faster than Cedar per decision"
                    ),
                    measured: format!("{pre:.1}x"),
                    holds: pre >= factor,
                });
            }
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
            "\nN={} rules, {} actions, {} agents; {} requests, {} allowed\n",
            fmt_ns(s.rules as f64),
            s.actions,
            s.agents,
            s.requests,
            s.allowed
        ));
        t.push_str(&format!(
            "{:<12} {:>10}  {:>23}  {:>23}  {:>19}  {:>21}\n",
            "engine",
            "compile ms",
            "pre-parsed ns med/p99",
            "from JSON ns med/p99",
            "x actpol pre/JSON",
            "memory KiB peak/kept"
        ));
        // Engines in their fixed order, an unavailable one in its place.
        for kind in Kind::ALL {
            if let Some((_, why)) = s.unavailable.iter().find(|(k, _)| *k == kind) {
                t.push_str(&format!("{:<12} unavailable: {why}\n", kind.name()));
                continue;
            }
            let Some(e) = s.engine(kind) else { continue };
            let (rp, rj) = s.ratios(e.kind).unwrap_or((f64::NAN, f64::NAN));
            let mem = e.memory.map_or("-".to_string(), |m| {
                format!(
                    "{:>9} / {:>9}",
                    fmt_ns(m.peak_kib as f64),
                    fmt_ns(m.retained_kib as f64)
                )
            });
            t.push_str(&format!(
                "{:<12} {:>10.2}  {}  {}  {:>8.1} / {:>8.1}  {:>21}\n",
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
                        "memory": e.memory.map(|m| json!({
                            "peak_kib": m.peak_kib,
                            "retained_kib": m.retained_kib,
                            "peak_was_reset": m.peak_was_reset,
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
