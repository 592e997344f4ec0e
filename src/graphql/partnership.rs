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

    /// The partnerships this request may act in. Every role may ask.
    async fn partnerships(&self, ctx: &Context<'_>) -> Result<Vec<Partnership>> {
        let p = super::principal(ctx)?;
        let rows = db::partnership::partnerships_in(super::db(ctx)?, &p.scope()).await?;
        Ok(rows.into_iter().map(Partnership::from).collect())
    }
}
