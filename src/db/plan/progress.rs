//! Quarterly progress: the records of actions, each action's latest status, appending a record, and
//! the rows of the progress report.

use super::*;

pub async fn progress_of_actions<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> AppResult<Vec<ProgressRow>> {
    let sql = format!(
        "SELECT {PROGRESS_COLUMNS} FROM progress_records r WHERE r.action_id = ANY($1) \
         ORDER BY r.action_id, r.quarter, r.recorded_at"
    );
    fetch_all(conn, &sql, vec![ids.to_vec().into()]).await
}

/// Each action's status now: that of its latest record that no correction replaced (by
/// quarter, then time). Actions without one are not in the list.
pub async fn latest_status_of_actions<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> AppResult<Vec<LatestStatusRow>> {
    let sql = latest_status("r.action_id = ANY($1)");
    fetch_all(conn, &sql, vec![ids.to_vec().into()]).await
}

pg_row! {
    #[derive(Debug, Clone, serde::Deserialize)]
    pub struct LatestStatusRow {
        pub action_id: Uuid,
        pub status: String,
    }
}

/// The latest standing record's status per action among the records `which` selects (a
/// condition on `r`). One pass over the records with an anti-join, not a subquery per action:
/// a generic plan for a prepared statement, made once statistics say the tables are small,
/// would otherwise scan every record once for every record.
pub(super) fn latest_status(which: &str) -> String {
    format!(
        "SELECT DISTINCT ON (r.action_id) r.action_id, r.status FROM progress_records r \
         LEFT JOIN progress_records s ON s.supersedes_id = r.id \
         WHERE s.id IS NULL AND {which} \
         ORDER BY r.action_id, r.quarter DESC, r.recorded_at DESC"
    )
}

pub async fn progress_by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<ProgressRow> {
    let sql = format!("SELECT {PROGRESS_COLUMNS} FROM progress_records r WHERE r.id = $1");
    fetch_optional(conn, &sql, vec![id.into()])
        .await?
        .ok_or_else(|| AppError::not_found("progress record"))
}

/// A progress record as stored.
#[derive(Debug, Clone)]
pub struct ProgressEntry<'a> {
    pub action_id: Uuid,
    pub quarter: String,
    pub status: &'a str,
    pub commentary: Option<String>,
    pub percent_complete: Option<i32>,
    pub by_sub: &'a str,
    pub by_agency: &'a str,
}

pub(super) const CONCURRENT_PROGRESS: &str = "another progress record for this quarter was recorded at the same moment: reload and try again";

/// Appends a progress record; it supersedes the current record for the same quarter, if any.
/// The caller holds the action's row lock, so two corrections cannot both supersede one record
/// (and the unique keys would refuse it if they tried).
pub async fn append_progress<C: ConnectionTrait>(
    conn: &C,
    entry: ProgressEntry<'_>,
) -> AppResult<Uuid> {
    let row: Option<IdRow> = write_returning(
        conn,
        "INSERT INTO progress_records (action_id, quarter, status, commentary, percent_complete, \
            supersedes_id, recorded_by_sub, recorded_by_agency) \
         VALUES ($1, $2, $3, $4, $5, \
            (SELECT r.id FROM progress_records r WHERE r.action_id = $1 AND r.quarter = $2 \
             AND NOT EXISTS (SELECT 1 FROM progress_records s WHERE s.supersedes_id = r.id)), \
            $6, $7) RETURNING id",
        vec![
            entry.action_id.into(),
            entry.quarter.into(),
            entry.status.into(),
            entry.commentary.into(),
            entry.percent_complete.into(),
            entry.by_sub.into(),
            entry.by_agency.into(),
        ],
        &[
            ("progress_first_per_quarter", CONCURRENT_PROGRESS),
            ("progress_records_supersedes_id_key", CONCURRENT_PROGRESS),
        ],
    )
    .await?;
    row.map(|r| r.id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned no progress id")))
}

/// Every action of the plan with its latest current progress record at or before `quarter`.
pub async fn report_rows<C: ConnectionTrait>(
    conn: &C,
    plan_id: Uuid,
    quarter: &str,
) -> AppResult<Vec<ReportRow>> {
    let sql = format!(
        "SELECT a.id, a.priority_id, a.ref AS action_ref, a.title, a.added_in_quarter, \
            a.removal_quarter, a.removal_reason, a.removal_decided_by, a.removal_decided_on, \
            lp.status, lp.quarter AS status_quarter, lp.commentary, a.target_date, \
            (SELECT slug FROM agencies WHERE id = a.lead_agency_id) AS lead_agency \
         FROM actions a \
         LEFT JOIN ( \
            SELECT DISTINCT ON (r.action_id) r.action_id, r.status, r.quarter, r.commentary \
            FROM progress_records r JOIN actions pa ON pa.id = r.action_id AND pa.plan_id = $1 \
            LEFT JOIN progress_records s ON s.supersedes_id = r.id \
            WHERE s.id IS NULL AND r.quarter <= $2 \
            ORDER BY r.action_id, r.quarter DESC, r.recorded_at DESC) lp ON lp.action_id = a.id \
         WHERE a.plan_id = $1 ORDER BY {ACTION_ORDER}"
    );
    fetch_all(conn, &sql, vec![plan_id.into(), quarter.into()]).await
}
