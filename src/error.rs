//! The one application error. Every variant has a stable code that clients see in GraphQL
//! `extensions.code` or in REST `{"error":{"code","message"}}`.

use axum::Json;
use axum::http::StatusCode;
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
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(cause.into())
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

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = json!({"error": {"code": self.code(), "message": self.client_message()}});
        (status, Json(body)).into_response()
    }
}

pub type AppResult<T> = Result<T, AppError>;
