//! Cases, their people, shares and notes. Every query here states the sharing rule itself (the
//! case is in a partnership in scope and shared with the acting agency; AGENCY notes only for
//! their agency), and row-level security in PostgreSQL states it again underneath, so a query
//! that forgot it would still return nothing it may not.
//!
//! The case itself, its filters and changes are here; `shares`, `notes`, `people` (subjects,
//! persons and the people search) and `work` (interventions, referrals, linked incidents) hold
//! the rest.

mod notes;
mod people;
mod shares;
mod work;

pub use notes::*;
pub use people::*;
pub use shares::*;
pub use work::*;

use crate::pg_row;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::page::Keyset;
use crate::db::{bind, execute, fetch_all, fetch_optional, write_returning};
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
        pub owning_agency_name: String,
        pub owning_agency_kind: String,
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
       c.summary, c.owning_agency_id, a.slug AS owning_agency, \
       a.name AS owning_agency_name, a.kind AS owning_agency_kind, c.lead_officer, c.risk_level, c.area_code, \
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

/// The filter on the caller's share rows `s` (`$1` the scope, `$2` the agency): each share
/// row carries its case's partnership, reference, filterable fields and sort keys
/// (`m20261207_000005_share_filters`, `m20261207_000006_share_pages`), so pages and counts
/// read the caller's shares, never the cases of other agencies.
fn share_filter(f: &CaseFilter, values: &mut Vec<sea_orm::Value>) -> String {
    let partnership = bind(values, f.partnership_id);
    let mut sql = format!(
        "s.agency_id = $2 AND s.partnership_id = ANY($1) AND s.partnership_id = {partnership}"
    );
    for (column, value) in [
        ("s.case_type", &f.case_type),
        ("s.case_status", &f.status),
        ("s.risk_level", &f.risk_level),
        ("s.area_code", &f.area),
    ] {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {column} = {}", bind(values, v.clone())));
        }
    }
    if let Some(a) = &f.owning_agency {
        sql.push_str(&format!(
            " AND s.owning_agency_id = (SELECT id FROM agencies WHERE slug = {})",
            bind(values, a.clone())
        ));
    }
    if let Some(r) = &f.ref_contains {
        let pattern = bind(values, contains_pattern(r));
        sql.push_str(&format!(" AND s.case_ref ILIKE {pattern}"));
    }
    sql
}

/// A case's place in the order by risk (`Order::Risk`): its risk level's rank (HIGH 3, MEDIUM
/// 2, STANDARD 1) times 100,000, plus the days from 1900 to its opening, over the caller's
/// share row's copy of both. The index `case_shares_by_risk` holds the same expression.
const RISK_KEY: &str = "((CASE s.risk_level WHEN 'HIGH' THEN 3 WHEN 'MEDIUM' THEN 2 ELSE 1 END) * 100000 + (s.opened_on - DATE '1900-01-01'))";

/// [`RISK_KEY`] of a case, as the database computes it.
pub fn risk_key(risk_level: &str, opened_on: NaiveDate) -> i64 {
    let rank = match risk_level {
        "HIGH" => 3,
        "MEDIUM" => 2,
        _ => 1,
    };
    let days = NaiveDate::from_ymd_opt(1900, 1, 1).map_or(0, |d| (opened_on - d).num_days());
    rank * 100_000 + days
}

/// The orders cases are listed in, each by a key then id, each with its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// When the case was recorded (`created_at`; the default, newest first).
    Created,
    /// The day it was opened.
    Opened,
    /// [`RISK_KEY`]: by risk level, then the day it was opened.
    Risk,
}

impl Order {
    /// The order's key on the caller's share row, as its index holds it.
    fn column(self) -> &'static str {
        match self {
            Order::Created => "s.case_created_at",
            Order::Opened => "s.opened_on",
            Order::Risk => RISK_KEY,
        }
    }
}

/// A page of the cases the caller may see in `order` (descending when `desc`), then id, as
/// `keys` place it; the key's type is the order's (a time, a day, [`risk_key`]).
pub async fn page<C: ConnectionTrait, A: Into<sea_orm::Value> + Clone>(
    conn: &C,
    p: &Principal,
    f: &CaseFilter,
    order: Order,
    desc: bool,
    keys: &Keyset<A, Uuid>,
) -> AppResult<Vec<CaseRow>> {
    let mut values = vec![scope(p).into(), p.agency_id.into()];
    // The caller's shares in the order, from the order's index (filtered there), then each
    // page's cases by id.
    let mut sql = format!(
        "{CASE_SELECT} JOIN case_shares s ON s.case_id = c.id WHERE {}",
        share_filter(f, &mut values)
    );
    sql.push_str(&keys.clauses(&mut values, [order.column(), "s.case_id"], desc));
    fetch_all(conn, &sql, values).await
}

pg_row! {
    struct Count {
        n: i64,
    }
}

/// How many cases shared with the caller match the filter (`totalCount`): the caller's own
/// share rows, which carry the case's partnership, reference and filterable fields
/// (`m20261207_000005_share_filters`), not the cases themselves; every filter but the
/// reference's is counted from the index `case_shares_filters` alone (`bench/pages`).
pub async fn count<C: ConnectionTrait>(conn: &C, p: &Principal, f: &CaseFilter) -> AppResult<i64> {
    if !scope(p).contains(&f.partnership_id) {
        return Ok(0);
    }
    let mut values = vec![scope(p).into(), p.agency_id.into()];
    let sql = format!(
        "SELECT count(*) AS n FROM case_shares s WHERE {}",
        share_filter(f, &mut values)
    );
    Ok(fetch_optional::<Count, _>(conn, &sql, values)
        .await?
        .map_or(0, |c| c.n))
}

/// An ILIKE pattern for text containing `part`, its `%`, `_` and `\` taken literally.
fn contains_pattern(part: &str) -> String {
    let escaped = part
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
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
        pub agency_kind: String,
        pub legal_basis: String,
        pub basis_text: Option<String>,
        pub shared_by: String,
        pub shared_at: DateTime<Utc>,
    }
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
