//! The audit log: who may read which entries, sealing (even around a transaction still open),
//! and `csphub audit verify` finding the first entry altered after it was sealed.

use crate::common::*;
use csphub::db::audit::{Sealed, Verified};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::json;

const LOG: &str =
    "{ auditLog(first: 100) { totalCount nodes { sub agency { slug } action recordType } } }";

async fn some_activity(app: &TestApp) -> String {
    let police = app.token("police", "herts-police", &["caseworker"]);
    let council = app.token("council", "stevenage-council", &["caseworker"]);
    let r = app
        .gql(
            "mutation { openCase(input: {caseType: ASB, leadOfficer: \"PC Able\", riskLevel: STANDARD}) { id } }",
            json!({}),
            Some(&police),
        )
        .await;
    let id = r.data()["openCase"]["id"].as_str().expect("id").to_owned();
    app.gql(
        "mutation($c: ID!) { shareCase(input: {caseId: $c, agency: \"stevenage-council\", legalBasis: S115_CDA_1998}) { id } }",
        json!({"c": id}),
        Some(&police),
    )
    .await;
    let r = app
        .gql(
            "query($c: ID!) { case(id: $c) { ref } }",
            json!({"c": id}),
            Some(&council),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    id
}

fn actions(r: &Resp) -> Vec<(String, String)> {
    r.data()["auditLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["agency"]["slug"].as_str().expect("agency").to_owned(),
                n["action"].as_str().expect("action").to_owned(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn entries_about_case_data_reach_only_the_acting_agencys_auditor() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    // Every entry so far names a case: a plain token, a caseworker and a coordinator of any
    // agency read none of them, neither their own agency's nor the partnership's.
    for token in [
        app.police(),
        app.council(),
        app.coordinator(),
        app.token("police", "herts-police", &["caseworker"]),
        app.token(
            "council",
            "stevenage-council",
            &["coordinator", "caseworker"],
        ),
    ] {
        let r = app.gql(LOG, json!({}), Some(&token)).await;
        assert_eq!(actions(&r), pairs(&[]), "{}", r.body);
        assert_eq!(r.data()["auditLog"]["totalCount"], 0);
        // Asking for case data by name is refused, not answered empty.
        for action in ["CASE_VIEWED", "PEOPLE_SEARCHED", "AUDIT_LOG_VIEWED"] {
            let r = app
                .gql(
                    "query($a: String) { auditLog(filter: {action: $a}) { totalCount } }",
                    json!({"a": action}),
                    Some(&token),
                )
                .await;
            assert_eq!(r.code(), "FORBIDDEN", "{action}: {}", r.body);
            assert!(r.message().contains("auditor"), "{}", r.message());
        }
    }
    // The police auditor: the police's entries, the reads of the log above included, and not
    // the council's view of the case.
    let police_auditor = app.token("police", "herts-police", &["auditor"]);
    let r = app.gql(LOG, json!({}), Some(&police_auditor)).await;
    let police_seen = actions(&r);
    assert!(
        police_seen
            .iter()
            .all(|(agency, _)| agency == "herts-police"),
        "{police_seen:?}"
    );
    assert_eq!(
        police_seen
            .iter()
            .filter(|(_, a)| a != "AUDIT_LOG_VIEWED")
            .cloned()
            .collect::<Vec<_>>(),
        pairs(&[
            ("herts-police", "CASE_SHARED"),
            ("herts-police", "CASE_OPENED")
        ])
    );
    // The council's auditor, even with coordinator: the council's own entries only.
    let council_auditor = app.token("council", "stevenage-council", &["auditor", "coordinator"]);
    let r = app
        .gql(
            "{ auditLog(filter: {action: \"CASE_VIEWED\"}) { totalCount nodes { sub agency { slug } action recordType } } }",
            json!({}),
            Some(&council_auditor),
        )
        .await;
    assert_eq!(actions(&r), pairs(&[("stevenage-council", "CASE_VIEWED")]));
    for token in [
        app.pcc(),
        app.token(
            "pcc",
            "herts-pcc",
            &["coordinator", "caseworker", "auditor"],
        ),
    ] {
        let r = app.gql(LOG, json!({}), Some(&token)).await;
        assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    }
    // Another partnership's auditor sees none of Stevenage's.
    let nh = app.token_for(
        "council",
        "north-herts-council",
        &["north-herts"],
        &["coordinator", "auditor"],
    );
    let r = app.gql(LOG, json!({}), Some(&nh)).await;
    assert_eq!(r.data()["auditLog"]["totalCount"], 0);
    // Filtered and paginated.
    let r = app
        .gql(
            "{ auditLog(filter: {action: \"CASE_OPENED\"}) { totalCount nodes { action } } }",
            json!({}),
            Some(&police_auditor),
        )
        .await;
    assert_eq!(r.data()["auditLog"]["totalCount"], 1);
    let r = app
        .gql(
            "{ auditLog(first: 2) { nodes { id at } pageInfo { hasNextPage endCursor } } }",
            json!({}),
            Some(&police_auditor),
        )
        .await;
    assert_eq!(r.data()["auditLog"]["pageInfo"]["hasNextPage"], true);
    let first: Vec<(String, String)> = r.data()["auditLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["at"].to_string(), n["id"].to_string()))
        .collect();
    let cursor = r.data()["auditLog"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let r = app
        .gql(
            "query($a: String) { auditLog(first: 100, after: $a) { nodes { id at } } }",
            json!({"a": cursor}),
            Some(&police_auditor),
        )
        .await;
    let rest: Vec<(String, String)> = r.data()["auditLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["at"].to_string(), n["id"].to_string()))
        .collect();
    // The next page holds the older entries, none of the first page's, newest first.
    assert!(!rest.is_empty());
    assert!(
        rest.iter().all(|e| !first.contains(e)),
        "{first:?} {rest:?}"
    );
    let times: Vec<&String> = first.iter().chain(&rest).map(|(at, _)| at).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let r = app
        .gql(
            "{ auditLog(after: \"x\") { totalCount } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

async fn exec(app: &TestApp, sql: &str) {
    app.db.execute_unprepared(sql).await.expect(sql);
}

#[tokio::test]
async fn a_long_transaction_in_another_database_does_not_hold_sealing_back() {
    // Another database on the same server, busy with a transaction that holds a transaction
    // id older than every entry below (a nightly dump, another service).
    let elsewhere = admin().await;
    let busy = elsewhere.begin().await.expect("begin");
    busy.execute_unprepared("SELECT txid_current()")
        .await
        .expect("an id");
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let service = app.server_db().await;
    assert_eq!(
        csphub::db::audit::seal(&service).await.expect("seal"),
        Sealed::Entries { seq: 1, count: 3 }
    );
    // One in this database still holds it back: its entries may yet commit.
    let open = app.db.begin().await.expect("begin");
    open.execute_unprepared("SELECT txid_current()")
        .await
        .expect("an id");
    exec(&app, "INSERT INTO audit_log (sub, partnership_id, action) SELECT 'after', id, 'CASE_VIEWED' FROM partnerships LIMIT 1").await;
    assert_eq!(
        csphub::db::audit::seal(&service).await.expect("seal"),
        Sealed::Nothing
    );
    open.rollback().await.expect("rollback");
    assert_eq!(
        csphub::db::audit::seal(&service).await.expect("seal"),
        Sealed::Entries { seq: 2, count: 1 }
    );
    busy.rollback().await.expect("rollback");
    assert_eq!(
        csphub::db::audit::verify(&app.db).await.expect("verify"),
        Verified::Intact {
            seals: 2,
            entries: 4,
            unsealed: 0
        }
    );
}

#[tokio::test]
async fn verify_reads_forged_seals_whatever_their_number_and_the_service_cannot_seal_the_future() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let service = app.server_db().await;
    assert!(matches!(
        csphub::db::audit::seal(&service).await.expect("seal"),
        Sealed::Entries { seq: 1, .. }
    ));
    // A seal reaching past every transaction that has ended cannot be real: refused.
    let r = service
        .execute_unprepared(
            "INSERT INTO audit_seals (seq, from_xact, to_xact, entry_ids, entry_hashes, prev_hash, hash) \
             SELECT 2, to_xact, 9000000000000000000, '{}', '{}', '\\x00', '\\x00' FROM audit_seals WHERE seq = 1",
        )
        .await;
    assert!(
        r.as_ref()
            .is_err_and(|e| e.to_string().contains("may not reach past")),
        "{r:?}"
    );
    // One numbered 0, before the chain: verify reads it and says so.
    exec(
        &app,
        "INSERT INTO audit_seals (seq, from_xact, to_xact, entry_ids, entry_hashes, prev_hash, hash) \
         VALUES (0, 0, 0, '{}', '{}', '\\x00', '\\x00')",
    )
    .await;
    assert!(matches!(
        csphub::db::audit::verify(&app.db).await.expect("verify"),
        Verified::Broken { seal: 0, .. }
    ));
}

#[tokio::test]
async fn seals_cover_only_ended_transactions_and_verify_finds_the_first_altered_entry() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let service = app.server_db().await;

    // A transaction still open with an entry of its own: the seal must not cover it.
    let open = app.db.begin().await.expect("begin");
    open.execute_unprepared(
        "INSERT INTO audit_log (sub, partnership_id, action) \
         SELECT 'late', id, 'CASE_VIEWED' FROM partnerships LIMIT 1",
    )
    .await
    .expect("insert");
    // Sealing runs as the service role, as the server does it.
    assert_eq!(
        csphub::db::audit::seal(&service).await.expect("seal"),
        Sealed::Entries { seq: 1, count: 3 }
    );
    assert_eq!(
        csphub::db::audit::seal(&service).await.expect("seal"),
        Sealed::Nothing
    );
    open.commit().await.expect("commit");
    assert_eq!(
        csphub::db::audit::verify(&app.db).await.expect("verify"),
        Verified::Intact {
            seals: 1,
            entries: 3,
            unsealed: 1
        }
    );
    assert_eq!(
        csphub::db::audit::seal(&service).await.expect("seal"),
        Sealed::Entries { seq: 2, count: 1 }
    );
    assert_eq!(
        csphub::db::audit::verify(&app.db).await.expect("verify"),
        Verified::Intact {
            seals: 2,
            entries: 4,
            unsealed: 0
        }
    );

    // Someone with the owner's powers turns the trigger off and rewrites an entry.
    let second: i64 = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1",
        ))
        .await
        .expect("q")
        .expect("row")
        .try_get("", "id")
        .expect("id");
    exec(
        &app,
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    )
    .await;
    exec(
        &app,
        &format!("UPDATE audit_log SET sub = 'someone else' WHERE id = {second}"),
    )
    .await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
        .output()
        .expect("run verify");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "BROKEN at entry {second} (seal 1): the entry was changed"
        )),
        "{stdout}"
    );
    // Deleted instead: named as removed.
    exec(&app, &format!("DELETE FROM audit_log WHERE id = {second}")).await;
    assert_eq!(
        csphub::db::audit::verify(&app.db).await.expect("verify"),
        Verified::Broken {
            seal: 1,
            entry: Some(second),
            what: "the entry was removed after it was sealed".to_owned()
        }
    );
    // A seal rewritten to match is caught by the chain.
    exec(
        &app,
        "ALTER TABLE audit_seals DISABLE TRIGGER audit_seals_append_only",
    )
    .await;
    exec(&app, "DELETE FROM audit_seals WHERE seq = 1").await;
    assert!(matches!(
        csphub::db::audit::verify(&app.db).await.expect("verify"),
        Verified::Broken {
            seal: 2,
            entry: None,
            ..
        }
    ));
}

#[tokio::test]
async fn the_cli_seals_and_verifies_an_intact_log() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
            .args(args)
            .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
            // docs/operations.md: 0 turns the server's own sealing off (cron runs the CLI instead).
            .env("CSPHUB_AUDIT_SEAL_MS", "0")
            .env("CSPHUB_CALLER_CACHE_MS", "0")
            .output()
            .expect("run")
    };
    let out = run(&["audit", "seal"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "sealed 3 entries as seal 1"
    );
    let out = run(&["audit", "verify"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "intact: 1 seals over 3 entries; 0 entries not sealed yet"
    );
}

/// An entry's agency is an object (slug, name, kind), read once for the whole page.
#[tokio::test]
async fn an_entrys_agency_is_an_object_read_once_for_the_page() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let auditor = app.token("police", "herts-police", &["auditor"]);
    app.take_statements();
    let r = app
        .gql(
            "{ auditLog(first: 100) { nodes { action agency { slug name kind } } } }",
            json!({}),
            Some(&auditor),
        )
        .await;
    let statements = app.take_statements();
    let nodes = r.data()["auditLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert!(nodes.len() >= 2, "{}", r.body);
    for n in &nodes {
        assert_eq!(
            n["agency"],
            json!({"slug": "herts-police", "name": "Hertfordshire Constabulary", "kind": "police"}),
            "{n}"
        );
    }
    let agencies = statements
        .iter()
        .filter(|s| s.contains("FROM agencies WHERE slug = ANY"))
        .count();
    assert_eq!(agencies, 1, "{statements:#?}");
}
