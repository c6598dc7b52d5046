//! Signed artifacts: `actpol keygen`, `actpol inspect`, and the
//! `--verify-key` and `--root` options of every command that loads a policy
//! (see `docs/signing.md`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use actpol::{LoadOptions, Policy, PublicKey, SecretKey};

use crate::{io, CliResult, Format};

/// How a command loads its policy.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct LoadArgs {
    #[command(flatten)]
    verify: VerifyArg,
    /// The directory the policy's imports may reach into (default: the
    /// directory given, or the given file's directory).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

impl LoadArgs {
    pub fn options(&self) -> Result<LoadOptions, miette::Report> {
        let mut options = self.verify.options()?;
        if let Some(root) = &self.root {
            options = options.root(root);
        }
        Ok(options)
    }
}

/// Whether a command that reads an artifact requires its signature.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct VerifyArg {
    /// Require an artifact signed by this public key (`KEY.pub`, from
    /// `actpol keygen`): unsigned or otherwise signed artifacts, and policy
    /// sources, are refused.
    #[arg(long, value_name = "PUB")]
    verify_key: Option<PathBuf>,
}

impl VerifyArg {
    pub fn options(&self) -> Result<LoadOptions, miette::Report> {
        Ok(match &self.verify_key {
            Some(path) => LoadOptions::new().verify_key(read_public_key(path)?),
            None => LoadOptions::new(),
        })
    }
}

fn read_public_key(path: &Path) -> Result<PublicKey, miette::Report> {
    let text = io::read_to_string(path)?;
    PublicKey::from_text(&text).map_err(|e| {
        miette::Report::new(e).wrap_err(format!("`{}` is not a public key", path.display()))
    })
}

pub fn read_secret_key(path: &Path) -> Result<SecretKey, miette::Report> {
    let text = io::read_to_string(path)?;
    SecretKey::from_text(&text).map_err(|e| {
        miette::Report::new(e).wrap_err(format!("`{}` is not a secret key", path.display()))
    })
}

#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the secret key (readable by its owner only); the
    /// public key is written beside it, with `.pub` added to the name.
    #[arg(long, value_name = "KEY")]
    out: PathBuf,
}

/// Writes a new key pair; never over an existing file.
pub fn keygen(args: &KeygenArgs) -> CliResult {
    let key = SecretKey::generate()?;
    let mut public = args.out.clone().into_os_string();
    public.push(".pub");
    let public = PathBuf::from(public);
    for path in [&args.out, &public] {
        if path.exists() {
            return Err(miette::miette!(
                code = "actpol::io",
                help = "choose another name, or remove the old key first",
                "`{}` exists: a key is never overwritten",
                path.display()
            ));
        }
    }
    io::write_private(&args.out, key.to_text())?;
    io::write(&public, key.public_key().to_text())?;
    errln!(
        "wrote the signing key `{}` (keep it secret) and its public key `{}`: {}",
        args.out.display(),
        public.display(),
        key.public_key().id()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The artifact (`.actpolc`).
    artifact: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    verify: VerifyArg,
}

/// What an artifact says of itself: name, source hash, compiler, when it
/// was compiled, and who signed it (a signature it carries is checked).
pub fn inspect(args: &InspectArgs) -> CliResult {
    let bytes = io::read_input(&args.artifact)?;
    let policy = Policy::load_with(&bytes, &args.verify.options()?)?;
    let artifact = policy.artifact();
    let signer = artifact.signature.map(|s| {
        serde_json::json!({
            "key_id": s.key_id(),
            "public_key": actpol::values::hex(&s.public_key),
        })
    });
    let info = serde_json::json!({
        "policy": artifact.policy,
        "source_hash": artifact.hash_text(),
        "compiler": artifact.compiler,
        "compiled_at": actpol::values::format_timestamp(artifact.compiled_at),
        "format_version": actpol::advanced::FORMAT_VERSION,
        "bytes": bytes.len(),
        "signer": signer,
    });
    match args.format {
        Format::Json => outln!("{info}")?,
        Format::Text => {
            outln!("policy       {}", artifact.policy)?;
            outln!("source hash  {}", artifact.hash_text())?;
            outln!("compiler     {}", artifact.compiler)?;
            outln!(
                "compiled at  {}",
                info["compiled_at"].as_str().unwrap_or_default()
            )?;
            outln!(
                "format       version {}, {} bytes",
                actpol::advanced::FORMAT_VERSION,
                bytes.len()
            )?;
            match artifact.signature {
                Some(s) => outln!("signer       {} (signature valid)", s.key_id())?,
                None => outln!("signer       none: the artifact is not signed")?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
