//! The PCC's figures are cells of one protected table set per partnership and financial year:
//! this walks the demo partnership's whole set for 2014/15 through the API, as a PCC token sees
//! it, finds no sum relation with exactly one withheld cell, and repeats the differencing
//! attacks that used to work.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::*;
use serde_json::{Value, json};

const Q: &str = "query($f: IncidentFilterInput!, $g: [StatsDimension!]!) {
  incidentStats(filter: $f, groupBy: $g) {
    rows { category area month quarter count suppressed } total { count suppressed } } }";

/// A cell's key: category ("" for all), area ("" for all, "DA" for domestic abuse), unit.
type Key = (String, String, String);

/// What the PCC saw of a cell: Some(count) or None when withheld.
type Seen = HashMap<Key, Option<i64>>;

fn units() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for m in [
        "2014-04", "2014-05", "2014-06", "2014-07", "2014-08", "2014-09", "2014-10", "2014-11",
        "2014-12", "2015-01", "2015-02", "2015-03",
    ] {
        out.push((m.to_owned(), json!({"month": m})));
    }
    for q in 1..=4 {
        let q = format!("2014/15 Q{q}");
        out.push((q.clone(), json!({"quarter": q})));
    }
    out.push((
        "H1".to_owned(),
        json!({"from": "2014-04-01", "to": "2014-09-30"}),
    ));
    out.push((
        "H2".to_owned(),
        json!({"from": "2014-10-01", "to": "2015-03-31"}),
    ));
    out.push(("2014/15".to_owned(), json!({"financialYear": "2014/15"})));
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

/// Every cell of the set the PCC can obtain, from the API.
async fn walk(app: &TestApp, pcc: &str) -> (Seen, BTreeSet<String>, BTreeSet<String>) {
    let mut seen: Seen = HashMap::new();
    let (mut categories, mut areas) = (BTreeSet::new(), BTreeSet::new());
    for (unit, period) in units() {
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
    let cats: Vec<&str> = categories.iter().map(String::as_str).collect();
    let mut area_keys: Vec<&str> = areas.iter().map(String::as_str).collect();
    area_keys.push("DA");
    let unit_names: Vec<String> = units().into_iter().map(|u| u.0).collect();
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
