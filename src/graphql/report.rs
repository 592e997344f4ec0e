//! Reports computed from the records: the RAG's quarterly update.

use crate::graphql::scalar::Date;
use std::collections::HashMap;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

use super::incident::PeriodRange;
use super::indicator::Indicator;
use super::plan::{
    ActionStatus, PlanProgress, parse_quarter_opt, progress_report, standing_to_status,
};
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
    pub target_date: crate::graphql::scalar::Date,
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

fn year_before(year: FinancialYear) -> FinancialYear {
    FinancialYear::containing(
        year.first_day()
            .pred_opt()
            .unwrap_or_else(|| year.first_day()),
    )
}

/// One figure of an indicator for a unit of a year: the count (None when withheld from the
/// PCC, or for an external indicator with no figure recorded) and whether it was withheld.
#[derive(Debug, Clone, Copy)]
struct Point {
    count: Option<i64>,
    withheld: bool,
}

/// Indicator figures for a partnership over some units of financial years (which must not
/// overlap): exact for partners, cells of the table set for the PCC.
async fn series(
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
            sets.insert(
                *year,
                super::tableset::table_set(conn, partnership, *year).await?,
            );
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
        #[graphql(desc = "A plan of a partnership in scope (NOT_FOUND otherwise).")] plan_id: ID,
        #[graphql(
            desc = "A quarter of the plan's financial year, such as `2014/15 Q3`; BAD_USER_INPUT otherwise."
        )]
        quarter: String,
    ) -> Result<RagUpdate> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        let plan_id = parse_id(&plan_id, "plan")?;
        Ok(build_rag(conn, &p.scope(), plan_id, &quarter, exact_statistics(p)).await?)
    }
}

/// The RAG's update of a plan in `scope` (else NOT_FOUND) at a quarter's end.
pub(crate) async fn build_rag(
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

/// A half of a financial year.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Half {
    /// April to September (Q1-Q2).
    First,
    /// October to March (Q3-Q4).
    Second,
}

/// An indicator's figure for a quarter and for the same quarter a year earlier.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuarterPoint {
    /// Such as `2014/15 Q1`.
    pub quarter: String,
    /// The count for the quarter. Null when withheld from the PCC (see `suppressed`) or, for an
    /// external indicator, when no figure is recorded for exactly the quarter.
    pub count: Option<i64>,
    /// True when the quarter's count is withheld from the PCC.
    pub suppressed: bool,
    /// The count for the same quarter a year earlier; null in the same cases as `count`.
    pub year_earlier_count: Option<i64>,
    /// True when the year-earlier count is withheld from the PCC.
    pub year_earlier_suppressed: bool,
    /// The change from `yearEarlierCount` to `count` as a %, one decimal place (half away from
    /// zero); null when either is null or the year-earlier count is 0.
    pub change_percent: Option<f64>,
}

/// An indicator's trend by quarter, the year so far.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorTrend {
    /// The indicator.
    pub indicator: Indicator,
    /// Each quarter of the financial year from Q1 to the half's last quarter, in order.
    pub quarters: Vec<QuarterPoint>,
}

/// A priority's indicators with their trends.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityTrends {
    /// The priority's id.
    pub priority_id: ID,
    /// The priority's 1-based position in the plan.
    pub position: i32,
    /// The priority's title.
    pub title: String,
    /// The indicators linked to the priority, the built-in ones first, then by code; empty when
    /// none is linked.
    pub indicators: Vec<IndicatorTrend>,
}

/// A month for which a pushing partner agency holds no records.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingMonth {
    /// The slug of the partnership's police, fire or council agency that holds no records for
    /// the month.
    pub agency: String,
    /// Such as `2014-05`.
    pub month: String,
}

/// The PCC's twice-yearly report of a partnership.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PccReport {
    /// The partnership's slug.
    pub partnership: String,
    /// The financial year asked for, such as `2014/15`.
    pub financial_year: String,
    /// The half asked for.
    pub half: Half,
    /// The half's first and last days (YYYY-MM-DD): 1 April to 30 September, or 1 October to
    /// 31 March.
    pub period: PeriodRange,
    /// Plan progress at the half's end (Q2 or Q4); null when the partnership has no plan for the
    /// year.
    pub progress: Option<PlanProgress>,
    /// Each priority's linked indicators, quarter by quarter through the year to the half's end,
    /// each against the same quarter a year earlier.
    pub indicators: Vec<PriorityTrends>,
    /// Grants awarded in the year up to the half's end, with the funded actions' status at the
    /// half's end and every spend recorded so far (spend after the half's end included).
    pub grants: Vec<super::grant::Grant>,
    /// Survey results of every year up to the calendar year in which the financial year ends
    /// (2015 for 2014/15), newest year first.
    pub surveys: Vec<super::grant::SurveyResult>,
    /// Months of the half for which a pushing partner agency holds no records.
    pub missing_months: Vec<MissingMonth>,
    /// True when no month is missing.
    pub data_complete: bool,
    /// True when figures are the PCC's (cells of its protected table set).
    pub suppression_applied: bool,
}

#[derive(Default)]
pub struct PccReportQuery;

#[Object]
impl PccReportQuery {
    /// The PCC's twice-yearly report (`financialYear` such as `2014/15`; FIRST is Q1-Q2,
    /// SECOND Q3-Q4): plan progress at the half's end, each priority's indicators by quarter,
    /// grants and spend with the funded actions' status, survey results, and which partner
    /// months are missing. Every role may read it; the PCC's indicator figures are cells of its
    /// protected table set.
    #[graphql(complexity = "3 * crate::graphql::REPORT_COST + child_complexity")]
    async fn pcc_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "The financial year, such as `2014/15`; BAD_USER_INPUT when malformed.")]
        financial_year: String,
        #[graphql(desc = "FIRST (April to September) or SECOND (October to March).")] half: Half,
    ) -> Result<PccReport> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadPlans)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        Ok(build_pcc(conn, target, &financial_year, half, exact_statistics(p)).await?)
    }
}

/// The PCC's report of a partnership in scope for a half of a financial year.
pub(crate) async fn build_pcc(
    conn: &sea_orm::DatabaseTransaction,
    target: &crate::auth::ScopedPartnership,
    financial_year: &str,
    half: Half,
    exact: bool,
) -> Result<PccReport, AppError> {
    {
        let year: FinancialYear = financial_year.parse()?;
        let last_quarter = year.quarter(if half == Half::First { 2 } else { 4 })?;
        let unit = Unit::Half(if half == Half::First { 1 } else { 2 });
        let (from, to) = unit.days(year);
        let plan = db::plan::plan_for_year(conn, target.id, &year.to_string()).await?;
        let mut indicators = Vec::new();
        let mut progress = None;
        if let Some(plan) = plan {
            let priorities = db::plan::priorities_of_plans(conn, &[plan.id]).await?;
            let rows = db::plan::report_rows(conn, plan.id, &last_quarter.to_string()).await?;
            let links = db::indicator::links_of_plan(conn, plan.id).await?;
            let linked: Vec<IndicatorRow> = db::indicator::list(conn, target.id, None)
                .await?
                .into_iter()
                .filter(|i| links.iter().any(|l| l.indicator_id == i.id))
                .collect();
            let quarters: Vec<Quarter> = (1..=last_quarter.number())
                .map(|n| year.quarter(n))
                .collect::<Result<_, _>>()?;
            let mut units: Vec<(FinancialYear, Unit)> = quarters
                .iter()
                .map(|q| (year, Unit::Quarter(q.number())))
                .collect();
            units.extend(
                quarters
                    .iter()
                    .map(|q| (year_before(year), Unit::Quarter(q.number()))),
            );
            let points = series(conn, target.id, &linked, &units, exact).await?;
            let n = quarters.len();
            for pr in &priorities {
                let trends = linked
                    .iter()
                    .filter(|i| {
                        links
                            .iter()
                            .any(|l| l.priority_id == pr.id && l.indicator_id == i.id)
                    })
                    .map(|i| {
                        let p = points.get(&i.id).cloned().unwrap_or_default();
                        IndicatorTrend {
                            indicator: i.clone().into(),
                            quarters: quarters
                                .iter()
                                .enumerate()
                                .map(|(k, q)| {
                                    let now = p.get(k).copied();
                                    let before = p.get(k + n).copied();
                                    let (c, b) =
                                        (now.and_then(|x| x.count), before.and_then(|x| x.count));
                                    QuarterPoint {
                                        quarter: q.to_string(),
                                        count: c,
                                        suppressed: now.is_some_and(|x| x.withheld),
                                        year_earlier_count: b,
                                        year_earlier_suppressed: before.is_some_and(|x| x.withheld),
                                        change_percent: c
                                            .zip(b)
                                            .and_then(|(c, b)| change_percent(c, b)),
                                    }
                                })
                                .collect(),
                        }
                    })
                    .collect();
                indicators.push(PriorityTrends {
                    priority_id: ID(pr.id.to_string()),
                    position: pr.position,
                    title: pr.title.clone(),
                    indicators: trends,
                });
            }
            progress = Some(progress_report(plan, last_quarter, priorities, rows)?);
        }
        let grants = super::grant::grants_of(
            conn,
            target.id,
            &target.slug,
            Some((year.first_day(), to)),
            Some(last_quarter),
        )
        .await?;
        let surveys = db::grant::surveys(
            conn,
            target.id,
            Some((1990, chrono::Datelike::year(&year.last_day()))),
        )
        .await?
        .into_iter()
        .map(|r| super::grant::survey(&target.slug, r))
        .collect();
        let held = db::incident::freshness(conn, target.id, from, to).await?;
        let mut missing_months = Vec::new();
        for agency in db::incident::last_pushes(conn, target.id).await? {
            for m in unit.months() {
                let (month, _) = Unit::Month(m).days(year);
                if !held
                    .iter()
                    .any(|h| h.agency == agency.agency && h.month == month && h.records > 0)
                {
                    missing_months.push(MissingMonth {
                        agency: agency.agency.clone(),
                        month: month.format("%Y-%m").to_string(),
                    });
                }
            }
        }
        Ok(PccReport {
            partnership: target.slug.clone(),
            financial_year: year.to_string(),
            half,
            period: PeriodRange {
                from: Date(from),
                to: Date(to),
            },
            progress,
            indicators,
            grants,
            surveys,
            data_complete: missing_months.is_empty(),
            missing_months,
            suppression_applied: !exact,
        })
    }
}
