//! The codes of every runtime error, and the errors of evaluation.
//!
//! A runtime error is one met after a policy compiled: an artifact that
//! does not load, a policy file that cannot be read, an envelope that does
//! not fit, an evaluation that fails, a state view that cannot answer.
//! Each carries an [`ErrorCode`]; this module is the one place that writes
//! a code's text (`actpol::eval::absent`), and a test holds every other
//! file to it. Hosts match on the enum — a server mapping errors to HTTP
//! statuses, a store deciding what to retry — and decisions write its text.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::state::StateError;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// The stable code of a runtime error. Its text form
        /// ([`ErrorCode::as_str`]) is what decisions and diagnostics show;
        /// it never changes meaning once released.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of their families.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as text: `actpol::<family>::<kind>`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }
        }
    };
}

error_codes! {
    // The envelope does not fit the contract or the policy's schema. Every
    // one of these names a JSON path.
    /// The bytes are not one JSON object.
    EnvelopeMalformedJson => "actpol::envelope::malformed_json",
    /// A required envelope field, parameter, attribute or context field is missing.
    EnvelopeMissingField => "actpol::envelope::missing_field",
    /// A field the envelope contract does not have.
    EnvelopeUnknownField => "actpol::envelope::unknown_field",
    /// A value of the wrong JSON type.
    EnvelopeWrongType => "actpol::envelope::wrong_type",
    /// An action the schema does not declare.
    EnvelopeUnknownAction => "actpol::envelope::unknown_action",
    /// An object of another type than the action acts on.
    EnvelopeObjectType => "actpol::envelope::object_type",
    /// A value of the right JSON type that does not read: a timestamp, a
    /// duration, a confidence outside 0..1.
    EnvelopeBadValue => "actpol::envelope::bad_value",
    /// A parameter the action does not declare.
    EnvelopeUnknownParam => "actpol::envelope::unknown_param",
    /// An attribute the object's entity does not declare.
    EnvelopeUnknownAttribute => "actpol::envelope::unknown_attribute",
    /// A context field the schema does not declare.
    EnvelopeUnknownContext => "actpol::envelope::unknown_context",
    /// An amount of money in another currency.
    EnvelopeCurrency => "actpol::envelope::currency",
    /// A string that is not a variant of the field's enum.
    EnvelopeUnknownVariant => "actpol::envelope::unknown_variant",
    /// A list or set with more elements than an envelope may carry.
    EnvelopeTooLong => "actpol::envelope::too_long",
    /// An envelope bound against another policy's schema.
    EnvelopeForeign => "actpol::envelope::foreign",
    /// An envelope whose `time` is further from the host's clock than the
    /// policy's maximum skew.
    EnvelopeClockSkew => "actpol::envelope::clock_skew",
    /// An envelope of more bytes than the limit allows.
    EnvelopeTooLarge => "actpol::envelope::too_large",
    /// A string (a key or a value) longer than the limit allows.
    EnvelopeStringTooLong => "actpol::envelope::string_too_long",
    /// Objects and arrays nested deeper than the limit allows.
    EnvelopeTooDeep => "actpol::envelope::too_deep",
    /// An object of more keys than the limit allows.
    EnvelopeTooManyKeys => "actpol::envelope::too_many_keys",
    /// A key given twice in one object: readers disagree on which counts.
    EnvelopeDuplicateKey => "actpol::envelope::duplicate_key",
    /// A control character (such as NUL) in a string that is not free text.
    EnvelopeControlCharacter => "actpol::envelope::control_character",
    /// A number outside the bounds its declaration states.
    EnvelopeOutOfRange => "actpol::envelope::out_of_range",
    /// A related entity of a type the schema does not declare.
    EnvelopeUnknownEntity => "actpol::envelope::unknown_entity",
    /// Two related entities (or one and the object) of one type and id.
    EnvelopeDuplicateEntity => "actpol::envelope::duplicate_entity",

    // Evaluation failed: the rule that failed contributes the policy's
    // `on_error` outcome, never `allow`.
    /// An optional part of the envelope was read where it is absent.
    EvalAbsent => "actpol::eval::absent",
    /// Operands of the wrong types (a program the checker did not make).
    EvalType => "actpol::eval::type",
    /// Arithmetic went past what an integer or a decimal holds.
    EvalOverflow => "actpol::eval::overflow",
    /// A division by zero.
    EvalDivisionByZero => "actpol::eval::division_by_zero",
    /// A rule would consume a negative amount from a budget.
    EvalNegativeConsume => "actpol::eval::negative_consume",
    /// A budget or window kept per plan, and an envelope without a plan.
    EvalNoPlan => "actpol::eval::no_plan",
    /// The decision ran out of fuel.
    EvalFuel => "actpol::eval::fuel",
    /// Bytecode that breaks an invariant the verifier should have held.
    EvalInvalidProgram => "actpol::eval::invalid_program",
    /// A policy that refers to something it does not declare.
    EvalMalformed => "actpol::eval::malformed",
    /// A raise the program does not have.
    EvalBadRaise => "actpol::eval::bad_raise",
    /// A budget the program does not have.
    EvalBadBudget => "actpol::eval::bad_budget",

    // The state view (budgets and windows) failed.
    /// The state view could not answer.
    StateUnavailable => "actpol::state::unavailable",
    /// The state view answered an amount the budget or window cannot hold.
    StateOutOfRange => "actpol::state::out_of_range",
    /// A state file that does not read.
    StateInvalid => "actpol::state::invalid",

    // A compiled artifact does not load.
    /// Shorter than its header.
    ArtifactTruncated => "actpol::artifact::truncated",
    /// Not an actpol artifact.
    ArtifactMagic => "actpol::artifact::magic",
    /// Written in a format version this build does not read.
    ArtifactVersion => "actpol::artifact::version",
    /// Reserved header bytes are set.
    ArtifactReserved => "actpol::artifact::reserved",
    /// The payload length differs from the header's.
    ArtifactLength => "actpol::artifact::length",
    /// The checksum does not match.
    ArtifactChecksum => "actpol::artifact::checksum",
    /// The payload does not decode.
    ArtifactDecode => "actpol::artifact::decode",
    /// The artifact could not be written.
    ArtifactEncode => "actpol::artifact::encode",
    /// The program fails verification.
    ArtifactVerify => "actpol::artifact::verify",
    /// A signature is required and the artifact (or policy source) has none.
    ArtifactUnsigned => "actpol::artifact::unsigned",
    /// The signature is not the required key's over these bytes.
    ArtifactBadSignature => "actpol::artifact::bad_signature",
    /// A signing or verifying key file that does not read.
    ArtifactKey => "actpol::artifact::key",

    // Policy files cannot be read.
    /// A path that cannot be read.
    LoadUnreadable => "actpol::load::unreadable",
    /// A directory without policy files.
    LoadEmpty => "actpol::load::empty",
    /// A policy file larger than a policy file may be.
    LoadTooLarge => "actpol::load::too_large",
    /// A directory holding more policy files than a load reads.
    LoadTooManyFiles => "actpol::load::too_many_files",
    /// A directory nested deeper than a load walks.
    LoadTooDeep => "actpol::load::too_deep",
    /// An import written as an absolute path.
    LoadImportAbsolute => "actpol::load::import_absolute",
    /// An import that leads outside the policy's root directory.
    LoadImportOutsideRoot => "actpol::load::import_outside_root",
    /// An import of something that is not a policy file (not a regular
    /// `.actpol` file of UTF-8 text).
    LoadImportNotPolicy => "actpol::load::import_not_policy",

    // A store (budgets, reservations, approvals, the decision log) failed
    // or refused an operation. A decision that meets one of these was not
    // recorded, and nothing was reserved.
    /// The store cannot be opened.
    StoreOpen => "actpol::store::open",
    /// The file is not an actpol store.
    StoreNotAStore => "actpol::store::not_a_store",
    /// The store was written by a newer build.
    StoreNewerSchema => "actpol::store::newer_schema",
    /// The database beneath the store failed.
    StoreBackend => "actpol::store::backend",
    /// No reservation has this id.
    StoreUnknownReservation => "actpol::store::unknown_reservation",
    /// The reservation was held past its time and released itself.
    StoreReservationExpired => "actpol::store::reservation_expired",
    /// The reservation was released; it can no longer be committed.
    StoreReservationReleased => "actpol::store::reservation_released",
    /// No approval has this id.
    StoreUnknownApproval => "actpol::store::unknown_approval",
    /// The approval names another approver.
    StoreWrongApprover => "actpol::store::wrong_approver",
    /// The approval was already decided, used or expired.
    StoreApprovalClosed => "actpol::store::approval_closed",
    /// No decision has this id.
    StoreUnknownDecision => "actpol::store::unknown_decision",
    /// The decision did not escalate, so it has no packet.
    StoreNoPacket => "actpol::store::no_packet",
    /// A stored record does not read.
    StoreCorrupt => "actpol::store::corrupt",

    // A plan document does not hold together. Every one of these names a
    // JSON path into the plan; a node whose envelope does not fit the
    // schema keeps its envelope code, with the path into the plan.
    /// The bytes are not a JSON plan: not JSON, or a field missing or of
    /// the wrong type.
    PlanMalformed => "actpol::plan::malformed",
    /// A plan without nodes.
    PlanEmpty => "actpol::plan::empty",
    /// Two nodes share an id.
    PlanDuplicateNode => "actpol::plan::duplicate_node",
    /// A written node's id holds `~`, which joins the ids of implied nodes
    /// (`send-1~crm.log_activity`): it could be one of theirs.
    PlanImpliedId => "actpol::plan::implied_id",
    /// An edge names a node the plan does not have.
    PlanDanglingEdge => "actpol::plan::dangling_edge",
    /// The edges make a cycle: a plan is a DAG.
    PlanCycle => "actpol::plan::cycle",
    /// A node carries a field the plan shares (`agent`, `plan`) or one the
    /// envelope contract does not have.
    PlanNodeField => "actpol::plan::node_field",
    /// A plan with more nodes, edges or implied effects than it may hold.
    PlanTooLarge => "actpol::plan::too_large",

    // The decision server refused a request before deciding it, or failed
    // to answer it. A request refused this way was not decided or recorded.
    /// The request is not what the endpoint reads: a body that is not
    /// JSON of the expected shape, a bad query parameter.
    ServerBadRequest => "actpol::server::bad_request",
    /// The request carries no bearer token, or one the server does not know.
    ServerUnauthenticated => "actpol::server::unauthenticated",
    /// The caller's token does not allow this endpoint (an agent's token on
    /// an approver's endpoint).
    ServerForbidden => "actpol::server::forbidden",
    /// An agent's token sent an envelope for another agent.
    ServerAgentMismatch => "actpol::server::agent_mismatch",
    /// An agent's token named a reservation or approval of another agent's
    /// decision.
    ServerNotOwner => "actpol::server::not_owner",
    /// The request body is larger than the server accepts.
    ServerBodyTooLarge => "actpol::server::body_too_large",
    /// The request took longer than the server's per-request timeout.
    ServerTimeout => "actpol::server::timeout",
    /// The server is at its limit of requests in flight, or shutting down.
    ServerOverloaded => "actpol::server::overloaded",
    /// No endpoint at this path.
    ServerNotFound => "actpol::server::not_found",
    /// The endpoint does not take this method.
    ServerMethodNotAllowed => "actpol::server::method_not_allowed",
    /// A shadow endpoint was asked of a server that runs no shadow policy.
    ServerNoShadow => "actpol::server::no_shadow",
    /// A new policy did not compile or load; the old one keeps serving.
    ServerPolicyRefused => "actpol::server::policy_refused",
    /// The server failed inside; the request was not decided.
    ServerInternal => "actpol::server::internal",
}

/// What a runtime error is about: the part of a code after `actpol::`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorFamily {
    /// The envelope does not fit the contract or the schema.
    Envelope,
    /// Evaluating the policy failed.
    Eval,
    /// The state view failed, or a state file does not read.
    State,
    /// A compiled artifact does not load.
    Artifact,
    /// Policy files cannot be read.
    Load,
    /// A store failed or refused an operation.
    Store,
    /// A plan document does not hold together.
    Plan,
    /// The decision server refused or failed a request.
    Server,
}

impl ErrorCode {
    /// The family the code belongs to.
    pub fn family(self) -> ErrorFamily {
        match self.as_str().split("::").nth(1) {
            Some("envelope") => ErrorFamily::Envelope,
            Some("eval") => ErrorFamily::Eval,
            Some("state") => ErrorFamily::State,
            Some("artifact") => ErrorFamily::Artifact,
            Some("store") => ErrorFamily::Store,
            Some("plan") => ErrorFamily::Plan,
            Some("server") => ErrorFamily::Server,
            // INVARIANT: every code above is in one of these eight families
            // (a test reads them all).
            _ => ErrorFamily::Load,
        }
    }

    /// The code written `text`, if there is one.
    pub fn from_text(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ErrorCode::from_text(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code `{text}`")))
    }
}

/// An error met while evaluating a rule, a raise, a scope predicate or a
/// budget, reported in the decision with its [`code`](EvalError::code).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// An optional part of the envelope (named as policies write it:
    /// `params.note`, `rollback.within`) was read where it is absent.
    #[error("`{0}` is absent from the envelope")]
    Absent(String),
    /// Operands of the wrong types.
    #[error("{0}")]
    Type(String),
    /// Arithmetic past what a number holds.
    #[error("{0}")]
    Overflow(String),
    /// A division by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// A rule would consume a negative amount.
    #[error("rule would consume {amount} from budget `{budget}`: amounts must not be negative")]
    NegativeConsume {
        /// The budget's name.
        budget: Box<str>,
        /// The amount, normalised.
        amount: Decimal,
    },
    /// A per-plan key, and an envelope without a plan.
    #[error("a budget or window is kept per plan, and the envelope has no `plan`")]
    NoPlan,
    /// The decision ran out of fuel.
    #[error("the decision ran out of fuel")]
    Fuel,
    /// Bytecode that breaks an invariant the verifier should have held.
    #[error("{0}")]
    InvalidProgram(String),
    /// A policy that refers to something it does not declare.
    #[error("{0}")]
    Malformed(String),
    /// A raise out of range.
    #[error("raise index out of range")]
    BadRaise,
    /// A budget out of range.
    #[error("budget index out of range")]
    BadBudget,
    /// The state view failed; the message is the state error's. (Boxed:
    /// evaluation results travel through every instruction, and this is
    /// their largest error.)
    #[error("{0}")]
    State(#[source] Box<StateError>),
    /// The state view returned an amount the budget or window cannot hold.
    #[error("the state view returned {0}, which is not a valid amount")]
    OutOfRange(Decimal),
}

// Every instruction's result carries this error type: keep it no larger
// than the value it is returned beside needs.
const _: () = assert!(std::mem::size_of::<EvalError>() <= 40);

impl EvalError {
    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            EvalError::Absent(_) => ErrorCode::EvalAbsent,
            EvalError::Type(_) => ErrorCode::EvalType,
            EvalError::Overflow(_) => ErrorCode::EvalOverflow,
            EvalError::DivisionByZero => ErrorCode::EvalDivisionByZero,
            EvalError::NegativeConsume { .. } => ErrorCode::EvalNegativeConsume,
            EvalError::NoPlan => ErrorCode::EvalNoPlan,
            EvalError::Fuel => ErrorCode::EvalFuel,
            EvalError::InvalidProgram(_) => ErrorCode::EvalInvalidProgram,
            EvalError::Malformed(_) => ErrorCode::EvalMalformed,
            EvalError::BadRaise => ErrorCode::EvalBadRaise,
            EvalError::BadBudget => ErrorCode::EvalBadBudget,
            EvalError::State(e) => e.code(),
            EvalError::OutOfRange(_) => ErrorCode::StateOutOfRange,
        }
    }

    /// An optional part of the envelope was read where it is absent.
    pub fn absent(what: impl Into<String>) -> Self {
        EvalError::Absent(what.into())
    }
}

impl From<StateError> for EvalError {
    fn from(err: StateError) -> Self {
        EvalError::State(Box::new(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_read_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(ErrorCode::from_text(code.as_str()), Some(*code));
            let family = code.as_str().split("::").nth(1).unwrap_or_default();
            let expected = match family {
                "envelope" => ErrorFamily::Envelope,
                "eval" => ErrorFamily::Eval,
                "state" => ErrorFamily::State,
                "artifact" => ErrorFamily::Artifact,
                "load" => ErrorFamily::Load,
                "store" => ErrorFamily::Store,
                "plan" => ErrorFamily::Plan,
                "server" => ErrorFamily::Server,
                other => panic!("{code}: no family `{other}`"),
            };
            assert_eq!(code.family(), expected, "{code}");
        }
        assert_eq!(ErrorCode::from_text("actpol::eval::nothing"), None);
    }

    #[test]
    fn codes_serialise_as_their_text() {
        let json = serde_json::to_string(&ErrorCode::EvalAbsent).unwrap();
        assert_eq!(json, format!("\"{}\"", ErrorCode::EvalAbsent.as_str()));
        let back: ErrorCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ErrorCode::EvalAbsent);
        assert!(serde_json::from_str::<ErrorCode>("\"actpol::eval::nothing\"").is_err());
    }

    #[test]
    fn a_state_failure_keeps_its_cause() {
        use std::error::Error as _;
        let err = EvalError::from(StateError::unavailable("the store is down"));
        assert_eq!(err.code(), ErrorCode::StateUnavailable);
        assert_eq!(err.to_string(), "the store is down");
        assert!(err.source().is_some());
    }
}
