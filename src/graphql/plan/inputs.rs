//! The inputs of the mutations that edit a plan and move it through its life.

use super::*;

/// A new plan: the partnership, the financial year and a title. A partnership has at most one
/// plan per financial year.
#[derive(InputObject)]
pub struct CreatePlanInput {
    /// The partnership's slug.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: String,
    /// Such as `2015/16`.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub financial_year: String,
    /// The plan's title, at most 200 characters; it must not be blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
}

/// A draft plan's new title.
#[derive(InputObject)]
pub struct UpdatePlanInput {
    /// The plan's id; the plan must be a draft (CONFLICT otherwise).
    pub plan_id: ID,
    /// The new title, at most 200 characters; it must not be blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
}

/// The sign-off of a draft plan: who signed it off and on which date.
#[derive(InputObject)]
pub struct SignOffPlanInput {
    /// The plan's id; the plan must be a draft (CONFLICT otherwise).
    pub plan_id: ID,
    /// Who signed it off, e.g. "RAG chair and vice chair".
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub signed_off_by: String,
    /// The date the plan was signed off (YYYY-MM-DD).
    pub signed_off_on: crate::scalar::Date,
}

/// The ratification of a signed-off plan: the meeting and its date.
#[derive(InputObject)]
pub struct RatifyPlanInput {
    /// The plan's id; the plan must be SIGNED_OFF (CONFLICT otherwise).
    pub plan_id: ID,
    /// The meeting that ratified it, e.g. "RAG".
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub meeting: String,
    /// The date the plan was ratified (YYYY-MM-DD); it may not be before the plan's
    /// `signedOffOn` (BAD_USER_INPUT).
    pub ratified_on: crate::scalar::Date,
}

/// A new priority (theme) of a draft plan.
#[derive(InputObject)]
pub struct AddPriorityInput {
    /// The plan's id; the plan must be a draft (CONFLICT otherwise).
    pub plan_id: ID,
    /// The priority's position in the plan, 1 to 99 (BAD_USER_INPUT otherwise); a position the
    /// plan already has is a CONFLICT. The refs of the priority's actions start with it.
    pub position: i32,
    /// The priority's title, at most 200 characters; it must not be blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
    /// What the priority covers, at most 2,000 characters; empty when left out.
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: String,
}

/// Changes to a priority of a draft plan; a field left out or null stays as it is.
#[derive(InputObject)]
pub struct UpdatePriorityInput {
    /// The priority's id; its plan must be a draft (CONFLICT otherwise).
    pub priority_id: ID,
    /// A new position, 1 to 99 (BAD_USER_INPUT otherwise); a position the plan already has is a
    /// CONFLICT. The refs of the priority's actions are not renumbered.
    pub position: Option<i32>,
    /// A new title, at most 200 characters; it must not be blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: Option<String>,
    /// A new description, at most 2,000 characters; an empty string clears it.
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: Option<String>,
}

/// A new action (expected outcome) of a priority. In a draft plan it may be added freely; once
/// the plan is in force, `addedInQuarter` is required; a closed plan takes none (CONFLICT).
#[derive(InputObject)]
pub struct AddActionInput {
    /// The id of the priority the action belongs to.
    pub priority_id: ID,
    /// Such as `2.3`: unique in the plan.
    #[graphql(name = "ref")]
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub action_ref: String,
    /// The expected outcome in a line, at most 200 characters; it must not be blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: String,
    /// A fuller description, at most 2,000 characters; empty when left out.
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: String,
    /// The SMART measure.
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub measure: String,
    /// The date the outcome is due by (YYYY-MM-DD); none when left out.
    pub target_date: Option<crate::scalar::Date>,
    /// The lead agency's slug; it must belong to the partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub lead_agency: String,
    /// The lead officer's name, at most 200 characters; empty when left out.
    #[graphql(default)]
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub lead_officer: String,
    /// Required once the plan is in force (signed off or ratified): the quarter it is added in.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub added_in_quarter: Option<String>,
}

/// Changes to an action; a field left out or null stays as it is. In a draft plan every field
/// may change; once the plan is in force only `leadAgency`, `leadOfficer` and `targetDate` may
/// (any other is a CONFLICT), and a closed plan takes no changes (CONFLICT).
#[derive(InputObject)]
pub struct UpdateActionInput {
    /// The action's id.
    pub action_id: ID,
    /// The version that was read; a stale version is a CONFLICT and nothing changes.
    pub version: i32,
    /// Move the action to another priority of the same plan (draft only).
    pub priority_id: Option<ID>,
    /// A new ref (draft only), such as `2.3`: the priority's position, a dot and the outcome's
    /// number, unique in the plan (CONFLICT when taken). The ref must start with the position
    /// of the action's priority, the new one when `priorityId` moves it (BAD_USER_INPUT).
    #[graphql(name = "ref")]
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub action_ref: Option<String>,
    /// A new title (draft only), at most 200 characters; it must not be blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub title: Option<String>,
    /// A new description (draft only), at most 2,000 characters; an empty string clears it.
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub description: Option<String>,
    /// A new SMART measure (draft only), at most 2,000 characters; an empty string clears it.
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub measure: Option<String>,
    /// A new target date (YYYY-MM-DD). A target date cannot be cleared: null leaves it as it is.
    pub target_date: Option<crate::scalar::Date>,
    /// The slug of a new lead agency; it must belong to the plan's partnership
    /// (BAD_USER_INPUT otherwise).
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub lead_agency: Option<String>,
    /// A new lead officer's name, at most 200 characters; an empty string clears it.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub lead_officer: Option<String>,
}

/// An action's status for one quarter, as its lead officer reports it. The plan must be in
/// force, signed off or ratified (CONFLICT otherwise); the quarter must be in the plan's
/// financial year and not before the quarter the action was added in (BAD_USER_INPUT).
#[derive(InputObject)]
pub struct RecordProgressInput {
    /// The action's id. A removed action takes no record for the quarter of its removal or
    /// later (CONFLICT).
    pub action_id: ID,
    /// Such as `2014/15 Q3` (Q1 is April to June).
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub quarter: String,
    /// The lead officer's assessment of the action for the quarter.
    pub status: ProgressStatus,
    /// Required for INCOMPLETE.
    #[graphql(validator(custom = "crate::graphql::Text(2000)"))]
    pub commentary: Option<String>,
    /// 0 to 100.
    pub percent_complete: Option<i32>,
}

/// A decision to take an action out of a plan in force (signed off or ratified; CONFLICT
/// otherwise).
#[derive(InputObject)]
pub struct RemoveActionInput {
    /// The action's id; an action already removed is a CONFLICT.
    pub action_id: ID,
    /// Why the action is removed, at most 1,000 characters; it must not be blank.
    #[graphql(validator(custom = "crate::graphql::Text(1000)"))]
    pub reason: String,
    /// The body that decided, e.g. RAG.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub decided_by: String,
    /// The date of the decision (YYYY-MM-DD): in the plan's financial year and not before the
    /// quarter the action was added in (BAD_USER_INPUT otherwise). The action counts as REMOVED
    /// from that date's quarter on.
    pub decided_on: crate::scalar::Date,
    /// The version that was read; when given, a stale version is a CONFLICT.
    pub version: Option<i32>,
}

/// An action to copy into the partnership's plan for the next financial year. The copy takes the
/// title, description, measure, lead agency and lead officer, but no target date and no progress.
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
