//! The action plan in GraphQL: plans, priorities, actions, quarterly progress and the plan
//! progress report, with the mutations that move a plan through its life.
//!
//! `types` holds the plan's GraphQL types and their fields; `loaders` the per-request data
//! loaders its relations load through; `query` the queries and the progress report;
//! `mutation` the mutations.

mod inputs;
mod loaders;
mod mutation;
mod query;
mod types;

pub use inputs::*;
pub use loaders::*;
pub use mutation::*;
pub use query::*;
pub use types::*;

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};

use crate::db::request::RequestTxn;
use uuid::Uuid;

use super::{LoadError, loader, parse_id, principal};
use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::db::plan::{ActionKey, ActionRow, PlanEventRow, PlanRow, PriorityRow, ProgressRow};
use crate::domain::period::{FinancialYear, Quarter};
use crate::domain::plan::{
    self as rules, ActionFacts, LifecycleStep, NewProgress, ProgressStatus as DomainProgress,
    Removal,
};
use crate::error::AppError;
