//! The PCC's figures by official area (issue 30): a district's LSOAs, MSOAs or wards, each
//! figure a sum of whole cells of the partnership's protected table set (its LSOA cells, as
//! the records carry them), withheld when any of them is. So the PCC learns nothing by area
//! that the set does not already show: small counts stay withheld, and no two answers can be
//! set against each other. A record whose LSOA the ONS's lookup splits among several of the
//! asked vintage cannot land whole in any: it counts as unplaced.

use std::collections::HashMap;

use async_graphql::SimpleObject;
use chrono::Datelike;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::geography::{OfficialAreas, change, official_areas, round2};
use super::report::{PeriodRange, table_set};
use crate::db;
use crate::domain::geography::{Placed, place_exactly, rate_per_1000};
use crate::domain::stats::Period;
use crate::domain::tableset::{
    AreaKey, Cell, Comparison, Figure, LSOA_UNITS, TableSet, UNITS, Unit, compared_unit,
};
use crate::error::AppError;

/// A count that may be withheld.
#[derive(SimpleObject, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectedCount {
    /// The count; null when withheld (`suppressed`).
    pub count: Option<i64>,
    /// True when withheld: a small count, or a sum with a withheld cell in it.
    pub suppressed: bool,
}

impl From<Figure> for ProtectedCount {
    fn from(f: Figure) -> Self {
        Self {
            count: f.shown(),
            suppressed: f.hidden,
        }
    }
}

/// One official area's figures for the PCC.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectedAreaFigure {
    /// The area's ONS code.
    pub code: String,
    /// The area's ONS name.
    pub name: String,
    /// ACTIVE records in the area in the period (domestic-abuse related records left out:
    /// they are never located); null when withheld.
    pub count: Option<i64>,
    /// The count in the compared period; null without `compareWith` or when withheld.
    pub previous_count: Option<i64>,
    /// Change on the compared period, one decimal place; null when either count is null or
    /// the previous count is 0.
    pub change_percent: Option<f64>,
    /// True when the count or the previous count is withheld.
    pub suppressed: bool,
    /// Residents (the estimates of `populationYear`); null when any of the area's LSOAs has
    /// none held.
    pub population: Option<i64>,
    /// `count` per 1,000 residents, two decimal places; null when withheld or without a
    /// population.
    pub rate_per_1000: Option<f64>,
    /// The rate of the compared period (with the same population).
    pub previous_rate_per_1000: Option<f64>,
    /// For an LSOA: its decile of the Index of Multiple Deprivation (1 most deprived).
    pub deprivation_decile: Option<i32>,
}

/// The PCC's figures in a district's official areas of one kind and vintage.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectedAreaStatistics {
    /// The district's ONS code.
    pub district: String,
    /// The areas' vintage, as asked.
    pub vintage: i32,
    /// The vintage of the LSOAs the areas are made of.
    pub lsoa_vintage: Option<i32>,
    /// The days counted: one month, quarter, half or financial year.
    pub period: PeriodRange,
    /// The days of the compared period; null without `compareWith`.
    pub compared_with: Option<PeriodRange>,
    /// The year of the population estimates the rates use.
    pub population_year: Option<i32>,
    /// The edition of the English Indices of Deprivation the deciles come from.
    pub deprivation_edition: Option<i32>,
    /// Every area of the kind and vintage in the district, by code.
    pub rows: Vec<ProtectedAreaFigure>,
    /// All the district's areas together.
    pub total: ProtectedAreaFigure,
    /// Records in LSOAs outside the district's areas.
    pub outside: ProtectedCount,
    /// Records that cannot be placed whole in one area: without an LSOA, in an LSOA no
    /// imported geography knows, or in one the lookup splits among several of the vintage.
    pub unplaced: ProtectedCount,
    /// Records flagged as domestic abuse, never located finer than the partnership.
    pub domestic_abuse: ProtectedCount,
}

fn zero() -> Figure {
    Figure {
        count: 0,
        hidden: false,
    }
}

fn add(a: &mut Figure, b: Figure) {
    a.count += b.count;
    a.hidden |= b.hidden;
}

/// One unit's cells of the set, placed: by LSOA of the target vintage, outside, unplaced and
/// domestic abuse.
struct Placements {
    by_lsoa: HashMap<String, Figure>,
    outside: Figure,
    unplaced: Figure,
    domestic_abuse: Figure,
}

fn place(
    set: &TableSet,
    unit: Unit,
    category: &Option<String>,
    placed: &HashMap<String, Placed>,
) -> Placements {
    let cell = |area: AreaKey| {
        set.get(&Cell {
            category: category.clone(),
            area,
            unit,
        })
    };
    let mut out = Placements {
        by_lsoa: HashMap::new(),
        outside: zero(),
        unplaced: cell(AreaKey::NoLsoa),
        domestic_abuse: cell(AreaKey::DomesticAbuse),
    };
    if !set.has_lsoas() {
        // No record of the year carries an LSOA: every record not flagged is unplaced.
        let mut all = cell(AreaKey::All);
        let da = out.domestic_abuse;
        all.count -= da.count;
        all.hidden |= da.hidden;
        out.unplaced = all;
        return out;
    }
    for code in set.lsoas() {
        let f = cell(AreaKey::Lsoa(code.clone()));
        match placed.get(&code).unwrap_or(&Placed::Unplaced) {
            Placed::In(l) => add(out.by_lsoa.entry(l.clone()).or_insert_with(zero), f),
            Placed::Outside => add(&mut out.outside, f),
            Placed::Unplaced => add(&mut out.unplaced, f),
        }
    }
    out
}

/// The PCC's figures of a partnership in the district's areas of `kind` and `vintage` for a
/// period that is one unit of the table sets, for one category or all, compared (when asked)
/// with the unit before or the same unit a year earlier.
#[allow(clippy::too_many_arguments)]
pub async fn protected_area_statistics(
    conn: &DatabaseTransaction,
    partnership: Uuid,
    category: Option<String>,
    district: &str,
    kind: &str,
    vintage: i32,
    period: Period,
    compare: Option<Comparison>,
) -> Result<ProtectedAreaStatistics, AppError> {
    let (year, unit) = Unit::of_days(period.from, period.to)
        .ok_or_else(|| AppError::BadUserInput(UNITS.to_owned()))?;
    if matches!(unit, Unit::Month(_)) || category.is_some() {
        return Err(AppError::BadUserInput(LSOA_UNITS.to_owned()));
    }
    let OfficialAreas {
        by_area,
        lsoa_vintage,
        target,
        targets,
        lsoas,
    } = official_areas(conn, district, kind, vintage).await?;
    let set = table_set(conn, partnership, year).await?;
    let before = match compare {
        Some(how) => {
            let (y, u) = compared_unit(year, unit, how);
            let other = if y == year {
                set.clone()
            } else {
                table_set(conn, partnership, y).await?
            };
            Some((other, u, y))
        }
        None => None,
    };
    if set.lsoas_untrusted() || before.as_ref().is_some_and(|(s, _, _)| s.lsoas_untrusted()) {
        return Err(AppError::internal(anyhow::anyhow!(
            "the PCC's table set: the records by LSOA do not add up to the records by area"
        )));
    }
    let mut codes: Vec<String> = set.lsoas().into_iter().collect();
    if let Some((other, _, _)) = &before {
        codes.extend(other.lsoas());
    }
    codes.sort_unstable();
    codes.dedup();
    let (pairs, known) = db::geography::lookup_of(conn, &codes, target).await?;
    let known = known.into_iter().collect();
    let placed = place_exactly(&codes, target, &targets, &known, &pairs);
    let now = place(&set, unit, &category, &placed);
    let then = before
        .as_ref()
        .map(|(other, u, _)| place(other, *u, &category, &placed));

    let middle = period.from + (period.to - period.from) / 2;
    let people = db::geography::populations(conn, &lsoas, target, middle.year()).await?;
    let population_year = people.first().map(|p| p.year);
    let population: HashMap<String, i64> = people.into_iter().map(|p| (p.code, p.value)).collect();
    let imd = if kind == "lsoa" {
        db::geography::deprivation(conn, &lsoas, target).await?
    } else {
        Vec::new()
    };
    let deprivation_edition = imd.first().map(|d| d.year);
    let deciles: HashMap<String, Option<i32>> =
        imd.into_iter().map(|d| (d.code, d.decile)).collect();

    let sum = |p: &Placements, of: &[String]| {
        let mut f = zero();
        for l in of {
            if let Some(x) = p.by_lsoa.get(l) {
                add(&mut f, *x);
            }
        }
        f
    };
    let figure = |code: &str, name: &str, of: &[String]| -> ProtectedAreaFigure {
        let n = sum(&now, of);
        let p = then.as_ref().map(|t| sum(t, of));
        let pop = if of.is_empty() {
            None
        } else {
            of.iter().map(|l| population.get(l).copied()).sum()
        };
        let rate = |f: Figure| f.shown().and_then(|c| rate_per_1000(c as f64, pop));
        ProtectedAreaFigure {
            code: code.to_owned(),
            name: name.to_owned(),
            count: n.shown(),
            previous_count: p.and_then(Figure::shown),
            change_percent: match (n.shown(), p.and_then(Figure::shown)) {
                (Some(a), Some(b)) => change(a as f64, b as f64),
                _ => None,
            },
            suppressed: n.hidden || p.is_some_and(|p| p.hidden),
            population: pop,
            rate_per_1000: rate(n).map(round2),
            previous_rate_per_1000: p.and_then(rate).map(round2),
            deprivation_decile: (kind == "lsoa")
                .then(|| deciles.get(code).copied().flatten())
                .flatten(),
        }
    };
    let rows = by_area
        .iter()
        .map(|(code, (name, of))| figure(code, name, of))
        .collect();
    let total = figure(district, "all areas", &lsoas);
    Ok(ProtectedAreaStatistics {
        district: district.to_owned(),
        vintage,
        lsoa_vintage,
        period: period.into(),
        compared_with: before.map(|(_, u, y)| {
            let (from, to) = u.days(y);
            PeriodRange {
                from: crate::scalar::Date(from),
                to: crate::scalar::Date(to),
            }
        }),
        population_year,
        deprivation_edition,
        rows,
        total,
        outside: now.outside.into(),
        unplaced: now.unplaced.into(),
        domestic_abuse: now.domestic_abuse.into(),
    })
}
