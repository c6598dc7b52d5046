//! Plans drawn: Mermaid pinned by snapshots for every example plan, and
//! DOT rendered by Graphviz (`dot -Tsvg`) when it is installed. CI sets
//! `ACTPOL_REQUIRE_DOT=1` (and installs Graphviz), so there a missing `dot`
//! fails the test instead of skipping it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use actpol::plan::PlanDecision;
use actpol::{MemoryState, Policy};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Every example plan, decided by its set's policy: `(set/name, decision)`.
fn example_plans() -> Vec<(String, PlanDecision)> {
    let mut out = Vec::new();
    let mut sets: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .expect("examples/ is readable")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.join("plans").is_dir())
        .collect();
    sets.sort();
    for set in sets {
        let policy = Policy::from_paths(&[&set]).expect("the example compiles");
        let mut plans: Vec<PathBuf> = std::fs::read_dir(set.join("plans"))
            .expect("plans/ is readable")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.to_string_lossy().ends_with(".plan.json"))
            .collect();
        plans.sort();
        for path in plans {
            let bytes = std::fs::read(&path).expect("a readable plan");
            let plan = policy
                .read_plan(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            let name = format!(
                "{}/{}",
                set.file_name().unwrap().to_string_lossy(),
                path.file_name().unwrap().to_string_lossy()
            );
            out.push((name, policy.decide_plan(&plan, &MemoryState::default())));
        }
    }
    assert!(!out.is_empty(), "no example plans found");
    out
}

#[test]
fn mermaid_of_every_example_plan_is_pinned() {
    for (name, decided) in example_plans() {
        let text = actpol::plan::render::mermaid(&decided);
        insta::assert_snapshot!(format!("mermaid_{}", name.replace(['/', '.'], "_")), text);
    }
}

fn dot_available() -> bool {
    Command::new("dot")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn dot_of_every_example_plan_renders_with_graphviz() {
    if !dot_available() {
        assert!(
            std::env::var("ACTPOL_REQUIRE_DOT").as_deref() != Ok("1"),
            "ACTPOL_REQUIRE_DOT=1 and Graphviz's `dot` is not installed"
        );
        eprintln!("skipped: Graphviz's `dot` is not installed");
        return;
    }
    for (name, decided) in example_plans() {
        let text = actpol::plan::render::dot(&decided);
        let svg = render_svg(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert!(svg.contains("<svg"), "{name}: no SVG");
        // Every node and every edge is drawn, nothing more.
        assert_eq!(
            svg.matches("class=\"node\"").count(),
            decided.nodes.len(),
            "{name}"
        );
        assert_eq!(
            svg.matches("class=\"edge\"").count(),
            decided.edges.len(),
            "{name}"
        );
        for level in ["allow", "escalate"] {
            assert!(
                decided.nodes.iter().all(|n| n.decision.as_str() != level) || svg.contains(level),
                "{name}: no node marked `{level}`"
            );
        }
    }
}

#[test]
fn hostile_node_ids_stay_inside_their_labels() {
    const POLICY: &str = r#"
policy p { default deny "no rule matched" }
system crm
entity Account { name: String }
action crm.rename { system crm object Account reversible }
agent bot { owner "o@acme.example" workflow w }
rule renames on crm.rename { allow }
"#;
    let policy = Policy::from_sources([("p.actpol", POLICY)]).unwrap();
    let ids = [r#"a"] --> x["#, r#"b\"; c -> d; "#, "<b>#35;</b>"];
    let nodes: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            serde_json::json!({"id": id, "action": {"name": "crm.rename"},
                "object": {"type": "Account", "id": "a", "attrs": {"name": "n"}}})
        })
        .collect();
    let plan = serde_json::json!({"id": "p\"1", "agent": {"id": "bot", "owner": "o@acme.example", "workflow": "w"},
        "time": "2026-11-25T14:00:00Z", "nodes": nodes,
        "edges": [{"from": ids[0], "to": ids[1]}]});
    let plan = policy
        .read_plan(&serde_json::to_vec(&plan).unwrap())
        .unwrap();
    let decided = policy.decide_plan(&plan, &MemoryState::default());
    let mermaid = actpol::plan::render::mermaid(&decided);
    // Three nodes, one edge: nothing in an id made another.
    assert_eq!(mermaid.matches(":::").count(), 3, "{mermaid}");
    assert_eq!(mermaid.matches("-->").count(), 1, "{mermaid}");
    assert!(!mermaid.contains("<b>"), "{mermaid}");
    let dot = actpol::plan::render::dot(&decided);
    if dot_available() {
        let svg = render_svg(&dot).unwrap_or_else(|e| panic!("{e}\n{dot}"));
        assert_eq!(svg.matches("class=\"node\"").count(), 3, "{dot}");
        assert_eq!(svg.matches("class=\"edge\"").count(), 1, "{dot}");
    }
}

fn render_svg(text: &str) -> Result<String, String> {
    use std::io::Write as _;
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() || !out.stderr.is_empty() {
        return Err(format!(
            "dot exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
