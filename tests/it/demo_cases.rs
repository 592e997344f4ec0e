//! The demo's cases meet each sharing rule for someone trying the demo tokens: every type,
//! owned by each agency, shared in each way, AGENCY notes kept to their agency.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn the_demo_cases_show_each_sharing_rule() {
    let app = TestApp::spawn().await;
    csphub::demo::load_cases(&app.db).await.expect("load");
    // Loading again changes nothing.
    csphub::demo::load_cases(&app.db).await.expect("load again");
    let list = "{ cases(first: 100) { totalCount nodes { ref caseType owningAgency { slug name kind } area { code name } outcome { code label } } } }";
    for (agency, role, total) in [
        ("herts-police", "police", 11),
        ("stevenage-council", "council", 12),
        ("herts-fire", "fire", 7),
    ] {
        let t = app.token(role, agency, &["caseworker"]);
        app.take_statements();
        let r = app.gql(list, json!({}), Some(&t)).await;
        assert_eq!(r.data()["cases"]["totalCount"], total, "{agency}");
        // Linked objects: the owning agency with its name, the area and the outcome with
        // theirs, for the whole page in one statement per kind.
        let nodes = r.data()["cases"]["nodes"]
            .as_array()
            .expect("nodes")
            .clone();
        for n in &nodes {
            assert!(
                n["owningAgency"]["name"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty() && s != n["owningAgency"]["slug"]),
                "{n}"
            );
            if !n["area"].is_null() {
                assert!(
                    n["area"]["name"].as_str().is_some_and(|s| !s.is_empty()),
                    "{n}"
                );
            }
            if !n["outcome"].is_null() {
                assert_ne!(n["outcome"]["label"], n["outcome"]["code"], "{n}");
            }
        }
        let statements = app.take_statements();
        let of = |needle: &str| statements.iter().filter(|s| s.contains(needle)).count();
        assert!(
            of("FROM areas WHERE (partnership_id, code)") <= 1,
            "{statements:#?}"
        );
        assert!(of("FROM vocabulary_terms") <= 1, "{statements:#?}");
        let types: std::collections::BTreeSet<&str> = r.data()["cases"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["caseType"].as_str().expect("type"))
            .collect();
        assert!(types.len() >= 4, "{agency} sees {types:?}");
    }
    let notes = "query($r: String!) { caseByRef(ref: $r) { notes { nodes { agency { slug } visibility } } } }";
    let seen = |r: &Resp| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = r.data()["caseByRef"]["notes"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| {
                (
                    n["agency"]["slug"].as_str().expect("a").to_owned(),
                    n["visibility"].as_str().expect("v").to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let pair = |a: &str, v: &str| (a.to_owned(), v.to_owned());
    let police = app.token("police", "herts-police", &["caseworker"]);
    let council = app.token("council", "stevenage-council", &["caseworker"]);
    let r = app
        .gql(notes, json!({"r": "ASB-2014-0001"}), Some(&police))
        .await;
    assert_eq!(
        seen(&r),
        vec![
            pair("herts-police", "AGENCY"),
            pair("herts-police", "SHARED"),
            pair("stevenage-council", "SHARED")
        ]
    );
    let r = app
        .gql(notes, json!({"r": "ASB-2014-0001"}), Some(&council))
        .await;
    assert_eq!(
        seen(&r),
        vec![
            pair("herts-police", "SHARED"),
            pair("stevenage-council", "SHARED")
        ]
    );
    // An owner-only case is NOT_FOUND to the others.
    let r = app
        .gql(notes, json!({"r": "HATE-2014-0007"}), Some(&council))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    // The likely duplicate pair, both visible to the council.
    let r = app
        .gql(
            "{ searchPeople(name: \"Exampel\", dateOfBirth: \"1980-04-01\") { nodes { fullName } } }",
            json!({}),
            Some(&council),
        )
        .await;
    assert_eq!(
        r.data()["searchPeople"]["nodes"],
        json!([{"fullName": "Jon Exampel"}, {"fullName": "John Example"}])
    );
    // The next case opened in 2015 follows the demo's numbers.
    let r = app
        .gql(
            "mutation { openCase(input: {caseType: ASB, leadOfficer: \"PC\", riskLevel: STANDARD, openedOn: \"2015-04-01\"}) { ref } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["openCase"]["ref"], "ASB-2015-0008");
    // The high-risk case without a MARAC referral is flagged.
    let r = app
        .gql(
            "{ caseByRef(ref: \"DA-2014-0004\") { riskLevel maracReferralMissing dash { score scoredLevel } } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(
        r.data()["caseByRef"],
        json!({"riskLevel": "HIGH", "maracReferralMissing": true, "dash": {"score": 16, "scoredLevel": "HIGH"}})
    );
}

/// Every agency a case names (its shares, its notes' authors, its interventions' and
/// referrals' agencies) comes as an object with its name and kind, read by the statement that
/// reads the list, never by one of its own.
#[tokio::test]
async fn the_agencies_a_case_names_are_objects_read_with_their_lists() {
    let app = TestApp::spawn().await;
    csphub::demo::load_cases(&app.db).await.expect("load");
    let police = app.token("police", "herts-police", &["caseworker"]);
    // Within the complexity budget: 20 cases, 5 of each list.
    let q = "{ cases(first: 20) { nodes { ref shares(first: 5) { nodes { agency { slug name kind } } } \
        notes(first: 5) { nodes { agency { slug name kind } } } \
        interventions(first: 5) { nodes { agency { slug name } } } \
        referrals(first: 5) { nodes { fromAgency { slug name } } } } } }";
    app.take_statements();
    let r = app.gql(q, json!({}), Some(&police)).await;
    let statements = app.take_statements();
    let nodes = r.data()["cases"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    let mut seen = std::collections::BTreeMap::new();
    for case in &nodes {
        for (list, field) in [
            ("shares", "agency"),
            ("notes", "agency"),
            ("interventions", "agency"),
            ("referrals", "fromAgency"),
        ] {
            for n in case[list]["nodes"].as_array().expect(list) {
                let a = &n[field];
                seen.insert(
                    a["slug"].as_str().expect("slug").to_owned(),
                    a["name"].as_str().expect("name").to_owned(),
                );
            }
        }
    }
    // The police sees shares and notes of at least its own and the council's agency.
    assert!(seen.len() >= 2, "{seen:?}");
    for (slug, name) in &seen {
        assert!(!name.is_empty() && name != slug, "{slug}: {name}");
    }
    assert_eq!(
        seen.get("herts-police").map(String::as_str),
        Some("Hertfordshire Constabulary")
    );
    let of = |needle: &str| statements.iter().filter(|s| s.contains(needle)).count();
    assert_eq!(of("FROM agencies WHERE"), 0, "{statements:#?}");
}
