//! Cases in GraphQL: multi-agency casework, shared agency by agency. Every operation needs the
//! `caseworker` capability and is never open to the PCC; a case the caller's agency is not
//! shared with is NOT_FOUND, as if it did not exist. Every read, search and write leaves its
//! audit entry in the request's own transaction.
//!
//! `types` holds the case's GraphQL types and the fields of `Case`; `query` the queries;
//! `mutation` opening, sharing and notes; `work` the casework that follows (details, DASH,
//! interventions, referrals, incidents, people). The helpers every part uses are here.

mod enums;
mod mutation;
mod query;
mod types;
mod work;

pub use enums::*;
pub use mutation::*;
pub use query::*;
pub use types::*;
pub use work::*;

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use super::page::{
    Connection, OrderDirection, PageArgs, connection, decode_cursor, decode_tagged, encode_cursor,
    encode_tagged, page_of, wants_total,
};
use super::{Text, parse_id, principal};
use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::case::{CaseRow, NoteRow, PersonMatch as PersonMatchRow, ShareRow, SubjectRow};
use crate::domain;
use crate::error::AppError;

/// Today's date in England.
fn today_in_london() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

/// Dates of casework: from 1900 (dates of birth) to ten years ahead (planned end dates).
fn check_dates<'a, D: Into<NaiveDate>>(
    dates: impl IntoIterator<Item = (&'a str, Option<D>)>,
) -> Result<(), AppError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = today_in_london()
        .checked_add_months(chrono::Months::new(120))
        .unwrap_or(NaiveDate::MAX);
    for (name, date) in dates {
        if let Some(d) = date.map(Into::into)
            && !(earliest..=latest).contains(&d)
        {
            return Err(AppError::BadUserInput(format!(
                "{name} must be between {earliest} and {latest}, not {d}"
            )));
        }
    }
    Ok(())
}

/// Consent given or refused is recorded with the date it was.
const CONSENT_NEEDS_DATE: &str =
    "consent GIVEN or REFUSED needs consentOn, the date it was given or refused";

fn not_found() -> AppError {
    AppError::NotFound("no such case".to_owned())
}

/// The caller, allowed to work cases.
fn caseworker<'a>(ctx: &Context<'a>) -> Result<&'a Principal, AppError> {
    let p = principal(ctx)?;
    authorize(p, Operation::WorkCases)?;
    Ok(p)
}

fn viewed(ctx: &Context<'_>, p: &Principal, row: &CaseRow) -> Result<(), AppError> {
    super::audit_read(
        ctx,
        p,
        row.partnership_id,
        Action::CaseViewed,
        Some(("case", row.id.to_string())),
        json!({"ref": row.r#ref}),
    )
}

/// A case for `node(id)`: as `case(id)` answers it (and audited as it is), or NOT_FOUND,
/// also for a caller who may not work cases: `node` tells no one that a case exists.
pub(crate) async fn case_node(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Case, AppError> {
    let p = caseworker(ctx).map_err(|_| not_found())?;
    let conn = super::db(ctx)?;
    let row = db::case::by_id(conn, p, id).await?.ok_or_else(not_found)?;
    viewed(ctx, p, &row)?;
    Case::try_from(row)
}

fn begin_err(e: sea_orm::DbErr) -> AppError {
    AppError::internal(e)
}

/// The case, for a change by any agency it is shared with; NOT_FOUND otherwise.
async fn case_for_change<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: &ID,
) -> Result<CaseRow, AppError> {
    db::case::by_id(conn, p, parse_id(id, "case")?)
        .await?
        .ok_or_else(not_found)
}

/// The case, for a change only its owning agency may make: FORBIDDEN for another agency it is
/// shared with.
async fn owned_case<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: &ID,
) -> Result<CaseRow, AppError> {
    let row = case_for_change(conn, p, id).await?;
    if row.owning_agency_id != p.agency_id {
        return Err(AppError::Forbidden(
            "only the owning agency shares and unshares a case".to_owned(),
        ));
    }
    Ok(row)
}

async fn reload(
    conn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    id: Uuid,
) -> Result<Case, AppError> {
    Case::try_from(db::case::by_id(conn, p, id).await?.ok_or_else(not_found)?)
}

fn stale() -> AppError {
    AppError::Conflict("the record changed since it was read; read it again".to_owned())
}

fn bad(message: &str) -> async_graphql::Error {
    AppError::BadUserInput(message.to_owned()).into()
}

/// The owning agency's case for a change, at the version the caller read.
async fn owned_at_version(
    txn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    id: &ID,
    version: i32,
) -> Result<CaseRow, AppError> {
    let case = case_for_change(txn, p, id).await?;
    if case.owning_agency_id != p.agency_id {
        return Err(AppError::Forbidden(
            "only the owning agency changes, assesses, closes or reopens a case".to_owned(),
        ));
    }
    if case.version != version {
        return Err(stale());
    }
    Ok(case)
}

async fn audited(
    txn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    case: &CaseRow,
    action: Action,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    audit::record(
        txn,
        p,
        case.partnership_id,
        action,
        Some(("case", case.id.to_string())),
        detail,
    )
    .await
}
