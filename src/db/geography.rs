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
         ON CONFLICT (kind, vintage, code) DO UPDATE SET \
             name = CASE WHEN EXCLUDED.name = EXCLUDED.code THEN geo_areas.name ELSE EXCLUDED.name END, \
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
/// up; not the vintage lookup's rows, whose district is only the 2021 LSOA's): a boundary file without a district column keeps the district's features by these.
pub async fn codes_of_district<C: ConnectionTrait>(
    conn: &C,
    district: &str,
    codes: &[String],
) -> AppResult<Vec<String>> {
    let rows: Vec<Code> = fetch_all(
        conn,
        "SELECT code FROM unnest($2::text[]) AS t(code) WHERE EXISTS \
             (SELECT 1 FROM geo_areas g WHERE g.code = t.code AND g.district = $1) \
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

/// Where LSOA codes that no area lists directly lie, through the 2011-to-2021 lookup, for the
/// (partnership, code) pairs asked: a code lies in an area of the partnership when every code
/// the lookup pairs it with in the other vintage is listed by that one area.
///
/// - A 2021 LSOA split from a 2011 one lies where that one is listed; one merged from 2011
///   LSOAs lies where they are all listed.
/// - A 2021 LSOA changed irregularly counts only the 2011 LSOAs that lie wholly within its
///   district (every lookup row of theirs names that district): a part of a 2011 LSOA of
///   another district is not the partnership's to list. Stevenage 013A (E01035582) was made
///   from Stevenage 004B and a part of East Hertfordshire 002D, which also became part of East
///   Hertfordshire 019C: 013A lies where 004B is listed, and an East Hertfordshire partnership
///   listing 002D does not take it.
/// - A 2011 LSOA lies in an area only when every 2021 LSOA it became is listed by that one
///   area: East Hertfordshire 002D is placed nowhere unless both 013A and 019C are.
///
/// Codes that are not so placed are left out (the push then says UNKNOWN_LSOA).
pub async fn placed_through_lookup<C: ConnectionTrait>(
    conn: &C,
    asked: &[(Uuid, String)],
) -> AppResult<HashMap<(Uuid, String), Uuid>> {
    if asked.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Placed> = fetch_all(
        conn,
        "WITH asked AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS a(partnership_id, code)), \
         pairs AS ( \
             SELECT c.lsoa11 AS code, c.lsoa21 AS other FROM geo_lsoa_changes c \
             WHERE c.lsoa11 IN (SELECT code FROM asked) AND c.change <> 'U' \
             UNION \
             SELECT c.lsoa21, c.lsoa11 FROM geo_lsoa_changes c \
             WHERE c.lsoa21 IN (SELECT code FROM asked) AND c.change <> 'U' \
               AND NOT EXISTS (SELECT 1 FROM geo_lsoa_changes o WHERE o.lsoa11 = c.lsoa11 \
                   AND o.district IS DISTINCT FROM c.district)) \
         SELECT a.partnership_id, a.code, min(l.area_id::text)::uuid AS area_id \
         FROM asked a JOIN pairs p ON p.code = a.code \
         LEFT JOIN area_lsoas l ON l.partnership_id = a.partnership_id AND l.lsoa = p.other \
         GROUP BY a.partnership_id, a.code \
         HAVING count(DISTINCT l.area_id) = 1 AND count(l.area_id) = count(*)",
        vec![
            asked.iter().map(|a| a.0).collect::<Vec<Uuid>>().into(),
            asked
                .iter()
                .map(|a| a.1.clone())
                .collect::<Vec<String>>()
                .into(),
        ],
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

/// The most official areas of one kind a listing reads for a district: every LSOA of the
/// largest district (Birmingham has about 640 of each vintage) with room to spare.
pub const AREAS_READ_WHOLE: i64 = 5_000;

pg_row! {
    /// An official area as listed, with the LSOAs within it and, for an LSOA, its counterparts
    /// of the other vintage (`code:change`).
    pub struct OfficialAreaRow {
        pub kind: String,
        pub vintage: i32,
        pub code: String,
        pub name: String,
        pub district: Option<String>,
        pub has_boundary: bool,
        pub lsoas: Vec<String>,
        pub counterparts: Vec<String>,
    }
}

/// A district's official areas of a kind (and of a vintage, when given), by vintage and code:
/// one statement, at most `AREAS_READ_WHOLE` rows.
pub async fn official_areas<C: ConnectionTrait>(
    conn: &C,
    district: &str,
    kind: &str,
    vintage: Option<i32>,
) -> AppResult<Vec<OfficialAreaRow>> {
    fetch_all(
        conn,
        "SELECT g.kind, g.vintage::int4 AS vintage, g.code, g.name, g.district, \
                g.boundary IS NOT NULL AS has_boundary, \
                ARRAY(SELECT m.lsoa FROM geo_memberships m WHERE m.parent_kind = g.kind \
                      AND m.parent_vintage = g.vintage AND m.parent = g.code ORDER BY m.lsoa) AS lsoas, \
                ARRAY(SELECT CASE WHEN g.vintage = 2011 THEN c.lsoa21 ELSE c.lsoa11 END || ':' || c.change \
                      FROM geo_lsoa_changes c WHERE g.kind = 'lsoa' \
                      AND ((g.vintage = 2011 AND c.lsoa11 = g.code) OR (g.vintage = 2021 AND c.lsoa21 = g.code)) \
                      ORDER BY 1) AS counterparts \
         FROM geo_areas g \
         WHERE g.district = $1 AND g.kind = $2 AND ($3::int4 IS NULL OR g.vintage = $3) \
         ORDER BY g.vintage, g.code LIMIT $4",
        vec![
            district.to_owned().into(),
            kind.to_owned().into(),
            vintage.into(),
            AREAS_READ_WHOLE.into(),
        ],
    )
    .await
}

pg_row! {
    struct Held {
        held: bool,
    }
}

/// Whether a district's LSOAs with their boundaries are held (the demo's geography is then
/// not imported again at start).
pub async fn holds_district<C: ConnectionTrait>(conn: &C, district: &str) -> AppResult<bool> {
    let rows: Vec<Held> = fetch_all(
        conn,
        "SELECT EXISTS (SELECT 1 FROM geo_areas WHERE district = $1 AND kind = 'lsoa' \
         AND boundary IS NOT NULL) AS held",
        vec![district.to_owned().into()],
    )
    .await?;
    Ok(rows.first().is_some_and(|r| r.held))
}

/// A population (`value`, residents) or deprivation figure (`value` the IMD's rank, with its
/// decile) of an LSOA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsoaFigure {
    pub lsoa: String,
    pub value: i64,
    pub decile: Option<i16>,
}

/// Where LSOA figures are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureTable {
    Population,
    Deprivation,
}

/// Records populations of a year, or deprivation of an edition, by LSOA, replacing what an
/// earlier import said of the same LSOA and year.
pub async fn upsert_figures<C: ConnectionTrait>(
    conn: &C,
    table: FigureTable,
    lsoa_vintage: i32,
    year: i32,
    rows: &[LsoaFigure],
    source: &str,
) -> AppResult<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let sql = match table {
        FigureTable::Population => {
            "INSERT INTO geo_populations (lsoa, lsoa_vintage, year, population, source) \
             SELECT t.lsoa, $2, $3, t.value, $5 FROM unnest($1::text[], $4::int8[]) AS t(lsoa, value) \
             ON CONFLICT (lsoa_vintage, lsoa, year) DO UPDATE SET population = excluded.population, \
                 source = excluded.source"
        }
        FigureTable::Deprivation => {
            "INSERT INTO geo_deprivation (lsoa, lsoa_vintage, edition, imd_rank, imd_decile, source) \
             SELECT t.lsoa, $2, $3, t.value, t.decile, $5 \
             FROM unnest($1::text[], $4::int8[], $6::int2[]) AS t(lsoa, value, decile) \
             ON CONFLICT (lsoa_vintage, lsoa, edition) DO UPDATE SET imd_rank = excluded.imd_rank, \
                 imd_decile = excluded.imd_decile, source = excluded.source"
        }
    };
    let mut values = vec![
        rows.iter()
            .map(|r| r.lsoa.clone())
            .collect::<Vec<String>>()
            .into(),
        lsoa_vintage.into(),
        year.into(),
        rows.iter().map(|r| r.value).collect::<Vec<i64>>().into(),
        source.to_owned().into(),
    ];
    if table == FigureTable::Deprivation {
        values.push(
            rows.iter()
                .map(|r| r.decile.unwrap_or(0))
                .collect::<Vec<i16>>()
                .into(),
        );
    }
    execute(conn, sql, values, &[]).await
}

/// Whether populations are held for a district's LSOAs (the demo's are then not imported
/// again at start).
pub async fn holds_populations<C: ConnectionTrait>(conn: &C, district: &str) -> AppResult<bool> {
    let rows: Vec<Held> = fetch_all(
        conn,
        "SELECT EXISTS (SELECT 1 FROM geo_populations p JOIN geo_areas g ON g.kind = 'lsoa' \
         AND g.vintage = p.lsoa_vintage AND g.code = p.lsoa WHERE g.district = $1) AS held",
        vec![district.to_owned().into()],
    )
    .await?;
    Ok(rows.first().is_some_and(|r| r.held))
}

pg_row! {
    /// An official area and one LSOA within it (an LSOA is within itself), with the LSOA's
    /// vintage; none for an area no lookup gives LSOAs.
    pub struct AreaLsoa {
        pub area: String,
        pub name: String,
        pub lsoa: Option<String>,
        pub lsoa_vintage: Option<i32>,
    }
}

/// A district's areas of one kind and vintage with the LSOAs within each (an LSOA is its own;
/// a ward or MSOA has those of the ONS's lookup of its vintage), by area code: one statement,
/// bounded like `official_areas`.
pub async fn areas_with_lsoas<C: ConnectionTrait>(
    conn: &C,
    district: &str,
    kind: &str,
    vintage: i32,
) -> AppResult<Vec<AreaLsoa>> {
    fetch_all(
        conn,
        "SELECT g.code AS area, g.name, \
                CASE WHEN g.kind = 'lsoa' THEN g.code ELSE m.lsoa END AS lsoa, \
                CASE WHEN g.kind = 'lsoa' THEN g.vintage::int4 ELSE m.lsoa_vintage::int4 END AS lsoa_vintage \
         FROM geo_areas g LEFT JOIN geo_memberships m ON g.kind <> 'lsoa' \
             AND m.parent_kind = g.kind AND m.parent_vintage = g.vintage AND m.parent = g.code \
         WHERE g.district = $1 AND g.kind = $2 AND g.vintage = $3 \
         ORDER BY g.code, 3 LIMIT $4",
        vec![
            district.to_owned().into(),
            kind.to_owned().into(),
            vintage.into(),
            (AREAS_READ_WHOLE * 4).into(),
        ],
    )
    .await
}

pg_row! {
    struct PairRow {
        lsoa11: String,
        lsoa21: String,
    }
}

/// The 2011-to-2021 lookup's rows that name any of these codes (on either side), and which of
/// the codes are LSOAs of `vintage` held anywhere.
pub async fn lookup_of<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
    vintage: i32,
) -> AppResult<(Vec<crate::domain::geography::Pair>, Vec<String>)> {
    let pairs: Vec<PairRow> = fetch_all(
        conn,
        "SELECT lsoa11, lsoa21 FROM geo_lsoa_changes WHERE lsoa11 = ANY($1) \
         UNION SELECT lsoa11, lsoa21 FROM geo_lsoa_changes WHERE lsoa21 = ANY($1)",
        vec![codes.to_vec().into()],
    )
    .await?;
    let known: Vec<Code> = fetch_all(
        conn,
        "SELECT code FROM geo_areas WHERE kind = 'lsoa' AND vintage = $2 AND code = ANY($1)",
        vec![codes.to_vec().into(), vintage.into()],
    )
    .await?;
    Ok((
        pairs
            .into_iter()
            .map(|p| crate::domain::geography::Pair {
                lsoa11: p.lsoa11,
                lsoa21: p.lsoa21,
            })
            .collect(),
        known.into_iter().map(|c| c.code).collect(),
    ))
}

pg_row! {
    /// An LSOA's figure of a year (population) or edition (deprivation: `value` the rank).
    pub struct FigureRow {
        pub code: String,
        pub value: i64,
        pub decile: Option<i32>,
        pub year: i32,
    }
}

/// Populations of these LSOAs of a vintage, of one year for them all: the latest held at or
/// before `year`, or the earliest held when none is.
pub async fn populations<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
    vintage: i32,
    year: i32,
) -> AppResult<Vec<FigureRow>> {
    fetch_all(
        conn,
        "WITH held AS (SELECT * FROM geo_populations WHERE lsoa_vintage = $2 AND lsoa = ANY($1)), \
         y AS (SELECT coalesce(max(year) FILTER (WHERE year <= $3), min(year)) AS year FROM held) \
         SELECT h.lsoa AS code, h.population::int8 AS value, NULL::int4 AS decile, h.year::int4 AS year \
         FROM held h, y WHERE h.year = y.year",
        vec![codes.to_vec().into(), vintage.into(), year.into()],
    )
    .await
}

/// The Index of Multiple Deprivation of these LSOAs of a vintage, of the latest edition held
/// for that vintage (2019 for 2011 LSOAs, 2025 for 2021 LSOAs, as published).
pub async fn deprivation<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
    vintage: i32,
) -> AppResult<Vec<FigureRow>> {
    fetch_all(
        conn,
        "WITH held AS (SELECT * FROM geo_deprivation WHERE lsoa_vintage = $2 AND lsoa = ANY($1)), \
         e AS (SELECT max(edition) AS edition FROM held) \
         SELECT h.lsoa AS code, h.imd_rank::int8 AS value, h.imd_decile::int4 AS decile, \
                h.edition::int4 AS year \
         FROM held h, e WHERE h.edition = e.edition",
        vec![codes.to_vec().into(), vintage.into()],
    )
    .await
}

pg_row! {
    struct Boundary {
        code: String,
        boundary: serde_json::Value,
    }
}

pg_row! {
    struct CodeVintages {
        code: String,
        vintages: Vec<i16>,
    }
}

/// The vintages each of these LSOA codes is held in (an unchanged LSOA is in both).
pub async fn lsoa_vintages<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> AppResult<Vec<(String, Vec<i32>)>> {
    let rows: Vec<CodeVintages> = fetch_all(
        conn,
        "SELECT code, array_agg(vintage ORDER BY vintage) AS vintages FROM geo_areas \
         WHERE kind = 'lsoa' AND code = ANY($1) GROUP BY code",
        vec![codes.to_vec().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.code, r.vintages.into_iter().map(i32::from).collect()))
        .collect())
}

/// The boundaries of these areas of a kind: each code's of `vintage` where held, else of the
/// nearest vintage that has one (the wards of a 2024 lookup are drawn by the boundaries of
/// 2025, which carry the same codes).
pub async fn boundaries_of<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    vintage: i32,
    codes: &[String],
) -> AppResult<Vec<(String, serde_json::Value)>> {
    let rows: Vec<Boundary> = fetch_all(
        conn,
        "SELECT DISTINCT ON (code) code, boundary FROM geo_areas \
         WHERE kind = $1 AND code = ANY($2) AND boundary IS NOT NULL \
         ORDER BY code, abs(vintage - $3), vintage DESC",
        vec![
            kind.to_owned().into(),
            codes.to_vec().into(),
            vintage.into(),
        ],
    )
    .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.boundary)).collect())
}

pg_row! {
    struct Digest {
        code: String,
        digest: String,
    }
}

/// The digests of the boundaries `boundaries_of` would give for these codes (the same
/// choice of vintage), so that a simplified copy can be kept by its content.
pub async fn boundary_digests<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    vintage: i32,
    codes: &[String],
) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<Digest> = fetch_all(
        conn,
        "SELECT DISTINCT ON (code) code, boundary_digest AS digest FROM geo_areas \
         WHERE kind = $1 AND code = ANY($2) AND boundary IS NOT NULL \
         ORDER BY code, abs(vintage - $3), vintage DESC",
        vec![
            kind.to_owned().into(),
            codes.to_vec().into(),
            vintage.into(),
        ],
    )
    .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.digest)).collect())
}
