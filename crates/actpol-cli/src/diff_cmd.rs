//! `actpol diff`: which envelopes of a corpus two versions of a policy
//! decide differently. Exit 0 when none, 1 when some.

use std::path::PathBuf;
use std::process::ExitCode;

use actpol::{EnvelopeLimits, LoadOptions, MemoryState};
use actpol_testing::{corpus, diff, policy, TestDiagnostic};

use crate::{CliResult, Format};

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The policy before the change: directory, main file or `.actpolc`.
    #[arg(long)]
    old: PathBuf,
    /// The policy after the change.
    #[arg(long)]
    new: PathBuf,
    /// The directory of envelopes (`*.json`), each decided with
    /// `state/<same name>` beside the directory, if it exists.
    #[arg(long)]
    envelopes: PathBuf,
    /// State for envelopes that have none of their own.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Text for people, or one JSON document.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A signature required of both policies (`--verify-key`), and where
    /// their imports may reach (`--root`).
    #[command(flatten)]
    load: crate::sign_cmd::LoadArgs,
}

pub fn run(args: &DiffArgs) -> CliResult {
    let options = args.load.options()?;
    match impact(args, &options) {
        Ok(report) => {
            match args.format {
                Format::Text => out!("{}", report.render_text())?,
                Format::Json => outln!("{}", report.render_json())?,
            }
            Ok(if report.changes.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(d) => {
            match args.format {
                Format::Text => errln!("{}", d.render_text(100)),
                Format::Json => outln!("{}", d.render_json())?,
            }
            // Not a change, but not a clean comparison either: the same code
            // as a policy or input error anywhere else.
            Ok(ExitCode::from(1))
        }
    }
}

fn impact(args: &DiffArgs, options: &LoadOptions) -> Result<diff::DiffReport, TestDiagnostic> {
    let compile = |path: &PathBuf| {
        policy::load_with(path, options, &EnvelopeLimits::DEFAULT)
            .map_err(|e| e.diagnostic(&path.display().to_string(), None))
    };
    let old = compile(&args.old)?;
    let new = compile(&args.new)?;
    let entries = corpus::scan(&args.envelopes)?;
    let fallback = match &args.state {
        Some(path) => corpus::read_state(path)?,
        None => MemoryState::default(),
    };
    let name = args.envelopes.display().to_string();
    diff::diff(old.policy(), new.policy(), &name, &entries, &fallback)
}
