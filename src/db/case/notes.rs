//! Case notes: SHARED for every agency the case is shared with, AGENCY for the author's agency only.

use super::*;

pg_row! {
    /// A note as its readers see it.
    #[derive(Debug, Clone)]
    pub struct NoteRow {
        pub id: Uuid,
        pub case_id: Uuid,
        pub author: String,
        pub agency: String,
        pub agency_name: String,
        pub agency_kind: String,
        pub visibility: String,
        pub body: String,
        pub supersedes_id: Option<Uuid>,
        pub superseded_by: Option<Uuid>,
        pub created_at: DateTime<Utc>,
    }
}

/// The note rule for `case_notes n` of a case already found visible: SHARED notes, and AGENCY
/// notes of the caller's agency (`$2`).
pub(super) const NOTE_VISIBLE: &str = "(n.visibility = 'SHARED' OR n.agency_id = $2)";

/// A page of a case's notes the caller may read, newest first (created_at, id), as `keys`
/// place it.
pub async fn notes<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_id: Uuid,
    keys: &Keyset<DateTime<Utc>, Uuid>,
) -> AppResult<Vec<NoteRow>> {
    let mut values = vec![scope(p).into(), p.agency_id.into(), case_id.into()];
    let page = keys.clauses(&mut values, ["n.created_at", "n.id"], true);
    fetch_all(
        conn,
        &format!(
            "SELECT n.id, n.case_id, n.author, a.slug AS agency, a.name AS agency_name, a.kind AS agency_kind, n.visibility, n.body, n.supersedes_id, \
               (SELECT s.id FROM case_notes s WHERE s.supersedes_id = n.id \
                  AND (s.visibility = 'SHARED' OR s.agency_id = $2) ORDER BY s.created_at DESC LIMIT 1) AS superseded_by, \
               n.created_at \
             FROM case_notes n JOIN agencies a ON a.id = n.agency_id \
             JOIN cases c ON c.id = n.case_id \
             WHERE n.case_id = $3 AND {SHARED_WITH_CALLER} AND {NOTE_VISIBLE}{page}"
        ),
        values,
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
