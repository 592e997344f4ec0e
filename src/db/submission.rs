//! Submitted reports: stored once, never changed.

use crate::pg_row;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{fetch_all, fetch_optional, write_returning};
use crate::error::{AppError, AppResult};

pg_row! {
    #[derive(Debug, Clone)]
    pub struct SubmissionRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub kind: String,
        pub parameters: serde_json::Value,
        pub content: serde_json::Value,
        pub content_hash: String,
        pub note: String,
        pub submitted_by_sub: String,
        pub submitted_by_agency: String,
        pub submitted_at: DateTime<Utc>,
    }
}

const COLUMNS: &str = "id, partnership_id, kind, parameters, content, content_hash, note, submitted_by_sub, \
    submitted_by_agency, submitted_at";

pub struct NewSubmission<'a> {
    pub partnership_id: Uuid,
    pub kind: &'a str,
    pub parameters: serde_json::Value,
    pub content: serde_json::Value,
    pub content_hash: String,
    pub note: &'a str,
    pub sub: &'a str,
    pub agency: &'a str,
}

pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    s: NewSubmission<'_>,
) -> AppResult<SubmissionRow> {
    write_returning(
        conn,
        &format!(
            "INSERT INTO report_submissions (partnership_id, kind, parameters, content, content_hash, note, \
               submitted_by_sub, submitted_by_agency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        ),
        vec![
            s.partnership_id.into(),
            s.kind.into(),
            s.parameters.into(),
            s.content.into(),
            s.content_hash.into(),
            s.note.into(),
            s.sub.into(),
            s.agency.into(),
        ],
        &[],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned nothing")))
}

/// A submission of a partnership in scope, of one of `kinds`, or NOT_FOUND.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    kinds: &[&str],
    id: Uuid,
) -> AppResult<SubmissionRow> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    fetch_optional(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM report_submissions WHERE id = $1 AND partnership_id = ANY($2) AND kind = ANY($3)"
        ),
        vec![id.into(), scope.to_vec().into(), kinds.into()],
    )
    .await?
    .ok_or_else(|| AppError::not_found("report submission"))
}

/// A page of a partnership's submissions of some kinds, newest first (submitted_at, id), as
/// `keys` place it.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    kinds: &[&str],
    keys: &super::page::Keyset<DateTime<Utc>, Uuid>,
) -> AppResult<Vec<SubmissionRow>> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    let mut values = vec![partnership.into(), kinds.into()];
    let page = keys.clauses(&mut values, ["submitted_at", "id"], true);
    fetch_all(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM report_submissions WHERE partnership_id = $1 AND kind = ANY($2){page}"
        ),
        values,
    )
    .await
}

pg_row! {
    struct N {
        n: i64,
    }
}

pub async fn count<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    kinds: &[&str],
) -> AppResult<i64> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    let n: Option<N> = fetch_optional(
        conn,
        "SELECT count(*) AS n FROM report_submissions WHERE partnership_id = $1 AND kind = ANY($2)",
        vec![partnership.into(), kinds.into()],
    )
    .await?;
    Ok(n.map_or(0, |n| n.n))
}
