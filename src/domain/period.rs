//! Financial years (1 April - 31 March, written `2014/15`) and their quarters (`2014/15 Q3`).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::error::AppError;

/// The first day of the first whole calendar month from `from` on: `from` itself on a 1st,
/// otherwise the 1st of the next month (None past the calendar's end).
pub fn whole_months_from(from: NaiveDate) -> Option<NaiveDate> {
    if from.day() == 1 {
        return Some(from);
    }
    from.with_day(1)?.checked_add_months(chrono::Months::new(1))
}

/// The last day of the last whole calendar month up to `to`: `to` itself on a month's last
/// day, otherwise the last day of the month before.
pub fn whole_months_to(to: NaiveDate) -> Option<NaiveDate> {
    match to.succ_opt() {
        Some(next) if next.day() == 1 => Some(to),
        _ => to.with_day(1)?.pred_opt(),
    }
}

/// Whether a run of days from `from` to `to`, both included, covers at most ten calendar years
/// (1 January 2005 to 31 December 2014, not to 1 January 2015).
pub fn within_ten_years(from: NaiveDate, to: NaiveDate) -> bool {
    from.checked_add_months(chrono::Months::new(120))
        .is_none_or(|limit| to < limit)
}

/// A financial year, named by the calendar year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinancialYear {
    start: i32,
}

impl FinancialYear {
    pub fn starting(start: i32) -> Result<Self, AppError> {
        if !(1900..=9998).contains(&start) {
            return Err(AppError::BadUserInput(format!(
                "financial year starting {start} is out of range"
            )));
        }
        Ok(Self { start })
    }

    /// The financial year a date falls in.
    pub fn containing(date: NaiveDate) -> Self {
        let start = if date.month() >= 4 {
            date.year()
        } else {
            date.year() - 1
        };
        Self { start }
    }

    pub fn next(self) -> Self {
        Self {
            start: self.start + 1,
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.start, 4, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.start + 1, 3, 31).unwrap_or(NaiveDate::MAX)
    }

    pub fn quarter(self, number: u8) -> Result<Quarter, AppError> {
        if !(1..=4).contains(&number) {
            return Err(AppError::BadUserInput(format!(
                "quarter Q{number} does not exist: quarters are Q1 to Q4"
            )));
        }
        Ok(Quarter { year: self, number })
    }

    pub fn contains(self, quarter: Quarter) -> bool {
        quarter.year == self
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.start, (self.start + 1) % 100)
    }
}

impl FromStr for FinancialYear {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            AppError::BadUserInput(format!(
                "'{s}' is not a financial year: write it like 2014/15 (April 2014 to March 2015)"
            ))
        };
        let (first, second) = s.trim().split_once('/').ok_or_else(bad)?;
        if first.len() != 4 || second.len() != 2 {
            return Err(bad());
        }
        let start: i32 = first.parse().map_err(|_| bad())?;
        let end: i32 = second.parse().map_err(|_| bad())?;
        if (start + 1) % 100 != end {
            return Err(bad());
        }
        Self::starting(start)
    }
}

/// A financial quarter: Q1 April-June, Q2 July-September, Q3 October-December, Q4 January-March.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: FinancialYear,
    number: u8,
}

impl Quarter {
    pub fn year(self) -> FinancialYear {
        self.year
    }

    pub fn number(self) -> u8 {
        self.number
    }

    /// The quarter a date falls in.
    pub fn containing(date: NaiveDate) -> Self {
        let number = match date.month() {
            4..=6 => 1,
            7..=9 => 2,
            10..=12 => 3,
            _ => 4,
        };
        Self {
            year: FinancialYear::containing(date),
            number,
        }
    }

    /// The last day of the quarter: "at the end of Q3 2014/15" is 31 December 2014.
    pub fn last_day(self) -> NaiveDate {
        let start = self.year.start;
        let date = match self.number {
            1 => NaiveDate::from_ymd_opt(start, 6, 30),
            2 => NaiveDate::from_ymd_opt(start, 9, 30),
            3 => NaiveDate::from_ymd_opt(start, 12, 31),
            _ => NaiveDate::from_ymd_opt(start + 1, 3, 31),
        };
        date.unwrap_or(NaiveDate::MAX)
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Q{}", self.year, self.number)
    }
}

impl FromStr for Quarter {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            AppError::BadUserInput(format!(
                "'{s}' is not a financial quarter: write it like 2014/15 Q3 (Q1 is April to June)"
            ))
        };
        let (year, q) = s.trim().split_once(' ').ok_or_else(bad)?;
        let year: FinancialYear = year.parse().map_err(|_| bad())?;
        let number = q
            .strip_prefix('Q')
            .and_then(|n| n.parse::<u8>().ok())
            .ok_or_else(bad)?;
        year.quarter(number).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn financial_years_run_april_to_march() {
        assert_eq!(
            FinancialYear::containing(date(2015, 3, 31)).to_string(),
            "2014/15"
        );
        assert_eq!(
            FinancialYear::containing(date(2015, 4, 1)).to_string(),
            "2015/16"
        );
        assert_eq!(
            FinancialYear::containing(date(1999, 12, 1)).to_string(),
            "1999/00"
        );
    }

    #[test]
    fn quarters_are_financial() {
        assert_eq!(
            Quarter::containing(date(2014, 12, 31)).to_string(),
            "2014/15 Q3"
        );
        assert_eq!(
            Quarter::containing(date(2015, 1, 1)).to_string(),
            "2014/15 Q4"
        );
        assert_eq!(
            Quarter::containing(date(2014, 4, 1)).to_string(),
            "2014/15 Q1"
        );
        assert_eq!(
            Quarter::containing(date(2014, 9, 30)).to_string(),
            "2014/15 Q2"
        );
    }

    #[test]
    fn quarter_end_dates() {
        let q3: Quarter = "2014/15 Q3".parse().expect("parses");
        assert_eq!(q3.last_day(), date(2014, 12, 31));
        let q4: Quarter = "2014/15 Q4".parse().expect("parses");
        assert_eq!(q4.last_day(), date(2015, 3, 31));
    }

    #[test]
    fn parsing_rejects_malformed_periods() {
        for bad in [
            "2014/16",
            "2014-15",
            "14/15",
            "2014/15 Q5",
            "2014/15 Q0",
            "2014/15Q3",
            "",
        ] {
            assert!(
                bad.parse::<Quarter>().is_err(),
                "{bad} should not parse as a quarter"
            );
        }
        assert!("2014/16".parse::<FinancialYear>().is_err());
        assert!("1999/00".parse::<FinancialYear>().is_ok());
    }

    #[test]
    fn quarters_order_across_years() {
        let a: Quarter = "2014/15 Q4".parse().expect("parses");
        let b: Quarter = "2015/16 Q1".parse().expect("parses");
        assert!(a < b);
        // The text form sorts the same way, which the database relies on.
        assert!(a.to_string() < b.to_string());
    }
}
