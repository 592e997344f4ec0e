//! A plan's progress at a quarter's end: the progress report the RAG and the PCC receive, and
//! the plan and action statuses it is made of.

use std::collections::HashMap;

use async_graphql::{Enum, ID, SimpleObject};
use uuid::Uuid;

use crate::db;
use crate::db::plan::{PlanRow, PriorityRow};
use crate::domain::period::Quarter;
use crate::domain::plan::{self as rules, Counts, ProgressStatus as DomainProgress, StandingAt};
use crate::error::AppError;
use crate::scalar::{Date, Timestamp};

/// Where a plan is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanStatus {
    /// Being written: the title may change, priorities and actions may be added, edited and
    /// deleted freely, and new drafts may be started. No progress can be recorded yet.
    Draft,
    /// Signed off (`signedOffBy`, `signedOffOn`) and in force: progress is recorded each quarter
    /// and actions may be added (with the quarter) or removed, but priorities no longer change,
    /// and of an action only the lead agency, lead officer and target date may be edited.
    SignedOff,
    /// Ratified at a meeting (`ratifiedMeeting`, `ratifiedOn`): still in force, under the same
    /// rules as SIGNED_OFF, until it is closed.
    Ratified,
    /// Closed at the end of its financial year: nothing in it changes any more, though its
    /// actions can still be carried over into the next year's plan.
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

/// An action's standing at the end of a quarter: its latest progress, or REMOVED.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionStatus {
    /// No progress recorded by then, or the latest record says NOT_STARTED.
    NotStarted,
    /// The latest record by then says ON_TARGET: under way and on target to be completed.
    OnTarget,
    /// The latest record by then says COMPLETE: the expected outcome has been achieved.
    Complete,
    /// The latest record by then says INCOMPLETE: not achieved and not on target to be, with the
    /// lead officer's commentary saying why.
    Incomplete,
    /// Taken out of the plan by a recorded decision (`Action.removal`), from the quarter of the
    /// decision on. It still counts among the plan's expected outcomes.
    Removed,
}

/// A partnership's action plan for one financial year.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Plan {
    /// The plan's id, an opaque string.
    pub id: ID,
    /// The partnership's slug.
    pub partnership: String,
    /// Such as `2014/15` (1 April 2014 to 31 March 2015).
    pub financial_year: String,
    /// The plan's title; it can be changed only while the plan is a draft.
    pub title: String,
    /// Where the plan is in its life, which decides what may still change in it.
    pub status: PlanStatus,
    /// The draft number ("draft 1"); goes up with each new draft until sign-off.
    pub draft_number: i32,
    /// Who signed the plan off (e.g. "RAG chair and vice chair").
    pub signed_off_by: Option<String>,
    /// The date the plan was signed off (YYYY-MM-DD), as given to `signOffPlan`; null until it
    /// is signed off.
    pub signed_off_on: Option<crate::scalar::Date>,
    /// The meeting that ratified the plan (e.g. "RAG, 20 April 2015").
    pub ratified_meeting: Option<String>,
    /// The date the plan was ratified (YYYY-MM-DD), as given to `ratifyPlan`; null until it is
    /// ratified.
    pub ratified_on: Option<crate::scalar::Date>,
    /// When the plan was closed (an RFC 3339 timestamp in UTC); null until it is closed.
    pub closed_at: Option<crate::scalar::Timestamp>,
    /// When the plan was created (an RFC 3339 timestamp in UTC).
    pub created_at: crate::scalar::Timestamp,
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
            signed_off_on: r.signed_off_on.map(Into::into),
            ratified_meeting: r.ratified_meeting,
            ratified_on: r.ratified_on.map(Into::into),
            closed_at: r.closed_at.map(Into::into),
            created_at: Timestamp(r.created_at),
        })
    }
}

/// An action's status as reported, from its standing (None: not counted in that quarter).
pub fn standing_to_status(s: StandingAt) -> Option<ActionStatus> {
    match s {
        StandingAt::NotCounted => None,
        StandingAt::NotStarted => Some(ActionStatus::NotStarted),
        StandingAt::OnTarget => Some(ActionStatus::OnTarget),
        StandingAt::Complete => Some(ActionStatus::Complete),
        StandingAt::Incomplete => Some(ActionStatus::Incomplete),
        StandingAt::Removed => Some(ActionStatus::Removed),
    }
}

pub fn parse_quarter_opt(q: Option<&str>) -> Result<Option<Quarter>, AppError> {
    q.map(|q| {
        q.parse::<Quarter>()
            .map_err(|_| AppError::internal(anyhow::anyhow!("bad quarter {q} in the database")))
    })
    .transpose()
}

/// Counts of expected outcomes by status, with each as a percentage of `expected` rounded to
/// one decimal place (half away from zero, from the exact ratio).
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    /// The expected outcomes (actions) counted at the quarter's end: every action except those
    /// added in a later quarter, removed ones included. `complete`, `onTarget`, `incomplete`,
    /// `removed` and `notStarted` add up to it.
    pub expected: i32,
    /// Actions COMPLETE at the quarter's end.
    pub complete: i32,
    /// Actions ON_TARGET at the quarter's end.
    pub on_target: i32,
    /// Actions INCOMPLETE at the quarter's end.
    pub incomplete: i32,
    /// Actions REMOVED from the plan by the quarter's end.
    pub removed: i32,
    /// Actions NOT_STARTED at the quarter's end, including those with no progress recorded.
    pub not_started: i32,
    /// `complete` as a percentage of `expected`, to one decimal place; 0 when `expected` is 0.
    pub complete_percent: f64,
    /// `onTarget` as a percentage of `expected`, to one decimal place; 0 when `expected` is 0.
    pub on_target_percent: f64,
    /// `incomplete` as a percentage of `expected`, to one decimal place; 0 when `expected` is 0.
    pub incomplete_percent: f64,
    /// `removed` as a percentage of `expected`, to one decimal place; 0 when `expected` is 0.
    pub removed_percent: f64,
    /// `notStarted` as a percentage of `expected`, to one decimal place; 0 when `expected` is 0.
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
    /// The priority's id.
    pub priority_id: ID,
    /// The priority's position in the plan (1 for the first).
    pub position: i32,
    /// The priority's title.
    pub title: String,
    /// The priority's actions counted by their status at the quarter's end.
    pub counts: StatusCounts,
}

/// An action counted as REMOVED in the report, with the decision.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovedAction {
    /// The action's id.
    pub action_id: ID,
    /// The action's ref, such as `2.2`.
    #[graphql(name = "ref")]
    #[serde(rename = "ref")]
    pub action_ref: String,
    /// The action's title.
    pub title: String,
    /// The position of the action's priority in the plan.
    pub priority_position: i32,
    /// Why the action was removed, as recorded with the decision.
    pub reason: String,
    /// The body that decided, e.g. RAG.
    pub decided_by: String,
    /// The date of the decision (YYYY-MM-DD).
    pub decided_on: crate::scalar::Date,
}

/// An action counted as INCOMPLETE in the report, with the lead officer's commentary.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncompleteAction {
    /// The action's id.
    pub action_id: ID,
    /// The action's ref, such as `5.4`.
    #[graphql(name = "ref")]
    #[serde(rename = "ref")]
    pub action_ref: String,
    /// The action's title.
    pub title: String,
    /// The position of the action's priority in the plan.
    pub priority_position: i32,
    /// The lead officer's commentary on the record the status comes from, saying why the
    /// action is incomplete.
    pub commentary: String,
    /// The quarter of the record the status comes from.
    pub recorded_for_quarter: String,
}

/// A plan as at the end of a quarter: the report the RAG and the PCC receive, computed from
/// the records so that its rows always add up to its total.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanProgress {
    /// The plan reported on, as it stands now (its status and title today, not at the
    /// quarter's end).
    pub plan: Plan,
    /// The quarter reported on, such as `2014/15 Q3`.
    pub quarter: String,
    /// The last day of the quarter.
    pub as_at: crate::scalar::Date,
    /// The counts for the whole plan: the sum of the priorities' rows.
    pub total: StatusCounts,
    /// One row per priority, in position order, priorities without actions included.
    pub priorities: Vec<PriorityProgress>,
    /// The actions counted as REMOVED at the quarter's end, in ref order.
    pub removed_actions: Vec<RemovedAction>,
    /// The actions counted as INCOMPLETE at the quarter's end, in ref order.
    pub incomplete_actions: Vec<IncompleteAction>,
}

pub fn progress_report(
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
                decided_on: Date(row.removal_decided_on.unwrap_or_default()),
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
        as_at: Date(quarter.last_day()),
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
