//! Grants (awards, the actions they fund, spend against them) and resident survey results.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::NaiveDate;

use super::{parse_id, principal};
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::error::AppError;
pub use crate::service::report::{
    FundedAction, Grant, GrantSpend, SurveyResult, grants_of, survey,
};

/// A resident survey's result for one question. Recording the same survey, year and question
/// for the partnership again replaces the percentage and sample size.
#[derive(InputObject)]
pub struct RecordSurveyResultInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// The survey's name, such as "Stevenage residents' survey": up to 200 characters, not
    /// blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub survey: String,
    /// The survey's year, 1990 to 2200.
    pub year: i32,
    /// The question as reported, such as "Feel unsafe after dark": up to 500 characters, not
    /// blank.
    #[graphql(validator(custom = "crate::graphql::Text(500)"))]
    pub question: String,
    /// 0 to 100, kept to one decimal place.
    pub percentage: f64,
    /// How many people answered, at least 1; null or left out when not known.
    pub sample_size: Option<i32>,
}

/// A grant award, recorded as from the caller's agency, and the actions it funds. An action id
/// that is not an action of the partnership's plans is NOT_FOUND.
#[derive(InputObject)]
pub struct RecordGrantInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// In pence: GBP 30,000 is 3000000.
    pub amount_pence: i64,
    /// What the grant is for: up to 2,000 characters, not blank.
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub purpose: String,
    /// The day of the award (YYYY-MM-DD), from 1990-01-01 to 366 days after today.
    pub awarded_on: crate::scalar::Date,
    /// The actions of the partnership's plans the grant funds.
    #[graphql(default, validator(max_items = 100))]
    pub action_ids: Vec<ID>,
}

/// Spend against a grant. It may not be more than is left of the award (CONFLICT).
#[derive(InputObject)]
pub struct RecordGrantSpendInput {
    /// A grant of a partnership in scope (NOT_FOUND otherwise).
    pub grant_id: ID,
    /// The amount spent, in pence (GBP 1,250.50 is 125050): at least 1 and at most the grant's
    /// `remainingPence` (CONFLICT when more).
    pub amount_pence: i64,
    /// The day the money was spent (YYYY-MM-DD), from 1990-01-01 to 366 days after today.
    pub spent_on: crate::scalar::Date,
    /// What the money was spent on: up to 2,000 characters, not blank.
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: String,
}

fn check_amount(pence: i64) -> Result<(), AppError> {
    if (1..10_000_000_000_000).contains(&pence) {
        Ok(())
    } else {
        Err(AppError::BadUserInput(
            "amountPence must be a positive number of pence (GBP 30,000 is 3000000)".to_owned(),
        ))
    }
}

fn check_day(day: NaiveDate, what: &str) -> Result<(), AppError> {
    let latest = chrono::Utc::now().date_naive() + chrono::Duration::days(366);
    let earliest = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN);
    if day < earliest || day > latest {
        return Err(AppError::BadUserInput(format!(
            "{what} must lie between 1990 and a year from today"
        )));
    }
    Ok(())
}

#[derive(Default)]
pub struct GrantQuery;

#[Object]
impl GrantQuery {
    /// A partnership's grants, oldest award first, with their spend and the actions they fund
    /// (each action's latest status); optionally only those awarded in a financial year
    /// (`2014/15`). Every role may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn grants(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(
            desc = "Only grants awarded in this financial year (1 April to 31 March), such as `2014/15`; BAD_USER_INPUT when malformed."
        )]
        financial_year: Option<String>,
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
    ) -> Result<super::page::Connection<Grant>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadGrants)?;
        let awarded = financial_year
            .map(|y| {
                y.parse::<crate::domain::period::FinancialYear>()
                    .map(|y| (y.first_day(), y.last_day()))
            })
            .transpose()?;
        let all = grants_of(super::db(ctx)?, target.id, &target.slug, awarded, None).await?;
        Ok(super::page::page_of(
            all,
            &super::page::PageArgs::new(first, after, last, before),
        )?)
    }

    /// A partnership's survey results, newest year first, optionally of one year. Every role
    /// may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn survey_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "Only results of surveys of this year, such as 2014.")] year: Option<i32>,
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
    ) -> Result<super::page::Connection<SurveyResult>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadGrants)?;
        let rows = db::grant::surveys(super::db(ctx)?, target.id, year.map(|y| (y, y))).await?;
        let all: Vec<SurveyResult> = rows.into_iter().map(|r| survey(&target.slug, r)).collect();
        Ok(super::page::page_of(
            all,
            &super::page::PageArgs::new(first, after, last, before),
        )?)
    }
}

#[derive(Default)]
pub struct GrantMutation;

#[Object]
impl GrantMutation {
    /// Records (or corrects) a survey result. Coordinators (not the PCC).
    async fn record_survey_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partnership, the survey, its year, the question and the result.")]
        input: RecordSurveyResultInput,
    ) -> Result<SurveyResult> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageSurveys)?;
        let survey_name = crate::domain::plan::required_text(&input.survey, "survey")?;
        let question = crate::domain::plan::required_text(&input.question, "question")?;
        if !(1990..=2200).contains(&input.year) {
            return Err(
                AppError::BadUserInput("year must be between 1990 and 2200".to_owned()).into(),
            );
        }
        if !(0.0..=100.0).contains(&input.percentage) || !input.percentage.is_finite() {
            return Err(
                AppError::BadUserInput("percentage must be between 0 and 100".to_owned()).into(),
            );
        }
        if input.sample_size.is_some_and(|n| n < 1) {
            return Err(AppError::BadUserInput("sampleSize must be at least 1".to_owned()).into());
        }
        let row = db::grant::record_survey(
            super::db(ctx)?,
            target.id,
            &survey_name,
            input.year,
            &question,
            input.percentage,
            input.sample_size,
            &p.sub,
        )
        .await?;
        Ok(survey(&target.slug, row))
    }

    /// Records a grant award from the caller's agency and the actions it funds. The PCC, or a
    /// council coordinator.
    async fn record_grant(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership, the amount, the purpose, the day of the award and the actions it funds."
        )]
        input: RecordGrantInput,
    ) -> Result<Grant> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageGrants)?;
        check_amount(input.amount_pence)?;
        check_day(*input.awarded_on, "awardedOn")?;
        let purpose = crate::domain::plan::required_text(&input.purpose, "purpose")?;
        let actions = input
            .action_ids
            .iter()
            .map(|a| parse_id(a, "action"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut unique = actions.clone();
        unique.sort();
        unique.dedup();
        let conn = super::db(ctx)?;
        let id = db::grant::insert_grant(
            conn,
            target.id,
            p.agency_id,
            input.amount_pence,
            &purpose,
            *input.awarded_on,
            &unique,
            &p.sub,
        )
        .await?;
        grants_of(conn, target.id, &target.slug, None, None)
            .await?
            .into_iter()
            .find(|g| g.id.as_str() == id.to_string())
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("grant just recorded is missing")).into()
            })
    }

    /// Records spend against a grant; the spend may not exceed what is left of the award. The
    /// PCC, or a council coordinator.
    async fn record_grant_spend(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The grant, the amount, the day and what the money was spent on.")]
        input: RecordGrantSpendInput,
    ) -> Result<Grant> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let grant =
            db::grant::grant_for_spend(conn, &p.scope(), parse_id(&input.grant_id, "grant")?)
                .await?;
        authorize(p, Operation::ManageGrants)?;
        check_amount(input.amount_pence)?;
        check_day(*input.spent_on, "spentOn")?;
        let description = crate::domain::plan::required_text(&input.description, "description")?;
        let left = grant.amount_pence - grant.spent_pence;
        if input.amount_pence > left {
            return Err(AppError::Conflict(format!(
                "the spend ({} pence) is more than is left of the grant ({left} pence)",
                input.amount_pence
            ))
            .into());
        }
        db::grant::insert_spend(
            conn,
            &grant,
            input.amount_pence,
            *input.spent_on,
            &description,
            &p.sub,
        )
        .await?;
        let slug = p
            .partnerships
            .iter()
            .find(|s| s.id == grant.partnership_id)
            .map(|s| s.slug.clone())
            .unwrap_or_default();
        grants_of(conn, grant.partnership_id, &slug, None, None)
            .await?
            .into_iter()
            .find(|g| g.id.as_str() == grant.id.to_string())
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("grant is missing")).into())
    }
}
