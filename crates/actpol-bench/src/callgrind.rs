//! Instructions per decision, counted by callgrind: deterministic where
//! wall times on a shared machine are not.
//!
//! `--callgrind` runs this binary under `valgrind --tool=callgrind` once
//! per family, size, engine and input path (`--count`), collecting only
//! inside [`measured_decision`] (`--toggle-collect`), so building the
//! engine and preparing its input are not counted; every request is
//! decided once untimed first, so lazy set-up is not counted either. The
//! figure is the collected total divided by the decisions made.

use std::hint::black_box;
use std::process::Command;

use crate::engines::{self, Engine, Kind, Res, Sources};
use crate::examples::{self, Example};
use crate::family::{Family, Shape};
use crate::report::fmt_ns;

/// The one function callgrind collects in: a decision, whatever decides.
#[inline(never)]
pub fn measured_decision(decide: &mut dyn FnMut() -> bool) -> bool {
    decide()
}

/// The engines counted: actpol, the floors, the three Cedars, and CEL
/// with an index (the closest peer in time).
const ENGINES: [Kind; 7] = [
    Kind::Actpol,
    Kind::Floor,
    Kind::FloorDecision,
    Kind::CedarAction,
    Kind::CedarAgent,
    Kind::CedarNaive,
    Kind::CelIndexed,
];

/// Requests in each family generated for counting.
const REQUESTS: usize = 200;

/// Child mode: `--count <engine> <pre|json|json-out> <family> <rules> <decisions>`
/// or `--count example <name> e2e 0 <decisions>`.
pub fn count(args: &[String]) -> Res<()> {
    let [what, path, shape, n, decisions] = args else {
        return Err("--count <engine|example> <path|name> <family> <rules> <decisions>".into());
    };
    let decisions: usize = decisions.parse().map_err(|e| format!("{e}"))?;
    if what == "example" {
        let name = examples::NAMES
            .into_iter()
            .find(|n| n == path)
            .ok_or_else(|| format!("no example `{path}`"))?;
        let example = Example::load(name)?;
        let cases = example.cases.len();
        for i in 0..cases {
            black_box(example.decide_to_json(i));
        }
        for k in 0..decisions {
            black_box(measured_decision(&mut || {
                example.decide_to_json(k % cases) > 2
            }));
        }
        return Ok(());
    }
    let kind = Kind::from_name(what).ok_or_else(|| format!("no engine `{what}`"))?;
    let shape = Shape::from_name(shape).ok_or_else(|| format!("no family `{shape}`"))?;
    let n: usize = n.parse().map_err(|e| format!("{e}"))?;
    let family = Family::generate_shaped(shape, n, REQUESTS, crate::Plan::from_args(&[])?.seed);
    let sources = Sources::render(&family);
    let jsons: Vec<&[u8]> = family.requests.iter().map(|r| r.json.as_slice()).collect();
    if path == "json-out" {
        if kind != Kind::Actpol {
            return Err("json-out is actpol's path".into());
        }
        let a = engines::Actpol::build(&sources.actpol)?;
        let decide = |i: usize| {
            let d = a.policy.decide(jsons[i], &a.state);
            serde_json::to_vec(&d).map_or(0, |v| v.len()) > 2
        };
        for i in 0..jsons.len() {
            black_box(decide(i));
        }
        for k in 0..decisions {
            black_box(measured_decision(&mut || decide(k % jsons.len())));
        }
        return Ok(());
    }
    let mut engine = engines::build(kind, &sources)?;
    for json in &jsons {
        engine.prepare(json)?;
    }
    let json = match path.as_str() {
        "pre" => false,
        "json" => true,
        other => return Err(format!("no path `{other}`")),
    };
    let decide = |engine: &mut Box<dyn Engine>, i: usize| {
        if json {
            engine.decide_json(jsons[i]).unwrap_or(false)
        } else {
            engine.decide(i)
        }
    };
    for i in 0..jsons.len() {
        black_box(decide(&mut engine, i));
    }
    for k in 0..decisions {
        black_box(measured_decision(&mut || {
            decide(&mut engine, k % jsons.len())
        }));
    }
    Ok(())
}

/// Instructions collected by one `--count` run, divided by its decisions.
fn instructions(args: &[String], decisions: usize) -> Res<f64> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out_file = std::env::temp_dir().join(format!("actpol-bench-cg.{}", std::process::id()));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg("--toggle-collect=*measured_decision*")
        .arg(&exe)
        .arg("--count")
        .args(args)
        .arg(decisions.to_string())
        .output()
        .map_err(|e| format!("valgrind could not run ({e}); install valgrind for --callgrind"))?;
    if !status.status.success() {
        return Err(format!(
            "callgrind run {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    let text = std::fs::read_to_string(&out_file).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&out_file);
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|t| t.split_whitespace().next()?.parse::<u64>().ok())
        .ok_or("no totals in the callgrind output")?;
    Ok(total as f64 / decisions as f64)
}

/// One counted figure.
#[derive(Debug, Clone)]
struct Row {
    shape: Shape,
    rules: usize,
    kind: Kind,
    path: &'static str,
    per_decision: f64,
}

/// Counts every engine and path of every family and size, then the
/// examples, and prints the table and the ratios the targets judge.
pub fn run(families: &[(Shape, Vec<usize>)], _seed: u64) -> Res<()> {
    let mut rows = Vec::new();
    for (shape, sizes) in families {
        for &n in sizes {
            for kind in ENGINES {
                // Cedar without an index is linear in the rules: fewer
                // decisions keep its count at large sizes to minutes.
                let decisions = if kind == Kind::CedarNaive && n >= 1_000 {
                    20
                } else {
                    REQUESTS
                };
                let paths: &[&'static str] = if kind == Kind::Actpol {
                    &["pre", "json", "json-out"]
                } else {
                    &["pre", "json"]
                };
                for path in paths {
                    let args = [
                        kind.name().to_string(),
                        path.to_string(),
                        shape.name().to_string(),
                        n.to_string(),
                    ];
                    let per_decision = instructions(&args, decisions)?;
                    eprintln!(
                        "{} N={n} {} {path}: {} instructions",
                        shape.name(),
                        kind.name(),
                        fmt_ns(per_decision)
                    );
                    rows.push(Row {
                        shape: *shape,
                        rules: n,
                        kind,
                        path,
                        per_decision,
                    });
                }
            }
        }
    }
    let mut examples = Vec::new();
    for name in examples::NAMES {
        let args = [
            "example".to_string(),
            name.to_string(),
            "e2e".to_string(),
            "0".to_string(),
        ];
        let per_decision = instructions(&args, REQUESTS)?;
        eprintln!("example {name}: {} instructions", fmt_ns(per_decision));
        examples.push((name, per_decision));
    }
    println!("{}", table(&rows, &examples));
    Ok(())
}

fn find(rows: &[Row], shape: Shape, rules: usize, kind: Kind, path: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.shape == shape && r.rules == rules && r.kind == kind && r.path == path)
        .map(|r| r.per_decision)
}

/// The cheaper of the two indexed Cedars.
fn best_cedar(rows: &[Row], shape: Shape, rules: usize, path: &str) -> Option<(Kind, f64)> {
    [Kind::CedarAction, Kind::CedarAgent]
        .into_iter()
        .filter_map(|k| Some((k, find(rows, shape, rules, k, path)?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

fn table(rows: &[Row], examples: &[(&str, f64)]) -> String {
    let mut t =
        String::from("instructions per decision (callgrind, collected inside the decision only)\n");
    t.push_str(&format!(
        "{:<11} {:>6}  {:<15} {:<8} {:>12}  {:>9}\n",
        "family", "rules", "engine", "path", "instr", "x actpol"
    ));
    for r in rows {
        let actpol = find(rows, r.shape, r.rules, Kind::Actpol, r.path);
        let ratio = actpol.map_or(String::from("-"), |a| format!("{:.2}", r.per_decision / a));
        t.push_str(&format!(
            "{:<11} {:>6}  {:<15} {:<8} {:>12}  {:>9}\n",
            r.shape.name(),
            fmt_ns(r.rules as f64),
            r.kind.name(),
            r.path,
            fmt_ns(r.per_decision),
            ratio
        ));
    }
    for (name, per) in examples {
        t.push_str(&format!(
            "example {name:<10} JSON bytes in, decision JSON out, with state: {} instructions\n",
            fmt_ns(*per)
        ));
    }
    t.push_str("\nratios\n");
    let spread = Shape::Spread;
    for rules in [10usize, 100, 1_000, 10_000] {
        for path in ["json", "pre"] {
            if let (Some(a), Some((kind, c))) = (
                find(rows, spread, rules, Kind::Actpol, path),
                best_cedar(rows, spread, rules, path),
            ) {
                t.push_str(&format!(
                    "  spread N={rules} {path}: best-indexed Cedar ({}) / actpol = {:.1}x{}\n",
                    kind.name(),
                    c / a,
                    if rules == 1_000 && path == "json" {
                        " (target >= 10x)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    for rules in [10usize, 100, 1_000] {
        if let (Some(a), Some(f)) = (
            find(rows, spread, rules, Kind::Actpol, "pre"),
            find(rows, spread, rules, Kind::FloorDecision, "pre"),
        ) {
            t.push_str(&format!(
                "  spread N={rules} pre: actpol / the floor building the same decision = {:.2}x{}\n",
                a / f,
                if rules == 10 { " (target <= 3x)" } else { "" }
            ));
        }
    }
    let one = Shape::OneAction;
    if let (Some(small), Some(large)) = (
        find(rows, one, 10, Kind::Actpol, "pre"),
        find(rows, one, 1_000, Kind::Actpol, "pre"),
    ) {
        t.push_str(&format!(
            "  one-action pre: per-rule cost at 1,000 / at 10 = {:.2}x ({:.0} vs {:.0} instructions a rule; target <= 1.5x)\n",
            (large / 1_000.0) / (small / 10.0),
            large / 1_000.0,
            small / 10.0
        ));
    }
    for path in ["pre", "json"] {
        if let (Some(a), Some((kind, c))) = (
            find(rows, one, 1_000, Kind::Actpol, path),
            best_cedar(rows, one, 1_000, path),
        ) {
            t.push_str(&format!(
                "  one-action N=1000 {path}: Cedar ({}) / actpol = {:.1}x (target >= 7x)\n",
                kind.name(),
                c / a
            ));
        }
    }
    t
}
