//! The API: versioned JSON endpoints under `/v1/`, `/healthz` and
//! `/metrics`, with the limits every request goes through.

use std::sync::Arc;
use std::time::Instant;

use actpol::store::{system_now, ApprovalStatus, LogEntry, Store};
use actpol::ErrorCode;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use bytes::Bytes;
use serde::Deserialize;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;

use crate::auth::{check_agent, check_owner, Caller, Role, Tokens};
use crate::batch::{Batcher, Decided, GroupResult};
use crate::error::{method_not_allowed, not_found, ApiError};
use crate::metrics::Metrics;
use crate::policy::{Loaded, Served};
use crate::serve::Limits;
use crate::shadow::Shadow;

/// Every route the router serves, as `(method, path)`: the OpenAPI
/// document is checked against this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/decide"),
    ("POST", "/v1/decide/batch"),
    ("POST", "/v1/plan"),
    ("GET", "/v1/reservations/{id}"),
    ("POST", "/v1/reservations/{id}/commit"),
    ("POST", "/v1/reservations/{id}/release"),
    ("GET", "/v1/approvals"),
    ("GET", "/v1/approvals/{id}"),
    ("POST", "/v1/approvals/{id}/approve"),
    ("POST", "/v1/approvals/{id}/reject"),
    ("GET", "/v1/decisions/{id}"),
    ("GET", "/v1/decisions/{id}/packet"),
    ("GET", "/v1/audit/verify"),
    ("GET", "/v1/policy"),
    ("POST", "/v1/policy/reload"),
    ("GET", "/v1/shadow/flips"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
];

/// The most envelopes one batch request may carry.
pub const MAX_BATCH: usize = 1024;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Parts>,
}

/// What a new [`AppState`] is made of.
#[derive(Debug)]
pub struct Parts {
    pub served: Arc<Served>,
    pub store: Arc<dyn Store>,
    pub batcher: Batcher,
    pub metrics: Arc<Metrics>,
    pub tokens: Tokens,
    pub shadow: Option<Arc<Shadow>>,
}

impl AppState {
    pub fn new(parts: Parts) -> AppState {
        AppState {
            inner: Arc::new(parts),
        }
    }

    pub fn served(&self) -> &Arc<Served> {
        &self.inner.served
    }

    /// The candidate policy deciding in shadow, if any.
    pub fn shadow(&self) -> Option<&Arc<Shadow>> {
        self.inner.shadow.as_ref()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    fn require(&self, headers: &HeaderMap, role: Role) -> Result<Caller, ApiError> {
        self.inner.tokens.require(headers, role)
    }

    /// For an agent's token, refuses a reservation or approval that is not
    /// held by one of that agent's decisions; other callers pass.
    async fn check_owner(&self, caller: &Caller, held: Held, id: &str) -> Result<(), ApiError> {
        if !matches!(caller, Caller::Agent(_)) {
            return Ok(());
        }
        let key = id.to_string();
        let owner = self
            .store(move |s| {
                let now = system_now();
                let decision = match held {
                    Held::Reservation => s.reservation(&key, now)?.decision,
                    Held::Approval => s.approval(&key, now)?.decision,
                };
                Ok(decision_agent(&s.decision(&decision)?))
            })
            .await?;
        let what = match held {
            Held::Reservation => format!("reservation `{id}`"),
            Held::Approval => format!("approval `{id}`"),
        };
        check_owner(caller, &what, owner.as_deref())
    }

    /// Runs a blocking store call off the async threads.
    async fn store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, actpol::store::StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = Arc::clone(&self.inner.store);
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(|_| ApiError::internal("the store call failed inside the server"))?
            .map_err(ApiError::from)
    }
}

/// What a decision holds that an agent may ask for by id.
#[derive(Clone, Copy)]
enum Held {
    Reservation,
    Approval,
}

/// The agent a logged decision was made for, as its envelope named it.
fn decision_agent(entry: &LogEntry) -> Option<String> {
    entry.record["envelope"]["agent"]["id"]
        .as_str()
        .map(str::to_string)
}

/// The API with its limits: body size, per-request timeout, requests in
/// flight; a panic in a handler answers 500 and the server goes on.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let api = Router::new()
        .route("/v1/decide", post(decide))
        .route("/v1/decide/batch", post(decide_batch))
        .route("/v1/plan", post(plan))
        .route("/v1/reservations/{id}", get(reservation))
        .route("/v1/reservations/{id}/commit", post(commit))
        .route("/v1/reservations/{id}/release", post(release))
        .route("/v1/approvals", get(approvals))
        .route("/v1/approvals/{id}", get(approval))
        .route("/v1/approvals/{id}/approve", post(approve))
        .route("/v1/approvals/{id}/reject", post(reject))
        .route("/v1/decisions/{id}", get(decision))
        .route("/v1/decisions/{id}/packet", get(packet))
        .route("/v1/audit/verify", get(verify))
        .route("/v1/policy", get(policy))
        .route("/v1/policy/reload", post(reload))
        .route("/v1/shadow/flips", get(shadow_flips))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(fallback)
        .method_not_allowed_fallback(wrong_method);
    api.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(state.clone(), count_errors))
            .layer(HandleErrorLayer::new(limit_error))
            // Over the limit, a request is answered 503 at once rather
            // than queued: a client retries after `Retry-After`, and an
            // overloaded server does not hold an unbounded queue.
            .load_shed()
            .layer(GlobalConcurrencyLimitLayer::new(limits.concurrency))
            .timeout(limits.timeout)
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
            .layer(DefaultBodyLimit::max(limits.max_body)),
    )
    .with_state(state)
}

async fn fallback(uri: Uri) -> ApiError {
    not_found(uri.path())
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    method_not_allowed(method.as_str(), uri.path())
}

/// Counts every error answered, by its code.
async fn count_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(code) = response.extensions().get::<ErrorCode>() {
        state.metrics().error(*code);
    }
    response
}

/// How long a client is asked to wait before retrying a 503, in seconds.
const RETRY_AFTER: &str = "1";

async fn limit_error(err: BoxError) -> Response {
    let mut response = limit_refusal(&err).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
    response
}

fn limit_refusal(err: &BoxError) -> ApiError {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerTimeout,
            "the request took longer than the server's timeout",
            "retry it; a decision that timed out may still have been recorded: look it up before acting",
        )
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerOverloaded,
            "the server is handling as many requests as it takes at once",
            "retry it after the `Retry-After` seconds; nothing was decided or recorded",
        )
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerOverloaded,
            format!("the server cannot take the request: {err}"),
            "retry it after a moment",
        )
    }
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("the server failed while answering the request").into_response()
}

/// A body read whole, within the body limit.
fn body(read: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    read.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::ServerBodyTooLarge,
                "the request body is larger than the server accepts",
                "send one envelope per decide request, or fewer in a batch (`--max-body`)",
            )
        } else {
            ApiError::bad_request(
                format!("the request body cannot be read: {}", rejection.body_text()),
                "send the body whole, as JSON",
            )
        }
    })
}

fn json_response(status: StatusCode, text: String) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn json<T: serde::Serialize>(value: &T) -> Result<Response, ApiError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ApiError::internal(format!("cannot write the answer: {e}")))?;
    Ok(json_response(StatusCode::OK, text))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideQuery {
    #[serde(default)]
    explain: bool,
}

fn query<T>(
    read: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    read.map(|Query(q)| q).map_err(|rejection| {
        ApiError::bad_request(
            format!("the query does not read: {}", rejection.body_text()),
            "see `docs/server.md` for the parameters each endpoint takes",
        )
    })
}

/// The header naming the policy that decided.
const POLICY_HASH: &str = "x-actpol-policy-hash";

fn with_policy(mut response: Response, loaded: &Loaded) -> Response {
    if let Ok(value) = HeaderValue::from_str(loaded.policy.hash()) {
        response.headers_mut().insert(POLICY_HASH, value);
    }
    response
}

/// Decides envelopes on the policy serving when the request started.
async fn decide_on(
    state: &AppState,
    envelopes: Vec<Bytes>,
    explain: bool,
) -> (Arc<Loaded>, GroupResult) {
    let loaded = state.served().current();
    let shadow = state.shadow().map(|s| s.served().current());
    let started = Instant::now();
    let count = envelopes.len();
    let result = state
        .inner
        .batcher
        .decide(Arc::clone(&loaded), shadow, envelopes, explain)
        .await;
    let took = started.elapsed();
    if let Ok(results) = &result {
        if results.len() != count {
            return (
                loaded,
                Err(ApiError::internal(
                    "the store answered a different number of decisions",
                )),
            );
        }
        let metrics = state.metrics();
        for decided in results.iter().flatten() {
            metrics.decision(decided.level);
        }
        metrics.latency(took);
    }
    (loaded, result)
}

async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<DecideQuery>, axum::extract::rejection::QueryRejection>,
    read: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Agent)?;
    let params = query(params)?;
    let envelope = body(read)?;
    check_agent(&caller, &envelope)?;
    let (loaded, result) = decide_on(&state, vec![envelope], params.explain).await;
    let decided = result?
        .pop()
        .ok_or_else(|| ApiError::internal("the store answered no decision"))??;
    Ok(with_policy(
        json_response(StatusCode::OK, decided.json),
        &loaded,
    ))
}

async fn decide_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<DecideQuery>, axum::extract::rejection::QueryRejection>,
    read: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Agent)?;
    let params = query(params)?;
    let bytes = body(read)?;
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            format!("the body is not a JSON array of envelopes: {e}"),
            "send `[envelope, envelope, …]`",
        )
    })?;
    if items.len() > MAX_BATCH {
        return Err(ApiError::bad_request(
            format!(
                "the batch holds {} envelopes; at most {MAX_BATCH} are taken",
                items.len()
            ),
            "split it into several requests",
        ));
    }
    let mut envelopes = Vec::with_capacity(items.len());
    for item in &items {
        let text = item.get().as_bytes();
        check_agent(&caller, text)?;
        envelopes.push(bytes.slice_ref(text));
    }
    if envelopes.is_empty() {
        return json(&Vec::<()>::new());
    }
    let (loaded, result) = decide_on(&state, envelopes, params.explain).await;
    let results = result?;
    let mut out = String::with_capacity(results.iter().map(answer_len).sum::<usize>() + 2);
    out.push('[');
    for (i, r) in results.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match r {
            Ok(decided) => out.push_str(&decided.json),
            Err(err) => out.push_str(&err.to_value().to_string()),
        }
    }
    out.push(']');
    Ok(with_policy(json_response(StatusCode::OK, out), &loaded))
}

/// Decides a plan as a whole against the store's state, writing nothing.
async fn plan(
    State(state): State<AppState>,
    headers: HeaderMap,
    read: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Agent)?;
    let bytes = body(read)?;
    check_agent(&caller, &bytes)?;
    let loaded = state.served().current();
    let policy = Arc::clone(&loaded);
    let decided = state
        .store(move |s| {
            let plan = match policy.policy.read_plan(&bytes) {
                Ok(plan) => plan,
                Err(refused) => return Ok(Err(refused)),
            };
            policy
                .policy
                .decide_plan_stored(&plan, s, system_now())
                .map(Ok)
        })
        .await?;
    match decided {
        Ok(decided) => Ok(with_policy(json(&decided)?, &loaded)),
        Err(refused) => Ok(plan_refused(&refused)),
    }
}

/// A plan that does not hold together: `400`, the first error as the
/// error, and every error with its JSON path.
fn plan_refused(refused: &actpol::plan::PlanErrors) -> Response {
    let errors: Vec<serde_json::Value> = refused
        .errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "code": e.code,
                "path": e.path,
                "message": e.message,
                "help": e.help,
            })
        })
        .collect();
    let first = refused.errors.first();
    let code = first.map_or(ErrorCode::PlanMalformed, |e| e.code);
    let error = ApiError::new(
        StatusCode::BAD_REQUEST,
        code,
        first.map_or_else(
            || "the plan does not hold together".to_string(),
            ToString::to_string,
        ),
        first
            .and_then(|e| e.help.clone())
            .unwrap_or_else(|| "see `docs/plans.md` for the plan document".to_string()),
    );
    let body = serde_json::json!({ "error": error.inner(), "errors": errors });
    let mut response = json_response(StatusCode::BAD_REQUEST, body.to_string());
    response.extensions_mut().insert(code);
    response
}

fn answer_len(r: &Result<Decided, ApiError>) -> usize {
    r.as_ref().map_or(128, |d| d.json.len() + 1)
}

async fn reservation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Agent)?;
    state.check_owner(&caller, Held::Reservation, &id).await?;
    json(
        &state
            .store(move |s| s.reservation(&id, system_now()))
            .await?,
    )
}

async fn commit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Agent)?;
    state.check_owner(&caller, Held::Reservation, &id).await?;
    json(&state.store(move |s| s.commit(&id, system_now())).await?)
}

async fn release(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Agent)?;
    state.check_owner(&caller, Held::Reservation, &id).await?;
    json(&state.store(move |s| s.release(&id, system_now())).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalsQuery {
    status: Option<ApprovalStatus>,
}

async fn approvals(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<ApprovalsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Review)?;
    let status = query(params)?.status;
    let mut list = state
        .store(move |s| s.approvals(status, system_now()))
        .await?;
    // An approver sees the approvals that name it.
    if let Caller::Approver(me) = &caller {
        list.retain(|a| a.approver == *me);
    }
    json(&list)
}

async fn approval(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Party)?;
    state.check_owner(&caller, Held::Approval, &id).await?;
    json(&state.store(move |s| s.approval(&id, system_now())).await?)
}

/// What an approver sends to decide an approval.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Verdict {
    /// Who decides; with tokens, the approver's token says it.
    by: Option<String>,
    note: Option<String>,
}

async fn verdict(
    state: AppState,
    headers: HeaderMap,
    id: String,
    read: Result<Bytes, BytesRejection>,
    grant: bool,
) -> Result<Response, ApiError> {
    let caller = state.require(&headers, Role::Approver)?;
    let bytes = body(read)?;
    let verdict: Verdict = if bytes.iter().all(u8::is_ascii_whitespace) {
        Verdict::default()
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(
                format!("the body does not read: {e}"),
                "send `{\"by\": \"approver\", \"note\": \"why\"}` (both optional with an approver's token)",
            )
        })?
    };
    let by = match (&caller, verdict.by) {
        (Caller::Approver(me), Some(by)) if by != *me => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::ServerForbidden,
                format!("the token is approver `{me}`'s; it cannot decide as `{by}`"),
                "leave out `by`: the token says who decides",
            ))
        }
        (Caller::Approver(me), _) => me.clone(),
        (_, Some(by)) => by,
        (_, None) => {
            return Err(ApiError::bad_request(
                "the body names no approver (`by`)",
                "send `{\"by\": \"approver\"}`: the approver the escalation named",
            ))
        }
    };
    let note = verdict.note;
    let approval = state
        .store(move |s| {
            let now = system_now();
            if grant {
                s.approve(&id, &by, note.as_deref(), now)
            } else {
                s.reject(&id, &by, note.as_deref(), now)
            }
        })
        .await?;
    json(&approval)
}

async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    read: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    verdict(state, headers, id, read, true).await
}

async fn reject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    read: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    verdict(state, headers, id, read, false).await
}

async fn decision(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.require(&headers, Role::Review)?;
    json(&state.store(move |s| s.decision(&id)).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PacketQuery {
    format: Option<PacketFormat>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum PacketFormat {
    Json,
    Md,
}

async fn packet(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Result<Query<PacketQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    state.require(&headers, Role::Review)?;
    let asked = query(params)?.format;
    let wants_markdown = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/markdown"));
    let format = asked.unwrap_or(if wants_markdown {
        PacketFormat::Md
    } else {
        PacketFormat::Json
    });
    let view = state
        .store(move |s| s.packet(&id, actpol::store::DEFAULT_PRECEDENT, system_now()))
        .await?;
    match format {
        PacketFormat::Json => json(&view),
        PacketFormat::Md => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            view.to_markdown(),
        )
            .into_response()),
    }
}

async fn verify(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    state.require(&headers, Role::Admin)?;
    json(&state.store(|s| s.verify()).await?)
}

async fn policy(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    state.require(&headers, Role::Any)?;
    json(&state.served().info())
}

async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    state.require(&headers, Role::Admin)?;
    let (outcome, shadow) = crate::serve::reload(&state, "request").await;
    match &outcome {
        crate::policy::Reload::Refused { reason, .. } => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ServerPolicyRefused,
            format!("the new policy was refused; the old one keeps serving: {reason}"),
            "fix the policy (`actpol check`) and reload again",
        )),
        _ => {
            let mut answer = serde_json::to_value(&outcome)
                .map_err(|e| ApiError::internal(format!("cannot write the answer: {e}")))?;
            if let (Some(shadow), Some(object)) = (shadow, answer.as_object_mut()) {
                let shadow = serde_json::to_value(&shadow)
                    .map_err(|e| ApiError::internal(format!("cannot write the answer: {e}")))?;
                object.insert("shadow".into(), shadow);
            }
            json(&answer)
        }
    }
}

/// The flips the shadow policy made, with both policies and the counts.
async fn shadow_flips(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.require(&headers, Role::Admin)?;
    let Some(shadow) = state.shadow() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ServerNoShadow,
            "the server runs no shadow policy",
            "start it with `--shadow PATH` to compare a candidate policy with the one serving",
        ));
    };
    let metrics = state.metrics();
    json(&serde_json::json!({
        "policy": state.served().info(),
        "shadow": shadow.served().info(),
        "decisions": metrics.shadow_decisions(),
        "flips_total": metrics.shadow_flips(),
        "kept": crate::shadow::KEPT_FLIPS,
        "flips": shadow.flips(),
    }))
}

async fn healthz(State(state): State<AppState>) -> Response {
    let info = state.served().info();
    json_response(
        StatusCode::OK,
        serde_json::json!({ "status": "ok", "policy": info.hash }).to_string(),
    )
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    state.require(&headers, Role::Metrics)?;
    let held = state
        .store(|s| s.held_reservations(system_now()))
        .await
        .ok()
        .flatten();
    let shadow = state.shadow().map(|s| s.served().info());
    let text = state
        .metrics()
        .render(&state.served().info(), shadow.as_ref(), held);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        Body::from(text),
    )
        .into_response())
}
