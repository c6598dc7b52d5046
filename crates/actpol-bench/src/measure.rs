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

/// The bench binary's allocator: the system's, counting the bytes live and
/// their peak while [`heap::counting`] is on (only in the memory probe's
/// child process, so timed runs pay one untaken branch per allocation).
pub mod heap {
    #![allow(unsafe_code)]

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

    static ON: AtomicBool = AtomicBool::new(false);
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    #[derive(Debug)]
    pub struct Counting;

    fn grew(bytes: usize) {
        let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
        PEAK.fetch_max(live, Relaxed);
    }

    fn shrank(bytes: usize) {
        // Memory allocated before counting began may be freed after: the
        // count never goes below zero.
        let _ = LIVE.fetch_update(Relaxed, Relaxed, |live| Some(live.saturating_sub(bytes)));
    }

    // SAFETY: every call is passed straight to `System` with the same
    // arguments; the counters only observe sizes.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() && ON.load(Relaxed) {
                grew(layout.size());
            }
            p
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() && ON.load(Relaxed) {
                grew(layout.size());
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) };
            if ON.load(Relaxed) {
                shrank(layout.size());
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() && ON.load(Relaxed) {
                shrank(layout.size());
                grew(new_size);
            }
            p
        }
    }

    /// Starts counting from zero.
    pub fn counting() {
        LIVE.store(0, Relaxed);
        PEAK.store(0, Relaxed);
        ON.store(true, Relaxed);
    }

    /// Bytes allocated since counting began and not yet freed.
    pub fn live() -> usize {
        LIVE.load(Relaxed)
    }

    /// The most bytes live at once since counting began or [`reset_peak`].
    pub fn peak() -> usize {
        PEAK.load(Relaxed)
    }
}
