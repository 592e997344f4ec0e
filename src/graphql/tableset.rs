//! The PCC's statistics: every figure is a cell of the partnership's protected table set for
//! the financial year (`domain::tableset`), so no two answers can be set against each other.

use crate::scalar::Date;
use std::collections::BTreeMap;

use chrono::Datelike;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::incident::{IncidentFilterInput, IncidentStats, StatsComparison, StatsRow};
use crate::db::incident::Dimension;
use crate::domain::period::FinancialYear;
use crate::domain::stats::{Period, change_percent};
use crate::domain::tableset::{AreaKey, Cell, Figure, TableSet, UNITS, Unit, compared_unit};
use crate::error::AppError;
use crate::service::report::table_set;

/// What the PCC asked for, checked: the period unit, one category or all, one area or all or
/// domestic abuse, and the grouping.
struct Ask {
    year: FinancialYear,
    unit: Unit,
    category: Option<String>,
    area: AreaKey,
    dims: Vec<Dimension>,
}

fn check(
    filter: &IncidentFilterInput,
    period: Period,
    dims: &[Dimension],
) -> Result<Ask, AppError> {
    let refuse = |what: &str| {
        Err(AppError::BadUserInput(format!(
            "the PCC's figures are cells of one protected table (category by area by period): {what}"
        )))
    };
    if !filter.source_agencies.is_empty()
        || filter.alcohol_related.is_some()
        || filter.youth_related.is_some()
        || filter.hate_strand.is_some()
        || filter.status.is_some()
        || filter.domestic_abuse == Some(false)
    {
        return refuse(
            "filter by partnership, period, one category, one area or domesticAbuse: true only",
        );
    }
    if filter.categories.len() > 1 || filter.areas.len() > 1 {
        return refuse("name at most one category and one area (a sum of several is not a cell)");
    }
    // An allow list: a dimension added later is refused to the PCC until its cells are in the set.
    if !dims.iter().all(|d| {
        matches!(
            d,
            Dimension::Category
                | Dimension::Area
                | Dimension::Month
                | Dimension::Quarter
                | Dimension::FinancialYear
        )
    }) {
        return refuse("group by category, area, month, quarter or financial year only");
    }
    let by_area = dims.contains(&Dimension::Area) || !filter.areas.is_empty();
    if filter.domestic_abuse == Some(true) && by_area {
        return Err(AppError::Forbidden(
            "domestic abuse is never broken down by area for the PCC".to_owned(),
        ));
    }
    let (year, unit) = Unit::of_days(period.from, period.to)
        .ok_or_else(|| AppError::BadUserInput(UNITS.to_owned()))?;
    let area = match (filter.domestic_abuse, filter.areas.first()) {
        (Some(true), _) => AreaKey::DomesticAbuse,
        (_, Some(a)) => AreaKey::Area(a.clone()),
        _ => AreaKey::All,
    };
    Ok(Ask {
        year,
        unit,
        category: filter.categories.first().cloned(),
        area,
        dims: dims.to_vec(),
    })
}

/// How fine a time dimension is (months finest).
fn fineness(d: Dimension) -> Option<u8> {
    match d {
        Dimension::Month => Some(0),
        Dimension::Quarter => Some(1),
        Dimension::FinancialYear => Some(3),
        _ => None,
    }
}

fn unit_fineness(u: Unit) -> u8 {
    match u {
        Unit::Month(_) => 0,
        Unit::Quarter(_) => 1,
        Unit::Half(_) => 2,
        Unit::Year => 3,
    }
}

/// The units of the rows: those of the finest time dimension asked for within the unit, or the
/// unit itself.
fn row_units(unit: Unit, dims: &[Dimension]) -> Vec<Unit> {
    let finest = dims.iter().filter_map(|d| fineness(*d)).min();
    match finest {
        Some(f) if f < unit_fineness(unit) => {
            let months: Vec<u8> = unit.months().collect();
            if f == 0 {
                months.into_iter().map(Unit::Month).collect()
            } else {
                let mut q: Vec<u8> = months.iter().map(|m| (m - 1) / 3 + 1).collect();
                q.dedup();
                q.into_iter().map(Unit::Quarter).collect()
            }
        }
        _ => vec![unit],
    }
}

/// Figures keyed by the grouped values in the order of the dimensions.
type Keyed = Vec<(Vec<String>, Figure)>;

/// The figures of an ask, keyed by the grouped values in the order of `dims`.
fn figures(set: &TableSet, ask: &Ask, unit: Unit) -> Keyed {
    let year = set.year;
    let categories: Vec<Option<String>> = if ask.dims.contains(&Dimension::Category) {
        match &ask.category {
            Some(c) => vec![Some(c.clone())],
            None => set.categories().into_iter().map(Some).collect(),
        }
    } else {
        vec![ask.category.clone()]
    };
    let areas: Vec<AreaKey> = if ask.dims.contains(&Dimension::Area) {
        match &ask.area {
            AreaKey::All => set.areas().into_iter().map(AreaKey::Area).collect(),
            other => vec![other.clone()],
        }
    } else {
        vec![ask.area.clone()]
    };
    let mut out = Vec::new();
    for u in row_units(unit, &ask.dims) {
        let (first, _) = u.days(year);
        for category in &categories {
            for area in &areas {
                let cell = Cell {
                    category: category.clone(),
                    area: area.clone(),
                    unit: u,
                };
                let figure = set.get(&cell);
                if figure.count == 0 {
                    continue;
                }
                let key = ask
                    .dims
                    .iter()
                    .map(|d| match d {
                        Dimension::Category => category.clone().unwrap_or_default(),
                        Dimension::Area => match area {
                            AreaKey::Area(a) => a.clone(),
                            _ => String::new(),
                        },
                        Dimension::Month => first.format("%Y-%m").to_string(),
                        Dimension::Quarter => {
                            let q = (first.month() + 8) % 12 / 3 + 1;
                            format!("{} Q{q}", FinancialYear::containing(first))
                        }
                        Dimension::FinancialYear => FinancialYear::containing(first).to_string(),
                        Dimension::SourceAgency | Dimension::AsbType | Dimension::Flag => {
                            String::new()
                        }
                    })
                    .collect();
                out.push((key, figure));
            }
        }
    }
    out
}

/// `incidentStats` for the PCC.
pub async fn pcc_stats(
    conn: &DatabaseTransaction,
    partnership: Uuid,
    filter: &IncidentFilterInput,
    period: Period,
    dims: &[Dimension],
    compare_with: Option<StatsComparison>,
) -> Result<IncidentStats, AppError> {
    let ask = check(filter, period, dims)?;
    let set = table_set(conn, partnership, ask.year).await?;
    let current = figures(&set, &ask, ask.unit);
    let total_cell = Cell {
        category: ask.category.clone(),
        area: ask.area.clone(),
        unit: ask.unit,
    };
    let total_now = set.get(&total_cell);
    let mut compared = None;
    let mut previous: Option<(Keyed, Figure)> = None;
    if let Some(how) = compare_with {
        let (year, unit) = compared_unit(ask.year, ask.unit, how.into());
        let other = if year == ask.year {
            set.clone()
        } else {
            table_set(conn, partnership, year).await?
        };
        let (from, to) = unit.days(year);
        compared = Some(super::incident::PeriodRange {
            from: Date(from),
            to: Date(to),
        });
        previous = Some((
            figures(&other, &ask, unit),
            other.get(&Cell {
                unit,
                ..total_cell.clone()
            }),
        ));
    }
    let mut groups: BTreeMap<Vec<String>, (Option<Figure>, Option<Figure>)> = BTreeMap::new();
    for (k, f) in current {
        groups.entry(k).or_default().0 = Some(f);
    }
    if let Some((rows, _)) = &previous {
        for (k, f) in rows {
            groups.entry(k.clone()).or_default().1 = Some(*f);
        }
    }
    let has_previous = previous.is_some();
    let row = |now: Option<Figure>, before: Option<Figure>| {
        let now = now.unwrap_or(Figure {
            count: 0,
            hidden: false,
        });
        let before = before.unwrap_or(Figure {
            count: 0,
            hidden: false,
        });
        StatsRow {
            count: now.shown(),
            suppressed: now.hidden,
            previous_count: if has_previous { before.shown() } else { None },
            previous_suppressed: has_previous && before.hidden,
            change_percent: match (has_previous, now.shown(), before.shown()) {
                (true, Some(n), Some(p)) => change_percent(n, p),
                _ => None,
            },
            ..Default::default()
        }
    };
    let rows = groups
        .into_iter()
        .map(|(k, (now, before))| {
            let mut r = row(now, before);
            for (d, value) in ask.dims.iter().zip(k) {
                let v = Some(value);
                match d {
                    Dimension::Category => r.category = v,
                    Dimension::Area => r.area = v,
                    Dimension::Month => r.month = v,
                    Dimension::Quarter => r.quarter = v,
                    Dimension::FinancialYear => r.financial_year = v,
                    Dimension::SourceAgency | Dimension::AsbType | Dimension::Flag => {}
                }
            }
            r
        })
        .collect();
    let total = row(Some(total_now), previous.as_ref().map(|p| p.1));
    let (from, to) = ask.unit.days(ask.year);
    Ok(IncidentStats {
        period: super::incident::PeriodRange {
            from: Date(from),
            to: Date(to),
        },
        compared_with: compared,
        rows,
        total,
        suppression_applied: true,
        excludes_domestic_abuse: matches!(ask.area, AreaKey::Area(_))
            || ask.dims.contains(&Dimension::Area),
    })
}
