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
}
