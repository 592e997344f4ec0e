//! The plan's GraphQL types: plans, priorities, actions, progress and the progress report's figures, with their fields.

use super::*;
use crate::scalar::{Date, Timestamp};
pub use crate::service::report::{
    ActionStatus, IncompleteAction, Plan, PlanProgress, PlanStatus, PriorityProgress,
    RemovedAction, StatusCounts, parse_quarter_opt, progress_report, standing_to_status,
};

/// A lead officer's assessment of an action for one quarter.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProgressStatus {
    /// Work on the action has not begun.
    NotStarted,
    /// Under way and on target to be completed.
    OnTarget,
    /// The expected outcome has been achieved.
    Complete,
    /// Not achieved and not on target to be (for example a reduction target missed); the record
    /// must say why in `commentary`. An incomplete action may be carried over into the next
    /// year's plan.
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

/// A kind of step in a plan's life; each `PlanEvent` of `Plan.lifecycle` records one, with who
/// took it and when.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PlanStep {
    /// The plan was started (`createPlan`), as draft 1.
    Created,
    /// A new draft was started (`newPlanDraft`); the event's `draftNumber` is the new draft's.
    NewDraft,
    /// The plan was signed off (`signOffPlan`); the event's `detail` says by whom and on which
    /// date.
    SignedOff,
    /// The plan was ratified (`ratifyPlan`); the event's `detail` names the meeting and the date.
    Ratified,
    /// The plan was closed at the end of its year (`closePlan`).
    Closed,
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
#[graphql(complex)]
pub struct PlanEvent {
    /// What was done.
    pub step: PlanStep,
    /// The draft number at the time of the step.
    pub draft_number: i32,
    /// The token subject that took the step.
    pub by: String,
    #[graphql(skip)]
    pub agency: String,
    /// For SIGNED_OFF, who signed the plan off and on which date (e.g. "signed off by RAG chair
    /// and vice chair on 2015-04-01"); for RATIFIED, the meeting and the date (e.g. "ratified at
    /// RAG on 2015-04-20"); null for the other steps.
    pub detail: Option<String>,
    /// When the step was taken (an RFC 3339 timestamp in UTC).
    pub at: crate::scalar::Timestamp,
}

#[async_graphql::ComplexObject]
impl PlanEvent {
    /// The agency that took the step (slug, name, kind).
    #[graphql(complexity = "child_complexity")]
    async fn agency(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<std::sync::Arc<crate::graphql::area::Agency>> {
        crate::graphql::incident::agency(ctx, &self.agency).await
    }
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
            at: Timestamp(r.at),
        })
    }
}

/// A priority (theme) of a plan.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Priority {
    /// The priority's id, an opaque string.
    pub id: ID,
    /// 1-based position in the plan; actions of priority 2 are numbered 2.1, 2.2, ...
    pub position: i32,
    /// The priority's title, such as "Domestic abuse".
    pub title: String,
    /// What the priority covers; an empty string when none was given.
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

    /// The plan the priority belongs to.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        load_plan(ctx, self.plan_uuid).await
    }
}

/// A decision to take an action out of the plan.
#[derive(SimpleObject, Clone)]
pub struct ActionRemoval {
    /// Why the action was taken out of the plan, as recorded with the decision.
    pub reason: String,
    /// The body that decided, e.g. RAG.
    pub decided_by: String,
    /// The date of the decision (YYYY-MM-DD); `fromQuarter` is the quarter it falls in.
    pub decided_on: crate::scalar::Date,
    /// The action counts as REMOVED from this quarter on.
    pub from_quarter: String,
    /// The token subject that recorded the decision.
    pub recorded_by: String,
    /// When the decision was recorded in csphub (an RFC 3339 timestamp in UTC).
    pub recorded_at: crate::scalar::Timestamp,
}

/// A numbered expected outcome of a plan.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Action {
    /// The action's id, an opaque string.
    pub id: ID,
    /// Such as `2.2`: unique in the plan.
    #[graphql(name = "ref")]
    pub action_ref: String,
    /// The expected outcome, in a line.
    pub title: String,
    /// A fuller description of the action; an empty string when none was given.
    pub description: String,
    /// The SMART measure of success.
    pub measure: String,
    /// The date the outcome is due by (YYYY-MM-DD); null when none is set.
    pub target_date: Option<crate::scalar::Date>,
    /// The lead officer's name, as free text: the person in the lead agency who reports the
    /// action's progress each quarter. An empty string when none was given.
    pub lead_officer: String,
    /// The quarter the action was added in; null when it was in the plan from the start.
    pub added_in_quarter: Option<String>,
    /// Pass this back with an edit; an edit of a stale version is a CONFLICT.
    pub version: i32,
    /// The decision that took the action out of the plan; null unless it has been removed.
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
                    decided_on: Date(on),
                    from_quarter: q.clone(),
                    recorded_by: sub.clone(),
                    recorded_at: Timestamp(at),
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
            target_date: r.target_date.map(Into::into),
            lead_officer: r.lead_officer.clone(),
            added_in_quarter: r.added_in_quarter.clone(),
            version: r.version,
            removal,
            row: r,
        }
    }
}

use crate::graphql::area::Agency;

#[ComplexObject]
impl Action {
    /// The agency that leads the action (its officers record progress).
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        let row = loader(ctx)?
            .load_one(AgencyById(self.row.lead_agency_id))
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("lead agency missing")))?;
        Ok(row.into())
    }

    /// The priority (theme) the action belongs to.
    async fn priority(&self, ctx: &Context<'_>) -> Result<Priority> {
        let row = loader(ctx)?
            .load_one(PriorityById(self.row.priority_id))
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("priority missing")))?;
        Ok(row.into())
    }

    /// The plan the action belongs to.
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
        #[graphql(
            desc = "a financial quarter such as `2014/15 Q3` (Q1 is April to June; BAD_USER_INPUT when malformed); the answer is null when the action was added after it. Omit it for the status now, which is never null"
        )]
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

/// A quarterly progress record. Records are never changed: a correction is a new record for
/// the same quarter that supersedes the old one.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ProgressRecord {
    /// The record's id, an opaque string.
    pub id: ID,
    /// The id of the action the record is about.
    pub action_id: ID,
    /// The financial quarter the record is for, such as `2014/15 Q3` (Q1 is April to June).
    pub quarter: String,
    /// The lead officer's assessment of the action for the quarter.
    pub status: ProgressStatus,
    /// What the lead officer said about the action's progress; always present for INCOMPLETE,
    /// otherwise null when nothing was said.
    pub commentary: Option<String>,
    /// How far the action has got, as a whole percentage from 0 to 100; null when not given.
    pub percent_complete: Option<i32>,
    /// The record this one corrects, if any.
    pub supersedes: Option<ID>,
    /// True when a later record for the same quarter replaced this one.
    pub superseded: bool,
    /// The token subject that recorded it.
    pub recorded_by: String,
    #[graphql(skip)]
    pub recorded_by_agency: String,
    /// When the record was made (an RFC 3339 timestamp in UTC).
    pub recorded_at: crate::scalar::Timestamp,
}

#[async_graphql::ComplexObject]
impl ProgressRecord {
    /// The agency that recorded it (slug, name, kind).
    #[graphql(complexity = "child_complexity")]
    async fn recorded_by_agency(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<std::sync::Arc<crate::graphql::area::Agency>> {
        crate::graphql::incident::agency(ctx, &self.recorded_by_agency).await
    }
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
            recorded_at: Timestamp(r.recorded_at),
        })
    }
}
