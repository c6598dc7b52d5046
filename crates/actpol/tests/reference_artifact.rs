//! The committed reference artifacts, one per artifact format version
//! (`tests/reference/reference-v<N>.actpolc`, with the disassembly it had
//! when it was written, `reference-v<N>.disasm`).
//!
//! An artifact written by one build must mean the same to every later build
//! that reads its format version. A change to how artifacts encode — an
//! instruction moved in `Instr`, a variant added in the middle of an enum a
//! program holds — keeps artifacts loading but changes what they say. Here
//! the artifact of the current version is decoded by this build and must
//! disassemble exactly as it did when written, and decide as the policy's
//! source does; artifacts of older versions must be refused.
//!
//! After a deliberate format change, raise `FORMAT_VERSION` and write the
//! new version's files with
//! `ACTPOL_BLESS=1 cargo test -p actpol --test reference_artifact`
//! (files of a version that already has them are never overwritten).

use std::path::{Path, PathBuf};

use actpol::advanced::FORMAT_VERSION;
use actpol::{ArtifactError, MemoryState, Policy, Request};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

fn source_policy() -> Policy {
    let text = std::fs::read_to_string(dir().join("reference.actpol")).expect("reference.actpol");
    Policy::from_sources([("reference.actpol", text.as_str())]).expect("the reference compiles")
}

fn artifact_path(version: u16) -> PathBuf {
    dir().join(format!("reference-v{version}.actpolc"))
}

fn disasm_path(version: u16) -> PathBuf {
    dir().join(format!("reference-v{version}.disasm"))
}

/// Writes the current version's files if they are missing and blessing is
/// asked for.
fn bless_if_asked() {
    if std::env::var_os("ACTPOL_BLESS").is_none() || artifact_path(FORMAT_VERSION).exists() {
        return;
    }
    let policy = source_policy();
    let bytes = policy.to_artifact_bytes().expect("encodes");
    std::fs::write(artifact_path(FORMAT_VERSION), bytes).expect("writes the artifact");
    let text = policy.disassemble(None).expect("the whole program");
    std::fs::write(disasm_path(FORMAT_VERSION), text).expect("writes the disassembly");
}

#[test]
fn the_current_versions_artifact_reads_as_it_was_written() {
    bless_if_asked();
    let path = artifact_path(FORMAT_VERSION);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: no reference artifact for format version {FORMAT_VERSION}; write it with \
             ACTPOL_BLESS=1 (see this file's documentation)",
            path.display()
        )
    });
    let committed = Policy::load(&bytes).unwrap_or_else(|e| {
        panic!("the reference artifact for format version {FORMAT_VERSION} no longer loads: {e}")
    });
    let written = std::fs::read_to_string(disasm_path(FORMAT_VERSION)).expect("its disassembly");
    let read = committed.disassemble(None).expect("the whole program");
    assert!(
        read == written,
        "the reference artifact decodes differently than when it was written: the artifact \
         encoding changed under format version {FORMAT_VERSION}; raise FORMAT_VERSION \
         (crates/actpol-bytecode/src/artifact.rs) and write the new version's files\n\
         --- written\n{written}\n--- read now\n{read}"
    );

    // Its declarations (which the disassembly does not show: the header's
    // time declarations among them) read as the source's, and it decides as
    // the policy's source does today.
    let fresh = source_policy();
    assert!(
        committed.artifact().program.meta == fresh.artifact().program.meta,
        "the reference artifact's declarations decode differently than the source compiles: \
         the artifact encoding changed under format version {FORMAT_VERSION}"
    );
    assert!(
        committed.artifact().program.schema == fresh.artifact().program.schema,
        "the reference artifact's schema (field bounds among it) decodes differently than the \
         source compiles: the artifact encoding changed under format version {FORMAT_VERSION}"
    );
    assert_eq!(
        committed.artifact().program.meta.timing.max_skew,
        Some(120_000),
        "the reference declares `max_skew 2m`"
    );
    let state = MemoryState::from_json(
        br#"{"budgets": [{"name": "spend", "key": "agent:bot", "consumed": 100}]}"#,
    )
    .expect("state");
    for envelope in envelopes() {
        let request = || Request::new(envelope.as_str()).explained();
        let (old, new) = (
            committed.decide(request(), &state),
            fresh.decide(request(), &state),
        );
        assert_eq!(old, new, "{envelope}");
    }
}

/// Envelopes that take every rule of the reference down its paths.
fn envelopes() -> Vec<String> {
    let mut out = Vec::new();
    for (count, ratio, a, b, label, tier, regions, shift) in [
        (1, "0.2", "x", "y", None, "pro", r#"["emea"]"#, 1),
        (5, "1.5", "y", "x", Some("l"), "free", r#"[]"#, 3),
        (
            -7,
            "0.1",
            "q",
            "y",
            None,
            "enterprise",
            r#"["emea", "apac"]"#,
            2,
        ),
        (200, "9.5", "y", "y", Some("m"), "pro", r#"["emea"]"#, 0),
    ] {
        let label = label.map_or(String::new(), |l| format!(r#","label":"{l}""#));
        out.push(format!(
            r#"{{"agent":{{"id":"bot","owner":"o@acme.example","workflow":"w"}},
            "action":{{"name":"crm.update","params":{{"amount":"40 USD","count":{count},
            "ratio":{ratio},"a":"{a}","b":"{b}"{label}}}}},
            "object":{{"type":"Account","id":"acc-1","attrs":{{"tier":"{tier}",
            "regions":{regions},"limit":"30 USD"}}}},
            "context":{{"on_shift":{shift}}},"time":"2026-11-25T14:00:00Z"}}"#
        ));
    }
    // A parent the envelope carries, on each tier, and one it does not.
    for (parent, tier) in [("acc-0", "free"), ("acc-0", "pro"), ("acc-9", "free")] {
        out.push(format!(
            r#"{{"agent":{{"id":"bot","owner":"o@acme.example","workflow":"w"}},
            "action":{{"name":"crm.update","params":{{"amount":"40 USD","count":1,
            "ratio":"0.2","a":"x","b":"y"}}}},
            "object":{{"type":"Account","id":"acc-1","attrs":{{"tier":"pro",
            "regions":[],"limit":"30 USD","parent":"{parent}"}}}},
            "entities":[{{"type":"Account","id":"acc-0","attrs":{{"tier":"{tier}",
            "regions":[],"limit":"1 USD"}}}}],
            "context":{{"on_shift":1}},"time":"2026-11-25T14:00:00Z"}}"#
        ));
    }
    // A departure in the zone its field declares (the clocks skip 02:30 that
    // night: it is read as 03:30), and one with its offset.
    for departs in [
        "2026-03-29T02:30:00",
        "2026-03-29T07:00:00",
        "2026-03-29T05:30:00Z",
    ] {
        out.push(format!(
            r#"{{"agent":{{"id":"bot","owner":"o@acme.example","workflow":"w"}},
            "action":{{"name":"crm.update","params":{{"amount":"40 USD","count":1,
            "ratio":"0.2","a":"x","b":"y","departs":"{departs}"}}}},
            "object":{{"type":"Account","id":"acc-1","attrs":{{"tier":"pro",
            "regions":[],"limit":"30 USD"}}}},
            "context":{{"on_shift":1}},"time":"2026-11-25T14:00:00Z"}}"#
        ));
    }
    out
}

#[test]
fn the_reference_uses_every_instruction() {
    let text = source_policy()
        .disassemble(None)
        .expect("the whole program");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    // Each instruction's mnemonic, as the disassembler writes it after the
    // instruction's offset.
    for mnemonic in [
        "const ",
        "param ",
        "attr ",
        "context ",
        "env ",
        "touches ",
        "has ",
        "budget ",
        "window ",
        "cmp ",
        "arith ",
        "neg",
        "not",
        "to_decimal",
        "in",
        "call ",
        "make_set ",
        "in_list ",
        "part ",
        "has_part ",
        "jump_false ",
        "jump_true ",
        "jump ",
        "return",
    ] {
        let used = lines.iter().any(|line| {
            line.split_once(' ').is_some_and(|(offset, rest)| {
                offset.parse::<u32>().is_ok() && rest.trim_start().starts_with(mnemonic)
            })
        });
        assert!(used, "the reference policy uses no `{}`", mnemonic.trim());
    }
    let keep = |l: &&str| l.contains("jump_false") && l.ends_with("(keep)");
    let plain = |l: &&str| l.contains("jump_false") && !l.ends_with("(keep)");
    assert!(lines.iter().any(keep) && lines.iter().any(plain));
}

#[test]
fn older_versions_artifacts_are_refused() {
    let entries = std::fs::read_dir(dir()).expect("tests/reference");
    for entry in entries {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(version) = name
            .strip_prefix("reference-v")
            .and_then(|rest| rest.strip_suffix(".actpolc"))
            .and_then(|v| v.parse::<u16>().ok())
        else {
            continue;
        };
        assert!(
            version <= FORMAT_VERSION,
            "{name}: a version this build does not know"
        );
        if version == FORMAT_VERSION {
            continue;
        }
        let bytes = std::fs::read(dir().join(&name)).expect("readable");
        match Policy::load(&bytes) {
            Err(err @ ArtifactError::Version { found }) => {
                assert_eq!(found, version);
                // Said plainly, with what to do.
                assert_eq!(
                    err.to_string(),
                    format!(
                        "artifact format version {version} is not supported (this build reads \
                         version {FORMAT_VERSION})"
                    )
                );
                let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
                assert_eq!(
                    help.as_deref(),
                    Some("compile the policy again with this version of actpol")
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}
