//! A test file made runnable: its policy located, its envelopes and states
//! read (paths relative to the test file), and every override applied, so
//! a case is an envelope, a state and its expectations.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actpol::MemoryState;
use serde_json::Value as Json;
use toml::Spanned;

use crate::diagnostic::{line_column, Kind, TestDiagnostic};
use crate::expect::Expect;
use crate::overrides;
use crate::shape::Doc;
use crate::spec::{self, CaseSpec, Source};

/// A test file ready to run.
#[derive(Debug)]
pub struct TestFile {
    /// The file as the user named it.
    pub path: String,
    pub source: Arc<str>,
    pub policy: PathBuf,
    /// Where the file names its policy, if it does.
    pub policy_span: Option<Range<usize>>,
    pub cases: Vec<Case>,
    /// Mutants the file marks equivalent to its policy.
    pub marks: Vec<Mark>,
}

/// A mutant marked equivalent (`[[equivalent]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub mutant: String,
    pub reason: String,
    pub line: usize,
    /// The mark's table in the file.
    pub span: Range<usize>,
}

/// One case, ready to decide.
#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub line: usize,
    /// `null` for a plan case.
    pub envelope: Json,
    /// A plan case's plan document.
    pub plan: Option<Json>,
    pub state: Arc<MemoryState>,
    pub expect: Expect,
}

/// Reads, checks and resolves the test file at `path`. Every problem found
/// is returned; a file with problems runs no case.
pub fn load(path: &Path) -> Result<TestFile, Vec<TestDiagnostic>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![TestDiagnostic::new(
            Kind::Unreadable,
            &shown,
            format!("cannot read `{shown}`: {e}"),
        )]
    })?;
    let mut doc = Doc::new(shown.clone(), Arc::from(text));
    let spec = spec::parse(&mut doc);
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut files = Files {
        dir: dir.clone(),
        objects: HashMap::new(),
        states: HashMap::new(),
    };
    let policy = locate_policy(&mut doc, &dir, spec.policy.as_ref());
    let default_state = match &spec.state {
        Some(s) => files.state(&mut doc, s),
        None => Some(Arc::new(MemoryState::default())),
    };
    let template = spec
        .template
        .as_ref()
        .and_then(|t| files.envelope(&mut doc, t));
    let mut cases = Vec::new();
    for case in &spec.cases {
        if let Some(c) = resolve_case(
            &mut doc,
            &mut files,
            case,
            template.as_ref(),
            default_state.as_ref(),
        ) {
            cases.push(c);
        }
    }
    match policy {
        Some(policy) if doc.diagnostics.is_empty() => Ok(TestFile {
            path: shown,
            source: Arc::clone(&doc.source),
            policy,
            policy_span: spec.policy.map(|p| p.span()),
            cases,
            marks: spec
                .equivalent
                .into_iter()
                .map(|m| Mark {
                    line: line_column(&doc.source, m.span.start).0,
                    mutant: m.mutant,
                    reason: m.reason,
                    span: m.span,
                })
                .collect(),
        }),
        _ => Err(doc.diagnostics),
    }
}

fn locate_policy(doc: &mut Doc, dir: &Path, named: Option<&Spanned<String>>) -> Option<PathBuf> {
    if let Some(named) = named {
        let path = dir.join(named.get_ref());
        if path.exists() {
            return Some(path);
        }
        doc.error(
            Kind::NoPolicy,
            named.span(),
            format!("policy `{}` does not exist", path.display()),
        );
        return None;
    }
    let found = crate::policy::find_above(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    });
    if found.is_none() {
        let d = TestDiagnostic::new(
            Kind::NoPolicy,
            doc.file.clone(),
            format!(
                "no policy for `{}`: no directory above it holds an `.actpol` file with a `policy` header",
                doc.file
            ),
        )
        .at(&doc.source, 0..0, "this file names no policy");
        doc.push(d);
    }
    found
}

fn resolve_case(
    doc: &mut Doc,
    files: &mut Files,
    case: &CaseSpec,
    template: Option<&Json>,
    default_state: Option<&Arc<MemoryState>>,
) -> Option<Case> {
    let state = match &case.state {
        Some(s) => files.state(doc, s),
        None => default_state.cloned(),
    };
    if let Some(plan) = &case.plan {
        let plan = files.plan(doc, plan)?;
        return Some(Case {
            name: case.name.clone(),
            line: line_column(&doc.source, case.span.start).0,
            envelope: Json::Null,
            plan: Some(plan),
            state: state?,
            expect: case.expect.clone(),
        });
    }
    let base = match &case.envelope {
        Some(e) => files.envelope(doc, e),
        None if template.is_some() => template.cloned(),
        None => {
            let d = doc
                .diagnostic(
                    Kind::MissingKey,
                    case.span.clone(),
                    format!("case `{}` has no envelope", case.name),
                )
                .with_help("give the case `envelope = \"…\"`, or the file a `[template]` with one");
            doc.push(d);
            None
        }
    };
    let mut envelope = base?;
    let mut applied = true;
    for edit in &case.edits {
        if let Err(e) = overrides::apply(&mut envelope, edit) {
            let d = doc
                .diagnostic(Kind::BadOverride, edit.span(), e.message)
                .with_help(e.help);
            doc.push(d);
            applied = false;
        }
    }
    if !applied {
        return None;
    }
    Some(Case {
        name: case.name.clone(),
        line: line_column(&doc.source, case.span.start).0,
        envelope,
        plan: None,
        state: state?,
        expect: case.expect.clone(),
    })
}

/// Envelopes and states read for one test file, each once.
struct Files {
    dir: PathBuf,
    /// Envelopes and plans, by path.
    objects: HashMap<PathBuf, Option<Json>>,
    states: HashMap<PathBuf, Option<Arc<MemoryState>>>,
}

impl Files {
    fn envelope(&mut self, doc: &mut Doc, source: &Spanned<Source>) -> Option<Json> {
        self.object(doc, source, "envelope")
    }

    /// A plan case's plan: a JSON object, checked against the policy when
    /// the case runs.
    fn plan(&mut self, doc: &mut Doc, source: &Spanned<Source>) -> Option<Json> {
        self.object(doc, source, "plan")
    }

    /// A JSON object given inline or by path, each file read once.
    fn object(&mut self, doc: &mut Doc, source: &Spanned<Source>, what: &str) -> Option<Json> {
        let span = source.span();
        match source.get_ref() {
            Source::Inline(json) => Some(json.clone()),
            Source::Path(p) => {
                let path = self.dir.join(p);
                if let Some(known) = self.objects.get(&path) {
                    return known.clone();
                }
                let read = read_object(doc, &path, span, what);
                self.objects.insert(path, read.clone());
                read
            }
        }
    }

    fn state(&mut self, doc: &mut Doc, source: &Spanned<Source>) -> Option<Arc<MemoryState>> {
        let span = source.span();
        match source.get_ref() {
            Source::Inline(json) => {
                let bytes = serde_json::to_vec(json).unwrap_or_default();
                parse_state(doc, &bytes, span, "the inline state").map(Arc::new)
            }
            Source::Path(p) => {
                let path = self.dir.join(p);
                if let Some(known) = self.states.get(&path) {
                    return known.clone();
                }
                let read = read_bytes(doc, &path, span.clone(), "state").and_then(|bytes| {
                    parse_state(doc, &bytes, span, &format!("state `{}`", path.display()))
                });
                let read = read.map(Arc::new);
                self.states.insert(path, read.clone());
                read
            }
        }
    }
}

fn read_bytes(doc: &mut Doc, path: &Path, span: Range<usize>, what: &str) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            doc.error(
                Kind::Unreadable,
                span,
                format!("cannot read {what} `{}`: {e}", path.display()),
            );
            None
        }
    }
}

fn read_object(doc: &mut Doc, path: &Path, span: Range<usize>, what: &str) -> Option<Json> {
    let bytes = read_bytes(doc, path, span.clone(), what)?;
    match serde_json::from_slice::<Json>(&bytes) {
        Ok(json @ Json::Object(_)) => Some(json),
        Ok(_) => {
            doc.error(
                Kind::InvalidEnvelope,
                span,
                format!("{what} `{}` is not a JSON object", path.display()),
            );
            None
        }
        Err(e) => {
            doc.error(
                Kind::InvalidEnvelope,
                span,
                format!("{what} `{}` is not valid JSON: {e}", path.display()),
            );
            None
        }
    }
}

fn parse_state(doc: &mut Doc, bytes: &[u8], span: Range<usize>, what: &str) -> Option<MemoryState> {
    match MemoryState::from_json(bytes) {
        Ok(state) => Some(state),
        Err(e) => {
            doc.error(Kind::InvalidState, span, format!("{what} is invalid: {e}"));
            None
        }
    }
}
