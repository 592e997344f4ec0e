//! Every table that holds a partnership's data carries a NOT NULL `partnership_id`, the column a
//! sharded deployment would distribute on (docs/scaling.md). The test reads the catalogue, so a
//! new table without it fails here unless it is listed below, with its reason.

use crate::common;

use crate::common::TestApp;
use sea_orm::{ConnectionTrait, Statement};

/// Shared reference data: the same for every partnership (in Citus, reference tables).
const SHARED: &[(&str, &str)] = &[
    (
        "agencies",
        "the partner agencies; one agency works in several partnerships",
    ),
    ("partnerships", "the partnerships themselves"),
    (
        "vocabulary_terms",
        "the built-in vocabularies, the same for everyone",
    ),
    (
        "case_retention",
        "the deployment's retention schedule per case type",
    ),
    ("seaql_migrations", "the schema's migration record"),
    (
        "report_link_keys",
        "the deployment's one key that signs report links; the links name their partnership",
    ),
    (
        "indicator_definitions",
        "the built-in indicators' definitions, the same for everyone; each partnership has its \
         own copy in indicators",
    ),
    (
        "audit_log_unscoped",
        "audit entries written without a partnership before every entry had one; it takes no \
         new rows and keeps them in the seal chain",
    ),
    (
        "audit_seals",
        "the deployment's one hash chain over every audit entry: entry ids and hashes, no \
         partnership's data; a sharded deployment would keep one chain per partnership",
    ),
    (
        "audit_xact_base",
        "one row: the base of the audit entries' numbers (lifted after a restore into another \
         cluster) and the last seal's bound",
    ),
    (
        "geo_areas",
        "the ONS's official areas (LSOAs, wards, districts): public reference data every \
         partnership reads, written only by `csphub import geography`",
    ),
    (
        "geo_memberships",
        "which official LSOAs make up which wards, MSOAs and districts: public reference data",
    ),
    (
        "geo_lsoa_changes",
        "the ONS's 2011-to-2021 LSOA lookup: public reference data",
    ),
    (
        "geo_populations",
        "the ONS's population estimates by LSOA and year: public reference data",
    ),
    (
        "geo_deprivation",
        "the English Indices of Deprivation by LSOA and edition: public reference data",
    ),
    (
        "csphub_access",
        "the grants and policies the service role needs, recorded so that a restore into a \
         cluster without the role can be repaired",
    ),
];

/// Tables that hold partnership data but whose `partnership_id` may be NULL, and why. Each is a
/// step a sharded deployment must take first (docs/scaling.md). None now.
const NULLABLE: &[(&str, &str)] = &[];

#[tokio::test]
async fn every_table_of_partnership_data_has_a_not_null_partnership_id() {
    let app = TestApp::spawn().await;
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT c.relname AS name, a.attnotnull AS not_null \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'partnership_id' \
               AND NOT a.attisdropped \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
        ))
        .await
        .expect("catalogue");
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "name").expect("name");
        let not_null: Option<bool> = row.try_get("", "not_null").expect("not_null");
        seen.push(name.clone());
        let shared = SHARED.iter().any(|(t, _)| *t == name);
        let nullable = NULLABLE.iter().any(|(t, _)| *t == name);
        match (not_null, shared, nullable) {
            (Some(true), false, false) | (None, true, false) | (Some(false), false, true) => {}
            (None, false, _) => problems.push(format!("{name} has no partnership_id")),
            (Some(false), false, false) => {
                problems.push(format!("{name}.partnership_id allows NULL"))
            }
            (Some(true), _, true) => problems.push(format!(
                "{name}.partnership_id is NOT NULL now: take it off the NULLABLE list"
            )),
            (Some(_), true, _) => problems.push(format!(
                "{name} is listed as shared but holds partnership_id"
            )),
            (None, true, true) => problems.push(format!("{name} is listed twice")),
        }
    }
    for (t, _) in SHARED.iter().chain(NULLABLE) {
        if !seen.iter().any(|s| s == t) {
            problems.push(format!("{t} is listed but is no table"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn a_child_row_has_its_parents_partnership_whoever_wrote_it() {
    // The demo data (plans and cases) was written by the demo loader, which never names the
    // column on these tables: the trigger filled it in. The demo links no incident to a case,
    // so one is linked here the same way.
    let app = TestApp::spawn().await;
    csphub::demo::load_cases(&app.db).await.expect("demo cases");
    app.db
        .execute_unprepared(
            "INSERT INTO case_incidents (case_id, incident_id, linked_by) \
             SELECT (SELECT id FROM cases ORDER BY ref LIMIT 1), \
                    (SELECT i.id FROM incidents i JOIN cases c ON c.partnership_id = i.partnership_id \
                     ORDER BY c.ref, i.id LIMIT 1), 'test'",
        )
        .await
        .expect("link an incident");
    let checks = [
        ("priorities", "plans p ON p.id = c.plan_id"),
        ("actions", "plans p ON p.id = c.plan_id"),
        ("plan_events", "plans p ON p.id = c.plan_id"),
        ("progress_records", "actions p ON p.id = c.action_id"),
        (
            "priority_indicators",
            "priorities p ON p.id = c.priority_id",
        ),
        ("case_incidents", "cases p ON p.id = c.case_id"),
        ("case_interventions", "cases p ON p.id = c.case_id"),
        ("case_notes", "cases p ON p.id = c.case_id"),
        ("case_referrals", "cases p ON p.id = c.case_id"),
        ("case_subjects", "cases p ON p.id = c.case_id"),
    ];
    for (table, parent) in checks {
        let total = app
            .count(&format!("SELECT count(*) AS n FROM {table} c"))
            .await;
        assert!(total > 0, "the demo data has no {table} to check");
        let wrong = app
            .count(&format!(
                "SELECT count(*) AS n FROM {table} c JOIN {parent} \
                 WHERE c.partnership_id IS DISTINCT FROM p.partnership_id"
            ))
            .await;
        assert_eq!(
            wrong, 0,
            "{table}: {wrong} rows differ from their parent's partnership"
        );
    }
    // A pushed change writes a revision carrying the record's partnership.
    let police = app.police();
    let record = |outcome: &str| {
        serde_json::json!({"externalRef": "PID-1", "category": "burglary",
                           "occurredAt": "2025-06-01T10:00:00Z", "area": "bedwell",
                           "outcome": outcome})
    };
    app.push_incidents(&police, &[record("under-investigation")])
        .await;
    let r = app.push_incidents(&police, &[record("charged")]).await;
    assert_eq!(r.body["updated"], 1, "{}", r.body);
    let n = app
        .count(
            "SELECT count(*) AS n FROM incident_revisions r JOIN incidents i ON i.id = r.incident_id \
             JOIN partnerships p ON p.id = r.partnership_id \
             WHERE i.external_ref = 'PID-1' AND p.slug = 'stevenage'",
        )
        .await;
    assert_eq!(n, 1);
}

/// A database migrated up to `before` of the migrations, empty otherwise, dropped with the guard.
struct OldDatabase {
    name: String,
    db: sea_orm::DatabaseConnection,
}

impl OldDatabase {
    async fn at(before: &str) -> OldDatabase {
        use migration::MigratorTrait;
        let name = format!("csphub_test_{}", uuid::Uuid::new_v4().simple());
        let admin = common::admin().await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create");
        admin.close().await.expect("close");
        let db = common::connect(&name).await;
        let steps = migration::Migrator::migrations()
            .iter()
            .position(|m| m.name() == before)
            .unwrap_or_else(|| panic!("no migration {before}"));
        migration::Migrator::up(&db, Some(u32::try_from(steps).expect("steps")))
            .await
            .expect("old migrations");
        OldDatabase { name, db }
    }

    async fn finish_migrations(&self) {
        use migration::MigratorTrait;
        migration::Migrator::up(&self.db, None)
            .await
            .expect("new migrations");
    }

    async fn drop(self) {
        self.db.close().await.expect("close");
        let admin = common::admin().await;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .expect("drop");
        admin.close().await.expect("close");
    }

    async fn count(&self, sql: &str) -> i64 {
        self.db
            .query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                sql.to_owned(),
            ))
            .await
            .expect(sql)
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n")
    }
}

/// Seals, waiting while transactions of this database are still open from before the entries
/// were written.
async fn seal(db: &sea_orm::DatabaseConnection) -> csphub::db::audit::Sealed {
    for _ in 0..100 {
        match csphub::db::audit::seal(db).await.expect("seal") {
            csphub::db::audit::Sealed::Nothing => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            other => return other,
        }
    }
    csphub::db::audit::Sealed::Nothing
}

#[tokio::test]
async fn audit_entries_written_without_a_partnership_keep_their_seal_when_every_entry_gets_one() {
    use csphub::db::audit::{Sealed, Verified};
    let old = OldDatabase::at("m20261204_000001_audit_partnership").await;
    // Before: retention wrote its deletion of people no case held without a partnership.
    old.db
        .execute_unprepared(
            "INSERT INTO partnerships (slug, name, county) VALUES ('p', 'P', 'C'); \
             INSERT INTO audit_log (sub, partnership_id, action, record_type, record_id) \
               SELECT 'pc-1', id, 'CASE_VIEWED', 'case', 'x' FROM partnerships WHERE slug = 'p'; \
             INSERT INTO audit_log (sub, action, detail) \
               VALUES ('retention-job', 'RETENTION_DELETED', '{\"peopleInNoCase\": 2}');",
        )
        .await
        .expect("old entries");
    // Sealed before the upgrade, as the old server sealed: over audit_log itself (a stand-in
    // view of the same rows gives the seal code the old server's input).
    // The seal code of today also reads and writes the numbering base, which later migrations
    // add: a stand-in of it too (base 0, as before any restore).
    old.db
        .execute_unprepared(
            "CREATE VIEW audit_entries AS SELECT * FROM audit_log; \
             CREATE TABLE audit_xact_base (base bigint NOT NULL, sealed_to bigint NOT NULL); \
             INSERT INTO audit_xact_base VALUES (0, 0);",
        )
        .await
        .expect("stand-ins");
    assert_eq!(seal(&old.db).await, Sealed::Entries { seq: 1, count: 2 });
    old.db
        .execute_unprepared("DROP VIEW audit_entries; DROP TABLE audit_xact_base;")
        .await
        .expect("drop stand-ins");
    old.finish_migrations().await;
    assert_eq!(
        old.count("SELECT count(*) AS n FROM audit_log").await,
        1,
        "only the partnership's entry is left in audit_log"
    );
    assert_eq!(
        old.count(
            "SELECT count(*) AS n FROM audit_log_unscoped \
             WHERE sub = 'retention-job' AND detail = '{\"peopleInNoCase\": 2}'"
        )
        .await,
        1,
        "the other moved, unchanged"
    );
    assert_eq!(
        csphub::db::audit::verify(&old.db).await.expect("verify"),
        Verified::Intact {
            seals: 1,
            entries: 2,
            unsealed: 0
        },
        "the old seal still matches its entries, one of them moved"
    );
    old.db
        .execute_unprepared(
            "INSERT INTO audit_log (sub, partnership_id, action) \
             SELECT 'pc-2', id, 'CASE_VIEWED' FROM partnerships WHERE slug = 'p'",
        )
        .await
        .expect("new entry");
    assert_eq!(seal(&old.db).await, Sealed::Entries { seq: 2, count: 1 });
    assert_eq!(
        csphub::db::audit::verify(&old.db).await.expect("verify"),
        Verified::Intact {
            seals: 2,
            entries: 3,
            unsealed: 0
        }
    );
    // Nothing new goes in without a partnership, in either table.
    for (sql, refused) in [
        (
            "INSERT INTO audit_log (sub, action) VALUES ('x', 'CASE_VIEWED')",
            "null value in column \"partnership_id\"",
        ),
        (
            "INSERT INTO audit_log_unscoped (id, at, xact, sub, action, detail) \
             VALUES (99, now(), 1, 'x', 'CASE_VIEWED', '{}')",
            "append-only: INSERT refused",
        ),
        (
            "DELETE FROM audit_log_unscoped",
            "append-only: DELETE refused",
        ),
    ] {
        let e = old.db.execute_unprepared(sql).await.expect_err(sql);
        assert!(e.to_string().contains(refused), "{sql}: {e}");
    }
    old.drop().await;
}

#[tokio::test]
async fn a_push_logged_across_partnerships_becomes_one_row_per_partnership() {
    let old = OldDatabase::at("m20261204_000002_push_partnerships").await;
    old.db
        .execute_unprepared(
            "INSERT INTO partnerships (slug, name, county) VALUES ('a', 'A', 'C'), ('b', 'B', 'C'); \
             INSERT INTO agencies (slug, name, kind) VALUES ('force', 'Force', 'police'); \
             INSERT INTO incident_pushes (agency_id, partnership_ids, pushed_by_sub, received, created, \
               updated, unchanged, rejected) \
             SELECT (SELECT id FROM agencies WHERE slug = 'force'), \
                    ARRAY(SELECT id FROM partnerships WHERE slug IN ('a', 'b')), 'sys', 5, 3, 1, 0, 1 \
             UNION ALL \
             SELECT (SELECT id FROM agencies WHERE slug = 'force'), '{}', 'sys', 2, 0, 0, 0, 2;",
        )
        .await
        .expect("old pushes");
    old.finish_migrations().await;
    let rows = old
        .db
        .query_all_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT l.push_id, p.slug, l.received, l.created, l.updated, l.unchanged, l.rejected \
             FROM incident_pushes l JOIN partnerships p ON p.id = l.partnership_id ORDER BY p.slug",
        ))
        .await
        .expect("rows");
    let rows: Vec<(i64, String, Vec<i32>)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get::<i64>("", "push_id").expect("push_id"),
                r.try_get::<String>("", "slug").expect("slug"),
                ["received", "created", "updated", "unchanged", "rejected"]
                    .iter()
                    .map(|c| r.try_get::<i32>("", c).expect(c))
                    .collect(),
            )
        })
        .collect();
    // The old push's whole counts on each partnership it touched; the push that touched none
    // (every record rejected) held no partnership's data and is gone.
    assert_eq!(
        rows,
        vec![
            (1, "a".to_owned(), vec![5, 3, 1, 0, 1]),
            (1, "b".to_owned(), vec![5, 3, 1, 0, 1])
        ]
    );
    assert_eq!(
        old.count("SELECT nextval('incident_push_ids') AS n").await,
        3,
        "new pushes number on from the old ones"
    );
    old.drop().await;
}

#[tokio::test]
async fn each_partnership_gets_its_own_copy_of_the_built_in_indicators_with_its_links() {
    let old = OldDatabase::at("m20261204_000003_indicator_partnerships").await;
    // Before: one shared row per built-in; partnership a links it to a priority and has an
    // indicator of its own.
    old.db
        .execute_unprepared(
            "INSERT INTO partnerships (slug, name, county) VALUES ('a', 'A', 'C'), ('b', 'B', 'C'); \
             INSERT INTO indicators (partnership_id, code, name, kind, categories, created_by_sub) \
               VALUES (NULL, 'burglary', 'Old name', 'INCIDENTS', '{burglary}', 'csphub'); \
             INSERT INTO indicators (partnership_id, code, name, kind, created_by_sub) \
               SELECT id, 'own-survey', 'Own', 'EXTERNAL', 'coordinator' FROM partnerships WHERE slug = 'a'; \
             INSERT INTO plans (partnership_id, financial_year, title) \
               SELECT id, '2014/15', 'Plan' FROM partnerships WHERE slug = 'a'; \
             INSERT INTO priorities (plan_id, position, title) SELECT id, 1, 'Burglary' FROM plans; \
             INSERT INTO priority_indicators (priority_id, indicator_id, linked_by_sub) \
               SELECT pr.id, i.id, 'coordinator' FROM priorities pr, indicators i WHERE i.code = 'burglary';",
        )
        .await
        .expect("old indicators");
    old.finish_migrations().await;
    let copies = "SELECT count(*) AS n FROM indicators i JOIN partnerships p ON p.id = i.partnership_id \
                  WHERE i.builtin AND i.code = 'burglary' AND i.name = 'Old name'";
    assert_eq!(old.count(copies).await, 2, "a copy in a and in b");
    assert_eq!(
        old.count(
            "SELECT count(*) AS n FROM priority_indicators l JOIN indicators i ON i.id = l.indicator_id \
             JOIN partnerships p ON p.id = i.partnership_id WHERE p.slug = 'a' AND i.builtin"
        )
        .await,
        1,
        "a's link moved to a's copy"
    );
    assert_eq!(
        old.count("SELECT count(*) AS n FROM indicators WHERE code = 'own-survey' AND NOT builtin")
            .await,
        1
    );
    // A partnership added later gets its copies from the trigger.
    old.db
        .execute_unprepared("INSERT INTO partnerships (slug, name, county) VALUES ('c', 'C', 'C')")
        .await
        .expect("c");
    assert_eq!(old.count(copies).await, 3);
    // The start-up's sync brings every copy up to date and adds the built-ins that are new.
    csphub::db::indicator::sync_builtin(&old.db)
        .await
        .expect("sync");
    let builtins = i64::try_from(csphub::domain::indicator::builtin().len()).expect("n");
    for slug in ["a", "b", "c"] {
        assert_eq!(
            old.count(&format!(
                "SELECT count(*) AS n FROM indicators i JOIN partnerships p ON p.id = i.partnership_id \
                 WHERE p.slug = '{slug}' AND i.builtin AND i.name <> 'Old name'"
            ))
            .await,
            builtins,
            "{slug}"
        );
    }
    assert_eq!(
        old.count("SELECT count(*) AS n FROM indicator_definitions")
            .await,
        builtins
    );
    // An indicator of a partnership's own with a built-in's code is refused by the index.
    let e = old
        .db
        .execute_unprepared(
            "INSERT INTO indicators (partnership_id, code, name, kind, created_by_sub) \
             SELECT id, 'burglary', 'Mine', 'EXTERNAL', 'x' FROM partnerships WHERE slug = 'b'",
        )
        .await
        .expect_err("taken");
    assert!(e.to_string().contains("indicators_code"), "{e}");
    old.drop().await;
}
