//! Cases and case notes over real HTTP with real tokens: the access matrix (each role with and
//! without `caseworker`, shared and not shared, AGENCY notes of another agency, another
//! partnership), the NOT_FOUND rule everywhere, duplicate warnings, and the audit entries each
//! operation leaves.

use crate::common::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

/// (label, role, agency, caps)
const PRINCIPALS: [(&str, &str, &str, &[&str]); 8] = [
    ("police", "police", "herts-police", &[]),
    (
        "police caseworker",
        "police",
        "herts-police",
        &["caseworker"],
    ),
    ("fire", "fire", "herts-fire", &[]),
    ("fire caseworker", "fire", "herts-fire", &["caseworker"]),
    ("council", "council", "stevenage-council", &[]),
    (
        "council caseworker",
        "council",
        "stevenage-council",
        &["caseworker"],
    ),
    ("pcc", "pcc", "herts-pcc", &[]),
    (
        "pcc claiming caseworker",
        "pcc",
        "herts-pcc",
        &["caseworker", "coordinator"],
    ),
];

fn token(app: &TestApp, label: &str) -> String {
    let (_, role, agency, caps) = PRINCIPALS.iter().find(|p| p.0 == label).expect("principal");
    app.token(role, agency, caps)
}

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { id ref owningAgency { slug } status riskLevel } }";
const SHARE: &str = "mutation($i: ShareCaseInput!) { shareCase(input: $i) { id shares { nodes { agency { slug } legalBasis basisText sharedBy } } } }";
const UNSHARE: &str = "mutation($c: ID!, $a: String!) { unshareCase(caseId: $c, agency: $a) { id shares { nodes { agency { slug } } } } }";
const NOTE: &str = "mutation($i: AddCaseNoteInput!) { addCaseNote(input: $i) { id author agency { slug } visibility text supersedes } }";
const SUBJECT: &str = "mutation($i: AddSubjectInput!) { addSubject(input: $i) { subject { personId fullName part } possibleDuplicates { personId fullName caseRefs } } }";
const CASE: &str = "query($id: ID!) { case(id: $id) { id ref subjects { nodes { fullName part } } shares { nodes { agency { slug } } } notes { totalCount nodes { text visibility agency { slug } supersededBy } } } }";

/// A police case (Stevenage) shared with the council under s.115, with a SHARED and an AGENCY
/// police note and a victim, John Smith born 1990-01-01. Returns the case id.
async fn police_case(app: &TestApp) -> String {
    let police = token(app, "police caseworker");
    let r = app
        .gql(
            OPEN,
            json!({"i": {"caseType": "ASB", "leadOfficer": "PC Able", "riskLevel": "MEDIUM",
                          "summary": "Repeat ASB at the parade", "openedOn": "2015-05-01", "area": "bedwell"}}),
            Some(&police),
        )
        .await;
    let id = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    let r = app
        .gql(
            SHARE,
            json!({"i": {"caseId": id, "agency": "stevenage-council", "legalBasis": "S115_CDA_1998"}}),
            Some(&police),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    for (text, vis) in [
        ("Visited the parade", "SHARED"),
        ("Intelligence: police only", "AGENCY"),
    ] {
        let r = app
            .gql(
                NOTE,
                json!({"i": {"caseId": id, "text": text, "visibility": vis}}),
                Some(&police),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
    }
    let r = app
        .gql(
            SUBJECT,
            json!({"i": {"caseId": id, "part": "VICTIM",
                          "person": {"fullName": "John Smith", "dateOfBirth": "1990-01-01", "consent": "GIVEN", "consentOn": "2015-05-01"}}}),
            Some(&police),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    id
}

async fn fire_case(app: &TestApp) -> String {
    let r = app
        .gql(
            OPEN,
            json!({"i": {"caseType": "VULNERABILITY", "leadOfficer": "WM Baker", "riskLevel": "HIGH", "openedOn": "2015-06-01"}}),
            Some(&token(app, "fire caseworker")),
        )
        .await;
    r.data()["openCase"]["id"].as_str().expect("id").to_owned()
}

fn outcome(r: &Resp) -> String {
    match r.body.get("errors") {
        None => "ok".to_owned(),
        Some(_) => r.code(),
    }
}

/// Runs `query` as every principal and checks each outcome: "ok" or an error code.
async fn matrix(app: &TestApp, name: &str, query: &str, vars: Value, expect: &[(&str, &str)]) {
    for (label, ..) in PRINCIPALS {
        let want = expect
            .iter()
            .find(|(l, _)| *l == label)
            .map_or("FORBIDDEN", |(_, w)| *w);
        let r = app.gql(query, vars.clone(), Some(&token(app, label))).await;
        assert_eq!(outcome(&r), want, "{name} as {label}: {}", r.body);
    }
}

#[tokio::test]
async fn the_case_access_matrix() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await;
    let note_id = {
        let r = app
            .gql(
                NOTE,
                json!({"i": {"caseId": case, "text": "to correct", "visibility": "SHARED"}}),
                Some(&token(&app, "police caseworker")),
            )
            .await;
        r.data()["addCaseNote"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let shared_readers = [
        ("police caseworker", "ok"),
        ("council caseworker", "ok"),
        ("fire caseworker", "NOT_FOUND"),
    ];
    let every_caseworker = [
        ("police caseworker", "ok"),
        ("council caseworker", "ok"),
        ("fire caseworker", "ok"),
    ];
    let owner_only = [
        ("police caseworker", "ok"),
        ("council caseworker", "FORBIDDEN"),
        ("fire caseworker", "NOT_FOUND"),
    ];
    matrix(&app, "case", CASE, json!({"id": case}), &shared_readers).await;
    matrix(
        &app,
        "caseByRef",
        "query($r: String!) { caseByRef(ref: $r) { id } }",
        json!({"r": "ASB-2015-0001"}),
        &shared_readers,
    )
    .await;
    matrix(
        &app,
        "cases",
        "{ cases { totalCount nodes { id } } }",
        json!({}),
        &every_caseworker,
    )
    .await;
    matrix(
        &app,
        "searchPeople",
        "{ searchPeople(name: \"Smyth\") { nodes { personId } } }",
        json!({}),
        &every_caseworker,
    )
    .await;
    matrix(
        &app,
        "openCase",
        OPEN,
        json!({"i": {"caseType": "OTHER", "leadOfficer": "Someone", "riskLevel": "STANDARD"}}),
        &every_caseworker,
    )
    .await;
    matrix(
        &app,
        "addCaseNote",
        NOTE,
        json!({"i": {"caseId": case, "text": "a note", "visibility": "SHARED"}}),
        &shared_readers,
    )
    .await;
    // Only the note's own agency corrects it.
    matrix(
        &app,
        "addCaseNote superseding",
        NOTE,
        json!({"i": {"caseId": case, "text": "corrected", "visibility": "SHARED", "supersedes": note_id}}),
        &[
            ("police caseworker", "ok"),
            ("council caseworker", "FORBIDDEN"),
            ("fire caseworker", "NOT_FOUND"),
        ],
    )
    .await;
    matrix(
        &app,
        "addSubject",
        SUBJECT,
        json!({"i": {"caseId": case, "part": "WITNESS", "person": {"fullName": "Wendy Witness"}}}),
        &shared_readers,
    )
    .await;
    // Sharing with fire is the owner's decision: the council, shared with, may not. (Police
    // goes first and shares it, so fire, shared with by its turn, is FORBIDDEN too; the
    // unshare below has fire asking after it has lost the case.)
    matrix(
        &app,
        "shareCase",
        SHARE,
        json!({"i": {"caseId": case, "agency": "herts-fire", "legalBasis": "SAFEGUARDING"}}),
        &[
            ("police caseworker", "ok"),
            ("council caseworker", "FORBIDDEN"),
            ("fire caseworker", "FORBIDDEN"),
        ],
    )
    .await;
    // Never with the PCC.
    let r = app
        .gql(
            SHARE,
            json!({"i": {"caseId": case, "agency": "herts-pcc", "legalBasis": "CONSENT"}}),
            Some(&token(&app, "police caseworker")),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    // Not shared: NOT_FOUND for fire, whatever it asks.
    let fire_case = fire_case(&app).await;
    matrix(
        &app,
        "shareCase (fire's case)",
        SHARE,
        json!({"i": {"caseId": fire_case, "agency": "stevenage-council", "legalBasis": "CONSENT"}}),
        &owner_only.map(|(l, w)| match l {
            "police caseworker" => (l, "NOT_FOUND"),
            "fire caseworker" => (l, "ok"),
            _ => (l, w),
        }),
    )
    .await;
    // Now shared with fire too; unsharing the council is again the owner's alone.
    matrix(
        &app,
        "unshareCase",
        UNSHARE,
        json!({"c": case, "a": "herts-fire"}),
        &[
            ("police caseworker", "ok"),
            ("council caseworker", "FORBIDDEN"),
            ("fire caseworker", "NOT_FOUND"),
        ],
    )
    .await;
}

#[tokio::test]
async fn agency_notes_stay_with_their_agency_and_unsharing_takes_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await;
    let police = token(&app, "police caseworker");
    let council = token(&app, "council caseworker");

    let r = app.gql(CASE, json!({"id": case}), Some(&police)).await;
    let notes = &r.data()["case"]["notes"];
    assert_eq!(notes["totalCount"], 2);
    assert_eq!(notes["nodes"][0]["text"], "Intelligence: police only");
    assert_eq!(notes["nodes"][1]["text"], "Visited the parade");
    assert_eq!(
        r.data()["case"]["subjects"]["nodes"][0]["fullName"],
        "John Smith"
    );

    let r = app.gql(CASE, json!({"id": case}), Some(&council)).await;
    let notes = &r.data()["case"]["notes"];
    assert_eq!(notes["totalCount"], 1, "{}", r.body);
    assert_eq!(notes["nodes"][0]["text"], "Visited the parade");
    assert_eq!(
        r.data()["case"]["shares"]["nodes"],
        json!([{"agency": {"slug": "herts-police"}}, {"agency": {"slug": "stevenage-council"}}])
    );

    // The council's own AGENCY note: police cannot read it.
    app.gql(
        NOTE,
        json!({"i": {"caseId": case, "text": "council only", "visibility": "AGENCY"}}),
        Some(&council),
    )
    .await;
    let r = app.gql(CASE, json!({"id": case}), Some(&police)).await;
    let texts: Vec<&str> = r.data()["case"]["notes"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["text"].as_str().expect("text"))
        .collect();
    assert!(!texts.contains(&"council only"), "{texts:?}");

    let r = app
        .gql(
            UNSHARE,
            json!({"c": case, "a": "stevenage-council"}),
            Some(&police),
        )
        .await;
    assert_eq!(
        r.data()["unshareCase"]["shares"]["nodes"],
        json!([{"agency": {"slug": "herts-police"}}])
    );
    // The very next request of the council: gone, as if it never existed, everywhere.
    let r = app.gql(CASE, json!({"id": case}), Some(&council)).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .gql(
            "{ cases { totalCount nodes { id } } }",
            json!({}),
            Some(&council),
        )
        .await;
    assert_eq!(r.data()["cases"]["totalCount"], 0);
    let r = app
        .gql(
            "{ searchPeople(name: \"Smith\") { nodes { personId } } }",
            json!({}),
            Some(&council),
        )
        .await;
    assert_eq!(r.data()["searchPeople"]["nodes"], json!([]));
    let r = app
        .gql(
            NOTE,
            json!({"i": {"caseId": case, "text": "x", "visibility": "SHARED"}}),
            Some(&council),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    // A case that does not exist answers the same.
    let r = app
        .gql(
            CASE,
            json!({"id": "00000000-0000-0000-0000-000000000001"}),
            Some(&council),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    assert_eq!(r.body["errors"][0]["message"], "no such case");
}

#[tokio::test]
async fn another_partnership_cannot_see_or_reach_a_case() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await;
    // Police, but with a token for North Herts only.
    let nh_police = app.token_for("police", "herts-police", &["north-herts"], &["caseworker"]);
    let r = app.gql(CASE, json!({"id": case}), Some(&nh_police)).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .gql("{ cases { totalCount } }", json!({}), Some(&nh_police))
        .await;
    assert_eq!(r.data()["cases"]["totalCount"], 0);
    let nh_council = app.token_for(
        "council",
        "north-herts-council",
        &["north-herts"],
        &["caseworker"],
    );
    let r = app.gql(CASE, json!({"id": case}), Some(&nh_council)).await;
    assert_eq!(r.code(), "NOT_FOUND");
    // The owner cannot share with an agency outside the case's partnership.
    let r = app
        .gql(
            SHARE,
            json!({"i": {"caseId": case, "agency": "north-herts-council", "legalBasis": "CONSENT"}}),
            Some(&token(&app, "police caseworker")),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn references_count_per_partnership_and_year() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    let mut refs = Vec::new();
    for (t, on) in [
        ("ASB", "2015-05-01"),
        ("DOMESTIC_ABUSE", "2015-06-01"),
        ("HATE", "2015-12-31"),
        ("ASB", "2016-01-01"),
    ] {
        let r = app
            .gql(
                OPEN,
                json!({"i": {"caseType": t, "leadOfficer": "PC Able", "riskLevel": "HIGH", "openedOn": on}}),
                Some(&police),
            )
            .await;
        refs.push(
            r.data()["openCase"]["ref"]
                .as_str()
                .expect("ref")
                .to_owned(),
        );
    }
    assert_eq!(
        refs,
        [
            "ASB-2015-0001",
            "DA-2015-0002",
            "HATE-2015-0003",
            "ASB-2016-0001"
        ]
    );
    let r = app
        .gql(
            "query($r: String!) { caseByRef(ref: $r) { ref caseType } }",
            json!({"r": "da-2015-0002"}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["caseByRef"]["caseType"], "DOMESTIC_ABUSE");
    // Filtered and paginated, newest first.
    let r = app
        .gql(
            "{ cases(filter: {caseType: ASB}, first: 1) { totalCount nodes { ref } pageInfo { hasNextPage endCursor } } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["cases"]["totalCount"], 2);
    assert_eq!(r.data()["cases"]["nodes"][0]["ref"], "ASB-2016-0001");
    let cursor = r.data()["cases"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let r = app
        .gql(
            "query($a: String) { cases(filter: {caseType: ASB}, first: 1, after: $a) { nodes { ref } pageInfo { hasNextPage } } }",
            json!({"a": cursor}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["cases"]["nodes"][0]["ref"], "ASB-2015-0001");
    assert_eq!(r.data()["cases"]["pageInfo"]["hasNextPage"], false);
    let r = app
        .gql(
            "{ cases(filter: {refContains: \"2015-000\"}) { totalCount } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["cases"]["totalCount"], 3);
}

#[tokio::test]
async fn dash_scores_imply_a_level_that_the_risk_level_may_only_raise() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    let open = |score: i32, risk: &str| json!({"i": {"caseType": "DOMESTIC_ABUSE", "leadOfficer": "DC Dash", "riskLevel": risk, "dashScore": score}});
    let q = "mutation($i: OpenCaseInput!) { openCase(input: $i) { riskLevel maracReferralMissing dash { score scoredLevel } } }";
    for (score, risk, want) in [
        (14, "HIGH", Some("HIGH")),
        (13, "MEDIUM", Some("MEDIUM")),
        (10, "MEDIUM", Some("MEDIUM")),
        (9, "STANDARD", Some("STANDARD")),
        (9, "HIGH", Some("STANDARD")),
        (14, "MEDIUM", None),
        (10, "STANDARD", None),
        (25, "HIGH", None),
        (-1, "HIGH", None),
    ] {
        let r = app.gql(q, open(score, risk), Some(&police)).await;
        match want {
            Some(level) => {
                assert_eq!(
                    r.data()["openCase"]["dash"]["scoredLevel"],
                    level,
                    "{score}"
                );
                assert_eq!(r.data()["openCase"]["riskLevel"], risk);
                assert_eq!(
                    r.data()["openCase"]["maracReferralMissing"],
                    risk == "HIGH",
                    "{score} {risk}"
                );
            }
            None => assert_eq!(r.code(), "BAD_USER_INPUT", "{score} {risk}: {}", r.body),
        }
    }
}

#[tokio::test]
async fn duplicate_warnings_and_search_never_reveal_people_of_cases_the_caller_cannot_see() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await; // John Smith, 1990-01-01, shared with the council
    let fire_case = fire_case(&app).await;
    let fire = token(&app, "fire caseworker");
    // Fire adds "John Smyth", same birthday, to its own case: police's John Smith is not
    // shared with fire, so no warning names him.
    let r = app
        .gql(
            SUBJECT,
            json!({"i": {"caseId": fire_case, "part": "VICTIM", "person": {"fullName": "John Smyth", "dateOfBirth": "1990-01-01"}}}),
            Some(&fire),
        )
        .await;
    assert_eq!(
        r.data()["addSubject"]["possibleDuplicates"],
        json!([]),
        "{}",
        r.body
    );
    let r = app
        .gql(
            "{ searchPeople(name: \"Smith\") { nodes { fullName } } }",
            json!({}),
            Some(&fire),
        )
        .await;
    assert_eq!(
        r.data()["searchPeople"]["nodes"],
        json!([{"fullName": "John Smyth"}])
    );

    // The council sees police's case: its "Jon Smyth" of the same birthday is flagged.
    let council = token(&app, "council caseworker");
    let r = app
        .gql(
            SUBJECT,
            json!({"i": {"caseId": case, "part": "COMPLAINANT", "person": {"fullName": "Jon Smyth", "dateOfBirth": "1990-01-01"}}}),
            Some(&council),
        )
        .await;
    let dups = &r.data()["addSubject"]["possibleDuplicates"];
    assert_eq!(dups.as_array().map(Vec::len), Some(1), "{}", r.body);
    assert_eq!(dups[0]["fullName"], "John Smith");
    assert_eq!(dups[0]["caseRefs"], json!(["ASB-2015-0001"]));
    // A misspelt surname finds both people the council can see, best first, never fire's.
    let r = app
        .gql(
            "{ searchPeople(name: \"Smyth\") { nodes { fullName caseRefs } } }",
            json!({}),
            Some(&council),
        )
        .await;
    let names: Vec<&str> = r.data()["searchPeople"]["nodes"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["fullName"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Jon Smyth", "John Smith"]);
    // The matches page as a Relay connection, forwards and back, counted when asked.
    let page = |vars: Value| {
        let (app, council) = (&app, &council);
        async move {
            let r = app
                .gql(
                    "query($f: Int, $a: String, $l: Int, $b: String) { searchPeople(name: \"Smyth\", first: $f, after: $a, last: $l, before: $b) { totalCount edges { cursor node { fullName } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
                    vars,
                    Some(council),
                )
                .await;
            assert!(r.body.get("errors").is_none(), "{}", r.body);
            r.data()["searchPeople"].clone()
        }
    };
    let one = page(json!({"f": 1})).await;
    assert_eq!(one["totalCount"], 2);
    assert_eq!(one["edges"][0]["node"]["fullName"], "Jon Smyth");
    assert_eq!(one["pageInfo"]["hasNextPage"], true);
    let two = page(json!({"f": 1, "a": one["pageInfo"]["endCursor"]})).await;
    assert_eq!(two["edges"][0]["node"]["fullName"], "John Smith");
    assert_eq!(
        (
            two["pageInfo"]["hasNextPage"].clone(),
            two["pageInfo"]["hasPreviousPage"].clone()
        ),
        (json!(false), json!(true))
    );
    let back = page(json!({"l": 1, "b": two["pageInfo"]["startCursor"]})).await;
    assert_eq!(back["edges"][0]["node"]["fullName"], "Jon Smyth");
    let last = page(json!({"l": 1})).await;
    assert_eq!(last["edges"][0]["node"]["fullName"], "John Smith");
    // Another person's id the council cannot see cannot be added to its case.
    let fire_person = {
        let r = app
            .gql(
                "query($id: ID!) { case(id: $id) { subjects { nodes { fullName } } } }",
                json!({"id": fire_case}),
                Some(&fire),
            )
            .await;
        assert_eq!(
            r.data()["case"]["subjects"]["nodes"][0]["fullName"],
            "John Smyth"
        );
        let r = app
            .gql(
                "{ searchPeople(name: \"John Smyth\") { nodes { personId } } }",
                json!({}),
                Some(&fire),
            )
            .await;
        r.data()["searchPeople"]["nodes"][0]["personId"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let r = app
        .gql(
            SUBJECT,
            json!({"i": {"caseId": case, "part": "WITNESS", "personId": fire_person}}),
            Some(&council),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

/// The audit entries since `from` (an id), as (sub, action, record_type).
async fn audit_since(app: &TestApp, from: i64) -> Vec<(String, String, Option<String>)> {
    app.db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT sub, action, record_type FROM audit_log WHERE id > $1 ORDER BY id",
            [from.into()],
        ))
        .await
        .expect("audit")
        .into_iter()
        .map(|r| {
            (
                r.try_get::<String>("", "sub").expect("sub"),
                r.try_get::<String>("", "action").expect("action"),
                r.try_get::<Option<String>>("", "record_type")
                    .expect("type"),
            )
        })
        .collect()
}

async fn last_audit_id(app: &TestApp) -> i64 {
    app.db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT coalesce(max(id), 0) AS n FROM audit_log",
        ))
        .await
        .expect("max")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n")
}

#[tokio::test]
async fn each_operation_leaves_exactly_its_audit_entries() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    let entry = |action: &str, t: Option<&str>| {
        (
            "police-officer@herts-police".to_owned(),
            action.to_owned(),
            t.map(str::to_owned),
        )
    };
    let start = last_audit_id(&app).await;
    let case = police_case(&app).await;
    assert_eq!(
        audit_since(&app, start).await,
        vec![
            entry("CASE_OPENED", Some("case")),
            entry("CASE_SHARED", Some("case")),
            entry("NOTE_ADDED", Some("case")),
            entry("NOTE_ADDED", Some("case")),
            entry("SUBJECT_ADDED", Some("case")),
        ]
    );
    for (query, vars, want) in [
        (
            CASE,
            json!({"id": case}),
            vec![
                entry("CASE_VIEWED", Some("case")),
                entry("NOTES_VIEWED", Some("case")),
            ],
        ),
        (
            "query($id: ID!) { case(id: $id) { ref } }",
            json!({"id": case}),
            vec![entry("CASE_VIEWED", Some("case"))],
        ),
        (
            "{ cases { totalCount } }",
            json!({}),
            vec![entry("CASES_LISTED", None)],
        ),
        (
            "{ searchPeople(name: \"Smith\") { nodes { fullName } } }",
            json!({}),
            vec![entry("PEOPLE_SEARCHED", None)],
        ),
        (
            UNSHARE,
            json!({"c": case, "a": "stevenage-council"}),
            vec![entry("CASE_UNSHARED", Some("case"))],
        ),
        // Refused: nothing happened, nothing is recorded as having happened.
        (
            UNSHARE,
            json!({"c": case, "a": "stevenage-council"}),
            vec![],
        ),
    ] {
        let before = last_audit_id(&app).await;
        let r = app.gql(query, vars, Some(&police)).await;
        let _ = r;
        assert_eq!(audit_since(&app, before).await, want, "{query}");
    }
    // The entries carry the agency, the partnership and the request id of the request.
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT a.slug, p.slug AS partnership, l.request_id, l.detail->>'name' AS name \
             FROM audit_log l JOIN agencies a ON a.id = l.agency_id JOIN partnerships p ON p.id = l.partnership_id \
             WHERE l.action = 'PEOPLE_SEARCHED'",
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(
        row.try_get::<String>("", "slug").expect("slug"),
        "herts-police"
    );
    assert_eq!(
        row.try_get::<String>("", "partnership").expect("p"),
        "stevenage"
    );
    assert_eq!(row.try_get::<String>("", "name").expect("name"), "Smith");
    assert!(
        !row.try_get::<Option<String>>("", "request_id")
            .expect("rid")
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn a_note_is_corrected_by_a_later_note_and_both_are_kept() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await;
    let police = token(&app, "police caseworker");
    let r = app
        .gql(
            NOTE,
            json!({"i": {"caseId": case, "text": "Seen on the 3rd", "visibility": "SHARED"}}),
            Some(&police),
        )
        .await;
    let first = r.data()["addCaseNote"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = app
        .gql(
            NOTE,
            json!({"i": {"caseId": case, "text": "Correction: seen on the 4th", "visibility": "SHARED", "supersedes": first}}),
            Some(&police),
        )
        .await;
    let second = r.data()["addCaseNote"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(r.data()["addCaseNote"]["supersedes"], first.as_str());
    let r = app.gql(CASE, json!({"id": case}), Some(&police)).await;
    let nodes = r.data()["case"]["notes"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert_eq!(nodes.len(), 4);
    assert_eq!(nodes[0]["text"], "Correction: seen on the 4th");
    assert_eq!(nodes[1]["text"], "Seen on the 3rd");
    assert_eq!(nodes[1]["supersededBy"], second.as_str());
    // Bad input is refused with a code and changes nothing.
    for (vars, code) in [
        (
            json!({"i": {"caseId": case, "text": "", "visibility": "SHARED"}}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"i": {"caseId": case, "text": "x".repeat(20_001), "visibility": "SHARED"}}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"i": {"caseId": case, "text": "nul \u{0} byte", "visibility": "SHARED"}}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"i": {"caseId": "not-a-uuid", "text": "x", "visibility": "SHARED"}}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"i": {"caseId": case, "text": "x", "visibility": "SHARED", "supersedes": "00000000-0000-0000-0000-000000000001"}}),
            "NOT_FOUND",
        ),
    ] {
        let r = app.gql(NOTE, vars, Some(&police)).await;
        assert_eq!(r.code(), code, "{}", r.body);
    }
    let r = app
        .gql(
            "query($id: ID!) { case(id: $id) { notes { totalCount } } }",
            json!({"id": case}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["case"]["notes"]["totalCount"], 4);
    // 20,000 characters exactly are accepted.
    let r = app
        .gql(
            NOTE,
            json!({"i": {"caseId": case, "text": "y".repeat(20_000), "visibility": "AGENCY"}}),
            Some(&police),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
}

const UPDATE: &str = "mutation($i: UpdateCaseInput!) { updateCase(input: $i) { version riskLevel leadOfficer odgDates maracReferredOn maracOutcome maracReferralMissing } }";
const DASH: &str = "mutation($i: RecordDashInput!) { recordDash(input: $i) { version riskLevel maracReferralMissing dash { score scoredLevel overrideLevel overrideReason } } }";
const CLOSE: &str = "mutation($i: CloseCaseInput!) { closeCase(input: $i) { version status outcome { code label } closedOn reviewOn } }";

async fn version(app: &TestApp, case: &str) -> i64 {
    let r = app
        .gql(
            "query($id: ID!) { case(id: $id) { version } }",
            json!({"id": case}),
            Some(&token(app, "police caseworker")),
        )
        .await;
    r.data()["case"]["version"].as_i64().expect("version")
}

#[tokio::test]
async fn the_owner_updates_assesses_and_closes_others_shared_with_may_not() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await;
    let v = version(&app, &case).await;
    let vars = json!({"i": {"caseId": case, "version": v, "leadOfficer": "PC Baker", "odgDates": ["2015-06-10", "2015-05-12", "2015-06-10"]}});
    matrix(
        &app,
        "updateCase",
        UPDATE,
        vars.clone(),
        &[
            ("police caseworker", "ok"),
            ("council caseworker", "FORBIDDEN"),
            ("fire caseworker", "NOT_FOUND"),
        ],
    )
    .await;
    // The same version again: changed since.
    let r = app
        .gql(UPDATE, vars, Some(&token(&app, "police caseworker")))
        .await;
    assert_eq!(r.code(), "CONFLICT");
    let r = app
        .gql(
            "query($id: ID!) { case(id: $id) { leadOfficer odgDates } }",
            json!({"id": case}),
            Some(&token(&app, "council caseworker")),
        )
        .await;
    assert_eq!(r.data()["case"]["leadOfficer"], "PC Baker");
    assert_eq!(
        r.data()["case"]["odgDates"],
        json!(["2015-05-12", "2015-06-10"])
    );

    // Closing: an outcome from the vocabulary; the review date 6 years on (the default).
    let v = version(&app, &case).await;
    let police = token(&app, "police caseworker");
    for (vars, code) in [
        (
            json!({"i": {"caseId": case, "version": v, "outcome": "made-up", "closedOn": "2016-01-31"}}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"i": {"caseId": case, "version": v, "outcome": "behaviour-stopped", "closedOn": "2015-04-30"}}),
            "BAD_USER_INPUT",
        ),
        (
            json!({"i": {"caseId": case, "version": v, "outcome": "behaviour-stopped", "closedOn": "2099-01-01"}}),
            "BAD_USER_INPUT",
        ),
    ] {
        let r = app.gql(CLOSE, vars, Some(&police)).await;
        assert_eq!(r.code(), code, "{}", r.body);
    }
    let vars = json!({"i": {"caseId": case, "version": v, "outcome": "behaviour-stopped", "closedOn": "2016-01-31"}});
    let r = app
        .gql(
            CLOSE,
            vars.clone(),
            Some(&token(&app, "council caseworker")),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app.gql(CLOSE, vars, Some(&police)).await;
    assert_eq!(
        r.data()["closeCase"],
        json!({"version": v + 1, "status": "CLOSED", "outcome": {"code": "behaviour-stopped", "label": "Behaviour stopped or problem resolved"}, "closedOn": "2016-01-31", "reviewOn": "2022-01-31"})
    );
    // Closed: filtered as such; reopened, the outcome and review date go.
    let r = app
        .gql(
            "{ cases(filter: {status: CLOSED}) { totalCount } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["cases"]["totalCount"], 1);
    let r = app
        .gql(
            "mutation($c: ID!, $v: Int!) { reopenCase(caseId: $c, version: $v) { status outcome { code } reviewOn } }",
            json!({"c": case, "v": v + 1}),
            Some(&police),
        )
        .await;
    assert_eq!(
        r.data()["reopenCase"],
        json!({"status": "OPEN", "outcome": null, "reviewOn": null})
    );
}

#[tokio::test]
async fn a_dash_override_only_raises_the_level_and_needs_a_reason() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    let r = app
        .gql(
            OPEN,
            json!({"i": {"caseType": "DOMESTIC_ABUSE", "leadOfficer": "DC Dash", "riskLevel": "STANDARD", "openedOn": "2015-05-01"}}),
            Some(&police),
        )
        .await;
    let case = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    let mut v = version(&app, &case).await;
    let dash = |v: i64, score: i32, level: Option<&str>, reason: Option<&str>| json!({"i": {"caseId": case, "version": v, "score": score, "overrideLevel": level, "overrideReason": reason}});
    for (score, level, reason) in [
        (12, Some("MEDIUM"), Some("same as scored")),
        (12, Some("STANDARD"), Some("lower")),
        (12, Some("HIGH"), None),
        (12, None, Some("reason without a level")),
        (25, None, None),
    ] {
        let r = app
            .gql(DASH, dash(v, score, level, reason), Some(&police))
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{score} {level:?}: {}", r.body);
    }
    let r = app.gql(DASH, dash(v, 12, None, None), Some(&police)).await;
    assert_eq!(r.data()["recordDash"]["riskLevel"], "MEDIUM");
    assert_eq!(r.data()["recordDash"]["maracReferralMissing"], false);
    v += 1;
    let r = app
        .gql(
            DASH,
            dash(v, 12, Some("HIGH"), Some("Escalating stalking")),
            Some(&police),
        )
        .await;
    assert_eq!(
        r.data()["recordDash"],
        json!({"version": v + 1, "riskLevel": "HIGH", "maracReferralMissing": true,
               "dash": {"score": 12, "scoredLevel": "MEDIUM", "overrideLevel": "HIGH", "overrideReason": "Escalating stalking"}})
    );
    v += 1;
    // The MARAC referral clears the flag; the risk level cannot go below the DASH level.
    let r = app
        .gql(
            UPDATE,
            json!({"i": {"caseId": case, "version": v, "riskLevel": "STANDARD"}}),
            Some(&police),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let r = app
        .gql(
            UPDATE,
            json!({"i": {"caseId": case, "version": v, "maracReferredOn": "2015-05-20", "maracOutcome": "Safety plan agreed"}}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["updateCase"]["maracReferralMissing"], false);
    assert_eq!(r.data()["updateCase"]["maracOutcome"], "Safety plan agreed");
    // Not a domestic-abuse case: no DASH.
    let other = police_case(&app).await;
    let v = version(&app, &other).await;
    let r = app
        .gql(
            DASH,
            json!({"i": {"caseId": other, "version": v, "score": 5}}),
            Some(&police),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn interventions_follow_their_vocabulary_dates_and_referrals_their_states() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await;
    let council = token(&app, "council caseworker");
    let q = "mutation($i: RecordInterventionInput!) { recordIntervention(input: $i) { intervention label agency { slug name } startsOn } }";
    // A community protection notice exists from 20 October 2014; an ASBO until the day before.
    for (code, on, ok) in [
        ("community-protection-notice", "2014-10-20", true),
        ("community-protection-notice", "2014-10-19", false),
        ("anti-social-behaviour-order", "2014-10-19", true),
        ("anti-social-behaviour-order", "2014-10-20", false),
        ("made-up", "2015-01-01", false),
    ] {
        let r = app
            .gql(
                q,
                json!({"i": {"caseId": case, "intervention": code, "startsOn": on}}),
                Some(&council),
            )
            .await;
        if ok {
            assert_eq!(
                r.data()["recordIntervention"]["agency"]["slug"],
                "stevenage-council",
                "{}",
                r.body
            );
        } else {
            assert_eq!(r.code(), "BAD_USER_INPUT", "{code} {on}: {}", r.body);
        }
    }
    let r = app
        .gql(
            "query($id: ID!) { case(id: $id) { interventions { nodes { intervention label startsOn } } } }",
            json!({"id": case}),
            Some(&token(&app, "police caseworker")),
        )
        .await;
    assert_eq!(
        r.data()["case"]["interventions"]["nodes"],
        json!([
            {"intervention": "anti-social-behaviour-order", "label": "Anti-social behaviour order (ASBO)", "startsOn": "2014-10-19"},
            {"intervention": "community-protection-notice", "label": "Community protection notice", "startsOn": "2014-10-20"},
        ])
    );
    // Referrals: REFERRED -> ACCEPTED -> COMPLETED; nothing else.
    let r = app
        .gql(
            "mutation($c: ID!) { referCase(input: {caseId: $c, toProgramme: \"Family Intervention Project\", referredOn: \"2015-06-01\"}) { id status version } }",
            json!({"c": case}),
            Some(&council),
        )
        .await;
    let id = r.data()["referCase"]["id"].as_str().expect("id").to_owned();
    let upd = "mutation($i: UpdateReferralInput!) { updateReferral(input: $i) { status version decidedOn completedOn } }";
    let r = app
        .gql(upd, json!({"i": {"referralId": id, "version": 1, "status": "COMPLETED", "on": "2015-06-02"}}), Some(&council))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let r = app
        .gql(upd, json!({"i": {"referralId": id, "version": 1, "status": "ACCEPTED", "on": "2015-06-02"}}), Some(&token(&app, "police caseworker")))
        .await;
    assert_eq!(
        r.data()["updateReferral"],
        json!({"status": "ACCEPTED", "version": 2, "decidedOn": "2015-06-02", "completedOn": null})
    );
    let r = app
        .gql(
            upd,
            json!({"i": {"referralId": id, "version": 1, "status": "COMPLETED"}}),
            Some(&council),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    let r = app
        .gql(upd, json!({"i": {"referralId": id, "version": 2, "status": "COMPLETED", "on": "2015-09-30"}}), Some(&token(&app, "fire caseworker")))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .gql(upd, json!({"i": {"referralId": id, "version": 2, "status": "COMPLETED", "on": "2015-09-30"}}), Some(&council))
        .await;
    assert_eq!(r.data()["updateReferral"]["completedOn"], "2015-09-30");
}

/// Pushes ASB incidents on the given days (London noon) as police, returning their ids.
async fn asb_reports(app: &TestApp, days: &[&str]) -> Vec<String> {
    let records: Vec<serde_json::Value> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({"externalRef": format!("CR-{i}-{d}"), "category": "anti-social-behaviour", "asbType": "personal",
                   "occurredAt": format!("{d}T12:00:00Z"), "area": "bedwell"})
        })
        .collect();
    let r = app
        .gql(
            "mutation($i: [IncidentInput!]!) { pushIncidents(incidents: $i) { created rejected { code message } } }",
            json!({"i": records}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["pushIncidents"]["created"],
        days.len(),
        "{}",
        r.body
    );
    let mut ids = Vec::new();
    for d in days {
        ids.push(ids_for(app, d).await);
    }
    ids
}

#[tokio::test]
async fn the_case_review_threshold_is_three_reports_within_six_months() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    let review = "query($id: ID!) { case(id: $id) { incidents { nodes { externalRef } } caseReview { thresholdMet firstMetOn qualifyingReports } } }";
    // 1 January, 1 April, 2 July: the third is six months and a day after the first.
    let ids = asb_reports(
        &app,
        &["2015-01-01", "2015-04-01", "2015-07-02", "2015-07-01"],
    )
    .await;
    assert_eq!(ids.len(), 4);
    let case = police_case(&app).await;
    let link = "mutation($c: ID!, $i: ID!) { linkIncident(caseId: $c, incidentId: $i) { id } }";
    for day in ["2015-01-01", "2015-04-01", "2015-07-02"] {
        let id = ids_for(&app, day).await;
        let r = app
            .gql(link, json!({"c": case, "i": id}), Some(&police))
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
    }
    let r = app.gql(review, json!({"id": case}), Some(&police)).await;
    assert_eq!(
        r.data()["case"]["caseReview"],
        json!({"thresholdMet": false, "firstMetOn": null, "qualifyingReports": 3})
    );
    // 1 July: exactly six months after 1 January.
    let id = ids_for(&app, "2015-07-01").await;
    app.gql(link, json!({"c": case, "i": id}), Some(&police))
        .await;
    let r = app.gql(review, json!({"id": case}), Some(&police)).await;
    assert_eq!(
        r.data()["case"]["caseReview"],
        json!({"thresholdMet": true, "firstMetOn": "2015-07-01", "qualifyingReports": 4})
    );
    // Unlinked again: back below. An incident of another partnership cannot be linked.
    let r = app
        .gql(
            "mutation($c: ID!, $i: ID!) { unlinkIncident(caseId: $c, incidentId: $i) { caseReview { thresholdMet } } }",
            json!({"c": case, "i": id}),
            Some(&police),
        )
        .await;
    assert_eq!(
        r.data()["unlinkIncident"]["caseReview"]["thresholdMet"],
        false
    );
    let r = app
        .gql(
            link,
            json!({"c": case, "i": "00000000-0000-0000-0000-000000000001"}),
            Some(&police),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    // Fire (not shared) cannot link to it.
    let r = app
        .gql(
            link,
            json!({"c": case, "i": id}),
            Some(&token(&app, "fire caseworker")),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

async fn ids_for(app: &TestApp, day: &str) -> String {
    let r = app
        .gql(
            "query($d: Date!) { incidents(first: 100, filter: {categories: [\"anti-social-behaviour\"], period: {from: $d, to: $d}}) { nodes { id externalRef } } }",
            json!({"d": day}),
            Some(&app.police()),
        )
        .await;
    r.data()["incidents"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| {
            n["externalRef"]
                .as_str()
                .is_some_and(|e| e.starts_with("CR-") && e.ends_with(day))
        })
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .expect("the pushed report")
}

/// Runs `query` as every principal, building its variables afresh for each (so one caller's
/// success cannot change what the next one meets), and checks each outcome.
async fn matrix_each<F, Fut>(
    app: &TestApp,
    name: &str,
    query: &str,
    vars: F,
    expect: &[(&str, &str)],
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    for (label, ..) in PRINCIPALS {
        let want = expect
            .iter()
            .find(|(l, _)| *l == label)
            .map_or("FORBIDDEN", |(_, w)| *w);
        let v = vars().await;
        let r = app.gql(query, v, Some(&token(app, label))).await;
        assert_eq!(outcome(&r), want, "{name} as {label}: {}", r.body);
    }
}

#[tokio::test]
async fn the_case_work_access_matrix() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    let owner_only = [
        ("police caseworker", "ok"),
        ("council caseworker", "FORBIDDEN"),
        ("fire caseworker", "NOT_FOUND"),
    ];
    let shared = [
        ("police caseworker", "ok"),
        ("council caseworker", "ok"),
        ("fire caseworker", "NOT_FOUND"),
    ];
    // A fresh police case shared with the council, at version 1... plus a version bump by the
    // share: read it back.
    let fresh = || async {
        let id = police_case(&app).await;
        let v = version(&app, &id).await;
        (id, v)
    };
    matrix_each(
        &app,
        "closeCase",
        CLOSE,
        || async {
            let (id, v) = fresh().await;
            json!({"i": {"caseId": id, "version": v, "outcome": "behaviour-stopped", "closedOn": "2016-01-31"}})
        },
        &owner_only,
    )
    .await;
    matrix_each(
        &app,
        "reopenCase",
        "mutation($c: ID!, $v: Int!) { reopenCase(caseId: $c, version: $v) { status } }",
        || async {
            let (id, v) = fresh().await;
            app.gql(
                CLOSE,
                json!({"i": {"caseId": id, "version": v, "outcome": "moved-away", "closedOn": "2016-01-31"}}),
                Some(&police),
            )
            .await;
            json!({"c": id, "v": v + 1})
        },
        &owner_only,
    )
    .await;
    matrix_each(
        &app,
        "recordDash",
        DASH,
        || async {
            let r = app
                .gql(
                    OPEN,
                    json!({"i": {"caseType": "DOMESTIC_ABUSE", "leadOfficer": "DC", "riskLevel": "STANDARD", "openedOn": "2015-05-01"}}),
                    Some(&police),
                )
                .await;
            let id = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
            app.gql(
                SHARE,
                json!({"i": {"caseId": id, "agency": "stevenage-council", "legalBasis": "SAFEGUARDING"}}),
                Some(&police),
            )
            .await;
            json!({"i": {"caseId": id, "version": 1, "score": 15}})
        },
        &owner_only,
    )
    .await;
    let case = police_case(&app).await;
    matrix_each(
        &app,
        "recordIntervention",
        "mutation($c: ID!) { recordIntervention(input: {caseId: $c, intervention: \"warning-letter\", startsOn: \"2015-05-02\"}) { id } }",
        || async { json!({"c": case}) },
        &shared,
    )
    .await;
    matrix_each(
        &app,
        "referCase",
        "mutation($c: ID!) { referCase(input: {caseId: $c, toProgramme: \"Family Intervention Project\", referredOn: \"2015-05-02\"}) { id } }",
        || async { json!({"c": case}) },
        &shared,
    )
    .await;
    matrix_each(
        &app,
        "updateReferral",
        "mutation($i: UpdateReferralInput!) { updateReferral(input: $i) { status } }",
        || async {
            let r = app
                .gql(
                    "mutation($c: ID!) { referCase(input: {caseId: $c, toProgramme: \"Mediation service\", referredOn: \"2015-05-02\"}) { id } }",
                    json!({"c": case}),
                    Some(&police),
                )
                .await;
            let id = r.data()["referCase"]["id"].as_str().expect("id").to_owned();
            json!({"i": {"referralId": id, "version": 1, "status": "ACCEPTED", "on": "2015-05-03"}})
        },
        &shared,
    )
    .await;
    let incident = ids_for_any(&app).await;
    let link = "mutation($c: ID!, $i: ID!) { linkIncident(caseId: $c, incidentId: $i) { id } }";
    matrix_each(
        &app,
        "linkIncident",
        link,
        || async { json!({"c": case, "i": incident}) },
        &shared,
    )
    .await;
    matrix_each(
        &app,
        "unlinkIncident",
        "mutation($c: ID!, $i: ID!) { unlinkIncident(caseId: $c, incidentId: $i) { id } }",
        || async {
            app.gql(link, json!({"c": case, "i": incident}), Some(&police))
                .await;
            json!({"c": case, "i": incident})
        },
        &shared,
    )
    .await;
    // Reading the rest of a case is a caseworker's, on a case shared with its agency.
    matrix(
        &app,
        "case details",
        "query($id: ID!) { case(id: $id) { interventions { nodes { id } } referrals { nodes { id } } incidents { nodes { id } } caseReview { thresholdMet } } }",
        json!({"id": case}),
        &shared,
    )
    .await;
}

/// Any incident of Stevenage.
async fn ids_for_any(app: &TestApp) -> String {
    let r = app
        .gql(
            "{ incidents(first: 1) { nodes { id } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    r.data()["incidents"]["nodes"][0]["id"]
        .as_str()
        .expect("an incident")
        .to_owned()
}

#[tokio::test]
async fn dates_outside_what_casework_can_mean_are_refused_with_a_code() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    for day in ["1899-12-31", "-0001-01-01", "+262142-12-31", "9999-12-31"] {
        let r = app
            .gql(
                OPEN,
                json!({"i": {"caseType": "ASB", "leadOfficer": "PC", "riskLevel": "STANDARD", "openedOn": day}}),
                Some(&police),
            )
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{day}: {}", r.body);
    }
    let case = police_case(&app).await;
    for (query, vars) in [
        (
            SUBJECT,
            json!({"i": {"caseId": case, "part": "OTHER", "person": {"fullName": "Old", "dateOfBirth": "1000-01-01"}}}),
        ),
        (
            "mutation($c: ID!) { referCase(input: {caseId: $c, toProgramme: \"X\", referredOn: \"+200000-01-01\"}) { id } }",
            json!({"c": case}),
        ),
        (
            "mutation($c: ID!) { recordIntervention(input: {caseId: $c, intervention: \"warning-letter\", startsOn: \"2015-05-02\", endsOn: \"+200000-01-01\"}) { id } }",
            json!({"c": case}),
        ),
    ] {
        let r = app.gql(query, vars, Some(&police)).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{query}: {}", r.body);
    }
}

#[tokio::test]
async fn a_person_is_corrected_once_for_every_case_and_a_subject_is_taken_off_by_the_owner() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await; // John Smith, victim; shared with the council
    let police = token(&app, "police caseworker");
    let r = app
        .gql(
            "query($id: ID!) { case(id: $id) { subjects { nodes { personId personVersion } } } }",
            json!({"id": case}),
            Some(&police),
        )
        .await;
    let person = r.data()["case"]["subjects"]["nodes"][0]["personId"]
        .as_str()
        .expect("id")
        .to_owned();
    let update = "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { fullName address consent consentOn personVersion } }";
    let fresh_version = || async {
        let r = app
            .gql(
                "query($id: ID!) { case(id: $id) { subjects { nodes { personVersion } } } }",
                json!({"id": case}),
                Some(&police),
            )
            .await;
        r.data()["case"]["subjects"]["nodes"][0]["personVersion"]
            .as_i64()
            .expect("version")
    };
    matrix_each(
        &app,
        "updatePerson",
        update,
        || async {
            let v = fresh_version().await;
            json!({"i": {"personId": person, "version": v, "address": "1 Corrected Road (made up)"}})
        },
        &[
            ("police caseworker", "ok"),
            ("council caseworker", "ok"),
            ("fire caseworker", "NOT_FOUND"),
        ],
    )
    .await;
    let v = fresh_version().await;
    let r = app
        .gql(
            update,
            json!({"i": {"personId": person, "version": v, "consent": "REFUSED", "consentOn": "2015-06-01"}}),
            Some(&token(&app, "council caseworker")),
        )
        .await;
    assert_eq!(
        r.data()["updatePerson"],
        json!([{"fullName": "John Smith", "address": "1 Corrected Road (made up)", "consent": "REFUSED",
                "consentOn": "2015-06-01", "personVersion": v + 1}])
    );
    let r = app
        .gql(
            update,
            json!({"i": {"personId": person, "version": v, "address": "stale"}}),
            Some(&police),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    for bad in [
        json!({"i": {"personId": person, "version": v + 1, "consent": "NOT_ASKED", "consentOn": "2015-06-01"}}),
        json!({"i": {"personId": person, "version": v + 1, "fullName": "  "}}),
    ] {
        let r = app.gql(update, bad, Some(&police)).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    }

    // Taking John off the case: the owner only.
    let remove = "mutation($c: ID!, $p: ID!) { removeSubject(caseId: $c, personId: $p, part: VICTIM) { subjects { nodes { fullName } } } }";
    let vars = json!({"c": case, "p": person});
    for (label, want) in [
        ("council caseworker", "FORBIDDEN"),
        ("fire caseworker", "NOT_FOUND"),
        ("police", "FORBIDDEN"),
        ("pcc claiming caseworker", "FORBIDDEN"),
    ] {
        let r = app
            .gql(remove, vars.clone(), Some(&token(&app, label)))
            .await;
        assert_eq!(outcome(&r), want, "{label}: {}", r.body);
    }
    let r = app.gql(remove, vars.clone(), Some(&police)).await;
    assert_eq!(r.data()["removeSubject"]["subjects"]["nodes"], json!([]));
    let r = app.gql(remove, vars, Some(&police)).await;
    assert_eq!(r.code(), "NOT_FOUND");
    // No case holds him now: no one can find him, and retention deletes him.
    let r = app
        .gql(
            "{ searchPeople(name: \"John Smith\") { nodes { fullName } } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["searchPeople"]["nodes"], json!([]));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["retention", "--today", "2015-07-01"])
        .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
        .output()
        .expect("retention");
    assert!(out.status.success(), "{out:?}");
    let left = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT count(*) AS n FROM people WHERE id = '{person}'"),
        ))
        .await
        .expect("q")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(left, 0);
    // The deletion is recorded in the partnership the person was in, like every audit entry.
    let entries = app
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT (l.partnership_id = c.partnership_id) AS same, l.detail->>'peopleInNoCase' AS n \
                 FROM audit_log l, cases c WHERE c.id = '{case}' \
                 AND l.action = 'RETENTION_DELETED' AND l.detail ? 'peopleInNoCase'"
            ),
        ))
        .await
        .expect("q");
    let entries: Vec<(bool, String)> = entries
        .iter()
        .map(|r| {
            (
                r.try_get::<bool>("", "same").expect("same"),
                r.try_get::<String>("", "n").expect("n"),
            )
        })
        .collect();
    assert_eq!(entries, vec![(true, "1".to_owned())]);
    assert_eq!(
        audit_since(&app, 0)
            .await
            .into_iter()
            .filter(|(_, a, _)| a == "PERSON_UPDATED" || a == "SUBJECT_REMOVED")
            .count(),
        4,
        "two corrections by matrix, one consent, one removal"
    );
}

#[tokio::test]
async fn every_other_operation_leaves_exactly_its_audit_entry() {
    let app = TestApp::spawn().await;
    let police = token(&app, "police caseworker");
    let r = app
        .gql(
            OPEN,
            json!({"i": {"caseType": "DOMESTIC_ABUSE", "leadOfficer": "DC", "riskLevel": "STANDARD", "openedOn": "2015-05-01"}}),
            Some(&police),
        )
        .await;
    let case = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    let r = app
        .gql(
            SUBJECT,
            json!({"i": {"caseId": case, "part": "VICTIM", "person": {"fullName": "Vic Tim"}}}),
            Some(&police),
        )
        .await;
    let person = r.data()["addSubject"]["subject"]["personId"]
        .as_str()
        .expect("id")
        .to_owned();
    let incident = ids_for_any(&app).await;
    let referral = {
        let before = last_audit_id(&app).await;
        let r = app
            .gql(
                "mutation($c: ID!) { referCase(input: {caseId: $c, toProgramme: \"IDVA service\", referredOn: \"2015-05-02\"}) { id } }",
                json!({"c": case}),
                Some(&police),
            )
            .await;
        assert_eq!(
            audit_since(&app, before).await,
            vec![(
                "police-officer@herts-police".to_owned(),
                "REFERRAL_RECORDED".to_owned(),
                Some("case".to_owned())
            )]
        );
        r.data()["referCase"]["id"].as_str().expect("id").to_owned()
    };
    let steps: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            UPDATE,
            json!({"i": {"caseId": case, "version": 1, "leadOfficer": "DC Two"}}),
            vec!["CASE_UPDATED"],
        ),
        (
            DASH,
            json!({"i": {"caseId": case, "version": 2, "score": 15}}),
            vec!["CASE_UPDATED"],
        ),
        (
            CLOSE,
            json!({"i": {"caseId": case, "version": 3, "outcome": "risk-reduced", "closedOn": "2015-09-01"}}),
            vec!["CASE_CLOSED"],
        ),
        (
            "mutation($c: ID!) { reopenCase(caseId: $c, version: 4) { id } }",
            json!({"c": case}),
            vec!["CASE_UPDATED"],
        ),
        (
            "mutation($c: ID!) { recordIntervention(input: {caseId: $c, intervention: \"target-hardening\", startsOn: \"2015-05-03\"}) { id } }",
            json!({"c": case}),
            vec!["INTERVENTION_RECORDED"],
        ),
        (
            "mutation($r: ID!) { updateReferral(input: {referralId: $r, version: 1, status: ACCEPTED, on: \"2015-05-04\"}) { id } }",
            json!({"r": referral}),
            vec!["REFERRAL_UPDATED"],
        ),
        (
            "mutation($c: ID!, $i: ID!) { linkIncident(caseId: $c, incidentId: $i) { id } }",
            json!({"c": case, "i": incident}),
            vec!["INCIDENT_LINKED"],
        ),
        // Linking again changes nothing and records nothing.
        (
            "mutation($c: ID!, $i: ID!) { linkIncident(caseId: $c, incidentId: $i) { id } }",
            json!({"c": case, "i": incident}),
            vec![],
        ),
        (
            "mutation($c: ID!, $i: ID!) { unlinkIncident(caseId: $c, incidentId: $i) { id } }",
            json!({"c": case, "i": incident}),
            vec!["INCIDENT_UNLINKED"],
        ),
        (
            "mutation($p: ID!) { updatePerson(input: {personId: $p, version: 1, contact: \"07700 900000 (made up)\"}) { personId } }",
            json!({"p": person}),
            vec!["PERSON_UPDATED"],
        ),
        (
            "mutation($c: ID!, $p: ID!) { removeSubject(caseId: $c, personId: $p, part: VICTIM) { id } }",
            json!({"c": case, "p": person}),
            vec!["SUBJECT_REMOVED"],
        ),
        (
            "query { caseByRef(ref: \"DA-2015-0001\") { id } }",
            json!({}),
            vec!["CASE_VIEWED"],
        ),
        (
            "{ auditLog(first: 5) { totalCount } }",
            json!({}),
            vec!["AUDIT_LOG_VIEWED"],
        ),
        // Refused (stale version): nothing.
        (
            UPDATE,
            json!({"i": {"caseId": case, "version": 1, "leadOfficer": "DC Three"}}),
            vec![],
        ),
    ];
    for (query, vars, want) in steps {
        let before = last_audit_id(&app).await;
        app.gql(query, vars, Some(&police)).await;
        let got: Vec<String> = audit_since(&app, before)
            .await
            .into_iter()
            .map(|(sub, action, _)| {
                assert_eq!(sub, "police-officer@herts-police");
                action
            })
            .collect();
        assert_eq!(got, want, "{query}");
    }
}

#[tokio::test]
async fn a_cases_lists_are_connections() {
    let app = TestApp::spawn().await;
    let case = police_case(&app).await;
    let police = token(&app, "police caseworker");
    app.gql(
        SUBJECT,
        json!({"i": {"caseId": case, "part": "WITNESS", "person": {"fullName": "Second Person"}}}),
        Some(&police),
    )
    .await;
    let q = "query($id: ID!, $a: String) { case(id: $id) { subjects(first: 1, after: $a) { totalCount nodes { fullName } pageInfo { hasNextPage endCursor } } } }";
    let r = app.gql(q, json!({"id": case}), Some(&police)).await;
    let page = &r.data()["case"]["subjects"];
    assert_eq!(page["totalCount"], 2);
    assert_eq!(page["nodes"], json!([{"fullName": "John Smith"}]));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let cursor = page["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let r = app
        .gql(q, json!({"id": case, "a": cursor}), Some(&police))
        .await;
    let page = &r.data()["case"]["subjects"];
    assert_eq!(page["nodes"], json!([{"fullName": "Second Person"}]));
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    for bad in ["x", "cDpB", ""] {
        let r = app
            .gql(q, json!({"id": case, "a": bad}), Some(&police))
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{bad}: {}", r.body);
    }
    let r = app
        .gql(
            "query($id: ID!) { case(id: $id) { shares(first: 0) { totalCount } } }",
            json!({"id": case}),
            Some(&police),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

/// Found by review: a two-letter name matches nearly everyone (about 0.5 s of the database's
/// time at 300,000 people), so ten at once could hold the whole pool. A search needs three
/// letters, and it takes a heavy slot like statistics, so it can never take every connection.
#[tokio::test]
async fn a_search_too_short_to_be_selective_is_refused_and_searches_take_heavy_slots() {
    let mut config = test_config();
    config.db.heavy_concurrency = 1;
    config.db.acquire_timeout = std::time::Duration::from_millis(300);
    let app = TestApp::spawn_with(config).await;
    police_case(&app).await;
    let police = token(&app, "police caseworker");
    for name in ["an", " a b ", "J."] {
        let r = app
            .gql(
                "query($n: String!) { searchPeople(name: $n) { nodes { fullName } } }",
                json!({"n": name}),
                Some(&police),
            )
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{name:?}: {}", r.body);
    }
    // With the only heavy slot held (by a search waiting on a lock), another search waits for
    // a slot, not for a connection, and is answered UNAVAILABLE.
    use sea_orm::TransactionTrait;
    let lock = app.db.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE people IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let first = {
        let (client, url, t) = (app.client.clone(), app.url("/graphql"), police.clone());
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(t)
                .json(&json!({"query": "{ searchPeople(name: \"Smith\") { nodes { fullName } } }"}))
                .send()
                .await
                .expect("search")
                .json::<Value>()
                .await
                .expect("json")
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let r = app
        .gql(
            "{ searchPeople(name: \"Smith\") { nodes { fullName } } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.code(), "UNAVAILABLE", "{}", r.body);
    // Small requests still have connections meanwhile.
    let r = app
        .gql("{ plans { nodes { title } } }", json!({}), Some(&police))
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    lock.rollback().await.expect("unlock");
    let body = first.await.expect("task");
    assert_eq!(
        body["data"]["searchPeople"]["nodes"][0]["fullName"], "John Smith",
        "{body}"
    );
}
