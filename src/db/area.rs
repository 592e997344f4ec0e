//! Areas (wards and neighbourhoods) a partnership registers for its incidents.

use crate::pg_row;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{execute, fetch_all, fetch_optional, write_returning};
use crate::error::{AppError, AppResult};

pg_row! {
    #[derive(Debug, Clone)]
    pub struct AreaRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub code: String,
        pub name: String,
        pub kind: String,
        pub postcode_districts: Vec<String>,
        /// The LSOAs the area is made of, in order.
        pub lsoas: Vec<String>,
    }
}

const COLUMNS: &str = "id, partnership_id, code, name, kind, postcode_districts, \
    ARRAY(SELECT l.lsoa FROM area_lsoas l WHERE l.area_id = areas.id ORDER BY l.lsoa) AS lsoas";

pub async fn areas_in<C: ConnectionTrait>(
    conn: &C,
    partnerships: &[Uuid],
) -> AppResult<Vec<AreaRow>> {
    fetch_all(
        conn,
        &format!("SELECT {COLUMNS} FROM areas WHERE partnership_id = ANY($1) ORDER BY partnership_id, code"),
        vec![partnerships.to_vec().into()],
    )
    .await
}

/// The areas with these ids, of the partnerships in scope only.
pub async fn areas_by_id<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
    scope: &[Uuid],
) -> AppResult<Vec<AreaRow>> {
    fetch_all(
        conn,
        &format!("SELECT {COLUMNS} FROM areas WHERE id = ANY($1) AND partnership_id = ANY($2)"),
        vec![ids.to_vec().into(), scope.to_vec().into()],
    )
    .await
}

/// The areas with these (partnership, code) pairs, of the partnerships in scope only.
pub async fn areas_by_code<C: ConnectionTrait>(
    conn: &C,
    pairs: &[(Uuid, String)],
    scope: &[Uuid],
) -> AppResult<Vec<AreaRow>> {
    let partnerships: Vec<Uuid> = pairs.iter().map(|p| p.0).collect();
    let codes: Vec<String> = pairs.iter().map(|p| p.1.clone()).collect();
    fetch_all(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM areas WHERE (partnership_id, code) IN (SELECT * FROM unnest($1::uuid[], $2::text[])) \
             AND partnership_id = ANY($3)"
        ),
        vec![partnerships.into(), codes.into(), scope.to_vec().into()],
    )
    .await
}

pub async fn area_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<AreaRow> {
    fetch_optional(
        conn,
        &format!("SELECT {COLUMNS} FROM areas WHERE id = $1 AND partnership_id = ANY($2)"),
        vec![id.into(), scope.to_vec().into()],
    )
    .await?
    .ok_or_else(|| AppError::not_found("area"))
}

const CODE_TAKEN: (&str, &str) = (
    "areas_partnership_id_code_key",
    "the partnership already has an area with that code",
);

/// Inserts an area, or with `upsert` updates the one with the same code.
pub async fn save_area<C: ConnectionTrait>(
    conn: &C,
    area: &AreaRow,
    upsert: bool,
) -> AppResult<AreaRow> {
    let sql = format!(
        "INSERT INTO areas (partnership_id, code, name, kind, postcode_districts) VALUES ($1, $2, $3, $4, $5) \
         {} RETURNING {COLUMNS}",
        if upsert {
            "ON CONFLICT (partnership_id, code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, \
             postcode_districts = EXCLUDED.postcode_districts, updated_at = now()"
        } else {
            ""
        }
    );
    write_returning(
        conn,
        &sql,
        vec![
            area.partnership_id.into(),
            area.code.clone().into(),
            area.name.clone().into(),
            area.kind.clone().into(),
            area.postcode_districts.clone().into(),
        ],
        &[CODE_TAKEN],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("area insert returned nothing")))
}

pub async fn update_area<C: ConnectionTrait>(conn: &C, area: &AreaRow) -> AppResult<()> {
    execute(
        conn,
        "UPDATE areas SET name = $2, kind = $3, postcode_districts = $4, updated_at = now() WHERE id = $1",
        vec![
            area.id.into(),
            area.name.clone().into(),
            area.kind.clone().into(),
            area.postcode_districts.clone().into(),
        ],
        &[],
    )
    .await?;
    Ok(())
}

pg_row! {
    struct Holder {
        lsoa: String,
        code: String,
    }
}

/// Makes `lsoas` the area's LSOAs (in place of those it had). An LSOA another area of the
/// partnership lists is refused, naming that area.
pub async fn set_lsoas<C: ConnectionTrait>(
    conn: &C,
    area: &AreaRow,
    lsoas: &[String],
) -> AppResult<()> {
    let held: Option<Holder> = fetch_optional(
        conn,
        "SELECT l.lsoa, a.code FROM area_lsoas l JOIN areas a ON a.id = l.area_id \
         WHERE l.partnership_id = $1 AND l.lsoa = ANY($2) AND l.area_id <> $3 ORDER BY l.lsoa LIMIT 1",
        vec![
            area.partnership_id.into(),
            lsoas.to_vec().into(),
            area.id.into(),
        ],
    )
    .await?;
    if let Some(h) = held {
        return Err(AppError::BadUserInput(format!(
            "LSOA {} is already in area '{}': an LSOA belongs to one area",
            h.lsoa, h.code
        )));
    }
    execute(
        conn,
        "DELETE FROM area_lsoas WHERE area_id = $1",
        vec![area.id.into()],
        &[],
    )
    .await?;
    execute(
        conn,
        "INSERT INTO area_lsoas (partnership_id, lsoa, area_id) SELECT $1, l, $2 FROM unnest($3::text[]) l",
        vec![
            area.partnership_id.into(),
            area.id.into(),
            lsoas.to_vec().into(),
        ],
        &[(
            "area_lsoas_pkey",
            "an LSOA is already in another area of the partnership",
        )],
    )
    .await?;
    Ok(())
}

/// Whether a partnership has an area with this code.
pub async fn exists<C: ConnectionTrait>(
    conn: &C,
    partnership_id: Uuid,
    code: &str,
) -> AppResult<bool> {
    pg_row! {
        struct One {
            #[allow(dead_code)]
            one: i32,
        }
    }
    Ok(fetch_optional::<One, _>(
        conn,
        "SELECT 1 AS one FROM areas WHERE partnership_id = $1 AND code = $2",
        vec![partnership_id.into(), code.to_owned().into()],
    )
    .await?
    .is_some())
}
