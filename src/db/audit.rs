//! The audit log: one entry per view, search, write, share, export and retention deletion of
//! case data, written in the same transaction as what it records (no entry, no data). Entries
//! cannot be updated or deleted (grants and a trigger, see the cases migration); `seal` and
//! `verify` prove afterwards that none was altered.

use sea_orm::ConnectionTrait;
use serde_json::Value as Json;
use uuid::Uuid;

use super::execute;
use crate::auth::Principal;
use crate::error::AppResult;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CaseOpened,
    CaseViewed,
    CasesListed,
    CaseUpdated,
    CaseClosed,
    CaseShared,
    CaseUnshared,
    NotesViewed,
    NoteAdded,
    SubjectAdded,
    SubjectRemoved,
    PeopleSearched,
    PersonUpdated,
    IncidentLinked,
    IncidentUnlinked,
    InterventionRecorded,
    ReferralRecorded,
    ReferralUpdated,
    AuditLogViewed,
    SubjectExported,
    RetentionDeleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CaseOpened => "CASE_OPENED",
            Action::CaseViewed => "CASE_VIEWED",
            Action::CasesListed => "CASES_LISTED",
            Action::CaseUpdated => "CASE_UPDATED",
            Action::CaseClosed => "CASE_CLOSED",
            Action::CaseShared => "CASE_SHARED",
            Action::CaseUnshared => "CASE_UNSHARED",
            Action::NotesViewed => "NOTES_VIEWED",
            Action::NoteAdded => "NOTE_ADDED",
            Action::SubjectAdded => "SUBJECT_ADDED",
            Action::SubjectRemoved => "SUBJECT_REMOVED",
            Action::PeopleSearched => "PEOPLE_SEARCHED",
            Action::PersonUpdated => "PERSON_UPDATED",
            Action::IncidentLinked => "INCIDENT_LINKED",
            Action::IncidentUnlinked => "INCIDENT_UNLINKED",
            Action::InterventionRecorded => "INTERVENTION_RECORDED",
            Action::ReferralRecorded => "REFERRAL_RECORDED",
            Action::ReferralUpdated => "REFERRAL_UPDATED",
            Action::AuditLogViewed => "AUDIT_LOG_VIEWED",
            Action::SubjectExported => "SUBJECT_EXPORTED",
            Action::RetentionDeleted => "RETENTION_DELETED",
        }
    }
}

/// One entry about one record (or none, for a search), by the caller, in the caller's
/// transaction, with the request id.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    who: &Principal,
    partnership_id: Option<Uuid>,
    action: Action,
    record: Option<(&str, String)>,
    detail: Json,
) -> AppResult<()> {
    let (record_type, record_id) = match record {
        Some((t, id)) => (Some(t.to_owned()), Some(id)),
        None => (None, None),
    };
    execute(
        conn,
        "INSERT INTO audit_log (sub, agency_id, partnership_id, action, record_type, record_id, detail, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            who.sub.clone().into(),
            who.agency_id.into(),
            partnership_id.into(),
            action.as_str().into(),
            record_type.into(),
            record_id.into(),
            detail.into(),
            crate::error::current_request_id().into(),
        ],
        &[],
    )
    .await?;
    Ok(())
}
