//! The action plan's rules: the lifecycle, what may change in each state, quarterly progress and
//! the progress report's arithmetic.

use chrono::NaiveDate;

use crate::domain::period::{FinancialYear, Quarter};
use crate::error::AppError;

/// Where a plan is in its life: draft -> signed off -> ratified -> closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    Draft,
    SignedOff,
    Ratified,
    Closed,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "DRAFT",
            PlanStatus::SignedOff => "SIGNED_OFF",
            PlanStatus::Ratified => "RATIFIED",
            PlanStatus::Closed => "CLOSED",
        }
    }

    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s {
            "DRAFT" => Ok(PlanStatus::Draft),
            "SIGNED_OFF" => Ok(PlanStatus::SignedOff),
            "RATIFIED" => Ok(PlanStatus::Ratified),
            "CLOSED" => Ok(PlanStatus::Closed),
            other => Err(AppError::internal(anyhow::anyhow!(
                "unknown plan status {other} in the database"
            ))),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            PlanStatus::Draft => "in draft",
            PlanStatus::SignedOff => "signed off",
            PlanStatus::Ratified => "ratified",
            PlanStatus::Closed => "closed",
        }
    }

    /// Priorities and actions can be freely edited only while the plan is a draft.
    pub fn ensure_draft(self, what: &str) -> Result<(), AppError> {
        if self == PlanStatus::Draft {
            Ok(())
        } else {
            Err(AppError::Conflict(format!(
                "the plan is {}: {what} only while it is in draft",
                self.describe()
            )))
        }
    }

    /// A plan in force (signed off or ratified) takes progress, removals and additions.
    pub fn ensure_live(self, what: &str) -> Result<(), AppError> {
        match self {
            PlanStatus::SignedOff | PlanStatus::Ratified => Ok(()),
            other => Err(AppError::Conflict(format!(
                "the plan is {}: {what} only once it is signed off and before it is closed",
                other.describe()
            ))),
        }
    }

    pub fn ensure_not_closed(self, what: &str) -> Result<(), AppError> {
        if self == PlanStatus::Closed {
            Err(AppError::Conflict(format!(
                "the plan is closed: {what} no longer"
            )))
        } else {
            Ok(())
        }
    }

    /// The state a lifecycle step moves the plan to, if the step is allowed from here.
    pub fn step(self, step: LifecycleStep) -> Result<PlanStatus, AppError> {
        let next = match (self, step) {
            (PlanStatus::Draft, LifecycleStep::NewDraft) => PlanStatus::Draft,
            (PlanStatus::Draft, LifecycleStep::SignOff) => PlanStatus::SignedOff,
            (PlanStatus::SignedOff, LifecycleStep::Ratify) => PlanStatus::Ratified,
            (PlanStatus::Ratified, LifecycleStep::Close) => PlanStatus::Closed,
            (from, step) => {
                return Err(AppError::Conflict(format!(
                    "a plan that is {} cannot be {}; the order is draft, signed off, ratified, closed",
                    from.describe(),
                    step.past_tense()
                )));
            }
        };
        Ok(next)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleStep {
    NewDraft,
    SignOff,
    Ratify,
    Close,
}

impl LifecycleStep {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStep::NewDraft => "NEW_DRAFT",
            LifecycleStep::SignOff => "SIGNED_OFF",
            LifecycleStep::Ratify => "RATIFIED",
            LifecycleStep::Close => "CLOSED",
        }
    }

    fn past_tense(self) -> &'static str {
        match self {
            LifecycleStep::NewDraft => "given a new draft",
            LifecycleStep::SignOff => "signed off",
            LifecycleStep::Ratify => "ratified",
            LifecycleStep::Close => "closed",
        }
    }
}

/// A lead officer's quarterly assessment of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStatus {
    NotStarted,
    OnTarget,
    Complete,
    Incomplete,
}

impl ProgressStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgressStatus::NotStarted => "NOT_STARTED",
            ProgressStatus::OnTarget => "ON_TARGET",
            ProgressStatus::Complete => "COMPLETE",
            ProgressStatus::Incomplete => "INCOMPLETE",
        }
    }

    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s {
            "NOT_STARTED" => Ok(ProgressStatus::NotStarted),
            "ON_TARGET" => Ok(ProgressStatus::OnTarget),
            "COMPLETE" => Ok(ProgressStatus::Complete),
            "INCOMPLETE" => Ok(ProgressStatus::Incomplete),
            other => Err(AppError::internal(anyhow::anyhow!(
                "unknown progress status {other} in the database"
            ))),
        }
    }
}

/// A progress record as a lead officer submits it, before it is checked.
#[derive(Debug, Clone)]
pub struct NewProgress {
    pub quarter: Quarter,
    pub status: ProgressStatus,
    pub commentary: Option<String>,
    pub percent_complete: Option<i32>,
}

/// What the rules need to know of an action to accept progress on it.
#[derive(Debug, Clone)]
pub struct ActionFacts {
    pub plan_status: PlanStatus,
    pub plan_year: FinancialYear,
    pub added_in: Option<Quarter>,
    pub removed_from: Option<Quarter>,
}

impl NewProgress {
    /// Checks the record against the rules; returns it with blank commentary dropped.
    pub fn validate(mut self, action: &ActionFacts) -> Result<Self, AppError> {
        action.plan_status.ensure_live("progress can be recorded")?;
        if !action.plan_year.contains(self.quarter) {
            return Err(AppError::BadUserInput(format!(
                "quarter {} is not in the plan's financial year {}",
                self.quarter, action.plan_year
            )));
        }
        if let Some(added) = action.added_in
            && self.quarter < added
        {
            return Err(AppError::BadUserInput(format!(
                "the action was added in {added}; progress for {} cannot be recorded",
                self.quarter
            )));
        }
        if let Some(removed) = action.removed_from
            && self.quarter >= removed
        {
            return Err(AppError::Conflict(format!(
                "the action was removed from the plan in {removed}; no progress can be recorded from then on"
            )));
        }
        if let Some(p) = self.percent_complete
            && !(0..=100).contains(&p)
        {
            return Err(AppError::BadUserInput(format!(
                "percentComplete must be between 0 and 100, not {p}"
            )));
        }
        self.commentary = self
            .commentary
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if self.status == ProgressStatus::Incomplete && self.commentary.is_none() {
            return Err(AppError::BadUserInput(
                "commentary is required when an action is INCOMPLETE: say why".to_owned(),
            ));
        }
        Ok(self)
    }
}

/// A RAG (or other body's) decision to take an action out of the plan.
#[derive(Debug, Clone)]
pub struct Removal {
    pub reason: String,
    pub decided_by: String,
    pub decided_on: NaiveDate,
}

impl Removal {
    /// Checks the decision and returns the quarter from which the action counts as removed.
    pub fn validate(&mut self, action: &ActionFacts) -> Result<Quarter, AppError> {
        action.plan_status.ensure_live("actions can be removed")?;
        if action.removed_from.is_some() {
            return Err(AppError::Conflict(
                "the action has already been removed".to_owned(),
            ));
        }
        self.reason = required_text(&self.reason, "reason")?;
        self.decided_by = required_text(&self.decided_by, "decidedBy")?;
        let quarter = Quarter::containing(self.decided_on);
        if !action.plan_year.contains(quarter) {
            return Err(AppError::BadUserInput(format!(
                "the decision date {} is outside the plan's financial year {}",
                self.decided_on, action.plan_year
            )));
        }
        if let Some(added) = action.added_in
            && quarter < added
        {
            return Err(AppError::BadUserInput(format!(
                "the decision date {} is before the action was added ({added})",
                self.decided_on
            )));
        }
        Ok(quarter)
    }
}

/// Trims a required text field and rejects it if blank.
/// A code such as an area's or an indicator's: lower-case words joined by hyphens, at most 64
/// characters. `what` names it in the error, `example` shows one.
pub fn code(value: &str, what: &str, example: &str) -> Result<String, AppError> {
    let c = value.trim();
    let ok = !c.is_empty()
        && c.len() <= 64
        && c.split('-').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())
        });
    if ok {
        Ok(c.to_owned())
    } else {
        Err(AppError::BadUserInput(format!(
            "{what} '{c}' must be lower-case words joined by hyphens, such as {example}"
        )))
    }
}

pub fn required_text(value: &str, field: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err(AppError::BadUserInput(format!("{field} must not be blank")))
    } else {
        Ok(trimmed.to_owned())
    }
}

/// The quarter an action added to a plan counts from. In draft an action belongs to the whole
/// year unless told otherwise; once the plan is in force the quarter it was added in is required.
pub fn added_in_quarter(
    status: PlanStatus,
    year: FinancialYear,
    given: Option<Quarter>,
) -> Result<Option<Quarter>, AppError> {
    status.ensure_not_closed("actions can be added")?;
    if let Some(q) = given
        && !year.contains(q)
    {
        return Err(AppError::BadUserInput(format!(
            "addedInQuarter {q} is not in the plan's financial year {year}"
        )));
    }
    if status != PlanStatus::Draft && given.is_none() {
        return Err(AppError::BadUserInput(
            "the plan is in force: say which quarter the action is added in (addedInQuarter)"
                .to_owned(),
        ));
    }
    Ok(given)
}

/// An action's standing at the end of a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingAt {
    NotCounted,
    NotStarted,
    OnTarget,
    Complete,
    Incomplete,
    Removed,
}

/// Each action's status at the end of a quarter is its latest record at or before that quarter,
/// NOT_STARTED if none; REMOVED from the quarter of the removal decision on; actions added after
/// the quarter are not counted.
pub fn standing_at(
    quarter: Quarter,
    added_in: Option<Quarter>,
    removed_from: Option<Quarter>,
    latest: Option<ProgressStatus>,
) -> StandingAt {
    if added_in.is_some_and(|a| a > quarter) {
        return StandingAt::NotCounted;
    }
    if removed_from.is_some_and(|r| r <= quarter) {
        return StandingAt::Removed;
    }
    match latest {
        None | Some(ProgressStatus::NotStarted) => StandingAt::NotStarted,
        Some(ProgressStatus::OnTarget) => StandingAt::OnTarget,
        Some(ProgressStatus::Complete) => StandingAt::Complete,
        Some(ProgressStatus::Incomplete) => StandingAt::Incomplete,
    }
}

/// Counts of actions by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub expected: u32,
    pub complete: u32,
    pub on_target: u32,
    pub incomplete: u32,
    pub removed: u32,
    pub not_started: u32,
}

impl Counts {
    pub fn add(&mut self, standing: StandingAt) {
        let slot = match standing {
            StandingAt::NotCounted => return,
            StandingAt::NotStarted => &mut self.not_started,
            StandingAt::OnTarget => &mut self.on_target,
            StandingAt::Complete => &mut self.complete,
            StandingAt::Incomplete => &mut self.incomplete,
            StandingAt::Removed => &mut self.removed,
        };
        *slot += 1;
        self.expected += 1;
    }

    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Counts>) -> Counts {
        all.into_iter().fold(Counts::default(), |acc, c| Counts {
            expected: acc.expected + c.expected,
            complete: acc.complete + c.complete,
            on_target: acc.on_target + c.on_target,
            incomplete: acc.incomplete + c.incomplete,
            removed: acc.removed + c.removed,
            not_started: acc.not_started + c.not_started,
        })
    }

    /// `part` as a percentage of `expected`.
    pub fn percent(&self, part: u32) -> f64 {
        percent_one_decimal(part, self.expected)
    }
}

/// `part / whole` as a percentage rounded to one decimal place, half away from zero, computed
/// from the exact ratio in integers (no binary floating point before the last step). 0 when
/// `whole` is 0.
pub fn percent_one_decimal(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    let (part, whole) = (u64::from(part), u64::from(whole));
    // tenths of a percent = part * 1000 / whole, rounded half up (both are non-negative).
    let tenths = (part * 2000 + whole) / (2 * whole);
    // `tenths` is at most a few thousand, so the conversion is exact.
    tenths as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quarter {
        s.parse().expect("quarter parses")
    }

    #[test]
    fn percentages_round_half_away_from_zero_from_the_exact_ratio() {
        assert_eq!(percent_one_decimal(37, 60), 61.7);
        assert_eq!(percent_one_decimal(17, 60), 28.3);
        assert_eq!(percent_one_decimal(4, 60), 6.7);
        assert_eq!(percent_one_decimal(2, 60), 3.3);
        assert_eq!(percent_one_decimal(1, 8), 12.5);
        assert_eq!(percent_one_decimal(1, 16), 6.3); // 6.25 -> 6.3
        assert_eq!(percent_one_decimal(1, 80), 1.3); // 1.25 -> 1.3
        assert_eq!(percent_one_decimal(0, 0), 0.0);
        assert_eq!(percent_one_decimal(3, 3), 100.0);
    }

    #[test]
    fn lifecycle_runs_in_order_only() {
        let signed = PlanStatus::Draft
            .step(LifecycleStep::SignOff)
            .expect("allowed");
        assert_eq!(signed, PlanStatus::SignedOff);
        assert!(PlanStatus::Draft.step(LifecycleStep::Ratify).is_err());
        assert!(PlanStatus::SignedOff.step(LifecycleStep::Close).is_err());
        assert!(PlanStatus::Closed.step(LifecycleStep::SignOff).is_err());
        assert_eq!(
            PlanStatus::Ratified
                .step(LifecycleStep::Close)
                .expect("allowed"),
            PlanStatus::Closed
        );
    }

    #[test]
    fn standing_follows_added_and_removed_quarters() {
        let q3 = q("2014/15 Q3");
        assert_eq!(
            standing_at(q3, Some(q("2014/15 Q4")), None, None),
            StandingAt::NotCounted
        );
        assert_eq!(
            standing_at(
                q3,
                None,
                Some(q("2014/15 Q2")),
                Some(ProgressStatus::OnTarget)
            ),
            StandingAt::Removed
        );
        assert_eq!(
            standing_at(
                q3,
                None,
                Some(q("2014/15 Q4")),
                Some(ProgressStatus::OnTarget)
            ),
            StandingAt::OnTarget
        );
        assert_eq!(standing_at(q3, None, None, None), StandingAt::NotStarted);
    }

    #[test]
    fn incomplete_needs_commentary() {
        let facts = ActionFacts {
            plan_status: PlanStatus::Ratified,
            plan_year: "2014/15".parse().expect("year"),
            added_in: None,
            removed_from: None,
        };
        let record = NewProgress {
            quarter: q("2014/15 Q3"),
            status: ProgressStatus::Incomplete,
            commentary: Some("   ".to_owned()),
            percent_complete: None,
        };
        assert!(matches!(
            record.validate(&facts),
            Err(AppError::BadUserInput(_))
        ));
    }
}
