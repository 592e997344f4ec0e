//! The schema's date and time scalars, named and written as clients expect: `Date` (a calendar
//! day, `YYYY-MM-DD`) and `DateTime` (an instant, RFC 3339 in UTC ending in `Z`). async-graphql's
//! own chrono scalars are named `NaiveDate` and write `+00:00`; these wrap chrono's types and
//! serialise exactly as chrono does (so CSV, JSON reports and stored submissions are unchanged).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, SecondsFormat, Utc};

/// A calendar day (`Date` in the schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Date(pub NaiveDate);

/// A calendar day in the partnership's local calendar, written `YYYY-MM-DD` (RFC 3339
/// full-date), such as `2015-04-01`. Map it to `string` in generated clients: it names a day,
/// not an instant, so it has no time zone (parsing it with JavaScript's `new Date()` gives
/// midnight UTC, the day before west of Greenwich).
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom(format!("{s} is not a day as YYYY-MM-DD"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

impl From<Date> for NaiveDate {
    fn from(d: Date) -> Self {
        d.0
    }
}

impl std::ops::Deref for Date {
    type Target = NaiveDate;
    fn deref(&self) -> &NaiveDate {
        &self.0
    }
}

/// An instant (`DateTime` in the schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub chrono::DateTime<Utc>);

/// An instant, written in RFC 3339 in UTC with a `Z`, such as `2015-05-01T10:00:00Z`
/// (fractions of a second only when there are any). Accepted with any offset
/// (`2015-05-01T11:00:00+01:00` is the same instant). Map it to `string` in generated clients.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            // chrono's lenient reading, as async-graphql's own scalar had it: RFC 3339, and
            // the ISO 8601 forms near it (`+0100`, a space for `T`, `UTC`).
            Value::String(s) => s
                .parse::<chrono::DateTime<Utc>>()
                .map(Timestamp)
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "{s} is not an RFC 3339 time such as 2015-05-01T10:00:00Z"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<Utc>> for Timestamp {
    fn from(t: chrono::DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl From<Timestamp> for chrono::DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl std::ops::Deref for Timestamp {
    type Target = chrono::DateTime<Utc>;
    fn deref(&self) -> &chrono::DateTime<Utc> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_with_z_and_read_with_any_offset() {
        let t = Timestamp::parse(Value::String("2015-05-01T11:00:00+01:00".into())).expect("t");
        assert_eq!(t.to_value(), Value::String("2015-05-01T10:00:00Z".into()));
        let t = Timestamp::parse(Value::String("2015-05-01T10:00:00.25Z".into())).expect("t");
        assert_eq!(
            t.to_value(),
            Value::String("2015-05-01T10:00:00.250Z".into())
        );
        assert!(Timestamp::parse(Value::String("2015-05-01".into())).is_err());
        // Read as before the scalar was renamed.
        let t = Timestamp::parse(Value::String("2015-05-01 11:00:00+0100".into())).expect("t");
        assert_eq!(t.to_value(), Value::String("2015-05-01T10:00:00Z".into()));
    }

    #[test]
    fn days_are_written_and_read_as_yyyy_mm_dd() {
        let d = Date::parse(Value::String("2015-04-01".into())).expect("d");
        assert_eq!(d.to_value(), Value::String("2015-04-01".into()));
        assert!(Date::parse(Value::String("01/04/2015".into())).is_err());
        assert!(Date::parse(Value::String("2015-02-30".into())).is_err());
        assert_eq!(
            serde_json::to_value(d).expect("json"),
            serde_json::json!("2015-04-01")
        );
    }
}
