//! Relay's object identification: `node(id)` fetches a plan, an action, an incident record, a
//! case or a submitted report again by its id, with the rules of the query for its kind, and
//! NOT_FOUND (with `node: null`) for anything the caller may not read.

use crate::common::*;
use serde_json::{Value, json};

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
    ... on Plan { financialYear } ... on Action { ref } ... on Incident { externalRef }
    ... on Case { ref } ... on ReportSubmission { kind } } }";

async fn node(app: &TestApp, token: &str, id: &str) -> Resp {
    app.gql(NODE, json!({"id": id}), Some(token)).await
}

fn ok(r: &Resp) -> Value {
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["node"].clone()
}

#[tokio::test]
async fn node_fetches_each_kind_again_only_for_who_may_read_it() {
    let app = TestApp::spawn().await;
    let police = app.police();
    let pcc = app.pcc();
    let plan = app.plan_id("2014/15").await;
    let (action, _) = app.action("2014/15", "1.1").await;
    let r = node(&app, &police, &plan).await;
    assert_eq!(
        ok(&r),
        json!({"__typename": "Plan", "id": plan, "financialYear": "2014/15"})
    );
    let r = node(&app, &pcc, &plan).await;
    assert_eq!(ok(&r)["__typename"], "Plan");
    let r = node(&app, &police, &action).await;
    assert_eq!(ok(&r)["ref"], "1.1");
    // An incident record: partners read it; the PCC never does.
    let r = app
        .gql(
            "{ incidents(first: 1) { nodes { id externalRef } } }",
            json!({}),
            Some(&police),
        )
        .await;
    let incident = r.data()["incidents"]["nodes"][0].clone();
    let id = incident["id"].as_str().expect("id");
    let r = node(&app, &app.fire(), id).await;
    assert_eq!(ok(&r)["externalRef"], incident["externalRef"]);
    let r = node(&app, &pcc, id).await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    assert!(r.body["data"]["node"].is_null(), "{}", r.body);
    // A submitted RAG update: partners read it, the PCC does not.
    let r = app
        .gql(
            "mutation($i: SubmitReportInput!) { submitReport(input: $i) { id } }",
            json!({"i": {"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3"}}),
            Some(&app.coordinator()),
        )
        .await;
    let submission = r.data()["submitReport"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        ok(&node(&app, &police, &submission).await)["kind"],
        "RAG_UPDATE"
    );
    assert_eq!(node(&app, &pcc, &submission).await.code(), "NOT_FOUND");
    // A case: its agency's caseworker reads it (audited as case(id) is); the same agency
    // without caseworker, and an agency it is not shared with, get NOT_FOUND.
    let caseworker = app.token("police", "herts-police", &["caseworker"]);
    let r = app
        .gql(
            "mutation { openCase(input: {caseType: ASB, leadOfficer: \"PC Able\", riskLevel: MEDIUM}) { id ref } }",
            json!({}),
            Some(&caseworker),
        )
        .await;
    let case = r.data()["openCase"].clone();
    let case_id = case["id"].as_str().expect("id");
    assert_eq!(
        ok(&node(&app, &caseworker, case_id).await)["ref"],
        case["ref"]
    );
    let viewed = app
        .count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'CASE_VIEWED' AND record_id = '{case_id}'"
        ))
        .await;
    assert_eq!(viewed, 1);
    for token in [
        police.clone(),
        app.token("council", "stevenage-council", &["caseworker"]),
        pcc.clone(),
    ] {
        let r = node(&app, &token, case_id).await;
        assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    }
    // Another partnership's plan, an id of nothing: NOT_FOUND alike; not an id: BAD_USER_INPUT.
    for table in ["plans", "actions"] {
        let theirs = app.north_herts(table).await;
        assert_eq!(
            node(&app, &police, &theirs).await.code(),
            "NOT_FOUND",
            "{table}"
        );
    }
    let nothing = uuid::Uuid::new_v4().to_string();
    assert_eq!(node(&app, &police, &nothing).await.code(), "NOT_FOUND");
    assert_eq!(node(&app, &police, "plan-1").await.code(), "BAD_USER_INPUT");
}
