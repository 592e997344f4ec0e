//! The audit log: one entry per view, search, write, share, export and retention deletion of
//! case data, written in the same transaction as what it records (no entry, no data). Entries
//! cannot be updated or deleted (grants and a trigger, see the cases migration); `seal` and
//! `verify` prove afterwards that none was altered.

use crate::pg_row;
use sea_orm::{ConnectionTrait, TransactionSession};
use serde_json::Value as Json;
use uuid::Uuid;

use super::{execute, fetch_all, fetch_optional};
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

/// What `seal` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealed {
    /// A new seal over this many entries.
    Entries { seq: i64, count: usize },
    /// Nothing new had ended since the last seal.
    Nothing,
    /// Another process is sealing right now.
    Busy,
}

pg_row! {
    #[derive(Debug, Clone)]
    struct EntryRow {
        id: i64,
        at: chrono::DateTime<chrono::Utc>,
        xact: i64,
        sub: String,
        agency_id: Option<Uuid>,
        partnership_id: Option<Uuid>,
        action: String,
        record_type: Option<String>,
        record_id: Option<String>,
        detail: String,
        request_id: Option<String>,
    }
}

const ENTRY_COLUMNS: &str = "id, at, xact, sub, agency_id, partnership_id, action, record_type, \
     record_id, detail::text AS detail, request_id";

/// The hash of one entry's whole content: SHA-256 over a JSON array of its fields (jsonb's
/// text form of `detail` is canonical, so the same content always hashes the same).
fn entry_hash(e: &EntryRow) -> Vec<u8> {
    use sha2::Digest;
    let canonical = serde_json::json!([
        e.id,
        e.at.timestamp_micros(),
        e.xact,
        e.sub,
        e.agency_id,
        e.partnership_id,
        e.action,
        e.record_type,
        e.record_id,
        e.detail,
        e.request_id,
    ]);
    sha2::Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}

/// A seal's hash: the previous seal's hash, its own bounds and every entry's id and hash.
fn seal_hash(
    prev: &[u8],
    seq: i64,
    from: i64,
    to: i64,
    ids: &[i64],
    hashes: &[Vec<u8>],
) -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(from.to_be_bytes());
    h.update(to.to_be_bytes());
    for (id, hash) in ids.iter().zip(hashes) {
        h.update(id.to_be_bytes());
        h.update(hash);
    }
    h.finalize().to_vec()
}

pg_row! {
    #[derive(Debug, Clone)]
    struct SealRow {
        seq: i64,
        from_xact: i64,
        to_xact: i64,
        entry_ids: Vec<i64>,
        entry_hashes: Vec<Vec<u8>>,
        prev_hash: Vec<u8>,
        hash: Vec<u8>,
    }
}

const SEAL_COLUMNS: &str = "seq, from_xact, to_xact, entry_ids, entry_hashes, prev_hash, hash";

/// Seals the entries of every transaction that has ended since the last seal, chained to it.
///
/// An entry carries the id of the transaction that wrote it, and a seal covers the entries of
/// transaction ids in `[from, to)` where `to` is the oldest transaction still running when the
/// seal is made: every transaction below it has ended, so no entry can later appear inside a
/// sealed range. Sealing only reads (MVCC: it never blocks a reader or a writer) and takes a
/// transaction-level advisory lock so two sealers never race for the same sequence number.
pub async fn seal<C: ConnectionTrait + sea_orm::TransactionTrait>(conn: &C) -> AppResult<Sealed> {
    let txn = conn
        .begin()
        .await
        .map_err(crate::error::AppError::internal)?;
    pg_row! {
        struct Lock {
            locked: bool,
            horizon: i64,
        }
    }
    let lock: Option<Lock> = fetch_optional(
        &txn,
        "SELECT pg_try_advisory_xact_lock(7461003) AS locked, \
           txid_snapshot_xmin(txid_current_snapshot()) AS horizon",
        vec![],
    )
    .await?;
    let Some(lock) = lock.filter(|l| l.locked) else {
        return Ok(Sealed::Busy);
    };
    let last: Option<SealRow> = fetch_optional(
        &txn,
        &format!("SELECT {SEAL_COLUMNS} FROM audit_seals ORDER BY seq DESC LIMIT 1"),
        vec![],
    )
    .await?;
    let (seq, from, prev) = match &last {
        Some(s) => (s.seq + 1, s.to_xact, s.hash.clone()),
        None => (1, 0, vec![0u8; 32]),
    };
    if lock.horizon <= from {
        return Ok(Sealed::Nothing);
    }
    let entries: Vec<EntryRow> = fetch_all(
        &txn,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE xact >= $1 AND xact < $2 ORDER BY id"
        ),
        vec![from.into(), lock.horizon.into()],
    )
    .await?;
    if entries.is_empty() {
        return Ok(Sealed::Nothing);
    }
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let hashes: Vec<Vec<u8>> = entries.iter().map(entry_hash).collect();
    let hash = seal_hash(&prev, seq, from, lock.horizon, &ids, &hashes);
    execute(
        &txn,
        "INSERT INTO audit_seals (seq, from_xact, to_xact, entry_ids, entry_hashes, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            seq.into(),
            from.into(),
            lock.horizon.into(),
            ids.into(),
            hashes.into(),
            prev.into(),
            hash.into(),
        ],
        &[],
    )
    .await?;
    txn.commit()
        .await
        .map_err(crate::error::AppError::internal)?;
    Ok(Sealed::Entries {
        seq,
        count: entries.len(),
    })
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Every sealed entry is as it was sealed; `unsealed` entries are newer than the last seal.
    Intact {
        seals: usize,
        entries: usize,
        unsealed: i64,
    },
    /// The first thing that no longer matches.
    Broken {
        seal: i64,
        entry: Option<i64>,
        what: String,
    },
}

/// Recomputes every seal from the entries as they are now, in order, and reports the first
/// entry (or seal) that no longer matches: changed, removed, or added inside a sealed range.
pub async fn verify<C: ConnectionTrait>(conn: &C) -> AppResult<Verified> {
    let seals: Vec<SealRow> = fetch_all(
        conn,
        &format!("SELECT {SEAL_COLUMNS} FROM audit_seals ORDER BY seq"),
        vec![],
    )
    .await?;
    let mut prev_hash = vec![0u8; 32];
    let mut prev_to = 0i64;
    let mut entries_checked = 0usize;
    for (i, s) in seals.iter().enumerate() {
        let broken = |entry: Option<i64>, what: &str| {
            Ok(Verified::Broken {
                seal: s.seq,
                entry,
                what: what.to_owned(),
            })
        };
        if s.seq != i as i64 + 1 || s.from_xact != prev_to || s.prev_hash != prev_hash {
            return broken(None, "the seal does not follow the one before it");
        }
        if s.entry_ids.len() != s.entry_hashes.len()
            || seal_hash(
                &s.prev_hash,
                s.seq,
                s.from_xact,
                s.to_xact,
                &s.entry_ids,
                &s.entry_hashes,
            ) != s.hash
        {
            return broken(None, "the seal itself was altered");
        }
        let now: Vec<EntryRow> = fetch_all(
            conn,
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE xact >= $1 AND xact < $2 ORDER BY id"
            ),
            vec![s.from_xact.into(), s.to_xact.into()],
        )
        .await?;
        let mut now_iter = now.iter().peekable();
        for (id, hash) in s.entry_ids.iter().zip(&s.entry_hashes) {
            match now_iter.peek() {
                Some(e) if e.id < *id => {
                    return broken(Some(e.id), "an entry was added to a sealed range");
                }
                Some(e) if e.id == *id => {
                    if entry_hash(e) != *hash {
                        return broken(Some(*id), "the entry was changed after it was sealed");
                    }
                    now_iter.next();
                }
                _ => return broken(Some(*id), "the entry was removed after it was sealed"),
            }
        }
        if let Some(e) = now_iter.next() {
            return broken(Some(e.id), "an entry was added to a sealed range");
        }
        entries_checked += s.entry_ids.len();
        prev_hash = s.hash.clone();
        prev_to = s.to_xact;
    }
    pg_row! {
        struct Count {
            n: i64,
        }
    }
    let unsealed = fetch_optional::<Count, _>(
        conn,
        "SELECT count(*) AS n FROM audit_entries WHERE xact >= $1",
        vec![prev_to.into()],
    )
    .await?
    .map_or(0, |c| c.n);
    Ok(Verified::Intact {
        seals: seals.len(),
        entries: entries_checked,
        unsealed,
    })
}

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
pub enum LogScope {
    Agency {
        agency_id: Uuid,
        partnerships: Vec<Uuid>,
    },
    Partnerships(Vec<Uuid>),
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

/// A page of entries, newest first, before the entry `before`; and how many match.
pub async fn log_page<C: ConnectionTrait>(
    conn: &C,
    scope: &LogScope,
    f: &LogFilter,
    before: Option<i64>,
    limit: u64,
) -> AppResult<(Vec<LogRow>, i64)> {
    let (agency, partnerships) = match scope {
        LogScope::Agency {
            agency_id,
            partnerships,
        } => (Some(*agency_id), partnerships.clone()),
        LogScope::Partnerships(p) => (None, p.clone()),
    };
    let where_sql = "l.partnership_id = ANY($1) AND ($2::uuid IS NULL OR l.agency_id = $2) \
         AND ($3::text IS NULL OR l.action = $3) AND ($4::text IS NULL OR l.sub = $4) \
         AND ($5::text IS NULL OR l.record_id = $5) \
         AND ($6::timestamptz IS NULL OR l.at >= $6) AND ($7::timestamptz IS NULL OR l.at < $7)";
    let values = || -> Vec<sea_orm::Value> {
        vec![
            partnerships.clone().into(),
            agency.into(),
            f.action.clone().into(),
            f.sub.clone().into(),
            f.record_id.clone().into(),
            f.from.into(),
            f.to.into(),
        ]
    };
    let mut page_values = values();
    page_values.push(before.into());
    page_values.push((limit as i64).into());
    let rows = fetch_all(
        conn,
        &format!(
            "SELECT l.id, l.at, l.sub, a.slug AS agency, p.slug AS partnership, l.action, l.record_type, \
               l.record_id, l.detail, l.request_id \
             FROM audit_log l LEFT JOIN agencies a ON a.id = l.agency_id \
             LEFT JOIN partnerships p ON p.id = l.partnership_id \
             WHERE {where_sql} AND ($8::bigint IS NULL OR l.id < $8) ORDER BY l.id DESC LIMIT $9"
        ),
        page_values,
    )
    .await?;
    pg_row! {
        struct Count {
            n: i64,
        }
    }
    let total = fetch_optional::<Count, _>(
        conn,
        &format!("SELECT count(*) AS n FROM audit_log l WHERE {where_sql}"),
        values(),
    )
    .await?
    .map_or(0, |c| c.n);
    Ok((rows, total))
}
