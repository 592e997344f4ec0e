//! `csphub import police-uk FILE... --agency A --partnership P`: data.police.uk's files as they
//! are downloaded, through the same checks and upsert as the partner push.
//!
//! - The monthly street CSV (`Crime ID, Month, Reported by, Falls within, Longitude, Latitude,
//!   Location, LSOA code, LSOA name, Crime type, Last outcome category, Context`): one record
//!   per row, its category and outcome mapped from their names through the vocabularies'
//!   labels and aliases.
//! - The outcomes CSV (`Crime ID, Month, ..., Outcome type`): updates the outcome of crimes
//!   already held (the latest month's outcome of each), and nothing else.
//! - The API's street-level crimes JSON (an array of `{category, persistent_id, month,
//!   location, outcome_status, ...}`).
//!
//! A record's `externalRef` is data.police.uk's persistent crime id; a row without one (all
//! anti-social behaviour) gets a stable hash of its month, category and published place, and
//! its position among identical rows of the file, so a re-import changes nothing. The place
//! kept is the LSOA and the area that lists it: coordinates, street names and the free-text
//! context are read only to tell rows apart and never stored. A row in an LSOA no area of the
//! partnership lists is outside the partnership (a force's file covers several districts) and
//! is skipped; a row without a location (the force area's) is skipped unless
//! `--keep-no-location` keeps it without an area. The API's JSON gives a point and no LSOA:
//! with the boundaries of the partnership's LSOAs held, each point is placed in its LSOA
//! (point in polygon, `domain::map::Locator`) and then forgotten; without them, its records
//! have no area unless `--area` names the one the file was fetched for.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};

use super::Importer;
use crate::db;
use crate::domain::incident::{IncidentInput, Rejection};
use crate::domain::vocabulary::{Vocabularies, Vocabulary};

mod place;
use place::{Point, keep_held_places, place_points};

/// Which of data.police.uk's files a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Street,
    Outcomes,
    Api,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Street => "street CSV",
            Kind::Outcomes => "outcomes CSV",
            Kind::Api => "API street-level crimes JSON",
        }
    }
}

/// A crime or ASB record as a file gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct CrimeRow {
    /// The line of a CSV file, or the position (from 1) in the JSON array.
    pub line: usize,
    pub crime_id: Option<String>,
    pub month: String,
    pub lsoa: Option<String>,
    /// A name (CSV) or a code (JSON).
    pub crime_type: String,
    /// The outcome's name.
    pub outcome: Option<String>,
    /// The month the outcome was recorded, where the file says it (the API's
    /// `outcome_status.date`; a street CSV does not).
    pub outcome_month: Option<NaiveDate>,
    /// The published place (location text and coordinates): read only to tell apart rows
    /// without a crime id, never stored.
    pub place: String,
    /// False for "No location" rows.
    pub located: bool,
    /// The API's point (longitude, latitude): read only to place the record in its LSOA, never
    /// stored.
    pub point: Option<(f64, f64)>,
}

/// One row of an outcomes CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRow {
    pub line: usize,
    pub crime_id: String,
    pub month: String,
    pub outcome: String,
}

/// A file, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Crimes {
        kind: Kind,
        rows: Vec<Result<CrimeRow, (usize, String)>>,
    },
    Outcomes(Vec<Result<OutcomeRow, (usize, String)>>),
}

fn nonempty(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Reads a file's text as whichever of the three it is (a byte order mark is allowed).
pub fn parse(text: &str) -> Result<Parsed, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[') {
        return parse_api(text);
    }
    // The csv crate counts lines one short after CRLF line ends; data.police.uk's files have
    // them.
    let text = text.replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("unreadable CSV header: {e}"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            format!("not a data.police.uk street or outcomes file: no '{name}' column")
        })
    };
    let (id, month) = (need("Crime ID")?, need("Month")?);
    let width = header.len();
    let outcomes = col("Outcome type");
    let kind_cols = match outcomes {
        Some(o) => Err(o),
        None => Ok((
            need("Crime type")?,
            need("Last outcome category")?,
            need("LSOA code")?,
            need("Location")?,
        )),
    };
    let (lat, lng) = (col("Latitude"), col("Longitude"));
    let mut crimes = Vec::new();
    let mut outcome_rows = Vec::new();
    for row in reader.records() {
        let (line, row) = match row {
            Ok(r) => (
                usize::try_from(r.position().map_or(0, |p| p.line())).unwrap_or(0),
                r,
            ),
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                let fail = (line, format!("unreadable CSV row: {e}"));
                match kind_cols {
                    Ok(_) => crimes.push(Err(fail)),
                    Err(_) => outcome_rows.push(Err(fail)),
                }
                continue;
            }
        };
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if row.len() != width {
            let fail = (
                line,
                format!("the row has {} fields; the header has {width}", row.len()),
            );
            match kind_cols {
                Ok(_) => crimes.push(Err(fail)),
                Err(_) => outcome_rows.push(Err(fail)),
            }
            continue;
        }
        let get = |i: usize| row.get(i).unwrap_or("").trim();
        match kind_cols {
            Err(o) => outcome_rows.push(match nonempty(get(id)) {
                Some(crime_id) => Ok(OutcomeRow {
                    line,
                    crime_id,
                    month: get(month).to_owned(),
                    outcome: get(o).to_owned(),
                }),
                None => Err((line, "an outcome row needs its Crime ID".to_owned())),
            }),
            Ok((crime_type, outcome, lsoa, location)) => {
                let lsoa = nonempty(get(lsoa));
                let located = lsoa.is_some() && !get(location).eq_ignore_ascii_case("No location");
                crimes.push(Ok(CrimeRow {
                    line,
                    crime_id: nonempty(get(id)),
                    month: get(month).to_owned(),
                    lsoa: lsoa.filter(|_| located),
                    crime_type: get(crime_type).to_owned(),
                    outcome: nonempty(get(outcome)),
                    outcome_month: None,
                    place: [get(location), lat.map_or("", get), lng.map_or("", get)].join("|"),
                    point: None,
                    located,
                }));
            }
        }
    }
    Ok(match kind_cols {
        Ok(_) => Parsed::Crimes {
            kind: Kind::Street,
            rows: crimes,
        },
        Err(_) => Parsed::Outcomes(outcome_rows),
    })
}

fn parse_api(text: &str) -> Result<Parsed, String> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| format!("not data.police.uk's street-level crimes JSON: {e}"))?;
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let line = i + 1;
            let category = item
                .get("category")
                .and_then(|c| c.as_str())
                .ok_or_else(|| (line, "a crime needs its category".to_owned()))?;
            let month = item
                .get("month")
                .and_then(|c| c.as_str())
                .ok_or_else(|| (line, "a crime needs its month".to_owned()))?;
            let location = item.get("location").filter(|l| l.is_object());
            let point = match location {
                Some(l) => {
                    let number = |k: &str| {
                        l.get(k)
                            .map(text_of)
                            .and_then(|v| v.parse::<f64>().ok())
                            .filter(|v| v.is_finite())
                    };
                    match (number("longitude"), number("latitude")) {
                        (Some(x), Some(y)) => Some((x, y)),
                        _ => {
                            return Err((
                                line,
                                "a location needs its latitude and longitude as numbers".to_owned(),
                            ));
                        }
                    }
                }
                None => None,
            };
            let place = location.map_or(String::new(), |l| {
                [
                    l.pointer("/street/name").map(text_of).unwrap_or_default(),
                    l.get("latitude").map(text_of).unwrap_or_default(),
                    l.get("longitude").map(text_of).unwrap_or_default(),
                ]
                .join("|")
            });
            Ok(CrimeRow {
                line,
                crime_id: item
                    .get("persistent_id")
                    .and_then(|p| p.as_str())
                    .and_then(nonempty),
                month: month.trim().to_owned(),
                lsoa: None,
                crime_type: category.trim().to_owned(),
                outcome: item
                    .pointer("/outcome_status/category")
                    .and_then(|c| c.as_str())
                    .and_then(nonempty),
                outcome_month: item
                    .pointer("/outcome_status/date")
                    .and_then(|d| d.as_str())
                    .and_then(|d| month_date(d.trim()).ok()),
                located: location.is_some(),
                place,
                point,
            })
        })
        .collect();
    Ok(Parsed::Crimes {
        kind: Kind::Api,
        rows,
    })
}

/// The first day of a `YYYY-MM` month.
fn month_date(month: &str) -> Result<NaiveDate, String> {
    let ok = month.len() == 7 && month.as_bytes().get(4) == Some(&b'-');
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| format!("Month '{month}' is not YYYY-MM"))
}

/// The first instant of a `YYYY-MM` month that is the 1st in London too (midday UTC).
fn month_start(month: &str) -> Result<String, String> {
    month_date(month).map(|d| format!("{d}T12:00:00Z"))
}

/// What the import of one file did.
#[derive(Debug, Default)]
pub struct FileReport {
    pub path: PathBuf,
    pub kind: Option<Kind>,
    /// Rows read (crimes, or outcomes).
    pub rows: usize,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rejections, by line of the file.
    pub rejected: Vec<Rejection>,
    /// Rows in an LSOA no area of the partnership lists.
    pub outside: usize,
    /// Rows without a location: the force area's, not any district's, so skipped unless
    /// `--keep-no-location` keeps them without an area.
    pub no_location: usize,
    /// Outcomes of crimes not held.
    pub not_held: usize,
    /// Outcomes of a month before the one whose outcome the crime holds: skipped, so that a
    /// crime keeps its latest outcome whatever order the months are imported in.
    pub older: usize,
    /// Crimes of a street file that keep the outcome an outcomes file gave them.
    pub kept_later_outcome: usize,
    /// The API's records placed in an LSOA by their point.
    pub placed_by_point: usize,
    /// The API's records whose point lies in none of the partnership's LSOAs: skipped.
    pub outside_by_point: usize,
    /// The partnership's LSOAs whose boundary is not held, when the file has points: with any,
    /// no point is placed (`--area` applies instead).
    pub boundaries_missing: usize,
}

/// Options of the import.
pub struct Options {
    /// Keep rows without a location (data.police.uk's "No location": the force area's, not
    /// any district's), without an area: for a force-level partnership. A district's import
    /// leaves them out, so that two districts importing the same county files each take only
    /// their own rows.
    pub keep_no_location: bool,
    /// The area the API JSON's records are placed in when the boundaries of the
    /// partnership's LSOAs are not held.
    pub area: Option<String>,
}

/// Imports the files: crimes (street CSV, API JSON) first, then outcomes, whatever their
/// order on the command line.
pub async fn import(
    db: &DatabaseConnection,
    importer: &Importer,
    paths: &[PathBuf],
    options: &Options,
) -> anyhow::Result<Vec<FileReport>> {
    let mut parsed = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))?;
        let file = parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        parsed.push((path.clone(), file));
    }
    // Crimes first, then outcomes files month by month.
    parsed.sort_by_cached_key(|(_, f)| match f {
        Parsed::Outcomes(rows) => (
            true,
            rows.iter()
                .filter_map(|r| r.as_ref().ok().map(|r| r.month.clone()))
                .max(),
        ),
        Parsed::Crimes { .. } => (false, None),
    });
    let vocabularies = db::vocabulary::load(db).await?;
    let ids: Vec<uuid::Uuid> = importer.scope.iter().map(|p| p.id).collect();
    let areas = db::area::areas_in(db, &ids).await?;
    let mut lsoas: HashSet<String> = areas.into_iter().flat_map(|a| a.lsoas).collect();
    let placing = place_points(db, &lsoas, &mut parsed).await?;
    // LSOAs of the other vintage (2011 or 2021) that lie in an area through the ONS lookup.
    let unlisted: Vec<(uuid::Uuid, String)> = parsed
        .iter()
        .filter_map(|(_, f)| match f {
            Parsed::Crimes { rows, .. } => Some(rows),
            Parsed::Outcomes(_) => None,
        })
        .flatten()
        .filter_map(|r| {
            r.as_ref()
                .ok()?
                .lsoa
                .as_ref()
                .map(|l| l.to_ascii_uppercase())
        })
        .filter(|l| !lsoas.contains(l))
        .collect::<std::collections::BTreeSet<String>>()
        .into_iter()
        .flat_map(|l| ids.iter().map(move |id| (*id, l.clone())))
        .collect();
    lsoas.extend(
        db::geography::placed_through_lookup(db, &unlisted)
            .await?
            .into_keys()
            .map(|(_, lsoa)| lsoa),
    );
    let mut reports = Vec::new();
    for (path, file) in parsed {
        let report = match file {
            Parsed::Crimes { kind, rows } => {
                let mut report = FileReport {
                    path,
                    kind: Some(kind),
                    boundaries_missing: if kind == Kind::Api {
                        placing.missing
                    } else {
                        0
                    },
                    ..FileReport::default()
                };
                let places = Places {
                    lsoas: &lsoas,
                    by_point: placing.placed,
                };
                crimes(
                    db,
                    importer,
                    &vocabularies,
                    &places,
                    rows,
                    options,
                    &mut report,
                )
                .await?;
                report
            }
            Parsed::Outcomes(rows) => {
                let mut report = FileReport {
                    path,
                    kind: Some(Kind::Outcomes),
                    ..FileReport::default()
                };
                outcomes(db, importer, &vocabularies, rows, &mut report).await?;
                report
            }
        };
        reports.push(report);
    }
    Ok(reports)
}

/// The rows that could be read; the others become rejections. Counts them all.
fn readable<T>(report: &mut FileReport, rows: Vec<Result<T, (usize, String)>>) -> Vec<T> {
    report.rows = rows.len();
    rows.into_iter()
        .filter_map(|row| match row {
            Ok(r) => Some(r),
            Err((line, m)) => {
                report
                    .rejected
                    .push(rejection(line, None, "INVALID_RECORD", m));
                None
            }
        })
        .collect()
}

/// The agency's records under these references, in requests of the import's chunk.
async fn held(
    db: &DatabaseConnection,
    importer: &Importer,
    refs: &[String],
) -> anyhow::Result<Vec<db::incident::IncidentRow>> {
    let mut held = Vec::new();
    for chunk in refs.chunks(importer.chunk) {
        held.extend(db::incident::held_by_refs(db, importer.pusher.agency_id, chunk).await?);
    }
    Ok(held)
}

fn rejection(
    line: usize,
    external_ref: Option<String>,
    code: &'static str,
    m: String,
) -> Rejection {
    Rejection {
        index: line,
        external_ref,
        code,
        message: m,
        line: None,
        column: None,
    }
}

/// Where a file's rows may land: the LSOAs the partnership's areas list (or that lie in one
/// through the lookup), and whether the API's points were placed in them.
#[derive(Clone, Copy)]
struct Places<'a> {
    lsoas: &'a HashSet<String>,
    by_point: bool,
}

async fn crimes(
    db: &DatabaseConnection,
    importer: &Importer,
    vocabularies: &Vocabularies,
    places: &Places<'_>,
    rows: Vec<Result<CrimeRow, (usize, String)>>,
    options: &Options,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let Places {
        lsoas,
        by_point: points_placed,
    } = *places;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut lines = Vec::new();
    let mut records = Vec::new();
    let mut points = Vec::new();
    let mut outcome_months: Vec<Option<NaiveDate>> = Vec::new();
    for row in readable(report, rows) {
        if !row.located {
            report.no_location += 1;
            if !options.keep_no_location {
                continue;
            }
        }
        let by_point = points_placed && row.point.is_some();
        // A point in none of the partnership's LSOAs (nor in one that lands through the
        // lookup) is another district's, unless the crime is already held here (below).
        let outside_point = by_point
            && row
                .lsoa
                .as_ref()
                .is_none_or(|l| !lsoas.contains(&l.to_ascii_uppercase()));
        if !by_point
            && let Some(l) = &row.lsoa
            && !lsoas.contains(&l.to_ascii_uppercase())
        {
            report.outside += 1;
            continue;
        }
        let mut row = row;
        if outside_point {
            row.lsoa = None;
        }
        let category = vocabularies
            .code_for_name(Vocabulary::CrimeCategory, &row.crime_type)
            .map_or_else(|| row.crime_type.clone(), str::to_owned);
        let outcome = row.outcome.as_ref().map(|o| {
            vocabularies
                .code_for_name(Vocabulary::Outcome, o)
                .map_or_else(|| o.clone(), str::to_owned)
        });
        let external_ref = match &row.crime_id {
            Some(id) => id.clone(),
            None => {
                // Identical rows (same month, category and published place) are told apart by
                // their order in the file.
                let key = format!("{}|{category}|{}", row.month, row.place);
                let n = seen.entry(key.clone()).or_insert(0);
                *n += 1;
                let digest = Sha256::digest(format!("{key}|{n}").as_bytes());
                format!("h{}", &hex::encode(digest)[..40])
            }
        };
        let occurred_at = match month_start(&row.month) {
            Ok(at) => at,
            Err(m) => {
                report
                    .rejected
                    .push(rejection(row.line, Some(external_ref), "INVALID_DATE", m));
                continue;
            }
        };
        lines.push(row.line);
        outcome_months.push(row.outcome_month.filter(|_| outcome.is_some()));
        points.push(match (by_point, outside_point) {
            (false, _) => Point::None,
            (true, false) => Point::Placed,
            (true, true) => Point::Outside,
        });
        records.push(Ok(IncidentInput {
            external_ref,
            category,
            occurred_at,
            area: if row.located && row.lsoa.is_none() && !by_point {
                options.area.clone()
            } else {
                None
            },
            lsoa: row.lsoa,
            outcome,
            ..IncidentInput::default()
        }));
    }
    if report.kind == Some(Kind::Api) {
        let placed: Vec<Option<String>> = records
            .iter()
            .map(|r| r.as_ref().ok().and_then(|r| r.lsoa.clone()))
            .collect();
        keep_held_places(db, importer, &mut records).await?;
        // A crime held here keeps its place wherever its point lies; the rest at points
        // outside are left to their district.
        let mut kept = Vec::with_capacity(records.len());
        let mut kept_lines = Vec::with_capacity(lines.len());
        let mut kept_months = Vec::with_capacity(lines.len());
        for ((((record, line), point), before), month) in records
            .into_iter()
            .zip(lines)
            .zip(&points)
            .zip(placed)
            .zip(outcome_months)
        {
            let now = record.as_ref().ok().and_then(|r| r.lsoa.clone());
            match point {
                Point::Outside if now.is_none() => {
                    report.outside_by_point += 1;
                    continue;
                }
                Point::Placed if now == before => report.placed_by_point += 1,
                _ => {}
            }
            kept.push(record);
            kept_lines.push(line);
            kept_months.push(month);
        }
        records = kept;
        lines = kept_lines;
        outcome_months = kept_months;
    }
    report.kept_later_outcome =
        keep_later_outcomes(db, importer, &mut records, &mut outcome_months).await?;
    let pushed = push_recording_months(db, importer, records, outcome_months).await?;
    absorb(report, pushed, &lines);
    Ok(())
}

/// Pushes the records chunk by chunk and, after each chunk, records the month of the outcome
/// of each record of it that `months` gives one for and that was not rejected.
async fn push_recording_months(
    db: &DatabaseConnection,
    importer: &Importer,
    records: Vec<Result<IncidentInput, String>>,
    months: Vec<Option<NaiveDate>>,
) -> anyhow::Result<crate::service::push::PushReport> {
    let mut total = crate::service::push::PushReport::default();
    let mut offset = 0;
    let mut all = records.into_iter().zip(months).peekable();
    while all.peek().is_some() {
        let (batch, batch_months): (Vec<_>, Vec<_>) =
            all.by_ref().take(importer.chunk.max(1)).unzip();
        let n = batch.len();
        let refs: Vec<Option<String>> = batch
            .iter()
            .map(|r| r.as_ref().ok().map(|r| r.external_ref.clone()))
            .collect();
        let report = importer.push(db, batch).await?;
        let rejected: HashSet<usize> = report.rejected.iter().map(|r| r.index).collect();
        let held: Vec<(String, NaiveDate)> = refs
            .into_iter()
            .zip(batch_months)
            .enumerate()
            .filter(|(i, _)| !rejected.contains(i))
            .filter_map(|(_, (r, m))| Some((r?, m?)))
            .collect();
        db::incident::record_outcome_months(db, importer.pusher.agency_id, &held).await?;
        total.created += report.created;
        total.updated += report.updated;
        total.unchanged += report.unchanged;
        total
            .rejected
            .extend(report.rejected.into_iter().map(|r| Rejection {
                index: r.index + offset,
                ..r
            }));
        offset += n;
    }
    Ok(total)
}

/// A crime already holding an outcome of a known month (from an outcomes file, or the API's
/// `outcome_status.date`) keeps it, unless the record says its own outcome is of that month or
/// later (the API does): a street file says only what the outcome was when the file was made,
/// which the file does not say. `months` are the records' own outcome months; a record that
/// keeps the held outcome has none. Returns how many kept an outcome other than their own.
async fn keep_later_outcomes(
    db: &DatabaseConnection,
    importer: &Importer,
    records: &mut [Result<IncidentInput, String>],
    months: &mut [Option<NaiveDate>],
) -> anyhow::Result<usize> {
    let refs: Vec<String> = records
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|r| r.external_ref.clone()))
        .collect();
    let mut held = HashMap::new();
    for chunk in refs.chunks(importer.chunk.max(1)) {
        held.extend(db::incident::outcome_months(db, importer.pusher.agency_id, chunk).await?);
    }
    let mut kept = 0;
    for (r, own) in records.iter_mut().zip(months.iter_mut()) {
        let Ok(r) = r else { continue };
        let Some((month, outcome)) = held.get(&r.external_ref) else {
            continue;
        };
        if own.is_some_and(|m| m >= *month) {
            continue;
        }
        if r.outcome != *outcome {
            kept += 1;
        }
        r.outcome.clone_from(outcome);
        *own = None;
    }
    Ok(kept)
}

/// Adds a push's counts to the report, its rejections by line of the file.
fn absorb(report: &mut FileReport, pushed: crate::service::push::PushReport, lines: &[usize]) {
    report.created += pushed.created;
    report.updated += pushed.updated;
    report.unchanged += pushed.unchanged;
    report
        .rejected
        .extend(pushed.rejected.into_iter().map(|r| Rejection {
            index: lines.get(r.index).copied().unwrap_or(0),
            ..r
        }));
    report.rejected.sort_by_key(|r| r.index);
}

async fn outcomes(
    db: &DatabaseConnection,
    importer: &Importer,
    vocabularies: &Vocabularies,
    rows: Vec<Result<OutcomeRow, (usize, String)>>,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    // The latest month's outcome of each crime (a later row wins within a month).
    let mut latest: HashMap<String, (NaiveDate, usize, String)> = HashMap::new();
    for row in readable(report, rows) {
        let Some(code) = vocabularies.code_for_name(Vocabulary::Outcome, &row.outcome) else {
            report.rejected.push(rejection(
                row.line,
                Some(row.crime_id),
                "UNKNOWN_VALUE",
                format!(
                    "outcome '{}' is not a name in the OUTCOME vocabulary",
                    crate::domain::incident::clip(&row.outcome, 80)
                ),
            ));
            continue;
        };
        let month = match month_date(&row.month) {
            Ok(m) => m,
            Err(m) => {
                report
                    .rejected
                    .push(rejection(row.line, Some(row.crime_id), "INVALID_DATE", m));
                continue;
            }
        };
        let newer = latest
            .get(&row.crime_id)
            .is_none_or(|(held, _, _)| month >= *held);
        if newer {
            latest.insert(row.crime_id, (month, row.line, code.to_owned()));
        }
    }
    let refs: Vec<String> = latest.keys().cloned().collect();
    let mut held = held(db, importer, &refs).await?;
    let scope: HashSet<&str> = importer.scope.iter().map(|p| p.slug.as_str()).collect();
    held.retain(|row| scope.contains(row.partnership.as_str()));
    report.not_held = latest.len() - held.len();
    let held_refs: Vec<String> = held.iter().map(|r| r.external_ref.clone()).collect();
    let mut months = HashMap::new();
    for chunk in held_refs.chunks(importer.chunk) {
        months.extend(db::incident::outcome_months(db, importer.pusher.agency_id, chunk).await?);
    }
    let mut lines = Vec::new();
    let mut records = Vec::new();
    let mut applied: Vec<Option<NaiveDate>> = Vec::new();
    for row in held {
        if let Some((month, line, code)) = latest.get(&row.external_ref) {
            if months
                .get(&row.external_ref)
                .is_some_and(|(held, _)| held > month)
            {
                report.older += 1;
                continue;
            }
            let mut input = row.to_input();
            input.outcome = Some(code.clone());
            lines.push(*line);
            applied.push(Some(*month));
            records.push(Ok(input));
        }
    }
    let pushed = push_recording_months(db, importer, records, applied).await?;
    absorb(report, pushed, &lines);
    Ok(())
}

/// The file's name for messages.
pub fn name(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREET_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context";

    #[test]
    fn a_street_csv_with_a_bom_crlf_asb_and_no_location_rows_is_read() {
        let text = format!(
            "\u{feff}{STREET_HEADER}\r\n\
             ,2015-05,Hertfordshire Constabulary,Hertfordshire Constabulary,-0.201946,51.905343,On or near Parking Area,E01023720,Stevenage 001A,Anti-social behaviour,,\r\n\
             {id},2015-05,Hertfordshire Constabulary,Hertfordshire Constabulary,,,No location,,,Burglary,Investigation complete; no suspect identified,\r\n",
            id = "a".repeat(64)
        );
        let Ok(Parsed::Crimes { kind, rows }) = parse(&text) else {
            panic!("not read as crimes");
        };
        assert_eq!(kind, Kind::Street);
        let rows: Vec<CrimeRow> = rows.into_iter().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].crime_id, None);
        assert_eq!(rows[0].lsoa.as_deref(), Some("E01023720"));
        assert_eq!(rows[0].crime_type, "Anti-social behaviour");
        assert_eq!(rows[0].outcome, None);
        assert_eq!(rows[0].line, 2);
        assert!(rows[0].located);
        assert_eq!(rows[1].crime_id, Some("a".repeat(64)));
        assert!(!rows[1].located);
        assert_eq!(rows[1].lsoa, None);
        assert_eq!(
            rows[1].outcome.as_deref(),
            Some("Investigation complete; no suspect identified")
        );
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn outcomes_csvs_api_json_and_other_files_are_told_apart() {
        let outcomes = "\u{feff}Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\n\
                        abc,2015-06,H,H,-0.2,51.9,On or near X,E01023720,Stevenage 001A,Offender sent to prison\n";
        let Ok(Parsed::Outcomes(rows)) = parse(outcomes) else {
            panic!("not read as outcomes");
        };
        assert_eq!(
            rows,
            vec![Ok(OutcomeRow {
                line: 2,
                crime_id: "abc".to_owned(),
                month: "2015-06".to_owned(),
                outcome: "Offender sent to prison".to_owned(),
            })]
        );
        let api = r#"[{"category":"anti-social-behaviour","location_type":"Force","location":{"latitude":"51.905343","street":{"id":1,"name":"On or near Parking Area"},"longitude":"-0.201946"},"context":"","outcome_status":null,"persistent_id":"","id":54164419,"location_subtype":"","month":"2015-05"},
                      {"category":"burglary","location_type":null,"location":null,"context":"","outcome_status":{"category":"Under investigation","date":"2015-05"},"persistent_id":"bb","id":2,"location_subtype":"","month":"2015-05"}]"#;
        let Ok(Parsed::Crimes { kind, rows }) = parse(api) else {
            panic!("not read as the API's JSON");
        };
        assert_eq!(kind, Kind::Api);
        let rows: Vec<CrimeRow> = rows.into_iter().map(|r| r.expect("row")).collect();
        assert_eq!(rows[0].crime_id, None);
        assert_eq!(rows[0].place, "On or near Parking Area|51.905343|-0.201946");
        assert!(rows[0].located && !rows[1].located);
        assert_eq!(rows[0].point, Some((-0.201946, 51.905343)));
        assert_eq!(rows[1].point, None);
        assert_eq!(rows[1].outcome.as_deref(), Some("Under investigation"));
        // A location without a readable point is that record's error, not the file's.
        let Ok(Parsed::Crimes { rows, .. }) = parse(
            r#"[{"category":"burglary","month":"2015-05","location":{"latitude":"north","longitude":"-0.2"}}]"#,
        ) else {
            panic!("not read");
        };
        assert_eq!(
            rows[0],
            Err((
                1,
                "a location needs its latitude and longitude as numbers".to_owned()
            ))
        );
        let stop_search =
            "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude\n";
        assert!(parse(stop_search).is_err());
        assert!(parse("[{\"month\": \"2015-05\"}]").is_ok_and(|p| matches!(
            p,
            Parsed::Crimes { rows, .. } if rows[0].is_err()
        )));
        assert_eq!(
            month_start("2015-05"),
            Ok("2015-05-01T12:00:00Z".to_owned())
        );
        assert!(month_start("May 2015").is_err());
    }
}
