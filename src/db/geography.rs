//! Official geography (ONS): LSOAs, MSOAs, wards and districts of each vintage, the 2011-to-2021
//! LSOA lookup and which LSOAs make up which wards. Public reference data shared by every
//! partnership: written only by `csphub import geography` (the owner's connection), read by the
//! service.

use std::collections::HashMap;

use crate::pg_row;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{execute, fetch_all};
use crate::error::AppResult;

/// An official area of a vintage, as a file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoArea {
    /// `lsoa`, `msoa`, `ward` or `district`.
    pub kind: &'static str,
    pub vintage: i32,
    pub code: String,
    pub name: String,
    /// The district (local authority) code, when the file says.
    pub district: Option<String>,
}

/// An LSOA of one vintage within a ward, MSOA or district of another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Membership {
    pub lsoa: String,
    pub lsoa_vintage: i32,
    pub parent_kind: &'static str,
    pub parent_vintage: i32,
    pub parent: String,
}

/// One row of the ONS's 2011-to-2021 LSOA lookup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub lsoa11: String,
    pub lsoa21: String,
    /// U (unchanged), S (split), M (merged) or X (irregular).
    pub change: String,
    pub district: Option<String>,
}

/// Records areas (names and districts), replacing what an earlier import said of the same
/// area of the same vintage; a boundary already held stays.
pub async fn upsert_areas<C: ConnectionTrait>(
    conn: &C,
    areas: &[GeoArea],
    source: &str,
) -> AppResult<u64> {
    if areas.is_empty() {
        return Ok(0);
    }
    let col = |f: fn(&GeoArea) -> String| areas.iter().map(f).collect::<Vec<String>>();
    execute(
        conn,
        "INSERT INTO geo_areas (kind, vintage, code, name, district, source) \
         SELECT k, v, c, n, NULLIF(d, ''), $6 \
         FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[]) AS t(k, v, c, n, d) \
         ON CONFLICT (kind, vintage, code) DO UPDATE SET name = EXCLUDED.name, \
             district = COALESCE(EXCLUDED.district, geo_areas.district), \
             source = EXCLUDED.source, imported_at = now()",
        vec![
            col(|a| a.kind.to_owned()).into(),
            areas.iter().map(|a| a.vintage).collect::<Vec<i32>>().into(),
            col(|a| a.code.clone()).into(),
            col(|a| a.name.clone()).into(),
            col(|a| a.district.clone().unwrap_or_default()).into(),
            source.to_owned().into(),
        ],
        &[],
    )
    .await
}

/// Records areas' boundaries (GeoJSON geometries as text), with their names; an area's
/// district, when `district` is given, is that district.
pub async fn upsert_boundaries<C: ConnectionTrait>(
    conn: &C,
    areas: &[(GeoArea, String)],
    source: &str,
) -> AppResult<u64> {
    if areas.is_empty() {
        return Ok(0);
    }
    let col = |f: fn(&(GeoArea, String)) -> String| areas.iter().map(f).collect::<Vec<String>>();
    execute(
        conn,
        "INSERT INTO geo_areas (kind, vintage, code, name, district, boundary, source) \
         SELECT k, v, c, n, NULLIF(d, ''), b::jsonb, $7 \
         FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::text[]) \
             AS t(k, v, c, n, d, b) \
         ON CONFLICT (kind, vintage, code) DO UPDATE SET name = EXCLUDED.name, \
             district = COALESCE(EXCLUDED.district, geo_areas.district), \
             boundary = EXCLUDED.boundary, source = EXCLUDED.source, imported_at = now()",
        vec![
            col(|a| a.0.kind.to_owned()).into(),
            areas
                .iter()
                .map(|a| a.0.vintage)
                .collect::<Vec<i32>>()
                .into(),
            col(|a| a.0.code.clone()).into(),
            col(|a| a.0.name.clone()).into(),
            col(|a| a.0.district.clone().unwrap_or_default()).into(),
            col(|a| a.1.clone()).into(),
            source.to_owned().into(),
        ],
        &[],
    )
    .await
}

/// Records LSOAs' memberships of wards, MSOAs and districts.
pub async fn upsert_memberships<C: ConnectionTrait>(
    conn: &C,
    rows: &[Membership],
    source: &str,
) -> AppResult<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    execute(
        conn,
        "INSERT INTO geo_memberships (lsoa, lsoa_vintage, parent_kind, parent_vintage, parent, source) \
         SELECT l, lv, k, pv, p, $6 \
         FROM unnest($1::text[], $2::int4[], $3::text[], $4::int4[], $5::text[]) AS t(l, lv, k, pv, p) \
         ON CONFLICT (lsoa_vintage, lsoa, parent_kind, parent_vintage) DO UPDATE \
             SET parent = EXCLUDED.parent, source = EXCLUDED.source",
        vec![
            rows.iter().map(|r| r.lsoa.clone()).collect::<Vec<_>>().into(),
            rows.iter().map(|r| r.lsoa_vintage).collect::<Vec<i32>>().into(),
            rows.iter()
                .map(|r| r.parent_kind.to_owned())
                .collect::<Vec<_>>()
                .into(),
            rows.iter().map(|r| r.parent_vintage).collect::<Vec<i32>>().into(),
            rows.iter().map(|r| r.parent.clone()).collect::<Vec<_>>().into(),
            source.to_owned().into(),
        ],
        &[],
    )
    .await
}

/// Records rows of the 2011-to-2021 LSOA lookup.
pub async fn upsert_changes<C: ConnectionTrait>(
    conn: &C,
    rows: &[Change],
    source: &str,
) -> AppResult<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    execute(
        conn,
        "INSERT INTO geo_lsoa_changes (lsoa11, lsoa21, change, district, source) \
         SELECT a, b, c, NULLIF(d, ''), $5 \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(a, b, c, d) \
         ON CONFLICT (lsoa11, lsoa21) DO UPDATE SET change = EXCLUDED.change, \
             district = COALESCE(EXCLUDED.district, geo_lsoa_changes.district), \
             source = EXCLUDED.source",
        vec![
            rows.iter()
                .map(|r| r.lsoa11.clone())
                .collect::<Vec<_>>()
                .into(),
            rows.iter()
                .map(|r| r.lsoa21.clone())
                .collect::<Vec<_>>()
                .into(),
            rows.iter()
                .map(|r| r.change.clone())
                .collect::<Vec<_>>()
                .into(),
            rows.iter()
                .map(|r| r.district.clone().unwrap_or_default())
                .collect::<Vec<_>>()
                .into(),
            source.to_owned().into(),
        ],
        &[],
    )
    .await
}

pg_row! {
    struct Code {
        code: String,
    }
}

/// Which of these codes the district's lookups name (LSOAs, and the wards and MSOAs they make
/// up): a boundary file without a district column keeps the district's features by these.
pub async fn codes_of_district<C: ConnectionTrait>(
    conn: &C,
    district: &str,
    codes: &[String],
) -> AppResult<Vec<String>> {
    let rows: Vec<Code> = fetch_all(
        conn,
        "SELECT code FROM unnest($2::text[]) AS t(code) WHERE EXISTS \
             (SELECT 1 FROM geo_areas g WHERE g.code = t.code AND g.district = $1) \
         OR EXISTS (SELECT 1 FROM geo_lsoa_changes c WHERE c.district = $1 \
             AND (c.lsoa11 = t.code OR c.lsoa21 = t.code)) \
         OR EXISTS (SELECT 1 FROM geo_memberships m JOIN geo_memberships d \
             ON d.lsoa = m.lsoa AND d.lsoa_vintage = m.lsoa_vintage AND d.parent_kind = 'district' \
             WHERE d.parent = $1 AND (m.lsoa = t.code OR m.parent = t.code))",
        vec![district.to_owned().into(), codes.to_vec().into()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.code).collect())
}

pg_row! {
    struct Placed {
        partnership_id: Uuid,
        code: String,
        area_id: Uuid,
    }
}

/// Where LSOA codes that no area lists directly lie, through the 2011-to-2021 lookup.
///
/// - A 2021 code lies in an area when the 2011 codes it was made from that the partnership's
///   areas list are all listed by that one area: a 2021 LSOA split from a listed 2011 one is in
///   its area; one merged or changed irregularly from 2011 LSOAs is in their area, and the
///   parts from LSOAs no area lists lay outside the partnership's areas in 2011 (Stevenage
///   013A, E01035582, was made from Stevenage 004B and a part of East Hertfordshire 002D: it
///   lies where 004B does).
/// - A 2011 code lies in an area only when every 2021 code it became is listed by that one
///   area: a 2011 LSOA that was split, or changed irregularly, may have become a place outside
///   the partnership (East Hertfordshire 002D became parts of Stevenage 013A and of East
///   Hertfordshire 019C: a record in it is placed nowhere unless both are in one area).
///
/// Codes that are not so placed are left out (the push then says UNKNOWN_LSOA).
pub async fn placed_through_lookup<C: ConnectionTrait>(
    conn: &C,
    partnerships: &[Uuid],
    codes: &[String],
) -> AppResult<HashMap<(Uuid, String), Uuid>> {
    if codes.is_empty() || partnerships.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Placed> = fetch_all(
        conn,
        "WITH pairs AS ( \
             SELECT lsoa11 AS code, lsoa21 AS other, false AS new FROM geo_lsoa_changes \
             WHERE lsoa11 = ANY($2) \
             UNION \
             SELECT lsoa21, lsoa11, true FROM geo_lsoa_changes WHERE lsoa21 = ANY($2)) \
         SELECT q.id AS partnership_id, p.code, min(l.area_id::text)::uuid AS area_id \
         FROM pairs p CROSS JOIN unnest($1::uuid[]) AS q(id) \
         LEFT JOIN area_lsoas l ON l.partnership_id = q.id AND l.lsoa = p.other \
         WHERE p.code <> p.other \
         GROUP BY q.id, p.code, p.new \
         HAVING count(DISTINCT l.area_id) = 1 AND (p.new OR count(l.area_id) = count(*))",
        vec![partnerships.to_vec().into(), codes.to_vec().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.partnership_id, r.code), r.area_id))
        .collect())
}

pg_row! {
    /// An LSOA and the ward it lies in.
    pub struct WardLsoa {
        pub ward: String,
        pub ward_name: String,
        pub lsoa: String,
    }
}

/// The LSOAs of one vintage in each ward of another, of a district, by ward name and LSOA.
pub async fn ward_lsoas<C: ConnectionTrait>(
    conn: &C,
    district: &str,
    ward_vintage: i32,
    lsoa_vintage: i32,
) -> AppResult<Vec<WardLsoa>> {
    fetch_all(
        conn,
        "SELECT m.parent AS ward, w.name AS ward_name, m.lsoa \
         FROM geo_memberships m \
         JOIN geo_areas w ON w.kind = 'ward' AND w.vintage = m.parent_vintage AND w.code = m.parent \
         WHERE m.parent_kind = 'ward' AND m.parent_vintage = $2 AND m.lsoa_vintage = $3 \
           AND w.district = $1 \
         ORDER BY w.name, m.lsoa",
        vec![district.to_owned().into(), ward_vintage.into(), lsoa_vintage.into()],
    )
    .await
}
