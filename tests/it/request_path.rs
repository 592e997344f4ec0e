//! The request path: one connection and one transaction per request, the caller in
//! transaction-local settings, and no more statements than a query has levels.

use crate::common;

use std::time::Duration;

use crate::common::{TestApp, test_config};
use csphub::db::request::{Caller, ParkedConnections, RequestDb, begin, finish, open_as, read};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use serde_json::json;

const PAGE: &str = "query($id: ID!) { plan(id: $id) { title priorities { position title \
    actions { ref title leadAgency { name } status } } } }";

/// A pool of `size` connections to the test's database, connected as the server's.
async fn pool_of(app: &TestApp, size: u32) -> sea_orm::DatabaseConnection {
    let mut settings = test_config().db;
    settings.pool_size = size;
    csphub::db::connect(&app.config.database_url, &settings)
        .await
        .expect("pool")
}

async fn setting(txn: &impl ConnectionTrait, sql: &str) -> Option<String> {
    let row = txn
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT ({sql})::text AS v"),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<Option<String>>("", "v").expect("value")
}

#[tokio::test]
async fn the_plan_page_is_one_statement_after_the_caller_and_matches_the_level_by_level_answer() {
    let app = TestApp::spawn().await;
    let id = app.plan_id("2014/15").await;
    app.take_statements();
    let page = app.gql(PAGE, json!({"id": id}), Some(&app.police())).await;
    let statements = app.take_statements();
    // The caller was resolved by the request before (`plan_id`, same token): the page is the
    // request's only statement (BEGIN and COMMIT aside).
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert!(statements[0].contains("AS page"), "{statements:#?}");

    let plan = &page.data()["plan"];
    let priorities = plan["priorities"].as_array().expect("priorities");
    assert_eq!(priorities.len(), 6);
    let actions: Vec<&serde_json::Value> = priorities
        .iter()
        .flat_map(|p| p["actions"].as_array().expect("actions"))
        .collect();
    assert!(actions.len() > 30, "{}", actions.len());
    assert!(actions.iter().all(|a| a["leadAgency"]["name"].is_string()));
    assert_eq!(priorities[0]["actions"][0]["ref"], "1.1");

    // Every field, through the page's one statement and through the loaders (a list of
    // plans, level by level): the two agree exactly.
    let fields = "id title financialYear status draftNumber signedOffBy signedOffOn \
        ratifiedMeeting ratifiedOn closedAt createdAt partnership \
        priorities { id position title description actions { id ref title description measure \
        targetDate leadOfficer addedInQuarter version removal { reason decidedBy decidedOn \
        fromQuarter recordedBy recordedAt } leadAgency { slug name kind } status } } \
        actions { id ref status leadAgency { slug } }";
    let page = app
        .gql(
            &format!("query($id: ID!) {{ plan(id: $id) {{ {fields} }} }}"),
            json!({"id": id}),
            Some(&app.police()),
        )
        .await;
    let listed = app
        .gql(
            &format!("{{ plans(first: 2) {{ nodes {{ {fields} }} }} }}"),
            json!({}),
            Some(&app.police()),
        )
        .await;
    let same = listed.data()["plans"]["nodes"]
        .as_array()
        .expect("plans")
        .iter()
        .find(|p| p["id"] == id.as_str())
        .expect("the plan is listed")
        .clone();
    assert_eq!(same, page.data()["plan"]);
    let removed = same["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["status"] == "REMOVED")
        .count();
    assert!(
        removed > 0,
        "the demo plan has removed actions, so removal is compared"
    );
}

/// The raw text of a GraphQL answer, so that the order of its keys is compared too.
async fn raw(app: &TestApp, query: &str, id: &str, token: &str) -> String {
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": {"id": id}}))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

#[tokio::test]
async fn the_page_the_database_builds_is_exactly_the_field_by_field_answer() {
    let app = TestApp::spawn().await;
    let police = app.police();
    // Every shape the database builds: every field it knows at every level, aliases (also
    // the same field twice under two keys), __typename, the plan's own action list, selections
    // in unusual orders.
    let selections = [
        "title priorities { position title actions { ref title leadAgency { name } status } }",
        "__typename id partnership financialYear title status draftNumber signedOffBy signedOffOn          ratifiedMeeting ratifiedOn priorities { __typename id position title description          actions { __typename id ref title description measure targetDate leadOfficer          addedInQuarter version status leadAgency { __typename slug name kind } } }",
        "actions { status ref } t: title",
        "first: priorities { p: position } second: priorities { title actions { id } }          a: actions { leadAgency { kind slug } lead: leadAgency { name } s: status r: ref }",
        "status title",
    ];
    for years in ["2014/15", "2015/16"] {
        let id = app.plan_id(years).await;
        for selection in selections {
            let built_query = format!("query($id: ID!) {{ plan(id: $id) {{ {selection} }} }}");
            app.take_statements();
            let built = raw(&app, &built_query, &id, &police).await;
            let statements = app.take_statements();
            assert_eq!(statements.len(), 1, "{selection}: {statements:#?}");
            assert!(statements[0].contains("AS page"), "{selection}");
            // A fragment that adds only a type name sends the same selection the ordinary way.
            let ordinary_query = format!(
                "query($id: ID!) {{ plan(id: $id) {{ ...on Plan {{ marker: __typename }} {selection} }} }}"
            );
            let ordinary = raw(&app, &ordinary_query, &id, &police).await;
            let st = app.take_statements();
            assert!(
                !st.iter().any(|s| s.contains("AS page")),
                "{selection}: a fragment takes the ordinary path {st:#?}"
            );
            let ordinary = ordinary.replacen("\"marker\":\"Plan\",", "", 1);
            assert!(!built.contains("errors"), "{built}");
            assert_eq!(built, ordinary, "{selection}");
        }
    }

    // A plan outside the token's partnerships is NOT_FOUND, as on the ordinary path, and an id
    // that is not one is BAD_USER_INPUT.
    let id = app.plan_id("2014/15").await;
    let elsewhere = app.token_for("police", "herts-police", &["north-herts"], &[]);
    let page = format!(
        "query($id: ID!) {{ plan(id: $id) {{ {} }} }}",
        selections[0]
    );
    let r = app.gql(&page, json!({"id": id}), Some(&elsewhere)).await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);
    assert_eq!(r.body["data"], serde_json::Value::Null, "{}", r.body);
    let r = app
        .gql(&page, json!({"id": "not-a-uuid"}), Some(&police))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    // Fields it does not build (timestamps, histories, arguments) take the ordinary path.
    for selection in [
        "createdAt title",
        "priorities { actions { progressHistory { quarter } } }",
        "actions { status(quarter: \"2014/15 Q2\") }",
        "lifecycle { step }",
        "...on Plan { title }",
    ] {
        let q = format!("query($id: ID!) {{ plan(id: $id) {{ {selection} }} }}");
        app.take_statements();
        let r = app.gql(&q, json!({"id": id}), Some(&police)).await;
        assert!(r.body.get("errors").is_none(), "{selection}: {}", r.body);
        assert!(
            !app.take_statements().iter().any(|s| s.contains("AS page")),
            "{selection}"
        );
    }
}

#[tokio::test]
async fn nested_lists_cost_one_statement_per_level_however_many_plans() {
    let app = TestApp::spawn().await;
    app.take_statements();
    let r = app
        .gql(
            "{ plans { nodes { title priorities { title actions { ref leadAgency { name } status } } } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let plans = r.data()["plans"]["nodes"].as_array().expect("plans");
    assert_eq!(plans.len(), 2, "both demo plans");
    assert!(
        plans
            .iter()
            .all(|p| !p["priorities"].as_array().expect("p").is_empty())
    );
    let statements = app.take_statements();
    // The caller, the plans, their priorities, the priorities' actions, and the actions' lead
    // agencies and progress (one statement each, whatever the number of rows).
    assert_eq!(statements.len(), 6, "{statements:#?}");
}

#[tokio::test]
async fn a_caller_is_resolved_once_in_a_while_but_case_data_always_sets_the_caller() {
    use sea_orm::ConnectionTrait;
    let mut config = test_config();
    config.caller_cache = Duration::from_millis(400);
    let app = TestApp::spawn_with(config).await;
    let police = app.police();
    let plans = "{ plans { nodes { financialYear } } }";
    let opened = |statements: &[String]| {
        statements
            .iter()
            .filter(|s| s.contains("set_config('csphub.agency_id'"))
            .count()
    };
    app.take_statements();
    assert!(app.gql(plans, json!({}), Some(&police)).await.body["errors"].is_null());
    assert_eq!(
        opened(&app.take_statements()),
        1,
        "the first request finds its caller"
    );
    assert!(app.gql(plans, json!({}), Some(&police)).await.body["errors"].is_null());
    let statements = app.take_statements();
    assert_eq!(opened(&statements), 0, "{statements:#?}");
    assert_eq!(statements.len(), 1, "only the plans: {statements:#?}");

    // Case data needs the caller in the transaction for row-level security: always set.
    let caseworker = app.token("police", "herts-police", &["caseworker"]);
    for _ in 0..2 {
        let r = app
            .gql("{ cases { totalCount } }", json!({}), Some(&caseworker))
            .await;
        assert!(r.body["errors"].is_null(), "{}", r.body);
        assert!(r.data()["cases"]["totalCount"].is_i64(), "{}", r.body);
        assert_eq!(opened(&app.take_statements()), 1);
    }
    // So does heavy work (its statement budget goes with the caller).
    let stats =
        "{ incidentStats(filter: {period: {financialYear: \"2014/15\"}}) { total { count } } }";
    for _ in 0..2 {
        assert!(app.gql(stats, json!({}), Some(&police)).await.body["errors"].is_null());
        assert_eq!(opened(&app.take_statements()), 1);
    }

    // A partnership the agency has just joined is seen at once: a token naming one the
    // agency is not in is never kept.
    let newcomer = app.token_for("police", "herts-police", &["newtown"], &[]);
    let r = app.gql(plans, json!({}), Some(&newcomer)).await;
    assert_eq!(r.data()["plans"]["nodes"], json!([]), "{}", r.body);
    app.db
        .execute_unprepared(
            "INSERT INTO partnerships (slug, name, county) VALUES ('newtown', 'Newtown', 'Hertfordshire');
             INSERT INTO agency_partnerships SELECT a.id, p.id FROM agencies a, partnerships p
               WHERE a.slug = 'herts-police' AND p.slug = 'newtown';
             INSERT INTO plans (partnership_id, financial_year, title)
               SELECT id, '2016/17', 'Newtown plan' FROM partnerships WHERE slug = 'newtown';",
        )
        .await
        .expect("newtown");
    let r = app.gql(plans, json!({}), Some(&newcomer)).await;
    assert_eq!(
        r.data()["plans"]["nodes"],
        json!([{"financialYear": "2016/17"}]),
        "{}",
        r.body
    );

    // Leaving it takes effect within the cache's time (here 400 ms).
    app.db
        .execute_unprepared(
            "DELETE FROM agency_partnerships WHERE partnership_id = (SELECT id FROM partnerships WHERE slug = 'newtown')",
        )
        .await
        .expect("leave");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let r = app.gql(plans, json!({}), Some(&newcomer)).await;
    assert_eq!(r.data()["plans"]["nodes"], json!([]), "{}", r.body);
}

#[tokio::test]
async fn the_caller_lives_in_the_transaction_and_leaves_with_it() {
    let app = TestApp::spawn().await;
    // One connection, so the second transaction runs on the very same one.
    let pool = pool_of(&app, 1).await;
    let partnerships = vec!["stevenage".to_owned(), "elsewhere".to_owned()];
    let caller = Caller {
        sub: "officer-1",
        role: "police",
        agency: "herts-police",
        partnerships: &partnerships,
        heavy_budget: Some(Duration::from_secs(20)),
        generic_plans: true,
    };
    let txn = std::sync::Arc::new(begin(&pool, None).await.expect("begin"));
    let (agency, scope) = open_as(&txn, &caller)
        .await
        .expect("open")
        .expect("a registered agency");
    assert_eq!(agency.slug, "herts-police");
    assert_eq!(scope.len(), 1, "only the partnerships the agency is in");
    let stevenage = scope[0].id.to_string();
    assert_eq!(
        setting(&*txn, "current_setting('csphub.agency_id', true)").await,
        Some(agency.id.to_string())
    );
    assert_eq!(
        setting(&*txn, "current_setting('csphub.partnership_ids', true)").await,
        Some(stevenage)
    );
    assert_eq!(
        setting(&*txn, "current_setting('csphub.sub', true)").await,
        Some("officer-1".to_owned())
    );
    assert_eq!(
        setting(&*txn, "current_setting('csphub.role', true)").await,
        Some("police".to_owned())
    );
    assert_eq!(
        setting(&*txn, "current_setting('statement_timeout')").await,
        Some("20s".to_owned())
    );
    assert_eq!(
        setting(&*txn, "current_setting('plan_cache_mode')").await,
        Some("force_generic_plan".to_owned())
    );
    finish(txn, true).await.expect("commit");

    let next = std::sync::Arc::new(begin(&pool, None).await.expect("begin"));
    for name in ["agency_id", "partnership_ids", "sub", "role"] {
        let left = setting(&*next, &format!("current_setting('csphub.{name}', true)")).await;
        assert!(left.as_deref().unwrap_or("").is_empty(), "{name}: {left:?}");
    }
    let budget = setting(&*next, "current_setting('statement_timeout')").await;
    assert_ne!(
        budget.as_deref(),
        Some("20s"),
        "the heavy budget ended with its request"
    );
    assert_ne!(budget.as_deref(), Some("0"), "the pool's budget is back");
    assert_eq!(
        setting(&*next, "current_setting('plan_cache_mode')").await,
        Some("auto".to_owned()),
        "generic plans ended with their request"
    );
    finish(next, false).await.expect("rollback");

    // An unregistered agency sets nothing.
    let txn = std::sync::Arc::new(begin(&pool, None).await.expect("begin"));
    let nobody = Caller {
        agency: "no-such-agency",
        ..caller
    };
    assert!(open_as(&txn, &nobody).await.expect("open").is_none());
    let left = setting(&*txn, "current_setting('csphub.sub', true)").await;
    assert!(left.as_deref().unwrap_or("").is_empty(), "{left:?}");
    finish(txn, false).await.expect("rollback");
}

#[tokio::test]
async fn each_mutation_of_a_request_reads_what_the_one_before_wrote() {
    let app = TestApp::spawn().await;
    let (id, version) = app.action("2014/15", "6.10").await;
    let r = app
        .gql(
            "mutation($id: ID!, $v: Int!, $w: Int!) {
               a: updateAction(input: {actionId: $id, version: $v, leadOfficer: \"First\"}) { status progressHistory { quarter } }
               b: recordProgress(input: {actionId: $id, quarter: \"2014/15 Q4\", status: COMPLETE}) { id }
               c: updateAction(input: {actionId: $id, version: $w, leadOfficer: \"Second\"}) { leadOfficer status progressHistory { quarter } }
             }",
            json!({"id": id, "v": version, "w": version + 1}),
            Some(&app.coordinator()),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let d = r.data();
    assert_ne!(d["a"]["status"], "COMPLETE");
    assert_eq!(d["c"]["leadOfficer"], "Second");
    assert_eq!(d["c"]["status"], "COMPLETE");
    assert_eq!(
        d["c"]["progressHistory"].as_array().expect("history").len(),
        d["a"]["progressHistory"].as_array().expect("history").len() + 1
    );
}

#[tokio::test]
async fn a_failed_mutation_leaves_the_earlier_ones_of_its_request_in_place() {
    let app = TestApp::spawn().await;
    let (id, version) = app.action("2014/15", "6.10").await;
    let r = app
        .gql(
            "mutation($id: ID!, $v: Int!) {
               a: updateAction(input: {actionId: $id, version: $v, leadOfficer: \"Kept\"}) { leadOfficer }
               b: updateAction(input: {actionId: $id, version: $v, leadOfficer: \"Stale\"}) { leadOfficer }
             }",
            json!({"id": id, "v": version}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.body["data"]["a"]["leadOfficer"], "Kept", "{}", r.body);
    assert_eq!(r.code(), "CONFLICT");
    let title = app
        .count(&format!(
            "SELECT count(*) AS n FROM actions WHERE id = '{id}' AND lead_officer = 'Kept'"
        ))
        .await;
    assert_eq!(title, 1);
}

/// Holds `table` locked, sends `query` and, while its statement waits on the lock, reads from
/// `pg_stat_activity` whether it runs in a transaction begun before it (`BEGIN`) or on its own.
/// Returns that and the answer once the lock is let go.
async fn waiting_request(
    app: &TestApp,
    table: &str,
    query: &str,
    token: &str,
) -> (bool, common::Resp) {
    let lock = app.db.begin().await.expect("begin");
    lock.execute_unprepared(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .await
        .expect("lock");
    let request = app.gql(query, json!({}), Some(token));
    let watch = async {
        for _ in 0..200 {
            let row = app
                .db
                .query_one_raw(Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT xact_start < query_start AS begun_before FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock' \
                       AND pid <> pg_backend_pid()",
                ))
                .await
                .expect("activity");
            if let Some(row) = row {
                let begun_before: bool = row.try_get("", "begun_before").expect("begun_before");
                lock.rollback().await.expect("unlock");
                return begun_before;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the request never waited on the lock of {table}");
    };
    let (answer, in_transaction) = tokio::join!(request, watch);
    (in_transaction, answer)
}

#[tokio::test]
async fn reads_run_on_their_connection_without_a_transaction_and_case_data_in_one() {
    let app = TestApp::spawn().await;
    let police = app.police();
    // A second request, so that its caller comes from the cache and the plans are its first
    // statement: on the read lane no BEGIN came before it.
    assert!(
        app.gql("{ plans { nodes { title } } }", json!({}), Some(&police))
            .await
            .body["errors"]
            .is_null()
    );
    let (in_transaction, answer) =
        waiting_request(&app, "plans", "{ plans { nodes { title } } }", &police).await;
    assert!(!in_transaction, "a query of plans needs no transaction");
    assert!(answer.body["errors"].is_null(), "{}", answer.body);
    assert_eq!(
        answer.data()["plans"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );

    // Case data reads under row-level security, whose settings live in a transaction.
    let caseworker = app.token("police", "herts-police", &["caseworker"]);
    let (in_transaction, answer) =
        waiting_request(&app, "cases", "{ cases { totalCount } }", &caseworker).await;
    assert!(in_transaction, "case data is read in a transaction");
    assert!(
        answer.data()["cases"]["totalCount"].is_i64(),
        "{}",
        answer.body
    );

    // So are writes: a mutation is one transaction, whatever it reads first.
    let plan_id = app.plan_id("2015/16").await;
    let (in_transaction, answer) = waiting_request(
        &app,
        "plans",
        &format!(
            "mutation {{ addPriority(input: {{planId: \"{plan_id}\", position: 7, title: \"Lock test\"}}) {{ id }} }}"
        ),
        &app.coordinator(),
    )
    .await;
    assert!(in_transaction, "a mutation runs in a transaction");
    assert!(
        answer.data()["addPriority"]["id"].is_string(),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn the_read_lane_keeps_no_caller_and_fails_with_the_same_codes() {
    let mut config = test_config();
    config.db.statement_timeout = Duration::from_millis(300);
    let app = TestApp::spawn_with(config).await;
    // One connection: everything below runs on the very same one.
    let pool = pool_of(&app, 1).await;
    let partnerships = vec!["stevenage".to_owned()];
    let caller = Caller {
        sub: "officer-1",
        role: "police",
        agency: "herts-police",
        partnerships: &partnerships,
        heavy_budget: None,
        generic_plans: false,
    };
    let lane = std::sync::Arc::new(read(&pool, None, None).await.expect("read lane"));
    assert!(matches!(*lane, RequestDb::Read(_)));
    let (agency, scope) = open_as(&lane, &caller)
        .await
        .expect("open")
        .expect("registered");
    assert_eq!(agency.slug, "herts-police");
    assert_eq!(scope.len(), 1);
    // Without a transaction the settings end with the statement that wrote them: the next
    // statement, on the same connection, sees no caller, so row-level security shows no case.
    for name in ["agency_id", "partnership_ids", "sub", "role"] {
        let left = setting(&*lane, &format!("current_setting('csphub.{name}', true)")).await;
        assert!(left.as_deref().unwrap_or("").is_empty(), "{name}: {left:?}");
    }
    // Work that needs a transaction refuses to run here rather than run without one.
    assert!(lane.txn().is_err());
    assert!(lane.begin().await.is_err());
    finish(lane, true).await.expect("nothing to end");

    // Over HTTP: a read that outlasts the statement timeout is TIMEOUT, as in a transaction.
    let police = app.police();
    let lock = app.db.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE plans IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let r = app
        .gql("{ plans { nodes { title } } }", json!({}), Some(&police))
        .await;
    lock.rollback().await.expect("unlock");
    assert_eq!(r.code(), "TIMEOUT", "{}", r.body);
    // And the connection is fine afterwards.
    let r = app
        .gql("{ plans { nodes { title } } }", json!({}), Some(&police))
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
}

/// A server whose request pool has `size` connections (one heavy request at a time).
async fn app_with_pool(size: u32) -> TestApp {
    let mut config = test_config();
    config.db.pool_size = size;
    config.db.heavy_concurrency = 1;
    TestApp::spawn_with(config).await
}

/// How many of the server's connections last ran the `plans` query's statement.
async fn connections_that_read_plans(app: &TestApp) -> i64 {
    app.count(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
           AND pid <> pg_backend_pid() AND query LIKE '%ORDER BY pa.slug, p.financial_year%'",
    )
    .await
}

#[tokio::test]
async fn reads_one_after_another_reuse_one_connection_without_giving_it_back() {
    let app = app_with_pool(3).await;
    let police = app.police();
    // The pool opens its three connections at once and hands out the longest idle first, so
    // reads whose connections went back to it would rotate over all three. A read's connection
    // is parked for the next read instead (no round trip to give it back and check it).
    for _ in 0..12 {
        let r = app
            .gql("{ plans { nodes { title } } }", json!({}), Some(&police))
            .await;
        assert!(r.body["errors"].is_null(), "{}", r.body);
    }
    assert_eq!(connections_that_read_plans(&app).await, 1);
}

/// Sends `count` reads of plans at once while `plans` is locked, so that each holds a
/// connection until the lock goes; then all of them finish and park their connections.
async fn park_connections(app: &TestApp, count: usize, token: &str) {
    let lock = app.db.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE plans IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let reads = futures_util::future::join_all(
        (0..count).map(|_| app.gql("{ plans { nodes { title } } }", json!({}), Some(token))),
    );
    let unlock = async {
        for _ in 0..200 {
            let waiting = app
                .count(
                    "SELECT count(*) AS n FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .await;
            if waiting == i64::try_from(count).expect("count") {
                lock.rollback().await.expect("unlock");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the reads never all waited on the lock");
    };
    let (answers, ()) = tokio::join!(reads, unlock);
    for r in answers {
        assert!(r.body["errors"].is_null(), "{}", r.body);
    }
}

#[tokio::test]
async fn parked_connections_never_keep_a_transaction_from_the_pool() {
    let app = app_with_pool(2).await;
    let police = app.police();
    assert!(
        app.gql("{ plans { nodes { title } } }", json!({}), Some(&police))
            .await
            .body["errors"]
            .is_null()
    );
    // Both of the pool's connections parked by reads: the pool has none free.
    park_connections(&app, 2, &police).await;
    // A mutation (a transaction) gets one at once rather than wait out the acquire timeout
    // (1 s) and answer UNAVAILABLE; so do case data and statistics.
    let plan_id = app.plan_id("2015/16").await;
    let started = std::time::Instant::now();
    let r = app
        .gql(
            &format!(
                "mutation {{ addPriority(input: {{planId: \"{plan_id}\", position: 7, title: \"Parked\"}}) {{ id }} }}"
            ),
            json!({}),
            Some(&app.coordinator()),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    park_connections(&app, 2, &police).await;
    let caseworker = app.token("police", "herts-police", &["caseworker"]);
    let r = app
        .gql("{ cases { totalCount } }", json!({}), Some(&caseworker))
        .await;
    assert!(r.data()["cases"]["totalCount"].is_i64(), "{}", r.body);
    park_connections(&app, 2, &police).await;
    let r = app
        .gql(
            "{ incidentStats(filter: {partnership: \"stevenage\", period: {month: \"2016-10\"}}) { total { count } } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert!(
        r.data()["incidentStats"]["total"]["count"].is_i64(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn under_a_stream_of_reads_transactions_still_get_connections() {
    let app = app_with_pool(2).await;
    let police = app.police();
    let caseworker = app.token("police", "herts-police", &["caseworker"]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    // Six readers for two connections: every read that ends could hand its connection to the
    // next read for ever. Transactions in between must still get theirs from the pool.
    let readers = futures_util::future::join_all((0..6).map(|_| async {
        let mut served = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let r = app
                .gql("{ plans { nodes { title } } }", json!({}), Some(&police))
                .await;
            assert!(r.body["errors"].is_null(), "{}", r.body);
            served += 1;
        }
        served
    }));
    let transactions = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..15 {
            let r = app
                .gql("{ cases { totalCount } }", json!({}), Some(&caseworker))
                .await;
            assert!(r.data()["cases"]["totalCount"].is_i64(), "{}", r.body);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (served, ()) = tokio::join!(readers, transactions);
    assert!(served.iter().all(|n| *n > 0), "{served:?}");
}

async fn backend_pid(lane: &RequestDb) -> i32 {
    let row = lane
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_backend_pid() AS pid",
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get("", "pid").expect("pid")
}

#[tokio::test]
async fn a_connection_is_parked_only_after_a_clean_read_and_only_for_so_long() {
    let app = TestApp::spawn().await;
    let pool = pool_of(&app, 3).await;
    let take = |parked: &std::sync::Arc<ParkedConnections>| {
        let (pool, parked) = (pool.clone(), parked.clone());
        async move { std::sync::Arc::new(read(&pool, Some(&parked), None).await.expect("read lane")) }
    };
    let parked = std::sync::Arc::new(ParkedConnections::with_limits(
        Duration::from_millis(300),
        Duration::from_secs(300),
    ));
    // A clean read parks its connection, and the next read takes that very one.
    let lane = take(&parked).await;
    let first = backend_pid(&lane).await;
    finish(lane, true).await.expect("finish");
    assert_eq!(parked.len(), 1);
    let lane = take(&parked).await;
    assert_eq!(backend_pid(&lane).await, first);
    assert_eq!(parked.len(), 0);
    // A request that failed gives its connection back to the pool, which checks it.
    finish(lane, false).await.expect("finish");
    assert_eq!(parked.len(), 0);
    let lane = take(&parked).await;
    let second = backend_pid(&lane).await;
    finish(lane, true).await.expect("finish");
    assert_eq!(parked.len(), 1);
    // Parked too long (the database may have restarted since): back to the pool, and the read
    // takes the pool's longest idle connection instead.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let lane = take(&parked).await;
    assert_ne!(backend_pid(&lane).await, second);
    finish(lane, true).await.expect("finish");
    assert_eq!(parked.len(), 1);

    // Away from the pool too long: back to it at the end of the read, however busy.
    let parked = std::sync::Arc::new(ParkedConnections::with_limits(
        Duration::from_secs(10),
        Duration::from_millis(300),
    ));
    let lane = take(&parked).await;
    finish(lane, true).await.expect("finish");
    assert_eq!(parked.len(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let lane = take(&parked).await;
    finish(lane, true).await.expect("finish");
    assert_eq!(parked.len(), 0);
    parked.release_all();
}

/// A document's text and operation name, as a client posts them.
async fn named(app: &TestApp, query: &str, operation: &str) -> serde_json::Value {
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(app.police())
        .json(&json!({"query": query, "operationName": operation}))
        .send()
        .await
        .expect("request");
    r.json().await.expect("json")
}

#[tokio::test]
async fn a_document_skips_validation_only_once_it_passed_and_where_it_always_would() {
    let app = TestApp::spawn().await;
    // A document that fails validation (an unused fragment) is refused every time: failing
    // does not count as having passed. Without validation it would run.
    let unused = "{ plans { nodes { id } } } fragment F on Plan { id }";
    for _ in 0..3 {
        let r = app.gql(unused, json!({}), Some(&app.police())).await;
        assert!(r.message().contains("\"F\" is never used"), "{}", r.body);
        assert!(r.body["data"].is_null(), "{}", r.body);
    }
    // A document that passed runs again (without its rules) with the same answer, under the
    // operation name it passed with and under another one.
    let two = "query A { plans { nodes { id } } } query B { plans(first: 1) { nodes { id } } }";
    for _ in 0..3 {
        let a = named(&app, two, "A").await;
        assert_eq!(
            a["data"]["plans"]["nodes"].as_array().map(Vec::len),
            Some(2),
            "{a}"
        );
        let b = named(&app, two, "B").await;
        assert_eq!(
            b["data"]["plans"]["nodes"].as_array().map(Vec::len),
            Some(1),
            "{b}"
        );
        let c = named(&app, two, "C").await;
        assert_eq!(
            c["errors"][0]["message"], "Unknown operation named \"C\"",
            "{c}"
        );
    }
    // A document with variables is validated every time: its verdict depends on their values.
    let q = "query($n: Int) { plans(first: $n) { nodes { id } } }";
    let ok = app.gql(q, json!({"n": 1}), Some(&app.police())).await;
    assert_eq!(
        ok.data()["plans"]["nodes"].as_array().map(Vec::len),
        Some(1),
        "{}",
        ok.body
    );
    let bad = app.gql(q, json!({"n": "x"}), Some(&app.police())).await;
    assert!(
        bad.message()
            .starts_with("Invalid value for argument \"first\""),
        "{}",
        bad.body
    );
    assert!(bad.body["data"].is_null(), "{}", bad.body);
}

csphub::pg_row! {
    #[derive(Debug, PartialEq)]
    struct Decoded {
        id: i32,
        r#ref: String,
        note: Option<String>,
        on: Option<chrono::NaiveDate>,
    }
}

async fn decode(app: &TestApp, select: &str) -> Result<Vec<Decoded>, sea_orm::DbErr> {
    use sea_orm::FromQueryResult;
    Decoded::find_by_statement(Statement::from_string(
        sea_orm::DbBackend::Postgres,
        format!("SELECT * FROM ({select}) AS t ORDER BY id"),
    ))
    .all(&app.db)
    .await
}

/// Row types read their columns by position where the SELECT list follows the struct, by name
/// where it does not, and refuse what does not fit rather than reading it as NULL.
#[tokio::test]
async fn rows_read_by_position_or_by_name_and_refuse_missing_nulls_and_wrong_types() {
    let app = TestApp::spawn().await;
    let expected = vec![
        Decoded {
            id: 1,
            r#ref: "1.1".into(),
            note: None,
            on: Some(chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("date")),
        },
        Decoded {
            id: 2,
            r#ref: "1.2".into(),
            note: Some("kept".into()),
            on: None,
        },
    ];
    let rows = "VALUES (1, '1.1', NULL::text, DATE '2026-04-01'), (2, '1.2', 'kept', NULL)";
    // In the struct's order (by position), and reversed (by name): the same values.
    let in_order = format!(
        "SELECT column1 AS id, column2 AS ref, column3 AS note, column4 AS on FROM ({rows}) v"
    );
    assert_eq!(decode(&app, &in_order).await.expect("in order"), expected);
    let reversed = format!(
        "SELECT column4 AS on, column3 AS note, column2 AS ref, column1 AS id FROM ({rows}) v"
    );
    assert_eq!(decode(&app, &reversed).await.expect("reversed"), expected);
    // An extra column in between shifts positions; names still find the rest.
    let extra = format!(
        "SELECT column1 AS id, 'x' AS extra, column2 AS ref, column3 AS note, column4 AS on FROM ({rows}) v"
    );
    assert_eq!(decode(&app, &extra).await.expect("extra column"), expected);

    // A missing column is an error even for an Option field, not a silent NULL.
    let missing = format!("SELECT column1 AS id, column2 AS ref, column4 AS on FROM ({rows}) v");
    let err = decode(&app, &missing).await.expect_err("missing column");
    assert!(err.to_string().contains("column note"), "{err}");
    // NULL in a field that is not an Option, and a column of another type, are errors.
    let null = "SELECT 1 AS id, NULL::text AS ref, NULL::text AS note, NULL::date AS on";
    let err = decode(&app, null).await.expect_err("NULL ref");
    assert!(err.to_string().contains("column ref"), "{err}");
    let wrong = "SELECT 1::bigint AS id, 'r' AS ref, NULL::text AS note, NULL::date AS on";
    let err = decode(&app, wrong).await.expect_err("bigint into i32");
    assert!(err.to_string().contains("column id"), "{err}");
}
