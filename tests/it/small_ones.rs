//! Small holes an attacker with valid tokens found (issue 26, part 4): a window of ten years
//! and a day, a consent without its date, a push that starts with a byte order mark, and
//! references that read as others.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn a_window_of_ten_years_and_a_day_is_refused_and_ten_calendar_years_are_not() {
    let app = TestApp::spawn().await;
    let q = |from: &str, to: &str| {
        format!(
            "{{ strategicAssessment(partnership: \"stevenage\", from: \"{from}\", to: \"{to}\") {{ indicators {{ count }} }} }}"
        )
    };
    let police = app.police();
    // 3,653 days: ten years and a day, counted in calendar terms.
    let r = app
        .gql(&q("2005-01-01", "2015-01-01"), json!({}), Some(&police))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    assert!(r.message().contains("ten years"), "{}", r.message());
    let r = app
        .gql(&q("2005-01-01", "2014-12-31"), json!({}), Some(&police))
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    // The same rule for a statistics period.
    let stats = |from: &str, to: &str| {
        format!(
            "{{ incidentStats(filter: {{partnership: \"stevenage\", period: {{from: \"{from}\", to: \"{to}\"}}}}) {{ total {{ count }} }} }}"
        )
    };
    let r = app
        .gql(&stats("2005-01-01", "2015-01-01"), json!({}), Some(&police))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    let r = app
        .gql(&stats("2005-01-01", "2014-12-31"), json!({}), Some(&police))
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
}

#[tokio::test]
async fn consent_given_or_refused_needs_its_date() {
    let app = TestApp::spawn().await;
    let worker = app.token("police", "herts-police", &["caseworker"]);
    let r = app
        .gql(
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { id } }",
            json!({"i": {"caseType": "ASB", "leadOfficer": "PC Able", "riskLevel": "STANDARD", "openedOn": "2015-05-01"}}),
            Some(&worker),
        )
        .await;
    let case = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    let add = "mutation($i: AddSubjectInput!) { addSubject(input: $i) { subject { personId } } }";
    for consent in ["GIVEN", "REFUSED"] {
        let r = app
            .gql(
                add,
                json!({"i": {"caseId": case, "part": "VICTIM", "person": {"fullName": "Ann Other", "consent": consent}}}),
                Some(&worker),
            )
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{consent}: {}", r.body);
        assert!(r.message().contains("consentOn"), "{}", r.message());
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM people WHERE full_name = 'Ann Other'")
            .await,
        0
    );
    let r = app
        .gql(
            add,
            json!({"i": {"caseId": case, "part": "VICTIM", "person": {"fullName": "Ann Other", "consent": "GIVEN", "consentOn": "2015-05-02"}}}),
            Some(&worker),
        )
        .await;
    let person = r.data()["addSubject"]["subject"]["personId"]
        .as_str()
        .expect("person")
        .to_owned();
    // Changing consent to GIVEN later needs the date too.
    let r = app
        .gql(
            "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { personId } }",
            json!({"i": {"personId": person, "version": 1, "consent": "REFUSED"}}),
            Some(&worker),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
}

#[tokio::test]
async fn a_push_that_starts_with_a_byte_order_mark_is_read_past_it() {
    let app = TestApp::spawn().await;
    app.testshire().await;
    let police = app.token_for("police", "herts-police", &["testshire"], &[]);
    let record = |r: &str| {
        json!({"externalRef": r, "category": "burglary", "occurredAt": "2015-05-01T10:00:00Z",
               "area": "north", "partnership": "testshire"})
        .to_string()
    };
    for (body, content_type) in [
        (
            format!("\u{feff}{}\n{}\n", record("BOM-1"), record("BOM-2")),
            "application/x-ndjson",
        ),
        (
            format!("\u{feff}{{\"incidents\": [{}]}}", record("BOM-3")),
            "application/json",
        ),
    ] {
        let r = into_resp(
            app.client
                .post(app.url("/api/v1/incidents"))
                .bearer_auth(&police)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(r.status, 200, "{content_type}: {}", r.body);
        assert!(
            r.body["rejected"].as_array().expect("rejected").is_empty(),
            "{}",
            r.body
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'BOM-%'")
            .await,
        3
    );
}

#[tokio::test]
async fn references_and_names_refuse_bidirectional_controls_and_free_text_keeps_them() {
    let app = TestApp::spawn().await;
    app.testshire().await;
    let police = app.token_for("police", "herts-police", &["testshire"], &[]);
    let r = app
        .push_incidents(
            &police,
            &[
                json!({"externalRef": "INC-1\u{202e}91", "category": "burglary",
                       "occurredAt": "2015-05-01T10:00:00Z", "area": "north", "partnership": "testshire"}),
                json!({"externalRef": "INC\u{200b}-2", "category": "burglary",
                       "occurredAt": "2015-05-01T10:00:00Z", "area": "north", "partnership": "testshire"}),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rejected = r.body["rejected"].as_array().expect("rejected");
    assert_eq!(rejected.len(), 2, "{}", r.body);
    for x in rejected {
        assert_eq!(x["code"], "INVALID_VALUE", "{x}");
        assert!(
            x["message"].as_str().expect("m").contains("bidirectional"),
            "{x}"
        );
    }
    // A code and a name that identify an area.
    for input in [
        json!({"code": "town\u{202e}centre", "name": "Town centre", "kind": "WARD"}),
        json!({"code": "town-centre", "name": "Town\u{2066} centre", "kind": "WARD"}),
    ] {
        let r = app
            .gql(
                "mutation($i: CreateAreaInput!) { createArea(input: $i) { code } }",
                json!({"i": input}),
                Some(&app.coordinator()),
            )
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{input}: {}", r.body);
    }
    // Free text keeps them: a case note in Arabic with a right-to-left mark is text.
    let worker = app.token("police", "herts-police", &["caseworker"]);
    let r = app
        .gql(
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { id } }",
            json!({"i": {"caseType": "ASB", "leadOfficer": "PC Able", "riskLevel": "STANDARD", "openedOn": "2015-05-01",
                          "summary": "Neighbour dispute (\u{200f}جار\u{200f}) at the parade, over a long summary of the matter"}}),
            Some(&worker),
        )
        .await;
    let case = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    let r = app
        .gql(
            "mutation($i: AddCaseNoteInput!) { addCaseNote(input: $i) { text } }",
            json!({"i": {"caseId": case, "text": "Visited \u{202e}today", "visibility": "SHARED"}}),
            Some(&worker),
        )
        .await;
    assert_eq!(r.data()["addCaseNote"]["text"], "Visited \u{202e}today");
}
