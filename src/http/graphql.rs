//! The GraphQL endpoint, `POST /graphql`: the body read and checked, trusted documents, the
//! document's checks (`guard`), then the request's database work (`http::scope`) with the
//! schema executed in it, and the answer shaped with a code on every error.

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::db;
use crate::db::request::RequestTxn;
use crate::error::{AppError, ErrorCodes};
use crate::graphql::{guard, request_data, with_loaders};
use crate::http::caller::{GraphqlBearer, VerifiedToken};
use crate::http::scope::{self, Scope};
use crate::http::state::AppState;
use crate::metrics::{OperationLabel, PendingPushes};

/// Largest GraphQL request body accepted.
pub const MAX_GRAPHQL_BODY: usize = 256 * 1024;

/// The GraphQL request path: the token is verified and the request checked before anything
/// waits; a heavy request then takes its slot; then the request takes one connection and one
/// transaction, whose first statement resolves the caller (`db::request`), and everything it
/// asks runs there. The answer is sent once the transaction has committed.
pub async fn graphql_handler(
    State(state): State<Arc<AppState>>,
    GraphqlBearer(token): GraphqlBearer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (mut request, document_id) = match read_graphql_request(&headers, body) {
        Ok(r) => r,
        Err(e) => return e.into_graphql_response(),
    };
    // A deployment with trusted documents runs nothing else: settled before any parsing.
    let settled = match &state.trusted {
        Some(trusted) => {
            trusted
                .current()
                .resolve(token.role, &mut request, document_id.as_deref())
        }
        None if document_id.is_some() && request.query.is_empty() => Err(AppError::BadUserInput(
            "documentId is accepted only where trusted documents are configured; send the \
             query text"
                .to_owned(),
        )),
        None => Ok(()),
    };
    if let Err(e) = settled {
        return e.into_graphql_response();
    }
    // Only a name as GraphQL spells names goes in the log and the metrics: never text a
    // client made up.
    let name = request.operation_name.as_deref().filter(|n| {
        n.len() <= 64
            && n.chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
    });
    if let Some(name) = name {
        tracing::Span::current().record("operation", name);
    }
    let operation = OperationLabel(state.metrics.operation_label(name));
    let mut res = graphql_request(state, token, request).await;
    res.extensions_mut().insert(operation);
    res
}

async fn graphql_request(
    state: Arc<AppState>,
    token: VerifiedToken,
    request: async_graphql::Request,
) -> Response {
    let (request, checked) = match guard::prepare(request, state.introspection, &state.documents) {
        Ok(r) => r,
        Err(errors) => {
            let mut response = async_graphql::Response::from_errors(errors);
            for err in &mut response.errors {
                ensure_code(err);
            }
            let codes = error_codes(&response);
            let mut res = GraphQLResponse::from(response).into_response();
            res.extensions_mut().insert(codes);
            return res;
        }
    };
    let scope = Scope {
        budget: checked.heavy,
        slot: checked.heavy,
        writes: checked.mutation,
        case_data: checked.case_data,
        graphql: true,
    };
    let schema = if checked.validated {
        state.schema_validated.clone()
    } else {
        state.schema.clone()
    };
    // Where async-graphql's validation will not need to run again once it passes.
    // (Texts too long for the document cache are never recorded: no copy for them.)
    let validating = (!checked.validated
        && checked.without_variables
        && request.query.len() <= guard::CACHED_TEXT)
        .then(|| (request.query.clone(), request.operation_name.clone()));
    let heavy = state.heavy.clone();
    let metrics = state.metrics.clone();
    let documents = state.documents.clone();
    let work = move |txn: RequestTxn, principal| async move {
        let (tasks, queue) = tokio::sync::mpsc::unbounded_channel();
        let reads = db::audit::Reads::default();
        let pushes = PendingPushes::default();
        let request = request_data(request, &txn, &heavy, checked, principal, &tasks, &reads)
            .data(pushes.clone());
        drop(tasks);
        let response = with_loaders(schema.execute(request), queue).await;
        // Execution began (a document that fails validation gets no `data`): it passed.
        if let Some((text, operation)) = &validating
            && response.data != async_graphql::Value::Null
        {
            documents.passed_validation(text, operation.as_deref());
        }
        // The audit entries of what the answer shows, in the same transaction: if they cannot
        // be written, nothing is answered.
        db::audit::write_reads(&*txn, &reads).await?;
        Ok::<_, AppError>((response, pushes))
    };
    // A push's counts are counted once it has committed.
    let counted = move |(_, pushes): &(async_graphql::Response, PendingPushes)| {
        metrics.pushes_committed(pushes);
    };
    let mut response = match scope::run_then(state, token, scope, true, work, counted).await {
        Ok((response, _)) => response,
        Err(e) => return e.into_graphql_response(),
    };
    // Errors raised by the GraphQL engine itself (parse, validation, limits) carry no code.
    for err in &mut response.errors {
        ensure_code(err);
    }
    let unavailable = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from("UNAVAILABLE"))
    });
    let no_data = response.data == async_graphql::Value::Null;
    let codes = error_codes(&response);
    let mut res = GraphQLResponse::from(response).into_response();
    res.extensions_mut().insert(codes);
    if unavailable {
        // Worth retrying shortly; with nothing answered, the status says so too.
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(crate::error::RETRY_AFTER_SECS),
        );
        if no_data {
            *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    res
}

/// Reads one GraphQL request from a JSON body. Every failure is a GraphQL-shaped error with a
/// code: a body over the limit (413), another content type (415), JSON that is malformed or
/// nests too deep, a batch, or JSON that is not a request (400).
fn read_graphql_request(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(async_graphql::Request, Option<String>), AppError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let essence = ct
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && essence != "application/graphql-response+json" {
            return Err(AppError::UnsupportedMediaType(
                "send GraphQL requests as application/json".to_owned(),
            ));
        }
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(format!(
                "a GraphQL request may be at most {MAX_GRAPHQL_BODY} bytes; push large batches \
                 to POST /api/v1/incidents"
            ))
        } else {
            AppError::BadUserInput("the request body could not be read".to_owned())
        }
    })?;
    guard::check_json_nesting(&body)?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| AppError::BadUserInput(format!("the body is not valid JSON: {e}")))?;
    if value.is_array() {
        return Err(AppError::BadUserInput(
            "batched requests are not accepted: send one {\"query\": ...} per request".to_owned(),
        ));
    }
    // A persisted document's id (GraphQL over HTTP's `documentId`), for trusted documents.
    let document_id = match value.get("documentId") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(id)) if id.len() <= 128 => Some(id.clone()),
        Some(_) => {
            return Err(AppError::BadUserInput(
                "documentId must be a string such as sha256:<64 hex digits>".to_owned(),
            ));
        }
    };
    let request = serde_json::from_value(value).map_err(|e| {
        AppError::BadUserInput(format!(
            "the body is not a GraphQL request ({{\"query\", \"variables\", \"operationName\"}}): {e}"
        ))
    })?;
    Ok((request, document_id))
}

/// The codes of a GraphQL answer's errors, for the metrics (`ensure_code` has given each one).
fn error_codes(response: &async_graphql::Response) -> ErrorCodes {
    ErrorCodes(
        response
            .errors
            .iter()
            .map(|e| {
                let code = e.extensions.as_ref().and_then(|x| x.get("code"));
                match code {
                    Some(async_graphql::Value::String(c)) => crate::error::known_code(c),
                    _ => "BAD_USER_INPUT",
                }
            })
            .collect(),
    )
}

/// Gives an error async-graphql made itself its code. One without a path was raised before any
/// field ran, by validation (including the cost limit and an unknown operation name), so the
/// document is at fault (GRAPHQL_VALIDATION_FAILED), except that a value of the wrong type or
/// outside its enum, given in the document or in its variables, is a value at fault
/// (BAD_USER_INPUT), as Apollo-style clients expect for variables. One with a path is a field's
/// argument that could not be read (BAD_USER_INPUT). Errors of ours carry their code already.
fn ensure_code(err: &mut ServerError) {
    let has_code = err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        // async-graphql's message for a value its argument's type refuses
        // (`ArgumentsOfCorrectType`); `documents_that_fail_carry_the_codes_...` pins it.
        // So is the cost rule's own reading of the same value (`list_cost(first, ...)`).
        let bad_value = err.message.starts_with("Invalid value for argument")
            || err.message.starts_with("Expected input type")
            || err.message.starts_with("Failed to parse");
        let code = if err.path.is_empty() && !bad_value {
            crate::error::VALIDATION_FAILED
        } else {
            "BAD_USER_INPUT"
        };
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}
