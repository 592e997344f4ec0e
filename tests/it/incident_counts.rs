//! The monthly incident counts the database keeps as incidents change (`incident_counts`), which
//! statistics over whole months read instead of the records: they must always agree with the
//! records, through pushes, changes, cancellations, deletions, folding and concurrent pushes.

use crate::common::*;
use serde_json::{Value, json};

async fn testshire(app: &TestApp) {
    app.testshire().await;
}

const CATEGORIES: [&str; 4] = [
    "burglary",
    "shoplifting",
    "vehicle-crime",
    "criminal-damage-arson",
];

/// `n` records whose category, month, area and flags vary with their number and `salt`.
fn records(prefix: &str, n: usize, salt: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let k = i + salt;
            json!({
                "externalRef": format!("{prefix}-{i:04}"),
                "category": CATEGORIES[k % 4],
                "occurredAt": format!("2015-{:02}-{:02}T12:00:00Z", 1 + k % 6, 1 + k % 28),
                "area": if k.is_multiple_of(3) { "south" } else { "north" },
                "domesticAbuse": k.is_multiple_of(5),
                "alcoholRelated": k.is_multiple_of(7),
                "youthRelated": k.is_multiple_of(2),
            })
        })
        .collect()
}

async fn push(app: &TestApp, token: &str, records: &[Value]) -> Value {
    let r = app.push_incidents(token, records).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["rejected"], json!([]), "{}", r.body);
    r.body
}

const KEY: &str = "partnership_id, month, category, area_id, source_agency_id, domestic_abuse, \
                   alcohol_related, youth_related, status";

/// Keys whose count differs between the monthly counts and the records (every status), both
/// ways, and keys whose latest receipt is earlier than their records' latest change.
async fn disagreements(app: &TestApp) -> i64 {
    app.count(&format!(
        "WITH kept AS (SELECT {KEY}, sum(n) AS n FROM incident_counts GROUP BY {KEY} HAVING sum(n) <> 0),
              held AS (SELECT partnership_id, date_trunc('month', occurred_on)::date AS month, category, area_id,
                         source_agency_id, domestic_abuse, alcohol_related, youth_related, status, count(*) AS n
                       FROM incidents GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9),
              kept_at AS (SELECT {KEY}, max(last_at) AS at FROM incident_counts GROUP BY {KEY} HAVING sum(n) <> 0),
              held_at AS (SELECT partnership_id, date_trunc('month', occurred_on)::date AS month, category, area_id,
                         source_agency_id, domestic_abuse, alcohol_related, youth_related, status, max(updated_at) AS at
                       FROM incidents GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9)
         SELECT ((SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM held) a)
               + (SELECT count(*) FROM (SELECT * FROM held EXCEPT SELECT * FROM kept) b)
               + (SELECT count(*) FROM kept_at k JOIN held_at h USING ({KEY})
                  WHERE k.at IS NULL OR k.at < h.at))::bigint AS n"
    ))
    .await
}

const STATS: &str = "query($f: IncidentFilterInput!, $g: [StatsDimension!]!) {
  incidentStats(filter: $f, groupBy: $g) {
    rows { category area month quarter sourceAgency count } total { count } } }";

/// `(category, area, month, agency) -> count` of the API's rows.
fn rows(r: &Resp) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = r.data()["incidentStats"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let key = ["category", "area", "month", "quarter", "sourceAgency"]
                .iter()
                .map(|k| row[*k].as_str().unwrap_or("-"))
                .collect::<Vec<_>>()
                .join("/");
            (key, row["count"].as_i64().expect("count"))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_monthly_counts_agree_with_the_records_through_pushes_changes_cancellations_and_deletions()
 {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = app.token_for("police", "herts-police", &["testshire"], &[]);
    let fire = app.token_for("fire", "herts-fire", &["testshire"], &[]);

    let first = records("P", 240, 0);
    assert_eq!(push(&app, &police, &first).await["created"], 240);
    assert_eq!(push(&app, &fire, &records("F", 60, 1)).await["created"], 60);
    assert_eq!(disagreements(&app).await, 0);

    // Changes: every third record moves category, month, area and flags; every tenth is
    // cancelled; the rest are replayed unchanged.
    let mut changed = records("P", 240, 0);
    for (i, r) in changed.iter_mut().enumerate() {
        if i % 3 == 0 {
            *r = records("P", 240, 1)[i].clone();
        }
        if i % 10 == 0 {
            r["status"] = json!("CANCELLED");
            r["cancelReason"] = json!("no-crime");
        }
    }
    let report = push(&app, &police, &changed).await;
    assert_eq!(report["updated"], 96, "{report}");
    assert_eq!(disagreements(&app).await, 0);

    // A cancelled record made ACTIVE again counts again.
    let mut revived = changed[10].clone();
    revived["status"] = json!("ACTIVE");
    revived
        .as_object_mut()
        .expect("object")
        .remove("cancelReason");
    assert_eq!(push(&app, &police, &[revived]).await["updated"], 1);
    assert_eq!(disagreements(&app).await, 0);

    // Records removed by the database's owner (retention, a correction) stop counting.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "DELETE FROM incidents WHERE external_ref LIKE 'F-000%' AND revision = 1",
        )
        .await
        .expect("delete");
    assert!(
        app.count("SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'F-%'")
            .await
            < 60
    );
    assert_eq!(disagreements(&app).await, 0);

    // Statistics over whole months read the counts and give what the records give.
    app.take_statements();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"month": "2015-03"}),
            vec!["CATEGORY", "AREA", "SOURCE_AGENCY"],
        ),
        (json!({"quarter": "2014/15 Q4"}), vec!["MONTH", "CATEGORY"]),
        (
            json!({"from": "2015-01-01", "to": "2015-06-30"}),
            vec!["QUARTER", "AREA"],
        ),
        (json!({"financialYear": "2015/16"}), vec![]),
    ];
    for (period, group_by) in cases {
        for extra in [
            json!({}),
            json!({"domesticAbuse": true}),
            json!({"alcoholRelated": false, "areas": ["north"]}),
            json!({"categories": ["burglary", "shoplifting"], "sourceAgencies": ["herts-police"]}),
            json!({"youthRelated": true, "domesticAbuse": false}),
        ] {
            let mut f = json!({"partnership": "testshire", "period": period});
            for (k, v) in extra.as_object().expect("object") {
                f[k] = v.clone();
            }
            let monthly = app
                .gql(STATS, json!({"f": f, "g": group_by}), Some(&police))
                .await;
            assert!(monthly.body.get("errors").is_none(), "{}", monthly.body);
            let read: Vec<String> = app.take_statements();
            assert!(
                read.iter().any(|s| s.contains("FROM incident_counts i")),
                "whole months read the monthly counts: {read:?}"
            );
            assert!(
                !read.iter().any(|s| s.contains("FROM incidents i")),
                "whole months do not read the records: {read:?}"
            );
            // The same figures from the records, counted here.
            let total: i64 = monthly.data()["incidentStats"]["total"]["count"]
                .as_i64()
                .expect("total");
            let expected = expected_total(&app, &f).await;
            assert_eq!(total, expected, "{f} {group_by:?}");
            let sum: i64 = rows(&monthly).iter().map(|(_, n)| n).sum();
            if !group_by.is_empty() {
                assert_eq!(sum, expected, "{f} {group_by:?}");
            }
        }
    }

    // Part of a month reads the records, and agrees with the counts where they overlap.
    let part = app
        .gql(
            STATS,
            json!({"f": {"partnership": "testshire", "period": {"from": "2015-03-01", "to": "2015-03-30"}},
                   "g": ["CATEGORY"]}),
            Some(&police),
        )
        .await;
    assert!(part.body.get("errors").is_none(), "{}", part.body);
    assert!(
        app.take_statements()
            .iter()
            .any(|s| s.contains("FROM incidents i"))
    );
    let whole = app
        .gql(
            STATS,
            json!({"f": {"partnership": "testshire", "period": {"month": "2015-03"}}, "g": ["CATEGORY"]}),
            Some(&police),
        )
        .await;
    let on_31st = app
        .count(
            "SELECT count(*) AS n FROM incidents WHERE status = 'ACTIVE' AND occurred_on = '2015-03-31'
               AND partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire')",
        )
        .await;
    let sum = |r: &Resp| -> i64 { rows(r).iter().map(|(_, n)| n).sum() };
    assert_eq!(sum(&whole), sum(&part) + on_31st);
}

/// The ACTIVE records of testshire a statistics filter of `f`'s shape matches, counted here.
async fn expected_total(app: &TestApp, f: &Value) -> i64 {
    let p = &f["period"];
    let (from, to) = if let Some(m) = p["month"].as_str() {
        (
            format!("{m}-01"),
            format!("(DATE '{m}-01' + interval '1 month' - interval '1 day')::date"),
        )
    } else if p["quarter"].as_str() == Some("2014/15 Q4") {
        ("2015-01-01".to_owned(), "DATE '2015-03-31'".to_owned())
    } else if p["financialYear"].as_str() == Some("2015/16") {
        ("2015-04-01".to_owned(), "DATE '2016-03-31'".to_owned())
    } else {
        (
            p["from"].as_str().expect("from").to_owned(),
            format!("DATE '{}'", p["to"].as_str().expect("to")),
        )
    };
    let mut sql = format!(
        "SELECT count(*) AS n FROM incidents i WHERE i.status = 'ACTIVE'
           AND i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire')
           AND i.occurred_on BETWEEN DATE '{from}' AND {to}"
    );
    for (field, column) in [
        ("domesticAbuse", "domestic_abuse"),
        ("alcoholRelated", "alcohol_related"),
        ("youthRelated", "youth_related"),
    ] {
        if let Some(v) = f[field].as_bool() {
            sql.push_str(&format!(" AND i.{column} = {v}"));
        }
    }
    if f["areas"].is_array() {
        sql.push_str(" AND i.area_id IN (SELECT id FROM areas WHERE code = 'north')");
    }
    if f["categories"].is_array() {
        sql.push_str(" AND i.category IN ('burglary', 'shoplifting')");
    }
    if f["sourceAgencies"].is_array() {
        sql.push_str(
            " AND i.source_agency_id = (SELECT id FROM agencies WHERE slug = 'herts-police')",
        );
    }
    app.count(&sql).await
}

#[tokio::test]
async fn folding_the_counts_changes_no_figure_and_concurrent_pushes_never_wait_on_each_other() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = app.token_for("police", "herts-police", &["testshire"], &[]);

    // Six pushes at once by one agency, each creating and changing records of the same months,
    // categories and areas: none fails (no deadlock on shared counts), and the counts agree.
    for r in 0..2 {
        let pushes = (0..6).map(|k| {
            let app = &app;
            let police = &police;
            async move {
                let batch = records(&format!("C{k}"), 150, r);
                push(app, police, &batch).await
            }
        });
        let reports = futures_util::future::join_all(pushes).await;
        for report in reports {
            let done =
                report["created"].as_i64().unwrap_or(0) + report["updated"].as_i64().unwrap_or(0);
            assert_eq!(done, 150, "{report}");
        }
    }
    assert_eq!(disagreements(&app).await, 0);

    let q = json!({"f": {"partnership": "testshire", "period": {"financialYear": "2014/15"}},
                   "g": ["MONTH", "CATEGORY", "AREA"]});
    let before = rows(&app.gql(STATS, q.clone(), Some(&police)).await);
    assert!(!before.is_empty());
    // Both monthly counts are folded: by status and flags, and by place (the PCC's LSOAs).
    const BOTH: &str = "SELECT (SELECT count(*) FROM incident_counts) + (SELECT count(*) FROM incident_place_counts) AS n";
    let appended = app.count(BOTH).await;

    let server = app.server_db().await;
    let removed = csphub::db::incident::fold_counts(&server)
        .await
        .expect("fold")
        .expect("not busy");
    let folded = app.count(BOTH).await;
    assert!(removed > 0, "{appended} rows, {removed} removed");
    assert_eq!(folded, appended - removed);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incident_place_counts").await,
        app.count("SELECT count(*) AS n FROM (SELECT DISTINCT partnership_id, date_trunc('month', occurred_on), area_id, lsoa,
                     domestic_abuse FROM incidents WHERE status = 'ACTIVE') k")
            .await,
        "one row per place key after folding"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incident_counts").await,
        app.count("SELECT count(*) AS n FROM (SELECT DISTINCT partnership_id, date_trunc('month', occurred_on), category, area_id,
                     source_agency_id, domestic_abuse, alcohol_related, youth_related, status FROM incidents) k")
            .await,
        "one row per key after folding"
    );
    assert_eq!(disagreements(&app).await, 0);
    assert_eq!(
        rows(&app.gql(STATS, q.clone(), Some(&police)).await),
        before
    );
    // Folding again removes nothing.
    assert_eq!(
        csphub::db::incident::fold_counts(&server)
            .await
            .expect("fold"),
        Some(0)
    );
}

const TOTAL: &str =
    "query($f: IncidentFilterInput!) { incidents(filter: $f, first: 1) { totalCount } }";

/// The records of testshire `f` matches (any status unless it names one), counted here.
async fn records_matching(app: &TestApp, f: &Value) -> i64 {
    let mut sql = "SELECT count(*) AS n FROM incidents i
           WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire')"
        .to_owned();
    if let Some(from) = f["period"]["from"].as_str() {
        sql.push_str(&format!(" AND i.occurred_on >= DATE '{from}'"));
    }
    if let Some(to) = f["period"]["to"].as_str() {
        sql.push_str(&format!(" AND i.occurred_on <= DATE '{to}'"));
    }
    if let Some(s) = f["status"].as_str() {
        sql.push_str(&format!(" AND i.status = '{s}'"));
    }
    if let Some(h) = f["hateStrand"].as_str() {
        sql.push_str(&format!(" AND '{h}' = ANY(i.hate_strands)"));
    }
    if let Some(v) = f["domesticAbuse"].as_bool() {
        sql.push_str(&format!(" AND i.domestic_abuse = {v}"));
    }
    if let Some(c) = f["categories"][0].as_str() {
        sql.push_str(&format!(" AND i.category = '{c}'"));
    }
    match f["areas"][0].as_str() {
        Some("no-area") => sql.push_str(" AND i.area_id IS NULL"),
        Some(a) => sql.push_str(&format!(
            " AND i.area_id = (SELECT id FROM areas WHERE code = '{a}')"
        )),
        None => {}
    }
    app.count(&sql).await
}

#[tokio::test]
async fn total_counts_and_data_freshness_read_the_monthly_counts_and_agree_with_the_records() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = app.token_for("police", "herts-police", &["testshire"], &[]);
    let fire = app.token_for("fire", "herts-fire", &["testshire"], &[]);
    let mut police_records = records("P", 200, 0);
    for (i, r) in police_records.iter_mut().enumerate() {
        if i % 9 == 0 {
            r.as_object_mut().expect("object").remove("area");
        }
        if i % 11 == 0 {
            r["hateStrands"] = json!(["race"]);
        }
    }
    push(&app, &police, &police_records).await;
    push(&app, &fire, &records("F", 50, 2)).await;
    // Changes and cancellations after the first push.
    let mut changed = police_records.clone();
    for (i, r) in changed.iter_mut().enumerate() {
        if i % 4 == 0 {
            r["status"] = json!("CANCELLED");
            r["cancelReason"] = json!("no-crime");
        }
        if i % 6 == 0 {
            r["category"] = json!("shoplifting");
        }
    }
    push(&app, &police, &changed).await;
    assert_eq!(disagreements(&app).await, 0);

    let filters = [
        json!({}),
        json!({"status": "ACTIVE"}),
        json!({"status": "CANCELLED"}),
        json!({"categories": ["burglary"], "areas": ["north"]}),
        json!({"areas": ["no-area"], "domesticAbuse": false}),
        json!({"period": {"from": "2015-02-01", "to": "2015-04-30"}}),
        json!({"period": {"from": "2015-02-10", "to": "2015-05-03"}, "status": "ACTIVE"}),
        json!({"period": {"from": "2015-03-05", "to": "2015-03-20"}}),
        json!({"period": {"from": "2015-03-05", "to": "2015-04-20"}, "categories": ["burglary"]}),
        json!({"period": {"from": "2014-12-31", "to": "2015-02-28"}}),
        json!({"hateStrand": "race"}),
        json!({"hateStrand": "race", "period": {"from": "2015-01-01", "to": "2015-03-31"}}),
    ];
    for extra in filters {
        let mut f = json!({"partnership": "testshire"});
        for (k, v) in extra.as_object().expect("object") {
            f[k] = v.clone();
        }
        app.take_statements();
        let r = app.gql(TOTAL, json!({"f": f}), Some(&police)).await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
        let total = r.data()["incidents"]["totalCount"].as_i64().expect("count");
        let expected = records_matching(&app, &f).await;
        assert!(expected > 0, "{f} matches records");
        assert_eq!(total, expected, "{f}");
        let read = app.take_statements();
        let monthly = read.iter().any(|s| s.contains("FROM incident_counts i"));
        // A period with no whole month inside reads the records alone.
        let whole_months =
            f["hateStrand"].is_null() && f["period"]["from"].as_str() != Some("2015-03-05");
        assert_eq!(monthly, whole_months, "{f}: {read:?}");
    }

    // dataFreshness: per agency and month, the records of any status, and when the last changed.
    let q = "query { dataFreshness(partnership: \"testshire\", fromMonth: \"2014-12\", toMonth: \"2015-07\") {
        agencies { agency { slug } months { month records hasRecords lastReceivedAt } } } }";
    let r = app.gql(q, json!({}), Some(&police)).await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let mut checked = 0;
    for agency in r.data()["dataFreshness"]["agencies"]
        .as_array()
        .expect("agencies")
    {
        let slug = agency["agency"]["slug"].as_str().expect("slug");
        for m in agency["months"].as_array().expect("months") {
            let month = m["month"].as_str().expect("month");
            let held = app
                .count(&format!(
                    "SELECT count(*) AS n FROM incidents i JOIN agencies a ON a.id = i.source_agency_id
                     WHERE a.slug = '{slug}' AND to_char(i.occurred_on, 'YYYY-MM') = '{month}'
                       AND i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire')"
                ))
                .await;
            assert_eq!(m["records"].as_i64(), Some(held), "{slug} {month}");
            assert_eq!(m["hasRecords"].as_bool(), Some(held > 0));
            let latest = app
                .count(&format!(
                    "SELECT coalesce((extract(epoch FROM max(i.updated_at)) * 1000000)::bigint, -1) AS n
                     FROM incidents i JOIN agencies a ON a.id = i.source_agency_id
                     WHERE a.slug = '{slug}' AND to_char(i.occurred_on, 'YYYY-MM') = '{month}'
                       AND i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire')"
                ))
                .await;
            let got = m["lastReceivedAt"].as_str().map_or(-1, |s| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .expect("RFC 3339")
                    .timestamp_micros()
            });
            assert_eq!(got, latest, "{slug} {month}");
            if held > 0 {
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "{checked} months held");

    // The fold touches only keys with more than one row: folded once, a push into one key
    // adds one row, and folding again removes just that one.
    let server = app.server_db().await;
    csphub::db::incident::fold_counts(&server)
        .await
        .expect("fold")
        .expect("not busy");
    let mut again = police_records[1].clone();
    again["outcome"] = json!("charged");
    push(&app, &police, &[again]).await;
    assert_eq!(
        csphub::db::incident::fold_counts(&server)
            .await
            .expect("fold"),
        Some(1)
    );
    assert_eq!(disagreements(&app).await, 0);
}
