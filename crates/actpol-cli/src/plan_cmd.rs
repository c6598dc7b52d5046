//! `actpol plan`: decide a plan of actions as a whole, before it runs.

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Exit with the plan's decision: 0 for `allow` and `constrain`, 3 for
    /// `escalate`, 4 for `deny`, errors or not.
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
    if args.exit_code {
        return Ok(crate::exit_code_for(Some(decided.decision)));
    }
    Ok(if decided.nodes.iter().any(|n| !n.errors.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
