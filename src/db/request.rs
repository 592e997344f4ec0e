//! One request, one connection, and one transaction where it must.
//!
//! A request takes one connection from the pool, and every statement of the request runs on it.
//! Requests that write, read case data or have a statement budget open one transaction on it
//! (`BEGIN`, [`RequestDb::Txn`]) and end with `COMMIT` (or `ROLLBACK` when they fail before
//! their answer is ready). Writes nest inside it as savepoints, so a mutation that fails leaves
//! the others of the same request as they were.
//!
//! Any other request (a query of plans, indicators, areas and the like) reads on its connection
//! without a transaction ([`RequestDb::Read`]): under PostgreSQL's READ COMMITTED each statement
//! sees its own snapshot whether or not it is in a transaction, so reads lose nothing, and the
//! request saves the round trips of `BEGIN` and `COMMIT`.
//!
//! The first statement of a transaction is the caller's identity lookup (`open_as`), and it
//! also writes the caller into transaction-local settings, for row-level-security policies to
//! read with `current_setting('csphub.agency_id', true)`:
//!
//! | setting | value |
//! |---|---|
//! | `csphub.sub` | the token's subject |
//! | `csphub.role` | police, fire, council or pcc |
//! | `csphub.agency_id` | the caller's agency (uuid) |
//! | `csphub.partnership_ids` | the partnerships in scope, comma-separated uuids |
//!
//! Being `SET LOCAL` settings they vanish at `COMMIT`: a connection goes back to the pool with no
//! identity on it, and a statement run outside a request's transaction sees none (empty), so
//! the read lane sees no case rows (the policies fail closed). Heavy requests get their
//! statement budget the same way, in the same statement, so none of this costs a round trip.

use crate::pg_row;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::{self, Executor, PgPool, Postgres, pool::PoolConnection};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement, TransactionTrait,
};
use uuid::Uuid;

use super::fetch_all;
use super::partnership::{AgencyRow, PartnershipRow};
use crate::error::{AppError, AppResult};

/// The connection of one request, shared by its resolvers and data loaders.
pub type RequestTxn = Arc<RequestDb>;

/// What a request's statements run on: its transaction, or (for reads that need none) its one
/// connection without a transaction. See the module's documentation for which.
pub enum RequestDb {
    Txn(DatabaseTransaction),
    Read(ReadConnection),
}

impl RequestDb {
    /// The request's transaction, for work that must have one (writes, case data, reports).
    /// A request on the read lane has none: asking is a bug (the field belongs in the lists of
    /// `graphql::guard` that route a request to a transaction), and fails the request.
    pub fn txn(&self) -> AppResult<&DatabaseTransaction> {
        match self {
            RequestDb::Txn(txn) => Ok(txn),
            RequestDb::Read(_) => Err(AppError::internal(anyhow::anyhow!(
                "a field that needs a transaction ran on the read lane"
            ))),
        }
    }

    /// A savepoint in the request's transaction (see [`RequestDb::txn`]).
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        match self {
            RequestDb::Txn(txn) => txn.begin().await,
            RequestDb::Read(_) => Err(DbErr::Custom(
                "a write ran on the read lane, which has no transaction".to_owned(),
            )),
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for RequestDb {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            RequestDb::Txn(txn) => txn.execute_raw(stmt).await,
            RequestDb::Read(conn) => conn.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            RequestDb::Txn(txn) => txn.execute_unprepared(sql).await,
            RequestDb::Read(conn) => conn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            RequestDb::Txn(txn) => txn.query_one_raw(stmt).await,
            RequestDb::Read(conn) => conn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            RequestDb::Txn(txn) => txn.query_all_raw(stmt).await,
            RequestDb::Read(conn) => conn.query_all_raw(stmt).await,
        }
    }
}

/// One connection from the pool, used without a transaction: each statement commits on its
/// own (reads only, by the routing in `app.rs`). Statements are prepared and cached on the
/// connection as sea-orm's are, and fail with the same errors.
pub struct ReadConnection {
    conn: tokio::sync::Mutex<PoolConnection<Postgres>>,
    observer: Option<StatementObserver>,
    /// Where the connection waits for the next read when the request ends cleanly.
    parked: Option<Arc<ParkedConnections>>,
    /// A statement failed: the connection goes back to the pool, which checks it.
    failed: std::sync::atomic::AtomicBool,
    /// When the connection left the pool (it may have served reads parked since).
    lent_since: std::time::Instant,
}

/// Told of every statement the read lane runs, as sea-orm's metric callback is told of the
/// pool's and the transactions' (`AppState::observe_statements` sets both).
pub type StatementObserver = Arc<dyn Fn(&sea_orm::metric::Info<'_>) + Send + Sync>;

impl ReadConnection {
    fn observe(&self, stmt: &Statement, started: std::time::Instant, failed: bool) {
        if failed {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(observer) = &self.observer {
            observer(&sea_orm::metric::Info {
                elapsed: started.elapsed(),
                statement: stmt,
                failed,
            });
        }
    }

    fn query(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, sea_query_sqlx::SqlxValues> {
        let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
        sqlx::query_with(
            sqlx::AssertSqlSafe(stmt.sql.as_str()),
            sea_query_sqlx::SqlxValues(values),
        )
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut conn = self.conn.lock().await;
        let started = std::time::Instant::now();
        let done = Self::query(&stmt).execute(&mut **conn).await;
        self.observe(&stmt, started, done.is_err());
        done.map(Into::into)
            .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut conn = self.conn.lock().await;
        let done = conn.execute(sqlx::AssertSqlSafe(sql.to_owned())).await;
        if done.is_err() {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        done.map(Into::into)
            .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))
    }

    /// The request is over: a connection whose statements all succeeded waits for the next
    /// read among the parked ones; any other goes back to the pool (which checks it).
    fn end(self, clean: bool) {
        let failed = self.failed.load(std::sync::atomic::Ordering::Relaxed);
        let conn = Lent {
            conn: self.conn.into_inner(),
            since: self.lent_since,
        };
        match self.parked {
            Some(parked) if clean && !failed => parked.park(conn),
            _ => drop(conn),
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut conn = self.conn.lock().await;
        let started = std::time::Instant::now();
        let done = Self::query(&stmt).fetch_optional(&mut **conn).await;
        self.observe(&stmt, started, done.is_err());
        match done {
            Ok(row) => Ok(row.map(Into::into)),
            Err(e) => Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))),
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.conn.lock().await;
        let started = std::time::Instant::now();
        let done = Self::query(&stmt).fetch_all(&mut **conn).await;
        self.observe(&stmt, started, done.is_err());
        match done {
            Ok(rows) => Ok(rows.into_iter().map(Into::into).collect()),
            Err(e) => Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))),
        }
    }
}

/// Takes a connection for a request that only reads and needs neither row-level security's
/// settings nor a statement budget (see the module's documentation). A pool with no free
/// connection within the acquire timeout is UNAVAILABLE.
pub async fn read(
    db: &DatabaseConnection,
    parked: Option<&Arc<ParkedConnections>>,
    observer: Option<&StatementObserver>,
) -> AppResult<RequestDb> {
    let pool: &PgPool = match db.get_database_backend() {
        DbBackend::Postgres => db.get_postgres_connection_pool(),
        other => {
            return Err(AppError::internal(anyhow::anyhow!(
                "csphub runs on PostgreSQL, not {other:?}"
            )));
        }
    };
    let lent = match parked {
        Some(parked) => parked.take_or_acquire(pool).await,
        None => pool.acquire().await.map(Lent::new),
    }
    .map_err(|e| {
        AppError::internal(match e {
            sqlx::Error::PoolTimedOut => {
                DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)
            }
            sqlx::Error::PoolClosed => {
                DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::ConnectionClosed)
            }
            other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
        })
    })?;
    Ok(RequestDb::Read(ReadConnection {
        conn: tokio::sync::Mutex::new(lent.conn),
        lent_since: lent.since,
        observer: observer.cloned(),
        parked: parked.cloned(),
        failed: std::sync::atomic::AtomicBool::new(false),
    }))
}

/// Read-lane connections kept checked out between requests, so that the next read takes one
/// without a round trip. sqlx's pool checks every connection given back to it with a round trip
/// to the database (a `Sync`; no setting turns that off), which for a small read is a third of
/// its database work. A connection is parked only after a request whose statements all
/// succeeded, and a parked one has nothing in flight; should one still have (a statement cut
/// off), sqlx finishes reading it before the next statement.
///
/// A read that finds none parked waits for the pool and, at the same time, for a read that
/// ends: whichever comes first serves it, so under load reads hand their connections straight
/// to the next one. Transactions never starve: while one waits for the pool, every read that
/// ends gives its connection back to the pool (whose queue is first come, first served), and
/// one that has to wait first gives back a parked connection. One parked longer than
/// `IDLE_BEFORE_PING` (the database may have restarted since) goes back to the pool, which
/// checks it, rather than serve a read.
///
/// A connection away from the pool for longer than `LONGEST_AWAY` goes back to it at the end of
/// its read, so that the pool's own rules (its connections' lifetime) still apply to it.
pub struct ParkedConnections {
    inner: std::sync::Mutex<Parked>,
    /// How long one may stay parked and still serve a read (`IDLE_BEFORE_PING`).
    longest_parked: Duration,
    /// How long one may stay away from the pool (`LONGEST_AWAY`).
    longest_away: Duration,
}

/// How long a connection may serve reads, parked in between, before it goes back to the pool.
const LONGEST_AWAY: Duration = Duration::from_secs(300);

/// A connection out of the pool for reads, and since when.
struct Lent {
    conn: PoolConnection<Postgres>,
    since: std::time::Instant,
}

impl Lent {
    fn new(conn: PoolConnection<Postgres>) -> Self {
        Self {
            conn,
            since: std::time::Instant::now(),
        }
    }
}

type Handoff = tokio::sync::oneshot::Sender<Lent>;

#[derive(Default)]
struct Parked {
    /// With when each was parked, the most recent last.
    idle: Vec<(std::time::Instant, Lent)>,
    /// Reads waiting for a connection, first come first served.
    reads: std::collections::VecDeque<Handoff>,
    /// Requests waiting for the pool itself right now (transactions, and reads while it has
    /// room): reads that end give their connections back to the pool meanwhile.
    pool_waiters: usize,
}

impl ParkedConnections {
    pub fn new() -> Self {
        Self::with_limits(super::IDLE_BEFORE_PING, LONGEST_AWAY)
    }

    /// With other limits than the service's (for tests): how long a connection may stay
    /// parked and still serve a read, and how long it may stay away from the pool.
    pub fn with_limits(longest_parked: Duration, longest_away: Duration) -> Self {
        Self {
            inner: std::sync::Mutex::new(Parked::default()),
            longest_parked,
            longest_away,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Parked> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A parked connection (the most recently parked). Else, while the pool has a free
    /// connection or room for one, the pool's; when it has neither, the first of the pool's
    /// next and one handed over by a read that ends.
    async fn take_or_acquire(&self, pool: &PgPool) -> Result<Lent, sqlx::Error> {
        let mut stale = Vec::new();
        let full = pool.num_idle() == 0 && pool.size() >= pool.options().get_max_connections();
        let handed = {
            let mut parked = self.lock();
            while let Some((at, conn)) = parked.idle.pop() {
                if at.elapsed() < self.longest_parked {
                    return Ok(conn);
                }
                stale.push(conn);
            }
            if full {
                let (tx, rx) = tokio::sync::oneshot::channel();
                parked.reads.retain(|waiting| !waiting.is_closed());
                parked.reads.push_back(tx);
                Some(rx)
            } else {
                parked.pool_waiters += 1;
                None
            }
        };
        // Given back to the pool outside the lock: the pool checks them before reuse.
        drop(stale);
        let Some(handed) = handed else {
            // The pool hands out a free connection or opens one; until then, reads that end
            // give theirs back to the pool, in case another request took the free one first.
            let acquired = pool.acquire().await;
            let mut parked = self.lock();
            parked.pool_waiters = parked.pool_waiters.saturating_sub(1);
            return acquired.map(Lent::new);
        };
        // The pool is at its size with nothing free, so its `acquire` only waits (it opens
        // nothing that giving up on it would cut off).
        tokio::select! {
            biased;
            Ok(conn) = handed => Ok(conn),
            // A connection handed over after this is dropped with the channel: it goes back
            // to the pool.
            acquired = pool.acquire() => acquired.map(Lent::new),
        }
    }

    /// Hands a clean connection to the next read waiting for one, or parks it for the next
    /// read; while a request waits for the pool itself, gives it back to the pool instead.
    fn park(&self, conn: Lent) {
        if conn.since.elapsed() > self.longest_away {
            drop(conn);
            return;
        }
        let mut conn = conn;
        let mut parked = self.lock();
        if parked.pool_waiters > 0 {
            drop(parked);
            drop(conn);
            return;
        }
        while let Some(waiting) = parked.reads.pop_front() {
            match waiting.send(conn) {
                Ok(()) => return,
                Err(back) => conn = back,
            }
        }
        // Those parked long ago (fewer reads now than before) go back to the pool.
        let stale = parked
            .idle
            .iter()
            .take_while(|(at, _)| at.elapsed() >= self.longest_parked)
            .count();
        let stale: Vec<_> = parked.idle.drain(..stale).collect();
        parked.idle.push((std::time::Instant::now(), conn));
        drop(parked);
        drop(stale);
    }

    /// For a transaction about to take a connection from the pool: counts it as waiting, and
    /// when the pool has none free, gives one parked connection back so that it need not wait
    /// for a read to end.
    fn expect_wait(&self, pool_empty: bool) {
        let released = {
            let mut parked = self.lock();
            parked.pool_waiters += 1;
            if !pool_empty || parked.idle.is_empty() {
                None
            } else {
                Some(parked.idle.remove(0))
            }
        };
        drop(released);
    }

    fn done_waiting(&self) {
        let mut parked = self.lock();
        parked.pool_waiters = parked.pool_waiters.saturating_sub(1);
    }

    /// How many connections are parked now.
    pub fn len(&self) -> usize {
        self.lock().idle.len()
    }

    /// Whether none is parked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gives every parked connection back to the pool (before the pool closes).
    pub fn release_all(&self) {
        let all = std::mem::take(&mut self.lock().idle);
        drop(all);
    }
}

impl Default for ParkedConnections {
    fn default() -> Self {
        Self::new()
    }
}

/// What the opening statement needs to know about the caller, from a verified token.
pub struct Caller<'a> {
    pub sub: &'a str,
    pub role: &'a str,
    pub agency: &'a str,
    pub partnerships: &'a [String],
    /// The statement budget for the rest of the request, when it is not the pool's default
    /// (statistics, reports and pushes).
    pub heavy_budget: Option<Duration>,
    /// Run the request's statements with generic plans (`plan_cache_mode`), for requests of
    /// case data: their statements are index lookups whose plans do not depend on the values,
    /// and under row-level security PostgreSQL's default otherwise plans them afresh each time.
    pub generic_plans: bool,
}

/// Takes a connection and begins the request's transaction. A pool with no free connection
/// within the acquire timeout is UNAVAILABLE.
pub async fn begin(
    db: &DatabaseConnection,
    parked: Option<&ParkedConnections>,
) -> AppResult<RequestDb> {
    let Some(parked) = parked else {
        return db
            .begin()
            .await
            .map(RequestDb::Txn)
            .map_err(AppError::internal);
    };
    parked.expect_wait(db.get_postgres_connection_pool().num_idle() == 0);
    let begun = db.begin().await;
    parked.done_waiting();
    begun.map(RequestDb::Txn).map_err(AppError::internal)
}

pg_row! {
    struct OpenRow {
        id: Uuid,
        slug: String,
        name: String,
        kind: String,
        partnership_id: Option<Uuid>,
        partnership_slug: Option<String>,
        partnership_name: Option<String>,
        county: Option<String>,
    }
}

/// The caller's agency with the partnerships among the token's that it belongs to, in one
/// statement that also sets the transaction-local settings above. `None` when the agency is
/// not registered (nothing is set then).
pub async fn open_as(
    txn: &RequestDb,
    caller: &Caller<'_>,
) -> AppResult<Option<(AgencyRow, Vec<PartnershipRow>)>> {
    let budget = caller.heavy_budget.map(|b| b.as_millis().to_string());
    // `scope` is computed once for the agency; the settings are evaluated once per row with
    // the same values. A NULL budget leaves the pool's statement timeout in force.
    let rows: Vec<OpenRow> = fetch_all(
        txn,
        "WITH ag AS (SELECT a.id, a.slug, a.name, a.kind FROM agencies a WHERE a.slug = $1), \
         scope AS ( \
           SELECT p.id, p.slug, p.name, p.county FROM ag \
           JOIN agency_partnerships ap ON ap.agency_id = ag.id \
           JOIN partnerships p ON p.id = ap.partnership_id AND p.slug = ANY($2)), \
         settings AS ( \
           SELECT set_config('csphub.sub', $3, true) AS sub, \
                  set_config('csphub.role', $4, true) AS role, \
                  set_config('csphub.agency_id', ag.id::text, true) AS agency, \
                  set_config('csphub.partnership_ids', \
                    coalesce((SELECT string_agg(id::text, ',' ORDER BY id) FROM scope), ''), true) AS scope, \
                  CASE WHEN $5::text IS NULL THEN '' \
                       ELSE set_config('statement_timeout', $5::text, true) END AS budget, \
                  CASE WHEN $6 THEN set_config('plan_cache_mode', 'force_generic_plan', true) \
                       ELSE '' END AS plans \
           FROM ag) \
         SELECT ag.id, ag.slug, ag.name, ag.kind, s.id AS partnership_id, \
           s.slug AS partnership_slug, s.name AS partnership_name, s.county \
         FROM ag CROSS JOIN settings LEFT JOIN scope s ON true \
         WHERE settings.sub IS NOT NULL ORDER BY s.slug",
        vec![
            caller.agency.into(),
            caller.partnerships.to_vec().into(),
            caller.sub.into(),
            caller.role.into(),
            budget.into(),
            caller.generic_plans.into(),
        ],
    )
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let agency = AgencyRow {
        id: first.id,
        slug: first.slug.clone(),
        name: first.name.clone(),
        kind: first.kind.clone(),
    };
    let partnerships = rows
        .into_iter()
        .filter_map(|r| {
            Some(PartnershipRow {
                id: r.partnership_id?,
                slug: r.partnership_slug?,
                name: r.partnership_name?,
                county: r.county?,
            })
        })
        .collect();
    Ok(Some((agency, partnerships)))
}

/// Ends the request's transaction: COMMIT when `commit`, ROLLBACK otherwise. Every resolver
/// and loader must have let go of it by now; if one has not (a bug), the transaction is rolled
/// back when the last holder drops it, and the request fails rather than claim a write.
pub async fn finish(txn: RequestTxn, commit: bool) -> AppResult<()> {
    let txn = Arc::try_unwrap(txn).map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "the request's transaction is still shared after the request"
        ))
    })?;
    // The read lane has nothing to end: its connection is parked for the next read, or goes
    // back to the pool.
    let txn = match txn {
        RequestDb::Txn(txn) => txn,
        RequestDb::Read(read) => {
            read.end(commit);
            return Ok(());
        }
    };
    if commit {
        txn.commit().await.map_err(AppError::internal)
    } else {
        txn.rollback().await.map_err(AppError::internal)
    }
}
