//! The action plan in GraphQL: plans, priorities, actions, quarterly progress and the plan
//! progress report, with the mutations that move a plan through its life.

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use crate::db::request::RequestTxn;
use uuid::Uuid;

use super::{LoadError, loader, page_size, parse_id, principal};
use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::db::plan::{ActionKey, ActionRow, PlanEventRow, PlanRow, PriorityRow, ProgressRow};
use crate::domain::period::{FinancialYear, Quarter};
use crate::domain::plan::{
    self as rules, ActionFacts, Counts, LifecycleStep, NewProgress,
    ProgressStatus as DomainProgress, Removal, StandingAt,
};
use crate::error::AppError;

// ---------------------------------------------------------------- types

/// Where a plan is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanStatus {
    Draft,
    SignedOff,
    Ratified,
    Closed,
}

impl From<rules::PlanStatus> for PlanStatus {
    fn from(s: rules::PlanStatus) -> Self {
        match s {
            rules::PlanStatus::Draft => PlanStatus::Draft,
            rules::PlanStatus::SignedOff => PlanStatus::SignedOff,
            rules::PlanStatus::Ratified => PlanStatus::Ratified,
            rules::PlanStatus::Closed => PlanStatus::Closed,
        }
    }
}

/// A lead officer's assessment of an action for one quarter.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProgressStatus {
    NotStarted,
    OnTarget,
    Complete,
    Incomplete,
}

impl From<ProgressStatus> for DomainProgress {
    fn from(s: ProgressStatus) -> Self {
        match s {
            ProgressStatus::NotStarted => DomainProgress::NotStarted,
            ProgressStatus::OnTarget => DomainProgress::OnTarget,
            ProgressStatus::Complete => DomainProgress::Complete,
            ProgressStatus::Incomplete => DomainProgress::Incomplete,
        }
    }
}

impl From<DomainProgress> for ProgressStatus {
    fn from(s: DomainProgress) -> Self {
        match s {
            DomainProgress::NotStarted => ProgressStatus::NotStarted,
            DomainProgress::OnTarget => ProgressStatus::OnTarget,
            DomainProgress::Complete => ProgressStatus::Complete,
            DomainProgress::Incomplete => ProgressStatus::Incomplete,
        }
    }
}

/// An action's standing at the end of a quarter: its latest progress, or REMOVED.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionStatus {
    NotStarted,
    OnTarget,
    Complete,
    Incomplete,
    Removed,
}

/// A step in a plan's life, with who took it and when.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PlanStep {
    Created,
    NewDraft,
    SignedOff,
    Ratified,
    Closed,
}

/// A partnership's action plan for one financial year.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Plan {
    pub id: ID,
    /// The partnership's slug.
    pub partnership: String,
    /// Such as `2014/15` (1 April 2014 to 31 March 2015).
    pub financial_year: String,
    pub title: String,
    pub status: PlanStatus,
    /// The draft number ("draft 1"); goes up with each new draft until sign-off.
    pub draft_number: i32,
    /// Who signed the plan off (e.g. "RAG chair and vice chair").
    pub signed_off_by: Option<String>,
    pub signed_off_on: Option<NaiveDate>,
    /// The meeting that ratified the plan (e.g. "RAG, 20 April 2015").
    pub ratified_meeting: Option<String>,
    pub ratified_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    #[serde(skip)]
    pub uuid: Uuid,
}

impl TryFrom<PlanRow> for Plan {
    type Error = AppError;
    fn try_from(r: PlanRow) -> Result<Self, AppError> {
        Ok(Self {
            id: ID(r.id.to_string()),
            uuid: r.id,
            partnership: r.partnership_slug,
            financial_year: r.financial_year,
            title: r.title,
            status: rules::PlanStatus::parse(&r.status)?.into(),
            draft_number: r.draft_number,
            signed_off_by: r.signed_off_by,
            signed_off_on: r.signed_off_on,
            ratified_meeting: r.ratified_meeting,
            ratified_on: r.ratified_on,
            closed_at: r.closed_at,
            created_at: r.created_at,
        })
    }
}

#[ComplexObject]
impl Plan {
    /// The plan's priorities (themes), in order.
    async fn priorities(&self, ctx: &Context<'_>) -> Result<Vec<Priority>> {
        let rows = loader(ctx)?
            .load_one(PrioritiesOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Priority::from).collect())
    }

    /// Every action (expected outcome) of the plan, in ref order.
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<Action>> {
        let rows = loader(ctx)?
            .load_one(ActionsOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Action::from).collect())
    }

    /// The plan's lifecycle so far: created, new drafts, sign-off, ratification, closure.
    async fn lifecycle(&self, ctx: &Context<'_>) -> Result<Vec<PlanEvent>> {
        let rows = loader(ctx)?
            .load_one(EventsOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        rows.into_iter()
            .map(PlanEvent::try_from)
            .collect::<Result<_, AppError>>()
            .map_err(Into::into)
    }
}

/// One recorded step of a plan's lifecycle.
#[derive(SimpleObject, Clone)]
pub struct PlanEvent {
    pub step: PlanStep,
    /// The draft number at the time of the step.
    pub draft_number: i32,
    /// The token subject that took the step.
    pub by: String,
    /// The agency that took the step.
    pub agency: String,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

impl TryFrom<PlanEventRow> for PlanEvent {
    type Error = AppError;
    fn try_from(r: PlanEventRow) -> Result<Self, AppError> {
        let step = match r.step.as_str() {
            "CREATED" => PlanStep::Created,
            "NEW_DRAFT" => PlanStep::NewDraft,
            "SIGNED_OFF" => PlanStep::SignedOff,
            "RATIFIED" => PlanStep::Ratified,
            "CLOSED" => PlanStep::Closed,
            other => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "unknown plan step {other}"
                )));
            }
        };
        Ok(Self {
            step,
            draft_number: r.draft_number,
            by: r.actor_sub,
            agency: r.actor_agency,
            detail: r.detail,
            at: r.at,
        })
    }
}

/// A priority (theme) of a plan.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Priority {
    pub id: ID,
    /// 1-based position in the plan; actions of priority 2 are numbered 2.1, 2.2, ...
    pub position: i32,
    pub title: String,
    pub description: String,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub plan_uuid: Uuid,
}

impl From<PriorityRow> for Priority {
    fn from(r: PriorityRow) -> Self {
        Self {
            id: ID(r.id.to_string()),
            uuid: r.id,
            plan_uuid: r.plan_id,
            position: r.position,
            title: r.title,
            description: r.description,
        }
    }
}

#[ComplexObject]
impl Priority {
    /// The priority's actions, in ref order.
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<Action>> {
        let rows = loader(ctx)?
            .load_one(ActionsOfPriority(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Action::from).collect())
    }

    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        load_plan(ctx, self.plan_uuid).await
    }
}

/// A decision to take an action out of the plan.
#[derive(SimpleObject, Clone)]
pub struct ActionRemoval {
    pub reason: String,
    /// The body that decided, e.g. RAG.
    pub decided_by: String,
    pub decided_on: NaiveDate,
    /// The action counts as REMOVED from this quarter on.
    pub from_quarter: String,
    /// The token subject that recorded the decision.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A numbered expected outcome of a plan.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Action {
    pub id: ID,
    /// Such as `2.2`: unique in the plan.
    #[graphql(name = "ref")]
    pub action_ref: String,
    pub title: String,
    pub description: String,
    /// The SMART measure of success.
    pub measure: String,
    pub target_date: Option<NaiveDate>,
    pub lead_officer: String,
    /// The quarter the action was added in; null when it was in the plan from the start.
    pub added_in_quarter: Option<String>,
    /// Pass this back with an edit; an edit of a stale version is a CONFLICT.
    pub version: i32,
    pub removal: Option<ActionRemoval>,
    #[graphql(skip)]
    pub row: ActionRow,
}

impl From<ActionRow> for Action {
    fn from(r: ActionRow) -> Self {
        let removal = match (
            &r.removal_reason,
            &r.removal_decided_by,
            r.removal_decided_on,
            &r.removal_quarter,
            &r.removed_by_sub,
            r.removed_at,
        ) {
            (Some(reason), Some(by), Some(on), Some(q), Some(sub), Some(at)) => {
                Some(ActionRemoval {
                    reason: reason.clone(),
                    decided_by: by.clone(),
                    decided_on: on,
                    from_quarter: q.clone(),
                    recorded_by: sub.clone(),
                    recorded_at: at,
                })
            }
            _ => None,
        };
        Self {
            id: ID(r.id.to_string()),
            action_ref: r.action_ref.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            measure: r.measure.clone(),
            target_date: r.target_date,
            lead_officer: r.lead_officer.clone(),
            added_in_quarter: r.added_in_quarter.clone(),
            version: r.version,
            removal,
            row: r,
        }
    }
}

/// An agency, as named on an action.
#[derive(SimpleObject, Clone)]
pub struct Agency {
    pub slug: String,
    pub name: String,
    /// police, fire, council, pcc or other
    pub kind: String,
}

#[ComplexObject]
impl Action {
    /// The agency that leads the action (its officers record progress).
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        let row = loader(ctx)?
            .load_one(AgencyById(self.row.lead_agency_id))
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("lead agency missing")))?;
        Ok(Agency {
            slug: row.slug,
            name: row.name,
            kind: row.kind,
        })
    }

    async fn priority(&self, ctx: &Context<'_>) -> Result<Priority> {
        let row = loader(ctx)?
            .load_one(PriorityById(self.row.priority_id))
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("priority missing")))?;
        Ok(row.into())
    }

    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        load_plan(ctx, self.row.plan_id).await
    }

    /// Every progress record, oldest first, corrections included (`superseded` marks the
    /// records a later one for the same quarter replaced).
    async fn progress_history(&self, ctx: &Context<'_>) -> Result<Vec<ProgressRecord>> {
        let rows = loader(ctx)?
            .load_one(ProgressOfAction(self.row.id))
            .await?
            .unwrap_or_default();
        rows.into_iter()
            .map(ProgressRecord::try_from)
            .collect::<Result<_, AppError>>()
            .map_err(Into::into)
    }

    /// The action's standing at the end of `quarter` (e.g. `2014/15 Q3`), or now when omitted:
    /// its latest progress at or before then, REMOVED from the quarter of a removal decision.
    async fn status(
        &self,
        ctx: &Context<'_>,
        quarter: Option<String>,
    ) -> Result<Option<ActionStatus>> {
        let quarter: Option<Quarter> = quarter.map(|q| q.parse()).transpose()?;
        let latest = match quarter {
            // Now: the latest standing record, which the plan page brings with it.
            None => loader(ctx)?
                .load_one(LatestStatusOf(self.row.id))
                .await?
                .flatten()
                .map(|s| DomainProgress::parse(&s))
                .transpose()?,
            // At a quarter's end: the latest standing record up to then, from the history.
            Some(q) => {
                let until = q.to_string();
                loader(ctx)?
                    .load_one(ProgressOfAction(self.row.id))
                    .await?
                    .unwrap_or_default()
                    .iter()
                    .filter(|r| !r.superseded && r.quarter <= until)
                    .max_by(|a, b| (&a.quarter, a.recorded_at).cmp(&(&b.quarter, b.recorded_at)))
                    .map(|r| DomainProgress::parse(&r.status))
                    .transpose()?
            }
        };
        let added = parse_quarter_opt(self.row.added_in_quarter.as_deref())?;
        let removed = parse_quarter_opt(self.row.removal_quarter.as_deref())?;
        // Without a quarter: the latest standing on record, whenever that was.
        let Some(at) = quarter else {
            return Ok(Some(if removed.is_some() {
                ActionStatus::Removed
            } else {
                match latest {
                    None | Some(DomainProgress::NotStarted) => ActionStatus::NotStarted,
                    Some(DomainProgress::OnTarget) => ActionStatus::OnTarget,
                    Some(DomainProgress::Complete) => ActionStatus::Complete,
                    Some(DomainProgress::Incomplete) => ActionStatus::Incomplete,
                }
            }));
        };
        Ok(standing_to_status(rules::standing_at(
            at, added, removed, latest,
        )))
    }

    /// The action this one was carried over from (last year's plan).
    async fn carried_over_from(&self, ctx: &Context<'_>) -> Result<Option<Action>> {
        let Some(from) = self.row.carried_over_from_id else {
            return Ok(None);
        };
        Ok(loader(ctx)?
            .load_one(ActionById(from))
            .await?
            .map(Action::from))
    }

    /// The action this one was carried over into (next year's plan).
    async fn carried_over_to(&self, ctx: &Context<'_>) -> Result<Option<Action>> {
        Ok(loader(ctx)?
            .load_one(CarriedOverTo(self.row.id))
            .await?
            .map(Action::from))
    }
}

/// An action's status as reported, from its standing (None: not counted in that quarter).
pub(crate) fn standing_to_status(s: StandingAt) -> Option<ActionStatus> {
    match s {
        StandingAt::NotCounted => None,
        StandingAt::NotStarted => Some(ActionStatus::NotStarted),
        StandingAt::OnTarget => Some(ActionStatus::OnTarget),
        StandingAt::Complete => Some(ActionStatus::Complete),
        StandingAt::Incomplete => Some(ActionStatus::Incomplete),
        StandingAt::Removed => Some(ActionStatus::Removed),
    }
}

pub(crate) fn parse_quarter_opt(q: Option<&str>) -> Result<Option<Quarter>, AppError> {
    q.map(|q| {
        q.parse::<Quarter>()
            .map_err(|_| AppError::internal(anyhow::anyhow!("bad quarter {q} in the database")))
    })
    .transpose()
}

/// A quarterly progress record. Records are never changed: a correction is a new record for
/// the same quarter that supersedes the old one.
#[derive(SimpleObject, Clone)]
pub struct ProgressRecord {
    pub id: ID,
    pub action_id: ID,
    pub quarter: String,
    pub status: ProgressStatus,
    pub commentary: Option<String>,
    pub percent_complete: Option<i32>,
    /// The record this one corrects, if any.
    pub supersedes: Option<ID>,
    /// True when a later record for the same quarter replaced this one.
    pub superseded: bool,
    /// The token subject that recorded it.
    pub recorded_by: String,
    /// The agency that recorded it.
    pub recorded_by_agency: String,
    pub recorded_at: DateTime<Utc>,
}

impl TryFrom<ProgressRow> for ProgressRecord {
    type Error = AppError;
    fn try_from(r: ProgressRow) -> Result<Self, AppError> {
        Ok(Self {
            id: ID(r.id.to_string()),
            action_id: ID(r.action_id.to_string()),
            quarter: r.quarter,
            status: DomainProgress::parse(&r.status)?.into(),
            commentary: r.commentary,
            percent_complete: r.percent_complete.map(i32::from),
            supersedes: r.supersedes_id.map(|s| ID(s.to_string())),
            superseded: r.superseded,
            recorded_by: r.recorded_by_sub,
            recorded_by_agency: r.recorded_by_agency,
            recorded_at: r.recorded_at,
        })
    }
}

/// Counts of expected outcomes by status, with each as a percentage of `expected` rounded to
/// one decimal place (half away from zero, from the exact ratio).
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    pub expected: i32,
    pub complete: i32,
    pub on_target: i32,
    pub incomplete: i32,
    pub removed: i32,
    pub not_started: i32,
    pub complete_percent: f64,
    pub on_target_percent: f64,
    pub incomplete_percent: f64,
    pub removed_percent: f64,
    pub not_started_percent: f64,
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<Counts> for StatusCounts {
    fn from(c: Counts) -> Self {
        Self {
            expected: count(c.expected),
            complete: count(c.complete),
            on_target: count(c.on_target),
            incomplete: count(c.incomplete),
            removed: count(c.removed),
            not_started: count(c.not_started),
            complete_percent: c.percent(c.complete),
            on_target_percent: c.percent(c.on_target),
            incomplete_percent: c.percent(c.incomplete),
            removed_percent: c.percent(c.removed),
            not_started_percent: c.percent(c.not_started),
        }
    }
}

/// One priority's row of the progress report.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityProgress {
    pub priority_id: ID,
    pub position: i32,
    pub title: String,
    pub counts: StatusCounts,
}

/// An action counted as REMOVED in the report, with the decision.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovedAction {
    pub action_id: ID,
    #[graphql(name = "ref")]
    #[serde(rename = "ref")]
    pub action_ref: String,
    pub title: String,
    pub priority_position: i32,
    pub reason: String,
    pub decided_by: String,
    pub decided_on: NaiveDate,
}

/// An action counted as INCOMPLETE in the report, with the lead officer's commentary.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncompleteAction {
    pub action_id: ID,
    #[graphql(name = "ref")]
    #[serde(rename = "ref")]
    pub action_ref: String,
    pub title: String,
    pub priority_position: i32,
    pub commentary: String,
    /// The quarter of the record the status comes from.
    pub recorded_for_quarter: String,
}

/// A plan as at the end of a quarter: the report the RAG and the PCC receive, computed from
/// the records so that its rows always add up to its total.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanProgress {
    pub plan: Plan,
    pub quarter: String,
    /// The last day of the quarter.
    pub as_at: NaiveDate,
    pub total: StatusCounts,
    pub priorities: Vec<PriorityProgress>,
    pub removed_actions: Vec<RemovedAction>,
    pub incomplete_actions: Vec<IncompleteAction>,
}

// ---------------------------------------------------------------- loading

/// Batches the plan's relations per request, so no query runs once per row.
pub struct PlanLoader {
    db: RequestTxn,
}

impl PlanLoader {
    pub fn new(db: RequestTxn) -> Self {
        Self { db }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanById(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrioritiesOfPlan(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PriorityById(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionById(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionsOfPlan(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionsOfPriority(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CarriedOverTo(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgressOfAction(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LatestStatusOf(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventsOfPlan(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgencyById(pub Uuid);

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| f(*k)).collect()
}

fn one_each<K: Hash + Eq, R>(rows: Vec<R>, key: impl Fn(&R) -> K) -> HashMap<K, R> {
    rows.into_iter().map(|r| (key(&r), r)).collect()
}

fn grouped<K: Hash + Eq, R>(rows: Vec<R>, key: impl Fn(&R) -> K) -> HashMap<K, Vec<R>> {
    let mut map: HashMap<K, Vec<R>> = HashMap::new();
    for r in rows {
        map.entry(key(&r)).or_default().push(r);
    }
    map
}

impl Loader<PlanById> for PlanLoader {
    type Value = PlanRow;
    type Error = LoadError;
    async fn load(&self, keys: &[PlanById]) -> Result<HashMap<PlanById, PlanRow>, LoadError> {
        let rows = db::plan::plans_by_ids(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| PlanById(r.id)))
    }
}

impl Loader<PrioritiesOfPlan> for PlanLoader {
    type Value = Vec<PriorityRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[PrioritiesOfPlan],
    ) -> Result<HashMap<PrioritiesOfPlan, Vec<PriorityRow>>, LoadError> {
        let rows = db::plan::priorities_of_plans(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| PrioritiesOfPlan(r.plan_id)))
    }
}

impl Loader<PriorityById> for PlanLoader {
    type Value = PriorityRow;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[PriorityById],
    ) -> Result<HashMap<PriorityById, PriorityRow>, LoadError> {
        let rows = db::plan::priorities_by_ids(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| PriorityById(r.id)))
    }
}

impl Loader<ActionById> for PlanLoader {
    type Value = ActionRow;
    type Error = LoadError;
    async fn load(&self, keys: &[ActionById]) -> Result<HashMap<ActionById, ActionRow>, LoadError> {
        let rows = db::plan::actions_where(&*self.db, ActionKey::Id, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| ActionById(r.id)))
    }
}

impl Loader<ActionsOfPlan> for PlanLoader {
    type Value = Vec<ActionRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ActionsOfPlan],
    ) -> Result<HashMap<ActionsOfPlan, Vec<ActionRow>>, LoadError> {
        let rows = db::plan::actions_where(&*self.db, ActionKey::Plan, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| ActionsOfPlan(r.plan_id)))
    }
}

impl Loader<ActionsOfPriority> for PlanLoader {
    type Value = Vec<ActionRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ActionsOfPriority],
    ) -> Result<HashMap<ActionsOfPriority, Vec<ActionRow>>, LoadError> {
        let rows =
            db::plan::actions_where(&*self.db, ActionKey::Priority, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| ActionsOfPriority(r.priority_id)))
    }
}

impl Loader<CarriedOverTo> for PlanLoader {
    type Value = ActionRow;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[CarriedOverTo],
    ) -> Result<HashMap<CarriedOverTo, ActionRow>, LoadError> {
        let rows =
            db::plan::actions_where(&*self.db, ActionKey::CarriedOverFrom, &ids(keys, |k| k.0))
                .await?;
        let mut map = HashMap::new();
        for r in rows {
            if let Some(from) = r.carried_over_from_id {
                map.insert(CarriedOverTo(from), r);
            }
        }
        Ok(map)
    }
}

impl Loader<ProgressOfAction> for PlanLoader {
    type Value = Vec<ProgressRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ProgressOfAction],
    ) -> Result<HashMap<ProgressOfAction, Vec<ProgressRow>>, LoadError> {
        let rows = db::plan::progress_of_actions(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| ProgressOfAction(r.action_id)))
    }
}

impl Loader<LatestStatusOf> for PlanLoader {
    /// `None` for an action with no standing record, so that the answer is cached too.
    type Value = Option<String>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[LatestStatusOf],
    ) -> Result<HashMap<LatestStatusOf, Option<String>>, LoadError> {
        let rows = db::plan::latest_status_of_actions(&*self.db, &ids(keys, |k| k.0)).await?;
        let mut map: HashMap<LatestStatusOf, Option<String>> =
            keys.iter().map(|k| (*k, None)).collect();
        for r in rows {
            map.insert(LatestStatusOf(r.action_id), Some(r.status));
        }
        Ok(map)
    }
}

impl Loader<EventsOfPlan> for PlanLoader {
    type Value = Vec<PlanEventRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[EventsOfPlan],
    ) -> Result<HashMap<EventsOfPlan, Vec<PlanEventRow>>, LoadError> {
        let rows = db::plan::events_of_plans(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| EventsOfPlan(r.plan_id)))
    }
}

impl Loader<AgencyById> for PlanLoader {
    type Value = db::partnership::AgencyRow;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[AgencyById],
    ) -> Result<HashMap<AgencyById, db::partnership::AgencyRow>, LoadError> {
        let rows = db::partnership::agencies_by_ids(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| AgencyById(r.id)))
    }
}

/// Puts a plan's page into the request's loader cache for the lists the query selects (the
/// plan's `priorities`, its `actions`, or both), with an empty list for every priority without
/// actions and a status (perhaps none) for every action, so that no field below asks again.
/// Anything else (a progress history, an action's priority) loads as usual if asked for.
async fn prime(
    loader: &crate::graphql::PlanLoaders,
    tree: db::plan::PlanTree,
    priorities: bool,
    actions: bool,
) -> PlanRow {
    let db::plan::PlanTree {
        plan: row,
        priorities: priority_rows,
        actions: action_rows,
        latest,
        agencies,
    } = tree;
    let plan = row.id;
    loader.feed_many([(PlanById(plan), row.clone())]).await;
    let for_status: Vec<Uuid> = action_rows.iter().map(|a| a.id).collect();
    let (for_plan, for_priorities) = match (actions, priorities) {
        (true, true) => (Some(action_rows.clone()), Some(action_rows)),
        (true, false) => (Some(action_rows), None),
        (false, true) => (None, Some(action_rows)),
        (false, false) => (None, None),
    };
    if let Some(all) = for_plan {
        loader.feed_many([(ActionsOfPlan(plan), all)]).await;
    }
    if let Some(all) = for_priorities {
        let mut of_priority: HashMap<Uuid, Vec<ActionRow>> =
            priority_rows.iter().map(|r| (r.id, Vec::new())).collect();
        for a in all {
            of_priority.entry(a.priority_id).or_default().push(a);
        }
        loader
            .feed_many([(PrioritiesOfPlan(plan), priority_rows)])
            .await;
        loader
            .feed_many(
                of_priority
                    .into_iter()
                    .map(|(k, v)| (ActionsOfPriority(k), v)),
            )
            .await;
    }
    let mut status: HashMap<Uuid, Option<String>> =
        for_status.into_iter().map(|id| (id, None)).collect();
    for r in latest {
        status.insert(r.action_id, Some(r.status));
    }
    loader
        .feed_many(status.into_iter().map(|(k, v)| (LatestStatusOf(k), v)))
        .await;
    loader
        .feed_many(agencies.into_iter().map(|r| (AgencyById(r.id), r)))
        .await;
    row
}

async fn load_plan(ctx: &Context<'_>, id: Uuid) -> Result<Plan> {
    let row = loader(ctx)?
        .load_one(PlanById(id))
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("plan {id} missing")))?;
    Ok(Plan::try_from(row)?)
}

// ---------------------------------------------------------------- queries

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// The plans of the partnerships in scope, or of one of them, by partnership and financial
    /// year. Every role may read plans.
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "a partnership slug; all partnerships in scope when omitted")]
        partnership: Option<String>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "how many plans to skip")] offset: Option<i32>,
    ) -> Result<Vec<Plan>> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let limit = page_size(first)?;
        let offset = u64::try_from(offset.unwrap_or(0))
            .map_err(|_| AppError::BadUserInput("offset must not be negative".to_owned()))?;
        let partnership_id = match partnership.as_deref() {
            Some(slug) => Some(p.partnership(slug)?.id),
            None => None,
        };
        let rows = db::plan::list_plans(super::db(ctx)?, &p.scope(), partnership_id, limit, offset)
            .await?;
        rows.into_iter()
            .map(Plan::try_from)
            .collect::<Result<_, AppError>>()
            .map_err(Into::into)
    }

    /// One plan with its priorities, actions and progress history.
    async fn plan(&self, ctx: &Context<'_>, id: ID) -> Result<super::plan_page::PlanOut> {
        use super::plan_page::{self, PlanOut};
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let id = parse_id(&id, "plan")?;
        let conn = super::db(ctx)?;
        // The front-end's page (plain fields, priorities, actions, lead agencies, statuses):
        // built as JSON by one statement (`plan_page`).
        if let Some(shape) = plan_page::shape(&ctx.item.node) {
            let page = plan_page::build(conn, &shape, &p.scope(), id).await?;
            return Ok(PlanOut::Built(std::sync::Mutex::new(Some(page))));
        }
        let look = ctx.look_ahead();
        if !(look.field("priorities").exists() || look.field("actions").exists()) {
            let row = db::plan::plan_in_scope(conn, &p.scope(), id, false).await?;
            return Ok(PlanOut::Object(Box::new(Plan::try_from(row)?)));
        }
        // The page: one statement, handed to the fields below through the loaders' cache.
        let tree = db::plan::plan_tree(conn, &p.scope(), id).await?;
        let row = prime(
            loader(ctx)?,
            tree,
            look.field("priorities").exists(),
            look.field("actions").exists(),
        )
        .await;
        Ok(PlanOut::Object(Box::new(Plan::try_from(row)?)))
    }

    /// One action (expected outcome).
    async fn action(&self, ctx: &Context<'_>, id: ID) -> Result<Action> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let row =
            db::plan::action_in_scope(super::db(ctx)?, &p.scope(), parse_id(&id, "action")?, false)
                .await?;
        Ok(row.into())
    }

    /// The plan as at the end of `quarter` (e.g. `2014/15 Q3`): counts by status per priority
    /// and in total, with the removed and incomplete actions. Every role may read it.
    #[graphql(complexity = "crate::graphql::REPORT_COST + child_complexity")]
    async fn plan_progress(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        quarter: String,
    ) -> Result<PlanProgress> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        let plan =
            db::plan::plan_in_scope(conn, &p.scope(), parse_id(&plan_id, "plan")?, false).await?;
        let quarter: Quarter = quarter.parse()?;
        let year: FinancialYear = plan.financial_year.parse()?;
        if !year.contains(quarter) {
            return Err(AppError::BadUserInput(format!(
                "quarter {quarter} is not in the plan's financial year {year}"
            ))
            .into());
        }
        let priorities = db::plan::priorities_of_plans(conn, &[plan.id]).await?;
        let rows = db::plan::report_rows(conn, plan.id, &quarter.to_string()).await?;
        Ok(progress_report(plan, quarter, priorities, rows)?)
    }
}

pub(crate) fn progress_report(
    plan: PlanRow,
    quarter: Quarter,
    priorities: Vec<PriorityRow>,
    rows: Vec<db::plan::ReportRow>,
) -> Result<PlanProgress, AppError> {
    let mut counts: HashMap<Uuid, Counts> = HashMap::new();
    let position: HashMap<Uuid, i32> = priorities.iter().map(|p| (p.id, p.position)).collect();
    let mut removed_actions = Vec::new();
    let mut incomplete_actions = Vec::new();
    for row in rows {
        let latest = row
            .status
            .as_deref()
            .map(DomainProgress::parse)
            .transpose()?;
        let standing = rules::standing_at(
            quarter,
            parse_quarter_opt(row.added_in_quarter.as_deref())?,
            parse_quarter_opt(row.removal_quarter.as_deref())?,
            latest,
        );
        counts.entry(row.priority_id).or_default().add(standing);
        let priority_position = position.get(&row.priority_id).copied().unwrap_or_default();
        match standing {
            StandingAt::Removed => removed_actions.push(RemovedAction {
                action_id: ID(row.id.to_string()),
                action_ref: row.action_ref,
                title: row.title,
                priority_position,
                reason: row.removal_reason.unwrap_or_default(),
                decided_by: row.removal_decided_by.unwrap_or_default(),
                decided_on: row.removal_decided_on.unwrap_or_default(),
            }),
            StandingAt::Incomplete => incomplete_actions.push(IncompleteAction {
                action_id: ID(row.id.to_string()),
                action_ref: row.action_ref,
                title: row.title,
                priority_position,
                commentary: row.commentary.unwrap_or_default(),
                recorded_for_quarter: row.status_quarter.unwrap_or_default(),
            }),
            _ => {}
        }
    }
    let per_priority: Vec<(PriorityRow, Counts)> = priorities
        .into_iter()
        .map(|p| {
            let c = counts.get(&p.id).copied().unwrap_or_default();
            (p, c)
        })
        .collect();
    // The total is the sum of the rows, so the report cannot disagree with itself.
    let total = Counts::sum(per_priority.iter().map(|(_, c)| c));
    Ok(PlanProgress {
        quarter: quarter.to_string(),
        as_at: quarter.last_day(),
        plan: Plan::try_from(plan)?,
        total: total.into(),
        priorities: per_priority
            .into_iter()
            .map(|(p, c)| PriorityProgress {
                priority_id: ID(p.id.to_string()),
                position: p.position,
                title: p.title,
                counts: c.into(),
            })
            .collect(),
        removed_actions,
        incomplete_actions,
    })
}

// ---------------------------------------------------------------- mutations

#[derive(InputObject)]
pub struct CreatePlanInput {
    /// The partnership's slug.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: String,
    /// Such as `2015/16`.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub financial_year: String,
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
}

#[derive(InputObject)]
pub struct UpdatePlanInput {
    pub plan_id: ID,
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
}

#[derive(InputObject)]
pub struct SignOffPlanInput {
    pub plan_id: ID,
    /// Who signed it off, e.g. "RAG chair and vice chair".
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub signed_off_by: String,
    pub signed_off_on: NaiveDate,
}

#[derive(InputObject)]
pub struct RatifyPlanInput {
    pub plan_id: ID,
    /// The meeting that ratified it, e.g. "RAG".
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub meeting: String,
    pub ratified_on: NaiveDate,
}

#[derive(InputObject)]
pub struct AddPriorityInput {
    pub plan_id: ID,
    pub position: i32,
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: String,
}

#[derive(InputObject)]
pub struct UpdatePriorityInput {
    pub priority_id: ID,
    pub position: Option<i32>,
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: Option<String>,
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct AddActionInput {
    pub priority_id: ID,
    /// Such as `2.3`: unique in the plan.
    #[graphql(name = "ref")]
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub action_ref: String,
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: String,
    /// The SMART measure.
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub measure: String,
    pub target_date: Option<NaiveDate>,
    /// The lead agency's slug; it must belong to the partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub lead_agency: String,
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub lead_officer: String,
    /// Required once the plan is in force (signed off or ratified): the quarter it is added in.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub added_in_quarter: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateActionInput {
    pub action_id: ID,
    /// The version that was read; a stale version is a CONFLICT and nothing changes.
    pub version: i32,
    /// Move the action to another priority of the same plan (draft only).
    pub priority_id: Option<ID>,
    #[graphql(name = "ref")]
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub action_ref: Option<String>,
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: Option<String>,
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: Option<String>,
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub measure: Option<String>,
    pub target_date: Option<NaiveDate>,
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub lead_agency: Option<String>,
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub lead_officer: Option<String>,
}

#[derive(InputObject)]
pub struct RecordProgressInput {
    pub action_id: ID,
    /// Such as `2014/15 Q3` (Q1 is April to June).
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub quarter: String,
    pub status: ProgressStatus,
    /// Required for INCOMPLETE.
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub commentary: Option<String>,
    /// 0 to 100.
    pub percent_complete: Option<i32>,
}

#[derive(InputObject)]
pub struct RemoveActionInput {
    pub action_id: ID,
    #[graphql(validator(custom = "crate::graphql::Text(1000)"))]
    pub reason: String,
    /// The body that decided, e.g. RAG.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub decided_by: String,
    pub decided_on: NaiveDate,
    /// The version that was read; when given, a stale version is a CONFLICT.
    pub version: Option<i32>,
}

#[derive(InputObject)]
pub struct CarryOverActionInput {
    /// The action in this year's plan.
    pub action_id: ID,
    /// A priority of the partnership's plan for the next financial year.
    pub priority_id: ID,
    /// Its ref in the next year's plan.
    #[graphql(name = "ref")]
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub action_ref: String,
    /// Required when the next year's plan is already in force.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub added_in_quarter: Option<String>,
}

#[derive(Default)]
pub struct PlanMutation;

/// Loads a plan in scope for writing and checks that the caller may manage it.
async fn plan_for_change<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: &ID,
) -> Result<(PlanRow, rules::PlanStatus), AppError> {
    let plan = db::plan::plan_in_scope(conn, &p.scope(), parse_id(id, "plan")?, true).await?;
    authorize(p, Operation::ManagePlan)?;
    let status = rules::PlanStatus::parse(&plan.status)?;
    Ok((plan, status))
}

async fn reload_plan<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: Uuid,
) -> Result<Plan> {
    Ok(Plan::try_from(
        db::plan::plan_in_scope(conn, &p.scope(), id, false).await?,
    )?)
}

async fn reload_action<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: Uuid,
) -> Result<Action> {
    Ok(db::plan::action_in_scope(conn, &p.scope(), id, false)
        .await?
        .into())
}

fn validate_ref(action_ref: &str, priority_position: i32) -> Result<String, AppError> {
    let r = action_ref.trim();
    let valid = r.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.len() <= 2
            && b.len() <= 3
            && a.chars().all(|c| c.is_ascii_digit())
            && b.chars().all(|c| c.is_ascii_digit())
    });
    if !valid {
        return Err(AppError::BadUserInput(format!(
            "ref '{r}' must be the priority's number, a dot and the outcome's number, like {priority_position}.2"
        )));
    }
    if r.split_once('.').map(|(a, _)| a.parse::<i32>().ok()) != Some(Some(priority_position)) {
        return Err(AppError::BadUserInput(format!(
            "ref '{r}' must start with its priority's position {priority_position}"
        )));
    }
    Ok(r.to_owned())
}

fn parse_quarter_input(q: Option<&str>) -> Result<Option<Quarter>, AppError> {
    q.map(str::parse::<Quarter>).transpose()
}

async fn lead_agency(
    conn: &impl sea_orm::ConnectionTrait,
    partnership_id: Uuid,
    slug: &str,
) -> Result<Uuid, AppError> {
    db::partnership::member_agency(conn, partnership_id, slug)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| {
            AppError::BadUserInput(format!(
                "leadAgency '{slug}' is not an agency of the plan's partnership"
            ))
        })
}

fn facts(plan: &PlanRow, action: &ActionRow) -> Result<ActionFacts, AppError> {
    Ok(ActionFacts {
        plan_status: rules::PlanStatus::parse(&plan.status)?,
        plan_year: plan.financial_year.parse()?,
        added_in: parse_quarter_opt(action.added_in_quarter.as_deref())?,
        removed_from: parse_quarter_opt(action.removal_quarter.as_deref())?,
    })
}

fn begin_err(e: sea_orm::DbErr) -> AppError {
    AppError::internal(e)
}

#[Object]
impl PlanMutation {
    /// Starts a plan for a financial year, as draft 1. Coordinators only.
    async fn create_plan(&self, ctx: &Context<'_>, input: CreatePlanInput) -> Result<Plan> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let partnership = p.partnership(&input.partnership)?.id;
        authorize(p, Operation::ManagePlan)?;
        let year: FinancialYear = input.financial_year.parse()?;
        let title = rules::required_text(&input.title, "title")?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let id = db::plan::insert_plan(&txn, partnership, &year.to_string(), &title).await?;
        db::plan::insert_event(&txn, id, "CREATED", &p.sub, &p.agency, None).await?;
        txn.commit().await.map_err(begin_err)?;
        reload_plan(conn, p, id).await
    }

    /// Renames a draft plan. Coordinators only.
    async fn update_plan(&self, ctx: &Context<'_>, input: UpdatePlanInput) -> Result<Plan> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let (plan, status) = plan_for_change(&txn, p, &input.plan_id).await?;
        status.ensure_draft("the plan can be edited")?;
        db::plan::update_plan_title(&txn, plan.id, &rules::required_text(&input.title, "title")?)
            .await?;
        txn.commit().await.map_err(begin_err)?;
        reload_plan(conn, p, plan.id).await
    }

    /// Starts the next draft of a draft plan (draft 1 -> draft 2). Coordinators only.
    async fn new_plan_draft(&self, ctx: &Context<'_>, plan_id: ID) -> Result<Plan> {
        self.lifecycle(
            ctx,
            &plan_id,
            LifecycleStep::NewDraft,
            db::plan::LifecycleUpdate {
                status: "DRAFT",
                bump_draft: true,
                ..Default::default()
            },
            None,
        )
        .await
    }

    /// Signs a draft plan off. Coordinators only.
    async fn sign_off_plan(&self, ctx: &Context<'_>, input: SignOffPlanInput) -> Result<Plan> {
        let by = rules::required_text(&input.signed_off_by, "signedOffBy")?;
        let detail = format!("signed off by {by} on {}", input.signed_off_on);
        self.lifecycle(
            ctx,
            &input.plan_id,
            LifecycleStep::SignOff,
            db::plan::LifecycleUpdate {
                status: "SIGNED_OFF",
                signed_off: Some((by, input.signed_off_on)),
                ..Default::default()
            },
            Some(detail),
        )
        .await
    }

    /// Records the plan's ratification at a meeting. Coordinators only.
    async fn ratify_plan(&self, ctx: &Context<'_>, input: RatifyPlanInput) -> Result<Plan> {
        let meeting = rules::required_text(&input.meeting, "meeting")?;
        let detail = format!("ratified at {meeting} on {}", input.ratified_on);
        self.lifecycle(
            ctx,
            &input.plan_id,
            LifecycleStep::Ratify,
            db::plan::LifecycleUpdate {
                status: "RATIFIED",
                ratified: Some((meeting, input.ratified_on)),
                ..Default::default()
            },
            Some(detail),
        )
        .await
    }

    /// Closes a ratified plan at year end; nothing in it changes afterwards. Coordinators only.
    async fn close_plan(&self, ctx: &Context<'_>, plan_id: ID) -> Result<Plan> {
        self.lifecycle(
            ctx,
            &plan_id,
            LifecycleStep::Close,
            db::plan::LifecycleUpdate {
                status: "CLOSED",
                close: true,
                ..Default::default()
            },
            None,
        )
        .await
    }

    /// Adds a priority to a draft plan. Coordinators only.
    async fn add_priority(&self, ctx: &Context<'_>, input: AddPriorityInput) -> Result<Priority> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let (plan, status) = plan_for_change(&txn, p, &input.plan_id).await?;
        status.ensure_draft("priorities can be added")?;
        check_position(input.position)?;
        let title = rules::required_text(&input.title, "title")?;
        let id = db::plan::insert_priority(
            &txn,
            plan.id,
            input.position,
            &title,
            input.description.trim(),
        )
        .await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(db::plan::priority_in_scope(conn, &p.scope(), id)
            .await?
            .into())
    }

    /// Edits a priority of a draft plan. Coordinators only.
    async fn update_priority(
        &self,
        ctx: &Context<'_>,
        input: UpdatePriorityInput,
    ) -> Result<Priority> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let mut priority = db::plan::priority_in_scope(
            &txn,
            &p.scope(),
            parse_id(&input.priority_id, "priority")?,
        )
        .await?;
        let (_, status) = plan_for_change(&txn, p, &ID(priority.plan_id.to_string())).await?;
        status.ensure_draft("priorities can be edited")?;
        if let Some(position) = input.position {
            check_position(position)?;
            priority.position = position;
        }
        if let Some(title) = input.title {
            priority.title = rules::required_text(&title, "title")?;
        }
        if let Some(description) = input.description {
            priority.description = description.trim().to_owned();
        }
        db::plan::update_priority(&txn, &priority).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(priority.into())
    }

    /// Deletes a priority with no actions from a draft plan. Coordinators only. Returns its id.
    async fn delete_priority(&self, ctx: &Context<'_>, priority_id: ID) -> Result<ID> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let priority =
            db::plan::priority_in_scope(&txn, &p.scope(), parse_id(&priority_id, "priority")?)
                .await?;
        let (_, status) = plan_for_change(&txn, p, &ID(priority.plan_id.to_string())).await?;
        status.ensure_draft("priorities can be deleted")?;
        db::plan::delete_priority(&txn, priority.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(priority_id)
    }

    /// Adds an action (expected outcome) to a priority. In draft freely; once the plan is in
    /// force, with the quarter it is added in. Coordinators only.
    async fn add_action(&self, ctx: &Context<'_>, input: AddActionInput) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let priority = db::plan::priority_in_scope(
            &txn,
            &p.scope(),
            parse_id(&input.priority_id, "priority")?,
        )
        .await?;
        let (plan, status) = plan_for_change(&txn, p, &ID(priority.plan_id.to_string())).await?;
        let added = rules::added_in_quarter(
            status,
            plan.financial_year.parse()?,
            parse_quarter_input(input.added_in_quarter.as_deref())?,
        )?;
        let new = db::plan::NewAction {
            plan_id: plan.id,
            priority_id: priority.id,
            action_ref: validate_ref(&input.action_ref, priority.position)?,
            title: rules::required_text(&input.title, "title")?,
            description: input.description.trim().to_owned(),
            measure: input.measure.trim().to_owned(),
            target_date: input.target_date,
            lead_agency_id: lead_agency(&txn, plan.partnership_id, &input.lead_agency).await?,
            lead_officer: input.lead_officer.trim().to_owned(),
            added_in_quarter: added.map(|q| q.to_string()),
            carried_over_from_id: None,
        };
        let id = db::plan::insert_action(&txn, &new).await?;
        txn.commit().await.map_err(begin_err)?;
        reload_action(conn, p, id).await
    }

    /// Edits an action. Pass the version you read: a stale version is a CONFLICT and nothing
    /// changes. In draft every field may change; once the plan is in force only the lead agency,
    /// the lead officer and the target date. Coordinators only.
    async fn update_action(&self, ctx: &Context<'_>, input: UpdateActionInput) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let mut action = db::plan::action_in_scope(
            &txn,
            &p.scope(),
            parse_id(&input.action_id, "action")?,
            true,
        )
        .await?;
        let (plan, status) = plan_for_change(&txn, p, &ID(action.plan_id.to_string())).await?;
        status.ensure_not_closed("actions can be edited")?;
        if action.version != input.version {
            return Err(db::plan::stale_version(input.version).into());
        }
        let structural = input.priority_id.is_some()
            || input.action_ref.is_some()
            || input.title.is_some()
            || input.description.is_some()
            || input.measure.is_some();
        if structural {
            status.ensure_draft(
                "an action's priority, ref, title, description and measure can be edited",
            )?;
        }
        let mut position = db::plan::priority_in_scope(&txn, &p.scope(), action.priority_id)
            .await?
            .position;
        if let Some(pid) = &input.priority_id {
            let target =
                db::plan::priority_in_scope(&txn, &p.scope(), parse_id(pid, "priority")?).await?;
            if target.plan_id != plan.id {
                return Err(AppError::BadUserInput(
                    "priorityId must be a priority of the same plan".to_owned(),
                )
                .into());
            }
            action.priority_id = target.id;
            position = target.position;
        }
        if let Some(r) = &input.action_ref {
            action.action_ref = r.clone();
        }
        if input.action_ref.is_some() || input.priority_id.is_some() {
            action.action_ref = validate_ref(&action.action_ref, position)?;
        }
        if let Some(t) = &input.title {
            action.title = rules::required_text(t, "title")?;
        }
        if let Some(d) = &input.description {
            action.description = d.trim().to_owned();
        }
        if let Some(m) = &input.measure {
            action.measure = m.trim().to_owned();
        }
        if input.target_date.is_some() {
            action.target_date = input.target_date;
        }
        if let Some(slug) = &input.lead_agency {
            action.lead_agency_id = lead_agency(&txn, plan.partnership_id, slug).await?;
        }
        if let Some(o) = &input.lead_officer {
            action.lead_officer = o.trim().to_owned();
        }
        db::plan::update_action(&txn, &action, input.version).await?;
        txn.commit().await.map_err(begin_err)?;
        reload_action(conn, p, action.id).await
    }

    /// Deletes an action from a draft plan (one with no progress and not carried over).
    /// Coordinators only. Returns its id. Once a plan is in force, use removeAction.
    async fn delete_action(&self, ctx: &Context<'_>, action_id: ID) -> Result<ID> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let action =
            db::plan::action_in_scope(&txn, &p.scope(), parse_id(&action_id, "action")?, true)
                .await?;
        let (_, status) = plan_for_change(&txn, p, &ID(action.plan_id.to_string())).await?;
        status.ensure_draft("actions can be deleted (remove it from the plan instead)")?;
        db::plan::delete_action(&txn, action.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(action_id)
    }

    /// Records an action's status for a financial quarter. Records are append-only: recording
    /// the same quarter again supersedes the earlier record, and the history keeps both. The
    /// action's lead agency or a coordinator may record progress.
    async fn record_progress(
        &self,
        ctx: &Context<'_>,
        input: RecordProgressInput,
    ) -> Result<ProgressRecord> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        // The row lock serialises records for one action, so corrections never race.
        let action = db::plan::action_in_scope(
            &txn,
            &p.scope(),
            parse_id(&input.action_id, "action")?,
            true,
        )
        .await?;
        authorize(
            p,
            Operation::RecordProgress {
                lead_agency: action.lead_agency_id,
            },
        )?;
        let plan = db::plan::plan_in_scope(&txn, &p.scope(), action.plan_id, false).await?;
        let record = NewProgress {
            quarter: input.quarter.parse()?,
            status: input.status.into(),
            commentary: input.commentary,
            percent_complete: input.percent_complete,
        }
        .validate(&facts(&plan, &action)?)?;
        let id = db::plan::append_progress(
            &txn,
            db::plan::ProgressEntry {
                action_id: action.id,
                quarter: record.quarter.to_string(),
                status: record.status.as_str(),
                commentary: record.commentary,
                percent_complete: record.percent_complete,
                by_sub: &p.sub,
                by_agency: &p.agency,
            },
        )
        .await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(ProgressRecord::try_from(
            db::plan::progress_by_id(conn, id).await?,
        )?)
    }

    /// Removes an action from the plan by a recorded decision (e.g. of the RAG). The action
    /// stays in the plan and in every report, as REMOVED from the quarter of the decision on.
    /// Coordinators only.
    async fn remove_action(&self, ctx: &Context<'_>, input: RemoveActionInput) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let action = db::plan::action_in_scope(
            &txn,
            &p.scope(),
            parse_id(&input.action_id, "action")?,
            true,
        )
        .await?;
        let (plan, _) = plan_for_change(&txn, p, &ID(action.plan_id.to_string())).await?;
        let version = input.version.unwrap_or(action.version);
        if version != action.version {
            return Err(db::plan::stale_version(version).into());
        }
        let mut removal = Removal {
            reason: input.reason,
            decided_by: input.decided_by,
            decided_on: input.decided_on,
        };
        let quarter = removal.validate(&facts(&plan, &action)?)?;
        db::plan::remove_action(
            &txn,
            action.id,
            version,
            db::plan::RemovalRecord {
                reason: &removal.reason,
                decided_by: &removal.decided_by,
                decided_on: removal.decided_on,
                quarter: quarter.to_string(),
                removed_by: &p.sub,
            },
        )
        .await?;
        txn.commit().await.map_err(begin_err)?;
        reload_action(conn, p, action.id).await
    }

    /// Carries an action over into the partnership's plan for the next financial year, linked
    /// both ways (`carriedOverFrom` / `carriedOverTo`). Coordinators only.
    async fn carry_over_action(
        &self,
        ctx: &Context<'_>,
        input: CarryOverActionInput,
    ) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let source = db::plan::action_in_scope(
            &txn,
            &p.scope(),
            parse_id(&input.action_id, "action")?,
            true,
        )
        .await?;
        let (source_plan, _) = plan_for_change(&txn, p, &ID(source.plan_id.to_string())).await?;
        let priority = db::plan::priority_in_scope(
            &txn,
            &p.scope(),
            parse_id(&input.priority_id, "priority")?,
        )
        .await?;
        let (target_plan, status) =
            plan_for_change(&txn, p, &ID(priority.plan_id.to_string())).await?;
        let source_year: FinancialYear = source_plan.financial_year.parse()?;
        let target_year: FinancialYear = target_plan.financial_year.parse()?;
        if target_plan.partnership_id != source_plan.partnership_id
            || target_year != source_year.next()
        {
            return Err(AppError::BadUserInput(format!(
                "priorityId must belong to the partnership's plan for {}, the year after {source_year}",
                source_year.next()
            ))
            .into());
        }
        if source.removal_reason.is_some() {
            return Err(
                AppError::Conflict("a removed action cannot be carried over".to_owned()).into(),
            );
        }
        let added = rules::added_in_quarter(
            status,
            target_year,
            parse_quarter_input(input.added_in_quarter.as_deref())?,
        )?;
        let new = db::plan::NewAction {
            plan_id: target_plan.id,
            priority_id: priority.id,
            action_ref: validate_ref(&input.action_ref, priority.position)?,
            title: source.title.clone(),
            description: source.description.clone(),
            measure: source.measure.clone(),
            target_date: None,
            lead_agency_id: source.lead_agency_id,
            lead_officer: source.lead_officer.clone(),
            added_in_quarter: added.map(|q| q.to_string()),
            carried_over_from_id: Some(source.id),
        };
        let id = db::plan::insert_action(&txn, &new).await?;
        txn.commit().await.map_err(begin_err)?;
        reload_action(conn, p, id).await
    }
}

fn check_position(position: i32) -> Result<(), AppError> {
    if (1..=99).contains(&position) {
        Ok(())
    } else {
        Err(AppError::BadUserInput(format!(
            "position must be between 1 and 99, not {position}"
        )))
    }
}

impl PlanMutation {
    async fn lifecycle(
        &self,
        ctx: &Context<'_>,
        plan_id: &ID,
        step: LifecycleStep,
        update: db::plan::LifecycleUpdate,
        detail: Option<String>,
    ) -> Result<Plan> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let (plan, status) = plan_for_change(&txn, p, plan_id).await?;
        status.step(step)?;
        if let (Some((_, ratified_on)), Some(signed_on)) = (&update.ratified, plan.signed_off_on)
            && *ratified_on < signed_on
        {
            return Err(AppError::BadUserInput(format!(
                "ratifiedOn {ratified_on} is before the plan was signed off ({signed_on})"
            ))
            .into());
        }
        db::plan::apply_lifecycle(&txn, plan.id, update).await?;
        db::plan::insert_event(&txn, plan.id, step.as_str(), &p.sub, &p.agency, detail).await?;
        txn.commit().await.map_err(begin_err)?;
        reload_plan(conn, p, plan.id).await
    }
}
