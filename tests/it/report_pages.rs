//! Reports as printable pages (`GET /reports/...`): the token as a header, no script, nothing
//! from anywhere else, the same numbers as GraphQL. (tests/browser/report.mjs renders them in
//! headless Chromium and prints them to PDF and PNG.)

use crate::common::*;
use serde_json::{Value, json};

async fn page(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("get");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

fn self_contained(html: &str) {
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "no script");
    for attr in ["src=", "href=", "url(", "@import"] {
        assert!(!lower.contains(attr), "nothing loaded: {attr}");
    }
}

#[tokio::test]
async fn the_rag_update_page_has_its_sections_charts_and_figures() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let (status, headers, html) = page(
        &app,
        &format!("/reports/rag-update?planId={plan}&quarter=2014/15%20Q3"),
        Some(&app.police()),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert_eq!(csp, csphub::rest::page::REPORT_CSP);
    assert!(!csp.contains("script-src"));
    self_contained(&html);
    for id in ["progress", "changes", "past-target", "indicators"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(html.contains("class=\"chart status\""));
    assert!(html.matches("class=\"bar\"").count() > 10);
    // The total row carries the GraphQL figures.
    let r = app
        .gql(
            "query($id: ID!) { ragUpdate(planId: $id, quarter: \"2014/15 Q3\") { progress { total { complete completePercent } } } }",
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    let total = &r.data()["ragUpdate"]["progress"]["total"];
    let cell = format!(
        "{} ({:.1}%)",
        total["complete"],
        total["completePercent"].as_f64().expect("pct")
    );
    assert!(html.contains(&cell), "{cell}");
    // The @media print rules for an A4 page are in the page itself.
    assert!(html.contains("@page { size: A4"));
    // Statuses read as words, not codes.
    for code in ["ON_TARGET", "NOT_STARTED", "INCOMPLETE"] {
        assert!(!html.contains(code), "{code} in the page");
    }
    assert!(html.contains("On target"), "no status in words");
}

#[tokio::test]
async fn the_pcc_page_shows_its_own_view_and_errors_are_json() {
    let app = TestApp::spawn().await;
    let (status, _, html) = page(
        &app,
        "/reports/pcc-report?financialYear=2014/15&half=SECOND",
        Some(&app.pcc()),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    self_contained(&html);
    for id in [
        "progress",
        "indicators",
        "grants",
        "surveys",
        "completeness",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(html.contains("class=\"chart trend\""));
    assert!(html.contains("counts of 1 to 4 withheld"));
    assert!(html.contains("&pound;30,000.00"));
    let (status, _, body) = page(
        &app,
        "/reports/pcc-report?financialYear=2014/15&half=SECOND",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let err: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(err["error"]["code"], "UNAUTHENTICATED");
    let (status, _, body) = page(
        &app,
        "/reports/strategic-assessment?from=2014-04-02&to=2015-03-31",
        Some(&app.pcc()),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _, html) = page(
        &app,
        "/reports/strategic-assessment?from=2013-08-01&to=2014-07-31",
        Some(&app.council()),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains(" of 10</td>"), "ranks among ten");
    // Text from the records is escaped, never markup.
    let r = app
        .gql(
            "mutation($i: RecordSurveyResultInput!) { recordSurveyResult(input: $i) { id } }",
            json!({"i": {"survey": "<script>alert(1)</script>", "year": 2014, "question": "<b>Safe?</b>", "percentage": 50}}),
            Some(&app.coordinator()),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let (_, _, html) = page(
        &app,
        "/reports/pcc-report?financialYear=2014/15&half=SECOND",
        Some(&app.pcc()),
    )
    .await;
    self_contained(&html);
    assert!(html.contains("&lt;b&gt;Safe?&lt;/b&gt;"));
}
