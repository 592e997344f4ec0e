//! Cases, their people, shares and notes. Every query here states the sharing rule itself (the
//! case is in a partnership in scope and shared with the acting agency; AGENCY notes only for
//! their agency), and row-level security in PostgreSQL states it again underneath, so a query
//! that forgot it would still return nothing it may not.

use crate::pg_row;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{execute, fetch_all, fetch_optional, write_returning};
use crate::auth::Principal;
use crate::error::{AppError, AppResult};

pg_row! {
    /// A case as its readers see it.
    #[derive(Debug, Clone)]
    pub struct CaseRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub partnership: String,
        pub r#ref: String,
        pub case_type: String,
        pub status: String,
        pub summary: String,
        pub owning_agency_id: Uuid,
        pub owning_agency: String,
        pub lead_officer: String,
        pub risk_level: String,
        pub area_code: Option<String>,
        pub opened_on: NaiveDate,
        /// Comma-separated ISO dates.
        pub odg_dates: String,
        pub dash_score: Option<i32>,
        pub dash_override_level: Option<String>,
        pub dash_override_reason: Option<String>,
        pub marac_referred_on: Option<NaiveDate>,
        pub marac_outcome: Option<String>,
        pub outcome: Option<String>,
        pub closed_on: Option<NaiveDate>,
        pub review_on: Option<NaiveDate>,
        pub created_at: DateTime<Utc>,
        pub version: i32,
    }
}

const CASE_SELECT: &str = "SELECT c.id, c.partnership_id, p.slug AS partnership, c.ref, c.case_type, c.status, \
       c.summary, c.owning_agency_id, a.slug AS owning_agency, c.lead_officer, c.risk_level, c.area_code, \
       c.opened_on, array_to_string(c.odg_dates, ',') AS odg_dates, c.dash_score, c.dash_override_level, \
       c.dash_override_reason, c.marac_referred_on, c.marac_outcome, c.outcome, c.closed_on, c.review_on, \
       c.created_at, c.version \
     FROM cases c JOIN partnerships p ON p.id = c.partnership_id JOIN agencies a ON a.id = c.owning_agency_id";

/// The sharing rule for `cases c`, with the scope as `$1` (uuid[]) and the agency as `$2`.
const SHARED_WITH_CALLER: &str = "c.partnership_id = ANY($1) \
     AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = c.id AND s.agency_id = $2)";

fn scope(p: &Principal) -> Vec<Uuid> {
    p.partnerships.iter().map(|s| s.id).collect()
}

/// One case the caller may see, by id.
pub async fn by_id<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: Uuid,
) -> AppResult<Option<CaseRow>> {
    fetch_optional(
        conn,
        &format!("{CASE_SELECT} WHERE {SHARED_WITH_CALLER} AND c.id = $3"),
        vec![scope(p).into(), p.agency_id.into(), id.into()],
    )
    .await
}

/// `by_ref`'s statement: `$1` the scope, `$2` the agency, `$3` the partnership, `$4` the
/// reference. The case is found through the caller's own share rows, which carry the case's
/// reference: a reference that exists but is not shared with the caller and one that does not
/// exist are then the same index lookup that finds nothing, so neither answers sooner (the
/// cases table is read only for a case the caller sees).
pub fn by_ref_sql() -> String {
    format!(
        "{CASE_SELECT} WHERE c.id = (SELECT s.case_id FROM case_shares s WHERE s.agency_id = $2 \
           AND s.partnership_id = $3 AND s.case_ref = upper($4) AND s.partnership_id = ANY($1)) \
         AND {SHARED_WITH_CALLER} AND c.partnership_id = $3"
    )
}

/// One case the caller may see, by reference, in one partnership.
pub async fn by_ref<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    partnership_id: Uuid,
    reference: &str,
) -> AppResult<Option<CaseRow>> {
    fetch_optional(
        conn,
        &by_ref_sql(),
        vec![
            scope(p).into(),
            p.agency_id.into(),
            partnership_id.into(),
            reference.to_owned().into(),
        ],
    )
    .await
}

/// The filters of `cases`.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub partnership_id: Uuid,
    pub case_type: Option<String>,
    pub status: Option<String>,
    pub risk_level: Option<String>,
    pub owning_agency: Option<String>,
    pub area: Option<String>,
    /// Part of the reference, any case.
    pub ref_contains: Option<String>,
}

fn filter_sql(f: &CaseFilter, values: &mut Vec<sea_orm::Value>) -> String {
    let mut sql = format!("{SHARED_WITH_CALLER} AND c.partnership_id = $3");
    values.push(f.partnership_id.into());
    let mut add = |clause: &str, v: sea_orm::Value| {
        values.push(v);
        sql.push_str(&clause.replace('#', &format!("${}", values.len())));
    };
    if let Some(t) = &f.case_type {
        add(" AND c.case_type = #", t.clone().into());
    }
    if let Some(s) = &f.status {
        add(" AND c.status = #", s.clone().into());
    }
    if let Some(r) = &f.risk_level {
        add(" AND c.risk_level = #", r.clone().into());
    }
    if let Some(a) = &f.owning_agency {
        add(
            " AND c.owning_agency_id = (SELECT id FROM agencies WHERE slug = #)",
            a.clone().into(),
        );
    }
    if let Some(a) = &f.area {
        add(" AND c.area_code = #", a.clone().into());
    }
    if let Some(r) = &f.ref_contains {
        let escaped = r
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        add(" AND c.ref ILIKE #", format!("%{escaped}%").into());
    }
    sql
}

/// A page of the cases the caller may see, newest first, after `after` (created_at, id).
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    f: &CaseFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> AppResult<Vec<CaseRow>> {
    let mut values = vec![scope(p).into(), p.agency_id.into()];
    let mut sql = format!("{CASE_SELECT} WHERE {}", filter_sql(f, &mut values));
    if let Some((at, id)) = after {
        values.push(at.into());
        values.push(id.into());
        let n = values.len();
        sql.push_str(&format!(" AND (c.created_at, c.id) < (${}, ${n})", n - 1));
    }
    values.push((limit as i64).into());
    sql.push_str(&format!(
        " ORDER BY c.created_at DESC, c.id DESC LIMIT ${}",
        values.len()
    ));
    fetch_all(conn, &sql, values).await
}

pg_row! {
    struct Count {
        n: i64,
    }
}

/// How many cases the caller may see match the filter.
pub async fn count<C: ConnectionTrait>(conn: &C, p: &Principal, f: &CaseFilter) -> AppResult<i64> {
    let mut values = vec![scope(p).into(), p.agency_id.into()];
    let sql = format!(
        "SELECT count(*) AS n FROM cases c WHERE {}",
        filter_sql(f, &mut values)
    );
    Ok(fetch_optional::<Count, _>(conn, &sql, values)
        .await?
        .map_or(0, |c| c.n))
}

/// What opening a case needs.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub partnership_id: Uuid,
    pub case_type: &'static str,
    pub prefix: &'static str,
    pub summary: String,
    pub lead_officer: String,
    pub risk_level: &'static str,
    pub area_code: Option<String>,
    pub opened_on: NaiveDate,
    pub dash_score: Option<i32>,
}

pg_row! {
    struct Number {
        last_number: i32,
    }
}

/// Opens a case owned by the caller's agency, with its reference (prefix, year, the next
/// number of the partnership's year) and the owner's own share row. Returns the new id.
pub async fn open<C: ConnectionTrait>(conn: &C, p: &Principal, new: &NewCase) -> AppResult<Uuid> {
    use chrono::Datelike;
    let year = new.opened_on.year();
    let number: Number = write_returning(
        conn,
        "INSERT INTO case_ref_counters (partnership_id, year, last_number) VALUES ($1, $2, 1) \
         ON CONFLICT (partnership_id, year) DO UPDATE SET last_number = case_ref_counters.last_number + 1 \
         RETURNING last_number",
        vec![new.partnership_id.into(), year.into()],
        &[],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("no reference number")))?;
    let reference = format!("{}-{year}-{:04}", new.prefix, number.last_number);
    let id = Uuid::new_v4();
    // No RETURNING: the new row is not visible to the caller (row-level security) until its
    // owner's share row exists.
    execute(
        conn,
        "INSERT INTO cases (id, partnership_id, ref, case_type, summary, owning_agency_id, lead_officer, \
           risk_level, area_code, opened_on, dash_score, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            id.into(),
            new.partnership_id.into(),
            reference.into(),
            new.case_type.into(),
            new.summary.clone().into(),
            p.agency_id.into(),
            new.lead_officer.clone().into(),
            new.risk_level.into(),
            new.area_code.clone().into(),
            new.opened_on.into(),
            new.dash_score.into(),
            p.sub.clone().into(),
        ],
        &[("cases_partnership_id_ref_key", "that reference is taken")],
    )
    .await?;
    execute(
        conn,
        "INSERT INTO case_shares (case_id, agency_id, legal_basis, shared_by) VALUES ($1, $2, 'OWNER', $3)",
        vec![id.into(), p.agency_id.into(), p.sub.clone().into()],
        &[],
    )
    .await?;
    Ok(id)
}

pg_row! {
    /// An agency a case is shared with.
    #[derive(Debug, Clone)]
    pub struct ShareRow {
        pub case_id: Uuid,
        pub agency: String,
        pub agency_name: String,
        pub legal_basis: String,
        pub basis_text: Option<String>,
        pub shared_by: String,
        pub shared_at: DateTime<Utc>,
    }
}

/// The shares of cases the caller may see (callers pass ids of cases they have read).
pub async fn shares<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_ids: &[Uuid],
) -> AppResult<Vec<ShareRow>> {
    fetch_all(
        conn,
        "SELECT sh.case_id, a.slug AS agency, a.name AS agency_name, sh.legal_basis, sh.basis_text, \
           sh.shared_by, sh.shared_at \
         FROM case_shares sh JOIN cases c ON c.id = sh.case_id JOIN agencies a ON a.id = sh.agency_id \
         WHERE c.id = ANY($3) AND c.partnership_id = ANY($1) \
           AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = c.id AND s.agency_id = $2) \
         ORDER BY sh.case_id, sh.shared_at, a.slug",
        vec![scope(p).into(), p.agency_id.into(), case_ids.to_vec().into()],
    )
    .await
}

/// Shares a case the caller's agency owns with another agency of its partnership. Returns
/// false when it was already shared with it (the earlier share is kept).
pub async fn share<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case: &CaseRow,
    agency_id: Uuid,
    legal_basis: &str,
    basis_text: Option<String>,
) -> AppResult<bool> {
    let n = execute(
        conn,
        "INSERT INTO case_shares (case_id, agency_id, legal_basis, basis_text, shared_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, agency_id) DO NOTHING",
        vec![
            case.id.into(),
            agency_id.into(),
            legal_basis.into(),
            basis_text.into(),
            p.sub.clone().into(),
        ],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// Takes a share away. Returns false when there was none. The owner's own share stays.
pub async fn unshare<C: ConnectionTrait>(
    conn: &C,
    case: &CaseRow,
    agency_id: Uuid,
) -> AppResult<bool> {
    let n = execute(
        conn,
        "DELETE FROM case_shares WHERE case_id = $1 AND agency_id = $2 AND legal_basis <> 'OWNER'",
        vec![case.id.into(), agency_id.into()],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// An agency of a partnership that may work cases (not the PCC's), by slug.
pub async fn agency_in_partnership<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
    partnership_id: Uuid,
) -> AppResult<Option<Uuid>> {
    pg_row! {
        struct Id {
            id: Uuid,
        }
    }
    Ok(fetch_optional::<Id, _>(
        conn,
        "SELECT a.id FROM agencies a JOIN agency_partnerships ap ON ap.agency_id = a.id \
         WHERE a.slug = $1 AND ap.partnership_id = $2 AND a.kind <> 'pcc'",
        vec![slug.to_owned().into(), partnership_id.into()],
    )
    .await?
    .map(|r| r.id))
}

pg_row! {
    /// A note as its readers see it.
    #[derive(Debug, Clone)]
    pub struct NoteRow {
        pub id: Uuid,
        pub case_id: Uuid,
        pub author: String,
        pub agency: String,
        pub visibility: String,
        pub body: String,
        pub supersedes_id: Option<Uuid>,
        pub superseded_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
    }
}

/// The note rule for `case_notes n` of a case already found visible: SHARED notes, and AGENCY
/// notes of the caller's agency (`$2`).
const NOTE_VISIBLE: &str = "(n.visibility = 'SHARED' OR n.agency_id = $2)";

/// A page of a case's notes the caller may read, newest first.
pub async fn notes<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> AppResult<Vec<NoteRow>> {
    let (at, id) = after.unzip();
    fetch_all(
        conn,
        &format!(
            "SELECT n.id, n.case_id, n.author, a.slug AS agency, n.visibility, n.body, n.supersedes_id, \
               (SELECT s.id FROM case_notes s WHERE s.supersedes_id = n.id \
                  AND (s.visibility = 'SHARED' OR s.agency_id = $2) ORDER BY s.created_at DESC LIMIT 1) AS superseded_by, \
               n.created_at \
             FROM case_notes n JOIN agencies a ON a.id = n.agency_id \
             JOIN cases c ON c.id = n.case_id \
             WHERE n.case_id = $3 AND {SHARED_WITH_CALLER} AND {NOTE_VISIBLE} \
               AND ($4::timestamptz IS NULL OR (n.created_at, n.id) < ($4, $5)) \
             ORDER BY n.created_at DESC, n.id DESC LIMIT $6"
        ),
        vec![
            scope(p).into(),
            p.agency_id.into(),
            case_id.into(),
            at.into(),
            id.into(),
            (limit as i64).into(),
        ],
    )
    .await
}

/// How many notes of a case the caller may read.
pub async fn note_count<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
) -> AppResult<i64> {
    Ok(fetch_optional::<Count, _>(
        conn,
        &format!(
            "SELECT count(*) AS n FROM case_notes n JOIN cases c ON c.id = n.case_id \
             WHERE n.case_id = $3 AND {SHARED_WITH_CALLER} AND {NOTE_VISIBLE}"
        ),
        vec![scope(p).into(), p.agency_id.into(), case_id.into()],
    )
    .await?
    .map_or(0, |c| c.n))
}

/// The agency of a note the caller may read, by id, in a case.
pub async fn note_agency<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    note_id: Uuid,
) -> AppResult<Option<Uuid>> {
    pg_row! {
        struct Found {
            agency_id: Uuid,
        }
    }
    Ok(fetch_optional::<Found, _>(
        conn,
        &format!(
            "SELECT n.agency_id FROM case_notes n JOIN cases c ON c.id = n.case_id \
             WHERE n.id = $4 AND n.case_id = $3 AND {SHARED_WITH_CALLER} AND {NOTE_VISIBLE}"
        ),
        vec![
            scope(p).into(),
            p.agency_id.into(),
            case_id.into(),
            note_id.into(),
        ],
    )
    .await?
    .map(|f| f.agency_id))
}

/// Appends a note as the caller. Returns its id.
pub async fn add_note<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    visibility: &str,
    body: &str,
    supersedes: Option<Uuid>,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    execute(
        conn,
        "INSERT INTO case_notes (id, case_id, author, agency_id, visibility, body, supersedes_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            id.into(),
            case_id.into(),
            p.sub.clone().into(),
            p.agency_id.into(),
            visibility.into(),
            body.to_owned().into(),
            supersedes.into(),
        ],
        &[],
    )
    .await?;
    Ok(id)
}

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
const SUBJECT_SELECT: &str = "SELECT cs.case_id, pe.id AS person_id, cs.part, pe.full_name, pe.date_of_birth, \
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
const PERSON_VISIBLE: &str = "EXISTS (SELECT 1 FROM case_subjects cs JOIN case_shares s ON s.case_id = cs.case_id \
     WHERE cs.person_id = pe.id AND s.agency_id = $2 AND s.partnership_id = ANY($1))";

const PERSON_CASE_REFS: &str = "(SELECT string_agg(DISTINCT c.ref, ',' ORDER BY c.ref) \
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

/// The changes an owner may make to an open case; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CaseChanges {
    pub summary: Option<String>,
    pub lead_officer: Option<String>,
    pub risk_level: Option<&'static str>,
    pub area_code: Option<Option<String>>,
    pub odg_dates: Option<Vec<NaiveDate>>,
    pub dash: Option<(i32, Option<&'static str>, Option<String>)>,
    pub marac: Option<(NaiveDate, Option<String>)>,
}

/// Applies changes to a case at `version`. Returns false when the version has moved on.
pub async fn update<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    version: i32,
    c: &CaseChanges,
) -> AppResult<bool> {
    let (dash_set, dash_score, dash_level, dash_reason) = match &c.dash {
        Some((s, l, r)) => (true, Some(*s), l.map(str::to_owned), r.clone()),
        None => (false, None, None, None),
    };
    let (marac_set, marac_on, marac_outcome) = match &c.marac {
        Some((on, outcome)) => (true, Some(*on), outcome.clone()),
        None => (false, None, None),
    };
    let n = execute(
        conn,
        "UPDATE cases SET \
           summary = coalesce($3, summary), lead_officer = coalesce($4, lead_officer), \
           risk_level = coalesce($5, risk_level), \
           area_code = CASE WHEN $6 THEN $7 ELSE area_code END, \
           odg_dates = coalesce($8::date[], odg_dates), \
           dash_score = CASE WHEN $9 THEN $10 ELSE dash_score END, \
           dash_override_level = CASE WHEN $9 THEN $11 ELSE dash_override_level END, \
           dash_override_reason = CASE WHEN $9 THEN $12 ELSE dash_override_reason END, \
           marac_referred_on = CASE WHEN $13 THEN $14 ELSE marac_referred_on END, \
           marac_outcome = CASE WHEN $13 THEN $15 ELSE marac_outcome END, \
           version = version + 1 \
         WHERE id = $1 AND version = $2",
        vec![
            case_id.into(),
            version.into(),
            c.summary.clone().into(),
            c.lead_officer.clone().into(),
            c.risk_level.map(str::to_owned).into(),
            c.area_code.is_some().into(),
            c.area_code.clone().flatten().into(),
            c.odg_dates.clone().into(),
            dash_set.into(),
            dash_score.into(),
            dash_level.into(),
            dash_reason.into(),
            marac_set.into(),
            marac_on.into(),
            marac_outcome.into(),
        ],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// Closes a case at `version` with an outcome and a date, setting its retention review date
/// from the schedule of its type; or reopens it (`None`). Returns false when the version has
/// moved on.
pub async fn set_closed<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    version: i32,
    closed: Option<(String, NaiveDate)>,
) -> AppResult<bool> {
    let (outcome, on) = closed.unzip();
    let n = execute(
        conn,
        "UPDATE cases c SET status = CASE WHEN $3::text IS NULL THEN 'OPEN' ELSE 'CLOSED' END, \
           outcome = $3, closed_on = $4, \
           review_on = ($4::date + make_interval(years => \
             (SELECT r.years FROM case_retention r WHERE r.case_type = c.case_type)))::date, \
           version = version + 1 \
         WHERE id = $1 AND version = $2",
        vec![case_id.into(), version.into(), outcome.into(), on.into()],
        &[],
    )
    .await?;
    Ok(n == 1)
}

pg_row! {
    /// An intervention used in a case.
    #[derive(Debug, Clone)]
    pub struct InterventionRow {
        pub id: Uuid,
        pub intervention: String,
        pub label: Option<String>,
        pub agency: String,
        pub starts_on: NaiveDate,
        pub ends_on: Option<NaiveDate>,
        pub notes: Option<String>,
        pub recorded_by: String,
        pub recorded_at: DateTime<Utc>,
    }
}

pub async fn interventions<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> AppResult<Vec<InterventionRow>> {
    fetch_all(
        conn,
        "SELECT ci.id, ci.intervention, \
           (SELECT v.label FROM vocabulary_terms v WHERE v.vocabulary = 'INTERVENTION' AND v.code = ci.intervention \
              AND v.valid_from <= ci.starts_on AND (v.valid_to IS NULL OR v.valid_to >= ci.starts_on) LIMIT 1) AS label, \
           a.slug AS agency, ci.starts_on, ci.ends_on, ci.notes, ci.recorded_by, ci.recorded_at \
         FROM case_interventions ci JOIN agencies a ON a.id = ci.agency_id \
         WHERE ci.case_id = $1 ORDER BY ci.starts_on, ci.recorded_at",
        vec![case_id.into()],
    )
    .await
}

pub async fn add_intervention<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    intervention: &str,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    notes: Option<String>,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    execute(
        conn,
        "INSERT INTO case_interventions (id, case_id, intervention, agency_id, starts_on, ends_on, notes, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            id.into(),
            case_id.into(),
            intervention.to_owned().into(),
            p.agency_id.into(),
            starts_on.into(),
            ends_on.into(),
            notes.into(),
            p.sub.clone().into(),
        ],
        &[],
    )
    .await?;
    Ok(id)
}

pg_row! {
    /// A referral from one agency to a programme or agency.
    #[derive(Debug, Clone)]
    pub struct ReferralRow {
        pub id: Uuid,
        pub case_id: Uuid,
        pub from_agency: String,
        pub from_agency_id: Uuid,
        pub to_programme: String,
        pub status: String,
        pub referred_on: NaiveDate,
        pub decided_on: Option<NaiveDate>,
        pub completed_on: Option<NaiveDate>,
        pub recorded_by: String,
        pub version: i32,
    }
}

const REFERRAL_SELECT: &str = "SELECT r.id, r.case_id, a.slug AS from_agency, r.from_agency_id, r.to_programme, \
       r.status, r.referred_on, r.decided_on, r.completed_on, r.recorded_by, r.version \
     FROM case_referrals r JOIN agencies a ON a.id = r.from_agency_id";

pub async fn referrals<C: ConnectionTrait>(conn: &C, case_id: Uuid) -> AppResult<Vec<ReferralRow>> {
    fetch_all(
        conn,
        &format!("{REFERRAL_SELECT} WHERE r.case_id = $1 ORDER BY r.referred_on, r.id"),
        vec![case_id.into()],
    )
    .await
}

/// A referral of a case the caller may see, by id.
pub async fn referral<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: Uuid,
) -> AppResult<Option<ReferralRow>> {
    fetch_optional(
        conn,
        &format!(
            "{REFERRAL_SELECT} JOIN cases c ON c.id = r.case_id WHERE r.id = $3 AND {SHARED_WITH_CALLER}"
        ),
        vec![scope(p).into(), p.agency_id.into(), id.into()],
    )
    .await
}

pub async fn add_referral<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    to_programme: &str,
    referred_on: NaiveDate,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    execute(
        conn,
        "INSERT INTO case_referrals (id, case_id, from_agency_id, to_programme, referred_on, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            id.into(),
            case_id.into(),
            p.agency_id.into(),
            to_programme.to_owned().into(),
            referred_on.into(),
            p.sub.clone().into(),
        ],
        &[],
    )
    .await?;
    Ok(id)
}

/// Moves a referral on at `version`. Returns false when the version has moved on.
pub async fn set_referral_status<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    version: i32,
    status: &str,
    on: NaiveDate,
) -> AppResult<bool> {
    let n = execute(
        conn,
        "UPDATE case_referrals SET status = $3, \
           decided_on = CASE WHEN $3 IN ('ACCEPTED', 'DECLINED') THEN $4 ELSE decided_on END, \
           completed_on = CASE WHEN $3 = 'COMPLETED' THEN $4 ELSE completed_on END, \
           version = version + 1 \
         WHERE id = $1 AND version = $2",
        vec![
            id.into(),
            version.into(),
            status.to_owned().into(),
            on.into(),
        ],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// Links an incident to a case. Returns false when it already was.
pub async fn link_incident<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    incident_id: Uuid,
) -> AppResult<bool> {
    let n = execute(
        conn,
        "INSERT INTO case_incidents (case_id, incident_id, linked_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        vec![case_id.into(), incident_id.into(), p.sub.clone().into()],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// Unlinks an incident. Returns false when it was not linked.
pub async fn unlink_incident<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    incident_id: Uuid,
) -> AppResult<bool> {
    let n = execute(
        conn,
        "DELETE FROM case_incidents WHERE case_id = $1 AND incident_id = $2",
        vec![case_id.into(), incident_id.into()],
        &[],
    )
    .await?;
    Ok(n == 1)
}

/// Whether a vocabulary term is in force on a day.
pub async fn term_in_force<C: ConnectionTrait>(
    conn: &C,
    vocabulary: &str,
    code: &str,
    on: NaiveDate,
) -> AppResult<bool> {
    Ok(fetch_optional::<Count, _>(
        conn,
        "SELECT count(*) AS n FROM vocabulary_terms WHERE vocabulary = $1 AND code = $2 \
           AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)",
        vec![vocabulary.into(), code.to_owned().into(), on.into()],
    )
    .await?
    .is_some_and(|c| c.n > 0))
}

/// Writes the retention schedule's configured years (types not named keep theirs).
pub async fn set_retention<C: ConnectionTrait>(conn: &C, years: &[(String, i32)]) -> AppResult<()> {
    for (case_type, y) in years {
        execute(
            conn,
            "UPDATE case_retention SET years = $2 WHERE case_type = $1",
            vec![case_type.clone().into(), (*y).into()],
            &[],
        )
        .await?;
    }
    Ok(())
}
