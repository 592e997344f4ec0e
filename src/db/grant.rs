//! Grants (awards, the actions they fund, spend) and resident survey results.

use crate::pg_row;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{execute, fetch_all, fetch_optional, write_returning};
use crate::error::{AppError, AppResult};

pg_row! {
    #[derive(Debug, Clone)]
    pub struct SurveyRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub survey: String,
        pub year: i32,
        pub question: String,
        pub percentage: f64,
        pub sample_size: Option<i32>,
        pub recorded_by_sub: String,
        pub recorded_at: DateTime<Utc>,
    }
}

const SURVEY_COLUMNS: &str = "id, partnership_id, survey, year, question, percentage::float8 AS percentage, \
    sample_size, recorded_by_sub, recorded_at";

/// Records (or corrects) a survey result: one per partnership, survey, year and question.
#[allow(clippy::too_many_arguments)]
pub async fn record_survey<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    survey: &str,
    year: i32,
    question: &str,
    percentage: f64,
    sample_size: Option<i32>,
    sub: &str,
) -> AppResult<SurveyRow> {
    write_returning(
        conn,
        &format!(
            "INSERT INTO survey_results (partnership_id, survey, year, question, percentage, sample_size, \
               recorded_by_sub) VALUES ($1, $2, $3, $4, round($5::numeric, 1), $6, $7) \
             ON CONFLICT (partnership_id, survey, year, question) DO UPDATE SET \
               percentage = EXCLUDED.percentage, sample_size = EXCLUDED.sample_size, \
               recorded_by_sub = EXCLUDED.recorded_by_sub, recorded_at = now() \
             RETURNING {SURVEY_COLUMNS}"
        ),
        vec![
            partnership.into(),
            survey.into(),
            year.into(),
            question.into(),
            percentage.into(),
            sample_size.into(),
            sub.into(),
        ],
        &[],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("upsert returned nothing")))
}

/// A partnership's survey results, newest year first; optionally of some years only.
pub async fn surveys<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    years: Option<(i32, i32)>,
) -> AppResult<Vec<SurveyRow>> {
    let (from, to) = years.unwrap_or((1990, 2200));
    fetch_all(
        conn,
        &format!(
            "SELECT {SURVEY_COLUMNS} FROM survey_results WHERE partnership_id = $1 AND year BETWEEN $2 AND $3 \
             ORDER BY year DESC, survey, question"
        ),
        vec![partnership.into(), from.into(), to.into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct GrantRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub funder: String,
        pub amount_pence: i64,
        pub purpose: String,
        pub awarded_on: NaiveDate,
        pub recorded_by_sub: String,
        pub recorded_at: DateTime<Utc>,
        pub spent_pence: i64,
    }
}

const GRANT_COLUMNS: &str = "g.id, g.partnership_id, (SELECT slug FROM agencies WHERE id = g.funder_agency_id) AS funder, \
    g.amount_pence, g.purpose, g.awarded_on, g.recorded_by_sub, g.recorded_at, \
    coalesce((SELECT sum(s.amount_pence) FROM grant_spend s WHERE s.grant_id = g.id), 0)::bigint AS spent_pence";

pg_row! {
    struct IdRow {
        id: Uuid,
    }
}

pg_row! {
    struct N {
        n: i64,
    }
}

/// Records an award and the actions (of the partnership's plans) it funds; NOT_FOUND when an
/// action is not the partnership's.
#[allow(clippy::too_many_arguments)]
pub async fn insert_grant<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    funder: Uuid,
    amount_pence: i64,
    purpose: &str,
    awarded_on: NaiveDate,
    actions: &[Uuid],
    sub: &str,
) -> AppResult<Uuid> {
    let id = write_returning::<IdRow, _>(
        conn,
        "INSERT INTO grants (partnership_id, funder_agency_id, amount_pence, purpose, awarded_on, recorded_by_sub) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        vec![
            partnership.into(),
            funder.into(),
            amount_pence.into(),
            purpose.into(),
            awarded_on.into(),
            sub.into(),
        ],
        &[],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned nothing")))?
    .id;
    if !actions.is_empty() {
        let linked = execute(
            conn,
            "INSERT INTO grant_actions (grant_id, action_id, partnership_id) \
             SELECT $1, a.id, p.partnership_id FROM actions a JOIN plans p ON p.id = a.plan_id \
             WHERE a.id = ANY($2) AND p.partnership_id = $3 ON CONFLICT DO NOTHING",
            vec![id.into(), actions.to_vec().into(), partnership.into()],
            &[],
        )
        .await?;
        if usize::try_from(linked).unwrap_or(0) != actions.len() {
            return Err(AppError::not_found("action"));
        }
    }
    Ok(id)
}

/// A partnership's grants, oldest award first; optionally those awarded in a run of days.
pub async fn grants<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    awarded: Option<(NaiveDate, NaiveDate)>,
) -> AppResult<Vec<GrantRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT {GRANT_COLUMNS} FROM grants g WHERE g.partnership_id = $1 \
               AND ($2::date IS NULL OR g.awarded_on BETWEEN $2 AND $3) ORDER BY g.awarded_on, g.id"
        ),
        vec![
            partnership.into(),
            awarded.map(|a| a.0).into(),
            awarded.map(|a| a.1).into(),
        ],
    )
    .await
}

/// A grant in scope, with spend against it locked (so that it is checked against what is
/// left), or NOT_FOUND.
pub async fn grant_for_spend<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<GrantRow> {
    // Spend against one grant is serialised by a transaction-level advisory lock (the service
    // role may not update grants, so it cannot lock their rows): the check against what is
    // left and the insert happen with no other spend in between.
    let found: Option<N> = fetch_optional(
        conn,
        "SELECT count(*) AS n FROM grants WHERE id = $1 AND partnership_id = ANY($2) \
           AND pg_advisory_xact_lock(hashtextextended(id::text, 7461003)) IS NOT NULL",
        vec![id.into(), scope.to_vec().into()],
    )
    .await?;
    if found.is_none_or(|l| l.n == 0) {
        return Err(AppError::not_found("grant"));
    }
    fetch_optional(
        conn,
        &format!("SELECT {GRANT_COLUMNS} FROM grants g WHERE g.id = $1"),
        vec![id.into()],
    )
    .await?
    .ok_or_else(|| AppError::not_found("grant"))
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct SpendRow {
        pub id: Uuid,
        pub grant_id: Uuid,
        pub amount_pence: i64,
        pub spent_on: NaiveDate,
        pub description: String,
        pub recorded_by_sub: String,
        pub recorded_at: DateTime<Utc>,
    }
}

const SPEND_COLUMNS: &str =
    "id, grant_id, amount_pence, spent_on, description, recorded_by_sub, recorded_at";

pub async fn insert_spend<C: ConnectionTrait>(
    conn: &C,
    grant: &GrantRow,
    amount_pence: i64,
    spent_on: NaiveDate,
    description: &str,
    sub: &str,
) -> AppResult<SpendRow> {
    write_returning(
        conn,
        &format!(
            "INSERT INTO grant_spend (grant_id, partnership_id, amount_pence, spent_on, description, recorded_by_sub) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {SPEND_COLUMNS}"
        ),
        vec![
            grant.id.into(),
            grant.partnership_id.into(),
            amount_pence.into(),
            spent_on.into(),
            description.into(),
            sub.into(),
        ],
        &[],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned nothing")))
}

/// The spend against some grants, in date order.
pub async fn spend_of<C: ConnectionTrait>(conn: &C, grants: &[Uuid]) -> AppResult<Vec<SpendRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT {SPEND_COLUMNS} FROM grant_spend WHERE grant_id = ANY($1) ORDER BY spent_on, recorded_at"
        ),
        vec![grants.to_vec().into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct FundedActionRow {
        pub grant_id: Uuid,
        pub action_id: Uuid,
        pub action_ref: String,
        pub title: String,
        pub financial_year: String,
        pub removal_quarter: Option<String>,
        pub added_in_quarter: Option<String>,
        /// The latest standing record's status at or before `quarter`.
        pub status: Option<String>,
    }
}

/// The actions some grants fund, with each action's latest progress status at or before a
/// quarter (`2014/15 Q2`; the latest of all when None).
pub async fn funded_actions<C: ConnectionTrait>(
    conn: &C,
    grants: &[Uuid],
    quarter: Option<&str>,
) -> AppResult<Vec<FundedActionRow>> {
    fetch_all(
        conn,
        "SELECT ga.grant_id, a.id AS action_id, a.ref AS action_ref, a.title, p.financial_year, \
           a.removal_quarter, a.added_in_quarter, \
           (SELECT r.status FROM progress_records r WHERE r.action_id = a.id \
              AND ($2::text IS NULL OR r.quarter <= $2) \
              AND NOT EXISTS (SELECT 1 FROM progress_records s WHERE s.supersedes_id = r.id) \
            ORDER BY r.quarter DESC, r.recorded_at DESC LIMIT 1) AS status \
         FROM grant_actions ga JOIN actions a ON a.id = ga.action_id JOIN plans p ON p.id = a.plan_id \
         WHERE ga.grant_id = ANY($1) ORDER BY ga.grant_id, p.financial_year, a.ref",
        vec![grants.to_vec().into(), quarter.map(str::to_owned).into()],
    )
    .await
}
