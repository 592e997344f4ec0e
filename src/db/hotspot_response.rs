//! Hotspot response (issue 30, item 5): designated hotspots and the weekly response to them.

use crate::pg_row;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{fetch_all, fetch_optional, write_returning};
use crate::error::{AppError, AppResult};

pg_row! {
    #[derive(Debug, Clone)]
    pub struct DesignationRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub name: String,
        pub lsoas: Vec<String>,
        pub comparison_lsoas: Vec<String>,
        pub starts_on: NaiveDate,
        pub ends_on: NaiveDate,
        pub designated_by: String,
        pub created_at: DateTime<Utc>,
    }
}

const DESIGNATION: &str = "SELECT d.id, d.partnership_id, d.name, d.lsoas, d.comparison_lsoas, \
    d.starts_on, d.ends_on, a.slug AS designated_by, d.created_at \
    FROM hotspot_designations d JOIN agencies a ON a.id = d.designated_by";

/// What a designation is made of.
pub struct NewDesignation<'a> {
    pub partnership: Uuid,
    pub name: &'a str,
    pub lsoas: &'a [String],
    pub comparison: &'a [String],
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub agency: Uuid,
    pub sub: &'a str,
}

/// Designates a hotspot. The same name and start in a partnership twice is CONFLICT.
pub async fn insert_designation<C: ConnectionTrait>(
    conn: &C,
    d: &NewDesignation<'_>,
) -> AppResult<DesignationRow> {
    pg_row! {
        struct Id {
            id: Uuid,
        }
    }
    let id = write_returning::<Id, _>(
        conn,
        "INSERT INTO hotspot_designations (id, partnership_id, name, lsoas, comparison_lsoas, \
           starts_on, ends_on, designated_by, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        vec![
            Uuid::new_v4().into(),
            d.partnership.into(),
            d.name.into(),
            d.lsoas.to_vec().into(),
            d.comparison.to_vec().into(),
            d.starts_on.into(),
            d.ends_on.into(),
            d.agency.into(),
            d.sub.into(),
        ],
        &[(
            "hotspot_designations_partnership_id_name_starts_on_key",
            "the partnership already has a hotspot of this name starting that day",
        )],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned nothing")))?
    .id;
    designation(conn, &[d.partnership], id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("designation just made is missing")))
}

/// A designation of a partnership in scope.
pub async fn designation<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<Option<DesignationRow>> {
    fetch_optional(
        conn,
        &format!("{DESIGNATION} WHERE d.id = $1 AND d.partnership_id = ANY($2)"),
        vec![id.into(), scope.to_vec().into()],
    )
    .await
}

/// A partnership's designations, earliest start first; only those in force on `on` when given.
pub async fn designations<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    on: Option<NaiveDate>,
) -> AppResult<Vec<DesignationRow>> {
    fetch_all(
        conn,
        &format!(
            "{DESIGNATION} WHERE d.partnership_id = $1 \
             AND ($2::date IS NULL OR $2::date BETWEEN d.starts_on AND d.ends_on) \
             ORDER BY d.starts_on, d.name, d.id"
        ),
        vec![partnership.into(), on.into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct ResponseRow {
        pub designation_id: Uuid,
        pub week_starting: NaiveDate,
        pub agency: String,
        pub patrol_hours: f64,
        pub visible_presence_hours: f64,
        pub powers: serde_json::Value,
        pub partners: Vec<String>,
        pub recorded_at: DateTime<Utc>,
    }
}

const RESPONSE: &str = "SELECT r.designation_id, r.week_starting, a.slug AS agency, r.patrol_hours::float8 AS patrol_hours, \
    r.visible_presence_hours::float8 AS visible_presence_hours, r.powers, \
    ARRAY(SELECT p.slug FROM agencies p WHERE p.id = ANY(r.partners) ORDER BY p.slug) AS partners, \
    r.recorded_at FROM hotspot_responses r JOIN agencies a ON a.id = r.agency_id";

/// An agency's response to a hotspot in one week.
pub struct NewResponse<'a> {
    pub designation: &'a DesignationRow,
    pub agency: Uuid,
    pub week_starting: NaiveDate,
    pub patrol_hours: f64,
    pub visible_presence_hours: f64,
    pub powers: serde_json::Value,
    pub partners: &'a [Uuid],
    pub sub: &'a str,
}

/// Records (or corrects) an agency's response in a week: one row per hotspot, agency and
/// week, so sending it again changes nothing. Returns the row and whether it changed.
pub async fn upsert_response<C: ConnectionTrait>(
    conn: &C,
    r: &NewResponse<'_>,
) -> AppResult<(ResponseRow, bool)> {
    pg_row! {
        struct Changed {
            changed: bool,
        }
    }
    let changed = write_returning::<Changed, _>(
        conn,
        "INSERT INTO hotspot_responses AS h (partnership_id, designation_id, agency_id, week_starting, \
           patrol_hours, visible_presence_hours, powers, partners, recorded_by) \
         VALUES ($1, $2, $3, $4, round($5::float8::numeric, 2), round($6::float8::numeric, 2), $7, $8, $9) \
         ON CONFLICT (designation_id, agency_id, week_starting) DO UPDATE SET \
           patrol_hours = EXCLUDED.patrol_hours, visible_presence_hours = EXCLUDED.visible_presence_hours, \
           powers = EXCLUDED.powers, partners = EXCLUDED.partners, recorded_by = EXCLUDED.recorded_by, \
           recorded_at = now() \
         WHERE (h.patrol_hours, h.visible_presence_hours, h.powers, h.partners) IS DISTINCT FROM \
           (EXCLUDED.patrol_hours, EXCLUDED.visible_presence_hours, EXCLUDED.powers, EXCLUDED.partners) \
         RETURNING true AS changed",
        vec![
            r.designation.partnership_id.into(),
            r.designation.id.into(),
            r.agency.into(),
            r.week_starting.into(),
            r.patrol_hours.into(),
            r.visible_presence_hours.into(),
            r.powers.clone().into(),
            r.partners.to_vec().into(),
            r.sub.into(),
        ],
        &[],
    )
    .await?
    .is_some_and(|c| c.changed);
    let row: Option<ResponseRow> = fetch_optional(
        conn,
        &format!(
            "{RESPONSE} WHERE r.designation_id = $1 AND r.agency_id = $2 AND r.week_starting = $3"
        ),
        vec![
            r.designation.id.into(),
            r.agency.into(),
            r.week_starting.into(),
        ],
    )
    .await?;
    let row = row
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("response just recorded is missing")))?;
    Ok((row, changed))
}

/// Every agency's response to these hotspots, week by week, then by agency.
pub async fn responses<C: ConnectionTrait>(
    conn: &C,
    designations: &[Uuid],
) -> AppResult<Vec<ResponseRow>> {
    fetch_all(
        conn,
        &format!(
            "{RESPONSE} WHERE r.designation_id = ANY($1) \
             ORDER BY r.designation_id, r.week_starting, a.slug"
        ),
        vec![designations.to_vec().into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct PlaceCount {
        pub month: NaiveDate,
        pub k: i32,
        pub hot: bool,
        pub comparison: bool,
        pub asb: bool,
        pub n: i64,
    }
}

/// A partnership's records in each window (`k` its index; windows may not overlap) by month,
/// whether their LSOA is in the hotspot or the comparison area, and whether they are ASB.
pub async fn place_counts<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    hot: &[String],
    comparison: &[String],
    windows: &[(NaiveDate, NaiveDate)],
) -> AppResult<Vec<PlaceCount>> {
    let (Some(first), Some(last)) = (
        windows.iter().map(|w| w.0).min(),
        windows.iter().map(|w| w.1).max(),
    ) else {
        return Ok(Vec::new());
    };
    let mut values: Vec<sea_orm::Value> = vec![
        partnership.into(),
        first.into(),
        last.into(),
        hot.to_vec().into(),
        comparison.to_vec().into(),
        crate::domain::case::ASB_CATEGORY.into(),
    ];
    let mut case = String::from("CASE");
    for (k, (from, to)) in windows.iter().enumerate() {
        values.push((*from).into());
        values.push((*to).into());
        let n = values.len();
        case.push_str(&format!(
            " WHEN i.occurred_on BETWEEN ${} AND ${n} THEN {k}",
            n - 1
        ));
    }
    case.push_str(" END");
    fetch_all(
        conn,
        &format!(
            "SELECT month, k, hot, comparison, asb, n FROM ( \
               SELECT date_trunc('month', i.occurred_on)::date AS month, ({case})::int AS k, \
                 coalesce(i.lsoa = ANY($4), false) AS hot, coalesce(i.lsoa = ANY($5), false) AS comparison, \
                 i.category = $6 AS asb, count(*) AS n \
               FROM incidents i WHERE i.partnership_id = $1 AND i.status = 'ACTIVE' \
                 AND i.occurred_on BETWEEN $2 AND $3 GROUP BY 1, 2, 3, 4, 5) c \
             WHERE k IS NOT NULL ORDER BY 1, 2"
        ),
        values,
    )
    .await
}
