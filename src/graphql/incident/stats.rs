//! Incident statistics and data freshness: their GraphQL types, and the counting and
//! suppression behind `incidentStats`.

use super::*;
pub use crate::service::report::PeriodRange;

/// A dimension statistics can be grouped by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum StatsDimension {
    /// By CRIME_CATEGORY code (`category`).
    Category,
    /// By area code (`area`), with `no-area` for records without a location. The PCC's area
    /// figures leave out domestic abuse (`excludesDomesticAbuse`).
    Area,
    /// By calendar month of occurrence, Europe/London (`month`, such as 2015-04).
    Month,
    /// By financial quarter (`quarter`, such as 2015/16 Q1; Q1 is April to June).
    Quarter,
    /// By financial year, April to March (`financialYear`, such as 2015/16).
    FinancialYear,
    /// By the slug of the agency that pushed the records (`sourceAgency`). Not for the PCC.
    SourceAgency,
    /// The NSIR qualifier of anti-social behaviour: personal, nuisance, environmental, or
    /// not-recorded where the record does not say; not-applicable for every other category.
    AsbType,
    /// domestic-abuse, alcohol-related, youth-related, drug-class-a..c, hate-<strand>. A record
    /// counts once under each flag it carries.
    Flag,
}

impl From<StatsDimension> for Dimension {
    fn from(d: StatsDimension) -> Self {
        match d {
            StatsDimension::Category => Dimension::Category,
            StatsDimension::Area => Dimension::Area,
            StatsDimension::Month => Dimension::Month,
            StatsDimension::Quarter => Dimension::Quarter,
            StatsDimension::FinancialYear => Dimension::FinancialYear,
            StatsDimension::SourceAgency => Dimension::SourceAgency,
            StatsDimension::AsbType => Dimension::AsbType,
            StatsDimension::Flag => Dimension::Flag,
        }
    }
}

/// The earlier period `incidentStats` counts as well, for `previousCount` and `changePercent`.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum StatsComparison {
    /// The previous month, quarter or financial year (or as many days just before).
    PreviousPeriod,
    /// The same period a year earlier.
    SamePeriodLastYear,
}

impl From<StatsComparison> for crate::domain::tableset::Comparison {
    fn from(c: StatsComparison) -> Self {
        match c {
            StatsComparison::PreviousPeriod => Self::PreviousPeriod,
            StatsComparison::SamePeriodLastYear => Self::SamePeriodLastYear,
        }
    }
}

/// One group of the statistics. `count` is null when suppressed.
#[derive(SimpleObject, Clone, Default)]
pub struct StatsRow {
    /// The group's CRIME_CATEGORY code; null unless grouped by CATEGORY.
    pub category: Option<String>,
    /// The group's area code, or `no-area` for records without a location; null unless grouped
    /// by AREA.
    pub area: Option<String>,
    /// e.g. 2015-04
    pub month: Option<String>,
    /// e.g. 2015/16 Q1
    pub quarter: Option<String>,
    /// The group's financial year, such as 2015/16; null unless grouped by FINANCIAL_YEAR.
    pub financial_year: Option<String>,
    /// The slug of the agency that pushed the group's records; null unless grouped by
    /// SOURCE_AGENCY.
    pub source_agency: Option<String>,
    /// personal, nuisance, environmental, not-recorded or not-applicable (ASB_TYPE).
    pub asb_type: Option<String>,
    /// The group's flag: `domestic-abuse`, `alcohol-related`, `youth-related`, `drug-class-a`
    /// (`-b`, `-c`) or `hate-` and a strand, such as `hate-race`; null unless grouped by FLAG.
    pub flag: Option<String>,
    /// ACTIVE incidents in the group in the period; null when withheld (`suppressed`).
    pub count: Option<i64>,
    /// True when `count` is withheld to protect small numbers: the PCC's figures only, never
    /// a partner's.
    pub suppressed: bool,
    /// The count in the compared period; null without `compareWith`, or when withheld
    /// (`previousSuppressed`).
    pub previous_count: Option<i64>,
    /// True when `previousCount` is withheld to protect small numbers (the PCC's figures only).
    pub previous_suppressed: bool,
    /// Change on the compared period, one decimal place; null when either count is suppressed
    /// or the previous count is 0.
    pub change_percent: Option<f64>,
}

/// Counts of ACTIVE incidents.
#[derive(SimpleObject, Clone)]
pub struct IncidentStats {
    /// The days counted.
    pub period: PeriodRange,
    /// The days of the compared period; null without `compareWith`.
    pub compared_with: Option<PeriodRange>,
    /// One row per group of the `groupBy` values with records in the period or the compared
    /// one, sorted by those values; a group without a row has a count of 0.
    pub rows: Vec<StatsRow>,
    /// All matching records, each counted once.
    pub total: StatsRow,
    /// True when small numbers were withheld (the PCC's figures).
    pub suppression_applied: bool,
    /// True when domestic-abuse flagged records were left out because the figures are broken
    /// down by area for the PCC.
    pub excludes_domestic_abuse: bool,
}

/// Per agency and month of occurrence: how many records are held and when the latest arrived.
#[derive(SimpleObject, Clone)]
pub struct MonthFreshness {
    /// e.g. 2015-04
    pub month: String,
    /// The agency's records of the month, of any status. Null for the PCC: per-agency counts
    /// are not cells of its protected table set.
    pub records: Option<i64>,
    /// True for the PCC (see `records`).
    pub suppressed: bool,
    /// Whether the agency's records for the month are held at all (false: a missing month).
    pub has_records: bool,
    /// When a push last created or changed one of the month's records (RFC 3339, UTC); null
    /// when none are held. Pushing records again unchanged does not move it; a record since
    /// moved to another month or removed still counts as received in this one.
    pub last_received_at: Option<crate::scalar::Timestamp>,
}

/// One agency's pushes into the partnership and its records, month by month.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AgencyFreshness {
    #[graphql(skip)]
    pub agency: String,
    /// The agency's latest push into this partnership, accepted records or not.
    pub last_push_at: Option<crate::scalar::Timestamp>,
    /// How many pushes the agency has made with records for this partnership, ever (not only
    /// in the months asked for), accepted records or not.
    pub pushes: i64,
    /// Every month of the range, months with no records included.
    pub months: Vec<MonthFreshness>,
}

#[async_graphql::ComplexObject]
impl AgencyFreshness {
    /// The agency (slug, name, kind).
    #[graphql(complexity = "child_complexity")]
    async fn agency(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<std::sync::Arc<crate::graphql::area::Agency>> {
        crate::graphql::incident::agency(ctx, &self.agency).await
    }
}

/// Whether a partnership's records are up to date: per agency, its pushes and the records
/// held for each month of occurrence.
#[derive(SimpleObject, Clone)]
pub struct DataFreshness {
    /// The partnership's slug.
    pub partnership: String,
    /// The first month covered, as `2015-04`.
    pub from_month: String,
    /// The last month covered, included, as `2015-04`.
    pub to_month: String,
    /// Every police, fire and council agency of the partnership, by slug, whether it has
    /// pushed or not.
    pub agencies: Vec<AgencyFreshness>,
}

pub(super) struct Counted {
    cells: Vec<(Vec<String>, i64)>,
    total: i64,
}

pub(super) async fn counts(
    conn: &impl ConnectionTrait,
    filter: &IncidentFilter,
    period: Period,
    dims: &[Dimension],
) -> Result<Counted, AppError> {
    let mut f = filter.clone();
    f.from = Some(period.from);
    f.to = Some(period.to);
    if dims.is_empty() || dims.contains(&Dimension::Flag) {
        // Flags overlap (a record may carry several): the total needs its own count.
        let cells = if dims.is_empty() {
            Vec::new()
        } else {
            db::incident::grouped_counts(conn, &f, dims).await?
        };
        let total = db::incident::grouped_counts(conn, &f, &[])
            .await?
            .first()
            .map_or(0, |(_, n)| *n);
        return Ok(Counted { cells, total });
    }
    // Every other grouping partitions the records: the total is the sum of the groups, so one
    // scan serves both.
    let cells = db::incident::grouped_counts(conn, &f, dims).await?;
    let total = cells.iter().map(|(_, n)| n).sum();
    Ok(Counted { cells, total })
}

/// Joins current and previous counts by group and applies suppression for non-exact callers.
pub(super) fn assemble(
    dims: &[Dimension],
    additive: &[bool],
    current: Counted,
    previous: Option<Counted>,
    exact: bool,
) -> (Vec<StatsRow>, StatsRow) {
    let mut groups: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
    for (k, n) in &current.cells {
        groups.entry(k.clone()).or_default().0 = *n;
    }
    if let Some(prev) = &previous {
        for (k, n) in &prev.cells {
            groups.entry(k.clone()).or_default().1 = *n;
        }
    }
    let keys: Vec<Vec<String>> = groups.keys().cloned().collect();
    let now: Vec<i64> = groups.values().map(|v| v.0).collect();
    let before: Vec<i64> = groups.values().map(|v| v.1).collect();
    let small = |n: i64| !exact && (1..=SMALL_COUNT_MAX).contains(&n);
    let (hide_now, hide_before) = if exact {
        (vec![false; now.len()], vec![false; before.len()])
    } else {
        (
            suppress(&keys, &now, additive),
            suppress(&keys, &before, additive),
        )
    };
    let has_previous = previous.is_some();
    let row = |n: i64, hidden: bool, p: i64, p_hidden: bool| StatsRow {
        count: (!hidden).then_some(n),
        suppressed: hidden,
        previous_count: (has_previous && !p_hidden).then_some(p),
        previous_suppressed: has_previous && p_hidden,
        change_percent: if has_previous && !hidden && !p_hidden {
            change_percent(n, p)
        } else {
            None
        },
        ..Default::default()
    };
    let rows = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut r = row(now[i], hide_now[i], before[i], hide_before[i]);
            for (d, value) in dims.iter().zip(k) {
                let v = Some(value.clone());
                match d {
                    Dimension::Category => r.category = v,
                    Dimension::Area => r.area = v,
                    Dimension::Month => r.month = v,
                    Dimension::Quarter => r.quarter = v,
                    Dimension::FinancialYear => r.financial_year = v,
                    Dimension::SourceAgency => r.source_agency = v,
                    Dimension::AsbType => r.asb_type = v,
                    Dimension::Flag => r.flag = v,
                }
            }
            r
        })
        .collect();
    let prev_total = previous.as_ref().map_or(0, |p| p.total);
    let total = row(
        current.total,
        small(current.total),
        prev_total,
        small(prev_total),
    );
    (rows, total)
}
