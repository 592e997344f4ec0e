//! Reports as CSV (`GET /api/v1/reports/...`): the same numbers as the GraphQL answers, the
//! same token rules, JSON errors with codes.

use std::collections::HashMap;

use crate::common::*;
use serde_json::{Value, json};

/// `(section, row, field) -> value` of a report CSV, parsed with a real CSV reader.
fn parse(text: &str) -> HashMap<(String, String, String), String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        ["section", "row", "field", "value"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            (
                (r[0].to_owned(), r[1].to_owned(), r[2].to_owned()),
                r[3].to_owned(),
            )
        })
        .collect()
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("get");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.expect("body"))
}

fn cell(rows: &HashMap<(String, String, String), String>, s: &str, r: &str, f: &str) -> String {
    rows.get(&(s.to_owned(), r.to_owned(), f.to_owned()))
        .unwrap_or_else(|| panic!("no {s} {r} {f}"))
        .clone()
}

#[tokio::test]
async fn the_rag_update_csv_carries_the_graphql_figures() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let (status, ct, body) = get(
        &app,
        &format!("/api/v1/reports/rag-update.csv?planId={plan}&quarter=2014/15%20Q3"),
        Some(&app.police()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("text/csv"));
    let rows = parse(&body);
    let r = app
        .gql(
            "query($id: ID!) { ragUpdate(planId: $id, quarter: \"2014/15 Q3\") { progress { total { complete onTarget completePercent } priorities { position counts { complete } } } changes { ref to } } }",
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    let g = &r.data()["ragUpdate"];
    assert_eq!(
        cell(&rows, "", "", "progress.total.complete"),
        g["progress"]["total"]["complete"].to_string()
    );
    assert_eq!(
        cell(&rows, "", "", "progress.total.completePercent"),
        g["progress"]["total"]["completePercent"].to_string()
    );
    for p in g["progress"]["priorities"].as_array().expect("p") {
        let row = format!("position={}", p["position"]);
        assert_eq!(
            cell(&rows, "progress.priorities", &row, "counts.complete"),
            p["counts"]["complete"].to_string()
        );
    }
    for c in g["changes"].as_array().expect("c") {
        let row = format!("ref={}", c["ref"].as_str().expect("ref"));
        assert_eq!(
            cell(&rows, "changes", &row, "to"),
            c["to"].as_str().expect("to")
        );
    }
}

#[tokio::test]
async fn assessment_and_pcc_report_csvs_follow_the_callers_view() {
    let app = TestApp::spawn().await;
    let q = "{ strategicAssessment(from: \"2014-04-01\", to: \"2015-03-31\") { indicators { indicator { code } count rank } } }";
    for token in [app.police(), app.pcc()] {
        let (status, _, body) = get(
            &app,
            "/api/v1/reports/strategic-assessment.csv?from=2014-04-01&to=2015-03-31",
            Some(&token),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let rows = parse(&body);
        let r = app.gql(q, json!({}), Some(&token)).await;
        for i in r.data()["strategicAssessment"]["indicators"]
            .as_array()
            .expect("rows")
        {
            let row = format!("code={}", i["indicator"]["code"].as_str().expect("code"));
            let expect = |v: &Value| {
                if v.is_null() {
                    String::new()
                } else {
                    v.to_string()
                }
            };
            assert_eq!(
                cell(&rows, "indicators", &row, "count"),
                expect(&i["count"]),
                "{row}"
            );
            assert_eq!(
                cell(&rows, "indicators", &row, "rank"),
                expect(&i["rank"]),
                "{row}"
            );
        }
    }
    // The PCC's windows are units of its table sets; a partner's may be any days.
    let path = "/api/v1/reports/strategic-assessment.csv?from=2014-04-02&to=2015-03-31";
    let (status, _, body) = get(&app, path, Some(&app.pcc())).await;
    assert_eq!(status, 400, "{body}");
    let err: Value = serde_json::from_str(&body).expect("json error");
    assert_eq!(err["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(get(&app, path, Some(&app.police())).await.0, 200);
    let (status, _, body) = get(
        &app,
        "/api/v1/reports/pcc-report.csv?financialYear=2014/15&half=SECOND",
        Some(&app.pcc()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rows = parse(&body);
    assert_eq!(cell(&rows, "", "", "suppressionApplied"), "true");
    assert_eq!(cell(&rows, "", "", "financialYear"), "2014/15");
    // Rows of a list are named by their id when they have no other name.
    assert!(rows.iter().any(|((s, r, f), v)| s == "grants"
        && r.starts_with("id=")
        && f == "amountPence"
        && v == "3000000"));
}

#[tokio::test]
async fn report_csvs_keep_the_token_rules() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let rag = format!("/api/v1/reports/rag-update.csv?planId={plan}&quarter=2014/15%20Q3");
    let (status, _, body) = get(&app, &rag, None).await;
    assert_eq!(status, 401);
    let err: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(err["error"]["code"], "UNAUTHENTICATED");
    let other = app.north_herts("plans").await;
    let (status, _, body) = get(
        &app,
        &format!("/api/v1/reports/rag-update.csv?planId={other}&quarter=2014/15%20Q1"),
        Some(&app.police()),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    for bad in [
        "/api/v1/reports/rag-update.csv?quarter=2014/15%20Q3".to_owned(),
        format!("/api/v1/reports/rag-update.csv?planId={plan}&quarter=Q9"),
        "/api/v1/reports/pcc-report.csv?financialYear=2014/15&half=THIRD".to_owned(),
        "/api/v1/reports/strategic-assessment.csv?from=2015-01-01&to=2014-01-01".to_owned(),
    ] {
        let (status, _, body) = get(&app, &bad, Some(&app.police())).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let err: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(err["error"]["code"], "BAD_USER_INPUT", "{bad}");
    }
    // A frozen report as CSV: partners read every kind, the PCC only its own reports.
    let r = app
        .gql(
            "mutation($i: SubmitReportInput!) { submitReport(input: $i) { id content } }",
            json!({"i": {"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3"}}),
            Some(&app.coordinator()),
        )
        .await;
    let id = r.data()["submitReport"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/api/v1/reports/submissions/{id}.csv");
    let (status, _, body) = get(&app, &path, Some(&app.fire())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        cell(&parse(&body), "", "", "progress.total.complete"),
        r.data()["submitReport"]["content"]["progress"]["total"]["complete"].to_string()
    );
    assert_eq!(get(&app, &path, Some(&app.pcc())).await.0, 404);
}

#[tokio::test]
async fn the_assessment_maps_its_areas_exactly_for_partners_and_protected_for_the_pcc() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let window = "from: \"2014-04-01\", to: \"2015-03-31\"";
    let q = format!(
        "{{ strategicAssessment({window}) {{ areas {{ code name count previousCount changePercent suppressed }} }} }}"
    );
    let police = app.gql(&q, json!({}), Some(&app.police())).await;
    assert!(police.body.get("errors").is_none(), "{}", police.body);
    let exact = police.data()["strategicAssessment"]["areas"]
        .as_array()
        .expect("areas")
        .clone();
    // Every area of the partnership, counted from the records: domestic abuse and records
    // without an area in none.
    let counted: HashMap<String, (i64, i64)> = app
        .db
        .query_all_raw(csphub::db::stmt(
            "SELECT a.code, \
               count(i.id) FILTER (WHERE i.occurred_on BETWEEN '2014-04-01' AND '2015-03-31') AS now, \
               count(i.id) FILTER (WHERE i.occurred_on BETWEEN '2013-04-01' AND '2014-03-31') AS before \
             FROM areas a LEFT JOIN incidents i ON i.area_id = a.id AND i.status = 'ACTIVE' AND NOT i.domestic_abuse \
             WHERE a.partnership_id = (SELECT id FROM partnerships WHERE slug = 'stevenage') GROUP BY 1",
            [],
        ))
        .await
        .expect("count")
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "code").expect("code"),
                (
                    r.try_get::<i64>("", "now").expect("now"),
                    r.try_get::<i64>("", "before").expect("before"),
                ),
            )
        })
        .collect();
    assert_eq!(exact.len(), counted.len());
    assert!(exact.len() >= 10, "{exact:?}");
    for a in &exact {
        let (now, before) = counted[a["code"].as_str().expect("code")];
        assert_eq!(
            (a["count"].as_i64(), a["previousCount"].as_i64()),
            (Some(now), Some(before)),
            "{a}"
        );
        assert_eq!(a["suppressed"], false);
    }
    // The PCC's are the cells of its table sets: exact where shown, null where withheld.
    let pcc = app.gql(&q, json!({}), Some(&app.pcc())).await;
    assert!(pcc.body.get("errors").is_none(), "{}", pcc.body);
    let protected = pcc.data()["strategicAssessment"]["areas"]
        .as_array()
        .expect("areas")
        .clone();
    assert_eq!(protected.len(), exact.len());
    let mut shown = 0;
    for (p, e) in protected.iter().zip(&exact) {
        assert_eq!(p["code"], e["code"]);
        for k in ["count", "previousCount"] {
            if !p[k].is_null() {
                assert_eq!(p[k], e[k], "{p} {e}");
                shown += 1;
            }
        }
        assert_eq!(
            p["suppressed"] == true,
            p["count"].is_null() || p["previousCount"].is_null(),
            "{p}"
        );
    }
    assert!(shown > 0);
    // The PCC's area cells agree with incidentStats by area, the same table set's cells.
    let by_area = app
        .gql(
            "{ incidentStats(filter: {period: {financialYear: \"2014/15\"}}, groupBy: [AREA]) { rows { area count } } }",
            json!({}),
            Some(&app.pcc()),
        )
        .await;
    assert!(by_area.body.get("errors").is_none(), "{}", by_area.body);
    let mut agreed = 0;
    for r in by_area.data()["incidentStats"]["rows"]
        .as_array()
        .expect("rows")
    {
        if let Some(code) = r["area"].as_str()
            && let Some(p) = protected.iter().find(|p| p["code"] == code)
        {
            assert_eq!(p["count"], r["count"], "{p} {r}");
            agreed += 1;
        }
    }
    assert!(agreed > 0);

    // The printable page draws every area from its LSOAs' boundaries, with the charts.
    let page = "/reports/strategic-assessment?from=2014-04-01&to=2015-03-31";
    let (status, ct, html) = get(&app, page, Some(&app.police())).await;
    assert_eq!(status, 200, "{html}");
    assert!(ct.starts_with("text/html"));
    assert_eq!(
        html.matches("<path class=\"area\"").count(),
        exact.len(),
        "every ward of Stevenage is drawn"
    );
    for needle in [
        "<svg class=\"map\"",
        "<svg class=\"chart change\"",
        "<svg class=\"chart rank\"",
        "Open Government Licence v.3.0",
        "id=\"map\"",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(!html.contains("url(#withheld)\" fill-rule"));
    let (status, _, html) = get(&app, page, Some(&app.pcc())).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("<path class=\"area\"").count(), exact.len());
    let withheld = protected.iter().filter(|p| p["count"].is_null()).count();
    assert_eq!(
        html.matches("fill=\"url(#withheld)\" fill-rule").count(),
        withheld
    );
    for p in protected.iter().filter(|p| p["count"].is_null()) {
        assert!(
            html.contains(&format!("{}: withheld", p["name"].as_str().expect("name"))),
            "{p}"
        );
    }
    // No number the GraphQL answer withholds is on the page: a withheld area's title says so.
    for p in &protected {
        if let Some(n) = p["count"].as_i64() {
            assert!(html.contains(&format!(
                "{}: {n} records",
                p["name"].as_str().expect("name")
            )));
        }
    }
}
