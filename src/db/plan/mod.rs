//! Queries for the action plan: plans, their lifecycle events, priorities, actions and progress.
//! Every lookup by id takes the caller's scope (partnership ids), so a record outside it is
//! indistinguishable from one that does not exist.
//!
//! Quarterly progress records and the rows of the progress report are in `progress`.

mod progress;

pub use progress::*;

use crate::pg_row;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use uuid::Uuid;

use super::{execute, fetch_all, fetch_optional, write_returning};
use crate::error::{AppError, AppResult};

const PLAN_COLUMNS: &str = "p.id, p.partnership_id, pa.slug AS partnership_slug, p.financial_year, \
    p.title, p.status, p.draft_number, p.signed_off_by, p.signed_off_on, p.ratified_meeting, \
    p.ratified_on, p.closed_at, p.created_at";

const ACTION_COLUMNS: &str = "a.id, a.plan_id, a.priority_id, a.ref AS action_ref, a.title, \
    a.description, a.measure, a.target_date, a.lead_agency_id, a.lead_officer, a.added_in_quarter, \
    a.version, a.removal_reason, a.removal_decided_by, a.removal_decided_on, a.removal_quarter, \
    a.removed_by_sub, a.removed_at, a.carried_over_from_id";

/// `ActionRow`'s fields in its order, for a JSON array per action (`plan_tree`).
const ACTION_FIELDS: &str = "a.id, a.plan_id, a.priority_id, a.ref, a.title, a.description, \
    a.measure, a.target_date, a.lead_agency_id, a.lead_officer, a.added_in_quarter, a.version, \
    a.removal_reason, a.removal_decided_by, a.removal_decided_on, a.removal_quarter, \
    a.removed_by_sub, a.removed_at, a.carried_over_from_id";

/// Orders actions by their numbered ref (2.10 after 2.9).
const ACTION_ORDER: &str = "split_part(a.ref, '.', 1)::int, split_part(a.ref, '.', 2)::int";

const PROGRESS_COLUMNS: &str = "r.id, r.action_id, r.quarter, r.status, r.commentary, \
    r.percent_complete, r.supersedes_id, r.recorded_by_sub, r.recorded_by_agency, r.recorded_at, \
    EXISTS (SELECT 1 FROM progress_records s WHERE s.supersedes_id = r.id) AS superseded";

pg_row! {
    #[derive(Debug, Clone)]
    pub struct PlanRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub partnership_slug: String,
        pub financial_year: String,
        pub title: String,
        pub status: String,
        pub draft_number: i32,
        pub signed_off_by: Option<String>,
        pub signed_off_on: Option<NaiveDate>,
        pub ratified_meeting: Option<String>,
        pub ratified_on: Option<NaiveDate>,
        pub closed_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
    }
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct PlanEventRow {
        pub id: i64,
        pub plan_id: Uuid,
        pub step: String,
        pub draft_number: i32,
        pub actor_sub: String,
        pub actor_agency: String,
        pub detail: Option<String>,
        pub at: DateTime<Utc>,
    }
}

pg_row! {
    #[derive(Debug, Clone, serde::Deserialize)]
    pub struct PriorityRow {
        pub id: Uuid,
        pub plan_id: Uuid,
        pub position: i32,
        pub title: String,
        pub description: String,
    }
}

pg_row! {
    #[derive(Debug, Clone, serde::Deserialize)]
    pub struct ActionRow {
        pub id: Uuid,
        pub plan_id: Uuid,
        pub priority_id: Uuid,
        pub action_ref: String,
        pub title: String,
        pub description: String,
        pub measure: String,
        pub target_date: Option<NaiveDate>,
        pub lead_agency_id: Uuid,
        pub lead_officer: String,
        pub added_in_quarter: Option<String>,
        pub version: i32,
        pub removal_reason: Option<String>,
        pub removal_decided_by: Option<String>,
        pub removal_decided_on: Option<NaiveDate>,
        pub removal_quarter: Option<String>,
        pub removed_by_sub: Option<String>,
        pub removed_at: Option<DateTime<Utc>>,
        pub carried_over_from_id: Option<Uuid>,
    }
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct ProgressRow {
        pub id: Uuid,
        pub action_id: Uuid,
        pub quarter: String,
        pub status: String,
        pub commentary: Option<String>,
        pub percent_complete: Option<i16>,
        pub supersedes_id: Option<Uuid>,
        pub recorded_by_sub: String,
        pub recorded_by_agency: String,
        pub recorded_at: DateTime<Utc>,
        pub superseded: bool,
    }
}

pg_row! {
    /// One action's standing inputs for a progress report.
    #[derive(Debug, Clone)]
    pub struct ReportRow {
        pub id: Uuid,
        pub priority_id: Uuid,
        pub action_ref: String,
        pub title: String,
        pub added_in_quarter: Option<String>,
        pub removal_quarter: Option<String>,
        pub removal_reason: Option<String>,
        pub removal_decided_by: Option<String>,
        pub removal_decided_on: Option<NaiveDate>,
        pub status: Option<String>,
        pub status_quarter: Option<String>,
        pub commentary: Option<String>,
        pub target_date: Option<NaiveDate>,
        pub lead_agency: String,
    }
}

fn scope_value(scope: &[Uuid]) -> Value {
    scope.to_vec().into()
}

// ---- plans ----

pub async fn list_plans<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    partnership: Option<Uuid>,
    limit: u64,
    offset: u64,
) -> AppResult<Vec<PlanRow>> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM plans p JOIN partnerships pa ON pa.id = p.partnership_id \
         WHERE p.partnership_id = ANY($1) AND ($2::uuid IS NULL OR p.partnership_id = $2) \
         ORDER BY pa.slug, p.financial_year LIMIT $3 OFFSET $4"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    fetch_all(
        conn,
        &sql,
        vec![
            scope_value(scope),
            partnership.into(),
            limit.into(),
            offset.into(),
        ],
    )
    .await
}

/// A plan in scope, optionally locked for update.
pub async fn plan_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
    lock: bool,
) -> AppResult<PlanRow> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM plans p JOIN partnerships pa ON pa.id = p.partnership_id \
         WHERE p.id = $1 AND p.partnership_id = ANY($2){}",
        if lock { " FOR UPDATE OF p" } else { "" }
    );
    fetch_optional(conn, &sql, vec![id.into(), scope_value(scope)])
        .await?
        .ok_or_else(|| AppError::not_found("plan"))
}

/// A plan with everything its page shows, read by one statement.
pub struct PlanTree {
    pub plan: PlanRow,
    /// In position order.
    pub priorities: Vec<PriorityRow>,
    /// In ref order.
    pub actions: Vec<ActionRow>,
    /// The status now of each action that has one (`latest_status_of_actions`).
    pub latest: Vec<LatestStatusRow>,
    /// The actions' lead agencies.
    pub agencies: Vec<super::partnership::AgencyRow>,
}

/// A plan in scope with its priorities, actions, their status now and lead agencies, as
/// one statement: the database builds each list as JSON, so a plan page costs one round trip
/// however many priorities and actions it has. NOT_FOUND as `plan_in_scope`.
pub async fn plan_tree<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<PlanTree> {
    // Each row is a JSON array in the order of its struct's fields (serde reads a struct from
    // an array): no keys to write and read, half the work of JSON objects for the database.
    let latest = latest_status("r.action_id IN (SELECT id FROM actions WHERE plan_id = p.id)");
    let sql = format!(
        "SELECT {PLAN_COLUMNS}, \
           (SELECT coalesce(json_agg(json_build_array(pr.id, pr.plan_id, pr.position, pr.title, \
              pr.description) ORDER BY pr.position), '[]') \
            FROM priorities pr WHERE pr.plan_id = p.id)::text AS priorities_json, \
           (SELECT coalesce(json_agg(json_build_array({ACTION_FIELDS}) ORDER BY {ACTION_ORDER}), '[]') \
            FROM actions a WHERE a.plan_id = p.id)::text AS actions_json, \
           (SELECT coalesce(json_agg(json_build_array(l.action_id, l.status)), '[]') \
            FROM ({latest}) l)::text AS latest_json, \
           (SELECT coalesce(json_agg(json_build_array(g.id, g.slug, g.name, g.kind)), '[]') \
            FROM agencies g WHERE g.id IN (SELECT lead_agency_id FROM actions WHERE plan_id = p.id))::text \
             AS agencies_json \
         FROM plans p JOIN partnerships pa ON pa.id = p.partnership_id \
         WHERE p.id = $1 AND p.partnership_id = ANY($2)"
    );
    let row = conn
        .query_one_raw(super::stmt(&sql, vec![id.into(), scope_value(scope)]))
        .await
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found("plan"))?;
    let plan = PlanRow::from_query_result(&row, "").map_err(AppError::internal)?;
    let list = |column: &str| -> AppResult<String> {
        row.try_get::<String>("", column)
            .map_err(AppError::internal)
    };
    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> AppResult<Vec<T>> {
        serde_json::from_str(json).map_err(AppError::internal)
    }
    Ok(PlanTree {
        plan,
        priorities: parse(&list("priorities_json")?)?,
        actions: parse(&list("actions_json")?)?,
        latest: parse(&list("latest_json")?)?,
        agencies: parse(&list("agencies_json")?)?,
    })
}

pub async fn plans_by_ids<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> AppResult<Vec<PlanRow>> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM plans p JOIN partnerships pa ON pa.id = p.partnership_id \
         WHERE p.id = ANY($1)"
    );
    fetch_all(conn, &sql, vec![ids.to_vec().into()]).await
}

pub async fn plan_for_year<C: ConnectionTrait>(
    conn: &C,
    partnership_id: Uuid,
    financial_year: &str,
) -> AppResult<Option<PlanRow>> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM plans p JOIN partnerships pa ON pa.id = p.partnership_id \
         WHERE p.partnership_id = $1 AND p.financial_year = $2"
    );
    fetch_optional(
        conn,
        &sql,
        vec![partnership_id.into(), financial_year.into()],
    )
    .await
}

pg_row! {
    struct IdRow {
        id: Uuid,
    }
}

pub async fn insert_plan<C: ConnectionTrait>(
    conn: &C,
    partnership_id: Uuid,
    financial_year: &str,
    title: &str,
) -> AppResult<Uuid> {
    let row: Option<IdRow> = write_returning(
        conn,
        "INSERT INTO plans (partnership_id, financial_year, title) VALUES ($1, $2, $3) RETURNING id",
        vec![partnership_id.into(), financial_year.into(), title.into()],
        &[(
            "plans_partnership_id_financial_year_key",
            "the partnership already has a plan for that financial year",
        )],
    )
    .await?;
    row.map(|r| r.id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned no plan id")))
}

pub async fn update_plan_title<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    title: &str,
) -> AppResult<()> {
    execute(
        conn,
        "UPDATE plans SET title = $2, updated_at = now() WHERE id = $1",
        vec![id.into(), title.into()],
        &[],
    )
    .await?;
    Ok(())
}

/// The fields a lifecycle step sets on the plan.
#[derive(Debug, Default)]
pub struct LifecycleUpdate {
    pub status: &'static str,
    pub bump_draft: bool,
    pub signed_off: Option<(String, NaiveDate)>,
    pub ratified: Option<(String, NaiveDate)>,
    pub close: bool,
}

pub async fn apply_lifecycle<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    update: LifecycleUpdate,
) -> AppResult<()> {
    let (signed_by, signed_on) = update.signed_off.unzip();
    let (meeting, ratified_on) = update.ratified.unzip();
    execute(
        conn,
        "UPDATE plans SET status = $2, \
            draft_number = draft_number + CASE WHEN $3 THEN 1 ELSE 0 END, \
            signed_off_by = COALESCE($4, signed_off_by), signed_off_on = COALESCE($5, signed_off_on), \
            ratified_meeting = COALESCE($6, ratified_meeting), ratified_on = COALESCE($7, ratified_on), \
            closed_at = CASE WHEN $8 THEN now() ELSE closed_at END, updated_at = now() \
         WHERE id = $1",
        vec![
            id.into(),
            update.status.into(),
            update.bump_draft.into(),
            signed_by.into(),
            signed_on.into(),
            meeting.into(),
            ratified_on.into(),
            update.close.into(),
        ],
        &[],
    )
    .await?;
    Ok(())
}

pub async fn insert_event<C: ConnectionTrait>(
    conn: &C,
    plan_id: Uuid,
    step: &str,
    actor_sub: &str,
    actor_agency: &str,
    detail: Option<String>,
) -> AppResult<()> {
    execute(
        conn,
        "INSERT INTO plan_events (plan_id, step, draft_number, actor_sub, actor_agency, detail) \
         SELECT id, $2, draft_number, $3, $4, $5 FROM plans WHERE id = $1",
        vec![
            plan_id.into(),
            step.into(),
            actor_sub.into(),
            actor_agency.into(),
            detail.into(),
        ],
        &[],
    )
    .await?;
    Ok(())
}

pub async fn events_of_plans<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> AppResult<Vec<PlanEventRow>> {
    fetch_all(
        conn,
        "SELECT id, plan_id, step, draft_number, actor_sub, actor_agency, detail, at \
         FROM plan_events WHERE plan_id = ANY($1) ORDER BY plan_id, id",
        vec![ids.to_vec().into()],
    )
    .await
}

// ---- priorities ----

pub async fn priorities_of_plans<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> AppResult<Vec<PriorityRow>> {
    fetch_all(
        conn,
        "SELECT id, plan_id, position, title, description FROM priorities \
         WHERE plan_id = ANY($1) ORDER BY plan_id, position",
        vec![ids.to_vec().into()],
    )
    .await
}

pub async fn priorities_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> AppResult<Vec<PriorityRow>> {
    fetch_all(
        conn,
        "SELECT id, plan_id, position, title, description FROM priorities WHERE id = ANY($1)",
        vec![ids.to_vec().into()],
    )
    .await
}

/// A priority in scope with its plan.
pub async fn priority_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<PriorityRow> {
    fetch_optional(
        conn,
        "SELECT pr.id, pr.plan_id, pr.position, pr.title, pr.description FROM priorities pr \
         JOIN plans p ON p.id = pr.plan_id WHERE pr.id = $1 AND p.partnership_id = ANY($2)",
        vec![id.into(), scope_value(scope)],
    )
    .await?
    .ok_or_else(|| AppError::not_found("priority"))
}

const POSITION_TAKEN: (&str, &str) = (
    "priorities_plan_id_position_key",
    "the plan already has a priority at that position",
);

pub async fn insert_priority<C: ConnectionTrait>(
    conn: &C,
    plan_id: Uuid,
    position: i32,
    title: &str,
    description: &str,
) -> AppResult<Uuid> {
    let row: Option<IdRow> = write_returning(
        conn,
        "INSERT INTO priorities (plan_id, position, title, description) VALUES ($1, $2, $3, $4) \
         RETURNING id",
        vec![
            plan_id.into(),
            position.into(),
            title.into(),
            description.into(),
        ],
        &[POSITION_TAKEN],
    )
    .await?;
    row.map(|r| r.id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned no priority id")))
}

pub async fn update_priority<C: ConnectionTrait>(conn: &C, row: &PriorityRow) -> AppResult<()> {
    execute(
        conn,
        "UPDATE priorities SET position = $2, title = $3, description = $4 WHERE id = $1",
        vec![
            row.id.into(),
            row.position.into(),
            row.title.clone().into(),
            row.description.clone().into(),
        ],
        &[POSITION_TAKEN],
    )
    .await?;
    Ok(())
}

pub async fn delete_priority<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<()> {
    let has_actions = fetch_optional::<IdRow, _>(
        conn,
        "SELECT id FROM actions WHERE priority_id = $1 LIMIT 1",
        vec![id.into()],
    )
    .await?
    .is_some();
    if has_actions {
        return Err(AppError::Conflict(
            "the priority still has actions: delete or move them first".to_owned(),
        ));
    }
    execute(
        conn,
        "DELETE FROM priorities WHERE id = $1",
        vec![id.into()],
        &[],
    )
    .await?;
    Ok(())
}

// ---- actions ----

pub async fn actions_where<C: ConnectionTrait>(
    conn: &C,
    column: ActionKey,
    ids: &[Uuid],
) -> AppResult<Vec<ActionRow>> {
    let column = match column {
        ActionKey::Id => "a.id",
        ActionKey::Plan => "a.plan_id",
        ActionKey::Priority => "a.priority_id",
        ActionKey::CarriedOverFrom => "a.carried_over_from_id",
    };
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM actions a WHERE {column} = ANY($1) ORDER BY {ACTION_ORDER}"
    );
    fetch_all(conn, &sql, vec![ids.to_vec().into()]).await
}

/// Which column a batch of action lookups is keyed on.
#[derive(Debug, Clone, Copy)]
pub enum ActionKey {
    Id,
    Plan,
    Priority,
    CarriedOverFrom,
}

/// An action in scope, optionally locked for update.
pub async fn action_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
    lock: bool,
) -> AppResult<ActionRow> {
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM actions a JOIN plans p ON p.id = a.plan_id \
         WHERE a.id = $1 AND p.partnership_id = ANY($2){}",
        if lock { " FOR UPDATE OF a" } else { "" }
    );
    fetch_optional(conn, &sql, vec![id.into(), scope_value(scope)])
        .await?
        .ok_or_else(|| AppError::not_found("action"))
}

const REF_TAKEN: (&str, &str) = (
    "actions_plan_id_ref_key",
    "the plan already has an action with that ref",
);

/// The fields of a new action.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub plan_id: Uuid,
    pub priority_id: Uuid,
    pub action_ref: String,
    pub title: String,
    pub description: String,
    pub measure: String,
    pub target_date: Option<NaiveDate>,
    pub lead_agency_id: Uuid,
    pub lead_officer: String,
    pub added_in_quarter: Option<String>,
    pub carried_over_from_id: Option<Uuid>,
}

pub async fn insert_action<C: ConnectionTrait>(conn: &C, a: &NewAction) -> AppResult<Uuid> {
    let row: Option<IdRow> = write_returning(
        conn,
        "INSERT INTO actions (plan_id, priority_id, ref, title, description, measure, target_date, \
            lead_agency_id, lead_officer, added_in_quarter, carried_over_from_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        vec![
            a.plan_id.into(),
            a.priority_id.into(),
            a.action_ref.clone().into(),
            a.title.clone().into(),
            a.description.clone().into(),
            a.measure.clone().into(),
            a.target_date.into(),
            a.lead_agency_id.into(),
            a.lead_officer.clone().into(),
            a.added_in_quarter.clone().into(),
            a.carried_over_from_id.into(),
        ],
        &[
            REF_TAKEN,
            (
                "actions_carried_over_from_id_key",
                "the action has already been carried over",
            ),
        ],
    )
    .await?;
    row.map(|r| r.id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned no action id")))
}

/// Writes an action's editable fields if its version is still `expected_version`; the version
/// goes up by one. A stale version is a CONFLICT and nothing is written.
pub async fn update_action<C: ConnectionTrait>(
    conn: &C,
    row: &ActionRow,
    expected_version: i32,
) -> AppResult<i32> {
    pg_row! {
        struct VersionRow {
            version: i32,
        }
    }
    let updated: Option<VersionRow> = write_returning(
        conn,
        "UPDATE actions SET priority_id = $3, ref = $4, title = $5, description = $6, measure = $7, \
            target_date = $8, lead_agency_id = $9, lead_officer = $10, version = version + 1, \
            updated_at = now() \
         WHERE id = $1 AND version = $2 RETURNING version",
        vec![
            row.id.into(),
            expected_version.into(),
            row.priority_id.into(),
            row.action_ref.clone().into(),
            row.title.clone().into(),
            row.description.clone().into(),
            row.measure.clone().into(),
            row.target_date.into(),
            row.lead_agency_id.into(),
            row.lead_officer.clone().into(),
        ],
        &[REF_TAKEN],
    )
    .await?;
    updated
        .map(|v| v.version)
        .ok_or_else(|| stale_version(expected_version))
}

pub fn stale_version(expected: i32) -> AppError {
    AppError::Conflict(format!(
        "the action has changed since version {expected} was read: reload it and apply the edit again"
    ))
}

/// A removal decision as stored.
#[derive(Debug, Clone)]
pub struct RemovalRecord<'a> {
    pub reason: &'a str,
    pub decided_by: &'a str,
    pub decided_on: NaiveDate,
    pub quarter: String,
    pub removed_by: &'a str,
}

/// Records a removal decision, checking the version like any other edit.
pub async fn remove_action<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    expected_version: i32,
    removal: RemovalRecord<'_>,
) -> AppResult<()> {
    let n = execute(
        conn,
        "UPDATE actions SET removal_reason = $3, removal_decided_by = $4, removal_decided_on = $5, \
            removal_quarter = $6, removed_by_sub = $7, removed_at = now(), version = version + 1, \
            updated_at = now() \
         WHERE id = $1 AND version = $2 AND removal_reason IS NULL",
        vec![
            id.into(),
            expected_version.into(),
            removal.reason.into(),
            removal.decided_by.into(),
            removal.decided_on.into(),
            removal.quarter.into(),
            removal.removed_by.into(),
        ],
        &[],
    )
    .await?;
    if n == 1 {
        Ok(())
    } else {
        Err(stale_version(expected_version))
    }
}

pub async fn delete_action<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<()> {
    let has_progress = fetch_optional::<IdRow, _>(
        conn,
        "SELECT id FROM progress_records WHERE action_id = $1 LIMIT 1",
        vec![id.into()],
    )
    .await?
    .is_some();
    let carried = fetch_optional::<IdRow, _>(
        conn,
        "SELECT id FROM actions WHERE carried_over_from_id = $1 LIMIT 1",
        vec![id.into()],
    )
    .await?
    .is_some();
    if has_progress || carried {
        return Err(AppError::Conflict(
            "the action has progress records or was carried over, so it is kept: remove it from the plan instead"
                .to_owned(),
        ));
    }
    execute(
        conn,
        "DELETE FROM actions WHERE id = $1",
        vec![id.into()],
        &[],
    )
    .await?;
    Ok(())
}
