//! Plain HTTP: the partner push and CSV export (`incident`), health, readiness and GraphiQL
//! (served with its own assets, so it works on networks with no internet access).

pub mod incident;
pub mod page;
pub mod report;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::error::AppError;
use crate::http::state::AppState;

/// The REST error shape: `{"error": {"code", "message"}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT, PAYLOAD_TOO_LARGE,
    /// UNAVAILABLE, TIMEOUT or INTERNAL.
    code: String,
    message: String,
}

/// The OpenAPI document of the plain-HTTP endpoints (GraphQL is described by
/// `schema.graphql`), generated from the handlers' annotations.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "csphub REST API", description = "The partner push, the CSV export and health checks. The GraphQL API at POST /graphql is described by schema.graphql."),
    paths(incident::push, incident::export_csv, report::rag_update_csv, report::pcc_report_csv, report::assessment_csv, report::area_statistics_csv, report::hotspots_csv, report::areas_geojson, report::submission_csv, healthz, readyz),
    modifiers(&BearerAuth),
    tags((name = "incidents", description = "Depersonalised incident records"), (name = "reports", description = "Reports as CSV"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json`: the OpenAPI document of the REST endpoints, served when
/// introspection is (the same choice: a service describes itself only where that is wanted).
pub async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    use utoipa::OpenApi;
    if !state.introspection {
        return AppError::NotFound(
            "the OpenAPI document is served only with CSPHUB_INTROSPECTION=true".to_owned(),
        )
        .into_response();
    }
    Json(ApiDoc::openapi()).into_response()
}

/// `GET /healthz`: the process is alive.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "The process is alive")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// How long `/readyz` waits for the database before it answers 503.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(900);

/// `GET /readyz`: the database answers and every migration is applied; within a second either
/// way.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "The database answers and migrations are current"),
    (status = 503, description = "Not ready: the database is unreachable or migrations are pending"),
))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let check = tokio::time::timeout(READY_TIMEOUT, crate::db::pending_migrations(&state.db))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {READY_TIMEOUT:?}")));
    match check {
        Ok(pending) if pending.is_empty() => {
            (StatusCode::OK, Json(json!({"status": "ready", "database": "ok", "migrations": "current"})))
                .into_response()
        }
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not ready", "database": "ok", "migrations": "pending", "pending": pending})),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}

const GRAPHIQL_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>csphub GraphiQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
  <link rel="stylesheet" href="/graphiql/assets/page.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="/graphiql/assets/react.production.min.js"></script>
  <script src="/graphiql/assets/react-dom.production.min.js"></script>
  <script src="/graphiql/assets/graphiql.min.js"></script>
  <script src="/graphiql/assets/init.js"></script>
</body>
</html>
"#;

/// `GET /graphql`: GraphiQL, when enabled.
pub async fn graphiql(State(state): State<Arc<AppState>>) -> Response {
    if !state.graphiql {
        return AppError::NotFound(
            "GraphiQL is off; set CSPHUB_GRAPHIQL=true to serve it (POST GraphQL requests to /graphql)"
                .to_owned(),
        )
        .into_response();
    }
    Html(GRAPHIQL_PAGE).into_response()
}

/// `GET /graphiql/assets/{file}`: GraphiQL's own scripts and styles, from the binary.
pub async fn graphiql_asset(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
) -> Response {
    if !state.graphiql {
        return AppError::not_found("asset").into_response();
    }
    let (body, content_type): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "init.js" => (
            include_bytes!("../../assets/graphiql/init.js"),
            "text/javascript; charset=utf-8",
        ),
        "page.css" => (
            b"body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }\n",
            "text/css; charset=utf-8",
        ),
        "graphiql.min.css" => (
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            "text/css; charset=utf-8",
        ),
        "react.production.min.js" => (
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return AppError::not_found("asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
