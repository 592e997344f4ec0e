//! The PCC's twice-yearly report of a partnership, computed from the records.

use async_graphql::{ID, SimpleObject};

use super::PeriodRange;
use super::indicator::Indicator;
use super::plan::{PlanProgress, progress_report};
use super::rag::{series, year_before};
use crate::db;
use crate::db::indicator::IndicatorRow;
use crate::domain::period::{FinancialYear, Quarter};
use crate::domain::stats::change_percent;
use crate::domain::tableset::Unit;
use crate::error::AppError;
use crate::scalar::Date;

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

/// The PCC's report of a partnership in scope for a half of a financial year.
pub async fn build_pcc(
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
