//! csphub: one source of truth for a Community Safety Partnership's action plan, incidents,
//! cases and reports, served as a GraphQL API.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod maintenance;
pub mod metrics;
pub mod rest;
pub mod scalar;
pub mod service;
