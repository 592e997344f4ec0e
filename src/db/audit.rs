//! The audit log: one entry per view, search, write, share, export and retention deletion of
//! case data, written in the same transaction as what it records (no entry, no data). Entries
//! cannot be updated or deleted (grants and a trigger, see the cases migration); `seal` and
//! `verify` (`db::seal`) prove afterwards that none was altered.

use crate::pg_row;
use sea_orm::ConnectionTrait;
use serde_json::Value as Json;
use uuid::Uuid;

use super::{bind, execute, fetch_all, fetch_optional};
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
    ReportLinkCreated,
    ReportLinkOpened,
}

impl Action {
    /// Every action, for the lists the log's readers are filtered by.
    pub const ALL: [Action; 23] = [
        Action::CaseOpened,
        Action::CaseViewed,
        Action::CasesListed,
        Action::CaseUpdated,
        Action::CaseClosed,
        Action::CaseShared,
        Action::CaseUnshared,
        Action::NotesViewed,
        Action::NoteAdded,
        Action::SubjectAdded,
        Action::SubjectRemoved,
        Action::PeopleSearched,
        Action::PersonUpdated,
        Action::IncidentLinked,
        Action::IncidentUnlinked,
        Action::InterventionRecorded,
        Action::ReferralRecorded,
        Action::ReferralUpdated,
        Action::AuditLogViewed,
        Action::SubjectExported,
        Action::RetentionDeleted,
        Action::ReportLinkCreated,
        Action::ReportLinkOpened,
    ];

    /// Whether an entry of this action is case data: it names a case, a note, a person or a
    /// search (or, for a read of the log, what was looked for in it), so only the acting
    /// agency's auditor reads it. Every action is named here, so a new one must be decided.
    pub fn is_case_data(self) -> bool {
        match self {
            Action::CaseOpened
            | Action::CaseViewed
            | Action::CasesListed
            | Action::CaseUpdated
            | Action::CaseClosed
            | Action::CaseShared
            | Action::CaseUnshared
            | Action::NotesViewed
            | Action::NoteAdded
            | Action::SubjectAdded
            | Action::SubjectRemoved
            | Action::PeopleSearched
            | Action::PersonUpdated
            | Action::IncidentLinked
            | Action::IncidentUnlinked
            | Action::InterventionRecorded
            | Action::ReferralRecorded
            | Action::ReferralUpdated
            | Action::AuditLogViewed
            | Action::SubjectExported
            | Action::RetentionDeleted => true,
            // A report link names a report (its page and arguments), never a case or a person.
            Action::ReportLinkCreated | Action::ReportLinkOpened => false,
        }
    }

    /// The actions whose entries are not case data (about plans, reports, pushes and
    /// incidents); an action the code no longer writes counts as case data.
    pub fn general() -> Vec<String> {
        Action::ALL
            .iter()
            .filter(|a| !a.is_case_data())
            .map(|a| a.as_str().to_owned())
            .collect()
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

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
            Action::ReportLinkCreated => "REPORT_LINK_CREATED",
            Action::ReportLinkOpened => "REPORT_LINK_OPENED",
        }
    }
}

/// One entry about one record (or none, for a search), by the caller, in the caller's
/// transaction, with the request id.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    who: &Principal,
    partnership_id: Uuid,
    action: Action,
    record: Option<(&str, String)>,
    detail: Json,
) -> AppResult<()> {
    write(
        conn,
        &who.sub,
        Some(who.agency_id),
        partnership_id,
        action,
        record,
        detail,
        crate::error::current_request_id(),
    )
    .await
}

/// An entry of a read (a view, a list, a search), queued by its resolver and written with the
/// request's others in one statement just before the request's COMMIT (`write_reads`). If that
/// statement fails the request rolls back and answers an error: no entry, no data.
#[derive(Debug, Clone)]
pub struct Pending {
    pub sub: String,
    pub agency_id: Uuid,
    pub partnership_id: Uuid,
    pub action: Action,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub detail: Json,
    pub request_id: Option<String>,
}

/// The read entries of one request, in the order its resolvers queued them.
pub type Reads = std::sync::Arc<std::sync::Mutex<Vec<Pending>>>;

/// Queues a read's entry in the request's `Reads`.
pub fn queue_read(
    reads: &Reads,
    who: &Principal,
    partnership_id: Uuid,
    action: Action,
    record: Option<(&str, String)>,
    detail: Json,
) {
    let (record_type, record_id) = match record {
        Some((t, id)) => (Some(t.to_owned()), Some(id)),
        None => (None, None),
    };
    let entry = Pending {
        sub: who.sub.clone(),
        agency_id: who.agency_id,
        partnership_id,
        action,
        record_type,
        record_id,
        detail,
        request_id: crate::error::current_request_id(),
    };
    match reads.lock() {
        Ok(mut queue) => queue.push(entry),
        Err(poisoned) => poisoned.into_inner().push(entry),
    }
}

/// Writes a request's queued read entries in one statement (nothing when there are none).
pub async fn write_reads<C: ConnectionTrait>(conn: &C, reads: &Reads) -> AppResult<()> {
    let entries = match reads.lock() {
        Ok(mut queue) => std::mem::take(&mut *queue),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    if entries.is_empty() {
        return Ok(());
    }
    let rows = serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "sub": e.sub, "agency_id": e.agency_id, "partnership_id": e.partnership_id,
                    "action": e.action.as_str(), "record_type": e.record_type,
                    "record_id": e.record_id, "detail": e.detail, "request_id": e.request_id,
                })
            })
            .collect(),
    );
    execute(
        conn,
        "INSERT INTO audit_log (sub, agency_id, partnership_id, action, record_type, record_id, detail, request_id) \
         SELECT sub, agency_id, partnership_id, action, record_type, record_id, detail, request_id \
         FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (sub text, agency_id uuid, partnership_id uuid, \
           action text, record_type text, record_id text, detail jsonb, request_id text)) WITH ORDINALITY \
           AS t(sub, agency_id, partnership_id, action, record_type, record_id, detail, request_id, n) ORDER BY n",
        vec![rows.into()],
        &[],
    )
    .await?;
    Ok(())
}

/// An entry by a maintenance command (retention, subject export): `who` names the person or
/// job that ran it; no agency, no request.
pub async fn record_maintenance<C: ConnectionTrait>(
    conn: &C,
    who: &str,
    partnership_id: Uuid,
    action: Action,
    record: Option<(&str, String)>,
    detail: Json,
) -> AppResult<()> {
    write(
        conn,
        who,
        None,
        partnership_id,
        action,
        record,
        detail,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn write<C: ConnectionTrait>(
    conn: &C,
    sub: &str,
    agency_id: Option<Uuid>,
    partnership_id: Uuid,
    action: Action,
    record: Option<(&str, String)>,
    detail: Json,
    request_id: Option<String>,
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
            sub.to_owned().into(),
            agency_id.into(),
            partnership_id.into(),
            action.as_str().into(),
            record_type.into(),
            record_id.into(),
            detail.into(),
            request_id.into(),
        ],
        &[],
    )
    .await?;
    Ok(())
}

pub use super::seal::{SEAL_MAX, Sealed, Verified, seal, verify};

pg_row! {
    /// An entry as `auditLog` shows it.
    #[derive(Debug, Clone)]
    pub struct LogRow {
        pub id: i64,
        pub at: chrono::DateTime<chrono::Utc>,
        pub sub: String,
        pub agency: Option<String>,
        pub partnership: Option<String>,
        pub action: String,
        pub record_type: Option<String>,
        pub record_id: Option<String>,
        pub detail: serde_json::Value,
        pub request_id: Option<String>,
    }
}

/// Who may read which entries: an agency's own, or a partnership's (coordinators).
pub struct LogScope {
    /// The partnership whose entries may be read.
    pub partnership: Uuid,
    /// The reader's agency.
    pub agency_id: Uuid,
    /// Entries that are not case data: every agency's (a coordinator), or the own agency's.
    pub every_agency: bool,
    /// Entries that are case data: the own agency's (an auditor), or none.
    pub case_data: bool,
}

/// The filters of `auditLog`.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub action: Option<String>,
    pub sub: Option<String>,
    pub record_id: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of entries, newest first (at, id), as `keys` place it; and how many match, when
/// `count`.
pub async fn log_page<C: ConnectionTrait>(
    conn: &C,
    scope: &LogScope,
    f: &LogFilter,
    keys: &super::page::Keyset<chrono::DateTime<chrono::Utc>, i64>,
    count: bool,
) -> AppResult<(Vec<LogRow>, Option<i64>)> {
    let general = Action::general();
    if !scope.case_data && general.is_empty() {
        // Every entry csphub writes is case data: nothing to read without `auditor`.
        return Ok((Vec::new(), count.then_some(0)));
    }
    // Only the clauses that apply, so that the planner can use the index each filter has.
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut sql = format!(
        "l.partnership_id = {}",
        bind(&mut values, scope.partnership)
    );
    match (scope.case_data, scope.every_agency) {
        (true, false) => {
            sql.push_str(&format!(
                " AND l.agency_id = {}",
                bind(&mut values, scope.agency_id)
            ));
        }
        (true, true) => {
            let agency = bind(&mut values, scope.agency_id);
            let actions = bind(&mut values, general);
            sql.push_str(&format!(
                " AND (l.agency_id = {agency} OR l.action = ANY({actions}))"
            ));
        }
        (false, every) => {
            sql.push_str(&format!(
                " AND l.action = ANY({})",
                bind(&mut values, general)
            ));
            if !every {
                sql.push_str(&format!(
                    " AND l.agency_id = {}",
                    bind(&mut values, scope.agency_id)
                ));
            }
        }
    }
    if let Some(a) = &f.action {
        sql.push_str(&format!(" AND l.action = {}", bind(&mut values, a.clone())));
    }
    if let Some(sub) = &f.sub {
        sql.push_str(&format!(" AND l.sub = {}", bind(&mut values, sub.clone())));
    }
    if let Some(r) = &f.record_id {
        sql.push_str(&format!(
            " AND l.record_id = {}",
            bind(&mut values, r.clone())
        ));
    }
    if let Some(from) = f.from {
        sql.push_str(&format!(" AND l.at >= {}", bind(&mut values, from)));
    }
    if let Some(to) = f.to {
        sql.push_str(&format!(" AND l.at < {}", bind(&mut values, to)));
    }
    let where_sql = sql;
    let mut page_values = values.clone();
    let mut page_where = where_sql.clone();
    page_where.push_str(&keys.clauses(&mut page_values, ["l.at", "l.id"], true));
    let rows = fetch_all(
        conn,
        &format!(
            "SELECT l.id, l.at, l.sub, a.slug AS agency, p.slug AS partnership, l.action, l.record_type, \
               l.record_id, l.detail, l.request_id \
             FROM audit_log l LEFT JOIN agencies a ON a.id = l.agency_id \
             LEFT JOIN partnerships p ON p.id = l.partnership_id \
             WHERE {page_where}"
        ),
        page_values,
    )
    .await?;
    pg_row! {
        struct Count {
            n: i64,
        }
    }
    // Counting every matching entry reads them all: only when asked.
    let total = if count {
        Some(
            fetch_optional::<Count, _>(
                conn,
                &format!("SELECT count(*) AS n FROM audit_log l WHERE {where_sql}"),
                values,
            )
            .await?
            .map_or(0, |c| c.n),
        )
    } else {
        None
    };
    Ok((rows, total))
}
