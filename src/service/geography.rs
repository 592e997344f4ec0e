//! Statistics by official area (issue 30): a partnership's records counted in a district's
//! LSOAs, MSOAs or wards of any vintage, whichever LSOA vintage each record carries, with the
//! areas' populations, rates per 1,000 residents and deprivation.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_graphql::SimpleObject;
use chrono::Datelike;
use sea_orm::ConnectionTrait;

use super::report::PeriodRange;
use crate::db;
use crate::db::incident::IncidentFilter;
use crate::domain::geography::{Apportioned, apportion, rate_per_1000};
use crate::domain::stats::Period;
use crate::error::AppError;

/// One official area's figures.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AreaFigure {
    /// The area's ONS code.
    pub code: String,
    /// The area's ONS name.
    pub name: String,
    /// ACTIVE records in the area in the period, to two decimal places: a record whose LSOA
    /// the 2011-to-2021 lookup splits among several counts in each by its share of their
    /// population (docs/geography.md), so a count may have a fraction.
    pub count: f64,
    /// The count in the compared period; null without `compareWith`.
    pub previous_count: Option<f64>,
    /// Change on the compared period, one decimal place; null without `compareWith` or when
    /// the previous count is 0.
    pub change_percent: Option<f64>,
    /// Residents (the estimates of `populationYear`): the area's LSOAs' together; null when
    /// any of them has no population held.
    pub population: Option<i64>,
    /// `count` per 1,000 residents, two decimal places; null without a population.
    pub rate_per_1000: Option<f64>,
    /// The rate of the compared period (with the same population); null without one.
    pub previous_rate_per_1000: Option<f64>,
    /// For an LSOA: its decile of the Index of Multiple Deprivation (`deprivationEdition`;
    /// 1 is the most deprived tenth of England's LSOAs); null for other kinds or when none is
    /// held.
    pub deprivation_decile: Option<i32>,
    /// For an LSOA: its rank of the Index of Multiple Deprivation (1 is the most deprived).
    pub deprivation_rank: Option<i64>,
}

/// A partnership's records in a district's official areas.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AreaStatistics {
    /// The district's ONS code.
    pub district: String,
    /// The areas' vintage, as asked.
    pub vintage: i32,
    /// The vintage of the LSOAs the areas are made of (2011 or 2021): every record is counted
    /// in LSOAs of this vintage, through the lookup when it carries the other.
    pub lsoa_vintage: Option<i32>,
    /// The days counted.
    pub period: PeriodRange,
    /// The days of the compared period; null without `compareWith`.
    pub compared_with: Option<PeriodRange>,
    /// The year of the population estimates the rates use: the latest held at or before the
    /// middle of the period, or the earliest held when none is; null when none is held.
    pub population_year: Option<i32>,
    /// The edition of the English Indices of Deprivation the deciles come from: the latest
    /// held for the LSOA vintage; null when none is held.
    pub deprivation_edition: Option<i32>,
    /// Every area of the kind and vintage in the district, by code, with a count of 0 where
    /// no record lies.
    pub rows: Vec<AreaFigure>,
    /// All the district's areas together: what `rows` add up to for LSOAs and wards, which
    /// tile the district (each figure is rounded on its own, so the rounded rows may differ
    /// from it by a few hundredths).
    pub total: AreaFigure,
    /// Records, or shares of them, in LSOAs outside the district's areas (two decimal
    /// places).
    pub outside: f64,
    /// Records whose LSOA no imported geography knows, or that carry no LSOA (placed only in
    /// a partnership's own area, or nowhere).
    pub unplaced: i64,
}

/// A district's ONS code as a request gives it, checked (BAD_USER_INPUT otherwise).
pub fn district_code(district: &str) -> Result<String, AppError> {
    crate::domain::incident::ons_code(district).ok_or_else(|| {
        AppError::BadUserInput(format!(
            "district '{district}' is not an ONS code such as E07000243"
        ))
    })
}

/// A figure to two decimal places.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Change on `before` in percent, one decimal place; none when it was 0.
pub(crate) fn change(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| ((now - before) / before * 1000.0).round() / 10.0)
}

/// A partnership's records counted in a district's areas of one kind and vintage, for some
/// periods: what `areaStatistics` and `hotspots` are built from.
pub struct Tally {
    /// Each area: code, name, and its LSOAs of `lsoa_vintage`, by area code.
    pub areas: Vec<(String, String, Vec<String>)>,
    /// The vintage of the LSOAs the areas are made of; none when no area has LSOAs.
    pub lsoa_vintage: Option<i32>,
    /// Every LSOA of the areas, by code.
    pub lsoas: Vec<String>,
    /// The records of each period asked, by LSOA of `lsoa_vintage`.
    pub counts: Vec<Apportioned>,
    /// Residents by LSOA, of `population_year`.
    pub population: HashMap<String, i64>,
    pub population_year: Option<i32>,
    /// The IMD's rank and decile by LSOA, of `deprivation_edition`.
    pub deprivation: HashMap<String, (i64, Option<i32>)>,
    pub deprivation_edition: Option<i32>,
}

impl Tally {
    /// The records of period `i` in these LSOAs.
    pub fn count(&self, i: usize, lsoas: &[String]) -> f64 {
        self.counts
            .get(i)
            .map_or(0.0, |a| lsoas.iter().filter_map(|l| a.by_code.get(l)).sum())
    }

    /// These LSOAs' residents together; none when any is not held (or there are none).
    pub fn population_of(&self, lsoas: &[String]) -> Option<i64> {
        if lsoas.is_empty() {
            return None;
        }
        lsoas.iter().map(|l| self.population.get(l).copied()).sum()
    }
}

/// A district's official areas of one kind and vintage, each with its LSOAs.
pub struct OfficialAreas {
    /// Name and LSOAs (of `target`) by area code.
    pub by_area: BTreeMap<String, (String, Vec<String>)>,
    /// The vintage most of the areas' LSOAs are of (a lookup gives one); none when no area
    /// has LSOAs.
    pub lsoa_vintage: Option<i32>,
    /// `lsoa_vintage`, or 2021.
    pub target: i32,
    /// Every LSOA of the areas, as a set and sorted.
    pub targets: HashSet<String>,
    pub lsoas: Vec<String>,
}

/// The district's areas of `kind` and `vintage` with their LSOAs. NOT_FOUND when none is held.
pub async fn official_areas<C: ConnectionTrait>(
    conn: &C,
    district: &str,
    kind: &str,
    vintage: i32,
) -> Result<OfficialAreas, AppError> {
    let rows = db::geography::areas_with_lsoas(conn, district, kind, vintage).await?;
    if rows.is_empty() {
        return Err(AppError::NotFound(format!(
            "no {kind} of {vintage} is held for district {district}: import its geography (csphub import geography)"
        )));
    }
    let lsoa_vintage = rows
        .iter()
        .filter_map(|a| a.lsoa_vintage)
        .max_by_key(|v| rows.iter().filter(|a| a.lsoa_vintage == Some(*v)).count());
    let target = lsoa_vintage.unwrap_or(2021);
    let mut by_area: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for a in &rows {
        let e = by_area
            .entry(a.area.clone())
            .or_insert_with(|| (a.name.clone(), Vec::new()));
        if let (Some(l), Some(v)) = (&a.lsoa, a.lsoa_vintage)
            && v == target
        {
            e.1.push(l.clone());
        }
    }
    let targets: HashSet<String> = by_area.values().flat_map(|(_, l)| l.clone()).collect();
    let mut lsoas: Vec<String> = targets.iter().cloned().collect();
    lsoas.sort_unstable();
    Ok(OfficialAreas {
        by_area,
        lsoa_vintage,
        target,
        targets,
        lsoas,
    })
}

/// Counts the records of `filter` (its partnership and other filters; its period is replaced)
/// in each of `periods`, in the district's areas of `kind` (`lsoa`, `msoa`, `ward`) and
/// `vintage`. The first period's middle picks the population year. NOT_FOUND when the
/// district's areas of that kind and vintage are not held.
pub async fn tally<C: ConnectionTrait>(
    conn: &C,
    filter: &IncidentFilter,
    district: &str,
    kind: &str,
    vintage: i32,
    periods: &[Period],
) -> Result<Tally, AppError> {
    // Plans for these values: a generic plan for a prepared statement guesses a few thousand
    // rows and scans an index for a whole year (as for incidentStats). In the caller's
    // transaction, so it ends with it.
    conn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
        .await
        .map_err(AppError::internal)?;
    let OfficialAreas {
        by_area,
        lsoa_vintage,
        target,
        targets,
        lsoas,
    } = official_areas(conn, district, kind, vintage).await?;

    // One scan per distinct period: a financial year's previous period is the same year a
    // year earlier.
    let mut raw: Vec<Vec<(Option<String>, i64)>> = Vec::new();
    for (i, p) in periods.iter().enumerate() {
        if let Some(j) = periods[..i]
            .iter()
            .position(|q| q.from == p.from && q.to == p.to)
        {
            let same = raw[j].clone();
            raw.push(same);
            continue;
        }
        let mut f = filter.clone();
        f.from = Some(p.from);
        f.to = Some(p.to);
        raw.push(db::incident::counts_by_lsoa(conn, &f).await?);
    }
    // The lookup's rows for every code the records carry and every target.
    let mut codes: Vec<String> = raw
        .iter()
        .flatten()
        .filter_map(|(c, _)| c.clone())
        .chain(targets.iter().cloned())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let (pairs, known) = db::geography::lookup_of(conn, &codes, target).await?;
    let of_target: HashSet<String> = known.into_iter().collect();
    // Populations of every LSOA a share may fall on: the targets and the lookup's counterparts.
    let mut people_codes = lsoas.clone();
    people_codes.extend(pairs.iter().map(|p| {
        if target == 2011 {
            p.lsoa11.clone()
        } else {
            p.lsoa21.clone()
        }
    }));
    people_codes.sort_unstable();
    people_codes.dedup();
    let year = periods
        .first()
        .map_or(2021, |p| (p.from + (p.to - p.from) / 2).year());
    let people = db::geography::populations(conn, &people_codes, target, year).await?;
    let population_year = people.first().map(|p| p.year);
    let population: HashMap<String, i64> = people.into_iter().map(|p| (p.code, p.value)).collect();
    let imd = db::geography::deprivation(conn, &lsoas, target).await?;
    let deprivation_edition = imd.first().map(|d| d.year);
    let deprivation: HashMap<String, (i64, Option<i32>)> = imd
        .into_iter()
        .map(|d| (d.code, (d.value, d.decile)))
        .collect();
    let counts = raw
        .iter()
        .map(|c| apportion(c, target, &targets, &of_target, &pairs, &population))
        .collect();
    Ok(Tally {
        areas: by_area
            .into_iter()
            .map(|(code, (name, lsoas))| (code, name, lsoas))
            .collect(),
        lsoa_vintage,
        lsoas,
        counts,
        population,
        population_year,
        deprivation,
        deprivation_edition,
    })
}

/// The records of `filter` (its partnership and other filters; its period is replaced) in the
/// district's areas of `kind` (`lsoa`, `msoa`, `ward`) and `vintage`, in `period` and, when
/// given, in `compared`.
pub async fn area_statistics<C: ConnectionTrait>(
    conn: &C,
    filter: &IncidentFilter,
    district: &str,
    kind: &str,
    vintage: i32,
    period: Period,
    compared: Option<Period>,
) -> Result<AreaStatistics, AppError> {
    if let Some(c) = compared
        && c.to >= period.from
        && c.from <= period.to
    {
        return Err(AppError::BadUserInput(
            "the compared period overlaps the period (a period of more than a year against the same period last year): give a shorter period".to_owned(),
        ));
    }
    let periods: Vec<Period> = std::iter::once(period).chain(compared).collect();
    let t = tally(conn, filter, district, kind, vintage, &periods).await?;
    let figure = |code: String, name: String, lsoas: &[String]| -> AreaFigure {
        let n = t.count(0, lsoas);
        let p = compared.map(|_| t.count(1, lsoas));
        let pop = t.population_of(lsoas);
        let d = (kind == "lsoa").then(|| t.deprivation.get(&code)).flatten();
        AreaFigure {
            count: round2(n),
            previous_count: p.map(round2),
            change_percent: p.and_then(|p| change(n, p)),
            population: pop,
            rate_per_1000: rate_per_1000(n, pop),
            previous_rate_per_1000: p.and_then(|p| rate_per_1000(p, pop)),
            deprivation_decile: d.and_then(|d| d.1),
            deprivation_rank: d.map(|d| d.0),
            code,
            name,
        }
    };
    let rows: Vec<AreaFigure> = t
        .areas
        .iter()
        .map(|(code, name, lsoas)| figure(code.clone(), name.clone(), lsoas))
        .collect();
    let total = figure(district.to_owned(), "all areas".to_owned(), &t.lsoas);
    let now = t.counts.first().cloned().unwrap_or_default();
    Ok(AreaStatistics {
        district: district.to_owned(),
        vintage,
        lsoa_vintage: t.lsoa_vintage,
        period: period.into(),
        compared_with: compared.map(Into::into),
        population_year: t.population_year,
        deprivation_edition: t.deprivation_edition,
        rows,
        total,
        outside: round2(now.outside),
        unplaced: now.unplaced,
    })
}

/// The figures as a table for a spreadsheet: a row per area, then the district's total and
/// the records outside and unplaced; each row says the period, the population year and the
/// deprivation edition, so a pasted range keeps what it is.
pub fn to_csv(s: &AreaStatistics) -> String {
    use crate::domain::report::csv_field;
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let opt_i = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = String::from(
        "code,name,period_from,period_to,compared_from,compared_to,lsoa_vintage,count,previous_count,change_percent,population,population_year,rate_per_1000,previous_rate_per_1000,deprivation_decile,deprivation_rank,deprivation_edition\r\n",
    );
    let (from, to) = (s.period.from.0.to_string(), s.period.to.0.to_string());
    let (c_from, c_to) = s
        .compared_with
        .as_ref()
        .map_or((String::new(), String::new()), |c| {
            (c.from.0.to_string(), c.to.0.to_string())
        });
    let vintage = opt_i(s.lsoa_vintage.map(i64::from));
    let line = |out: &mut String, f: &AreaFigure| {
        let cells = [
            csv_field(&f.code),
            csv_field(&f.name),
            from.clone(),
            to.clone(),
            c_from.clone(),
            c_to.clone(),
            vintage.clone(),
            f.count.to_string(),
            opt(f.previous_count),
            opt(f.change_percent),
            opt_i(f.population),
            opt_i(s.population_year.map(i64::from)),
            opt(f.rate_per_1000),
            opt(f.previous_rate_per_1000),
            opt_i(f.deprivation_decile.map(i64::from)),
            opt_i(f.deprivation_rank),
            opt_i(s.deprivation_edition.map(i64::from)),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    for r in &s.rows {
        line(&mut out, r);
    }
    line(&mut out, &s.total);
    for (code, name, n) in [
        (
            "outside",
            "records in LSOAs outside the district's areas",
            s.outside,
        ),
        (
            "unplaced",
            "records in no LSOA the geography knows",
            s.unplaced as f64,
        ),
    ] {
        out.push_str(&format!(
            "{code},{name},{from},{to},{c_from},{c_to},{vintage},{n},,,,,,,,,\r\n"
        ));
    }
    out
}
