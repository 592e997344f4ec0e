//! Incidents: the idempotent bulk upsert behind every push, and the reads (rows, statistics,
//! freshness, export). A push is one transaction: all of its valid records or none. The
//! statistics (grouped counts, freshness, the PCC's table-set groups, the monthly counts) are
//! in `stats`.

mod stats;

pub use stats::*;

use crate::pg_row;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionSession, TransactionTrait, Value};
use uuid::Uuid;

use super::{bind, execute, fetch_all, fetch_optional, map_write_error};
use crate::domain::incident::Incident;
use crate::error::{AppError, AppResult};

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Who pushes: the agency is always the token's, never a field of the record.
#[derive(Debug, Clone)]
pub struct Pusher {
    pub agency_id: Uuid,
    /// The pushing agency's slug: a record that names another source agency is refused.
    pub agency: String,
    pub sub: String,
    /// The statement budget inside the push's transaction (the heavy one for requests; none
    /// for the demo loader and the command-line import).
    pub budget: Option<std::time::Duration>,
}

/// The columns of a record as `jsonb_to_recordset` reads the serialised `Incident`s.
use crate::domain::incident::NO_AREA;

const RECORDSET: &str = "jsonb_to_recordset($1::jsonb) AS t(external_ref text, partnership_id uuid, \
    category text, occurred_at timestamptz, occurred_on date, reported_at timestamptz, area_id uuid, \
    postcode_district text, domestic_abuse boolean, alcohol_related boolean, youth_related boolean, \
    hate_strands text[], drug_class text, asb_type text, fire_type text, outcome text, status text, \
    cancel_reason text, content_hash text, lsoa text)";

pg_row! {
    struct Existing {
        external_ref: String,
        content_hash: String,
        partnership_id: Uuid,
    }
}

pg_row! {
    struct Ref {
        external_ref: String,
    }
}

fn batch_json(incidents: &[&Incident]) -> AppResult<Value> {
    serde_json::to_value(incidents)
        .map(Value::from)
        .map_err(AppError::internal)
}

async fn lock_existing<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    refs: &[String],
) -> AppResult<Vec<Existing>> {
    fetch_all(
        conn,
        "SELECT external_ref, content_hash, partnership_id FROM incidents \
         WHERE source_agency_id = $1 AND external_ref = ANY($2) ORDER BY external_ref FOR UPDATE",
        vec![agency.into(), refs.to_vec().into()],
    )
    .await
}

/// Applies checked records in one transaction: new refs are created, changed ones updated (the
/// previous state kept as a revision), identical ones left alone. Safe to retry and to run
/// concurrently with the same batch: rows are locked in ref order, inserts that lose a race are
/// compared like any existing row, so there are no duplicates and no errors.
///
/// A ref the agency already uses in a partnership outside `scope` is not touched: its index is
/// returned, for the caller to reject.
///
/// The push log gets one row per partnership the push's records went to, with that
/// partnership's counts; `rejected_in` names the partnership of each record the caller rejected
/// whose partnership was known.
pub async fn apply_push<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    pusher: &Pusher,
    scope: &[Uuid],
    incidents: &[Incident],
    rejected_in: &[Uuid],
) -> AppResult<(PushCounts, Vec<usize>)> {
    let txn = db.begin().await.map_err(AppError::internal)?;
    if let Some(budget) = pusher.budget {
        super::set_statement_budget(&txn, budget).await?;
    }
    let mut sorted: Vec<&Incident> = incidents.iter().collect();
    sorted.sort_by(|a, b| a.external_ref.cmp(&b.external_ref));
    let refs: Vec<String> = sorted.iter().map(|i| i.external_ref.clone()).collect();
    let mut known: HashMap<String, String> = HashMap::new();
    let mut elsewhere: HashSet<String> = HashSet::new();
    for e in lock_existing(&txn, pusher.agency_id, &refs).await? {
        if scope.contains(&e.partnership_id) {
            known.insert(e.external_ref, e.content_hash);
        } else {
            elsewhere.insert(e.external_ref);
        }
    }
    let blocked: Vec<usize> = sorted
        .iter()
        .filter(|i| elsewhere.contains(&i.external_ref))
        .map(|i| i.index)
        .collect();
    sorted.retain(|i| !elsewhere.contains(&i.external_ref));
    let mut counts = PushCounts::default();
    let mut created_refs: HashSet<String> = HashSet::new();

    let fresh: Vec<&Incident> = sorted
        .iter()
        .copied()
        .filter(|i| !known.contains_key(&i.external_ref))
        .collect();
    if !fresh.is_empty() {
        let inserted: Vec<Ref> = fetch_all_mapped(
            &txn,
            &format!(
                "INSERT INTO incidents (source_agency_id, external_ref, partnership_id, category, occurred_at, \
                   occurred_on, reported_at, area_id, postcode_district, domestic_abuse, alcohol_related, \
                   youth_related, hate_strands, drug_class, asb_type, fire_type, outcome, status, cancel_reason, \
                   content_hash, pushed_by_sub, lsoa) \
                 SELECT $2, t.external_ref, t.partnership_id, t.category, t.occurred_at, t.occurred_on, \
                   t.reported_at, t.area_id, t.postcode_district, t.domestic_abuse, t.alcohol_related, \
                   t.youth_related, t.hate_strands, t.drug_class, t.asb_type, t.fire_type, t.outcome, t.status, \
                   t.cancel_reason, t.content_hash, $3, t.lsoa FROM {RECORDSET} \
                 ON CONFLICT (source_agency_id, external_ref) DO NOTHING RETURNING external_ref"
            ),
            vec![batch_json(&fresh)?, pusher.agency_id.into(), pusher.sub.clone().into()],
        )
        .await?;
        let done: HashSet<String> = inserted.into_iter().map(|r| r.external_ref).collect();
        counts.created = done.len() as u64;
        if done.len() < fresh.len() {
            // Another request inserted some of these refs first: compare with what it wrote.
            let raced: Vec<String> = fresh
                .iter()
                .map(|i| i.external_ref.clone())
                .filter(|r| !done.contains(r))
                .collect();
            for e in lock_existing(&txn, pusher.agency_id, &raced).await? {
                if scope.contains(&e.partnership_id) {
                    known.insert(e.external_ref, e.content_hash);
                } else {
                    // Pushed into another partnership at the same moment: refuse it here.
                    return Err(AppError::Conflict(format!(
                        "externalRef {} was pushed into another partnership at the same moment: retry",
                        e.external_ref
                    )));
                }
            }
        }
        created_refs = done;
    }

    let changed: Vec<&Incident> = sorted
        .iter()
        .copied()
        .filter(|i| {
            known
                .get(&i.external_ref)
                .is_some_and(|h| *h != i.content_hash)
        })
        .collect();
    if !changed.is_empty() {
        let changed_refs: Vec<String> = changed.iter().map(|i| i.external_ref.clone()).collect();
        execute(
            &txn,
            "INSERT INTO incident_revisions (incident_id, partnership_id, revision, record, pushed_by_sub, pushed_at) \
             SELECT id, partnership_id, revision, to_jsonb(i) - 'content_hash', pushed_by_sub, updated_at FROM incidents i \
             WHERE source_agency_id = $1 AND external_ref = ANY($2)",
            vec![pusher.agency_id.into(), changed_refs.into()],
            &[],
        )
        .await?;
        counts.updated = execute(
            &txn,
            &format!(
                "UPDATE incidents i SET partnership_id = t.partnership_id, category = t.category, \
                   occurred_at = t.occurred_at, occurred_on = t.occurred_on, reported_at = t.reported_at, \
                   area_id = t.area_id, postcode_district = t.postcode_district, domestic_abuse = t.domestic_abuse, \
                   alcohol_related = t.alcohol_related, youth_related = t.youth_related, \
                   hate_strands = t.hate_strands, drug_class = t.drug_class, asb_type = t.asb_type, \
                   fire_type = t.fire_type, outcome = t.outcome, status = t.status, \
                   cancel_reason = t.cancel_reason, content_hash = t.content_hash, lsoa = t.lsoa, \
                   revision = i.revision + 1, \
                   pushed_by_sub = $3, updated_at = now() \
                 FROM {RECORDSET} WHERE i.source_agency_id = $2 AND i.external_ref = t.external_ref"
            ),
            vec![batch_json(&changed)?, pusher.agency_id.into(), pusher.sub.clone().into()],
            &[],
        )
        .await?;
    }
    // The push log: per partnership, what became of its records.
    let mut log: BTreeMap<Uuid, PushLogCounts> = BTreeMap::new();
    for p in rejected_in {
        let e = log.entry(*p).or_default();
        e.received += 1;
        e.rejected += 1;
    }
    for i in incidents {
        let e = log.entry(i.partnership_id).or_default();
        e.received += 1;
        if elsewhere.contains(&i.external_ref) {
            e.rejected += 1;
        } else if created_refs.contains(&i.external_ref) {
            e.created += 1;
        } else if known
            .get(&i.external_ref)
            .is_some_and(|h| *h == i.content_hash)
        {
            e.unchanged += 1;
        } else {
            e.updated += 1;
        }
    }
    counts.unchanged = log.values().map(|c| c.unchanged as u64).sum();
    if !log.is_empty() {
        let column = |f: fn(&PushLogCounts) -> usize| -> Value {
            log.values()
                .map(|c| to_i32(f(c)))
                .collect::<Vec<i32>>()
                .into()
        };
        execute(
            &txn,
            "WITH push AS (SELECT nextval('incident_push_ids') AS id) \
             INSERT INTO incident_pushes (push_id, partnership_id, agency_id, pushed_by_sub, received, \
               created, updated, unchanged, rejected) \
             SELECT push.id, t.p, $2, $3, t.received, t.created, t.updated, t.unchanged, t.rejected \
             FROM push, unnest($1::uuid[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[]) \
               AS t(p, received, created, updated, unchanged, rejected)",
            vec![
                log.keys().copied().collect::<Vec<Uuid>>().into(),
                pusher.agency_id.into(),
                pusher.sub.clone().into(),
                column(|c| c.received),
                column(|c| c.created),
                column(|c| c.updated),
                column(|c| c.unchanged),
                column(|c| c.rejected),
            ],
            &[],
        )
        .await?;
    }
    txn.commit().await.map_err(AppError::internal)?;
    Ok((counts, blocked))
}

/// One partnership's row of the push log.
#[derive(Debug, Clone, Copy, Default)]
struct PushLogCounts {
    received: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
    rejected: usize,
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

async fn fetch_all_mapped<T, C>(conn: &C, sql: &str, values: Vec<Value>) -> AppResult<Vec<T>>
where
    T: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
{
    T::find_by_statement(super::stmt(sql, values))
        .all(conn)
        .await
        .map_err(|e| map_write_error(e, &[]))
}

// ---------------------------------------------------------------- reading

/// Filters shared by the incidents query, the CSV export and the statistics.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub partnership_id: Uuid,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub categories: Vec<String>,
    pub areas: Vec<String>,
    pub source_agencies: Vec<String>,
    pub domestic_abuse: Option<bool>,
    pub alcohol_related: Option<bool>,
    pub youth_related: Option<bool>,
    pub hate_strand: Option<String>,
    pub status: Option<String>,
    /// Leave out domestic-abuse flagged records (the PCC's area breakdowns).
    pub exclude_domestic_abuse: bool,
}

/// WHERE clauses and their values for a filter; parameters are numbered from `first`.
pub struct Where {
    pub sql: String,
    pub values: Vec<Value>,
}

/// Whether `from..=to` is whole calendar months (first day to last day).
fn whole_months(from: NaiveDate, to: NaiveDate) -> bool {
    use chrono::Datelike;
    from.day() == 1 && to.succ_opt().is_some_and(|next| next.day() == 1) && from <= to
}

impl IncidentFilter {
    pub fn to_where(&self) -> Where {
        self.where_on(false)
    }

    /// Whether the monthly counts (`incident_counts`) can answer this filter for ACTIVE records:
    /// a period of whole months and no filter on what the counts do not keep (hate strands).
    fn monthly(&self) -> bool {
        self.hate_strand.is_none()
            && matches!((self.from, self.to), (Some(f), Some(t)) if whole_months(f, t))
    }

    /// The WHERE clauses over `incidents i`, or over the monthly counts `incident_counts i`
    /// (which hold ACTIVE records only, by month).
    fn where_on(&self, monthly: bool) -> Where {
        let mut values: Vec<Value> = Vec::new();
        let sql = self.clauses(monthly, &mut values);
        Where { sql, values }
    }

    /// The WHERE clauses of `where_on`, their values pushed onto `values` (so that several
    /// sources can share one statement's parameters).
    fn clauses(&self, monthly: bool, values: &mut Vec<Value>) -> String {
        let partnership = bind(values, self.partnership_id);
        let mut clauses = vec![format!("i.partnership_id = {partnership}")];
        let day = if monthly { "i.month" } else { "i.occurred_on" };
        // A record's day is the London date of its time, so the same bounds on the time are
        // exact: they let a page of a period start where the period does in the time-ordered
        // indexes, rather than at the partnership's oldest record.
        if let Some(from) = self.from {
            let from = bind(values, from);
            clauses.push(format!("{day} >= {from}"));
            if !monthly {
                clauses.push(format!(
                    "i.occurred_at >= ({from}::date::timestamp AT TIME ZONE 'Europe/London')"
                ));
            }
        }
        if let Some(to) = self.to {
            let to = bind(values, to);
            clauses.push(format!("{day} <= {to}"));
            if !monthly {
                clauses.push(format!(
                    "i.occurred_at < (({to}::date + 1)::timestamp AT TIME ZONE 'Europe/London')"
                ));
            }
        }
        if !self.categories.is_empty() {
            let categories = bind(values, self.categories.clone());
            clauses.push(format!("i.category = ANY({categories})"));
        }
        if !self.areas.is_empty() {
            // `no-area` picks the records without one. The areas' ids are an array the planner
            // sees before it plans the scan, so a page can come from the area's index
            // (`incidents_partnership_area_time`) in the list's order.
            let none = self.areas.iter().any(|a| a == NO_AREA);
            let codes = bind(values, self.areas.clone());
            clauses.push(format!(
                "(i.area_id = ANY(ARRAY(SELECT id FROM areas WHERE partnership_id = {partnership} AND code = ANY({codes}))) \
                 OR (i.area_id IS NULL AND {none}))"
            ));
        }
        if !self.source_agencies.is_empty() {
            let slugs = bind(values, self.source_agencies.clone());
            clauses.push(format!(
                "i.source_agency_id IN (SELECT id FROM agencies WHERE slug = ANY({slugs}))"
            ));
        }
        if let Some(v) = self.domestic_abuse {
            clauses.push(format!("i.domestic_abuse = {}", bind(values, v)));
        }
        if let Some(v) = self.alcohol_related {
            clauses.push(format!("i.alcohol_related = {}", bind(values, v)));
        }
        if let Some(v) = self.youth_related {
            clauses.push(format!("i.youth_related = {}", bind(values, v)));
        }
        if let Some(s) = &self.hate_strand {
            clauses.push(format!("{} = ANY(i.hate_strands)", bind(values, s.clone())));
        }
        // Inlined rather than bound, so that the planner can use the partial index on ACTIVE
        // records with a generic plan too.
        match self.status.as_deref() {
            Some("ACTIVE") => clauses.push("i.status = 'ACTIVE'".to_owned()),
            Some("CANCELLED") => clauses.push("i.status = 'CANCELLED'".to_owned()),
            Some(other) => clauses.push(format!("i.status = {}", bind(values, other.to_owned()))),
            None => {}
        }
        if self.exclude_domestic_abuse {
            clauses.push("NOT i.domestic_abuse".to_owned());
        }
        clauses.join(" AND ")
    }
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct IncidentRow {
        pub id: Uuid,
        pub source_agency: String,
        pub external_ref: String,
        pub partnership: String,
        pub category: String,
        pub occurred_at: DateTime<Utc>,
        pub reported_at: Option<DateTime<Utc>>,
        /// None for a record without a location.
        pub area: Option<String>,
        pub lsoa: Option<String>,
        pub postcode_district: Option<String>,
        pub domestic_abuse: bool,
        pub alcohol_related: bool,
        pub youth_related: bool,
        pub hate_strands: Vec<String>,
        pub drug_class: Option<String>,
        pub asb_type: Option<String>,
        pub fire_type: Option<String>,
        pub outcome: Option<String>,
        pub status: String,
        pub cancel_reason: Option<String>,
        pub revision: i32,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub area_id: Option<Uuid>,
        pub source_agency_name: String,
        pub source_agency_kind: String,
    }
}

const ROW_COLUMNS: &str = "i.id, ag.slug AS source_agency, i.external_ref, p.slug AS partnership, i.category, \
    i.occurred_at, i.reported_at, a.code AS area, i.lsoa, i.postcode_district, i.domestic_abuse, i.alcohol_related, \
    i.youth_related, i.hate_strands, i.drug_class, i.asb_type, i.fire_type, i.outcome, i.status, \
    i.cancel_reason, i.revision, i.created_at, i.updated_at, i.area_id, \
    ag.name AS source_agency_name, ag.kind AS source_agency_kind";

const ROW_FROM: &str = "FROM incidents i JOIN agencies ag ON ag.id = i.source_agency_id \
    JOIN partnerships p ON p.id = i.partnership_id LEFT JOIN areas a ON a.id = i.area_id";

/// One record of a partnership in `scope`, any status (`node(id)`).
pub async fn by_id<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<Option<IncidentRow>> {
    fetch_optional(
        conn,
        &format!("SELECT {ROW_COLUMNS} {ROW_FROM} WHERE i.id = $1 AND i.partnership_id = ANY($2)"),
        vec![id.into(), scope.to_vec().into()],
    )
    .await
}

/// The records an agency holds under these references (any partnership, any status).
pub async fn held_by_refs<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    refs: &[String],
) -> AppResult<Vec<IncidentRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT {ROW_COLUMNS} {ROW_FROM} WHERE i.source_agency_id = $1 AND i.external_ref = ANY($2) \
             ORDER BY i.external_ref"
        ),
        vec![agency.into(), refs.to_vec().into()],
    )
    .await
}

pg_row! {
    struct OutcomeMonth {
        external_ref: String,
        month: NaiveDate,
        outcome: Option<String>,
    }
}

/// The month of the data.police.uk outcome each of these records of an agency holds (where an
/// import recorded one), with that outcome, by external reference.
pub async fn outcome_months<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    refs: &[String],
) -> AppResult<HashMap<String, (NaiveDate, Option<String>)>> {
    let rows: Vec<OutcomeMonth> = fetch_all(
        conn,
        "SELECT i.external_ref, m.month, i.outcome FROM incident_outcome_months m \
         JOIN incidents i ON i.id = m.incident_id \
         WHERE i.source_agency_id = $1 AND i.external_ref = ANY($2)",
        vec![agency.into(), refs.to_vec().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.external_ref, (r.month, r.outcome)))
        .collect())
}

/// Records the month of the outcome these records of an agency now hold (the later of it and
/// the month already recorded).
pub async fn record_outcome_months<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    held: &[(String, NaiveDate)],
) -> AppResult<()> {
    if held.is_empty() {
        return Ok(());
    }
    let refs: Vec<String> = held.iter().map(|(r, _)| r.clone()).collect();
    let months: Vec<String> = held.iter().map(|(_, m)| m.to_string()).collect();
    execute(
        conn,
        "INSERT INTO incident_outcome_months (incident_id, partnership_id, month) \
         SELECT i.id, i.partnership_id, v.month::date \
         FROM unnest($2::text[], $3::text[]) AS v (external_ref, month) \
         JOIN incidents i ON i.source_agency_id = $1 AND i.external_ref = v.external_ref \
         ON CONFLICT (incident_id) DO UPDATE \
         SET month = greatest(incident_outcome_months.month, excluded.month)",
        vec![agency.into(), refs.into(), months.into()],
        &[],
    )
    .await?;
    Ok(())
}

impl IncidentRow {
    /// The record as a push would send it again, unchanged.
    pub fn to_input(&self) -> crate::domain::incident::IncidentInput {
        crate::domain::incident::IncidentInput {
            external_ref: self.external_ref.clone(),
            source_agency: Some(self.source_agency.clone()),
            partnership: Some(self.partnership.clone()),
            category: self.category.clone(),
            occurred_at: self.occurred_at.to_rfc3339(),
            reported_at: self.reported_at.map(|r| r.to_rfc3339()),
            area: self.area.clone(),
            lsoa: self.lsoa.clone(),
            postcode_district: self.postcode_district.clone(),
            domestic_abuse: self.domestic_abuse,
            alcohol_related: self.alcohol_related,
            youth_related: self.youth_related,
            hate_strands: self.hate_strands.clone(),
            drug_class: self.drug_class.clone(),
            asb_type: self.asb_type.clone(),
            fire_type: self.fire_type.clone(),
            outcome: self.outcome.clone(),
            status: Some(self.status.clone()),
            cancel_reason: self.cancel_reason.clone(),
        }
    }
}

/// The orders incidents are listed in: by a time, then id; each has its index
/// (`incidents_partnership_time`, `incidents_partnership_updated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// When it happened (the default, oldest first).
    #[default]
    Occurred,
    /// When the record last changed.
    Updated,
}

impl Order {
    fn column(self) -> &'static str {
        match self {
            Order::Occurred => "i.occurred_at",
            Order::Updated => "i.updated_at",
        }
    }
}

/// A page of incidents in `order` (descending when `desc`), then id, as `keys` place it.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    filter: &IncidentFilter,
    order: Order,
    desc: bool,
    keys: &crate::db::page::Keyset<DateTime<Utc>, Uuid>,
) -> AppResult<Vec<IncidentRow>> {
    let mut w = filter.to_where();
    let page = keys.clauses(&mut w.values, [order.column(), "i.id"], desc);
    let sql = format!("SELECT {ROW_COLUMNS} {ROW_FROM} WHERE {}{page}", w.sql);
    fetch_all(conn, &sql, w.values).await
}

pg_row! {
    struct CountRow {
        n: i64,
    }
}

/// How many records match the filter (`totalCount`). The whole months of its period (every
/// month when it has none) are read from the monthly counts (`incident_counts`), which keep every
/// filter but the hate strand; the days at the period's edges, and any filter on a hate strand,
/// from the records. One statement: a count of a big city's 1.5 million records reads a few
/// thousand rows of counts.
pub async fn count<C: ConnectionTrait>(conn: &C, filter: &IncidentFilter) -> AppResult<i64> {
    let mut values = Vec::new();
    let parts: Vec<String> = count_sources(filter)
        .into_iter()
        .map(|(monthly, f)| {
            let w = f.clauses(monthly, &mut values);
            if monthly {
                format!("(SELECT coalesce(sum(i.n), 0) FROM incident_counts i WHERE {w})")
            } else {
                format!("(SELECT count(*) FROM incidents i WHERE {w})")
            }
        })
        .collect();
    let row: Option<CountRow> = fetch_optional(
        conn,
        &format!("SELECT ({})::bigint AS n", parts.join(" + ")),
        values,
    )
    .await?;
    Ok(row.map(|r| r.n).unwrap_or(0))
}

/// The parts a count of `filter` adds up: `(true, f)` reads the monthly counts for `f`, whose
/// period is whole months or open; `(false, f)` reads the records.
fn count_sources(filter: &IncidentFilter) -> Vec<(bool, IncidentFilter)> {
    use crate::domain::period::{whole_months_from, whole_months_to};
    if filter.hate_strand.is_some() {
        return vec![(false, filter.clone())];
    }
    // The first whole month's first day and the last whole month's last day (none at the
    // calendar's ends: the records alone then).
    let (start, end) = (
        filter.from.map(whole_months_from),
        filter.to.map(whole_months_to),
    );
    if matches!(start, Some(None)) || matches!(end, Some(None)) {
        return vec![(false, filter.clone())];
    }
    let (start, end) = (start.flatten(), end.flatten());
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        // No whole month inside: the records alone (at most two months of them).
        return vec![(false, filter.clone())];
    }
    let mut parts = vec![(
        true,
        IncidentFilter {
            from: start,
            to: end,
            ..filter.clone()
        },
    )];
    if let (Some(from), Some(s)) = (filter.from, start)
        && from < s
    {
        parts.push((
            false,
            IncidentFilter {
                from: Some(from),
                to: s.pred_opt(),
                ..filter.clone()
            },
        ));
    }
    if let (Some(to), Some(e)) = (filter.to, end)
        && e < to
    {
        parts.push((
            false,
            IncidentFilter {
                from: e.succ_opt(),
                to: Some(to),
                ..filter.clone()
            },
        ));
    }
    parts
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct RevisionRow {
        pub incident_id: Uuid,
        pub revision: i32,
        pub record: serde_json::Value,
        pub pushed_by_sub: String,
        pub pushed_at: DateTime<Utc>,
        pub replaced_at: DateTime<Utc>,
    }
}

/// The earlier states of incidents that were made in one of the `scope` partnerships: a
/// record moved between partnerships shows nothing of its time in the other to callers with
/// no scope there.
pub async fn revisions_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
    scope: &[Uuid],
) -> AppResult<Vec<RevisionRow>> {
    fetch_all(
        conn,
        "SELECT incident_id, revision, record, pushed_by_sub, pushed_at, replaced_at FROM incident_revisions \
         WHERE incident_id = ANY($1) AND (record->>'partnership_id')::uuid = ANY($2) \
         ORDER BY incident_id, revision",
        vec![ids.to_vec().into(), scope.to_vec().into()],
    )
    .await
}
/// The incidents linked to a case (the caller has already been found to see the case), in the
/// order they occurred. Incidents are never personal data; the link is case data and goes
/// through the case's row-level security.
pub async fn linked_to_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> AppResult<Vec<IncidentRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT {ROW_COLUMNS} {ROW_FROM} JOIN case_incidents ci ON ci.incident_id = i.id \
             WHERE ci.case_id = $1 ORDER BY i.occurred_at, i.id"
        ),
        vec![case_id.into()],
    )
    .await
}

/// An incident of a partnership, by id: whether it exists there.
pub async fn exists_in<C: ConnectionTrait>(
    conn: &C,
    partnership_id: Uuid,
    id: Uuid,
) -> AppResult<bool> {
    let row: Option<CountRow> = fetch_optional(
        conn,
        "SELECT count(*) AS n FROM incidents WHERE id = $1 AND partnership_id = $2",
        vec![id.into(), partnership_id.into()],
    )
    .await?;
    Ok(row.is_some_and(|r| r.n > 0))
}
