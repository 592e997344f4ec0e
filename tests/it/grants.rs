//! Grants and survey results: the PCC (or a council coordinator) records awards and spend,
//! coordinators record survey results, everyone reads them.

use crate::common::*;
use serde_json::{Value, json};

const GRANTS: &str = "{ grants { totalCount nodes { amountPence spentPence remainingPence funder purpose awardedOn
    spend { amountPence spentOn description } fundedActions { ref title financialYear status } } } }";

#[tokio::test]
async fn the_demo_grant_shows_its_spend_and_the_status_of_what_it_funds() {
    let app = TestApp::spawn().await;
    for token in [app.pcc(), app.police(), app.fire(), app.council()] {
        let r = app.gql(GRANTS, json!({}), Some(&token)).await;
        assert_eq!(r.data()["grants"]["totalCount"], 1);
        let g = &r.data()["grants"]["nodes"][0];
        assert_eq!(
            (&g["amountPence"], &g["spentPence"], &g["remainingPence"]),
            (&json!(3_000_000), &json!(2_000_000), &json!(1_000_000)),
            "{}",
            r.body
        );
        assert_eq!(g["funder"], "herts-pcc");
        let funded = g["fundedActions"].as_array().expect("actions");
        assert_eq!(funded.len(), 1);
        assert!(funded[0]["title"].as_str().expect("t").contains("DA panel"));
        assert_eq!(funded[0]["financialYear"], "2014/15");
        assert!(funded[0]["status"].is_string());
    }
    let r = app
        .gql(
            "{ surveyResults(year: 2013) { nodes { survey question percentage sampleSize } } }",
            json!({}),
            Some(&app.pcc()),
        )
        .await;
    let results = r.data()["surveyResults"]["nodes"]
        .as_array()
        .expect("results");
    assert_eq!(results.len(), 3);
    assert!(
        results
            .iter()
            .any(|s| s["question"] == "Feel unsafe after dark" && s["percentage"] == 42.0)
    );
}

const RECORD: &str = "mutation($i: RecordGrantInput!) { recordGrant(input: $i) { id amountPence fundedActions { ref } } }";

#[tokio::test]
async fn the_pcc_and_council_coordinators_record_grants_and_spend() {
    let app = TestApp::spawn().await;
    let (action, _) = app.action("2014/15", "6.3").await;
    let input = json!({"i": {"amountPence": 500_000, "purpose": "Mobile CCTV", "awardedOn": "2014-07-01", "actionIds": [action]}});
    let denied = [
        app.police(),
        app.fire(),
        app.council(),
        app.token("police", "herts-police", &["coordinator"]),
        app.token("fire", "herts-fire", &["coordinator"]),
    ];
    for token in &denied {
        let r = app.gql(RECORD, input.clone(), Some(token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    let mut ids = Vec::new();
    for token in [app.pcc(), app.coordinator()] {
        let r = app.gql(RECORD, input.clone(), Some(&token)).await;
        assert_eq!(
            r.data()["recordGrant"]["fundedActions"],
            json!([{"ref": "6.3"}]),
            "{}",
            r.body
        );
        ids.push(r.data()["recordGrant"]["id"].clone());
    }
    let spend = "mutation($i: RecordGrantSpendInput!) { recordGrantSpend(input: $i) { spentPence remainingPence spend { amountPence } } }";
    let s = |id: &Value, pence: i64| json!({"i": {"grantId": id, "amountPence": pence, "spentOn": "2014-09-01", "description": "Cameras"}});
    for token in &denied {
        let r = app.gql(spend, s(&ids[0], 100), Some(token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    let r = app.gql(spend, s(&ids[0], 300_000), Some(&app.pcc())).await;
    assert_eq!(
        (
            &r.data()["recordGrantSpend"]["spentPence"],
            &r.data()["recordGrantSpend"]["remainingPence"]
        ),
        (&json!(300_000), &json!(200_000))
    );
    // No more than is left.
    let r = app
        .gql(spend, s(&ids[0], 200_001), Some(&app.coordinator()))
        .await;
    assert_eq!(r.code(), "CONFLICT", "{}", r.body);
    let r = app
        .gql(spend, s(&ids[0], 200_000), Some(&app.coordinator()))
        .await;
    assert_eq!(r.data()["recordGrantSpend"]["remainingPence"], 0);
    // Bad input.
    for bad in [
        json!({"i": {"amountPence": 0, "purpose": "X", "awardedOn": "2014-07-01"}}),
        json!({"i": {"amountPence": -5, "purpose": "X", "awardedOn": "2014-07-01"}}),
        json!({"i": {"amountPence": 5, "purpose": " ", "awardedOn": "2014-07-01"}}),
        json!({"i": {"amountPence": 5, "purpose": "X", "awardedOn": "1900-07-01"}}),
        json!({"i": {"amountPence": 5, "purpose": "X", "awardedOn": "2014-07-01", "actionIds": ["nope"]}}),
    ] {
        let r = app.gql(RECORD, bad.clone(), Some(&app.pcc())).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{bad}: {}", r.body);
    }
    // Another partnership's action or grant is NOT_FOUND.
    let other = app.north_herts("actions").await;
    let r = app
        .gql(
            RECORD,
            json!({"i": {"amountPence": 5, "purpose": "X", "awardedOn": "2014-07-01", "actionIds": [other]}}),
            Some(&app.pcc()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    let nh = app.token_for("pcc", "herts-pcc", &["north-herts"], &[]);
    let r = app.gql(spend, s(&ids[1], 1), Some(&nh)).await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
}

#[tokio::test]
async fn coordinators_record_and_correct_survey_results() {
    let app = TestApp::spawn().await;
    let m = "mutation($i: RecordSurveyResultInput!) { recordSurveyResult(input: $i) { percentage sampleSize recordedBy } }";
    let i = |pct: f64| json!({"i": {"survey": "Residents' survey", "year": 2015, "question": "Feel safe in the town centre", "percentage": pct, "sampleSize": 1200}});
    for token in [
        app.police(),
        app.council(),
        app.pcc(),
        app.token("pcc", "herts-pcc", &["coordinator"]),
    ] {
        let r = app.gql(m, i(61.0), Some(&token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    let r = app.gql(m, i(61.04), Some(&app.coordinator())).await;
    assert_eq!(
        r.data()["recordSurveyResult"]["percentage"],
        61.0,
        "{}",
        r.body
    );
    let r = app
        .gql(
            m,
            i(62.5),
            Some(&app.token("police", "herts-police", &["coordinator"])),
        )
        .await;
    assert_eq!(r.data()["recordSurveyResult"]["percentage"], 62.5);
    for bad in [i(101.0), i(-1.0)] {
        let r = app.gql(m, bad, Some(&app.coordinator())).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    }
    let r = app
        .gql(
            "{ surveyResults(year: 2015) { nodes { question percentage } } }",
            json!({}),
            Some(&app.pcc()),
        )
        .await;
    assert_eq!(
        r.data()["surveyResults"]["nodes"],
        json!([{"question": "Feel safe in the town centre", "percentage": 62.5}])
    );
}
