//! The service's configuration, read once from the environment at start-up. Nothing else reads
//! the environment. Every variable is documented in `.env.example` and docs/operations.md.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use secrecy::SecretString;
use std::time::Duration;

use crate::db::DbSettings;
use crate::graphql::trusted::TrustedDocuments;
use crate::http::limits::RateLimitSettings;

use crate::auth::token::{BUILTIN_DEV_SECRET, MAX_LEEWAY_SECS, TrustedIssuer};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/csphub";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_AUDIENCE: &str = "csphub";

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`
    pub database_url: SecretString,
    /// `DATABASE_READ_URL`: a read replica that statistics, reports and exports read from;
    /// everything else, and everything when unset, uses `DATABASE_URL`.
    pub database_read_url: Option<SecretString>,
    /// `CSPHUB_BIND`
    pub bind: SocketAddr,
    /// `CSPHUB_AUDIENCE`: the `aud` every token must carry.
    pub audience: String,
    /// `CSPHUB_ISSUERS_FILE`: the trusted identity providers and their keys.
    pub issuers: Vec<TrustedIssuer>,
    /// Where `issuers` came from: read again on SIGHUP.
    pub issuers_file: Option<PathBuf>,
    /// `CSPHUB_DEV_JWT_SECRET`: signs and verifies development tokens (demo mode only).
    pub dev_jwt_secret: SecretString,
    /// `CSPHUB_JWT_LEEWAY_SECS`: clock leeway on `exp`/`nbf`, at most 60.
    pub jwt_leeway_secs: u64,
    /// `CSPHUB_GRAPHIQL`: serve GraphiQL on `GET /graphql` (default: on in demo mode only).
    pub graphiql: Option<bool>,
    /// `CSPHUB_INTROSPECTION`: answer introspection queries (default: on in demo mode only).
    pub introspection: Option<bool>,
    /// `CSPHUB_PUSH_MAX_RECORDS`: most incident records one push may carry.
    pub push_max_records: usize,
    /// `CSPHUB_PUSH_MAX_BYTES`: largest push body.
    pub push_max_bytes: usize,
    /// The request pool and statement budgets (`CSPHUB_DB_*`, `CSPHUB_*_TIMEOUT_MS`).
    pub db: DbSettings,
    /// `CSPHUB_HEADER_TIMEOUT_MS`: how long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// `CSPHUB_BODY_TIMEOUT_MS`: how long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// `CSPHUB_AUDIT_SEAL_MS`: how often the server seals the audit log's new entries (default
    /// every 5 minutes; 0 turns it off, e.g. where `csphub audit seal` runs from cron).
    pub audit_seal_every: Duration,
    /// `CSPHUB_CALLER_CACHE_MS`: how long an instance reuses a caller it resolved (agency and
    /// partnerships) for requests that read no case data (default 5 s; 0 turns it off):
    /// `http::caller::CallerCache`.
    pub caller_cache: Duration,
    /// `CSPHUB_RETENTION_YEARS`: years after closing that a case of a type is due for review
    /// and deletion, e.g. `ASB=5,DOMESTIC_ABUSE=6`; types not named keep what the database has
    /// (6 years unless set before). Written to the database at start, so every instance agrees.
    pub retention_years: Vec<(String, i32)>,
    /// `CSPHUB_CORS_ORIGINS`: origins (comma-separated) whose pages may call the API from a
    /// browser; none by default.
    pub cors_origins: Vec<String>,
    /// `CSPHUB_TRUSTED_DOCUMENTS`: each role's allowed GraphQL documents, by hash; with it set,
    /// nothing else runs (`graphql::trusted`).
    pub trusted_documents: Option<std::sync::Arc<TrustedDocuments>>,
    /// Where `trusted_documents` came from: read again on SIGHUP.
    pub trusted_documents_file: Option<PathBuf>,
    /// `CSPHUB_METRICS_BIND`: the admin address serving Prometheus metrics at `/metrics`; none
    /// (off) by default. Never the API's address.
    pub metrics_bind: Option<SocketAddr>,
    /// Rate limits (`CSPHUB_RATE_LIMIT*`, `CSPHUB_PUSH_RATE_LIMIT*`, `CSPHUB_CLIENT_ADDRESS`):
    /// `limits`. Off in demo mode unless set.
    pub rate_limits: RateLimitSettings,
    /// Demo mode (`serve --demo`): accept development tokens. Not an environment variable.
    pub demo: bool,
}

pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_AUDIT_SEAL_EVERY: Duration = Duration::from_secs(300);
pub const DEFAULT_CALLER_CACHE: Duration = Duration::from_secs(5);
pub const DEFAULT_PUSH_MAX_RECORDS: usize = 10_000;
pub const DEFAULT_PUSH_MAX_BYTES: usize = 32 * 1024 * 1024;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let bind = var("CSPHUB_BIND")
            .unwrap_or_else(|| DEFAULT_BIND.to_owned())
            .parse()
            .context("CSPHUB_BIND must be an address such as 127.0.0.1:8080")?;
        let issuers_file = var("CSPHUB_ISSUERS_FILE").map(PathBuf::from);
        let issuers = match &issuers_file {
            Some(path) => TrustedIssuer::load_file(path)?,
            None => Vec::new(),
        };
        let jwt_leeway_secs = match var("CSPHUB_JWT_LEEWAY_SECS") {
            Some(v) => v
                .parse()
                .context("CSPHUB_JWT_LEEWAY_SECS must be a whole number of seconds")?,
            None => 30,
        };
        anyhow::ensure!(
            jwt_leeway_secs <= MAX_LEEWAY_SECS,
            "CSPHUB_JWT_LEEWAY_SECS may be at most {MAX_LEEWAY_SECS}"
        );
        let graphiql = match var("CSPHUB_GRAPHIQL") {
            Some(v) => Some(
                v.parse::<bool>()
                    .context("CSPHUB_GRAPHIQL must be true or false")?,
            ),
            None => None,
        };
        let introspection = match var("CSPHUB_INTROSPECTION") {
            Some(v) => Some(
                v.parse::<bool>()
                    .context("CSPHUB_INTROSPECTION must be true or false")?,
            ),
            None => None,
        };
        let number = |name: &str, default: usize| -> anyhow::Result<usize> {
            match var(name) {
                Some(v) => {
                    let n: usize = v
                        .parse()
                        .with_context(|| format!("{name} must be a whole number"))?;
                    anyhow::ensure!(n > 0, "{name} must be more than 0");
                    Ok(n)
                }
                None => Ok(default),
            }
        };
        // A period where 0 means "off", as documented for it.
        let millis_or_off = |name: &str, default: Duration| -> anyhow::Result<Duration> {
            match var(name) {
                Some(v) => Ok(Duration::from_millis(v.parse().with_context(|| {
                    format!("{name} must be a whole number of milliseconds (0 turns it off)")
                })?)),
                None => Ok(default),
            }
        };
        let millis = |name: &str, default: Duration| -> anyhow::Result<Duration> {
            let default_ms = usize::try_from(default.as_millis()).unwrap_or(usize::MAX);
            Ok(Duration::from_millis(
                u64::try_from(number(name, default_ms)?).unwrap_or(u64::MAX),
            ))
        };
        let defaults = DbSettings::default();
        let db = DbSettings {
            pool_size: u32::try_from(number(
                "CSPHUB_DB_POOL_SIZE",
                usize::try_from(defaults.pool_size).unwrap_or(20),
            )?)
            .context("CSPHUB_DB_POOL_SIZE is too large")?,
            acquire_timeout: millis("CSPHUB_DB_ACQUIRE_TIMEOUT_MS", defaults.acquire_timeout)?,
            statement_timeout: millis("CSPHUB_STATEMENT_TIMEOUT_MS", defaults.statement_timeout)?,
            heavy_timeout: millis("CSPHUB_HEAVY_TIMEOUT_MS", defaults.heavy_timeout)?,
            heavy_concurrency: number("CSPHUB_HEAVY_CONCURRENCY", defaults.heavy_concurrency)?,
        };
        anyhow::ensure!(
            db.heavy_concurrency < usize::try_from(db.pool_size).unwrap_or(usize::MAX),
            "CSPHUB_HEAVY_CONCURRENCY must be less than CSPHUB_DB_POOL_SIZE, so that heavy \
             requests always leave connections for the rest"
        );
        let cors_origins = var("CSPHUB_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    // Browsers send an origin's scheme and host in lower case.
                    .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let metrics_bind: Option<SocketAddr> = var("CSPHUB_METRICS_BIND")
            .map(|v| v.parse())
            .transpose()
            .context("CSPHUB_METRICS_BIND must be an address such as 127.0.0.1:9464")?;
        anyhow::ensure!(
            metrics_bind.is_none_or(|m| m != bind),
            "CSPHUB_METRICS_BIND must differ from CSPHUB_BIND: metrics are never served where the API is"
        );
        let trusted_documents_file = var("CSPHUB_TRUSTED_DOCUMENTS").map(PathBuf::from);
        let trusted_documents = trusted_documents_file
            .as_deref()
            .map(TrustedDocuments::load)
            .transpose()
            .context("CSPHUB_TRUSTED_DOCUMENTS")?
            .map(std::sync::Arc::new);
        Ok(Self {
            trusted_documents,
            trusted_documents_file,
            metrics_bind,
            rate_limits: RateLimitSettings::from_env(var)?,
            db,
            header_timeout: millis("CSPHUB_HEADER_TIMEOUT_MS", DEFAULT_HEADER_TIMEOUT)?,
            body_timeout: millis("CSPHUB_BODY_TIMEOUT_MS", DEFAULT_BODY_TIMEOUT)?,
            audit_seal_every: millis_or_off("CSPHUB_AUDIT_SEAL_MS", DEFAULT_AUDIT_SEAL_EVERY)?,
            caller_cache: millis_or_off("CSPHUB_CALLER_CACHE_MS", DEFAULT_CALLER_CACHE)?,
            retention_years: retention_years(var("CSPHUB_RETENTION_YEARS").as_deref())?,
            cors_origins,
            push_max_records: number("CSPHUB_PUSH_MAX_RECORDS", DEFAULT_PUSH_MAX_RECORDS)?,
            push_max_bytes: number("CSPHUB_PUSH_MAX_BYTES", DEFAULT_PUSH_MAX_BYTES)?,
            database_url: SecretString::from(
                var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            ),
            database_read_url: var("DATABASE_READ_URL").map(SecretString::from),
            bind,
            audience: var("CSPHUB_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
            issuers,
            issuers_file,
            dev_jwt_secret: SecretString::from(
                var("CSPHUB_DEV_JWT_SECRET").unwrap_or_else(|| BUILTIN_DEV_SECRET.to_owned()),
            ),
            jwt_leeway_secs,
            graphiql,
            introspection,
            demo: false,
        })
    }

    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(self.demo)
    }

    /// Off outside demo mode unless asked for: front-end teams build on the published
    /// `schema.graphql`, so a production service need not describe itself to every caller.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection.unwrap_or(self.demo)
    }

    /// Refuses configurations that must not serve: outside demo mode there must be trusted
    /// issuers, and development tokens are never accepted.
    pub fn check_for_serving(&self) -> anyhow::Result<()> {
        if !self.demo {
            anyhow::ensure!(
                !self.issuers.is_empty(),
                "no trusted token issuers are configured (CSPHUB_ISSUERS_FILE). Outside demo mode \
                 csphub does not accept development tokens; run `csphub serve --demo` to try it \
                 with the development secret"
            );
        }
        Ok(())
    }
}

/// Parses `CSPHUB_RETENTION_YEARS`: `TYPE=YEARS` pairs, comma-separated.
pub fn retention_years(value: Option<&str>) -> anyhow::Result<Vec<(String, i32)>> {
    const TYPES: [&str; 5] = ["ASB", "DOMESTIC_ABUSE", "HATE", "VULNERABILITY", "OTHER"];
    let mut out = Vec::new();
    for pair in value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (t, y) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("CSPHUB_RETENTION_YEARS: '{pair}' is not TYPE=YEARS"))?;
        let t = t.trim().to_ascii_uppercase();
        anyhow::ensure!(
            TYPES.contains(&t.as_str()),
            "CSPHUB_RETENTION_YEARS: '{t}' is not a case type ({})",
            TYPES.join(", ")
        );
        let years: i32 = y
            .trim()
            .parse()
            .ok()
            .filter(|y| (1..=100).contains(y))
            .ok_or_else(|| {
                anyhow::anyhow!("CSPHUB_RETENTION_YEARS: '{y}' is not 1 to 100 years")
            })?;
        out.push((t, years));
    }
    Ok(out)
}
