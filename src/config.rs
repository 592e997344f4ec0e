//! The service's configuration, read once from the environment at start-up. Nothing else reads
//! the environment. Every variable is documented in `.env.example` and the README.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use secrecy::SecretString;

use crate::auth::token::{BUILTIN_DEV_SECRET, MAX_LEEWAY_SECS, TrustedIssuer};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/csphub";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_AUDIENCE: &str = "csphub";

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`
    pub database_url: SecretString,
    /// `CSPHUB_BIND`
    pub bind: SocketAddr,
    /// `CSPHUB_AUDIENCE`: the `aud` every token must carry.
    pub audience: String,
    /// `CSPHUB_ISSUERS_FILE`: the trusted identity providers and their keys.
    pub issuers: Vec<TrustedIssuer>,
    /// `CSPHUB_DEV_JWT_SECRET`: signs and verifies development tokens (demo mode only).
    pub dev_jwt_secret: SecretString,
    /// `CSPHUB_JWT_LEEWAY_SECS`: clock leeway on `exp`/`nbf`, at most 60.
    pub jwt_leeway_secs: u64,
    /// `CSPHUB_GRAPHIQL`: serve GraphiQL on `GET /graphql` (default: on in demo mode only).
    pub graphiql: Option<bool>,
    /// `CSPHUB_PUSH_MAX_RECORDS`: most incident records one push may carry.
    pub push_max_records: usize,
    /// `CSPHUB_PUSH_MAX_BYTES`: largest push body.
    pub push_max_bytes: usize,
    /// Demo mode (`serve --demo`): accept development tokens. Not an environment variable.
    pub demo: bool,
}

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
        let issuers = match var("CSPHUB_ISSUERS_FILE") {
            Some(path) => TrustedIssuer::load_file(&PathBuf::from(path))?,
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
        Ok(Self {
            push_max_records: number("CSPHUB_PUSH_MAX_RECORDS", DEFAULT_PUSH_MAX_RECORDS)?,
            push_max_bytes: number("CSPHUB_PUSH_MAX_BYTES", DEFAULT_PUSH_MAX_BYTES)?,
            database_url: SecretString::from(
                var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            ),
            bind,
            audience: var("CSPHUB_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
            issuers,
            dev_jwt_secret: SecretString::from(
                var("CSPHUB_DEV_JWT_SECRET").unwrap_or_else(|| BUILTIN_DEV_SECRET.to_owned()),
            ),
            jwt_leeway_secs,
            graphiql,
            demo: false,
        })
    }

    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(self.demo)
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
