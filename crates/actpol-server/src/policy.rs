//! The policy being served, and its hot reload.
//!
//! The served policy is one `Arc` swapped atomically: a request takes the
//! `Arc` when it starts and decides on it to the end, so a reload never
//! changes the policy under a request in flight, and each decision names
//! the hash of the policy that made it. A new policy that does not compile
//! or load is refused and logged; the old one keeps serving.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use actpol::store::system_now;
use actpol::{CompileFailure, LoadOptions, Policy};
use arc_swap::ArcSwap;
use serde::Serialize;

/// Where a policy comes from, to load it again on reload.
#[derive(Clone, Debug)]
pub enum PolicySource {
    /// `.actpol` files or directories, compiled on each load.
    Paths(Vec<PathBuf>),
    /// A compiled artifact (`.actpolc`), loaded and verified.
    Artifact(PathBuf),
}

/// A loaded policy and when it was loaded.
#[derive(Debug)]
pub struct Loaded {
    pub policy: Policy,
    /// When it started serving (milliseconds since the epoch).
    pub loaded_at: i64,
}

/// What `/v1/policy` answers.
#[derive(Debug, Serialize)]
pub struct PolicyInfo {
    pub name: String,
    pub hash: String,
    /// RFC 3339.
    pub loaded_at: String,
    /// Where it is loaded from.
    pub source: Vec<String>,
}

impl PolicySource {
    /// A policy named by one path: a compiled artifact (`.actpolc`), or
    /// `.actpol` files and directories.
    pub fn of_path(path: &Path) -> PolicySource {
        if path.extension().is_some_and(|e| e == "actpolc") {
            PolicySource::Artifact(path.to_path_buf())
        } else {
            PolicySource::Paths(vec![path.to_path_buf()])
        }
    }

    /// Loads the policy, or says why not (with the compiler's report when
    /// the policy has errors).
    pub fn load(&self) -> Result<Policy, String> {
        self.load_with(&LoadOptions::default())
    }

    /// Loads the policy as `options` say (a signature required, where
    /// imports may reach).
    pub fn load_with(&self, options: &LoadOptions) -> Result<Policy, String> {
        match self {
            PolicySource::Paths(paths) => {
                Policy::from_paths_with(paths, options).map_err(|e| describe(&e))
            }
            PolicySource::Artifact(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                Policy::load_with(&bytes, options).map_err(|e| format!("`{}`: {e}", path.display()))
            }
        }
    }

    fn roots(&self) -> Vec<&Path> {
        match self {
            PolicySource::Paths(paths) => paths.iter().map(PathBuf::as_path).collect(),
            PolicySource::Artifact(path) => vec![path.as_path()],
        }
    }

    /// What the files say of themselves: every file under the source's
    /// paths with its length and modification time. A change in it means
    /// the policy may have changed.
    pub fn fingerprint(&self) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
        let mut out = Vec::new();
        for root in self.roots() {
            walk(root, &mut out);
        }
        out.sort();
        out
    }
}

/// The files under `path` as the loader walks them (bounded, links to
/// directories not followed), each with its length and modification time.
fn walk(path: &Path, out: &mut Vec<(PathBuf, u64, Option<SystemTime>)>) {
    let files = match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => actpol::walk::files_under(path, &|_| true).unwrap_or_default(),
        _ => vec![path.to_path_buf()],
    };
    for file in files {
        match std::fs::metadata(&file) {
            Ok(meta) => out.push((file, meta.len(), meta.modified().ok())),
            // A file being replaced: it counts as a change once it is back.
            Err(_) => out.push((file, u64::MAX, None)),
        }
    }
}

fn describe(err: &CompileFailure) -> String {
    match err {
        CompileFailure::Invalid(report) => {
            format!("{err}:\n{}", report.render_text(100))
        }
        other => other.to_string(),
    }
}

/// The outcome of a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Reload {
    /// A new policy serves.
    Swapped { from: String, to: String },
    /// The policy loaded has the hash of the one serving: nothing changed.
    Unchanged { hash: String },
    /// The new policy did not load; the old one keeps serving.
    Refused { hash: String, reason: String },
}

/// The policy being served, swapped atomically on reload.
#[derive(Debug)]
pub struct Served {
    current: ArcSwap<Loaded>,
    source: PolicySource,
    /// How the source loads: a signature required, where imports reach.
    options: LoadOptions,
    /// Reloads are one at a time, so two never race to swap.
    reloading: Mutex<()>,
}

impl Served {
    /// Loads the policy for the first time.
    pub fn load(source: PolicySource) -> Result<Served, String> {
        Served::load_with(source, LoadOptions::default())
    }

    /// Loads the policy for the first time as `options` say, and every
    /// reload with them too.
    pub fn load_with(source: PolicySource, options: LoadOptions) -> Result<Served, String> {
        let policy = source.load_with(&options)?;
        Ok(Served::with_options(policy, source, options))
    }

    /// Serves a policy loaded already.
    pub fn with(policy: Policy, source: PolicySource) -> Served {
        Served::with_options(policy, source, LoadOptions::default())
    }

    /// Serves a policy loaded already with `options`, which every reload
    /// loads with too (a reload cannot swap in an unsigned artifact when a
    /// signature is required).
    pub fn with_options(policy: Policy, source: PolicySource, options: LoadOptions) -> Served {
        Served {
            options,
            current: ArcSwap::from_pointee(Loaded {
                policy,
                loaded_at: system_now(),
            }),
            source,
            reloading: Mutex::new(()),
        }
    }

    /// The policy serving now: a request decides on this one to its end.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    pub fn source(&self) -> &PolicySource {
        &self.source
    }

    pub fn info(&self) -> PolicyInfo {
        let loaded = self.current();
        PolicyInfo {
            name: loaded.policy.name().to_string(),
            hash: loaded.policy.hash().to_string(),
            loaded_at: actpol::values::format_timestamp(loaded.loaded_at),
            source: self
                .source
                .roots()
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        }
    }

    /// Loads the policy again from its source and swaps it in if it loads.
    /// Blocking: compiling takes milliseconds.
    pub fn reload(&self) -> Reload {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let old = self.current();
        let old_hash = old.policy.hash().to_string();
        match self.source.load_with(&self.options) {
            Err(reason) => Reload::Refused {
                hash: old_hash,
                reason,
            },
            Ok(policy) if policy.hash() == old_hash => Reload::Unchanged { hash: old_hash },
            Ok(policy) => {
                let to = policy.hash().to_string();
                self.current.store(Arc::new(Loaded {
                    policy,
                    loaded_at: system_now(),
                }));
                Reload::Swapped { from: old_hash, to }
            }
        }
    }
}
