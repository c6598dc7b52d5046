//! What can go wrong with a store, each with a stable code
//! ([`ErrorCode`], family `actpol::store`) and a help line.

use std::error::Error;

use actpol_core::ErrorCode;

type Source = Box<dyn Error + Send + Sync + 'static>;

/// Why a store operation failed. The decision itself never fails this way
/// silently: the caller gets the error, and nothing was reserved or logged.
/// A store error with an underlying cause (the database's, the file
/// system's, the JSON reader's) keeps it as its `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be opened or created.
    #[error("cannot open the store at `{path}`")]
    Open {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: Source,
    },

    /// The file is not an actpol store: it is never touched.
    #[error("`{path}` is not an actpol store")]
    NotAStore {
        /// Where.
        path: String,
    },

    /// The store was written by a newer build.
    #[error("the store at `{path}` has schema version {found}; this build reads up to version {supported}")]
    NewerSchema {
        /// Where.
        path: String,
        /// The store's schema version.
        found: i64,
        /// The newest this build reads.
        supported: i64,
    },

    /// The database beneath the store failed.
    #[error("the store failed while trying to {doing}")]
    Backend {
        /// What the store was doing.
        doing: &'static str,
        /// The database's error.
        #[source]
        source: Source,
    },

    /// No reservation has this id.
    #[error("no reservation `{0}`")]
    UnknownReservation(String),

    /// The reservation was held past its time and released itself.
    #[error("reservation `{id}` expired at {expires} and was released")]
    ReservationExpired {
        /// `res-…`.
        id: String,
        /// When it expired (RFC 3339).
        expires: String,
    },

    /// The reservation was released.
    #[error("reservation `{0}` was released; its action can no longer be committed")]
    ReservationReleased(String),

    /// No approval has this id.
    #[error("no approval `{0}`")]
    UnknownApproval(String),

    /// Someone other than the approval's approver decided it.
    #[error("approval `{id}` is for `{approver}`, not `{by}`")]
    WrongApprover {
        /// `apr-…`.
        id: String,
        /// The approver the escalation named.
        approver: String,
        /// Who tried.
        by: String,
    },

    /// The approval was already decided, used, or expired.
    #[error("approval `{id}` is {status}, not pending")]
    ApprovalClosed {
        /// `apr-…`.
        id: String,
        /// Where it stands.
        status: String,
    },

    /// No decision has this id.
    #[error("no decision `{0}`")]
    UnknownDecision(String),

    /// The decision did not escalate.
    #[error("decision `{0}` did not escalate: it has no packet")]
    NoPacket(String),

    /// A stored record does not read.
    #[error("log record {seq} cannot be read: {reason}")]
    Corrupt {
        /// Its position in the log.
        seq: u64,
        /// What does not read.
        reason: String,
        /// The reader's error, if one.
        #[source]
        source: Option<Source>,
    },
}

impl StoreError {
    /// The stable code, of the family `actpol::store`.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Open { .. } => ErrorCode::StoreOpen,
            StoreError::NotAStore { .. } => ErrorCode::StoreNotAStore,
            StoreError::NewerSchema { .. } => ErrorCode::StoreNewerSchema,
            StoreError::Backend { .. } => ErrorCode::StoreBackend,
            StoreError::UnknownReservation(_) => ErrorCode::StoreUnknownReservation,
            StoreError::ReservationExpired { .. } => ErrorCode::StoreReservationExpired,
            StoreError::ReservationReleased(_) => ErrorCode::StoreReservationReleased,
            StoreError::UnknownApproval(_) => ErrorCode::StoreUnknownApproval,
            StoreError::WrongApprover { .. } => ErrorCode::StoreWrongApprover,
            StoreError::ApprovalClosed { .. } => ErrorCode::StoreApprovalClosed,
            StoreError::UnknownDecision(_) => ErrorCode::StoreUnknownDecision,
            StoreError::NoPacket(_) => ErrorCode::StoreNoPacket,
            StoreError::Corrupt { .. } => ErrorCode::StoreCorrupt,
        }
    }

    /// Whether retrying the same operation may succeed: the database was
    /// busy or failed, not the request.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Backend { .. })
    }

    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            StoreError::Open { .. } => {
                "check the path and that this user may read and write it".into()
            }
            StoreError::NotAStore { .. } => {
                "give the path of an actpol store, or a new file name to create one".into()
            }
            StoreError::NewerSchema { .. } => {
                "open it with the newer actpol that wrote it; stores are never downgraded".into()
            }
            StoreError::Backend { .. } => {
                "the decision was not recorded and nothing was reserved: retry it".into()
            }
            StoreError::UnknownReservation(_) => {
                "use an id from a decision's `reservations` list (`res-…`)".into()
            }
            StoreError::ReservationExpired { .. } => {
                "decide again: a reservation holds for the policy's `reservation_ttl`".into()
            }
            StoreError::ReservationReleased(_) => "decide again to reserve anew".into(),
            StoreError::UnknownApproval(_) => {
                "use the id from the escalated decision's `approval` (`apr-…`)".into()
            }
            StoreError::WrongApprover { approver, .. } => {
                format!("only `{approver}` can decide this approval")
            }
            StoreError::ApprovalClosed { .. } => {
                "an approval is decided once; a new escalation creates a new one".into()
            }
            StoreError::UnknownDecision(_) => {
                "use an id from a decision's `id` (`dec-…`), or list them with `actpol audit log`"
                    .into()
            }
            StoreError::NoPacket(_) => "only escalated decisions carry a packet".into(),
            StoreError::Corrupt { .. } => {
                "run `actpol audit verify`: the log may have been edited".into()
            }
        }
    }

    /// The database failed while the store was doing `doing`.
    pub fn backend(doing: &'static str, source: impl Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend {
            doing,
            source: Box::new(source),
        }
    }

    /// A stored record that does not read.
    pub(crate) fn corrupt(seq: i64, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            seq: u64::try_from(seq).unwrap_or(0),
            reason: reason.into(),
            source: None,
        }
    }
}

/// A database error met while reading or writing the store.
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::backend("read or write the store", err)
    }
}

impl miette::Diagnostic for StoreError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(StoreError::help(self)))
    }
}
