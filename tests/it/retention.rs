//! Retention (`csphub retention`): a dry run changes nothing, a real run removes exactly what was
//! due and keeps a person another case holds; and the subject access export.

use crate::common::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(args)
        .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
        .output()
        .expect("run csphub")
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect(sql)
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n")
}

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in [
        "cases",
        "case_notes",
        "case_shares",
        "case_subjects",
        "people",
        "case_interventions",
        "case_referrals",
    ] {
        out.push(count(app, &format!("SELECT count(*) AS n FROM {t}")).await);
    }
    out
}

/// Case A (closed 31 January 2016, due 31 January 2022) holds John Smith and Alice Only; case
/// B (open) holds John Smith too; case C closed 2019, not yet due. Returns (A, B, John's id).
async fn setup(app: &TestApp) -> (String, String, String) {
    let police = app.token("police", "herts-police", &["caseworker"]);
    let open = |on: &str| json!({"i": {"caseType": "ASB", "leadOfficer": "PC Able", "riskLevel": "STANDARD", "openedOn": on}});
    let q = "mutation($i: OpenCaseInput!) { openCase(input: $i) { id } }";
    let mut ids = Vec::new();
    for on in ["2015-05-01", "2015-06-01", "2019-01-01"] {
        let r = app.gql(q, open(on), Some(&police)).await;
        ids.push(r.data()["openCase"]["id"].as_str().expect("id").to_owned());
    }
    let add = "mutation($i: AddSubjectInput!) { addSubject(input: $i) { subject { personId } } }";
    let r = app
        .gql(add, json!({"i": {"caseId": ids[0], "part": "VICTIM", "person": {"fullName": "John Smith", "dateOfBirth": "1990-01-01"}}}), Some(&police))
        .await;
    let john = r.data()["addSubject"]["subject"]["personId"]
        .as_str()
        .expect("id")
        .to_owned();
    app.gql(add, json!({"i": {"caseId": ids[0], "part": "PERPETRATOR", "person": {"fullName": "Alice Only"}}}), Some(&police))
        .await;
    let r = app
        .gql(
            add,
            json!({"i": {"caseId": ids[1], "part": "WITNESS", "personId": john}}),
            Some(&police),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    for id in [&ids[0], &ids[1]] {
        app.gql(
            "mutation($c: ID!) { addCaseNote(input: {caseId: $c, text: \"a note\", visibility: SHARED}) { id } }",
            json!({"c": id}),
            Some(&police),
        )
        .await;
    }
    app.gql(
        "mutation($c: ID!) { recordIntervention(input: {caseId: $c, intervention: \"warning-letter\", startsOn: \"2015-05-02\"}) { id } }",
        json!({"c": ids[0]}),
        Some(&police),
    )
    .await;
    for (id, on) in [(&ids[0], "2016-01-31"), (&ids[2], "2019-06-30")] {
        let r = app
            .gql(
                "mutation($c: ID!, $on: Date!) { closeCase(input: {caseId: $c, version: 1, outcome: \"behaviour-stopped\", closedOn: $on}) { reviewOn } }",
                json!({"c": id, "on": on}),
                Some(&police),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
    }
    (ids[0].clone(), ids[1].clone(), john)
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_a_real_run_removes_exactly_what_was_due() {
    let app = TestApp::spawn().await;
    let (a, b, john) = setup(&app).await;
    let before = counts(&app).await;
    let audit_before = count(&app, "SELECT count(*) AS n FROM audit_log").await;

    let out = cli(&app, &["retention", "--dry-run", "--today", "2022-01-31"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim(),
        "stevenage ASB-2015-0001 ASB closed 2016-01-31 review 2022-01-31 (6 years): 1 notes, 2 subjects\n\
         1 cases due on 2022-01-31; dry run, nothing deleted"
    );
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM audit_log").await,
        audit_before
    );
    // The day before it is due: nothing.
    let out = cli(&app, &["retention", "--dry-run", "--today", "2022-01-30"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 cases due"));

    let out = cli(
        &app,
        &[
            "retention",
            "--today",
            "2022-01-31",
            "--by",
            "dpo@stevenage",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    // Case A with its note, shares, both subject rows, intervention; Alice; John stays.
    let after = counts(&app).await;
    assert_eq!(
        after,
        vec![
            before[0] - 1,
            before[1] - 1,
            before[2] - 1,
            before[3] - 2,
            before[4] - 1,
            before[5] - 1,
            before[6]
        ]
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM cases WHERE id = '{a}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM people WHERE id = '{john}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM case_subjects WHERE case_id = '{b}'")
        )
        .await,
        1
    );
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT sub, detail FROM audit_log WHERE action = 'RETENTION_DELETED'",
        ))
        .await
        .expect("q")
        .expect("one entry");
    assert_eq!(
        row.try_get::<String>("", "sub").expect("sub"),
        "dpo@stevenage"
    );
    let detail: Value = row.try_get("", "detail").expect("detail");
    assert_eq!(detail["rule"], "ASB: 6 years after closing");
    assert_eq!(detail["ref"], "ASB-2015-0001");
    assert_eq!(detail["peopleDeleted"], 1);
    assert_eq!(detail["peopleKept"], 1);
    // Again: nothing more is due.
    let out = cli(&app, &["retention", "--today", "2022-01-31"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 cases deleted"));
}

#[tokio::test]
async fn a_configured_schedule_sets_the_review_date() {
    let app = TestApp::spawn().await;
    csphub::db::case::set_retention(&app.db, &[("ASB".to_owned(), 5)])
        .await
        .expect("set");
    let police = app.token("police", "herts-police", &["caseworker"]);
    let r = app
        .gql(
            "mutation { openCase(input: {caseType: ASB, leadOfficer: \"PC\", riskLevel: STANDARD, openedOn: \"2015-01-01\"}) { id } }",
            json!({}),
            Some(&police),
        )
        .await;
    let id = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    let r = app
        .gql(
            "mutation($c: ID!) { closeCase(input: {caseId: $c, version: 1, outcome: \"moved-away\", closedOn: \"2016-02-29\"}) { reviewOn } }",
            json!({"c": id}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["closeCase"]["reviewOn"], "2021-02-28");
    assert!(csphub::config::retention_years(Some("ASB=0")).is_err());
    assert!(csphub::config::retention_years(Some("BURGLARY=5")).is_err());
    assert_eq!(
        csphub::config::retention_years(Some("asb=5, DOMESTIC_ABUSE=10")).expect("parses"),
        vec![("ASB".to_owned(), 5), ("DOMESTIC_ABUSE".to_owned(), 10)]
    );
}

#[tokio::test]
async fn the_subject_export_holds_everything_about_the_person_and_is_audited() {
    let app = TestApp::spawn().await;
    let (_, _, john) = setup(&app).await;
    let file = std::env::temp_dir().join(format!("sar-{}.json", uuid::Uuid::new_v4()));
    let out = cli(
        &app,
        &[
            "subject-export",
            "--person",
            &john,
            "--by",
            "dpo@stevenage",
            "--out",
            file.to_str().expect("path"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("file")).expect("json");
    let _ = std::fs::remove_file(&file);
    assert_eq!(doc["person"]["fullName"], "John Smith");
    assert_eq!(doc["person"]["dateOfBirth"], "1990-01-01");
    assert_eq!(doc["partnership"], "stevenage");
    let cases = doc["cases"].as_array().expect("cases");
    assert_eq!(
        cases.iter().map(|c| c["ref"].clone()).collect::<Vec<_>>(),
        vec![json!("ASB-2015-0001"), json!("ASB-2015-0002")]
    );
    assert_eq!(cases[0]["parts"], json!(["VICTIM"]));
    assert_eq!(cases[1]["parts"], json!(["WITNESS"]));
    assert_eq!(cases[0]["notes"][0]["text"], "a note");
    assert_eq!(
        cases[0]["interventions"][0]["intervention"],
        "warning-letter"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM audit_log WHERE action = 'SUBJECT_EXPORTED' AND record_id = '{john}' AND sub = 'dpo@stevenage'"
            )
        )
        .await,
        1
    );
    // Someone who is not held: an error, nothing written.
    let out = cli(
        &app,
        &[
            "subject-export",
            "--person",
            "00000000-0000-0000-0000-000000000001",
            "--by",
            "dpo",
        ],
    );
    assert!(!out.status.success());
}
