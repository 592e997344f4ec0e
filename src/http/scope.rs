//! One request's database work, the same for GraphQL and every REST handler: a heavy slot when
//! the work is heavy (taken before a connection, so that waiting requests cannot take the pool
//! from everyone else), the lane (a transaction, or the read lane for small reads), the pool
//! (the replica for read-only heavy work), the caller resolved as the first statement, the work,
//! then COMMIT or ROLLBACK, in a task of its own so that a client that hangs up cannot cut a
//! transaction in two.

use std::sync::Arc;
use std::time::Instant;

use crate::auth::Principal;
use crate::db;
use crate::db::request::RequestTxn;
use crate::error::{AppError, REQUEST_ID};
use crate::http::caller::{VerifiedToken, resolve_caller};
use crate::http::state::AppState;

/// What a request's work needs of the database.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    /// Heavy work (statistics, reports, exports, pushes): the heavy statement budget.
    pub budget: bool,
    /// Wait for a slot of the heavy gate before taking a connection.
    pub slot: bool,
    /// It writes.
    pub writes: bool,
    /// It reads or writes case data: row-level security's settings, and the primary.
    pub case_data: bool,
    /// A GraphQL request: its wait for a connection is counted in
    /// `csphub_db_connection_wait_seconds` (whose help says so).
    pub graphql: bool,
}

impl Scope {
    /// Read-only heavy work: reports and exports.
    pub const HEAVY_READ: Scope = Scope {
        budget: true,
        slot: true,
        writes: false,
        case_data: false,
        graphql: false,
    };

    /// A push: the heavy statement budget but no slot (see `db::DbSettings`), on the primary.
    pub const PUSH: Scope = Scope {
        budget: true,
        slot: false,
        writes: true,
        case_data: false,
        graphql: false,
    };

    /// A small write that is not case data, such as an audit entry of a report link's opening.
    pub const WRITE: Scope = Scope {
        budget: false,
        slot: false,
        writes: true,
        case_data: false,
        graphql: false,
    };

    /// A transaction only where it must be one: writes, case data (row-level security's
    /// settings) and heavy work (its statement budget). Other reads run on their connection
    /// without one (`db::request`).
    pub fn transaction(&self) -> bool {
        self.writes || self.case_data || self.budget
    }

    /// Read-only heavy work may read from the replica; anything that writes or touches case
    /// data (and its audit entries) runs on the primary.
    fn replica(&self) -> bool {
        self.budget && !self.writes && !self.case_data
    }
}

/// A request's connection, open as its caller.
pub struct Opened {
    pub db: RequestTxn,
    pub principal: Principal,
}

impl AppState {
    /// The slot of the heavy gate the scope needs, if any (`AppState::heavy_slot`).
    pub async fn slot_for(
        &self,
        token: &VerifiedToken,
        scope: Scope,
    ) -> Result<Option<db::HeavySlot>, AppError> {
        if scope.slot {
            self.heavy_slot(token).await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// Takes the request's connection (a transaction, or the read lane) from the pool the scope
    /// reads from, and resolves the caller as its first statement. Should that fail, the
    /// transaction ends here.
    pub async fn open(&self, token: &VerifiedToken, scope: Scope) -> Result<Opened, AppError> {
        let (pool, parked) = if scope.replica() {
            (self.heavy_reads(), self.heavy_reads_parked())
        } else {
            (&self.db, Some(self.parked.clone()))
        };
        let transaction = scope.transaction();
        let asked = Instant::now();
        let db = Arc::new(if transaction {
            db::request::begin(pool, parked.as_deref()).await?
        } else {
            db::request::read(pool, parked.as_ref(), self.statements.as_ref()).await?
        });
        if scope.graphql {
            self.metrics.connection_wait(transaction, asked);
        }
        let budget = scope.budget.then_some(self.heavy.timeout);
        match resolve_caller(&db, token, budget, scope.case_data, &self.callers).await {
            Ok(principal) => Ok(Opened { db, principal }),
            Err(e) => {
                let _ = db::request::finish(db, false).await;
                Err(e)
            }
        }
    }
}

/// Ends the request's connection after its work: COMMIT when the work succeeded and `commit`,
/// ROLLBACK otherwise. Nothing of the request is kept if the COMMIT fails: its error is the
/// answer then, rather than data. A ROLLBACK's own failure changes nothing (nothing was to be
/// kept), so the work's result stands.
pub async fn close<T>(
    db: RequestTxn,
    result: Result<T, AppError>,
    commit: bool,
) -> Result<T, AppError> {
    match result {
        Ok(value) if commit => {
            db::request::finish(db, true).await?;
            Ok(value)
        }
        other => {
            let _ = db::request::finish(db, false).await;
            other
        }
    }
}

/// Runs `work` as the token's caller in the scope: the slot, the connection, the work, then
/// `close` (COMMIT when `commit` and the work succeeded). Work in a transaction runs to its end
/// even if the client hangs up (`run_to_completion`); a read has nothing to end, so it runs in
/// this task and saves a task's hand-over.
///
/// `work` gets a share of the connection and the caller; it must let go of every share of the
/// connection by the time it ends (`db::request::finish`).
pub async fn run<T, F, W>(
    state: Arc<AppState>,
    token: VerifiedToken,
    scope: Scope,
    commit: bool,
    work: W,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, AppError>> + Send + 'static,
    W: FnOnce(RequestTxn, Principal) -> F + Send + 'static,
{
    run_then(state, token, scope, commit, work, |_: &T| {}).await
}

/// `run`, and then `done` with the result once the connection has ended well (committed, when
/// `commit`), in the same task: a client that hangs up does not skip it.
pub async fn run_then<T, F, W, D>(
    state: Arc<AppState>,
    token: VerifiedToken,
    scope: Scope,
    commit: bool,
    work: W,
    done: D,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, AppError>> + Send + 'static,
    W: FnOnce(RequestTxn, Principal) -> F + Send + 'static,
    D: FnOnce(&T) + Send + 'static,
{
    let slot = state.slot_for(&token, scope).await?;
    if scope.transaction() {
        return run_to_completion(async move {
            let _slot = slot;
            let Opened { db, principal } = state.open(&token, scope).await?;
            let result = work(db.clone(), principal).await;
            let value = close(db, result, commit).await?;
            done(&value);
            Ok(value)
        })
        .await;
    }
    // The same steps, written out rather than in a future of their own: the work's future (a
    // whole GraphQL execution, some kilobytes) is then not copied once more on its way
    // (callgrind: 18,000 instructions per `plans` request).
    let _slot = slot;
    let Opened { db, principal } = state.open(&token, scope).await?;
    let result = work(db.clone(), principal).await;
    let value = close(db, result, commit).await?;
    done(&value);
    Ok(value)
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
