//! Indicators, populations and the strategic assessment: the types and shared helpers here,
//! the queries in `query`, the assessment's computation in `service::report`, the mutations in
//! `mutation`.

mod mutation;
mod query;

pub use crate::service::report::{
    AssessedIndicator, Indicator, IndicatorDefinition, IndicatorKind, StrategicAssessment, assess,
    assessment_for,
};
pub use mutation::*;
pub use query::*;

use crate::scalar::{Date, Timestamp};

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::Datelike;
use uuid::Uuid;

use super::incident::PeriodRange;
use super::{parse_id, principal};
use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize, exact_statistics};
use crate::db;
use crate::domain::indicator::{Definition, check_code, check_window};
use crate::domain::vocabulary::Vocabulary;
use crate::error::AppError;

/// At most this many indicators of a partnership's own.
pub const MAX_OWN_INDICATORS: usize = 200;

impl IndicatorKind {
    fn as_str(self) -> &'static str {
        super::name_of(self)
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
    pub recorded_at: crate::scalar::Timestamp,
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
    pub recorded_at: crate::scalar::Timestamp,
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
    pub from: crate::scalar::Date,
    /// The period's last day, included: not before `from`, at most ten years after it, and
    /// between 1990 and 2200 (BAD_USER_INPUT otherwise).
    pub to: crate::scalar::Date,
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
