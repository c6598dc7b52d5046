//! The store's subcommands: `budget`, `approve`, `reject`, `packet`,
//! `audit` and `store`, and the store options `eval` takes.

use std::path::PathBuf;
use std::process::ExitCode;

use actpol::store::{self, Durability, LogEntry, LogFilter, Store, Verification};
use actpol::{Input, Level, Request};
use clap::{Args, Subcommand, ValueEnum};

use crate::{load_policy, CliResult, Format};

/// Where the store is, for the store's own subcommands.
#[derive(Args, Debug)]
pub struct StoreArg {
    /// The store: a file path, `sqlite:PATH`, or `postgres://…` for a
    /// PostgreSQL store shared by several deciding processes.
    #[arg(long, default_value = store::DEFAULT_PATH)]
    store: String,
    /// What a commit waits for (see `docs/store.md`).
    #[arg(long, value_enum, default_value = "normal")]
    durability: DurabilityArg,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// WAL, synchronous=NORMAL: a killed process loses nothing committed
    /// (PostgreSQL: the server's `synchronous_commit`).
    Normal,
    /// WAL, synchronous=FULL: every commit is fsynced (PostgreSQL:
    /// `synchronous_commit = on`).
    Full,
}

impl From<DurabilityArg> for Durability {
    fn from(arg: DurabilityArg) -> Durability {
        match arg {
            DurabilityArg::Normal => Durability::Normal,
            DurabilityArg::Full => Durability::Full,
        }
    }
}

impl StoreArg {
    fn open(&self) -> Result<Box<dyn Store>, miette::Report> {
        Ok(store::open(&self.store, self.durability.into())?)
    }
}

/// `eval --store`: decide against a store.
#[derive(Args, Debug)]
pub struct EvalStore {
    /// Decide against a store (default `.actpol/store.db`; a file path,
    /// `sqlite:PATH` or `postgres://…`): budgets and windows from it, the
    /// decision logged in it.
    #[arg(long, num_args = 0..=1, default_missing_value = store::DEFAULT_PATH, conflicts_with = "state")]
    pub store: Option<String>,
    /// The decision's clock (RFC 3339), to replay; the host's by default.
    #[arg(long, value_parser = timestamp)]
    pub now: Option<i64>,
    /// How far an envelope's `time` may be from the clock (default: the
    /// policy's `max_skew`, else 5m).
    #[arg(long, value_parser = duration)]
    pub max_skew: Option<i64>,
    /// How long a reservation holds (default: the policy's
    /// `reservation_ttl`, else 15m).
    #[arg(long, value_parser = duration)]
    pub reservation_ttl: Option<i64>,
    /// How long an approval stays usable (default: the policy's
    /// `approval_ttl`, else 1d).
    #[arg(long, value_parser = duration)]
    pub approval_ttl: Option<i64>,
    /// Present this approval (`apr-…`), as the envelope's `approval` would.
    #[arg(long)]
    pub approval: Option<String>,
    /// What a commit waits for.
    #[arg(long, value_enum, default_value = "normal")]
    pub durability: DurabilityArg,
}

impl EvalStore {
    pub fn open(&self) -> Result<Option<Box<dyn Store>>, miette::Report> {
        match &self.store {
            None => Ok(None),
            Some(location) => Ok(Some(store::open(location, self.durability.into())?)),
        }
    }

    /// A request to decide on `input` with these options.
    pub fn request<'a>(&self, input: impl Into<Input<'a>>) -> Request<'a> {
        let mut request = Request::new(input);
        if let Some(now) = self.now {
            request = request.at(now);
        }
        if let Some(skew) = self.max_skew {
            request = request.max_skew(skew);
        }
        if let Some(ttl) = self.reservation_ttl {
            request = request.reservation_ttl(ttl);
        }
        if let Some(ttl) = self.approval_ttl {
            request = request.approval_ttl(ttl);
        }
        if let Some(approval) = &self.approval {
            request = request.approval(approval.as_str());
        }
        request
    }
}

fn timestamp(text: &str) -> Result<i64, String> {
    actpol::values::parse_timestamp(text).ok_or_else(|| {
        format!("`{text}` is not an RFC 3339 timestamp such as 2026-11-25T14:00:00Z")
    })
}

fn duration(text: &str) -> Result<i64, String> {
    actpol::values::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration such as 15m or 1h30m"))
}

fn level(text: &str) -> Result<Level, String> {
    Level::ALL
        .into_iter()
        .find(|l| l.as_str() == text)
        .ok_or_else(|| format!("`{text}` is not one of allow, constrain, escalate, deny"))
}

fn now_or(now: Option<i64>) -> i64 {
    now.unwrap_or_else(store::system_now)
}

fn print_json(value: &impl serde::Serialize) -> Result<(), miette::Report> {
    let text = serde_json::to_string_pretty(value).map_err(|e| miette::miette!("{e}"))?;
    outln!("{text}")?;
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum BudgetCommand {
    /// Consumption per budget, key and window.
    Show {
        #[command(flatten)]
        store: StoreArg,
        /// The policy: shows each budget's current window with its limit.
        #[arg(long, num_args = 1..)]
        policy: Vec<PathBuf>,
        #[command(flatten)]
        load: crate::sign_cmd::LoadArgs,
        /// The clock for "current" (RFC 3339); the host's by default.
        #[arg(long, value_parser = timestamp)]
        now: Option<i64>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The action ran: keep what its reservation holds.
    Commit {
        /// The reservation (`res-…`).
        reservation: String,
        #[command(flatten)]
        store: StoreArg,
        #[arg(long, value_parser = timestamp)]
        now: Option<i64>,
    },
    /// The action did not run, or was rolled back: return what it holds.
    Release {
        /// The reservation (`res-…`).
        reservation: String,
        #[command(flatten)]
        store: StoreArg,
        #[arg(long, value_parser = timestamp)]
        now: Option<i64>,
    },
}

pub fn budget(command: &BudgetCommand) -> CliResult {
    match command {
        BudgetCommand::Show {
            store,
            policy,
            load,
            now,
            format,
        } => {
            let store = store.open()?;
            let now = now_or(*now);
            let policy = if policy.is_empty() {
                None
            } else {
                Some(load_policy(policy, load)?)
            };
            let counts = match &policy {
                Some(policy) => policy.budgets(&*store, now)?,
                None => store.budgets(now, None)?,
            };
            if *format == Format::Json {
                print_json(&counts)?;
                return Ok(ExitCode::SUCCESS);
            }
            if counts.is_empty() {
                outln!("no consumption recorded")?;
            }
            for c in &counts {
                let limit = policy
                    .as_ref()
                    .and_then(|p| p.budget_limit(&c.budget))
                    .map_or(String::new(), |l| format!(" of {l}"));
                outln!(
                    "{} {} (window {}): {}{limit} consumed, {} of it held",
                    c.budget,
                    c.key,
                    c.window,
                    c.consumed,
                    c.held
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        BudgetCommand::Commit {
            reservation,
            store,
            now,
        } => {
            let r = store.open()?.commit(reservation, now_or(*now))?;
            print_json(&r)?;
            Ok(ExitCode::SUCCESS)
        }
        BudgetCommand::Release {
            reservation,
            store,
            now,
        } => {
            let r = store.open()?.release(reservation, now_or(*now))?;
            print_json(&r)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `approve` and `reject`.
#[derive(Args, Debug)]
pub struct VerdictArgs {
    /// The approval (`apr-…`), from the escalated decision's `approval`.
    approval: String,
    /// The approver deciding: must be the one the escalation named.
    #[arg(long)]
    by: String,
    /// Why, for the log and for precedent.
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    store: StoreArg,
    #[arg(long, value_parser = timestamp)]
    now: Option<i64>,
}

pub fn verdict(args: &VerdictArgs, grant: bool) -> CliResult {
    let store = args.store.open()?;
    let now = now_or(args.now);
    let approval = if grant {
        store.approve(&args.approval, &args.by, args.note.as_deref(), now)?
    } else {
        store.reject(&args.approval, &args.by, args.note.as_deref(), now)?
    };
    print_json(&approval)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PacketFormat {
    Md,
    Json,
}

/// `packet DECISION`.
#[derive(Args, Debug)]
pub struct PacketArgs {
    /// The escalated decision (`dec-…`).
    decision: String,
    #[arg(long, value_enum, default_value = "md")]
    format: PacketFormat,
    /// How many past decisions to list.
    #[arg(long, default_value_t = store::DEFAULT_PRECEDENT)]
    precedent: usize,
    #[command(flatten)]
    store: StoreArg,
    #[arg(long, value_parser = timestamp)]
    now: Option<i64>,
}

pub fn packet(args: &PacketArgs) -> CliResult {
    let view = args
        .store
        .open()?
        .packet(&args.decision, args.precedent, now_or(args.now))?;
    match args.format {
        PacketFormat::Md => out!("{}", view.to_markdown())?,
        PacketFormat::Json => print_json(&view)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the hash chain: exit 0 if intact, 1 naming the first broken
    /// position.
    Verify {
        #[command(flatten)]
        store: StoreArg,
        /// The head hash kept elsewhere: the chain must end there.
        #[arg(long)]
        expect_head: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// List log records.
    Log {
        #[command(flatten)]
        store: StoreArg,
        /// Records at or after this time (RFC 3339).
        #[arg(long, value_parser = timestamp)]
        since: Option<i64>,
        #[arg(long)]
        agent: Option<String>,
        /// An action name or pattern (`crm.*`).
        #[arg(long)]
        action: Option<String>,
        /// Decisions of this level only.
        #[arg(long, value_parser = level)]
        decision: Option<Level>,
        /// The last N records only.
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub fn audit(command: &AuditCommand) -> CliResult {
    match command {
        AuditCommand::Verify {
            store,
            expect_head,
            format,
        } => {
            let verification = store.open()?.verify()?;
            let verification = match (verification, expect_head) {
                (Verification::Intact { records, head }, Some(expected)) if head != *expected => {
                    Verification::Broken {
                        position: records,
                        reason: format!(
                            "the chain ends at `{head}`, not at the expected `{expected}`: the log was rewritten or is not the one expected"
                        ),
                    }
                }
                (v, _) => v,
            };
            if *format == Format::Json {
                print_json(&verification)?;
            }
            match verification {
                Verification::Intact { records, head } => {
                    if *format == Format::Text {
                        outln!("intact: {records} record(s), head {head}")?;
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Verification::Broken { position, reason } => {
                    if *format == Format::Text {
                        outln!("broken at record {position}: {reason}")?;
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::Log {
            store,
            since,
            agent,
            action,
            decision,
            limit,
            format,
        } => {
            let filter = LogFilter {
                since: *since,
                agent: agent.clone(),
                action: action.clone(),
                decision: *decision,
                limit: *limit,
            };
            let entries = store.open()?.log(&filter)?;
            match format {
                Format::Json => {
                    for e in &entries {
                        outln!(
                            "{}",
                            serde_json::to_string(e).map_err(|e| miette::miette!("{e}"))?
                        )?;
                    }
                }
                Format::Text => {
                    for e in &entries {
                        outln!("{}", log_line(e))?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One log record in a line, for people.
fn log_line(e: &LogEntry) -> String {
    let r = &e.record;
    let text = |ptr: &str| {
        r.pointer(ptr)
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string()
    };
    let what = match e.kind.as_str() {
        "decision" => {
            let id = text("/id");
            let level = text("/decision/decision");
            if r["envelope"].is_object() {
                format!(
                    "{id} {level}: {} {} on {}/{}",
                    text("/envelope/agent/id"),
                    text("/envelope/action/name"),
                    text("/envelope/object/type"),
                    text("/envelope/object/id")
                )
            } else {
                format!("{id} {level}: unreadable envelope")
            }
        }
        "approve" | "reject" => format!("{} {} by {}", text("/approval"), e.kind, text("/by")),
        _ => format!(
            "{} {} ({})",
            text("/reservation"),
            e.kind,
            text("/decision")
        ),
    };
    format!("{:>6}  {}  {what}", e.seq, e.at)
}

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Forget the history no window of the policy reads any more: actions
    /// (ended reservations) older than its longest window, and budget
    /// counters of windows that ended. The decision log is kept whole.
    Prune {
        #[command(flatten)]
        store: StoreArg,
        /// The policy whose windows say how far back to keep.
        #[arg(long, num_args = 1.., required_unless_present = "keep")]
        policy: Vec<PathBuf>,
        #[command(flatten)]
        load: crate::sign_cmd::LoadArgs,
        /// Keep this much history instead (a duration such as `30d`); with
        /// a policy too, the longer of the two.
        #[arg(long, value_parser = duration)]
        keep: Option<i64>,
        /// The clock (RFC 3339); the host's by default.
        #[arg(long, value_parser = timestamp)]
        now: Option<i64>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub fn store(command: &StoreCommand) -> CliResult {
    match command {
        StoreCommand::Prune {
            store,
            policy,
            load,
            keep,
            now,
            format,
        } => {
            let retention = if policy.is_empty() {
                Some(0)
            } else {
                load_policy(policy, load)?.retention()
            };
            let Some(retention) = retention else {
                return Err(miette::miette!(
                    code = "actpol::store::keeps_all",
                    help =
                        "a window `over plan` reads a plan's whole history; nothing can be pruned",
                    "the policy reads all of its history"
                ));
            };
            let keep = keep.unwrap_or(0).max(retention);
            let before = now_or(*now).saturating_sub(keep);
            let pruned = store.open()?.prune(before)?;
            match format {
                Format::Json => print_json(&pruned)?,
                Format::Text => outln!(
                    "pruned {} reservation(s) and {} budget counter(s) from before {}",
                    pruned.reservations,
                    pruned.counters,
                    actpol::values::format_timestamp(before)
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
