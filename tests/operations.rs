//! Running csphub as an operations team does (issue 10): the real binary, real signals.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// A free port on 127.0.0.1.
fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// `csphub serve --demo` on the test's database, once it answers /readyz.
async fn serve_binary(app: &TestApp) -> (tokio::process::Child, std::net::SocketAddr) {
    let addr = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["serve", "--demo"])
        .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
        .env("CSPHUB_BIND", addr.to_string())
        .env("CSPHUB_DEV_JWT_SECRET", DEV_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn csphub");
    for _ in 0..240 {
        if let Ok(r) = app.client.get(format!("http://{addr}/readyz")).send().await
            && r.status().as_u16() == 200
        {
            return (child, addr);
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
