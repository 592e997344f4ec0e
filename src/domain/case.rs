//! Rules of casework, with no database and no GraphQL: the ASB Case Review threshold and the
//! risk level a DASH score implies.

use chrono::NaiveDate;

/// The anti-social behaviour category of incident records.
pub const ASB_CATEGORY: &str = "anti-social-behaviour";

/// Whether a case's linked reports meet the ASB Case Review threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseReview {
    /// Three qualifying reports within six months, at any time.
    pub threshold_met: bool,
    /// The day of the report that first made three within six months.
    pub first_met_on: Option<NaiveDate>,
    /// Qualifying reports in the six months up to today.
    pub reports_in_last_six_months: i32,
    /// Qualifying reports linked in all.
    pub qualifying_reports: i32,
}

/// Three reports within six months: the third no later than six calendar months after the
/// first (1 January and 1 July meet it; 1 January and 2 July do not).
pub fn case_review(mut dates: Vec<NaiveDate>, today: NaiveDate) -> CaseReview {
    dates.sort();
    let six_months_after = |d: NaiveDate| d.checked_add_months(chrono::Months::new(6));
    let first_met_on = dates
        .windows(3)
        .find(|w| six_months_after(w[0]).is_some_and(|limit| w[2] <= limit))
        .map(|w| w[2]);
    let since = today
        .checked_sub_months(chrono::Months::new(6))
        .unwrap_or(NaiveDate::MIN);
    CaseReview {
        threshold_met: first_met_on.is_some(),
        first_met_on,
        reports_in_last_six_months: dates
            .iter()
            .filter(|d| **d >= since && **d <= today)
            .count() as i32,
        qualifying_reports: dates.len() as i32,
    }
}

/// A case's risk level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    Standard,
    Medium,
    High,
}

/// The level a DASH score implies: 14 and over high, 10 to 13 medium, below standard.
pub fn risk_from_dash(score: i32) -> Risk {
    match score {
        14.. => Risk::High,
        10..=13 => Risk::Medium,
        _ => Risk::Standard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn three_reports_within_six_calendar_months_meet_the_threshold() {
        let today = day("2015-03-01");
        let met = case_review(
            vec![day("2014-07-01"), day("2014-01-01"), day("2014-03-01")],
            today,
        );
        assert_eq!(
            met,
            CaseReview {
                threshold_met: true,
                first_met_on: Some(day("2014-07-01")),
                reports_in_last_six_months: 0,
                qualifying_reports: 3,
            }
        );
        let missed = case_review(
            vec![day("2014-01-01"), day("2014-03-01"), day("2014-07-02")],
            today,
        );
        assert!(!missed.threshold_met);
        assert_eq!(missed.first_met_on, None);
    }

    #[test]
    fn dash_scores_map_to_levels_at_ten_and_fourteen() {
        let levels: Vec<Risk> = [0, 9, 10, 13, 14, 24].map(risk_from_dash).to_vec();
        assert_eq!(
            levels,
            [
                Risk::Standard,
                Risk::Standard,
                Risk::Medium,
                Risk::Medium,
                Risk::High,
                Risk::High
            ]
        );
    }
}
