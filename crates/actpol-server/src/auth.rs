//! Caller identity: bearer tokens mapped to who holds them.
//!
//! The tokens file (TOML) holds only the SHA-256 of each token, never the
//! token, so reading it gives nothing to present:
//!
//! ```toml
//! [[token]]
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! agent = "growth-bot"          # may decide, for this agent only
//!
//! [[token]]
//! sha256 = "…"
//! approver = "growth-lead"      # may list, read and decide approvals as this approver
//!
//! [[token]]
//! sha256 = "…"
//! admin = true                  # may verify the log and reload the policy
//!
//! [[token]]
//! sha256 = "…"
//! metrics = true                # may read /metrics and nothing else (a scraper)
//! ```
//!
//! Without a tokens file every request is served (loopback development).
//! With one, every `/v1/` request needs a known token, and each endpoint
//! needs its role: an agent's envelope must name that agent, an agent
//! touches only the reservations and approvals of its own decisions, an
//! agent token cannot approve, an approver decides only as itself. `/metrics`
//! then needs an admin or a metrics token; `/healthz` stays open, for
//! probes that carry no token.

use std::collections::HashMap;

use actpol::values::{hex, hex32};
use actpol::ErrorCode;
use axum::http::{header, HeaderMap, StatusCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The server has no tokens file: anyone may do anything.
    Open,
    /// An agent: decides, commits and releases, for itself.
    Agent(String),
    /// An approver: reads and decides the approvals that name it.
    Approver(String),
    /// An operator: audit and reload.
    Admin,
    /// A metrics scraper: `/metrics` only.
    Metrics,
}

/// What an endpoint needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Agent,
    /// An approver: deciding approvals.
    Approver,
    /// An approver or an admin: reading approvals, decisions, packets.
    Review,
    Admin,
    /// An agent (for its own decisions), an approver or an admin: reading
    /// one approval.
    Party,
    /// An admin or a metrics scraper: `/metrics`.
    Metrics,
    /// Any known token.
    Any,
}

/// The tokens the server knows, by their hash.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    /// `None`: no tokens file, every request is served.
    by_hash: Option<HashMap<[u8; 32], Caller>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    token: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    sha256: String,
    agent: Option<String>,
    approver: Option<String>,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    metrics: bool,
}

/// The SHA-256 of a token, as the tokens file writes it (lowercase hex).
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

impl Tokens {
    /// Every request is served: no tokens file.
    pub fn open() -> Tokens {
        Tokens { by_hash: None }
    }

    /// Reads a tokens file's text. Every entry names one role; a hash that
    /// is not 64 hex digits, or one given twice, is refused.
    pub fn from_toml(text: &str) -> Result<Tokens, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if file.token.is_empty() {
            return Err("the tokens file has no `[[token]]` entry".into());
        }
        let mut by_hash = HashMap::new();
        for (n, entry) in file.token.into_iter().enumerate() {
            let at = n + 1;
            let hash = hex32(&entry.sha256).ok_or_else(|| {
                format!(
                    "token {at}: `{}` is not a SHA-256 in hex (64 hex digits)",
                    entry.sha256
                )
            })?;
            let caller = match (entry.agent, entry.approver, entry.admin, entry.metrics) {
                (Some(agent), None, false, false) if !agent.is_empty() => Caller::Agent(agent),
                (None, Some(approver), false, false) if !approver.is_empty() => {
                    Caller::Approver(approver)
                }
                (None, None, true, false) => Caller::Admin,
                (None, None, false, true) => Caller::Metrics,
                _ => {
                    return Err(format!(
                        "token {at}: give exactly one of `agent = \"…\"`, `approver = \"…\"`, `admin = true` or `metrics = true`"
                    ))
                }
            };
            if by_hash.insert(hash, caller).is_some() {
                return Err(format!("token {at}: `{}` is given twice", entry.sha256));
            }
        }
        Ok(Tokens {
            by_hash: Some(by_hash),
        })
    }

    /// Whether requests need a token.
    pub fn enforced(&self) -> bool {
        self.by_hash.is_some()
    }

    /// Who sent a request with these headers.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let Some(by_hash) = &self.by_hash else {
            return Ok(Caller::Open);
        };
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthenticated("the request has no bearer token"))?;
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        by_hash
            .get(&hash)
            .cloned()
            .ok_or_else(|| unauthenticated("the bearer token is not one this server knows"))
    }

    /// Who sent the request, if they may call an endpoint needing `role`.
    pub fn require(&self, headers: &HeaderMap, role: Role) -> Result<Caller, ApiError> {
        let caller = self.caller(headers)?;
        let allowed = match (&caller, role) {
            (Caller::Open, _) | (_, Role::Any) => true,
            (Caller::Agent(_), Role::Agent | Role::Party) => true,
            (Caller::Approver(_), Role::Approver | Role::Review | Role::Party) => true,
            // An operator reads what approvers read, and decides none of it.
            (Caller::Admin, Role::Admin | Role::Review | Role::Party | Role::Metrics) => true,
            (Caller::Metrics, Role::Metrics) => true,
            _ => false,
        };
        if allowed {
            Ok(caller)
        } else {
            Err(forbidden(&caller, role))
        }
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::ServerUnauthenticated,
        message,
        "send `Authorization: Bearer <token>` with a token listed (by its SHA-256) in the server's tokens file",
    )
}

fn forbidden(caller: &Caller, role: Role) -> ApiError {
    let who = match caller {
        Caller::Open => "anyone".to_string(),
        Caller::Agent(id) => format!("agent `{id}`"),
        Caller::Approver(id) => format!("approver `{id}`"),
        Caller::Admin => "an admin".to_string(),
        Caller::Metrics => "a metrics scraper".to_string(),
    };
    let needs = match role {
        Role::Agent => "an agent's token",
        Role::Approver => "an approver's token",
        Role::Review => "an approver's or an admin token",
        Role::Admin => "an admin token",
        Role::Party => "an agent's, an approver's or an admin token",
        Role::Metrics => "an admin or a metrics token",
        Role::Any => "a token",
    };
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::ServerForbidden,
        format!("the token is {who}'s; this endpoint needs {needs}"),
        format!("call it with {needs}"),
    )
}

/// The `agent.id` an envelope names, read without binding it.
#[derive(Deserialize)]
struct AgentOnly {
    agent: Option<AgentId>,
}

#[derive(Deserialize)]
struct AgentId {
    id: Option<String>,
}

/// Refuses an envelope an agent's token sends for another agent (or for
/// none: an envelope the server cannot attribute is not decided for it).
pub fn check_agent(caller: &Caller, envelope: &[u8]) -> Result<(), ApiError> {
    let Caller::Agent(expected) = caller else {
        return Ok(());
    };
    let named = serde_json::from_slice::<AgentOnly>(envelope)
        .ok()
        .and_then(|e| e.agent)
        .and_then(|a| a.id);
    match named {
        Some(id) if id == *expected => Ok(()),
        Some(id) => Err(mismatch(format!(
            "the envelope is for agent `{id}`, and the token is agent `{expected}`'s"
        ))),
        None => Err(mismatch(format!(
            "the envelope names no `agent.id`, and the token is agent `{expected}`'s"
        ))),
    }
}

/// Refuses an agent's token a reservation or approval of a decision made
/// for another agent; `owner` is the agent the decision was made for
/// (`None`: an envelope that named no agent).
pub fn check_owner(caller: &Caller, what: &str, owner: Option<&str>) -> Result<(), ApiError> {
    let Caller::Agent(me) = caller else {
        return Ok(());
    };
    if owner == Some(me.as_str()) {
        return Ok(());
    }
    let whose = owner.map_or_else(
        || "no agent's".to_string(),
        |other| format!("agent `{other}`'s"),
    );
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::ServerNotOwner,
        format!("{what} belongs to {whose} decision, and the token is agent `{me}`'s"),
        "an agent commits, releases and reads only what its own decisions hold",
    ))
}

fn mismatch(message: String) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::ServerAgentMismatch,
        message,
        "an agent decides only for itself: send the envelope with its own token",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        h
    }

    fn tokens() -> Tokens {
        Tokens::from_toml(&format!(
            "[[token]]\nsha256 = \"{}\"\nagent = \"bot-a\"\n\n[[token]]\nsha256 = \"{}\"\napprover = \"lead\"\n",
            token_hash("secret-a"),
            token_hash("secret-l")
        ))
        .unwrap()
    }

    #[test]
    fn tokens_map_to_their_callers_by_hash() {
        let t = tokens();
        assert_eq!(
            t.caller(&headers("secret-a")).unwrap(),
            Caller::Agent("bot-a".into())
        );
        assert_eq!(
            t.caller(&headers("secret-l")).unwrap(),
            Caller::Approver("lead".into())
        );
        let unknown = t.caller(&headers("secret-b")).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::ServerUnauthenticated);
        let none = t.caller(&HeaderMap::new()).unwrap_err();
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn an_agent_token_cannot_take_an_approvers_role() {
        let err = tokens()
            .require(&headers("secret-a"), Role::Approver)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ServerForbidden);
        assert!(tokens()
            .require(&headers("secret-l"), Role::Approver)
            .is_ok());
    }

    #[test]
    fn an_envelope_for_another_agent_is_refused() {
        let a = Caller::Agent("bot-a".into());
        assert!(check_agent(&a, br#"{"agent": {"id": "bot-a"}, "x": 1}"#).is_ok());
        let err = check_agent(&a, br#"{"agent": {"id": "bot-b"}}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::ServerAgentMismatch);
        assert!(err.message.contains("`bot-b`"));
        assert!(check_agent(&a, b"not json").is_err());
        assert!(check_agent(&Caller::Open, br#"{"agent": {"id": "bot-b"}}"#).is_ok());
    }

    #[test]
    fn a_bad_tokens_file_is_refused_with_the_entry_named() {
        let short = Tokens::from_toml("[[token]]\nsha256 = \"abc\"\nagent = \"x\"\n").unwrap_err();
        assert!(short.contains("token 1"), "{short}");
        let two_roles = Tokens::from_toml(&format!(
            "[[token]]\nsha256 = \"{}\"\nagent = \"x\"\nadmin = true\n",
            token_hash("t")
        ))
        .unwrap_err();
        assert!(two_roles.contains("exactly one"), "{two_roles}");
        let twice = Tokens::from_toml(&format!(
            "[[token]]\nsha256 = \"{h}\"\nagent = \"x\"\n[[token]]\nsha256 = \"{h}\"\nagent = \"y\"\n",
            h = token_hash("t")
        ))
        .unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
        assert!(Tokens::from_toml("").is_err());
    }
}
