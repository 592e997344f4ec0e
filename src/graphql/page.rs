//! Pagination, in one place: page sizes and their cost in the complexity budget, the page info
//! every connection carries, and the cursors. Cursors are opaque to clients and come in three
//! kinds, each tied to the order of its list:
//!
//! - keyset cursors over time and id (incidents, cases, notes, submissions): base64url of
//!   `micros:uuid` (`encode_cursor`, `decode_cursor`);
//! - positions in a short list read whole (`ListConnection`, `page_of`): base64url of `p:N`;
//! - the audit log's time and sequence number, `micros_id` (`graphql::audit`).

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::AppError;

/// A page size within the cap.
pub(crate) fn page_size(first: Option<i32>) -> Result<u64, AppError> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(AppError::BadUserInput(format!(
            "first must be between 1 and {MAX_PAGE_SIZE}, not {first}"
        )));
    }
    Ok(u64::try_from(first).unwrap_or(1))
}

/// The cost of a paginated list: one for the field, and what each item selects times the page
/// size asked for (the default when none is given; within the cap, as `page_size` enforces).
pub(crate) fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let items =
        usize::try_from(first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)).unwrap_or(1);
    1 + items.saturating_mul(child_complexity)
}

#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
}

pub(crate) fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", at.timestamp_micros()))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), AppError> {
    let bad = || AppError::BadUserInput("after is not a cursor this API gave out".to_owned());
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// A page of a short list read whole (a case's people, shares, interventions, referrals,
/// incidents; a partnership's grants, survey results, an indicator's figures), in the list's
/// stated order, with how many there are. The cursor is a position in that order.
#[derive(SimpleObject)]
#[graphql(concrete(name = "SubjectConnection", params(super::case::Subject)))]
#[graphql(concrete(name = "ShareConnection", params(super::case::Share)))]
#[graphql(concrete(name = "InterventionConnection", params(super::case::Intervention)))]
#[graphql(concrete(name = "ReferralConnection", params(super::case::Referral)))]
#[graphql(concrete(name = "CaseIncidentConnection", params(super::incident::Incident)))]
#[graphql(concrete(name = "GrantConnection", params(super::grant::Grant)))]
#[graphql(concrete(name = "SurveyResultConnection", params(super::grant::SurveyResult)))]
#[graphql(concrete(
    name = "IndicatorValueConnection",
    params(super::indicator::IndicatorValue)
))]
pub struct ListConnection<T: async_graphql::OutputType> {
    pub nodes: Vec<T>,
    pub page_info: PageInfo,
    pub total_count: i64,
}

/// The page of `all` after the position `after` names.
pub(crate) fn page_of<T: async_graphql::OutputType>(
    all: Vec<T>,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<ListConnection<T>, AppError> {
    let limit = usize::try_from(page_size(first)?).unwrap_or(usize::MAX);
    let start = match after {
        None => 0,
        Some(c) => URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.strip_prefix("p:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| {
                AppError::BadUserInput("after is not a cursor this API gave out".to_owned())
            })?,
    };
    let total_count = all.len() as i64;
    let nodes: Vec<T> = all.into_iter().skip(start).take(limit).collect();
    let end = start + nodes.len();
    Ok(ListConnection {
        page_info: PageInfo {
            has_next_page: (end as i64) < total_count,
            end_cursor: (!nodes.is_empty()).then(|| URL_SAFE_NO_PAD.encode(format!("p:{end}"))),
        },
        nodes,
        total_count,
    })
}
