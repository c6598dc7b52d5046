//! Bytecode as text, for people and for golden tests.

use std::fmt::Write as _;

use actpol_core::ids::RuleId;
use actpol_core::reads::BudgetField;
use actpol_core::schema::Window;
use actpol_core::value::format_duration;

use crate::{BlockId, Instr, Program};

/// The whole program: header, then each rule.
pub fn program(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy {}: {} rules, {} actions, {} instructions, {} constants",
        p.meta.name,
        p.rules.len(),
        p.schema.actions.len(),
        p.code.len(),
        p.consts.len()
    );
    for i in 0..p.rules.len() {
        out.push('\n');
        out.push_str(&rule(p, RuleId(i as u32)));
    }
    out
}

/// One rule: where it applies, its outcome, and the code of each part.
pub fn rule(p: &Program, id: RuleId) -> String {
    let mut out = String::new();
    let Some(code) = p.rules.get(id.index()) else {
        return format!("rule #{} does not exist\n", id.0);
    };
    let name = p
        .meta
        .rules
        .get(id.index())
        .map_or("?", |r| r.name.as_str());
    let actions: Vec<&str> = p
        .index
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.any_agent.contains(&id) || e.by_agent.iter().any(|(_, rules)| rules.contains(&id))
        })
        .map(|(a, _)| {
            p.schema
                .actions
                .get_index(a)
                .map_or("?", |(n, _)| n.as_str())
        })
        .collect();
    let _ = writeln!(
        out,
        "rule {name} (#{}) bound {} instructions",
        id.0, code.bound
    );
    let _ = writeln!(out, "  on {}", actions.join(", "));
    if let Some(w) = &code.workflows {
        let _ = writeln!(out, "  for workflow {}", w.join(", "));
    }
    let mut outcome = code.level.as_str().to_string();
    if let Some(a) = code.approver {
        let _ = write!(outcome, " to {}", p.meta.approver_name(a));
    }
    if let Some(r) = &code.reason {
        let _ = write!(outcome, " {r:?}");
    }
    let _ = writeln!(out, "  outcome {outcome}");
    if let Some(b) = code.when {
        let _ = writeln!(out, "  when:");
        block(p, b, &mut out);
    }
    for (param, op, b) in &code.limits {
        let _ = writeln!(
            out,
            "  limit params.{} {}:",
            p.schema.field_name(*param),
            op.as_str()
        );
        block(p, *b, &mut out);
    }
    for req in &code.requires {
        let _ = writeln!(out, "  require {}", req.as_str());
    }
    for (budget, b) in &code.consumes {
        let _ = writeln!(out, "  consume {}:", p.meta.budget_name(*budget));
        block(p, *b, &mut out);
    }
    out
}

fn block(p: &Program, id: BlockId, out: &mut String) {
    let Some(b) = p.blocks.get(id.index()) else {
        let _ = writeln!(out, "    <block {} missing>", id.0);
        return;
    };
    for (i, ins) in p.block_code(id).iter().enumerate() {
        let pc = b.start as usize + i;
        let _ = writeln!(
            out,
            "    {:>4}  {}",
            i,
            instr(p, *ins, b.start as usize, pc)
        );
    }
}

/// One instruction; jump targets relative to the block start.
pub fn instr(p: &Program, ins: Instr, start: usize, _pc: usize) -> String {
    let s = &p.schema;
    let rel = |t: u32| (t as usize).saturating_sub(start);
    match ins {
        Instr::Const(i) => match p.consts.get(i as usize) {
            Some(v) => format!("const        {}", render_const(v)),
            None => format!("const        #{i}?"),
        },
        Instr::Param(n) => format!("param        {}", s.field_name(n)),
        Instr::Attr(n) => format!("attr         {}", s.field_name(n)),
        Instr::Context(n) => format!("context      {}", s.field_name(n)),
        Instr::Env(f) => format!("env          {}", f.source()),
        Instr::Touches(d) => format!("touches      {}", s.data_class_name(d)),
        Instr::Sends(d) => format!("sends        {}", d.as_str()),
        Instr::Has(kind, name) => format!("has          {}", kind.presence(name).source(s)),
        Instr::Budget(b, f) => format!(
            "budget       {}.{}",
            p.meta.budget_name(b),
            match f {
                BudgetField::Limit => "limit",
                BudgetField::Consumed => "consumed",
                BudgetField::Remaining => "remaining",
            }
        ),
        Instr::Window(w) => match p.windows.get(w as usize) {
            Some(spec) => format!(
                "window       {}({}{} over {} by {})",
                spec.kind.as_str(),
                spec.pattern,
                spec.param
                    .map(|n| format!(".{}", s.field_name(n)))
                    .unwrap_or_default(),
                match spec.window {
                    Window::Span(ms) => format_duration(ms),
                    Window::Plan => "plan".into(),
                    Window::Upstream(None) => "upstream".into(),
                    Window::Upstream(Some(ms)) => format!("upstream {}", format_duration(ms)),
                },
                spec.key.as_str()
            ),
            None => format!("window       #{w}?"),
        },
        Instr::Cmp(op) => format!("cmp          {}", op.as_str()),
        Instr::Arith(op) => format!("arith        {}", op.as_str()),
        Instr::Neg => "neg".into(),
        Instr::Not => "not".into(),
        Instr::ToDecimal => "to_decimal".into(),
        Instr::In => "in".into(),
        Instr::Call(b) => format!("call         {}/{}", b.name(), b.arity()),
        Instr::Regex(i) => match p.consts.get(i as usize) {
            Some(v) => format!("regex        {}", render_const(v)),
            None => format!("regex        #{i}?"),
        },
        Instr::MakeSet(n) => format!("make_set     {n}"),
        Instr::InList(n) => format!("in_list      {n}"),
        Instr::JumpIfFalseOrPop(t) => format!("jump_false   {} (keep)", rel(t)),
        Instr::JumpIfTrueOrPop(t) => format!("jump_true    {} (keep)", rel(t)),
        Instr::JumpIfFalse(t) => format!("jump_false   {}", rel(t)),
        Instr::Jump(t) => format!("jump         {}", rel(t)),
        Instr::Return => "return".into(),
        Instr::Var(slot) => format!("var          {slot}"),
        Instr::Loop(kind, indexed, b) => format!(
            "loop         {}{} block {b}",
            kind.name(),
            if indexed { " (indexed)" } else { "" }
        ),
        Instr::Coll(op) => format!("coll         {}/{}", op.name(), op.arity()),
        Instr::Part(kind, slot) => format!("part         {} {slot}", kind.name()),
        Instr::HasPart(kind, slot) => format!("has_part     {} {slot}", kind.name()),
    }
}

fn render_const(v: &actpol_core::Value) -> String {
    use actpol_core::Value as V;
    match v {
        V::Bool(b) => b.to_string(),
        V::Int(i) => i.to_string(),
        V::Decimal(d) => d.normalize().to_string(),
        V::Money(d) => format!("{} (money)", d.normalize()),
        V::Duration(ms) => format_duration(*ms),
        V::Timestamp(ms) => actpol_core::value::format_timestamp(*ms),
        V::String(s) => format!("{s:?}"),
        V::Enum(i) => format!("variant {i}"),
        V::Ref(s) => format!("ref {s:?}"),
        V::Record(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|f| f
                    .as_ref()
                    .map_or_else(|| "absent".to_string(), render_const))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        V::Set(items) | V::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(render_const)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
