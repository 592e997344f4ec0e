//! Indicators: named measures over incidents (or external figures), and the arithmetic of the
//! strategic assessment: changes, rates per 1,000 residents and county ranks.

use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::error::AppError;

/// What an indicator measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IndicatorKind {
    /// A count of ACTIVE incidents matching the definition.
    Incidents,
    /// A figure a coordinator records for a partnership and a period, with its source.
    External,
}

impl IndicatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Incidents => "INCIDENTS",
            IndicatorKind::External => "EXTERNAL",
        }
    }

    pub fn parse(s: &str) -> IndicatorKind {
        if s == "EXTERNAL" {
            IndicatorKind::External
        } else {
            IndicatorKind::Incidents
        }
    }
}

/// Which incidents an INCIDENTS indicator counts: ACTIVE ones matching every condition given
/// (an empty list or `None` is no condition).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub categories: Vec<String>,
    pub domestic_abuse: Option<bool>,
    pub alcohol_related: Option<bool>,
    pub youth_related: Option<bool>,
    /// `Some(true)`: at least one hate strand.
    pub hate_crime: Option<bool>,
    /// Any of these strands.
    pub hate_strands: Vec<String>,
    pub drug_classes: Vec<String>,
    pub fire_types: Vec<String>,
}

impl Definition {
    pub fn is_empty(&self) -> bool {
        *self == Definition::default()
    }
}

/// A built-in indicator.
#[derive(Debug, Clone)]
pub struct Builtin {
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub definition: Definition,
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The built-in indicators: every incident figure the 2015 scrutiny report quotes from the
/// strategic assessment and the quarterly data. Every partnership has them; coordinators add
/// their own.
pub fn builtin() -> Vec<Builtin> {
    let cats = |c: &[&str]| Definition {
        categories: list(c),
        ..Definition::default()
    };
    vec![
        Builtin {
            code: "domestic-abuse",
            name: "Domestic abuse related crime",
            description: "Records of any category flagged as domestic-abuse related.",
            definition: Definition {
                domestic_abuse: Some(true),
                ..Definition::default()
            },
        },
        Builtin {
            code: "burglary",
            name: "Burglary",
            description: "The burglary category. data.police.uk does not split dwelling from \
                other burglary; a partner feed that does can be measured with an indicator of its own.",
            definition: cats(&["burglary"]),
        },
        Builtin {
            code: "vehicle-crime",
            name: "Vehicle crime",
            description: "The vehicle crime category.",
            definition: cats(&["vehicle-crime"]),
        },
        Builtin {
            code: "serious-violence",
            name: "Serious violent crime",
            description: "Violence and sexual offences, robbery and possession of weapons. \
                Incident records carry no seriousness grading, so this is the nearest measure the \
                records allow.",
            definition: cats(&["violent-crime", "robbery", "possession-of-weapons"]),
        },
        Builtin {
            code: "class-a-possession",
            name: "Drugs: Class A",
            description: "Drugs records involving Class A drugs.",
            definition: Definition {
                categories: list(&["drugs"]),
                drug_classes: list(&["a"]),
                ..Definition::default()
            },
        },
        Builtin {
            code: "hate-crime",
            name: "Hate crime",
            description: "Records of any category with at least one monitored hate strand.",
            definition: Definition {
                hate_crime: Some(true),
                ..Definition::default()
            },
        },
        Builtin {
            code: "anti-social-behaviour",
            name: "Anti-social behaviour",
            description: "The anti-social behaviour category (all three qualifiers).",
            definition: cats(&["anti-social-behaviour"]),
        },
        Builtin {
            code: "criminal-damage",
            name: "Criminal damage and arson",
            description: "The criminal damage and arson category (police records).",
            definition: cats(&["criminal-damage-arson"]),
        },
        Builtin {
            code: "deliberate-fires",
            name: "Deliberate fires",
            description: "Deliberate primary and secondary fires attended by fire and rescue.",
            definition: cats(&["deliberate-fire"]),
        },
    ]
}

/// The mid-year estimate a window's rates use: the one at or before the window's middle day (an
/// estimate is for 30 June), or failing that the latest earlier one available.
pub fn population_year(from: NaiveDate, to: NaiveDate) -> i32 {
    let middle = from + chrono::Duration::days((to - from).num_days() / 2);
    let mid_year = NaiveDate::from_ymd_opt(middle.year(), 6, 30).unwrap_or(middle);
    if middle >= mid_year {
        middle.year()
    } else {
        middle.year() - 1
    }
}

/// `count` per 1,000 of `population`, to two decimal places (half away from zero).
pub fn rate_per_thousand(count: i64, population: i64) -> Option<f64> {
    if population <= 0 || count < 0 {
        return None;
    }
    // hundredths of the rate: count * 1000 * 100 / population, rounded half up (all positive).
    let scaled = i128::from(count) * 100_000 * 2 + i128::from(population);
    let hundredths = scaled / (2 * i128::from(population));
    Some(hundredths as f64 / 100.0)
}

/// One partnership's figure for the ranking: a count and its population.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    pub count: i64,
    pub population: i64,
}

fn compare_rates(a: Figure, b: Figure) -> Ordering {
    // a.count / a.population against b.count / b.population, exactly.
    (i128::from(a.count) * i128::from(b.population))
        .cmp(&(i128::from(b.count) * i128::from(a.population)))
}

/// County ranks: 1 is the lowest rate; equal rates share a rank (1, 2, 2, 4). `None` for a
/// partnership with no figure. Returns the ranks in the input's order.
pub fn ranks(figures: &[Option<Figure>]) -> Vec<Option<usize>> {
    figures
        .iter()
        .map(|f| {
            f.map(|f| {
                1 + figures
                    .iter()
                    .flatten()
                    .filter(|o| compare_rates(**o, f) == Ordering::Less)
                    .count()
            })
        })
        .collect()
}

/// A window of whole days for an assessment: at most ten years, ends not before it starts.
pub fn check_window(from: NaiveDate, to: NaiveDate) -> Result<(), AppError> {
    if to < from {
        return Err(AppError::BadUserInput(format!(
            "the window ends ({to}) before it starts ({from})"
        )));
    }
    if !crate::domain::period::within_ten_years(from, to) {
        return Err(AppError::BadUserInput(
            "a window may cover at most ten years".to_owned(),
        ));
    }
    if from.year() < 1990 || to.year() > 2200 {
        return Err(AppError::BadUserInput(
            "the window must lie between 1990 and 2200".to_owned(),
        ));
    }
    Ok(())
}

/// An indicator code: lower-case words joined by hyphens.
pub fn check_code(code: &str) -> Result<String, AppError> {
    super::plan::code(code, "indicator code", "youth-asb")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn ties_share_a_rank_and_missing_figures_are_not_ranked() {
        let f = |count, population| Some(Figure { count, population });
        // rates: 2.0, 1.0, 2.0 (same rate, other sizes), none, 0.5
        let r = ranks(&[
            f(200, 100_000),
            f(100, 100_000),
            f(100, 50_000),
            None,
            f(25, 50_000),
        ]);
        assert_eq!(r, [Some(3), Some(2), Some(3), None, Some(1)]);
    }

    #[test]
    fn rates_round_half_up_to_hundredths() {
        assert_eq!(rate_per_thousand(1, 1000), Some(1.0));
        // 1/3 per 1000 * 1000 = 0.333.. -> 0.33
        assert_eq!(rate_per_thousand(1, 3000), Some(0.33));
        // 0.125 -> 0.13
        assert_eq!(rate_per_thousand(1, 8000), Some(0.13));
        assert_eq!(rate_per_thousand(0, 8000), Some(0.0));
        assert_eq!(rate_per_thousand(5, 0), None);
    }

    #[test]
    fn the_population_estimate_is_the_one_before_the_middle_of_the_window() {
        // 1 Aug 2013 - 31 Jul 2014: middle 30 Jan 2014, so the mid-2013 estimate.
        assert_eq!(population_year(d(2013, 8, 1), d(2014, 7, 31)), 2013);
        // 2014/15: middle 30 Sep 2014.
        assert_eq!(population_year(d(2014, 4, 1), d(2015, 3, 31)), 2014);
        assert_eq!(population_year(d(2014, 6, 30), d(2014, 6, 30)), 2014);
        assert_eq!(population_year(d(2014, 6, 29), d(2014, 6, 29)), 2013);
    }

    #[test]
    fn built_in_codes_are_valid_and_unique() {
        let all = builtin();
        let mut codes: Vec<&str> = all.iter().map(|b| b.code).collect();
        for c in &codes {
            assert_eq!(check_code(c).expect("code"), *c);
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|b| !b.definition.is_empty()));
    }
}
