//! Incident statistics: periods, comparisons and the suppression of small numbers for figures
//! that leave the partnership (the PCC's office).

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::domain::period::{FinancialYear, Quarter};
use crate::error::AppError;

/// Counts from 1 to this are suppressed for the PCC.
pub const SMALL_COUNT_MAX: i64 = 4;

/// What kind of period a request named, so that "the previous period" means the previous
/// month, quarter or financial year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Month,
    Quarter,
    FinancialYear,
    Custom,
}

/// A run of Europe/London calendar days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub kind: PeriodKind,
}

fn first_of_month(s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
        .map_err(|_| AppError::BadUserInput(format!("month '{s}' must be written like 2015-04")))
}

fn shift(date: NaiveDate, months: i32) -> NaiveDate {
    let shifted = if months >= 0 {
        date.checked_add_months(Months::new(months.unsigned_abs()))
    } else {
        date.checked_sub_months(Months::new(months.unsigned_abs()))
    };
    shifted.unwrap_or(date)
}

impl Period {
    /// The period a request names as exactly one of a financial year, a quarter, a month, or
    /// from and to (both days included); BAD_USER_INPUT otherwise.
    pub fn given(
        financial_year: Option<&str>,
        quarter: Option<&str>,
        month: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Self, AppError> {
        let given = [
            financial_year.is_some(),
            quarter.is_some(),
            month.is_some(),
            from.is_some() || to.is_some(),
        ]
        .iter()
        .filter(|g| **g)
        .count();
        if given != 1 {
            return Err(AppError::BadUserInput(
                "give the period as exactly one of financialYear, quarter, month, or from and to"
                    .to_owned(),
            ));
        }
        match (financial_year, quarter, month, from, to) {
            (Some(y), ..) => Period::financial_year(y),
            (_, Some(q), ..) => Period::quarter(q),
            (_, _, Some(m), ..) => Period::month(m),
            (_, _, _, Some(from), Some(to)) => Period::custom(from, to),
            _ => Err(AppError::BadUserInput(
                "a period needs both from and to".to_owned(),
            )),
        }
    }

    /// The period, if its days (and those of the periods it is compared with, a year or a
    /// period's length away) lie within the years 1900 to 9999; BAD_USER_INPUT otherwise, so
    /// that no date arithmetic meets the calendar's ends.
    fn bounded(self) -> Result<Self, AppError> {
        if (1900..=9999).contains(&self.from.year()) && (1900..=9999).contains(&self.to.year()) {
            Ok(self)
        } else {
            Err(AppError::BadUserInput(format!(
                "a period's days must lie in the years 1900 to 9999 ({} to {})",
                self.from, self.to
            )))
        }
    }

    pub fn month(s: &str) -> Result<Self, AppError> {
        let from = first_of_month(s)?;
        Self {
            from,
            to: shift(from, 1).pred_opt().unwrap_or(from),
            kind: PeriodKind::Month,
        }
        .bounded()
    }

    pub fn quarter(s: &str) -> Result<Self, AppError> {
        let q: Quarter = s.parse()?;
        let to = q.last_day();
        let next = to.succ_opt().unwrap_or(to);
        Self {
            from: shift(next, -3),
            to,
            kind: PeriodKind::Quarter,
        }
        .bounded()
    }

    pub fn financial_year(s: &str) -> Result<Self, AppError> {
        let y: FinancialYear = s.parse()?;
        Self {
            from: y.first_day(),
            to: y.last_day(),
            kind: PeriodKind::FinancialYear,
        }
        .bounded()
    }

    pub fn custom(from: NaiveDate, to: NaiveDate) -> Result<Self, AppError> {
        if to < from {
            return Err(AppError::BadUserInput(format!(
                "period ends ({to}) before it starts ({from})"
            )));
        }
        if !crate::domain::period::within_ten_years(from, to) {
            return Err(AppError::BadUserInput(
                "a period may cover at most ten years".to_owned(),
            ));
        }
        Self {
            from,
            to,
            kind: PeriodKind::Custom,
        }
        .bounded()
    }

    /// Whether the period starts on the first of a month and ends on the last day of one.
    pub fn whole_months(self) -> bool {
        self.from.day() == 1 && self.to.succ_opt().is_some_and(|d| d.day() == 1)
    }

    /// The period just before this one: the previous month, quarter or financial year, or as
    /// many days immediately before.
    pub fn previous(self) -> Period {
        let months = match self.kind {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::FinancialYear => 12,
            // A run of whole months (e.g. a half year for the PCC) compares with the same number
            // of whole months before it, so the compared figures are whole months too.
            PeriodKind::Custom if self.whole_months() => {
                let next = self.to.succ_opt().unwrap_or(self.to);
                (next.year() - self.from.year()) * 12 + next.month() as i32
                    - self.from.month() as i32
            }
            PeriodKind::Custom => {
                let days = (self.to - self.from).num_days() + 1;
                let to = self.from.pred_opt().unwrap_or(self.from);
                return Period {
                    from: to - chrono::Duration::days(days - 1),
                    to,
                    kind: PeriodKind::Custom,
                };
            }
        };
        let from = shift(self.from, -months);
        Period {
            from,
            to: self.from.pred_opt().unwrap_or(from),
            kind: self.kind,
        }
    }

    /// The same period a year earlier.
    pub fn year_earlier(self) -> Period {
        let from = shift(self.from, -12);
        // Month ends stay month ends (29 February 2016 -> 28 February 2015).
        let to = if self.to.succ_opt().is_some_and(|d| d.day() == 1) {
            shift(self.to.succ_opt().unwrap_or(self.to), -12)
                .pred_opt()
                .unwrap_or(self.to)
        } else {
            shift(self.to, -12)
        };
        Period {
            from,
            to,
            kind: self.kind,
        }
    }
}

/// `(count - previous) / previous` as a percentage, one decimal place, half away from zero;
/// None when there is nothing to compare with.
pub fn change_percent(count: i64, previous: i64) -> Option<f64> {
    if previous <= 0 {
        return None;
    }
    let diff = count - previous;
    // tenths of a percent, rounded half away from zero, in integers.
    let scaled = diff * 2000;
    let tenths = if scaled >= 0 {
        (scaled + previous) / (2 * previous)
    } else {
        -((-scaled + previous) / (2 * previous))
    };
    Some(tenths as f64 / 10.0)
}

/// Which cells of a table must be withheld so that no count from 1 to 4 is published or can be
/// worked out. `keys[i]` are cell i's values on each dimension; `additive[d]` says whether
/// cells along dimension d add up to a figure that can be had elsewhere (a query grouped by
/// the other dimensions, or the total); flags are not additive, since a record may carry
/// several. Primary suppression withholds counts 1-4; secondary suppression then withholds,
/// in every additive line that has exactly one withheld cell, the smallest other cell, until
/// no line has exactly one.
pub fn suppress(keys: &[Vec<String>], counts: &[i64], additive: &[bool]) -> Vec<bool> {
    let mut hidden: Vec<bool> = counts
        .iter()
        .map(|c| (1..=SMALL_COUNT_MAX).contains(c))
        .collect();
    let dims = additive.len();
    // Lines along each additive dimension: cells equal on every other dimension.
    let mut lines: Vec<Vec<usize>> = Vec::new();
    for d in (0..dims).filter(|d| additive[*d]) {
        let mut by_rest: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            let rest: Vec<&str> = k
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != d)
                .map(|(_, v)| v.as_str())
                .collect();
            by_rest.entry(rest).or_default().push(i);
        }
        lines.extend(by_rest.into_values());
    }
    if dims == 0 {
        lines.push((0..counts.len()).collect());
    }
    loop {
        let mut changed = false;
        for line in &lines {
            if line.iter().filter(|i| hidden[**i]).count() != 1 {
                continue;
            }
            let candidate = line
                .iter()
                .filter(|i| !hidden[**i] && counts[**i] > 0)
                .min_by_key(|i| (counts[**i], **i));
            if let Some(i) = candidate {
                hidden[*i] = true;
                changed = true;
            }
        }
        if !changed {
            return hidden;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn one_small_cell_takes_the_next_smallest_with_it() {
        let keys = vec![
            k(&["burglary"]),
            k(&["robbery"]),
            k(&["drugs"]),
            k(&["vehicle-crime"]),
        ];
        let hidden = suppress(&keys, &[40, 3, 12, 9], &[true]);
        assert_eq!(hidden, [false, true, false, true]);
    }

    #[test]
    fn two_small_cells_need_nothing_more() {
        let keys = vec![k(&["a"]), k(&["b"]), k(&["c"])];
        assert_eq!(suppress(&keys, &[2, 3, 50], &[true]), [true, true, false]);
        assert_eq!(
            suppress(&keys, &[20, 30, 50], &[true]),
            [false, false, false]
        );
    }

    #[test]
    fn two_dimensional_tables_protect_rows_and_columns() {
        // category x month
        let keys = vec![
            k(&["a", "04"]),
            k(&["a", "05"]),
            k(&["b", "04"]),
            k(&["b", "05"]),
            k(&["c", "04"]),
            k(&["c", "05"]),
        ];
        let counts = [2, 10, 7, 8, 30, 40];
        let hidden = suppress(&keys, &counts, &[true, true]);
        // No additive line may hold exactly one withheld cell.
        for line in [[0, 1], [2, 3], [4, 5]]
            .iter()
            .map(|l| l.to_vec())
            .chain([vec![0, 2, 4], vec![1, 3, 5]])
        {
            let n = line.iter().filter(|i| hidden[**i]).count();
            assert_ne!(n, 1, "line {line:?} in {hidden:?}");
        }
        assert!(hidden[0]);
    }

    #[test]
    fn flags_are_not_additive() {
        let keys = vec![k(&["domestic-abuse"]), k(&["alcohol-related"])];
        assert_eq!(suppress(&keys, &[3, 50], &[false]), [true, false]);
    }

    #[test]
    fn changes_round_half_away_from_zero() {
        assert_eq!(change_percent(110, 100), Some(10.0));
        assert_eq!(change_percent(90, 100), Some(-10.0));
        assert_eq!(change_percent(1, 8), Some(-87.5));
        assert_eq!(change_percent(7, 6), Some(16.7));
        assert_eq!(change_percent(5, 6), Some(-16.7));
        assert_eq!(change_percent(5, 0), None);
    }

    #[test]
    fn previous_periods() {
        let q = Period::quarter("2015/16 Q1").expect("q");
        assert_eq!(
            (q.from.to_string(), q.to.to_string()),
            ("2015-04-01".into(), "2015-06-30".into())
        );
        let p = q.previous();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2015-01-01".into(), "2015-03-31".into())
        );
        let y = q.year_earlier();
        assert_eq!(
            (y.from.to_string(), y.to.to_string()),
            ("2014-04-01".into(), "2014-06-30".into())
        );
        let m = Period::month("2016-03").expect("m");
        let feb = m.previous();
        assert_eq!(
            (feb.from.to_string(), feb.to.to_string()),
            ("2016-02-01".into(), "2016-02-29".into())
        );
        let feb15 = feb.year_earlier();
        assert_eq!(feb15.to.to_string(), "2015-02-28");
        assert!(q.whole_months() && m.whole_months());
        let c = Period::custom(
            NaiveDate::from_ymd_opt(2015, 1, 11).expect("d"),
            NaiveDate::from_ymd_opt(2015, 1, 20).expect("d"),
        )
        .expect("c");
        let before = c.previous();
        assert_eq!(
            (before.from.to_string(), before.to.to_string()),
            ("2015-01-01".into(), "2015-01-10".into())
        );
        assert!(!c.whole_months());
        let half = Period::custom(
            NaiveDate::from_ymd_opt(2015, 4, 1).expect("d"),
            NaiveDate::from_ymd_opt(2015, 9, 30).expect("d"),
        )
        .expect("h");
        let before = half.previous();
        assert_eq!(
            (before.from.to_string(), before.to.to_string()),
            ("2014-10-01".into(), "2015-03-31".into())
        );
        assert!(before.whole_months());
    }
}
