//! Who the caller is and the partnerships they may act in.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use crate::db;

/// The verified caller of this request, as csphub understands the token.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The token's subject: the person or system acting.
    pub sub: String,
    /// `police`, `fire`, `council` or `pcc`.
    pub role: String,
    /// The agency acting (slug).
    pub agency: String,
    /// Slugs of the partnerships this request may act in.
    pub partnerships: Vec<String>,
    /// Extra capabilities: `coordinator`, `caseworker`.
    pub capabilities: Vec<String>,
}

/// A Community Safety Partnership (a tenant of csphub).
#[derive(SimpleObject)]
pub struct Partnership {
    /// The partnership's id, an opaque string.
    pub id: ID,
    /// The partnership's slug, such as `stevenage`: what every `partnership` argument and input
    /// field takes.
    pub slug: String,
    /// The partnership's name for display, such as Stevenage (SoSafe).
    pub name: String,
    /// The county the partnership is in, such as Hertfordshire; `strategicAssessment` ranks a
    /// partnership among the county's.
    pub county: String,
}

impl From<db::partnership::PartnershipRow> for Partnership {
    fn from(r: db::partnership::PartnershipRow) -> Self {
        Self {
            id: ID(r.id.to_string()),
            slug: r.slug,
            name: r.name,
            county: r.county,
        }
    }
}

#[derive(Default)]
pub struct PartnershipQuery;

#[Object]
impl PartnershipQuery {
    /// The caller, as verified from the bearer token. Every role may ask.
    async fn me(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let p = super::principal(ctx)?;
        Ok(Viewer {
            sub: p.sub.clone(),
            role: p.role.as_str().to_owned(),
            agency: p.agency.clone(),
            partnerships: p.partnerships.iter().map(|s| s.slug.clone()).collect(),
            capabilities: p.caps.iter().map(|c| c.as_str().to_owned()).collect(),
        })
    }

    /// The partnerships this request may act in, by slug, as a Relay connection (read whole and
    /// paged by position). Every role may ask.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn partnerships(
        &self,
        ctx: &Context<'_>,
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
    ) -> Result<crate::graphql::page::Connection<Partnership>> {
        let p = super::principal(ctx)?;
        let rows = db::partnership::partnerships_in(super::db(ctx)?, &p.scope()).await?;
        Ok(crate::graphql::page::page_of(
            rows.into_iter().map(Partnership::from).collect(),
            &crate::graphql::page::PageArgs::new(first, after, last, before),
        )?)
    }
}
