//! The strategic assessment's charts and map, drawn by the server as inline SVG: change by
//! indicator, the county rank, and a choropleth of the partnership's areas from the boundaries
//! of their LSOAs (no tiles, nothing fetched). Withheld figures are hatched and say so.

use std::sync::Arc;

use maud::{Markup, html};
use serde_json::Value;

use super::templates::{f1, list, raw, shown, text};

/// Sequential blues, light to dark (ColorBrewer's five-class Blues).
const BLUES: [&str; 5] = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
const WITHHELD: &str = "url(#withheld)";
const ATTRIBUTION: &str = "Boundaries: Source: Office for National Statistics licensed under the \
    Open Government Licence v.3.0. Contains OS data \u{a9} Crown copyright and database right.";

/// Change on the previous window by indicator, as bars either side of 0 %.
pub fn change_chart(indicators: &[Value]) -> Markup {
    let rows: Vec<&Value> = indicators.iter().collect();
    let most = rows
        .iter()
        .filter_map(|i| i["changePercent"].as_f64())
        .map(f64::abs)
        .fold(0.0, f64::max)
        .max(1.0);
    let (label_w, half, row_h) = (230.0, 170.0, 20.0);
    let width = label_w + 2.0 * half + 60.0;
    let height = row_h * rows.len() as f64 + 10.0;
    let zero = label_w + half;
    html! {
        @if rows.iter().all(|i| i["changePercent"].as_f64().is_none()) {
            p.none { "No indicator has a change to chart." }
        } @else {
            svg.chart.change xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (height) }
                width=(width) height=(height) role="img" aria-label="Change by indicator" {
                line x1=(zero) y1="0" x2=(zero) y2=(height) stroke="#444" {}
                @for (k, i) in rows.iter().enumerate() {
                    @let y = 5.0 + row_h * k as f64;
                    @let name = raw(&i["indicator"]["name"]);
                    text x="0" y=(y + 12.0) font-size="10" { (shown(&name.chars().take(38).collect::<String>())) }
                    @if let Some(p) = i["changePercent"].as_f64() {
                        @let w = half * p.abs() / most;
                        @let x = if p < 0.0 { zero - w } else { zero };
                        rect.bar x=(f1(x)) y=(y) width=(f1(w.max(0.5))) height=(row_h - 6.0)
                            fill=(if p > 0.0 { "#c62828" } else { "#2e7d32" }) {
                            title { (shown(&name)) ": " (f1(p)) " %" }
                        }
                        text x=(f1(if p < 0.0 { x - 3.0 } else { x + w + 3.0 })) y=(y + 11.0) font-size="9"
                            text-anchor=(if p < 0.0 { "end" } else { "start" }) { (f1(p)) " %" }
                    } @else {
                        text x=(f1(zero + 4.0)) y=(y + 11.0) font-size="9" fill="#555" {
                            @if i["suppressed"] == true { "withheld" } @else { "no change to show" }
                        }
                    }
                }
            }
            div.legend {
                span { i style="background:#c62828" {} "rise" }
                span { i style="background:#2e7d32" {} "fall" }
                span { "on the previous window, as a % of its count" }
            }
        }
    }
}

/// The partnership's rank among the county's by rate, one row per ranked indicator: a cell per
/// partnership ranked, its own filled.
pub fn rank_chart(indicators: &[Value]) -> Markup {
    let rows: Vec<&Value> = indicators
        .iter()
        .filter(|i| i["rank"].as_i64().is_some())
        .collect();
    let most = rows
        .iter()
        .filter_map(|i| i["ranked"].as_i64())
        .max()
        .unwrap_or(1)
        .clamp(1, 100);
    let (label_w, row_h) = (230.0, 20.0);
    let cell = (360.0 / most as f64).min(24.0);
    let width = label_w + cell * most as f64 + 80.0;
    let height = row_h * rows.len() as f64 + 10.0;
    html! {
        @if rows.is_empty() {
            p.none { "No indicator is ranked (a rank needs a count and the population)." }
        } @else {
            svg.chart.rank xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (height) }
                width=(width) height=(height) role="img" aria-label="County rank by indicator" {
                @for (k, i) in rows.iter().enumerate() {
                    @let y = 5.0 + row_h * k as f64;
                    @let rank = i["rank"].as_i64().unwrap_or(0);
                    @let ranked = i["ranked"].as_i64().unwrap_or(0).clamp(0, most);
                    @let name = raw(&i["indicator"]["name"]);
                    text x="0" y=(y + 12.0) font-size="10" { (shown(&name.chars().take(38).collect::<String>())) }
                    @for r in 1..=ranked {
                        @let x = label_w + cell * (r - 1) as f64;
                        @if r == rank {
                            rect.bar x=(f1(x)) y=(y) width=(f1(cell - 2.0)) height=(row_h - 6.0) fill="#1565c0" {
                                title { (shown(&name)) ": rank " (rank) " of " (ranked) }
                            }
                        } @else {
                            rect.cell x=(f1(x)) y=(y) width=(f1(cell - 2.0)) height=(row_h - 6.0) fill="#e0e0e0" {}
                        }
                    }
                    text x=(f1(label_w + cell * ranked as f64 + 4.0)) y=(y + 11.0) font-size="9" { (rank) " of " (ranked) }
                }
            }
            div.legend {
                span { i style="background:#1565c0" {} "this partnership" }
                span { "1 is the lowest rate per 1,000 residents in the county" }
            }
        }
    }
}

/// Up to five classes of the counts, as inclusive ranges: quantile breaks, merged where counts
/// repeat.
pub fn classes(counts: &[i64]) -> Vec<(i64, i64)> {
    let mut v: Vec<i64> = counts.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        return Vec::new();
    }
    let mut distinct = v.clone();
    distinct.dedup();
    let k = distinct.len().min(BLUES.len());
    let mut uppers: Vec<i64> = (1..=k).map(|j| v[(j * n).div_ceil(k) - 1]).collect();
    uppers.dedup();
    let mut out = Vec::new();
    let mut lo = v[0];
    for hi in uppers {
        out.push((lo, hi));
        lo = hi + 1;
    }
    out
}

/// The colour of class `j` of `k`: spread over the five blues.
fn colour(j: usize, k: usize) -> &'static str {
    if k <= 1 {
        BLUES[2]
    } else {
        BLUES[(j * (BLUES.len() - 1)) / (k - 1)]
    }
}

/// An SVG path of GeoJSON Polygons and MultiPolygons, projected.
fn path_of(geometries: &[Arc<Value>], project: &dyn Fn(f64, f64) -> (f64, f64)) -> String {
    let mut d = String::new();
    let mut ring = |r: &Value| {
        let points: Vec<(f64, f64)> = r
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect();
        for (n, (x, y)) in points.iter().enumerate() {
            let (x, y) = project(*x, *y);
            d.push_str(&format!("{}{x:.1},{y:.1}", if n == 0 { "M" } else { "L" }));
        }
        if !points.is_empty() {
            d.push('Z');
        }
    };
    for g in geometries {
        match g["type"].as_str() {
            Some("Polygon") => list(&g["coordinates"]).iter().for_each(&mut ring),
            Some("MultiPolygon") => list(&g["coordinates"])
                .iter()
                .flat_map(|p| list(p).iter())
                .for_each(&mut ring),
            _ => {}
        }
    }
    d
}

/// The points of every shape: (min x, min y, max x, max y).
fn bounds(shapes: &[(String, Vec<Arc<Value>>)]) -> Option<(f64, f64, f64, f64)> {
    fn walk(v: &Value, b: &mut (f64, f64, f64, f64)) {
        if let Some(a) = v.as_array() {
            if let (Some(x), Some(y)) = (
                a.first().and_then(Value::as_f64),
                a.get(1).and_then(Value::as_f64),
            ) {
                *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            } else {
                a.iter().for_each(|c| walk(c, b));
            }
        }
    }
    let mut b = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for g in shapes.iter().flat_map(|(_, g)| g) {
        walk(&g["coordinates"], &mut b);
    }
    (b.0 < b.2 && b.1 < b.3).then_some(b)
}

/// The partnership's areas shaded by their records in the window (`areas`: the assessment's,
/// with `code`, `name`, `count` and `suppressed`), each drawn from its LSOAs' boundaries;
/// a withheld count is hatched. Areas without a boundary held are named under the map.
pub fn area_map(areas: &[Value], shapes: &[(String, Vec<Arc<Value>>)]) -> Markup {
    let drawn: Vec<(&Value, &Vec<Arc<Value>>)> = areas
        .iter()
        .filter_map(|a| {
            let code = a["code"].as_str()?;
            let (_, g) = shapes.iter().find(|(c, g)| c == code && !g.is_empty())?;
            Some((a, g))
        })
        .collect();
    let undrawn: Vec<String> = areas
        .iter()
        .filter(|a| !drawn.iter().any(|(d, _)| d["code"] == a["code"]))
        .map(|a| text(&a["name"]))
        .collect();
    let counts: Vec<i64> = drawn
        .iter()
        .filter_map(|(a, _)| a["count"].as_i64())
        .collect();
    let classes = classes(&counts);
    let class_of = |n: i64| classes.iter().position(|(_, hi)| n <= *hi);
    let Some((x0, y0, x1, y1)) = bounds(
        &drawn
            .iter()
            .map(|(a, g)| (raw(&a["code"]), (*g).clone()))
            .collect::<Vec<_>>(),
    ) else {
        return html! {
            p.none { "No map: the boundaries of the partnership's areas are not held (their LSOAs, from csphub import geography)." }
        };
    };
    // Equirectangular at the map's middle latitude: true to shape at a district's scale.
    // Fitted within 640 by 800 so that a long, thin partnership still prints on one page.
    let kx = ((y0 + y1) / 2.0).to_radians().cos();
    let scale = (640.0 / ((x1 - x0) * kx)).min(800.0 / (y1 - y0));
    let width = ((x1 - x0) * kx * scale).ceil();
    let height = ((y1 - y0) * scale).ceil();
    let project = move |x: f64, y: f64| ((x - x0) * kx * scale, (y1 - y) * scale);
    let withheld = drawn.iter().any(|(a, _)| a["count"].is_null());
    html! {
        svg.map xmlns="http://www.w3.org/2000/svg" viewBox={ "-2 -2 " (width + 4.0) " " (height + 4.0) }
            width=(width) height=(height) role="img" aria-label="Records in the window by area" {
            defs {
                pattern #withheld width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect width="6" height="6" fill="#fff" {}
                    line x1="0" y1="0" x2="0" y2="6" stroke="#777" stroke-width="2" {}
                }
            }
            @for (a, g) in &drawn {
                @let count = a["count"].as_i64();
                @let fill = match count.and_then(class_of) {
                    Some(j) => colour(j, classes.len()),
                    None => WITHHELD,
                };
                path.area fill=(fill) fill-rule="evenodd" stroke="#444" stroke-width="0.6" d=(path_of(g, &project)) {
                    title {
                        (text(&a["name"])) ": "
                        @match count { Some(n) => { (n) " records" } None => { "withheld" } }
                    }
                }
            }
        }
        div.legend {
            @for (j, (lo, hi)) in classes.iter().enumerate() {
                span {
                    i style={ "background:" (colour(j, classes.len())) "; border: 1px solid #999" } {}
                    @if lo == hi { (lo) } @else { (lo) " to " (hi) }
                }
            }
            @if withheld {
                span { i style="background: repeating-linear-gradient(45deg, #777 0 2px, #fff 2px 5px); border: 1px solid #999" {} "withheld" }
            }
            span { "records in the window by area; domestic abuse and records without an area in none" }
        }
        @if !undrawn.is_empty() {
            p.none { "Not drawn (no boundary held for their LSOAs): " (undrawn.join(", ")) "." }
        }
        p.meta { (ATTRIBUTION) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_fall_in_up_to_five_classes_that_cover_them_all() {
        assert_eq!(classes(&[]), Vec::<(i64, i64)>::new());
        assert_eq!(classes(&[7, 7, 7]), vec![(7, 7)]);
        assert_eq!(
            classes(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            vec![(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]
        );
        assert_eq!(classes(&[0, 0, 0, 0, 9]), vec![(0, 0), (1, 9)]);
        for counts in [
            vec![3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5],
            vec![100, 0],
            vec![2; 40],
        ] {
            let c = classes(&counts);
            assert!(c.len() <= 5);
            assert!(
                counts
                    .iter()
                    .all(|n| c.iter().any(|(lo, hi)| lo <= n && n <= hi))
            );
            assert!(c.windows(2).all(|w| w[0].1 < w[1].0));
        }
    }

    #[test]
    fn the_map_shades_each_area_hatches_the_withheld_and_names_the_undrawn() {
        let square = |x: f64| {
            Arc::new(
                json!({"type": "Polygon", "coordinates": [[[x, 51.9], [x + 0.01, 51.9], [x + 0.01, 51.91], [x, 51.91], [x, 51.9]]]}),
            )
        };
        let areas = [
            json!({"code": "a", "name": "Alpha", "count": 3, "suppressed": false}),
            json!({"code": "b", "name": "Beta <b>", "count": null, "suppressed": true}),
            json!({"code": "c", "name": "Gamma", "count": 40, "suppressed": false}),
            json!({"code": "d", "name": "Delta", "count": 1, "suppressed": false}),
        ];
        let shapes = vec![
            ("a".to_owned(), vec![square(-0.2)]),
            ("b".to_owned(), vec![square(-0.19)]),
            ("c".to_owned(), vec![square(-0.18), square(-0.17)]),
            ("d".to_owned(), vec![]),
        ];
        let html = area_map(&areas, &shapes).into_string();
        assert_eq!(html.matches("<path class=\"area\"").count(), 3, "{html}");
        assert!(html.contains("fill=\"url(#withheld)\""), "{html}");
        assert!(html.contains("Beta &lt;b&gt;: withheld"), "{html}");
        assert!(html.contains("Gamma: 40 records"), "{html}");
        assert!(
            html.contains("Not drawn (no boundary held for their LSOAs): Delta."),
            "{html}"
        );
        assert!(html.contains("Open Government Licence"), "{html}");
        // Two classes (3 and 40), light and dark.
        assert!(html.contains(&format!("fill=\"{}\"", BLUES[0])), "{html}");
        assert!(html.contains(&format!("fill=\"{}\"", BLUES[4])), "{html}");
        assert!(
            !html.contains("http://")
                || !html
                    .replace("http://www.w3.org/2000/svg", "")
                    .contains("http://")
        );
        // A tall, thin partnership is fitted to 800 high.
        let tall = vec![(
            "a".to_owned(),
            vec![Arc::new(
                json!({"type": "Polygon", "coordinates": [[[0.0, 51.0], [0.01, 51.0], [0.01, 52.0], [0.0, 51.0]]]}),
            )],
        )];
        let html = area_map(&areas[..1], &tall).into_string();
        assert!(html.contains("height=\"800\""), "{html}");
        let none = area_map(&areas, &[]).into_string();
        assert!(none.contains("No map"), "{none}");
    }
}
