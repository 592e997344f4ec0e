//! Row-level security and the append-only tables, straight in PostgreSQL: connected as the
//! service's own role, a plain `SELECT *` with no `WHERE` returns only what the acting agency may
//! see, nothing at all without an acting agency, and no one can alter the audit log or a note.

use crate::common::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

const TABLES: [&str; 8] = [
    "cases",
    "case_shares",
    "people",
    "case_subjects",
    "case_notes",
    "case_interventions",
    "case_referrals",
    "case_incidents",
];

/// Fixtures written as the owner: a police case shared with the council (a SHARED and an
/// AGENCY note from police, a subject, an intervention, a referral, a linked incident), a fire
/// case shared with no one, and a North Herts council case.
async fn fixtures(db: &DatabaseConnection) {
    db.execute_unprepared(
        "INSERT INTO cases (id, partnership_id, ref, case_type, owning_agency_id, lead_officer, risk_level, opened_on, created_by)
           SELECT '00000000-0000-0000-0000-00000000000a', p.id, 'ASB-2015-0001', 'ASB', a.id, 'PC Able', 'STANDARD', '2015-05-01', 'pc-1'
           FROM partnerships p, agencies a WHERE p.slug = 'stevenage' AND a.slug = 'herts-police';
         INSERT INTO cases (id, partnership_id, ref, case_type, owning_agency_id, lead_officer, risk_level, opened_on, created_by)
           SELECT '00000000-0000-0000-0000-00000000000b', p.id, 'OTH-2015-0002', 'OTHER', a.id, 'WM Baker', 'MEDIUM', '2015-05-02', 'ff-1'
           FROM partnerships p, agencies a WHERE p.slug = 'stevenage' AND a.slug = 'herts-fire';
         INSERT INTO cases (id, partnership_id, ref, case_type, owning_agency_id, lead_officer, risk_level, opened_on, created_by)
           SELECT '00000000-0000-0000-0000-00000000000c', p.id, 'ASB-2015-0001', 'ASB', a.id, 'Officer Cole', 'HIGH', '2015-05-03', 'nh-1'
           FROM partnerships p, agencies a WHERE p.slug = 'north-herts' AND a.slug = 'north-herts-council';
         INSERT INTO case_shares (case_id, agency_id, legal_basis, shared_by)
           SELECT c.id, c.owning_agency_id, 'OWNER', c.created_by FROM cases c;
         INSERT INTO case_shares (case_id, agency_id, legal_basis, shared_by)
           SELECT '00000000-0000-0000-0000-00000000000a', id, 'S115_CDA_1998', 'pc-1' FROM agencies WHERE slug = 'stevenage-council';
         INSERT INTO people (id, partnership_id, full_name, date_of_birth, created_by)
           SELECT '00000000-0000-0000-0000-0000000000a1', id, 'Alex Example', '1990-01-01', 'pc-1' FROM partnerships WHERE slug = 'stevenage';
         INSERT INTO people (id, partnership_id, full_name, date_of_birth, created_by)
           SELECT '00000000-0000-0000-0000-0000000000b1', id, 'Bo Sample', '1980-02-02', 'ff-1' FROM partnerships WHERE slug = 'stevenage';
         INSERT INTO case_subjects (case_id, person_id, part, added_by) VALUES
           ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a1', 'VICTIM', 'pc-1'),
           ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000b1', 'VICTIM', 'ff-1');
         INSERT INTO case_notes (case_id, author, agency_id, visibility, body)
           SELECT '00000000-0000-0000-0000-00000000000a', 'pc-1', id, 'SHARED', 'shared note' FROM agencies WHERE slug = 'herts-police';
         INSERT INTO case_notes (case_id, author, agency_id, visibility, body)
           SELECT '00000000-0000-0000-0000-00000000000a', 'pc-1', id, 'AGENCY', 'police only' FROM agencies WHERE slug = 'herts-police';
         INSERT INTO case_notes (case_id, author, agency_id, visibility, body)
           SELECT '00000000-0000-0000-0000-00000000000b', 'ff-1', id, 'SHARED', 'fire case note' FROM agencies WHERE slug = 'herts-fire';
         INSERT INTO case_interventions (case_id, intervention, agency_id, starts_on, recorded_by)
           SELECT c.id, 'warning-letter', c.owning_agency_id, '2015-05-05', c.created_by FROM cases c;
         INSERT INTO case_referrals (case_id, from_agency_id, to_programme, referred_on, recorded_by)
           SELECT c.id, c.owning_agency_id, 'Family Intervention Project', '2015-05-06', c.created_by FROM cases c;
         INSERT INTO case_incidents (case_id, incident_id, linked_by)
           SELECT c.id, (SELECT id FROM incidents ORDER BY id LIMIT 1), c.created_by FROM cases c;",
    )
    .await
    .expect("fixtures");
}

/// Every row each case table returns to `SELECT *`, as the service role with the given agency
/// (and its partnerships) set the way a request sets them, or with nothing set.
async fn visible(db: &DatabaseConnection, agency: Option<(&str, &[&str])>) -> Vec<(String, i64)> {
    let txn = db.begin().await.expect("begin");
    txn.execute_unprepared("SET LOCAL ROLE csphub_service")
        .await
        .expect("set role");
    if let Some((agency, partnerships)) = agency {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('csphub.agency_id', (SELECT id::text FROM agencies WHERE slug = $1), true), \
                    set_config('csphub.partnership_ids', \
                      (SELECT string_agg(id::text, ',') FROM partnerships WHERE slug = ANY($2)), true)",
            [agency.into(), partnerships.iter().map(|p| p.to_string()).collect::<Vec<_>>().into()],
        ))
        .await
        .expect("settings");
    }
    let mut out = Vec::new();
    for table in TABLES {
        let row = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT count(*) AS n FROM (SELECT * FROM {table}) t"),
            ))
            .await
            .expect("select")
            .expect("row");
        out.push((table.to_owned(), row.try_get::<i64>("", "n").expect("n")));
    }
    // What the notes say, to tell SHARED from AGENCY ones.
    let notes = txn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT body FROM case_notes ORDER BY body",
        ))
        .await
        .expect("notes");
    for n in notes {
        out.push((n.try_get::<String>("", "body").expect("body"), -1));
    }
    txn.rollback().await.expect("rollback");
    out
}

fn counts(pairs: &[(&str, i64)], notes: &[&str]) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = pairs.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
    v.extend(notes.iter().map(|n| ((*n).to_owned(), -1)));
    v
}

#[tokio::test]
async fn the_service_role_sees_only_the_rows_its_agency_may_see_with_no_where() {
    let app = TestApp::spawn().await;
    fixtures(&app.db).await;

    // Nothing set: fail closed.
    assert_eq!(
        visible(&app.db, None).await,
        counts(&TABLES.map(|t| (t, 0)), &[])
    );
    // The council: the police case only (shared with it), without police's AGENCY note.
    assert_eq!(
        visible(&app.db, Some(("stevenage-council", &["stevenage"]))).await,
        counts(
            &[
                ("cases", 1),
                ("case_shares", 2),
                ("people", 1),
                ("case_subjects", 1),
                ("case_notes", 1),
                ("case_interventions", 1),
                ("case_referrals", 1),
                ("case_incidents", 1),
            ],
            &["shared note"]
        )
    );
    // Police: its own case, with both its notes.
    assert_eq!(
        visible(
            &app.db,
            Some(("herts-police", &["stevenage", "north-herts"]))
        )
        .await,
        counts(
            &[
                ("cases", 1),
                ("case_shares", 2),
                ("people", 1),
                ("case_subjects", 1),
                ("case_notes", 2),
                ("case_interventions", 1),
                ("case_referrals", 1),
                ("case_incidents", 1),
            ],
            &["police only", "shared note"]
        )
    );
    // Police with a token for North Herts only: its Stevenage case is out of scope.
    assert_eq!(
        visible(&app.db, Some(("herts-police", &["north-herts"]))).await,
        counts(&TABLES.map(|t| (t, 0)), &[])
    );
    // Fire: its unshared case.
    assert_eq!(
        visible(&app.db, Some(("herts-fire", &["stevenage"]))).await,
        counts(
            &[
                ("cases", 1),
                ("case_shares", 1),
                ("people", 1),
                ("case_subjects", 1),
                ("case_notes", 1),
                ("case_interventions", 1),
                ("case_referrals", 1),
                ("case_incidents", 1),
            ],
            &["fire case note"]
        )
    );
    // The PCC's agency is in the partnership but nothing is shared with it.
    assert_eq!(
        visible(&app.db, Some(("herts-pcc", &["stevenage", "north-herts"]))).await,
        counts(&TABLES.map(|t| (t, 0)), &[])
    );
}

#[tokio::test]
async fn the_service_role_is_neither_superuser_nor_owner_and_cannot_bypass() {
    let app = TestApp::spawn().await;
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT r.rolsuper, r.rolbypassrls, \
               (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'csphub_service') AS owned, \
               (SELECT count(*) FROM pg_class WHERE relname = ANY(ARRAY['cases','case_shares','people','case_subjects','case_notes','case_interventions','case_referrals','case_incidents']) \
                  AND relrowsecurity AND relforcerowsecurity) AS forced \
             FROM pg_roles r WHERE r.rolname = 'csphub_service'",
        ))
        .await
        .expect("query")
        .expect("the role exists");
    assert!(!row.try_get::<bool>("", "rolsuper").expect("super"));
    assert!(!row.try_get::<bool>("", "rolbypassrls").expect("bypass"));
    assert_eq!(row.try_get::<i64>("", "owned").expect("owned"), 0);
    assert_eq!(row.try_get::<i64>("", "forced").expect("forced"), 8);

    // The request pool runs as that role, whatever the URL's user.
    let pool_user = app
        .server_db()
        .await
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_user::text AS u",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get::<String>("", "u")
        .expect("u");
    assert_eq!(pool_user, "csphub_service");

    // Setting another agency's settings does not help against a table it has no grant for.
    fixtures(&app.db).await;
    let txn = app.db.begin().await.expect("begin");
    txn.execute_unprepared("SET LOCAL ROLE csphub_service")
        .await
        .expect("role");
    for sql in [
        "UPDATE case_notes SET body = 'changed'",
        "DELETE FROM case_notes",
        "DELETE FROM cases",
        "UPDATE audit_log SET sub = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let e = txn
            .execute_unprepared(&format!("SAVEPOINT s; {sql}"))
            .await
            .expect_err(sql);
        assert!(e.to_string().contains("permission denied"), "{sql}: {e}");
        txn.execute_unprepared("ROLLBACK TO SAVEPOINT s")
            .await
            .expect("rollback to");
    }
    txn.rollback().await.expect("rollback");
}

#[tokio::test]
async fn not_even_the_owner_can_alter_audit_entries_seals_or_notes() {
    let app = TestApp::spawn().await;
    fixtures(&app.db).await;
    app.db
        .execute_unprepared(
            "INSERT INTO audit_log (sub, partnership_id, action, record_type, record_id) \
             SELECT 'pc-1', id, 'CASE_VIEWED', 'case', 'x' FROM partnerships LIMIT 1",
        )
        .await
        .expect("insert");
    for sql in [
        "UPDATE audit_log SET sub = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE case_notes SET body = 'rewritten'",
    ] {
        let e = app.db.execute_unprepared(sql).await.expect_err(sql);
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    let n = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM audit_log WHERE sub = 'pc-1'",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(n, 1);
}

/// The search function runs as the owner (to keep the trigram index usable under row-level
/// security): called directly by the service role, it still finds only people of cases shared
/// with the acting agency, and nothing without one.
#[tokio::test]
async fn the_people_search_function_finds_only_visible_people() {
    let app = TestApp::spawn().await;
    fixtures(&app.db).await;
    let found = |agency: Option<&'static str>| {
        let db = &app.db;
        async move {
            let txn = db.begin().await.expect("begin");
            txn.execute_unprepared("SET LOCAL ROLE csphub_service")
                .await
                .expect("role");
            if let Some(agency) = agency {
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT set_config('csphub.agency_id', (SELECT id::text FROM agencies WHERE slug = $1), true), \
                            set_config('csphub.partnership_ids', (SELECT id::text FROM partnerships WHERE slug = 'stevenage'), true)",
                    [agency.into()],
                ))
                .await
                .expect("settings");
            }
            let rows = txn
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT m.person_id::text AS id FROM csphub_people_like( \
                       (SELECT id FROM partnerships WHERE slug = 'stevenage'), 'Sample', NULL, 10) m \
                     ORDER BY 1",
                ))
                .await
                .expect("search");
            txn.rollback().await.expect("rollback");
            rows.into_iter()
                .map(|r| r.try_get::<String>("", "id").expect("id"))
                .collect::<Vec<_>>()
        }
    };
    // Bo Sample is in fire's unshared case; Alex Example (a like name) in police's, shared
    // with the council.
    let (alex, bo) = (
        "00000000-0000-0000-0000-0000000000a1".to_owned(),
        "00000000-0000-0000-0000-0000000000b1".to_owned(),
    );
    assert_eq!(found(Some("herts-fire")).await, vec![bo]);
    assert_eq!(found(Some("herts-police")).await, vec![alex.clone()]);
    assert_eq!(found(Some("stevenage-council")).await, vec![alex]);
    assert_eq!(found(Some("herts-pcc")).await, Vec::<String>::new());
    assert_eq!(found(None).await, Vec::<String>::new());
}

/// What a plan did, without its costs or timings: each node's type, relation, index, rows,
/// loops, rows removed and pages touched, in order.
fn work(plan: &serde_json::Value, out: &mut Vec<String>) {
    let field = |k: &str| plan.get(k).map(|v| v.to_string()).unwrap_or_default();
    let pages = ["Shared Hit Blocks", "Shared Read Blocks"]
        .iter()
        .filter_map(|k| plan.get(*k).and_then(serde_json::Value::as_i64))
        .sum::<i64>();
    out.push(format!(
        "{} {} {} {} rows={} loops={} removed={}/{} pages={pages}",
        field("Node Type"),
        field("Subplan Name"),
        field("Relation Name"),
        field("Index Name"),
        field("Actual Rows"),
        field("Actual Loops"),
        field("Rows Removed by Filter"),
        field("Rows Removed by Index Recheck"),
    ));
    for child in plan
        .get("Plans")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        work(child, out);
    }
}

#[tokio::test]
async fn a_case_not_shared_with_the_caller_is_looked_up_exactly_like_a_missing_one() {
    let app = TestApp::spawn().await;
    fixtures(&app.db).await;
    let txn = app.db.begin().await.expect("begin");
    txn.execute_unprepared("SET LOCAL ROLE csphub_service")
        .await
        .expect("set role");
    txn.execute_unprepared(
        "SELECT set_config('csphub.agency_id', (SELECT id::text FROM agencies WHERE slug = 'stevenage-council'), true),
                set_config('csphub.partnership_ids', (SELECT id::text FROM partnerships WHERE slug = 'stevenage'), true)",
    )
    .await
    .expect("settings");
    let plan = |reference: &'static str| {
        let txn = &txn;
        async move {
            let sql = format!(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) {}",
                csphub::db::case::by_ref_sql()
            );
            let row = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql,
                    [
                        sea_orm::Value::from(vec![uuid_of(txn, "partnerships", "stevenage").await]),
                        uuid_of(txn, "agencies", "stevenage-council").await.into(),
                        uuid_of(txn, "partnerships", "stevenage").await.into(),
                        reference.into(),
                    ],
                ))
                .await
                .expect("explain")
                .expect("a plan");
            let json: serde_json::Value = row.try_get("", "QUERY PLAN").expect("plan");
            let mut out = Vec::new();
            work(&json[0]["Plan"], &mut out);
            out
        }
    };
    // Warm both paths' pages, then compare what each lookup does.
    for r in ["OTH-2015-0002", "ASB-2015-0099", "ASB-2015-0001"] {
        plan(r).await;
    }
    let shared = plan("asb-2015-0001").await;
    let unshared = plan("OTH-2015-0002").await;
    let missing = plan("ASB-2015-0099").await;
    assert_eq!(unshared, missing, "shared: {shared:#?}");
    // The shared one is found (and so reads the case): the comparison above is not vacuous.
    assert!(shared.iter().any(|n| n.contains("rows=1")), "{shared:#?}");
    assert_ne!(shared, missing);
    txn.rollback().await.expect("rollback");
}

async fn uuid_of(txn: &sea_orm::DatabaseTransaction, table: &str, slug: &str) -> uuid::Uuid {
    txn.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT id FROM {table} WHERE slug = $1"),
        [slug.into()],
    ))
    .await
    .expect("id")
    .expect("row")
    .try_get("", "id")
    .expect("uuid")
}
