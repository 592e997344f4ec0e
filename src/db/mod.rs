//! Database access: connecting, migrating and the queries, one file per aggregate. Queries are
//! generic over `ConnectionTrait` so they run inside a transaction or not, and they return
//! `AppError` only: database text never reaches a client.

pub mod area;
pub mod audit;
pub mod case;
pub mod geography;
pub mod grant;
pub mod hotspot_response;
pub mod incident;
pub mod indicator;
pub mod node;
pub mod page;
pub mod partnership;
pub mod plan;
pub mod report_link;
pub mod request;
pub mod row;
pub mod seal;
pub mod submission;
pub mod vocabulary;

use crate::pg_row;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    FromQueryResult, SqlErr, Statement, Value,
};
use secrecy::ExposeSecret;
use secrecy::SecretString;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

/// A statement for PostgreSQL with positional `$n` parameters.
pub fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Binds `value` as the next parameter of a statement built from parts and gives its placeholder
/// (`$n`): the one way statements with optional clauses (filters, cursors) number their
/// parameters.
pub fn bind(values: &mut Vec<Value>, value: impl Into<Value>) -> String {
    values.push(value.into());
    format!("${}", values.len())
}

pub async fn fetch_all<T, C>(conn: &C, sql: &str, values: Vec<Value>) -> AppResult<Vec<T>>
where
    T: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
{
    T::find_by_statement(stmt(sql, values))
        .all(conn)
        .await
        .map_err(AppError::internal)
}

pub async fn fetch_optional<T, C>(conn: &C, sql: &str, values: Vec<Value>) -> AppResult<Option<T>>
where
    T: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
{
    T::find_by_statement(stmt(sql, values))
        .one(conn)
        .await
        .map_err(AppError::internal)
}

/// Runs a write; unique-key violations on the named constraints become CONFLICT with the given
/// message, anything else is INTERNAL.
pub async fn execute<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
    conflicts: &[(&str, &str)],
) -> AppResult<u64> {
    conn.execute_raw(stmt(sql, values))
        .await
        .map(|r| r.rows_affected())
        .map_err(|e| map_write_error(e, conflicts))
}

/// Like `fetch_optional`, for `INSERT/UPDATE ... RETURNING`, with the same conflict mapping as
/// `execute`.
pub async fn write_returning<T, C>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
    conflicts: &[(&str, &str)],
) -> AppResult<Option<T>>
where
    T: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
{
    T::find_by_statement(stmt(sql, values))
        .one(conn)
        .await
        .map_err(|e| map_write_error(e, conflicts))
}

/// Unique-constraint violations become CONFLICT here, by constraint name; nothing else of the
/// database's text is kept for the client.
pub fn map_write_error(err: DbErr, conflicts: &[(&str, &str)]) -> AppError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() {
        for (constraint, client_message) in conflicts {
            if message.contains(constraint) {
                return AppError::Conflict((*client_message).to_owned());
            }
        }
        return AppError::Conflict("a record with the same key already exists".to_owned());
    }
    AppError::internal(err)
}

/// How the request pool treats the database: its size, how long a request waits for a
/// connection, and the time budgets of statements.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `CSPHUB_DB_POOL_SIZE`: connections in the pool. A request holds one from its first
    /// statement to its COMMIT. About four per core of the database server: on two cores, 3, 6
    /// and 10 served alike and 20 served 7 to 16% fewer requests (bench/load, docs/performance.md).
    pub pool_size: u32,
    /// `CSPHUB_DB_ACQUIRE_TIMEOUT_MS`: how long a request waits for a free connection (or a
    /// heavy-query slot) before it is answered UNAVAILABLE (503, `Retry-After`).
    pub acquire_timeout: Duration,
    /// `CSPHUB_STATEMENT_TIMEOUT_MS`: the budget of any one statement.
    pub statement_timeout: Duration,
    /// `CSPHUB_HEAVY_TIMEOUT_MS`: the budget of a statement of statistics, reports and pushes.
    pub heavy_timeout: Duration,
    /// `CSPHUB_HEAVY_CONCURRENCY`: how many statistics, report and CSV export requests may
    /// hold a connection at once, so that they can never take the whole pool from
    /// authentication and small queries. Pushes get the heavy budget but no slot: a partner's
    /// push must not wait behind a front-end's statistics.
    pub heavy_concurrency: usize,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            pool_size: 10,
            acquire_timeout: Duration::from_millis(1_000),
            statement_timeout: Duration::from_millis(5_000),
            heavy_timeout: Duration::from_millis(20_000),
            heavy_concurrency: 5,
        }
    }
}

/// The gate heavy work passes: at most `heavy_concurrency` at once, each waiting at most the
/// acquire timeout for its turn, and at most half of them (one at least) for one caller, so that
/// one token can never hold them all. Shared by every request of one process.
#[derive(Debug, Clone)]
pub struct Heavy {
    slots: Arc<Semaphore>,
    wait: Duration,
    /// The statement budget inside a heavy transaction.
    pub timeout: Duration,
    /// The most slots one caller may hold (or wait for) at once.
    pub per_caller: usize,
    held: Arc<std::sync::Mutex<HashMap<String, usize>>>,
}

/// A slot of the heavy gate, held until dropped.
#[derive(Debug)]
pub struct HeavySlot {
    _permit: OwnedSemaphorePermit,
    _caller: CallerShare,
}

/// One of a caller's slots (or its wait for one), counted until dropped.
#[derive(Debug)]
struct CallerShare {
    held: Arc<std::sync::Mutex<HashMap<String, usize>>>,
    caller: String,
}

impl Drop for CallerShare {
    fn drop(&mut self) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.caller);
            }
        }
    }
}

impl Heavy {
    pub fn new(settings: &DbSettings) -> Self {
        let slots = settings.heavy_concurrency.max(1);
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            wait: settings.acquire_timeout,
            timeout: settings.heavy_timeout,
            per_caller: (slots / 2).max(1),
            held: Arc::default(),
        }
    }

    /// A slot for one heavy request of `caller` (the token's issuer and subject), held until
    /// dropped; UNAVAILABLE when the caller already holds or waits for its share, or when none
    /// comes free in time.
    pub async fn slot(&self, caller: &str) -> AppResult<HeavySlot> {
        let share = {
            let mut held = self
                .held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = held.entry(caller.to_owned()).or_default();
            if *n >= self.per_caller {
                return Err(AppError::Unavailable(format!(
                    "this caller already runs {n} statistics, report or export requests, the most \
                     one caller may run at once; try again when one has finished"
                )));
            }
            *n += 1;
            CallerShare {
                held: self.held.clone(),
                caller: caller.to_owned(),
            }
        };
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HeavySlot {
                _permit: permit,
                _caller: share,
            }),
            _ => Err(AppError::Unavailable(
                "too many statistics, report and export requests are running; try again shortly"
                    .to_owned(),
            )),
        }
    }
}

/// `SET LOCAL statement_timeout`: the budget of every further statement of the transaction.
pub async fn set_statement_budget<C: ConnectionTrait>(txn: &C, budget: Duration) -> AppResult<()> {
    txn.execute_unprepared(&format!(
        "SET LOCAL statement_timeout = {}",
        budget.as_millis()
    ))
    .await
    .map(|_| ())
    .map_err(AppError::internal)
}

/// Connects the request pool, creating the database first when it does not exist. Every
/// statement runs under the statement timeout, and a request that cannot have a connection
/// within the acquire timeout fails with UNAVAILABLE instead of waiting.
pub async fn connect(
    url: &SecretString,
    settings: &DbSettings,
) -> anyhow::Result<DatabaseConnection> {
    ensure_database(url.expose_secret()).await?;
    connect_pool(url, settings).await
}

/// Connects the read pool (`DATABASE_READ_URL`: a read replica for statistics and reports),
/// as `connect` connects the request pool, but never creates anything: a replica is read-only.
pub async fn connect_replica(
    url: &SecretString,
    settings: &DbSettings,
) -> anyhow::Result<DatabaseConnection> {
    connect_pool(url, settings)
        .await
        .context("connecting to the read replica (DATABASE_READ_URL)")
}

async fn connect_pool(
    url: &SecretString,
    settings: &DbSettings,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.expose_secret().to_owned());
    options
        .max_connections(settings.pool_size)
        .min_connections(settings.pool_size.min(4))
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout.max(Duration::from_secs(1)))
        .statement_timeout(settings.statement_timeout)
        // A ping on every checkout is a round trip per request for nothing: a connection that
        // broke is found by its first statement, which fails as UNAVAILABLE (503, retry).
        // One idle for a while (the database may have restarted meanwhile) is pinged first.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .map_sqlx_postgres_opts(service_connection(url.expose_secret()))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .context("connecting to the database (as the csphub_service role)")
}

/// The database role every request runs as: not a superuser, owner of nothing, with only the
/// privileges its migration grants, and the one row-level-security policies are written for.
/// The pool asks for it at connection start (`-c role=...`), so even on a development URL
/// naming a superuser every statement of a request runs as this role; a login that may not
/// act as it cannot connect at all. A deployment gives the service a login role of its own
/// that is a member of it (`CREATE ROLE csphub_app LOGIN PASSWORD '...' IN ROLE
/// csphub_service`), and runs migrations with the owner's URL (docs/security.md, "Database roles").
pub const SERVICE_ROLE: &str = "csphub_service";

/// The request pool's connection options: the service role, and TLS as `tls_setting` says.
fn service_connection(
    url: &str,
) -> impl Fn(sea_orm::sqlx::postgres::PgConnectOptions) -> sea_orm::sqlx::postgres::PgConnectOptions
+ Send
+ Sync
+ 'static {
    let tls = tls_setting(url);
    move |options| tls(options).options([("role", SERVICE_ROLE)])
}

/// How long a pooled connection may sit idle before a checkout pings it first.
pub(crate) const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// TLS to a database on the same machine (127.0.0.1, ::1, localhost or a Unix socket) protects
/// nothing and costs CPU on every statement, so it is off there unless the URL (or `PGSSLMODE`)
/// names an `sslmode`. Any other host keeps the URL's mode (by default `prefer`).
fn tls_setting(
    url: &str,
) -> impl Fn(sea_orm::sqlx::postgres::PgConnectOptions) -> sea_orm::sqlx::postgres::PgConnectOptions
+ Send
+ Sync
+ 'static {
    let chosen = url.contains("sslmode=") || std::env::var_os("PGSSLMODE").is_some();
    move |options| {
        let host = options.get_host();
        let loopback = host == "localhost"
            || host.starts_with('/')
            || host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback && !chosen {
            options.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable)
        } else {
            options
        }
    }
}

/// One connection with no statement timeout, for migrations and loading data.
pub async fn connect_for_maintenance(url: &SecretString) -> anyhow::Result<DatabaseConnection> {
    ensure_database(url.expose_secret()).await?;
    let mut options = ConnectOptions::new(url.expose_secret().to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options)
        .await
        .context("connecting to the database")
}

/// Splits a PostgreSQL URL into the URL of the `postgres` maintenance database and the name of
/// the database it names.
pub fn split_database_url(url: &str) -> anyhow::Result<(String, String)> {
    let (base, rest) = url
        .rsplit_once('/')
        .context("DATABASE_URL must end with /DATABASE_NAME")?;
    let (name, query) = match rest.split_once('?') {
        Some((n, q)) => (n, format!("?{q}")),
        None => (rest, String::new()),
    };
    anyhow::ensure!(
        !name.is_empty() && !base.ends_with('/'),
        "DATABASE_URL must name a database"
    );
    Ok((format!("{base}/postgres{query}"), name.to_owned()))
}

async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let (admin_url, name) = split_database_url(url)?;
    let mut options = ConnectOptions::new(admin_url);
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options)
        .await
        .context("connecting to the PostgreSQL server")?;
    let exists = admin
        .query_one_raw(stmt(
            "SELECT 1 AS one FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await?
        .is_some();
    if !exists {
        let quoted = name.replace('"', "\"\"");
        match admin
            .execute_unprepared(&format!("CREATE DATABASE \"{quoted}\""))
            .await
        {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it at the same moment.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) if e.to_string().contains("already exists") => {}
            Err(e) => return Err(e).context("creating the database"),
        }
    }
    admin.close().await?;
    Ok(())
}

/// Runs pending migrations. Before them, on a database restored into a cluster without the
/// service role, repairs what the restore skipped ([`repair_access`]); after them, numbers audit
/// entries above the restored log and records the grants and policies afresh
/// (`csphub_access`, so that a dump of this database can be repaired the same way).
pub async fn migrate_up(db: &DatabaseConnection) -> anyhow::Result<()> {
    repair_access(db).await?;
    Migrator::up(db, None).await.context("running migrations")?;
    db.execute_unprepared("SELECT csphub_lift_audit_xact()")
        .await
        .context("numbering audit entries above the log")?;
    db.execute_unprepared("SELECT csphub_record_access()")
        .await
        .context("recording the service role's grants")?;
    Ok(())
}

/// After a restore into a cluster without the service role (roles belong to the cluster, not
/// to a dump, and the restore skips every grant and policy that names one): creates the role and
/// applies every grant and policy the database recorded that is missing. It runs before the
/// migrations, on the record that matches the schema as it is, so a grant or policy a migration
/// drops is never put back. A database older than the record has nothing to repair.
pub async fn repair_access(db: &DatabaseConnection) -> anyhow::Result<()> {
    pg_row! {
        struct Present {
            present: bool,
        }
    }
    let present: Option<Present> = fetch_optional(
        db,
        "SELECT to_regprocedure('csphub_repair_access()') IS NOT NULL AS present",
        vec![],
    )
    .await
    .context("looking for the access record")?;
    if !present.is_some_and(|p| p.present) {
        return Ok(());
    }
    pg_row! {
        struct Repaired {
            n: i32,
        }
    }
    let repaired: Option<Repaired> =
        fetch_optional(db, "SELECT csphub_repair_access() AS n", vec![])
            .await
            .context("repairing the service role's grants")?;
    if let Some(r) = repaired.filter(|r| r.n > 0) {
        tracing::warn!(
            applied = r.n,
            "created the service role or applied grants and policies the database recorded but \
             the cluster lacked (a restore into another cluster?)"
        );
    }
    Ok(())
}

/// A lock that instances starting on one database take in turn while they migrate and load
/// data (a PostgreSQL advisory lock, held by a connection of its own, so it goes with that
/// connection if the process dies).
pub struct StartLock(sea_orm::sqlx::PgConnection);

/// The advisory lock's key: "csphub" in ASCII.
const START_LOCK_KEY: i64 = 0x6373_7068_7562;

impl StartLock {
    pub async fn take(db: &DatabaseConnection) -> anyhow::Result<Self> {
        use sea_orm::sqlx::Connection;
        let options = db.get_postgres_connection_pool().connect_options();
        let mut conn = sea_orm::sqlx::PgConnection::connect_with(&options)
            .await
            .context("connecting for the start lock")?;
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(START_LOCK_KEY)
            .execute(&mut conn)
            .await
            .context("taking the start lock")?;
        Ok(Self(conn))
    }

    /// Closing the connection releases the lock.
    pub async fn release(self) {
        use sea_orm::sqlx::Connection;
        if let Err(e) = self.0.close().await {
            tracing::warn!(error = %e, "closing the start lock's connection");
        }
    }
}

/// [`prepare`] under the start lock, for commands run beside serving instances.
pub async fn prepare_locked(db: &DatabaseConnection) -> anyhow::Result<()> {
    let lock = StartLock::take(db).await?;
    let prepared = prepare(db).await;
    lock.release().await;
    prepared
}

/// Brings a database up to date for serving: pending migrations, then the built-in
/// vocabularies and indicators.
pub async fn prepare(db: &DatabaseConnection) -> anyhow::Result<()> {
    migrate_up(db).await?;
    sync_builtins(db).await
}

/// Writes the built-in vocabularies and indicators (idempotent), as the imports need them.
pub async fn sync_builtins(db: &DatabaseConnection) -> anyhow::Result<()> {
    vocabulary::sync_builtin(db)
        .await
        .context("writing the built-in vocabularies")?;
    indicator::sync_builtin(db)
        .await
        .context("writing the built-in indicators")
}

/// The migrations not yet applied. Reads the migration table only (the service role may read
/// it and create nothing), so it works on the request pool.
pub async fn pending_migrations(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    pg_row! {
        struct Applied {
            version: String,
        }
    }
    let applied: Vec<Applied> = Applied::find_by_statement(stmt(
        "SELECT version FROM seaql_migrations",
        Vec::<Value>::new(),
    ))
    .all(db)
    .await
    .context("reading the applied migrations")?;
    let applied: std::collections::HashSet<String> =
        applied.into_iter().map(|a| a.version).collect();
    Ok(Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .filter(|name| !applied.contains(name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_splits_into_admin_url_and_name() {
        let (admin, name) =
            split_database_url("postgres://postgres@127.0.0.1:5432/csphub").expect("splits");
        assert_eq!(admin, "postgres://postgres@127.0.0.1:5432/postgres");
        assert_eq!(name, "csphub");
        let (admin, name) =
            split_database_url("postgres://u:p@h/db_1?sslmode=disable").expect("splits");
        assert_eq!(admin, "postgres://u:p@h/postgres?sslmode=disable");
        assert_eq!(name, "db_1");
    }
}
