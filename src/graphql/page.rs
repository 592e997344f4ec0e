//! Pagination, in one place: page sizes and their cost in the complexity budget, the page info
//! every connection carries, and the cursors. Cursors are opaque to clients and have one
//! format: base64url (no padding) of the key of the list's order, its parts joined by `:`
//! (`encode_key`, `decode_key`). The keys:
//!
//! - time and id (incidents, cases, notes, submissions): `micros:uuid` (`encode_cursor`,
//!   `decode_cursor`);
//! - time and sequence number (the audit log, newest first): `micros:seq` (`encode_seq_cursor`,
//!   `decode_seq_cursor`);
//! - a position in a short list read whole (`ListConnection`, `page_of`): `p:N`.

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

/// Where a page sits in its list.
#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    /// True when more items follow this page: ask again with `after: endCursor`.
    pub has_next_page: bool,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// The one cursor format: base64url of the key's parts joined by `:`.
fn encode_key(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// The key a cursor this API gave out holds; anything else is BAD_USER_INPUT.
fn decode_key(cursor: &str) -> Result<String, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(not_a_cursor)
}

fn not_a_cursor() -> AppError {
    AppError::BadUserInput("after is not a cursor this API gave out".to_owned())
}

/// A time as the keys hold it: microseconds since the epoch.
fn time_of(micros: &str) -> Result<DateTime<Utc>, AppError> {
    micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(not_a_cursor)
}

pub(crate) fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    encode_key(&format!("{}:{id}", at.timestamp_micros()))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), AppError> {
    let key = decode_key(cursor)?;
    let (micros, id) = key.split_once(':').ok_or_else(not_a_cursor)?;
    Ok((
        time_of(micros)?,
        Uuid::parse_str(id).map_err(|_| not_a_cursor())?,
    ))
}

/// The audit log's cursor: an entry's time and sequence number.
pub(crate) fn encode_seq_cursor(at: DateTime<Utc>, seq: i64) -> String {
    encode_key(&format!("{}:{seq}", at.timestamp_micros()))
}

pub(crate) fn decode_seq_cursor(cursor: &str) -> Result<(DateTime<Utc>, i64), AppError> {
    let key = decode_key(cursor)?;
    let (micros, seq) = key.split_once(':').ok_or_else(not_a_cursor)?;
    Ok((time_of(micros)?, seq.parse().map_err(|_| not_a_cursor())?))
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
    /// The page's items, in the list's order.
    pub nodes: Vec<T>,
    /// Whether more items follow, and the cursor to ask for them.
    pub page_info: PageInfo,
    /// How many items the whole list holds, whatever the page size.
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
        Some(c) => decode_key(c)?
            .strip_prefix("p:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(not_a_cursor)?,
    };
    let total_count = all.len() as i64;
    let nodes: Vec<T> = all.into_iter().skip(start).take(limit).collect();
    let end = start + nodes.len();
    Ok(ListConnection {
        page_info: PageInfo {
            has_next_page: (end as i64) < total_count,
            end_cursor: (!nodes.is_empty()).then(|| encode_key(&format!("p:{end}"))),
        },
        nodes,
        total_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cursor_is_base64url_of_its_key() {
        let at = DateTime::from_timestamp_micros(1_733_500_000_000_001).expect("time");
        let id = Uuid::from_u128(42);
        let keyset = encode_cursor(at, id);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&keyset).expect("base64url"),
            format!("1733500000000001:{id}").into_bytes()
        );
        assert_eq!(decode_cursor(&keyset).expect("keyset"), (at, id));
        let seq = encode_seq_cursor(at, 7);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&seq).expect("base64url"),
            b"1733500000000001:7".to_vec()
        );
        assert_eq!(decode_seq_cursor(&seq).expect("seq"), (at, 7));
        let page = page_of(vec![1, 2, 3], Some(2), None).expect("page");
        let end = page.page_info.end_cursor.expect("end");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&end).expect("base64url"),
            b"p:2".to_vec()
        );
        assert_eq!(
            page_of(vec![1, 2, 3], Some(2), Some(&end))
                .expect("next")
                .nodes,
            [3]
        );
        // Anything else, the audit log's old `micros_id` included, is refused with a code.
        for bad in ["1733500000000001_7", "x", "", "cDo="] {
            assert!(
                matches!(decode_seq_cursor(bad), Err(AppError::BadUserInput(_))),
                "{bad}"
            );
            assert!(
                matches!(decode_cursor(bad), Err(AppError::BadUserInput(_))),
                "{bad}"
            );
        }
    }
}
