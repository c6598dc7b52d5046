//! What `/metrics` reports, in the Prometheus text format: decisions by
//! outcome, decision latency, errors by code, policy reloads, and the
//! policy serving. Counters are atomics: recording one costs a few
//! nanoseconds on the request path.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actpol::{ErrorCode, Level};

use crate::policy::{PolicyInfo, Reload};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: [AtomicU64; 4],
    /// Per bucket (not cumulative); the last counts what is above them all.
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_us: AtomicU64,
    errors: Mutex<BTreeMap<ErrorCode, u64>>,
    reloads: [AtomicU64; 3],
    shadow_reloads: [AtomicU64; 3],
    /// By the serving decision's outcome, then the shadow's.
    shadow_decisions: [[AtomicU64; 4]; 4],
    shadow_flips: AtomicU64,
}

fn reload_index(outcome: &Reload) -> usize {
    match outcome {
        Reload::Swapped { .. } => 0,
        Reload::Unchanged { .. } => 1,
        Reload::Refused { .. } => 2,
    }
}

const RELOAD_RESULTS: [&str; 3] = ["swapped", "unchanged", "refused"];

fn level_index(level: Level) -> usize {
    Level::ALL.iter().position(|l| *l == level).unwrap_or(0)
}

impl Metrics {
    /// A decision made, and how long its request took.
    pub fn decision(&self, level: Level) {
        self.decisions[level_index(level)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn latency(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_us.fetch_add(micros, Ordering::Relaxed);
    }

    /// A request answered with an error.
    pub fn error(&self, code: ErrorCode) {
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        *errors.entry(code).or_default() += 1;
    }

    pub fn reload(&self, outcome: &Reload) {
        self.reloads[reload_index(outcome)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn shadow_reload(&self, outcome: &Reload) {
        self.shadow_reloads[reload_index(outcome)].fetch_add(1, Ordering::Relaxed);
    }

    /// A request the shadow policy decided too; `flipped` when the two
    /// decisions differ.
    pub fn shadow(&self, live: Level, shadow: Level, flipped: bool) {
        self.shadow_decisions[level_index(live)][level_index(shadow)]
            .fetch_add(1, Ordering::Relaxed);
        if flipped {
            self.shadow_flips.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many requests the shadow policy decided beside the serving one.
    pub fn shadow_decisions(&self) -> u64 {
        self.shadow_decisions
            .iter()
            .flatten()
            .map(|n| n.load(Ordering::Relaxed))
            .sum()
    }

    pub fn shadow_flips(&self) -> u64 {
        self.shadow_flips.load(Ordering::Relaxed)
    }

    /// How many decisions of `level` were made.
    pub fn decisions(&self, level: Level) -> u64 {
        self.decisions[level_index(level)].load(Ordering::Relaxed)
    }

    /// The text `/metrics` serves.
    pub fn render(
        &self,
        policy: &PolicyInfo,
        shadow: Option<&PolicyInfo>,
        held: Option<u64>,
    ) -> String {
        let mut out = String::with_capacity(4096);
        self.render_decisions(&mut out);
        self.render_latency(&mut out);
        self.render_errors(&mut out);
        header(
            &mut out,
            "actpol_open_reservations",
            "gauge",
            "Reservations held: neither committed nor released, and not past their time.",
        );
        if let Some(held) = held {
            let _ = writeln!(out, "actpol_open_reservations {held}");
        }
        policy_info(
            &mut out,
            "actpol_policy_info",
            "The policy serving: its name and hash.",
            policy,
        );
        header(
            &mut out,
            "actpol_policy_reloads_total",
            "counter",
            "Policy reloads by result: swapped, unchanged, refused (the old policy kept serving).",
        );
        for (i, result) in RELOAD_RESULTS.iter().enumerate() {
            let n = self.reloads[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "actpol_policy_reloads_total{{result=\"{result}\"}} {n}"
            );
        }
        if let Some(shadow) = shadow {
            policy_info(
                &mut out,
                "actpol_shadow_policy_info",
                "The candidate policy deciding in shadow.",
                shadow,
            );
            self.render_shadow(&mut out);
        }
        out
    }

    fn render_shadow(&self, out: &mut String) {
        header(
            out,
            "actpol_shadow_decisions_total",
            "counter",
            "Requests the shadow policy decided beside the serving one, by the serving outcome (live) and the shadow's.",
        );
        for live in Level::ALL {
            for shadow in Level::ALL {
                let n = self.shadow_decisions[level_index(live)][level_index(shadow)]
                    .load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "actpol_shadow_decisions_total{{live=\"{}\",shadow=\"{}\"}} {n}",
                    live.as_str(),
                    shadow.as_str()
                );
            }
        }
        header(
            out,
            "actpol_shadow_flips_total",
            "counter",
            "Requests on which the shadow policy's outcome differs from the serving one's.",
        );
        let _ = writeln!(out, "actpol_shadow_flips_total {}", self.shadow_flips());
        header(
            out,
            "actpol_shadow_reloads_total",
            "counter",
            "Shadow policy reloads by result: swapped, unchanged, refused (the old shadow kept deciding).",
        );
        for (i, result) in RELOAD_RESULTS.iter().enumerate() {
            let n = self.shadow_reloads[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "actpol_shadow_reloads_total{{result=\"{result}\"}} {n}"
            );
        }
    }

    fn render_decisions(&self, out: &mut String) {
        header(
            out,
            "actpol_decisions_total",
            "counter",
            "Decisions made and recorded, by outcome.",
        );
        for level in Level::ALL {
            let n = self.decisions(level);
            let _ = writeln!(
                out,
                "actpol_decisions_total{{decision=\"{}\"}} {n}",
                level.as_str()
            );
        }
    }

    fn render_latency(&self, out: &mut String) {
        header(
            out,
            "actpol_decision_seconds",
            "histogram",
            "Time from a decide request's arrival to its answer, queue and store included.",
        );
        let mut cumulative = 0u64;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.latency[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "actpol_decision_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.latency[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "actpol_decision_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "actpol_decision_seconds_sum {sum}");
        let _ = writeln!(out, "actpol_decision_seconds_count {cumulative}");
    }

    fn render_errors(&self, out: &mut String) {
        header(
            out,
            "actpol_errors_total",
            "counter",
            "Requests answered with an error, by code.",
        );
        let errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        for (code, n) in errors.iter() {
            let _ = writeln!(out, "actpol_errors_total{{code=\"{code}\"}} {n}");
        }
    }
}

/// A gauge of 1 labelled with a policy's name and hash: which policy it is.
fn policy_info(out: &mut String, name: &str, help: &str, policy: &PolicyInfo) {
    header(out, name, "gauge", help);
    let _ = writeln!(
        out,
        "{name}{{name=\"{}\",hash=\"{}\"}} 1",
        escape(&policy.name),
        escape(&policy.hash)
    );
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
