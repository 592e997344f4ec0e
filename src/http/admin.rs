//! The admin address (`CSPHUB_METRICS_BIND`): `GET /metrics`, apart from the API's address.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sea_orm::DatabaseConnection;

use crate::db::request::ParkedConnections;
use crate::metrics::Metrics;

/// The admin address's router: `GET /metrics` only.
pub fn admin_router(
    metrics: Arc<Metrics>,
    db: DatabaseConnection,
    parked: Arc<ParkedConnections>,
) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                let (db, parked) = (db.clone(), parked.clone());
                async move {
                    let mut res = metrics.render(&db, parked.len()).into_response();
                    res.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                    );
                    res
                }
            }),
        )
        .fallback(super::layers::not_found)
}
