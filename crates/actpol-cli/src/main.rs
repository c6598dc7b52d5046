//! The `actpol` command. Each subcommand is a thin layer over the `actpol`
//! library: parse arguments, call, print, and choose the exit code.
//!
//! Exit codes: 0 success; 1 policy or input errors (for `eval` and
//! `plan`, a decision that carries errors); 2 usage errors (a path that
//! does not exist, arguments that do not parse); with `eval --exit-code`
//! and `plan --exit-code`, the decision's: 0 for `allow` and `constrain`,
//! 3 for `escalate` and 4 for `deny`, whether or not it carries errors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use actpol::{Decision, Level, MemoryState, Policy};
use clap::{Parser, Subcommand, ValueEnum};

#[macro_use]
mod io;
mod batch;
mod bench_cmd;
mod diff_cmd;
mod fmt_cmd;
mod limits;
mod plan_cmd;
mod serve_cmd;
mod sign_cmd;
mod snapshot_cmd;
mod store_cmd;
mod test_cmd;

#[derive(Parser, Debug)]
#[command(
    name = "actpol",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("ACTPOL_COMMIT"), ")"),
    about = "Decide whether an AI agent's proposed action is allowed, constrained, escalated or denied.",
    after_help = "Exit codes: 0 success; 1 policy or input errors; 2 usage errors; with `eval --exit-code` \
                  and `plan --exit-code`, 3 for `escalate` and 4 for `deny`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check policies for errors and lints.
    Check {
        /// Output format of diagnostics.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// The directory imports may reach into (default: the directory
        /// given, or the given file's directory).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Policy files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Format policies in the canonical layout.
    Fmt {
        /// Change nothing; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
        /// Policy files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Compile a policy to a verified artifact.
    Compile {
        /// Where to write the artifact (`.actpolc`).
        #[arg(short, long)]
        output: PathBuf,
        /// Output format of diagnostics.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Sign the artifact with this secret key (from `actpol keygen`).
        #[arg(long, value_name = "KEY")]
        sign: Option<PathBuf>,
        /// The directory imports may reach into (default: the directory
        /// given, or the given file's directory).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// The policy's files or directory.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Decide on an envelope; print the decision as JSON.
    Eval(EvalArgs),
    /// Decide on an envelope and say why, for people.
    Explain(DecideArgs),
    /// Print a compiled artifact's bytecode.
    Disasm {
        /// The artifact (`.actpolc`).
        artifact: PathBuf,
        /// Only this rule.
        #[arg(long)]
        rule: Option<String>,
        #[command(flatten)]
        verify: sign_cmd::VerifyArg,
    },
    /// Make a key pair to sign artifacts with (`compile --sign`) and to
    /// require signatures by (`--verify-key`).
    Keygen(sign_cmd::KeygenArgs),
    /// What a compiled artifact says of itself: policy, source hash,
    /// compiler, when compiled, and its signer.
    Inspect(sign_cmd::InspectArgs),
    /// Run policy tests (`*.test.toml`) and check decision snapshots.
    Test(test_cmd::TestArgs),
    /// Record the decisions a policy makes on a corpus of envelopes.
    Snapshot(snapshot_cmd::SnapshotArgs),
    /// Show which envelopes two versions of a policy decide differently.
    Diff(diff_cmd::DiffArgs),
    /// Budget consumption in a store; commit or release a reservation.
    #[command(subcommand)]
    Budget(store_cmd::BudgetCommand),
    /// Grant a pending approval, as the approver it names.
    Approve(store_cmd::VerdictArgs),
    /// Refuse a pending approval, as the approver it names.
    Reject(store_cmd::VerdictArgs),
    /// An escalated decision's exception packet, with precedent.
    Packet(store_cmd::PacketArgs),
    /// Verify or list the store's hash-chained decision log.
    #[command(subcommand)]
    Audit(store_cmd::AuditCommand),
    /// Decide a plan of actions (a DAG of envelopes) as a whole, before it runs.
    Plan(plan_cmd::PlanArgs),
    /// Look after a store: prune history no window reads any more.
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
    /// Serve decisions over HTTP, against a store.
    Serve(serve_cmd::ServeArgs),
    /// Measure: `bench serve` drives the decision server over loopback HTTP.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

/// What `eval` and `explain` both take: the policy, the envelope, and
/// where budgets and windows come from.
#[derive(clap::Args, Debug)]
struct DecideArgs {
    /// The policy: its files or directory, or a compiled `.actpolc`.
    #[arg(long, required = true, num_args = 1..)]
    policy: Vec<PathBuf>,
    /// The envelope (JSON), or `-` for standard input.
    #[arg(long)]
    envelope: PathBuf,
    /// Budget and window state (JSON): {"budgets": [...], "events": [...]} (see docs/state.md).
    #[arg(long)]
    state: Option<PathBuf>,
    #[command(flatten)]
    store: store_cmd::EvalStore,
    #[command(flatten)]
    limits: limits::LimitArgs,
    #[command(flatten)]
    load: sign_cmd::LoadArgs,
}

/// `eval`'s arguments: `explain`'s, and how to print and exit.
#[derive(clap::Args, Debug)]
struct EvalArgs {
    #[command(flatten)]
    decide: DecideArgs,
    /// Read one envelope per line (NDJSON) and print one decision per line,
    /// tagged with its line number and the envelope's id.
    #[arg(long)]
    batch: bool,
    /// Add an explanation to the decision: which rules matched, which did not and why.
    #[arg(long)]
    explain: bool,
    /// Exit with the decision: 0 for `allow` and `constrain`, 3 for
    /// `escalate`, 4 for `deny` (the strictest of a batch), errors or not.
    #[arg(long)]
    exit_code: bool,
    /// Print each decision on one line.
    #[arg(long)]
    compact: bool,
}

// `eval` reads the arguments it shares with `explain` as its own.
impl std::ops::Deref for EvalArgs {
    type Target = DecideArgs;

    fn deref(&self) -> &DecideArgs {
        &self.decide
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check {
            format,
            root,
            paths,
        } => check(&paths, root, format),
        Command::Fmt { check, paths } => fmt_cmd::run(&paths, check),
        Command::Compile {
            output,
            format,
            sign,
            root,
            paths,
        } => compile(&paths, &output, sign.as_deref(), root, format),
        Command::Eval(args) => eval(&args),
        Command::Explain(args) => explain(&args),
        Command::Disasm {
            artifact,
            rule,
            verify,
        } => disasm(&artifact, rule.as_deref(), &verify),
        Command::Keygen(args) => sign_cmd::keygen(&args),
        Command::Inspect(args) => sign_cmd::inspect(&args),
        Command::Test(args) => test_cmd::run(&args),
        Command::Snapshot(args) => snapshot_cmd::run(&args),
        Command::Diff(args) => diff_cmd::run(&args),
        Command::Budget(command) => store_cmd::budget(&command),
        Command::Approve(args) => store_cmd::verdict(&args, true),
        Command::Reject(args) => store_cmd::verdict(&args, false),
        Command::Packet(args) => store_cmd::packet(&args),
        Command::Audit(command) => store_cmd::audit(&command),
        Command::Store(command) => store_cmd::store(&command),
        Command::Plan(args) => plan_cmd::run(&args),
        Command::Serve(args) => serve_cmd::run(&args),
        Command::Bench(command) => bench_cmd::run(&command),
    };
    match result {
        Ok(code) => code,
        Err(report) if io::is_closed_pipe(&report) => ExitCode::SUCCESS,
        Err(report) => {
            errln!("{report:?}");
            ExitCode::from(exit_code_of(&report))
        }
    }
}

/// A path on the command line that cannot be opened is a usage error (2);
/// anything else that stops a command, a file that was read and found
/// wanting (not UTF-8, too large) among it, is an input error (1).
fn exit_code_of(report: &miette::Report) -> u8 {
    let io = report.downcast_ref::<io::IoError>().is_some();
    let load = match report.downcast_ref::<actpol::CompileFailure>() {
        Some(actpol::CompileFailure::Load(e)) => Some(e),
        _ => report.downcast_ref::<actpol::LoadError>(),
    };
    if io || load.is_some_and(actpol::LoadError::is_missing) {
        2
    } else {
        1
    }
}

pub(crate) type CliResult = Result<ExitCode, miette::Report>;

fn print_diagnostics(report: &actpol::CheckReport, format: Format) -> Result<(), io::IoError> {
    match format {
        Format::Json => {
            for d in report.render_json() {
                outln!("{d}")?;
            }
        }
        Format::Text => {
            if report.error_count() + report.warning_count() > 0 {
                errln!("{}", report.render_text(100));
            }
            errln!(
                "checked {} file(s): {} error(s), {} warning(s)",
                report.files_checked(),
                report.error_count(),
                report.warning_count()
            );
        }
    }
    Ok(())
}

fn check(paths: &[PathBuf], root: Option<PathBuf>, format: Format) -> CliResult {
    let report = actpol::check_paths_with(paths, &root_options(root))?;
    print_diagnostics(&report, format)?;
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn root_options(root: Option<PathBuf>) -> actpol::LoadOptions {
    match root {
        Some(root) => actpol::LoadOptions::new().root(root),
        None => actpol::LoadOptions::new(),
    }
}

fn compile(
    paths: &[PathBuf],
    output: &Path,
    sign: Option<&Path>,
    root: Option<PathBuf>,
    format: Format,
) -> CliResult {
    // The key is read first: a missing key stops the command before any
    // work, and never after writing an unsigned artifact.
    let key = sign.map(sign_cmd::read_secret_key).transpose()?;
    match actpol::compile_paths_with(paths, &root_options(root)) {
        Ok(mut artifact) => {
            let bytes = match &key {
                Some(key) => key.sign(&mut artifact)?,
                None => artifact.encode()?,
            };
            io::write(output, &bytes)?;
            let bound: u64 = artifact
                .program
                .rules
                .iter()
                .map(|r| u64::from(r.bound))
                .sum();
            let max = artifact
                .program
                .rules
                .iter()
                .map(|r| r.bound)
                .max()
                .unwrap_or(0);
            let signed = match &artifact.signature {
                Some(s) => format!(", signed by {}", s.key_id()),
                None => String::new(),
            };
            errln!(
                "compiled `{}`: {} rules, {} instructions (at most {max} per rule, {bound} in all), {} bytes, {}{signed}",
                artifact.policy,
                artifact.program.rules.len(),
                artifact.program.code.len(),
                bytes.len(),
                artifact.hash_text()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(actpol::CompileFailure::Invalid(report)) => {
            print_diagnostics(&report, format)?;
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(other.into()),
    }
}

/// A policy from paths, or from an artifact when one `.actpolc` is given,
/// loaded as `load` says (a required signature, where imports may reach).
pub(crate) fn load_policy(
    paths: &[PathBuf],
    load: &sign_cmd::LoadArgs,
) -> Result<Policy, miette::Report> {
    match Policy::from_paths_with(paths, &load.options()?) {
        Ok(p) => Ok(p),
        Err(actpol::CompileFailure::Invalid(report)) => {
            errln!("{}", report.render_text(100));
            Err(miette::miette!(
                code = "actpol::compile::errors",
                help = "run `actpol check` on the policy and fix what it reports",
                "the policy has errors"
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// A state file, checked against the policy it is used with.
pub(crate) fn load_state(
    path: Option<&Path>,
    policy: &Policy,
) -> Result<MemoryState, miette::Report> {
    let Some(path) = path else {
        return Ok(MemoryState::default());
    };
    let bytes = io::read(path)?;
    let state = MemoryState::from_json(&bytes)?;
    policy.check_state(&state)?;
    Ok(state)
}

/// Where `eval` reads budgets and windows from, and where it records.
enum Backing {
    /// A state file (or nothing): each decision that proceeds is recorded
    /// in it, so later lines of a batch see what earlier ones consumed.
    Memory(Box<MemoryState>),
    /// A store: each decision is made and logged in its transaction.
    Store(Box<dyn actpol::store::Store>),
}

impl Backing {
    fn open(args: &DecideArgs, policy: &Policy) -> Result<Backing, miette::Report> {
        Ok(match args.store.open()? {
            Some(store) => Backing::Store(store),
            None => Backing::Memory(Box::new(load_state(args.state.as_deref(), policy)?)),
        })
    }

    /// Decides on each line, in order. Against a store, the lines share one
    /// transaction (one commit to the disk): each still sees the lines
    /// before it, and the decisions are returned once durable.
    fn decide(
        &mut self,
        policy: &Policy,
        lines: &[&[u8]],
        options: &store_cmd::EvalStore,
        explain: bool,
    ) -> Result<Vec<Result<Decided, actpol::store::StoreError>>, miette::Report> {
        match self {
            Backing::Store(store) => {
                let requests = lines
                    .iter()
                    .map(|line| options.request(*line).explain(explain))
                    .collect();
                Ok(policy
                    .decide_stored_batch(&**store, requests)?
                    .into_iter()
                    .map(|result| result.map(Decided::Stored))
                    .collect())
            }
            Backing::Memory(state) => Ok(lines
                .iter()
                .map(|line| match policy.bind_json(line) {
                    Ok(env) => {
                        let d = policy.decide(options.request(&env).explain(explain), &**state);
                        policy.record(state, &env, &d);
                        Ok(Decided::Bound(d, env.id.clone()))
                    }
                    Err(_) => Ok(Decided::Memory(
                        policy.decide(options.request(*line).explain(explain), &**state),
                    )),
                })
                .collect()),
        }
    }
}

/// A decision `eval` made, with the store's record of it if one was kept.
enum Decided {
    Memory(Decision),
    /// A decision on an envelope that bound, with the envelope's `id`.
    Bound(Decision, Option<std::sync::Arc<str>>),
    Stored(actpol::store::Stored),
}

impl Decided {
    fn decision(&self) -> &Decision {
        match self {
            Decided::Memory(d) | Decided::Bound(d, _) => d,
            Decided::Stored(s) => s.decision(),
        }
    }

    /// The envelope's `id`, when binding it read one: otherwise the line
    /// is read for it.
    fn envelope_id(&self, line: &[u8]) -> Option<String> {
        match self {
            Decided::Bound(_, id) => id.as_deref().map(str::to_string),
            _ => batch::envelope_id(line),
        }
    }

    /// The decision as JSON: compact (for a stored decision, the text its
    /// log record holds) or pretty.
    fn json(&self, compact: bool) -> Result<std::borrow::Cow<'_, str>, serde_json::Error> {
        Ok(match (self, compact) {
            (Decided::Stored(s), true) => s.json().into(),
            (_, true) => serde_json::to_string(self.decision())?.into(),
            (_, false) => serde_json::to_string_pretty(self.decision())?.into(),
        })
    }
}

/// How many lines of `eval --batch --store` share one transaction, and how
/// many bytes of envelopes such a group holds at most.
const BATCH_GROUP: usize = 256;
const BATCH_GROUP_BYTES: usize = 4 << 20;

/// Writes `eval`'s decisions through one buffer, and keeps what the exit
/// code is chosen from.
struct Printer<W: Write> {
    out: W,
    any_errors: bool,
    strictest: Option<Level>,
    /// A decision the store failed on (recorded nowhere): it stops the
    /// command once every recorded decision around it is printed.
    failed: Option<actpol::store::StoreError>,
}

impl<W: Write> Printer<W> {
    fn new(out: W) -> Self {
        Printer {
            out,
            any_errors: false,
            strictest: None,
            failed: None,
        }
    }

    /// Prints one decision; in a batch, tagged with its line and the
    /// envelope's id.
    fn print(
        &mut self,
        decided: Result<Decided, actpol::store::StoreError>,
        compact: bool,
        tag: Option<(usize, Option<String>)>,
    ) -> Result<(), miette::Report> {
        let decided = match decided {
            Ok(decided) => decided,
            Err(err) => {
                self.failed.get_or_insert(err);
                return Ok(());
            }
        };
        let d = decided.decision();
        self.any_errors |= !d.errors.is_empty();
        self.strictest = self.strictest.max(Some(d.decision));
        let text = decided.json(compact).map_err(|e| miette::miette!("{e}"))?;
        let text = match &tag {
            Some((line, id)) => batch::tagged(&text, *line, id.as_deref()).into(),
            None => text,
        };
        writeln!(self.out, "{text}")
            .map_err(|e| io::IoError::new("write standard output", e).into())
    }

    fn flush(&mut self) -> Result<(), io::IoError> {
        self.out
            .flush()
            .map_err(|e| io::IoError::new("write standard output", e))
    }

    /// 1 when any decision carries an error (or the store failed); with
    /// `--exit-code`, the strictest decision's code ([`exit_code_for`]),
    /// errors or not.
    fn exit_code(self, exit_code: bool) -> CliResult {
        if let Some(err) = self.failed {
            return Err(err.into());
        }
        Ok(if exit_code {
            exit_code_for(self.strictest)
        } else if self.any_errors {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}

fn eval(args: &EvalArgs) -> CliResult {
    let policy = load_policy(&args.policy, &args.load)?.with_limits(args.limits.limits());
    let mut backing = Backing::open(args, &policy)?;
    let mut printer = Printer::new(std::io::BufWriter::new(std::io::stdout().lock()));
    let printed = if args.batch {
        eval_batch(args, &policy, &mut backing, &mut printer)
    } else {
        eval_one(args, &policy, &mut backing, &mut printer)
    };
    // Flushed on error too: what was decided before it is reported.
    let flushed = printer.flush();
    printed?;
    flushed?;
    printer.exit_code(args.exit_code)
}

/// The envelope `eval` and `explain` decide on, read no further than the
/// policy's envelope limit.
fn decide_one(
    args: &DecideArgs,
    policy: &Policy,
    backing: &mut Backing,
    explain: bool,
) -> Result<Option<Result<Decided, actpol::store::StoreError>>, miette::Report> {
    let limits = policy.limits();
    let input = io::read_bounded(&args.envelope, limits.max_bytes)?;
    if input.len > limits.max_bytes {
        let err = actpol::EnvelopeError::too_large(input.len, limits);
        return Ok(Some(Ok(Decided::Memory(policy.refuse(&err)))));
    }
    Ok(backing
        .decide(policy, &[&input.bytes], &args.store, explain)?
        .pop())
}

fn eval_one<W: Write>(
    args: &EvalArgs,
    policy: &Policy,
    backing: &mut Backing,
    printer: &mut Printer<W>,
) -> Result<(), miette::Report> {
    if let Some(decided) = decide_one(args, policy, backing, args.explain)? {
        printer.print(decided, args.compact, None)?;
    }
    Ok(())
}

/// Decides each line as it is read; against a store, lines in groups that
/// share a transaction.
fn eval_batch<W: Write>(
    args: &EvalArgs,
    policy: &Policy,
    backing: &mut Backing,
    printer: &mut Printer<W>,
) -> Result<(), miette::Report> {
    let group_size = match backing {
        Backing::Store(_) => BATCH_GROUP,
        Backing::Memory(_) => 1,
    };
    let mut lines = batch::Lines::new(io::open_input(&args.envelope)?, policy.limits().max_bytes);
    let mut group = Vec::new();
    let mut group_bytes = 0;
    loop {
        let next = lines
            .next_line()
            .map_err(|e| io::IoError::new("read the envelopes", e))?;
        let done = next.is_none();
        if let Some((number, line)) = next {
            if let batch::Line::Envelope(bytes) = &line {
                group_bytes += bytes.len();
            }
            group.push((number, line));
        }
        let full = group.len() >= group_size || group_bytes >= BATCH_GROUP_BYTES;
        if !group.is_empty() && (done || full) {
            decide_group(args, policy, backing, printer, &group)?;
            group.clear();
            group_bytes = 0;
        }
        if done {
            return Ok(());
        }
    }
}

/// Decides and prints one group of lines, in order.
fn decide_group<W: Write>(
    args: &EvalArgs,
    policy: &Policy,
    backing: &mut Backing,
    printer: &mut Printer<W>,
    group: &[(usize, batch::Line)],
) -> Result<(), miette::Report> {
    let envelopes: Vec<&[u8]> = group
        .iter()
        .filter_map(|(_, line)| match line {
            batch::Line::Envelope(bytes) => Some(&bytes[..]),
            batch::Line::TooLarge(_) => None,
        })
        .collect();
    let mut decided = backing
        .decide(policy, &envelopes, &args.store, args.explain)?
        .into_iter();
    for (number, line) in group {
        let (result, id) = match line {
            batch::Line::Envelope(bytes) => {
                let Some(result) = decided.next() else {
                    return Err(miette::miette!("a line of the batch went undecided"));
                };
                let id = match &result {
                    Ok(decided) => decided.envelope_id(bytes),
                    Err(_) => batch::envelope_id(bytes),
                };
                (result, id)
            }
            batch::Line::TooLarge(len) => {
                let err = actpol::EnvelopeError::too_large(*len, policy.limits());
                (Ok(Decided::Memory(policy.refuse(&err))), None)
            }
        };
        printer.print(result, true, Some((*number, id)))?;
    }
    Ok(())
}

/// `--exit-code`: the decision's own code. A decision with errors is a
/// `deny` or an `escalate` (runtime errors fail closed into `on_error`),
/// and exits as one.
pub(crate) fn exit_code_for(level: Option<Level>) -> ExitCode {
    match level {
        Some(Level::Deny) => ExitCode::from(4),
        Some(Level::Escalate) => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    }
}

fn explain(args: &DecideArgs) -> CliResult {
    let policy = load_policy(&args.policy, &args.load)?.with_limits(args.limits.limits());
    let mut backing = Backing::open(args, &policy)?;
    let Some(decided) = decide_one(args, &policy, &mut backing, true)? else {
        return Ok(ExitCode::from(1));
    };
    let decided = decided?;
    let d = decided.decision();
    out!("{}", actpol::explain_text(d))?;
    Ok(if d.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn disasm(path: &Path, rule: Option<&str>, verify: &sign_cmd::VerifyArg) -> CliResult {
    let bytes = io::read_input(path)?;
    let policy = Policy::load_with(&bytes, &verify.options()?)?;
    let Some(text) = policy.disassemble(rule) else {
        return Err(miette::miette!(
            code = "actpol::disasm::unknown_rule",
            help = "list the rules with `actpol disasm FILE`",
            "no rule `{}` in `{}`",
            rule.unwrap_or_default(),
            policy.name()
        ));
    };
    out!("{text}")?;
    Ok(ExitCode::SUCCESS)
}
