//! `actpol snapshot`: record the decisions a policy makes on a corpus of
//! envelopes, for `actpol test` to check.

use std::path::PathBuf;
use std::process::ExitCode;

use actpol_testing::snapshot::{self, RecordRequest};

use crate::{CliResult, Format};

#[derive(clap::Args, Debug)]
pub struct SnapshotArgs {
    /// The policy: its directory or main file, or a compiled `.actpolc`.
    #[arg(long)]
    policy: PathBuf,
    /// The directory of envelopes (`*.json`). An envelope `envelopes/x.json`
    /// is decided with `state/x.json` beside the directory, if it exists.
    #[arg(long)]
    envelopes: PathBuf,
    /// State for envelopes that have none of their own.
    #[arg(long)]
    state: Option<PathBuf>,
    /// The snapshot file to write (name it `*.snapshot.json`).
    #[arg(short, long)]
    output: PathBuf,
    /// Output format of diagnostics.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A signature required of the policy (`--verify-key`), and where its
    /// imports may reach (`--root`).
    #[command(flatten)]
    load: crate::sign_cmd::LoadArgs,
}

pub fn run(args: &SnapshotArgs) -> CliResult {
    let request = RecordRequest {
        policy: &args.policy,
        envelopes: &args.envelopes,
        state: args.state.as_deref(),
        output: &args.output,
    };
    match snapshot::record_with(&request, &args.load.options()?) {
        Ok(file) => {
            errln!(
                "recorded {} decision(s) to `{}`",
                file.decisions.len(),
                args.output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(d) => {
            match args.format {
                Format::Text => errln!("{}", d.render_text(100)),
                Format::Json => outln!("{}", d.render_json())?,
            }
            Ok(ExitCode::from(1))
        }
    }
}
