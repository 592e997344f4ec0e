//! The service as an attacker with a valid token tries it: requests that are deep, huge, slow,
//! malformed or costly. None may crash the process, stall other callers, or get an answer
//! without a JSON error code. Real HTTP against the production router, real PostgreSQL.

use std::time::{Duration, Instant};

use crate::common::*;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: String) -> Resp {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(app.police())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send");
    into_resp(r).await
}

/// The service still answers an ordinary query.
async fn still_alive(app: &TestApp) {
    let r = app
        .gql("{ me { sub } }", json!({}), Some(&app.police()))
        .await;
    assert_eq!(r.data()["me"]["sub"], "police-officer@herts-police");
}

fn graphql_code(r: &Resp) -> String {
    r.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {}", r.body))
        .to_owned()
}

#[tokio::test]
async fn lists_nested_100000_deep_are_refused_without_crashing_the_service() {
    let app = TestApp::spawn().await;
    for depth in [10_000, 100_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // In an argument.
        let q = format!("{{ plans(partnership: {deep}) {{ nodes {{ id }} }} }}");
        let r = app.gql(&q, json!({}), Some(&app.police())).await;
        assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED", "{}", r.body);
        assert!(
            r.message().contains("nests brackets more than 64"),
            "{}",
            r.message()
        );
        // In a variable's default value.
        let q = format!("query($x: [String] = {deep}) {{ me {{ sub }} }}");
        let r = app.gql(&q, json!({}), Some(&app.police())).await;
        assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED", "{}", r.body);
        // In the variables JSON.
        let body = format!(
            "{{\"query\": \"query($x: [String]) {{ me {{ sub }} }}\", \"variables\": {{\"x\": {deep}}}}}"
        );
        let r = post_raw(&app, "/graphql", "application/json", body).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(graphql_code(&r), "BAD_USER_INPUT");
        assert!(r.message().contains("nests brackets"), "{}", r.message());
    }
    still_alive(&app).await;
}

#[tokio::test]
async fn objects_nested_deep_are_refused_without_crashing_the_service() {
    let app = TestApp::spawn().await;
    for depth in [10_000, 40_000] {
        let deep = format!("{}1{}", "{a:".repeat(depth), "}".repeat(depth));
        let q = format!("{{ incidentStats(filter: {deep}) {{ total {{ count }} }} }}");
        let r = app.gql(&q, json!({}), Some(&app.pcc())).await;
        assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED", "{}", r.body);
        // Selection sets nested as deep.
        let q = format!("{}{}", "{ me ".repeat(depth), "}".repeat(depth));
        let r = app.gql(&q, json!({}), Some(&app.pcc())).await;
        assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED", "{}", r.body);
    }
    still_alive(&app).await;
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_before_it_is_expanded() {
    let app = TestApp::spawn().await;
    let mut q = String::from("{ ...F40 }\nfragment F0 on Query { me { sub } }\n");
    for i in 1..=40 {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{0} ...F{0} }}\n",
            i - 1
        ));
    }
    let r = app.gql(&q, json!({}), Some(&app.police())).await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        r.message().contains("more than 1000 fields"),
        "{}",
        r.message()
    );
    let cycle = "{ ...A } fragment A on Query { me { sub } ...B } fragment B on Query { ...A }";
    let r = app.gql(cycle, json!({}), Some(&app.police())).await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    still_alive(&app).await;
}

#[tokio::test]
async fn the_full_graphql_js_introspection_query_is_answered_in_demo_mode() {
    let app = TestApp::spawn().await;
    let query = include_str!("../introspection.graphql");
    let r = app.gql(query, json!({}), Some(&app.pcc())).await;
    let schema = &r.data()["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    let types = schema["types"].as_array().expect("types");
    let query_type = types
        .iter()
        .find(|t| t["name"] == "Query")
        .expect("Query type");
    let fields: Vec<&str> = query_type["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    for f in [
        "plans",
        "plan",
        "incidents",
        "incidentStats",
        "planProgress",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // The depth limit still applies to data fields.
    let plan = app.plan_id("2014/15").await;
    let deep = "query($id: ID!) { plan(id: $id) { actions { plan { actions { plan { actions { plan { actions { plan { actions { plan { id } } } } } } } } } } } }";
    let r = app.gql(deep, json!({"id": plan}), Some(&app.pcc())).await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(r.message().contains("at most 10"), "{}", r.message());
}

#[tokio::test]
async fn introspection_is_off_outside_demo_mode_unless_configured() {
    let mut config = test_config();
    config.demo = false;
    let app = TestApp::spawn_with(config.clone()).await;
    let token = sign(
        jsonwebtoken::Algorithm::RS256,
        Some("k1"),
        &police_claims(),
        "rsa_private.pem",
    );
    let r = app
        .gql(
            "{ __schema { queryType { name } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        r.message().contains("introspection is off"),
        "{}",
        r.message()
    );
    // __typename is not introspection of the schema: it still works.
    let r = app.gql("{ __typename }", json!({}), Some(&token)).await;
    assert_eq!(r.data()["__typename"], "Query");
    config.introspection = Some(true);
    let app = TestApp::spawn_with(config).await;
    let r = app
        .gql(
            include_str!("../introspection.graphql"),
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(r.data()["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn page_sizes_weights_and_aliases_are_counted_before_the_database_is_touched() {
    let app = TestApp::spawn().await;
    // 300 aliases of a 100-row page: 30,000 rows once.
    let r = app
        .gql(
            &aliased(300, "incidents(first: 100) { nodes { id } }"),
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(r.message().contains("aliases"), "{}", r.message());
    // Eight ten-year statistics: each weighs 250.
    let ten_years = "incidentStats(filter: {period: {from: \"2006-01-01\", to: \"2015-12-31\"}}, groupBy: [CATEGORY, MONTH]) { total { count } }";
    let r = app
        .gql(&aliased(8, ten_years), json!({}), Some(&app.police()))
        .await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(r.message().contains("too complex"), "{}", r.message());
    // Four compared statistics weigh 2,000 with what they select: too much, too.
    let compared = "incidentStats(filter: {period: {financialYear: \"2014/15\"}}, compareWith: PREVIOUS_PERIOD) { total { count } }";
    let r = app
        .gql(&aliased(4, compared), json!({}), Some(&app.police()))
        .await;
    assert!(r.message().contains("too complex"), "{}", r.message());
    // Three are answered.
    let r = app
        .gql(&aliased(3, compared), json!({}), Some(&app.police()))
        .await;
    assert!(r.data()["a2"]["total"]["count"].as_i64().expect("count") > 0);
}

#[tokio::test]
async fn malformed_requests_get_a_json_error_with_a_code() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, &str, String, u16)> = vec![
        ("/graphql", "application/json", "{not json".to_owned(), 400),
        ("/graphql", "application/json", String::new(), 400),
        (
            "/graphql",
            "application/json",
            "{\"query\": 5}".to_owned(),
            400,
        ),
        (
            "/graphql",
            "application/json",
            "[{\"query\": \"{ me { sub } }\"}]".to_owned(),
            400,
        ),
        ("/graphql", "text/plain", "{ me { sub } }".to_owned(), 415),
        (
            "/graphql",
            "application/json",
            format!(
                "{{\"query\": \"{{ me {{ sub }} }}{}\"}}",
                " ".repeat(300 * 1024)
            ),
            413,
        ),
    ];
    for (path, content_type, body, status) in cases {
        let r = post_raw(&app, path, content_type, body).await;
        assert_eq!(r.status, status, "{}", r.body);
        let code = graphql_code(&r);
        assert!(
            ["BAD_USER_INPUT", "PAYLOAD_TOO_LARGE"].contains(&code.as_str()),
            "{code}"
        );
        let message = r.message();
        assert!(
            !message.contains("InvalidRequest") && !message.contains("Error("),
            "{message}"
        );
    }
    // A syntax error is a GraphQL error with a code and a location.
    let r = app.gql("{ me { sub ", json!({}), Some(&app.police())).await;
    assert_eq!(r.code(), "GRAPHQL_PARSE_FAILED");
    assert!(r.body["errors"][0]["locations"].is_array(), "{}", r.body);
    // Plain HTTP errors are JSON too.
    let r = app.get("/nothing-here").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "NOT_FOUND");
    let r = into_resp(
        app.client
            .put(app.url("/graphql"))
            .send()
            .await
            .expect("put"),
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(graphql_code(&r), "BAD_USER_INPUT");
    let r = into_resp(
        app.client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("content-length", "999999999")
            .body("{}")
            .send()
            .await
            .expect("post"),
    )
    .await;
    // A declared length over the limit is refused before the body is read.
    assert_eq!(r.status, 413);
    assert_eq!(graphql_code(&r), "PAYLOAD_TOO_LARGE");
    still_alive(&app).await;
}

fn record(r: &str) -> Value {
    json!({"externalRef": r, "category": "burglary", "occurredAt": "2015-05-01T10:00:00Z", "area": "old-town"})
}

async fn push(app: &TestApp, records: &[Value]) -> Resp {
    let r = app
        .client
        .post(app.url("/api/v1/incidents"))
        .bearer_auth(app.police())
        .json(&json!({"incidents": records}))
        .send()
        .await
        .expect("push");
    into_resp(r).await
}

fn rejections(r: &Resp) -> Vec<(u64, String)> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|x| {
            (
                x["index"].as_u64().expect("index"),
                x["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_nul_byte_rejects_only_its_own_record() {
    let app = TestApp::spawn().await;
    let mut records: Vec<Value> = (0..51).map(|i| record(&format!("NUL-{i}"))).collect();
    records[7]["externalRef"] = json!("NUL\u{0}7");
    records[9]["category"] = json!("burg\u{0}lary");
    let r = push(&app, &records).await;
    assert_eq!(r.body["created"], 49, "{}", r.body);
    assert_eq!(
        rejections(&r),
        vec![
            (7, "INVALID_VALUE".to_owned()),
            (9, "INVALID_VALUE".to_owned())
        ]
    );
    // The same through GraphQL: the record is rejected, the rest applied.
    let q = "mutation($i: [IncidentInput!]!) { pushIncidents(incidents: $i) { created rejected { index code } } }";
    let r = app
        .gql(
            q,
            json!({"i": [record("GQL-1"), {"externalRef": "GQL-\u{0}", "category": "burglary", "occurredAt": "2015-05-01T10:00:00Z", "area": "old-town"}]}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["pushIncidents"],
        json!({"created": 1, "rejected": [{"index": 1, "code": "INVALID_VALUE"}]})
    );
    // Any other GraphQL text input: BAD_USER_INPUT.
    let r = app
        .gql(
            "mutation { createArea(input: {code: \"nul-area\", name: \"Nul\\u0000Ward\", kind: WARD}) { id } }",
            json!({}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    assert!(r.message().contains("control character"), "{}", r.message());
    let r = app
        .gql(
            "mutation($t: String!) { createPlan(input: {partnership: \"stevenage\", financialYear: \"2016/17\", title: $t}) { id } }",
            json!({"t": "Plan\u{0}"}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
}

#[tokio::test]
async fn texts_have_limits_and_dates_cannot_be_in_the_future() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            "mutation($t: String!) { createPlan(input: {partnership: \"stevenage\", financialYear: \"2016/17\", title: $t}) { id } }",
            json!({"t": "x".repeat(200 * 1024)}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert!(r.message().contains("at most 200"), "{}", r.message());
    let r = app
        .gql(
            "mutation($t: String!) { createPlan(input: {partnership: \"stevenage\", financialYear: \"2016/17\", title: $t}) { title } }",
            json!({"t": "y".repeat(200)}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.data()["createPlan"]["title"], "y".repeat(200));

    let mut far = record("FUT-1");
    far["reportedAt"] = json!("9999-01-01T00:00:00Z");
    let mut soon = record("FUT-2");
    soon["occurredAt"] = json!((chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339());
    let mut skew = record("FUT-3");
    skew["reportedAt"] = json!((chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339());
    let mut long_category = record("FUT-4");
    long_category["category"] = json!("c".repeat(100_000));
    let r = push(&app, &[far, soon, skew, long_category]).await;
    assert_eq!(
        rejections(&r),
        vec![
            (0, "INVALID_DATE".to_owned()),
            (1, "INVALID_DATE".to_owned()),
            (3, "INVALID_VALUE".to_owned())
        ]
    );
    let message = r.body["rejected"][2]["message"].as_str().expect("message");
    assert!(
        message.len() < 200,
        "a long value is not echoed back: {message}"
    );
}

#[tokio::test]
async fn cancel_reasons_come_from_a_vocabulary() {
    let app = TestApp::spawn().await;
    let mut free = record("CAN-1");
    free["status"] = json!("CANCELLED");
    free["cancelReason"] = json!("victim John Smith withdrew, lives at 4 High St");
    let mut coded = record("CAN-2");
    coded["status"] = json!("CANCELLED");
    coded["cancelReason"] = json!("recorded-in-error");
    let r = push(&app, &[free, coded]).await;
    assert_eq!(rejections(&r), vec![(0, "UNKNOWN_VALUE".to_owned())]);
    assert_eq!(r.body["created"], 1);
    let r = app
        .gql(
            "{ vocabularies(vocabulary: CANCEL_REASON) { nodes { code } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let codes: Vec<&str> = r.data()["vocabularies"]["nodes"]
        .as_array()
        .expect("terms")
        .iter()
        .map(|t| t["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        vec!["duplicate", "no-crime", "recorded-in-error", "transferred"]
    );
}

#[tokio::test]
async fn references_a_spreadsheet_would_run_as_formulas_are_refused() {
    let app = TestApp::spawn().await;
    let refs = [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        " =1",
    ];
    let records: Vec<Value> = refs
        .iter()
        .map(|r| record(r))
        .chain([record("OK-1")])
        .collect();
    let r = push(&app, &records).await;
    let expected: Vec<(u64, String)> = (0..5).map(|i| (i, "INVALID_REF".to_owned())).collect();
    assert_eq!(rejections(&r), expected);
    assert_eq!(r.body["created"], 1);
    // A row already held with such a reference leaves the export neutralised.
    app.db
        .execute_unprepared(
            "UPDATE incidents SET external_ref = '=1+1' WHERE external_ref = 'OK-1'",
        )
        .await
        .expect("plant");
    let csv = app
        .client
        .get(app.url("/api/v1/incidents.csv?partnership=stevenage&month=2015-05"))
        .bearer_auth(app.police())
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    assert!(csv.contains("\n'=1+1,"), "{csv}");
    assert!(!csv.contains("\n=1+1"), "{csv}");
}

/// A TCP proxy in front of PostgreSQL that a test can cut (the database "goes away") and
/// restore.
struct Proxy {
    addr: std::net::SocketAddr,
    up: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::on(listener)
    }

    fn on(listener: TcpListener) -> Proxy {
        let addr = listener.local_addr().expect("addr");
        let (tx, _) = tokio::sync::watch::channel(true);
        let up = std::sync::Arc::new(tx);
        let state = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut watch = state.subscribe();
                if !*watch.borrow() {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    let pg = server();
                    let target = pg.rsplit('@').next().unwrap_or("127.0.0.1:5432").to_owned();
                    let Ok(mut upstream) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { addr, up }
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@{}/{db}", self.addr)
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

#[tokio::test]
async fn a_lost_database_fails_fast_with_503_and_readyz_answers_within_a_second() {
    let app = TestApp::spawn().await;
    let proxy = Proxy::start().await;
    let addr = app.serve_via(&app.config, &proxy.url(&app.db_name)).await;
    let url = |p: &str| format!("http://{addr}{p}");
    let ready = app.client.get(url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);

    proxy.set(false);
    let started = Instant::now();
    let ready = app.client.get(url("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status().as_u16(), 503);
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let r = into_resp(
        app.client
            .post(url("/graphql"))
            .bearer_auth(app.police())
            .json(&json!({"query": "{ me { sub } }"}))
            .send()
            .await
            .expect("graphql"),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.code(), "UNAVAILABLE");
    assert_eq!(r.headers["retry-after"], "2");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    proxy.set(true);
    let mut ok = false;
    for _ in 0..20 {
        let r = app
            .client
            .post(url("/graphql"))
            .bearer_auth(app.police())
            .json(&json!({"query": "{ me { sub } }"}))
            .send()
            .await
            .expect("graphql");
        if r.status().as_u16() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ok, "the service recovers when the database is back");
}

/// A connection that holds an exclusive lock on a table until dropped: every statement that
/// reads the table waits.
async fn lock_table(app: &TestApp, table: &str) -> sea_orm::DatabaseTransaction {
    use sea_orm::TransactionTrait;
    let txn = app.db.begin().await.expect("begin");
    txn.execute_unprepared(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .await
        .expect("lock");
    txn
}

#[tokio::test]
async fn a_slow_statement_is_stopped_by_its_timeout() {
    let mut config = test_config();
    config.db.statement_timeout = Duration::from_millis(300);
    config.db.heavy_timeout = Duration::from_millis(600);
    let app = TestApp::spawn_with(config).await;
    let lock = lock_table(&app, "incidents, incident_counts").await;
    let started = Instant::now();
    let r = app
        .gql(
            "{ incidents(first: 5) { totalCount } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "TIMEOUT", "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let r = app
        .gql(
            "{ incidentStats(filter: {period: {financialYear: \"2014/15\"}}) { total { count } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "TIMEOUT", "{}", r.body);
    drop(lock);
    still_alive(&app).await;
}

#[tokio::test]
async fn heavy_queries_cannot_starve_authentication_and_small_queries() {
    let mut config = test_config();
    config.db.pool_size = 4;
    config.db.heavy_concurrency = 2;
    config.db.acquire_timeout = Duration::from_millis(300);
    config.db.heavy_timeout = Duration::from_secs(4);
    config.db.statement_timeout = Duration::from_secs(4);
    let app = TestApp::spawn_with(config).await;
    let lock = lock_table(&app, "incidents, incident_counts").await;
    let stats =
        "{ incidentStats(filter: {period: {financialYear: \"2014/15\"}}) { total { count } } }";
    let mut slow = Vec::new();
    // Three callers, two requests each: one caller holds at most half of the heavy slots (here
    // one), so each caller's second request is refused at once.
    let tokens = [app.police(), app.fire(), app.council()];
    for i in 0..6 {
        let client = app.client.clone();
        let url = app.url("/graphql");
        let token = tokens[i % 3].clone();
        slow.push(tokio::spawn(async move {
            into_resp(
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"query": stats}))
                    .send()
                    .await
                    .expect("stats"),
            )
            .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(600)).await;

    // Meanwhile authentication and a small query are served at once.
    let started = Instant::now();
    for _ in 0..5 {
        let r = app
            .gql(
                "{ plans { nodes { financialYear } } }",
                json!({}),
                Some(&app.council()),
            )
            .await;
        assert_eq!(r.data()["plans"]["nodes"][0]["financialYear"], "2014/15");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(lock);
    let mut codes = Vec::new();
    for s in slow {
        let r = s.await.expect("join");
        codes.push(if r.body["errors"].is_array() {
            r.code()
        } else {
            "OK".to_owned()
        });
        if r.code_opt().as_deref() == Some("UNAVAILABLE") {
            assert_eq!(r.headers["retry-after"], "2");
        }
    }
    codes.sort();
    assert_eq!(
        codes,
        vec![
            "OK",
            "OK",
            "UNAVAILABLE",
            "UNAVAILABLE",
            "UNAVAILABLE",
            "UNAVAILABLE"
        ]
    );
}

#[tokio::test]
async fn the_service_starts_before_the_database_and_waits_for_it() {
    let app = TestApp::spawn().await;
    // A port with nothing on it yet: the database is "down".
    let parked = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let pg_addr = parked.local_addr().expect("addr");
    drop(parked);
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http_addr = http.local_addr().expect("addr");
    drop(http);
    let db_name = format!("{}_late", app.db_name);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["serve", "--demo"])
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@{pg_addr}/{db_name}"),
        )
        .env("CSPHUB_BIND", http_addr.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn csphub");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        child.try_wait().expect("status").is_none(),
        "csphub gave up"
    );
    // The database comes up.
    let _proxy = Proxy::on(TcpListener::bind(pg_addr).await.expect("rebind"));
    let mut healthy = false;
    for _ in 0..120 {
        if let Ok(r) = app
            .client
            .get(format!("http://{http_addr}/readyz"))
            .send()
            .await
            && r.status().as_u16() == 200
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    child.kill().await.expect("kill");
    app.db
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .await
        .ok();
    assert!(healthy, "csphub became ready once the database was up");
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let mut config = test_config();
    config.header_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(config).await;
    let mut conn = TcpStream::connect(app.addr).await.expect("connect");
    conn.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut closed = false;
    for _ in 0..30 {
        if conn.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(200), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(
        closed,
        "a trickling client was held for {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    still_alive(&app).await;
}

#[tokio::test]
async fn slow_bodies_are_cut_off_with_a_timeout_answer() {
    let mut config = test_config();
    config.body_timeout = Duration::from_secs(2);
    let app = TestApp::spawn_with(config).await;
    let mut conn = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
        app.police()
    );
    conn.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    for _ in 0..40 {
        if conn.write_all(b" ").await.is_err() {
            break;
        }
        let mut buf = [0u8; 2048];
        match tokio::time::timeout(Duration::from_millis(200), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"TIMEOUT\""), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn responses_carry_security_headers_and_cors_is_closed_by_default() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("page");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-eval"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.expect("html");
    assert!(!html.contains("<script>"), "no inline script: {html}");

    let r = app
        .gql("{ me { sub } }", json!({}), Some(&app.police()))
        .await;
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(
        r.headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .starts_with("default-src 'none'")
    );
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .expect("preflight");
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // Refused as such, with the setting to change named, rather than a 405.
    assert_eq!(preflight.status(), 403);
    let body: serde_json::Value = preflight.json().await.expect("json");
    assert_eq!(body["error"]["code"], "FORBIDDEN", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("CSPHUB_CORS_ORIGINS"), "{message}");

    let mut config = test_config();
    config.cors_origins = vec!["https://front.example".to_owned()];
    let app = TestApp::spawn_with(config).await;
    for (origin, allowed) in [
        ("https://front.example", true),
        ("https://evil.example", false),
    ] {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .expect("preflight");
        assert_eq!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().expect("origin").to_owned()),
            allowed.then(|| origin.to_owned()),
            "{origin}"
        );
        assert_eq!(
            preflight.status(),
            if allowed { 200 } else { 403 },
            "{origin}"
        );
        if !allowed {
            let body: serde_json::Value = preflight.json().await.expect("json");
            let message = body["error"]["message"].as_str().expect("message");
            assert!(
                message.contains(origin) && message.contains("CSPHUB_CORS_ORIGINS"),
                "{message}"
            );
        }
    }
}

#[tokio::test]
async fn revisions_are_visible_only_in_the_partnership_they_were_made_in() {
    let app = TestApp::spawn().await;
    app.db
        .execute_unprepared(
            "INSERT INTO areas (partnership_id, code, name, kind, postcode_districts)
               SELECT id, 'hitchin', 'Hitchin', 'ward', '{SG4}' FROM partnerships WHERE slug = 'north-herts'",
        )
        .await
        .expect("area");
    let both = app.token_for("police", "herts-police", &["stevenage", "north-herts"], &[]);
    let first = json!({"externalRef": "MOVE-1", "partnership": "north-herts", "category": "burglary",
        "occurredAt": "2015-05-01T10:00:00Z", "area": "hitchin", "postcodeDistrict": "SG4"});
    let moved = json!({"externalRef": "MOVE-1", "partnership": "stevenage", "category": "burglary",
        "occurredAt": "2015-05-01T10:00:00Z", "area": "old-town"});
    for (rec, key) in [(first, "created"), (moved, "updated")] {
        let r = into_resp(
            app.client
                .post(app.url("/api/v1/incidents"))
                .bearer_auth(&both)
                .json(&json!({"incidents": [rec]}))
                .send()
                .await
                .expect("push"),
        )
        .await;
        assert_eq!(r.body[key], 1, "{}", r.body);
    }
    let q = "{ incidents(filter: {partnership: \"stevenage\", period: {month: \"2015-05\"}}, first: 100) { nodes { externalRef revisions { revision record } } } }";
    let revisions = |r: &Resp| -> Value {
        r.data()["incidents"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| n["externalRef"] == "MOVE-1")
            .expect("MOVE-1")["revisions"]
            .clone()
    };
    let r = app.gql(q, json!({}), Some(&both)).await;
    let seen = revisions(&r);
    assert_eq!(seen.as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen[0]["record"]["postcode_district"], "SG4");
    let r = app.gql(q, json!({}), Some(&app.police())).await;
    assert_eq!(
        revisions(&r),
        json!([]),
        "a Stevenage-only caller sees nothing of North Herts"
    );
}

#[tokio::test]
async fn a_csv_export_holds_a_heavy_slot_until_it_ends() {
    let mut config = test_config();
    config.db.heavy_concurrency = 1;
    config.db.acquire_timeout = Duration::from_millis(300);
    let app = TestApp::spawn_with(config).await;
    let lock = lock_table(&app, "incidents, incident_counts").await;
    // The export's first page waits on the lock: it holds the only slot meanwhile. (The first
    // page is read before the answer starts, so the request itself waits.)
    let export = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/incidents.csv?partnership=stevenage"),
            app.police(),
        );
        tokio::spawn(async move {
            let r = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("export");
            (r.status().as_u16(), r.text().await.expect("csv"))
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats =
        "{ incidentStats(filter: {period: {financialYear: \"2014/15\"}}) { total { count } } }";
    let r = app.gql(stats, json!({}), Some(&app.police())).await;
    assert_eq!(r.code(), "UNAVAILABLE", "{}", r.body);
    let r = into_resp(
        app.client
            .get(app.url("/api/v1/incidents.csv?partnership=stevenage"))
            .bearer_auth(app.police())
            .send()
            .await
            .expect("second export"),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["error"]["code"], "UNAVAILABLE");
    drop(lock);
    let (status, csv) = export.await.expect("export task");
    assert_eq!(status, 200, "{csv}");
    assert!(csv.lines().count() > 1_000, "the export completes");
    // With the export done, the slot is free again.
    let r = app.gql(stats, json!({}), Some(&app.police())).await;
    assert!(
        r.data()["incidentStats"]["total"]["count"]
            .as_i64()
            .expect("count")
            > 0
    );
}

#[tokio::test]
async fn the_openapi_document_is_served_only_with_introspection() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    assert!(r.body["paths"]["/api/v1/incidents"]["post"].is_object());
    assert!(
        r.body["components"]["schemas"]["IncidentInput"]["properties"]["externalRef"].is_object()
    );
    let mut config = test_config();
    config.demo = false;
    let app = TestApp::spawn_with(config).await;
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "NOT_FOUND");
}
