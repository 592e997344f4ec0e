//! Sealing the audit log in a hash chain and verifying it (`csphub audit seal`, `verify`, and
//! the server's own sealing): which entries a seal may cover, in seals of bounded size, read
//! through a cursor so that memory does not grow with the log.

use crate::pg_row;
use sea_orm::{ConnectionTrait, TransactionSession};
use uuid::Uuid;

use super::{execute, fetch_all, fetch_optional};
use crate::error::AppResult;

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

/// The advisory lock and the horizon of a seal: the oldest transaction still running that could
/// write an audit entry in this database, or the next transaction id when none is.
///
/// Every transaction in progress at the snapshot (`txid_snapshot_xip`) counts, except those
/// whose backend is connected to another database (its own transaction id lock, in `pg_locks`,
/// held by a backend whose `pg_stat_activity.datid` is another database's): such a transaction
/// cannot write into this database's audit log, so a long transaction elsewhere on the server
/// (a nightly dump, another service) does not hold sealing back. A transaction that cannot be
/// placed (it ended meanwhile, it is prepared) counts, so no entry can commit behind a seal.
/// Both views are readable by any role. Entries are numbered by transaction id plus the base of
/// `audit_xact_base` (0 until a restore lifts it), and so is the horizon.
const HORIZON: &str = "WITH snap AS (SELECT txid_current_snapshot() AS s), \
     elsewhere AS ( \
       SELECT l.transactionid::text::bigint AS low FROM pg_locks l \
       JOIN pg_stat_activity a ON a.pid = l.pid \
       WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted \
         AND a.datid IS NOT NULL \
         AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database())) \
     SELECT pg_try_advisory_xact_lock(7461003) AS locked, \
       least(txid_snapshot_xmax(s), \
             (SELECT min(x) FROM txid_snapshot_xip(s) AS x \
              WHERE x % 4294967296 NOT IN (SELECT low FROM elsewhere))) \
         + (SELECT base FROM audit_xact_base) AS horizon \
     FROM snap";

/// At most this many entries go into one seal (more only when one transaction wrote more), so
/// that making or checking a seal takes bounded memory however large the backlog.
pub const SEAL_MAX: i64 = 50_000;

/// Entries read at a time while sealing and verifying.
const FETCH: usize = 5_000;

/// Seals the entries of every transaction that has ended since the last seal, chained to it,
/// in seals of at most [`SEAL_MAX`] entries; `Entries` gives the last seal's number and how many
/// entries were sealed in all.
///
/// An entry carries the id of the transaction that wrote it, and a seal covers the entries of
/// transaction ids in `[from, to)` where `to` is at most the oldest transaction still running in
/// this database when the seal is made ([`HORIZON`]): every transaction below it has ended or
/// runs in another database, so no entry can later appear inside a sealed range. Sealing only
/// reads (MVCC: it never blocks a reader or a writer), reads the entries through a cursor a few
/// thousand at a time, and takes a transaction-level advisory lock per seal so two sealers never
/// race for the same sequence number.
pub async fn seal<C: ConnectionTrait + sea_orm::TransactionTrait>(conn: &C) -> AppResult<Sealed> {
    let mut sealed: Option<(i64, usize)> = None;
    loop {
        // Another seal only while the last stopped at the cap, not for entries written since:
        // under traffic there always are some, and they wait for the next round.
        let (outcome, capped) = seal_one(conn).await?;
        match outcome {
            Sealed::Entries { seq, count } => {
                let total = sealed.map_or(0, |(_, n)| n);
                sealed = Some((seq, total + count));
                if capped {
                    continue;
                }
                return Ok(Sealed::Entries {
                    seq,
                    count: total + count,
                });
            }
            other => {
                return Ok(match sealed {
                    Some((seq, count)) => Sealed::Entries { seq, count },
                    None => other,
                });
            }
        }
    }
}

/// One seal of at most [`SEAL_MAX`] entries (more only for one transaction's), or why not; true
/// when it stopped at the cap, before the horizon.
async fn seal_one<C: ConnectionTrait + sea_orm::TransactionTrait>(
    conn: &C,
) -> AppResult<(Sealed, bool)> {
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
    let lock: Option<Lock> = fetch_optional(&txn, HORIZON, vec![]).await?;
    let Some(lock) = lock.filter(|l| l.locked) else {
        return Ok((Sealed::Busy, false));
    };
    pg_row! {
        struct Last {
            seq: i64,
            to_xact: i64,
            hash: Vec<u8>,
        }
    }
    let last: Option<Last> = fetch_optional(
        &txn,
        "SELECT seq, to_xact, hash FROM audit_seals ORDER BY seq DESC LIMIT 1",
        vec![],
    )
    .await?;
    let (seq, from, prev) = match last {
        Some(s) => (s.seq + 1, s.to_xact, s.hash),
        None => (1, 0, vec![0u8; 32]),
    };
    if lock.horizon <= from {
        return Ok((Sealed::Nothing, false));
    }
    // Where this seal ends: before the transaction of the entry past the first SEAL_MAX (in
    // transaction order), or after the first transaction when it alone wrote more.
    pg_row! {
        struct Xact {
            xact: Option<i64>,
        }
    }
    let past: Option<Xact> = fetch_optional(
        &txn,
        "SELECT xact FROM audit_entries WHERE xact >= $1 AND xact < $2 ORDER BY xact OFFSET $3 LIMIT 1",
        vec![from.into(), lock.horizon.into(), SEAL_MAX.into()],
    )
    .await?;
    let to = match past.and_then(|p| p.xact) {
        None => lock.horizon,
        Some(x) if x > from => x,
        Some(_) => fetch_optional::<Xact, _>(
            &txn,
            "SELECT min(xact) AS xact FROM audit_entries WHERE xact > $1 AND xact < $2",
            vec![from.into(), lock.horizon.into()],
        )
        .await?
        .and_then(|x| x.xact)
        .unwrap_or(lock.horizon),
    };
    let mut ids: Vec<i64> = Vec::new();
    let mut hashes: Vec<Vec<u8>> = Vec::new();
    let mut entries = Entries::open(&txn, "seal_entries", from, to).await?;
    while let Some(batch) = entries.next(&txn).await? {
        for e in &batch {
            ids.push(e.id);
            hashes.push(entry_hash(e));
        }
    }
    if ids.is_empty() {
        return Ok((Sealed::Nothing, false));
    }
    let hash = seal_hash(&prev, seq, from, to, &ids, &hashes);
    let count = ids.len();
    execute(
        &txn,
        "INSERT INTO audit_seals (seq, from_xact, to_xact, entry_ids, entry_hashes, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            seq.into(),
            from.into(),
            to.into(),
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
    Ok((Sealed::Entries { seq, count }, to < lock.horizon))
}

/// The entries of a range of transactions in id order (as seals list them), read through a
/// cursor a few thousand at a time.
struct Entries {
    name: &'static str,
    done: bool,
}

impl Entries {
    async fn open<C: ConnectionTrait>(
        txn: &C,
        name: &'static str,
        from: i64,
        to: i64,
    ) -> AppResult<Self> {
        // A cursor is planned for its first rows by default, which here means walking the whole
        // log in id order and skipping what is out of range; every row is read, so plan for all
        // of them (the range by its index, then sorted).
        // Nor is compiling it worth it for a few thousand rows at a time.
        execute(txn, "SET LOCAL cursor_tuple_fraction = 1", vec![], &[]).await?;
        execute(txn, "SET LOCAL jit = off", vec![], &[]).await?;
        // Integers only: nothing from outside reaches this text.
        execute(
            txn,
            &format!(
                "DECLARE {name} NO SCROLL CURSOR FOR SELECT {ENTRY_COLUMNS} FROM audit_entries \
                 WHERE xact >= {from} AND xact < {to} ORDER BY id"
            ),
            vec![],
            &[],
        )
        .await?;
        Ok(Self { name, done: false })
    }

    /// The next few thousand entries, or None after the last (the cursor is then closed).
    async fn next<C: ConnectionTrait>(&mut self, txn: &C) -> AppResult<Option<Vec<EntryRow>>> {
        if self.done {
            return Ok(None);
        }
        let batch: Vec<EntryRow> = fetch_all(
            txn,
            &format!("FETCH FORWARD {FETCH} FROM {}", self.name),
            vec![],
        )
        .await?;
        if batch.len() < FETCH {
            self.done = true;
            execute(txn, &format!("CLOSE {}", self.name), vec![], &[]).await?;
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
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
/// One seal is held at a time and its entries are read through a cursor, so the memory it takes
/// does not grow with the log.
pub async fn verify<C: ConnectionTrait + sea_orm::TransactionTrait>(
    conn: &C,
) -> AppResult<Verified> {
    let txn = conn
        .begin()
        .await
        .map_err(crate::error::AppError::internal)?;
    let found = verify_in(&txn).await;
    // Read-only: ROLLBACK ends it as well as COMMIT would.
    let _ = txn.rollback().await;
    found
}

async fn verify_in<T: ConnectionTrait>(txn: &T) -> AppResult<Verified> {
    let mut prev_hash = vec![0u8; 32];
    let mut prev_to = 0i64;
    let mut entries_checked = 0usize;
    let mut seals = 0usize;
    // From the lowest number a row could carry, so that a forged seal numbered 0 or below is
    // read (and refused) like any other.
    let mut last_seq = i64::MIN;
    loop {
        let Some(s) = fetch_optional::<SealRow, _>(
            txn,
            &format!("SELECT {SEAL_COLUMNS} FROM audit_seals WHERE seq > $1 ORDER BY seq LIMIT 1"),
            vec![last_seq.into()],
        )
        .await?
        else {
            break;
        };
        last_seq = s.seq;
        let broken = |entry: Option<i64>, what: &str| {
            Ok(Verified::Broken {
                seal: s.seq,
                entry,
                what: what.to_owned(),
            })
        };
        if s.seq != seals as i64 + 1 || s.from_xact != prev_to || s.prev_hash != prev_hash {
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
        let mut sealed = s.entry_ids.iter().zip(&s.entry_hashes);
        let mut entries = Entries::open(txn, "verify_entries", s.from_xact, s.to_xact).await?;
        while let Some(batch) = entries.next(txn).await? {
            for e in &batch {
                let Some((id, hash)) = sealed.next() else {
                    return broken(Some(e.id), "an entry was added to a sealed range");
                };
                if e.id < *id {
                    return broken(Some(e.id), "an entry was added to a sealed range");
                }
                if e.id > *id {
                    return broken(Some(*id), "the entry was removed after it was sealed");
                }
                if entry_hash(e) != *hash {
                    return broken(Some(*id), "the entry was changed after it was sealed");
                }
            }
        }
        if let Some((id, _)) = sealed.next() {
            return broken(Some(*id), "the entry was removed after it was sealed");
        }
        entries_checked += s.entry_ids.len();
        prev_hash = s.hash.clone();
        prev_to = s.to_xact;
        seals += 1;
    }
    pg_row! {
        struct Count {
            n: i64,
        }
    }
    let unsealed = fetch_optional::<Count, _>(
        txn,
        "SELECT count(*) AS n FROM audit_entries WHERE xact >= $1",
        vec![prev_to.into()],
    )
    .await?
    .map_or(0, |c| c.n);
    Ok(Verified::Intact {
        seals,
        entries: entries_checked,
        unsealed,
    })
}
