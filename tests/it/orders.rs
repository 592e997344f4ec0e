//! Lists in the orders a screen needs (`orderBy`): incidents by when they happened or last
//! changed, cases by when they were recorded, opened or their risk; each either way, paged
//! both ways with cursors of that order only.

use crate::common::*;
use serde_json::{Value, json};

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { id ref } }";

async fn cases(app: &TestApp, token: &str, vars: Value) -> Value {
    let r = app
        .gql(
            "query($o: CaseOrder, $f: Int, $a: String, $l: Int, $b: String) { cases(orderBy: $o, first: $f, after: $a, last: $l, before: $b) { edges { cursor node { ref riskLevel openedOn } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
            vars,
            Some(token),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["cases"].clone()
}

fn refs(page: &Value) -> Vec<&str> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["ref"].as_str().expect("ref"))
        .collect()
}

#[tokio::test]
async fn cases_by_risk_or_opening_either_way_and_cursors_keep_to_their_order() {
    let app = TestApp::spawn().await;
    let police = app.token("police", "herts-police", &["caseworker"]);
    // Opened in this order; risks chosen so that no order agrees with another.
    let mut made = Vec::new();
    for (risk, opened) in [
        ("MEDIUM", "2015-03-01"),
        ("HIGH", "2015-01-01"),
        ("STANDARD", "2015-02-01"),
        ("HIGH", "2015-04-01"),
        ("STANDARD", "2014-12-01"),
    ] {
        let r = app
            .gql(
                OPEN,
                json!({"i": {"caseType": "ASB", "leadOfficer": "PC Able", "riskLevel": risk, "openedOn": opened}}),
                Some(&police),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
        made.push(
            r.data()["openCase"]["ref"]
                .as_str()
                .expect("ref")
                .to_owned(),
        );
    }
    let [m1, h1, s1, h2, s2] = [0, 1, 2, 3, 4].map(|i| made[i].as_str());
    // Counted from the agency's shares when unfiltered, from the cases when filtered: the same.
    for filter in ["{}", "{status: OPEN}", "{riskLevel: HIGH}"] {
        let r = app
            .gql(
                &format!("{{ cases(filter: {filter}) {{ totalCount }} }}"),
                json!({}),
                Some(&police),
            )
            .await;
        let want = if filter.contains("HIGH") { 2 } else { 5 };
        assert_eq!(
            r.data()["cases"]["totalCount"],
            want,
            "{filter}: {}",
            r.body
        );
    }
    // Another agency's caseworker sees none of them, counted either way.
    let fire = app.token("fire", "herts-fire", &["caseworker"]);
    for filter in ["{}", "{status: OPEN}"] {
        let r = app
            .gql(
                &format!("{{ cases(filter: {filter}) {{ totalCount }} }}"),
                json!({}),
                Some(&fire),
            )
            .await;
        assert_eq!(r.data()["cases"]["totalCount"], 0, "{filter}: {}", r.body);
    }
    // The default: newest recorded first.
    let all = cases(&app, &police, json!({})).await;
    let newest: Vec<&str> = made.iter().rev().map(String::as_str).collect();
    assert_eq!(refs(&all), newest);
    // By risk, highest first, then the most recently opened.
    let risk = json!({"field": "RISK", "direction": "DESC"});
    let all = cases(&app, &police, json!({"o": risk})).await;
    assert_eq!(refs(&all), [h2, h1, m1, s1, s2]);
    // ... paged two at a time forwards, then backwards from the end.
    let p1 = cases(&app, &police, json!({"o": risk, "f": 2})).await;
    assert_eq!(refs(&p1), [h2, h1]);
    let p2 = cases(
        &app,
        &police,
        json!({"o": risk, "f": 2, "a": p1["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(refs(&p2), [m1, s1]);
    assert_eq!(p2["pageInfo"]["hasNextPage"], true);
    let last = cases(&app, &police, json!({"o": risk, "l": 2})).await;
    assert_eq!(refs(&last), [s1, s2]);
    let before = cases(
        &app,
        &police,
        json!({"o": risk, "l": 2, "b": last["pageInfo"]["startCursor"]}),
    )
    .await;
    assert_eq!(refs(&before), [h1, m1]);
    // By the day opened, oldest first, and the reverse.
    let opened = json!({"field": "OPENED_ON", "direction": "ASC"});
    let all = cases(&app, &police, json!({"o": opened})).await;
    assert_eq!(refs(&all), [s2, h1, s1, m1, h2]);
    let p1 = cases(&app, &police, json!({"o": opened, "f": 3})).await;
    let p2 = cases(
        &app,
        &police,
        json!({"o": opened, "f": 3, "a": p1["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(refs(&p2), [m1, h2]);
    let all = cases(
        &app,
        &police,
        json!({"o": {"field": "OPENED_ON", "direction": "DESC"}}),
    )
    .await;
    assert_eq!(refs(&all), [h2, m1, s1, h1, s2]);
    // A cursor of one order is refused by another, with a message that says so.
    let r = app
        .gql(
            "query($o: CaseOrder, $a: String) { cases(orderBy: $o, after: $a) { nodes { ref } } }",
            json!({"o": opened, "a": p1["pageInfo"]["endCursor"]}),
            Some(&police),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    // A made-up cursor of a day PostgreSQL cannot hold is refused before it reaches it.
    use base64::Engine;
    let far = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("o:200000-01-01:{}", uuid::Uuid::nil()));
    for (o, cursor) in [
        (opened.clone(), json!(far)),
        (risk.clone(), p1["pageInfo"]["endCursor"].clone()),
        (
            json!({"field": "CREATED_AT", "direction": "DESC"}),
            p1["pageInfo"]["endCursor"].clone(),
        ),
    ] {
        let r = app
            .gql(
                "query($o: CaseOrder, $a: String) { cases(orderBy: $o, after: $a) { nodes { ref } } }",
                json!({"o": o, "a": cursor}),
                Some(&police),
            )
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    }
}

#[tokio::test]
async fn incidents_by_last_change_newest_first() {
    let app = TestApp::spawn().await;
    let police = app.police();
    // Three records, then the oldest of them changed: it is the latest change.
    let push = |refs: Value| {
        let (app, police) = (&app, &police);
        async move {
            let r = app
                .gql(
                    "mutation($i: [IncidentInput!]!) { pushIncidents(incidents: $i) { created updated } }",
                    json!({"i": refs}),
                    Some(police),
                )
                .await;
            assert!(r.body.get("errors").is_none(), "{}", r.body);
        }
    };
    for (r, at) in [
        ("ORD-1", "2016-05-01T10:00:00Z"),
        ("ORD-2", "2016-05-02T10:00:00Z"),
        ("ORD-3", "2016-05-03T10:00:00Z"),
    ] {
        push(json!([{"externalRef": r, "category": "burglary", "occurredAt": at, "area": "old-town"}])).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    push(json!([{"externalRef": "ORD-1", "category": "robbery", "occurredAt": "2016-05-01T10:00:00Z", "area": "old-town"}])).await;
    let q = "query($o: IncidentOrder, $f: Int, $a: String) { incidents(filter: {partnership: \"stevenage\", period: {month: \"2016-05\"}}, orderBy: $o, first: $f, after: $a) { nodes { externalRef } pageInfo { endCursor hasNextPage } } }";
    let page = |vars: Value| {
        let (app, police) = (&app, &police);
        async move {
            let r = app.gql(q, vars, Some(police)).await;
            assert!(r.body.get("errors").is_none(), "{}", r.body);
            let c = r.data()["incidents"].clone();
            let refs: Vec<String> = c["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["externalRef"].as_str().expect("ref").to_owned())
                .filter(|r| r.starts_with("ORD-"))
                .collect();
            (refs, c["pageInfo"].clone())
        }
    };
    let (by_time, _) = page(json!({})).await;
    assert_eq!(by_time, ["ORD-1", "ORD-2", "ORD-3"]);
    let changed = json!({"field": "UPDATED_AT", "direction": "DESC"});
    let (first, info) = page(json!({"o": changed, "f": 1})).await;
    assert_eq!(first, ["ORD-1"]);
    let (next, _) = page(json!({"o": changed, "f": 2, "a": info["endCursor"]})).await;
    assert_eq!(next, ["ORD-3", "ORD-2"]);
    // An occurredAt cursor means nothing in this order.
    let (_, info) = page(json!({"f": 1})).await;
    let r = app
        .gql(
            q,
            json!({"o": changed, "a": info["endCursor"]}),
            Some(&police),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
}

/// Filtered counts come from the caller's share rows, which carry a copy of each case's
/// filterable fields: they follow every change to the case (risk, area, closing, reopening),
/// for every agency it is shared with, and agree with the pages read from the cases.
#[tokio::test]
async fn filtered_case_counts_follow_changes_to_the_cases() {
    let app = TestApp::spawn().await;
    let police = app.token("police", "herts-police", &["caseworker"]);
    let fire = app.token("fire", "herts-fire", &["caseworker"]);
    let mut ids = Vec::new();
    for (kind, risk) in [
        ("ASB", "STANDARD"),
        ("ASB", "MEDIUM"),
        ("HATE", "STANDARD"),
        ("ASB", "HIGH"),
    ] {
        let r = app
            .gql(
                "mutation($i: OpenCaseInput!) { openCase(input: $i) { id } }",
                json!({"i": {"caseType": kind, "leadOfficer": "PC Able", "riskLevel": risk, "openedOn": "2015-05-01", "area": "bedwell"}}),
                Some(&police),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
        let id = r.data()["openCase"]["id"].clone();
        let r = app
            .gql(
                "mutation($c: ID!) { shareCase(input: {caseId: $c, agency: \"herts-fire\", legalBasis: S115_CDA_1998}) { id } }",
                json!({"c": id}),
                Some(&police),
            )
            .await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
        ids.push(id);
    }
    // The first becomes HIGH risk in another area; the third is closed.
    let v = case_version(&app, &police, &ids[0]).await;
    let r = app
        .gql(
            "mutation($c: ID!, $v: Int!) { updateCase(input: {caseId: $c, version: $v, riskLevel: HIGH, area: \"old-town\"}) { version } }",
            json!({"c": ids[0], "v": v}),
            Some(&police),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let v = case_version(&app, &police, &ids[2]).await;
    let r = app
        .gql(
            "mutation($c: ID!, $v: Int!) { closeCase(input: {caseId: $c, version: $v, outcome: \"no-further-action\", closedOn: \"2015-06-01\"}) { version } }",
            json!({"c": ids[2], "v": v}),
            Some(&police),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);

    for (filter, want) in [
        ("{}", 4),
        ("{riskLevel: HIGH}", 2),
        ("{riskLevel: STANDARD}", 1),
        ("{riskLevel: MEDIUM, area: \"bedwell\"}", 1),
        ("{area: \"old-town\"}", 1),
        ("{status: OPEN}", 3),
        ("{status: CLOSED, caseType: HATE}", 1),
        ("{caseType: ASB, status: OPEN, riskLevel: HIGH}", 2),
        ("{owningAgency: \"herts-police\", status: OPEN}", 3),
        ("{owningAgency: \"herts-fire\"}", 0),
    ] {
        for (who, token) in [("police", &police), ("fire", &fire)] {
            let r = app
                .gql(
                    &format!(
                        "{{ cases(filter: {filter}, first: 100) {{ totalCount nodes {{ id area {{ code name }} owningAgency {{ slug name }} }} }} }}"
                    ),
                    json!({}),
                    Some(token),
                )
                .await;
            assert!(r.body.get("errors").is_none(), "{}", r.body);
            let nodes = r.data()["cases"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let page = nodes.len();
            // Each case's area and owning agency come as objects with their names.
            for n in &nodes {
                let area = n["area"]["code"].as_str().expect("area");
                let name = if area == "bedwell" {
                    "Bedwell"
                } else {
                    "Old Town"
                };
                assert_eq!(n["area"]["name"], name, "{n}");
                assert_eq!(n["owningAgency"]["slug"], "herts-police", "{n}");
                assert!(
                    n["owningAgency"]["name"]
                        .as_str()
                        .is_some_and(|s| s.contains("Constabulary")),
                    "{n}"
                );
            }
            assert_eq!(page, want, "{who} {filter}: the page");
            assert_eq!(
                r.data()["cases"]["totalCount"],
                want,
                "{who} {filter}: the count"
            );
        }
    }
    // Pages in each order read the share rows too: by risk, the case made HIGH comes first
    // with the other HIGH one, for the agency it was shared with as for its owner.
    for token in [&police, &fire] {
        let r = app
            .gql(
                "{ cases(orderBy: {field: RISK, direction: DESC}, first: 2) { nodes { id riskLevel } } }",
                json!({}),
                Some(token),
            )
            .await;
        let mut got: Vec<String> = r.data()["cases"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["id"].as_str().expect("id").to_owned())
            .collect();
        got.sort();
        let mut want: Vec<String> = [&ids[0], &ids[3]]
            .iter()
            .map(|i| i.as_str().expect("id").to_owned())
            .collect();
        want.sort();
        assert_eq!(got, want, "{}", r.body);
    }
}

async fn case_version(app: &TestApp, token: &str, id: &Value) -> Value {
    app.gql(
        "query($c: ID!) { case(id: $c) { version } }",
        json!({"c": id}),
        Some(token),
    )
    .await
    .data()["case"]["version"]
        .clone()
}
