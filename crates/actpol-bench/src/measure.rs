//! Timing and memory.
//!
//! Every decision is timed on its own (two `Instant::now()` calls around
//! it), so a p99 exists; the timer's own cost is measured and reported, not
//! subtracted, which only ever flatters the slower engine. Samples cycle
//! through all requests, so each engine sees the same mix; a *batch* is one
//! pass over the requests, and the reported median is the median of batch
//! medians, which shrugs off a batch that a neighbour's process disturbed.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Per-decision samples of one engine on one input path, gathered over
/// possibly several rounds.
#[derive(Debug, Default)]
pub struct Sampler {
    samples: Vec<u64>,
    next: usize,
    warmed: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median_ns: f64,
    pub p99_ns: f64,
    pub samples: usize,
}

impl Sampler {
    /// Runs `decide` on requests `0..requests` in turn for about `budget`,
    /// at least `min` decisions. The first call warms up first (caches,
    /// branch predictors, lazy tables) with untimed decisions.
    pub fn run(
        &mut self,
        requests: usize,
        budget: Duration,
        min: usize,
        mut decide: impl FnMut(usize) -> bool,
    ) {
        if !self.warmed {
            let start = Instant::now();
            for i in 0..requests {
                black_box(decide(black_box(i)));
                if start.elapsed() > budget / 10 {
                    break;
                }
            }
            self.warmed = true;
        }
        let start = Instant::now();
        let mut done = 0;
        while done < min || start.elapsed() < budget {
            let i = self.next;
            let t = Instant::now();
            let allowed = decide(black_box(i));
            let ns = t.elapsed().as_nanos() as u64;
            black_box(allowed);
            self.samples.push(ns);
            self.next = (i + 1) % requests;
            done += 1;
        }
    }

    pub fn stats(&self, requests: usize) -> Stats {
        let mut batch_medians: Vec<f64> = self
            .samples
            .chunks(requests.max(1))
            .filter(|c| c.len() == requests)
            .map(|c| median(&mut c.to_vec()))
            .collect();
        // Fewer than three whole passes (a slow engine at a large size):
        // the median of all samples is the sturdier figure.
        let median_ns = if batch_medians.len() >= 3 {
            median_f(&mut batch_medians)
        } else {
            median(&mut self.samples.clone())
        };
        Stats {
            median_ns,
            p99_ns: percentile(&mut self.samples.clone(), 0.99),
            samples: self.samples.len(),
        }
    }
}

fn median(v: &mut [u64]) -> f64 {
    percentile(v, 0.5)
}

fn median_f(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile; 0 for no samples.
fn percentile(v: &mut [u64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1] as f64
}

/// The median cost of one timing pair (`Instant::now()` twice), which every
/// per-decision sample includes.
pub fn timer_overhead_ns() -> f64 {
    let mut s: Vec<u64> = (0..20_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as u64
        })
        .collect();
    median(&mut s)
}

/// Times `f` at least once and up to `reps` times while within `budget`;
/// returns the median in milliseconds and the last result. Each result is
/// dropped outside the timed region.
pub fn time_ms<T>(reps: usize, budget: Duration, mut f: impl FnMut() -> T) -> (f64, T) {
    let start = Instant::now();
    let t = Instant::now();
    let mut last = black_box(f());
    let mut times = vec![t.elapsed().as_secs_f64() * 1e3];
    while times.len() < reps && start.elapsed() < budget {
        let t = Instant::now();
        let out = black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1e3);
        last = out;
    }
    (median_f(&mut times), last)
}

// ---------------------------------------------------------------- memory --

/// Resident-set figures from `/proc/self/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rss {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

/// Reads VmRSS and VmHWM; `None` off Linux.
pub fn rss() -> Option<Rss> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some(Rss {
        rss_kib: kib("VmRSS:")?,
        hwm_kib: kib("VmHWM:")?,
    })
}

/// Resets VmHWM to the current RSS (Linux 4.0+, `clear_refs` value 5), so
/// the peak that follows is this measurement's. `false` where refused.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
