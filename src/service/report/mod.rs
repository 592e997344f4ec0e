//! Reports computed from the records, which both APIs serve (GraphQL, and REST as CSV and
//! printable pages) and which partners submit: a plan's progress at a quarter's end (`plan`),
//! the RAG's quarterly update (`rag`), the PCC's twice-yearly report (`pcc`) and the strategic
//! assessment (`assessment`).
//!
//! Their results are the schema's report types. Each type is defined once and derives both its
//! GraphQL shape and its JSON document (what the CSVs, the printable pages and a submitted
//! report hold), so the two cannot drift apart. They are plain data: no resolver, no request
//! context. The one linked object with resolvers, a report's `Plan`, has its data here and its
//! fields that load (priorities, actions, lifecycle) in `graphql::plan`.

pub mod assessment;
pub mod grant;
pub mod indicator;
pub mod pcc;
pub mod plan;
pub mod rag;

pub use assessment::{assess, assessment_for};
pub use grant::{FundedAction, Grant, GrantSpend, SurveyResult, grants_of, survey};
pub use indicator::{
    AssessedIndicator, Indicator, IndicatorDefinition, IndicatorKind, StrategicAssessment,
};
pub use pcc::{
    Half, IndicatorTrend, MissingMonth, PccReport, PriorityTrends, QuarterPoint, build_pcc,
};
pub use plan::{
    ActionStatus, IncompleteAction, Plan, PlanProgress, PlanStatus, PriorityProgress,
    RemovedAction, StatusCounts, parse_quarter_opt, progress_report, standing_to_status,
};
pub use rag::{
    IndicatorFigure, OverdueAction, PriorityIndicators, RagUpdate, StatusChange, build_rag,
};

use std::sync::Arc;

use async_graphql::SimpleObject;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::db;
use crate::domain::period::FinancialYear;
use crate::domain::stats::Period;
use crate::domain::tableset::TableSet;
use crate::error::AppError;
use crate::scalar::Date;

/// A period as returned.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodRange {
    /// The first day (YYYY-MM-DD).
    pub from: crate::scalar::Date,
    /// The last day, included (YYYY-MM-DD).
    pub to: crate::scalar::Date,
}

impl From<Period> for PeriodRange {
    fn from(p: Period) -> Self {
        Self {
            from: Date(p.from),
            to: Date(p.to),
        }
    }
}

/// The table set of a partnership and financial year, built from the records.
pub async fn table_set(
    conn: &DatabaseTransaction,
    partnership: Uuid,
    year: FinancialYear,
) -> Result<Arc<TableSet>, AppError> {
    let mut sets = table_sets(conn, &[partnership], year).await?;
    Ok(sets
        .remove(&partnership)
        .unwrap_or_else(|| TableSet::protected(year, Vec::new(), Vec::new())))
}

/// The table sets of some partnerships for a financial year, from one statement.
pub async fn table_sets(
    conn: &DatabaseTransaction,
    partnerships: &[Uuid],
    year: FinancialYear,
) -> Result<std::collections::HashMap<Uuid, Arc<TableSet>>, AppError> {
    let mut groups = db::incident::table_set_groups(conn, partnerships, year).await?;
    Ok(partnerships
        .iter()
        .map(|p| {
            let (g, places) = groups.remove(p).unwrap_or_default();
            (*p, TableSet::protected(year, g, places))
        })
        .collect())
}
