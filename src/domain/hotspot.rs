//! Hotspots that hold up (issue 30): an exact test that a count rose (or fell) beyond what
//! chance gives, and the Getis-Ord Gi* statistic over neighbouring areas, with neighbours
//! taken from the boundaries (areas that share a boundary point).

use std::collections::{BTreeSet, HashMap};

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln P(X = k) for X ~ Binomial(n, p), 0 < p < 1.
fn ln_binomial_pmf(n: u64, k: u64, p: f64) -> f64 {
    let (nf, kf) = (n as f64, k as f64);
    ln_gamma(nf + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(nf - kf + 1.0)
        + kf * p.ln()
        + (nf - kf) * (1.0 - p).ln()
}

/// P(X >= k) for X ~ Binomial(n, p). The smaller tail is summed from its end nearest the mean
/// outwards (its terms fall away), so neither tail underflows to a wrong 0: a `k` above the
/// mean sums P(X = k), P(X = k + 1), ...; one below it is 1 - P(X <= k - 1), summed down from
/// k - 1.
pub fn binomial_upper_tail(n: u64, k: u64, p: f64) -> f64 {
    if k == 0 || p >= 1.0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    let mean = n as f64 * p;
    if (k as f64) >= mean {
        let ratio = p / (1.0 - p);
        let mut term = ln_binomial_pmf(n, k, p).exp();
        let mut total = 0.0;
        let mut j = k;
        while j <= n && term > 0.0 {
            total += term;
            if term < total * 1e-17 {
                break;
            }
            term *= (n - j) as f64 / (j + 1) as f64 * ratio;
            j += 1;
        }
        total.min(1.0)
    } else {
        // P(X <= k - 1), from k - 1 down.
        let ratio = (1.0 - p) / p;
        let mut j = k - 1;
        let mut term = ln_binomial_pmf(n, j, p).exp();
        let mut lower = 0.0;
        loop {
            lower += term;
            if j == 0 || term == 0.0 || term < lower * 1e-17 {
                break;
            }
            term *= j as f64 / (n - j + 1) as f64 * ratio;
            j -= 1;
        }
        (1.0 - lower).clamp(0.0, 1.0)
    }
}

/// The exact conditional test of two Poisson counts (the rate-ratio test): given the
/// `now + before` records, `now` is Binomial(n, e_now / (e_now + e_before)) when the rates are
/// equal, the exposures being the periods' lengths (the population is the same for both).
/// Returns the one-sided p-values (a rise: P(X >= now); a fall: P(X <= now)).
pub fn rate_ratio_p_values(now: u64, before: u64, e_now: f64, e_before: f64) -> (f64, f64) {
    let n = now + before;
    if n == 0 || e_now <= 0.0 || e_before <= 0.0 {
        return (1.0, 1.0);
    }
    let p = e_now / (e_now + e_before);
    let rise = binomial_upper_tail(n, now, p);
    // P(X <= now) = P(Y >= before) for Y = n - X ~ Binomial(n, 1 - p).
    let fall = binomial_upper_tail(n, before, 1.0 - p);
    (rise, fall)
}

/// The standard normal's upper tail, P(Z > z) (erfc after Numerical Recipes' Chebyshev fit,
/// relative error under 1.2e-7).
pub fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let y = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    let erfc = if x >= 0.0 { y } else { 2.0 - y };
    erfc / 2.0
}

/// Getis-Ord Gi* of each area (a z-score): the sum of the values of the area and its
/// neighbours (binary weights, the area itself included) against what the mean over all
/// areas gives, in standard errors. `neighbours[i]` are indices into `values`. None for every
/// area when there are fewer than three areas or the values do not vary.
pub fn gi_star(values: &[f64], neighbours: &[Vec<usize>]) -> Vec<Option<f64>> {
    let n = values.len();
    if n < 3 {
        return vec![None; n];
    }
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let s = (values.iter().map(|x| x * x).sum::<f64>() / nf - mean * mean).sqrt();
    if s.is_nan() || s <= 1e-12 {
        return vec![None; n];
    }
    (0..n)
        .map(|i| {
            let mut set: BTreeSet<usize> =
                neighbours.get(i).into_iter().flatten().copied().collect();
            set.insert(i);
            let w = set.len() as f64;
            let sum: f64 = set.iter().filter_map(|j| values.get(*j)).sum();
            let denominator = s * ((nf * w - w * w) / (nf - 1.0)).sqrt();
            (denominator > 0.0).then(|| (sum - mean * w) / denominator)
        })
        .collect()
}

/// Areas that share a point of their boundaries (queen contiguity), from GeoJSON Polygons or
/// MultiPolygons: coordinates are matched to a millionth of a degree (about 0.1 m), which
/// holds for boundaries from one file of the ONS, drawn on one topology. Returns each area's
/// neighbours as indices.
pub fn neighbours(boundaries: &[Option<&serde_json::Value>]) -> Vec<Vec<usize>> {
    let mut at: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, b) in boundaries.iter().enumerate() {
        let Some(b) = b else { continue };
        let mut points = BTreeSet::new();
        collect_points(b.get("coordinates"), &mut points);
        for p in points {
            at.entry(p).or_default().push(i);
        }
    }
    let mut out: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); boundaries.len()];
    for areas in at.values().filter(|a| a.len() > 1) {
        for &a in areas {
            for &b in areas {
                if a != b {
                    out[a].insert(b);
                }
            }
        }
    }
    out.into_iter().map(|s| s.into_iter().collect()).collect()
}

fn collect_points(v: Option<&serde_json::Value>, out: &mut BTreeSet<(i64, i64)>) {
    let Some(serde_json::Value::Array(items)) = v else {
        return;
    };
    if let [
        serde_json::Value::Number(x),
        serde_json::Value::Number(y),
        ..,
    ] = items.as_slice()
    {
        if let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) {
            out.insert(((x * 1e6).round() as i64, (y * 1e6).round() as i64));
        }
        return;
    }
    for item in items {
        collect_points(Some(item), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn the_binomial_tail_is_exact_for_small_counts_and_stable_for_large_ones() {
        // P(X >= 4 | 6, 0.5) = (15 + 6 + 1) / 64.
        assert!(close(binomial_upper_tail(6, 4, 0.5), 22.0 / 64.0, 1e-12));
        assert!(close(binomial_upper_tail(10, 0, 0.3), 1.0, 0.0));
        assert!(close(binomial_upper_tail(10, 11, 0.3), 0.0, 0.0));
        // Large n: the tail from the mean, in exact integers 0.5039893230696911.
        assert!(close(
            binomial_upper_tail(10_000, 5_000, 0.5),
            0.503_989_323_069_691,
            1e-10
        ));
    }

    #[test]
    fn a_rise_from_2_to_4_is_chance_and_from_20_to_40_is_not() {
        let (rise, _) = rate_ratio_p_values(4, 2, 1.0, 1.0);
        assert!(rise > 0.3, "{rise}");
        let (rise, fall) = rate_ratio_p_values(40, 20, 1.0, 1.0);
        // The sum of C(60, k) / 2^60 for k = 40..60, in exact integers: 0.006744646865595.
        assert!(close(rise, 0.006_744_646_865_595, 1e-12), "{rise}");
        assert!(fall > 0.99, "{fall}");
        // Exposure counts: twice the time, twice the records is no rise.
        let (rise, _) = rate_ratio_p_values(40, 20, 2.0, 1.0);
        assert!(rise > 0.4, "{rise}");
        assert_eq!(rate_ratio_p_values(0, 0, 1.0, 1.0), (1.0, 1.0));
        // A large fall is a fall, not a rise.
        let (rise, fall) = rate_ratio_p_values(175, 1_750, 1.0, 1.0);
        assert!(rise > 0.999_999 && fall < 1e-200, "{rise} {fall}");
    }

    #[test]
    fn the_normal_tail_matches_its_tables() {
        assert!(close(normal_upper_tail(1.959_964), 0.025, 1e-6));
        assert!(close(normal_upper_tail(0.0), 0.5, 1e-7));
        assert!(close(normal_upper_tail(-1.0), 0.841_344_7, 1e-6));
    }

    #[test]
    fn gi_star_finds_the_cluster_of_high_values() {
        // A row of seven areas, each touching the next; the middle three high.
        let values = [1.0, 1.0, 9.0, 10.0, 9.0, 1.0, 1.0];
        let nb: Vec<Vec<usize>> = (0..7)
            .map(|i: usize| {
                [i.wrapping_sub(1), i + 1]
                    .into_iter()
                    .filter(|j| *j < 7)
                    .collect()
            })
            .collect();
        let z = gi_star(&values, &nb);
        let z: Vec<f64> = z.into_iter().map(|z| z.expect("z")).collect();
        assert!(z[3] > 1.96, "{z:?}");
        assert!(z[0] < 0.0 && z[6] < 0.0, "{z:?}");
        // By hand for the middle: mean 32/7, S = sqrt(266/7 - (32/7)^2), w = 3: 2.44266.
        let mean: f64 = 32.0 / 7.0;
        let s = (266.0 / 7.0 - mean * mean).sqrt();
        let want = (28.0 - mean * 3.0) / (s * ((7.0 * 3.0 - 9.0) / 6.0_f64).sqrt());
        assert!(close(z[3], want, 1e-12));
        assert!(close(z[3], 2.442_659_843_730_158, 1e-9));
        assert_eq!(
            gi_star(&[2.0, 2.0, 2.0], &[vec![1], vec![0, 2], vec![1]]),
            vec![None; 3]
        );
    }

    #[test]
    fn areas_that_share_a_boundary_point_are_neighbours() {
        let square = |x: f64, y: f64| json!({"type": "Polygon", "coordinates": [[[x, y], [x + 1.0, y], [x + 1.0, y + 1.0], [x, y + 1.0], [x, y]]]});
        let (a, b, c, far) = (
            square(0.0, 0.0),
            square(1.0, 0.0),
            square(1.0, 1.0),
            square(5.0, 5.0),
        );
        let multi = json!({"type": "MultiPolygon", "coordinates": [square(9.0, 9.0)["coordinates"], square(5.0, 6.0)["coordinates"]]});
        let n = neighbours(&[Some(&a), Some(&b), Some(&c), Some(&far), Some(&multi), None]);
        // a-b share an edge, a-c a corner (queen), b-c an edge; far touches only the multi's
        // second polygon.
        assert_eq!(
            n,
            vec![vec![1, 2], vec![0, 2], vec![0, 1], vec![4], vec![3], vec![]]
        );
    }
}
