//! The RAG's quarterly update of a plan, computed from the records.

use std::collections::HashMap;

use async_graphql::{ID, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

use super::PeriodRange;
use super::indicator::Indicator;
use super::plan::{
    ActionStatus, PlanProgress, parse_quarter_opt, progress_report, standing_to_status,
};
use crate::db;
use crate::db::indicator::IndicatorRow;
use crate::domain::period::{FinancialYear, Quarter};
use crate::domain::plan::{ProgressStatus as DomainProgress, StandingAt, standing_at};
use crate::domain::stats::change_percent;
use crate::domain::tableset::{Unit, indicator_figure};
use crate::error::AppError;
use crate::scalar::Date;

/// An action whose status at the quarter's end differs from the previous quarter's end.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    /// The action's id.
    pub action_id: ID,
    /// The action's ref in the plan, such as `6.9`.
    #[graphql(name = "ref")]
    #[serde(rename = "ref")]
    pub action_ref: String,
    /// The action's title.
    pub title: String,
    /// The 1-based position in the plan of the action's priority.
    pub priority_position: i32,
    /// At the end of the previous quarter (NOT_STARTED before the year's first).
    pub from: ActionStatus,
    /// At the end of the report's quarter.
    pub to: ActionStatus,
}

/// An action past its target date at the quarter's end and neither complete nor removed.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverdueAction {
    /// The action's id.
    pub action_id: ID,
    /// The action's ref in the plan, such as `6.9`.
    #[graphql(name = "ref")]
    #[serde(rename = "ref")]
    pub action_ref: String,
    /// The action's title.
    pub title: String,
    /// The 1-based position in the plan of the action's priority.
    pub priority_position: i32,
    /// The action's target date (YYYY-MM-DD), before the quarter's last day.
    pub target_date: crate::scalar::Date,
    /// Its status at the quarter's end: NOT_STARTED, ON_TARGET or INCOMPLETE.
    pub status: ActionStatus,
    /// The lead agency's slug.
    pub lead_agency: String,
}

/// An indicator's figure for a period against a compared one.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorFigure {
    /// The indicator.
    pub indicator: Indicator,
    /// Null when withheld (the PCC: a small count, or a figure that is not made of cells of its
    /// table set) or, for an external indicator, when no figure is recorded for the period.
    pub count: Option<i64>,
    /// The count for the period compared with (in `ragUpdate`, the same quarter a year
    /// earlier); null in the same cases as `count`.
    pub previous_count: Option<i64>,
    /// `count - previousCount`; null when either is null.
    pub change: Option<i64>,
    /// One decimal place; null when the previous count is 0 or either is missing.
    pub change_percent: Option<f64>,
    /// True when a count was withheld for the PCC.
    pub suppressed: bool,
}

/// A priority's indicators.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityIndicators {
    /// The priority's id.
    pub priority_id: ID,
    /// The priority's 1-based position in the plan.
    pub position: i32,
    /// The priority's title.
    pub title: String,
    /// The indicators linked to the priority, the built-in ones first, then by code; empty when
    /// none is linked.
    pub indicators: Vec<IndicatorFigure>,
}

/// The RAG's quarterly update of a plan, computed from the records.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RagUpdate {
    /// Progress at the quarter's end, per priority and in total, with the removed and incomplete
    /// actions and their reasons.
    pub progress: PlanProgress,
    /// The quarter the changes are counted from; null for Q1 (changes from NOT_STARTED).
    pub previous_quarter: Option<String>,
    /// Actions whose status changed since the end of the previous quarter.
    pub changes: Vec<StatusChange>,
    /// Actions past their target date and neither complete nor removed.
    pub past_target: Vec<OverdueAction>,
    /// The quarter's first and last days (YYYY-MM-DD), which the indicators' `count` covers.
    pub period: PeriodRange,
    /// The same quarter a year earlier, which the indicators' `previousCount` covers.
    pub compared_with: PeriodRange,
    /// Each priority's linked indicators for the quarter against the same quarter a year
    /// earlier.
    pub indicators: Vec<PriorityIndicators>,
    /// True when figures are the PCC's (cells of its protected table set).
    pub suppression_applied: bool,
}

fn standings(
    rows: &[db::plan::ReportRow],
    quarter: Quarter,
) -> Result<HashMap<Uuid, StandingAt>, AppError> {
    let mut out = HashMap::new();
    for row in rows {
        let latest = row
            .status
            .as_deref()
            .map(DomainProgress::parse)
            .transpose()?;
        out.insert(
            row.id,
            standing_at(
                quarter,
                parse_quarter_opt(row.added_in_quarter.as_deref())?,
                parse_quarter_opt(row.removal_quarter.as_deref())?,
                latest,
            ),
        );
    }
    Ok(out)
}

pub(super) fn year_before(year: FinancialYear) -> FinancialYear {
    FinancialYear::containing(
        year.first_day()
            .pred_opt()
            .unwrap_or_else(|| year.first_day()),
    )
}

/// One figure of an indicator for a unit of a year: the count (None when withheld from the
/// PCC, or for an external indicator with no figure recorded) and whether it was withheld.
#[derive(Debug, Clone, Copy)]
pub(super) struct Point {
    pub(super) count: Option<i64>,
    pub(super) withheld: bool,
}

/// Indicator figures for a partnership over some units of financial years (which must not
/// overlap): exact for partners, cells of the table set for the PCC.
pub(super) async fn series(
    conn: &sea_orm::DatabaseTransaction,
    partnership: Uuid,
    indicators: &[IndicatorRow],
    units: &[(FinancialYear, Unit)],
    exact: bool,
) -> Result<HashMap<Uuid, Vec<Point>>, AppError> {
    let windows: Vec<(NaiveDate, NaiveDate)> = units.iter().map(|(y, u)| u.days(*y)).collect();
    let external: Vec<Uuid> = indicators
        .iter()
        .filter(|i| i.kind == "EXTERNAL")
        .map(|i| i.id)
        .collect();
    let mut values: HashMap<(Uuid, usize), i64> = HashMap::new();
    if !external.is_empty() {
        for v in db::indicator::values_for(conn, &external, &[partnership], &windows).await? {
            if let Some(k) = windows
                .iter()
                .position(|w| *w == (v.period_from, v.period_to))
            {
                values.insert((v.indicator_id, k), v.value);
            }
        }
    }
    let mut out: HashMap<Uuid, Vec<Point>> = HashMap::new();
    if exact {
        let definitions: Vec<(Uuid, crate::domain::indicator::Definition)> = indicators
            .iter()
            .filter(|i| i.kind == "INCIDENTS")
            .map(|i| (i.id, i.definition()))
            .collect();
        for c in db::indicator::window_counts(conn, &definitions, &[partnership], &windows).await? {
            if let Some(id) = c.indicator_id {
                values.insert((id, usize::try_from(c.window).unwrap_or(0)), c.n);
            }
        }
        for i in indicators {
            let zero = if i.kind == "INCIDENTS" { Some(0) } else { None };
            let points = (0..units.len())
                .map(|k| Point {
                    count: values.get(&(i.id, k)).copied().or(zero),
                    withheld: false,
                })
                .collect();
            out.insert(i.id, points);
        }
        return Ok(out);
    }
    let mut sets: HashMap<FinancialYear, std::sync::Arc<crate::domain::tableset::TableSet>> =
        HashMap::new();
    for (year, _) in units {
        if !sets.contains_key(year) {
            sets.insert(*year, super::table_set(conn, partnership, *year).await?);
        }
    }
    for i in indicators {
        let d = i.definition();
        let points = units
            .iter()
            .enumerate()
            .map(|(k, (year, unit))| {
                if i.kind == "EXTERNAL" {
                    return Point {
                        count: values.get(&(i.id, k)).copied(),
                        withheld: false,
                    };
                }
                let f = sets
                    .get(year)
                    .and_then(|set| indicator_figure(set, &d, *unit));
                Point {
                    count: f.and_then(|f| f.shown()),
                    withheld: f.is_none_or(|f| f.hidden),
                }
            })
            .collect();
        out.insert(i.id, points);
    }
    Ok(out)
}

/// Indicator figures for a quarter against the same quarter a year earlier.
async fn figures(
    conn: &sea_orm::DatabaseTransaction,
    partnership: Uuid,
    indicators: &[IndicatorRow],
    quarter: Quarter,
    exact: bool,
) -> Result<HashMap<Uuid, IndicatorFigure>, AppError> {
    let unit = Unit::Quarter(quarter.number());
    let units = [(quarter.year(), unit), (year_before(quarter.year()), unit)];
    let points = series(conn, partnership, indicators, &units, exact).await?;
    Ok(indicators
        .iter()
        .map(|i| {
            let p = points.get(&i.id).cloned().unwrap_or_default();
            let (now, before) = (p.first().copied(), p.get(1).copied());
            (
                i.id,
                figure(
                    i.clone(),
                    now.and_then(|p| p.count),
                    before.and_then(|p| p.count),
                    now.is_some_and(|p| p.withheld) || before.is_some_and(|p| p.withheld),
                ),
            )
        })
        .collect())
}

fn figure(
    i: IndicatorRow,
    count: Option<i64>,
    previous: Option<i64>,
    suppressed: bool,
) -> IndicatorFigure {
    IndicatorFigure {
        count,
        previous_count: previous,
        change: count.zip(previous).map(|(c, p)| c - p),
        change_percent: count.zip(previous).and_then(|(c, p)| change_percent(c, p)),
        suppressed,
        indicator: i.into(),
    }
}

/// The RAG's update of a plan in `scope` (else NOT_FOUND) at a quarter's end.
pub async fn build_rag(
    conn: &sea_orm::DatabaseTransaction,
    scope: &[Uuid],
    plan_id: Uuid,
    quarter: &str,
    exact: bool,
) -> Result<RagUpdate, AppError> {
    {
        let plan = db::plan::plan_in_scope(conn, scope, plan_id, false).await?;
        let quarter: Quarter = quarter.parse()?;
        let year: FinancialYear = plan.financial_year.parse()?;
        if !year.contains(quarter) {
            return Err(AppError::BadUserInput(format!(
                "quarter {quarter} is not in the plan's financial year {year}"
            )));
        }
        let partnership = plan.partnership_id;
        let plan_id = plan.id;
        let priorities = db::plan::priorities_of_plans(conn, &[plan_id]).await?;
        let rows = db::plan::report_rows(conn, plan_id, &quarter.to_string()).await?;
        let previous_quarter = if quarter.number() > 1 {
            Some(year.quarter(quarter.number() - 1)?)
        } else {
            None
        };
        let now = standings(&rows, quarter)?;
        let before = match previous_quarter {
            Some(q) => {
                let earlier = db::plan::report_rows(conn, plan_id, &q.to_string()).await?;
                standings(&earlier, q)?
            }
            None => HashMap::new(),
        };
        let position: HashMap<Uuid, i32> = priorities.iter().map(|p| (p.id, p.position)).collect();
        let mut changes = Vec::new();
        let mut past_target = Vec::new();
        for row in &rows {
            let Some(to) = now.get(&row.id).copied().and_then(standing_to_status) else {
                continue;
            };
            let from = before
                .get(&row.id)
                .copied()
                .and_then(standing_to_status)
                .unwrap_or(ActionStatus::NotStarted);
            let priority_position = position.get(&row.priority_id).copied().unwrap_or_default();
            if from != to {
                changes.push(StatusChange {
                    action_id: ID(row.id.to_string()),
                    action_ref: row.action_ref.clone(),
                    title: row.title.clone(),
                    priority_position,
                    from,
                    to,
                });
            }
            if let Some(target) = row.target_date
                && target < quarter.last_day()
                && !matches!(to, ActionStatus::Complete | ActionStatus::Removed)
            {
                past_target.push(OverdueAction {
                    action_id: ID(row.id.to_string()),
                    action_ref: row.action_ref.clone(),
                    title: row.title.clone(),
                    priority_position,
                    target_date: Date(target),
                    status: to,
                    lead_agency: row.lead_agency.clone(),
                });
            }
        }
        let links = db::indicator::links_of_plan(conn, plan_id).await?;
        let linked: Vec<IndicatorRow> = db::indicator::list(conn, partnership, None)
            .await?
            .into_iter()
            .filter(|i| links.iter().any(|l| l.indicator_id == i.id))
            .collect();
        let figures = figures(conn, partnership, &linked, quarter, exact).await?;
        let indicators = priorities
            .iter()
            .map(|pr| PriorityIndicators {
                priority_id: ID(pr.id.to_string()),
                position: pr.position,
                title: pr.title.clone(),
                indicators: linked
                    .iter()
                    .filter(|i| {
                        links
                            .iter()
                            .any(|l| l.priority_id == pr.id && l.indicator_id == i.id)
                    })
                    .filter_map(|i| figures.get(&i.id).cloned())
                    .collect(),
            })
            .collect();
        let unit = Unit::Quarter(quarter.number());
        let (from, to) = unit.days(year);
        let (cfrom, cto) = unit.days(year_before(year));
        Ok(RagUpdate {
            progress: progress_report(plan, quarter, priorities, rows)?,
            previous_quarter: previous_quarter.map(|q| q.to_string()),
            changes,
            past_target,
            period: PeriodRange {
                from: Date(from),
                to: Date(to),
            },
            compared_with: PeriodRange {
                from: Date(cfrom),
                to: Date(cto),
            },
            indicators,
            suppression_applied: !exact,
        })
    }
}
