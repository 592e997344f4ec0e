//! Maps (issue 30): boundaries simplified for a front-end's map (Douglas-Peucker on each ring,
//! coordinates to six decimal places), with nothing fetched from anywhere.

use serde_json::{Value, json};

/// The tolerance a map uses when none is asked for: 0.0001 degrees, about 7 m east-west and
/// 11 m north-south in England, finer than a screen shows a district at.
pub const DEFAULT_TOLERANCE: f64 = 0.0001;
/// The tolerances a map may ask for, in degrees: 0 (the boundaries as held) and four steps
/// from about 1 m to about 1 km. A fixed few, so that simplified copies can be kept.
pub const TOLERANCES: [f64; 5] = [0.0, 0.00001, 0.0001, 0.001, 0.01];

/// A GeoJSON Polygon or MultiPolygon, each ring simplified to `tolerance` degrees (a ring
/// keeps at least four points, closed, or is kept whole) and every coordinate rounded to six
/// decimal places. Anything else is returned as it was.
pub fn simplify(geometry: &Value, tolerance: f64) -> Value {
    let kind = geometry.get("type").and_then(Value::as_str);
    let coordinates = geometry.get("coordinates");
    match (kind, coordinates) {
        (Some("Polygon"), Some(Value::Array(rings))) => {
            json!({"type": "Polygon", "coordinates": polygon(rings, tolerance)})
        }
        (Some("MultiPolygon"), Some(Value::Array(polygons))) => {
            let polygons: Vec<Value> = polygons
                .iter()
                .filter_map(Value::as_array)
                .map(|rings| polygon(rings, tolerance))
                .collect();
            json!({"type": "MultiPolygon", "coordinates": polygons})
        }
        _ => geometry.clone(),
    }
}

fn polygon(rings: &[Value], tolerance: f64) -> Value {
    Value::Array(
        rings
            .iter()
            .filter_map(Value::as_array)
            .map(|ring| ring_of(ring, tolerance))
            .collect(),
    )
}

fn ring_of(ring: &[Value], tolerance: f64) -> Value {
    let points: Vec<(f64, f64)> = ring
        .iter()
        .filter_map(|p| {
            let p = p.as_array()?;
            Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
        })
        .collect();
    let kept = if points.len() > 4 {
        let mut keep = vec![false; points.len()];
        keep[0] = true;
        keep[points.len() - 1] = true;
        douglas_peucker(&points, 0, points.len() - 1, tolerance, &mut keep);
        let kept: Vec<(f64, f64)> = points
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(p, _)| *p)
            .collect();
        if kept.len() >= 4 { kept } else { points }
    } else {
        points
    };
    let round = |x: f64| (x * 1e6).round() / 1e6;
    Value::Array(
        kept.into_iter()
            .map(|(x, y)| json!([round(x), round(y)]))
            .collect(),
    )
}

/// Marks the points between `first` and `last` that lie further than `tolerance` from the
/// chord, recursively (iteratively, so a long ring cannot overflow the stack).
fn douglas_peucker(
    points: &[(f64, f64)],
    first: usize,
    last: usize,
    tolerance: f64,
    keep: &mut [bool],
) {
    let mut stack = vec![(first, last)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut far, mut at) = (0.0, a);
        for i in a + 1..b {
            let d = distance(points[i], points[a], points[b]);
            if d > far {
                far = d;
                at = i;
            }
        }
        if far > tolerance {
            keep[at] = true;
            stack.push((a, at));
            stack.push((at, b));
        }
    }
}

/// The distance from `p` to the segment `a`-`b`, in degrees.
fn distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = dx * dx + dy * dy;
    let t = if length > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / length).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + t * dx - p.0, a.1 + t * dy - p.1);
    (x * x + y * y).sqrt()
}

/// Places points in areas by their boundaries (issue 30, item 7): a point lies in a polygon
/// when a ray from it crosses the polygon's rings an odd number of times (a hole's ring
/// counts too, so a point in a hole lies outside). Each area's box is kept, so a point is
/// tested only against the areas whose box holds it.
pub struct Locator {
    areas: Vec<Located>,
}

struct Located {
    code: String,
    /// min x, min y, max x, max y.
    bbox: (f64, f64, f64, f64),
    /// Polygons, each a list of rings.
    polygons: Vec<Vec<Vec<(f64, f64)>>>,
}

impl Locator {
    /// A locator over these areas' GeoJSON Polygons and MultiPolygons, tried in the order
    /// given (a point on two areas' shared edge, or in two overlapping areas, lies in the
    /// first). Geometry of any other kind is left out.
    pub fn new(areas: &[(String, Value)]) -> Self {
        let areas = areas
            .iter()
            .filter_map(|(code, geometry)| {
                let polygons = polygons_of(geometry);
                let mut bbox = (
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                );
                for &(x, y) in polygons.iter().flatten().flatten() {
                    bbox = (bbox.0.min(x), bbox.1.min(y), bbox.2.max(x), bbox.3.max(y));
                }
                (bbox.0 <= bbox.2).then(|| Located {
                    code: code.clone(),
                    bbox,
                    polygons,
                })
            })
            .collect();
        Locator { areas }
    }

    /// The number of areas it places points in.
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The code of the first area the point (longitude, latitude) lies in.
    pub fn locate(&self, x: f64, y: f64) -> Option<&str> {
        if !x.is_finite() || !y.is_finite() {
            return None;
        }
        self.areas
            .iter()
            .filter(|a| x >= a.bbox.0 && x <= a.bbox.2 && y >= a.bbox.1 && y <= a.bbox.3)
            .find(|a| a.polygons.iter().any(|rings| inside(rings, x, y)))
            .map(|a| a.code.as_str())
    }
}

fn polygons_of(geometry: &Value) -> Vec<Vec<Vec<(f64, f64)>>> {
    let rings_of = |rings: &Value| -> Vec<Vec<(f64, f64)>> {
        rings
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .map(|ring| {
                ring.iter()
                    .filter_map(|p| {
                        let p = p.as_array()?;
                        Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
                    })
                    .collect()
            })
            .collect()
    };
    let coordinates = geometry.get("coordinates");
    match (geometry.get("type").and_then(Value::as_str), coordinates) {
        (Some("Polygon"), Some(rings)) => vec![rings_of(rings)],
        (Some("MultiPolygon"), Some(Value::Array(polygons))) => {
            polygons.iter().map(rings_of).collect()
        }
        _ => Vec::new(),
    }
}

/// Even-odd rule over all of a polygon's rings (its shell and its holes), half-open on each
/// edge's lower end so that a vertex on the ray is counted once.
fn inside(rings: &[Vec<(f64, f64)>], x: f64, y: f64) -> bool {
    let mut odd = false;
    for ring in rings {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let mut j = n - 1;
        for i in 0..n {
            let (xi, yi) = ring[i];
            let (xj, yj) = ring[j];
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                odd = !odd;
            }
            j = i;
        }
    }
    odd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_lose_the_points_within_the_tolerance_and_stay_closed() {
        // A square with a point just off its bottom edge and one far off its right edge.
        let g = json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [0.5, 0.00001], [1.0, 0.0],
            [1.5, 0.5], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]});
        let s = simplify(&g, 0.001);
        assert_eq!(
            s,
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.5, 0.5], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]})
        );
        // Too coarse a tolerance would leave a ring of three: it is kept whole.
        let tri = simplify(&g, 10.0);
        assert_eq!(tri["coordinates"][0].as_array().map(Vec::len), Some(7));
        // MultiPolygons ring by ring; coordinates to six places.
        let m = json!({"type": "MultiPolygon", "coordinates": [[[[0.1234567, 0.0], [1.0, 0.0], [1.0, 1.0], [0.1234567, 0.0]]]]});
        assert_eq!(
            simplify(&m, 0.0001)["coordinates"][0][0][0],
            json!([0.123457, 0.0])
        );
        assert_eq!(
            simplify(&json!({"type": "Point"}), 0.1),
            json!({"type": "Point"})
        );
    }

    #[test]
    fn points_lie_in_the_area_whose_rings_hold_them_and_not_in_its_holes() {
        let square_with_hole = json!({"type": "Polygon", "coordinates": [
            [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
            [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]]]});
        let two_parts = json!({"type": "MultiPolygon", "coordinates": [
            [[[4.0, 0.0], [6.0, 0.0], [6.0, 2.0], [4.0, 2.0], [4.0, 0.0]]],
            [[[10.0, 10.0], [11.0, 10.0], [10.5, 11.0], [10.0, 10.0]]]]});
        let locator = Locator::new(&[
            ("A".to_owned(), square_with_hole),
            ("B".to_owned(), two_parts),
            (
                "P".to_owned(),
                json!({"type": "Point", "coordinates": [0.0, 0.0]}),
            ),
        ]);
        assert_eq!(locator.len(), 2);
        assert_eq!(locator.locate(0.5, 0.5), Some("A"));
        assert_eq!(locator.locate(1.5, 1.5), None, "in A's hole");
        assert_eq!(locator.locate(3.0, 3.0), Some("A"));
        assert_eq!(locator.locate(5.0, 1.0), Some("B"));
        assert_eq!(locator.locate(10.5, 10.4), Some("B"), "B's second part");
        assert_eq!(
            locator.locate(10.9, 10.9),
            None,
            "in B's box, outside its triangle"
        );
        assert_eq!(locator.locate(7.0, 1.0), None);
        assert_eq!(locator.locate(f64::NAN, 1.0), None);
        // On the edge A and B share, the point lies in one of them, not both and not neither.
        assert!(locator.locate(4.0, 1.0).is_some());
    }
}
