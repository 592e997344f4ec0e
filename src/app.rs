//! The HTTP application: state, routes, the GraphQL endpoint and request ids.

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use tower_http::limit::RequestBodyLimitLayer;
use uuid::Uuid;

use crate::auth::token::{Verifier, dev_issuer};
use crate::auth::{Capability, Principal, Role, ScopedPartnership};
use crate::config::Config;
use crate::error::{AppError, REQUEST_ID};
use crate::graphql::{CsphubSchema, build_schema, request_data};
use crate::{db, rest};

/// Largest GraphQL request body accepted.
pub const MAX_GRAPHQL_BODY: usize = 256 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: CsphubSchema,
    pub verifier: Arc<Verifier>,
    pub graphiql: bool,
    pub push_max_records: usize,
    pub push_max_bytes: usize,
}

impl AppState {
    pub fn new(config: &Config, db: DatabaseConnection) -> Self {
        let mut issuers = config.issuers.clone();
        if config.demo {
            issuers.push(dev_issuer(&config.dev_jwt_secret));
        }
        Self {
            schema: build_schema(Some(db.clone())),
            verifier: Arc::new(Verifier::new(
                issuers,
                &config.audience,
                config.jwt_leeway_secs,
            )),
            graphiql: config.graphiql_enabled(),
            push_max_records: config.push_max_records,
            push_max_bytes: config.push_max_bytes,
            db,
        }
    }
}

/// The router production serves; tests serve exactly this.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/graphql",
            get(rest::graphiql)
                .post(graphql_handler)
                .layer(RequestBodyLimitLayer::new(MAX_GRAPHQL_BODY)),
        )
        .route("/graphiql/assets/{file}", get(rest::graphiql_asset))
        .route("/api/v1/incidents", post(rest::incident::push))
        .route("/api/v1/incidents.csv", get(rest::incident::export_csv))
        .route("/healthz", get(rest::healthz))
        .route("/readyz", get(rest::readyz))
        .with_state(state)
        .layer(middleware::from_fn(request_id))
}

/// Gives every request an id: in the response header `x-request-id`, in the log lines, and in
/// INTERNAL errors.
async fn request_id(req: Request, next: Next) -> Response {
    let id = Uuid::new_v4().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let fut = async move {
        let res = next.run(req).await;
        tracing::info!(status = res.status().as_u16(), "served");
        res
    };
    let mut res = REQUEST_ID
        .scope(id.clone(), tracing::Instrument::instrument(fut, span))
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// A GraphQL-shaped error response with an HTTP status (for failures before execution).
fn graphql_error(err: AppError) -> Response {
    let status = err.status();
    let body = serde_json::json!({
        "errors": [{"message": err.client_message(), "extensions": {"code": err.code()}}]
    });
    let mut res = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

async fn graphql_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: GraphQLRequest,
) -> Response {
    let principal = match authenticate(&state, &headers).await {
        Ok(p) => p,
        Err(e) => return graphql_error(e),
    };
    let request = request_data(req.into_inner(), &state.db, principal);
    let mut response = state.schema.execute(request).await;
    // Errors raised by the GraphQL engine itself (parse, validation, limits) carry no code.
    for err in &mut response.errors {
        ensure_code(err);
    }
    GraphQLResponse::from(response).into_response()
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

/// Verifies the bearer token and resolves the caller's agency and partnerships.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, AppError> {
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
    let claims = state.verifier.verify(token)?;
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
    // One round trip per request: the agency and the token's partnerships it belongs to.
    let (agency, partnerships) =
        db::partnership::agency_in(&state.db, &claims.agency, &claims.partnerships)
            .await?
            .ok_or_else(|| {
                AppError::Unauthenticated("the token's agency is not registered".to_owned())
            })?;
    if agency.kind != role.agency_kind() {
        return Err(AppError::Unauthenticated(format!(
            "the token's agency is a {} agency, which does not match the role {}",
            agency.kind,
            role.as_str()
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
        sub: claims.sub,
        role,
        agency_id: agency.id,
        agency: agency.slug,
        partnerships,
        caps,
    })
}

/// Connects, migrates, optionally loads the demo data, and serves until Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    config.check_for_serving()?;
    let db = db::connect(&config.database_url).await?;
    db::prepare(&db).await?;
    if config.demo {
        crate::demo::load(&db).await?;
        crate::demo::print_tokens(&config)?;
    }
    let state = AppState::new(&config, db);
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    tracing::info!(address = %config.bind, graphiql = state.graphiql, demo = config.demo, "csphub is listening");
    eprintln!("csphub is listening on http://{}/graphql", config.bind);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
