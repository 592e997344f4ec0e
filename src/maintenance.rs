//! Maintenance of case data, run from the command line as the tables' owner (the role that
//! ran the migrations), which sees every row: retention (`csphub retention`) and subject
//! access exports (`csphub subject-export`). Each leaves its audit entries in the same
//! transaction as what it does.

use crate::pg_row;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::audit::{self, Action};
use crate::db::{execute, fetch_all, fetch_optional};
use crate::error::{AppError, AppResult};

pg_row! {
    /// A closed case due for deletion.
    #[derive(Debug, Clone)]
    pub struct DueCase {
        pub id: Uuid,
        pub partnership_id: Uuid,
        pub partnership: String,
        pub r#ref: String,
        pub case_type: String,
        pub closed_on: NaiveDate,
        pub review_on: NaiveDate,
        pub years: i32,
        pub notes: i64,
        pub subjects: i64,
    }
}

/// The closed cases whose review date is on or before `today`, oldest first.
pub async fn due<C: ConnectionTrait>(conn: &C, today: NaiveDate) -> AppResult<Vec<DueCase>> {
    fetch_all(
        conn,
        "SELECT c.id, c.partnership_id, p.slug AS partnership, c.ref, c.case_type, c.closed_on, c.review_on, \
           r.years, (SELECT count(*) FROM case_notes n WHERE n.case_id = c.id) AS notes, \
           (SELECT count(*) FROM case_subjects s WHERE s.case_id = c.id) AS subjects \
         FROM cases c JOIN partnerships p ON p.id = c.partnership_id \
         JOIN case_retention r ON r.case_type = c.case_type \
         WHERE c.status = 'CLOSED' AND c.review_on <= $1 ORDER BY c.review_on, c.ref",
        vec![today.into()],
    )
    .await
}

/// What a retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub cases: usize,
    pub people: u64,
}

/// Deletes every case due on `today` with its notes, shares, subjects, interventions,
/// referrals and incident links, and the people no other case holds; one audit entry per case
/// says what went and under which rule. One transaction: all or nothing.
pub async fn delete_due<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    today: NaiveDate,
    who: &str,
) -> AppResult<(Vec<DueCase>, Removed)> {
    let txn = conn.begin().await.map_err(AppError::internal)?;
    let due = due(&txn, today).await?;
    let mut removed = Removed::default();
    for case in &due {
        pg_row! {
            struct Person {
                person_id: Uuid,
            }
        }
        let people: Vec<Person> = fetch_all(
            &txn,
            "SELECT DISTINCT person_id FROM case_subjects WHERE case_id = $1",
            vec![case.id.into()],
        )
        .await?;
        let people: Vec<Uuid> = people.into_iter().map(|p| p.person_id).collect();
        // Notes, shares, subjects, interventions, referrals and links go with the case
        // (ON DELETE CASCADE).
        execute(
            &txn,
            "DELETE FROM cases WHERE id = $1",
            vec![case.id.into()],
            &[],
        )
        .await?;
        let gone = execute(
            &txn,
            "DELETE FROM people pe WHERE pe.id = ANY($1) \
             AND NOT EXISTS (SELECT 1 FROM case_subjects cs WHERE cs.person_id = pe.id)",
            vec![people.clone().into()],
            &[],
        )
        .await?;
        removed.cases += 1;
        removed.people += gone;
        audit::record_maintenance(
            &txn,
            who,
            case.partnership_id,
            Action::RetentionDeleted,
            Some(("case", case.id.to_string())),
            json!({
                "ref": case.r#ref, "caseType": case.case_type, "closedOn": case.closed_on,
                "reviewOn": case.review_on,
                "rule": format!("{}: {} years after closing", case.case_type, case.years),
                "notes": case.notes, "subjects": case.subjects,
                "peopleDeleted": gone, "peopleKept": people.len() as u64 - gone,
            }),
        )
        .await?;
    }
    // People no case holds any more (their last part was removed from a case): nothing can
    // show them, and nothing should keep them. One entry per partnership they were in.
    pg_row! {
        struct Orphans {
            partnership_id: Uuid,
            n: i64,
        }
    }
    let by_partnership: Vec<Orphans> = fetch_all(
        &txn,
        "WITH gone AS (DELETE FROM people pe \
           WHERE NOT EXISTS (SELECT 1 FROM case_subjects cs WHERE cs.person_id = pe.id) \
           RETURNING pe.partnership_id) \
         SELECT partnership_id, count(*) AS n FROM gone GROUP BY partnership_id ORDER BY partnership_id",
        vec![],
    )
    .await?;
    let mut orphans = 0u64;
    for o in &by_partnership {
        let n = u64::try_from(o.n).unwrap_or(0);
        orphans += n;
        audit::record_maintenance(
            &txn,
            who,
            o.partnership_id,
            Action::RetentionDeleted,
            None,
            json!({"peopleInNoCase": n, "rule": "a person no case holds"}),
        )
        .await?;
    }
    removed.people += orphans;
    txn.commit().await.map_err(AppError::internal)?;
    Ok((due, removed))
}

/// Everything held about one person, as JSON for a subject access request: their details, and
/// for each case that holds them the case, their part, its shares, notes, interventions,
/// referrals and linked incident references. The export is recorded in the audit log.
pub async fn subject_export<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    person: Uuid,
    who: &str,
) -> AppResult<Value> {
    let txn = conn.begin().await.map_err(AppError::internal)?;
    pg_row! {
        struct Doc {
            partnership_id: Uuid,
            doc: Value,
        }
    }
    let doc: Doc = fetch_optional(
        &txn,
        "SELECT pe.partnership_id, jsonb_build_object( \
           'person', jsonb_build_object('id', pe.id, 'fullName', pe.full_name, 'dateOfBirth', pe.date_of_birth, \
              'address', pe.address, 'contact', pe.contact, 'consent', pe.consent, 'consentOn', pe.consent_on, \
              'recordedBy', pe.created_by, 'recordedAt', pe.created_at), \
           'partnership', p.slug, \
           'cases', coalesce((SELECT jsonb_agg(jsonb_build_object( \
               'ref', c.ref, 'caseType', c.case_type, 'status', c.status, 'summary', c.summary, \
               'owningAgency', oa.slug, 'leadOfficer', c.lead_officer, 'riskLevel', c.risk_level, \
               'openedOn', c.opened_on, 'closedOn', c.closed_on, 'outcome', c.outcome, \
               'dashScore', c.dash_score, 'maracReferredOn', c.marac_referred_on, \
               'parts', (SELECT jsonb_agg(cs2.part ORDER BY cs2.part) FROM case_subjects cs2 \
                          WHERE cs2.case_id = c.id AND cs2.person_id = pe.id), \
               'sharedWith', (SELECT jsonb_agg(jsonb_build_object('agency', a.slug, 'legalBasis', s.legal_basis, \
                                 'basisText', s.basis_text, 'sharedBy', s.shared_by, 'sharedAt', s.shared_at) ORDER BY s.shared_at) \
                              FROM case_shares s JOIN agencies a ON a.id = s.agency_id WHERE s.case_id = c.id), \
               'notes', (SELECT jsonb_agg(jsonb_build_object('author', n.author, 'agency', na.slug, \
                            'visibility', n.visibility, 'text', n.body, 'createdAt', n.created_at) ORDER BY n.created_at) \
                         FROM case_notes n JOIN agencies na ON na.id = n.agency_id WHERE n.case_id = c.id), \
               'interventions', (SELECT jsonb_agg(jsonb_build_object('intervention', i.intervention, \
                            'startsOn', i.starts_on, 'endsOn', i.ends_on, 'notes', i.notes) ORDER BY i.starts_on) \
                         FROM case_interventions i WHERE i.case_id = c.id), \
               'referrals', (SELECT jsonb_agg(jsonb_build_object('toProgramme', r.to_programme, 'status', r.status, \
                            'referredOn', r.referred_on) ORDER BY r.referred_on) \
                         FROM case_referrals r WHERE r.case_id = c.id), \
               'incidents', (SELECT jsonb_agg(inc.external_ref ORDER BY inc.occurred_at) \
                         FROM case_incidents ci JOIN incidents inc ON inc.id = ci.incident_id WHERE ci.case_id = c.id) \
             ) ORDER BY c.opened_on, c.ref) \
             FROM cases c JOIN agencies oa ON oa.id = c.owning_agency_id \
             WHERE EXISTS (SELECT 1 FROM case_subjects cs WHERE cs.case_id = c.id AND cs.person_id = pe.id)), '[]'::jsonb) \
         ) AS doc \
         FROM people pe JOIN partnerships p ON p.id = pe.partnership_id WHERE pe.id = $1",
        vec![person.into()],
    )
    .await?
    .ok_or_else(|| AppError::NotFound("no such person".to_owned()))?;
    audit::record_maintenance(
        &txn,
        who,
        doc.partnership_id,
        Action::SubjectExported,
        Some(("person", person.to_string())),
        json!({"cases": doc.doc["cases"].as_array().map_or(0, Vec::len)}),
    )
    .await?;
    txn.commit().await.map_err(AppError::internal)?;
    Ok(doc.doc)
}
