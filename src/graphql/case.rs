//! Cases in GraphQL: multi-agency casework, shared agency by agency. Every operation needs the
//! `caseworker` capability and is never open to the PCC; a case the caller's agency is not
//! shared with is NOT_FOUND, as if it did not exist. Every read, search and write leaves its
//! audit entry in the request's own transaction.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use super::incident::{PageInfo, decode_cursor, encode_cursor};
use super::{Text, page_size, parse_id, principal};
use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::case::{CaseRow, NoteRow, PersonMatch as PersonMatchRow, ShareRow, SubjectRow};
use crate::error::AppError;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CaseType {
    Asb,
    DomesticAbuse,
    Hate,
    Vulnerability,
    Other,
}

impl CaseType {
    fn as_str(self) -> &'static str {
        match self {
            CaseType::Asb => "ASB",
            CaseType::DomesticAbuse => "DOMESTIC_ABUSE",
            CaseType::Hate => "HATE",
            CaseType::Vulnerability => "VULNERABILITY",
            CaseType::Other => "OTHER",
        }
    }

    /// The reference's prefix: ASB-2015-0042.
    fn prefix(self) -> &'static str {
        match self {
            CaseType::Asb => "ASB",
            CaseType::DomesticAbuse => "DA",
            CaseType::Hate => "HATE",
            CaseType::Vulnerability => "VUL",
            CaseType::Other => "OTH",
        }
    }

    fn parse(s: &str) -> Result<CaseType, AppError> {
        [
            CaseType::Asb,
            CaseType::DomesticAbuse,
            CaseType::Hate,
            CaseType::Vulnerability,
            CaseType::Other,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown case type {s}")))
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CaseStatus {
    Open,
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, PartialOrd, Ord)]
pub enum RiskLevel {
    Standard,
    Medium,
    High,
}

impl RiskLevel {
    fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Standard => "STANDARD",
            RiskLevel::Medium => "MEDIUM",
            RiskLevel::High => "HIGH",
        }
    }

    fn parse(s: &str) -> Result<RiskLevel, AppError> {
        match s {
            "STANDARD" => Ok(RiskLevel::Standard),
            "MEDIUM" => Ok(RiskLevel::Medium),
            "HIGH" => Ok(RiskLevel::High),
            other => Err(AppError::internal(anyhow::anyhow!(
                "unknown risk level {other}"
            ))),
        }
    }

    /// The level a DASH score implies: 14 and over high, 10 to 13 medium, below standard.
    pub fn from_dash(score: i32) -> RiskLevel {
        match score {
            14.. => RiskLevel::High,
            10..=13 => RiskLevel::Medium,
            _ => RiskLevel::Standard,
        }
    }
}

/// The part a person plays in a case.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SubjectPart {
    Victim,
    Perpetrator,
    Complainant,
    Witness,
    Other,
}

impl SubjectPart {
    fn as_str(self) -> &'static str {
        match self {
            SubjectPart::Victim => "VICTIM",
            SubjectPart::Perpetrator => "PERPETRATOR",
            SubjectPart::Complainant => "COMPLAINANT",
            SubjectPart::Witness => "WITNESS",
            SubjectPart::Other => "OTHER",
        }
    }

    fn parse(s: &str) -> Result<SubjectPart, AppError> {
        [
            SubjectPart::Victim,
            SubjectPart::Perpetrator,
            SubjectPart::Complainant,
            SubjectPart::Witness,
            SubjectPart::Other,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown part {s}")))
    }
}

/// Whether a person agreed to their data being shared.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Consent {
    Given,
    Refused,
    NotAsked,
}

impl Consent {
    fn as_str(self) -> &'static str {
        match self {
            Consent::Given => "GIVEN",
            Consent::Refused => "REFUSED",
            Consent::NotAsked => "NOT_ASKED",
        }
    }

    fn parse(s: &str) -> Consent {
        match s {
            "GIVEN" => Consent::Given,
            "REFUSED" => Consent::Refused,
            _ => Consent::NotAsked,
        }
    }
}

/// The legal basis a case is shared on.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LegalBasis {
    /// The owning agency's own access (not chosen: every case has it).
    Owner,
    /// s.115 Crime and Disorder Act 1998.
    #[graphql(name = "S115_CDA_1998")]
    S115Cda1998,
    Consent,
    Safeguarding,
    /// Any other basis, stated in `basisText`.
    Other,
}

impl LegalBasis {
    fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Owner => "OWNER",
            LegalBasis::S115Cda1998 => "S115_CDA_1998",
            LegalBasis::Consent => "CONSENT",
            LegalBasis::Safeguarding => "SAFEGUARDING",
            LegalBasis::Other => "OTHER",
        }
    }

    fn parse(s: &str) -> LegalBasis {
        match s {
            "OWNER" => LegalBasis::Owner,
            "S115_CDA_1998" => LegalBasis::S115Cda1998,
            "CONSENT" => LegalBasis::Consent,
            "SAFEGUARDING" => LegalBasis::Safeguarding,
            _ => LegalBasis::Other,
        }
    }
}

/// Who may read a note.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NoteVisibility {
    /// Every agency the case is shared with.
    Shared,
    /// The author's agency only.
    Agency,
}

impl NoteVisibility {
    fn as_str(self) -> &'static str {
        match self {
            NoteVisibility::Shared => "SHARED",
            NoteVisibility::Agency => "AGENCY",
        }
    }
}

/// A domestic-abuse risk assessment (DASH) and the level it implies.
#[derive(SimpleObject, Clone)]
pub struct Dash {
    /// 0 to 24.
    pub score: i32,
    /// What the score implies: 14+ HIGH, 10-13 MEDIUM, otherwise STANDARD.
    pub scored_level: RiskLevel,
    /// A professional judgement that raised the level, with its reason.
    pub override_level: Option<RiskLevel>,
    pub override_reason: Option<String>,
}

/// A multi-agency case.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Case {
    pub id: ID,
    /// e.g. ASB-2015-0042: type prefix, year opened, number within the partnership's year.
    pub r#ref: String,
    pub partnership: String,
    pub case_type: CaseType,
    pub status: CaseStatus,
    pub summary: String,
    /// The owning agency's slug: it shares and unshares the case.
    pub owning_agency: String,
    pub lead_officer: String,
    pub risk_level: RiskLevel,
    pub area: Option<String>,
    pub opened_on: NaiveDate,
    /// Dates the case was discussed at the Operational Delivery Group.
    pub odg_dates: Vec<NaiveDate>,
    pub dash: Option<Dash>,
    pub marac_referred_on: Option<NaiveDate>,
    pub marac_outcome: Option<String>,
    /// HIGH risk and no MARAC referral recorded.
    pub marac_referral_missing: bool,
    /// A CASE_OUTCOME code, when closed.
    pub outcome: Option<String>,
    pub closed_on: Option<NaiveDate>,
    /// When a closed case is due for retention review.
    pub review_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
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
            opened_on: r.opened_on,
            odg_dates,
            dash,
            marac_referred_on: r.marac_referred_on,
            marac_outcome: r.marac_outcome.clone(),
            marac_referral_missing: risk_level == RiskLevel::High && r.marac_referred_on.is_none(),
            outcome: r.outcome.clone(),
            closed_on: r.closed_on,
            review_on: r.review_on,
            created_at: r.created_at,
            version: r.version,
            row: r,
        })
    }
}

/// A person in a case, with their part.
#[derive(SimpleObject, Clone)]
pub struct Subject {
    pub person_id: ID,
    pub part: SubjectPart,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub consent: Consent,
    pub consent_on: Option<NaiveDate>,
    pub added_at: DateTime<Utc>,
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
            date_of_birth: r.date_of_birth,
            address: r.address,
            contact: r.contact,
            consent: Consent::parse(&r.consent),
            consent_on: r.consent_on,
            added_at: r.added_at,
            person_version: r.person_version,
        })
    }
}

/// An agency a case is shared with, on what basis, by whom and when.
#[derive(SimpleObject, Clone)]
pub struct Share {
    pub agency: String,
    pub agency_name: String,
    pub legal_basis: LegalBasis,
    pub basis_text: Option<String>,
    pub shared_by: String,
    pub shared_at: DateTime<Utc>,
}

impl From<ShareRow> for Share {
    fn from(r: ShareRow) -> Self {
        Share {
            agency: r.agency,
            agency_name: r.agency_name,
            legal_basis: LegalBasis::parse(&r.legal_basis),
            basis_text: r.basis_text,
            shared_by: r.shared_by,
            shared_at: r.shared_at,
        }
    }
}

/// A case note: never edited; a correction is a later note that supersedes it.
#[derive(SimpleObject, Clone)]
pub struct CaseNote {
    pub id: ID,
    /// The author's `sub`.
    pub author: String,
    pub agency: String,
    pub visibility: NoteVisibility,
    pub text: String,
    /// The earlier note this one corrects.
    pub supersedes: Option<ID>,
    /// The latest note (that the caller may read) correcting this one.
    pub superseded_by: Option<ID>,
    pub created_at: DateTime<Utc>,
}

impl From<NoteRow> for CaseNote {
    fn from(r: NoteRow) -> Self {
        CaseNote {
            id: ID(r.id.to_string()),
            author: r.author,
            agency: r.agency,
            visibility: if r.visibility == "AGENCY" {
                NoteVisibility::Agency
            } else {
                NoteVisibility::Shared
            },
            text: r.body,
            supersedes: r.supersedes_id.map(|i| ID(i.to_string())),
            superseded_by: r.superseded_by.map(|i| ID(i.to_string())),
            created_at: r.created_at,
        }
    }
}

/// An intervention (a tool or power) used in a case.
#[derive(SimpleObject, Clone)]
pub struct Intervention {
    pub id: ID,
    /// An INTERVENTION code, e.g. community-protection-notice.
    pub intervention: String,
    pub label: Option<String>,
    /// The agency that used it.
    pub agency: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub notes: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<db::case::InterventionRow> for Intervention {
    fn from(r: db::case::InterventionRow) -> Self {
        Intervention {
            id: ID(r.id.to_string()),
            intervention: r.intervention,
            label: r.label,
            agency: r.agency,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            notes: r.notes,
            recorded_by: r.recorded_by,
            recorded_at: r.recorded_at,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReferralStatus {
    Referred,
    Accepted,
    Declined,
    Completed,
}

impl ReferralStatus {
    fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Referred => "REFERRED",
            ReferralStatus::Accepted => "ACCEPTED",
            ReferralStatus::Declined => "DECLINED",
            ReferralStatus::Completed => "COMPLETED",
        }
    }

    fn parse(s: &str) -> Result<ReferralStatus, AppError> {
        [
            ReferralStatus::Referred,
            ReferralStatus::Accepted,
            ReferralStatus::Declined,
            ReferralStatus::Completed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown referral status {s}")))
    }

    /// REFERRED goes to ACCEPTED or DECLINED; ACCEPTED goes to COMPLETED.
    fn may_become(self, next: ReferralStatus) -> bool {
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
    pub id: ID,
    pub from_agency: String,
    /// e.g. Family Intervention Project.
    pub to_programme: String,
    pub status: ReferralStatus,
    pub referred_on: NaiveDate,
    /// When it was accepted or declined.
    pub decided_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub recorded_by: String,
    pub version: i32,
}

impl TryFrom<db::case::ReferralRow> for Referral {
    type Error = AppError;

    fn try_from(r: db::case::ReferralRow) -> Result<Self, AppError> {
        Ok(Referral {
            id: ID(r.id.to_string()),
            from_agency: r.from_agency,
            to_programme: r.to_programme,
            status: ReferralStatus::parse(&r.status)?,
            referred_on: r.referred_on,
            decided_on: r.decided_on,
            completed_on: r.completed_on,
            recorded_by: r.recorded_by,
            version: r.version,
        })
    }
}

/// The anti-social behaviour category of incident records.
const ASB_CATEGORY: &str = "anti-social-behaviour";

/// Whether the linked reports meet the ASB Case Review threshold.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct CaseReview {
    /// Three qualifying reports within six months, at any time.
    pub threshold_met: bool,
    /// The day of the report that first made three within six months.
    pub first_met_on: Option<NaiveDate>,
    /// Qualifying reports in the six months up to today.
    pub reports_in_last_six_months: i32,
    /// Qualifying reports linked in all.
    pub qualifying_reports: i32,
}

/// Three reports within six months: the third no later than six calendar months after the
/// first (1 January and 1 July meet it; 1 January and 2 July do not).
pub fn case_review(mut dates: Vec<NaiveDate>, today: NaiveDate) -> CaseReview {
    dates.sort();
    let six_months_after = |d: NaiveDate| d.checked_add_months(chrono::Months::new(6));
    let first_met_on = dates
        .windows(3)
        .find(|w| six_months_after(w[0]).is_some_and(|limit| w[2] <= limit))
        .map(|w| w[2]);
    let since = today
        .checked_sub_months(chrono::Months::new(6))
        .unwrap_or(NaiveDate::MIN);
    CaseReview {
        threshold_met: first_met_on.is_some(),
        first_met_on,
        reports_in_last_six_months: dates
            .iter()
            .filter(|d| **d >= since && **d <= today)
            .count() as i32,
        qualifying_reports: dates.len() as i32,
    }
}

/// A page of a short list read whole (a case's people, shares, interventions, referrals,
/// incidents; a partnership's grants, survey results, an indicator's figures), in the list's
/// stated order, with how many there are. The cursor is a position in that order.
#[derive(SimpleObject)]
#[graphql(concrete(name = "SubjectConnection", params(Subject)))]
#[graphql(concrete(name = "ShareConnection", params(Share)))]
#[graphql(concrete(name = "InterventionConnection", params(Intervention)))]
#[graphql(concrete(name = "ReferralConnection", params(Referral)))]
#[graphql(concrete(name = "CaseIncidentConnection", params(super::incident::Incident)))]
#[graphql(concrete(name = "GrantConnection", params(super::grant::Grant)))]
#[graphql(concrete(name = "SurveyResultConnection", params(super::grant::SurveyResult)))]
#[graphql(concrete(
    name = "IndicatorValueConnection",
    params(super::indicator::IndicatorValue)
))]
pub struct ListConnection<T: async_graphql::OutputType> {
    pub nodes: Vec<T>,
    pub page_info: PageInfo,
    pub total_count: i64,
}

/// The page of `all` after the position `after` names.
pub(crate) fn page_of<T: async_graphql::OutputType>(
    all: Vec<T>,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<ListConnection<T>, AppError> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let limit = usize::try_from(page_size(first)?).unwrap_or(usize::MAX);
    let start = match after {
        None => 0,
        Some(c) => URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.strip_prefix("p:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| {
                AppError::BadUserInput("after is not a cursor this API gave out".to_owned())
            })?,
    };
    let total_count = all.len() as i64;
    let nodes: Vec<T> = all.into_iter().skip(start).take(limit).collect();
    let end = start + nodes.len();
    Ok(ListConnection {
        page_info: PageInfo {
            has_next_page: (end as i64) < total_count,
            end_cursor: (!nodes.is_empty()).then(|| URL_SAFE_NO_PAD.encode(format!("p:{end}"))),
        },
        nodes,
        total_count,
    })
}

/// A page of cases, newest first, with how many match.
#[derive(SimpleObject, Clone)]
pub struct CaseConnection {
    pub nodes: Vec<Case>,
    pub page_info: PageInfo,
    pub total_count: i64,
}

/// A page of a case's notes, newest first, with how many the caller may read.
#[derive(SimpleObject, Clone)]
pub struct CaseNoteConnection {
    pub nodes: Vec<CaseNote>,
    pub page_info: PageInfo,
    pub total_count: i64,
}

/// A person search finds, with how close the name is (0 to 1) and the references of the
/// caller's visible cases that hold them.
#[derive(SimpleObject, Clone)]
pub struct PersonMatch {
    pub person_id: ID,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub score: f64,
    pub case_refs: Vec<String>,
}

impl From<PersonMatchRow> for PersonMatch {
    fn from(r: PersonMatchRow) -> Self {
        PersonMatch {
            person_id: ID(r.id.to_string()),
            full_name: r.full_name,
            date_of_birth: r.date_of_birth,
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

/// Today's date in England.
fn today_in_london() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

/// Dates of casework: from 1900 (dates of birth) to ten years ahead (planned end dates).
fn check_dates<'a>(
    dates: impl IntoIterator<Item = (&'a str, Option<NaiveDate>)>,
) -> Result<(), AppError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = today_in_london()
        .checked_add_months(chrono::Months::new(120))
        .unwrap_or(NaiveDate::MAX);
    for (name, date) in dates {
        if let Some(d) = date
            && !(earliest..=latest).contains(&d)
        {
            return Err(AppError::BadUserInput(format!(
                "{name} must be between {earliest} and {latest}, not {d}"
            )));
        }
    }
    Ok(())
}

/// Consent given or refused is recorded with the date it was.
const CONSENT_NEEDS_DATE: &str =
    "consent GIVEN or REFUSED needs consentOn, the date it was given or refused";

fn not_found() -> AppError {
    AppError::NotFound("no such case".to_owned())
}

/// The caller, allowed to work cases.
fn caseworker<'a>(ctx: &Context<'a>) -> Result<&'a Principal, AppError> {
    let p = principal(ctx)?;
    authorize(p, Operation::WorkCases)?;
    Ok(p)
}

#[ComplexObject]
impl Case {
    /// The people in the case and their parts.
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn subjects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<ListConnection<Subject>> {
        let p = caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let all = db::case::subjects(conn, p, &[self.row.id])
            .await?
            .into_iter()
            .map(Subject::try_from)
            .collect::<Result<_, _>>()?;
        Ok(page_of(all, first, after.as_deref())?)
    }

    /// The agencies the case is shared with (the owner's included), oldest share first.
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn shares(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<ListConnection<Share>> {
        let p = caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let all = db::case::shares(conn, p, &[self.row.id])
            .await?
            .into_iter()
            .map(Share::from)
            .collect();
        Ok(page_of(all, first, after.as_deref())?)
    }

    /// Tools and powers used in the case, in date order.
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn interventions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<ListConnection<Intervention>> {
        caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let all = db::case::interventions(conn, self.row.id)
            .await?
            .into_iter()
            .map(Intervention::from)
            .collect();
        Ok(page_of(all, first, after.as_deref())?)
    }

    /// Referrals from the case's agencies to programmes or other agencies, oldest first.
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<ListConnection<Referral>> {
        caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let all = db::case::referrals(conn, self.row.id)
            .await?
            .into_iter()
            .map(Referral::try_from)
            .collect::<Result<_, _>>()?;
        Ok(page_of(all, first, after.as_deref())?)
    }

    /// The incident records the case concerns, in the order they occurred.
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<ListConnection<super::incident::Incident>> {
        caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let all = db::incident::linked_to_case(conn, self.row.id)
            .await?
            .into_iter()
            .map(super::incident::Incident::from)
            .collect();
        Ok(page_of(all, first, after.as_deref())?)
    }

    /// The ASB Case Review ("community trigger") threshold over the linked reports: three
    /// qualifying reports (ACTIVE anti-social-behaviour records) within six months.
    async fn case_review(&self, ctx: &Context<'_>) -> Result<CaseReview> {
        caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let dates: Vec<NaiveDate> = db::incident::linked_to_case(conn, self.row.id)
            .await?
            .into_iter()
            .filter(|i| i.status == "ACTIVE" && i.category == ASB_CATEGORY)
            .map(|i| {
                i.occurred_at
                    .with_timezone(&chrono_tz::Europe::London)
                    .date_naive()
            })
            .collect();
        Ok(case_review(dates, today_in_london()))
    }

    /// The notes the caller may read (SHARED ones, and its own agency's AGENCY ones), newest
    /// first. Each page read is audited with the notes' ids.
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<CaseNoteConnection> {
        let p = caseworker(ctx)?;
        let limit = page_size(first)?;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let conn = super::db(ctx)?;
        let mut rows = db::case::notes(conn, p, self.row.id, after, limit + 1).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let total_count = db::case::note_count(conn, p, self.row.id).await?;
        let ids: Vec<String> = rows.iter().map(|n| n.id.to_string()).collect();
        super::audit_read(
            ctx,
            p,
            self.row.partnership_id,
            Action::NotesViewed,
            Some(("case", self.row.id.to_string())),
            json!({"notes": ids}),
        )?;
        let end_cursor = rows.last().map(|n| encode_cursor(n.created_at, n.id));
        Ok(CaseNoteConnection {
            nodes: rows.into_iter().map(CaseNote::from).collect(),
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
            total_count,
        })
    }
}

/// Filters for `cases`.
#[derive(InputObject, Default)]
pub struct CaseFilterInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    pub partnership: Option<String>,
    pub case_type: Option<CaseType>,
    pub status: Option<CaseStatus>,
    pub risk_level: Option<RiskLevel>,
    /// The owning agency's slug.
    pub owning_agency: Option<String>,
    /// An area code.
    pub area: Option<String>,
    /// Part of the reference, e.g. "2015-00".
    #[graphql(validator(custom = "Text(40)"))]
    pub ref_contains: Option<String>,
}

#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// The cases shared with the caller's agency, newest first, filtered and cursor-paginated,
    /// with the total count. Needs `caseworker`; never the PCC. Audited (with the ids listed).
    #[graphql(complexity = "crate::graphql::list_cost(first, child_complexity)")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: CaseFilterInput,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<CaseConnection> {
        let p = caseworker(ctx)?;
        let partnership = p.partnership_or_only(filter.partnership.as_deref())?;
        let limit = page_size(first)?;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let f = db::case::CaseFilter {
            partnership_id: partnership.id,
            case_type: filter.case_type.map(|t| t.as_str().to_owned()),
            status: filter.status.map(|s| {
                match s {
                    CaseStatus::Open => "OPEN",
                    CaseStatus::Closed => "CLOSED",
                }
                .to_owned()
            }),
            risk_level: filter.risk_level.map(|r| r.as_str().to_owned()),
            owning_agency: filter.owning_agency.clone(),
            area: filter.area.clone(),
            ref_contains: filter.ref_contains.clone(),
        };
        let conn = super::db(ctx)?;
        let mut rows = db::case::page(conn, p, &f, after, limit + 1).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let total_count = db::case::count(conn, p, &f).await?;
        let ids: Vec<String> = rows.iter().map(|c| c.id.to_string()).collect();
        super::audit_read(
            ctx,
            p,
            partnership.id,
            Action::CasesListed,
            None,
            json!({
                "filter": {
                    "caseType": f.case_type, "status": f.status, "riskLevel": f.risk_level,
                    "owningAgency": f.owning_agency, "area": f.area, "refContains": f.ref_contains,
                },
                "cases": ids,
            }),
        )?;
        let end_cursor = rows.last().map(|c| encode_cursor(c.created_at, c.id));
        Ok(CaseConnection {
            nodes: rows
                .into_iter()
                .map(Case::try_from)
                .collect::<Result<_, _>>()?,
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
            total_count,
        })
    }

    /// One case shared with the caller's agency. NOT_FOUND otherwise, whether it exists or
    /// not. Audited.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> Result<Case> {
        let p = caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let row = db::case::by_id(conn, p, parse_id(&id, "case")?)
            .await?
            .ok_or_else(not_found)?;
        viewed(ctx, p, &row)?;
        Ok(Case::try_from(row)?)
    }

    /// One case by its reference (e.g. ASB-2015-0042), as `case`.
    async fn case_by_ref(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the partnership's slug; may be left out when the token names one")]
        partnership: Option<String>,
        #[graphql(validator(custom = "Text(40)"))] r#ref: String,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let scope = p.partnership_or_only(partnership.as_deref())?;
        let conn = super::db(ctx)?;
        let row = db::case::by_ref(conn, p, scope.id, &r#ref)
            .await?
            .ok_or_else(not_found)?;
        viewed(ctx, p, &row)?;
        Ok(Case::try_from(row)?)
    }

    /// People held in cases shared with the caller's agency whose name is like `name` (a
    /// misspelt surname finds them: trigram similarity), optionally with a date of birth, best
    /// first. People of other cases are never found. The name needs at least 3 letters; a
    /// search is heavy work and waits for a heavy slot like statistics. Audited with the terms.
    async fn search_people(
        &self,
        ctx: &Context<'_>,
        partnership: Option<String>,
        #[graphql(validator(custom = "Text(200)"))] name: String,
        date_of_birth: Option<NaiveDate>,
        #[graphql(desc = "at most, 1 to 100 (default 20)")] first: Option<i32>,
    ) -> Result<Vec<PersonMatch>> {
        let p = caseworker(ctx)?;
        super::heavy_granted(ctx)?;
        let scope = p.partnership_or_only(partnership.as_deref())?;
        let name = name.trim();
        // A trigram needs three letters: anything shorter matches nearly everyone.
        if name.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
            return Err(
                AppError::BadUserInput("name must have at least 3 letters".to_owned()).into(),
            );
        }
        let limit = page_size(Some(first.unwrap_or(20)))?;
        let conn = super::db(ctx)?;
        let found = db::case::search_people(conn, p, scope.id, name, date_of_birth, limit).await?;
        super::audit_read(
            ctx,
            p,
            scope.id,
            Action::PeopleSearched,
            None,
            json!({
                "name": name, "dateOfBirth": date_of_birth,
                "found": found.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(),
            }),
        )?;
        Ok(found.into_iter().map(PersonMatch::from).collect())
    }
}

fn viewed(ctx: &Context<'_>, p: &Principal, row: &CaseRow) -> Result<(), AppError> {
    super::audit_read(
        ctx,
        p,
        row.partnership_id,
        Action::CaseViewed,
        Some(("case", row.id.to_string())),
        json!({"ref": row.r#ref}),
    )
}

/// Opening a case.
#[derive(InputObject)]
pub struct OpenCaseInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    pub partnership: Option<String>,
    pub case_type: CaseType,
    /// What the case is about, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"), default)]
    pub summary: String,
    /// The officer leading it, up to 200 characters.
    #[graphql(validator(custom = "Text(200)"))]
    pub lead_officer: String,
    pub risk_level: RiskLevel,
    /// An area code of the partnership.
    pub area: Option<String>,
    /// Defaults to today.
    pub opened_on: Option<NaiveDate>,
    /// Domestic abuse: the DASH score, 0 to 24. The case's risk level may not be below what it
    /// implies.
    pub dash_score: Option<i32>,
}

/// Adding a person to a case: an existing person (`personId`, one the caller can already see)
/// or a new one (`person`).
#[derive(InputObject)]
pub struct AddSubjectInput {
    pub case_id: ID,
    pub part: SubjectPart,
    pub person_id: Option<ID>,
    pub person: Option<PersonInput>,
}

#[derive(InputObject)]
pub struct PersonInput {
    #[graphql(validator(custom = "Text(200)"))]
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    #[graphql(validator(custom = "Text(1000)"))]
    pub address: Option<String>,
    /// Telephone, email: up to 1,000 characters.
    #[graphql(validator(custom = "Text(1000)"))]
    pub contact: Option<String>,
    #[graphql(default_with = "Consent::NotAsked")]
    pub consent: Consent,
    /// When consent was given or refused: required with GIVEN or REFUSED, refused with
    /// NOT_ASKED.
    pub consent_on: Option<NaiveDate>,
}

/// The subject added, with people the caller can already see who may be the same person (the
/// same date of birth and a similar name). Nothing is merged: the caseworker decides.
#[derive(SimpleObject)]
pub struct AddSubjectResult {
    pub subject: Subject,
    pub possible_duplicates: Vec<PersonMatch>,
}

#[derive(InputObject)]
pub struct ShareCaseInput {
    pub case_id: ID,
    /// The agency's slug: one of the case's partnership.
    pub agency: String,
    pub legal_basis: LegalBasis,
    /// Required for OTHER (and only then): the basis in words, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"))]
    pub basis_text: Option<String>,
}

#[derive(InputObject)]
pub struct AddCaseNoteInput {
    pub case_id: ID,
    /// Up to 20,000 characters.
    #[graphql(validator(custom = "Text(20000)"))]
    pub text: String,
    pub visibility: NoteVisibility,
    /// A note of the caller's own agency in the same case that this one corrects.
    pub supersedes: Option<ID>,
}

#[derive(Default)]
pub struct CaseMutation;

fn begin_err(e: sea_orm::DbErr) -> AppError {
    AppError::internal(e)
}

/// The case, for a change by any agency it is shared with; NOT_FOUND otherwise.
async fn case_for_change<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: &ID,
) -> Result<CaseRow, AppError> {
    db::case::by_id(conn, p, parse_id(id, "case")?)
        .await?
        .ok_or_else(not_found)
}

/// The case, for a change only its owning agency may make: FORBIDDEN for another agency it is
/// shared with.
async fn owned_case<C: sea_orm::ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: &ID,
) -> Result<CaseRow, AppError> {
    let row = case_for_change(conn, p, id).await?;
    if row.owning_agency_id != p.agency_id {
        return Err(AppError::Forbidden(
            "only the owning agency shares and unshares a case".to_owned(),
        ));
    }
    Ok(row)
}

async fn reload(
    conn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    id: Uuid,
) -> Result<Case, AppError> {
    Case::try_from(db::case::by_id(conn, p, id).await?.ok_or_else(not_found)?)
}

#[Object]
impl CaseMutation {
    /// Opens a case owned by the caller's agency, with the next reference of its partnership's
    /// year. Needs `caseworker`. Audited.
    async fn open_case(&self, ctx: &Context<'_>, input: OpenCaseInput) -> Result<Case> {
        let p = caseworker(ctx)?;
        let scope = p.partnership_or_only(input.partnership.as_deref())?;
        check_dates([("openedOn", input.opened_on)])?;
        if input.lead_officer.trim().is_empty() {
            return Err(AppError::BadUserInput("leadOfficer must not be empty".to_owned()).into());
        }
        if let Some(score) = input.dash_score {
            if !(0..=24).contains(&score) {
                return Err(AppError::BadUserInput(format!(
                    "dashScore must be between 0 and 24, not {score}"
                ))
                .into());
            }
            if input.case_type != CaseType::DomesticAbuse {
                return Err(AppError::BadUserInput(
                    "a DASH score belongs to a DOMESTIC_ABUSE case".to_owned(),
                )
                .into());
            }
            let scored = RiskLevel::from_dash(score);
            if input.risk_level < scored {
                return Err(AppError::BadUserInput(format!(
                    "a DASH score of {score} means {} risk at least; riskLevel may not be lower",
                    scored.as_str()
                ))
                .into());
            }
        }
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        if let Some(area) = &input.area
            && !db::area::exists(&txn, scope.id, area).await?
        {
            return Err(AppError::BadUserInput(format!(
                "area '{area}' is not an area of the partnership"
            ))
            .into());
        }
        let id = db::case::open(
            &txn,
            p,
            &db::case::NewCase {
                partnership_id: scope.id,
                case_type: input.case_type.as_str(),
                prefix: input.case_type.prefix(),
                summary: input.summary.trim().to_owned(),
                lead_officer: input.lead_officer.trim().to_owned(),
                risk_level: input.risk_level.as_str(),
                area_code: input.area.clone(),
                opened_on: input.opened_on.unwrap_or_else(today_in_london),
                dash_score: input.dash_score,
            },
        )
        .await?;
        let case = reload(&txn, p, id).await?;
        audit::record(
            &txn,
            p,
            scope.id,
            Action::CaseOpened,
            Some(("case", id.to_string())),
            json!({"ref": case.r#ref}),
        )
        .await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(case)
    }

    /// Shares a case with another agency of its partnership, on a legal basis. The owning
    /// agency only (FORBIDDEN for others it is shared with). Sharing again keeps the first
    /// share. Audited.
    async fn share_case(&self, ctx: &Context<'_>, input: ShareCaseInput) -> Result<Case> {
        let p = caseworker(ctx)?;
        match (input.legal_basis, &input.basis_text) {
            (LegalBasis::Owner, _) => {
                return Err(AppError::BadUserInput(
                    "OWNER is the owning agency's own access, not a basis to share on".to_owned(),
                )
                .into());
            }
            (LegalBasis::Other, None) => {
                return Err(AppError::BadUserInput(
                    "basisText is required when the legal basis is OTHER".to_owned(),
                )
                .into());
            }
            (LegalBasis::Other, Some(t)) if t.trim().is_empty() => {
                return Err(AppError::BadUserInput(
                    "basisText is required when the legal basis is OTHER".to_owned(),
                )
                .into());
            }
            (b, Some(_)) if b != LegalBasis::Other => {
                return Err(AppError::BadUserInput(
                    "basisText is only for the legal basis OTHER".to_owned(),
                )
                .into());
            }
            _ => {}
        }
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = owned_case(&txn, p, &input.case_id).await?;
        let agency = db::case::agency_in_partnership(&txn, &input.agency, case.partnership_id)
            .await?
            .ok_or_else(|| {
                AppError::BadUserInput(format!(
                    "agency '{}' is not an agency of the case's partnership that works cases",
                    input.agency
                ))
            })?;
        let added = db::case::share(
            &txn,
            p,
            &case,
            agency,
            input.legal_basis.as_str(),
            input.basis_text.map(|t| t.trim().to_owned()),
        )
        .await?;
        if added {
            audit::record(
                &txn,
                p,
                case.partnership_id,
                Action::CaseShared,
                Some(("case", case.id.to_string())),
                json!({"agency": input.agency, "legalBasis": input.legal_basis.as_str()}),
            )
            .await?;
        }
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Takes a share away; the agency loses the case from its next request on. The owning
    /// agency only; its own access cannot be taken away. Audited.
    async fn unshare_case(&self, ctx: &Context<'_>, case_id: ID, agency: String) -> Result<Case> {
        let p = caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = owned_case(&txn, p, &case_id).await?;
        let agency_id = db::case::agency_in_partnership(&txn, &agency, case.partnership_id)
            .await?
            .ok_or_else(|| {
                AppError::BadUserInput(format!(
                    "agency '{agency}' is not an agency of the case's partnership"
                ))
            })?;
        if agency_id == case.owning_agency_id {
            return Err(AppError::BadUserInput(
                "the owning agency's own access cannot be taken away".to_owned(),
            )
            .into());
        }
        if !db::case::unshare(&txn, &case, agency_id).await? {
            return Err(
                AppError::NotFound(format!("the case is not shared with '{agency}'")).into(),
            );
        }
        audit::record(
            &txn,
            p,
            case.partnership_id,
            Action::CaseUnshared,
            Some(("case", case.id.to_string())),
            json!({"agency": agency}),
        )
        .await?;
        let out = reload(&txn, p, case.id).await?;
        txn.commit().await.map_err(begin_err)?;
        Ok(out)
    }

    /// Appends a note to a case shared with the caller's agency. Notes are never edited: to
    /// correct one, add a note that `supersedes` it (both are kept). Audited.
    async fn add_case_note(&self, ctx: &Context<'_>, input: AddCaseNoteInput) -> Result<CaseNote> {
        let p = caseworker(ctx)?;
        if input.text.trim().is_empty() {
            return Err(AppError::BadUserInput("text must not be empty".to_owned()).into());
        }
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &input.case_id).await?;
        let supersedes = match &input.supersedes {
            None => None,
            Some(id) => {
                let note_id = parse_id(id, "note")?;
                let agency = db::case::note_agency(&txn, p, case.id, note_id)
                    .await?
                    .ok_or_else(|| AppError::NotFound("no such note in the case".to_owned()))?;
                if agency != p.agency_id {
                    return Err(AppError::Forbidden(
                        "a note is corrected by its own agency".to_owned(),
                    )
                    .into());
                }
                Some(note_id)
            }
        };
        let id = db::case::add_note(
            &txn,
            p,
            case.id,
            input.visibility.as_str(),
            &input.text,
            supersedes,
        )
        .await?;
        audit::record(
            &txn,
            p,
            case.partnership_id,
            Action::NoteAdded,
            Some(("case", case.id.to_string())),
            json!({"note": id.to_string(), "visibility": input.visibility.as_str(),
                   "supersedes": supersedes.map(|s| s.to_string())}),
        )
        .await?;
        let note = db::case::notes(&txn, p, case.id, None, 100)
            .await?
            .into_iter()
            .find(|n| n.id == id)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the new note is not readable")))?;
        txn.commit().await.map_err(begin_err)?;
        Ok(CaseNote::from(note))
    }

    /// Adds a person to a case shared with the caller's agency: one the caller can already see
    /// (`personId`) or a new one (`person`). Warns of likely duplicates among the people the
    /// caller can see, never others. Audited.
    async fn add_subject(
        &self,
        ctx: &Context<'_>,
        input: AddSubjectInput,
    ) -> Result<AddSubjectResult> {
        let p = caseworker(ctx)?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &input.case_id).await?;
        let (person_id, duplicates) = match (&input.person_id, &input.person) {
            (Some(id), None) => {
                let id = parse_id(id, "person")?;
                if !db::case::person_visible(&txn, p, case.partnership_id, id).await? {
                    return Err(AppError::NotFound("no such person".to_owned()).into());
                }
                (id, Vec::new())
            }
            (None, Some(person)) => {
                check_dates([
                    ("dateOfBirth", person.date_of_birth),
                    ("consentOn", person.consent_on),
                ])?;
                let full_name = person.full_name.trim().to_owned();
                if full_name.is_empty() {
                    return Err(
                        AppError::BadUserInput("fullName must not be empty".to_owned()).into(),
                    );
                }
                if person.consent == Consent::NotAsked && person.consent_on.is_some() {
                    return Err(AppError::BadUserInput(
                        "consentOn goes with consent GIVEN or REFUSED".to_owned(),
                    )
                    .into());
                }
                if person.consent != Consent::NotAsked && person.consent_on.is_none() {
                    return Err(AppError::BadUserInput(CONSENT_NEEDS_DATE.to_owned()).into());
                }
                let id = db::case::add_person(
                    &txn,
                    p,
                    case.partnership_id,
                    &db::case::NewPerson {
                        full_name: full_name.clone(),
                        date_of_birth: person.date_of_birth,
                        address: person.address.clone(),
                        contact: person.contact.clone(),
                        consent: person.consent.as_str(),
                        consent_on: person.consent_on,
                    },
                )
                .await?;
                let duplicates = match person.date_of_birth {
                    Some(dob) => {
                        db::case::likely_duplicates(
                            &txn,
                            p,
                            case.partnership_id,
                            &full_name,
                            dob,
                            id,
                        )
                        .await?
                    }
                    None => Vec::new(),
                };
                (id, duplicates)
            }
            _ => {
                return Err(AppError::BadUserInput(
                    "give either personId or person, not both".to_owned(),
                )
                .into());
            }
        };
        if !db::case::add_subject(&txn, p, case.id, person_id, input.part.as_str()).await? {
            return Err(AppError::Conflict(
                "the person already has that part in the case".to_owned(),
            )
            .into());
        }
        audit::record(
            &txn,
            p,
            case.partnership_id,
            Action::SubjectAdded,
            Some(("case", case.id.to_string())),
            json!({"person": person_id.to_string(), "part": input.part.as_str(),
                   "possibleDuplicates": duplicates.iter().map(|d| d.id.to_string()).collect::<Vec<_>>()}),
        )
        .await?;
        let subject = db::case::subjects(&txn, p, &[case.id])
            .await?
            .into_iter()
            .find(|s| s.person_id == person_id && s.part == input.part.as_str())
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("the new subject is not readable"))
            })?;
        txn.commit().await.map_err(begin_err)?;
        Ok(AddSubjectResult {
            subject: Subject::try_from(subject)?,
            possible_duplicates: duplicates.into_iter().map(PersonMatch::from).collect(),
        })
    }
}

/// Changing an open case's details. The owning agency only. Fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateCaseInput {
    pub case_id: ID,
    /// The version read; a case changed since is a CONFLICT.
    pub version: i32,
    #[graphql(validator(custom = "Text(2000)"))]
    pub summary: Option<String>,
    #[graphql(validator(custom = "Text(200)"))]
    pub lead_officer: Option<String>,
    /// May not be below what a DASH assessment implies.
    pub risk_level: Option<RiskLevel>,
    /// An area code of the partnership.
    pub area: Option<String>,
    /// Every ODG discussion date (replaces the list).
    pub odg_dates: Option<Vec<NaiveDate>>,
    /// The MARAC referral date.
    pub marac_referred_on: Option<NaiveDate>,
    /// The MARAC's outcome, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"))]
    pub marac_outcome: Option<String>,
}

/// A DASH risk assessment of a domestic-abuse case: the score and, by professional
/// judgement, a higher level with its reason. The case's risk level becomes the assessed one.
#[derive(InputObject)]
pub struct RecordDashInput {
    pub case_id: ID,
    pub version: i32,
    /// 0 to 24.
    pub score: i32,
    /// Only above what the score implies; needs `overrideReason`.
    pub override_level: Option<RiskLevel>,
    #[graphql(validator(custom = "Text(2000)"))]
    pub override_reason: Option<String>,
}

#[derive(InputObject)]
pub struct CloseCaseInput {
    pub case_id: ID,
    pub version: i32,
    /// A CASE_OUTCOME code in force on the day.
    pub outcome: String,
    /// Defaults to today; not before the case opened, not in the future.
    pub closed_on: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct RecordInterventionInput {
    pub case_id: ID,
    /// An INTERVENTION code in force on `startsOn`.
    pub intervention: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    #[graphql(validator(custom = "Text(2000)"))]
    pub notes: Option<String>,
}

#[derive(InputObject)]
pub struct ReferCaseInput {
    pub case_id: ID,
    /// The programme or agency referred to, up to 200 characters.
    #[graphql(validator(custom = "Text(200)"))]
    pub to_programme: String,
    /// Defaults to today.
    pub referred_on: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct UpdateReferralInput {
    pub referral_id: ID,
    pub version: i32,
    /// ACCEPTED or DECLINED from REFERRED; COMPLETED from ACCEPTED.
    pub status: ReferralStatus,
    /// Defaults to today; not before the referral.
    pub on: Option<NaiveDate>,
}

/// Corrections to a person's details; fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdatePersonInput {
    pub person_id: ID,
    /// The `personVersion` read; a person changed since is a CONFLICT.
    pub version: i32,
    #[graphql(validator(custom = "Text(200)"))]
    pub full_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    #[graphql(validator(custom = "Text(1000)"))]
    pub address: Option<String>,
    #[graphql(validator(custom = "Text(1000)"))]
    pub contact: Option<String>,
    /// With `consentOn` for GIVEN or REFUSED.
    pub consent: Option<Consent>,
    /// When consent was given or refused: required with GIVEN or REFUSED.
    pub consent_on: Option<NaiveDate>,
}

#[derive(Default)]
pub struct CaseWorkMutation;

fn stale() -> AppError {
    AppError::Conflict("the record changed since it was read; read it again".to_owned())
}

fn bad(message: &str) -> async_graphql::Error {
    AppError::BadUserInput(message.to_owned()).into()
}

/// The owning agency's case for a change, at the version the caller read.
async fn owned_at_version(
    txn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    id: &ID,
    version: i32,
) -> Result<CaseRow, AppError> {
    let case = case_for_change(txn, p, id).await?;
    if case.owning_agency_id != p.agency_id {
        return Err(AppError::Forbidden(
            "only the owning agency changes, assesses, closes or reopens a case".to_owned(),
        ));
    }
    if case.version != version {
        return Err(stale());
    }
    Ok(case)
}

async fn audited(
    txn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    case: &CaseRow,
    action: Action,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    audit::record(
        txn,
        p,
        case.partnership_id,
        action,
        Some(("case", case.id.to_string())),
        detail,
    )
    .await
}

#[Object]
impl CaseWorkMutation {
    /// Corrects a person's details: any caseworker whose agency sees the person through a case.
    /// The person is one record in every case that holds them. Audited in each partnership's
    /// log with the fields changed (not their values).
    async fn update_person(
        &self,
        ctx: &Context<'_>,
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
            (Some(c), on) => Some((c.as_str(), on)),
            (None, Some(_)) => return Err(bad("consentOn goes with consent")),
        };
        let person = parse_id(&input.person_id, "person")?;
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let (partnership, version) = db::case::person_for_change(&txn, p, person)
            .await?
            .ok_or_else(|| AppError::NotFound("no such person".to_owned()))?;
        if version != input.version {
            return Err(stale().into());
        }
        let changes = db::case::PersonChanges {
            full_name: input.full_name.as_ref().map(|n| n.trim().to_owned()),
            date_of_birth: input.date_of_birth,
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
        case_id: ID,
        person_id: ID,
        part: SubjectPart,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let person = parse_id(&person_id, "person")?;
        let conn = super::db(ctx)?;
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
    async fn update_case(&self, ctx: &Context<'_>, input: UpdateCaseInput) -> Result<Case> {
        let p = caseworker(ctx)?;
        check_dates(
            input
                .odg_dates
                .iter()
                .flatten()
                .map(|d| ("odgDates", Some(*d)))
                .chain([("maracReferredOn", input.marac_referred_on)]),
        )?;
        let conn = super::db(ctx)?;
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
            (Some(on), outcome) => Some((on, outcome.clone().or(case.marac_outcome.clone()))),
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
            odg_dates: odg,
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
    async fn record_dash(&self, ctx: &Context<'_>, input: RecordDashInput) -> Result<Case> {
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
        let conn = super::db(ctx)?;
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
    async fn close_case(&self, ctx: &Context<'_>, input: CloseCaseInput) -> Result<Case> {
        let p = caseworker(ctx)?;
        let today = today_in_london();
        check_dates([("closedOn", input.closed_on)])?;
        let closed_on = input.closed_on.unwrap_or(today);
        if closed_on > today {
            return Err(bad("closedOn cannot be in the future"));
        }
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = owned_at_version(&txn, p, &input.case_id, input.version).await?;
        if case.status == "CLOSED" {
            return Err(AppError::Conflict("the case is already closed".to_owned()).into());
        }
        if closed_on < case.opened_on {
            return Err(bad("closedOn cannot be before the case opened"));
        }
        if !db::case::term_in_force(&txn, "CASE_OUTCOME", &input.outcome, closed_on).await? {
            return Err(bad(&format!(
                "'{}' is not a CASE_OUTCOME in force on {closed_on}",
                input.outcome
            )));
        }
        if !db::case::set_closed(
            &txn,
            case.id,
            input.version,
            Some((input.outcome.clone(), closed_on)),
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
    async fn reopen_case(&self, ctx: &Context<'_>, case_id: ID, version: i32) -> Result<Case> {
        let p = caseworker(ctx)?;
        let conn = super::db(ctx)?;
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
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &input.case_id).await?;
        if !db::case::term_in_force(&txn, "INTERVENTION", &input.intervention, input.starts_on)
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
            input.starts_on,
            input.ends_on,
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
    async fn refer_case(&self, ctx: &Context<'_>, input: ReferCaseInput) -> Result<Referral> {
        let p = caseworker(ctx)?;
        check_dates([("referredOn", input.referred_on)])?;
        let to = input.to_programme.trim().to_owned();
        if to.is_empty() {
            return Err(bad("toProgramme must not be empty"));
        }
        let conn = super::db(ctx)?;
        let txn = conn.begin().await.map_err(begin_err)?;
        let case = case_for_change(&txn, p, &input.case_id).await?;
        let on = input.referred_on.unwrap_or_else(today_in_london);
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
        input: UpdateReferralInput,
    ) -> Result<Referral> {
        let p = caseworker(ctx)?;
        check_dates([("on", input.on)])?;
        let conn = super::db(ctx)?;
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
        let on = input.on.unwrap_or_else(today_in_london);
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
    async fn link_incident(&self, ctx: &Context<'_>, case_id: ID, incident_id: ID) -> Result<Case> {
        let p = caseworker(ctx)?;
        let incident = parse_id(&incident_id, "incident")?;
        let conn = super::db(ctx)?;
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
        case_id: ID,
        incident_id: ID,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let incident = parse_id(&incident_id, "incident")?;
        let conn = super::db(ctx)?;
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
