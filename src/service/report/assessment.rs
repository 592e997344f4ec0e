//! The strategic assessment, computed from the records for a window and the one before it.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::indicator::{AssessedArea, AssessedIndicator, StrategicAssessment};
use super::table_sets;
use crate::db;
use crate::domain::indicator::{Figure, check_window, population_year, ranks, rate_per_thousand};
use crate::domain::stats::{Period, change_percent};
use crate::domain::tableset::{Comparison, UNITS, Unit, compared_unit, indicator_figure};
use crate::error::AppError;

/// The assessment of a partnership in scope for a window: as many days before it for partners,
/// the unit before for the PCC (whose windows are units of its table sets).
pub async fn assessment_for(
    conn: &sea_orm::DatabaseTransaction,
    target: &crate::auth::ScopedPartnership,
    from: NaiveDate,
    to: NaiveDate,
    exact: bool,
) -> Result<StrategicAssessment, AppError> {
    check_window(from, to)?;
    let window = Period::custom(from, to)?;
    let previous = if exact {
        // Any window of days compares with as many days just before it.
        let days = (to - from).num_days();
        let prev_to = from.pred_opt().unwrap_or(from);
        Period::custom(prev_to - chrono::Duration::days(days), prev_to)?
    } else {
        let (year, unit) =
            Unit::of_days(from, to).ok_or_else(|| AppError::BadUserInput(UNITS.to_owned()))?;
        let (year, unit) = compared_unit(year, unit, Comparison::PreviousPeriod);
        let (from, to) = unit.days(year);
        Period::custom(from, to)?
    };
    assess(conn, target.id, &target.slug, window, previous, exact).await
}

/// Builds the assessment from the records: one statement for every incident indicator of every
/// partnership of the county in both windows, one for external figures, one for populations.
pub async fn assess(
    conn: &sea_orm::DatabaseTransaction,
    partnership: Uuid,
    slug: &str,
    window: Period,
    previous: Period,
    exact: bool,
) -> Result<StrategicAssessment, AppError> {
    let county = db::indicator::county_of(conn, partnership).await?;
    let county_name = county
        .iter()
        .find(|c| c.id == partnership)
        .map(|c| c.county.clone())
        .unwrap_or_default();
    let ids: Vec<Uuid> = county.iter().map(|c| c.id).collect();
    let indicators = db::indicator::list(conn, partnership, None).await?;
    let definitions: Vec<(Uuid, crate::domain::indicator::Definition)> = indicators
        .iter()
        .filter(|i| i.kind == "INCIDENTS")
        .map(|i| (i.id, i.definition()))
        .collect();
    let external_ids: Vec<Uuid> = indicators
        .iter()
        .filter(|i| i.kind == "EXTERNAL")
        .map(|i| i.id)
        .collect();
    let windows = [(window.from, window.to), (previous.from, previous.to)];
    // (indicator, partnership, window) withheld from the PCC: a withheld cell, or a figure not
    // made of cells of its table set.
    let mut withheld: std::collections::HashSet<(Uuid, Uuid, i64)> =
        std::collections::HashSet::new();
    // The PCC's: this partnership's table set and unit of each window.
    let mut own_sets = Vec::new();
    let counts = if exact {
        db::indicator::window_counts(conn, &definitions, &ids, &windows).await?
    } else {
        let mut out = Vec::new();
        for (k, w) in [window, previous].into_iter().enumerate() {
            let k = i64::try_from(k).unwrap_or(0);
            let Some((year, unit)) = Unit::of_days(w.from, w.to) else {
                return Err(AppError::BadUserInput(UNITS.to_owned()));
            };
            let sets = table_sets(conn, &ids, year).await?;
            if let Some(set) = sets.get(&partnership) {
                own_sets.push((set.clone(), unit));
            }
            for (pid, set) in &sets {
                let all = set.get(&crate::domain::tableset::Cell {
                    category: None,
                    area: crate::domain::tableset::AreaKey::All,
                    unit,
                });
                if all.count == 0 {
                    continue;
                }
                out.push(db::indicator::WindowCount {
                    indicator_id: None,
                    partnership_id: *pid,
                    window: k,
                    n: all.count,
                });
                for (id, d) in &definitions {
                    match indicator_figure(set, d, unit).and_then(|f| f.shown()) {
                        Some(n) => out.push(db::indicator::WindowCount {
                            indicator_id: Some(*id),
                            partnership_id: *pid,
                            window: k,
                            n,
                        }),
                        None => {
                            withheld.insert((*id, *pid, k));
                        }
                    }
                }
            }
        }
        out
    };
    let values = if external_ids.is_empty() {
        Vec::new()
    } else {
        db::indicator::values_for(conn, &external_ids, &ids, &windows).await?
    };
    let year = population_year(window.from, window.to);
    let populations: HashMap<Uuid, i32> = db::indicator::populations_for(conn, &ids, year)
        .await?
        .into_iter()
        .map(|r| (r.partnership_id, r.population))
        .collect();
    // (indicator or None for all records, partnership, window) -> count
    let mut n: HashMap<(Option<Uuid>, Uuid, i64), i64> = HashMap::new();
    for c in counts {
        n.insert((c.indicator_id, c.partnership_id, c.window), c.n);
    }
    for v in &values {
        let k = i64::from((v.period_from, v.period_to) != windows[0]);
        n.insert((Some(v.indicator_id), v.partnership_id, k), v.value);
    }
    let mut out = Vec::new();
    for ind in indicators {
        let external = ind.kind == "EXTERNAL";
        // A partnership's count in window k, or None when it has no figures there.
        let figure = |pid: Uuid, k: i64| -> Option<i64> {
            if withheld.contains(&(ind.id, pid, k)) {
                None
            } else if external {
                n.get(&(Some(ind.id), pid, k)).copied()
            } else if n.contains_key(&(None, pid, k)) {
                Some(n.get(&(Some(ind.id), pid, k)).copied().unwrap_or(0))
            } else {
                None
            }
        };
        let figures: Vec<Option<Figure>> = ids
            .iter()
            .map(|pid| {
                let count = figure(*pid, 0)?;
                let population = i64::from(*populations.get(pid)?);
                Some(Figure { count, population })
            })
            .collect();
        let ranks = ranks(&figures);
        let me = ids.iter().position(|id| *id == partnership);
        let count = figure(partnership, 0);
        // A partnership with records in the window but none before it (a new feed) still has a
        // previous count of 0 only if it had figures then.
        let previous_count = figure(partnership, 1);
        let rate = count.and_then(|c| {
            populations
                .get(&partnership)
                .and_then(|pop| rate_per_thousand(c, i64::from(*pop)))
        });
        let suppressed = withheld.contains(&(ind.id, partnership, 0))
            || withheld.contains(&(ind.id, partnership, 1));
        out.push(AssessedIndicator {
            suppressed,
            count,
            previous_count,
            change: count.zip(previous_count).map(|(c, p)| c - p),
            change_percent: count
                .zip(previous_count)
                .and_then(|(c, p)| change_percent(c, p)),
            rate_per_thousand: rate,
            rank: me
                .and_then(|i| ranks.get(i).copied().flatten())
                .and_then(|r| i32::try_from(r).ok()),
            ranked: i32::try_from(figures.iter().flatten().count()).unwrap_or(i32::MAX),
            indicator: ind.into(),
        });
    }
    let pcc_sets = if exact {
        None
    } else {
        Some(own_sets.as_slice())
    };
    let areas = assessed_areas(conn, partnership, &windows, pcc_sets).await?;
    Ok(StrategicAssessment {
        partnership: slug.to_owned(),
        county: county_name,
        window: window.into(),
        previous_window: previous.into(),
        population_year: year,
        population: populations.get(&partnership).copied(),
        county_partnerships: i32::try_from(county.len()).unwrap_or(i32::MAX),
        indicators: out,
        suppression_applied: !exact,
        areas,
    })
}

/// The partnership's areas with the records placed in each in both windows: counted for
/// partners; for the PCC (`sets`: its table set and unit of each window), the cells of its
/// table sets, withheld where they are.
async fn assessed_areas(
    conn: &sea_orm::DatabaseTransaction,
    partnership: Uuid,
    windows: &[(NaiveDate, NaiveDate); 2],
    sets: Option<&[(std::sync::Arc<crate::domain::tableset::TableSet>, Unit)]>,
) -> Result<Vec<AssessedArea>, AppError> {
    use crate::domain::tableset::{AreaKey, Cell};
    let areas = db::area::areas_in(conn, &[partnership]).await?;
    let counted: HashMap<(String, i64), i64> = match sets {
        Some(_) => HashMap::new(),
        None => db::incident::area_window_counts(conn, partnership, windows)
            .await?
            .into_iter()
            .map(|r| ((r.area, r.k), r.n))
            .collect(),
    };
    let figure = |code: &str, k: usize| -> Option<i64> {
        match sets {
            Some(sets) => {
                let (set, unit) = sets.get(k)?;
                set.get(&Cell {
                    category: None,
                    area: AreaKey::Area(code.to_owned()),
                    unit: *unit,
                })
                .shown()
            }
            None => Some(
                counted
                    .get(&(code.to_owned(), i64::try_from(k).unwrap_or(0)))
                    .copied()
                    .unwrap_or(0),
            ),
        }
    };
    Ok(areas
        .into_iter()
        .map(|a| {
            let (count, previous_count) = (figure(&a.code, 0), figure(&a.code, 1));
            AssessedArea {
                suppressed: sets.is_some() && (count.is_none() || previous_count.is_none()),
                change_percent: count
                    .zip(previous_count)
                    .and_then(|(c, p)| change_percent(c, p)),
                code: a.code,
                name: a.name,
                count,
                previous_count,
            }
        })
        .collect())
}
