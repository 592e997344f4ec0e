//! Stevenage's wards and the made-up, deterministic demo incidents.

use super::*;

/// Stevenage's ONS district code.
pub const STEVENAGE: &str = "E07000243";

/// Stevenage's official geography, bundled (`data/geography/E07000243`, Open Government
/// Licence v3.0: see its SOURCES.md): the lookups first, then the boundaries.
pub const GEOGRAPHY: [(&str, &str); 7] = [
    (
        "lsoa11_lsoa21_E07000243.csv",
        include_str!("../../data/geography/E07000243/lsoa11_lsoa21_E07000243.csv"),
    ),
    (
        "lsoa11_ward_E07000243.csv",
        include_str!("../../data/geography/E07000243/lsoa11_ward_E07000243.csv"),
    ),
    (
        "lsoa21_ward_E07000243.csv",
        include_str!("../../data/geography/E07000243/lsoa21_ward_E07000243.csv"),
    ),
    (
        "lsoa11_E07000243.geojson",
        include_str!("../../data/geography/E07000243/lsoa11_E07000243.geojson"),
    ),
    (
        "lsoa21_E07000243.geojson",
        include_str!("../../data/geography/E07000243/lsoa21_E07000243.geojson"),
    ),
    (
        "wards_wd22_E07000243.geojson",
        include_str!("../../data/geography/E07000243/wards_wd22_E07000243.geojson"),
    ),
    (
        "wards_wd25_E07000243.geojson",
        include_str!("../../data/geography/E07000243/wards_wd25_E07000243.geojson"),
    ),
];

/// Stevenage's populations and deprivation by LSOA, bundled beside the geography, each with its
/// year (the estimates' mid-year; the indices' edition).
pub const FIGURES: [(&str, i32, &str); 3] = [
    (
        "population_lsoa21_E07000243.csv",
        2022,
        include_str!("../../data/geography/E07000243/population_lsoa21_E07000243.csv"),
    ),
    (
        "imd2019_E07000243.csv",
        2019,
        include_str!("../../data/geography/E07000243/imd2019_E07000243.csv"),
    ),
    (
        "imd2025_lsoa21_E07000243.csv",
        2025,
        include_str!("../../data/geography/E07000243/imd2025_lsoa21_E07000243.csv"),
    ),
];

/// Stevenage's wards as they were until May 2024 (the 2019 lookup's), each with the outward
/// postcode it mostly lies in. Each demo ward lists its real LSOAs of 2011 from the ONS lookup.
pub const WARDS: [(&str, &str); 13] = [
    ("Bandley Hill", "SG2"),
    ("Bedwell", "SG1"),
    ("Chells", "SG2"),
    ("Longmeadow", "SG2"),
    ("Manor", "SG2"),
    ("Martins Wood", "SG1"),
    ("Old Town", "SG1"),
    ("Pin Green", "SG1"),
    ("Roebuck", "SG2"),
    ("St Nicholas", "SG1"),
    ("Shephall", "SG2"),
    ("Symonds Green", "SG1"),
    ("Woodfield", "SG1"),
];

/// `Old Town` -> `old-town`.
pub fn slug(name: &str) -> String {
    name.to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

/// Picks from a list with a deterministic generator.
pub(super) fn pick<'a>(next: &mut impl FnMut(u64) -> u64, list: &[&'a str]) -> &'a str {
    let i = next(list.len() as u64);
    list[usize::try_from(i).unwrap_or(0)]
}

/// Each demo ward's real LSOAs of 2011, by ward name, from the bundled ONS lookup.
fn ward_lsoas_2011() -> std::collections::HashMap<String, Vec<String>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut reader = csv::Reader::from_reader(GEOGRAPHY[1].1.as_bytes());
    let header = reader.headers().cloned().unwrap_or_default();
    let at = |name: &str| header.iter().position(|h| h == name);
    if let (Some(l), Some(w)) = (at("LSOA11CD"), at("WD19NM")) {
        for r in reader.records().flatten() {
            if let (Some(ward), Some(lsoa)) = (r.get(w), r.get(l)) {
                out.entry(ward.to_owned())
                    .or_default()
                    .push(lsoa.to_owned());
            }
        }
    }
    for lsoas in out.values_mut() {
        lsoas.sort();
    }
    out
}

/// Made-up, deterministic, depersonalised demo incidents for April 2014 to June 2015 from each
/// pushing agency, with the report's shapes: youth ASB in Shephall, night-time economy
/// violence in the Old Town, deliberate secondary fires. Each lies in one of its ward's real
/// LSOAs of 2011 (by turns), so figures by official area and hotspots have something to show.
pub fn demo_incidents() -> Vec<(&'static str, Vec<crate::domain::incident::IncidentInput>)> {
    use crate::domain::incident::IncidentInput;
    let mut state: u64 = 0x5eed_2015;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let start = NaiveDate::from_ymd_opt(2014, 4, 1).unwrap_or_default();
    let wards: Vec<&str> = WARDS.iter().map(|w| w.0).collect();
    let categories = [
        "violent-crime",
        "burglary",
        "vehicle-crime",
        "criminal-damage-arson",
        "shoplifting",
        "other-theft",
        "drugs",
        "public-order",
    ];
    let outcomes = [
        "under-investigation",
        "charged",
        "no-further-action",
        "local-resolution",
    ];
    let lsoas = ward_lsoas_2011();
    let (mut police, mut fire, mut council) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..1500u64 {
        let day = start + chrono::Duration::days(i64::try_from(next(456)).unwrap_or(0));
        let ward = if next(5) == 0 {
            "Shephall"
        } else {
            pick(&mut next, &wards)
        };
        let mut input = IncidentInput {
            occurred_at: format!("{day}T{:02}:{:02}:00Z", next(24), next(60)),
            area: Some(slug(ward)),
            postcode_district: WARDS.iter().find(|w| w.0 == ward).map(|w| w.1.to_owned()),
            // By turns, not from the generator: every other figure stays as it was.
            lsoa: lsoas.get(ward).and_then(|l| {
                l.get(usize::try_from(n).unwrap_or(0) % l.len().max(1))
                    .cloned()
            }),
            ..Default::default()
        };
        match n % 10 {
            0..=5 => {
                input.external_ref = format!("HP-{:06}", 100_000 + n);
                input.category = pick(&mut next, &categories).to_owned();
                input.domestic_abuse = input.category == "violent-crime" && next(3) == 0;
                input.alcohol_related = ward == "Old Town" && next(2) == 0;
                if input.category == "drugs" {
                    input.drug_class = Some(pick(&mut next, &["a", "b", "c"]).to_owned());
                }
                if input.category == "public-order" && next(6) == 0 {
                    input.hate_strands = vec!["race".to_owned()];
                }
                input.outcome = Some(pick(&mut next, &outcomes).to_owned());
                police.push(input);
            }
            6 => {
                input.external_ref = format!("HFRS-{:06}", 500_000 + n);
                input.category = "deliberate-fire".to_owned();
                let fire_type = pick(
                    &mut next,
                    &["secondary", "secondary", "primary", "primary-vehicle"],
                );
                input.fire_type = Some(fire_type.to_owned());
                input.youth_related = next(2) == 0;
                fire.push(input);
            }
            _ => {
                input.external_ref = format!("SBC-ASB-{:05}", 20_000 + n);
                input.category = "anti-social-behaviour".to_owned();
                let asb_type = pick(&mut next, &["personal", "nuisance", "environmental"]);
                input.asb_type = Some(asb_type.to_owned());
                input.youth_related = ward == "Shephall" || next(4) == 0;
                council.push(input);
            }
        }
    }
    vec![(P, police), (F, fire), (C, council)]
}
