//! Errors as the API sends them: a status and a JSON body with a stable
//! code (an [`ErrorCode`]), a lowercase message with the caller's input in
//! backticks, and a help line.

use actpol::store::StoreError;
use actpol::ErrorCode;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A refused or failed request. Its body is
/// `{"error": {"code": …, "message": …, "help": …}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub help: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
pub(crate) struct Inner<'a> {
    code: ErrorCode,
    message: &'a str,
    help: &'a str,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            help: help.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>, help: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ServerBadRequest,
            message,
            help,
        )
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServerInternal,
            message,
            "the request was not decided or recorded: retry it, and report this if it persists",
        )
    }

    /// The error as an element of a batch's answer: `{"error": {…}}`.
    pub(crate) fn to_value(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.inner() })
    }

    pub(crate) fn inner(&self) -> Inner<'_> {
        Inner {
            code: self.code,
            message: &self.message,
            help: &self.help,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: self.inner(),
        })
        .unwrap_or_default();
        let mut response = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        // Read by the metrics layer: errors are counted by code.
        response.extensions_mut().insert(self.code);
        response
    }
}

/// The status a store's refusal or failure answers with.
fn store_status(err: &StoreError) -> StatusCode {
    match err.code() {
        ErrorCode::StoreUnknownReservation
        | ErrorCode::StoreUnknownApproval
        | ErrorCode::StoreUnknownDecision => StatusCode::NOT_FOUND,
        ErrorCode::StoreReservationExpired
        | ErrorCode::StoreReservationReleased
        | ErrorCode::StoreApprovalClosed
        | ErrorCode::StoreNoPacket => StatusCode::CONFLICT,
        ErrorCode::StoreWrongApprover => StatusCode::FORBIDDEN,
        // Busy or failing: the caller may retry.
        ErrorCode::StoreBackend => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError {
            status: store_status(&err),
            code: err.code(),
            message: err.to_string(),
            help: err.help(),
        }
    }
}

/// The 404 of a path no endpoint serves.
pub(crate) fn not_found(path: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::ServerNotFound,
        format!("no endpoint at `{path}`"),
        "the API is under `/v1/`; see `docs/server.md`",
    )
}

/// The 405 of a method an endpoint does not take.
pub(crate) fn method_not_allowed(method: &str, path: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::ServerMethodNotAllowed,
        format!("`{path}` does not take `{method}`"),
        "see `docs/server.md` for the methods each endpoint takes",
    )
}
