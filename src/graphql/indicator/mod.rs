//! Indicators, populations and the strategic assessment: the types and shared helpers here,
//! the queries in `query`, the assessment's computation in `assessment`, the mutations in
//! `mutation`.

mod assessment;
mod mutation;
mod query;

pub use assessment::assess;
pub(crate) use assessment::assessment_for;
pub use mutation::*;
pub use query::*;

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
