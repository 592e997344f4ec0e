//! The server assembly: the service's state made from the configuration, the router, the
//! background jobs (sealing the audit log, folding incident counts, fetching issuers' keys,
//! reloading files on SIGHUP), start-up and `serve`. It is an entry point: nothing in the
//! library imports it.

use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::token::{Verifier, dev_issuer};
use crate::config::Config;
use crate::graphql::trusted::{TrustedDocuments, TrustedList};
use crate::graphql::{self, build_schema};
use crate::http::caller::CallerCache;
use crate::http::graphql as endpoint;
use crate::http::layers;
use crate::http::limits::{self, RateLimits};
use crate::metrics::Metrics;
use crate::{db, rest};

pub use crate::http::state::AppState;

impl AppState {
    pub fn new(config: &Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        let fixed = if config.demo {
            vec![dev_issuer(&config.dev_jwt_secret)]
        } else {
            Vec::new()
        };
        let verifier = Arc::new(Verifier::with_fixed(
            config.issuers.clone(),
            fixed,
            &config.audience,
            config.jwt_leeway_secs,
        ));
        // Issuers with a JWKS URL, now or after a reload, are fetched on their schedule.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(refresh_issuer_keys(Arc::downgrade(&verifier)));
        }
        Ok(Self {
            trusted: config
                .trusted_documents
                .clone()
                .map(|list| Arc::new(TrustedList::new(list))),
            metrics: Arc::new(Metrics::new()?),
            limits: Arc::new(RateLimits::new(&config.rate_limits, config.demo)?),
            schema: build_schema(),
            schema_validated: graphql::build_schema_validated(),
            verifier,
            graphiql: config.graphiql_enabled(),
            introspection: config.introspection_enabled(),
            push_max_records: config.push_max_records,
            push_max_bytes: config.push_max_bytes,
            heavy: db::Heavy::new(&config.db),
            body_timeout: config.body_timeout,
            cors_origins: config.cors_origins.clone(),
            documents: Arc::default(),
            callers: Arc::new(CallerCache::new(config.caller_cache)),
            parked: Arc::default(),
            statements: None,
            read_db: None,
            db,
        })
    }
}

/// The router production serves; tests serve exactly this. The guards that protect the whole
/// service are its layers (`crate::layers`), outermost last.
pub fn router(state: AppState) -> Router {
    let guards = layers::Guards {
        metrics: state.metrics.clone(),
        limits: state.limits.clone(),
        body_timeout: state.body_timeout,
    };
    let cors = layers::cors(&state.cors_origins);
    let origins: Arc<[String]> = state.cors_origins.clone().into();
    let mut router = Router::new()
        .route(
            "/graphql",
            get(rest::graphiql)
                .post(endpoint::graphql_handler)
                .layer(RequestBodyLimitLayer::new(endpoint::MAX_GRAPHQL_BODY)),
        )
        .route("/graphiql/assets/{file}", get(rest::graphiql_asset))
        .route("/api/v1/incidents", post(rest::incident::push))
        .route("/api/v1/incidents.csv", get(rest::incident::export_csv))
        .route(
            "/api/v1/reports/rag-update.csv",
            get(rest::report::rag_update_csv),
        )
        .route(
            "/api/v1/reports/pcc-report.csv",
            get(rest::report::pcc_report_csv),
        )
        .route(
            "/api/v1/reports/strategic-assessment.csv",
            get(rest::report::assessment_csv),
        )
        .route(
            "/api/v1/statistics/areas.csv",
            get(rest::report::area_statistics_csv),
        )
        .route(
            "/api/v1/statistics/hotspots.csv",
            get(rest::report::hotspots_csv),
        )
        .route(
            "/api/v1/maps/areas.geojson",
            get(rest::report::areas_geojson),
        )
        .route(
            "/api/v1/reports/submissions/{file}",
            get(rest::report::submission_csv),
        )
        .route("/reports/rag-update", get(rest::page::rag_update_page))
        .route("/reports/pcc-report", get(rest::page::pcc_report_page))
        .route(
            "/reports/strategic-assessment",
            get(rest::page::assessment_page_handler),
        )
        .route(
            "/reports/submissions/{id}",
            get(rest::page::submission_page),
        )
        .route("/reports/link/{link}", get(rest::page::report_link_page))
        .route("/api/v1/openapi.json", get(rest::openapi))
        .route("/healthz", get(rest::healthz))
        .route("/readyz", get(rest::readyz))
        .fallback(layers::not_found)
        .with_state(Arc::new(state))
        .layer(CatchPanicLayer::custom(layers::panic_response))
        .layer(middleware::from_fn_with_state(guards, layers::guards));
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router
        .layer(middleware::from_fn_with_state(
            origins,
            layers::refuse_preflight,
        ))
        .layer(middleware::from_fn(layers::request_id))
}

/// Fetches the keys of issuers with a JWKS URL: at start, then each on its own schedule. Ends
/// when the service's state is gone.
async fn refresh_issuer_keys(verifier: std::sync::Weak<Verifier>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(verifier) = verifier.upgrade() else {
            return;
        };
        verifier.refresh_due().await;
    }
}

/// On SIGHUP, reads the issuers file again (new PEM or JWKS files, issuers added or removed)
/// and the trusted documents; a file that cannot be read or checked leaves what is in use as it
/// is.
async fn reload_on_hangup(
    verifier: Arc<Verifier>,
    issuers_file: Option<std::path::PathBuf>,
    trusted: Option<(Arc<TrustedList>, std::path::PathBuf)>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; files load at start only");
            return;
        }
    };
    while hangup.recv().await.is_some() {
        if let Some(path) = &issuers_file {
            let loaded = crate::auth::token::TrustedIssuer::load_file(path)
                .and_then(|issuers| verifier.reload(issuers));
            match loaded {
                Ok(n) => {
                    tracing::info!(issuers = n, file = %path.display(), "reloaded the trusted issuers");
                    eprintln!("reloaded {n} trusted issuers from {}", path.display());
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "reloading the trusted issuers failed; keeping the keys in use");
                    eprintln!(
                        "reloading the trusted issuers failed ({e:#}); keeping the keys in use"
                    );
                }
            }
        }
        if let Some((list, path)) = &trusted {
            match TrustedDocuments::load(path) {
                Ok(documents) => {
                    list.replace(documents);
                    let (docs, roles) = list.sizes();
                    tracing::info!(documents = docs, roles, file = %path.display(), "reloaded the trusted documents");
                    eprintln!(
                        "reloaded {docs} trusted documents for {roles} roles from {}",
                        path.display()
                    );
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "reloading the trusted documents failed; keeping the list in use");
                    eprintln!(
                        "reloading the trusted documents failed ({e:#}); keeping the list in use"
                    );
                }
            }
        }
    }
}

/// The longest wait between two attempts to reach the database at start-up.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How often the monthly incident counts are folded: a minute of pushes appends at most a few
/// rows per month, category, area and agency they touched.
const INCIDENT_COUNTS_FOLD_EVERY: Duration = Duration::from_secs(60);

/// Seals the audit log's new entries every `every`, as the service role (which may read the
/// log and insert seals, nothing more). Several instances may run it: one seals at a time and
/// the others skip that round. Sealing only reads the log, so requests never wait on it.
async fn seal_audit_log(db: sea_orm::DatabaseConnection, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match db::audit::seal(&db).await {
            Ok(db::audit::Sealed::Entries { seq, count }) => {
                tracing::info!(seal = seq, entries = count, "sealed audit entries");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "sealing the audit log failed; will retry"),
        }
    }
}

/// Folds the monthly incident counts at start and every `every` after
/// (`db::incident::fold_counts`). Pushes only append to them, so requests never wait on it.
async fn fold_incident_counts(db: sea_orm::DatabaseConnection, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match db::incident::fold_counts(&db).await {
            Ok(Some(removed)) if removed > 0 => {
                tracing::debug!(rows = removed, "folded monthly incident counts");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "folding incident counts failed; will retry"),
        }
    }
}

/// Migrations, built-in vocabularies and (in demo mode) the demo data, on a connection of their
/// own with no statement timeout.
async fn prepare_database(config: &Config) -> anyhow::Result<()> {
    let db = db::connect_for_maintenance(&config.database_url).await?;
    // Instances starting together take turns: one migrates (and loads the demo), the others
    // wait for it and then find nothing left to do.
    let lock = db::StartLock::take(&db).await?;
    let prepared = async {
        db::prepare(&db).await?;
        db::case::set_retention(&db, &config.retention_years)
            .await
            .context("writing the retention schedule")?;
        if config.demo {
            crate::demo::load(&db).await?;
            crate::demo::load_cases(&db).await?;
        }
        anyhow::Ok(())
    }
    .await;
    lock.release().await;
    prepared?;
    db.close().await?;
    Ok(())
}

/// Waits for the database (retrying with backoff, so the service can start before it), runs
/// the migrations, optionally loads the demo data, and serves until Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    config.check_for_serving()?;
    let mut backoff = Duration::from_millis(250);
    loop {
        match prepare_database(&config).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), retry_in_ms = backoff.as_millis() as u64, "database not ready; retrying");
                eprintln!("waiting for the database ({e:#}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    let db = db::connect(&config.database_url, &config.db).await?;
    if config.demo {
        crate::demo::print_tokens(&config)?;
    }
    if !config.audit_seal_every.is_zero() {
        tokio::spawn(seal_audit_log(db.clone(), config.audit_seal_every));
    }
    tokio::spawn(fold_incident_counts(db.clone(), INCIDENT_COUNTS_FOLD_EVERY));
    let pool = db.clone();
    let mut state = AppState::new(&config, db)?;
    let parked = state.parked.clone();
    if let Some(url) = &config.database_read_url {
        state.read_db = Some(db::connect_replica(url, &config.db).await?);
        tracing::info!("statistics, reports and exports read from DATABASE_READ_URL");
    }
    let trusted_file = state
        .trusted
        .clone()
        .zip(config.trusted_documents_file.clone());
    if config.issuers_file.is_some() || trusted_file.is_some() {
        tokio::spawn(reload_on_hangup(
            state.verifier.clone(),
            config.issuers_file.clone(),
            trusted_file,
        ));
    }
    if state.limits.any() {
        tokio::spawn(limits::forget_idle_buckets(state.limits.clone()));
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    if let Some(admin) = config.metrics_bind {
        let admin_listener = tokio::net::TcpListener::bind(admin)
            .await
            .with_context(|| format!("cannot listen on {admin} (CSPHUB_METRICS_BIND)"))?;
        tracing::info!(address = %admin, "metrics are served at /metrics");
        tokio::spawn(layers::serve_on(
            admin_listener,
            crate::http::admin::admin_router(
                state.metrics.clone(),
                pool.clone(),
                state.parked.clone(),
            ),
            config.header_timeout,
            std::future::pending(),
        ));
    }
    tracing::info!(address = %config.bind, graphiql = state.graphiql, demo = config.demo, "csphub is listening");
    eprintln!("csphub is listening on http://{}/graphql", config.bind);
    layers::serve_on(
        listener,
        router(state),
        config.header_timeout,
        shutdown_signal(),
    )
    .await;
    parked.release_all();
    if let Err(e) = pool.close_by_ref().await {
        tracing::warn!(error = %e, "closing the database pool");
    }
    tracing::info!("csphub stopped");
    Ok(())
}

/// Resolves on SIGTERM (what service managers and container runtimes send) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: no new connections; in-flight requests finish (at most 30 s)");
    eprintln!("csphub is shutting down");
}
