//! Prometheus metrics, served on a separate admin address (`CSPHUB_METRICS_BIND`) so that they
//! are never reachable where the API is: request counts and latency per route and GraphQL
//! operation, errors by code, the connection pool, pushes and their records by outcome, and
//! statement timeouts.
//!
//! Each application state has its own registry (no global recorder), so instances in one
//! process, as the tests run them, count apart.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::StatusCode;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use sea_orm::DatabaseConnection;

/// Most distinct GraphQL operation names counted apart; later ones are counted as `other`, so
/// that callers making up names cannot grow the metrics without end.
pub const MAX_OPERATION_NAMES: usize = 100;

pub use crate::error::ErrorCodes;

/// The GraphQL operation label of an answer (`Metrics::operation_label`).
#[derive(Clone, Debug)]
pub struct OperationLabel(pub String);

/// A push's record counts, known once it has committed.
#[derive(Clone, Copy, Debug, Default)]
pub struct PushCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

/// Where a GraphQL `pushIncidents` leaves its counts until its transaction commits.
#[derive(Clone, Default)]
pub struct PendingPushes(Arc<Mutex<Vec<PushCounts>>>);

impl PendingPushes {
    pub fn add(&self, counts: PushCounts) {
        if let Ok(mut v) = self.0.lock() {
            v.push(counts);
        }
    }

    fn take(&self) -> Vec<PushCounts> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    errors: IntCounterVec,
    statement_timeouts: IntCounter,
    pushes: IntCounterVec,
    push_records: IntCounterVec,
    connection_wait: HistogramVec,
    heavy_wait: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    pool_parked: IntGauge,
    operations: Mutex<HashSet<String>>,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "csphub_requests_total",
                "HTTP requests answered, by route, GraphQL operation and status",
            ),
            &["route", "operation", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "csphub_request_duration_seconds",
                "Time from a request's arrival to its answer, by route and GraphQL operation",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["route", "operation"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "csphub_errors_total",
                "Errors answered, by code (a GraphQL answer counts each of its errors)",
            ),
            &["code"],
        )?;
        let statement_timeouts = IntCounter::new(
            "csphub_statement_timeouts_total",
            "Statements stopped by their time budget (answered TIMEOUT)",
        )?;
        let pushes = IntCounterVec::new(
            Opts::new(
                "csphub_pushes_total",
                "Incident pushes: applied (committed) or refused whole",
            ),
            &["outcome"],
        )?;
        let push_records = IntCounterVec::new(
            Opts::new(
                "csphub_push_records_total",
                "Records of applied pushes, by outcome: created, updated, unchanged, rejected",
            ),
            &["outcome"],
        )?;
        let connection_wait = HistogramVec::new(
            HistogramOpts::new(
                "csphub_db_connection_wait_seconds",
                "Time a GraphQL request waited for its database connection (with its BEGIN \
                 where it needs a transaction)",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0,
            ]),
            &["lane"],
        )?;
        let heavy_wait = HistogramVec::new(
            HistogramOpts::new(
                "csphub_heavy_slot_wait_seconds",
                "Time statistics, reports and exports waited for a slot of the heavy gate \
                 (CSPHUB_HEAVY_CONCURRENCY): taken, or refused when none came free in time",
            )
            .buckets(vec![
                0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["outcome"],
        )?;
        let pool_size = IntGauge::new(
            "csphub_db_pool_connections",
            "Connections the request pool holds open",
        )?;
        let pool_idle = IntGauge::new(
            "csphub_db_pool_idle_connections",
            "Open connections no request is using",
        )?;
        let pool_max = IntGauge::new(
            "csphub_db_pool_max_connections",
            "The request pool's size (CSPHUB_DB_POOL_SIZE)",
        )?;
        let pool_parked = IntGauge::new(
            "csphub_db_parked_connections",
            "Open connections kept for the next read between requests (the pool counts them \
             as in use, not idle)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(statement_timeouts.clone()))?;
        registry.register(Box::new(pushes.clone()))?;
        registry.register(Box::new(push_records.clone()))?;
        registry.register(Box::new(connection_wait.clone()))?;
        registry.register(Box::new(heavy_wait.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(pool_parked.clone()))?;
        for outcome in ["applied", "refused"] {
            pushes.with_label_values(&[outcome]);
        }
        for outcome in ["created", "updated", "unchanged", "rejected"] {
            push_records.with_label_values(&[outcome]);
        }
        Ok(Self {
            registry,
            requests,
            latency,
            errors,
            statement_timeouts,
            pushes,
            push_records,
            connection_wait,
            heavy_wait,
            pool_size,
            pool_idle,
            pool_max,
            pool_parked,
            operations: Mutex::default(),
        })
    }

    /// The label a GraphQL operation name is counted under: the name itself for the first
    /// `MAX_OPERATION_NAMES` names, then `other`; `anonymous` without a name.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".to_owned();
        };
        let Ok(mut known) = self.operations.lock() else {
            return "other".to_owned();
        };
        if known.contains(name) {
            return name.to_owned();
        }
        if known.len() < MAX_OPERATION_NAMES {
            known.insert(name.to_owned());
            return name.to_owned();
        }
        "other".to_owned()
    }

    pub fn connection_wait(&self, transaction: bool, started: Instant) {
        let lane = if transaction { "transaction" } else { "read" };
        self.connection_wait
            .with_label_values(&[lane])
            .observe(started.elapsed().as_secs_f64());
    }

    pub fn heavy_slot_wait(&self, taken: bool, started: Instant) {
        let outcome = if taken { "taken" } else { "refused" };
        self.heavy_wait
            .with_label_values(&[outcome])
            .observe(started.elapsed().as_secs_f64());
    }

    /// A push that committed, with its record counts.
    pub fn push_applied(&self, counts: PushCounts) {
        self.pushes.with_label_values(&["applied"]).inc();
        for (outcome, n) in [
            ("created", counts.created),
            ("updated", counts.updated),
            ("unchanged", counts.unchanged),
            ("rejected", counts.rejected),
        ] {
            self.push_records.with_label_values(&[outcome]).inc_by(n);
        }
    }

    /// The GraphQL pushes of a request whose transaction committed.
    pub fn pushes_committed(&self, pending: &PendingPushes) {
        for counts in pending.take() {
            self.push_applied(counts);
        }
    }

    pub fn push_refused(&self) {
        self.pushes.with_label_values(&["refused"]).inc();
    }

    fn observe(&self, route: &str, operation: &str, res: &Response, started: Instant) {
        let status = res.status();
        self.requests
            .with_label_values(&[route, operation, status.as_str()])
            .inc();
        self.latency
            .with_label_values(&[route, operation])
            .observe(started.elapsed().as_secs_f64());
        let fallback;
        let codes = match res.extensions().get::<ErrorCodes>() {
            Some(ErrorCodes(codes)) => codes.as_slice(),
            None if status.is_client_error() || status.is_server_error() => {
                fallback = [crate::error::code_for_status(status)];
                fallback.as_slice()
            }
            None => &[],
        };
        for code in codes {
            self.errors.with_label_values(&[code]).inc();
            // TIMEOUT is also a body that did not arrive in time (408): not a statement.
            if *code == "TIMEOUT" && status != StatusCode::REQUEST_TIMEOUT {
                self.statement_timeouts.inc();
            }
        }
    }

    /// The text exposition, with the pool read as it is now.
    /// `parked` is how many connections are parked (`db::request::ParkedConnections`).
    pub fn render(&self, db: &DatabaseConnection, parked: usize) -> String {
        self.pool_parked
            .set(i64::try_from(parked).unwrap_or(i64::MAX));
        let pool = db.get_postgres_connection_pool();
        self.pool_size.set(i64::from(pool.size()));
        self.pool_idle
            .set(i64::try_from(pool.num_idle()).unwrap_or(i64::MAX));
        self.pool_max
            .set(i64::from(pool.options().get_max_connections()));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Counts an answer: by its route (the router's pattern, never the raw path; `None` for a path
/// no route matched), its GraphQL operation label and status, with its latency and error codes.
/// Called by `layers::guards` for every request.
pub fn count(metrics: &Metrics, route: Option<&MatchedPath>, res: &Response, started: Instant) {
    let operation = res
        .extensions()
        .get::<OperationLabel>()
        .map(|o| o.0.as_str())
        .unwrap_or("");
    let route = route.map_or("unmatched", MatchedPath::as_str);
    metrics.observe(route, operation, res, started);
}
