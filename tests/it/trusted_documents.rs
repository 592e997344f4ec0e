//! Trusted documents over real HTTP: with the list on, each role runs only the documents listed
//! for it, by id or by text, and anything else is refused before it is parsed.

use crate::common;

use std::sync::Arc;

use crate::common::{Resp, TestApp, into_resp, test_config};
use csphub::graphql::trusted::{TrustedDocuments, hash_of};
use serde_json::{Value, json};

const PLANS: &str =
    "query PlanList { plans(partnership: \"stevenage\") { nodes { id financialYear } } }";
const TYPENAME: &str = "query Ping { __typename }";

async fn spawn() -> TestApp {
    let file = json!({
        "documents": {
            format!("sha256:{}", hash_of(PLANS)): PLANS,
            hash_of(TYPENAME): TYPENAME,
        },
        "roles": {
            "police": [hash_of(PLANS), hash_of(TYPENAME)],
            "council": [hash_of(TYPENAME)],
        },
    });
    let mut config = test_config();
    config.trusted_documents = Some(Arc::new(
        TrustedDocuments::parse(&file.to_string()).expect("trusted documents"),
    ));
    TestApp::spawn_with(config).await
}

async fn post(app: &TestApp, token: &str, body: Value) -> Resp {
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    into_resp(r).await
}

#[tokio::test]
async fn a_role_runs_its_listed_documents_by_id_or_text() {
    let app = spawn().await;
    let police = app.police();
    let by_id = post(
        &app,
        &police,
        json!({"documentId": format!("sha256:{}", hash_of(PLANS))}),
    )
    .await;
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    let plans = by_id.data()["plans"]["nodes"]
        .as_array()
        .expect("plans")
        .len();
    assert!(plans >= 1);
    let by_text = post(&app, &police, json!({"query": PLANS})).await;
    assert_eq!(by_text.data(), by_id.data());
    let apq = post(
        &app,
        &police,
        json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash_of(PLANS)}}}),
    )
    .await;
    assert_eq!(apq.data(), by_id.data());
    let council = post(
        &app,
        &app.council(),
        json!({"documentId": hash_of(TYPENAME)}),
    )
    .await;
    assert_eq!(council.data()["__typename"], "Query");
}

#[tokio::test]
async fn any_other_document_is_refused_before_it_is_parsed() {
    let app = spawn().await;
    let police = app.police();
    app.take_statements();
    // Another text, even a valid one; a text that would not even parse (refused as not
    // trusted, not as a syntax error); an unknown id; a listed document for another role.
    let cases = [
        (
            police.clone(),
            json!({"query": "{ plans(partnership: \"stevenage\") { nodes { id } } }"}),
        ),
        (police.clone(), json!({"query": "{{{{ not graphql"})),
        (
            police.clone(),
            json!({"documentId": format!("sha256:{}", "0".repeat(64))}),
        ),
        (app.council(), json!({"documentId": hash_of(PLANS)})),
        (app.council(), json!({"query": PLANS})),
    ];
    for (token, body) in cases {
        let r = post(&app, &token, body.clone()).await;
        assert_eq!(r.status, 403, "{body}: {}", r.body);
        assert_eq!(r.code(), "FORBIDDEN", "{body}");
        assert!(r.message().contains("trusted documents"), "{}", r.message());
        assert!(r.body.get("data").is_none(), "{}", r.body);
    }
    // Nothing reached the database for any of them.
    assert_eq!(app.take_statements(), Vec::<String>::new());
    // A text that does not match the id it names is a client error.
    let r = post(
        &app,
        &police,
        json!({"documentId": hash_of(PLANS), "query": TYPENAME}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code(), "BAD_USER_INPUT");
    // A bad token is still refused first, whatever the document.
    let r = post(&app, "x", json!({"documentId": hash_of(PLANS)})).await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[tokio::test]
async fn without_the_list_a_document_id_alone_is_a_clear_error() {
    let app = TestApp::spawn().await;
    let r = post(&app, &app.police(), json!({"documentId": hash_of(PLANS)})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert!(r.message().contains("trusted documents"), "{}", r.message());
}

#[tokio::test]
async fn a_bad_list_stops_the_service_from_starting() {
    let dir = std::env::temp_dir().join(format!("csphub-trusted-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("documents.json");
    // Listed under a hash that is not its text's.
    std::fs::write(
        &path,
        json!({"documents": {"0".repeat(64): PLANS}, "roles": {}}).to_string(),
    )
    .expect("write");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["serve", "--demo"])
        .env("CSPHUB_TRUSTED_DOCUMENTS", &path)
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .output()
        .await
        .expect("run csphub");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CSPHUB_TRUSTED_DOCUMENTS") && stderr.contains("not the hash"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_list_is_read_again_on_sighup_and_a_bad_one_changes_nothing() {
    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join(format!("csphub-trusted-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("documents.json");
    let list = |docs: &[&str]| {
        let documents: serde_json::Map<String, Value> =
            docs.iter().map(|d| (hash_of(d), json!(d))).collect();
        let hashes: Vec<String> = docs.iter().map(|d| hash_of(d)).collect();
        json!({"documents": documents, "roles": {"police": hashes}}).to_string()
    };
    std::fs::write(&path, list(&[TYPENAME])).expect("write");
    let log = dir.join("stderr.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["serve", "--demo"])
        .env(
            "DATABASE_URL",
            format!("{}/{}", common::server(), app.db_name),
        )
        .env("CSPHUB_BIND", port.to_string())
        .env("CSPHUB_DEV_JWT_SECRET", common::DEV_SECRET)
        .env("CSPHUB_TRUSTED_DOCUMENTS", &path)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let police = app.police();
    let status = async |query: &str| -> u16 {
        match app
            .client
            .post(format!("http://{port}/graphql"))
            .bearer_auth(&police)
            .json(&json!({"query": query}))
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    };
    let mut ready = false;
    for _ in 0..240 {
        if status(TYPENAME).await == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "csphub did not serve");
    assert_eq!(status(PLANS).await, 403);
    let hup = || {
        let pid = child.id().expect("pid").to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .expect("kill")
                .success()
        );
    };
    // The front-end's new build adds a document: SIGHUP, and it runs.
    std::fs::write(&path, list(&[TYPENAME, PLANS])).expect("write");
    hup();
    let mut allowed = false;
    for _ in 0..100 {
        if status(PLANS).await == 200 {
            allowed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(allowed, "the new document was not allowed after SIGHUP");
    // A list that fails its checks leaves the one in use.
    std::fs::write(
        &path,
        json!({"documents": {"0".repeat(64): PLANS}, "roles": {}}).to_string(),
    )
    .expect("write");
    hup();
    let mut logged = false;
    for _ in 0..100 {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("keeping the list in use")
        {
            logged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(logged, "no refusal in the log");
    assert_eq!(status(PLANS).await, 200);
    assert_eq!(status("{ __typename }").await, 403);
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
