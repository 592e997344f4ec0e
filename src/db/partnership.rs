//! Partnerships (the tenants) and the agencies that act in them.

use crate::pg_row;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{fetch_all, fetch_optional};
use crate::error::AppResult;

pg_row! {
    #[derive(Debug, Clone, serde::Deserialize)]
    pub struct AgencyRow {
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        pub kind: String,
    }
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct PartnershipRow {
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        pub county: String,
    }
}

pub async fn agency_by_slug<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
) -> AppResult<Option<AgencyRow>> {
    fetch_optional(
        conn,
        "SELECT id, slug, name, kind FROM agencies WHERE slug = $1",
        vec![slug.into()],
    )
    .await
}

pub async fn agencies_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> AppResult<Vec<AgencyRow>> {
    fetch_all(
        conn,
        "SELECT id, slug, name, kind FROM agencies WHERE id = ANY($1)",
        vec![ids.to_vec().into()],
    )
    .await
}

/// The agencies among `slugs` (every agency is known to every caller: slug, name, kind).
pub async fn agencies_by_slugs<C: ConnectionTrait>(
    conn: &C,
    slugs: &[String],
) -> AppResult<Vec<AgencyRow>> {
    fetch_all(
        conn,
        "SELECT id, slug, name, kind FROM agencies WHERE slug = ANY($1)",
        vec![slugs.to_vec().into()],
    )
    .await
}

/// The partnerships among `slugs` that the agency belongs to.
pub async fn agency_partnerships<C: ConnectionTrait>(
    conn: &C,
    agency_id: Uuid,
    slugs: &[String],
) -> AppResult<Vec<PartnershipRow>> {
    fetch_all(
        conn,
        "SELECT p.id, p.slug, p.name, p.county FROM partnerships p \
         JOIN agency_partnerships ap ON ap.partnership_id = p.id \
         WHERE ap.agency_id = $1 AND p.slug = ANY($2) ORDER BY p.slug",
        vec![agency_id.into(), slugs.to_vec().into()],
    )
    .await
}

/// The partnerships in scope.
pub async fn partnerships_in<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
) -> AppResult<Vec<PartnershipRow>> {
    fetch_all(
        conn,
        "SELECT id, slug, name, county FROM partnerships WHERE id = ANY($1) ORDER BY slug",
        vec![scope.to_vec().into()],
    )
    .await
}

/// An agency that belongs to a partnership, by slug (for naming a lead agency).
pub async fn member_agency<C: ConnectionTrait>(
    conn: &C,
    partnership_id: Uuid,
    slug: &str,
) -> AppResult<Option<AgencyRow>> {
    fetch_optional(
        conn,
        "SELECT a.id, a.slug, a.name, a.kind FROM agencies a \
         JOIN agency_partnerships ap ON ap.agency_id = a.id \
         WHERE ap.partnership_id = $1 AND a.slug = $2",
        vec![partnership_id.into(), slug.into()],
    )
    .await
}
