//! Issuer keys from a JWKS URL (served by the test itself) and from files reloaded on SIGHUP:
//! fetched at start, on schedule and once on an unknown `kid` (rate-limited), with failed
//! fetches keeping the keys held.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use csphub::auth::token::TrustedIssuer;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

const JWKS_ISSUER: &str = "https://idp.jwks.test";

/// The public JWK of a test private key, named `kid`.
fn jwk(private_pem: &str, kid: &str) -> Jwk {
    let key = EncodingKey::from_rsa_pem(&key(private_pem)).expect("key");
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

/// What the identity provider serves: a key set, or a failure.
#[derive(Clone)]
struct Idp {
    keys: Arc<Mutex<Option<Vec<Jwk>>>>,
    hits: Arc<AtomicUsize>,
}

impl Idp {
    async fn start(keys: Vec<Jwk>) -> (Idp, String) {
        let idp = Idp {
            keys: Arc::new(Mutex::new(Some(keys))),
            hits: Arc::default(),
        };
        async fn serve(State(idp): State<Idp>) -> Response {
            idp.hits.fetch_add(1, Ordering::SeqCst);
            match idp.keys.lock().expect("keys").clone() {
                Some(keys) => axum::Json(JwkSet { keys }).into_response(),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        let app = axum::Router::new()
            .route("/jwks", axum::routing::get(serve))
            .with_state(idp.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (idp, url)
    }

    fn set(&self, keys: Option<Vec<Jwk>>) {
        *self.keys.lock().expect("keys") = keys;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn spawn(url: &str, refresh: Duration) -> TestApp {
    let mut config = test_config();
    config.issuers.push(
        TrustedIssuer::from_jwks_url(JWKS_ISSUER, Algorithm::RS256, url, refresh).expect("issuer"),
    );
    TestApp::spawn_with(config).await
}

fn token(kid: &str, private_pem: &str) -> String {
    let mut claims = police_claims();
    claims["iss"] = json!(JWKS_ISSUER);
    sign(Algorithm::RS256, Some(kid), &claims, private_pem)
}

async fn ask(app: &TestApp, token: &str) -> Resp {
    app.gql("{ __typename }", json!({}), Some(token)).await
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn keys_come_from_the_jwks_url_and_an_unknown_kid_fetches_once_however_many_ask() {
    let (idp, url) = Idp::start(vec![jwk("rsa_private.pem", "k1")]).await;
    let app = spawn(&url, Duration::from_secs(3600)).await;
    wait_for("the fetch at start", async || idp.hits() >= 1).await;
    let r = ask(&app, &token("k1", "rsa_private.pem")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(idp.hits(), 1);

    // The provider rotates: a token signed with the new key makes csphub fetch at once.
    idp.set(Some(vec![
        jwk("rsa_private.pem", "k1"),
        jwk("rsa_other_private.pem", "k2"),
    ]));
    let r = ask(&app, &token("k2", "rsa_other_private.pem")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(idp.hits(), 2);

    // A flood of tokens naming keys nobody published: refused, and the provider is not asked
    // again within the gap, concurrent or not.
    let mut asks = Vec::new();
    for i in 0..40 {
        let t = token(&format!("made-up-{i}"), "rsa_other_private.pem");
        let client = app.client.clone();
        let url = app.url("/graphql");
        asks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(t)
                .json(&json!({"query": "{ __typename }"}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }));
    }
    for a in asks {
        assert_eq!(a.await.expect("task"), 401);
    }
    let r = ask(&app, &token("made-up", "rsa_private.pem")).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
    assert!(r.message().contains("kid"), "{}", r.message());
    assert_eq!(
        idp.hits(),
        2,
        "an unknown kid fetched more than once per gap"
    );
    // The keys held still work.
    assert_eq!(ask(&app, &token("k1", "rsa_private.pem")).await.status, 200);
    // A key of the right id but signed by another key is still a bad signature.
    let r = ask(&app, &token("k1", "rsa_other_private.pem")).await;
    assert_eq!(r.status, 401);
    assert!(r.message().contains("signature"), "{}", r.message());
}

#[tokio::test]
async fn keys_are_fetched_again_on_schedule_and_a_failed_fetch_keeps_them() {
    let (idp, url) = Idp::start(vec![jwk("rsa_private.pem", "k1")]).await;
    let app = spawn(&url, Duration::from_secs(1)).await;
    wait_for("the fetch at start", async || idp.hits() >= 1).await;
    let k1 = token("k1", "rsa_private.pem");
    assert_eq!(ask(&app, &k1).await.status, 200);
    // Verified once, the token is remembered: its next request is not checked again.
    assert_eq!(ask(&app, &k1).await.status, 200);

    // The provider retires k1 for k2: the scheduled fetch takes k1 away without any token
    // asking, and with it every token remembered as verified by it.
    idp.set(Some(vec![jwk("rsa_other_private.pem", "k2")]));
    let before = idp.hits();
    wait_for("a scheduled fetch", async || idp.hits() >= before + 2).await;
    let r = ask(&app, &k1).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = ask(&app, &token("k1", "rsa_private.pem")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        ask(&app, &token("k2", "rsa_other_private.pem"))
            .await
            .status,
        200
    );

    // The provider fails: csphub keeps the keys it has.
    idp.set(None);
    let before = idp.hits();
    wait_for("failed fetches", async || idp.hits() >= before + 2).await;
    assert_eq!(
        ask(&app, &token("k2", "rsa_other_private.pem"))
            .await
            .status,
        200
    );
}

/// `csphub serve --demo` with an issuers file, its standard error kept.
fn start(
    db: &str,
    issuers: &std::path::Path,
    stderr: std::fs::File,
) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["serve", "--demo"])
        .env("DATABASE_URL", format!("{}/{db}", server()))
        .env("CSPHUB_BIND", port.to_string())
        .env("CSPHUB_ISSUERS_FILE", issuers)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    (child, format!("http://{port}"))
}

#[tokio::test]
async fn key_files_are_read_again_on_sighup_and_a_bad_file_changes_nothing() {
    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join(format!("csphub-sighup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/rsa_public.pem"),
        dir.join("a.pem"),
    )
    .expect("copy");
    let set = JwkSet {
        keys: vec![jwk("rsa_other_private.pem", "b")],
    };
    std::fs::write(
        dir.join("b.jwks.json"),
        serde_json::to_string(&set).expect("json"),
    )
    .expect("write");
    let file = dir.join("issuers.json");
    let issuers = |with_b: bool| -> Value {
        let mut entry = json!({"issuer": JWKS_ISSUER, "algorithm": "RS256",
                               "keys": [{"kid": "a", "pem_file": "a.pem"}]});
        if with_b {
            entry["jwks_file"] = json!("b.jwks.json");
        }
        json!([entry])
    };
    std::fs::write(&file, issuers(false).to_string()).expect("write");
    let log = dir.join("stderr.log");
    let (child, base) = start(
        &app.db_name,
        &file,
        std::fs::File::create(&log).expect("log"),
    );
    let client = app.client.clone();
    let status = async |t: &str| -> u16 {
        match client
            .post(format!("{base}/graphql"))
            .bearer_auth(t)
            .json(&json!({"query": "{ __typename }"}))
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    };
    let a = token("a", "rsa_private.pem");
    let b = token("b", "rsa_other_private.pem");
    wait_for("csphub to serve", async || status(&a).await == 200).await;
    assert_eq!(status(&b).await, 401);

    // The file gains key b; SIGHUP reads it.
    std::fs::write(&file, issuers(true).to_string()).expect("write");
    let hup = |child: &tokio::process::Child| {
        let pid = child.id().expect("pid").to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .expect("kill")
                .success()
        );
    };
    hup(&child);
    wait_for("key b after SIGHUP", async || status(&b).await == 200).await;
    assert_eq!(status(&a).await, 200);

    // A broken file: the keys in use stay, and the service keeps running.
    std::fs::write(&file, "[{not json").expect("write");
    hup(&child);
    wait_for("the refusal in the log", async || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("keeping the keys in use")
    })
    .await;
    assert_eq!(status(&a).await, 200);
    assert_eq!(status(&b).await, 200);

    // The file now names a JWKS URL instead: after SIGHUP the keys come from there, and the
    // file keys it no longer lists stop working.
    let (idp, url) = Idp::start(vec![jwk("rsa_other_private.pem", "c")]).await;
    std::fs::write(
        &file,
        json!([{"issuer": JWKS_ISSUER, "algorithm": "RS256", "jwks_url": url}]).to_string(),
    )
    .expect("write");
    hup(&child);
    let c = token("c", "rsa_other_private.pem");
    wait_for("key c from the JWKS URL after SIGHUP", async || {
        status(&c).await == 200
    })
    .await;
    assert!(idp.hits() >= 1);
    assert_eq!(status(&a).await, 401);
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
