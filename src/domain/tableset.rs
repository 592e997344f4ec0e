//! The PCC's figures: one protected table set per partnership and financial year. Every incident
//! count a PCC token can obtain is a cell of it: category (or all categories) by area (or all
//! areas) by month, quarter, half or year. Domestic abuse is never located: records flagged as
//! domestic-abuse related sit in a pseudo-area of their own, so the areas still add up to all
//! areas. Small counts (1 to 4) are withheld, and secondary suppression is computed once over
//! the whole set, so that no sum relation in it (months to quarter, quarters to half, halves to
//! year, categories to all, areas to all) has exactly one withheld cell. Every PCC answer reads
//! this one pattern, so no two answers can be set against each other.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{Datelike, NaiveDate};

use super::disclosure::{MIN_CANDIDATES, bounds, nearest_shown};
use super::period::FinancialYear;
use super::stats::SMALL_COUNT_MAX;

/// The area of a cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AreaKey {
    /// Every area, domestic abuse included.
    All,
    /// Domestic-abuse related records, never located finer than the partnership.
    DomesticAbuse,
    /// An area by code (records not flagged as domestic abuse).
    Area(String),
    /// An LSOA by code, of the vintage the records carry (records not flagged as domestic
    /// abuse): the official places, a second partition of all areas.
    Lsoa(String),
    /// Records not flagged as domestic abuse that carry no LSOA.
    NoLsoa,
    /// The records of an area in an LSOA (none: without one), for an LSOA that records of
    /// several areas carry; where only one area's do, the LSOA's cell is that area's part.
    Place(String, Option<String>),
}

/// What the PCC's figures by LSOA are: all categories by quarter, half and year. An LSOA's
/// month, or its count of one category, is nearly always small, and holding them withheld
/// most of the areas' figures by month and category as well (in the demo's 2014/15, 1,911 of
/// the 1,955 cells the PCC's walk reads, against 1,747 without LSOAs; 1,750 with these).
pub const LSOA_UNITS: &str = "the PCC's figures by official area are of all categories for one quarter, half (April to September or October to March) or financial year: an LSOA's month or category is nearly always a small count";

/// A period of the financial year: months 1-12 (April = 1), quarters 1-4, halves 1-2, the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Month(u8),
    Quarter(u8),
    Half(u8),
    Year,
}

impl Unit {
    /// Every unit of a year: 12 months, 4 quarters, 2 halves and the year.
    pub fn all() -> Vec<Unit> {
        let mut out: Vec<Unit> = (1..=12).map(Unit::Month).collect();
        out.extend((1..=4).map(Unit::Quarter));
        out.extend((1..=2).map(Unit::Half));
        out.push(Unit::Year);
        out
    }

    /// The units a month (1-12) adds into.
    fn of_month(m: u8) -> [Unit; 4] {
        let q = (m - 1) / 3 + 1;
        [
            Unit::Month(m),
            Unit::Quarter(q),
            Unit::Half((q - 1) / 2 + 1),
            Unit::Year,
        ]
    }

    /// The unit and year of a run of days, if it is exactly one unit.
    pub fn of_days(from: NaiveDate, to: NaiveDate) -> Option<(FinancialYear, Unit)> {
        let year = FinancialYear::containing(from);
        let month = |d: NaiveDate| -> u8 {
            // April = 1 .. March = 12
            u8::try_from((d.month() + 8) % 12 + 1).unwrap_or(1)
        };
        if FinancialYear::containing(to) != year || from.day() != 1 {
            return None;
        }
        let next = to.succ_opt()?;
        if next.day() != 1 {
            return None;
        }
        let (first, last) = (month(from), month(to));
        let unit = match (first, last) {
            (a, b) if a == b => Unit::Month(a),
            (1, 12) => Unit::Year,
            (1, 6) => Unit::Half(1),
            (7, 12) => Unit::Half(2),
            (a, b) if b == a + 2 && (a - 1) % 3 == 0 => Unit::Quarter((a - 1) / 3 + 1),
            _ => return None,
        };
        Some((year, unit))
    }

    /// The first and last day of the unit in a year.
    pub fn days(self, year: FinancialYear) -> (NaiveDate, NaiveDate) {
        let (first, months) = match self {
            Unit::Month(m) => (m, 1),
            Unit::Quarter(q) => ((q - 1) * 3 + 1, 3),
            Unit::Half(h) => ((h - 1) * 6 + 1, 6),
            Unit::Year => (1, 12),
        };
        let start = year
            .first_day()
            .checked_add_months(chrono::Months::new(u32::from(first - 1)))
            .unwrap_or(year.first_day());
        let end = start
            .checked_add_months(chrono::Months::new(months))
            .and_then(|d| d.pred_opt())
            .unwrap_or(start);
        (start, end)
    }

    /// The months (1-12) the unit covers.
    pub fn months(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Unit::Month(m) => m..=m,
            Unit::Quarter(q) => (q - 1) * 3 + 1..=q * 3,
            Unit::Half(h) => (h - 1) * 6 + 1..=h * 6,
            Unit::Year => 1..=12,
        }
    }
}

/// A cell: category (None = all categories), area, unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    pub category: Option<String>,
    pub area: AreaKey,
    pub unit: Unit,
}

/// A group of records as counted from the database: category, area code (None when flagged
/// as domestic abuse), month of the financial year (1-12), count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group {
    pub category: String,
    pub area: Option<String>,
    pub month: u8,
    pub n: i64,
}

/// Records not flagged as domestic abuse, of all categories, by area code, the LSOA they carry
/// (none when they carry none) and quarter of the financial year (1-4): the LSOA cells are of
/// all categories by quarter, half and year ([`LSOA_UNITS`]). Read in the same statement as
/// the groups, so that they add up to the same records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlaceGroup {
    pub area: String,
    pub lsoa: Option<String>,
    pub quarter: u8,
    pub n: i64,
}

/// The table set of one partnership and financial year, with its suppression pattern.
#[derive(Debug, Clone)]
pub struct TableSet {
    pub year: FinancialYear,
    counts: HashMap<Cell, i64>,
    hidden: HashMap<Cell, bool>,
    /// The areas whose records carry each LSOA (none: no LSOA) over the year; empty when no
    /// record carries an LSOA (the set then has no LSOA cells).
    places: BTreeMap<Option<String>, BTreeSet<String>>,
    /// The records by LSOA did not add up to the records by area, so the set holds no LSOA
    /// cells although records carry LSOAs.
    places_untrusted: bool,
}

/// What a cell says: its count, or that it is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    pub count: i64,
    pub hidden: bool,
}

impl Figure {
    pub fn shown(self) -> Option<i64> {
        (!self.hidden).then_some(self.count)
    }
}

/// How many protected sets are kept (each a few hundred kilobytes at most).
const KEPT: usize = 32;

/// Sets already protected, by year and groups: the pattern is a function of them alone, so a
/// year whose records have not changed is protected once, whoever asks.
type Built = HashMap<(FinancialYear, Vec<Group>, Vec<PlaceGroup>), Arc<TableSet>>;
static BUILT: LazyLock<Mutex<Built>> = LazyLock::new(|| Mutex::new(HashMap::new()));

impl TableSet {
    /// The protected set of a year's groups and place groups (in any order), built once for
    /// the same groups.
    pub fn protected(
        year: FinancialYear,
        mut groups: Vec<Group>,
        mut places: Vec<PlaceGroup>,
    ) -> Arc<TableSet> {
        groups.sort_unstable();
        places.sort_unstable();
        let key = (year, groups, places);
        let lock = || {
            BUILT
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(set) = lock().get(&key) {
            return Arc::clone(set);
        }
        let set = Arc::new(TableSet::build_with_places(year, &key.1, &key.2));
        let mut built = lock();
        if built.len() >= KEPT
            && let Some(old) = built.keys().next().cloned()
        {
            built.remove(&old);
        }
        built.insert(key, Arc::clone(&set));
        set
    }

    /// The protected set of a year's groups, without LSOA cells.
    pub fn build(year: FinancialYear, groups: &[Group]) -> TableSet {
        Self::build_with_places(year, groups, &[])
    }

    /// The protected set of a year's groups and place groups (no LSOA cells when no place
    /// group carries an LSOA).
    pub fn build_with_places(
        year: FinancialYear,
        groups: &[Group],
        place_groups: &[PlaceGroup],
    ) -> TableSet {
        let place_groups: Vec<&PlaceGroup> = place_groups
            .iter()
            .filter(|p| (1..=4).contains(&p.quarter))
            .collect();
        let mut places_untrusted = false;
        let mut places: BTreeMap<Option<String>, BTreeSet<String>> = BTreeMap::new();
        if place_groups.iter().any(|p| p.lsoa.is_some()) {
            for p in &place_groups {
                places
                    .entry(p.lsoa.clone())
                    .or_default()
                    .insert(p.area.clone());
            }
        }
        // The place groups must add up, area by area and quarter by quarter, to the groups:
        // a set whose sums did not hold would be protected against false relations. If they
        // do not (they are read in one statement, so only a fault could part them), the set
        // has no LSOA cells and the PCC's figures by official area are all unplaced.
        if !places.is_empty() {
            let mut by_groups: HashMap<(&str, u8), i64> = HashMap::new();
            for g in groups.iter().filter(|g| (1..=12).contains(&g.month)) {
                if let Some(a) = &g.area {
                    *by_groups
                        .entry((a.as_str(), (g.month - 1) / 3 + 1))
                        .or_default() += g.n;
                }
            }
            let mut by_places: HashMap<(&str, u8), i64> = HashMap::new();
            for p in &place_groups {
                *by_places.entry((p.area.as_str(), p.quarter)).or_default() += p.n;
            }
            by_groups.retain(|_, n| *n != 0);
            by_places.retain(|_, n| *n != 0);
            if by_groups != by_places {
                tracing::error!(
                    year = %year,
                    "the PCC's table set: the records by LSOA do not add up to the records by area; the set is built without LSOAs"
                );
                places.clear();
                places_untrusted = true;
            }
        }
        let mut counts: HashMap<Cell, i64> = HashMap::new();
        if !places.is_empty() {
            for p in &place_groups {
                let mut locations = vec![lsoa_key(&p.lsoa)];
                if places.get(&p.lsoa).is_some_and(|a| a.len() > 1) {
                    locations.push(AreaKey::Place(p.area.clone(), p.lsoa.clone()));
                }
                let q = p.quarter;
                for area in locations {
                    for unit in [Unit::Quarter(q), Unit::Half((q - 1) / 2 + 1), Unit::Year] {
                        *counts
                            .entry(Cell {
                                category: None,
                                area: area.clone(),
                                unit,
                            })
                            .or_default() += p.n;
                    }
                }
            }
        }
        for g in groups.iter().filter(|g| (1..=12).contains(&g.month)) {
            let area = match &g.area {
                Some(code) => AreaKey::Area(code.clone()),
                None => AreaKey::DomesticAbuse,
            };
            for category in [Some(g.category.clone()), None] {
                for a in [area.clone(), AreaKey::All] {
                    for unit in Unit::of_month(g.month) {
                        *counts
                            .entry(Cell {
                                category: category.clone(),
                                area: a.clone(),
                                unit,
                            })
                            .or_default() += g.n;
                    }
                }
            }
        }
        let mut set = TableSet {
            year,
            counts,
            hidden: HashMap::new(),
            places,
            places_untrusted,
        };
        set.suppress();
        set
    }

    /// The cell's figure (0 for a cell with no records, which is never withheld).
    pub fn get(&self, cell: &Cell) -> Figure {
        Figure {
            count: self.counts.get(cell).copied().unwrap_or(0),
            hidden: self.hidden.get(cell).copied().unwrap_or(false),
        }
    }

    /// Categories and areas with records in the year.
    pub fn categories(&self) -> BTreeSet<String> {
        self.counts
            .keys()
            .filter_map(|c| c.category.clone())
            .collect()
    }

    pub fn areas(&self) -> BTreeSet<String> {
        self.counts
            .keys()
            .filter_map(|c| match &c.area {
                AreaKey::Area(a) => Some(a.clone()),
                _ => None,
            })
            .collect()
    }

    /// The LSOAs (as the records carry them) with records in the year.
    pub fn lsoas(&self) -> BTreeSet<String> {
        self.places.keys().flatten().cloned().collect()
    }

    /// Whether the set has LSOA cells (some record of the year carries an LSOA).
    pub fn has_lsoas(&self) -> bool {
        !self.places.is_empty()
    }

    /// Whether records carry LSOAs but their counts by LSOA did not add up to those by area,
    /// so the set was built without LSOA cells (a fault, logged when it was built).
    pub fn lsoas_untrusted(&self) -> bool {
        self.places_untrusted
    }

    /// The cell of an area's records in an LSOA (none: without one): the LSOA's own cell when
    /// only that area's records carry it.
    fn joint(&self, area: &str, lsoa: &Option<String>) -> AreaKey {
        if self.places.get(lsoa).is_some_and(|a| a.len() > 1) {
            AreaKey::Place(area.to_owned(), lsoa.clone())
        } else {
            lsoa_key(lsoa)
        }
    }

    /// Every sum relation of the set: each is a total and the parts that add up to it (cells
    /// with no records left out: they are 0 and never withheld).
    pub fn relations(&self) -> Vec<Vec<Cell>> {
        let categories: Vec<Option<String>> = self
            .categories()
            .into_iter()
            .map(Some)
            .chain([None])
            .collect();
        let mut areas: Vec<AreaKey> = self.areas().into_iter().map(AreaKey::Area).collect();
        areas.push(AreaKey::DomesticAbuse);
        // The official places: LSOAs (and no LSOA) with domestic abuse, the second partition.
        let mut lsoas: Vec<AreaKey> = self.places.keys().map(lsoa_key).collect();
        if !lsoas.is_empty() {
            lsoas.push(AreaKey::DomesticAbuse);
        }
        // Each area's parts by LSOA, and each shared LSOA's parts by area.
        let mut nested: Vec<(AreaKey, Vec<AreaKey>)> = Vec::new();
        if self.has_lsoas() {
            let mut of_area: BTreeMap<&String, Vec<AreaKey>> = BTreeMap::new();
            for (lsoa, in_areas) in &self.places {
                for a in in_areas {
                    of_area.entry(a).or_default().push(self.joint(a, lsoa));
                }
                if in_areas.len() > 1 {
                    nested.push((
                        lsoa_key(lsoa),
                        in_areas
                            .iter()
                            .map(|a| AreaKey::Place(a.clone(), lsoa.clone()))
                            .collect(),
                    ));
                }
            }
            nested.extend(
                of_area
                    .into_iter()
                    .map(|(a, parts)| (AreaKey::Area(a.clone()), parts)),
            );
        }
        let all_areas: Vec<AreaKey> = areas.iter().cloned().chain([AreaKey::All]).collect();
        // The LSOA cells (all categories; quarters, halves, the year) have no category or
        // month relations of their own: only halves and the year.
        let place_keys: Vec<AreaKey> = self
            .places
            .iter()
            .flat_map(|(lsoa, in_areas)| {
                let shared = in_areas.len() > 1;
                std::iter::once(lsoa_key(lsoa)).chain(
                    in_areas
                        .iter()
                        .filter(move |_| shared)
                        .map(move |a| AreaKey::Place(a.clone(), lsoa.clone())),
                )
            })
            .collect();
        let units = Unit::all();
        let mut out: Vec<Vec<Cell>> = Vec::new();
        let cell = |category: &Option<String>, area: &AreaKey, unit: Unit| Cell {
            category: category.clone(),
            area: area.clone(),
            unit,
        };
        let present = |c: &Cell| self.counts.contains_key(c);
        for unit in &units {
            // categories to all, in each area and all areas
            for area in &all_areas {
                let mut r = vec![cell(&None, area, *unit)];
                r.extend(
                    categories
                        .iter()
                        .filter(|c| c.is_some())
                        .map(|c| cell(c, area, *unit)),
                );
                out.push(r.into_iter().filter(present).collect());
            }
            // areas to all, LSOAs to all, and the parts of areas and shared LSOAs, for each
            // category and all categories
            for category in &categories {
                let mut r = vec![cell(category, &AreaKey::All, *unit)];
                r.extend(areas.iter().map(|a| cell(category, a, *unit)));
                out.push(r.into_iter().filter(present).collect());
                if matches!(unit, Unit::Month(_)) || category.is_some() {
                    // LSOA cells are of all categories, by quarter, half and year only (see
                    // `LSOA_UNITS`).
                    continue;
                }
                if !lsoas.is_empty() {
                    let mut r = vec![cell(category, &AreaKey::All, *unit)];
                    r.extend(lsoas.iter().map(|a| cell(category, a, *unit)));
                    out.push(r.into_iter().filter(present).collect());
                }
                for (total, parts) in &nested {
                    let mut r = vec![cell(category, total, *unit)];
                    r.extend(parts.iter().map(|a| cell(category, a, *unit)));
                    out.push(r.into_iter().filter(present).collect());
                }
            }
        }
        // months to quarter, quarters to half, halves to year
        let periods: Vec<(Unit, Vec<Unit>)> = (1..=4u8)
            .map(|q| {
                (
                    Unit::Quarter(q),
                    ((q - 1) * 3 + 1..=q * 3).map(Unit::Month).collect(),
                )
            })
            .chain((1..=2u8).map(|h| {
                (
                    Unit::Half(h),
                    ((h - 1) * 2 + 1..=h * 2).map(Unit::Quarter).collect(),
                )
            }))
            .chain([(Unit::Year, vec![Unit::Half(1), Unit::Half(2)])])
            .collect();
        for category in &categories {
            for area in &all_areas {
                for (total, parts) in &periods {
                    let mut r = vec![cell(category, area, *total)];
                    r.extend(parts.iter().map(|u| cell(category, area, *u)));
                    out.push(r.into_iter().filter(present).collect());
                }
            }
        }
        for area in &place_keys {
            for (total, parts) in periods.iter().skip(4) {
                let mut r = vec![cell(&None, area, *total)];
                r.extend(parts.iter().map(|u| cell(&None, area, *u)));
                out.push(r.into_iter().filter(present).collect());
            }
        }
        out.retain(|r| r.len() > 1);
        out
    }

    /// Primary suppression of 1-4, then secondary suppression until every withheld cell can take
    /// at least [`MIN_CANDIDATES`] values given everything else the set shows: first, the
    /// smallest other cell of each relation with exactly one withheld cell (never a 0: a cell
    /// with no records is known); then, audited against the interval attack ([`bounds`]), the
    /// smallest shown cell nearest to each withheld cell that is still pinned too closely, until
    /// none is.
    fn suppress(&mut self) {
        let cells: Vec<Cell> = {
            let mut c: Vec<Cell> = self.counts.keys().cloned().collect();
            c.sort();
            c
        };
        let index: HashMap<Cell, usize> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        let counts: Vec<i64> = cells.iter().map(|c| self.counts[c]).collect();
        let mut hidden: Vec<bool> = counts
            .iter()
            .map(|n| (1..=SMALL_COUNT_MAX).contains(n))
            .collect();
        let relations: Vec<Vec<usize>> = self
            .relations()
            .into_iter()
            .map(|r| r.iter().filter_map(|c| index.get(c).copied()).collect())
            .collect();
        let mut of_cell: Vec<Vec<usize>> = vec![Vec::new(); cells.len()];
        for (ri, r) in relations.iter().enumerate() {
            for &c in r {
                of_cell[c].push(ri);
            }
        }
        loop {
            let mut changed = false;
            for r in &relations {
                if r.iter().filter(|i| hidden[**i]).count() != 1 {
                    continue;
                }
                if let Some(i) = r
                    .iter()
                    .filter(|i| !hidden[**i] && counts[**i] > 0)
                    .min_by_key(|i| (counts[**i], **i))
                {
                    hidden[*i] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        loop {
            let b = bounds(&relations, &counts, &hidden);
            let mut more: BTreeSet<usize> = BTreeSet::new();
            for (x, (lo, hi)) in b.iter().enumerate() {
                if hidden[x]
                    && hi.saturating_sub(*lo) < MIN_CANDIDATES - 1
                    && let Some(c) = nearest_shown(x, &relations, &of_cell, &counts, &hidden, &b)
                {
                    more.insert(c);
                }
            }
            if more.is_empty() {
                break;
            }
            for c in more {
                hidden[c] = true;
            }
        }
        self.hidden = cells.into_iter().zip(hidden).collect();
    }
}

/// The cell of an LSOA as records carry it (none: records without one).
fn lsoa_key(lsoa: &Option<String>) -> AreaKey {
    match lsoa {
        Some(code) => AreaKey::Lsoa(code.clone()),
        None => AreaKey::NoLsoa,
    }
}

/// An indicator's figure for the PCC, from the cells of the set: the sum of the cells it is
/// made of (withheld if any of them is), or None when the indicator is not made of cells (it
/// looks at flags other than domestic abuse, drug classes or fire types), so that the PCC gets
/// no figure that is not already a cell or a sum of visible cells.
pub fn indicator_figure(
    set: &TableSet,
    d: &super::indicator::Definition,
    unit: Unit,
) -> Option<Figure> {
    let other_conditions = d.alcohol_related.is_some()
        || d.youth_related.is_some()
        || d.hate_crime.is_some()
        || !d.hate_strands.is_empty()
        || !d.drug_classes.is_empty()
        || !d.fire_types.is_empty()
        || d.domestic_abuse == Some(false);
    if other_conditions {
        return None;
    }
    let area = if d.domestic_abuse == Some(true) {
        AreaKey::DomesticAbuse
    } else {
        AreaKey::All
    };
    let categories: Vec<Option<String>> = if d.categories.is_empty() {
        vec![None]
    } else {
        d.categories.iter().cloned().map(Some).collect()
    };
    let mut total = Figure {
        count: 0,
        hidden: false,
    };
    for category in categories {
        let f = set.get(&Cell {
            category,
            area: area.clone(),
            unit,
        });
        total.count += f.count;
        total.hidden |= f.hidden;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::disclosure::UNBOUNDED;

    fn g(category: &str, area: Option<&str>, month: u8, n: i64) -> Group {
        Group {
            category: category.to_owned(),
            area: area.map(str::to_owned),
            month,
            n,
        }
    }

    fn year() -> FinancialYear {
        "2014/15".parse().expect("year")
    }

    #[test]
    fn no_relation_keeps_exactly_one_withheld_cell() {
        let mut groups = Vec::new();
        let mut seed: u64 = 7;
        for month in 1..=12u8 {
            for cat in ["burglary", "robbery", "drugs", "violent-crime"] {
                for area in [Some("north"), Some("south"), Some("east"), None] {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let n = i64::try_from((seed >> 33) % 9).unwrap_or(0);
                    if n > 0 {
                        groups.push(g(cat, area, month, n));
                    }
                }
            }
        }
        let set = TableSet::build(year(), &groups);
        let relations = set.relations();
        assert!(relations.len() > 100);
        let mut withheld = 0;
        for r in &relations {
            let hidden = r.iter().filter(|c| set.get(c).hidden).count();
            assert_ne!(hidden, 1, "{r:?}");
            withheld += hidden;
        }
        assert!(withheld > 0);
        // Every small count is withheld.
        for r in &relations {
            for c in r {
                let f = set.get(c);
                if (1..=4).contains(&f.count) {
                    assert!(f.hidden, "{c:?}");
                }
            }
        }
    }

    /// A year of `records` generated records over many categories and areas, skewed so that
    /// many cells are small.
    fn generated(records: u64) -> Vec<Group> {
        let mut seed: u64 = 11;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        let mut counts: HashMap<(usize, Option<usize>, u8), i64> = HashMap::new();
        for _ in 0..records {
            // Category and area by a skewed choice: low numbers common, high ones rare.
            let c = usize::try_from(next() % 16).unwrap_or(0);
            let c = c * usize::try_from(next() % 16).unwrap_or(0) / 15;
            let a = usize::try_from(next() % 40).unwrap_or(0);
            let a = a * usize::try_from(next() % 40).unwrap_or(0) / 39;
            let area = (next() % 20 != 0).then_some(a);
            let month = u8::try_from(next() % 12).unwrap_or(0) + 1;
            *counts.entry((c, area, month)).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|((c, a, month), n)| Group {
                category: format!("c{c:02}"),
                area: a.map(|a| format!("a{a:02}")),
                month,
                n,
            })
            .collect()
    }

    fn audit(set: &TableSet) -> (usize, usize) {
        let relations = set.relations();
        let mut cells: Vec<Cell> = relations.iter().flatten().cloned().collect();
        cells.sort();
        cells.dedup();
        let index: HashMap<&Cell, usize> = cells.iter().enumerate().map(|(i, c)| (c, i)).collect();
        let r: Vec<Vec<usize>> = relations
            .iter()
            .map(|r| r.iter().map(|c| index[c]).collect())
            .collect();
        let counts: Vec<i64> = cells.iter().map(|c| set.get(c).count).collect();
        let hidden: Vec<bool> = cells.iter().map(|c| set.get(c).hidden).collect();
        let b = bounds(&r, &counts, &hidden);
        let mut withheld = 0;
        for (i, c) in cells.iter().enumerate() {
            let (lo, hi) = b[i];
            assert!(
                lo <= counts[i] && counts[i] <= hi,
                "{c:?}: {lo}..{hi} {}",
                counts[i]
            );
            if hidden[i] {
                withheld += 1;
                assert!(
                    hi == UNBOUNDED || hi - lo >= 2,
                    "{c:?} pinned to {lo}..={hi}"
                );
            } else {
                assert_eq!((lo, hi), (counts[i], counts[i]));
            }
        }
        (withheld, cells.len())
    }

    #[test]
    fn every_withheld_cell_keeps_three_values_against_the_interval_attack() {
        let set = TableSet::build(year(), &generated(100_000));
        let (withheld, cells) = audit(&set);
        assert!(withheld > 500 && cells > 5_000, "{withheld} of {cells}");
        // The case: six months of one, all withheld, and their total of 6 shown.
        let groups: Vec<Group> = (1..=6)
            .map(|m| g("burglary", Some("bandley-hill"), m, 1))
            .chain([
                g("burglary", Some("north"), 1, 40),
                g("robbery", Some("bandley-hill"), 1, 30),
            ])
            .collect();
        let set = TableSet::build(year(), &groups);
        audit(&set);
    }

    /// `generated`'s records, and their place groups: each area's records in four or five
    /// LSOAs, one of each area's shared with the next area, and some records in none.
    fn generated_with_lsoas(records: u64) -> (Vec<Group>, Vec<PlaceGroup>) {
        let groups = generated(records);
        let mut seed: u64 = 5;
        let mut out: HashMap<(String, Option<String>, u8), i64> = HashMap::new();
        for g in &groups {
            let Some(a) = &g.area else { continue };
            for _ in 0..g.n {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(3);
                let pick = (seed >> 33) % 12;
                let lsoa = match pick {
                    0 => None,
                    // shared with the area before: a03's "l02-4" is also a02's
                    1 => {
                        let n: u32 = a[1..].parse().unwrap_or(0);
                        Some(format!("l{:02}-4", n.saturating_sub(1)))
                    }
                    k => Some(format!("l{}-{}", &a[1..], k % 5)),
                };
                *out.entry((a.clone(), lsoa, (g.month - 1) / 3 + 1))
                    .or_default() += 1;
            }
        }
        let places = out
            .into_iter()
            .map(|((area, lsoa, quarter), n)| PlaceGroup {
                area,
                lsoa,
                quarter,
                n,
            })
            .collect();
        (groups, places)
    }

    #[test]
    fn lsoas_are_a_second_partition_protected_with_the_areas() {
        let (groups, places) = generated_with_lsoas(12_000);
        let started = std::time::Instant::now();
        let set = TableSet::build_with_places(year(), &groups, &places);
        let took = started.elapsed();
        assert!(set.has_lsoas());
        let (withheld, cells) = audit(&set);
        assert!(cells > 10_000, "{withheld} of {cells}");
        // Every relation: no single withheld cell, and the sums hold.
        let relations = set.relations();
        for r in &relations {
            assert_ne!(r.iter().filter(|c| set.get(c).hidden).count(), 1, "{r:?}");
            let (total, parts) = r.split_first().expect("relation");
            let sum: i64 = parts.iter().map(|c| set.get(c).count).sum();
            assert_eq!(set.get(total).count, sum, "{r:?}");
        }
        // The LSOAs add up to all areas less domestic abuse, as the areas do.
        let year_cell = |area: AreaKey| {
            set.get(&Cell {
                category: None,
                area,
                unit: Unit::Year,
            })
        };
        let by_lsoa: i64 = set
            .lsoas()
            .into_iter()
            .map(|l| year_cell(AreaKey::Lsoa(l)).count)
            .sum::<i64>()
            + year_cell(AreaKey::NoLsoa).count;
        let by_area: i64 = set
            .areas()
            .into_iter()
            .map(|a| year_cell(AreaKey::Area(a)).count)
            .sum();
        assert_eq!(by_lsoa, by_area);
        // A shared LSOA has a part in each of its areas; an LSOA of one area has none.
        assert!(
            set.get(&Cell {
                category: None,
                area: AreaKey::Place("a02".into(), Some("l02-4".into())),
                unit: Unit::Year,
            })
            .count
                > 0
        );
        assert_eq!(
            set.get(&Cell {
                category: None,
                area: AreaKey::Place("a02".into(), Some("l02-2".into())),
                unit: Unit::Year,
            })
            .count,
            0
        );
        eprintln!("{withheld} of {cells} cells withheld, protected in {took:?}");
    }

    #[test]
    fn a_set_without_lsoas_has_no_lsoa_cells() {
        // Place groups that do not add up to the groups are not trusted.
        let (groups, mut places) = generated_with_lsoas(2_000);
        places[0].n += 1;
        let set = TableSet::build_with_places(year(), &groups, &places);
        assert!(!set.has_lsoas() && set.lsoas_untrusted());
        let set = TableSet::build(year(), &generated(5_000));
        assert!(!set.has_lsoas());
        assert!(set.relations().iter().flatten().all(|c| matches!(
            c.area,
            AreaKey::All | AreaKey::Area(_) | AreaKey::DomesticAbuse
        )));
    }

    #[test]
    fn the_interval_attack_pins_what_one_pass_of_secondary_suppression_leaves() {
        // Six withheld months of 1 under a shown year of 6: each is pinned to exactly 1.
        let r = vec![vec![0, 1, 2, 3, 4, 5, 6]];
        let b = bounds(
            &r,
            &[6, 1, 1, 1, 1, 1, 1],
            &[false, true, true, true, true, true, true],
        );
        assert!(b[1..].iter().all(|x| *x == (1, 1)), "{b:?}");
        // Through two relations: x + y = 5 (shown), y + z = 3 (shown) pins y to 1..=2 and z to
        // 1..=2, x to 3..=4.
        let r = vec![vec![0, 3, 4], vec![1, 4, 5]];
        let b = bounds(
            &r,
            &[5, 3, 0, 3, 2, 1],
            &[false, false, false, true, true, true],
        );
        assert_eq!((b[3], b[4], b[5]), ((3, 4), (1, 2), (1, 2)));
    }

    #[test]
    fn sums_hold_across_every_dimension() {
        let set = TableSet::build(
            year(),
            &[
                g("burglary", Some("north"), 1, 10),
                g("burglary", None, 2, 6),
                g("robbery", Some("south"), 4, 7),
            ],
        );
        let all = |unit| Cell {
            category: None,
            area: AreaKey::All,
            unit,
        };
        assert_eq!(set.get(&all(Unit::Year)).count, 23);
        assert_eq!(set.get(&all(Unit::Quarter(1))).count, 16);
        assert_eq!(set.get(&all(Unit::Half(1))).count, 23);
        let da = Cell {
            category: Some("burglary".into()),
            area: AreaKey::DomesticAbuse,
            unit: Unit::Year,
        };
        assert_eq!(set.get(&da).count, 6);
    }

    #[test]
    fn units_of_days() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("d");
        let y = year();
        assert_eq!(
            Unit::of_days(d(2014, 4, 1), d(2015, 3, 31)),
            Some((y, Unit::Year))
        );
        assert_eq!(
            Unit::of_days(d(2014, 10, 1), d(2015, 3, 31)),
            Some((y, Unit::Half(2)))
        );
        assert_eq!(
            Unit::of_days(d(2015, 1, 1), d(2015, 3, 31)),
            Some((y, Unit::Quarter(4)))
        );
        assert_eq!(
            Unit::of_days(d(2015, 2, 1), d(2015, 2, 28)),
            Some((y, Unit::Month(11)))
        );
        assert_eq!(Unit::of_days(d(2014, 5, 1), d(2014, 7, 31)), None);
        assert_eq!(Unit::of_days(d(2015, 3, 1), d(2015, 4, 30)), None);
        assert_eq!(Unit::of_days(d(2014, 4, 2), d(2014, 4, 30)), None);
        for u in Unit::all() {
            let (from, to) = u.days(y);
            assert_eq!(Unit::of_days(from, to), Some((y, u)));
        }
    }
}

/// Why a window is not a unit of the table sets.
pub const UNITS: &str = "the PCC's figures cover one month, quarter, half (April to September or October to March) or financial year";

/// What a unit's figures are compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// The unit before.
    PreviousPeriod,
    /// The same unit a year earlier.
    SamePeriodLastYear,
}

/// The unit before, or the same unit a year earlier.
pub fn compared_unit(year: FinancialYear, unit: Unit, how: Comparison) -> (FinancialYear, Unit) {
    let before = FinancialYear::containing(
        year.first_day()
            .pred_opt()
            .unwrap_or_else(|| year.first_day()),
    );
    match how {
        Comparison::SamePeriodLastYear => (before, unit),
        Comparison::PreviousPeriod => match unit {
            Unit::Month(1) => (before, Unit::Month(12)),
            Unit::Month(m) => (year, Unit::Month(m - 1)),
            Unit::Quarter(1) => (before, Unit::Quarter(4)),
            Unit::Quarter(q) => (year, Unit::Quarter(q - 1)),
            Unit::Half(1) => (before, Unit::Half(2)),
            Unit::Half(_) => (year, Unit::Half(1)),
            Unit::Year => (before, Unit::Year),
        },
    }
}
