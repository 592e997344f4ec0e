//! Reports as the RAG and the PCC's office receive them, computed from the records.

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::{Value, json};

const RAG: &str = "query($id: ID!, $q: String!) { ragUpdate(planId: $id, quarter: $q) {
    previousQuarter suppressionApplied period { from to } comparedWith { from to }
    progress { asAt total { expected complete onTarget incomplete removed }
      priorities { position counts { expected complete onTarget incomplete removed } }
      removedActions { ref reason } incompleteActions { ref commentary } }
    changes { ref priorityPosition from to }
    pastTarget { ref targetDate status leadAgency }
    indicators { position title indicators { indicator { code } count previousCount change changePercent suppressed } }
} }";

async fn rag(app: &TestApp, token: &str, quarter: &str) -> Value {
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql(RAG, json!({"id": plan, "q": quarter}), Some(token))
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["ragUpdate"].clone()
}

fn counts(c: &Value) -> [i64; 5] {
    ["expected", "complete", "onTarget", "incomplete", "removed"]
        .map(|k| c[k].as_i64().expect("count"))
}

/// Each action's status at two quarter ends, read through `plan` (another code path).
async fn statuses(app: &TestApp, a: &str, b: &str) -> Vec<(String, String, String)> {
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql(
            &format!(
                "query($id: ID!) {{ plan(id: $id) {{ priorities {{ actions {{ ref a: status(quarter: \"{a}\") b: status(quarter: \"{b}\") }} }} }} }}"
            ),
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    let mut out = Vec::new();
    for p in r.data()["plan"]["priorities"].as_array().expect("p") {
        for a in p["actions"].as_array().expect("a") {
            out.push((
                a["ref"].as_str().expect("ref").to_owned(),
                a["a"].as_str().expect("a").to_owned(),
                a["b"].as_str().expect("b").to_owned(),
            ));
        }
    }
    out
}

#[tokio::test]
async fn the_rag_update_at_q3_has_the_reports_figures_and_what_changed_since_q2() {
    let app = TestApp::spawn().await;
    let u = rag(&app, &app.police(), "2014/15 Q3").await;
    assert_eq!(u["progress"]["asAt"], "2014-12-31");
    assert_eq!(u["previousQuarter"], "2014/15 Q2");
    let rows: Vec<[i64; 5]> = u["progress"]["priorities"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| counts(&r["counts"]))
        .collect();
    assert_eq!(
        rows,
        vec![
            [6, 3, 3, 0, 0],
            [8, 3, 4, 0, 1],
            [17, 13, 4, 0, 0],
            [4, 3, 1, 0, 0],
            [7, 4, 1, 1, 1],
            [18, 12, 4, 2, 0],
        ]
    );
    assert_eq!(counts(&u["progress"]["total"]), [60, 38, 17, 3, 2]);
    let refs = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|a| a["ref"].as_str().expect("ref").to_owned())
            .collect()
    };
    assert_eq!(refs(&u["progress"]["removedActions"]), ["2.2", "5.2"]);
    assert_eq!(
        refs(&u["progress"]["incompleteActions"]),
        ["5.3", "6.9", "6.10"]
    );
    // The changes are exactly the actions whose status differs between the two quarter ends.
    let expected: BTreeSet<(String, String, String)> = statuses(&app, "2014/15 Q2", "2014/15 Q3")
        .await
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .collect();
    let changes: BTreeSet<(String, String, String)> = u["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["ref"].as_str().expect("r").to_owned(),
                c["from"].as_str().expect("f").to_owned(),
                c["to"].as_str().expect("t").to_owned(),
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(changes, expected);
    // 5.2 was removed by the RAG's decision in Q3.
    assert!(
        changes.iter().any(|c| c.0 == "5.2" && c.2 == "REMOVED"),
        "{changes:?}"
    );
    // Q1 counts its changes from NOT_STARTED.
    let q1 = rag(&app, &app.police(), "2014/15 Q1").await;
    assert!(q1["previousQuarter"].is_null());
    let q1_expected = statuses(&app, "2014/15 Q1", "2014/15 Q1")
        .await
        .into_iter()
        .filter(|(_, a, _)| a != "NOT_STARTED")
        .count();
    assert_eq!(
        q1["changes"].as_array().expect("changes").len(),
        q1_expected
    );
}

#[tokio::test]
async fn actions_past_their_target_date_are_listed_until_complete() {
    let app = TestApp::spawn().await;
    let update = "mutation($input: UpdateActionInput!) { updateAction(input: $input) { version } }";
    for (action_ref, target) in [
        ("6.9", "2014-12-01"),
        ("1.1", "2014-11-01"),
        ("1.4", "2015-03-01"),
    ] {
        let (id, version) = app.action("2014/15", action_ref).await;
        let r = app
            .gql(
                update,
                json!({"input": {"actionId": id, "version": version, "targetDate": target}}),
                Some(&app.coordinator()),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
    }
    let u = rag(&app, &app.pcc(), "2014/15 Q3").await;
    // 6.9 is incomplete and past its date; 1.1 is complete; 1.4's date is after the quarter.
    assert_eq!(
        u["pastTarget"],
        json!([{"ref": "6.9", "targetDate": "2014-12-01", "status": "INCOMPLETE", "leadAgency": u["pastTarget"][0]["leadAgency"]}])
    );
    assert!(u["pastTarget"][0]["leadAgency"].is_string());
    let q4 = rag(&app, &app.pcc(), "2014/15 Q4").await;
    let overdue: Vec<&str> = q4["pastTarget"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["ref"].as_str().expect("ref"))
        .collect();
    assert_eq!(overdue, ["1.4", "6.9"]);
}

async fn link(app: &TestApp, position: usize, code: &str) {
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { priorities { id } } indicators { nodes { id code } } }",
            json!({"id": plan}),
            Some(&app.coordinator()),
        )
        .await;
    let priority = r.data()["plan"]["priorities"][position - 1]["id"].clone();
    let indicator = r.data()["indicators"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == code)
        .expect("indicator")["id"]
        .clone();
    let r = app
        .gql(
            "mutation($p: ID!, $i: ID!) { linkIndicator(priorityId: $p, indicatorId: $i) { code } }",
            json!({"p": priority, "i": indicator}),
            Some(&app.coordinator()),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
}

async fn quarter_count(app: &TestApp, token: &str, quarter: &str, filter: Value) -> Value {
    let mut f = json!({"period": {"quarter": quarter}});
    for (k, v) in filter.as_object().expect("object") {
        f[k] = v.clone();
    }
    let r = app
        .gql(
            "query($f: IncidentFilterInput!) { incidentStats(filter: $f) { total { count suppressed } } }",
            json!({"f": f}),
            Some(token),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["incidentStats"]["total"]["count"].clone()
}

#[tokio::test]
async fn each_prioritys_indicators_compare_the_quarter_with_the_same_quarter_a_year_earlier() {
    let app = TestApp::spawn().await;
    link(&app, 1, "domestic-abuse").await;
    link(&app, 2, "burglary").await;
    link(&app, 3, "serious-violence").await;
    link(&app, 6, "deliberate-fires").await;
    let u = rag(&app, &app.police(), "2014/15 Q3").await;
    assert_eq!(
        u["period"],
        json!({"from": "2014-10-01", "to": "2014-12-31"})
    );
    assert_eq!(
        u["comparedWith"],
        json!({"from": "2013-10-01", "to": "2013-12-31"})
    );
    let figure = |u: &Value, position: usize, code: &str| -> Value {
        u["indicators"][position - 1]["indicators"]
            .as_array()
            .expect("list")
            .iter()
            .find(|i| i["indicator"]["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {}", u["indicators"]))
            .clone()
    };
    // The demo links the report's indicators to their priorities; reassurance has none.
    assert_eq!(
        u["indicators"][1]["indicators"]
            .as_array()
            .expect("l")
            .len(),
        2
    );
    assert_eq!(u["indicators"][4]["indicators"], json!([]));
    // The figures agree with incidentStats for the same quarters.
    let police = app.police();
    for (position, code, filter) in [
        (1, "domestic-abuse", json!({"domesticAbuse": true})),
        (2, "burglary", json!({"categories": ["burglary"]})),
        (
            3,
            "serious-violence",
            json!({"categories": ["violent-crime", "robbery", "possession-of-weapons"]}),
        ),
        (
            6,
            "deliberate-fires",
            json!({"categories": ["deliberate-fire"]}),
        ),
    ] {
        let f = figure(&u, position, code);
        let now = quarter_count(&app, &police, "2014/15 Q3", filter.clone()).await;
        let before = quarter_count(&app, &police, "2013/14 Q3", filter).await;
        assert_eq!(
            (&f["count"], &f["previousCount"]),
            (&now, &before),
            "{code}"
        );
        assert!(now.as_i64().expect("n") > 0 && before.as_i64().expect("n") > 0);
        assert_eq!(
            f["change"],
            now.as_i64().expect("n") - before.as_i64().expect("n")
        );
        assert_eq!(f["suppressed"], false);
    }
    // The PCC's figures are cells of its table set: the same as its own incidentStats cells,
    // and a sum of several categories only when every one of them is shown.
    let pcc = app.pcc();
    let p = rag(&app, &pcc, "2014/15 Q3").await;
    assert_eq!(p["suppressionApplied"], true);
    let da = figure(&p, 1, "domestic-abuse");
    let cell = quarter_count(&app, &pcc, "2014/15 Q3", json!({"domesticAbuse": true})).await;
    assert_eq!(da["count"], cell);
    let burglary = figure(&p, 2, "burglary");
    let cell = quarter_count(
        &app,
        &pcc,
        "2014/15 Q3",
        json!({"categories": ["burglary"]}),
    )
    .await;
    assert_eq!(burglary["count"], cell);
    let sv = figure(&p, 3, "serious-violence");
    let mut parts = Vec::new();
    for c in ["violent-crime", "robbery", "possession-of-weapons"] {
        parts.push(quarter_count(&app, &pcc, "2014/15 Q3", json!({"categories": [c]})).await);
    }
    if parts.iter().all(|p| !p.is_null()) {
        let sum: i64 = parts.iter().map(|p| p.as_i64().unwrap_or(0)).sum();
        assert_eq!(sv["count"], sum);
    } else {
        assert!(sv["count"].is_null() && sv["suppressed"] == true);
    }
}

#[tokio::test]
async fn the_pcc_gets_no_figure_that_is_not_made_of_its_cells() {
    let app = TestApp::spawn().await;
    link(&app, 4, "hate-crime").await;
    let p = rag(&app, &app.pcc(), "2014/15 Q3").await;
    let hate = &p["indicators"][3]["indicators"][0];
    assert_eq!(hate["indicator"]["code"], "hate-crime");
    assert!(hate["count"].is_null() && hate["previousCount"].is_null());
    assert_eq!(hate["suppressed"], true);
    let exact = rag(&app, &app.council(), "2014/15 Q3").await;
    assert!(exact["indicators"][3]["indicators"][0]["count"].is_i64());
}

#[tokio::test]
async fn every_role_reads_the_rag_update_of_its_own_partnerships_plans_only() {
    let app = TestApp::spawn().await;
    for token in [
        app.police(),
        app.fire(),
        app.council(),
        app.coordinator(),
        app.pcc(),
    ] {
        rag(&app, &token, "2014/15 Q2").await;
    }
    let other = app.north_herts("plans").await;
    let r = app
        .gql(
            RAG,
            json!({"id": other, "q": "2014/15 Q1"}),
            Some(&app.pcc()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    let plan = app.plan_id("2014/15").await;
    for q in ["2015/16 Q1", "2014/15 Q5"] {
        let r = app
            .gql(RAG, json!({"id": plan, "q": q}), Some(&app.police()))
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{q}: {}", r.body);
    }
    let r = app
        .gql(RAG, json!({"id": plan, "q": "2014/15 Q1"}), None)
        .await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}

const PCC_REPORT: &str = "query($y: String!, $h: Half!) { pccReport(financialYear: $y, half: $h) {
    partnership financialYear half period { from to } suppressionApplied dataComplete
    missingMonths { agency month }
    progress { asAt total { expected complete onTarget incomplete removed } }
    indicators { position indicators { indicator { code } quarters { quarter count suppressed yearEarlierCount yearEarlierSuppressed changePercent } } }
    grants { amountPence spentPence fundedActions { ref status } }
    surveys { year question percentage }
} }";

async fn pcc_report(app: &TestApp, token: &str, year: &str, half: &str) -> Value {
    let r = app
        .gql(PCC_REPORT, json!({"y": year, "h": half}), Some(token))
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["pccReport"].clone()
}

#[tokio::test]
async fn the_pccs_half_year_report_has_progress_trends_grants_surveys_and_missing_months() {
    let app = TestApp::spawn().await;
    link(&app, 1, "domestic-abuse").await;
    let pcc = app.pcc();
    let r = pcc_report(&app, &pcc, "2014/15", "SECOND").await;
    assert_eq!(
        r["period"],
        json!({"from": "2014-10-01", "to": "2015-03-31"})
    );
    assert_eq!(r["progress"]["asAt"], "2015-03-31");
    // No Q4 records in the demo: every action keeps its Q3 standing.
    assert_eq!(counts(&r["progress"]["total"]), [60, 38, 17, 3, 2]);
    assert_eq!(r["suppressionApplied"], true);
    assert_eq!(
        (&r["dataComplete"], &r["missingMonths"]),
        (&json!(true), &json!([]))
    );
    let g = &r["grants"][0];
    assert_eq!(
        (&g["amountPence"], &g["spentPence"]),
        (&json!(3_000_000), &json!(2_000_000))
    );
    assert_eq!(g["fundedActions"].as_array().expect("a").len(), 1);
    assert_eq!(r["surveys"].as_array().expect("s").len(), 3);
    // The trend: each quarter of the year, each a cell of the PCC's table set.
    let da = &r["indicators"][0]["indicators"][0];
    assert_eq!(da["indicator"]["code"], "domestic-abuse");
    let quarters = da["quarters"].as_array().expect("q");
    assert_eq!(quarters.len(), 4);
    for (k, q) in quarters.iter().enumerate() {
        let name = format!("2014/15 Q{}", k + 1);
        assert_eq!(q["quarter"], name.as_str());
        let cell = quarter_count(&app, &pcc, &name, json!({"domesticAbuse": true})).await;
        assert_eq!(q["count"], cell, "{name}");
        let earlier = quarter_count(
            &app,
            &pcc,
            &format!("2013/14 Q{}", k + 1),
            json!({"domesticAbuse": true}),
        )
        .await;
        assert_eq!(q["yearEarlierCount"], earlier, "{name}");
    }
    // Partners get the exact figures.
    let exact = pcc_report(&app, &app.police(), "2014/15", "FIRST").await;
    assert_eq!(exact["suppressionApplied"], false);
    let q = &exact["indicators"][0]["indicators"][0]["quarters"];
    assert_eq!(q.as_array().expect("q").len(), 2);
    let n = quarter_count(
        &app,
        &app.police(),
        "2014/15 Q2",
        json!({"domesticAbuse": true}),
    )
    .await;
    assert_eq!(q[1]["count"], n);
    assert_eq!(q[1]["suppressed"], false);
    // The demo's records stop in June 2015: July to September are missing for every partner.
    let r = pcc_report(&app, &pcc, "2015/16", "FIRST").await;
    assert_eq!(r["dataComplete"], false);
    let missing: Vec<(String, String)> = r["missingMonths"]
        .as_array()
        .expect("m")
        .iter()
        .map(|m| {
            (
                m["agency"].as_str().expect("a").to_owned(),
                m["month"].as_str().expect("m").to_owned(),
            )
        })
        .collect();
    let mut expected = Vec::new();
    for agency in ["herts-fire", "herts-police", "stevenage-council"] {
        for month in ["2015-07", "2015-08", "2015-09"] {
            expected.push((agency.to_owned(), month.to_owned()));
        }
    }
    assert_eq!(missing, expected);
}

#[tokio::test]
async fn every_role_reads_the_pcc_report_of_its_own_partnerships_only() {
    let app = TestApp::spawn().await;
    for token in [
        app.police(),
        app.fire(),
        app.council(),
        app.coordinator(),
        app.pcc(),
    ] {
        pcc_report(&app, &token, "2014/15", "FIRST").await;
    }
    let r = app
        .gql(
            "{ pccReport(partnership: \"north-herts\", financialYear: \"2014/15\", half: FIRST) { partnership } }",
            json!({}),
            Some(&app.pcc()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    let r = app
        .gql(
            PCC_REPORT,
            json!({"y": "2014-15", "h": "FIRST"}),
            Some(&app.pcc()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    // No plan for the year: the rest of the report still comes.
    let r = pcc_report(&app, &app.pcc(), "2016/17", "FIRST").await;
    assert!(r["progress"].is_null());
    assert_eq!(r["indicators"], json!([]));
}
