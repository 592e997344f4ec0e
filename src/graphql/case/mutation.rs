//! Opening a case, its people, sharing it and its notes.

use super::*;

/// Opening a case.
#[derive(InputObject)]
pub struct OpenCaseInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    pub partnership: Option<String>,
    /// The kind of case; it sets the reference's prefix.
    pub case_type: CaseType,
    /// What the case is about, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"), default)]
    pub summary: String,
    /// The officer leading it, up to 200 characters.
    #[graphql(validator(custom = "Text(200)"))]
    pub lead_officer: String,
    /// The risk level at opening; with `dashScore`, not below what the score implies
    /// (BAD_USER_INPUT).
    pub risk_level: RiskLevel,
    /// An area code of the partnership.
    pub area: Option<String>,
    /// Defaults to today.
    pub opened_on: Option<crate::scalar::Date>,
    /// Domestic abuse: the DASH score, 0 to 24. The case's risk level may not be below what it
    /// implies.
    pub dash_score: Option<i32>,
}

/// Adding a person to a case: an existing person (`personId`, one the caller can already see)
/// or a new one (`person`).
#[derive(InputObject)]
pub struct AddSubjectInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND.
    pub case_id: ID,
    /// The part the person plays; giving someone a part they already have in the case is
    /// CONFLICT.
    pub part: SubjectPart,
    /// An existing person the caller can already see (`Subject.personId`,
    /// `PersonMatch.personId`); any other is NOT_FOUND. Give this or `person`, not both.
    pub person_id: Option<ID>,
    /// A new person's details. Give this or `personId`, not both (BAD_USER_INPUT).
    pub person: Option<PersonInput>,
}

/// A new person's details, for `addSubject`.
#[derive(InputObject)]
pub struct PersonInput {
    /// Their full name, up to 200 characters; not blank.
    #[graphql(validator(custom = "Text(200)"))]
    pub full_name: String,
    /// Their date of birth (YYYY-MM-DD), not before 1900-01-01; leave out when not known. With
    /// it, `addSubject` looks for likely duplicates.
    pub date_of_birth: Option<crate::scalar::Date>,
    /// Their address, up to 1,000 characters.
    #[graphql(validator(custom = "Text(1000)"))]
    pub address: Option<String>,
    /// Telephone, email: up to 1,000 characters.
    #[graphql(validator(custom = "Text(1000)"))]
    pub contact: Option<String>,
    /// Whether they agreed to their data being shared; NOT_ASKED when left out.
    #[graphql(default_with = "Consent::NotAsked")]
    pub consent: Consent,
    /// When consent was given or refused: required with GIVEN or REFUSED, refused with
    /// NOT_ASKED.
    pub consent_on: Option<crate::scalar::Date>,
}

/// The subject added, with people the caller can already see who may be the same person (the
/// same date of birth and a similar name). Nothing is merged: the caseworker decides.
#[derive(SimpleObject)]
pub struct AddSubjectResult {
    /// The person as added, with their part.
    pub subject: Subject,
    /// Up to 10 people the caller can already see with the same date of birth and a similar
    /// name, most similar first; empty unless a new person with a date of birth was added.
    pub possible_duplicates: Vec<PersonMatch>,
}

/// Sharing a case with another agency of its partnership.
#[derive(InputObject)]
pub struct ShareCaseInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND, and one it does
    /// not own is FORBIDDEN.
    pub case_id: ID,
    /// The agency's slug: one of the case's partnership.
    pub agency: String,
    /// The legal basis of the share: not OWNER (BAD_USER_INPUT); OTHER needs `basisText`.
    pub legal_basis: LegalBasis,
    /// Required for OTHER (and only then): the basis in words, up to 2,000 characters.
    #[graphql(validator(custom = "Text(2000)"))]
    pub basis_text: Option<String>,
}

/// A note to append to a case.
#[derive(InputObject)]
pub struct AddCaseNoteInput {
    /// The case's id; a case not shared with the caller's agency is NOT_FOUND.
    pub case_id: ID,
    /// Up to 20,000 characters.
    #[graphql(validator(custom = "Text(20000)"))]
    pub text: String,
    /// Who may read the note: SHARED, every agency the case is shared with; AGENCY, the
    /// caller's agency only.
    pub visibility: NoteVisibility,
    /// A note of the caller's own agency in the same case that this one corrects.
    pub supersedes: Option<ID>,
}

#[derive(Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    /// Opens a case owned by the caller's agency, with the next reference of its partnership's
    /// year. Needs `caseworker`. Audited.
    async fn open_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new case's details.")] input: OpenCaseInput,
    ) -> Result<Case> {
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
        let conn = crate::graphql::db(ctx)?;
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
                opened_on: input
                    .opened_on
                    .map_or_else(today_in_london, NaiveDate::from),
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
    async fn share_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case, the agency and the legal basis.")] input: ShareCaseInput,
    ) -> Result<Case> {
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
        let conn = crate::graphql::db(ctx)?;
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
    async fn unshare_case(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The case's id; a case not shared with the caller's agency is NOT_FOUND, and one it does not own is FORBIDDEN."
        )]
        case_id: ID,
        #[graphql(
            desc = "The slug of the agency losing the share: not the owning agency (BAD_USER_INPUT); an agency the case is not shared with is NOT_FOUND."
        )]
        agency: String,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
    async fn add_case_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case, the note's text and who may read it.")] input: AddCaseNoteInput,
    ) -> Result<CaseNote> {
        let p = caseworker(ctx)?;
        if input.text.trim().is_empty() {
            return Err(AppError::BadUserInput("text must not be empty".to_owned()).into());
        }
        let conn = crate::graphql::db(ctx)?;
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
        let note = db::case::notes(&txn, p, case.id, &crate::db::page::Keyset::first(100))
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
        #[graphql(desc = "The case, the part, and the person: an existing one or a new one.")]
        input: AddSubjectInput,
    ) -> Result<AddSubjectResult> {
        let p = caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
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
                        date_of_birth: person.date_of_birth.map(Into::into),
                        address: person.address.clone(),
                        contact: person.contact.clone(),
                        consent: person.consent.as_str(),
                        consent_on: person.consent_on.map(Into::into),
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
                            *dob,
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
