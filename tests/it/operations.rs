//! Running csphub as an operations team does (issue 10): the real binary, real signals.

use std::time::Duration;

use crate::common::*;
use serde_json::{Value, json};

/// A free port on 127.0.0.1.
fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// `csphub serve --demo` on the test's database, once it answers /readyz.
async fn serve_binary(app: &TestApp) -> (tokio::process::Child, std::net::SocketAddr) {
    let (child, addr) = start_binary(&app.db_name, std::process::Stdio::null());
    wait_ready(app, addr).await;
    (child, addr)
}

/// `csphub serve --demo` on a database (created if missing), its standard error to `stderr`.
fn start_binary(
    db_name: &str,
    stderr: std::process::Stdio,
) -> (tokio::process::Child, std::net::SocketAddr) {
    let addr = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["serve", "--demo"])
        .env("DATABASE_URL", format!("{}/{db_name}", server()))
        .env("CSPHUB_BIND", addr.to_string())
        .env("CSPHUB_DEV_JWT_SECRET", DEV_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn csphub");
    (child, addr)
}

async fn wait_ready(app: &TestApp, addr: std::net::SocketAddr) {
    for _ in 0..480 {
        if let Ok(r) = app.client.get(format!("http://{addr}/readyz")).send().await
            && r.status().as_u16() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("csphub did not become ready");
}

fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn records(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"externalRef": format!("T-{i:05}"), "category": "burglary",
                   "occurredAt": format!("2015-05-{:02}T10:00:00Z", i % 28 + 1),
                   "area": if i % 2 == 0 { "north" } else { "south" }})
        })
        .collect()
}

#[tokio::test]
async fn sigterm_during_a_large_push_finishes_it_or_applies_nothing_then_exits_0() {
    let app = TestApp::spawn().await;
    app.testshire().await;
    let token = app.token_for("police", "herts-police", &["testshire"], &[]);
    let (mut child, addr) = serve_binary(&app).await;
    let n = 10_000;
    let body = json!({"incidents": records(n)});
    let client = app.client.clone();
    let push = tokio::spawn(async move {
        client
            .post(format!("http://{addr}/api/v1/incidents"))
            .bearer_auth(token)
            .json(&body)
            .timeout(Duration::from_secs(60))
            .send()
            .await
    });
    // The push is under way (its records are being checked or written) when the signal comes.
    tokio::time::sleep(Duration::from_millis(150)).await;
    sigterm(&child);
    let answer = push.await.expect("join");
    let held = app
        .count(
            "SELECT count(*) AS n FROM incidents i JOIN partnerships p ON p.id = i.partnership_id \
             WHERE p.slug = 'testshire'",
        )
        .await;
    match answer {
        Ok(r) => {
            let status = r.status().as_u16();
            let body: Value = r.json().await.expect("json");
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["created"], json!(n), "{body}");
            assert_eq!(
                held,
                i64::try_from(n).expect("n"),
                "acknowledged, so all applied"
            );
            eprintln!("the push in flight at SIGTERM finished: {n} records acknowledged");
        }
        Err(e) => {
            assert_eq!(held, 0, "not acknowledged ({e}), so nothing applied");
            eprintln!("the push was refused by the stopping server ({e}): nothing applied");
        }
    }
    // It stops accepting, and exits 0 once the push is done.
    let status = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("exits within the drain time")
        .expect("status");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        app.client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err(),
        "nothing listens after shutdown"
    );
}

async fn gql_at(app: &TestApp, addr: std::net::SocketAddr, token: &str, query: &str) -> Value {
    app.client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query}))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn two_instances_on_one_new_database_start_together_and_serve_as_one() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let db_name = format!("{}_two", app.db_name);
    // Both start at once on a database that does not exist yet: one creates, migrates and
    // loads the demo while the other waits its turn, and neither fails on the other's work.
    let (mut a, a_addr) = start_binary(&db_name, std::process::Stdio::piped());
    let (mut b, b_addr) = start_binary(&db_name, std::process::Stdio::piped());
    wait_ready(&app, a_addr).await;
    wait_ready(&app, b_addr).await;

    let police = app.token_for("police", "herts-police", &["stevenage"], &[]);
    let coordinator = app.token_for(
        "council",
        "stevenage-council",
        &["stevenage"],
        &["coordinator"],
    );
    // An area made through B is at once an area pushes through A may use.
    let made = gql_at(
        &app,
        b_addr,
        &coordinator,
        "mutation { createArea(input: {code: \"two-instances\", name: \"Two\", kind: WARD}) { code } }",
    )
    .await;
    assert_eq!(
        made["data"]["createArea"]["code"], "two-instances",
        "{made}"
    );
    let pushed: Value = app
        .client
        .post(format!("http://{a_addr}/api/v1/incidents"))
        .bearer_auth(&police)
        .json(&json!({"incidents": (0..3).map(|i| json!({"externalRef": format!("TWO-{i}"), "category": "burglary", "occurredAt": "2019-01-10T10:00:00Z", "area": "two-instances"})).collect::<Vec<_>>()}))
        .send()
        .await
        .expect("push")
        .json()
        .await
        .expect("json");
    assert_eq!(pushed["created"], 3, "{pushed}");
    // Read through B: the records and the statistics.
    let read = gql_at(
        &app,
        b_addr,
        &police,
        "{ incidents(filter: {period: {month: \"2019-01\"}}) { totalCount } incidentStats(filter: {period: {month: \"2019-01\"}}, groupBy: [AREA]) { rows { area count } } }",
    )
    .await;
    assert_eq!(read["data"]["incidents"]["totalCount"], 3, "{read}");
    assert_eq!(
        read["data"]["incidentStats"]["rows"],
        json!([{"area": "two-instances", "count": 3}])
    );

    for child in [&a, &b] {
        sigterm(child);
    }
    let mut logs = Vec::new();
    for child in [&mut a, &mut b] {
        let status = tokio::time::timeout(Duration::from_secs(40), child.wait())
            .await
            .expect("exits")
            .expect("status");
        assert_eq!(status.code(), Some(0));
        let mut text = String::new();
        if let Some(mut err) = child.stderr.take() {
            use tokio::io::AsyncReadExt;
            err.read_to_string(&mut text).await.expect("stderr");
        }
        logs.push(text);
    }
    app.db
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .await
        .expect("drop");
    for log in &logs {
        assert!(
            !log.contains("retrying"),
            "an instance failed to start once:\n{log}"
        );
        assert!(log.contains("csphub is listening"), "{log}");
    }
}

#[tokio::test]
async fn json_logs_give_one_line_per_request_and_never_a_token_or_a_variable() {
    let app = TestApp::spawn().await;
    let addr = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["serve", "--demo"])
        .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
        .env("CSPHUB_BIND", addr.to_string())
        .env("CSPHUB_DEV_JWT_SECRET", DEV_SECRET)
        .env("CSPHUB_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn csphub");
    wait_ready(&app, addr).await;
    let caseworker = app.token_for("police", "herts-police", &["stevenage"], &["caseworker"]);
    let secret_name = "Ottoline Secretperson";
    let r: Value = app
        .client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(&caseworker)
        .json(&json!({
            "query": "query FindPerson($n: String!) { searchPeople(name: $n) { nodes { personId } } }",
            "operationName": "FindPerson",
            "variables": {"n": secret_name},
        }))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json");
    assert!(r["data"]["searchPeople"]["nodes"].is_array(), "{r}");
    // A push, a refused token and an operation name no GraphQL document could have.
    let police = app.token_for("police", "herts-police", &["stevenage"], &[]);
    let pushed = app
        .client
        .post(format!("http://{addr}/api/v1/incidents"))
        .bearer_auth(&police)
        .json(&json!({"incidents": [{"externalRef": "LOG-1", "category": "burglary", "occurredAt": "2015-05-01T10:00:00Z", "area": "old-town"}]}))
        .send()
        .await
        .expect("push");
    assert_eq!(pushed.status().as_u16(), 200);
    let refused = app
        .client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth("not.a.token")
        .json(&json!({"query": "{ plans { nodes { id } } }", "operationName": "Mr Smith's query"}))
        .send()
        .await
        .expect("graphql");
    assert_eq!(refused.status().as_u16(), 401);

    sigterm(&child);
    let status = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert_eq!(status.code(), Some(0));
    let mut text = String::new();
    {
        use tokio::io::AsyncReadExt;
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut text)
            .await
            .expect("read");
    }
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let served: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "served")
        .collect();
    let find = |path: &str, operation: Option<&str>| {
        served
            .iter()
            .find(|l| {
                l["span"]["path"] == path && operation.is_none_or(|o| l["span"]["operation"] == o)
            })
            .copied()
            .unwrap_or_else(|| panic!("no line for {path} {operation:?} in {served:?}"))
    };
    let graphql = find("/graphql", Some("FindPerson"));
    assert_eq!(graphql["span"]["method"], "POST");
    assert_eq!(graphql["span"]["agency"], "herts-police");
    assert!(graphql["span"]["sub"].is_string());
    assert_eq!(graphql["fields"]["status"], 200);
    assert!(
        graphql["fields"]["duration_ms"]
            .as_f64()
            .is_some_and(|d| d > 0.0)
    );
    assert!(graphql["span"]["request_id"].is_string());
    let push = find("/api/v1/incidents", None);
    assert_eq!(push["span"]["agency"], "herts-police");
    assert_eq!(push["fields"]["status"], 200);
    let denied = served
        .iter()
        .find(|l| l["fields"]["status"] == 401)
        .expect("the refused request's line");
    assert!(denied["span"].get("operation").is_none(), "{denied}");
    assert!(denied["span"].get("sub").is_none(), "{denied}");
    for secret in [
        caseworker.as_str(),
        police.as_str(),
        "not.a.token",
        "Bearer",
        secret_name,
        "Secretperson",
        "Mr Smith",
    ] {
        assert!(!text.contains(secret), "the log holds '{secret}':\n{text}");
    }
}

#[tokio::test]
async fn the_health_command_says_whether_the_service_is_ready() {
    let app = TestApp::spawn().await;
    let health = |bind: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
            .arg("health")
            .env("CSPHUB_BIND", bind)
            .output()
            .expect("health")
    };
    // The image binds 0.0.0.0: the check asks 127.0.0.1.
    let ready = tokio::task::spawn_blocking(move || health(format!("0.0.0.0:{}", app.addr.port())))
        .await
        .expect("join");
    assert_eq!(ready.status.code(), Some(0), "{ready:?}");
    let nothing = free_port();
    let down = tokio::task::spawn_blocking(move || health(nothing.to_string()))
        .await
        .expect("join");
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(String::from_utf8_lossy(&down.stderr).contains("not ready"));
}
