//! The service's state every handler shares: pools, the schema, the token verifier, the gates
//! and caches. It is made by the server assembly (`crate::app`, `AppState::new`).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::auth::token::Verifier;
use crate::db;
use crate::error::AppError;
use crate::graphql::CsphubSchema;
use crate::graphql::guard;
use crate::graphql::trusted::TrustedList;
use crate::http::caller::{CallerCache, VerifiedToken};
use crate::http::limits::RateLimits;
use crate::metrics::Metrics;

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
    /// Callers resolved in the last few seconds (`CallerCache`).
    pub callers: Arc<CallerCache>,
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
