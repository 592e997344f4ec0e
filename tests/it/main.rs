//! The integration tests, as one binary (one link instead of one per area): each module is an
//! area, `common` the harness (a template database per run and a fresh database per test, the
//! real router over real HTTP, real JWTs).

mod common;

mod access;
mod audit;
mod auth;
mod case_rls;
mod cases;
mod demo_cases;
mod geography;
mod grants;
mod hardening;
mod hotspot_response;
mod http;
mod incident;
mod incident_counts;
mod indicators;
mod jwks;
mod layers;
mod metrics;
mod node;
mod operations;
mod orders;
mod partnership_ids;
mod pcc_tables;
mod plan;
mod police_uk;
mod rate_limits;
mod read_replica;
mod report_csv;
mod report_links;
mod report_pages;
mod reports;
mod request_path;
mod restore;
mod retention;
mod slow_readers;
mod small_ones;
mod submissions;
mod trusted_documents;
