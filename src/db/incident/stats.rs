//! Incident statistics: counts grouped by any dimensions, data freshness, the last pushes,
//! the groups the PCC's table sets are built from, and folding the monthly counts.

use super::*;

/// A dimension statistics can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Category,
    Area,
    Month,
    Quarter,
    FinancialYear,
    SourceAgency,
    AsbType,
    Flag,
}

impl Dimension {
    /// The inner (per-record, or per monthly count) grouping expression.
    fn inner(self, monthly: bool) -> &'static str {
        match self {
            Dimension::Category => "i.category",
            Dimension::Area => "i.area_id",
            Dimension::Month | Dimension::Quarter | Dimension::FinancialYear if monthly => {
                "i.month"
            }
            Dimension::Month | Dimension::Quarter | Dimension::FinancialYear => {
                "date_trunc('month', i.occurred_on::timestamp)::date"
            }
            Dimension::SourceAgency => "i.source_agency_id",
            Dimension::AsbType => {
                "CASE WHEN i.category <> 'anti-social-behaviour' THEN 'not-applicable' \
                 ELSE coalesce(i.asb_type, 'not-recorded') END"
            }
            Dimension::Flag => "f.flag",
        }
    }

    /// The outer expression over the inner column `c`, as text.
    fn outer(self, c: &str) -> String {
        let year =
            format!("(extract(year from {c})::int - (extract(month from {c})::int < 4)::int)");
        let fy = format!("({year}::text || '/' || lpad((({year} + 1) % 100)::text, 2, '0'))");
        match self {
            Dimension::Month => format!("to_char({c}, 'YYYY-MM')"),
            Dimension::Area => {
                format!("coalesce((SELECT code FROM areas WHERE id = {c}), '{NO_AREA}')")
            }
            Dimension::SourceAgency => format!("(SELECT slug FROM agencies WHERE id = {c})"),
            Dimension::FinancialYear => fy,
            Dimension::Quarter => {
                format!(
                    "({fy} || ' Q' || (((extract(month from {c})::int + 8) % 12) / 3 + 1)::text)"
                )
            }
            _ => c.to_owned(),
        }
    }
}

pub(super) const FLAGS: &str = "CROSS JOIN LATERAL unnest(array_remove(ARRAY[ \
    CASE WHEN i.domestic_abuse THEN 'domestic-abuse' END, \
    CASE WHEN i.alcohol_related THEN 'alcohol-related' END, \
    CASE WHEN i.youth_related THEN 'youth-related' END, \
    CASE WHEN i.drug_class IS NOT NULL THEN 'drug-class-' || i.drug_class END]::text[] \
    || ARRAY(SELECT 'hate-' || s FROM unnest(i.hate_strands) s), NULL)) AS f(flag)";

pg_row! {
    #[derive(Debug, Clone)]
    struct GroupRow {
        k0: Option<String>,
        k1: Option<String>,
        k2: Option<String>,
        k3: Option<String>,
        k4: Option<String>,
        k5: Option<String>,
        k6: Option<String>,
        n: i64,
    }
}

/// Counts of ACTIVE incidents grouped by the dimensions, in the filter's period.
pub async fn grouped_counts<C: ConnectionTrait>(
    conn: &C,
    filter: &IncidentFilter,
    dims: &[Dimension],
) -> AppResult<Vec<(Vec<String>, i64)>> {
    let mut filter = filter.clone();
    filter.status = Some("ACTIVE".to_owned());
    // Whole months without flags or ASB types read the monthly counts the database keeps as incidents
    // change (a few hundred rows a month, not every record); anything finer reads the records.
    let monthly =
        !dims.contains(&Dimension::Flag) && !dims.contains(&Dimension::AsbType) && filter.monthly();
    let w = filter.where_on(monthly);
    let inner: Vec<String> = dims
        .iter()
        .enumerate()
        .map(|(n, d)| format!("{} AS d{n}", d.inner(monthly)))
        .collect();
    let outer: Vec<String> = (0..7)
        .map(|n| match dims.get(n) {
            Some(d) => format!("{} AS k{n}", d.outer(&format!("d{n}"))),
            None => format!("NULL::text AS k{n}"),
        })
        .collect();
    let group_inner = if dims.is_empty() {
        String::new()
    } else {
        format!(
            "GROUP BY {}",
            (1..=dims.len())
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let group_outer = if dims.is_empty() {
        String::new()
    } else {
        format!(
            "GROUP BY {}",
            (1..=dims.len())
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let flags = if dims.contains(&Dimension::Flag) {
        FLAGS
    } else {
        ""
    };
    let (count, source, having) = if monthly {
        // Folded or not, a key's rows may sum to 0: such a group does not exist.
        ("sum(i.n)", "incident_counts i", "HAVING sum(i.n) <> 0")
    } else {
        ("count(*)", "incidents i", "")
    };
    let inner_select = if inner.is_empty() {
        format!("{count} AS n")
    } else {
        format!("{}, {count} AS n", inner.join(", "))
    };
    let sql = format!(
        "SELECT {}, coalesce(sum(n), 0)::bigint AS n FROM (SELECT {inner_select} FROM {source} {flags} WHERE {} {group_inner} {having}) s {group_outer}",
        outer.join(", "),
        w.sql
    );
    let rows: Vec<GroupRow> = fetch_all(conn, &sql, w.values).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let keys = [r.k0, r.k1, r.k2, r.k3, r.k4, r.k5, r.k6];
            (
                keys.into_iter()
                    .take(dims.len())
                    .map(Option::unwrap_or_default)
                    .collect(),
                r.n,
            )
        })
        .collect())
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct FreshnessRow {
        pub agency: String,
        pub month: NaiveDate,
        pub records: i64,
        pub last_received_at: Option<DateTime<Utc>>,
    }
}

/// Per source agency and month of occurrence: records held (any status) and when the latest
/// arrived (a record since moved to another month or removed still counts as received).
pub async fn freshness<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<FreshnessRow>> {
    // From the monthly counts (every status): a month whose rows sum to 0 holds no records.
    // The latest receipt is over every row of the month, those of records that left it too.
    fetch_all(
        conn,
        "SELECT ag.slug AS agency, k.month, k.records, k.last_received_at \
         FROM (SELECT i.source_agency_id, i.month, sum(i.n)::bigint AS records, max(i.last_at) AS last_received_at \
               FROM incident_counts i \
               WHERE i.partnership_id = $1 AND i.month BETWEEN date_trunc('month', $2::date)::date AND $3 \
               GROUP BY 1, 2 HAVING sum(i.n) <> 0) k \
         JOIN agencies ag ON ag.id = k.source_agency_id ORDER BY 1, 2",
        vec![partnership.into(), from.into(), to.into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct LastPushRow {
        pub agency: String,
        pub last_push_at: Option<DateTime<Utc>>,
        pub pushes: i64,
    }
}

/// Every pushing member agency (police, fire, council) of the partnership and its last push with
/// records for it, accepted or not (a record rejected before its partnership was known counts
/// in no partnership).
pub async fn last_pushes<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
) -> AppResult<Vec<LastPushRow>> {
    fetch_all(
        conn,
        "SELECT a.slug AS agency, max(p.pushed_at) AS last_push_at, count(p.id) AS pushes \
         FROM agencies a JOIN agency_partnerships ap ON ap.agency_id = a.id AND ap.partnership_id = $1 \
         LEFT JOIN incident_pushes p ON p.agency_id = a.id AND p.partnership_id = $1 \
         WHERE a.kind IN ('police', 'fire', 'council') GROUP BY a.slug ORDER BY a.slug",
        vec![partnership.into()],
    )
    .await
}

pg_row! {
    #[derive(Debug, Clone)]
    struct TableGroupRow {
        partnership_id: Uuid,
        place: bool,
        category: Option<String>,
        area: Option<String>,
        lsoa: Option<String>,
        month: i32,
        n: i64,
    }
}

/// What the PCC's table set of a partnership and year is built from.
pub type TableSetGroups = (
    Vec<crate::domain::tableset::Group>,
    Vec<crate::domain::tableset::PlaceGroup>,
);

/// The groups the PCC's table sets of some partnerships for a financial year are built from,
/// in one statement (so that both readings are of the same records): ACTIVE records by
/// partnership, category, area (none when flagged as domestic abuse) and month of the year
/// (April = 1), from the monthly counts (`incident_counts`); and those not flagged as domestic
/// abuse by area, LSOA and quarter of the year, from the counts by place
/// (`incident_place_counts`).
pub async fn table_set_groups<C: ConnectionTrait>(
    conn: &C,
    partnerships: &[Uuid],
    year: crate::domain::period::FinancialYear,
) -> AppResult<HashMap<Uuid, TableSetGroups>> {
    // A financial year is whole months: the monthly counts answer it.
    let rows: Vec<TableGroupRow> = fetch_all(
        conn,
        "SELECT g.partnership_id, false AS place, g.category, \
           CASE WHEN g.domestic_abuse THEN NULL ELSE coalesce(a.code, 'no-area') END AS area, \
           NULL::text AS lsoa, g.month, sum(g.n)::bigint AS n \
         FROM (SELECT i.partnership_id, i.category, i.domestic_abuse, i.area_id, \
                 (extract(month from i.month)::int + 8) % 12 + 1 AS month, sum(i.n) AS n \
               FROM incident_counts i WHERE i.partnership_id = ANY($1) AND i.status = 'ACTIVE' \
                 AND i.month BETWEEN $2 AND $3 GROUP BY 1, 2, 3, 4, 5 HAVING sum(i.n) <> 0) g \
         LEFT JOIN areas a ON a.id = g.area_id GROUP BY 1, 2, 3, 4, 5, 6 \
         UNION ALL \
         SELECT g.partnership_id, true, NULL, coalesce(a.code, 'no-area'), g.lsoa, g.quarter, \
           sum(g.n)::bigint \
         FROM (SELECT i.partnership_id, i.area_id, i.lsoa, \
                 ((extract(month from i.month)::int + 8) % 12) / 3 + 1 AS quarter, sum(i.n) AS n \
               FROM incident_place_counts i WHERE i.partnership_id = ANY($1) \
                 AND NOT i.domestic_abuse AND i.month BETWEEN $2 AND $3 \
               GROUP BY 1, 2, 3, 4 HAVING sum(i.n) <> 0) g \
         LEFT JOIN areas a ON a.id = g.area_id GROUP BY 1, 2, 3, 4, 5, 6",
        vec![
            partnerships.to_vec().into(),
            year.first_day().into(),
            year.last_day().into(),
        ],
    )
    .await?;
    let mut out: HashMap<Uuid, TableSetGroups> = HashMap::new();
    for r in rows {
        let e = out.entry(r.partnership_id).or_default();
        let month = u8::try_from(r.month).unwrap_or(0);
        if r.place {
            e.1.push(crate::domain::tableset::PlaceGroup {
                area: r.area.unwrap_or_default(),
                lsoa: r.lsoa,
                quarter: month,
                n: r.n,
            });
        } else {
            e.0.push(crate::domain::tableset::Group {
                category: r.category.unwrap_or_default(),
                area: r.area,
                month,
                n: r.n,
            });
        }
    }
    Ok(out)
}

/// Folds the monthly counts' rows (`incident_counts`, `incident_place_counts`) into one per key, which changes no
/// count but keeps statistics reading few rows as pushes append theirs. Several instances may
/// run it: one folds at a time and the others skip (`None`). Returns the rows removed.
pub async fn fold_counts<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
) -> AppResult<Option<i64>> {
    pg_row! {
        struct Folded {
            removed: Option<i64>,
        }
    }
    let txn = conn.begin().await.map_err(AppError::internal)?;
    let folded: Option<Folded> = fetch_optional(
        &txn,
        "SELECT CASE WHEN pg_try_advisory_xact_lock(7461005) \
           THEN csphub_fold_incident_counts() + csphub_fold_incident_place_counts() END AS removed",
        vec![],
    )
    .await?;
    txn.commit().await.map_err(AppError::internal)?;
    Ok(folded.and_then(|f| f.removed))
}

pg_row! {
    struct LsoaCount {
        lsoa: Option<String>,
        n: i64,
    }
}

/// ACTIVE records in the filter's period by the LSOA code each carries (either vintage, as
/// sent; none for a record without one): one scan, a row per code.
pub async fn counts_by_lsoa<C: ConnectionTrait>(
    conn: &C,
    filter: &IncidentFilter,
) -> AppResult<Vec<(Option<String>, i64)>> {
    let mut filter = filter.clone();
    filter.status = Some("ACTIVE".to_owned());
    let w = filter.where_on(false);
    let sql = format!(
        "SELECT i.lsoa, count(*) AS n FROM incidents i WHERE {} GROUP BY 1",
        w.sql
    );
    let rows: Vec<LsoaCount> = fetch_all(conn, &sql, w.values).await?;
    Ok(rows.into_iter().map(|r| (r.lsoa, r.n)).collect())
}

pg_row! {
    struct Window {
        first: Option<NaiveDate>,
        last: Option<NaiveDate>,
    }
}

/// The first and last days, between `from` and `to`, of a partnership's ACTIVE records that
/// carry an LSOA (the only ones figures by official area can place); none when it holds none
/// there. Read from the index on its days, within the range the statistics scan anyway.
pub async fn records_window<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Option<(NaiveDate, NaiveDate)>> {
    let rows: Vec<Window> = fetch_all(
        conn,
        "SELECT min(occurred_on) AS first, max(occurred_on) AS last FROM incidents \
         WHERE partnership_id = $1 AND status = 'ACTIVE' AND lsoa IS NOT NULL \
           AND occurred_on BETWEEN $2 AND $3",
        vec![partnership.into(), from.into(), to.into()],
    )
    .await?;
    Ok(rows.into_iter().next().and_then(|w| w.first.zip(w.last)))
}

pg_row! {
    #[derive(Debug, Clone)]
    pub struct AreaWindowCount {
        pub area: String,
        pub k: i64,
        pub n: i64,
    }
}

/// A partnership's records in each window by the code of their area (windows may not overlap;
/// records without an area and domestic-abuse related records are left out, as the table sets
/// leave them out of every area).
pub async fn area_window_counts<C: ConnectionTrait>(
    conn: &C,
    partnership: Uuid,
    windows: &[(NaiveDate, NaiveDate)],
) -> AppResult<Vec<AreaWindowCount>> {
    let (Some(first), Some(last)) = (
        windows.iter().map(|w| w.0).min(),
        windows.iter().map(|w| w.1).max(),
    ) else {
        return Ok(Vec::new());
    };
    let mut values: Vec<sea_orm::Value> = vec![partnership.into(), first.into(), last.into()];
    let mut window_case = String::from("CASE");
    for (k, (from, to)) in windows.iter().enumerate() {
        let (from, to) = (
            crate::db::bind(&mut values, *from),
            crate::db::bind(&mut values, *to),
        );
        window_case.push_str(&format!(
            " WHEN i.occurred_on BETWEEN {from} AND {to} THEN {k}"
        ));
    }
    window_case.push_str(" END");
    let sql = format!(
        "SELECT a.code AS area, k, n FROM (SELECT i.area_id, ({window_case})::bigint AS k, count(*) AS n \
           FROM incidents i WHERE i.partnership_id = $1 AND i.status = 'ACTIVE' \
             AND i.occurred_on BETWEEN $2 AND $3 AND i.area_id IS NOT NULL AND NOT i.domestic_abuse \
           GROUP BY 1, 2) c JOIN areas a ON a.id = c.area_id WHERE k IS NOT NULL"
    );
    fetch_all(conn, &sql, values).await
}
