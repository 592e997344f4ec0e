//! Reports computed from the records: the RAG's quarterly update.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

use super::incident::PeriodRange;
use super::indicator::Indicator;
use super::plan::{ActionStatus, PlanProgress, parse_quarter_opt, progress_report};
use super::{parse_id, principal};
use crate::auth::policy::{Operation, authorize, exact_statistics};
use crate::db;
use crate::db::indicator::IndicatorRow;
use crate::domain::period::{FinancialYear, Quarter};
use crate::domain::plan::{ProgressStatus as DomainProgress, StandingAt, standing_at};
use crate::domain::stats::change_percent;
use crate::domain::tableset::{Unit, indicator_figure};
use crate::error::AppError;

/// An action whose status at the quarter's end differs from the previous quarter's end.
#[derive(SimpleObject, Clone)]
pub struct StatusChange {
    pub action_id: ID,
    #[graphql(name = "ref")]
    pub action_ref: String,
    pub title: String,
    pub priority_position: i32,
    /// At the end of the previous quarter (NOT_STARTED before the year's first).
    pub from: ActionStatus,
    pub to: ActionStatus,
}

/// An action past its target date at the quarter's end and neither complete nor removed.
#[derive(SimpleObject, Clone)]
pub struct OverdueAction {
    pub action_id: ID,
    #[graphql(name = "ref")]
    pub action_ref: String,
    pub title: String,
    pub priority_position: i32,
    pub target_date: NaiveDate,
    pub status: ActionStatus,
    /// The lead agency's slug.
    pub lead_agency: String,
}

/// An indicator's figure for a period against a compared one.
#[derive(SimpleObject, Clone)]
pub struct IndicatorFigure {
    pub indicator: Indicator,
    /// Null when withheld (the PCC: a small count, or a figure that is not made of cells of its
    /// table set) or, for an external indicator, when no figure is recorded for the period.
    pub count: Option<i64>,
    pub previous_count: Option<i64>,
    pub change: Option<i64>,
    /// One decimal place; null when the previous count is 0 or either is missing.
    pub change_percent: Option<f64>,
    /// True when a count was withheld for the PCC.
    pub suppressed: bool,
}

/// A priority's indicators.
#[derive(SimpleObject, Clone)]
pub struct PriorityIndicators {
    pub priority_id: ID,
    pub position: i32,
    pub title: String,
    pub indicators: Vec<IndicatorFigure>,
}

/// The RAG's quarterly update of a plan, computed from the records.
#[derive(SimpleObject, Clone)]
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
    /// The quarter's days and the same quarter a year earlier, which indicators compare with.
    pub period: PeriodRange,
    pub compared_with: PeriodRange,
    /// Each priority's linked indicators for the quarter against the same quarter a year
    /// earlier.
    pub indicators: Vec<PriorityIndicators>,
    /// True when figures are the PCC's (cells of its protected table set).
    pub suppression_applied: bool,
}

fn status_of(s: StandingAt) -> Option<ActionStatus> {
    match s {
        StandingAt::NotCounted => None,
        StandingAt::NotStarted => Some(ActionStatus::NotStarted),
        StandingAt::OnTarget => Some(ActionStatus::OnTarget),
        StandingAt::Complete => Some(ActionStatus::Complete),
        StandingAt::Incomplete => Some(ActionStatus::Incomplete),
        StandingAt::Removed => Some(ActionStatus::Removed),
    }
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

fn year_before(year: FinancialYear) -> FinancialYear {
    FinancialYear::containing(
        year.first_day()
            .pred_opt()
            .unwrap_or_else(|| year.first_day()),
    )
}

/// Indicator figures for a partnership over a quarter against the same quarter a year earlier:
/// exact for partners, cells of the table set for the PCC.
async fn figures(
    conn: &sea_orm::DatabaseTransaction,
    partnership: Uuid,
    indicators: &[IndicatorRow],
    quarter: Quarter,
    exact: bool,
) -> Result<HashMap<Uuid, IndicatorFigure>, AppError> {
    let year = quarter.year();
    let unit = Unit::Quarter(quarter.number());
    let earlier = year_before(year);
    let now = unit.days(year);
    let before = unit.days(earlier);
    let windows = [now, before];
    let external: Vec<Uuid> = indicators
        .iter()
        .filter(|i| i.kind == "EXTERNAL")
        .map(|i| i.id)
        .collect();
    let mut values: HashMap<(Uuid, usize), i64> = HashMap::new();
    if !external.is_empty() {
        for v in db::indicator::values_for(conn, &external, &[partnership], &windows).await? {
            let k = usize::from((v.period_from, v.period_to) != now);
            values.insert((v.indicator_id, k), v.value);
        }
    }
    let mut out = HashMap::new();
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
            let count = values.get(&(i.id, 0)).copied().or(zero);
            let previous = values.get(&(i.id, 1)).copied().or(zero);
            out.insert(i.id, figure(i.clone(), count, previous, false));
        }
        return Ok(out);
    }
    let set_now = super::tableset::table_set(conn, partnership, year).await?;
    let set_before = super::tableset::table_set(conn, partnership, earlier).await?;
    for i in indicators {
        if i.kind == "EXTERNAL" {
            let (count, previous) = (
                values.get(&(i.id, 0)).copied(),
                values.get(&(i.id, 1)).copied(),
            );
            out.insert(i.id, figure(i.clone(), count, previous, false));
            continue;
        }
        let d = i.definition();
        let a = indicator_figure(&set_now, &d, unit);
        let b = indicator_figure(&set_before, &d, unit);
        let hidden = a.is_none_or(|f| f.hidden) || b.is_none_or(|f| f.hidden);
        out.insert(
            i.id,
            figure(
                i.clone(),
                a.and_then(|f| f.shown()),
                b.and_then(|f| f.shown()),
                hidden,
            ),
        );
    }
    Ok(out)
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

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// The RAG's quarterly update of a plan (`quarter` such as `2014/15 Q3`): progress at the
    /// quarter's end, the actions whose status changed since the previous quarter, those past
    /// their target date, the removed and incomplete ones with reasons, and each priority's
    /// indicators for the quarter against the same quarter a year earlier. Every role may read
    /// it; the PCC's indicator figures are cells of its protected table set.
    #[graphql(complexity = "2 * crate::graphql::REPORT_COST + child_complexity")]
    async fn rag_update(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        quarter: String,
    ) -> Result<RagUpdate> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let conn = super::db(ctx)?;
        super::heavy_granted(ctx)?;
        let plan =
            db::plan::plan_in_scope(conn, &p.scope(), parse_id(&plan_id, "plan")?, false).await?;
        let quarter: Quarter = quarter.parse()?;
        let year: FinancialYear = plan.financial_year.parse()?;
        if !year.contains(quarter) {
            return Err(AppError::BadUserInput(format!(
                "quarter {quarter} is not in the plan's financial year {year}"
            ))
            .into());
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
            let Some(to) = now.get(&row.id).copied().and_then(status_of) else {
                continue;
            };
            let from = before
                .get(&row.id)
                .copied()
                .and_then(status_of)
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
                    target_date: target,
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
        let exact = exact_statistics(p);
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
            period: PeriodRange { from, to },
            compared_with: PeriodRange {
                from: cfrom,
                to: cto,
            },
            indicators,
            suppression_applied: !exact,
        })
    }
}
