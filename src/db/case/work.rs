//! Casework records: interventions, referrals and linked incidents.

use super::*;

pg_row! {
    /// An intervention used in a case.
    #[derive(Debug, Clone)]
    pub struct InterventionRow {
        pub id: Uuid,
        pub intervention: String,
        pub label: Option<String>,
        pub agency: String,
        pub agency_name: String,
        pub agency_kind: String,
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
           a.slug AS agency, a.name AS agency_name, a.kind AS agency_kind, ci.starts_on, ci.ends_on, ci.notes, ci.recorded_by, ci.recorded_at \
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
        pub from_agency_name: String,
        pub from_agency_kind: String,
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

pub(super) const REFERRAL_SELECT: &str = "SELECT r.id, r.case_id, a.slug AS from_agency, a.name AS from_agency_name, a.kind AS from_agency_kind, r.from_agency_id, r.to_programme, \
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
