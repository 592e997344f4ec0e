//! Depersonalised incident records pushed by partner systems: the shape a partner sends, the
//! checks each record passes, and the canonical form csphub stores. There is nowhere to put a
//! name, free text or an address: unknown fields are rejected.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::vocabulary::{TermProblem, Vocabularies, Vocabulary};

/// The longest external reference a partner may use.
pub const MAX_REF_LEN: usize = 64;
/// The longest any other text of a record may be (codes, dates, areas, postcodes).
pub const MAX_FIELD_LEN: usize = 64;
/// How far ahead of the server's clock a partner's timestamp may be.
pub const CLOCK_SKEW_MINUTES: i64 = 5;
/// First characters that make a spreadsheet run a cell as a formula (OWASP, CSV injection).
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// What statistics, filters and table sets call the place of records without a location. No
/// area may take the code.
pub const NO_AREA: &str = "no-area";

/// A text shortened to at most `max` characters, for echoing back in a rejection.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// A record as a partner sends it (JSON, NDJSON, CSV or GraphQL all become this).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncidentInput {
    pub external_ref: String,
    /// The agency whose record it is (its slug), as an export writes it: left out, the pushing
    /// agency's; naming another agency, the record is refused (OTHER_AGENCY).
    #[serde(default)]
    pub source_agency: Option<String>,
    #[serde(default)]
    pub partnership: Option<String>,
    pub category: String,
    pub occurred_at: String,
    #[serde(default)]
    pub reported_at: Option<String>,
    /// The area's code; left out (with `lsoa`) for a record without a location.
    #[serde(default)]
    pub area: Option<String>,
    /// The LSOA (census lower layer super output area, e.g. `E01023720`) the record is in: it
    /// places the record in the area that lists it when `area` is left out.
    #[serde(default)]
    pub lsoa: Option<String>,
    #[serde(default)]
    pub postcode_district: Option<String>,
    #[serde(default)]
    pub domestic_abuse: bool,
    #[serde(default)]
    pub alcohol_related: bool,
    #[serde(default)]
    pub youth_related: bool,
    #[serde(default)]
    pub hate_strands: Vec<String>,
    #[serde(default)]
    pub drug_class: Option<String>,
    #[serde(default)]
    pub asb_type: Option<String>,
    #[serde(default)]
    pub fire_type: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
}

/// Why one record of a push was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub index: usize,
    pub external_ref: Option<String>,
    pub code: &'static str,
    pub message: String,
    /// For a CSV push: the line of the body the record starts on (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// For a CSV push: the column the message is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

/// Every code a rejection can carry (docs/api.md lists them with their meaning).
pub const REJECTION_CODES: [&str; 19] = [
    "CATEGORY_NOT_IN_FORCE",
    "DUPLICATE_REF",
    "INCONSISTENT",
    "INVALID_DATE",
    "INVALID_LSOA",
    "INVALID_POSTCODE",
    "INVALID_RECORD",
    "INVALID_REF",
    "INVALID_VALUE",
    "MISSING_FIELD",
    "OTHER_AGENCY",
    "POSTCODE_TOO_FINE",
    "REF_TOO_LONG",
    "UNKNOWN_AREA",
    "UNKNOWN_CATEGORY",
    "UNKNOWN_LSOA",
    "UNKNOWN_PARTNERSHIP",
    "UNKNOWN_VALUE",
    "VALUE_NOT_IN_FORCE",
];

/// A rejection's code read back from a service's answer; one this build does not know is
/// INVALID_RECORD.
pub fn rejection_code(code: &str) -> &'static str {
    REJECTION_CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("INVALID_RECORD")
}

/// A partnership a pushing agency may push into, with its areas by code and by the LSOAs they
/// list.
#[derive(Debug, Clone)]
pub struct PushTarget {
    pub id: Uuid,
    pub slug: String,
    pub areas: HashMap<String, Uuid>,
    /// LSOA code to the area (id, code) that lists it.
    pub lsoas: HashMap<String, (Uuid, String)>,
    /// LSOA codes no area lists, to the area (id, code) they lie in through the ONS's
    /// 2011-to-2021 lookup: they place a record that names no area, and never contradict one
    /// that does.
    pub through_lookup: HashMap<String, (Uuid, String)>,
}

/// What the checks need: the partnerships in scope and the vocabularies.
pub struct PushContext<'a> {
    /// The pushing agency's slug.
    pub agency: &'a str,
    pub targets: &'a [PushTarget],
    pub vocabularies: &'a Vocabularies,
    pub now: DateTime<Utc>,
}

/// A checked record in canonical form.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    /// The record's position in its request.
    #[serde(skip)]
    pub index: usize,
    pub external_ref: String,
    pub partnership_id: Uuid,
    pub partnership: String,
    pub category: String,
    pub occurred_at: DateTime<Utc>,
    pub occurred_on: NaiveDate,
    pub reported_at: Option<DateTime<Utc>>,
    /// None for a record without a location.
    pub area_id: Option<Uuid>,
    pub area: Option<String>,
    pub lsoa: Option<String>,
    pub postcode_district: Option<String>,
    pub domestic_abuse: bool,
    pub alcohol_related: bool,
    pub youth_related: bool,
    pub hate_strands: Vec<String>,
    pub drug_class: Option<String>,
    pub asb_type: Option<String>,
    pub fire_type: Option<String>,
    pub outcome: Option<String>,
    pub status: &'static str,
    pub cancel_reason: Option<String>,
    pub content_hash: String,
}

/// The Europe/London calendar date of an instant: months, quarters and financial years of
/// incidents count by it (2015-03-31T23:30:00Z is 1 April 2015 in London).
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

fn parse_instant(value: &str, field: &str) -> Result<DateTime<Utc>, (&'static str, String)> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            (
                "INVALID_DATE",
                format!(
                    "{field} '{value}' is not an RFC 3339 date-time such as 2015-03-31T23:30:00Z"
                ),
            )
        })
}

/// An outward postcode (the district, e.g. `SG1`), upper-cased. Anything finer is refused.
pub fn outward_code(value: &str) -> Result<String, (&'static str, String)> {
    let v = value.trim().to_ascii_uppercase();
    let valid = |s: &str| {
        let b = s.as_bytes();
        let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        (1..=2).contains(&letters)
            && b.len() > letters
            && b[letters].is_ascii_digit()
            && b.len() <= letters + 2
            && b[letters + 1..].iter().all(|c| c.is_ascii_alphanumeric())
    };
    if valid(&v) {
        return Ok(v);
    }
    let outward = v.split_whitespace().next().unwrap_or_default();
    // `get`, not indexing: the last three bytes may cut a character in two (found by fuzzing:
    // "D拂öÿ" panicked here).
    let without_inward = v.len().checked_sub(3).and_then(|end| v.get(..end));
    if v.contains(' ') && valid(outward) || v.len() > 4 && without_inward.is_some_and(valid) {
        return Err((
            "POSTCODE_TOO_FINE",
            format!(
                "postcodeDistrict '{value}' is finer than an outward code: send only the district, such as {outward_hint}",
                outward_hint = if valid(outward) { outward } else { "SG1" }
            ),
        ));
    }
    Err((
        "INVALID_POSTCODE",
        format!("postcodeDistrict '{value}' is not an outward postcode such as SG1"),
    ))
}

fn optional_text(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// An ONS code: a letter (E, W, S, N) and eight digits, such as `E07000243`, in capitals.
pub fn ons_code(value: &str) -> Option<String> {
    let v = value.trim().to_ascii_uppercase();
    let ok = v.len() == 9
        && v.starts_with(['E', 'W', 'S', 'N'])
        && v[1..].bytes().all(|b| b.is_ascii_digit());
    ok.then_some(v)
}

/// An LSOA code (2011 or 2021 census, England `E01` or Wales `W01`), in capitals.
pub fn lsoa_code(value: &str) -> Result<String, (&'static str, String)> {
    let code = value.trim().to_ascii_uppercase();
    let ok = code.len() == 9
        && (code.starts_with("E01") || code.starts_with("W01"))
        && code[3..].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(code)
    } else {
        Err((
            "INVALID_LSOA",
            format!(
                "lsoa '{}' is not an LSOA code such as E01023720",
                clip(value.trim(), 16)
            ),
        ))
    }
}

type Place = (Option<Uuid>, Option<String>, Option<String>);

/// Where a record is: the area it names, or else the area that lists its LSOA, or no area at
/// all when it gives neither. An LSOA no area lists is refused, never guessed into one.
fn place(
    target: &PushTarget,
    area: &Option<String>,
    lsoa: &Option<String>,
) -> Result<Place, (&'static str, String)> {
    let lsoa = match optional_text(lsoa) {
        Some(l) => Some(lsoa_code(&l)?),
        None => None,
    };
    let listed = lsoa.as_ref().and_then(|l| target.lsoas.get(l));
    match (optional_text(area), &lsoa) {
        (Some(code), _) => {
            let id = *target.areas.get(&code).ok_or_else(|| {
                (
                    "UNKNOWN_AREA",
                    format!(
                        "area '{code}' is not an area of partnership '{}'",
                        target.slug
                    ),
                )
            })?;
            if let (Some(l), Some((other, other_code))) = (&lsoa, listed)
                && *other != id
            {
                return Err((
                    "INCONSISTENT",
                    format!("lsoa {l} is in area '{other_code}', not '{code}'"),
                ));
            }
            Ok((Some(id), Some(code), lsoa))
        }
        (None, Some(l)) => match listed.or_else(|| target.through_lookup.get(l)) {
            Some((id, code)) => Ok((Some(*id), Some(code.clone()), lsoa.clone())),
            None => Err((
                "UNKNOWN_LSOA",
                format!(
                    "lsoa {l} is in no area of partnership '{}' (an area lists its LSOAs)",
                    target.slug
                ),
            )),
        },
        (None, None) => Ok((None, None, None)),
    }
}

fn term(
    ctx: &PushContext<'_>,
    vocabulary: Vocabulary,
    field: &str,
    code: &str,
    on: NaiveDate,
) -> Result<(), (&'static str, String)> {
    match ctx.vocabularies.check(vocabulary, code, on) {
        Ok(()) => Ok(()),
        Err(TermProblem::Unknown) if vocabulary == Vocabulary::CrimeCategory => Err((
            "UNKNOWN_CATEGORY",
            format!("category '{code}' is not a known crime category (see the vocabularies query)"),
        )),
        Err(TermProblem::Unknown) => Err((
            "UNKNOWN_VALUE",
            format!(
                "{field} '{code}' is not in the {} vocabulary",
                vocabulary.as_str()
            ),
        )),
        Err(TermProblem::NotInForce { ranges }) if vocabulary == Vocabulary::CrimeCategory => {
            Err((
                "CATEGORY_NOT_IN_FORCE",
                format!("category '{code}' was not in force on {on} (in force {ranges})"),
            ))
        }
        Err(TermProblem::NotInForce { ranges }) => Err((
            "VALUE_NOT_IN_FORCE",
            format!("{field} '{code}' was not in force on {on} (in force {ranges})"),
        )),
    }
}

impl IncidentInput {
    /// Every text the record carries, by its field name.
    fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![
            ("externalRef", self.external_ref.as_str()),
            (
                "sourceAgency",
                self.source_agency.as_deref().unwrap_or_default(),
            ),
            ("category", self.category.as_str()),
            ("occurredAt", self.occurred_at.as_str()),
        ];
        for (name, v) in [
            ("area", &self.area),
            ("lsoa", &self.lsoa),
            ("partnership", &self.partnership),
            ("reportedAt", &self.reported_at),
            ("postcodeDistrict", &self.postcode_district),
            ("drugClass", &self.drug_class),
            ("asbType", &self.asb_type),
            ("fireType", &self.fire_type),
            ("outcome", &self.outcome),
            ("status", &self.status),
            ("cancelReason", &self.cancel_reason),
        ] {
            if let Some(v) = v {
                out.push((name, v.as_str()));
            }
        }
        out.extend(
            self.hate_strands
                .iter()
                .map(|s| ("hateStrands", s.as_str())),
        );
        out
    }

    /// Refuses control characters (NUL above all, which PostgreSQL cannot store) and texts
    /// longer than any valid value, before anything is echoed back in a message.
    fn check_texts(&self) -> Result<(), (&'static str, String)> {
        for (field, value) in self.texts() {
            if value.chars().any(char::is_control) {
                return Err((
                    "INVALID_VALUE",
                    format!("{field} contains a control character (such as NUL or a line break)"),
                ));
            }
            if value.chars().any(super::text::is_invisible) {
                return Err((
                    "INVALID_VALUE",
                    format!("{field} {}", super::text::INVISIBLE),
                ));
            }
            let limit = if field == "externalRef" {
                MAX_REF_LEN
            } else {
                MAX_FIELD_LEN
            };
            let len = value.trim().chars().count();
            if len > limit {
                let code = if field == "externalRef" {
                    "REF_TOO_LONG"
                } else {
                    "INVALID_VALUE"
                };
                return Err((
                    code,
                    format!("{field} is {len} characters; at most {limit} are allowed"),
                ));
            }
        }
        Ok(())
    }

    /// The partnership the record names, or the push's only one when it names none.
    fn target<'t>(
        &self,
        targets: &'t [PushTarget],
    ) -> Result<&'t PushTarget, (&'static str, String)> {
        match self.partnership.as_deref().map(str::trim) {
            Some(slug) if !slug.is_empty() => {
                targets.iter().find(|t| t.slug == slug).ok_or_else(|| {
                    (
                        "UNKNOWN_PARTNERSHIP",
                        format!("partnership '{slug}' is not one this token may push into"),
                    )
                })
            }
            _ => match targets {
                [only] => Ok(only),
                _ => Err((
                    "MISSING_FIELD",
                    "partnership is required: the token names more than one partnership".to_owned(),
                )),
            },
        }
    }

    /// The id of the partnership the record goes to, when the push may go there: the push log
    /// counts a rejected record in it.
    pub fn partnership_in(&self, targets: &[PushTarget]) -> Option<Uuid> {
        self.target(targets).ok().map(|t| t.id)
    }

    /// Checks the record and returns it in canonical form, or the first problem with it.
    pub fn check(&self, ctx: &PushContext<'_>) -> Result<Incident, (&'static str, String)> {
        self.check_texts()?;
        if let Some(source) = optional_text(&self.source_agency)
            && source != ctx.agency
        {
            return Err((
                "OTHER_AGENCY",
                format!(
                    "the record is {source}'s, and an agency pushes and changes only its own \
                     records (this push is {}'s): leave sourceAgency out or name your own agency",
                    ctx.agency
                ),
            ));
        }
        let external_ref = self.external_ref.trim().to_owned();
        if external_ref.is_empty() {
            return Err(("MISSING_FIELD", "externalRef must not be blank".to_owned()));
        }
        if external_ref.starts_with(FORMULA_STARTS) {
            return Err((
                "INVALID_REF",
                "externalRef may not begin with =, +, -, @, a tab or a carriage return: a \
                 spreadsheet opening the export would run it as a formula"
                    .to_owned(),
            ));
        }
        let target = self.target(ctx.targets)?;
        let occurred_at = parse_instant(&self.occurred_at, "occurredAt")?;
        let occurred_on = london_date(occurred_at);
        let latest = ctx.now + chrono::Duration::minutes(CLOCK_SKEW_MINUTES);
        if occurred_at > latest {
            return Err((
                "INVALID_DATE",
                format!("occurredAt {occurred_at} is in the future"),
            ));
        }
        let reported_at = match optional_text(&self.reported_at) {
            Some(r) => Some(parse_instant(&r, "reportedAt")?),
            None => None,
        };
        if let Some(r) = reported_at.filter(|r| *r > latest) {
            return Err(("INVALID_DATE", format!("reportedAt {r} is in the future")));
        }
        if reported_at.is_some_and(|r| r < occurred_at) {
            return Err(("INVALID_DATE", "reportedAt is before occurredAt".to_owned()));
        }
        let category = self.category.trim().to_owned();
        term(
            ctx,
            Vocabulary::CrimeCategory,
            "category",
            &category,
            occurred_on,
        )?;
        let (area_id, area_code, lsoa) = place(target, &self.area, &self.lsoa)?;
        let postcode_district = match optional_text(&self.postcode_district) {
            Some(p) => Some(outward_code(&p)?),
            None => None,
        };
        let mut hate_strands: Vec<String> = self
            .hate_strands
            .iter()
            .map(|s| s.trim().to_owned())
            .collect();
        hate_strands.sort();
        hate_strands.dedup();
        for s in &hate_strands {
            term(ctx, Vocabulary::HateStrand, "hateStrands", s, occurred_on)?;
        }
        let drug_class = optional_text(&self.drug_class).map(|c| c.to_ascii_lowercase());
        if let Some(c) = &drug_class {
            term(ctx, Vocabulary::DrugClass, "drugClass", c, occurred_on)?;
        }
        let asb_type = optional_text(&self.asb_type);
        match (&asb_type, category == "anti-social-behaviour") {
            (Some(t), true) => term(ctx, Vocabulary::AsbType, "asbType", t, occurred_on)?,
            // Many feeds (data.police.uk among them) do not carry the NSIR qualifier: such a
            // record counts under "not-recorded" when statistics group by ASB_TYPE.
            (None, true) => {}
            (Some(_), false) => {
                return Err((
                    "INCONSISTENT",
                    "asbType applies only to anti-social-behaviour".to_owned(),
                ));
            }
            (None, false) => {}
        }
        let fire_type = optional_text(&self.fire_type);
        let fire_category = category == "deliberate-fire" || category == "criminal-damage-arson";
        match (&fire_type, fire_category) {
            (Some(t), true) => term(ctx, Vocabulary::FireType, "fireType", t, occurred_on)?,
            (None, true) if category == "deliberate-fire" => {
                return Err((
                    "MISSING_FIELD",
                    "fireType (primary, primary-vehicle or secondary) is required for deliberate-fire".to_owned(),
                ));
            }
            (Some(_), false) => {
                return Err((
                    "INCONSISTENT",
                    "fireType applies only to deliberate-fire and criminal-damage-arson".to_owned(),
                ));
            }
            _ => {}
        }
        let outcome = optional_text(&self.outcome);
        if let Some(o) = &outcome {
            term(ctx, Vocabulary::Outcome, "outcome", o, occurred_on)?;
        }
        let status = match optional_text(&self.status).as_deref() {
            None | Some("ACTIVE") => "ACTIVE",
            Some("CANCELLED") => "CANCELLED",
            Some(other) => {
                return Err((
                    "UNKNOWN_VALUE",
                    format!("status '{other}' must be ACTIVE or CANCELLED"),
                ));
            }
        };
        let cancel_reason = optional_text(&self.cancel_reason);
        match (status, &cancel_reason) {
            ("CANCELLED", None) => {
                return Err((
                    "MISSING_FIELD",
                    "cancelReason is required when status is CANCELLED".to_owned(),
                ));
            }
            ("ACTIVE", Some(_)) => {
                return Err((
                    "INCONSISTENT",
                    "cancelReason applies only to CANCELLED records".to_owned(),
                ));
            }
            _ => {}
        }
        if let Some(r) = &cancel_reason {
            term(
                ctx,
                Vocabulary::CancelReason,
                "cancelReason",
                r,
                occurred_on,
            )?;
        }
        let mut incident = Incident {
            index: 0,
            external_ref,
            partnership_id: target.id,
            partnership: target.slug.clone(),
            category,
            occurred_at,
            occurred_on,
            reported_at,
            area_id,
            area: area_code,
            lsoa,
            postcode_district,
            domestic_abuse: self.domestic_abuse,
            alcohol_related: self.alcohol_related,
            youth_related: self.youth_related,
            hate_strands,
            drug_class,
            asb_type,
            fire_type,
            outcome,
            status,
            cancel_reason,
            content_hash: String::new(),
        };
        incident.content_hash = incident.hash();
        Ok(incident)
    }
}

impl Incident {
    /// A digest of everything a partner says about the record: equal digests mean an unchanged
    /// record.
    fn hash(&self) -> String {
        let mut canonical = serde_json::json!([
            self.partnership,
            self.category,
            self.occurred_at.timestamp_micros(),
            self.reported_at.map(|r| r.timestamp_micros()),
            self.area,
            self.postcode_district,
            self.domestic_abuse,
            self.alcohol_related,
            self.youth_related,
            self.hate_strands,
            self.drug_class,
            self.asb_type,
            self.fire_type,
            self.outcome,
            self.status,
            self.cancel_reason,
        ]);
        // Appended only when present, so that records pushed before LSOAs keep their digests.
        if let (Some(lsoa), Some(list)) = (&self.lsoa, canonical.as_array_mut()) {
            list.push(serde_json::Value::from(lsoa.as_str()));
        }
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Checks a batch: each record is applied or rejected on its own. A record whose
/// `externalRef` repeats an earlier one in the same batch is rejected.
pub fn check_batch(
    records: Vec<Result<IncidentInput, String>>,
    ctx: &PushContext<'_>,
) -> (Vec<Incident>, Vec<Rejection>) {
    let mut valid = Vec::with_capacity(records.len());
    let mut rejected = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let input = match record {
            Ok(input) => input,
            Err(message) => {
                rejected.push(Rejection {
                    index,
                    external_ref: None,
                    code: "INVALID_RECORD",
                    message,
                    line: None,
                    column: None,
                });
                continue;
            }
        };
        match input.check(ctx) {
            Ok(mut incident) => {
                incident.index = index;
                if let Some(first) = seen.get(&incident.external_ref) {
                    rejected.push(Rejection {
                        index,
                        external_ref: Some(clip(&incident.external_ref, MAX_REF_LEN)),
                        code: "DUPLICATE_REF",
                        message: format!("externalRef repeats record {first} of this request"),
                        line: None,
                        column: None,
                    });
                } else {
                    seen.insert(incident.external_ref.clone(), index);
                    valid.push(incident);
                }
            }
            Err((code, message)) => rejected.push(Rejection {
                index,
                external_ref: Some(clip(&input.external_ref, MAX_REF_LEN)),
                code,
                message,
                line: None,
                column: None,
            }),
        }
    }
    (valid, rejected)
}

pub use super::incident_file::{CSV_COLUMNS, CsvHeader, CsvRows, from_csv_row, from_json};

#[cfg(test)]
mod tests {
    use super::outward_code;

    /// Found by fuzzing the push: a postcode whose last three bytes cut a character in two
    /// panicked (a byte slice), and the request answered INTERNAL.
    #[test]
    fn a_postcode_of_multibyte_characters_is_refused_not_a_panic() {
        for value in [
            "D\u{62c2}\u{f6}\u{ff}",
            "\u{f6}\u{f6}\u{f6}",
            "\u{1f600}\u{1f600}",
        ] {
            let e = outward_code(value).expect_err(value);
            assert_eq!(e.0, "INVALID_POSTCODE", "{value}");
        }
        assert_eq!(outward_code("sg1").expect("valid"), "SG1");
        assert_eq!(
            outward_code("SG1 2AB").expect_err("too fine").0,
            "POSTCODE_TOO_FINE"
        );
        assert_eq!(
            outward_code("SG12AB").expect_err("too fine").0,
            "POSTCODE_TOO_FINE"
        );
    }

    use super::*;

    #[test]
    fn long_texts_are_clipped_for_echoing_back() {
        assert_eq!(clip("short", 8), "short");
        assert_eq!(clip("ééééé", 3), "ééé…");
    }

    #[test]
    fn london_dates_follow_british_summer_time() {
        let late = DateTime::parse_from_rfc3339("2015-03-31T23:30:00Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(
            london_date(late),
            NaiveDate::from_ymd_opt(2015, 4, 1).expect("date")
        );
        let winter = DateTime::parse_from_rfc3339("2015-01-31T23:30:00Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(
            london_date(winter),
            NaiveDate::from_ymd_opt(2015, 1, 31).expect("date")
        );
    }

    #[test]
    fn only_outward_postcodes_are_accepted() {
        assert_eq!(outward_code("sg1").expect("ok"), "SG1");
        assert_eq!(outward_code("SG19").expect("ok"), "SG19");
        assert_eq!(outward_code("EC1A").expect("ok"), "EC1A");
        assert_eq!(
            outward_code("SG1 1HN").expect_err("finer").0,
            "POSTCODE_TOO_FINE"
        );
        assert_eq!(
            outward_code("SG11HN").expect_err("finer").0,
            "POSTCODE_TOO_FINE"
        );
        assert_eq!(
            outward_code("Stevenage").expect_err("bad").0,
            "INVALID_POSTCODE"
        );
    }
}
