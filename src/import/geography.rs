//! `csphub import geography FILE... [--district CODE]`: the ONS's geography files as they are
//! downloaded from the Open Geography Portal, read offline from disk.
//!
//! - **Lookups (CSV).** Every column named like the ONS names them, `<KIND><YY>CD` and
//!   `<KIND><YY>NM` (`LSOA11CD`, `LSOA21NM`, `MSOA21CD`, `WD24CD`, `LAD23CD`, in any case), is
//!   read: each code with its name is an area of that kind and vintage (LSOA, MSOA, WD for
//!   wards, LAD for districts; `YY` 11 is 2011), and each row says which ward, MSOA and district
//!   its LSOA lies in. A file with `LSOA11CD`, `LSOA21CD` and `CHGIND` is the 2011-to-2021 LSOA
//!   lookup: its change indicator (U unchanged, S split, M merged, X irregular) is kept with
//!   the pair.
//! - **Boundaries (GeoJSON).** A FeatureCollection whose features carry a `<KIND><YY>CD`
//!   property and a Polygon or MultiPolygon in WGS84 (longitude, latitude: RFC 7946, as the
//!   portal's GeoJSON downloads are). A file in British National Grid (eastings and northings)
//!   is refused with the reason.
//!
//! With `--district`, only that district's rows are kept: a lookup's rows whose `LAD..CD` is
//! the district, and a boundary file's features whose `LAD..CD` is the district or, for a file
//! without one, whose code the district's lookups (imported first) name. Everything is written
//! in one transaction: a file that cannot be read leaves the database as it was. Importing the
//! same files again changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::db;
use crate::db::geography::{Change, GeoArea, Membership};
use crate::domain::incident::ons_code as code;

/// What one file held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub file: String,
    /// `lookup`, `LSOA 2011-to-2021 lookup` or `boundaries`.
    pub kind: &'static str,
    pub areas: usize,
    pub memberships: usize,
    pub changes: usize,
    pub boundaries: usize,
    /// Populations or deprivation figures by LSOA (the year or edition is `year`).
    pub figures: usize,
    /// The year of a population file's estimates, or a deprivation file's edition.
    pub year: Option<i32>,
    /// Rows or features of other districts, left out (with `--district`).
    pub other_districts: usize,
}

/// A kind of area and a vintage, such as (`lsoa`, 2021).
type Level = (&'static str, i32);

/// A column `<KIND><YY>CD` or `<KIND><YY>NM`: (kind, vintage, is the code).
fn column(name: &str) -> Option<(&'static str, i32, bool)> {
    let upper = name
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_uppercase();
    let (prefix, kind) = [
        ("LSOA", "lsoa"),
        ("MSOA", "msoa"),
        ("WD", "ward"),
        ("LAD", "district"),
    ]
    .into_iter()
    .find(|(p, _)| upper.starts_with(p))?;
    let rest = &upper[prefix.len()..];
    if rest.len() != 4 || !rest.is_char_boundary(2) {
        return None;
    }
    let (yy, what) = rest.split_at(2);
    let yy: i32 = yy.parse().ok()?;
    let is_code = match what {
        "CD" => true,
        "NM" => false,
        _ => return None,
    };
    Some((kind, 2000 + yy, is_code))
}

/// What a lookup file held, for the district asked for.
#[derive(Debug, Default, PartialEq)]
pub struct Lookup {
    pub areas: Vec<GeoArea>,
    pub memberships: Vec<Membership>,
    pub changes: Vec<Change>,
    pub other_districts: usize,
}

/// Reads a lookup CSV. Fails on a file with no `..CD` column or a malformed code.
pub fn read_lookup(text: &str, district: Option<&str>) -> anyhow::Result<Lookup> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader.headers().context("reading the header")?.clone();
    // (kind, vintage) -> [code column, name column]
    let mut levels: BTreeMap<Level, [Option<usize>; 2]> = BTreeMap::new();
    let mut change_at = None;
    for (i, name) in header.iter().enumerate() {
        if name.trim().eq_ignore_ascii_case("CHGIND") {
            change_at = Some(i);
        }
        if let Some((kind, vintage, is_code)) = column(name) {
            let e = levels.entry((kind, vintage)).or_default();
            e[usize::from(!is_code)] = Some(i);
        }
    }
    let levels: Vec<(Level, usize, Option<usize>)> = levels
        .into_iter()
        .filter_map(|(k, [c, n])| c.map(|c| (k, c, n)))
        .collect();
    if levels.is_empty() {
        bail!("no ONS code column (such as LSOA21CD or WD24CD) in the header");
    }
    let lsoas: Vec<&(Level, usize, Option<usize>)> =
        levels.iter().filter(|l| l.0.0 == "lsoa").collect();
    let districts: Vec<usize> = levels
        .iter()
        .filter(|l| l.0.0 == "district")
        .map(|l| l.1)
        .collect();
    if district.is_some() && districts.is_empty() {
        bail!(
            "--district needs a district column (such as LAD24CD) to keep the district's rows by: \
             import this file without --district, or use one that names districts"
        );
    }
    let change_pair = match (change_at, lsoas.as_slice()) {
        (Some(c), [a, b]) if a.0.1 == 2011 && b.0.1 == 2021 => Some((c, a.1, b.1)),
        (Some(_), _) => bail!("a CHGIND column needs LSOA11CD and LSOA21CD beside it"),
        _ => None,
    };
    let records: Vec<csv::StringRecord> = reader
        .records()
        .enumerate()
        .map(|(n, r)| r.with_context(|| format!("line {}", n + 2)))
        .collect::<Result<_, _>>()?;
    let district_of =
        |r: &csv::StringRecord| districts.iter().find_map(|i| code(r.get(*i).unwrap_or("")));
    // The 2011 LSOAs of the district's rows of the 2011-to-2021 lookup: their rows into other
    // districts are kept too, so that every change the district's rows name is whole (a part
    // of a 2011 LSOA that went to another district must be known to place its records).
    let whole: BTreeSet<String> = match (change_pair, district) {
        (Some((_, a, _)), Some(d)) => records
            .iter()
            .filter(|r| district_of(r).as_deref() == Some(d))
            .filter_map(|r| code(r.get(a).unwrap_or("")))
            .collect(),
        _ => BTreeSet::new(),
    };
    let mut areas: BTreeMap<(&'static str, i32, String), GeoArea> = BTreeMap::new();
    // Each by its key, with the line that gave it: one file may say a thing twice, never two
    // different things.
    let mut memberships: BTreeMap<(i32, String, &'static str, i32), (String, u64)> =
        BTreeMap::new();
    let mut changes: BTreeMap<(String, String), (Change, u64)> = BTreeMap::new();
    let mut other_districts = 0;
    for record in &records {
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let row_district = district_of(record);
        let of_a_whole_change =
            change_pair.is_some_and(|(_, a, _)| code(field(a)).is_some_and(|c| whole.contains(&c)));
        if let Some(d) = district
            && !districts.is_empty()
            && row_district.as_deref() != Some(d)
            && !of_a_whole_change
        {
            other_districts += 1;
            continue;
        }
        let mut row_codes = Vec::new();
        for ((kind, vintage), c, name_at) in &levels {
            let raw = field(*c);
            if raw.is_empty() {
                continue;
            }
            let Some(value) = code(raw)
                .filter(|c| *kind != "lsoa" || c.starts_with("E01") || c.starts_with("W01"))
            else {
                bail!("line {line}: '{raw}' is not an ONS code such as E01023720");
            };
            let name = name_at.map(field).unwrap_or_default();
            if name.chars().count() > 200 {
                bail!("line {line}: a name of more than 200 characters");
            }
            if !name.is_empty() {
                areas.insert(
                    (*kind, *vintage, value.clone()),
                    GeoArea {
                        kind,
                        vintage: *vintage,
                        code: value.clone(),
                        name: name.to_owned(),
                        // The exact-fit lookup's district is the 2021 LSOA's: a 2011 LSOA
                        // that became part of it may have lain in another district.
                        district: if *kind == "district"
                            || (change_pair.is_some() && *vintage == 2011)
                        {
                            None
                        } else {
                            row_district.clone()
                        },
                    },
                );
            }
            row_codes.push((*kind, *vintage, value));
        }
        if let Some((c, a, b)) = change_pair {
            let change = field(c).to_ascii_uppercase();
            if !["U", "S", "M", "X"].contains(&change.as_str()) {
                bail!("line {line}: CHGIND '{change}' is not U, S, M or X");
            }
            let (Some(a), Some(b)) = (code(field(a)), code(field(b))) else {
                bail!("line {line}: a lookup row needs both LSOA codes");
            };
            let row = Change {
                lsoa11: a.clone(),
                lsoa21: b.clone(),
                change,
                district: row_district.clone(),
            };
            if let Some((held, at)) = changes.get(&(a.clone(), b.clone()))
                && *held != row
            {
                bail!("line {line}: {a} to {b} again, unlike line {at}");
            }
            changes.insert((a, b), (row, line));
        } else {
            // An LSOA's ward, MSOA and district, each of the vintages the file has.
            for (_, lv, lsoa) in row_codes.iter().filter(|r| r.0 == "lsoa") {
                for (pk, pv, parent) in row_codes.iter().filter(|r| r.0 != "lsoa") {
                    let key = (*lv, lsoa.clone(), *pk, *pv);
                    if let Some((held, at)) = memberships.get(&key)
                        && held != parent
                    {
                        bail!(
                            "line {line}: LSOA {lsoa} in {pk} {parent}, but in {held} on line {at}"
                        );
                    }
                    memberships.insert(key, (parent.clone(), line));
                }
            }
        }
    }
    Ok(Lookup {
        areas: areas.into_values().collect(),
        memberships: memberships
            .into_iter()
            .map(
                |((lsoa_vintage, lsoa, parent_kind, parent_vintage), (parent, _))| Membership {
                    lsoa,
                    lsoa_vintage,
                    parent_kind,
                    parent_vintage,
                    parent,
                },
            )
            .collect(),
        changes: changes.into_values().map(|(c, _)| c).collect(),
        other_districts,
    })
}

/// What a population or deprivation file gives by LSOA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKind {
    /// Residents (Census 2021 or a mid-year estimate).
    Population,
    /// The English Indices of Deprivation: the IMD's rank and decile.
    Deprivation,
}

/// A population or deprivation file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub kind: FigureKind,
    /// The LSOA vintage of the codes.
    pub lsoa_vintage: i32,
    pub rows: Vec<db::geography::LsoaFigure>,
}

/// The LSOA vintage a column's name says (`LSOA code (2011)`, `lsoa21_code`, `LSOA21CD`).
fn vintage_said(name: &str) -> Option<i32> {
    if name.contains("2011") {
        Some(2011)
    } else if name.contains("2021") {
        Some(2021)
    } else if name.contains("11") {
        Some(2011)
    } else if name.contains("21") {
        Some(2021)
    } else {
        None
    }
}

/// Reads a population or deprivation file, or says it is neither (`Ok(None)`): a CSV with an
/// LSOA code column (`LSOA21CD`, `LSOA code (2011)`, `lsoa21_code`, `lsoacd`) and either a
/// population column (`population`, `All Ages`, `Total`) or the IMD's rank and decile
/// (`Index of Multiple Deprivation (IMD) Rank` and `... Decile`, `IMD_rank`, `IMD_decile`).
/// Files do not say the year of their estimates or the edition of their indices: `year` does
/// (an error without it). Codes are of the vintage the code column names; a column that does
/// not say takes the vintage the ONS published that year on: 2021 LSOAs from the 2021
/// estimates and the 2025 indices, 2011 LSOAs before.
pub fn read_figures(text: &str, year: Option<i32>) -> anyhow::Result<Option<Figures>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader.headers().context("reading the header")?.clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let find = |f: &dyn Fn(&str) -> bool| names.iter().position(|n| f(n));
    let imd = |n: &str| n.contains("imd") || n.contains("index of multiple deprivation");
    let rank_at = find(&|n| imd(n) && n.contains("rank"));
    let decile_at = find(&|n| imd(n) && n.contains("decile"));
    let population_at = find(&|n| ["population", "all ages", "total"].contains(&n));
    let kind = match (rank_at, decile_at, population_at) {
        (Some(_), Some(_), _) => FigureKind::Deprivation,
        (None, None, Some(_)) => FigureKind::Population,
        (Some(_), None, _) | (None, Some(_), _) => {
            bail!("a deprivation file needs both the IMD's rank and its decile")
        }
        (None, None, None) => return Ok(None),
    };
    let Some(code_at) = find(&|n| {
        n.contains("lsoa") && (n.ends_with("cd") || n.contains("code")) && !n.contains("nm")
    }) else {
        bail!("no LSOA code column (such as LSOA21CD or `LSOA code (2011)`) in the header");
    };
    let what = match kind {
        FigureKind::Population => "a population file does not say the year of its estimates",
        FigureKind::Deprivation => "a deprivation file does not say its edition",
    };
    let Some(year) = year else {
        bail!(
            "{what}: give --year (such as 2022 for mid-2022 estimates, 2025 for the 2025 indices)"
        );
    };
    let lsoa_vintage = vintage_said(&names[code_at]).unwrap_or(match kind {
        FigureKind::Population if year >= 2021 => 2021,
        FigureKind::Deprivation if year >= 2025 => 2021,
        _ => 2011,
    });
    let number = |raw: &str, line: u64, what: &str| -> anyhow::Result<i64> {
        raw.trim()
            .replace(',', "")
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .with_context(|| format!("line {line}: {what} '{}' is not a whole number", raw.trim()))
    };
    let mut rows: BTreeMap<String, (db::geography::LsoaFigure, u64)> = BTreeMap::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("line {}", n + 2))?;
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let raw = field(Some(code_at));
        let Some(lsoa) = code(raw).filter(|c| c.starts_with("E01") || c.starts_with("W01")) else {
            bail!("line {line}: '{raw}' is not an LSOA code such as E01023720");
        };
        let row = match kind {
            FigureKind::Population => db::geography::LsoaFigure {
                lsoa: lsoa.clone(),
                value: number(field(population_at), line, "population")?,
                decile: None,
            },
            FigureKind::Deprivation => {
                let decile = number(field(decile_at), line, "decile")?;
                if !(1..=10).contains(&decile) {
                    bail!("line {line}: decile {decile} is not 1 to 10");
                }
                let rank = number(field(rank_at), line, "rank")?;
                if rank < 1 {
                    bail!("line {line}: rank {rank} is not 1 or more");
                }
                db::geography::LsoaFigure {
                    lsoa: lsoa.clone(),
                    value: rank,
                    decile: i16::try_from(decile).ok(),
                }
            }
        };
        if let Some((held, at)) = rows.get(&lsoa)
            && *held != row
        {
            bail!("line {line}: {lsoa} again, unlike line {at}");
        }
        rows.insert(lsoa, (row, line));
    }
    Ok(Some(Figures {
        kind,
        lsoa_vintage,
        rows: rows.into_values().map(|(r, _)| r).collect(),
    }))
}

/// A boundary file's features: the area (its district when the feature says) and its geometry
/// as GeoJSON text.
pub fn read_boundaries(
    text: &str,
    district: Option<&str>,
) -> anyhow::Result<(Vec<(GeoArea, String)>, usize)> {
    let json: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    if json.get("type").and_then(|t| t.as_str()) != Some("FeatureCollection") {
        bail!("not a GeoJSON FeatureCollection");
    }
    let features = json
        .get("features")
        .and_then(|f| f.as_array())
        .context("a FeatureCollection without features")?;
    let mut out: Vec<(GeoArea, String)> = Vec::new();
    let mut seen: BTreeMap<(&'static str, i32, String), usize> = BTreeMap::new();
    let mut other = 0;
    for (i, f) in features.iter().enumerate() {
        let at = || format!("feature {}", i + 1);
        let props = f
            .get("properties")
            .and_then(|p| p.as_object())
            .with_context(|| format!("{}: no properties", at()))?;
        let mut own = None;
        let mut name: Option<String> = None;
        let mut feature_district = None;
        for (key, value) in props {
            let Some((kind, vintage, is_code)) = column(key) else {
                continue;
            };
            let value = value.as_str().unwrap_or("").trim();
            match (kind, is_code) {
                ("district", true) => feature_district = code(value),
                (_, true) if own.is_none() || kind == "lsoa" => own = Some((kind, vintage, value)),
                _ => {}
            }
        }
        // The name of the area's own kind and vintage, wherever it stands among the properties.
        if let Some((kind, vintage, _)) = own {
            for (key, value) in props {
                if column(key) == Some((kind, vintage, false)) {
                    name = value.as_str().map(|s| s.trim().to_owned());
                }
            }
        }
        let Some((kind, vintage, raw)) = own else {
            bail!("{}: no ONS code property (such as LSOA21CD)", at());
        };
        let Some(value) = code(raw) else {
            bail!("{}: '{raw}' is not an ONS code such as E01023720", at());
        };
        if let (Some(d), Some(fd)) = (district, &feature_district)
            && d != fd
        {
            other += 1;
            continue;
        }
        let geometry = f
            .get("geometry")
            .with_context(|| format!("{}: no geometry", at()))?;
        check_geometry(geometry).with_context(|| format!("{} ({value})", at()))?;
        if let Some(first) = seen.insert((kind, vintage, value.clone()), i + 1) {
            bail!(
                "{}: {value} again (feature {first} has it): give an area one feature, a \
                 MultiPolygon for several parts",
                at()
            );
        }
        out.push((
            GeoArea {
                kind,
                vintage,
                name: name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| value.clone()),
                code: value,
                district: feature_district,
            },
            geometry.to_string(),
        ));
    }
    Ok((out, other))
}

/// A Polygon or MultiPolygon of longitudes and latitudes.
fn check_geometry(g: &serde_json::Value) -> anyhow::Result<()> {
    let kind = g.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let coordinates = g.get("coordinates").context("no coordinates")?;
    let rings: Vec<&serde_json::Value> = match kind {
        "Polygon" => coordinates.as_array().into_iter().flatten().collect(),
        "MultiPolygon" => coordinates
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_array())
            .flatten()
            .collect(),
        other => bail!("a {other} geometry: a boundary is a Polygon or MultiPolygon"),
    };
    for ring in rings {
        let points = ring.as_array().context("a ring that is not a list")?;
        if points.len() < 4 {
            bail!("a ring of fewer than four points");
        }
        for p in points {
            let (Some(x), Some(y)) = (
                p.get(0).and_then(|v| v.as_f64()),
                p.get(1).and_then(|v| v.as_f64()),
            ) else {
                bail!("a point that is not [longitude, latitude]");
            };
            if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
                bail!(
                    "the point [{x}, {y}] is not a longitude and latitude: the file looks like \
                     British National Grid (EPSG:27700); download it as GeoJSON in WGS84 \
                     (EPSG:4326) instead"
                );
            }
        }
    }
    Ok(())
}

/// Imports the files, all in one transaction.
pub async fn import(
    db: &DatabaseConnection,
    files: &[PathBuf],
    district: Option<&str>,
    year: Option<i32>,
) -> anyhow::Result<Vec<Report>> {
    let mut texts = Vec::new();
    for path in files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        texts.push((path.display().to_string(), text));
    }
    let txn = db.begin().await?;
    let reports = import_texts(&txn, &texts, district, year).await?;
    txn.commit().await?;
    Ok(reports)
}

/// Imports files' texts (name, text) in the caller's transaction.
pub async fn import_texts(
    txn: &sea_orm::DatabaseTransaction,
    files: &[(String, String)],
    district: Option<&str>,
    year: Option<i32>,
) -> anyhow::Result<Vec<Report>> {
    let district = match district {
        Some(d) => Some(code(d).with_context(|| {
            format!("--district '{d}' is not a district code such as E07000243")
        })?),
        None => None,
    };
    let mut reports = Vec::new();
    for (name, text) in files {
        let report = import_text(txn, name, text, district.as_deref(), year)
            .await
            .with_context(|| name.clone())?;
        reports.push(report);
    }
    Ok(reports)
}

async fn import_text(
    txn: &sea_orm::DatabaseTransaction,
    name: &str,
    text: &str,
    district: Option<&str>,
    year: Option<i32>,
) -> anyhow::Result<Report> {
    let source = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = Report {
        file: name.to_owned(),
        ..Default::default()
    };
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('{') {
        let (mut features, other) = read_boundaries(text, district)?;
        report.other_districts = other;
        if let Some(d) = district {
            // A feature that does not say its district is kept when the district's lookups
            // name its code.
            let unsaid: Vec<String> = features
                .iter()
                .filter(|(a, _)| a.district.is_none())
                .map(|(a, _)| a.code.clone())
                .collect();
            let known: BTreeSet<String> = db::geography::codes_of_district(txn, d, &unsaid)
                .await?
                .into_iter()
                .collect();
            let before = features.len();
            features.retain_mut(|(a, _)| {
                if a.district.is_some() {
                    true
                } else if known.contains(&a.code) {
                    a.district = Some(d.to_owned());
                    true
                } else {
                    false
                }
            });
            report.other_districts += before - features.len();
        }
        report.kind = "boundaries";
        report.boundaries = features.len();
        db::geography::upsert_boundaries(txn, &features, &source).await?;
    } else if let Some(mut figures) = read_figures(text, year)? {
        if let Some(d) = district {
            // These files name no district: the district's lookups (imported first) say
            // which LSOAs are its.
            let codes: Vec<String> = figures.rows.iter().map(|r| r.lsoa.clone()).collect();
            let known: BTreeSet<String> = db::geography::codes_of_district(txn, d, &codes)
                .await?
                .into_iter()
                .collect();
            let before = figures.rows.len();
            figures.rows.retain(|r| known.contains(&r.lsoa));
            report.other_districts = before - figures.rows.len();
        }
        report.figures = figures.rows.len();
        report.year = year;
        let (kind, table) = match figures.kind {
            FigureKind::Population => ("population", db::geography::FigureTable::Population),
            FigureKind::Deprivation => ("deprivation", db::geography::FigureTable::Deprivation),
        };
        report.kind = kind;
        if let Some(year) = year {
            db::geography::upsert_figures(
                txn,
                table,
                figures.lsoa_vintage,
                year,
                &figures.rows,
                &source,
            )
            .await?;
        }
    } else {
        let lookup = read_lookup(text, district)?;
        report.kind = if lookup.changes.is_empty() {
            "lookup"
        } else {
            "LSOA 2011-to-2021 lookup"
        };
        report.areas = lookup.areas.len();
        report.memberships = lookup.memberships.len();
        report.changes = lookup.changes.len();
        report.other_districts = lookup.other_districts;
        db::geography::upsert_areas(txn, &lookup.areas, &source).await?;
        db::geography::upsert_memberships(txn, &lookup.memberships, &source).await?;
        db::geography::upsert_changes(txn, &lookup.changes, &source).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_read_as_the_ons_names_them() {
        assert_eq!(column("LSOA11CD"), Some(("lsoa", 2011, true)));
        assert_eq!(column("\u{feff}lsoa21nm"), Some(("lsoa", 2021, false)));
        assert_eq!(column("WD24CD"), Some(("ward", 2024, true)));
        assert_eq!(column("LAD22NMW"), None);
        assert_eq!(column("LADCD_ACTIVE"), None);
        assert_eq!(column("MSOACD"), None);
    }

    #[test]
    fn a_lookup_row_gives_areas_and_memberships_and_other_districts_are_left_out() {
        let text = "LSOA21CD,LSOA21NM,WD24CD,WD24NM,LAD24CD,LAD24NM\n\
                    E01023778,Stevenage 002C,E05015624,Almond Hill,E07000243,Stevenage\n\
                    E01023508,East Hertfordshire 002D,E05011111,Somewhere,E07000242,East Hertfordshire\n";
        let l = read_lookup(text, Some("E07000243")).expect("read");
        assert_eq!(l.other_districts, 1);
        assert_eq!(
            l.areas
                .iter()
                .map(|a| (a.kind, a.code.as_str(), a.district.as_deref()))
                .collect::<Vec<_>>(),
            [
                ("district", "E07000243", None),
                ("lsoa", "E01023778", Some("E07000243")),
                ("ward", "E05015624", Some("E07000243")),
            ]
        );
        assert_eq!(l.memberships.len(), 2);
        assert!(read_lookup("LSOA21CD,WD24CD\nE0102377,E05015624\n", None).is_err());
        assert!(read_lookup("code,name\nE01023778,x\n", None).is_err());
    }
}
