//! The casework after opening: details, DASH, closing and reopening, interventions, referrals, linked incidents, and correcting or removing people.

use super::*;
use crate::scalar::Date;

/// Changing an open case's details. The owning agency only. Fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateCaseInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND, and one it does not
    /// own is FORBIDDEN.
    pub case_id: ID,
    /// The version read; a case changed since is a CONFLICT.
    pub version: i32,
    /// The new summary, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"))]
    pub summary: Option<String>,
    /// The officer now leading the case, up to 200 characters; not blank.
    #[graphql(validator(custom = "Text(200)"))]
    pub lead_officer: Option<String>,
    /// May not be below what a DASH assessment implies.
    pub risk_level: Option<RiskLevel>,
    /// An area code of the partnership.
    pub area: Option<String>,
    /// Every ODG discussion date (replaces the list).
    pub odg_dates: Option<Vec<crate::scalar::Date>>,
    /// The MARAC referral date.
    pub marac_referred_on: Option<crate::scalar::Date>,
    /// The MARAC's outcome, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"))]
    pub marac_outcome: Option<String>,
}

/// A DASH risk assessment of a domestic-abuse case: the score and, by professional
/// judgement, a higher level with its reason. The case's risk level becomes the assessed one.
#[derive(InputObject)]
pub struct RecordDashInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND, and one it does not
    /// own is FORBIDDEN.
    pub case_id: ID,
    /// The case's `version` as read; a case changed since is a CONFLICT.
    pub version: i32,
    /// 0 to 24.
    pub score: i32,
    /// Only above what the score implies; needs `overrideReason`.
    pub override_level: Option<RiskLevel>,
    /// Why professional judgement raises the level, up to 2,000 characters; required with
    /// `overrideLevel`, and only with it.
    #[graphql(validator(custom = "Text(2000)"))]
    pub override_reason: Option<String>,
}

/// Closing a case with its outcome. The owning agency only.
#[derive(InputObject)]
pub struct CloseCaseInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND, and one it does not
    /// own is FORBIDDEN. A case already closed is a CONFLICT.
    pub case_id: ID,
    /// The case's `version` as read; a case changed since is a CONFLICT.
    pub version: i32,
    /// A CASE_OUTCOME code in force on the day.
    pub outcome: String,
    /// Defaults to today; not before the case opened, not in the future.
    pub closed_on: Option<crate::scalar::Date>,
}

/// A tool or power the caller's agency used in a case.
#[derive(InputObject)]
pub struct RecordInterventionInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND.
    pub case_id: ID,
    /// An INTERVENTION code in force on `startsOn`.
    pub intervention: String,
    /// The day it started (YYYY-MM-DD).
    pub starts_on: crate::scalar::Date,
    /// The day it ended or ends (YYYY-MM-DD), not before `startsOn`; leave out when there is
    /// none.
    pub ends_on: Option<crate::scalar::Date>,
    /// Free-text notes, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"))]
    pub notes: Option<String>,
}

/// A referral of a case, by the caller's agency, to a programme or agency.
#[derive(InputObject)]
pub struct ReferCaseInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND.
    pub case_id: ID,
    /// The programme or agency referred to, up to 200 characters.
    #[graphql(validator(custom = "Text(200)"))]
    pub to_programme: String,
    /// Defaults to today.
    pub referred_on: Option<crate::scalar::Date>,
}

/// Moving a referral on to its next status: any agency the case is shared with.
#[derive(InputObject)]
pub struct UpdateReferralInput {
    /// The referral's id; a referral of a case not shared with the caller's agency is NOT_FOUND.
    pub referral_id: ID,
    /// The referral's `version` as read; a referral changed since is a CONFLICT.
    pub version: i32,
    /// ACCEPTED or DECLINED from REFERRED; COMPLETED from ACCEPTED.
    pub status: ReferralStatus,
    /// Defaults to today; not before the referral.
    pub on: Option<crate::scalar::Date>,
}

/// Corrections to a person's details; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdatePersonInput {
    /// The person's id (`Subject.personId`); a person in no case shared with the caller's agency
    /// is NOT_FOUND.
    pub person_id: ID,
    /// The `personVersion` read; a person changed since is a CONFLICT.
    pub version: i32,
    /// The corrected full name, up to 200 characters; not blank.
    #[graphql(validator(custom = "Text(200)"))]
    pub full_name: Option<String>,
    /// The corrected date of birth (YYYY-MM-DD), not before 1900-01-01.
    pub date_of_birth: Option<crate::scalar::Date>,
    /// The corrected address, up to 1,000 characters.
    #[graphql(validator(custom = "Text(1000)"))]
    pub address: Option<String>,
    /// The corrected telephone, email or other contact details, up to 1,000 characters.
    #[graphql(validator(custom = "Text(1000)"))]
    pub contact: Option<String>,
    /// With `consentOn` for GIVEN or REFUSED.
    pub consent: Option<Consent>,
    /// When consent was given or refused: required with GIVEN or REFUSED.
    pub consent_on: Option<crate::scalar::Date>,
}

#[derive(Default)]
pub struct CaseWorkMutation;

#[Object]
impl CaseWorkMutation {
    /// Corrects a person's details: any caseworker whose agency sees the person through a case.
    /// The person is one record in every case that holds them. Audited in the person's
    /// partnership's log with the fields changed (not their values).
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person, the version read and the corrections.")]
        input: UpdatePersonInput,
    ) -> Result<Vec<Subject>> {
        let p = caseworker(ctx)?;
        check_dates([
            ("dateOfBirth", input.date_of_birth),
            ("consentOn", input.consent_on),
        ])?;
        if input
            .full_name
            .as_ref()
            .is_some_and(|n| n.trim().is_empty())
        {
            return Err(bad("fullName must not be empty"));
        }
        let consent = match (input.consent, input.consent_on) {
            (None, None) => None,
            (Some(Consent::NotAsked), None) => Some((Consent::NotAsked.as_str(), None)),
            (Some(Consent::NotAsked), Some(_)) => {
                return Err(bad("consentOn goes with consent GIVEN or REFUSED"));
            }
            (Some(_), None) => return Err(bad(CONSENT_NEEDS_DATE)),
            (Some(c), on) => Some((c.as_str(), on.map(NaiveDate::from))),
            (None, Some(_)) => return Err(bad("consentOn goes with consent")),
        };
        let person = parse_id(&input.person_id, "person")?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let (partnership, version) = db::case::person_for_change(&txn, p, person)
            .await?
            .ok_or_else(|| AppError::NotFound("no such person".to_owned()))?;
        if version != input.version {
            return Err(stale().into());
        }
        let changes = db::case::PersonChanges {
            full_name: input.full_name.as_ref().map(|n| n.trim().to_owned()),
            date_of_birth: input.date_of_birth.map(Into::into),
            address: input.address.clone(),
            contact: input.contact.clone(),
            consent,
        };
        if !db::case::update_person(&txn, person, input.version, &changes).await? {
            return Err(stale().into());
        }
        let changed: Vec<&str> = [
            ("fullName", input.full_name.is_some()),
            ("dateOfBirth", input.date_of_birth.is_some()),
            ("address", input.address.is_some()),
            ("contact", input.contact.is_some()),
            ("consent", input.consent.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name)
        .collect();
        audit::record(
            &txn,
            p,
            partnership,
            Action::PersonUpdated,
            Some(("person", person.to_string())),
            json!({"fields": changed}),
        )
        .await?;
        // The person as they appear in each case the caller sees.
        let rows = db::case::subjects_of_person(&txn, p, person).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(rows
            .into_iter()
            .map(Subject::try_from)
            .collect::<Result<_, _>>()?)
    }

    /// Takes a person's part in a case away (the owning agency only). A person no case holds
    /// any more is deleted by the next `csphub retention` run. Audited.
    async fn remove_subject(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The case's id; a case not shared with the caller's agency is NOT_FOUND, and one it does not own is FORBIDDEN."
        )]
        case_id: ID,
        #[graphql(desc = "The person's id (`Subject.personId`).")] person_id: ID,
        #[graphql(
            desc = "The part to take away; their other parts stay. A part the person does not have in the case is NOT_FOUND."
        )]
        part: SubjectPart,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let person = parse_id(&person_id, "person")?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &case_id).await?;
        if case.owning_agency_id != p.agency_id {
            return Err(AppError::Forbidden(
                "only the owning agency takes a person off a case".to_owned(),
            )
            .into());
        }
        if !db::case::remove_subject(&txn, case.id, person, part.as_str()).await? {
            return Err(
                AppError::NotFound("the person has no such part in the case".to_owned()).into(),
            );
        }
        audited(
            &txn,
            p,
            &case,
            Action::SubjectRemoved,
            json!({"person": person.to_string(), "part": part.as_str()}),
        )
        .await?;
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Changes an open case's details (owning agency only; CONFLICT if it changed since the
    /// version read). Audited with the fields changed.
    async fn update_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case, the version read and the changes.")] input: UpdateCaseInput,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        check_dates(
            input
                .odg_dates
                .iter()
                .flatten()
                .map(|d| ("odgDates", Some(*d)))
                .chain([("maracReferredOn", input.marac_referred_on)]),
        )?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = owned_at_version(&txn, p, &input.case_id, input.version).await?;
        if case.status == "CLOSED" {
            return Err(bad("a closed case is reopened before it is changed"));
        }
        if let Some(lead) = &input.lead_officer
            && lead.trim().is_empty()
        {
            return Err(bad("leadOfficer must not be empty"));
        }
        if let (Some(risk), Some(score)) = (input.risk_level, case.dash_score) {
            let scored = RiskLevel::from_dash(score);
            if risk < scored {
                return Err(bad(&format!(
                    "the DASH score of {score} means {} risk at least",
                    scored.as_str()
                )));
            }
        }
        if let Some(area) = &input.area
            && !db::area::exists(&txn, case.partnership_id, area).await?
        {
            return Err(bad(&format!(
                "area '{area}' is not an area of the partnership"
            )));
        }
        if input.marac_outcome.is_some()
            && input.marac_referred_on.is_none()
            && case.marac_referred_on.is_none()
        {
            return Err(bad("a MARAC outcome needs the referral date"));
        }
        let marac = match (input.marac_referred_on, &input.marac_outcome) {
            (Some(on), outcome) => Some((on.0, outcome.clone().or(case.marac_outcome.clone()))),
            (None, Some(outcome)) => case.marac_referred_on.map(|on| (on, Some(outcome.clone()))),
            (None, None) => None,
        };
        if let Some((on, _)) = marac
            && on < case.opened_on
        {
            return Err(bad("the MARAC referral cannot be before the case opened"));
        }
        let mut odg = input.odg_dates.clone();
        if let Some(dates) = &mut odg {
            dates.sort();
            dates.dedup();
        }
        let changes = db::case::CaseChanges {
            summary: input.summary.as_ref().map(|s| s.trim().to_owned()),
            lead_officer: input.lead_officer.as_ref().map(|s| s.trim().to_owned()),
            risk_level: input.risk_level.map(RiskLevel::as_str),
            area_code: input.area.clone().map(Some),
            odg_dates: odg.map(|v| v.into_iter().map(Into::into).collect()),
            dash: None,
            marac,
        };
        if !db::case::update(&txn, case.id, input.version, &changes).await? {
            return Err(stale().into());
        }
        let changed: Vec<&str> = [
            ("summary", input.summary.is_some()),
            ("leadOfficer", input.lead_officer.is_some()),
            ("riskLevel", input.risk_level.is_some()),
            ("area", input.area.is_some()),
            ("odgDates", input.odg_dates.is_some()),
            ("maracReferredOn", input.marac_referred_on.is_some()),
            ("maracOutcome", input.marac_outcome.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name)
        .collect();
        audited(
            &txn,
            p,
            &case,
            Action::CaseUpdated,
            json!({"fields": changed}),
        )
        .await?;
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Records a DASH assessment of a DOMESTIC_ABUSE case (owning agency only): 14+ is HIGH,
    /// 10-13 MEDIUM, otherwise STANDARD; a professional-judgement override may only raise the
    /// level and needs a reason. The case's risk level becomes the assessed level. Audited.
    async fn record_dash(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case, the version read and the assessment.")] input: RecordDashInput,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        if !(0..=24).contains(&input.score) {
            return Err(bad(&format!(
                "score must be between 0 and 24, not {}",
                input.score
            )));
        }
        let scored = RiskLevel::from_dash(input.score);
        let reason = input
            .override_reason
            .as_ref()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        let level = match (input.override_level, &reason) {
            (None, None) => scored,
            (Some(level), Some(_)) if level > scored => level,
            (Some(_), Some(_)) => {
                return Err(bad(&format!(
                    "an override may only raise the level above {}",
                    scored.as_str()
                )));
            }
            (Some(_), None) => return Err(bad("an override needs overrideReason")),
            (None, Some(_)) => return Err(bad("overrideReason goes with overrideLevel")),
        };
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = owned_at_version(&txn, p, &input.case_id, input.version).await?;
        if case.case_type != "DOMESTIC_ABUSE" {
            return Err(bad("a DASH assessment belongs to a DOMESTIC_ABUSE case"));
        }
        if case.status == "CLOSED" {
            return Err(bad("a closed case is reopened before it is assessed"));
        }
        let changes = db::case::CaseChanges {
            risk_level: Some(level.as_str()),
            dash: Some((
                input.score,
                input.override_level.map(RiskLevel::as_str),
                reason.clone(),
            )),
            ..Default::default()
        };
        if !db::case::update(&txn, case.id, input.version, &changes).await? {
            return Err(stale().into());
        }
        audited(
            &txn,
            p,
            &case,
            Action::CaseUpdated,
            json!({"dash": input.score, "level": level.as_str(), "override": input.override_level.map(RiskLevel::as_str)}),
        )
        .await?;
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Closes a case with an outcome and a date (owning agency only). Its retention review date
    /// is set from the schedule of its type (default 6 years after closing). Audited.
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case, the version read, the outcome and the day.")]
        input: CloseCaseInput,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let today = today_in_london();
        check_dates([("closedOn", input.closed_on)])?;
        let closed_on = input.closed_on.unwrap_or(Date(today));
        if closed_on > Date(today) {
            return Err(bad("closedOn cannot be in the future"));
        }
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = owned_at_version(&txn, p, &input.case_id, input.version).await?;
        if case.status == "CLOSED" {
            return Err(AppError::Conflict("the case is already closed".to_owned()).into());
        }
        if closed_on < Date(case.opened_on) {
            return Err(bad("closedOn cannot be before the case opened"));
        }
        if !db::case::term_in_force(&txn, "CASE_OUTCOME", &input.outcome, *closed_on).await? {
            return Err(bad(&format!(
                "'{}' is not a CASE_OUTCOME in force on {closed_on}",
                input.outcome
            )));
        }
        if !db::case::set_closed(
            &txn,
            case.id,
            input.version,
            Some((input.outcome.clone(), *closed_on)),
        )
        .await?
        {
            return Err(stale().into());
        }
        audited(
            &txn,
            p,
            &case,
            Action::CaseClosed,
            json!({"outcome": input.outcome, "closedOn": closed_on}),
        )
        .await?;
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Reopens a closed case (owning agency only): its outcome and review date are cleared.
    /// Audited.
    async fn reopen_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The case's id; a case not shared with the caller's agency is NOT_FOUND, and one it does not own is FORBIDDEN. A case that is open is a CONFLICT."
        )]
        case_id: ID,
        #[graphql(desc = "The case's `version` as read; a case changed since is a CONFLICT.")]
        version: i32,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = owned_at_version(&txn, p, &case_id, version).await?;
        if case.status != "CLOSED" {
            return Err(AppError::Conflict("the case is open".to_owned()).into());
        }
        if !db::case::set_closed(&txn, case.id, version, None).await? {
            return Err(stale().into());
        }
        audited(
            &txn,
            p,
            &case,
            Action::CaseUpdated,
            json!({"reopened": true}),
        )
        .await?;
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Records an intervention used by the caller's agency in a case shared with it. Audited.
    async fn record_intervention(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case, the intervention and its dates.")]
        input: RecordInterventionInput,
    ) -> Result<Intervention> {
        let p = caseworker(ctx)?;
        check_dates([
            ("startsOn", Some(input.starts_on)),
            ("endsOn", input.ends_on),
        ])?;
        if let Some(end) = input.ends_on
            && end < input.starts_on
        {
            return Err(bad("endsOn cannot be before startsOn"));
        }
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &input.case_id).await?;
        if !db::case::term_in_force(&txn, "INTERVENTION", &input.intervention, *input.starts_on)
            .await?
        {
            return Err(bad(&format!(
                "'{}' is not an INTERVENTION in force on {}",
                input.intervention, input.starts_on
            )));
        }
        let id = db::case::add_intervention(
            &txn,
            p,
            case.id,
            &input.intervention,
            *input.starts_on,
            input.ends_on.map(Into::into),
            input.notes.clone(),
        )
        .await?;
        audited(
            &txn,
            p,
            &case,
            Action::InterventionRecorded,
            json!({"intervention": input.intervention, "id": id.to_string()}),
        )
        .await?;
        let row = db::case::interventions(&txn, case.id)
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the new intervention is gone")))?;
        txn.commit().await.map_err(begin_err)?;
        Ok(Intervention::from(row))
    }

    /// Refers a case shared with the caller's agency to a programme or agency, as REFERRED.
    /// Audited.
    async fn refer_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case, and to what and when it is referred.")] input: ReferCaseInput,
    ) -> Result<Referral> {
        let p = caseworker(ctx)?;
        check_dates([("referredOn", input.referred_on)])?;
        let to = input.to_programme.trim().to_owned();
        if to.is_empty() {
            return Err(bad("toProgramme must not be empty"));
        }
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &input.case_id).await?;
        let on = input
            .referred_on
            .map_or_else(today_in_london, NaiveDate::from);
        if on < case.opened_on {
            return Err(bad("referredOn cannot be before the case opened"));
        }
        let id = db::case::add_referral(&txn, p, case.id, &to, on).await?;
        audited(
            &txn,
            p,
            &case,
            Action::ReferralRecorded,
            json!({"referral": id.to_string(), "to": to}),
        )
        .await?;
        let row = db::case::referral(&txn, p, id)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the new referral is gone")))?;
        txn.commit().await.map_err(begin_err)?;
        Ok(Referral::try_from(row)?)
    }

    /// Moves a referral on: REFERRED to ACCEPTED or DECLINED, ACCEPTED to COMPLETED. Any agency
    /// the case is shared with. Audited.
    async fn update_referral(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The referral, the version read, its new status and the day.")]
        input: UpdateReferralInput,
    ) -> Result<Referral> {
        let p = caseworker(ctx)?;
        check_dates([("on", input.on)])?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let id = parse_id(&input.referral_id, "referral")?;
        let row = db::case::referral(&txn, p, id)
            .await?
            .ok_or_else(|| AppError::NotFound("no such referral".to_owned()))?;
        if row.version != input.version {
            return Err(stale().into());
        }
        let now = ReferralStatus::parse(&row.status)?;
        if !now.may_become(input.status) {
            return Err(bad(&format!(
                "a {} referral cannot become {}",
                now.as_str(),
                input.status.as_str()
            )));
        }
        let on = input.on.map_or_else(today_in_london, NaiveDate::from);
        if on < row.referred_on {
            return Err(bad("the date cannot be before the referral"));
        }
        if !db::case::set_referral_status(&txn, id, input.version, input.status.as_str(), on)
            .await?
        {
            return Err(stale().into());
        }
        let case = db::case::by_id(&txn, p, row.case_id)
            .await?
            .ok_or_else(not_found)?;
        audited(
            &txn,
            p,
            &case,
            Action::ReferralUpdated,
            json!({"referral": id.to_string(), "status": input.status.as_str()}),
        )
        .await?;
        let row = db::case::referral(&txn, p, id)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the referral is gone")))?;
        txn.commit().await.map_err(begin_err)?;
        Ok(Referral::try_from(row)?)
    }

    /// Links an incident record of the case's partnership to a case shared with the caller's
    /// agency (linking again changes nothing). Audited.
    async fn link_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The case's id; a case not shared with the caller's agency is NOT_FOUND."
        )]
        case_id: ID,
        #[graphql(
            desc = "The incident record's id; one not in the case's partnership is NOT_FOUND."
        )]
        incident_id: ID,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let incident = parse_id(&incident_id, "incident")?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &case_id).await?;
        if !db::incident::exists_in(&txn, case.partnership_id, incident).await? {
            return Err(AppError::NotFound("no such incident".to_owned()).into());
        }
        if db::case::link_incident(&txn, p, case.id, incident).await? {
            audited(
                &txn,
                p,
                &case,
                Action::IncidentLinked,
                json!({"incident": incident.to_string()}),
            )
            .await?;
        }
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Unlinks an incident from a case shared with the caller's agency. Audited.
    async fn unlink_incident(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The case's id; a case not shared with the caller's agency is NOT_FOUND."
        )]
        case_id: ID,
        #[graphql(desc = "The incident record's id; one not linked to the case is NOT_FOUND.")]
        incident_id: ID,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let incident = parse_id(&incident_id, "incident")?;
        let conn = crate::graphql::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &case_id).await?;
        if !db::case::unlink_incident(&txn, case.id, incident).await? {
            return Err(
                AppError::NotFound("the incident is not linked to the case".to_owned()).into(),
            );
        }
        audited(
            &txn,
            p,
            &case,
            Action::IncidentUnlinked,
            json!({"incident": incident.to_string()}),
        )
        .await?;
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }
}
