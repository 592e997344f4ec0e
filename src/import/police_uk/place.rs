//! Placing the API JSON's records (issue 30, item 7): by their point, in the LSOAs the
//! partnership's areas list, or where a crime already held lies.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use sea_orm::DatabaseConnection;

use super::Parsed;
use crate::db;
use crate::domain::incident::IncidentInput;
use crate::import::Importer;

/// How a record of the API's JSON was placed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Point {
    /// Not by its point (a street CSV's row, or no boundaries held).
    None,
    /// In one of the partnership's LSOAs.
    Placed,
    /// In none of them.
    Outside,
}

/// Whether the API's points were placed, and how many of the partnership's LSOAs lack a
/// boundary.
#[derive(Debug, Default)]
pub(super) struct Placing {
    pub(super) placed: bool,
    pub(super) missing: usize,
}

/// The API's JSON gives a point and no LSOA. With the boundaries of every LSOA the
/// partnership's areas list, each point is placed in the LSOA of their vintage that holds it,
/// and its coordinates are then forgotten; a point in none of them lies in another district.
/// Without them (some boundary not held), nothing is placed and `--area` applies.
pub(super) async fn place_points(
    db: &DatabaseConnection,
    listed: &HashSet<String>,
    parsed: &mut [(PathBuf, Parsed)],
) -> anyhow::Result<Placing> {
    let has_points = parsed.iter().any(|(_, f)| match f {
        Parsed::Crimes { rows, .. } => rows
            .iter()
            .flatten()
            .any(|r| r.point.is_some() && r.lsoa.is_none()),
        Parsed::Outcomes(_) => false,
    });
    if !has_points || listed.is_empty() {
        return Ok(Placing::default());
    }
    let mut codes: Vec<String> = listed.iter().map(|l| l.to_ascii_uppercase()).collect();
    codes.sort();
    codes.dedup();
    // The vintage the areas list (the LSOAs of the other one, were any listed, count towards
    // it): an unchanged LSOA has the same code in both.
    let vintages = db::geography::lsoa_vintages(db, &codes).await?;
    let only = |v: i32| {
        vintages
            .iter()
            .filter(|(_, vs)| vs.len() == 1 && vs.contains(&v))
            .count()
    };
    let vintage = if only(2021) > only(2011) { 2021 } else { 2011 };
    let mut boundaries = db::geography::boundaries_of(db, "lsoa", vintage, &codes).await?;
    if boundaries.len() < codes.len() {
        return Ok(Placing {
            placed: false,
            missing: codes.len() - boundaries.len(),
        });
    }
    // Points are placed among the LSOAs of that one vintage, which tile the country: the
    // listed ones, then those of the same vintage that share a counterpart with them (another
    // district's 2011 LSOA part of which went into one of ours in 2021). A point in one of
    // those lands through the lookup as a street file's row in it does, or is outside; so two
    // districts never both take a point.
    let (pairs, _) = db::geography::lookup_of(db, &codes, 2021).await?;
    let counterparts: Vec<String> = pairs
        .into_iter()
        .flat_map(|p| [p.lsoa11, p.lsoa21])
        .collect::<std::collections::BTreeSet<String>>()
        .into_iter()
        .collect();
    let (theirs, _) = db::geography::lookup_of(db, &counterparts, 2021).await?;
    let neighbours: Vec<String> = theirs
        .into_iter()
        .map(|p| if vintage == 2021 { p.lsoa21 } else { p.lsoa11 })
        .filter(|c| codes.binary_search(c).is_err())
        .collect::<std::collections::BTreeSet<String>>()
        .into_iter()
        .collect();
    let same_vintage: std::collections::HashSet<String> =
        db::geography::lsoa_vintages(db, &neighbours)
            .await?
            .into_iter()
            .filter(|(_, vs)| vs.contains(&vintage))
            .map(|(c, _)| c)
            .collect();
    let neighbours: Vec<String> = neighbours
        .into_iter()
        .filter(|c| same_vintage.contains(c))
        .collect();
    boundaries.extend(db::geography::boundaries_of(db, "lsoa", vintage, &neighbours).await?);
    let locator = crate::domain::map::Locator::new(&boundaries);
    for row in parsed
        .iter_mut()
        .filter_map(|(_, f)| match f {
            Parsed::Crimes { rows, .. } => Some(rows),
            Parsed::Outcomes(_) => None,
        })
        .flatten()
        .flatten()
    {
        if let (Some((x, y)), None) = (row.point, &row.lsoa) {
            row.lsoa = locator.locate(x, y).map(str::to_owned);
        }
    }
    Ok(Placing {
        placed: true,
        missing: 0,
    })
}

/// The API's JSON gives no LSOA: a crime already held (from a street CSV) keeps its place.
pub(super) async fn keep_held_places(
    db: &DatabaseConnection,
    importer: &Importer,
    records: &mut [Result<IncidentInput, String>],
) -> anyhow::Result<()> {
    let refs: Vec<String> = records
        .iter()
        .flatten()
        .map(|r| r.external_ref.clone())
        .collect();
    let held: HashMap<String, db::incident::IncidentRow> = super::held(db, importer, &refs)
        .await?
        .into_iter()
        .map(|row| (row.external_ref.clone(), row))
        .collect();
    for input in records.iter_mut().flatten() {
        if let Some(row) = held.get(&input.external_ref)
            && row.lsoa.is_some()
        {
            input.area = row.area.clone();
            input.lsoa = row.lsoa.clone();
        }
    }
    Ok(())
}
