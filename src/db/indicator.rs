//! Indicators, their links to priorities, external figures and populations; and the one query
//! that counts any indicators for any partnerships over any windows of days.

use crate::pg_row;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

use super::{bind, execute, fetch_all, fetch_optional, write_returning};
use crate::domain::indicator::{Definition, builtin};
use crate::error::{AppError, AppResult};

const CODE_TAKEN: (&str, &str) = (
    "indicators_code",
    "the partnership already has an indicator with this code (built-in codes are taken too)",
);

/// The owner of the built-in indicators (written at start-up).
const BUILTIN_SUB: &str = "csphub";

pg_row! {
    #[derive(Debug, Clone)]
    pub struct IndicatorRow {
        pub id: Uuid,
        pub partnership_id: Uuid,
        /// The partnership's copy of a built-in indicator (`indicator_definitions`).
        pub builtin: bool,
        pub code: String,
        pub name: String,
        pub description: String,
        pub kind: String,
        pub categories: Vec<String>,
        pub domestic_abuse: Option<bool>,
        pub alcohol_related: Option<bool>,
        pub youth_related: Option<bool>,
        pub hate_crime: Option<bool>,
        pub hate_strands: Vec<String>,
        pub drug_classes: Vec<String>,
        pub fire_types: Vec<String>,
        /// The priorities (of the asking partnership's plans) the indicator is linked to.
        pub priority_ids: Vec<Uuid>,
    }
}

impl IndicatorRow {
    pub fn definition(&self) -> Definition {
        Definition {
            categories: self.categories.clone(),
            domestic_abuse: self.domestic_abuse,
            alcohol_related: self.alcohol_related,
            youth_related: self.youth_related,
            hate_crime: self.hate_crime,
            hate_strands: self.hate_strands.clone(),
            drug_classes: self.drug_classes.clone(),
            fire_types: self.fire_types.clone(),
        }
    }
}

/// An indicator's definition columns (what it counts).
const DEFINITION: &str = "categories, domestic_abuse, alcohol_related, youth_related, hate_crime, \
    hate_strands, drug_classes, fire_types";
const DEFINITION_OF_T: &str = "t.categories, t.domestic_abuse, t.alcohol_related, t.youth_related, \
    t.hate_crime, t.hate_strands, t.drug_classes, t.fire_types";
/// The upsert of a built-in (`x`, the row there) from `EXCLUDED`, and whether it changed.
const UPDATE_SET: &str = "name = EXCLUDED.name, description = EXCLUDED.description, \
    categories = EXCLUDED.categories, domestic_abuse = EXCLUDED.domestic_abuse, \
    alcohol_related = EXCLUDED.alcohol_related, youth_related = EXCLUDED.youth_related, \
    hate_crime = EXCLUDED.hate_crime, hate_strands = EXCLUDED.hate_strands, \
    drug_classes = EXCLUDED.drug_classes, fire_types = EXCLUDED.fire_types";
const CHANGED: &str = "(x.name, x.description, x.categories, x.domestic_abuse, x.alcohol_related, \
    x.youth_related, x.hate_crime, x.hate_strands, x.drug_classes, x.fire_types) IS DISTINCT FROM \
    (EXCLUDED.name, EXCLUDED.description, EXCLUDED.categories, EXCLUDED.domestic_abuse, \
    EXCLUDED.alcohol_related, EXCLUDED.youth_related, EXCLUDED.hate_crime, EXCLUDED.hate_strands, \
    EXCLUDED.drug_classes, EXCLUDED.fire_types)";

/// Writes the built-in indicators (new ones added, names and definitions brought up to date):
/// their definitions, and each partnership's copy (a partnership added later gets its copies
/// from a trigger).
pub async fn sync_builtin<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    let json = serde_json::Value::Array(
        builtin()
            .iter()
            .map(|b| {
                let d = &b.definition;
                serde_json::json!({
                    "code": b.code, "name": b.name, "description": b.description,
                    "categories": d.categories, "domestic_abuse": d.domestic_abuse,
                    "alcohol_related": d.alcohol_related, "youth_related": d.youth_related,
                    "hate_crime": d.hate_crime, "hate_strands": d.hate_strands,
                    "drug_classes": d.drug_classes, "fire_types": d.fire_types,
                })
            })
            .collect(),
    );
    // The definitions (reference data), then every partnership's copy of each.
    execute(
        conn,
        &format!(
            "INSERT INTO indicator_definitions AS x (code, name, description, kind, {DEFINITION}) \
             SELECT t.code, t.name, t.description, 'INCIDENTS', {DEFINITION_OF_T} \
             FROM jsonb_to_recordset($1::jsonb) AS t(code text, name text, description text, categories text[], \
               domestic_abuse boolean, alcohol_related boolean, youth_related boolean, hate_crime boolean, \
               hate_strands text[], drug_classes text[], fire_types text[]) \
             ON CONFLICT (code) DO UPDATE SET {UPDATE_SET} WHERE {CHANGED}"
        ),
        vec![json.into()],
        &[],
    )
    .await?;
    execute(
        conn,
        &format!(
            "INSERT INTO indicators AS x (partnership_id, code, name, description, kind, {DEFINITION}, \
               created_by_sub, builtin) \
             SELECT p.id, t.code, t.name, t.description, t.kind, {DEFINITION_OF_T}, $1, true \
             FROM partnerships p CROSS JOIN indicator_definitions t \
             ON CONFLICT (partnership_id, code) DO UPDATE SET {UPDATE_SET} WHERE x.builtin AND {CHANGED}"
        ),
        vec![BUILTIN_SUB.into()],
        &[],
    )
    .await?;
    Ok(())
}

const COLUMNS: &str = "d.id, d.partnership_id, d.builtin, d.code, d.name, d.description, d.kind, d.categories, \
    d.domestic_abuse, d.alcohol_related, d.youth_related, d.hate_crime, d.hate_strands, d.drug_classes, \
    d.fire_types, ARRAY(SELECT pi.priority_id FROM priority_indicators pi JOIN priorities pr ON pr.id = pi.priority_id \
      JOIN plans pl ON pl.id = pr.plan_id WHERE pi.indicator_id = d.id AND pl.partnership_id = $1 \
      ORDER BY pl.financial_year, pr.position) AS priority_ids";

/// The indicators a partnership has (the built-in ones and its own), built-in first, by code;
/// optionally only those linked to one priority.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    priority: Option<Uuid>,
) -> AppResult<Vec<IndicatorRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM indicators d WHERE d.partnership_id = $1 \
             AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM priority_indicators pi WHERE pi.indicator_id = d.id \
               AND pi.priority_id = $2)) \
             ORDER BY d.builtin DESC, d.code"
        ),
        vec![partnership.into(), priority.into()],
    )
    .await
}

/// One indicator the partnership has, or NOT_FOUND.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    id: Uuid,
) -> AppResult<IndicatorRow> {
    fetch_optional(
        conn,
        &format!("SELECT {COLUMNS} FROM indicators d WHERE d.id = $2 AND d.partnership_id = $1"),
        vec![partnership.into(), id.into()],
    )
    .await?
    .ok_or_else(|| AppError::not_found("indicator"))
}

pg_row! {
    struct IdRow {
        id: Uuid,
    }
}

/// Adds a partnership's own indicator.
#[allow(clippy::too_many_arguments)]
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    code: &str,
    name: &str,
    description: &str,
    kind: &str,
    d: &Definition,
    sub: &str,
) -> AppResult<IndicatorRow> {
    let row: Option<IdRow> = write_returning(
        conn,
        "INSERT INTO indicators (partnership_id, code, name, description, kind, categories, domestic_abuse, \
           alcohol_related, youth_related, hate_crime, hate_strands, drug_classes, fire_types, created_by_sub) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        vec![
            partnership.into(),
            code.into(),
            name.into(),
            description.into(),
            kind.into(),
            d.categories.clone().into(),
            d.domestic_abuse.into(),
            d.alcohol_related.into(),
            d.youth_related.into(),
            d.hate_crime.into(),
            d.hate_strands.clone().into(),
            d.drug_classes.clone().into(),
            d.fire_types.clone().into(),
            sub.into(),
        ],
        &[CODE_TAKEN],
    )
    .await?;
    let id = row
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("insert returned nothing")))?
        .id;
    get(conn, partnership, id).await
}

pg_row! {
    struct PlanOf {
        partnership_id: Uuid,
    }
}

/// The partnership a priority's plan belongs to, if the priority exists.
pub async fn priority_partnership<C: ConnectionTrait>(
    conn: &C,
    priority: Uuid,
) -> AppResult<Option<Uuid>> {
    let row: Option<PlanOf> = fetch_optional(
        conn,
        "SELECT pl.partnership_id FROM priorities pr JOIN plans pl ON pl.id = pr.plan_id WHERE pr.id = $1",
        vec![priority.into()],
    )
    .await?;
    Ok(row.map(|r| r.partnership_id))
}

/// Links an indicator to a priority (linking twice changes nothing).
pub async fn link<C: ConnectionTrait>(
    conn: &C,
    priority: Uuid,
    indicator: Uuid,
    sub: &str,
) -> AppResult<()> {
    execute(
        conn,
        "INSERT INTO priority_indicators (priority_id, indicator_id, linked_by_sub) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        vec![priority.into(), indicator.into(), sub.into()],
        &[],
    )
    .await?;
    Ok(())
}

/// Removes a link; whether there was one.
pub async fn unlink<C: ConnectionTrait>(
    conn: &C,
    priority: Uuid,
    indicator: Uuid,
) -> AppResult<bool> {
    Ok(execute(
        conn,
        "DELETE FROM priority_indicators WHERE priority_id = $1 AND indicator_id = $2",
        vec![priority.into(), indicator.into()],
        &[],
    )
    .await?
        > 0)
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct ValueRow {
        pub indicator_id: Uuid,
        pub partnership_id: Uuid,
        pub period_from: NaiveDate,
        pub period_to: NaiveDate,
        pub value: i64,
        pub source: String,
        pub recorded_by_sub: String,
        pub recorded_at: DateTime<Utc>,
    }
}

const VALUE_COLUMNS: &str = "indicator_id, partnership_id, period_from, period_to, value, source, \
    recorded_by_sub, recorded_at";

/// Records (or corrects) an external indicator's figure for a partnership and a period.
#[allow(clippy::too_many_arguments)]
pub async fn record_value<C: ConnectionTrait>(
    conn: &C,
    indicator: Uuid,
    partnership: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    value: i64,
    source: &str,
    sub: &str,
) -> AppResult<ValueRow> {
    write_returning(
        conn,
        &format!(
            "INSERT INTO indicator_values (indicator_id, partnership_id, period_from, period_to, value, source, \
               recorded_by_sub) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (indicator_id, partnership_id, period_from, period_to) DO UPDATE SET \
               value = EXCLUDED.value, source = EXCLUDED.source, recorded_by_sub = EXCLUDED.recorded_by_sub, \
               recorded_at = now() \
             RETURNING {VALUE_COLUMNS}"
        ),
        vec![
            indicator.into(),
            partnership.into(),
            from.into(),
            to.into(),
            value.into(),
            source.into(),
            sub.into(),
        ],
        &[],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("upsert returned nothing")))
}

/// External figures of some indicators for some partnerships over exactly the given windows.
pub async fn values_for<C: ConnectionTrait>(
    conn: &C,
    indicators: &[Uuid],
    partnerships: &[Uuid],
    windows: &[(NaiveDate, NaiveDate)],
) -> AppResult<Vec<ValueRow>> {
    let (froms, tos): (Vec<NaiveDate>, Vec<NaiveDate>) = windows.iter().copied().unzip();
    fetch_all(
        conn,
        &format!(
            "SELECT {VALUE_COLUMNS} FROM indicator_values v \
             WHERE indicator_id = ANY($1) AND partnership_id = ANY($2) \
               AND (period_from, period_to) IN (SELECT * FROM unnest($3::date[], $4::date[])) \
             ORDER BY indicator_id, partnership_id, period_from"
        ),
        vec![
            indicators.to_vec().into(),
            partnerships.to_vec().into(),
            froms.into(),
            tos.into(),
        ],
    )
    .await
}

/// Every external figure of one indicator for one partnership, newest period first.
pub async fn values_of<C: ConnectionTrait>(
    conn: &C,
    indicator: Uuid,
    partnership: Uuid,
) -> AppResult<Vec<ValueRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT {VALUE_COLUMNS} FROM indicator_values WHERE indicator_id = $1 AND partnership_id = $2 \
             ORDER BY period_from DESC, period_to DESC"
        ),
        vec![indicator.into(), partnership.into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct PopulationRow {
        pub partnership_id: Uuid,
        pub year: i32,
        pub population: i32,
        pub source: String,
        pub recorded_by_sub: String,
        pub recorded_at: DateTime<Utc>,
    }
}

const POPULATION_COLUMNS: &str =
    "partnership_id, year, population, source, recorded_by_sub, recorded_at";

/// Records (or corrects) a partnership's mid-year estimate for a year.
pub async fn record_population<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    year: i32,
    population: i32,
    source: &str,
    sub: &str,
) -> AppResult<PopulationRow> {
    write_returning(
        conn,
        &format!(
            "INSERT INTO populations (partnership_id, year, population, source, recorded_by_sub) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (partnership_id, year) DO UPDATE SET \
               population = EXCLUDED.population, source = EXCLUDED.source, \
               recorded_by_sub = EXCLUDED.recorded_by_sub, recorded_at = now() \
             RETURNING {POPULATION_COLUMNS}"
        ),
        vec![
            partnership.into(),
            year.into(),
            population.into(),
            source.into(),
            sub.into(),
        ],
        &[],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("upsert returned nothing")))
}

/// A partnership's estimates, newest first.
pub async fn populations<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
) -> AppResult<Vec<PopulationRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT {POPULATION_COLUMNS} FROM populations WHERE partnership_id = $1 ORDER BY year DESC"
        ),
        vec![partnership.into()],
    )
    .await
}

/// For each partnership, the latest estimate for `year` or an earlier year.
pub async fn populations_for<C: ConnectionTrait>(
    conn: &C,
    partnerships: &[Uuid],
    year: i32,
) -> AppResult<Vec<PopulationRow>> {
    fetch_all(
        conn,
        &format!(
            "SELECT DISTINCT ON (partnership_id) {POPULATION_COLUMNS} FROM populations \
             WHERE partnership_id = ANY($1) AND year <= $2 ORDER BY partnership_id, year DESC"
        ),
        vec![partnerships.to_vec().into(), year.into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct CountyMember {
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        pub county: String,
    }
}

/// The partnerships of the same county as `partnership` (itself included), by slug.
pub async fn county_of<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
) -> AppResult<Vec<CountyMember>> {
    fetch_all(
        conn,
        "SELECT p.id, p.slug, p.name, p.county FROM partnerships p \
         WHERE p.county = (SELECT county FROM partnerships WHERE id = $1) ORDER BY p.slug",
        vec![partnership.into()],
    )
    .await
}

/// A count of one indicator (or, with `indicator_id` NULL, of every ACTIVE incident) for one
/// partnership in one window (`window`: the index into the windows asked for).
#[derive(Debug, Clone)]
pub struct WindowCount {
    pub indicator_id: Option<Uuid>,
    pub partnership_id: Uuid,
    pub window: i64,
    pub n: i64,
}

/// The SQL condition of a definition over `incidents i`, its lists bound as parameters (pushed
/// onto `values`); flags are inlined as TRUE or FALSE.
fn condition(d: &Definition, values: &mut Vec<sea_orm::Value>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (column, any, items) in [
        ("i.category", true, &d.categories),
        ("i.hate_strands", false, &d.hate_strands),
        ("i.drug_class", true, &d.drug_classes),
        ("i.fire_type", true, &d.fire_types),
    ] {
        if !items.is_empty() {
            let list = bind(values, items.clone());
            parts.push(if any {
                format!("{column} = ANY({list}::text[])")
            } else {
                format!("{column} && {list}::text[]")
            });
        }
    }
    for (column, flag) in [
        ("i.domestic_abuse", d.domestic_abuse),
        ("i.alcohol_related", d.alcohol_related),
        ("i.youth_related", d.youth_related),
    ] {
        if let Some(v) = flag {
            parts.push(format!("{column} IS {}", if v { "TRUE" } else { "FALSE" }));
        }
    }
    // As the partial index `incidents_hate_day` has it, so that hate crime reads only its records.
    match d.hate_crime {
        Some(true) => parts.push("cardinality(i.hate_strands) > 0".to_owned()),
        Some(false) => parts.push("cardinality(i.hate_strands) = 0".to_owned()),
        None => {}
    }
    if parts.is_empty() {
        "TRUE".to_owned()
    } else {
        parts.join(" AND ")
    }
}

pg_row! {
    struct CountsRow {
        partnership_id: Uuid,
        k: Option<i32>,
        total: i64,
        counts: Vec<i64>,
    }
}

/// Whether the monthly counts (`incident_counts`) can count a definition: they keep the
/// category and the three flags, not hate strands, drug classes or fire types.
fn monthly(d: &Definition) -> bool {
    d.hate_strands.is_empty()
        && d.drug_classes.is_empty()
        && d.fire_types.is_empty()
        && d.hate_crime.is_none()
}

/// Days from the first to the last, both included.
type Days = (NaiveDate, NaiveDate);

/// A window of days as the whole months inside it (first day of the first, last day of the
/// last) and the days outside them (at most two runs).
fn split_window(from: NaiveDate, to: NaiveDate) -> (Option<Days>, Vec<Days>) {
    use crate::domain::period::{whole_months_from, whole_months_to};
    let (start, end) = (whole_months_from(from), whole_months_to(to));
    match (start, end) {
        (Some(s), Some(e)) if s <= e => {
            let mut edges = Vec::new();
            if from < s {
                edges.push((from, s.pred_opt().unwrap_or(from)));
            }
            if e < to {
                edges.push((e.succ_opt().unwrap_or(to), to));
            }
            (Some((s, e)), edges)
        }
        _ => (None, vec![(from, to)]),
    }
}

/// Counts ACTIVE incidents for each indicator definition, partnership and window (windows must
/// not overlap), in two statements at most. The definitions the monthly counts keep (category
/// and flags) and each partnership's total are counted from `incident_counts` for the whole
/// months of each window, and from the records for the days at its edges, each record or key
/// placed in its window and counted under every definition it matches. The others (hate
/// strands, drug classes, fire types) are counted from the records that match one of them.
/// Rows with no indicator are each partnership's total in the window (whether it has figures
/// at all). A partnership with no records in a window has no rows for it.
pub async fn window_counts<C: ConnectionTrait>(
    conn: &C,
    indicators: &[(Uuid, Definition)],
    partnerships: &[Uuid],
    windows: &[(NaiveDate, NaiveDate)],
) -> AppResult<Vec<WindowCount>> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let (kept, rest): (Vec<_>, Vec<_>) = indicators.iter().partition(|(_, d)| monthly(d));
    let mut out = Vec::new();
    for r in kept_counts(conn, &kept, partnerships, windows).await? {
        let Some(k) = r.k else { continue };
        let window = i64::from(k);
        out.push(WindowCount {
            indicator_id: None,
            partnership_id: r.partnership_id,
            window,
            n: r.total,
        });
        for ((id, _), n) in kept.iter().zip(r.counts) {
            out.push(WindowCount {
                indicator_id: Some(*id),
                partnership_id: r.partnership_id,
                window,
                n,
            });
        }
    }
    if !rest.is_empty() {
        // A definition the records alone answer has a count (0 or more) wherever the
        // partnership has records in the window, as the others do.
        let held: std::collections::HashSet<(Uuid, i64)> = out
            .iter()
            .filter(|c| c.indicator_id.is_none())
            .map(|c| (c.partnership_id, c.window))
            .collect();
        let mut found: HashMap<(Uuid, i64), Vec<i64>> = HashMap::new();
        for r in record_counts(conn, &rest, partnerships, windows).await? {
            if let Some(k) = r.k {
                found.insert((r.partnership_id, i64::from(k)), r.counts);
            }
        }
        let mut held: Vec<(Uuid, i64)> = held.into_iter().collect();
        held.sort();
        for (partnership_id, window) in held {
            let counts = found.remove(&(partnership_id, window)).unwrap_or_default();
            for (i, (id, _)) in rest.iter().enumerate() {
                out.push(WindowCount {
                    indicator_id: Some(*id),
                    partnership_id,
                    window,
                    n: counts.get(i).copied().unwrap_or(0),
                });
            }
        }
    }
    Ok(out)
}

/// The totals and the monthly-kept definitions' counts per partnership and window.
async fn kept_counts<C: ConnectionTrait>(
    conn: &C,
    kept: &[&(Uuid, Definition)],
    partnerships: &[Uuid],
    windows: &[(NaiveDate, NaiveDate)],
) -> AppResult<Vec<CountsRow>> {
    let mut values: Vec<sea_orm::Value> = vec![partnerships.to_vec().into()];
    let (mut month_case, mut month_any) = (String::from("CASE"), Vec::new());
    let (mut day_case, mut day_any) = (String::from("CASE"), Vec::new());
    for (k, (from, to)) in windows.iter().enumerate() {
        let (months, edges) = split_window(*from, *to);
        if let Some((s, e)) = months {
            let (s, e) = (bind(&mut values, s), bind(&mut values, e));
            month_case.push_str(&format!(" WHEN i.month BETWEEN {s} AND {e} THEN {k}"));
            month_any.push(format!("i.month BETWEEN {s} AND {e}"));
        }
        for (a, b) in edges {
            let (a, b) = (bind(&mut values, a), bind(&mut values, b));
            day_case.push_str(&format!(" WHEN i.occurred_on BETWEEN {a} AND {b} THEN {k}"));
            day_any.push(format!("i.occurred_on BETWEEN {a} AND {b}"));
        }
    }
    let mut sources = Vec::new();
    const KEPT: &str = "i.category, i.domestic_abuse, i.alcohol_related, i.youth_related";
    if !month_any.is_empty() {
        sources.push(format!(
            "SELECT i.partnership_id, {month_case} END AS k, {KEPT}, i.n FROM incident_counts i \
             WHERE i.partnership_id = ANY($1) AND i.status = 'ACTIVE' AND ({})",
            month_any.join(" OR ")
        ));
    }
    if !day_any.is_empty() {
        sources.push(format!(
            "SELECT i.partnership_id, {day_case} END AS k, {KEPT}, 1::bigint AS n FROM incidents i \
             WHERE i.partnership_id = ANY($1) AND i.status = 'ACTIVE' AND ({})",
            day_any.join(" OR ")
        ));
    }
    let filters: Vec<String> = kept
        .iter()
        .map(|(_, d)| {
            format!(
                "coalesce(sum(i.n) FILTER (WHERE {}), 0)",
                condition(d, &mut values)
            )
        })
        .collect();
    let counts = if filters.is_empty() {
        "'{}'::bigint[]".to_owned()
    } else {
        format!("ARRAY[{}]::bigint[]", filters.join(", "))
    };
    // Keys of the counts that sum to 0 (records that left) make no group of their own.
    let sql = format!(
        "SELECT i.partnership_id, i.k, sum(i.n)::bigint AS total, {counts} AS counts \
         FROM ({}) i GROUP BY 1, 2 HAVING sum(i.n) <> 0",
        sources.join(" UNION ALL ")
    );
    fetch_all(conn, &sql, values).await
}

/// The counts of definitions only the records answer, per partnership and window, read from
/// the records that match at least one of them.
async fn record_counts<C: ConnectionTrait>(
    conn: &C,
    rest: &[&(Uuid, Definition)],
    partnerships: &[Uuid],
    windows: &[(NaiveDate, NaiveDate)],
) -> AppResult<Vec<CountsRow>> {
    let (Some(first), Some(last)) = (
        windows.iter().map(|w| w.0).min(),
        windows.iter().map(|w| w.1).max(),
    ) else {
        return Ok(Vec::new());
    };
    let mut values: Vec<sea_orm::Value> =
        vec![partnerships.to_vec().into(), first.into(), last.into()];
    let mut window_case = String::from("CASE");
    for (k, (from, to)) in windows.iter().enumerate() {
        let (from, to) = (bind(&mut values, *from), bind(&mut values, *to));
        window_case.push_str(&format!(
            " WHEN i.occurred_on BETWEEN {from} AND {to} THEN {k}"
        ));
    }
    window_case.push_str(" END");
    let conditions: Vec<String> = rest
        .iter()
        .map(|(_, d)| condition(d, &mut values))
        .collect();
    let filters: Vec<String> = conditions
        .iter()
        .map(|c| format!("count(*) FILTER (WHERE {c})"))
        .collect();
    let sql = format!(
        "SELECT i.partnership_id, {window_case} AS k, count(*) AS total, ARRAY[{}]::bigint[] AS counts \
         FROM incidents i WHERE i.partnership_id = ANY($1) AND i.status = 'ACTIVE' \
           AND i.occurred_on BETWEEN $2 AND $3 AND (({})) GROUP BY 1, 2",
        filters.join(", "),
        conditions.join(") OR (")
    );
    fetch_all(conn, &sql, values).await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct LinkRow {
        pub priority_id: Uuid,
        pub indicator_id: Uuid,
    }
}

/// The indicator links of a plan's priorities.
pub async fn links_of_plan<C: ConnectionTrait>(conn: &C, plan: Uuid) -> AppResult<Vec<LinkRow>> {
    fetch_all(
        conn,
        "SELECT pi.priority_id, pi.indicator_id FROM priority_indicators pi \
         JOIN priorities pr ON pr.id = pi.priority_id WHERE pr.plan_id = $1",
        vec![plan.into()],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_window_splits_into_its_whole_months_and_the_days_at_its_edges() {
        // A financial year is whole months.
        assert_eq!(
            split_window(d("2014-04-01"), d("2015-03-31")),
            (Some((d("2014-04-01"), d("2015-03-31"))), vec![])
        );
        // 365 days before a leap year's financial year: a day of March at the start.
        assert_eq!(
            split_window(d("2015-03-31"), d("2016-03-30")),
            (
                Some((d("2015-04-01"), d("2016-02-29"))),
                vec![
                    (d("2015-03-31"), d("2015-03-31")),
                    (d("2016-03-01"), d("2016-03-30"))
                ]
            )
        );
        // No whole month inside: the days alone.
        assert_eq!(
            split_window(d("2015-03-05"), d("2015-04-20")),
            (None, vec![(d("2015-03-05"), d("2015-04-20"))])
        );
        assert_eq!(
            split_window(d("2015-02-01"), d("2015-02-28")),
            (Some((d("2015-02-01"), d("2015-02-28"))), vec![])
        );
        assert_eq!(
            split_window(d("2015-12-31"), d("2016-01-31")),
            (
                Some((d("2016-01-01"), d("2016-01-31"))),
                vec![(d("2015-12-31"), d("2015-12-31"))]
            )
        );
    }
}
