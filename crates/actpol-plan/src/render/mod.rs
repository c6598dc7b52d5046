//! A decided plan for people and for diagram tools: Graphviz DOT
//! ([`dot`]), Mermaid ([`mermaid`]) and text ([`text`]). Nodes carry their
//! decision (colour and label); blocked nodes are dashed, implied edges
//! dotted.

use actpol_core::Level;

use crate::evaluate::{NodeDecision, PlanDecision};

/// Graphviz DOT: `dot -Tsvg` draws it.
pub fn dot(plan: &PlanDecision) -> String {
    let mut out = String::new();
    out.push_str(&format!("digraph {} {{\n", dot_id(&plan.plan)));
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
    out.push_str(&format!(
        "  label={};\n  labelloc=t;\n",
        dot_id(&format!("plan {}: {}", plan.plan, plan.decision.as_str()))
    ));
    for node in &plan.nodes {
        let mut style = String::from("rounded,filled");
        if !node.blocked_by.is_empty() {
            style.push_str(",dashed");
        }
        out.push_str(&format!(
            "  {} [label={}, fillcolor=\"{}\", style=\"{style}\"];\n",
            dot_id(&node.id),
            dot_id(&node_label(node, "\n", str::to_string)),
            colour(node.decision)
        ));
    }
    for edge in &plan.edges {
        let style = if edge.implied { " [style=dotted]" } else { "" };
        out.push_str(&format!(
            "  {} -> {}{style};\n",
            dot_id(&edge.from),
            dot_id(&edge.to)
        ));
    }
    out.push_str("}\n");
    out
}

/// A DOT id: always quoted, so any node id is one.
fn dot_id(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Mermaid flowchart: nodes as `n<k>` (their ids may hold anything), with
/// the id, action and decision as the label, and a class per decision.
pub fn mermaid(plan: &PlanDecision) -> String {
    let mut out = String::from("flowchart LR\n");
    let index = |id: &str| plan.nodes.iter().position(|n| n.id == id).unwrap_or(0);
    for (k, node) in plan.nodes.iter().enumerate() {
        out.push_str(&format!(
            "  n{k}[\"{}\"]:::{}\n",
            node_label(node, "<br/>", mermaid_text),
            class(node)
        ));
    }
    for edge in &plan.edges {
        let arrow = if edge.implied { "-.->" } else { "-->" };
        out.push_str(&format!(
            "  n{} {arrow} n{}\n",
            index(&edge.from),
            index(&edge.to)
        ));
    }
    for level in Level::ALL {
        out.push_str(&format!(
            "  classDef {} fill:{},stroke:#333\n",
            level.as_str(),
            colour(level)
        ));
    }
    out.push_str("  classDef blocked fill:#eeeeee,stroke:#999,stroke-dasharray:4 3\n");
    out
}

/// Text inside a Mermaid label: quotes and angle brackets as entities, so
/// a node id cannot end the label or open markup.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn class(node: &NodeDecision) -> &'static str {
    if node.blocked_by.is_empty() {
        node.decision.as_str()
    } else {
        "blocked"
    }
}

/// The node's id, action and decision on lines of their own, each part
/// escaped for the diagram's labels.
fn node_label(node: &NodeDecision, newline: &str, escape: impl Fn(&str) -> String) -> String {
    let mut decision = node.decision.as_str().to_string();
    if let Some(approver) = &node.approver {
        decision.push_str(&format!(" to {approver}"));
    }
    let mut lines = vec![escape(&node.id), escape(&node.action), escape(&decision)];
    if !node.blocked_by.is_empty() {
        lines.push(escape(&format!(
            "blocked by {}",
            node.blocked_by.join(", ")
        )));
    }
    lines.join(newline)
}

fn colour(level: Level) -> &'static str {
    match level {
        Level::Allow => "#c8e6c9",
        Level::Constrain => "#fff3c4",
        Level::Escalate => "#ffd8a8",
        Level::Deny => "#ffcdd2",
    }
}

/// The plan for people: its decision, each step with why, what blocks it
/// and its budgets, and who must look.
pub fn text(plan: &PlanDecision) -> String {
    let mut out = format!(
        "plan `{}` by `{}`: {}\n",
        plan.plan,
        plan.agent,
        plan.decision.as_str()
    );
    for node in &plan.nodes {
        out.push_str(&format!(
            "\n{:>3}. {} ({}): {}",
            node.step,
            node.id,
            node.action,
            node.decision.as_str()
        ));
        if let Some(approver) = &node.approver {
            out.push_str(&format!(" to {approver}"));
        }
        out.push('\n');
        if let Some(by) = &node.implied_by {
            out.push_str(&format!("     implied: `{by}` triggers it\n"));
        }
        for reason in &node.reasons {
            out.push_str(&format!("     - {reason}\n"));
        }
        if !node.blocked_by.is_empty() {
            out.push_str(&format!(
                "     blocked by {}: it runs only once they are resolved\n",
                node.blocked_by.join(", ")
            ));
        }
        for b in &node.budgets {
            out.push_str(&format!(
                "     budget {} ({}): {} of {} consumed, {} remaining\n",
                b.name,
                b.key,
                b.consumed.value(),
                b.limit.value(),
                b.remaining.value()
            ));
        }
        for effect in &node.effects {
            out.push_str(&format!("     also reaches {effect}\n"));
        }
        for error in &node.errors {
            out.push_str(&format!("     error {}: {}\n", error.code, error.message));
        }
    }
    if let Some(packet) = &plan.packet {
        out.push_str(&format!("\n{}\n", packet.summary));
        for e in &packet.escalated {
            out.push_str(&format!("  {} -> {}", e.node, e.approver));
            if !e.blocks.is_empty() {
                out.push_str(&format!(" (holds {})", e.blocks.join(", ")));
            }
            out.push('\n');
        }
    }
    out
}
