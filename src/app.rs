//! The HTTP application: state, routes, the GraphQL endpoint and request ids.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::ServerError;
use async_graphql_axum::GraphQLResponse;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use uuid::Uuid;

use crate::auth::token::{Verifier, dev_issuer};
use crate::auth::{Capability, Principal, Role, ScopedPartnership};
use crate::config::Config;
use crate::error::{AppError, REQUEST_ID};
use crate::graphql::trusted::{TrustedDocuments, TrustedList};
use crate::graphql::{self, CsphubSchema, build_schema, guard, request_data};
use crate::limits::{Budget, RateLimits};
use crate::metrics::{ErrorCodes, Metrics, OperationLabel, PendingPushes};
use crate::{db, layers, limits, metrics, rest};

/// Largest GraphQL request body accepted.
pub const MAX_GRAPHQL_BODY: usize = 256 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The read replica's pool (`DATABASE_READ_URL`), for read-only statistics, reports and
    /// exports (`AppState::heavy_reads`); `None` reads everything from `db`.
    pub read_db: Option<DatabaseConnection>,
    pub schema: CsphubSchema,
    /// `schema` for documents already validated (`graphql::build_schema_validated`).
    pub schema_validated: CsphubSchema,
    pub verifier: Arc<Verifier>,
    pub graphiql: bool,
    /// Answer introspection queries (`__schema`, `__type`).
    pub introspection: bool,
    pub push_max_records: usize,
    pub push_max_bytes: usize,
    /// The gate statistics, reports and pushes pass (shared by every request).
    pub heavy: db::Heavy,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// Origins allowed to call from a browser (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// GraphQL documents already parsed and checked, by text.
    pub documents: Arc<guard::DocumentCache>,
    /// Callers resolved in the last few seconds (`db::request::CallerCache`).
    pub callers: Arc<db::request::CallerCache>,
    /// Read-lane connections of `db` kept for the next read (`db::request::ParkedConnections`).
    pub parked: Arc<db::request::ParkedConnections>,
    /// Told of every statement requests run (`AppState::observe_statements`).
    pub statements: Option<db::request::StatementObserver>,
    /// Rate limits per caller and per client address (`limits`).
    pub limits: Arc<RateLimits>,
    /// What the admin address's `/metrics` shows (`metrics`).
    pub metrics: Arc<Metrics>,
    /// Each role's allowed documents, when the deployment restricts them (reloaded on SIGHUP).
    pub trusted: Option<Arc<TrustedList>>,
}

impl AppState {
    pub fn new(config: &Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        let fixed = if config.demo {
            vec![dev_issuer(&config.dev_jwt_secret)]
        } else {
            Vec::new()
        };
        let verifier = Arc::new(Verifier::with_fixed(
            config.issuers.clone(),
            fixed,
            &config.audience,
            config.jwt_leeway_secs,
        ));
        // Issuers with a JWKS URL, now or after a reload, are fetched on their schedule.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(refresh_issuer_keys(Arc::downgrade(&verifier)));
        }
        Ok(Self {
            trusted: config
                .trusted_documents
                .clone()
                .map(|list| Arc::new(TrustedList::new(list))),
            metrics: Arc::new(Metrics::new()?),
            limits: Arc::new(RateLimits::new(&config.rate_limits, config.demo)?),
            schema: build_schema(),
            schema_validated: graphql::build_schema_validated(),
            verifier,
            graphiql: config.graphiql_enabled(),
            introspection: config.introspection_enabled(),
            push_max_records: config.push_max_records,
            push_max_bytes: config.push_max_bytes,
            heavy: db::Heavy::new(&config.db),
            body_timeout: config.body_timeout,
            cors_origins: config.cors_origins.clone(),
            documents: Arc::default(),
            callers: Arc::new(db::request::CallerCache::new(config.caller_cache)),
            parked: Arc::default(),
            statements: None,
            read_db: None,
            db,
        })
    }

    /// A slot of the heavy gate (`db::Heavy::slot`), its wait observed in the metrics.
    pub async fn heavy_slot(&self, token: &VerifiedToken) -> Result<db::HeavySlot, AppError> {
        let asked = std::time::Instant::now();
        let slot = self.heavy.slot(&token.caller()).await;
        self.metrics.heavy_slot_wait(slot.is_ok(), asked);
        slot
    }

    /// The pool read-only heavy work (statistics, reports, exports) reads from: the replica
    /// when there is one. Writes, case data and everything else stay on `db`.
    pub fn heavy_reads(&self) -> &DatabaseConnection {
        self.read_db.as_ref().unwrap_or(&self.db)
    }

    /// The parked connections of the pool `heavy_reads` gives (none for a replica's).
    pub fn heavy_reads_parked(&self) -> Option<Arc<db::request::ParkedConnections>> {
        self.read_db.is_none().then(|| self.parked.clone())
    }

    /// Tells `observer` of every statement requests run: in their transactions and on the read
    /// lane (`db::request`) alike.
    pub fn observe_statements(&mut self, observer: db::request::StatementObserver) {
        let pool_observer = observer.clone();
        self.db.set_metric_callback(move |info| pool_observer(info));
        self.statements = Some(observer);
    }
}

/// The router production serves; tests serve exactly this. The guards that protect the whole
/// service are its layers (`crate::layers`), outermost last.
pub fn router(state: AppState) -> Router {
    let guards = layers::Guards {
        metrics: state.metrics.clone(),
        limits: state.limits.clone(),
        body_timeout: state.body_timeout,
    };
    let cors = layers::cors(&state.cors_origins);
    let mut router = Router::new()
        .route(
            "/graphql",
            get(rest::graphiql)
                .post(graphql_handler)
                .layer(RequestBodyLimitLayer::new(MAX_GRAPHQL_BODY)),
        )
        .route("/graphiql/assets/{file}", get(rest::graphiql_asset))
        .route("/api/v1/incidents", post(rest::incident::push))
        .route("/api/v1/incidents.csv", get(rest::incident::export_csv))
        .route(
            "/api/v1/reports/rag-update.csv",
            get(rest::report::rag_update_csv),
        )
        .route(
            "/api/v1/reports/pcc-report.csv",
            get(rest::report::pcc_report_csv),
        )
        .route(
            "/api/v1/reports/strategic-assessment.csv",
            get(rest::report::assessment_csv),
        )
        .route(
            "/api/v1/reports/submissions/{file}",
            get(rest::report::submission_csv),
        )
        .route("/reports/rag-update", get(rest::page::rag_update_page))
        .route("/reports/pcc-report", get(rest::page::pcc_report_page))
        .route(
            "/reports/strategic-assessment",
            get(rest::page::assessment_page_handler),
        )
        .route(
            "/reports/submissions/{id}",
            get(rest::page::submission_page),
        )
        .route("/api/v1/openapi.json", get(rest::openapi))
        .route("/healthz", get(rest::healthz))
        .route("/readyz", get(rest::readyz))
        .fallback(layers::not_found)
        .with_state(Arc::new(state))
        .layer(CatchPanicLayer::custom(layers::panic_response))
        .layer(middleware::from_fn_with_state(guards, layers::guards));
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router.layer(middleware::from_fn(request_id))
}

/// The outermost layer. Gives every request an id: in the response header `x-request-id`, in
/// the log lines, and in INTERNAL errors; and sets the security headers on every answer.
async fn request_id(req: Request, next: Next) -> Response {
    let id = Uuid::new_v4().to_string();
    // One line per request ("served"): the path (never the query string, which may carry
    // filters), the GraphQL operation's name, the token's subject and agency once verified, the
    // status and the duration. Never the token, a variable or a body.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        operation = tracing::field::Empty,
        sub = tracing::field::Empty,
        agency = tracing::field::Empty,
    );
    let fut = async move {
        let started = std::time::Instant::now();
        let res = next.run(req).await;
        tracing::info!(
            status = res.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "served"
        );
        res
    };
    let mut res = REQUEST_ID
        .scope(id.clone(), tracing::Instrument::instrument(fut, span))
        .await;
    layers::security_headers(&mut res);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// A GraphQL-shaped error response with an HTTP status (for failures before execution).
pub fn graphql_error(err: AppError) -> Response {
    let status = err.status();
    let body = serde_json::json!({
        "errors": [{"message": err.client_message(), "extensions": {"code": err.code()}}]
    });
    let mut res = (status, axum::Json(body)).into_response();
    res.extensions_mut()
        .insert(crate::metrics::ErrorCodes(vec![err.code()]));
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

/// The GraphQL request path: the token is verified and the request checked before anything
/// waits; a heavy request then takes its slot; then the request takes one connection and one
/// transaction, whose first statement resolves the caller (`db::request`), and everything it
/// asks runs there. The answer is sent once the transaction has committed.
async fn graphql_handler(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let token = match verify_token(&state, &headers, Budget::Requests).await {
        Ok(t) => t,
        Err(e) => return graphql_error(e),
    };
    let (mut request, document_id) = match read_graphql_request(&headers, body) {
        Ok(r) => r,
        Err(e) => return graphql_error(e),
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
        return graphql_error(e);
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
    // Heavy requests wait for their slot before they hold a connection, so that waiting ones
    // cannot take the pool from everyone else. The slot goes with the work, which outlives a
    // client that hangs up.
    let slot = if checked.heavy {
        match state.heavy_slot(&token).await {
            Ok(permit) => Some(permit),
            Err(e) => return graphql_error(e),
        }
    } else {
        None
    };
    let budget = checked.heavy.then_some(state.heavy.timeout);
    // Read-only heavy work (statistics, reports) may read from the replica; anything that
    // writes or touches case data (and its audit entries) runs on the primary.
    let (db, parked) = if checked.heavy && !checked.mutation && !checked.case_data {
        (state.heavy_reads().clone(), state.heavy_reads_parked())
    } else {
        (state.db.clone(), Some(state.parked.clone()))
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
        && request.query.len() <= graphql::guard::CACHED_TEXT)
        .then(|| (request.query.clone(), request.operation_name.clone()));
    let heavy = state.heavy.clone();
    let callers = state.callers.clone();
    let statements = state.statements.clone();
    let metrics = state.metrics.clone();
    let documents = state.documents.clone();
    // A transaction only where it must be one: writes, case data (row-level security's
    // settings) and heavy work (its statement budget). Other queries read on their connection
    // without one (`db::request`).
    let needs_transaction = checked.mutation || checked.case_data || budget.is_some();
    let run = async move {
        let _slot = slot;
        let asked = std::time::Instant::now();
        let txn = Arc::new(if needs_transaction {
            db::request::begin(&db, parked.as_deref()).await?
        } else {
            db::request::read(&db, parked.as_ref(), statements.as_ref()).await?
        });
        metrics.connection_wait(needs_transaction, asked);
        let principal =
            match resolve_caller(&txn, &token, budget, checked.case_data, &callers).await {
                Ok(p) => p,
                Err(e) => {
                    let _ = db::request::finish(txn, false).await;
                    return Err(e);
                }
            };
        let (tasks, queue) = tokio::sync::mpsc::unbounded_channel();
        let reads = db::audit::Reads::default();
        let pushes = PendingPushes::default();
        let request = request_data(request, &txn, &heavy, checked, principal, &tasks, &reads)
            .data(pushes.clone());
        drop(tasks);
        let response = graphql::with_loaders(schema.execute(request), queue).await;
        // Execution began (a document that fails validation gets no `data`): it passed.
        if let Some((text, operation)) = &validating
            && response.data != async_graphql::Value::Null
        {
            documents.passed_validation(text, operation.as_deref());
        }
        // The audit entries of what the answer shows, in the same transaction: if they cannot
        // be written, nothing is answered.
        if let Err(e) = db::audit::write_reads(&*txn, &reads).await {
            let _ = db::request::finish(txn, false).await;
            return Err(e);
        }
        // Nothing of the request is kept if this fails: say so rather than answer with data.
        db::request::finish(txn, true).await?;
        metrics.pushes_committed(&pushes);
        Ok(response)
    };
    // Work in a transaction runs to its end even if the client hangs up. A read has nothing
    // to end: should the client hang up, its connection goes back to the pool, which checks
    // it, so it runs in this task and saves a task's hand-over.
    let done = if needs_transaction {
        run_to_completion(run).await
    } else {
        run.await
    };
    let mut response = match done {
        Ok(r) => r,
        Err(e) => return graphql_error(e),
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

/// Runs a request's database work in a task of its own and waits for it. A client that hangs
/// up cancels the wait, not the work: the transaction still ends with COMMIT or ROLLBACK, and
/// its connection goes back to the pool clean (a statement cut off half-way would leave it in
/// a state nobody should inherit). A panic in it is INTERNAL, like one in a handler.
pub async fn run_to_completion<T, F>(work: F) -> Result<T, AppError>
where
    F: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
    T: Send + 'static,
{
    let id = crate::error::current_request_id().unwrap_or_default();
    let span = tracing::Span::current();
    let task = tokio::spawn(REQUEST_ID.scope(id, tracing::Instrument::instrument(work, span)));
    match task.await {
        Ok(result) => result,
        Err(e) => Err(AppError::internal(anyhow::anyhow!(
            "a request's task failed: {e}"
        ))),
    }
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

fn ensure_code(err: &mut ServerError) {
    let has_code = err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", "BAD_USER_INPUT");
    }
}

/// A token whose signature and claims have been checked, with its role and capabilities
/// parsed; the agency and partnerships it names are resolved in the request's transaction.
pub struct VerifiedToken {
    pub claims: crate::auth::token::Claims,
    pub role: Role,
    pub caps: Vec<Capability>,
}

impl VerifiedToken {
    /// Who is asking, for per-caller limits: the issuer and the subject.
    pub fn caller(&self) -> String {
        format!("{}\n{}", self.claims.iss, self.claims.sub)
    }

    /// The caller as far as the token alone tells: for the checks that depend on the role and
    /// capabilities only, made before the request takes a connection. It has no agency id and no
    /// partnerships; the real one comes from `resolve_caller`.
    pub fn provisional_principal(&self) -> Principal {
        Principal {
            sub: self.claims.sub.clone(),
            role: self.role,
            agency_id: uuid::Uuid::nil(),
            agency: self.claims.agency.clone(),
            partnerships: Vec::new(),
            caps: self.caps.clone(),
        }
    }
}

/// Verifies the bearer token: signature, issuer, audience, times and the claims csphub needs,
/// then takes one from the caller's rate-limit `budget`. No database work: a bad token costs
/// nothing but the check.
pub async fn verify_token(
    state: &AppState,
    headers: &HeaderMap,
    budget: Budget,
) -> Result<VerifiedToken, AppError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::Unauthenticated(
            "a bearer token is required: send Authorization: Bearer <JWT>".to_owned(),
        )
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthenticated("the Authorization header must be 'Bearer <JWT>'".to_owned())
        })?;
    let claims = state.verifier.verify_fetching(token).await?;
    let role = Role::parse(&claims.role).ok_or_else(|| {
        AppError::Unauthenticated(
            "the token's role is not one of police, fire, council, pcc".to_owned(),
        )
    })?;
    let caps = claims
        .caps
        .iter()
        .map(|c| {
            Capability::parse(c).ok_or_else(|| {
                AppError::Unauthenticated(
                    "the token names an unknown capability (caps: coordinator, caseworker)"
                        .to_owned(),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if claims.sub.trim().is_empty() {
        return Err(AppError::Unauthenticated(
            "the token's subject (sub) is empty".to_owned(),
        ));
    }
    if claims.partnerships.is_empty() {
        return Err(AppError::Unauthenticated(
            "the token names no partnership".to_owned(),
        ));
    }
    let span = tracing::Span::current();
    span.record("sub", claims.sub.as_str());
    span.record("agency", claims.agency.as_str());
    state.limits.take_caller(&claims.iss, &claims.sub, budget)?;
    Ok(VerifiedToken { claims, role, caps })
}

/// Resolves the token's agency and the partnerships it belongs to, as the first statement of
/// the request's transaction (which also sets the caller's transaction-local settings and, for
/// heavy work, its statement budget: `db::request::open_as`). `case_data` is a request that
/// reads or writes case records: it needs those settings for row-level security. Any other
/// request without a budget takes a caller resolved in the last few seconds from `callers`
/// and runs no statement for it.
pub async fn resolve_caller(
    txn: &db::request::RequestDb,
    token: &VerifiedToken,
    heavy_budget: Option<Duration>,
    case_data: bool,
    callers: &db::request::CallerCache,
) -> Result<Principal, AppError> {
    let claims = &token.claims;
    let needs_settings = heavy_budget.is_some() || case_data;
    let cached = if needs_settings {
        None
    } else {
        callers.get(&claims.agency, &claims.partnerships)
    };
    let (agency, partnerships) = match cached {
        Some(found) => found,
        None => {
            let caller = db::request::Caller {
                sub: &claims.sub,
                role: token.role.as_str(),
                agency: &claims.agency,
                partnerships: &claims.partnerships,
                heavy_budget,
                generic_plans: case_data,
            };
            let found = db::request::open_as(txn, &caller).await?.ok_or_else(|| {
                AppError::Unauthenticated("the token's agency is not registered".to_owned())
            })?;
            callers.put(&claims.agency, &claims.partnerships, &found);
            found
        }
    };
    if agency.kind != token.role.agency_kind() {
        return Err(AppError::Unauthenticated(format!(
            "the token's agency is a {} agency, which does not match the role {}",
            agency.kind,
            token.role.as_str()
        )));
    }
    let partnerships = partnerships
        .into_iter()
        .map(|p| ScopedPartnership {
            id: p.id,
            slug: p.slug,
        })
        .collect();
    Ok(Principal {
        sub: claims.sub.clone(),
        role: token.role,
        agency_id: agency.id,
        agency: agency.slug,
        partnerships,
        caps: token.caps.clone(),
    })
}

/// Fetches the keys of issuers with a JWKS URL: at start, then each on its own schedule. Ends
/// when the service's state is gone.
async fn refresh_issuer_keys(verifier: std::sync::Weak<Verifier>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(verifier) = verifier.upgrade() else {
            return;
        };
        verifier.refresh_due().await;
    }
}

/// On SIGHUP, reads the issuers file again (new PEM or JWKS files, issuers added or removed)
/// and the trusted documents; a file that cannot be read or checked leaves what is in use as it
/// is.
async fn reload_on_hangup(
    verifier: Arc<Verifier>,
    issuers_file: Option<std::path::PathBuf>,
    trusted: Option<(Arc<TrustedList>, std::path::PathBuf)>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; files load at start only");
            return;
        }
    };
    while hangup.recv().await.is_some() {
        if let Some(path) = &issuers_file {
            let loaded = crate::auth::token::TrustedIssuer::load_file(path)
                .and_then(|issuers| verifier.reload(issuers));
            match loaded {
                Ok(n) => {
                    tracing::info!(issuers = n, file = %path.display(), "reloaded the trusted issuers");
                    eprintln!("reloaded {n} trusted issuers from {}", path.display());
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "reloading the trusted issuers failed; keeping the keys in use");
                    eprintln!(
                        "reloading the trusted issuers failed ({e:#}); keeping the keys in use"
                    );
                }
            }
        }
        if let Some((list, path)) = &trusted {
            match TrustedDocuments::load(path) {
                Ok(documents) => {
                    list.replace(documents);
                    let (docs, roles) = list.sizes();
                    tracing::info!(documents = docs, roles, file = %path.display(), "reloaded the trusted documents");
                    eprintln!(
                        "reloaded {docs} trusted documents for {roles} roles from {}",
                        path.display()
                    );
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "reloading the trusted documents failed; keeping the list in use");
                    eprintln!(
                        "reloading the trusted documents failed ({e:#}); keeping the list in use"
                    );
                }
            }
        }
    }
}

/// The longest wait between two attempts to reach the database at start-up.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How often the monthly incident counts are folded: a minute of pushes appends at most a few
/// rows per month, category, area and agency they touched.
const INCIDENT_COUNTS_FOLD_EVERY: Duration = Duration::from_secs(60);

/// Seals the audit log's new entries every `every`, as the service role (which may read the
/// log and insert seals, nothing more). Several instances may run it: one seals at a time and
/// the others skip that round. Sealing only reads the log, so requests never wait on it.
async fn seal_audit_log(db: sea_orm::DatabaseConnection, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match db::audit::seal(&db).await {
            Ok(db::audit::Sealed::Entries { seq, count }) => {
                tracing::info!(seal = seq, entries = count, "sealed audit entries");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "sealing the audit log failed; will retry"),
        }
    }
}

/// Folds the monthly incident counts at start and every `every` after
/// (`db::incident::fold_counts`). Pushes only append to them, so requests never wait on it.
async fn fold_incident_counts(db: sea_orm::DatabaseConnection, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match db::incident::fold_counts(&db).await {
            Ok(Some(removed)) if removed > 0 => {
                tracing::debug!(rows = removed, "folded monthly incident counts");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "folding incident counts failed; will retry"),
        }
    }
}

/// Migrations, built-in vocabularies and (in demo mode) the demo data, on a connection of their
/// own with no statement timeout.
async fn prepare_database(config: &Config) -> anyhow::Result<()> {
    let db = db::connect_for_maintenance(&config.database_url).await?;
    // Instances starting together take turns: one migrates (and loads the demo), the others
    // wait for it and then find nothing left to do.
    let lock = db::StartLock::take(&db).await?;
    let prepared = async {
        db::prepare(&db).await?;
        db::case::set_retention(&db, &config.retention_years)
            .await
            .map_err(|e| anyhow::anyhow!("writing the retention schedule: {e:?}"))?;
        if config.demo {
            crate::demo::load(&db).await?;
            crate::demo::load_cases(&db).await?;
        }
        anyhow::Ok(())
    }
    .await;
    lock.release().await;
    prepared?;
    db.close().await?;
    Ok(())
}

/// Waits for the database (retrying with backoff, so the service can start before it), runs
/// the migrations, optionally loads the demo data, and serves until Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    config.check_for_serving()?;
    let mut backoff = Duration::from_millis(250);
    loop {
        match prepare_database(&config).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), retry_in_ms = backoff.as_millis() as u64, "database not ready; retrying");
                eprintln!("waiting for the database ({e:#}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    let db = db::connect(&config.database_url, &config.db).await?;
    if config.demo {
        crate::demo::print_tokens(&config)?;
    }
    if !config.audit_seal_every.is_zero() {
        tokio::spawn(seal_audit_log(db.clone(), config.audit_seal_every));
    }
    tokio::spawn(fold_incident_counts(db.clone(), INCIDENT_COUNTS_FOLD_EVERY));
    let pool = db.clone();
    let mut state = AppState::new(&config, db)?;
    let parked = state.parked.clone();
    if let Some(url) = &config.database_read_url {
        state.read_db = Some(db::connect_replica(url, &config.db).await?);
        tracing::info!("statistics, reports and exports read from DATABASE_READ_URL");
    }
    let trusted_file = state
        .trusted
        .clone()
        .zip(config.trusted_documents_file.clone());
    if config.issuers_file.is_some() || trusted_file.is_some() {
        tokio::spawn(reload_on_hangup(
            state.verifier.clone(),
            config.issuers_file.clone(),
            trusted_file,
        ));
    }
    if state.limits.any() {
        tokio::spawn(limits::forget_idle_buckets(state.limits.clone()));
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    if let Some(admin) = config.metrics_bind {
        let admin_listener = tokio::net::TcpListener::bind(admin)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {admin} (CSPHUB_METRICS_BIND): {e}"))?;
        tracing::info!(address = %admin, "metrics are served at /metrics");
        tokio::spawn(layers::serve_on(
            admin_listener,
            metrics::admin_router(state.metrics.clone(), pool.clone(), state.parked.clone()),
            config.header_timeout,
            std::future::pending(),
        ));
    }
    tracing::info!(address = %config.bind, graphiql = state.graphiql, demo = config.demo, "csphub is listening");
    eprintln!("csphub is listening on http://{}/graphql", config.bind);
    layers::serve_on(
        listener,
        router(state),
        config.header_timeout,
        shutdown_signal(),
    )
    .await;
    parked.release_all();
    if let Err(e) = pool.close_by_ref().await {
        tracing::warn!(error = %e, "closing the database pool");
    }
    tracing::info!("csphub stopped");
    Ok(())
}

/// Resolves on SIGTERM (what service managers and container runtimes send) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: no new connections; in-flight requests finish (at most 30 s)");
    eprintln!("csphub is shutting down");
}
