//! The queries of indicators, their values, populations and the strategic assessment.

use super::*;

#[derive(Default)]
pub struct IndicatorQuery;

#[Object]
impl IndicatorQuery {
    /// A partnership's indicators: the built-in ones and its own, optionally only those linked
    /// to one priority; built-in first, then by code, as a Relay connection (read whole and paged
    /// by position). Every role may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(
            desc = "Only the indicators linked to this priority; an id that names no priority of the partnership gives an empty list."
        )]
        priority_id: Option<ID>,
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
    ) -> Result<crate::graphql::page::Connection<Indicator>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadIndicators)?;
        let priority = priority_id
            .as_ref()
            .map(|id| parse_id(id, "priority"))
            .transpose()?;
        let rows = db::indicator::list(crate::graphql::db(ctx)?, target.id, priority).await?;
        Ok(crate::graphql::page::page_of(
            rows.into_iter().map(Indicator::from).collect(),
            &crate::graphql::page::PageArgs::new(first, after, last, before),
        )?)
    }

    /// The figures recorded for an external indicator in a partnership, newest period first.
    /// Every role may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn indicator_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "An indicator of the partnership (NOT_FOUND otherwise). An INCIDENTS indicator has no recorded figures, so its list is empty."
        )]
        indicator_id: ID,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
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
    ) -> Result<crate::graphql::page::Connection<IndicatorValue>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadIndicators)?;
        let conn = crate::graphql::db(ctx)?;
        let indicator =
            db::indicator::get(conn, target.id, parse_id(&indicator_id, "indicator")?).await?;
        let rows = db::indicator::values_of(conn, indicator.id, target.id).await?;
        let all: Vec<IndicatorValue> = rows.into_iter().map(|v| value(&target.slug, v)).collect();
        Ok(crate::graphql::page::page_of(
            all,
            &crate::graphql::page::PageArgs::new(first, after, last, before),
        )?)
    }

    /// A partnership's mid-year population estimates, newest first, as a Relay connection (read
    /// whole and paged by position). Every role may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn populations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
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
    ) -> Result<crate::graphql::page::Connection<Population>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadIndicators)?;
        let rows = db::indicator::populations(crate::graphql::db(ctx)?, target.id).await?;
        Ok(crate::graphql::page::page_of(
            rows.into_iter()
                .map(|r| population(&target.slug, r))
                .collect(),
            &crate::graphql::page::PageArgs::new(first, after, last, before),
        )?)
    }

    /// The strategic assessment for any window of whole days (both ends included): for each
    /// indicator the count in the window and in the window of the same length before it, the
    /// change, the rate per 1,000 residents and the rank among the county's partnerships.
    /// Every role. For the PCC the window is one month, quarter, half or financial year,
    /// compared with the one before, and every count is a cell of the partnerships' protected
    /// table sets (see `incidentStats`).
    #[graphql(complexity = "2 * crate::graphql::STATS_COST + child_complexity")]
    async fn strategic_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "The window's first day (YYYY-MM-DD).")] from: crate::scalar::Date,
        #[graphql(
            desc = "The window's last day, included: not before `from`, at most ten years after it, between 1990 and 2200. For the PCC the window must be exactly one month, quarter, half or financial year. BAD_USER_INPUT otherwise."
        )]
        to: crate::scalar::Date,
    ) -> Result<StrategicAssessment> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadAssessment)?;
        let conn = crate::graphql::db_txn(ctx)?;
        crate::graphql::heavy_granted(ctx)?;
        Ok(assessment_for(conn, target, from.0, to.0, exact_statistics(p)).await?)
    }
}
