//! The test harness: a real PostgreSQL database per test (cloned from a template migrated once
//! and loaded with the demo data), the production router on a real port, and real signed JWTs.
#![allow(dead_code)]

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use csphub::app::{AppState, router};
use csphub::auth::token::{DevTokenRequest, TrustedIssuer, issue_dev_token};
use csphub::config::Config;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

/// The PostgreSQL server the tests use: `CSPHUB_TEST_PG`, default the local one with trust auth.
pub fn server() -> String {
    std::env::var("CSPHUB_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}
pub const RS_ISSUER: &str = "https://idp.police.test";
pub const ED_ISSUER: &str = "https://login.council.test";
pub const ES_ISSUER: &str = "https://sts.fire.test";
pub const DEV_SECRET: &str = "test-development-secret-0123456789abcdef";

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

pub fn key(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub async fn admin() -> DatabaseConnection {
    let mut opts = ConnectOptions::new(format!("{}/postgres", server()));
    opts.max_connections(1).sqlx_logging(false);
    Database::connect(opts)
        .await
        .expect("PostgreSQL must run on 127.0.0.1:5432 (see README)")
}

/// Names the template after the migrations' text, so a changed migration gets a new template.
fn template_name() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migration/src");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migration folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        std::fs::read(&f).expect("migration file").hash(&mut hasher);
    }
    // The demo data, the built-in vocabularies and indicators are part of the template too.
    let mut demo: Vec<_> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/demo"))
            .expect("demo folder")
            .map(|e| e.expect("entry").path())
            .collect();
    demo.sort();
    for f in demo {
        std::fs::read(&f).expect("demo file").hash(&mut hasher);
    }
    for f in ["src/domain/vocabulary.rs", "src/domain/indicator.rs"] {
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(f))
            .expect(f)
            .hash(&mut hasher);
    }
    include_str!("mod.rs").hash(&mut hasher);
    format!("csphub_tmpl_{:016x}", hasher.finish())
}

/// A new database made from the template (the demo data, migrated): a stand-in for a read
/// replica, say. Returns its name.
pub async fn database_from_template() -> String {
    let template = template().await;
    let name = format!("csphub_test_{}", uuid::Uuid::new_v4().simple());
    let admin = admin().await;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .await
        .expect("create database");
    admin.close().await.expect("close");
    name
}

async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let admin = admin().await;
            // One builder at a time across test processes.
            admin
                .execute_unprepared("SELECT pg_advisory_lock(7461002)")
                .await
                .expect("lock");
            let exists = admin
                .query_one_raw(csphub::db::stmt(
                    "SELECT 1 AS one FROM pg_database WHERE datname = $1",
                    [name.clone().into()],
                ))
                .await
                .expect("query")
                .is_some();
            if !exists {
                let building = format!("{name}_building");
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .await
                    .expect("drop");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {building}"))
                    .await
                    .expect("create template");
                let db = connect(&building).await;
                csphub::db::prepare(&db).await.expect("migrate");
                csphub::demo::load(&db).await.expect("demo data");
                seed_other_partnership(&db).await;
                db.close().await.expect("close");
                admin
                    .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .await
                    .expect("rename template");
            }
            admin
                .execute_unprepared("SELECT pg_advisory_unlock(7461002)")
                .await
                .expect("unlock");
            admin.close().await.expect("close");
            name
        })
        .await
}

/// A connection to one of the test databases.
pub async fn connect(name: &str) -> DatabaseConnection {
    let mut opts = ConnectOptions::new(format!("{}/{name}", server()));
    opts.max_connections(5).sqlx_logging(false);
    Database::connect(opts)
        .await
        .expect("connect test database")
}

/// A second partnership, North Herts, with its own council and a plan: data that Stevenage
/// tokens must never see.
async fn seed_other_partnership(db: &DatabaseConnection) {
    db.execute_unprepared(
        "INSERT INTO partnerships (slug, name, county) VALUES ('north-herts', 'North Herts', 'Hertfordshire')
           ON CONFLICT (slug) DO NOTHING;
         INSERT INTO agencies (slug, name, kind) VALUES ('north-herts-council', 'North Herts Council', 'council');
         INSERT INTO agency_partnerships SELECT a.id, p.id FROM agencies a, partnerships p
           WHERE a.slug IN ('north-herts-council', 'herts-police', 'herts-pcc') AND p.slug = 'north-herts'
           ON CONFLICT DO NOTHING;
         INSERT INTO plans (partnership_id, financial_year, title, status, signed_off_by, signed_off_on, ratified_meeting, ratified_on)
           SELECT id, '2014/15', 'North Herts plan', 'RATIFIED', 'chair', '2014-03-01', 'RAG', '2014-04-01'
           FROM partnerships WHERE slug = 'north-herts';
         INSERT INTO priorities (plan_id, position, title) SELECT id, 1, 'ASB' FROM plans WHERE title = 'North Herts plan';
         INSERT INTO actions (plan_id, priority_id, ref, title, lead_agency_id)
           SELECT pr.plan_id, pr.id, '1.1', 'North Herts action', (SELECT id FROM agencies WHERE slug = 'north-herts-council')
           FROM priorities pr JOIN plans p ON p.id = pr.plan_id WHERE p.title = 'North Herts plan';",
    )
    .await
    .expect("seed north herts");
}

pub fn test_config() -> Config {
    let rs = TrustedIssuer::from_pem(
        RS_ISSUER,
        Algorithm::RS256,
        &[(Some("k1"), &key("rsa_public.pem"))],
    )
    .expect("rsa issuer");
    let ed = TrustedIssuer::from_pem(
        ED_ISSUER,
        Algorithm::EdDSA,
        &[(None, &key("ed25519_public.pem"))],
    )
    .expect("ed issuer");
    let es = TrustedIssuer::from_pem(
        ES_ISSUER,
        Algorithm::ES256,
        &[(Some("fire-1"), &key("ec_public.pem"))],
    )
    .expect("es issuer");
    Config {
        database_url: SecretString::from(format!("{}/unused", server())),
        database_read_url: None,
        bind: "127.0.0.1:0".parse().expect("addr"),
        audience: "csphub".to_owned(),
        issuers: vec![rs, ed, es],
        issuers_file: None,
        dev_jwt_secret: SecretString::from(DEV_SECRET.to_owned()),
        jwt_leeway_secs: 30,
        graphiql: None,
        introspection: None,
        push_max_records: 10_000,
        push_max_bytes: 32 * 1024 * 1024,
        db: csphub::db::DbSettings {
            pool_size: 5,
            heavy_concurrency: 2,
            ..Default::default()
        },
        header_timeout: csphub::config::DEFAULT_HEADER_TIMEOUT,
        body_timeout: csphub::config::DEFAULT_BODY_TIMEOUT,
        audit_seal_every: Duration::ZERO,
        caller_cache: csphub::config::DEFAULT_CALLER_CACHE,
        retention_years: Vec::new(),
        cors_origins: Vec::new(),
        rate_limits: Default::default(),
        metrics_bind: None,
        trusted_documents: None,
        trusted_documents_file: None,
        demo: true,
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: DatabaseConnection,
    pub db_name: String,
    pub config: Config,
    pub client: reqwest::Client,
    /// Every statement the server ran (`take_statements`).
    pub statements: Statements,
    /// The admin address serving `/metrics`, when the configuration asked for one.
    pub metrics_addr: Option<SocketAddr>,
}

/// A response: HTTP status, headers and JSON body.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// The `data` of a GraphQL response that must have no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// The code of the first GraphQL error.
    pub fn code(&self) -> String {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
            .to_owned()
    }

    /// The code of the first GraphQL error, if there is one.
    pub fn code_opt(&self) -> Option<String> {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned)
    }

    pub fn message(&self) -> String {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// The production router on a real port, its pool connected exactly as `serve` connects it.
/// The statements a test server ran, in order (what sea-orm executes: BEGIN, COMMIT and
/// savepoints are not in it).
pub type Statements = Arc<Mutex<Vec<String>>>;

async fn serve(config: &Config, url: &SecretString) -> SocketAddr {
    serve_recording(config, url, Statements::default()).await.0
}

/// The API's address, and the admin address (metrics) when `config.metrics_bind` asks for one
/// (any free port: the configured address is not used).
async fn serve_recording(
    config: &Config,
    url: &SecretString,
    log: Statements,
) -> (SocketAddr, Option<SocketAddr>) {
    let pool = csphub::db::connect(url, &config.db)
        .await
        .expect("connect the request pool");
    let mut state = AppState::new(config, pool).expect("application state");
    if let Some(read_url) = &config.database_read_url {
        state.read_db = Some(
            csphub::db::connect_replica(read_url, &config.db)
                .await
                .expect("connect the read pool"),
        );
    }
    state.observe_statements(Arc::new(move |info| {
        if let Ok(mut log) = log.lock() {
            log.push(info.statement.sql.clone());
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let header_timeout = config.header_timeout;
    let mut metrics_addr = None;
    if config.metrics_bind.is_some() {
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind admin");
        metrics_addr = Some(admin.local_addr().expect("admin addr"));
        tokio::spawn(csphub::http::layers::serve_on(
            admin,
            csphub::http::admin::admin_router(
                state.metrics.clone(),
                state.db.clone(),
                state.parked.clone(),
            ),
            header_timeout,
            std::future::pending(),
        ));
    }
    tokio::spawn(csphub::http::layers::serve_on(
        listener,
        router(state),
        header_timeout,
        std::future::pending(),
    ));
    (addr, metrics_addr)
}

impl TestApp {
    /// A pool connected to the test's database exactly as the server's request pool is.
    pub async fn server_db(&self) -> DatabaseConnection {
        csphub::db::connect(&self.config.database_url, &self.config.db)
            .await
            .expect("connect as the server does")
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_config()).await
    }

    pub async fn spawn_with(mut config: Config) -> TestApp {
        // The service's log lines, when RUST_LOG asks for them.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let template = template().await;
        let db_name = format!("csphub_test_{}", uuid::Uuid::new_v4().simple());
        let admin = admin().await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db_name} TEMPLATE {template}"))
            .await
            .expect("create test database");
        admin.close().await.expect("close");
        config.database_url = SecretString::from(format!("{}/{db_name}", server()));
        let db = connect(&db_name).await;
        let statements = Statements::default();
        let (addr, metrics_addr) =
            serve_recording(&config, &config.database_url, statements.clone()).await;
        TestApp {
            metrics_addr,
            addr,
            db,
            db_name,
            config,
            client: reqwest::Client::new(),
            statements,
        }
    }

    /// The statements the server ran since the last call (and forgets them).
    pub fn take_statements(&self) -> Vec<String> {
        std::mem::take(&mut *self.statements.lock().expect("statement log"))
    }

    /// Serves the production router for this test's database through another URL (a proxy,
    /// say), with the given configuration; returns its address.
    pub async fn serve_via(&self, config: &Config, url: &str) -> SocketAddr {
        serve(config, &SecretString::from(url.to_owned())).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A development token (HS256, signed with the test's development secret).
    pub fn token(&self, role: &str, agency: &str, caps: &[&str]) -> String {
        self.token_for(role, agency, &["stevenage"], caps)
    }

    pub fn token_for(
        &self,
        role: &str,
        agency: &str,
        partnerships: &[&str],
        caps: &[&str],
    ) -> String {
        issue_dev_token(
            &self.config.dev_jwt_secret,
            &self.config.audience,
            &DevTokenRequest {
                role: role.to_owned(),
                agency: agency.to_owned(),
                partnerships: partnerships.iter().map(|p| (*p).to_owned()).collect(),
                caps: caps.iter().map(|c| (*c).to_owned()).collect(),
                ttl: Duration::from_secs(600),
                sub: Some(format!("{role}-officer@{agency}")),
            },
        )
        .expect("dev token")
    }

    pub fn police(&self) -> String {
        self.token("police", "herts-police", &[])
    }
    pub fn fire(&self) -> String {
        self.token("fire", "herts-fire", &[])
    }
    pub fn council(&self) -> String {
        self.token("council", "stevenage-council", &[])
    }
    pub fn coordinator(&self) -> String {
        self.token("council", "stevenage-council", &["coordinator"])
    }
    pub fn pcc(&self) -> String {
        self.token("pcc", "herts-pcc", &[])
    }

    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Resp {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        into_resp(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        into_resp(
            self.client
                .get(self.url(path))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// The single `n` a counting query returns.
    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(csphub::db::stmt(sql, []))
            .await
            .expect("query")
            .expect("row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// The id of the demo plan for a financial year.
    pub async fn plan_id(&self, year: &str) -> String {
        let r = self
            .gql(
                "{ plans(partnership: \"stevenage\") { nodes { id financialYear } } }",
                json!({}),
                Some(&self.police()),
            )
            .await;
        r.data()["plans"]["nodes"]
            .as_array()
            .expect("plans")
            .iter()
            .find(|p| p["financialYear"] == year)
            .map(|p| p["id"].as_str().expect("id").to_owned())
            .unwrap_or_else(|| panic!("no plan for {year}"))
    }

    /// The id and version of a demo action by plan year and ref.
    pub async fn action(&self, year: &str, action_ref: &str) -> (String, i64) {
        let plan = self.plan_id(year).await;
        let r = self
            .gql(
                "query($id: ID!) { plan(id: $id) { actions { id ref version } } }",
                json!({"id": plan}),
                Some(&self.police()),
            )
            .await;
        let a = r.data()["plan"]["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .find(|a| a["ref"] == action_ref)
            .unwrap_or_else(|| panic!("no action {action_ref}"))
            .clone();
        (
            a["id"].as_str().expect("id").to_owned(),
            a["version"].as_i64().expect("version"),
        )
    }

    /// A partnership of its own (`testshire`) with two areas, `north` (SG1) and `south` (SG2),
    /// that the police, fire, council and PCC agencies belong to, so that counts are exact.
    pub async fn testshire(&self) {
        self.db
            .execute_unprepared(
                "INSERT INTO partnerships (slug, name, county) VALUES ('testshire', 'Testshire', 'Hertfordshire');
                 INSERT INTO agency_partnerships SELECT a.id, p.id FROM agencies a, partnerships p
                   WHERE a.slug IN ('herts-police', 'herts-fire', 'stevenage-council', 'herts-pcc') AND p.slug = 'testshire';
                 INSERT INTO areas (partnership_id, code, name, kind, postcode_districts)
                   SELECT id, 'north', 'North', 'ward', '{SG1}' FROM partnerships WHERE slug = 'testshire';
                 INSERT INTO areas (partnership_id, code, name, kind, postcode_districts)
                   SELECT id, 'south', 'South', 'neighbourhood', '{SG2}' FROM partnerships WHERE slug = 'testshire';",
            )
            .await
            .expect("testshire");
    }

    /// A partner push of `records` to `POST /api/v1/incidents`.
    pub async fn push_incidents(&self, token: &str, records: &[Value]) -> Resp {
        let r = self
            .client
            .post(self.url("/api/v1/incidents"))
            .bearer_auth(token)
            .json(&json!({"incidents": records}))
            .send()
            .await
            .expect("push");
        into_resp(r).await
    }

    /// The id of a row in the North Herts partnership (out of Stevenage's scope).
    pub async fn north_herts(&self, table: &str) -> String {
        let row = self
            .db
            .query_one_raw(csphub::db::stmt(
                &format!(
                    "SELECT t.id::text AS id FROM {table} t WHERE {} LIMIT 1",
                    match table {
                        "plans" => "t.title = 'North Herts plan'",
                        _ => "t.plan_id = (SELECT id FROM plans WHERE title = 'North Herts plan')",
                    }
                ),
                [],
            ))
            .await
            .expect("query")
            .expect("row");
        row.try_get::<String>("", "id").expect("id")
    }
}

pub async fn into_resp(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp {
        status,
        headers,
        body,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let name = self.db_name.clone();
        // Drop the database from a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    let admin = admin().await;
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                });
            }
        })
        .join();
    }
}

/// A query document asking for `field` `n` times, under the aliases `a0`, `a1`, ...
pub fn aliased(n: usize, field: &str) -> String {
    let fields: Vec<String> = (0..n).map(|i| format!("a{i}: {field}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

/// Signs a token with one of the test keys.
pub fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, private_pem: &str) -> String {
    let pem = key(private_pem);
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        _ => panic!("unsupported test algorithm"),
    }
    .expect("encoding key");
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Claims a police system's identity provider would issue.
pub fn police_claims() -> Value {
    json!({
        "iss": RS_ISSUER,
        "aud": "csphub",
        "sub": "pc-1234",
        "exp": now() + 600,
        "role": "police",
        "agency": "herts-police",
        "partnerships": ["stevenage"],
    })
}
