//! The GraphQL API: the schema, its limits and the request context. One file per aggregate.

pub mod area;
pub mod incident;
pub mod partnership;
pub mod plan;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, ID, MergedObject, Schema};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::AppError;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 10;
/// Most complex query accepted (each field counts 1, list fields count their page size).
pub const MAX_COMPLEXITY: usize = 2_000;
/// Largest page a list returns.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Page size when a list is asked for without one.
pub const DEFAULT_PAGE_SIZE: i32 = 50;

#[derive(MergedObject, Default)]
pub struct Query(
    partnership::PartnershipQuery,
    plan::PlanQuery,
    area::AreaQuery,
    incident::IncidentQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    plan::PlanMutation,
    area::AreaMutation,
    incident::IncidentMutation,
);

pub type CsphubSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema exactly as production serves it (also used by `csphub schema`).
pub fn build_schema(db: Option<DatabaseConnection>) -> CsphubSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(8);
    if let Some(db) = db {
        builder = builder.data(db);
    }
    builder.finish()
}

/// The per-request data: the verified caller and fresh data loaders (no cache crosses users).
pub fn request_data(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    principal: Principal,
) -> async_graphql::Request {
    request
        .data(principal)
        .data(DataLoader::new(
            plan::PlanLoader::new(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            incident::IncidentLoader::new(db.clone()),
            tokio::spawn,
        ))
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, AppError> {
    ctx.data_opt::<Principal>()
        .ok_or_else(|| AppError::Unauthenticated("a bearer token is required".to_owned()))
}

pub(crate) fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, AppError> {
    ctx.data_opt::<DatabaseConnection>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no database in the schema data")))
}

pub(crate) fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<plan::PlanLoader>, AppError> {
    ctx.data_opt::<DataLoader<plan::PlanLoader>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no data loader in the request data")))
}

/// Parses an id a client sent. A malformed id is reported as such; a well-formed id of a record
/// that does not exist or is out of scope is NOT_FOUND later.
pub(crate) fn parse_id(id: &ID, what: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::BadUserInput(format!("'{}' is not a valid {what} id", id.as_str())))
}

/// A page size within the cap.
pub(crate) fn page_size(first: Option<i32>) -> Result<u64, AppError> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(AppError::BadUserInput(format!(
            "first must be between 1 and {MAX_PAGE_SIZE}, not {first}"
        )));
    }
    Ok(u64::try_from(first).unwrap_or(1))
}

/// An error from a data loader: shared between the fields that waited on the same batch.
#[derive(Clone)]
pub struct LoadError(pub Arc<AppError>);

impl From<AppError> for LoadError {
    fn from(e: AppError) -> Self {
        LoadError(Arc::new(e))
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(e: LoadError) -> Self {
        e.0.to_graphql()
    }
}
