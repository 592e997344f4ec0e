//! The mutations that edit a plan and move it through its life.

use super::*;

#[derive(Default)]
pub struct PlanMutation;

/// Loads a plan in scope for writing and checks that the caller may manage it.
pub(super) async fn plan_for_change<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: &ID,
) -> Result<(PlanRow, rules::PlanStatus), AppError> {
    let plan = db::plan::plan_in_scope(conn, &p.scope(), parse_id(id, "plan")?, true).await?;
    authorize(p, Operation::ManagePlan)?;
    let status = rules::PlanStatus::parse(&plan.status)?;
    Ok((plan, status))
}

pub(super) async fn reload_plan<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: Uuid,
) -> Result<Plan> {
    Ok(Plan::try_from(
        db::plan::plan_in_scope(conn, &p.scope(), id, false).await?,
    )?)
}

pub(super) async fn reload_action<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: Uuid,
) -> Result<Action> {
    Ok(db::plan::action_in_scope(conn, &p.scope(), id, false)
        .await?
        .into())
}

pub(super) fn validate_ref(action_ref: &str, priority_position: i32) -> Result<String, AppError> {
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

pub(super) fn parse_quarter_input(q: Option<&str>) -> Result<Option<Quarter>, AppError> {
    q.map(str::parse::<Quarter>).transpose()
}

pub(super) async fn lead_agency(
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

pub(super) fn facts(plan: &PlanRow, action: &ActionRow) -> Result<ActionFacts, AppError> {
    Ok(ActionFacts {
        plan_status: rules::PlanStatus::parse(&plan.status)?,
        plan_year: plan.financial_year.parse()?,
        added_in: parse_quarter_opt(action.added_in_quarter.as_deref())?,
        removed_from: parse_quarter_opt(action.removal_quarter.as_deref())?,
    })
}

pub(super) fn begin_err(e: sea_orm::DbErr) -> AppError {
    AppError::internal(e)
}

#[Object]
impl PlanMutation {
    /// Starts a plan for a financial year, as draft 1. Coordinators only.
    async fn create_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "the partnership, the financial year and the title; a partnership not in the caller's token is NOT_FOUND, a second plan for the same year a CONFLICT"
        )]
        input: CreatePlanInput,
    ) -> Result<Plan> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
    async fn update_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the draft plan and its new title")] input: UpdatePlanInput,
    ) -> Result<Plan> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let (plan, status) = plan_for_change(&txn, p, &input.plan_id).await?;
        status.ensure_draft("the plan can be edited")?;
        db::plan::update_plan_title(&txn, plan.id, &rules::required_text(&input.title, "title")?)
            .await?;
        txn.commit().await.map_err(begin_err)?;
        reload_plan(conn, p, plan.id).await
    }

    /// Starts the next draft of a draft plan (draft 1 -> draft 2). Coordinators only.
    async fn new_plan_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the id of a draft plan (CONFLICT otherwise)")] plan_id: ID,
    ) -> Result<Plan> {
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
    async fn sign_off_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the draft plan, who signed it off and when")] input: SignOffPlanInput,
    ) -> Result<Plan> {
        let by = rules::required_text(&input.signed_off_by, "signedOffBy")?;
        let detail = format!("signed off by {by} on {}", input.signed_off_on);
        self.lifecycle(
            ctx,
            &input.plan_id,
            LifecycleStep::SignOff,
            db::plan::LifecycleUpdate {
                status: "SIGNED_OFF",
                signed_off: Some((by, *input.signed_off_on)),
                ..Default::default()
            },
            Some(detail),
        )
        .await
    }

    /// Records the plan's ratification at a meeting. Coordinators only.
    async fn ratify_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the signed-off plan, the meeting that ratified it and its date")]
        input: RatifyPlanInput,
    ) -> Result<Plan> {
        let meeting = rules::required_text(&input.meeting, "meeting")?;
        let detail = format!("ratified at {meeting} on {}", input.ratified_on);
        self.lifecycle(
            ctx,
            &input.plan_id,
            LifecycleStep::Ratify,
            db::plan::LifecycleUpdate {
                status: "RATIFIED",
                ratified: Some((meeting, *input.ratified_on)),
                ..Default::default()
            },
            Some(detail),
        )
        .await
    }

    /// Closes a ratified plan at year end; nothing in it changes afterwards. Coordinators only.
    async fn close_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the id of a ratified plan (CONFLICT otherwise)")] plan_id: ID,
    ) -> Result<Plan> {
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
    async fn add_priority(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the draft plan and the new priority")] input: AddPriorityInput,
    ) -> Result<Priority> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
        #[graphql(desc = "the priority and what to change")] input: UpdatePriorityInput,
    ) -> Result<Priority> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
    async fn delete_priority(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "the id of a priority of a draft plan; CONFLICT when the plan is not a draft or the priority still has actions"
        )]
        priority_id: ID,
    ) -> Result<ID> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
    async fn add_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the priority and the new action")] input: AddActionInput,
    ) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
            target_date: input.target_date.map(Into::into),
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
    async fn update_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the action, the version that was read and what to change")]
        input: UpdateActionInput,
    ) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
            action.target_date = input.target_date.map(Into::into);
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
    async fn delete_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "the id of an action of a draft plan; CONFLICT when the plan is not a draft, or the action has progress records or was carried over"
        )]
        action_id: ID,
    ) -> Result<ID> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
        #[graphql(desc = "the action, the quarter and the lead officer's assessment")]
        input: RecordProgressInput,
    ) -> Result<ProgressRecord> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
    async fn remove_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the action and the decision")] input: RemoveActionInput,
    ) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
            decided_on: *input.decided_on,
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
        #[graphql(
            desc = "the action, a priority of the partnership's plan for the next financial year (BAD_USER_INPUT otherwise) and the copy's ref; a removed action, or one already carried over, is a CONFLICT"
        )]
        input: CarryOverActionInput,
    ) -> Result<Action> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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

pub(super) fn check_position(position: i32) -> Result<(), AppError> {
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
        let conn = crate::graphql::db(ctx)?;
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
