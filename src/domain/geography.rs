//! Records counted in official areas whichever LSOA vintage they carry: the ONS's 2011-to-2021
//! LSOA lookup applied to counts by code, splits shared by population (issue 30).

use std::collections::{BTreeMap, HashMap, HashSet};

/// One row of the ONS's 2011-to-2021 LSOA lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub lsoa11: String,
    pub lsoa21: String,
}

/// Counts by code of the target vintage; `outside` is the part of the records whose LSOA
/// lies (or whose share lies) outside the codes asked for, and `unplaced` the records whose
/// LSOA neither vintage knows (or that carry none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Apportioned {
    pub by_code: BTreeMap<String, f64>,
    pub outside: f64,
    pub unplaced: i64,
}

/// Shares `counts` (records by the LSOA code they carry; `None`: no LSOA) out among the LSOAs
/// of the `target` vintage (2011 or 2021) listed in `targets`:
///
/// - a code of the target vintage (one `targets` or `known` lists, or one the lookup pairs on
///   the target side) keeps its records whole;
/// - a code of the other vintage goes to the codes the lookup pairs it with: whole when there
///   is one (unchanged, or merged into one), and shared out by `population` when there are
///   several (a split, or an irregular change): each counterpart's share is its population over
///   theirs together, or equal shares when any of them has no population held;
/// - a share that falls on a code not in `targets` counts as `outside`; a code the lookup does
///   not know, and a record without an LSOA, count as `unplaced`.
pub fn apportion(
    counts: &[(Option<String>, i64)],
    target: i32,
    targets: &HashSet<String>,
    known: &HashSet<String>,
    pairs: &[Pair],
    population: &HashMap<String, i64>,
) -> Apportioned {
    let to_2021 = target != 2011;
    // Codes of the target vintage, and each code of the other vintage's counterparts.
    let mut of_target: HashSet<&str> = targets.iter().chain(known).map(String::as_str).collect();
    let mut counterparts: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in pairs {
        let (from, to) = if to_2021 {
            (p.lsoa11.as_str(), p.lsoa21.as_str())
        } else {
            (p.lsoa21.as_str(), p.lsoa11.as_str())
        };
        of_target.insert(to);
        counterparts.entry(from).or_default().push(to);
    }
    let mut out = Apportioned::default();
    let add = |code: &str, n: f64, out: &mut Apportioned| {
        if targets.contains(code) {
            *out.by_code.entry(code.to_owned()).or_default() += n;
        } else {
            out.outside += n;
        }
    };
    for (code, n) in counts {
        let Some(code) = code.as_deref() else {
            out.unplaced += n;
            continue;
        };
        let n_f = *n as f64;
        if of_target.contains(code) {
            add(code, n_f, &mut out);
            continue;
        }
        let Some(to) = counterparts.get(code) else {
            out.unplaced += n;
            continue;
        };
        let mut to: Vec<&str> = to.clone();
        to.sort_unstable();
        to.dedup();
        let people: Option<Vec<i64>> = to.iter().map(|c| population.get(*c).copied()).collect();
        let total: i64 = people.as_ref().map_or(0, |p| p.iter().sum());
        for (i, c) in to.iter().enumerate() {
            let share = match &people {
                Some(p) if total > 0 => p[i] as f64 / total as f64,
                _ => 1.0 / to.len() as f64,
            };
            add(c, n_f * share, &mut out);
        }
    }
    out
}

/// Where whole records in an LSOA of either vintage land among LSOAs of the `target` vintage,
/// without shares (the PCC's figures are sums of whole cells).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// In this LSOA of `targets`.
    In(String),
    /// In an LSOA outside `targets`.
    Outside,
    /// Not placed exactly: the lookup splits the code among several (or knows it not at all).
    Unplaced,
}

/// Places each code among LSOAs of the `target` vintage: a code of that vintage is itself; a
/// code of the other vintage lands in its one counterpart in the ONS's lookup (unchanged, or
/// merged into one); one with several counterparts (a split, an irregular change) or none is
/// [`Placed::Unplaced`]. `known` are codes held as LSOAs of the target vintage.
pub fn place_exactly(
    codes: &[String],
    target: i32,
    targets: &HashSet<String>,
    known: &HashSet<String>,
    pairs: &[Pair],
) -> HashMap<String, Placed> {
    let to_2021 = target != 2011;
    let mut counterparts: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut of_target: HashSet<&str> = targets.iter().chain(known).map(String::as_str).collect();
    for p in pairs {
        let (from, to) = if to_2021 {
            (p.lsoa11.as_str(), p.lsoa21.as_str())
        } else {
            (p.lsoa21.as_str(), p.lsoa11.as_str())
        };
        of_target.insert(to);
        let c = counterparts.entry(from).or_default();
        if !c.contains(&to) {
            c.push(to);
        }
    }
    let land = |code: &str| {
        if targets.contains(code) {
            Placed::In(code.to_owned())
        } else {
            Placed::Outside
        }
    };
    codes
        .iter()
        .map(|code| {
            let placed = if of_target.contains(code.as_str()) {
                land(code)
            } else {
                match counterparts.get(code.as_str()).map(Vec::as_slice) {
                    Some([one]) => land(one),
                    _ => Placed::Unplaced,
                }
            };
            (code.clone(), placed)
        })
        .collect()
}

/// A rate per 1,000 residents, to two decimal places; none without a population.
pub fn rate_per_1000(count: f64, population: Option<i64>) -> Option<f64> {
    match population {
        Some(p) if p > 0 => Some((count * 1000.0 / p as f64 * 100.0).round() / 100.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: &str, b: &str) -> Pair {
        Pair {
            lsoa11: a.to_owned(),
            lsoa21: b.to_owned(),
        }
    }

    fn set(codes: &[&str]) -> HashSet<String> {
        codes.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn splits_are_shared_by_population_and_merges_and_unchanged_codes_kept_whole() {
        // Stevenage 008D (E01023758) split into 008E and 008F; 004B and East Herts 002D
        // irregularly into 013A (and 002D also into East Herts 019C); 009A unchanged.
        let pairs = vec![
            pair("E01023758", "E01035570"),
            pair("E01023758", "E01035571"),
            pair("E01023768", "E01035582"),
            pair("E01023508", "E01035582"),
            pair("E01023508", "E01035609"),
            pair("E01023750", "E01023750"),
        ];
        let targets = set(&["E01035570", "E01035571", "E01035582", "E01023750"]);
        let population: HashMap<String, i64> = [
            ("E01035570", 1500),
            ("E01035571", 500),
            ("E01035582", 2000),
            ("E01035609", 2000),
        ]
        .into_iter()
        .map(|(c, n)| (c.to_owned(), n))
        .collect();
        let counts = vec![
            (Some("E01023758".to_owned()), 8), // 2011, split 3:1
            (Some("E01035570".to_owned()), 2), // 2021
            (Some("E01023768".to_owned()), 5), // 2011, into 013A only
            (Some("E01023508".to_owned()), 4), // 2011, half outside
            (Some("E01023750".to_owned()), 7), // unchanged
            (Some("E01099999".to_owned()), 1), // unknown
            (None, 3),
        ];
        let a = apportion(
            &counts,
            2021,
            &targets,
            &HashSet::new(),
            &pairs,
            &population,
        );
        assert_eq!(a.by_code["E01035570"], 6.0 + 2.0);
        assert_eq!(a.by_code["E01035571"], 2.0);
        assert_eq!(a.by_code["E01035582"], 5.0 + 2.0);
        assert_eq!(a.by_code["E01023750"], 7.0);
        assert_eq!(a.outside, 2.0);
        assert_eq!(a.unplaced, 4);
        let sum: f64 = a.by_code.values().sum::<f64>() + a.outside + a.unplaced as f64;
        assert_eq!(sum, 30.0);

        // The reverse, for history: 013A's records go to 004B and 002D in equal shares (no
        // 2011 population held); 008E's to 008D whole.
        let targets = set(&["E01023758", "E01023768", "E01023750"]);
        let counts = vec![
            (Some("E01035582".to_owned()), 6),
            (Some("E01035571".to_owned()), 1),
            (Some("E01023758".to_owned()), 2),
        ];
        let a = apportion(
            &counts,
            2011,
            &targets,
            &HashSet::new(),
            &pairs,
            &HashMap::new(),
        );
        assert_eq!(a.by_code["E01023768"], 3.0);
        assert_eq!(a.by_code["E01023758"], 3.0);
        assert_eq!(a.outside, 3.0);
        assert_eq!(a.unplaced, 0);
    }

    #[test]
    fn rates_are_per_thousand_to_two_places() {
        assert_eq!(rate_per_1000(7.0, Some(1179)), Some(5.94));
        assert_eq!(rate_per_1000(7.0, Some(0)), None);
        assert_eq!(rate_per_1000(7.0, None), None);
    }
}
