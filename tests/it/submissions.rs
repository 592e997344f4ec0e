//! Submitting a report freezes it: later corrections never change it, and its drift shows what
//! would differ if it were produced again today.

use crate::common::*;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const SUBMIT: &str = "mutation($i: SubmitReportInput!) { submitReport(input: $i) {
    id kind partnership parameters content contentHash note submittedBy submittedByAgency { slug kind } submittedAt } }";

const DRIFT: &str = "query($id: ID!) { reportDrift(submissionId: $id) {
    changed submittedHash currentHash differences { path submitted now } } }";

async fn submit(app: &TestApp, token: &str, input: Value) -> Value {
    let r = app.gql(SUBMIT, json!({"i": input}), Some(token)).await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["submitReport"].clone()
}

#[tokio::test]
async fn a_submitted_rag_update_never_changes_and_its_drift_shows_the_corrections() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let s = submit(
        &app,
        &app.coordinator(),
        json!({"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3", "note": "RAG, 22 January 2015"}),
    )
    .await;
    assert_eq!(s["kind"], "RAG_UPDATE");
    assert_eq!(s["partnership"], "stevenage");
    assert_eq!(s["submittedByAgency"]["slug"], "stevenage-council");
    assert_eq!(s["submittedByAgency"]["kind"], "council");
    assert_eq!(s["content"]["progress"]["total"]["complete"], 38);
    assert_eq!(s["content"]["suppressionApplied"], false);
    // The hash is sha256 of the content's canonical text.
    assert_eq!(
        s["contentHash"],
        csphub::domain::report::content_hash(&s["content"])
    );
    // A correction: 1.4 (on target at Q3) is recorded complete for Q3.
    let (action, _) = app.action("2014/15", "1.4").await;
    let r = app
        .gql(
            "mutation($input: RecordProgressInput!) { recordProgress(input: $input) { id } }",
            json!({"input": {"actionId": action, "quarter": "2014/15 Q3", "status": "COMPLETE"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    // The submission is unchanged, read back through the API...
    let r = app
        .gql(
            "query($id: ID!) { reportSubmission(id: $id) { content contentHash } }",
            json!({"id": s["id"]}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.data()["reportSubmission"]["content"], s["content"]);
    assert_eq!(
        r.data()["reportSubmission"]["contentHash"],
        s["contentHash"]
    );
    // ...and the database refuses to change it, even for its owner.
    for sql in [
        "UPDATE report_submissions SET note = 'changed'",
        "DELETE FROM report_submissions",
        "TRUNCATE report_submissions",
    ] {
        assert!(app.db.execute_unprepared(sql).await.is_err(), "{sql}");
    }
    // The drift: what the records give today, figure by figure.
    let r = app
        .gql(DRIFT, json!({"id": s["id"]}), Some(&app.police()))
        .await;
    let d = &r.data()["reportDrift"];
    assert_eq!(d["changed"], true, "{}", r.body);
    assert_eq!(d["submittedHash"], s["contentHash"]);
    assert_ne!(d["currentHash"], s["contentHash"]);
    let diffs: Vec<(String, Value, Value)> = d["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|x| {
            (
                x["path"].as_str().expect("path").to_owned(),
                x["submitted"].clone(),
                x["now"].clone(),
            )
        })
        .collect();
    for expected in [
        ("progress.total.complete", json!(38), json!(39)),
        ("progress.total.onTarget", json!(17), json!(16)),
    ] {
        assert!(
            diffs.contains(&(
                expected.0.to_owned(),
                expected.1.clone(),
                expected.2.clone()
            )),
            "{expected:?} not in {diffs:?}"
        );
    }
    // 1.4 is a new change since Q2: one difference, the row.
    let row = diffs
        .iter()
        .find(|d| d.0 == "changes[ref=1.4]")
        .expect("the new change");
    assert!(row.1.is_null());
    assert_eq!(
        (&row.2["from"], &row.2["to"]),
        (&json!("ON_TARGET"), &json!("COMPLETE"))
    );
    assert!(
        diffs
            .iter()
            .all(|(path, ..)| !path.starts_with("indicators"))
    );
}

#[tokio::test]
async fn the_pcc_report_is_frozen_as_the_pcc_sees_it_and_the_pcc_reads_only_those() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let rag = submit(
        &app,
        &app.coordinator(),
        json!({"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q2"}),
    )
    .await;
    let pcc_report = submit(
        &app,
        &app.coordinator(),
        json!({"kind": "PCC_REPORT", "financialYear": "2014/15", "half": "FIRST"}),
    )
    .await;
    // Submitted by a partner, but produced as the PCC sees it.
    assert_eq!(pcc_report["content"]["suppressionApplied"], true);
    assert_eq!(
        pcc_report["parameters"],
        json!({"financialYear": "2014/15", "half": "FIRST"})
    );
    let list = "{ reportSubmissions { totalCount nodes { id kind } } }";
    let r = app.gql(list, json!({}), Some(&app.pcc())).await;
    assert_eq!(r.data()["reportSubmissions"]["totalCount"], 1);
    assert_eq!(
        r.data()["reportSubmissions"]["nodes"][0]["id"],
        pcc_report["id"]
    );
    let r = app.gql(list, json!({}), Some(&app.fire())).await;
    assert_eq!(r.data()["reportSubmissions"]["totalCount"], 2);
    // The PCC cannot read the exact RAG update, or its drift: NOT_FOUND as for none.
    for q in [
        "query($id: ID!) { reportSubmission(id: $id) { id } }",
        "query($id: ID!) { reportDrift(submissionId: $id) { changed } }",
    ] {
        let r = app.gql(q, json!({"id": rag["id"]}), Some(&app.pcc())).await;
        assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    }
    let r = app
        .gql(DRIFT, json!({"id": pcc_report["id"]}), Some(&app.pcc()))
        .await;
    assert_eq!(r.data()["reportDrift"]["changed"], false, "{}", r.body);
    assert_eq!(r.data()["reportDrift"]["differences"], json!([]));
    // Pages: newest first, one at a time.
    let r = app
        .gql(
            "{ reportSubmissions(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let page = &r.data()["reportSubmissions"];
    assert_eq!(page["nodes"][0]["id"], pcc_report["id"]);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let r = app
        .gql(
            "query($a: String) { reportSubmissions(first: 1, after: $a) { nodes { id } pageInfo { hasNextPage } } }",
            json!({"a": page["pageInfo"]["endCursor"]}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.data()["reportSubmissions"]["nodes"][0]["id"], rag["id"]);
    assert_eq!(
        r.data()["reportSubmissions"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn an_assessments_drift_shows_a_late_record() {
    let app = TestApp::spawn().await;
    let s = submit(
        &app,
        &app.coordinator(),
        json!({"kind": "STRATEGIC_ASSESSMENT", "from": "2014-04-01", "to": "2015-03-31"}),
    )
    .await;
    let burglary = |content: &Value| -> Value {
        content["indicators"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|i| i["indicator"]["code"] == "burglary")
            .expect("burglary")["count"]
            .clone()
    };
    let before = burglary(&s["content"]).as_i64().expect("count");
    let r = app
        .gql(
            "mutation { pushIncidents(incidents: [{externalRef: \"LATE-1\", category: \"burglary\", occurredAt: \"2014-06-01T10:00:00Z\", area: \"old-town\"}]) { created } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.data()["pushIncidents"]["created"], 1);
    let r = app
        .gql(DRIFT, json!({"id": s["id"]}), Some(&app.council()))
        .await;
    let d = &r.data()["reportDrift"];
    assert!(
        d["differences"]
            .as_array()
            .expect("d")
            .iter()
            .any(|x| x["path"] == "indicators[code=burglary].count"
                && x["submitted"] == before
                && x["now"] == before + 1),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn only_coordinators_submit_and_bad_requests_are_refused() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let input = json!({"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3"});
    for token in [
        app.police(),
        app.council(),
        app.fire(),
        app.pcc(),
        app.token("pcc", "herts-pcc", &["coordinator"]),
    ] {
        let r = app.gql(SUBMIT, json!({"i": input}), Some(&token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    for token in [
        app.coordinator(),
        app.token("police", "herts-police", &["coordinator"]),
        app.token("fire", "herts-fire", &["coordinator"]),
    ] {
        submit(&app, &token, input.clone()).await;
    }
    for bad in [
        json!({"kind": "RAG_UPDATE", "planId": plan}),
        json!({"kind": "RAG_UPDATE", "planId": plan, "quarter": "2015/16 Q1"}),
        json!({"kind": "PCC_REPORT", "financialYear": "2014/15"}),
        json!({"kind": "STRATEGIC_ASSESSMENT", "from": "2014-04-01"}),
    ] {
        let r = app
            .gql(SUBMIT, json!({"i": bad}), Some(&app.coordinator()))
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{bad}: {}", r.body);
    }
    let other = app.north_herts("plans").await;
    let r = app
        .gql(
            SUBMIT,
            json!({"i": {"kind": "RAG_UPDATE", "planId": other, "quarter": "2014/15 Q1"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    let r = app
        .gql(
            "query($id: ID!) { reportSubmission(id: $id) { id } }",
            json!({"id": uuid::Uuid::new_v4().to_string()}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}
