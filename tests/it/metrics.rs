//! Prometheus metrics on the admin address: after real traffic, a scrape finds exactly the
//! counts that traffic made; the API's own address never serves them.

use crate::common;

use std::collections::BTreeMap;

use crate::common::{TestApp, test_config};
use serde_json::{Value, json};

async fn spawn() -> TestApp {
    let mut config = test_config();
    config.metrics_bind = Some("127.0.0.1:0".parse().expect("addr"));
    TestApp::spawn_with(config).await
}

/// The scraped samples: `name{label="value",...}` (labels sorted) to value.
async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let addr = app.metrics_addr.expect("an admin address");
    let res = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = res.text().await.expect("text");
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample");
        let key = match series.split_once('{') {
            Some((name, labels)) => {
                let mut pairs: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                pairs.retain(|p| !p.is_empty());
                pairs.sort_unstable();
                format!("{name}{{{}}}", pairs.join(","))
            }
            None => series.to_owned(),
        };
        samples.insert(key, value.parse::<f64>().expect("a number"));
    }
    samples
}

fn get(samples: &BTreeMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key}; have:\n{samples:#?}"))
}

fn record(r: &str) -> Value {
    json!({"externalRef": r, "category": "burglary", "occurredAt": "2025-06-01T10:00:00Z", "area": "bedwell"})
}

async fn named(app: &TestApp, name: &str, query: &str, token: &str) -> common::Resp {
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "operationName": name}))
        .send()
        .await
        .expect("request");
    common::into_resp(r).await
}

#[tokio::test]
async fn a_scrape_finds_the_requests_errors_and_pushes_that_were_made() {
    let app = spawn().await;
    let police = app.police();
    for _ in 0..3 {
        let r = named(
            &app,
            "PlanList",
            "query PlanList { plans(partnership: \"stevenage\") { nodes { id } } }",
            &police,
        )
        .await;
        r.data();
    }
    app.gql("{ __typename }", json!({}), Some(&police))
        .await
        .data();
    // A bad token, an unknown field, an unknown path.
    assert_eq!(
        app.gql("{ __typename }", json!({}), Some("x")).await.status,
        401
    );
    assert_eq!(
        app.gql("{ nope }", json!({}), Some(&police)).await.code(),
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(app.get("/no/such/path").await.status, 404);
    // Pushes: two applied (2 created + 1 rejected, then 2 unchanged + 1 rejected), one refused
    // whole (the PCC may not push), and one through GraphQL (1 created).
    let batch = [
        record("M-1"),
        record("M-2"),
        json!({"externalRef": "M-bad"}),
    ];
    for _ in 0..2 {
        let r = app.push_incidents(&police, &batch).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(app.push_incidents(&app.pcc(), &batch).await.status, 403);
    let r = app
        .gql(
            "mutation($i: [IncidentInput!]!) { pushIncidents(incidents: $i) { created } }",
            json!({"i": [record("M-3")]}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["pushIncidents"]["created"], 1);

    // Statistics take a slot of the heavy gate.
    let r = app
        .gql(
            "{ incidentStats(filter: {partnership: \"stevenage\", period: {from: \"2025-01-01\", to: \"2025-12-31\"}}) { total { count } } }",
            json!({}),
            Some(&police),
        )
        .await;
    r.data();
    let m = scrape(&app).await;
    let req = |route: &str, op: &str, status: &str| {
        get(
            &m,
            &format!(
                "csphub_requests_total{{operation=\"{op}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(req("/graphql", "PlanList", "200"), 3.0);
    assert_eq!(
        get(
            &m,
            "csphub_request_duration_seconds_count{operation=\"PlanList\",route=\"/graphql\"}"
        ),
        3.0
    );
    assert_eq!(
        req("/graphql", "anonymous", "200"),
        4.0,
        "typename, nope, the mutation, the statistics"
    );
    assert_eq!(
        get(
            &m,
            "csphub_heavy_slot_wait_seconds_count{outcome=\"taken\"}"
        ),
        1.0
    );
    assert_eq!(req("/graphql", "", "401"), 1.0);
    assert_eq!(req("unmatched", "", "404"), 1.0);
    assert_eq!(req("/api/v1/incidents", "", "200"), 2.0);
    assert_eq!(req("/api/v1/incidents", "", "403"), 1.0);
    assert_eq!(
        get(&m, "csphub_errors_total{code=\"UNAUTHENTICATED\"}"),
        1.0
    );
    assert_eq!(
        get(
            &m,
            "csphub_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}"
        ),
        1.0
    );
    assert_eq!(get(&m, "csphub_errors_total{code=\"NOT_FOUND\"}"), 1.0);
    assert_eq!(get(&m, "csphub_errors_total{code=\"FORBIDDEN\"}"), 1.0);
    assert_eq!(get(&m, "csphub_pushes_total{outcome=\"applied\"}"), 3.0);
    assert_eq!(get(&m, "csphub_pushes_total{outcome=\"refused\"}"), 1.0);
    assert_eq!(
        get(&m, "csphub_push_records_total{outcome=\"created\"}"),
        3.0
    );
    assert_eq!(
        get(&m, "csphub_push_records_total{outcome=\"unchanged\"}"),
        2.0
    );
    assert_eq!(
        get(&m, "csphub_push_records_total{outcome=\"rejected\"}"),
        2.0
    );
    assert_eq!(
        get(&m, "csphub_push_records_total{outcome=\"updated\"}"),
        0.0
    );
    assert_eq!(get(&m, "csphub_statement_timeouts_total"), 0.0);
    // The pool: its size as configured, and the connections the requests waited for.
    assert_eq!(get(&m, "csphub_db_pool_max_connections"), 5.0);
    assert!(get(&m, "csphub_db_pool_connections") >= 1.0);
    // The queries ran one after another, so one connection is parked for the next read.
    assert_eq!(get(&m, "csphub_db_parked_connections"), 1.0);
    assert!(get(&m, "csphub_db_connection_wait_seconds_count{lane=\"read\"}") >= 4.0);
    assert!(
        get(
            &m,
            "csphub_db_connection_wait_seconds_count{lane=\"transaction\"}"
        ) >= 1.0
    );
    // Nothing here is a raw path, a token or a variable.
    assert!(!m.keys().any(|k| k.contains("no/such") || k.contains("M-1")));

    // The API's address does not serve them, to anyone: the access matrix's row for /metrics.
    assert_eq!(app.get("/metrics").await.status, 404);
    for token in [
        app.police(),
        app.fire(),
        app.council(),
        app.coordinator(),
        app.pcc(),
    ] {
        let r = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 404);
    }
}

#[tokio::test]
async fn operation_names_are_counted_apart_up_to_a_bound() {
    let app = spawn().await;
    let police = app.police();
    let limit = csphub::metrics::MAX_OPERATION_NAMES;
    for i in 0..limit + 5 {
        let name = format!("Op{i}");
        named(
            &app,
            &name,
            &format!("query {name} {{ __typename }}"),
            &police,
        )
        .await
        .data();
    }
    let m = scrape(&app).await;
    let ops: Vec<&String> = m
        .keys()
        .filter(|k| k.starts_with("csphub_requests_total{") && k.contains("route=\"/graphql\""))
        .collect();
    assert_eq!(ops.len(), limit + 1, "{ops:#?}");
    assert_eq!(
        get(
            &m,
            "csphub_requests_total{operation=\"other\",route=\"/graphql\",status=\"200\"}"
        ),
        5.0
    );
    assert_eq!(
        get(
            &m,
            "csphub_requests_total{operation=\"Op0\",route=\"/graphql\",status=\"200\"}"
        ),
        1.0
    );
}
