//! Grants (awards, the actions they fund, spend against them) and resident survey results, as
//! the PCC's report and the grant queries carry them.

use std::collections::HashMap;

use async_graphql::{ID, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

use super::plan::{ActionStatus, parse_quarter_opt};
use crate::db;
use crate::domain::period::Quarter;
use crate::domain::plan::{ProgressStatus as DomainProgress, StandingAt, standing_at};
use crate::error::AppError;
use crate::scalar::{Date, Timestamp};

/// A resident survey's result for one question.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyResult {
    /// Opaque id.
    pub id: ID,
    /// The partnership's slug.
    pub partnership: String,
    /// Such as "Stevenage residents' survey".
    pub survey: String,
    /// The survey's year, such as 2014.
    pub year: i32,
    /// Such as "Feel unsafe after dark".
    pub question: String,
    /// One decimal place.
    pub percentage: f64,
    /// How many people answered; null when not recorded.
    pub sample_size: Option<i32>,
    /// The token subject (`sub`) that last recorded or corrected the result.
    pub recorded_by: String,
    /// When the result was last recorded or corrected: RFC 3339, in UTC.
    pub recorded_at: crate::scalar::Timestamp,
}

pub fn survey(slug: &str, r: db::grant::SurveyRow) -> SurveyResult {
    SurveyResult {
        id: ID(r.id.to_string()),
        partnership: slug.to_owned(),
        survey: r.survey,
        year: r.year,
        question: r.question,
        percentage: r.percentage,
        sample_size: r.sample_size,
        recorded_by: r.recorded_by_sub,
        recorded_at: Timestamp(r.recorded_at),
    }
}

/// Spend against a grant.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantSpend {
    /// Opaque id.
    pub id: ID,
    /// The amount spent, in pence (GBP 1,250.50 is 125050).
    pub amount_pence: i64,
    /// The day the money was spent (YYYY-MM-DD).
    pub spent_on: crate::scalar::Date,
    /// What the money was spent on.
    pub description: String,
    /// The token subject (`sub`) that recorded the spend.
    pub recorded_by: String,
    /// When the spend was recorded: RFC 3339, in UTC.
    pub recorded_at: crate::scalar::Timestamp,
}

/// An action a grant funds, with its status (at the report's date, or its latest).
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FundedAction {
    /// The action's id.
    pub action_id: ID,
    /// The action's ref in its plan, such as `2.3`.
    #[graphql(name = "ref")]
    #[serde(rename = "ref")]
    pub action_ref: String,
    /// The action's title.
    pub title: String,
    /// The financial year of the action's plan, such as `2014/15`.
    pub financial_year: String,
    /// In `pccReport`, the status at the end of the half (NOT_STARTED for an action added to its
    /// plan after then); elsewhere the latest status (REMOVED once its removal is recorded).
    pub status: ActionStatus,
}

/// A grant award.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// Opaque id, for `recordGrantSpend`.
    pub id: ID,
    /// The partnership's slug.
    pub partnership: String,
    /// The funding agency's slug (the PCC's office for the community safety grant).
    pub funder: String,
    /// The award, in pence (GBP 30,000 is 3000000).
    pub amount_pence: i64,
    /// What the grant is for.
    pub purpose: String,
    /// The day the grant was awarded (YYYY-MM-DD).
    pub awarded_on: crate::scalar::Date,
    /// The sum of the spend recorded.
    pub spent_pence: i64,
    /// `amountPence - spentPence`, in pence: what may still be spent; never below 0.
    pub remaining_pence: i64,
    /// Every spend recorded against the grant, by the day it was spent.
    pub spend: Vec<GrantSpend>,
    /// The actions of the partnership's plans the grant funds, by financial year and ref.
    pub funded_actions: Vec<FundedAction>,
    /// The token subject (`sub`) that recorded the award.
    pub recorded_by: String,
    /// When the award was recorded: RFC 3339, in UTC.
    pub recorded_at: crate::scalar::Timestamp,
}

fn status_of(
    row: &db::grant::FundedActionRow,
    quarter: Option<Quarter>,
) -> Result<ActionStatus, AppError> {
    let latest = row
        .status
        .as_deref()
        .map(DomainProgress::parse)
        .transpose()?;
    let removed = parse_quarter_opt(row.removal_quarter.as_deref())?;
    let standing = match quarter {
        Some(q) => standing_at(
            q,
            parse_quarter_opt(row.added_in_quarter.as_deref())?,
            removed,
            latest,
        ),
        None if removed.is_some() => StandingAt::Removed,
        None => match latest {
            None | Some(DomainProgress::NotStarted) => StandingAt::NotStarted,
            Some(DomainProgress::OnTarget) => StandingAt::OnTarget,
            Some(DomainProgress::Complete) => StandingAt::Complete,
            Some(DomainProgress::Incomplete) => StandingAt::Incomplete,
        },
    };
    Ok(super::plan::standing_to_status(standing).unwrap_or(ActionStatus::NotStarted))
}

/// A partnership's grants with their spend and funded actions (statuses at the end of
/// `quarter`, or the latest), optionally only those awarded in a run of days.
pub async fn grants_of(
    conn: &impl sea_orm::ConnectionTrait,
    partnership: Uuid,
    slug: &str,
    awarded: Option<(NaiveDate, NaiveDate)>,
    quarter: Option<Quarter>,
) -> Result<Vec<Grant>, AppError> {
    let rows = db::grant::grants(conn, partnership, awarded).await?;
    let ids: Vec<Uuid> = rows.iter().map(|g| g.id).collect();
    let mut spend: HashMap<Uuid, Vec<GrantSpend>> = HashMap::new();
    for s in db::grant::spend_of(conn, &ids).await? {
        spend.entry(s.grant_id).or_default().push(GrantSpend {
            id: ID(s.id.to_string()),
            amount_pence: s.amount_pence,
            spent_on: Date(s.spent_on),
            description: s.description,
            recorded_by: s.recorded_by_sub,
            recorded_at: Timestamp(s.recorded_at),
        });
    }
    let q = quarter.map(|q| q.to_string());
    let mut funded: HashMap<Uuid, Vec<FundedAction>> = HashMap::new();
    for a in db::grant::funded_actions(conn, &ids, q.as_deref()).await? {
        let status = status_of(&a, quarter)?;
        funded.entry(a.grant_id).or_default().push(FundedAction {
            action_id: ID(a.action_id.to_string()),
            action_ref: a.action_ref,
            title: a.title,
            financial_year: a.financial_year,
            status,
        });
    }
    Ok(rows
        .into_iter()
        .map(|g| Grant {
            id: ID(g.id.to_string()),
            partnership: slug.to_owned(),
            funder: g.funder,
            amount_pence: g.amount_pence,
            purpose: g.purpose,
            awarded_on: Date(g.awarded_on),
            spent_pence: g.spent_pence,
            remaining_pence: g.amount_pence - g.spent_pence,
            spend: spend.remove(&g.id).unwrap_or_default(),
            funded_actions: funded.remove(&g.id).unwrap_or_default(),
            recorded_by: g.recorded_by_sub,
            recorded_at: Timestamp(g.recorded_at),
        })
        .collect())
}
