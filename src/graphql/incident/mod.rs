//! Incidents in GraphQL: the push (same path as `POST /api/v1/incidents`), the rows for
//! partners, statistics for everyone (small numbers suppressed for the PCC) and data freshness.
//!
//! The record, input and filter types are in `types`; the statistics' and freshness's types and
//! the counting behind `incidentStats` in `stats`; the loaders of a page's revisions, areas and
//! terms (one statement per kind) in `loaders`.

mod loaders;
mod stats;
mod types;

pub use loaders::*;
pub use stats::*;
pub use types::*;

use crate::scalar::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

use uuid::Uuid;

use super::page::{
    Connection, OrderDirection, PageArgs, connection, decode_cursor, decode_tagged, encode_cursor,
    encode_tagged, micros_key, wants_total,
};
use super::principal;
use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize, exact_statistics};
use crate::db;
use crate::db::incident::{Dimension, IncidentFilter, IncidentRow};
use crate::domain::incident::IncidentInput as RecordInput;
use crate::domain::stats::{Period, SMALL_COUNT_MAX, change_percent, suppress};
use crate::domain::vocabulary::Vocabulary;
use crate::error::AppError;
use crate::service::push::PushReport;

#[derive(Default)]
pub struct IncidentQuery;

fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = from.with_day(1).unwrap_or(from);
    while m <= to && out.len() < 240 {
        out.push(m);
        m = m.checked_add_months(chrono::Months::new(1)).unwrap_or(to);
        if out.last() == Some(&m) {
            break;
        }
    }
    out
}

/// What `incidents` can be ordered by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum IncidentOrderField {
    /// When the incident happened (`occurredAt`), then the record's id.
    #[default]
    OccurredAt,
    /// When the record last changed (`updatedAt`: a push that changed it, a cancellation),
    /// then its id: for a screen of what changed lately.
    UpdatedAt,
}

/// The order of `incidents`: a field and a direction (`incidents` without `orderBy` is
/// `{field: OCCURRED_AT, direction: ASC}`).
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct IncidentOrder {
    /// What to order by.
    pub field: IncidentOrderField,
    /// ASC (oldest first) or DESC (newest first).
    pub direction: OrderDirection,
}

#[Object]
impl IncidentQuery {
    /// Incident records, filtered, in the order asked for (by default when they happened,
    /// oldest first), as a Relay connection with the total count. Police, fire and council
    /// only: the PCC gets FORBIDDEN.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filter, its order and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Which records to list; when omitted, every record of the token's only partnership (BAD_USER_INPUT when the token names several)."
        )]
        filter: IncidentFilterInput,
        #[graphql(
            desc = "The list's order (null or left out: the default): when the records happened (the default, oldest first) or when they last changed, either way. A cursor is of one order: pass it back with the same `orderBy`."
        )]
        order_by: Option<IncidentOrder>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(
            desc = "Cursor: the `endCursor` of the previous page; omit for the first page. A cursor this API did not give out is BAD_USER_INPUT."
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
    ) -> Result<Connection<Incident>> {
        let p = principal(ctx)?;
        let (filter, _) = filter.to_filter(p)?;
        authorize(p, Operation::ReadIncidentRows)?;
        let args = PageArgs::new(first, after, last, before);
        let order_by = order_by.unwrap_or_default();
        let (order, tagged) = match order_by.field {
            IncidentOrderField::OccurredAt => (db::incident::Order::Occurred, false),
            IncidentOrderField::UpdatedAt => (db::incident::Order::Updated, true),
        };
        let keys = if tagged {
            args.keyset(|c| decode_tagged("u", c, micros_key))?
        } else {
            args.keyset(decode_cursor)?
        };
        let desc = order_by.direction == OrderDirection::Desc;
        let conn = super::db(ctx)?;
        let rows = db::incident::page(conn, &filter, order, desc, &keys).await?;
        let selected = Selected::of(ctx);
        let links = if selected.any() {
            Some(Arc::new(
                page_links(conn, &p.scope(), &rows, selected).await?,
            ))
        } else {
            None
        };
        let total_count = if wants_total(ctx) {
            db::incident::count(conn, &filter).await?
        } else {
            0
        };
        Ok(connection(
            &keys,
            rows,
            |r| {
                if tagged {
                    encode_tagged("u", r.updated_at.timestamp_micros(), r.id)
                } else {
                    encode_cursor(r.occurred_at, r.id)
                }
            },
            |r| {
                let mut incident = Incident::from(r);
                incident.links = links.clone();
                Ok(incident)
            },
            total_count,
        )?)
    }

    /// Counts of ACTIVE incidents over a period, grouped by any dimensions, optionally compared
    /// with an earlier period. Every role may ask. The PCC's figures are cells of one protected
    /// table set per partnership and financial year (category by area by month, quarter, half
    /// or year): counts of 1 to 4 withheld, with further cells withheld over the whole set so
    /// that, from every figure the PCC can read and the sums between them, each withheld count
    /// could still be any of at least three values (docs/small-numbers.md); domestic abuse never
    /// broken down by area. So
    /// for the PCC the period is one month, quarter, half or financial year, the filter names at
    /// most one category and one area (or `domesticAbuse: true`), and the grouping is by
    /// category, area, month, quarter or financial year.
    #[graphql(
        complexity = "crate::graphql::STATS_COST * (1 + usize::from(compare_with.is_some())) + child_complexity"
    )]
    async fn incident_stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            name = "filter",
            desc = "Which records to count; `period` is required (BAD_USER_INPUT without it). Only ACTIVE records count, so `status` is ignored (the PCC may not give it). The PCC's other limits are in the field's description."
        )]
        input: IncidentFilterInput,
        #[graphql(
            default,
            desc = "The dimensions to group by, in the order the rows are sorted by; repeats are ignored. None (the default): read `total`."
        )]
        group_by: Vec<StatsDimension>,
        #[graphql(
            desc = "An earlier period to count as well (`comparedWith`, `previousCount`, `changePercent`); none when omitted. It raises the field's complexity cost from 250 to 500."
        )]
        compare_with: Option<StatsComparison>,
    ) -> Result<IncidentStats> {
        let p = principal(ctx)?;
        let (filter, period) = input.to_filter(p)?;
        authorize(p, Operation::ReadIncidentStats)?;
        let period = period.ok_or_else(|| {
            AppError::BadUserInput("incidentStats needs filter.period".to_owned())
        })?;
        let mut dims: Vec<Dimension> = Vec::new();
        for d in group_by {
            let d = Dimension::from(d);
            if !dims.contains(&d) {
                dims.push(d);
            }
        }
        // The request's transaction already has the heavy budget (`db::request::open_as`).
        // Plans are made for these values: a generic plan for a prepared statement guesses a
        // few thousand rows and scans an index for a whole year.
        let txn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await
            .map_err(AppError::internal)?;
        if !exact_statistics(p) {
            // Every PCC figure is a cell of the one protected table set of its year.
            return Ok(super::tableset::pcc_stats(
                txn,
                filter.partnership_id,
                &input,
                period,
                &dims,
                compare_with,
            )
            .await?);
        }
        let exact = true;
        let excludes_domestic_abuse = false;
        let compared = compare_with.map(|c| match c {
            StatsComparison::PreviousPeriod => period.previous(),
            StatsComparison::SamePeriodLastYear => period.year_earlier(),
        });
        let current = counts(txn, &filter, period, &dims).await?;
        let previous = match compared {
            Some(c) => Some(counts(txn, &filter, c, &dims).await?),
            None => None,
        };
        let additive: Vec<bool> = dims.iter().map(|d| *d != Dimension::Flag).collect();
        let (rows, total) = assemble(&dims, &additive, current, previous, exact);
        Ok(IncidentStats {
            period: period.into(),
            compared_with: compared.map(Into::into),
            rows,
            total,
            suppression_applied: !exact,
            excludes_domestic_abuse,
        })
    }

    /// Per source agency and month of occurrence, how many records are held and when the last
    /// push was, so that a missing month shows before anyone reads a trend into it. Months as
    /// `2015-04`; by default the twelve months to this one. Every role may ask; the PCC sees
    /// whether each month is held (`hasRecords`), not its count.
    #[graphql(complexity = "crate::graphql::REPORT_COST + child_complexity")]
    async fn data_freshness(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (otherwise BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(
            desc = "The first month, as `2015-04`; by default eleven months before `toMonth` (twelve months in all). Not after `toMonth` and at most ten years before it (BAD_USER_INPUT)."
        )]
        from_month: Option<String>,
        #[graphql(desc = "The last month, included, as `2015-04`; by default this month.")]
        to_month: Option<String>,
    ) -> Result<DataFreshness> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadIncidentStats)?;
        let today = Utc::now().date_naive();
        let to = match &to_month {
            Some(m) => Period::month(m)?.to,
            None => Period::month(&today.format("%Y-%m").to_string())?.to,
        };
        let from = match &from_month {
            Some(m) => Period::month(m)?.from,
            None => to
                .with_day(1)
                .unwrap_or(to)
                .checked_sub_months(chrono::Months::new(11))
                .unwrap_or(to),
        };
        if from > to || (to - from).num_days() > 3700 {
            return Err(AppError::BadUserInput(
                "fromMonth must be before toMonth and at most ten years earlier".to_owned(),
            )
            .into());
        }
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        let rows = db::incident::freshness(conn, target.id, from, to).await?;
        let pushes = db::incident::last_pushes(conn, target.id).await?;
        let months = months_between(from, to);
        let exact = exact_statistics(p);
        let mut agencies = Vec::new();
        for push in pushes {
            let held: HashMap<NaiveDate, &db::incident::FreshnessRow> = rows
                .iter()
                .filter(|r| r.agency == push.agency)
                .map(|r| (r.month, r))
                .collect();
            let counts: Vec<i64> = months
                .iter()
                .map(|m| held.get(m).map_or(0, |r| r.records))
                .collect();
            // The PCC's figures are cells of its table set (category by area by period); an
            // agency's monthly count is not one, so the PCC sees only whether it is there.
            let hidden = vec![!exact; counts.len()];
            agencies.push(AgencyFreshness {
                agency: push.agency.clone(),
                last_push_at: push.last_push_at.map(Into::into),
                pushes: push.pushes,
                months: months
                    .iter()
                    .zip(counts.iter().zip(hidden))
                    .map(|(m, (n, h))| MonthFreshness {
                        month: m.format("%Y-%m").to_string(),
                        records: (!h).then_some(*n),
                        suppressed: h,
                        has_records: *n > 0,
                        last_received_at: held
                            .get(m)
                            .and_then(|r| r.last_received_at)
                            .map(Into::into),
                    })
                    .collect(),
            });
        }
        Ok(DataFreshness {
            partnership: target.slug.clone(),
            from_month: from.format("%Y-%m").to_string(),
            to_month: to.format("%Y-%m").to_string(),
            agencies,
        })
    }
}
#[derive(Default)]
pub struct IncidentMutation;

#[Object]
impl IncidentMutation {
    /// Pushes incident records as the token's agency: the same checks and result as
    /// `POST /api/v1/incidents` (use that for large batches; this request's body is limited).
    /// Police, fire and council; the PCC gets FORBIDDEN.
    async fn push_incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The records, each applied or rejected on its own (see `rejected`); a second record with the same `externalRef` in one request is rejected (DUPLICATE_REF)."
        )]
        incidents: Vec<IncidentInput>,
    ) -> Result<PushResult> {
        let p = principal(ctx)?;
        authorize(p, Operation::PushIncidents)?;
        let pusher = db::incident::Pusher {
            agency_id: p.agency_id,
            agency: p.agency.clone(),
            sub: p.sub.clone(),
            budget: ctx.data_opt::<crate::db::Heavy>().map(|h| h.timeout),
        };
        let records = incidents
            .into_iter()
            .map(|i| Ok(RecordInput::from(i)))
            .collect();
        let report =
            crate::service::push::push(super::db_txn(ctx)?, &pusher, &p.partnerships, records)
                .await?;
        // Counted in the metrics once the request's transaction has committed.
        if let Some(pending) = ctx.data_opt::<crate::metrics::PendingPushes>() {
            pending.add(crate::metrics::PushCounts::from(&report));
        }
        Ok(report.into())
    }
}
