//! `node(id)`: which kind of record an id names, among those in the caller's partnerships.
//! Every id csphub gives out is a random UUID, unique across its tables, so the id alone is
//! the global id Relay asks for.

use crate::pg_row;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::fetch_optional;
use crate::error::AppResult;

pg_row! {
    struct Found {
        kind: String,
    }
}

/// The kind of record `id` is (`plan`, `action`, `incident`, `case`, `report_submission`)
/// when it is one of a partnership in `scope`; a case only when row-level security shows it
/// to the request. One statement, each table by its primary key.
pub async fn kind<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<Option<String>> {
    let found: Option<Found> = fetch_optional(
        conn,
        "SELECT kind FROM (
           SELECT 'plan' AS kind FROM plans WHERE id = $1 AND partnership_id = ANY($2)
           UNION ALL SELECT 'action' FROM actions WHERE id = $1 AND partnership_id = ANY($2)
           UNION ALL SELECT 'incident' FROM incidents WHERE id = $1 AND partnership_id = ANY($2)
           UNION ALL SELECT 'report_submission' FROM report_submissions
             WHERE id = $1 AND partnership_id = ANY($2)
           UNION ALL SELECT 'case' FROM cases WHERE id = $1 AND partnership_id = ANY($2)
         ) k LIMIT 1",
        vec![id.into(), scope.to_vec().into()],
    )
    .await?;
    Ok(found.map(|f| f.kind))
}
