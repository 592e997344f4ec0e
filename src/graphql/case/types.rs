//! The case's GraphQL objects, connections, and the fields of `Case` (its enums are in `enums`).

use super::*;
use crate::scalar::{Date, Timestamp};

/// A domestic-abuse risk assessment (DASH) and the level it implies.
#[derive(SimpleObject, Clone)]
pub struct Dash {
    /// 0 to 24.
    pub score: i32,
    /// What the score implies: 14+ HIGH, 10-13 MEDIUM, otherwise STANDARD.
    pub scored_level: RiskLevel,
    /// A professional judgement that raised the level, with its reason.
    pub override_level: Option<RiskLevel>,
    /// Why the level was raised, up to 2,000 characters; null exactly when `overrideLevel` is.
    pub override_reason: Option<String>,
}

/// A multi-agency case.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Case {
    /// The case's id.
    pub id: ID,
    /// e.g. ASB-2015-0042: type prefix, year opened, number within the partnership's year.
    pub r#ref: String,
    /// The slug of the case's partnership.
    pub partnership: String,
    /// The kind of case.
    pub case_type: CaseType,
    /// Open or closed.
    pub status: CaseStatus,
    /// What the case is about, up to 2,000 characters; may be empty.
    pub summary: String,
    /// The owning agency's slug (`owningAgency` is the agency).
    #[graphql(skip)]
    pub owning_agency: String,
    /// The officer leading the case, as typed (up to 200 characters).
    pub lead_officer: String,
    /// The current risk level. A DASH assessment sets it; it is never below what the DASH score
    /// implies.
    pub risk_level: RiskLevel,
    /// The area's code (`area` is the area).
    #[graphql(skip)]
    pub area: Option<String>,
    /// The day the case was opened (YYYY-MM-DD); it may be earlier than `createdAt`.
    pub opened_on: crate::scalar::Date,
    /// Dates the case was discussed at the Operational Delivery Group.
    pub odg_dates: Vec<crate::scalar::Date>,
    /// The latest DASH risk assessment; null when none is recorded (only DOMESTIC_ABUSE cases
    /// have one).
    pub dash: Option<Dash>,
    /// The day the case was referred to the MARAC (Multi-Agency Risk Assessment Conference);
    /// null when no referral is recorded.
    pub marac_referred_on: Option<crate::scalar::Date>,
    /// What the MARAC decided, up to 2,000 characters; null until recorded.
    pub marac_outcome: Option<String>,
    /// HIGH risk and no MARAC referral recorded.
    pub marac_referral_missing: bool,
    /// The CASE_OUTCOME code (`outcome` is the term).
    #[graphql(skip)]
    pub outcome: Option<String>,
    /// The day the case was closed (YYYY-MM-DD); null while it is open.
    pub closed_on: Option<crate::scalar::Date>,
    /// When a closed case is due for retention review.
    pub review_on: Option<crate::scalar::Date>,
    /// When the case was recorded in csphub (RFC 3339, UTC).
    pub created_at: crate::scalar::Timestamp,
    /// The case's version: pass it to `updateCase`, `recordDash`, `closeCase` and `reopenCase`,
    /// each of which raises it by one.
    pub version: i32,
    #[graphql(skip)]
    pub row: CaseRow,
}

impl TryFrom<CaseRow> for Case {
    type Error = AppError;

    fn try_from(r: CaseRow) -> Result<Self, AppError> {
        let risk_level = RiskLevel::parse(&r.risk_level)?;
        let dash = match r.dash_score {
            Some(score) => Some(Dash {
                score,
                scored_level: RiskLevel::from_dash(score),
                override_level: r
                    .dash_override_level
                    .as_deref()
                    .map(RiskLevel::parse)
                    .transpose()?,
                override_reason: r.dash_override_reason.clone(),
            }),
            None => None,
        };
        let odg_dates = r
            .odg_dates
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<NaiveDate>().map_err(AppError::internal))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Case {
            id: ID(r.id.to_string()),
            r#ref: r.r#ref.clone(),
            partnership: r.partnership.clone(),
            case_type: CaseType::parse(&r.case_type)?,
            status: if r.status == "CLOSED" {
                CaseStatus::Closed
            } else {
                CaseStatus::Open
            },
            summary: r.summary.clone(),
            owning_agency: r.owning_agency.clone(),
            lead_officer: r.lead_officer.clone(),
            risk_level,
            area: r.area_code.clone(),
            opened_on: Date(r.opened_on),
            odg_dates: odg_dates.into_iter().map(Into::into).collect(),
            dash,
            marac_referred_on: r.marac_referred_on.map(Into::into),
            marac_outcome: r.marac_outcome.clone(),
            marac_referral_missing: risk_level == RiskLevel::High && r.marac_referred_on.is_none(),
            outcome: r.outcome.clone(),
            closed_on: r.closed_on.map(Into::into),
            review_on: r.review_on.map(Into::into),
            created_at: Timestamp(r.created_at),
            version: r.version,
            row: r,
        })
    }
}

/// A person in a case, with their part.
#[derive(SimpleObject, Clone)]
pub struct Subject {
    /// The person's id: the same person in every case that holds them.
    pub person_id: ID,
    /// The part they play in this case. A person with two parts in a case appears twice.
    pub part: SubjectPart,
    /// Their full name, up to 200 characters.
    pub full_name: String,
    /// Their date of birth (YYYY-MM-DD); null when not known.
    pub date_of_birth: Option<crate::scalar::Date>,
    /// Their address, up to 1,000 characters; null when not recorded.
    pub address: Option<String>,
    /// Telephone, email or other contact details, up to 1,000 characters; null when not
    /// recorded.
    pub contact: Option<String>,
    /// Whether they agreed to their data being shared.
    pub consent: Consent,
    /// The day consent was given or refused (YYYY-MM-DD); null when NOT_ASKED.
    pub consent_on: Option<crate::scalar::Date>,
    /// When they were given this part in the case (RFC 3339, UTC).
    pub added_at: crate::scalar::Timestamp,
    /// Pass to `updatePerson`.
    pub person_version: i32,
}

impl TryFrom<SubjectRow> for Subject {
    type Error = AppError;

    fn try_from(r: SubjectRow) -> Result<Self, AppError> {
        Ok(Subject {
            person_id: ID(r.person_id.to_string()),
            part: SubjectPart::parse(&r.part)?,
            full_name: r.full_name,
            date_of_birth: r.date_of_birth.map(Into::into),
            address: r.address,
            contact: r.contact,
            consent: Consent::parse(&r.consent),
            consent_on: r.consent_on.map(Into::into),
            added_at: Timestamp(r.added_at),
            person_version: r.person_version,
        })
    }
}

/// An agency a case is shared with, on what basis, by whom and when.
#[derive(SimpleObject, Clone)]
pub struct Share {
    /// The agency the case is shared with (slug, name, kind).
    pub agency: crate::graphql::area::Agency,
    /// The legal basis of the share; OWNER for the owning agency's own access.
    pub legal_basis: LegalBasis,
    /// The basis in words when `legalBasis` is OTHER; null otherwise.
    pub basis_text: Option<String>,
    /// The `sub` of whoever shared it (for the OWNER share, whoever opened the case).
    pub shared_by: String,
    /// When it was shared (RFC 3339, UTC).
    pub shared_at: crate::scalar::Timestamp,
}

impl From<ShareRow> for Share {
    fn from(r: ShareRow) -> Self {
        Share {
            agency: crate::graphql::area::Agency::new(r.agency, r.agency_name, r.agency_kind),
            legal_basis: LegalBasis::parse(&r.legal_basis),
            basis_text: r.basis_text,
            shared_by: r.shared_by,
            shared_at: Timestamp(r.shared_at),
        }
    }
}

/// A case note: never edited; a correction is a later note that supersedes it.
#[derive(SimpleObject, Clone)]
pub struct CaseNote {
    /// The note's id.
    pub id: ID,
    /// The author's `sub`.
    pub author: String,
    /// The author's agency (slug, name, kind).
    pub agency: crate::graphql::area::Agency,
    /// Who may read it.
    pub visibility: NoteVisibility,
    /// The note's text, up to 20,000 characters.
    pub text: String,
    /// The earlier note this one corrects.
    pub supersedes: Option<ID>,
    /// The latest note (that the caller may read) correcting this one.
    pub superseded_by: Option<ID>,
    /// When it was written (RFC 3339, UTC).
    pub created_at: crate::scalar::Timestamp,
}

impl From<NoteRow> for CaseNote {
    fn from(r: NoteRow) -> Self {
        CaseNote {
            id: ID(r.id.to_string()),
            author: r.author,
            agency: crate::graphql::area::Agency::new(r.agency, r.agency_name, r.agency_kind),
            visibility: if r.visibility == "AGENCY" {
                NoteVisibility::Agency
            } else {
                NoteVisibility::Shared
            },
            text: r.body,
            supersedes: r.supersedes_id.map(|i| ID(i.to_string())),
            superseded_by: r.superseded_by.map(|i| ID(i.to_string())),
            created_at: Timestamp(r.created_at),
        }
    }
}

/// An intervention (a tool or power) used in a case.
#[derive(SimpleObject, Clone)]
pub struct Intervention {
    /// The intervention record's id.
    pub id: ID,
    /// An INTERVENTION code, e.g. community-protection-notice.
    pub intervention: String,
    /// The code's label in the INTERVENTION vocabulary on `startsOn`, e.g. "Community protection
    /// notice"; null when the vocabulary has no term for the code that day.
    pub label: Option<String>,
    /// The agency that used it (slug, name, kind).
    pub agency: crate::graphql::area::Agency,
    /// The day it started (YYYY-MM-DD).
    pub starts_on: crate::scalar::Date,
    /// The day it ended or ends (YYYY-MM-DD), not before `startsOn`; null when none was recorded.
    pub ends_on: Option<crate::scalar::Date>,
    /// Free-text notes, up to 2,000 characters; null when none.
    pub notes: Option<String>,
    /// The `sub` of whoever recorded it.
    pub recorded_by: String,
    /// When it was recorded (RFC 3339, UTC).
    pub recorded_at: crate::scalar::Timestamp,
}

impl From<db::case::InterventionRow> for Intervention {
    fn from(r: db::case::InterventionRow) -> Self {
        Intervention {
            id: ID(r.id.to_string()),
            intervention: r.intervention,
            label: r.label,
            agency: crate::graphql::area::Agency::new(r.agency, r.agency_name, r.agency_kind),
            starts_on: Date(r.starts_on),
            ends_on: r.ends_on.map(Into::into),
            notes: r.notes,
            recorded_by: r.recorded_by,
            recorded_at: Timestamp(r.recorded_at),
        }
    }
}

/// Where a referral stands: REFERRED becomes ACCEPTED or DECLINED, and ACCEPTED becomes
/// COMPLETED (`updateReferral`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReferralStatus {
    /// Made, and waiting for the programme or agency to accept or decline it.
    Referred,
    /// Taken on by the programme or agency (on `decidedOn`); it may become COMPLETED.
    Accepted,
    /// Turned down by the programme or agency (on `decidedOn`); final.
    Declined,
    /// The programme or agency's work is finished (on `completedOn`); final.
    Completed,
}

impl ReferralStatus {
    pub(super) fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }

    pub(super) fn parse(s: &str) -> Result<ReferralStatus, AppError> {
        crate::graphql::value_of(s)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown referral status {s}")))
    }

    /// REFERRED goes to ACCEPTED or DECLINED; ACCEPTED goes to COMPLETED.
    pub(super) fn may_become(self, next: ReferralStatus) -> bool {
        matches!(
            (self, next),
            (ReferralStatus::Referred, ReferralStatus::Accepted)
                | (ReferralStatus::Referred, ReferralStatus::Declined)
                | (ReferralStatus::Accepted, ReferralStatus::Completed)
        )
    }
}

/// A referral from one of the case's agencies to a programme or agency.
#[derive(SimpleObject, Clone)]
pub struct Referral {
    /// The referral's id.
    pub id: ID,
    /// The agency that made it (slug, name, kind).
    pub from_agency: crate::graphql::area::Agency,
    /// e.g. Family Intervention Project.
    pub to_programme: String,
    /// Where it stands.
    pub status: ReferralStatus,
    /// The day it was made (YYYY-MM-DD).
    pub referred_on: crate::scalar::Date,
    /// When it was accepted or declined.
    pub decided_on: Option<crate::scalar::Date>,
    /// The day it was completed (YYYY-MM-DD); null unless COMPLETED.
    pub completed_on: Option<crate::scalar::Date>,
    /// The `sub` of whoever recorded the referral.
    pub recorded_by: String,
    /// The referral's version: pass it to `updateReferral`, which raises it by one.
    pub version: i32,
}

impl TryFrom<db::case::ReferralRow> for Referral {
    type Error = AppError;

    fn try_from(r: db::case::ReferralRow) -> Result<Self, AppError> {
        Ok(Referral {
            id: ID(r.id.to_string()),
            from_agency: crate::graphql::area::Agency::new(
                r.from_agency,
                r.from_agency_name,
                r.from_agency_kind,
            ),
            to_programme: r.to_programme,
            status: ReferralStatus::parse(&r.status)?,
            referred_on: Date(r.referred_on),
            decided_on: r.decided_on.map(Into::into),
            completed_on: r.completed_on.map(Into::into),
            recorded_by: r.recorded_by,
            version: r.version,
        })
    }
}

/// Whether the linked reports meet the ASB Case Review threshold.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct CaseReview {
    /// Three qualifying reports within six months, at any time.
    pub threshold_met: bool,
    /// The day of the report that first made three within six months.
    pub first_met_on: Option<crate::scalar::Date>,
    /// Qualifying reports in the six months up to today.
    pub reports_in_last_six_months: i32,
    /// Qualifying reports linked in all.
    pub qualifying_reports: i32,
}

impl From<domain::case::CaseReview> for CaseReview {
    fn from(r: domain::case::CaseReview) -> Self {
        Self {
            threshold_met: r.threshold_met,
            first_met_on: r.first_met_on.map(Into::into),
            reports_in_last_six_months: r.reports_in_last_six_months,
            qualifying_reports: r.qualifying_reports,
        }
    }
}

/// A person search finds, with how close the name is (0 to 1) and the references of the
/// caller's visible cases that hold them.
#[derive(SimpleObject, Clone)]
pub struct PersonMatch {
    /// The person's id: pass it to `addSubject` as `personId`, or to `updatePerson`.
    pub person_id: ID,
    /// Their full name.
    pub full_name: String,
    /// Their date of birth (YYYY-MM-DD); null when not known.
    pub date_of_birth: Option<crate::scalar::Date>,
    /// How close their name is to the one given, from 0 to 1 (1 the closest), to three decimal
    /// places.
    pub score: f64,
    /// The references of the cases shared with the caller's agency that hold them, in order.
    pub case_refs: Vec<String>,
}

impl From<PersonMatchRow> for PersonMatch {
    fn from(r: PersonMatchRow) -> Self {
        PersonMatch {
            person_id: ID(r.id.to_string()),
            full_name: r.full_name,
            date_of_birth: r.date_of_birth.map(Into::into),
            score: (f64::from(r.score) * 1000.0).round() / 1000.0,
            case_refs: r
                .case_refs
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

#[ComplexObject]
impl Case {
    /// The owning agency (slug, name, kind): it shares and unshares the case.
    #[graphql(complexity = "child_complexity")]
    async fn owning_agency(&self) -> crate::graphql::area::Agency {
        crate::graphql::area::Agency::new(
            self.row.owning_agency.clone(),
            self.row.owning_agency_name.clone(),
            self.row.owning_agency_kind.clone(),
        )
    }

    /// The partnership's area the case concerns (code, name, kind); null when none was given.
    /// Read in one statement for every case of a page.
    #[graphql(complexity = "child_complexity")]
    async fn area(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<std::sync::Arc<crate::graphql::area::Area>>> {
        let Some(code) = &self.row.area_code else {
            return Ok(None);
        };
        Ok(crate::graphql::incident::links(ctx)?
            .load_one(crate::graphql::incident::AreaByCode(
                self.row.partnership_id,
                code.clone(),
            ))
            .await?)
    }

    /// How the case ended, when closed: its CASE_OUTCOME code (such as `no-further-action`)
    /// and label, as the term stood on the day it closed; null while open. Read in one
    /// statement for every case of a page.
    #[graphql(complexity = "child_complexity")]
    async fn outcome(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::area::VocabularyTerm>> {
        let Some(code) = &self.row.outcome else {
            return Ok(None);
        };
        let day = self.row.closed_on.unwrap_or(self.row.opened_on);
        Ok(Some(
            crate::graphql::incident::term_on(
                ctx,
                None,
                crate::domain::vocabulary::Vocabulary::CaseOutcome,
                code,
                day,
            )
            .await?,
        ))
    }

    /// The people in the case and their parts.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn subjects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "Cursor: the `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<Subject>> {
        let p = caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let all = db::case::subjects(conn, p, &[self.row.id])
            .await?
            .into_iter()
            .map(Subject::try_from)
            .collect::<Result<_, _>>()?;
        Ok(page_of(all, &PageArgs::new(first, after, last, before))?)
    }

    /// The agencies the case is shared with (the owner's included), oldest share first.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn shares(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "Cursor: the `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<Share>> {
        let p = caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let all = db::case::shares(conn, p, &[self.row.id])
            .await?
            .into_iter()
            .map(Share::from)
            .collect();
        Ok(page_of(all, &PageArgs::new(first, after, last, before))?)
    }

    /// Tools and powers used in the case, in date order.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn interventions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "Cursor: the `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<Intervention>> {
        caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let all = db::case::interventions(conn, self.row.id)
            .await?
            .into_iter()
            .map(Intervention::from)
            .collect();
        Ok(page_of(all, &PageArgs::new(first, after, last, before))?)
    }

    /// Referrals from the case's agencies to programmes or other agencies, oldest first.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "Cursor: the `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<Referral>> {
        caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let all = db::case::referrals(conn, self.row.id)
            .await?
            .into_iter()
            .map(Referral::try_from)
            .collect::<Result<_, _>>()?;
        Ok(page_of(all, &PageArgs::new(first, after, last, before))?)
    }

    /// The incident records the case concerns, in the order they occurred.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "Cursor: the `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<crate::graphql::incident::Incident>> {
        caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let all = db::incident::linked_to_case(conn, self.row.id)
            .await?
            .into_iter()
            .map(crate::graphql::incident::Incident::from)
            .collect();
        Ok(page_of(all, &PageArgs::new(first, after, last, before))?)
    }

    /// The ASB Case Review ("community trigger") threshold over the linked reports: three
    /// qualifying reports (ACTIVE anti-social-behaviour records) within six months.
    async fn case_review(&self, ctx: &Context<'_>) -> Result<CaseReview> {
        caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let dates: Vec<NaiveDate> = db::incident::linked_to_case(conn, self.row.id)
            .await?
            .into_iter()
            .filter(|i| i.status == "ACTIVE" && i.category == domain::case::ASB_CATEGORY)
            .map(|i| {
                i.occurred_at
                    .with_timezone(&chrono_tz::Europe::London)
                    .date_naive()
            })
            .collect();
        Ok(domain::case::case_review(dates, today_in_london()).into())
    }

    /// The notes the caller may read (SHARED ones, and its own agency's AGENCY ones), newest
    /// first. Each page read is audited with the notes' ids.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "Cursor: the `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<CaseNote>> {
        let p = caseworker(ctx)?;
        let keys = PageArgs::new(first, after, last, before).keyset(decode_cursor)?;
        let conn = crate::graphql::db(ctx)?;
        let rows = db::case::notes(conn, p, self.row.id, &keys).await?;
        let total_count = if wants_total(ctx) {
            db::case::note_count(conn, p, self.row.id).await?
        } else {
            0
        };
        let page = usize::try_from(keys.limit).unwrap_or(usize::MAX);
        let ids: Vec<String> = rows.iter().take(page).map(|n| n.id.to_string()).collect();
        crate::graphql::audit_read(
            ctx,
            p,
            self.row.partnership_id,
            Action::NotesViewed,
            Some(("case", self.row.id.to_string())),
            json!({"notes": ids}),
        )?;
        Ok(connection(
            &keys,
            rows,
            |n| encode_cursor(n.created_at, n.id),
            |n| Ok(CaseNote::from(n)),
            total_count,
        )?)
    }
}
