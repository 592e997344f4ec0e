//! Pagination, in one place: page sizes and their cost in the complexity budget, the page info
//! every connection carries, and the cursors. Cursors are opaque to clients and have one
//! format: base64url (no padding) of the key of the list's order, its parts joined by `:`
//! (`encode_key`, `decode_key`). The keys:
//!
//! - time and id (incidents, cases, notes, submissions): `micros:uuid` (`encode_cursor`,
//!   `decode_cursor`);
//! - time and sequence number (the audit log, newest first): `micros:seq` (`encode_seq_cursor`,
//!   `decode_seq_cursor`);
//! - a position in a short list read whole (`page_of`): `p:N`, N items up to and including it.
//!
//! Every list is a Relay connection (`Connection`): `edges { cursor node }`, `nodes`,
//! `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }` and `totalCount`, paged
//! forwards with `first`/`after` or backwards with `last`/`before` (`PageArgs`).

use std::sync::Arc;

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::db::page::Keyset;
use crate::error::AppError;

/// A page size within the cap; `name` is the argument that gave it (`first` or `last`).
fn size_of(name: &str, n: Option<i32>) -> Result<u64, AppError> {
    let n = n.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&n) {
        return Err(AppError::BadUserInput(format!(
            "{name} must be between 1 and {MAX_PAGE_SIZE}, not {n}"
        )));
    }
    Ok(u64::try_from(n).unwrap_or(1))
}

/// The cost of a paginated list: one for the field, and what each item selects times the page
/// size asked for (the default when none is given; within the cap, as `PageArgs` enforces).
pub(crate) fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let items =
        usize::try_from(first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)).unwrap_or(1);
    1 + items.saturating_mul(child_complexity)
}

/// Where a page sits in its list (Relay's `PageInfo`).
#[derive(SimpleObject, Clone, Default)]
pub struct PageInfo {
    /// True when items follow this page: ask for them with `first` and `after: endCursor`.
    /// Paging backwards, true when `before` was given.
    pub has_next_page: bool,
    /// True when items come before this page: ask for them with `last` and
    /// `before: startCursor`. Paging forwards, true when `after` was given.
    pub has_previous_page: bool,
    /// The cursor of the page's first item; null when the page is empty.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last item, to pass as `after` for the next page; null when the
    /// page is empty.
    pub end_cursor: Option<String>,
}

/// An item of a page with its cursor (Relay's edge).
#[derive(SimpleObject)]
#[graphql(concrete(name = "SubjectEdge", params(super::case::Subject)))]
#[graphql(concrete(name = "ShareEdge", params(super::case::Share)))]
#[graphql(concrete(name = "InterventionEdge", params(super::case::Intervention)))]
#[graphql(concrete(name = "ReferralEdge", params(super::case::Referral)))]
#[graphql(concrete(name = "IncidentEdge", params(super::incident::Incident)))]
#[graphql(concrete(name = "GrantEdge", params(super::grant::Grant)))]
#[graphql(concrete(name = "SurveyResultEdge", params(super::grant::SurveyResult)))]
#[graphql(concrete(name = "IndicatorValueEdge", params(super::indicator::IndicatorValue)))]
#[graphql(concrete(name = "CaseEdge", params(super::case::Case)))]
#[graphql(concrete(name = "CaseNoteEdge", params(super::case::CaseNote)))]
#[graphql(concrete(name = "AuditEntryEdge", params(super::audit::AuditEntry)))]
#[graphql(concrete(
    name = "ReportSubmissionEdge",
    params(super::submission::ReportSubmission)
))]
#[graphql(concrete(name = "PlanEdge", params(super::plan::Plan)))]
#[graphql(concrete(name = "AreaEdge", params(super::area::Area)))]
#[graphql(concrete(name = "VocabularyTermEdge", params(super::area::VocabularyTerm)))]
#[graphql(concrete(name = "PartnershipEdge", params(super::partnership::Partnership)))]
#[graphql(concrete(name = "IndicatorEdge", params(super::indicator::Indicator)))]
#[graphql(concrete(name = "PopulationEdge", params(super::indicator::Population)))]
#[graphql(concrete(name = "PersonMatchEdge", params(super::case::PersonMatch)))]
#[graphql(concrete(name = "OfficialAreaEdge", params(super::geography::OfficialArea)))]
#[graphql(concrete(
    name = "HotspotDesignationEdge",
    params(super::hotspot_response::HotspotDesignation)
))]
#[cfg_attr(test, graphql(concrete(name = "TestEdge", params(i32))))]
pub struct Edge<T: async_graphql::OutputType> {
    /// The item's place in the list: pass it as `after` (or `before`) to page on from here.
    /// Opaque: do not build or parse one.
    pub cursor: String,
    /// The item.
    pub node: Arc<T>,
}

// The edge types by a path, as `concrete(params(...))` takes them.
#[cfg(test)]
type TestEdgeOf = Edge<i32>;
type SubjectEdgeOf = Edge<super::case::Subject>;
type ShareEdgeOf = Edge<super::case::Share>;
type InterventionEdgeOf = Edge<super::case::Intervention>;
type ReferralEdgeOf = Edge<super::case::Referral>;
type IncidentEdgeOf = Edge<super::incident::Incident>;
type GrantEdgeOf = Edge<super::grant::Grant>;
type SurveyResultEdgeOf = Edge<super::grant::SurveyResult>;
type IndicatorValueEdgeOf = Edge<super::indicator::IndicatorValue>;
type CaseEdgeOf = Edge<super::case::Case>;
type CaseNoteEdgeOf = Edge<super::case::CaseNote>;
type AuditEdgeOf = Edge<super::audit::AuditEntry>;
type ReportSubmissionEdgeOf = Edge<super::submission::ReportSubmission>;
type PlanEdgeOf = Edge<super::plan::Plan>;
type PersonMatchEdgeOf = Edge<super::case::PersonMatch>;
type AreaEdgeOf = Edge<super::area::Area>;
type VocabularyTermEdgeOf = Edge<super::area::VocabularyTerm>;
type PartnershipEdgeOf = Edge<super::partnership::Partnership>;
type IndicatorEdgeOf = Edge<super::indicator::Indicator>;
type PopulationEdgeOf = Edge<super::indicator::Population>;
type OfficialAreaEdgeOf = Edge<super::geography::OfficialArea>;
type HotspotDesignationEdgeOf = Edge<super::hotspot_response::HotspotDesignation>;

/// A page of a list (a Relay connection). Page forwards with `first` and `after: endCursor`,
/// backwards with `last` and `before: startCursor`; `nodes` holds the page's items when their
/// cursors are not needed.
#[derive(SimpleObject)]
#[graphql(concrete(
    name = "SubjectConnection",
    params(super::case::Subject, SubjectEdgeOf)
))]
#[graphql(concrete(name = "ShareConnection", params(super::case::Share, ShareEdgeOf)))]
#[graphql(concrete(
    name = "InterventionConnection",
    params(super::case::Intervention, InterventionEdgeOf)
))]
#[graphql(concrete(
    name = "ReferralConnection",
    params(super::case::Referral, ReferralEdgeOf)
))]
#[graphql(concrete(
    name = "IncidentConnection",
    params(super::incident::Incident, IncidentEdgeOf)
))]
#[graphql(concrete(name = "GrantConnection", params(super::grant::Grant, GrantEdgeOf)))]
#[graphql(concrete(
    name = "SurveyResultConnection",
    params(super::grant::SurveyResult, SurveyResultEdgeOf)
))]
#[graphql(concrete(
    name = "IndicatorValueConnection",
    params(super::indicator::IndicatorValue, IndicatorValueEdgeOf)
))]
#[graphql(concrete(name = "CaseConnection", params(super::case::Case, CaseEdgeOf)))]
#[graphql(concrete(
    name = "CaseNoteConnection",
    params(super::case::CaseNote, CaseNoteEdgeOf)
))]
#[graphql(concrete(
    name = "AuditConnection",
    params(super::audit::AuditEntry, AuditEdgeOf)
))]
#[graphql(concrete(
    name = "ReportSubmissionConnection",
    params(super::submission::ReportSubmission, ReportSubmissionEdgeOf)
))]
#[graphql(concrete(name = "PlanConnection", params(super::plan::Plan, PlanEdgeOf)))]
#[graphql(concrete(name = "AreaConnection", params(super::area::Area, AreaEdgeOf)))]
#[graphql(concrete(
    name = "VocabularyTermConnection",
    params(super::area::VocabularyTerm, VocabularyTermEdgeOf)
))]
#[graphql(concrete(
    name = "PartnershipConnection",
    params(super::partnership::Partnership, PartnershipEdgeOf)
))]
#[graphql(concrete(
    name = "IndicatorConnection",
    params(super::indicator::Indicator, IndicatorEdgeOf)
))]
#[graphql(concrete(
    name = "PopulationConnection",
    params(super::indicator::Population, PopulationEdgeOf)
))]
#[graphql(concrete(
    name = "PersonMatchConnection",
    params(super::case::PersonMatch, PersonMatchEdgeOf)
))]
#[graphql(concrete(
    name = "OfficialAreaConnection",
    params(super::geography::OfficialArea, OfficialAreaEdgeOf)
))]
#[graphql(concrete(
    name = "HotspotDesignationConnection",
    params(super::hotspot_response::HotspotDesignation, HotspotDesignationEdgeOf)
))]
#[cfg_attr(
    test,
    graphql(concrete(name = "TestConnection", params(i32, TestEdgeOf)))
)]
pub struct Conn<T: async_graphql::OutputType, E: async_graphql::OutputType> {
    /// The page's items with their cursors, in the list's order.
    pub edges: Vec<E>,
    /// The page's items, in the list's order (the `node` of each edge).
    pub nodes: Vec<Arc<T>>,
    /// Whether items follow or come before, and the cursors to ask for them. Free in the
    /// complexity budget: it is made from the page already read, so the page size does not
    /// multiply it.
    #[graphql(complexity = 0)]
    pub page_info: PageInfo,
    /// How many items the whole list holds (with its filter), whatever the page. Counted only
    /// when asked for.
    pub total_count: i64,
}

/// A page of `T`s (the schema's `XConnection` for each `X`).
pub type Connection<T> = Conn<T, Edge<T>>;

/// A list field's paging arguments, as Relay has them: `first` items after `after`, or the
/// `last` items before `before`.
#[derive(Clone, Debug, Default)]
pub(crate) struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// A list field's four paging arguments, as the field received them.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }

    /// Forwards: `first` (default 50) after `after`.
    #[cfg(test)]
    pub fn forward(first: Option<i32>, after: Option<String>) -> Self {
        PageArgs {
            first,
            after,
            ..PageArgs::default()
        }
    }

    /// The page size and direction: `first` or `last`, not both (BAD_USER_INPUT), each 1 to
    /// 100; neither is `first: 50`.
    fn size(&self) -> Result<(u64, bool), AppError> {
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(AppError::BadUserInput(
                "give first (to page forwards) or last (backwards), not both".to_owned(),
            )),
            (_, Some(last)) => Ok((size_of("last", Some(last))?, true)),
            (first, None) => Ok((size_of("first", first)?, false)),
        }
    }

    /// The keyset page these arguments ask for, the cursors read with `decode`.
    pub fn keyset<A, B>(
        &self,
        decode: impl Fn(&str) -> Result<(A, B), AppError>,
    ) -> Result<Keyset<A, B>, AppError> {
        let (limit, backward) = self.size()?;
        Ok(Keyset {
            after: self.after.as_deref().map(&decode).transpose()?,
            before: self.before.as_deref().map(&decode).transpose()?,
            backward,
            limit,
        })
    }
}

/// The connection of rows read for `keys` (in the order read, one more than the page when
/// more follow): trimmed to the page, put back in the list's order, each with its cursor.
pub(crate) fn connection<A, B, R, T>(
    keys: &Keyset<A, B>,
    mut rows: Vec<R>,
    cursor: impl Fn(&R) -> String,
    node: impl Fn(R) -> Result<T, AppError>,
    total_count: i64,
) -> Result<Connection<T>, AppError>
where
    T: async_graphql::OutputType,
    Edge<T>: async_graphql::OutputType,
{
    let limit = usize::try_from(keys.limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    if keys.backward {
        rows.reverse();
    }
    let (has_next_page, has_previous_page) = if keys.backward {
        (keys.before.is_some(), more || keys.after.is_some())
    } else {
        (more || keys.before.is_some(), keys.after.is_some())
    };
    let mut edges = Vec::with_capacity(rows.len());
    for row in rows {
        let cursor = cursor(&row);
        edges.push(Edge {
            cursor,
            node: Arc::new(node(row)?),
        });
    }
    Ok(Connection {
        page_info: PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
        total_count,
    })
}

/// Whether the field being resolved selects `totalCount`, so that a count is made only when
/// it is read.
pub(crate) fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// A position in a short list read whole: `p:N` is the Nth item (from 1).
fn position(cursor: &str) -> Result<usize, AppError> {
    decode_key(cursor)?
        .strip_prefix("p:")
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(not_a_cursor)
}

/// How many items from the start of a short list `page_of` needs for the page `args` ask
/// for (and to tell whether more follow); `None` when it needs the whole list (a page counted
/// back from its end).
pub(crate) fn reach(args: &PageArgs) -> Result<Option<usize>, AppError> {
    let (limit, backward) = args.size()?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let before = args.before.as_deref().map(position).transpose()?;
    let after = args.after.as_deref().map(position).transpose()?;
    Ok(match (backward, before) {
        (true, None) => None,
        (true, Some(b)) => Some(b),
        (false, b) => {
            let end = after.unwrap_or(0).saturating_add(limit).saturating_add(1);
            Some(b.map_or(end, |b| b.min(end)))
        }
    })
}

/// The page `args` ask for of `all`, a short list read whole.
pub(crate) fn page_of<T: async_graphql::OutputType>(
    all: Vec<T>,
    args: &PageArgs,
) -> Result<Connection<T>, AppError>
where
    Edge<T>: async_graphql::OutputType,
{
    let (limit, backward) = args.size()?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let total = all.len();
    // The range between the cursors, as indexes from 0: after `p:a`, from a; before `p:b`,
    // up to b - 1.
    let start = args
        .after
        .as_deref()
        .map(position)
        .transpose()?
        .unwrap_or(0);
    let end = args
        .before
        .as_deref()
        .map(position)
        .transpose()?
        .map_or(total, |b| b.saturating_sub(1))
        .min(total);
    let start = start.min(end);
    let (from, to) = if backward {
        (end.saturating_sub(limit).max(start), end)
    } else {
        (start, end.min(start.saturating_add(limit)))
    };
    let edges: Vec<Edge<T>> = all
        .into_iter()
        .enumerate()
        .skip(from)
        .take(to - from)
        .map(|(i, item)| Edge {
            cursor: encode_key(&format!("p:{}", i + 1)),
            node: Arc::new(item),
        })
        .collect();
    Ok(Connection {
        page_info: PageInfo {
            has_next_page: to < total,
            has_previous_page: from > 0,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
        total_count: i64::try_from(total).unwrap_or(i64::MAX),
    })
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
    AppError::BadUserInput("the cursor (after or before) is not one this API gave out: pass a startCursor, endCursor or edge cursor from a page of the same list".to_owned())
}

/// A time as the keys hold it: microseconds since the epoch.
fn time_of(micros: &str) -> Result<DateTime<Utc>, AppError> {
    use chrono::Datelike;
    micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        // Only times a list can hold: one PostgreSQL cannot store would abort the request's
        // transaction, and every other field of the request with it.
        .filter(|t| (1900..=9999).contains(&t.year()))
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

/// The cursor of a list read in an order other than its default (`orderBy`): the order's tag,
/// its key and the id. A cursor of one order is not one of another (BAD_USER_INPUT); the
/// default orders keep the untagged cursors they always gave.
pub(crate) fn encode_tagged(tag: &str, key: impl std::fmt::Display, id: Uuid) -> String {
    encode_key(&format!("{tag}:{key}:{id}"))
}

/// The key and id of a cursor `encode_tagged` gave for the order tagged `tag`.
pub(crate) fn decode_tagged<K>(
    tag: &str,
    cursor: &str,
    key: impl Fn(&str) -> Option<K>,
) -> Result<(K, Uuid), AppError> {
    let text = decode_key(cursor)?;
    let rest = text
        .strip_prefix(tag)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(|| {
            AppError::BadUserInput(
                "the cursor (after or before) is of another order: pass a cursor from a page in the same orderBy"
                    .to_owned(),
            )
        })?;
    let (k, id) = rest.rsplit_once(':').ok_or_else(not_a_cursor)?;
    Ok((
        key(k).ok_or_else(not_a_cursor)?,
        Uuid::parse_str(id).map_err(|_| not_a_cursor())?,
    ))
}

/// A time in a tagged cursor: microseconds since the epoch, in the years cursors may hold.
pub(crate) fn micros_key(k: &str) -> Option<DateTime<Utc>> {
    time_of(k).ok()
}

/// Which way a list runs in its `orderBy`.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest first: oldest, earliest, lowest.
    #[default]
    Asc,
    /// Largest first: newest, latest, highest.
    Desc,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn items(c: &Connection<i32>) -> Vec<i32> {
        c.nodes.iter().map(|n| **n).collect()
    }

    fn args(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> PageArgs {
        PageArgs {
            first,
            after: after.map(str::to_owned),
            last,
            before: before.map(str::to_owned),
        }
    }

    #[test]
    fn short_lists_page_both_ways() {
        let all: Vec<i32> = (1..=7).collect();
        let last = page_of(all.clone(), &args(None, None, Some(3), None)).expect("last");
        assert_eq!(items(&last), [5, 6, 7]);
        assert!(!last.page_info.has_next_page && last.page_info.has_previous_page);
        let start = last.page_info.start_cursor.clone().expect("start");
        let before = page_of(all.clone(), &args(None, None, Some(3), Some(&start))).expect("b");
        assert_eq!(items(&before), [2, 3, 4]);
        let start = before.page_info.start_cursor.clone().expect("start");
        let first = page_of(all.clone(), &args(None, None, Some(3), Some(&start))).expect("b");
        assert_eq!(items(&first), [1]);
        assert!(first.page_info.has_next_page && !first.page_info.has_previous_page);
        // Forwards again from the first page's end: the same items.
        let end = first.page_info.end_cursor.clone().expect("end");
        let again = page_of(all.clone(), &args(Some(3), Some(&end), None, None)).expect("f");
        assert_eq!(items(&again), [2, 3, 4]);
        assert_eq!(
            again
                .edges
                .iter()
                .map(|e| e.cursor.clone())
                .collect::<Vec<_>>(),
            before
                .edges
                .iter()
                .map(|e| e.cursor.clone())
                .collect::<Vec<_>>()
        );
        // Between two cursors.
        let c2 = again.edges[0].cursor.clone();
        let c4 = again.edges[2].cursor.clone();
        let between = page_of(all.clone(), &args(Some(10), Some(&c2), None, Some(&c4))).expect("r");
        assert_eq!(items(&between), [3]);
        assert!(matches!(
            page_of(all, &args(Some(1), None, Some(1), None)),
            Err(AppError::BadUserInput(_))
        ));
    }

    #[test]
    fn keyset_pages_come_back_in_list_order_with_their_cursors() {
        let keys: Keyset<i64, i64> = Keyset {
            after: None,
            before: Some((9, 9)),
            backward: true,
            limit: 2,
        };
        // Read backwards, one more than the page: 8, 7, 6.
        let c = connection(&keys, vec![8, 7, 6], |r| format!("c{r}"), Ok, 0).expect("page");
        assert_eq!(items(&c), [7, 8]);
        assert_eq!(c.page_info.start_cursor.as_deref(), Some("c7"));
        assert_eq!(c.page_info.end_cursor.as_deref(), Some("c8"));
        assert!(c.page_info.has_previous_page && c.page_info.has_next_page);
    }

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
        let page = page_of(vec![1, 2, 3], &PageArgs::forward(Some(2), None)).expect("page");
        let end = page.page_info.end_cursor.expect("end");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&end).expect("base64url"),
            b"p:2".to_vec()
        );
        let next = page_of(vec![1, 2, 3], &PageArgs::forward(Some(2), Some(end))).expect("next");
        assert_eq!(items(&next), [3]);
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
