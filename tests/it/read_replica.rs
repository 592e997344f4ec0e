//! `DATABASE_READ_URL`: statistics, reports and exports read from the read replica (here a
//! second database that does not follow the first, so where each read went shows in its
//! answer); writes, plans and case data stay on the primary.

use crate::common::*;
use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use serde_json::json;

const JUNE: &str = "{incidentStats(filter: {partnership: \"stevenage\", period: {from: \"2025-06-01\", to: \"2025-06-30\"}}) { total { count } } }";

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(csphub::db::stmt(sql, []))
        .await
        .expect("query")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n")
}

#[tokio::test]
async fn statistics_reports_and_exports_read_from_the_replica_and_the_rest_from_the_primary() {
    let replica_name = database_from_template().await;
    let replica = connect(&replica_name).await;
    let mut config = test_config();
    config.database_read_url = Some(SecretString::from(format!("{}/{replica_name}", server())));
    let app = TestApp::spawn_with(config).await;
    // The replica's plan has a title of its own, so a read from it shows.
    replica
        .execute_unprepared("UPDATE plans SET title = 'Read from the replica'")
        .await
        .expect("mark the replica");

    // A push writes to the primary only.
    let police = app.police();
    let records: Vec<_> = (0..3)
        .map(|i| {
            json!({"externalRef": format!("RR-{i}"), "category": "burglary",
                        "occurredAt": "2025-06-10T10:00:00Z", "area": "bedwell"})
        })
        .collect();
    let r = app.push_incidents(&police, &records).await;
    assert_eq!(r.body["created"], 3, "{}", r.body);
    let june = "SELECT count(*) AS n FROM incidents WHERE partnership_id = \
                (SELECT id FROM partnerships WHERE slug = 'stevenage') AND status = 'ACTIVE' \
                AND occurred_on BETWEEN '2025-06-01' AND '2025-06-30'";
    let on_primary = count(&app.db, june).await;
    let on_replica = count(&replica, june).await;
    assert_eq!(on_primary, on_replica + 3);

    // Statistics: the replica's figure.
    let r = app.gql(JUNE, json!({}), Some(&police)).await;
    assert_eq!(
        r.data()["incidentStats"]["total"]["count"],
        json!(on_replica),
        "statistics did not read from the replica"
    );

    // The export: the replica's rows (none of the new ones).
    let csv = app
        .client
        .get(app.url("/api/v1/incidents.csv?partnership=stevenage"))
        .bearer_auth(&police)
        .send()
        .await
        .expect("export");
    assert_eq!(csv.status(), 200);
    let body = csv.text().await.expect("csv");
    assert!(body.lines().count() > 1, "the export has rows");
    assert!(
        !body.contains("RR-0"),
        "the export did not read from the replica"
    );

    // A report: the replica's plan title.
    let plan = app.plan_id("2014/15").await;
    let report = app
        .client
        .get(app.url(&format!(
            "/api/v1/reports/rag-update.csv?planId={plan}&quarter=2014/15%20Q3"
        )))
        .bearer_auth(&police)
        .send()
        .await
        .expect("report");
    assert_eq!(report.status(), 200);
    let body = report.text().await.expect("csv");
    assert!(
        body.contains("Read from the replica"),
        "the report did not read from the replica: {body}"
    );

    // Plans (not heavy) and the incident list read from the primary.
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { title } }",
            json!({"id": plan}),
            Some(&police),
        )
        .await;
    assert_ne!(r.data()["plan"]["title"], "Read from the replica");
    // And nothing was written to the replica.
    assert_eq!(
        count(
            &replica,
            "SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'RR-%'"
        )
        .await,
        0
    );
}
