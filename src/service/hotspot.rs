//! Hotspots (issue 30): a district's areas ranked by rate, each change on the previous period
//! and on the same period last year put to an exact rate-ratio test, and the Getis-Ord Gi*
//! statistic over neighbouring areas; significance after the Benjamini-Hochberg correction
//! across the areas of the answer. Figures by deprivation decile beside them.

use std::collections::BTreeMap;

use async_graphql::{Enum, SimpleObject};
use chrono::Datelike;
use sea_orm::ConnectionTrait;

use super::geography::{Tally, change, round2, tally};
use super::report::PeriodRange;
use crate::db;
use crate::db::incident::IncidentFilter;
use crate::domain::geography::rate_per_1000;
use crate::domain::hotspot::{gi_star, neighbours, normal_upper_tail, rate_ratio_p_values};
use crate::domain::stats::Period;
use crate::error::AppError;

/// The false discovery rate the significance calls hold to (Benjamini-Hochberg).
pub const FALSE_DISCOVERY_RATE: f64 = 0.05;

/// What a change's test found.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeFinding {
    /// A rise beyond chance (its one-sided p-value passes the correction).
    SignificantRise,
    /// A fall beyond chance.
    SignificantFall,
    /// A change chance explains (or none).
    NoSignificantChange,
}

/// What the Gi* statistic found of an area and its neighbours.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SpatialFinding {
    /// High values cluster here (Gi* positive, significant after the correction).
    HotSpot,
    /// Low values cluster here (Gi* negative, significant).
    ColdSpot,
    /// Neither, or it could not be computed (no boundaries, or values that do not vary).
    NotSignificant,
}

/// A count against an earlier one, tested.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestedChange {
    /// The earlier period's count (two decimal places; shares of split LSOAs as for `count`).
    pub previous_count: f64,
    /// Change on it in records, one decimal place; null when it was 0. Raw counts: the test
    /// (not this) allows for periods of different lengths or partly held.
    pub change_percent: Option<f64>,
    /// The exact one-sided p-value of a rise (the conditional binomial test of two Poisson
    /// counts, exposures the periods' days within `recordsHeld`; counts rounded to whole
    /// records).
    pub p_rise: f64,
    /// The same of a fall.
    pub p_fall: f64,
    /// The call: the two-sided p-value (twice the smaller one-sided one) held to the false
    /// discovery rate across the answer's areas (Benjamini-Hochberg), the direction from the
    /// smaller side.
    pub finding: ChangeFinding,
}

/// One area of a hotspot list.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hotspot {
    /// The area's ONS code.
    pub code: String,
    /// The area's ONS name.
    pub name: String,
    /// ACTIVE records in the period (two decimal places: see `areaStatistics`).
    pub count: f64,
    /// Residents (`populationYear`); null when not held.
    pub population: Option<i64>,
    /// Records per 1,000 residents; null without a population.
    pub rate_per_1000: Option<f64>,
    /// Its place by rate, 1 the highest (by count where any area's population is missing);
    /// areas of equal rate share a place.
    pub rank: i32,
    /// Against the previous period of the same length.
    pub on_previous_period: TestedChange,
    /// Against the same period a year earlier.
    pub on_same_period_last_year: TestedChange,
    /// Getis-Ord Gi* (a z-score) of the area with its neighbours, on rates (on counts where
    /// any population is missing); null without a boundary or when values do not vary.
    pub gi_star: Option<f64>,
    /// Its two-sided p-value.
    pub gi_star_p: Option<f64>,
    /// The call, after the Benjamini-Hochberg correction across the answer's areas.
    pub spatial: SpatialFinding,
    /// The areas its boundary touches (queen contiguity), by code.
    pub neighbours: Vec<String>,
    /// For an LSOA: its IMD decile (1 the most deprived tenth).
    pub deprivation_decile: Option<i32>,
}

/// Records by deprivation decile of their LSOA.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecileFigure {
    /// The IMD decile, 1 the most deprived tenth of England's LSOAs.
    pub decile: i32,
    /// The district's LSOAs in it.
    pub lsoas: i32,
    /// Their records in the period (two decimal places).
    pub count: f64,
    /// Their residents; null when any is not held.
    pub population: Option<i64>,
    /// Records per 1,000 of them.
    pub rate_per_1000: Option<f64>,
}

/// A hotspot list.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hotspots {
    /// The district's ONS code.
    pub district: String,
    /// The areas' vintage, as asked.
    pub vintage: i32,
    /// The vintage of the LSOAs the areas are made of.
    pub lsoa_vintage: Option<i32>,
    /// The days counted.
    pub period: PeriodRange,
    /// The previous period of the same length.
    pub previous_period: PeriodRange,
    /// The same period a year earlier.
    pub same_period_last_year: PeriodRange,
    /// The months the partnership holds records with an LSOA of, within the periods compared:
    /// from the first day of the first such record's month to the last day of the last one's.
    /// The tests count only the days of each period within them, so a month whose records
    /// have not arrived yet is not a fall, nor the first month of data (or of records with an
    /// LSOA) a rise.
    pub records_held: Option<PeriodRange>,
    /// The year of the populations the rates use.
    pub population_year: Option<i32>,
    /// The edition of the Indices of Deprivation.
    pub deprivation_edition: Option<i32>,
    /// The false discovery rate the findings hold to (0.05).
    pub false_discovery_rate: f64,
    /// Whether Gi* was computed on rates (true) or counts (false: a population is missing).
    pub gi_star_on_rates: bool,
    /// Every area of the kind and vintage in the district, by rank (then code).
    pub areas: Vec<Hotspot>,
    /// The district's LSOAs (of `lsoaVintage`) by IMD decile, most deprived first; empty
    /// when no deprivation is held.
    pub by_deprivation_decile: Vec<DecileFigure>,
}

/// Which of these p-values are discoveries at `q` (Benjamini-Hochberg).
pub fn discoveries(p: &[Option<f64>], q: f64) -> Vec<bool> {
    let mut tested: Vec<(usize, f64)> = p
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    tested.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = tested.len() as f64;
    let cut = tested
        .iter()
        .enumerate()
        .filter(|(k, (_, p))| *p <= (*k as f64 + 1.0) / m * q)
        .map(|(k, _)| k + 1)
        .max()
        .unwrap_or(0);
    let mut out = vec![false; p.len()];
    for (i, _) in tested.iter().take(cut) {
        out[*i] = true;
    }
    out
}

/// A period's days within `held` (the first and last days the partnership holds records of):
/// the exposure of its records, since days before the first record or after the last one
/// (a month whose file has not arrived, a day to come) hold none for want of data, not for
/// want of crime. 0 for a period wholly outside.
fn days(p: Period, held: (chrono::NaiveDate, chrono::NaiveDate)) -> f64 {
    let from = p.from.max(held.0);
    let to = p.to.min(held.1);
    ((to - from).num_days() + 1).max(0) as f64
}

/// Each area's change on period `i`, tested, with the findings corrected across the areas:
/// one Benjamini-Hochberg run over the two-sided p-values (twice the smaller one-sided one),
/// the direction from the side that is smaller.
fn tested(
    t: &Tally,
    i: usize,
    now: Period,
    then: Period,
    held: (chrono::NaiveDate, chrono::NaiveDate),
) -> Vec<TestedChange> {
    let raw: Vec<(f64, f64, f64, f64)> = t
        .areas
        .iter()
        .map(|(_, _, lsoas)| {
            let (n, b) = (t.count(0, lsoas), t.count(i, lsoas));
            let (rise, fall) = rate_ratio_p_values(
                n.round() as u64,
                b.round() as u64,
                days(now, held),
                days(then, held),
            );
            (n, b, rise, fall)
        })
        .collect();
    let two_sided: Vec<Option<f64>> = raw
        .iter()
        .map(|r| Some((2.0 * r.2.min(r.3)).min(1.0)))
        .collect();
    let found = discoveries(&two_sided, FALSE_DISCOVERY_RATE);
    raw.iter()
        .enumerate()
        .map(|(k, (n, b, rise, fall))| TestedChange {
            previous_count: round2(*b),
            change_percent: change(*n, *b),
            p_rise: *rise,
            p_fall: *fall,
            finding: match (found[k], rise < fall) {
                (true, true) => ChangeFinding::SignificantRise,
                (true, false) => ChangeFinding::SignificantFall,
                (false, _) => ChangeFinding::NoSignificantChange,
            },
        })
        .collect()
}

/// The district's areas of `kind` and `vintage` as hotspots of the records of `filter` in
/// `period`.
pub async fn hotspots<C: ConnectionTrait>(
    conn: &C,
    filter: &IncidentFilter,
    district: &str,
    kind: &str,
    vintage: i32,
    period: Period,
) -> Result<Hotspots, AppError> {
    let (previous, last_year) = (period.previous(), period.year_earlier());
    if last_year.to >= period.from {
        return Err(AppError::BadUserInput(
            "hotspots compare a period with the same period a year earlier: give a period of at most a year"
                .to_owned(),
        ));
    }
    // Records arrive by the month (data.police.uk's all fall on the 1st): a month with any
    // record is held whole.
    let earliest = previous.from.min(last_year.from);
    let window = db::incident::records_window(conn, filter.partnership_id, earliest, period.to)
        .await?
        .map(|(first, last)| {
            let start = first.with_day(1).unwrap_or(first);
            let end = last
                .with_day(1)
                .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                .and_then(|d| d.pred_opt())
                .unwrap_or(last);
            (start, end)
        });
    let held_range = window.map(|(from, to)| PeriodRange {
        from: crate::scalar::Date(from),
        to: crate::scalar::Date(to),
    });
    let held = window.unwrap_or((period.from, period.to));
    let t = tally(
        conn,
        filter,
        district,
        kind,
        vintage,
        &[period, previous, last_year],
    )
    .await?;
    let codes: Vec<String> = t.areas.iter().map(|a| a.0.clone()).collect();
    let shapes = db::geography::boundaries_of(conn, kind, vintage, &codes).await?;
    let boundary_of: BTreeMap<&str, &serde_json::Value> =
        shapes.iter().map(|(c, b)| (c.as_str(), b)).collect();
    let bounds: Vec<Option<&serde_json::Value>> = codes
        .iter()
        .map(|c| boundary_of.get(c.as_str()).copied())
        .collect();
    let has_boundary: Vec<bool> = bounds.iter().map(Option::is_some).collect();
    // Matching boundary points is work for a blocking thread, not the request's executor.
    let owned: Vec<Option<serde_json::Value>> = bounds.iter().map(|b| b.cloned()).collect();
    let touching = tokio::task::spawn_blocking(move || {
        let refs: Vec<Option<&serde_json::Value>> = owned.iter().map(Option::as_ref).collect();
        neighbours(&refs)
    })
    .await
    .map_err(AppError::internal)?;

    let counts: Vec<f64> = t.areas.iter().map(|a| t.count(0, &a.2)).collect();
    let populations: Vec<Option<i64>> = t.areas.iter().map(|a| t.population_of(&a.2)).collect();
    let rates: Vec<Option<f64>> = counts
        .iter()
        .zip(&populations)
        .map(|(n, p)| rate_per_1000(*n, *p))
        .collect();
    let on_rates = rates.iter().all(Option::is_some);
    let values: Vec<f64> = if on_rates {
        rates.iter().map(|r| r.unwrap_or(0.0)).collect()
    } else {
        counts.clone()
    };
    // Gi* over the areas with a boundary only: one without is no one's neighbour.
    let with_boundary: Vec<usize> = (0..codes.len()).filter(|i| has_boundary[*i]).collect();
    let mut gi: Vec<Option<f64>> = vec![None; codes.len()];
    if !with_boundary.is_empty() {
        let index: BTreeMap<usize, usize> = with_boundary
            .iter()
            .enumerate()
            .map(|(k, i)| (*i, k))
            .collect();
        let sub_values: Vec<f64> = with_boundary.iter().map(|i| values[*i]).collect();
        let sub_neighbours: Vec<Vec<usize>> = with_boundary
            .iter()
            .map(|i| {
                touching[*i]
                    .iter()
                    .filter_map(|j| index.get(j).copied())
                    .collect()
            })
            .collect();
        for (k, z) in gi_star(&sub_values, &sub_neighbours)
            .into_iter()
            .enumerate()
        {
            gi[with_boundary[k]] = z;
        }
    }
    let gi_p: Vec<Option<f64>> = gi
        .iter()
        .map(|z| z.map(|z| (2.0 * normal_upper_tail(z.abs())).min(1.0)))
        .collect();
    let spatial = discoveries(&gi_p, FALSE_DISCOVERY_RATE);

    let on_previous = tested(&t, 1, period, previous, held);
    let on_last_year = tested(&t, 2, period, last_year, held);
    let key: Vec<f64> = if on_rates {
        values.clone()
    } else {
        counts.clone()
    };
    let mut areas: Vec<Hotspot> = t
        .areas
        .iter()
        .enumerate()
        .map(|(i, (code, name, _))| Hotspot {
            code: code.clone(),
            name: name.clone(),
            count: round2(counts[i]),
            population: populations[i],
            rate_per_1000: rates[i],
            rank: 1 + i32::try_from(key.iter().filter(|k| **k > key[i] + 1e-9).count())
                .unwrap_or(i32::MAX - 1),
            on_previous_period: on_previous[i].clone(),
            on_same_period_last_year: on_last_year[i].clone(),
            gi_star: gi[i].map(|z| (z * 1000.0).round() / 1000.0),
            gi_star_p: gi_p[i],
            spatial: match (spatial[i], gi[i]) {
                (true, Some(z)) if z > 0.0 => SpatialFinding::HotSpot,
                (true, Some(_)) => SpatialFinding::ColdSpot,
                _ => SpatialFinding::NotSignificant,
            },
            neighbours: touching[i].iter().map(|j| codes[*j].clone()).collect(),
            deprivation_decile: (kind == "lsoa")
                .then(|| t.deprivation.get(code).and_then(|d| d.1))
                .flatten(),
        })
        .collect();
    areas.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.code.cmp(&b.code)));

    let mut deciles: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for l in &t.lsoas {
        if let Some((_, Some(d))) = t.deprivation.get(l) {
            deciles.entry(*d).or_default().push(l.clone());
        }
    }
    let by_deprivation_decile = deciles
        .into_iter()
        .map(|(decile, lsoas)| {
            let n = t.count(0, &lsoas);
            let pop = t.population_of(&lsoas);
            DecileFigure {
                decile,
                lsoas: i32::try_from(lsoas.len()).unwrap_or(i32::MAX),
                count: round2(n),
                population: pop,
                rate_per_1000: rate_per_1000(n, pop),
            }
        })
        .collect();
    Ok(Hotspots {
        district: district.to_owned(),
        vintage,
        lsoa_vintage: t.lsoa_vintage,
        period: period.into(),
        previous_period: previous.into(),
        same_period_last_year: last_year.into(),
        records_held: held_range,
        population_year: t.population_year,
        deprivation_edition: t.deprivation_edition,
        false_discovery_rate: FALSE_DISCOVERY_RATE,
        gi_star_on_rates: on_rates,
        areas,
        by_deprivation_decile,
    })
}

/// The list as a table for a spreadsheet: a row per area by rank, each saying the period and
/// the population year.
pub fn to_csv(h: &Hotspots) -> String {
    use crate::domain::report::csv_field;
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let opt_i = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let finding = |f: ChangeFinding| match f {
        ChangeFinding::SignificantRise => "SIGNIFICANT_RISE",
        ChangeFinding::SignificantFall => "SIGNIFICANT_FALL",
        ChangeFinding::NoSignificantChange => "NO_SIGNIFICANT_CHANGE",
    };
    let mut out = String::from(
        "code,name,period_from,period_to,count,population,population_year,rate_per_1000,rank,previous_period_count,previous_period_change_percent,previous_period_p_rise,previous_period_p_fall,previous_period_finding,last_year_count,last_year_change_percent,last_year_p_rise,last_year_p_fall,last_year_finding,gi_star,gi_star_p,spatial,neighbours,deprivation_decile\r\n",
    );
    let (from, to) = (h.period.from.0.to_string(), h.period.to.0.to_string());
    for a in &h.areas {
        let (p, y) = (&a.on_previous_period, &a.on_same_period_last_year);
        let cells = [
            csv_field(&a.code),
            csv_field(&a.name),
            from.clone(),
            to.clone(),
            a.count.to_string(),
            opt_i(a.population),
            opt_i(h.population_year.map(i64::from)),
            opt(a.rate_per_1000),
            a.rank.to_string(),
            p.previous_count.to_string(),
            opt(p.change_percent),
            p.p_rise.to_string(),
            p.p_fall.to_string(),
            finding(p.finding).to_owned(),
            y.previous_count.to_string(),
            opt(y.change_percent),
            y.p_rise.to_string(),
            y.p_fall.to_string(),
            finding(y.finding).to_owned(),
            opt(a.gi_star),
            opt(a.gi_star_p),
            match a.spatial {
                SpatialFinding::HotSpot => "HOT_SPOT",
                SpatialFinding::ColdSpot => "COLD_SPOT",
                SpatialFinding::NotSignificant => "NOT_SIGNIFICANT",
            }
            .to_owned(),
            csv_field(&a.neighbours.join(" ")),
            opt_i(a.deprivation_decile.map(i64::from)),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benjamini_hochberg_keeps_the_rate_of_false_discoveries() {
        // m = 5 tested, q = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05 by rank. The three
        // smallest pass theirs; 0.2 and 0.5 do not (an untested area is no discovery).
        let p = [
            Some(0.5),
            Some(0.015),
            Some(0.025),
            Some(0.009),
            None,
            Some(0.2),
        ];
        assert_eq!(
            discoveries(&p, 0.05),
            vec![false, true, true, true, false, false]
        );
        assert_eq!(
            discoveries(&[Some(0.2), Some(0.3)], 0.05),
            vec![false, false]
        );
        assert_eq!(discoveries(&[], 0.05), Vec::<bool>::new());
    }
}
