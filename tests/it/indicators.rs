//! Indicators, populations and the strategic assessment, as a partnership's analyst and
//! coordinator use them: known counts in two windows across a county of ten partnerships give
//! exact changes, rates and ranks.

use crate::common::*;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// A county of its own, `Testcounty`, with ten partnerships `t0`..`t9`, each with one area, and
/// herts-police, herts-fire, stevenage-council and the PCC members of all of them.
async fn testcounty(app: &TestApp) {
    app.db
        .execute_unprepared(
            "INSERT INTO partnerships (slug, name, county)
               SELECT 't' || n, 'Test ' || n, 'Testcounty' FROM generate_series(0, 9) n;
             INSERT INTO agency_partnerships SELECT a.id, p.id FROM agencies a, partnerships p
               WHERE a.slug IN ('herts-police', 'herts-fire', 'stevenage-council', 'herts-pcc')
                 AND p.county = 'Testcounty';
             INSERT INTO areas (partnership_id, code, name, kind)
               SELECT id, 'all', 'All', 'ward' FROM partnerships WHERE county = 'Testcounty';",
        )
        .await
        .expect("testcounty");
}

/// `n` ACTIVE records of a category on a day in partnership `p` (by slug), with flags.
async fn incidents(app: &TestApp, p: &str, category: &str, day: &str, n: i32, extra: &str) {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let extra = if extra.is_empty() {
        "false AS domestic_abuse, 'ACTIVE' AS status, NULL AS cancel_reason".to_owned()
    } else {
        extra.to_owned()
    };
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO incidents (source_agency_id, external_ref, partnership_id, category, occurred_at,
               occurred_on, area_id, domestic_abuse, status, cancel_reason, content_hash, pushed_by_sub)
             SELECT (SELECT id FROM agencies WHERE slug = 'herts-police'), 'T-{seq}-' || k, p.id, '{category}',
               '{day}T12:00:00Z', '{day}', a.id, x.domestic_abuse, x.status, x.cancel_reason, 'h', 'test'
             FROM partnerships p JOIN areas a ON a.partnership_id = p.id,
               (SELECT {extra}) x, generate_series(1, {n}) k
             WHERE p.slug = '{p}'"
        ))
        .await
        .expect("incidents");
}

async fn population(app: &TestApp, p: &str, year: i32, n: i32) {
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO populations (partnership_id, year, population, source, recorded_by_sub)
             SELECT id, {year}, {n}, 'test', 'test' FROM partnerships WHERE slug = '{p}'"
        ))
        .await
        .expect("population");
}

const WINDOW: &str = "from: \"2014-01-11\", to: \"2014-01-20\"";

/// The assessment's row of one indicator.
fn row<'a>(r: &'a Resp, code: &str) -> &'a Value {
    r.data()["strategicAssessment"]["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["indicator"]["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {}", r.body))
}

async fn assess(app: &TestApp, p: &str) -> Resp {
    let token = app.token_for("police", "herts-police", &[p], &[]);
    let r = app
        .gql(
            &format!(
                "{{ strategicAssessment(partnership: \"{p}\", {WINDOW}) {{ county populationYear population
                   countyPartnerships window {{ from to }} previousWindow {{ from to }}
                   indicators {{ indicator {{ code kind builtIn }} count previousCount change changePercent
                     ratePerThousand rank ranked }} }} }}"
            ),
            json!({}),
            Some(&token),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r
}

/// The window 11-20 January 2014 (ten days) against 1-10 January. Burglary per 1,000:
/// t6 0 (it has other records), t2 2, t4 3, t0 5, t1 5 (10 in 2,000), t8 7, t3 8, t9 9; t5 has no
/// records in the window and t7 no population, so neither is ranked.
async fn known_county(app: &TestApp) {
    testcounty(app).await;
    for (p, pop) in [
        ("t0", 1000),
        ("t1", 2000),
        ("t2", 1000),
        ("t3", 1000),
        ("t4", 1000),
        ("t5", 1000),
        ("t6", 1000),
        ("t8", 1000),
        ("t9", 1000),
    ] {
        population(app, p, 2013, pop).await;
    }
    // An estimate after the window's middle is not used.
    population(app, "t3", 2014, 5000).await;
    for (p, n) in [
        ("t0", 5),
        ("t1", 10),
        ("t2", 2),
        ("t4", 3),
        ("t7", 4),
        ("t8", 7),
        ("t9", 9),
    ] {
        incidents(app, p, "burglary", "2014-01-15", n, "").await;
    }
    incidents(app, "t6", "drugs", "2014-01-15", 1, "").await;
    incidents(app, "t5", "burglary", "2014-01-05", 3, "").await;
    // t3: 8 burglaries in the window (one on its last day, one domestic-abuse related), 5 in the
    // one before (one on its last day); records outside both windows and a cancelled one do
    // not count.
    incidents(app, "t3", "burglary", "2014-01-11", 6, "").await;
    incidents(app, "t3", "burglary", "2014-01-20", 1, "").await;
    incidents(
        app,
        "t3",
        "burglary",
        "2014-01-12",
        1,
        "true AS domestic_abuse, 'ACTIVE' AS status, NULL AS cancel_reason",
    )
    .await;
    incidents(
        app,
        "t3",
        "burglary",
        "2014-01-13",
        1,
        "false AS domestic_abuse, 'CANCELLED' AS status, 'duplicate' AS cancel_reason",
    )
    .await;
    incidents(app, "t3", "burglary", "2014-01-01", 4, "").await;
    incidents(app, "t3", "burglary", "2014-01-10", 1, "").await;
    incidents(app, "t3", "burglary", "2014-01-21", 9, "").await;
    incidents(app, "t3", "burglary", "2013-12-31", 9, "").await;
    // Vehicle crime: 7 now, none before. Criminal damage: 5 against 6 (-16.7%).
    incidents(app, "t3", "vehicle-crime", "2014-01-14", 7, "").await;
    incidents(app, "t3", "criminal-damage-arson", "2014-01-14", 5, "").await;
    incidents(app, "t3", "criminal-damage-arson", "2014-01-02", 6, "").await;
    // Domestic abuse: two violent crimes with the flag, and the burglary above.
    incidents(
        app,
        "t3",
        "violent-crime",
        "2014-01-16",
        2,
        "true AS domestic_abuse, 'ACTIVE' AS status, NULL AS cancel_reason",
    )
    .await;
}

#[tokio::test]
async fn assessment_gives_exact_changes_rates_and_ranks_across_the_county() {
    let app = TestApp::spawn().await;
    known_county(&app).await;
    let r = assess(&app, "t3").await;
    let a = &r.data()["strategicAssessment"];
    assert_eq!(a["county"], "Testcounty");
    assert_eq!(a["countyPartnerships"], 10);
    assert_eq!(a["populationYear"], 2013);
    assert_eq!(a["population"], 1000);
    assert_eq!(
        a["previousWindow"],
        json!({"from": "2014-01-01", "to": "2014-01-10"})
    );
    let b = row(&r, "burglary");
    assert_eq!(
        (
            &b["count"],
            &b["previousCount"],
            &b["change"],
            &b["changePercent"]
        ),
        (&json!(8), &json!(5), &json!(3), &json!(60.0)),
        "{b}"
    );
    assert_eq!(b["ratePerThousand"], 8.0);
    assert_eq!((&b["rank"], &b["ranked"]), (&json!(7), &json!(8)), "{b}");
    let v = row(&r, "vehicle-crime");
    assert_eq!(
        (&v["count"], &v["previousCount"], &v["change"]),
        (&json!(7), &json!(0), &json!(7))
    );
    assert!(v["changePercent"].is_null(), "no % on an earlier 0: {v}");
    let c = row(&r, "criminal-damage");
    assert_eq!(
        (&c["change"], &c["changePercent"]),
        (&json!(-1), &json!(-16.7))
    );
    let d = row(&r, "domestic-abuse");
    assert_eq!((&d["count"], &d["previousCount"]), (&json!(3), &json!(0)));
    assert_eq!(d["ratePerThousand"], 3.0);
    // Every other partnership with figures has 0 domestic abuse: t3 is last of 8.
    assert_eq!((&d["rank"], &d["ranked"]), (&json!(8), &json!(8)));
    // Ties share a rank; the lowest rate (0, with records of other kinds) is 1.
    let ranks: Vec<(String, Value)> = {
        let mut out = Vec::new();
        for p in ["t0", "t1", "t2", "t4", "t6", "t8", "t9"] {
            let r = assess(&app, p).await;
            out.push((p.to_owned(), row(&r, "burglary")["rank"].clone()));
        }
        out
    };
    assert_eq!(
        ranks,
        [
            ("t0".to_owned(), json!(4)),
            ("t1".to_owned(), json!(4)),
            ("t2".to_owned(), json!(2)),
            ("t4".to_owned(), json!(3)),
            ("t6".to_owned(), json!(1)),
            ("t8".to_owned(), json!(6)),
            ("t9".to_owned(), json!(8)),
        ]
    );
    // No records in the window: no figures, no rank (but still told how many were ranked).
    let t5 = assess(&app, "t5").await;
    let b = row(&t5, "burglary");
    assert!(b["count"].is_null() && b["rank"].is_null(), "{b}");
    assert_eq!((&b["previousCount"], &b["ranked"]), (&json!(3), &json!(8)));
    // No population: counts and changes, but no rate and no rank.
    let t7 = assess(&app, "t7").await;
    let b = row(&t7, "burglary");
    assert_eq!(b["count"], 4);
    assert!(b["ratePerThousand"].is_null() && b["rank"].is_null(), "{b}");
    assert!(t7.data()["strategicAssessment"]["population"].is_null());
}

#[tokio::test]
async fn coordinators_add_indicators_that_the_assessment_counts_and_ranks() {
    let app = TestApp::spawn().await;
    known_county(&app).await;
    let coordinator = app.token_for("council", "stevenage-council", &["t3"], &["coordinator"]);
    let r = app
        .gql(
            "mutation { createIndicator(input: {partnership: \"t3\", code: \"da-burglary\",
               name: \"Domestic abuse burglary\", kind: INCIDENTS, categories: [\"burglary\"],
               domesticAbuse: true}) { id code builtIn kind definition { categories domesticAbuse } } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let created = &r.data()["createIndicator"];
    assert_eq!(created["builtIn"], false);
    assert_eq!(
        created["definition"],
        json!({"categories": ["burglary"], "domesticAbuse": true})
    );
    let r = assess(&app, "t3").await;
    let own = row(&r, "da-burglary");
    assert_eq!(
        (&own["count"], &own["previousCount"]),
        (&json!(1), &json!(0))
    );
    // Ranked over the county with the same definition: everyone else has 0.
    assert_eq!((&own["rank"], &own["ranked"]), (&json!(8), &json!(8)));
    // Another partnership does not have it.
    let other = assess(&app, "t2").await;
    assert!(
        other.data()["strategicAssessment"]["indicators"]
            .as_array()
            .expect("list")
            .iter()
            .all(|i| i["indicator"]["code"] != "da-burglary")
    );
    // Codes are unique within the partnership, built-in codes included.
    for code in ["da-burglary", "burglary"] {
        let r = app
            .gql(
                &format!(
                    "mutation {{ createIndicator(input: {{partnership: \"t3\", code: \"{code}\", name: \"X\", kind: INCIDENTS}}) {{ id }} }}"
                ),
                json!({}),
                Some(&coordinator),
            )
            .await;
        assert_eq!(r.code(), "CONFLICT", "{code}: {}", r.body);
    }
    // Codes must come from the vocabularies; external indicators take no definition.
    for (input, needle) in [
        (
            "code: \"x\", name: \"X\", kind: INCIDENTS, categories: [\"burglary-dwelling\"]",
            "burglary-dwelling",
        ),
        (
            "code: \"x\", name: \"X\", kind: INCIDENTS, fireTypes: [\"accidental\"]",
            "accidental",
        ),
        (
            "code: \"x\", name: \"X\", kind: EXTERNAL, categories: [\"burglary\"]",
            "EXTERNAL",
        ),
        ("code: \"Not A Code\", name: \"X\", kind: INCIDENTS", "code"),
        ("code: \"x\", name: \"  \", kind: INCIDENTS", "name"),
    ] {
        let r = app
            .gql(
                &format!(
                    "mutation {{ createIndicator(input: {{partnership: \"t3\", {input}}}) {{ id }} }}"
                ),
                json!({}),
                Some(&coordinator),
            )
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{input}: {}", r.body);
        assert!(r.message().contains(needle), "{input}: {}", r.message());
    }
}

#[tokio::test]
async fn external_figures_are_assessed_for_their_exact_window() {
    let app = TestApp::spawn().await;
    known_county(&app).await;
    let coord = |p: &str| app.token_for("council", "stevenage-council", &[p], &["coordinator"]);
    let r = app
        .gql(
            "mutation { createIndicator(input: {partnership: \"t3\", code: \"assault-admissions\",
               name: \"Hospital admissions for assault\", kind: EXTERNAL}) { id definition { categories } } }",
            json!({}),
            Some(&coord("t3")),
        )
        .await;
    assert!(r.data()["createIndicator"]["definition"].is_null());
    let id = r.data()["createIndicator"]["id"].clone();
    let record = |from: &str, to: &str, value: i64| {
        format!(
            "mutation {{ recordIndicatorValue(input: {{indicatorId: {id}, partnership: \"t3\", from: \"{from}\",
               to: \"{to}\", value: {value}, source: \"Hospital episode statistics\"}}) {{ value period {{ from to }} }} }}"
        )
    };
    for (from, to, value) in [
        ("2014-01-11", "2014-01-20", 12),
        ("2014-01-01", "2014-01-10", 99),
        // Recording a period again corrects it.
        ("2014-01-01", "2014-01-10", 10),
        // Another window is not the assessment's.
        ("2014-01-01", "2014-01-31", 40),
    ] {
        let r = app
            .gql(&record(from, to, value), json!({}), Some(&coord("t3")))
            .await;
        assert_eq!(
            r.data()["recordIndicatorValue"]["value"],
            value,
            "{}",
            r.body
        );
    }
    let r = assess(&app, "t3").await;
    let e = row(&r, "assault-admissions");
    assert_eq!(
        (
            &e["count"],
            &e["previousCount"],
            &e["change"],
            &e["changePercent"]
        ),
        (&json!(12), &json!(10), &json!(2), &json!(20.0)),
        "{e}"
    );
    assert_eq!((&e["rank"], &e["ranked"]), (&json!(1), &json!(1)));
    let r = app
        .gql(
            "query($id: ID!) { indicatorValues(indicatorId: $id, partnership: \"t3\", first: 2) { totalCount pageInfo { hasNextPage } nodes { value period { from to } source } } }",
            json!({"id": id}),
            Some(&app.token_for("pcc", "herts-pcc", &["t3"], &[])),
        )
        .await;
    assert_eq!(
        r.data()["indicatorValues"]["nodes"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| v["value"].as_i64().expect("value"))
            .collect::<Vec<_>>(),
        [12, 40]
    );
    assert_eq!(r.data()["indicatorValues"]["totalCount"], 3);
    assert_eq!(r.data()["indicatorValues"]["pageInfo"]["hasNextPage"], true);
    // An incident indicator takes no recorded figures.
    let burglary = app
        .gql(
            "{ indicators(partnership: \"t3\") { nodes { id code } } }",
            json!({}),
            Some(&coord("t3")),
        )
        .await;
    let burglary_id = burglary.data()["indicators"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == "burglary")
        .expect("burglary")["id"]
        .clone();
    let r = app
        .gql(
            &record("2014-01-01", "2014-01-10", 3)
                .replace(&id.to_string(), &burglary_id.to_string()),
            json!({}),
            Some(&coord("t3")),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    // The indicator of another partnership is NOT_FOUND, exactly as one that does not exist.
    let r = app
        .gql(
            &record("2014-01-01", "2014-01-10", 3).replace("\"t3\"", "\"t2\""),
            json!({}),
            Some(&coord("t2")),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
}

#[tokio::test]
async fn indicators_link_to_priorities_of_the_partnerships_own_plans() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { priorities { id title } } }",
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    let priority = r.data()["plan"]["priorities"][0]["id"].clone();
    let list = app
        .gql(
            "{ indicators { nodes { id code } } }",
            json!({}),
            Some(&app.pcc()),
        )
        .await;
    let da = list.data()["indicators"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == "domestic-abuse")
        .expect("built in")["id"]
        .clone();
    let link = "mutation($p: ID!, $i: ID!) { linkIndicator(priorityId: $p, indicatorId: $i) { code priorityIds } }";
    let vars = json!({"p": priority, "i": da});
    for token in [app.police(), app.council(), app.pcc()] {
        let r = app.gql(link, vars.clone(), Some(&token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    for _ in 0..2 {
        let r = app.gql(link, vars.clone(), Some(&app.coordinator())).await;
        assert_eq!(r.data()["linkIndicator"]["priorityIds"], json!([priority]));
    }
    let r = app
        .gql(
            "query($p: ID!) { indicators(priorityId: $p) { nodes { code } } }",
            json!({"p": priority}),
            Some(&app.pcc()),
        )
        .await;
    assert_eq!(
        r.data()["indicators"]["nodes"],
        json!([{"code": "domestic-abuse"}])
    );
    // Another partnership's priority is NOT_FOUND, as one that does not exist.
    let other = app.north_herts("priorities").await;
    let r = app
        .gql(link, json!({"p": other, "i": da}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    let unlink = link.replace("linkIndicator", "unlinkIndicator");
    let r = app
        .gql(&unlink, vars.clone(), Some(&app.coordinator()))
        .await;
    assert_eq!(r.data()["unlinkIndicator"]["priorityIds"], json!([]));
    let r = app.gql(&unlink, vars, Some(&app.coordinator())).await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
}

#[tokio::test]
async fn populations_are_recorded_by_coordinators_and_read_by_everyone() {
    let app = TestApp::spawn().await;
    let record = "mutation { recordPopulation(input: {year: 2015, population: 86000, source: \"ONS mid-2015\"}) { year population source recordedBy } }";
    for token in [app.police(), app.council(), app.pcc()] {
        let r = app.gql(record, json!({}), Some(&token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    let r = app.gql(record, json!({}), Some(&app.coordinator())).await;
    assert_eq!(
        r.data()["recordPopulation"]["population"],
        86000,
        "{}",
        r.body
    );
    let again = record.replace("86000", "86100");
    let r = app.gql(&again, json!({}), Some(&app.coordinator())).await;
    assert_eq!(r.data()["recordPopulation"]["population"], 86100);
    for bad in [
        record.replace("86000", "0"),
        record.replace("2015", "1850"),
        record.replace("ONS mid-2015", " "),
    ] {
        let r = app.gql(&bad, json!({}), Some(&app.coordinator())).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{bad}: {}", r.body);
    }
    let r = app
        .gql(
            "{ populations { nodes { year population } } }",
            json!({}),
            Some(&app.pcc()),
        )
        .await;
    assert_eq!(
        r.data()["populations"]["nodes"],
        json!([
            {"year": 2015, "population": 86100},
            {"year": 2014, "population": 85600},
            {"year": 2013, "population": 85000},
        ])
    );
}

#[tokio::test]
async fn the_assessment_is_for_partners_and_bad_windows_are_refused() {
    let app = TestApp::spawn().await;
    let q = |w: &str| format!("{{ strategicAssessment({w}) {{ indicators {{ count }} }} }}");
    for token in [app.police(), app.fire(), app.council(), app.coordinator()] {
        let r = app.gql(&q(WINDOW), json!({}), Some(&token)).await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
    }
    // The PCC's windows are units of its table sets: eleven days are not one.
    let r = app.gql(&q(WINDOW), json!({}), Some(&app.pcc())).await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    for w in [
        "from: \"2014-01-20\", to: \"2014-01-11\"",
        "from: \"2000-01-01\", to: \"2014-01-11\"",
        "from: \"1980-01-01\", to: \"1980-01-11\"",
    ] {
        let r = app.gql(&q(w), json!({}), Some(&app.police())).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{w}: {}", r.body);
    }
    let r = app
        .gql(
            &q(&format!("partnership: \"north-herts\", {WINDOW}")),
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
}

#[tokio::test]
async fn the_demo_assessment_ranks_stevenage_among_the_countys_ten_districts() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            "{ strategicAssessment(from: \"2013-08-01\", to: \"2014-07-31\") { populationYear population
               countyPartnerships indicators { indicator { code } count previousCount changePercent rank ranked } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let a = &r.data()["strategicAssessment"];
    assert_eq!(a["countyPartnerships"], 10, "{}", r.body);
    assert_eq!(
        (&a["populationYear"], &a["population"]),
        (&json!(2013), &json!(85000))
    );
    let rows = a["indicators"].as_array().expect("rows");
    assert_eq!(rows.len(), 9, "the built-in set");
    for i in rows {
        assert_eq!(i["ranked"], 10, "{i}");
        let rank = i["rank"].as_i64().expect("rank");
        assert!((1..=10).contains(&rank), "{i}");
        assert!(i["count"].as_i64().expect("count") > 0, "{i}");
        assert!(i["previousCount"].as_i64().expect("previous") > 0, "{i}");
        assert!(i["changePercent"].is_number(), "{i}");
    }
}

#[tokio::test]
async fn the_pccs_assessment_reads_the_cells_of_its_table_sets() {
    let app = TestApp::spawn().await;
    let pcc = app.pcc();
    let q = "{ strategicAssessment(from: \"2014-04-01\", to: \"2015-03-31\") { suppressionApplied
        previousWindow { from to }
        indicators { indicator { code } count previousCount rank ranked suppressed } } }";
    let r = app.gql(q, json!({}), Some(&pcc)).await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let a = &r.data()["strategicAssessment"];
    assert_eq!(a["suppressionApplied"], true);
    assert_eq!(
        a["previousWindow"],
        json!({"from": "2013-04-01", "to": "2014-03-31"})
    );
    let row = |code: &str| -> Value {
        a["indicators"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|i| i["indicator"]["code"] == code)
            .expect("row")
            .clone()
    };
    let cell = |filter: Value| {
        let app = &app;
        let pcc = pcc.clone();
        async move {
            let mut f = json!({"period": {"financialYear": "2014/15"}});
            for (k, v) in filter.as_object().expect("o") {
                f[k] = v.clone();
            }
            let r = app
                .gql(
                    "query($f: IncidentFilterInput!) { incidentStats(filter: $f) { total { count } } }",
                    json!({"f": f}),
                    Some(&pcc),
                )
                .await;
            r.data()["incidentStats"]["total"]["count"].clone()
        }
    };
    assert_eq!(
        row("burglary")["count"],
        cell(json!({"categories": ["burglary"]})).await
    );
    assert_eq!(
        row("domestic-abuse")["count"],
        cell(json!({"domesticAbuse": true})).await
    );
    // Not made of cells: withheld, and not ranked.
    let hate = row("hate-crime");
    assert!(hate["count"].is_null() && hate["rank"].is_null(), "{hate}");
    assert_eq!(
        (&hate["suppressed"], &hate["ranked"]),
        (&json!(true), &json!(0))
    );
    // Partners get the exact figure and the full ranking.
    let exact = app.gql(q, json!({}), Some(&app.police())).await;
    let hate = exact.data()["strategicAssessment"]["indicators"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|i| i["indicator"]["code"] == "hate-crime")
        .expect("row")
        .clone();
    assert!(hate["count"].as_i64().expect("count") > 0);
    assert_eq!(hate["ranked"], 10);
}

#[tokio::test]
async fn only_coordinators_manage_indicators_and_the_pcc_never_does() {
    let app = TestApp::spawn().await;
    let denied = [
        app.police(),
        app.fire(),
        app.council(),
        app.pcc(),
        app.token("pcc", "herts-pcc", &["coordinator"]),
    ];
    let create = "mutation { createIndicator(input: {code: \"youth-asb\", name: \"Youth ASB\", kind: INCIDENTS, categories: [\"anti-social-behaviour\"], youthRelated: true}) { id } }";
    for token in &denied {
        let r = app.gql(create, json!({}), Some(token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    let external = "mutation { createIndicator(input: {code: \"reoffending\", name: \"Reoffending\", kind: EXTERNAL}) { id } }";
    let r = app
        .gql(
            external,
            json!({}),
            Some(&app.token("fire", "herts-fire", &["coordinator"])),
        )
        .await;
    let id = r.data()["createIndicator"]["id"].clone();
    let record = "mutation($id: ID!) { recordIndicatorValue(input: {indicatorId: $id, from: \"2014-04-01\", to: \"2015-03-31\", value: 12, source: \"Probation\"}) { value } }";
    for token in &denied {
        let r = app.gql(record, json!({"id": id}), Some(token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    let r = app
        .gql(
            record,
            json!({"id": id}),
            Some(&app.token("police", "herts-police", &["coordinator"])),
        )
        .await;
    assert_eq!(r.data()["recordIndicatorValue"]["value"], 12, "{}", r.body);
    // Unlinking is the coordinators' too.
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { priorities { id } } }",
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    let priority = r.data()["plan"]["priorities"][0]["id"].clone();
    let link =
        "mutation($p: ID!, $i: ID!) { linkIndicator(priorityId: $p, indicatorId: $i) { code } }";
    let r = app
        .gql(
            link,
            json!({"p": priority, "i": id}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.data()["linkIndicator"]["code"], "reoffending");
    let unlink = link.replace("linkIndicator", "unlinkIndicator");
    for token in &denied {
        let r = app
            .gql(&unlink, json!({"p": priority, "i": id}), Some(token))
            .await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    // Everyone reads them, the PCC included.
    for token in &denied {
        let r = app
            .gql(
                "{ indicators { nodes { code } } populations { nodes { year } } }",
                json!({}),
                Some(token),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
    }
}

/// What the records give for one indicator of a partnership over days, counted here from the
/// indicator's definition.
async fn counted_here(app: &TestApp, p: &str, code: &str, from: &str, to: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM incidents i, indicators d, partnerships p
         WHERE p.slug = '{p}' AND d.partnership_id = p.id AND d.code = '{code}'
           AND i.partnership_id = p.id AND i.status = 'ACTIVE'
           AND i.occurred_on BETWEEN DATE '{from}' AND DATE '{to}'
           AND (cardinality(d.categories) = 0 OR i.category = ANY(d.categories))
           AND (cardinality(d.hate_strands) = 0 OR i.hate_strands && d.hate_strands)
           AND (cardinality(d.drug_classes) = 0 OR i.drug_class = ANY(d.drug_classes))
           AND (cardinality(d.fire_types) = 0 OR i.fire_type = ANY(d.fire_types))
           AND (d.domestic_abuse IS NULL OR i.domestic_abuse = d.domestic_abuse)
           AND (d.alcohol_related IS NULL OR i.alcohol_related = d.alcohol_related)
           AND (d.youth_related IS NULL OR i.youth_related = d.youth_related)
           AND (d.hate_crime IS NULL OR (cardinality(i.hate_strands) > 0) = d.hate_crime)"
    ))
    .await
}

#[tokio::test]
async fn the_assessment_reads_whole_months_from_the_monthly_counts_and_agrees_with_the_records() {
    let app = TestApp::spawn().await;
    let police = app.police();
    // Some records are cancelled, and some become hate crimes and move 40 days on, after they
    // were counted: each statement must change records, or the check below proves less.
    for change in [
        "UPDATE incidents SET status = 'CANCELLED', cancel_reason = 'no-crime'
           WHERE occurred_on BETWEEN '2013-09-01' AND '2013-09-20' AND category = 'burglary'",
        "UPDATE incidents SET hate_strands = '{race}', occurred_on = occurred_on + 40,
           occurred_at = occurred_at + interval '40 days'
           WHERE occurred_on BETWEEN '2013-10-01' AND '2013-10-05' AND category = 'anti-social-behaviour'",
    ] {
        let done = app.db.execute_unprepared(change).await.expect("change");
        assert!(done.rows_affected() > 0, "{change}");
    }
    // Whole months with days at both edges, and the window before it.
    for (from, to) in [("2013-07-15", "2014-08-10"), ("2013-04-01", "2014-03-31")] {
        app.take_statements();
        let r = app
            .gql(
                &format!(
                    "{{ strategicAssessment(from: \"{from}\", to: \"{to}\") {{ previousWindow {{ from to }}
                       indicators {{ indicator {{ code kind }} count previousCount }} }} }}"
                ),
                json!({}),
                Some(&police),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
        let read = app.take_statements();
        assert!(
            read.iter().any(|s| s.contains("FROM incident_counts i")),
            "whole months read the monthly counts: {read:?}"
        );
        let a = &r.data()["strategicAssessment"];
        let (pf, pt) = (
            a["previousWindow"]["from"].as_str().expect("from"),
            a["previousWindow"]["to"].as_str().expect("to"),
        );
        let mut nonzero = 0;
        for i in a["indicators"].as_array().expect("rows") {
            if i["indicator"]["kind"] != "INCIDENTS" {
                continue;
            }
            let code = i["indicator"]["code"].as_str().expect("code");
            let here = counted_here(&app, "stevenage", code, from, to).await;
            assert_eq!(i["count"].as_i64(), Some(here), "{code} {from}..{to}");
            let before = counted_here(&app, "stevenage", code, pf, pt).await;
            assert_eq!(
                i["previousCount"].as_i64(),
                Some(before),
                "{code} {pf}..{pt}"
            );
            if here > 0 {
                nonzero += 1;
            }
        }
        assert_eq!(
            nonzero, 9,
            "every built-in indicator has records: {}",
            r.body
        );
    }
}
