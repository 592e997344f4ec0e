//! Rate limits per caller and per client address over real HTTP: 429 RATE_LIMITED with
//! `Retry-After`, in the GraphQL shape on /graphql and the REST shape elsewhere; partner pushes
//! on a budget of their own.

use crate::common::{Resp, TestApp, into_resp, test_config};
use csphub::http::limits::{ClientAddress, Rate, RateLimitSettings};
use serde_json::{Value, json};

const PLANS: &str = "{ plans(partnership: \"stevenage\") { nodes { id } } }";

fn rate(v: &str) -> Option<Rate> {
    Rate::parse("test", v).expect("rate")
}

fn record(r: &str) -> Value {
    json!({"externalRef": r, "category": "burglary", "occurredAt": "2025-06-01T10:00:00Z", "area": "bedwell"})
}

async fn spawn(settings: RateLimitSettings) -> TestApp {
    let mut config = test_config();
    config.rate_limits = settings;
    TestApp::spawn_with(config).await
}

fn retry_after(r: &Resp) -> u64 {
    r.headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After on {}", r.body))
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

#[tokio::test]
async fn a_caller_over_its_budget_is_told_when_to_come_back_and_others_are_not_held() {
    let app = spawn(RateLimitSettings {
        caller: Some(rate("3/min")),
        ..RateLimitSettings::off()
    })
    .await;
    let police = app.police();
    for _ in 0..3 {
        let r = app.gql(PLANS, json!({}), Some(&police)).await;
        assert_eq!(r.status, 200);
        r.data();
    }
    app.take_statements();
    let r = app.gql(PLANS, json!({}), Some(&police)).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.code(), "RATE_LIMITED");
    assert!(r.message().contains("3/min"), "{}", r.message());
    let wait = retry_after(&r);
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    // Nothing of the request ran: no statement reached the database for it.
    assert_eq!(app.take_statements(), Vec::<String>::new());
    // Another caller (another subject) has a budget of its own.
    let r = app.gql(PLANS, json!({}), Some(&app.council())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The same caller's pushes draw on the push budget, which is not spent.
    let r = app.push_incidents(&police, &[record("RL-1")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["created"], 1);
    // REST reads share the request budget: the CSV export is refused too, in the REST shape.
    let r = into_resp(
        app.client
            .get(app.url("/api/v1/incidents.csv?partnership=stevenage"))
            .bearer_auth(&police)
            .send()
            .await
            .expect("export"),
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "RATE_LIMITED");
    assert!(retry_after(&r) >= 1);
}

#[tokio::test]
async fn pushes_have_their_own_budget_that_a_busy_front_end_cannot_spend() {
    let app = spawn(RateLimitSettings {
        caller: Some(rate("2/min")),
        push_caller: Some(rate("2/min")),
        ..RateLimitSettings::off()
    })
    .await;
    let police = app.police();
    // The front-end (same caller here, the worst case) spends its whole request budget...
    for _ in 0..2 {
        assert_eq!(app.gql(PLANS, json!({}), Some(&police)).await.status, 200);
    }
    assert_eq!(app.gql(PLANS, json!({}), Some(&police)).await.status, 429);
    // ...and the pushes still go through, up to their own budget.
    for i in 0..2 {
        let r = app
            .push_incidents(&police, &[record(&format!("RL-P{i}"))])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = app.push_incidents(&police, &[record("RL-P9")]).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "RATE_LIMITED");
    assert!(retry_after(&r) >= 1);
    // The refused push was not applied.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'RL-P%'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_flood_without_valid_tokens_is_limited_per_address_but_health_probes_are_not() {
    let app = spawn(RateLimitSettings {
        address: Some(rate("4/min")),
        ..RateLimitSettings::off()
    })
    .await;
    for _ in 0..4 {
        let r = app.gql(PLANS, json!({}), Some("not-a-token")).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = app.gql(PLANS, json!({}), Some("not-a-token")).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.code(), "RATE_LIMITED");
    assert!(retry_after(&r) >= 1);
    // A valid token from the same address is held too: the address is over its budget.
    let r = app.gql(PLANS, json!({}), Some(&app.police())).await;
    assert_eq!(r.status, 429, "{}", r.body);
    // Other routes answer in the REST shape.
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "RATE_LIMITED");
    // The load balancer's probes are never limited.
    for _ in 0..10 {
        assert_eq!(app.get("/healthz").await.status, 200);
        assert_eq!(app.get("/readyz").await.status, 200);
    }
    // Pushes from the address draw on the push budget (off here), not the spent one.
    let r = app.push_incidents(&app.police(), &[record("RL-A1")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn behind_a_load_balancer_the_address_is_the_last_forwarded_one() {
    let app = spawn(RateLimitSettings {
        address: Some(rate("2/min")),
        client_address: ClientAddress::ForwardedFor,
        ..RateLimitSettings::off()
    })
    .await;
    let send = |forwarded: &'static str| {
        let req = app
            .client
            .post(app.url("/graphql"))
            .header("x-forwarded-for", forwarded)
            .bearer_auth(app.police())
            .json(&json!({"query": PLANS}));
        async move { into_resp(req.send().await.expect("request")).await }
    };
    for _ in 0..2 {
        assert_eq!(send("203.0.113.9, 192.0.2.1").await.status, 200);
    }
    assert_eq!(send("203.0.113.9, 192.0.2.1").await.status, 429);
    // What the client itself wrote in front is not trusted: only the balancer's last entry.
    assert_eq!(send("203.0.113.10, 192.0.2.1").await.status, 429);
    // Another client behind the same balancer has its own budget.
    assert_eq!(send("192.0.2.2").await.status, 200);
}
