//! What the service does at the HTTP level: health and readiness, GraphiQL served with no
//! internet, GraphQL limits, error hygiene, the schema file and the command line.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn healthz_and_readyz_answer_json() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz").await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"status": "ok"})));
    let r = app.get("/readyz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["database"], "ok");
    assert_eq!(r.body["migrations"], "current");
    assert!(r.headers.get("x-request-id").is_some());
}

#[tokio::test]
async fn readyz_reports_pending_migrations() {
    let app = TestApp::spawn().await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("DELETE FROM seaql_migrations")
        .await
        .expect("forget migrations");
    let r = app.get("/readyz").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["migrations"], "pending");
    assert_eq!(r.body["pending"][0], "m20261126_000001_foundation");
}

#[tokio::test]
async fn graphiql_is_served_with_its_own_assets_and_fetches_nothing_from_the_internet() {
    let app = TestApp::spawn().await; // demo mode: GraphiQL on by default
    let page = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("get");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("GraphiQL"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must not reference the internet"
    );
    let mut assets = 0;
    for src in html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/assets/"))
    {
        let r = app.client.get(app.url(src)).send().await.expect("asset");
        assert_eq!(r.status().as_u16(), 200, "{src}");
        let content_type = r.headers()["content-type"].to_str().expect("ct").to_owned();
        let body = r.bytes().await.expect("bytes");
        if src.contains(".min.") || src.contains(".production.") {
            assert!(body.len() > 5_000, "{src} is {} bytes", body.len());
        }
        assert!(
            content_type.starts_with("text/javascript") || content_type.starts_with("text/css")
        );
        assets += 1;
    }
    assert_eq!(
        assets, 6,
        "four vendor files, the page's style and its start-up script"
    );
}

#[tokio::test]
async fn graphiql_is_off_by_default_outside_demo_mode() {
    let mut config = test_config();
    config.demo = false;
    let app = TestApp::spawn_with(config).await;
    let r = app.get("/graphql").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error"]["code"], "NOT_FOUND");
    assert_eq!(
        app.get("/graphiql/assets/graphiql.min.js").await.status,
        404
    );
    let mut config = test_config();
    config.demo = false;
    config.graphiql = Some(true);
    let app = TestApp::spawn_with(config).await;
    assert_eq!(app.get("/graphql").await.status, 200);
}

#[tokio::test]
async fn queries_deeper_than_the_limit_are_refused() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let deep = "query($id: ID!) { plan(id: $id) { actions { plan { actions { plan { actions { plan { actions { plan { actions { id } } } } } } } } } } }";
    let r = app
        .gql(deep, json!({"id": plan}), Some(&app.police()))
        .await;
    assert!(r.message().contains("at most 10"), "{}", r.body);
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
}

/// Apollo-style clients tell a document that is not GraphQL, or does not fit the schema, from a
/// value that is wrong, by the code.
#[tokio::test]
async fn documents_that_fail_carry_the_codes_apollo_clients_expect() {
    let app = TestApp::spawn().await;
    let police = app.police();
    let cases = [
        // Not GraphQL at all.
        ("{ plans { id ", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("query { }", json!({}), "GRAPHQL_PARSE_FAILED"),
        // GraphQL, but not of this schema.
        ("{ plans { nope } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        ("{ plan { id } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        // A variable whose value is not of its type is a value at fault, as with Apollo.
        (
            "query($n: Int) { plans(first: $n) { nodes { id } } }",
            json!({"n": "ten"}),
            "BAD_USER_INPUT",
        ),
        // Two operations and no name to choose one.
        (
            "query A { me { sub } } query B { me { sub } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        // A document that fits, with a value the field refuses.
        (
            "{ plans(first: 500) { nodes { id } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
    ];
    let cases = cases.into_iter().chain([
        // A paging argument the cost rule reads too: every error says the value is at fault.
        (
            "query($n: Int) { incidents(last: $n) { totalCount } }",
            json!({"n": "ten"}),
            "BAD_USER_INPUT",
        ),
    ]);
    for (query, vars, code) in cases {
        let r = app.gql(query, vars, Some(&police)).await;
        let codes: Vec<&str> = r.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["extensions"]["code"].as_str().expect("a code"))
            .collect();
        assert!(
            !codes.is_empty() && codes.iter().all(|c| *c == code),
            "{query}: {}",
            r.body
        );
        assert!(r.body["data"].is_null(), "{query}: {}", r.body);
    }
}

#[tokio::test]
async fn overly_complex_queries_are_refused() {
    let app = TestApp::spawn().await;
    // Each counts 1 + 100 x 3: the page size multiplies what every row selects.
    let page = "incidents(first: 100) { nodes { id externalRef } }";
    let r = app
        .gql(&aliased(7, page), json!({}), Some(&app.police()))
        .await;
    assert!(r.message().contains("too complex"), "{}", r.message());
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    // Six of them (1,806) are within the limit.
    let r = app
        .gql(&aliased(6, page), json!({}), Some(&app.police()))
        .await;
    assert_eq!(r.data()["a5"]["nodes"].as_array().map(Vec::len), Some(100));

    // A full Relay page of 100 with its linked objects, the page info and the count: 1 + 100 x
    // (13 for an edge with its cursor and node, a linked object costing what it selects, 1 for
    // the count) = 1,401. The page info is made from the page and costs nothing, as a linked
    // object itself does (read for the whole page); when they cost per item, this came to
    // 2,201 and was refused.
    let relay = "{ incidents(first: 100) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id externalRef occurredAt status category { code label } area { code name }
        sourceAgency { slug name } } } } }";
    let r = app.gql(relay, json!({}), Some(&app.police())).await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    assert_eq!(
        r.data()["incidents"]["edges"].as_array().map(Vec::len),
        Some(100)
    );
    assert_eq!(r.data()["incidents"]["pageInfo"]["hasNextPage"], true);
    // Ten more fields per node are 1,000 more: 2,401, over the limit, which still holds.
    let wide = relay.replace(
        "status",
        "status reportedAt lsoa postcodeDistrict domesticAbuse alcoholRelated youthRelated revision createdAt updatedAt partnership",
    );
    let r = app.gql(&wide, json!({}), Some(&app.police())).await;
    assert!(r.message().contains("too complex"), "{}", r.message());
}

#[tokio::test]
async fn page_sizes_are_capped() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            "{ plans(first: 500) { nodes { id } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert!(r.message().contains("between 1 and 100"));
    let r = app
        .gql(
            "{ plans(first: 1) { nodes { financialYear } pageInfo { endCursor } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["plans"]["nodes"],
        json!([{"financialYear": "2014/15"}])
    );
    let r = app
        .gql(
            "query($c: String) { plans(first: 1, after: $c) { nodes { financialYear } } }",
            json!({"c": r.data()["plans"]["pageInfo"]["endCursor"]}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["plans"]["nodes"],
        json!([{"financialYear": "2015/16"}])
    );
    // Backwards from the end: the last plan, then the one before it.
    let r = app
        .gql(
            "{ plans(last: 1) { nodes { financialYear } pageInfo { startCursor hasPreviousPage } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["plans"]["nodes"],
        json!([{"financialYear": "2015/16"}])
    );
    assert_eq!(r.data()["plans"]["pageInfo"]["hasPreviousPage"], true);
    let r = app
        .gql(
            "query($c: String) { plans(last: 1, before: $c) { nodes { financialYear } totalCount } }",
            json!({"c": r.data()["plans"]["pageInfo"]["startCursor"]}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["plans"]["nodes"],
        json!([{"financialYear": "2014/15"}])
    );
    assert_eq!(r.data()["plans"]["totalCount"], 2);
}

#[tokio::test]
async fn batched_requests_are_refused() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(app.police())
        .json(&json!([{"query": "{ me { sub } }"}, {"query": "{ me { role } }"}]))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(300 * 1024);
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(app.police())
        .header("content-type", "application/json")
        .body(format!("{{\"query\": \"{{ me {{ sub }} }}{padding}\"}}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 413);
}

#[tokio::test]
async fn internal_errors_hide_the_database_and_give_the_request_id() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("ALTER TABLE progress_records RENAME TO progress_records_gone")
        .await
        .expect("break the database");
    let r = app
        .gql(
            "query($id: ID!) { planProgress(planId: $id, quarter: \"2014/15 Q3\") { quarter } }",
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "INTERNAL");
    let request_id = r.headers["x-request-id"].to_str().expect("id").to_owned();
    assert_eq!(
        r.message(),
        format!("internal error (request id {request_id})")
    );
    assert_eq!(
        r.body["errors"][0]["extensions"]["requestId"],
        request_id.as_str()
    );
    let text = r.body.to_string();
    assert!(
        !text.contains("progress_records") && !text.contains("relation"),
        "leaks: {text}"
    );
}

#[tokio::test]
async fn engine_errors_carry_a_code_too() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            "{ plans { nodes { noSuchField } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED");
    let r = app
        .gql(
            "{ plan(id: \"not-a-uuid\") { id } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert!(r.message().contains("not a valid plan id"));
}

#[test]
fn schema_graphql_is_the_output_of_csphub_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .arg("schema")
        .output()
        .expect("run csphub schema");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("utf8");
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    assert!(
        generated == committed,
        "schema.graphql is stale: run `cargo run -q -- schema > schema.graphql`"
    );
    assert!(generated.contains("scalar Date\n") && generated.contains("type PlanProgress {"));
}

/// Generated types are the docs a front-end developer reads: every type, field, argument,
/// enum value and input field of the schema says what it is.
#[test]
fn every_member_of_the_schema_is_described() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let sdl = csphub::graphql::build_schema().sdl();
    let doc = async_graphql::parser::parse_schema(&sdl).expect("the schema parses");
    let described = |d: &Option<async_graphql::Positioned<String>>| {
        d.as_ref().is_some_and(|d| !d.node.trim().is_empty())
    };
    let mut bare = Vec::new();
    let mut members = 0;
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.as_str();
        members += 1;
        if !described(&t.description) {
            bare.push(format!("type {name}"));
        }
        let fields = match &t.kind {
            TypeKind::Object(o) => Some(&o.fields),
            TypeKind::Interface(i) => Some(&i.fields),
            _ => None,
        };
        for f in fields.into_iter().flatten() {
            let f = &f.node;
            members += 1;
            if !described(&f.description) {
                bare.push(format!("field {name}.{}", f.name.node));
            }
            for a in &f.arguments {
                members += 1;
                if !described(&a.node.description) {
                    bare.push(format!(
                        "argument {name}.{}({})",
                        f.name.node, a.node.name.node
                    ));
                }
            }
        }
        match &t.kind {
            TypeKind::Enum(e) => {
                for v in &e.values {
                    members += 1;
                    if !described(&v.node.description) {
                        bare.push(format!("value {name}.{}", v.node.value.node));
                    }
                }
            }
            TypeKind::InputObject(i) => {
                for f in &i.fields {
                    members += 1;
                    if !described(&f.node.description) {
                        bare.push(format!("input field {name}.{}", f.node.name.node));
                    }
                }
            }
            _ => {}
        }
    }
    // A reader that found nothing cannot pass.
    assert!(members > 1_000, "only {members} members read");
    assert!(
        bare.is_empty(),
        "{} schema members have no description (a doc comment, or `desc` on an argument):\n{}",
        bare.len(),
        bare.join("\n")
    );
}

#[test]
fn csphub_token_prints_a_token_the_demo_server_accepts() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args([
            "token",
            "--role",
            "council",
            "--agency",
            "stevenage-council",
            "--partnership",
            "stevenage",
            "--cap",
            "coordinator",
            "--ttl",
            "5m",
        ])
        .env("CSPHUB_DEV_JWT_SECRET", DEV_SECRET)
        .output()
        .expect("run csphub token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    assert_eq!(token.split('.').count(), 3);
    let verifier = csphub::auth::token::Verifier::new(
        vec![csphub::auth::token::dev_issuer(
            &secrecy::SecretString::from(DEV_SECRET.to_owned()),
        )],
        "csphub",
        0,
    );
    let claims = verifier.verify(&token).expect("verifies");
    assert_eq!(claims.role, "council");
    assert_eq!(claims.caps, ["coordinator"]);
    assert_eq!(claims.partnerships, ["stevenage"]);
    assert!(claims.exp <= now() + 300 && claims.exp >= now() + 290);
}

#[test]
fn serve_refuses_to_start_without_trusted_issuers_outside_demo_mode() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .arg("serve")
        .env_remove("CSPHUB_ISSUERS_FILE")
        .env("CSPHUB_BIND", "127.0.0.1:0")
        .output()
        .expect("run csphub serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no trusted token issuers"), "{stderr}");
}

/// A start on a migrated database logs nothing about the migrations' bookkeeping: PostgreSQL's
/// `relation "seaql_migrations" already exists` notices are not news (issue 28).
#[tokio::test]
async fn a_start_on_a_migrated_database_is_quiet() {
    let app = TestApp::spawn().await;
    let url = format!("{}/{}", server(), app.db_name);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["migrate", "up"])
        .env("DATABASE_URL", &url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run csphub migrate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("already exists"), "{stderr}");
    // Asked for, the notices are still there.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["migrate", "up"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "info")
        .output()
        .expect("run csphub migrate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
}

/// Failures made before any handler (a method a route does not take) are shaped by the same
/// function as every other error: GraphQL's shape on /graphql, REST's elsewhere, with a code.
#[tokio::test]
async fn a_method_a_route_does_not_take_is_answered_in_the_shape_of_its_api() {
    let app = TestApp::spawn().await;
    let gql = into_resp(
        app.client
            .put(app.url("/graphql"))
            .send()
            .await
            .expect("put"),
    )
    .await;
    assert_eq!(gql.status, 405);
    assert_eq!(
        gql.body,
        json!({"errors": [{"message": "PUT is not allowed on /graphql",
                           "extensions": {"code": "BAD_USER_INPUT"}}]})
    );
    let rest = into_resp(
        app.client
            .put(app.url("/api/v1/incidents.csv"))
            .send()
            .await
            .expect("put"),
    )
    .await;
    assert_eq!(rest.status, 405);
    assert_eq!(
        rest.body,
        json!({"error": {"code": "BAD_USER_INPUT",
                         "message": "PUT is not allowed on /api/v1/incidents.csv"}})
    );
}
