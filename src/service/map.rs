//! Maps (issue 30): a district's official areas as GeoJSON with their figures, for a
//! front-end's map; boundaries simplified once and kept in memory by their content.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::geography::area_statistics;
use crate::db;
use crate::db::incident::IncidentFilter;
use crate::domain::map::simplify;
use crate::domain::stats::Period;
use crate::error::AppError;

/// Simplified boundaries by (kind, code, tolerance in millionths of a degree, the held
/// boundary's digest): a re-imported boundary has a new digest, so nothing stale is served.
/// Only the few tolerances of `TOLERANCES` above 0 are kept.
type Key = (String, String, u64, String);
struct Kept {
    shapes: HashMap<Key, Arc<Value>>,
    points: usize,
}
static SIMPLIFIED: LazyLock<Mutex<Kept>> = LazyLock::new(|| {
    Mutex::new(Kept {
        shapes: HashMap::new(),
        points: 0,
    })
});
/// The most boundary points kept (about 100 bytes each as JSON values: some 200 MB at most,
/// several counties' LSOAs at every tolerance); past it the cache starts again.
const KEPT_POINTS: usize = 2_000_000;

fn points(v: &Value) -> usize {
    match v {
        Value::Array(items) if items.first().is_some_and(Value::is_number) => 1,
        Value::Array(items) => items.iter().map(points).sum(),
        Value::Object(o) => o.get("coordinates").map_or(0, points),
        _ => 0,
    }
}

fn kept() -> std::sync::MutexGuard<'static, Kept> {
    // Nothing under the lock can leave the map half-changed: a poisoned lock is still good.
    SIMPLIFIED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The district's areas of `kind` and `vintage` as a GeoJSON FeatureCollection: a Feature per
/// area (by code; `id` its code; geometry null where no boundary is held) whose properties are
/// its `areaStatistics` figures, and a `metadata` member with what the figures are of.
#[allow(clippy::too_many_arguments)]
pub async fn areas_geojson<C: ConnectionTrait>(
    conn: &C,
    filter: &IncidentFilter,
    district: &str,
    kind: &str,
    vintage: i32,
    period: Period,
    compared: Option<Period>,
    tolerance: f64,
) -> Result<Value, AppError> {
    if !crate::domain::map::TOLERANCES.contains(&tolerance) {
        return Err(AppError::BadUserInput(format!(
            "tolerance {tolerance} must be one of 0, 0.00001, 0.0001, 0.001 or 0.01 (degrees)"
        )));
    }
    let stats = area_statistics(conn, filter, district, kind, vintage, period, compared).await?;
    let codes: Vec<String> = stats.rows.iter().map(|r| r.code.clone()).collect();
    let shapes = simplified_boundaries(conn, kind, vintage, &codes, tolerance).await?;
    let features: Vec<Value> = stats
        .rows
        .iter()
        .map(|r| {
            let properties = serde_json::to_value(r).unwrap_or(Value::Null);
            json!({
                "type": "Feature",
                "id": r.code,
                "geometry": shapes.get(&r.code).map_or(Value::Null, |s| (**s).clone()),
                "properties": properties,
            })
        })
        .collect();
    Ok(json!({
        "type": "FeatureCollection",
        "features": features,
        "metadata": {
            "district": stats.district,
            "kind": kind,
            "vintage": stats.vintage,
            "lsoaVintage": stats.lsoa_vintage,
            "period": stats.period,
            "comparedWith": stats.compared_with,
            "populationYear": stats.population_year,
            "deprivationEdition": stats.deprivation_edition,
            "total": stats.total,
            "outside": stats.outside,
            "unplaced": stats.unplaced,
            "tolerance": tolerance,
            "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. Contains OS data © Crown copyright and database right.",
        },
    }))
}

/// The boundaries held of these areas of a kind (of `vintage`, else the nearest held),
/// simplified to `tolerance` (one of `TOLERANCES`); kept in memory by their content.
async fn simplified_boundaries<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    vintage: i32,
    codes: &[String],
    tolerance: f64,
) -> Result<HashMap<String, Arc<Value>>, AppError> {
    let digests = db::geography::boundary_digests(conn, kind, vintage, codes).await?;
    let micro = (tolerance * 1e6).round() as u64;
    let key = |code: &str, digest: &str| -> Key {
        (kind.to_owned(), code.to_owned(), micro, digest.to_owned())
    };
    let mut shapes: HashMap<String, Arc<Value>> = HashMap::new();
    let mut missing = Vec::new();
    let cached = micro > 0;
    if cached {
        let cache = kept();
        for (code, digest) in &digests {
            match cache.shapes.get(&key(code, digest)) {
                Some(s) => {
                    shapes.insert(code.clone(), s.clone());
                }
                None => missing.push(code.clone()),
            }
        }
    } else {
        missing = digests.iter().map(|(c, _)| c.clone()).collect();
    }
    if !missing.is_empty() {
        let held = db::geography::boundaries_of(conn, kind, vintage, &missing).await?;
        let simplified = tokio::task::spawn_blocking(move || {
            held.into_iter()
                .map(|(code, b)| {
                    let shape = if tolerance > 0.0 {
                        simplify(&b, tolerance)
                    } else {
                        b
                    };
                    (code, Arc::new(shape))
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(AppError::internal)?;
        let digest_of: HashMap<&str, &str> = digests
            .iter()
            .map(|(c, d)| (c.as_str(), d.as_str()))
            .collect();
        let mut cache = kept();
        for (code, shape) in simplified {
            if cached && let Some(d) = digest_of.get(code.as_str()) {
                let n = points(&shape);
                if cache.points + n > KEPT_POINTS {
                    cache.shapes.clear();
                    cache.points = 0;
                }
                if cache.shapes.insert(key(&code, d), shape.clone()).is_none() {
                    cache.points += n;
                }
            }
            shapes.insert(code, shape);
        }
    }
    Ok(shapes)
}

/// Each area's code with the boundaries it is drawn from.
pub type Shapes = Vec<(String, Vec<Arc<Value>>)>;

/// A partnership's areas for a printed map: each area (by code) with the boundaries of the
/// LSOAs it lists (of 2021 where held, else the nearest vintage), simplified to
/// `DEFAULT_TOLERANCE`. An area none of whose LSOAs has a boundary held has no shapes.
pub async fn partnership_shapes<C: ConnectionTrait>(
    conn: &C,
    partnership: uuid::Uuid,
) -> Result<Shapes, AppError> {
    let areas = db::area::areas_in(conn, &[partnership]).await?;
    let mut lsoas: Vec<String> = areas.iter().flat_map(|a| a.lsoas.clone()).collect();
    lsoas.sort();
    lsoas.dedup();
    let shapes = simplified_boundaries(
        conn,
        "lsoa",
        2021,
        &lsoas,
        crate::domain::map::DEFAULT_TOLERANCE,
    )
    .await?;
    Ok(areas
        .into_iter()
        .map(|a| {
            let held = a
                .lsoas
                .iter()
                .filter_map(|l| shapes.get(l).cloned())
                .collect();
            (a.code, held)
        })
        .collect())
}
