//! Indicators, populations and the strategic assessment.

use crate::graphql::scalar::{Date, Timestamp};
use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::incident::PeriodRange;
use super::{parse_id, principal};
use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize, exact_statistics};
use crate::db;
use crate::db::indicator::IndicatorRow;
use crate::domain::indicator::{
    Definition, Figure, check_code, check_window, population_year, ranks, rate_per_thousand,
};
use crate::domain::stats::{Period, change_percent};
use crate::domain::tableset::{Unit, indicator_figure};
use crate::domain::vocabulary::Vocabulary;
use crate::error::AppError;

/// At most this many indicators of a partnership's own.
pub const MAX_OWN_INDICATORS: usize = 200;

/// What an indicator measures: a count of incident records, or a figure recorded from another
/// source.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IndicatorKind {
    /// Counts ACTIVE incidents matching the definition.
    Incidents,
    /// A figure a coordinator records for a partnership and a period (`recordIndicatorValue`).
    External,
}

impl IndicatorKind {
    fn as_str(self) -> &'static str {
        super::name_of(self)
    }
}

/// Which incidents an INCIDENTS indicator counts: ACTIVE records matching every condition
/// given. An empty list or a null flag is no condition.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorDefinition {
    /// Crime categories (any of them).
    pub categories: Vec<String>,
    /// true: only records flagged as domestic-abuse related; false: only records not so flagged;
    /// null: no condition.
    pub domestic_abuse: Option<bool>,
    /// true: only records flagged as alcohol related; false: only records not so flagged; null:
    /// no condition.
    pub alcohol_related: Option<bool>,
    /// true: only records flagged as youth related; false: only records not so flagged; null: no
    /// condition.
    pub youth_related: Option<bool>,
    /// true: records with at least one hate strand.
    pub hate_crime: Option<bool>,
    /// Records with any of these hate strands.
    pub hate_strands: Vec<String>,
    /// Records with any of these drug classes (DRUG_CLASS vocabulary codes: `a`, `b`, `c`).
    pub drug_classes: Vec<String>,
    /// Records with any of these fire types (FIRE_TYPE vocabulary codes, such as `secondary`).
    pub fire_types: Vec<String>,
}

/// A named measure: a count of incidents, or an external figure with its source.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Indicator {
    /// Opaque id, for `indicatorId` arguments. Each partnership's copy of a built-in indicator
    /// has an id of its own.
    pub id: ID,
    /// Such as `domestic-abuse`; unique within a partnership, built-in codes included.
    pub code: String,
    /// Display name, such as `Domestic abuse related crime`.
    pub name: String,
    /// What the indicator counts, in plain words; may be empty.
    pub description: String,
    /// INCIDENTS: counted from the incident records by `definition`. EXTERNAL: figures recorded
    /// with `recordIndicatorValue` (read them with `indicatorValues`).
    pub kind: IndicatorKind,
    /// Built in (every partnership has its own copy, kept up to date by csphub) rather than the
    /// partnership's own. A built-in indicator has the same code in every partnership but not
    /// the same id.
    pub built_in: bool,
    /// Null for EXTERNAL indicators.
    pub definition: Option<IndicatorDefinition>,
    /// The priorities of the partnership's plans it is linked to.
    pub priority_ids: Vec<ID>,
}

impl From<IndicatorRow> for Indicator {
    fn from(r: IndicatorRow) -> Self {
        let kind = if r.kind == "EXTERNAL" {
            IndicatorKind::External
        } else {
            IndicatorKind::Incidents
        };
        let d = r.definition();
        Self {
            id: ID(r.id.to_string()),
            code: r.code,
            name: r.name,
            description: r.description,
            kind,
            built_in: r.builtin,
            definition: (kind == IndicatorKind::Incidents).then_some(IndicatorDefinition {
                categories: d.categories,
                domestic_abuse: d.domestic_abuse,
                alcohol_related: d.alcohol_related,
                youth_related: d.youth_related,
                hate_crime: d.hate_crime,
                hate_strands: d.hate_strands,
                drug_classes: d.drug_classes,
                fire_types: d.fire_types,
            }),
            priority_ids: r
                .priority_ids
                .into_iter()
                .map(|p| ID(p.to_string()))
                .collect(),
        }
    }
}

/// An external indicator's figure for a partnership and a period.
#[derive(SimpleObject, Clone)]
pub struct IndicatorValue {
    /// The EXTERNAL indicator's id.
    pub indicator_id: ID,
    /// The partnership's slug.
    pub partnership: String,
    /// The days the figure covers, first and last both included (YYYY-MM-DD).
    pub period: PeriodRange,
    /// The figure: a whole number, 0 or more.
    pub value: i64,
    /// Where the figure comes from, such as `Public Health England, hospital admissions`.
    pub source: String,
    /// The token subject (`sub`) that last recorded or corrected the figure.
    pub recorded_by: String,
    /// When the figure was last recorded or corrected: RFC 3339, in UTC.
    pub recorded_at: crate::graphql::scalar::Timestamp,
}

/// A partnership's mid-year population estimate for a year.
#[derive(SimpleObject, Clone)]
pub struct Population {
    /// The partnership's slug.
    pub partnership: String,
    /// The year of the mid-year (30 June) estimate.
    pub year: i32,
    /// The number of residents estimated at 30 June of `year`.
    pub population: i32,
    /// Where the estimate comes from, such as `ONS mid-2013 population estimates`.
    pub source: String,
    /// The token subject (`sub`) that last recorded or corrected the estimate.
    pub recorded_by: String,
    /// When the estimate was last recorded or corrected: RFC 3339, in UTC.
    pub recorded_at: crate::graphql::scalar::Timestamp,
}

fn population(slug: &str, r: db::indicator::PopulationRow) -> Population {
    Population {
        partnership: slug.to_owned(),
        year: r.year,
        population: r.population,
        source: r.source,
        recorded_by: r.recorded_by_sub,
        recorded_at: Timestamp(r.recorded_at),
    }
}

/// One indicator in the assessment.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessedIndicator {
    /// The indicator assessed.
    pub indicator: Indicator,
    /// In the window. Null when withheld from the PCC (see `suppressed`), when the partnership
    /// holds no incident records at all in the window, or for an external indicator with no
    /// figure recorded for exactly the window.
    pub count: Option<i64>,
    /// In `previousWindow`; null in the same cases as `count`.
    pub previous_count: Option<i64>,
    /// `count - previousCount`; null when either is null.
    pub change: Option<i64>,
    /// The change as a % of the previous count, one decimal place (half away from zero); null
    /// when the previous count is 0 or either count is null.
    pub change_percent: Option<f64>,
    /// Per 1,000 residents (the population estimate the assessment names), two decimal places;
    /// null when `count` or the assessment's `population` is null.
    pub rate_per_thousand: Option<f64>,
    /// 1 is the lowest rate among the county's partnerships with figures for the window; equal
    /// rates share a rank. Null when this partnership has no count or no population for the
    /// window.
    pub rank: Option<i32>,
    /// How many partnerships were ranked.
    pub ranked: i32,
    /// True when the PCC's count or previous count is withheld: a cell of 1 to 4 (or withheld
    /// so that none can be worked out), or a figure not made of cells of its table set (an
    /// indicator on hate strands, drug classes, fire types or flags other than domestic abuse).
    pub suppressed: bool,
}

/// The strategic assessment of a partnership for a window of days.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StrategicAssessment {
    /// The partnership's slug.
    pub partnership: String,
    /// The name of the partnership's county, among whose partnerships it is ranked.
    pub county: String,
    /// The window asked for, both days included (YYYY-MM-DD).
    pub window: PeriodRange,
    /// What the window is compared with: for partners the window of the same length just
    /// before it; for the PCC the month, quarter, half or financial year before.
    pub previous_window: PeriodRange,
    /// The year of the mid-year estimates used for rates: the one at or before the middle of the
    /// window (a partnership without one uses its latest earlier estimate).
    pub population_year: i32,
    /// The partnership's population used; null when none is recorded (then no rate or rank).
    pub population: Option<i32>,
    /// The county's partnerships.
    pub county_partnerships: i32,
    /// Every indicator of the partnership, the built-in ones first, then by code.
    pub indicators: Vec<AssessedIndicator>,
    /// True for the PCC: its figures are cells of the partnerships' protected table sets, and
    /// only partnerships whose figure it may see are ranked.
    pub suppression_applied: bool,
}

/// A new indicator of the partnership's own. BAD_USER_INPUT for a malformed code, a code that
/// is not in its vocabulary, a condition on an EXTERNAL indicator, or more than 200 indicators
/// of the partnership's own; CONFLICT when the code is taken.
#[derive(InputObject)]
pub struct CreateIndicatorInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// Lower-case words joined by hyphens, such as `youth-asb`, up to 64 characters; unique in
    /// the partnership, built-in codes included.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub code: String,
    /// Display name, up to 200 characters; not blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub name: String,
    /// What the indicator counts, in plain words; up to 2,000 characters.
    #[graphql(default, validator(custom = "crate::graphql::Text(2000)"))]
    pub description: String,
    /// INCIDENTS: counted from the incident records by the conditions below (ACTIVE records
    /// matching every condition given). EXTERNAL: figures recorded with `recordIndicatorValue`;
    /// give no condition.
    pub kind: IndicatorKind,
    /// Crime categories (vocabulary codes); INCIDENTS only.
    #[graphql(
        default,
        validator(max_items = 50, list, custom = "crate::graphql::Text(64)")
    )]
    pub categories: Vec<String>,
    /// INCIDENTS only. true: only records flagged as domestic-abuse related; false: only records
    /// not so flagged; null or left out: no condition.
    pub domestic_abuse: Option<bool>,
    /// INCIDENTS only. true: only records flagged as alcohol related; false: only records not so
    /// flagged; null or left out: no condition.
    pub alcohol_related: Option<bool>,
    /// INCIDENTS only. true: only records flagged as youth related; false: only records not so
    /// flagged; null or left out: no condition.
    pub youth_related: Option<bool>,
    /// INCIDENTS only. true: only records with at least one hate strand; false: only records
    /// with none; null or left out: no condition.
    pub hate_crime: Option<bool>,
    /// INCIDENTS only: records with any of these HATE_STRAND vocabulary codes (such as `race`);
    /// at most 20.
    #[graphql(
        default,
        validator(max_items = 20, list, custom = "crate::graphql::Text(64)")
    )]
    pub hate_strands: Vec<String>,
    /// INCIDENTS only: records with any of these DRUG_CLASS vocabulary codes (`a`, `b`, `c`); at
    /// most 20.
    #[graphql(
        default,
        validator(max_items = 20, list, custom = "crate::graphql::Text(64)")
    )]
    pub drug_classes: Vec<String>,
    /// INCIDENTS only: records with any of these FIRE_TYPE vocabulary codes (`primary`,
    /// `primary-vehicle`, `secondary`); at most 20.
    #[graphql(
        default,
        validator(max_items = 20, list, custom = "crate::graphql::Text(64)")
    )]
    pub fire_types: Vec<String>,
}

/// An EXTERNAL indicator's figure for a partnership and a period. Recording the same
/// indicator, partnership and period again replaces the figure and its source.
#[derive(InputObject)]
pub struct RecordIndicatorValueInput {
    /// An EXTERNAL indicator of the partnership: NOT_FOUND when the partnership has no such
    /// indicator, BAD_USER_INPUT for an INCIDENTS one.
    pub indicator_id: ID,
    /// The partnership's slug; may be left out when the token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// The period's first day (YYYY-MM-DD). Assessments and reports use a figure only when its
    /// period is exactly their window: record a quarter as its first to its last day.
    pub from: crate::graphql::scalar::Date,
    /// The period's last day, included: not before `from`, at most ten years after it, and
    /// between 1990 and 2200 (BAD_USER_INPUT otherwise).
    pub to: crate::graphql::scalar::Date,
    /// The figure: a whole number, 0 or more.
    pub value: i64,
    /// Where the figure comes from, such as "Public Health England, hospital admissions".
    #[graphql(validator(custom = "crate::graphql::Text(500)"))]
    pub source: String,
}

/// A partnership's mid-year population estimate for a year; recording the same year again
/// replaces it.
#[derive(InputObject)]
pub struct RecordPopulationInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// The year of the mid-year (30 June) estimate.
    pub year: i32,
    /// The number of residents, 1 to 100,000,000.
    pub population: i32,
    /// Such as "ONS mid-2013 population estimates".
    #[graphql(validator(custom = "crate::graphql::Text(500)"))]
    pub source: String,
}

fn unique(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = list.iter().map(|s| s.trim().to_owned()).collect();
    out.sort();
    out.dedup();
    out
}

/// The definition an input asks for, its codes checked against the vocabularies (a code of any
/// date counts: an indicator may be read over old windows).
async fn definition_of(
    conn: &sea_orm::DatabaseTransaction,
    input: &CreateIndicatorInput,
) -> Result<Definition, AppError> {
    let d = Definition {
        categories: unique(&input.categories),
        domestic_abuse: input.domestic_abuse,
        alcohol_related: input.alcohol_related,
        youth_related: input.youth_related,
        hate_crime: input.hate_crime,
        hate_strands: unique(&input.hate_strands),
        drug_classes: unique(&input.drug_classes),
        fire_types: unique(&input.fire_types),
    };
    if input.kind == IndicatorKind::External {
        if !d.is_empty() {
            return Err(AppError::BadUserInput(
                "an EXTERNAL indicator has no incident definition: leave categories and flags out"
                    .to_owned(),
            ));
        }
        return Ok(d);
    }
    let terms = db::vocabulary::terms(conn, None, None).await?;
    for (vocabulary, codes, field) in [
        (Vocabulary::CrimeCategory, &d.categories, "categories"),
        (Vocabulary::HateStrand, &d.hate_strands, "hateStrands"),
        (Vocabulary::DrugClass, &d.drug_classes, "drugClasses"),
        (Vocabulary::FireType, &d.fire_types, "fireTypes"),
    ] {
        for code in codes {
            if !terms
                .iter()
                .any(|t| t.vocabulary == vocabulary && t.code == *code)
            {
                return Err(AppError::BadUserInput(format!(
                    "{field}: '{code}' is not a code of the {} vocabulary",
                    vocabulary.as_str()
                )));
            }
        }
    }
    Ok(d)
}

/// The indicator and the partnership (in scope) of a priority, or NOT_FOUND.
async fn priority_in_scope(
    conn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    priority: &ID,
) -> Result<(Uuid, Uuid), AppError> {
    let id = parse_id(priority, "priority")?;
    let partnership = db::indicator::priority_partnership(conn, id)
        .await?
        .filter(|pid| p.scope().contains(pid))
        .ok_or_else(|| AppError::not_found("priority"))?;
    Ok((id, partnership))
}

#[derive(Default)]
pub struct IndicatorQuery;

#[Object]
impl IndicatorQuery {
    /// A partnership's indicators: the built-in ones and its own, optionally only those linked
    /// to one priority. Every role may read them.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(
            desc = "Only the indicators linked to this priority; an id that names no priority of the partnership gives an empty list."
        )]
        priority_id: Option<ID>,
    ) -> Result<Vec<Indicator>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadIndicators)?;
        let priority = priority_id
            .as_ref()
            .map(|id| parse_id(id, "priority"))
            .transpose()?;
        let rows = db::indicator::list(super::db(ctx)?, target.id, priority).await?;
        Ok(rows.into_iter().map(Indicator::from).collect())
    }

    /// The figures recorded for an external indicator in a partnership, newest period first.
    /// Every role may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "An indicator of the partnership (NOT_FOUND otherwise). An INCIDENTS indicator has no recorded figures, so its list is empty."
        )]
        indicator_id: ID,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(
            desc = "The `pageInfo.endCursor` of the previous page; left out for the first page. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<super::page::Connection<IndicatorValue>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadIndicators)?;
        let conn = super::db(ctx)?;
        let indicator =
            db::indicator::get(conn, target.id, parse_id(&indicator_id, "indicator")?).await?;
        let rows = db::indicator::values_of(conn, indicator.id, target.id).await?;
        let all: Vec<IndicatorValue> = rows.into_iter().map(|v| value(&target.slug, v)).collect();
        Ok(super::page::page_of(
            all,
            &super::page::PageArgs {
                first,
                after,
                last,
                before,
            },
        )?)
    }

    /// A partnership's mid-year population estimates, newest first. Every role may read them.
    async fn populations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
    ) -> Result<Vec<Population>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadIndicators)?;
        let rows = db::indicator::populations(super::db(ctx)?, target.id).await?;
        Ok(rows
            .into_iter()
            .map(|r| population(&target.slug, r))
            .collect())
    }

    /// The strategic assessment for any window of whole days (both ends included): for each
    /// indicator the count in the window and in the window of the same length before it, the
    /// change, the rate per 1,000 residents and the rank among the county's partnerships.
    /// Every role. For the PCC the window is one month, quarter, half or financial year,
    /// compared with the one before, and every count is a cell of the partnerships' protected
    /// table sets (see `incidentStats`).
    #[graphql(complexity = "2 * crate::graphql::STATS_COST + child_complexity")]
    async fn strategic_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "The window's first day (YYYY-MM-DD).")] from: super::scalar::Date,
        #[graphql(
            desc = "The window's last day, included: not before `from`, at most ten years after it, between 1990 and 2200. For the PCC the window must be exactly one month, quarter, half or financial year. BAD_USER_INPUT otherwise."
        )]
        to: super::scalar::Date,
    ) -> Result<StrategicAssessment> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadAssessment)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        Ok(assessment_for(conn, target, from.0, to.0, exact_statistics(p)).await?)
    }
}

/// The assessment of a partnership in scope for a window: as many days before it for partners,
/// the unit before for the PCC (whose windows are units of its table sets).
pub(crate) async fn assessment_for(
    conn: &sea_orm::DatabaseTransaction,
    target: &crate::auth::ScopedPartnership,
    from: NaiveDate,
    to: NaiveDate,
    exact: bool,
) -> Result<StrategicAssessment, AppError> {
    check_window(from, to)?;
    let window = Period::custom(from, to)?;
    let previous = if exact {
        // Any window of days compares with as many days just before it.
        let days = (to - from).num_days();
        let prev_to = from.pred_opt().unwrap_or(from);
        Period::custom(prev_to - chrono::Duration::days(days), prev_to)?
    } else {
        let (year, unit) = Unit::of_days(from, to)
            .ok_or_else(|| AppError::BadUserInput(super::tableset::UNITS.to_owned()))?;
        let (year, unit) = super::tableset::compared_unit(
            year,
            unit,
            super::incident::StatsComparison::PreviousPeriod,
        );
        let (from, to) = unit.days(year);
        Period::custom(from, to)?
    };
    assess(conn, target.id, &target.slug, window, previous, exact).await
}

fn value(slug: &str, v: db::indicator::ValueRow) -> IndicatorValue {
    IndicatorValue {
        indicator_id: ID(v.indicator_id.to_string()),
        partnership: slug.to_owned(),
        period: PeriodRange {
            from: Date(v.period_from),
            to: Date(v.period_to),
        },
        value: v.value,
        source: v.source,
        recorded_by: v.recorded_by_sub,
        recorded_at: Timestamp(v.recorded_at),
    }
}

/// Builds the assessment from the records: one statement for every incident indicator of every
/// partnership of the county in both windows, one for external figures, one for populations.
pub async fn assess(
    conn: &sea_orm::DatabaseTransaction,
    partnership: Uuid,
    slug: &str,
    window: Period,
    previous: Period,
    exact: bool,
) -> Result<StrategicAssessment, AppError> {
    let county = db::indicator::county_of(conn, partnership).await?;
    let county_name = county
        .iter()
        .find(|c| c.id == partnership)
        .map(|c| c.county.clone())
        .unwrap_or_default();
    let ids: Vec<Uuid> = county.iter().map(|c| c.id).collect();
    let indicators = db::indicator::list(conn, partnership, None).await?;
    let definitions: Vec<(Uuid, crate::domain::indicator::Definition)> = indicators
        .iter()
        .filter(|i| i.kind == "INCIDENTS")
        .map(|i| (i.id, i.definition()))
        .collect();
    let external_ids: Vec<Uuid> = indicators
        .iter()
        .filter(|i| i.kind == "EXTERNAL")
        .map(|i| i.id)
        .collect();
    let windows = [(window.from, window.to), (previous.from, previous.to)];
    // (indicator, partnership, window) withheld from the PCC: a withheld cell, or a figure not
    // made of cells of its table set.
    let mut withheld: std::collections::HashSet<(Uuid, Uuid, i64)> =
        std::collections::HashSet::new();
    let counts = if exact {
        db::indicator::window_counts(conn, &definitions, &ids, &windows).await?
    } else {
        let mut out = Vec::new();
        for (k, w) in [window, previous].into_iter().enumerate() {
            let k = i64::try_from(k).unwrap_or(0);
            let Some((year, unit)) = Unit::of_days(w.from, w.to) else {
                return Err(AppError::BadUserInput(super::tableset::UNITS.to_owned()));
            };
            let sets = super::tableset::table_sets(conn, &ids, year).await?;
            for (pid, set) in &sets {
                let all = set.get(&crate::domain::tableset::Cell {
                    category: None,
                    area: crate::domain::tableset::AreaKey::All,
                    unit,
                });
                if all.count == 0 {
                    continue;
                }
                out.push(db::indicator::WindowCount {
                    indicator_id: None,
                    partnership_id: *pid,
                    window: k,
                    n: all.count,
                });
                for (id, d) in &definitions {
                    match indicator_figure(set, d, unit).and_then(|f| f.shown()) {
                        Some(n) => out.push(db::indicator::WindowCount {
                            indicator_id: Some(*id),
                            partnership_id: *pid,
                            window: k,
                            n,
                        }),
                        None => {
                            withheld.insert((*id, *pid, k));
                        }
                    }
                }
            }
        }
        out
    };
    let values = if external_ids.is_empty() {
        Vec::new()
    } else {
        db::indicator::values_for(conn, &external_ids, &ids, &windows).await?
    };
    let year = population_year(window.from, window.to);
    let populations: HashMap<Uuid, i32> = db::indicator::populations_for(conn, &ids, year)
        .await?
        .into_iter()
        .map(|r| (r.partnership_id, r.population))
        .collect();
    // (indicator or None for all records, partnership, window) -> count
    let mut n: HashMap<(Option<Uuid>, Uuid, i64), i64> = HashMap::new();
    for c in counts {
        n.insert((c.indicator_id, c.partnership_id, c.window), c.n);
    }
    for v in &values {
        let k = i64::from((v.period_from, v.period_to) != windows[0]);
        n.insert((Some(v.indicator_id), v.partnership_id, k), v.value);
    }
    let mut out = Vec::new();
    for ind in indicators {
        let external = ind.kind == "EXTERNAL";
        // A partnership's count in window k, or None when it has no figures there.
        let figure = |pid: Uuid, k: i64| -> Option<i64> {
            if withheld.contains(&(ind.id, pid, k)) {
                None
            } else if external {
                n.get(&(Some(ind.id), pid, k)).copied()
            } else if n.contains_key(&(None, pid, k)) {
                Some(n.get(&(Some(ind.id), pid, k)).copied().unwrap_or(0))
            } else {
                None
            }
        };
        let figures: Vec<Option<Figure>> = ids
            .iter()
            .map(|pid| {
                let count = figure(*pid, 0)?;
                let population = i64::from(*populations.get(pid)?);
                Some(Figure { count, population })
            })
            .collect();
        let ranks = ranks(&figures);
        let me = ids.iter().position(|id| *id == partnership);
        let count = figure(partnership, 0);
        // A partnership with records in the window but none before it (a new feed) still has a
        // previous count of 0 only if it had figures then.
        let previous_count = figure(partnership, 1);
        let rate = count.and_then(|c| {
            populations
                .get(&partnership)
                .and_then(|pop| rate_per_thousand(c, i64::from(*pop)))
        });
        let suppressed = withheld.contains(&(ind.id, partnership, 0))
            || withheld.contains(&(ind.id, partnership, 1));
        out.push(AssessedIndicator {
            suppressed,
            count,
            previous_count,
            change: count.zip(previous_count).map(|(c, p)| c - p),
            change_percent: count
                .zip(previous_count)
                .and_then(|(c, p)| change_percent(c, p)),
            rate_per_thousand: rate,
            rank: me
                .and_then(|i| ranks.get(i).copied().flatten())
                .and_then(|r| i32::try_from(r).ok()),
            ranked: i32::try_from(figures.iter().flatten().count()).unwrap_or(i32::MAX),
            indicator: ind.into(),
        });
    }
    Ok(StrategicAssessment {
        partnership: slug.to_owned(),
        county: county_name,
        window: window.into(),
        previous_window: previous.into(),
        population_year: year,
        population: populations.get(&partnership).copied(),
        county_partnerships: i32::try_from(county.len()).unwrap_or(i32::MAX),
        indicators: out,
        suppression_applied: !exact,
    })
}

#[derive(Default)]
pub struct IndicatorMutation;

#[Object]
impl IndicatorMutation {
    /// Adds an indicator of the partnership's own. Coordinators only (not the PCC).
    async fn create_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new indicator: its code, name, kind and, for INCIDENTS, what it counts."
        )]
        input: CreateIndicatorInput,
    ) -> Result<Indicator> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageIndicators)?;
        let conn = super::db_txn(ctx)?;
        let code = check_code(&input.code)?;
        let name = crate::domain::plan::required_text(&input.name, "name")?;
        let definition = definition_of(conn, &input).await?;
        let existing = db::indicator::list(conn, target.id, None).await?;
        if existing.iter().any(|i| i.code == code) {
            return Err(AppError::Conflict(format!(
                "the partnership already has an indicator '{code}' (built-in codes are taken too)"
            ))
            .into());
        }
        let own = existing.iter().filter(|i| !i.builtin).count();
        if own >= MAX_OWN_INDICATORS {
            return Err(AppError::BadUserInput(format!(
                "a partnership may have at most {MAX_OWN_INDICATORS} indicators of its own"
            ))
            .into());
        }
        let row = db::indicator::create(
            conn,
            target.id,
            &code,
            &name,
            input.description.trim(),
            input.kind.as_str(),
            &definition,
            &p.sub,
        )
        .await?;
        Ok(row.into())
    }

    /// Links an indicator to a priority of a plan (linking twice changes nothing), so that the
    /// priority's reports show it. Coordinators only.
    async fn link_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A priority of a plan of a partnership in scope (NOT_FOUND otherwise).")]
        priority_id: ID,
        #[graphql(desc = "An indicator of the priority's partnership (NOT_FOUND otherwise).")]
        indicator_id: ID,
    ) -> Result<Indicator> {
        let p = principal(ctx)?;
        let conn = super::db_txn(ctx)?;
        let (priority, partnership) = priority_in_scope(conn, p, &priority_id).await?;
        let indicator =
            db::indicator::get(conn, partnership, parse_id(&indicator_id, "indicator")?).await?;
        authorize(p, Operation::ManageIndicators)?;
        db::indicator::link(conn, priority, indicator.id, &p.sub).await?;
        Ok(db::indicator::get(conn, partnership, indicator.id)
            .await?
            .into())
    }

    /// Removes an indicator's link to a priority. Coordinators only; NOT_FOUND when there is no
    /// such link.
    async fn unlink_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A priority of a plan of a partnership in scope (NOT_FOUND otherwise).")]
        priority_id: ID,
        #[graphql(desc = "An indicator of the priority's partnership (NOT_FOUND otherwise).")]
        indicator_id: ID,
    ) -> Result<Indicator> {
        let p = principal(ctx)?;
        let conn = super::db_txn(ctx)?;
        let (priority, partnership) = priority_in_scope(conn, p, &priority_id).await?;
        let indicator =
            db::indicator::get(conn, partnership, parse_id(&indicator_id, "indicator")?).await?;
        authorize(p, Operation::ManageIndicators)?;
        if !db::indicator::unlink(conn, priority, indicator.id).await? {
            return Err(AppError::not_found("link between the priority and the indicator").into());
        }
        Ok(db::indicator::get(conn, partnership, indicator.id)
            .await?
            .into())
    }

    /// Records an external indicator's figure for a partnership and a period (recording the same
    /// period again corrects it). Coordinators only.
    async fn record_indicator_value(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator, the partnership, the period, the figure and its source.")]
        input: RecordIndicatorValueInput,
    ) -> Result<IndicatorValue> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        let conn = super::db(ctx)?;
        let indicator =
            db::indicator::get(conn, target.id, parse_id(&input.indicator_id, "indicator")?)
                .await?;
        authorize(p, Operation::ManageIndicators)?;
        if indicator.kind != "EXTERNAL" {
            return Err(AppError::BadUserInput(format!(
                "'{}' counts incidents; only EXTERNAL indicators take recorded figures",
                indicator.code
            ))
            .into());
        }
        check_window(*input.from, input.to.into())?;
        if input.value < 0 {
            return Err(AppError::BadUserInput("value must not be negative".to_owned()).into());
        }
        let source = crate::domain::plan::required_text(&input.source, "source")?;
        let row = db::indicator::record_value(
            conn,
            indicator.id,
            target.id,
            *input.from,
            input.to.into(),
            input.value,
            &source,
            &p.sub,
        )
        .await?;
        Ok(value(&target.slug, row))
    }

    /// Records (or corrects) a partnership's mid-year population estimate. Coordinators only.
    async fn record_population(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partnership, the year, the estimate and its source.")]
        input: RecordPopulationInput,
    ) -> Result<Population> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageIndicators)?;
        let this_year = chrono::Utc::now().year();
        if !(1990..=this_year + 1).contains(&input.year) {
            return Err(AppError::BadUserInput(format!(
                "year must be between 1990 and {}",
                this_year + 1
            ))
            .into());
        }
        if !(1..=100_000_000).contains(&input.population) {
            return Err(AppError::BadUserInput(
                "population must be between 1 and 100,000,000".to_owned(),
            )
            .into());
        }
        let source = crate::domain::plan::required_text(&input.source, "source")?;
        let row = db::indicator::record_population(
            super::db(ctx)?,
            target.id,
            input.year,
            input.population,
            &source,
            &p.sub,
        )
        .await?;
        Ok(population(&target.slug, row))
    }
}
