//! The GraphQL API: the schema, its limits and the request context. One file per aggregate.

pub mod area;
pub mod guard;
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

/// Most complex query accepted: each field counts 1, a paginated list counts what it selects
/// times its page size, and the costly queries carry the weights below.
pub const MAX_COMPLEXITY: usize = 2_000;
/// What `incidentStats` counts: it scans every incident of its period (twice when compared).
pub const STATS_COST: usize = 250;
/// What `planProgress` and `dataFreshness` count: a few grouped queries each.
pub const REPORT_COST: usize = 50;
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
        // Depth is checked by `guard` (data fields only, so introspection tools work).
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
    heavy: &crate::db::Heavy,
    principal: Principal,
) -> async_graphql::Request {
    let scope = principal.scope();
    request
        .data(principal)
        .data(heavy.clone())
        .data(DataLoader::new(
            plan::PlanLoader::new(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            incident::IncidentLoader::new(db.clone(), scope),
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

/// A slot for heavy work (statistics, reports): see `db::Heavy`.
pub(crate) async fn heavy_slot<'a>(
    ctx: &Context<'a>,
) -> Result<(&'a crate::db::Heavy, tokio::sync::OwnedSemaphorePermit), AppError> {
    let heavy = ctx
        .data_opt::<crate::db::Heavy>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no heavy gate in the request data")))?;
    Ok((heavy, heavy.slot().await?))
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

/// The cost of a paginated list: one for the field, and what each item selects times the page
/// size asked for (the default when none is given; within the cap, as `page_size` enforces).
pub(crate) fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let items =
        usize::try_from(first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)).unwrap_or(1);
    1 + items.saturating_mul(child_complexity)
}

/// The check every free-text GraphQL input passes: at most `.0` characters and no control
/// characters other than line breaks and tabs (a NUL cannot be stored, and the rest have no
/// business in a title). Each input field documents its limit.
pub struct Text(pub usize);

impl async_graphql::CustomValidator<String> for Text {
    fn check(&self, value: &String) -> Result<(), async_graphql::InputValueError<String>> {
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(async_graphql::InputValueError::custom(
                "contains a control character (such as NUL, \\u0000)",
            ));
        }
        let len = value.chars().count();
        if len > self.0 {
            return Err(async_graphql::InputValueError::custom(format!(
                "is {len} characters long; at most {} are allowed",
                self.0
            )));
        }
        Ok(())
    }
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
