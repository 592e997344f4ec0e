//! The people of cases: subjects and their parts, persons, the people search and likely duplicates.

use super::*;

pg_row! {
    /// A person in a case.
    #[derive(Debug, Clone)]
    pub struct SubjectRow {
        pub case_id: Uuid,
        pub person_id: Uuid,
        pub part: String,
        pub full_name: String,
        pub date_of_birth: Option<NaiveDate>,
        pub address: Option<String>,
        pub contact: Option<String>,
        pub consent: String,
        pub consent_on: Option<NaiveDate>,
        pub added_at: DateTime<Utc>,
        pub person_version: i32,
    }
}

/// A `SubjectRow` per part a person has in a case (`c` is the case, for the sharing rule).
pub(super) const SUBJECT_SELECT: &str = "SELECT cs.case_id, pe.id AS person_id, cs.part, pe.full_name, pe.date_of_birth, \
       pe.address, pe.contact, pe.consent, pe.consent_on, cs.added_at, pe.version AS person_version \
     FROM case_subjects cs JOIN people pe ON pe.id = cs.person_id JOIN cases c ON c.id = cs.case_id";

/// The people of cases the caller may see.
pub async fn subjects<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_ids: &[Uuid],
) -> AppResult<Vec<SubjectRow>> {
    fetch_all(
        conn,
        &format!(
            "{SUBJECT_SELECT} WHERE cs.case_id = ANY($3) AND {SHARED_WITH_CALLER} \
             ORDER BY cs.case_id, cs.added_at, pe.full_name, cs.part"
        ),
        vec![
            scope(p).into(),
            p.agency_id.into(),
            case_ids.to_vec().into(),
        ],
    )
    .await
}

/// A person's parts in the cases the caller may see.
pub async fn subjects_of_person<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    person_id: Uuid,
) -> AppResult<Vec<SubjectRow>> {
    fetch_all(
        conn,
        &format!(
            "{SUBJECT_SELECT} WHERE cs.person_id = $3 AND {SHARED_WITH_CALLER} \
             ORDER BY c.opened_on, c.ref, cs.part"
        ),
        vec![scope(p).into(), p.agency_id.into(), person_id.into()],
    )
    .await
}

pg_row! {
    /// A person as search finds them, with how close the name is (0 to 1).
    #[derive(Debug, Clone)]
    pub struct PersonMatch {
        pub id: Uuid,
        pub full_name: String,
        pub date_of_birth: Option<NaiveDate>,
        pub score: f32,
        /// References of the cases the caller may see that hold the person, comma-separated.
        pub case_refs: String,
    }
}

/// The people the caller may see through a case it may see (a person is visible only that
/// way), in one partnership.
pub(super) const PERSON_VISIBLE: &str = "EXISTS (SELECT 1 FROM case_subjects cs JOIN case_shares s ON s.case_id = cs.case_id \
     WHERE cs.person_id = pe.id AND s.agency_id = $2 AND s.partnership_id = ANY($1))";

pub(super) const PERSON_CASE_REFS: &str = "(SELECT string_agg(DISTINCT c.ref, ',' ORDER BY c.ref) \
     FROM case_subjects cs JOIN cases c ON c.id = cs.case_id \
     WHERE cs.person_id = pe.id AND c.partnership_id = ANY($1) \
       AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = c.id AND s.agency_id = $2))";

/// People the caller may see whose name is like `name` (trigram word similarity, so a
/// misspelt surname alone finds the full name), optionally born on `dob`, best first. The
/// candidates come from `csphub_people_like` (see the cases migration: it keeps the trigram
/// index usable under row-level security); this query reads them under the policies again.
pub async fn search_people<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    partnership_id: Uuid,
    name: &str,
    dob: Option<NaiveDate>,
    limit: u64,
) -> AppResult<Vec<PersonMatch>> {
    fetch_all(
        conn,
        &format!(
            "SELECT pe.id, pe.full_name, pe.date_of_birth, m.score, \
               coalesce({PERSON_CASE_REFS}, '') AS case_refs \
             FROM csphub_people_like($3, $4, $5, $6) m JOIN people pe ON pe.id = m.person_id \
             WHERE pe.partnership_id = $3 AND {PERSON_VISIBLE} \
             ORDER BY m.score DESC, pe.full_name, pe.id"
        ),
        vec![
            scope(p).into(),
            p.agency_id.into(),
            partnership_id.into(),
            name.to_owned().into(),
            dob.into(),
            (limit as i32).into(),
        ],
    )
    .await
}

/// Likely duplicates of a new person among those the caller may see: the same date of birth
/// and a similar name (Smith / Smyth).
pub async fn likely_duplicates<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    partnership_id: Uuid,
    name: &str,
    dob: NaiveDate,
    except: Uuid,
) -> AppResult<Vec<PersonMatch>> {
    fetch_all(
        conn,
        &format!(
            "SELECT pe.id, pe.full_name, pe.date_of_birth, similarity($4, pe.full_name) AS score, \
               coalesce({PERSON_CASE_REFS}, '') AS case_refs \
             FROM people pe \
             WHERE pe.partnership_id = $3 AND pe.date_of_birth = $5 AND pe.id <> $6 \
               AND similarity($4, pe.full_name) >= 0.3 AND {PERSON_VISIBLE} \
             ORDER BY score DESC, pe.full_name, pe.id LIMIT 10"
        ),
        vec![
            scope(p).into(),
            p.agency_id.into(),
            partnership_id.into(),
            name.to_owned().into(),
            dob.into(),
            except.into(),
        ],
    )
    .await
}

/// A new person's details.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub consent: &'static str,
    pub consent_on: Option<NaiveDate>,
}

/// Records a new person in a partnership. Returns the id. (Not visible to anyone until a case
/// holds them: call `add_subject` in the same transaction.)
pub async fn add_person<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    partnership_id: Uuid,
    person: &NewPerson,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    execute(
        conn,
        "INSERT INTO people (id, partnership_id, full_name, date_of_birth, address, contact, consent, consent_on, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            id.into(),
            partnership_id.into(),
            person.full_name.clone().into(),
            person.date_of_birth.into(),
            person.address.clone().into(),
            person.contact.clone().into(),
            person.consent.into(),
            person.consent_on.into(),
            p.sub.clone().into(),
        ],
        &[],
    )
    .await?;
    Ok(id)
}

/// Whether the caller may see a person (through a case), in a partnership.
pub async fn person_visible<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    partnership_id: Uuid,
    person_id: Uuid,
) -> AppResult<bool> {
    Ok(fetch_optional::<Count, _>(
        conn,
        &format!(
            "SELECT count(*) AS n FROM people pe WHERE pe.id = $4 AND pe.partnership_id = $3 AND {PERSON_VISIBLE}"
        ),
        vec![
            scope(p).into(),
            p.agency_id.into(),
            partnership_id.into(),
            person_id.into(),
        ],
    )
    .await?
    .is_some_and(|c| c.n > 0))
}

/// A person's details as a caseworker corrects them; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PersonChanges {
    pub full_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub consent: Option<(&'static str, Option<NaiveDate>)>,
}

/// The person's partnership and version, when the caller may see them.
pub async fn person_for_change<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    person_id: Uuid,
) -> AppResult<Option<(Uuid, i32)>> {
    pg_row! {
        struct Found {
            partnership_id: Uuid,
            version: i32,
        }
    }
    Ok(fetch_optional::<Found, _>(
        conn,
        &format!(
            "SELECT pe.partnership_id, pe.version FROM people pe WHERE pe.id = $3 AND {PERSON_VISIBLE}"
        ),
        vec![scope(p).into(), p.agency_id.into(), person_id.into()],
    )
    .await?
    .map(|f| (f.partnership_id, f.version)))
}

/// Applies corrections to a person at `version`. Returns false when the version has moved on.
pub async fn update_person<C: ConnectionTrait>(
    conn: &C,
    person_id: Uuid,
    version: i32,
    c: &PersonChanges,
) -> AppResult<bool> {
    let (consent_set, consent, consent_on) = match c.consent {
        Some((v, on)) => (true, Some(v), on),
        None => (false, None, None),
    };
    let n = execute(
        conn,
        "UPDATE people SET full_name = coalesce($3, full_name), date_of_birth = coalesce($4, date_of_birth), \
           address = coalesce($5, address), contact = coalesce($6, contact), \
           consent = CASE WHEN $7 THEN $8 ELSE consent END, \
           consent_on = CASE WHEN $7 THEN $9 ELSE consent_on END, version = version + 1 \
         WHERE id = $1 AND version = $2",
        vec![
            person_id.into(),
            version.into(),
            c.full_name.clone().into(),
            c.date_of_birth.into(),
            c.address.clone().into(),
            c.contact.clone().into(),
            consent_set.into(),
            consent.map(str::to_owned).into(),
            consent_on.into(),
        ],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// Takes a person's part in a case away. Returns false when they did not have it.
pub async fn remove_subject<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    person_id: Uuid,
    part: &str,
) -> AppResult<bool> {
    let n = execute(
        conn,
        "DELETE FROM case_subjects WHERE case_id = $1 AND person_id = $2 AND part = $3",
        vec![case_id.into(), person_id.into(), part.into()],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// Puts a person in a case in a part. Returns false when they already had that part.
pub async fn add_subject<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    person_id: Uuid,
    part: &str,
) -> AppResult<bool> {
    let n = execute(
        conn,
        "INSERT INTO case_subjects (case_id, person_id, part, added_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        vec![
            case_id.into(),
            person_id.into(),
            part.into(),
            p.sub.clone().into(),
        ],
        &[],
    )
    .await?;
    Ok(n == 1)
}
