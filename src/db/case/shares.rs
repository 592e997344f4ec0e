//! Which agencies a case is shared with.

use super::*;

/// The shares of cases the caller may see (callers pass ids of cases they have read).
pub async fn shares<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    case_ids: &[Uuid],
) -> AppResult<Vec<ShareRow>> {
    fetch_all(
        conn,
        "SELECT sh.case_id, a.slug AS agency, a.name AS agency_name, a.kind AS agency_kind, sh.legal_basis, sh.basis_text, \
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
