//! The one application error. Every variant has a stable code that clients see in GraphQL
//! `extensions.code` or in REST `{"error":{"code","message"}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

tokio::task_local! {
    /// The id of the HTTP request being served, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

/// The request id of the current task, if it serves an HTTP request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The code of a GraphQL document that cannot be parsed, as Apollo-style clients expect it.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The code of a GraphQL document that fails validation, as Apollo-style clients expect it.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadUserInput(String),
    #[error("{0}")]
    Conflict(String),
    /// A GraphQL document that is not GraphQL (`GRAPHQL_PARSE_FAILED`): fix the query's text.
    #[error("{0}")]
    ParseFailed(String),
    /// A GraphQL document that does not fit the schema or its limits (depth, fields, aliases,
    /// cost): `GRAPHQL_VALIDATION_FAILED`. Fix the document, not the values sent with it.
    #[error("{0}")]
    ValidationFailed(String),
    /// A request body over a limit (HTTP 413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A request body of a content type that is not accepted (HTTP 415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The database cannot be reached, or no connection came free in time (HTTP 503 with
    /// `Retry-After`): try again shortly.
    #[error("{0}")]
    Unavailable(String),
    /// A statement ran past its time budget and was cancelled (HTTP 503): ask for less.
    #[error("{0}")]
    Timeout(String),
    /// Over a rate limit (HTTP 429 with `Retry-After`): `limits`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The cause is logged, never shown: clients see "internal error" and the request id.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::ParseFailed(_) => PARSE_FAILED,
            AppError::ValidationFailed(_) => VALIDATION_FAILED,
            AppError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            AppError::UnsupportedMediaType(_) => "BAD_USER_INPUT",
            AppError::Unavailable(_) => "UNAVAILABLE",
            AppError::Timeout(_) => "TIMEOUT",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadUserInput(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::ParseFailed(_) | AppError::ValidationFailed(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) | AppError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An unexpected failure, except that a database which cannot be reached or a statement
    /// cancelled by its timeout are told to the client as such (UNAVAILABLE, TIMEOUT).
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let cause = cause.into();
        if let Some(err) = cause
            .downcast_ref::<sea_orm::DbErr>()
            .and_then(classify_db_error)
        {
            return err;
        }
        AppError::Internal(cause)
    }

    /// The `Retry-After` an answer with this error carries, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::Unavailable(_) => Some(RETRY_AFTER_SECS),
            AppError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    /// The message a client may see. Internal errors are logged here, with their cause chain and
    /// the request id, and reach the client only as "internal error" and that id.
    pub fn client_message(&self) -> String {
        match self {
            AppError::Internal(cause) => {
                let request_id = current_request_id().unwrap_or_else(|| "none".to_owned());
                tracing::error!(request_id = %request_id, error = ?cause, "internal error");
                format!("internal error (request id {request_id})")
            }
            other => other.to_string(),
        }
    }
}

impl AppError {
    /// The GraphQL error a client sees: the client message and `extensions.code` (plus
    /// `extensions.requestId` for INTERNAL).
    pub fn to_graphql(&self) -> async_graphql::Error {
        let mut gql = async_graphql::Error::new(self.client_message());
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", self.code());
        if let AppError::Internal(_) = self
            && let Some(id) = current_request_id()
        {
            ext.set("requestId", id);
        }
        gql.extensions = Some(ext);
        gql
    }
}

/// With async-graphql's `custom-error-conversion` feature this is the only way an error enters a
/// GraphQL response, so no database error text can reach a client through `?`.
impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.to_graphql()
    }
}

/// Every code a client can see, as a static string (for the metrics' labels): an unknown one
/// is counted as INTERNAL, so the label set stays bounded.
pub fn known_code(code: &str) -> &'static str {
    const CODES: [&str; 12] = [
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        PARSE_FAILED,
        VALIDATION_FAILED,
        "PAYLOAD_TOO_LARGE",
        "UNAVAILABLE",
        "TIMEOUT",
        "RATE_LIMITED",
        "INTERNAL",
    ];
    CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("INTERNAL")
}

/// Seconds a client is asked to wait before retrying an UNAVAILABLE answer.
pub const RETRY_AFTER_SECS: u64 = 2;

/// The database errors a client can act on: the server or pool is unavailable, or a statement
/// ran out of time, or a text held a character PostgreSQL cannot store (NUL).
pub fn classify_db_error(err: &sea_orm::DbErr) -> Option<AppError> {
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    let unavailable = || {
        AppError::Unavailable("the database is busy or unreachable; try again shortly".to_owned())
    };
    let sqlx_err = match err {
        // No connection could be had: refused, reset, or the pool's wait ran out.
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return Some(unavailable()),
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return None,
    };
    match sqlx_err.as_ref() {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Some(unavailable()),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // query_canceled: the statement timeout.
            Some("57014") => Some(AppError::Timeout(
                "the request took longer than its time budget and was stopped; ask for less \
                 (a shorter period, fewer groups or a smaller page)"
                    .to_owned(),
            )),
            // character_not_in_repertoire, untranslatable_character: a NUL byte.
            Some("22021") | Some("22P05") => Some(AppError::BadUserInput(
                "a text contains a character that cannot be stored (such as NUL, \\u0000)"
                    .to_owned(),
            )),
            // datetime_field_overflow, numeric_value_out_of_range: a date or number the client
            // sent (or one computed from it) that PostgreSQL cannot hold.
            Some("22008") | Some("22003") => Some(AppError::BadUserInput(
                "a date or number is outside the range that can be stored".to_owned(),
            )),
            // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
            Some("57P01") | Some("57P02") | Some("57P03") | Some("53300") => Some(unavailable()),
            _ => None,
        },
        _ => None,
    }
}

/// The error codes of an answer, put in its extensions by whoever made it, for the metrics.
#[derive(Clone, Debug, Default)]
pub struct ErrorCodes(pub Vec<&'static str>);

/// The one place error answers are shaped, for both APIs: the status, the code for the
/// metrics, `Retry-After` when worth retrying and `WWW-Authenticate: Bearer` on a 401.
fn shaped(err: &AppError, body: serde_json::Value) -> Response {
    let status = err.status();
    let mut res = (status, Json(body)).into_response();
    res.extensions_mut().insert(ErrorCodes(vec![err.code()]));
    if let Some(secs) = err.retry_after_secs() {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

/// The body of an error answer: GraphQL's `{"errors": [{"message", "extensions": {"code"}}]}`
/// or REST's `{"error": {"code", "message"}}`.
pub fn error_body(code: &str, message: &str, graphql: bool) -> serde_json::Value {
    if graphql {
        json!({"errors": [{"message": message, "extensions": {"code": code}}]})
    } else {
        json!({"error": {"code": code, "message": message}})
    }
}

/// REST's shape.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = error_body(self.code(), &self.client_message(), false);
        shaped(&self, body)
    }
}

impl AppError {
    /// GraphQL's shape with an HTTP status, for failures before execution.
    pub fn into_graphql_response(self) -> Response {
        let body = error_body(self.code(), &self.client_message(), true);
        shaped(&self, body)
    }
}

/// The code an error answer of this status carries when nothing more precise is known.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::REQUEST_TIMEOUT => "TIMEOUT",
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
        StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
        s if s.is_server_error() => "INTERNAL",
        _ => "BAD_USER_INPUT",
    }
}

pub type AppResult<T> = Result<T, AppError>;
