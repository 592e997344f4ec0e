//! Reports from a link (`createReportLink`, `GET /reports/link/{link}`): the link opens its one
//! report in a browser without a header, as its caller would see it, until it expires; making
//! it and opening it are audited; a changed, foreign or revoked link opens nothing.
//! (tests/browser/report-link.mjs opens one in headless Chromium.)

use std::time::Duration;

use crate::common::*;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const CREATE: &str =
    "mutation($i: CreateReportLinkInput!) { createReportLink(input: $i) { path expiresAt } }";

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    let r = app.gql(CREATE, json!({"i": input}), Some(token)).await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["createReportLink"].clone()
}

/// GETs `path` with no header at all, as a browser that followed a link.
async fn open(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = app.client.get(app.url(path)).send().await.expect("get");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

fn code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).expect("a JSON error");
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

async fn log(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    let r = app
        .gql(
            "query($a: String!) { auditLog(filter: {action: $a}) { edges { node { sub agency { slug } action recordType recordId detail } } } }",
            json!({"a": action}),
            Some(token),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["auditLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn a_link_opens_its_one_report_without_a_header_and_every_opening_is_audited() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let police = app.police();
    let before = chrono::Utc::now();
    let link = create(
        &app,
        &police,
        json!({"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3"}),
    )
    .await;
    let path = link["path"].as_str().expect("path").to_owned();
    assert!(path.starts_with("/reports/link/"), "{path}");
    // Five minutes by default.
    let expires = chrono::DateTime::parse_from_rfc3339(link["expiresAt"].as_str().expect("at"))
        .expect("RFC 3339");
    let minutes = (expires.with_timezone(&chrono::Utc) - before).num_seconds();
    assert!((298..=301).contains(&minutes), "{minutes}");
    // The page opens without a header, the same page the token opens, not to be cached and
    // sending no referrer.
    let (status, headers, html) = open(&app, &path).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(
        headers["content-security-policy"],
        csphub::rest::page::REPORT_CSP
    );
    let with_token = app
        .client
        .get(app.url(&format!(
            "/reports/rag-update?planId={plan}&quarter=2014/15%20Q3"
        )))
        .bearer_auth(&police)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert_eq!(html, with_token);
    for id in ["progress", "changes", "past-target", "indicators"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    // Opened again: each opening is an entry of its own.
    assert_eq!(open(&app, &path).await.0, 200);
    let made = log(&app, &police, "REPORT_LINK_CREATED").await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0]["sub"], "police-officer@herts-police");
    assert_eq!(made[0]["agency"]["slug"], "herts-police");
    assert_eq!(made[0]["recordType"], "report_link");
    assert_eq!(made[0]["detail"]["page"], "/reports/rag-update");
    let opened = log(&app, &police, "REPORT_LINK_OPENED").await;
    assert_eq!(opened.len(), 2, "{opened:?}");
    assert!(opened.iter().all(|e| {
        e["recordId"] == made[0]["recordId"]
            && e["sub"] == "police-officer@herts-police"
            && e["detail"]["query"]
                .as_str()
                .is_some_and(|q| q.contains("2014%2F15+Q3"))
    }));
    // The partnership's coordinator sees them too; they are not case data.
    assert_eq!(
        log(&app, &app.coordinator(), "REPORT_LINK_OPENED")
            .await
            .len(),
        2
    );

    // A link changed in any way opens nothing, and says why in a JSON code.
    let (head, sig) = path.rsplit_once('.').expect("a JWT");
    let mut other_sig = sig.to_owned();
    let last = other_sig.pop().expect("char");
    other_sig.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        format!("{head}.{other_sig}"),
        "/reports/link/not-a-link".to_owned(),
        format!("/reports/link/{}", "a".repeat(5000)),
    ] {
        let (status, _, body) = open(&app, &bad).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    // A link is no token: the API refuses it as a bearer token.
    let link_text = path.trim_start_matches("/reports/link/");
    let r = app.gql("{ me { sub } }", json!({}), Some(link_text)).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "{}", r.body);
    // Three more openings were refused above: still two entries.
    assert_eq!(log(&app, &police, "REPORT_LINK_OPENED").await.len(), 2);

    // Replacing the key (as the database's owner) revokes every link at once.
    app.db
        .execute_unprepared(
            "UPDATE report_link_keys SET secret = decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')",
        )
        .await
        .expect("rotate");
    let (status, _, body) = open(&app, &path).await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn a_link_expires_on_time() {
    let app = TestApp::spawn().await;
    let link = create(
        &app,
        &app.pcc(),
        json!({"kind": "PCC_REPORT", "financialYear": "2014/15", "half": "SECOND", "minutes": 1}),
    )
    .await;
    let path = link["path"].as_str().expect("path");
    let (status, _, html) = open(&app, path).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<section id=\"grants\">"), "{html}");
    // The PCC's page through a link is the PCC's view: small numbers still withheld.
    let with_token = app
        .client
        .get(app.url("/reports/pcc-report?financialYear=2014/15&half=SECOND&partnership=stevenage"))
        .bearer_auth(app.pcc())
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert_eq!(html, with_token);
    let expires = chrono::DateTime::parse_from_rfc3339(link["expiresAt"].as_str().expect("at"))
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc);
    let left = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    assert!(left > Duration::from_secs(50), "{left:?}");
    // Just before it expires it still opens; just after, it does not, with its reason.
    tokio::time::sleep(left.saturating_sub(Duration::from_secs(3))).await;
    assert_eq!(open(&app, path).await.0, 200);
    let left = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(1_100)).await;
    let (status, _, body) = open(&app, path).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
    assert!(body.contains("expired"), "{body}");
}

#[tokio::test]
async fn a_link_is_made_only_to_a_report_the_caller_may_read_with_arguments_that_read() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let police = app.police();
    let refused = |input: Value, token: String| {
        let app = &app;
        async move {
            let r = app.gql(CREATE, json!({"i": input}), Some(&token)).await;
            (r.code(), r.message())
        }
    };
    // Exactly one of kind and submissionId.
    let (c, m) = refused(json!({}), police.clone()).await;
    assert_eq!(c, "BAD_USER_INPUT", "{m}");
    assert!(m.contains("exactly one"), "{m}");
    let (c, _) = refused(
        json!({"kind": "PCC_REPORT", "submissionId": plan, "financialYear": "2014/15", "half": "FIRST"}),
        police.clone(),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT");
    // The kind's fields, in forms that read.
    let (c, m) = refused(
        json!({"kind": "RAG_UPDATE", "planId": plan}),
        police.clone(),
    )
    .await;
    assert_eq!(
        (c.as_str(), m.contains("quarter")),
        ("BAD_USER_INPUT", true),
        "{m}"
    );
    let (c, m) = refused(
        json!({"kind": "RAG_UPDATE", "planId": plan, "quarter": "2015/16 Q1"}),
        police.clone(),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT", "{m}");
    let (c, _) = refused(
        json!({"kind": "PCC_REPORT", "financialYear": "last year", "half": "FIRST"}),
        police.clone(),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT");
    let (c, _) = refused(
        json!({"kind": "STRATEGIC_ASSESSMENT", "from": "2015-01-01", "to": "2014-01-01"}),
        police.clone(),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT");
    // The PCC's assessment covers whole units only, as its page does.
    let (c, m) = refused(
        json!({"kind": "STRATEGIC_ASSESSMENT", "from": "2014-04-03", "to": "2014-05-17"}),
        app.pcc(),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT", "{m}");
    // 1 to 15 minutes.
    for minutes in [0, 16] {
        let (c, _) = refused(
            json!({"kind": "PCC_REPORT", "financialYear": "2014/15", "half": "FIRST", "minutes": minutes}),
            police.clone(),
        )
        .await;
        assert_eq!(c, "BAD_USER_INPUT", "{minutes}");
    }
    // Records out of scope, or of a kind the caller may not read, are NOT_FOUND as missing ones.
    let (c, _) = refused(
        json!({"kind": "RAG_UPDATE", "planId": uuid::Uuid::new_v4().to_string(), "quarter": "2014/15 Q3"}),
        police.clone(),
    )
    .await;
    assert_eq!(c, "NOT_FOUND");
    let (c, _) = refused(
        json!({"kind": "PCC_REPORT", "partnership": "north-herts", "financialYear": "2014/15", "half": "FIRST"}),
        police.clone(),
    )
    .await;
    assert_eq!(c, "NOT_FOUND");
    let r = app
        .gql(
            "mutation($i: SubmitReportInput!) { submitReport(input: $i) { id } }",
            json!({"i": {"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3"}}),
            Some(&app.coordinator()),
        )
        .await;
    let rag_submission = r.data()["submitReport"]["id"].clone();
    let (c, _) = refused(json!({"submissionId": rag_submission}), app.pcc()).await;
    assert_eq!(c, "NOT_FOUND");
    // A partner opens the submission as it was sent.
    let link = create(&app, &police, json!({"submissionId": rag_submission})).await;
    let (status, _, html) = open(&app, link["path"].as_str().expect("path")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<section id=\"progress\">"), "{html}");
    // No token: no link.
    let r = app
        .gql(
            CREATE,
            json!({"i": {"kind": "PCC_REPORT", "financialYear": "2014/15", "half": "FIRST"}}),
            None,
        )
        .await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}
