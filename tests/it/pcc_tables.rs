//! The PCC's figures are cells of one protected table set per partnership and financial year:
//! this walks the demo partnership's whole set for 2014/15 through the API, as a PCC token sees
//! it, finds no sum relation with exactly one withheld cell, and repeats the differencing
//! attacks that used to work.

use std::collections::{BTreeSet, HashMap};

use crate::common::*;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const Q: &str = "query($f: IncidentFilterInput!, $g: [StatsDimension!]!) {
  incidentStats(filter: $f, groupBy: $g) {
    rows { category area month quarter count suppressed } total { count suppressed } } }";

/// A cell's key: category ("" for all), area ("" for all, "DA" for domestic abuse), unit.
type Key = (String, String, String);

/// What the PCC saw of a cell: Some(count) or None when withheld.
type Seen = HashMap<Key, Option<i64>>;

/// The units of the financial year that starts in April of `start`, named as the walk names them.
fn units_of(start: i32) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for i in 0..12 {
        let (y, m) = if i < 9 {
            (start, i + 4)
        } else {
            (start + 1, i - 8)
        };
        let m = format!("{y}-{m:02}");
        out.push((m.clone(), json!({"month": m})));
    }
    let fy = format!("{start}/{:02}", (start + 1) % 100);
    for q in 1..=4 {
        let q = format!("{fy} Q{q}");
        out.push((q.clone(), json!({"quarter": q})));
    }
    out.push((
        "H1".to_owned(),
        json!({"from": format!("{start}-04-01"), "to": format!("{start}-09-30")}),
    ));
    out.push((
        "H2".to_owned(),
        json!({"from": format!("{start}-10-01"), "to": format!("{}-03-31", start + 1)}),
    ));
    out.push((fy.clone(), json!({"financialYear": fy})));
    out
}

fn value(cell: &Value) -> Option<i64> {
    if cell["suppressed"] == true {
        assert!(cell["count"].is_null(), "{cell}");
        None
    } else {
        Some(cell["count"].as_i64().expect("a count"))
    }
}

async fn ask(app: &TestApp, pcc: &str, filter: Value, group: &[&str]) -> Value {
    let r = app
        .gql(Q, json!({"f": filter, "g": group}), Some(pcc))
        .await;
    assert!(
        r.body.get("errors").is_none(),
        "{filter} {group:?}: {}",
        r.body
    );
    r.data()["incidentStats"].clone()
}

/// Every cell of the demo year's set the PCC can obtain, from the API.
async fn walk(app: &TestApp, pcc: &str) -> (Seen, BTreeSet<String>, BTreeSet<String>) {
    walk_year(app, pcc, 2014).await
}

/// Every cell of a year's set the PCC can obtain, from the API.
async fn walk_year(
    app: &TestApp,
    pcc: &str,
    start: i32,
) -> (Seen, BTreeSet<String>, BTreeSet<String>) {
    let mut seen: Seen = HashMap::new();
    let (mut categories, mut areas) = (BTreeSet::new(), BTreeSet::new());
    for (unit, period) in units_of(start) {
        let s = ask(app, pcc, json!({"period": period}), &["CATEGORY", "AREA"]).await;
        for r in s["rows"].as_array().expect("rows") {
            let (c, a) = (
                r["category"].as_str().expect("c").to_owned(),
                r["area"].as_str().expect("a").to_owned(),
            );
            categories.insert(c.clone());
            areas.insert(a.clone());
            seen.insert((c, a, unit.clone()), value(r));
        }
        let s = ask(app, pcc, json!({"period": period}), &["CATEGORY"]).await;
        for r in s["rows"].as_array().expect("rows") {
            let c = r["category"].as_str().expect("c").to_owned();
            categories.insert(c.clone());
            seen.insert((c, String::new(), unit.clone()), value(r));
        }
        seen.insert(
            (String::new(), String::new(), unit.clone()),
            value(&s["total"]),
        );
        let s = ask(app, pcc, json!({"period": period}), &["AREA"]).await;
        for r in s["rows"].as_array().expect("rows") {
            let a = r["area"].as_str().expect("a").to_owned();
            seen.insert((String::new(), a, unit.clone()), value(r));
        }
        let s = ask(
            app,
            pcc,
            json!({"period": period, "domesticAbuse": true}),
            &["CATEGORY"],
        )
        .await;
        for r in s["rows"].as_array().expect("rows") {
            let c = r["category"].as_str().expect("c").to_owned();
            seen.insert((c, "DA".to_owned(), unit.clone()), value(r));
        }
        seen.insert(
            (String::new(), "DA".to_owned(), unit.clone()),
            value(&s["total"]),
        );
    }
    (seen, categories, areas)
}

/// Every sum relation of a year's set: the total first, then its parts.
fn relations(categories: &BTreeSet<String>, areas: &BTreeSet<String>, start: i32) -> Vec<Vec<Key>> {
    let cats: Vec<&str> = categories.iter().map(String::as_str).collect();
    let mut area_keys: Vec<&str> = areas.iter().map(String::as_str).collect();
    area_keys.push("DA");
    let unit_names: Vec<String> = units_of(start).into_iter().map(|u| u.0).collect();
    let mut relations: Vec<Vec<(String, String, String)>> = Vec::new();
    let key = |c: &str, a: &str, u: &str| (c.to_owned(), a.to_owned(), u.to_owned());
    for u in &unit_names {
        for a in area_keys.iter().chain([&""]) {
            let mut r = vec![key("", a, u)];
            r.extend(cats.iter().map(|c| key(c, a, u)));
            relations.push(r);
        }
        for c in cats.iter().chain([&""]) {
            let mut r = vec![key(c, "", u)];
            r.extend(area_keys.iter().map(|a| key(c, a, u)));
            relations.push(r);
        }
    }
    let mut periods: Vec<(String, Vec<String>)> = Vec::new();
    for q in 0..4 {
        periods.push((
            unit_names[12 + q].clone(),
            unit_names[q * 3..q * 3 + 3].to_vec(),
        ));
    }
    periods.push((unit_names[16].clone(), unit_names[12..14].to_vec()));
    periods.push((unit_names[17].clone(), unit_names[14..16].to_vec()));
    periods.push((unit_names[18].clone(), unit_names[16..18].to_vec()));
    for c in cats.iter().chain([&""]) {
        for a in area_keys.iter().chain([&""]) {
            for (total, parts) in &periods {
                let mut r = vec![key(c, a, total)];
                r.extend(parts.iter().map(|u| key(c, a, u)));
                relations.push(r);
            }
        }
    }
    relations
}

#[tokio::test]
async fn the_pcc_table_set_has_no_relation_with_one_withheld_cell() {
    let app = TestApp::spawn().await;
    let pcc = app.pcc();
    let (seen, categories, areas) = walk(&app, &pcc).await;
    assert!(
        categories.len() >= 9 && areas.len() == 13,
        "{categories:?} {areas:?}"
    );
    let get = |c: &str, a: &str, u: &str| -> Option<i64> {
        // A cell with no row has no records: 0, known.
        seen.get(&(c.to_owned(), a.to_owned(), u.to_owned()))
            .copied()
            .unwrap_or(Some(0))
    };
    let relations = relations(&categories, &areas, 2014);
    let (mut withheld, mut checked_sums) = (0, 0);
    for r in &relations {
        let values: Vec<Option<i64>> = r.iter().map(|(c, a, u)| get(c, a, u)).collect();
        let hidden = values.iter().filter(|v| v.is_none()).count();
        assert_ne!(hidden, 1, "one withheld cell in {r:?}: {values:?}");
        withheld += hidden;
        if hidden == 0 {
            // The relation really is a sum: the total is the sum of its parts.
            let parts: i64 = values[1..].iter().flatten().sum();
            assert_eq!(values[0], Some(parts), "{r:?}");
            checked_sums += 1;
        }
    }
    assert!(relations.len() > 1000, "{}", relations.len());
    assert!(
        withheld > 0 && checked_sums > 100,
        "{withheld} {checked_sums}"
    );
    // Every small count seen is withheld: none of 1 to 4 is ever shown.
    assert!(seen.values().flatten().all(|n| !(1..=4).contains(n)));
}

#[tokio::test]
async fn the_two_differencing_attacks_give_nothing() {
    let app = TestApp::spawn().await;
    let pcc = app.pcc();
    // A year's months against each quarter's total.
    let year = ask(
        &app,
        &pcc,
        json!({"period": {"financialYear": "2014/15"}, "categories": ["robbery"]}),
        &["MONTH"],
    )
    .await;
    let months: HashMap<String, Option<i64>> = year["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["month"].as_str().expect("m").to_owned(), value(r)))
        .collect();
    let all_months: Vec<&str> = vec![
        "2014-04", "2014-05", "2014-06", "2014-07", "2014-08", "2014-09", "2014-10", "2014-11",
        "2014-12", "2015-01", "2015-02", "2015-03",
    ];
    for q in 0..4 {
        let quarter = ask(
            &app,
            &pcc,
            json!({"period": {"quarter": format!("2014/15 Q{}", q + 1)}, "categories": ["robbery"]}),
            &[],
        )
        .await;
        let parts: Vec<Option<i64>> = all_months[q * 3..q * 3 + 3]
            .iter()
            .map(|m| months.get(*m).copied().unwrap_or(Some(0)))
            .collect();
        let hidden = parts.iter().filter(|p| p.is_none()).count()
            + usize::from(value(&quarter["total"]).is_none());
        assert_ne!(hidden, 1, "Q{}: {parts:?} {}", q + 1, quarter["total"]);
    }
    // All categories against all but one: a sum of several categories is not a cell.
    let r = app
        .gql(
            Q,
            json!({"f": {"period": {"month": "2014-05"}, "categories": ["burglary", "drugs"]}, "g": []}),
            Some(&pcc),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    // Nor are days, other flags, or another grouping.
    for (f, g) in [
        (
            json!({"period": {"from": "2014-05-02", "to": "2014-05-31"}}),
            json!([]),
        ),
        (
            json!({"period": {"from": "2014-05-01", "to": "2014-07-31"}}),
            json!([]),
        ),
        (
            json!({"period": {"month": "2014-05"}, "youthRelated": true}),
            json!([]),
        ),
        (
            json!({"period": {"month": "2014-05"}}),
            json!(["SOURCE_AGENCY"]),
        ),
        (json!({"period": {"month": "2014-05"}}), json!(["FLAG"])),
    ] {
        let r = app.gql(Q, json!({"f": f, "g": g}), Some(&pcc)).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{f} {g}: {}", r.body);
    }
    // Partners are not limited: exact figures for any filter.
    let r = app
        .gql(
            Q,
            json!({"f": {"period": {"month": "2014-05"}, "categories": ["burglary", "drugs"]}, "g": []}),
            Some(&app.police()),
        )
        .await;
    assert!(r.data()["incidentStats"]["total"]["count"].is_number());
}

/// The interval attack, written apart from the service's own audit: every withheld cell is at
/// least 1, every shown cell (and every cell with no row, which is 0) is what it says, and each
/// sum relation narrows its cells' lowest and highest values, carried through every relation
/// until nothing narrows further. Returns each withheld cell's range (None above: unbounded).
fn attack(seen: &Seen, relations: &[Vec<Key>]) -> HashMap<Key, (i64, Option<i64>)> {
    let mut b: HashMap<Key, (i64, Option<i64>)> = HashMap::new();
    for r in relations {
        for k in r {
            let v = seen.get(k).copied().unwrap_or(Some(0));
            b.insert(k.clone(), v.map_or((1, None), |n| (n, Some(n))));
        }
    }
    loop {
        let mut narrowed = false;
        for r in relations {
            let parts = &r[1..];
            let lo: i64 = parts.iter().map(|k| b[k].0).sum();
            let hi: Option<i64> = parts.iter().map(|k| b[k].1).sum();
            let (t_lo, t_hi) = b[&r[0]];
            narrowed |= narrow(&mut b, &r[0], lo, hi);
            for k in parts {
                let (kl, kh) = b[k];
                let others_lo = lo - kl;
                let others_hi = kh.and_then(|kh| hi.map(|h| h - kh));
                narrowed |= narrow(
                    &mut b,
                    k,
                    others_hi.map_or(i64::MIN, |oh| t_lo - oh),
                    t_hi.map(|th| th - others_lo),
                );
            }
        }
        if !narrowed {
            break;
        }
    }
    b.retain(|k, _| seen.get(k).is_some_and(Option::is_none));
    b
}

/// Narrows a cell's range to at least `l` and at most `h`; true if it narrowed.
fn narrow(b: &mut HashMap<Key, (i64, Option<i64>)>, k: &Key, l: i64, h: Option<i64>) -> bool {
    let (ol, oh) = b[k];
    let nl = ol.max(l);
    let nh = match (oh, h) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    };
    if (nl, nh) == (ol, oh) {
        return false;
    }
    assert!(
        nh.is_none_or(|h| nl <= h),
        "the figures contradict themselves at {k:?}: {nl}..={nh:?}"
    );
    b.insert(k.clone(), (nl, nh));
    true
}

/// Every withheld cell the attack reaches keeps at least three values.
fn assert_three_values(seen: &Seen, relations: &[Vec<Key>]) -> usize {
    let ranges = attack(seen, relations);
    eprintln!(
        "STATS withheld {} pinned {} two {}",
        ranges.len(),
        ranges
            .values()
            .filter(|(l, h)| h.is_some_and(|h| h == *l))
            .count(),
        ranges
            .values()
            .filter(|(l, h)| h.is_some_and(|h| h == *l + 1))
            .count()
    );
    let pinned: Vec<_> = ranges
        .iter()
        .filter(|(_, (lo, hi))| hi.is_some_and(|hi| hi - lo < 2))
        .collect();
    assert!(
        pinned.is_empty(),
        "{} of {} withheld cells have fewer than three values, e.g. {:?}",
        pinned.len(),
        ranges.len(),
        pinned.iter().take(5).collect::<Vec<_>>()
    );
    ranges.len()
}

#[tokio::test]
async fn the_interval_attack_leaves_every_withheld_cell_of_the_demo_year_three_values() {
    let app = TestApp::spawn().await;
    let pcc = app.pcc();
    // The single request: six withheld months under a shown total of 6.
    let s = ask(
        &app,
        &pcc,
        json!({"period": {"financialYear": "2014/15"}, "categories": ["burglary"], "areas": ["bandley-hill"]}),
        &["MONTH"],
    )
    .await;
    let months: Vec<Option<i64>> = s["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(value)
        .collect();
    if let Some(total) = value(&s["total"]) {
        let hidden = months.iter().filter(|m| m.is_none()).count();
        let shown: i64 = months.iter().flatten().sum();
        // The withheld months add up to what the shown ones leave; with each at least 1 that
        // must leave each at least three values.
        assert!(
            hidden == 0 || total - shown - (i64::try_from(hidden).expect("n") - 1) >= 3,
            "{s}"
        );
    }
    let (seen, categories, areas) = walk(&app, &pcc).await;
    let withheld = assert_three_values(&seen, &relations(&categories, &areas, 2014));
    assert!(withheld > 100, "{withheld}");
}

#[tokio::test]
async fn the_interval_attack_leaves_three_values_in_a_year_of_100000_records_with_many_small_cells()
{
    let app = TestApp::spawn().await;
    // 100,000 records of 2016/17, skewed so that most categories and areas are small.
    app.db
        .execute_unprepared(
            "INSERT INTO incidents (source_agency_id, external_ref, partnership_id, category,
               occurred_at, occurred_on, area_id, postcode_district, domestic_abuse,
               alcohol_related, youth_related, status, content_hash, pushed_by_sub)
             SELECT ag.id, 'GEN-' || g, p.id,
               (ARRAY['violent-crime','burglary','vehicle-crime','criminal-damage-arson',
                 'shoplifting','other-theft','drugs','public-order','robbery',
                 'anti-social-behaviour'])[1 + floor(10 * u1 ^ 20)::int],
               t, (t AT TIME ZONE 'Europe/London')::date,
               (SELECT id FROM areas WHERE partnership_id = p.id ORDER BY code
                 OFFSET floor(13 * u2 ^ 6)::int LIMIT 1),
               'SG1', g % 23 = 0, false, false, 'ACTIVE', md5(g::text), 'test'
             FROM generate_series(1, 100000) g
             CROSS JOIN LATERAL (SELECT (hashint4(g) & 1048575) / 1048576.0 AS u1,
               (hashint4(g + 7919) & 1048575) / 1048576.0 AS u2,
               timestamptz '2016-04-01 00:00+01' + ((hashint4(g + 104729) & 1048575) % 365)
                 * interval '1 day' AS t) r
             CROSS JOIN (SELECT id FROM agencies WHERE slug = 'herts-police') ag
             CROSS JOIN (SELECT id FROM partnerships WHERE slug = 'stevenage') p",
        )
        .await
        .expect("generate");
    let pcc = app.pcc();
    let (seen, categories, areas) = walk_year(&app, &pcc, 2016).await;
    let withheld = assert_three_values(&seen, &relations(&categories, &areas, 2016));
    let total = seen[&(String::new(), String::new(), "2016/17".to_owned())];
    assert!(total.is_some_and(|n| n >= 100_000), "{total:?}");
    assert!(withheld > 100, "{withheld}");
}

const BY_LSOA: &str = "query($p: PeriodInput!) { protectedAreaStatistics(filter: {period: $p}, district: \"E07000243\", kind: LSOA, vintage: 2011) { rows { code count suppressed } outside { count suppressed } unplaced { count suppressed } domesticAbuse { count suppressed } } }";

#[tokio::test]
async fn the_interval_attack_with_the_figures_by_lsoa_leaves_every_withheld_cell_three_values() {
    let app = TestApp::spawn().await;
    let pcc = app.pcc();
    let (mut seen, categories, areas) = walk(&app, &pcc).await;
    let mut relations = relations(&categories, &areas, 2014);
    // The PCC's analyst also reads every LSOA's figure (the demo's records carry LSOAs of
    // 2011) for each quarter, half and the year, and knows which LSOAs each area lists.
    let units: Vec<(String, Value)> = units_of(2014).into_iter().skip(12).collect();
    let mut lsoas: BTreeSet<String> = BTreeSet::new();
    for (unit, period) in &units {
        let r = app.gql(BY_LSOA, json!({"p": period}), Some(&pcc)).await;
        assert!(r.body.get("errors").is_none(), "{unit}: {}", r.body);
        let s = &r.data()["protectedAreaStatistics"];
        let mut total = vec![(String::new(), String::new(), unit.clone())];
        for row in s["rows"].as_array().expect("rows") {
            let code = format!("L:{}", row["code"].as_str().expect("code"));
            lsoas.insert(code.clone());
            seen.insert((String::new(), code.clone(), unit.clone()), value(row));
            total.push((String::new(), code, unit.clone()));
        }
        for part in ["outside", "unplaced"] {
            let key = (String::new(), format!("L:{part}"), unit.clone());
            seen.insert(key.clone(), value(&s[part]));
            total.push(key);
        }
        // Domestic abuse is the same cell as incidentStats gives.
        let da = (String::new(), "DA".to_owned(), unit.clone());
        assert_eq!(seen.get(&da).copied().flatten(), value(&s["domesticAbuse"]));
        total.push(da);
        relations.push(total);
    }
    assert!(lsoas.len() > 50, "{}", lsoas.len());
    // Quarters to halves to the year, for every LSOA.
    let names: Vec<String> = units.iter().map(|u| u.0.clone()).collect();
    for code in lsoas
        .iter()
        .cloned()
        .chain(["L:unplaced".to_owned(), "L:outside".to_owned()])
    {
        let k = |u: &String| (String::new(), code.clone(), u.clone());
        relations.push(vec![k(&names[4]), k(&names[0]), k(&names[1])]);
        relations.push(vec![k(&names[5]), k(&names[2]), k(&names[3])]);
        relations.push(vec![k(&names[6]), k(&names[4]), k(&names[5])]);
    }
    // Each area is the LSOAs it lists (the demo's records carry LSOAs their areas list).
    let listed = app
        .gql("{ areas { nodes { code lsoas } } }", json!({}), Some(&pcc))
        .await;
    let mut nested = 0;
    for a in listed.data()["areas"]["nodes"].as_array().expect("areas") {
        let code = a["code"].as_str().expect("code").to_owned();
        let parts: Vec<String> = a["lsoas"]
            .as_array()
            .expect("lsoas")
            .iter()
            .map(|l| format!("L:{}", l.as_str().expect("lsoa")))
            .filter(|l| lsoas.contains(l))
            .collect();
        if parts.is_empty() || !areas.contains(&code) {
            continue;
        }
        nested += 1;
        for u in &names {
            let mut r = vec![(String::new(), code.clone(), u.clone())];
            r.extend(parts.iter().map(|l| (String::new(), l.clone(), u.clone())));
            relations.push(r);
        }
    }
    assert!(nested > 5, "{nested}");
    let withheld = assert_three_values(&seen, &relations);
    assert!(withheld > 100, "{withheld}");
}
