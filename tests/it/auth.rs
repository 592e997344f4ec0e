//! Every token failure in ACCESS.md is a 401 UNAUTHENTICATED, tested with real signed (or
//! forged) tokens over real HTTP; valid tokens of each pinned algorithm are accepted.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

const ME: &str = "{ me { sub role agency partnerships capabilities } }";

async fn expect_unauthenticated(app: &TestApp, token: Option<&str>, says: &str) {
    let r = app.gql(ME, json!({}), token).await;
    assert_eq!(r.status, 401, "body: {}", r.body);
    assert_eq!(r.code(), "UNAUTHENTICATED");
    let message = r.message();
    assert!(
        message.contains(says),
        "message {message:?} should say {says:?}"
    );
    if let Some(t) = token {
        assert!(
            !r.body.to_string().contains(t),
            "the token must not be echoed"
        );
    }
    assert!(r.body.get("data").is_none() || r.body["data"].is_null());
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().expect("object").remove(key);
    claims
}

#[tokio::test]
async fn a_valid_rs256_token_identifies_the_caller() {
    let app = TestApp::spawn().await;
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &police_claims(),
        "rsa_private.pem",
    );
    let r = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.data()["me"],
        json!({"sub": "pc-1234", "role": "police", "agency": "herts-police",
               "partnerships": ["stevenage"], "capabilities": []})
    );
}

#[tokio::test]
async fn eddsa_and_es256_issuers_are_accepted_with_their_own_keys() {
    let app = TestApp::spawn().await;
    let council = json!({"iss": ED_ISSUER, "aud": "csphub", "sub": "officer-7", "exp": now() + 600,
        "role": "council", "agency": "stevenage-council", "partnerships": ["stevenage"], "caps": ["coordinator"]});
    let token = sign(Algorithm::EdDSA, None, &council, "ed25519_private.pem");
    let r = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(r.data()["me"]["capabilities"], json!(["coordinator"]));

    let fire = json!({"iss": ES_ISSUER, "aud": ["csphub", "other"], "sub": "crew-3", "exp": now() + 600,
        "role": "fire", "agency": "herts-fire", "partnerships": ["stevenage"]});
    let token = sign(Algorithm::ES256, Some("fire-1"), &fire, "ec_private.pem");
    let r = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(r.data()["me"]["agency"], "herts-fire");
}

#[tokio::test]
async fn no_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    expect_unauthenticated(&app, None, "bearer token is required").await;
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({"query": ME}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn a_malformed_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    expect_unauthenticated(&app, Some("not-a-jwt"), "malformed token").await;
}

#[tokio::test]
async fn a_bad_signature_is_unauthenticated() {
    let app = TestApp::spawn().await;
    // Signed by a key the issuer does not hold.
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &police_claims(),
        "rsa_other_private.pem",
    );
    expect_unauthenticated(&app, Some(&token), "bad signature").await;
    // A genuine token whose claims were edited afterwards.
    let genuine = sign(
        Algorithm::RS256,
        Some("k1"),
        &police_claims(),
        "rsa_private.pem",
    );
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged_claims = with(
        police_claims(),
        "partnerships",
        json!(["stevenage", "north-herts"]),
    );
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
        parts[2]
    );
    expect_unauthenticated(&app, Some(&forged), "bad signature").await;
}

#[tokio::test]
async fn alg_none_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(police_claims().to_string());
    expect_unauthenticated(&app, Some(&format!("{header}.{payload}.")), "alg: none").await;
}

#[tokio::test]
async fn an_hs256_token_for_an_rs256_issuer_is_refused() {
    // The classic confusion attack: HMAC-sign with the issuer's public key as the secret.
    let app = TestApp::spawn().await;
    let key = jsonwebtoken::EncodingKey::from_secret(&key("rsa_public.pem"));
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some("k1".to_owned());
    let token = jsonwebtoken::encode(&header, &police_claims(), &key).expect("sign");
    expect_unauthenticated(&app, Some(&token), "not accepted for this issuer").await;
}

#[tokio::test]
async fn an_expired_token_is_unauthenticated_beyond_the_leeway() {
    let app = TestApp::spawn().await;
    let expired = with(police_claims(), "exp", json!(now() - 120));
    let token = sign(Algorithm::RS256, Some("k1"), &expired, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "expired").await;
    // Within the 30 s leeway it is still accepted.
    let just = with(police_claims(), "exp", json!(now() - 5));
    let token = sign(Algorithm::RS256, Some("k1"), &just, "rsa_private.pem");
    assert_eq!(app.gql(ME, json!({}), Some(&token)).await.status, 200);
}

#[tokio::test]
async fn a_token_not_yet_valid_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let early = with(police_claims(), "nbf", json!(now() + 600));
    let token = sign(Algorithm::RS256, Some("k1"), &early, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "not valid yet").await;
}

#[tokio::test]
async fn an_unknown_issuer_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let claims = with(police_claims(), "iss", json!("https://evil.example"));
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "issuer is not trusted").await;
}

#[tokio::test]
async fn a_wrong_audience_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let claims = with(police_claims(), "aud", json!("another-service"));
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "another audience").await;
    let claims = without(police_claims(), "aud");
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "aud").await;
}

#[tokio::test]
async fn an_unknown_kid_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let token = sign(
        Algorithm::RS256,
        Some("k9"),
        &police_claims(),
        "rsa_private.pem",
    );
    expect_unauthenticated(&app, Some(&token), "key id (kid) is not known").await;
}

#[tokio::test]
async fn an_unknown_role_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let claims = with(police_claims(), "role", json!("admin"));
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "role is not one of").await;
}

#[tokio::test]
async fn an_unregistered_agency_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let claims = with(police_claims(), "agency", json!("met-police"));
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "agency is not registered").await;
}

#[tokio::test]
async fn an_agency_of_another_kind_than_the_role_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let claims = with(police_claims(), "agency", json!("stevenage-council"));
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "does not match the role police").await;
}

#[tokio::test]
async fn missing_required_claims_are_unauthenticated() {
    let app = TestApp::spawn().await;
    for (claim, says) in [
        ("sub", "required claim sub"),
        ("exp", "required claim exp"),
        ("role", "required claim role"),
        ("agency", "required claim agency"),
        ("partnerships", "required claim partnerships"),
    ] {
        let token = sign(
            Algorithm::RS256,
            Some("k1"),
            &without(police_claims(), claim),
            "rsa_private.pem",
        );
        expect_unauthenticated(&app, Some(&token), says).await;
    }
}

#[tokio::test]
async fn development_tokens_are_refused_outside_demo_mode() {
    let mut config = test_config();
    config.demo = false;
    let app = TestApp::spawn_with(config).await;
    let dev = app.police();
    expect_unauthenticated(&app, Some(&dev), "issuer is not trusted").await;
    // The configured issuers still work.
    let token = sign(
        Algorithm::RS256,
        Some("k1"),
        &police_claims(),
        "rsa_private.pem",
    );
    assert_eq!(app.gql(ME, json!({}), Some(&token)).await.status, 200);
}

#[tokio::test]
async fn a_token_signed_with_another_development_secret_is_refused() {
    let app = TestApp::spawn().await;
    let token = csphub::auth::token::issue_dev_token(
        &secrecy::SecretString::from("some-other-secret-of-enough-length".to_owned()),
        "csphub",
        &csphub::auth::token::DevTokenRequest {
            role: "police".into(),
            agency: "herts-police".into(),
            partnerships: vec!["stevenage".into()],
            caps: vec![],
            ttl: std::time::Duration::from_secs(60),
            sub: None,
        },
    )
    .expect("token");
    expect_unauthenticated(&app, Some(&token), "bad signature").await;
}

#[tokio::test]
async fn the_issuers_file_loads_pem_keys_and_jwks() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let file = std::env::temp_dir().join(format!("csphub-issuers-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        json!([
            {"issuer": "https://a.test", "algorithm": "RS256",
             "keys": [{"kid": "k1", "pem_file": dir.join("rsa_public.pem")}]},
            {"issuer": "https://b.test", "algorithm": "RS256",
             "jwks_file": dir.join("rsa_public.jwks.json")}
        ])
        .to_string(),
    )
    .expect("write");
    let issuers = csphub::auth::token::TrustedIssuer::load_file(&file).expect("loads");
    assert_eq!(issuers.len(), 2);
    assert_eq!(issuers[1].keys[0].kid.as_deref(), Some("jwks-1"));
    // A token verified through the JWKS key.
    let verifier = csphub::auth::token::Verifier::new(issuers, "csphub", 30);
    let claims = with(police_claims(), "iss", json!("https://b.test"));
    let token = sign(Algorithm::RS256, Some("jwks-1"), &claims, "rsa_private.pem");
    assert_eq!(verifier.verify(&token).expect("verifies").sub, "pc-1234");

    // Shared-secret algorithms are refused for trusted issuers.
    std::fs::write(
        &file,
        json!([{"issuer": "https://c.test", "algorithm": "HS256", "keys": []}]).to_string(),
    )
    .expect("write");
    let err = csphub::auth::token::TrustedIssuer::load_file(&file).expect_err("HS256 refused");
    assert!(format!("{err:#}").contains("not accepted for a trusted issuer"));
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn a_token_remembered_as_verified_still_expires_on_time() {
    let app = TestApp::spawn().await;
    // Expired 28 s ago: still accepted for 2 s within the 30 s leeway.
    let claims = with(police_claims(), "exp", json!(now() - 28));
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    let r = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(r.data()["me"]["sub"], "pc-1234", "{}", r.body);
    let r = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(r.data()["me"]["sub"], "pc-1234", "{}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(3_500)).await;
    // The same text, verified and remembered a moment ago, is refused once it expires.
    expect_unauthenticated(&app, Some(&token), "expired").await;
}

/// Every HTTP entry takes its token through one extractor, and every 401 says how to
/// authenticate: REST's answers carry `WWW-Authenticate: Bearer` as GraphQL's do (issue 28).
#[tokio::test]
async fn every_401_names_the_bearer_scheme() {
    let app = TestApp::spawn().await;
    let expired = sign(
        Algorithm::RS256,
        Some("k1"),
        &with(police_claims(), "exp", json!(now() - 3600)),
        "rsa_private.pem",
    );
    let plan = app.plan_id("2014/15").await;
    let gets = [
        "/api/v1/incidents.csv".to_owned(),
        format!("/api/v1/reports/rag-update.csv?planId={plan}&quarter=2014/15%20Q3"),
        "/api/v1/reports/pcc-report.csv?financialYear=2014/15&half=SECOND".to_owned(),
        "/api/v1/reports/strategic-assessment.csv?from=2013-08-01&to=2014-07-31".to_owned(),
        format!("/api/v1/reports/submissions/{}.csv", uuid::Uuid::nil()),
        format!("/reports/rag-update?planId={plan}&quarter=2014/15%20Q3"),
        "/reports/pcc-report?financialYear=2014/15&half=SECOND".to_owned(),
        "/reports/strategic-assessment?from=2013-08-01&to=2014-07-31".to_owned(),
        format!("/reports/submissions/{}", uuid::Uuid::nil()),
    ];
    for token in [None, Some(expired.as_str())] {
        let mut answers = Vec::new();
        for path in &gets {
            let mut req = app.client.get(app.url(path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            answers.push((
                path.clone(),
                into_resp(req.send().await.expect("get")).await,
            ));
        }
        let mut push = app
            .client
            .post(app.url("/api/v1/incidents"))
            .json(&json!({"incidents": []}));
        if let Some(t) = token {
            push = push.bearer_auth(t);
        }
        answers.push((
            "POST /api/v1/incidents".to_owned(),
            into_resp(push.send().await.expect("push")).await,
        ));
        let gql = app.gql(ME, json!({}), token).await;
        answers.push(("POST /graphql".to_owned(), gql));
        for (what, r) in answers {
            assert_eq!(r.status, 401, "{what}: {}", r.body);
            let code = r.body["error"]["code"]
                .as_str()
                .or(r.body["errors"][0]["extensions"]["code"].as_str());
            assert_eq!(code, Some("UNAUTHENTICATED"), "{what}: {}", r.body);
            assert_eq!(
                r.headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "{what} must name the scheme"
            );
        }
    }
}

/// An unknown capability is refused, and the message names every capability there is.
#[tokio::test]
async fn an_unknown_capability_is_unauthenticated_and_the_message_names_the_real_ones() {
    let app = TestApp::spawn().await;
    let claims = with(police_claims(), "caps", json!(["superuser"]));
    let token = sign(Algorithm::RS256, Some("k1"), &claims, "rsa_private.pem");
    expect_unauthenticated(&app, Some(&token), "caps: coordinator, caseworker, auditor").await;
}
