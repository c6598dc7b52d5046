//! `actpol plan`: decide a plan of actions as a whole, before it runs.

use std::path::PathBuf;
use std::process::ExitCode;

use actpol::Level;

use crate::{io, load_policy, load_state, CliResult};

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// The policy: its files or directory, or a compiled `.actpolc`.
    #[arg(long, required = true, num_args = 1..)]
    policy: Vec<PathBuf>,
    /// The plan (JSON), or `-` for standard input.
    #[arg(long)]
    plan: PathBuf,
    /// What to print: the decision as JSON, a Graphviz or Mermaid diagram
    /// with decisions marked, or text for people.
    #[arg(long, value_enum, default_value = "json")]
    format: PlanFormat,
    /// Budget and window state (JSON): {"budgets": [...], "events": [...]}.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Exit 3 when the plan's decision is `escalate` and 4 when it is `deny`.
    #[arg(long)]
    exit_code: bool,
    #[command(flatten)]
    load: crate::sign_cmd::LoadArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum PlanFormat {
    Json,
    Dot,
    Mermaid,
    Text,
}

pub fn run(args: &PlanArgs) -> CliResult {
    let policy = load_policy(&args.policy, &args.load)?;
    let state = load_state(args.state.as_deref(), &policy)?;
    let bytes = io::read_input(&args.plan)?;
    let plan = policy.read_plan(&bytes)?;
    let decided = policy.decide_plan(&plan, &state);
    let text = match args.format {
        PlanFormat::Json => {
            let mut json =
                serde_json::to_string_pretty(&decided).map_err(|e| miette::miette!("{e}"))?;
            json.push('\n');
            json
        }
        PlanFormat::Dot => actpol::plan::render::dot(&decided),
        PlanFormat::Mermaid => actpol::plan::render::mermaid(&decided),
        PlanFormat::Text => actpol::plan::render::text(&decided),
    };
    out!("{text}")?;
    if decided.nodes.iter().any(|n| !n.errors.is_empty()) {
        return Ok(ExitCode::from(1));
    }
    Ok(match (args.exit_code, decided.decision) {
        (true, Level::Deny) => ExitCode::from(4),
        (true, Level::Escalate) => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    })
}
