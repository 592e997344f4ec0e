//! Backup and restore (issue 27): a `pg_dump` of a csphub database restored into a second
//! PostgreSQL cluster, one this test starts itself, that lacks the service role and whose
//! transaction ids are lower than those in the audit log. `csphub migrate` makes the role and
//! applies the grants and policies the restore skipped; the service then writes, seals and
//! verifies with no false tamper alarm.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use secrecy::SecretString;
use serde_json::json;

/// A PostgreSQL cluster of the test's own, in a temporary folder, stopped and removed on drop.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

/// Runs a PostgreSQL server program as the `postgres` user (it refuses to run as root).
fn as_postgres(program: &Path, args: &[&str]) -> Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n");
    let out = if root.unwrap_or(false) {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args)
            .output()
    } else {
        Command::new(program).args(args).output()
    };
    out.unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

impl Cluster {
    fn start() -> Cluster {
        let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL's programs");
        let mut versions: Vec<PathBuf> = versions.map(|v| v.expect("v").path()).collect();
        versions.sort();
        let bin = versions.last().expect("a version").join("bin");
        let dir = std::env::temp_dir().join(format!("csphub-cluster-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .output();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let data = dir.join("data");
        let out = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().expect("p"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        assert!(out.status.success(), "initdb: {out:?}");
        let cluster = Cluster { dir, bin, port };
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            cluster.dir.display()
        );
        let out = as_postgres(
            &cluster.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().expect("p"),
                "-o",
                &options,
                "-l",
                cluster.dir.join("log").to_str().expect("p"),
                "-w",
                "start",
            ],
        );
        assert!(out.status.success(), "pg_ctl start: {out:?}");
        cluster
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap_or(""),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn csphub(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("csphub")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(csphub::db::stmt(sql, []))
        .await
        .expect(sql)
        .iter()
        .map(|r| r.try_get::<String>("", "s").expect("s"))
        .collect()
}

/// The cases the police may see, through the service role and its row-level security.
async fn police_cases(service: &DatabaseConnection) -> i64 {
    let txn = service.begin().await.expect("begin");
    txn.execute_unprepared(
        "SELECT set_config('csphub.agency_id', (SELECT id::text FROM agencies WHERE slug = 'herts-police'), true),
                set_config('csphub.partnership_ids', (SELECT id::text FROM partnerships WHERE slug = 'stevenage'), true)",
    )
    .await
    .expect("settings");
    let n = txn
        .query_one_raw(csphub::db::stmt("SELECT count(*) AS n FROM cases", []))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    txn.rollback().await.expect("rollback");
    n
}

#[tokio::test]
async fn a_dump_restored_into_a_new_cluster_serves_seals_and_verifies() {
    let app = TestApp::spawn().await;
    // Case activity, sealed; then one more entry left unsealed when the dump is taken.
    let police = app.token("police", "herts-police", &["caseworker"]);
    let open = "mutation { openCase(input: {caseType: ASB, leadOfficer: \"PC Able\", riskLevel: STANDARD}) { id } }";
    let r = app.gql(open, json!({}), Some(&police)).await;
    let id = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    let view = "query($c: ID!) { case(id: $c) { ref } }";
    app.gql(view, json!({"c": id}), Some(&police)).await;
    // Sealing waits for every transaction of the database that was open when the entries were
    // written; under a busy test run one may still be ending.
    let server = app.server_db().await;
    let mut sealed = csphub::db::audit::seal(&server).await.expect("seal");
    for _ in 0..100 {
        if !matches!(sealed, csphub::db::audit::Sealed::Nothing) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        sealed = csphub::db::audit::seal(&server).await.expect("seal");
    }
    assert!(
        matches!(sealed, csphub::db::audit::Sealed::Entries { seq: 1, .. }),
        "{sealed:?}"
    );
    app.gql(view, json!({"c": id}), Some(&police)).await;
    let original_access = strings(
        &app.db,
        "SELECT statement AS s FROM csphub_access ORDER BY 1",
    )
    .await;
    assert!(
        original_access
            .iter()
            .any(|s| s.starts_with("CREATE POLICY")),
        "{original_access:?}"
    );
    let cases_before = police_cases(&app.server_db().await).await;
    assert!(cases_before > 0);

    let cluster = Cluster::start();
    let dump = cluster.dir.join("csphub.dump");
    let out = Command::new("pg_dump")
        .args([
            "-Fc",
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            "postgres",
            "-f",
        ])
        .arg(&dump)
        .arg(&app.db_name)
        .output()
        .expect("pg_dump");
    assert!(out.status.success(), "pg_dump: {out:?}");
    let admin_url = cluster.url("postgres");
    let admin = csphub::db::connect_for_maintenance(&SecretString::from(admin_url))
        .await
        .expect("the new cluster");
    admin
        .execute_unprepared("CREATE DATABASE restored")
        .await
        .expect("createdb");
    let out = Command::new("pg_restore")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "restored",
        ])
        .arg(&dump)
        .output()
        .expect("pg_restore");
    // The new cluster has no service role: every grant and policy naming it is skipped.
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(
        errors.contains("role \"csphub_service\" does not exist"),
        "{errors}"
    );
    let url = cluster.url("restored");

    // `csphub migrate` makes the role and applies what the restore skipped.
    let out = csphub(&url, &["migrate"]);
    assert!(out.status.success(), "migrate: {out:?}");
    let restored = csphub::db::connect_for_maintenance(&SecretString::from(url.clone()))
        .await
        .expect("restored");
    assert_eq!(
        strings(
            &restored,
            "SELECT statement AS s FROM csphub_access ORDER BY 1"
        )
        .await,
        original_access
    );
    let config = test_config();
    let service = csphub::db::connect(&SecretString::from(url.clone()), &config.db)
        .await
        .expect("the service role connects");
    assert_eq!(police_cases(&service).await, cases_before);

    // The service writes (the new cluster's transaction ids are lower than the log's), seals
    // and verifies: no entry falls into a sealed range.
    for _ in 0..3 {
        service
            .execute_unprepared(
                "INSERT INTO audit_log (sub, partnership_id, action) \
                 SELECT 'after-restore', id, 'CASE_VIEWED' FROM partnerships WHERE slug = 'stevenage'",
            )
            .await
            .expect("an entry");
    }
    let out = csphub(&url, &["audit", "seal"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out), "sealed 4 entries as seal 2");
    let out = csphub(&url, &["audit", "verify"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text(&out).starts_with("intact: 2 seals over ")
            && text(&out).ends_with("; 0 entries not sealed yet"),
        "{}",
        text(&out)
    );
    // And again after more entries.
    service
        .execute_unprepared(
            "INSERT INTO audit_log (sub, partnership_id, action) \
             SELECT 'later', id, 'CASE_VIEWED' FROM partnerships WHERE slug = 'stevenage'",
        )
        .await
        .expect("an entry");
    assert_eq!(
        text(&csphub(&url, &["audit", "seal"])),
        "sealed 1 entries as seal 3"
    );
    assert!(text(&csphub(&url, &["audit", "verify"])).starts_with("intact: 3 seals"));
    service.close().await.expect("close");
    restored.close().await.expect("close");
    admin.close().await.expect("close");
}
