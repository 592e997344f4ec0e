//! data.police.uk's vocabularies, places and files (issue 11): its crime categories and outcomes
//! with their own codes, labels and history, as partners push them and as its files name them.

mod common;

use common::*;
use serde_json::{Value, json};

fn record(r: &str, category: &str, at: &str, outcome: Option<&str>) -> Value {
    let mut v = json!({"externalRef": r, "category": category, "occurredAt": at, "area": "north"});
    if let Some(o) = outcome {
        v["outcome"] = json!(o);
    }
    v
}

#[tokio::test]
async fn vocabularies_carry_data_police_uks_labels_history_and_other_names() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            "{ vocabularies(vocabulary: OUTCOME) { code label aliases validFrom validTo } }",
            json!({}),
            Some(&app.council()),
        )
        .await;
    let terms = r.data()["vocabularies"].as_array().expect("terms").clone();
    assert_eq!(terms.len(), 28, "{terms:?}");
    let term = |code: &str| {
        terms
            .iter()
            .find(|t| t["code"] == code)
            .unwrap_or_else(|| panic!("no {code}"))
            .clone()
    };
    assert_eq!(term("cautioned")["label"], "Offender given a caution");
    assert_eq!(term("cautioned")["aliases"], json!(["Offender cautioned"]));
    assert_eq!(
        term("penalty-notice-issued")["aliases"],
        json!(["Offender given penalty notice"])
    );
    assert_eq!(
        term("drugs-possession-warning")["label"],
        "Offender given a drugs possession warning"
    );
    assert_eq!(term("imprisoned")["label"], "Offender sent to prison");
    assert_eq!(term("fined")["validTo"], Value::Null);

    let r = app
        .gql(
            "{ before: vocabularies(vocabulary: CRIME_CATEGORY, on: \"2011-01-01\") { code label }
               after: vocabularies(vocabulary: CRIME_CATEGORY, on: \"2013-05-01\") { code label } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let pairs = |key: &str| -> Vec<(String, String)> {
        r.data()[key]
            .as_array()
            .expect("terms")
            .iter()
            .map(|t| {
                (
                    t["code"].as_str().expect("code").to_owned(),
                    t["label"].as_str().expect("label").to_owned(),
                )
            })
            .filter(|(c, _)| c != "deliberate-fire")
            .collect()
    };
    let launch: Vec<(String, String)> = [
        ("anti-social-behaviour", "Anti-social behaviour"),
        ("burglary", "Burglary"),
        ("other-crime", "Other crime"),
        ("robbery", "Robbery"),
        ("vehicle-crime", "Vehicle crime"),
        ("violent-crime", "Violent crime"),
    ]
    .iter()
    .map(|(c, l)| ((*c).to_owned(), (*l).to_owned()))
    .collect();
    assert_eq!(pairs("before"), launch);
    let after = pairs("after");
    assert_eq!(after.len(), 14, "{after:?}");
    assert!(after.contains(&(
        "violent-crime".to_owned(),
        "Violence and sexual offences".to_owned()
    )));
    assert!(!after.iter().any(|(c, _)| c == "public-disorder-weapons"));
}

#[tokio::test]
async fn records_validate_against_what_data_police_uk_had_in_force_that_month() {
    let app = TestApp::spawn().await;
    app.testshire().await;
    let police = app.token_for("police", "herts-police", &["testshire"], &[]);
    let r = app
        .push_incidents(
            &police,
            &[
                record(
                    "P-1",
                    "drugs",
                    "2015-05-03T10:00:00Z",
                    Some("drugs-possession-warning"),
                ),
                record(
                    "P-2",
                    "shoplifting",
                    "2012-02-03T10:00:00Z",
                    Some("sentenced-in-another-case"),
                ),
                record("P-3", "criminal-damage-arson", "2011-08-31T10:00:00Z", None),
                record(
                    "P-4",
                    "other-crime",
                    "2011-08-31T10:00:00Z",
                    Some("imprisoned"),
                ),
                record(
                    "P-5",
                    "burglary",
                    "2015-05-03T10:00:00Z",
                    Some("Offender cautioned"),
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["created"], 3, "{}", r.body);
    let rejected: Vec<(i64, &str)> = r.body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|x| {
            (
                x["index"].as_i64().expect("i"),
                x["code"].as_str().expect("c"),
            )
        })
        .collect();
    // A push sends codes: a name is for files, which the importer maps.
    assert_eq!(
        rejected,
        vec![(2, "CATEGORY_NOT_IN_FORCE"), (4, "UNKNOWN_VALUE")]
    );
}

#[tokio::test]
async fn terms_a_release_no_longer_ships_are_removed_at_start() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    // As an earlier release left them: shoplifting from May 2013 and a label since changed.
    app.db
        .execute_unprepared(
            "INSERT INTO vocabulary_terms (vocabulary, code, label, valid_from) \
             VALUES ('CRIME_CATEGORY', 'shoplifting', 'Shoplifting', '2013-05-01'); \
             UPDATE vocabulary_terms SET label = 'Offender cautioned', aliases = '{}' \
             WHERE vocabulary = 'OUTCOME' AND code = 'cautioned'",
        )
        .await
        .expect("old terms");
    csphub::db::vocabulary::sync_builtin(&app.db)
        .await
        .expect("sync");
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM vocabulary_terms \
             WHERE code = 'shoplifting' AND valid_from = '2013-05-01'"
        )
        .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM vocabulary_terms WHERE code = 'cautioned' \
             AND label = 'Offender given a caution' AND aliases = '{Offender cautioned}'"
        )
        .await,
        1
    );
}

fn placed(r: &str, area: Option<&str>, lsoa: Option<&str>) -> Value {
    let mut v =
        json!({"externalRef": r, "category": "burglary", "occurredAt": "2015-05-03T10:00:00Z"});
    if let Some(a) = area {
        v["area"] = json!(a);
    }
    if let Some(l) = lsoa {
        v["lsoa"] = json!(l);
    }
    v
}

/// `(area, count)` of incidentStats by AREA over a period.
async fn by_area(app: &TestApp, token: &str, period: Value) -> Vec<(Value, Value)> {
    let r = app
        .gql(
            "query($p: PeriodInput!) { incidentStats(filter: {partnership: \"testshire\", period: $p}, groupBy: [AREA]) { rows { area count } } }",
            json!({"p": period}),
            Some(token),
        )
        .await;
    r.data()["incidentStats"]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|row| (row["area"].clone(), row["count"].clone()))
        .collect()
}

#[tokio::test]
async fn records_without_a_location_have_no_area_and_count_under_no_area() {
    let app = TestApp::spawn().await;
    app.testshire().await;
    let police = app.token_for("police", "herts-police", &["testshire"], &[]);
    let mut records: Vec<Value> = (0..6)
        .map(|i| placed(&format!("NL-{i}"), None, None))
        .collect();
    records.extend((0..5).map(|i| placed(&format!("N-{i}"), Some("north"), None)));
    let r = app.push_incidents(&police, &records).await;
    assert_eq!(r.body["created"], 11, "{}", r.body);

    let expected = vec![(json!("no-area"), json!(6)), (json!("north"), json!(5))];
    // Whole months (the monthly counts) and days (the records) agree.
    assert_eq!(
        by_area(&app, &police, json!({"month": "2015-05"})).await,
        expected
    );
    assert_eq!(
        by_area(
            &app,
            &police,
            json!({"from": "2015-05-01", "to": "2015-05-20"})
        )
        .await,
        expected
    );
    let r = app
        .gql(
            "{ incidents(filter: {partnership: \"testshire\", areas: [\"no-area\"]}) { totalCount nodes { externalRef area lsoa } } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["incidents"]["totalCount"], 6, "{:?}", r.body);
    assert_eq!(r.data()["incidents"]["nodes"][0]["area"], Value::Null);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents WHERE area_id IS NULL")
            .await,
        6
    );

    // The PCC's table set counts them in an area of their own, which adds up to all areas.
    let pcc = app.token_for("pcc", "herts-pcc", &["testshire"], &[]);
    let pcc_rows = by_area(&app, &pcc, json!({"month": "2015-05"})).await;
    assert_eq!(pcc_rows, expected, "{pcc_rows:?}");

    // No area may take the code.
    let coordinator = app.token_for(
        "council",
        "stevenage-council",
        &["testshire"],
        &["coordinator"],
    );
    let r = app
        .gql(
            "mutation { createArea(input: {partnership: \"testshire\", code: \"no-area\", name: \"Nowhere\", kind: WARD}) { id } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{:?}", r.body);
}

#[tokio::test]
async fn areas_list_their_lsoas_and_a_record_may_give_its_lsoa_instead_of_its_area() {
    let app = TestApp::spawn().await;
    app.testshire().await;
    let coordinator = app.token_for(
        "council",
        "stevenage-council",
        &["testshire"],
        &["coordinator"],
    );
    let r = app
        .gql(
            "mutation { createArea(input: {partnership: \"testshire\", code: \"east\", name: \"East\", kind: WARD, lsoas: [\"e01023720 \", \"E01023721\", \"E01023720\"]}) { code lsoas } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(
        r.data()["createArea"],
        json!({"code": "east", "lsoas": ["E01023720", "E01023721"]}),
        "{:?}",
        r.body
    );
    // An LSOA belongs to one area; a code that is not an LSOA's is refused.
    let north = app
        .gql(
            "{ areas(partnership: \"testshire\") { id code } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    let north_id = north.data()["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .find(|a| a["code"] == "north")
        .map(|a| a["id"].clone())
        .expect("north");
    let update = "mutation($id: ID!, $l: [String!]) { updateArea(input: {areaId: $id, lsoas: $l}) { code lsoas } }";
    let r = app
        .gql(
            update,
            json!({"id": north_id, "l": ["E01023721"]}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert!(r.message().contains("'east'"), "{}", r.message());
    let r = app
        .gql(
            update,
            json!({"id": north_id, "l": ["SG1 1HN"]}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let r = app
        .gql(
            update,
            json!({"id": north_id, "l": ["W01000001"]}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(
        r.data()["updateArea"],
        json!({"code": "north", "lsoas": ["W01000001"]})
    );

    let police = app.token_for("police", "herts-police", &["testshire"], &[]);
    let r = app
        .push_incidents(
            &police,
            &[
                placed("L-1", None, Some("E01023720")),
                placed("L-2", Some("east"), Some("E01023721")),
                placed("L-3", None, Some("E01099999")),
                placed("L-4", Some("north"), Some("E01023720")),
                placed("L-5", None, Some("not-an-lsoa")),
                placed("L-6", Some("south"), Some("E01099999")),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rejected: Vec<(i64, &str)> = r.body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|x| {
            (
                x["index"].as_i64().expect("i"),
                x["code"].as_str().expect("c"),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            (2, "UNKNOWN_LSOA"),
            (3, "INCONSISTENT"),
            (4, "INVALID_LSOA")
        ]
    );
    let r = app
        .gql(
            "{ incidents(filter: {partnership: \"testshire\"}) { nodes { externalRef area lsoa } } }",
            json!({}),
            Some(&police),
        )
        .await;
    let mut nodes = r.data()["incidents"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    nodes.sort_by_key(|n| n["externalRef"].as_str().map(str::to_owned));
    assert_eq!(
        Value::Array(nodes),
        json!([
            {"externalRef": "L-1", "area": "east", "lsoa": "E01023720"},
            {"externalRef": "L-2", "area": "east", "lsoa": "E01023721"},
            {"externalRef": "L-6", "area": "south", "lsoa": "E01099999"},
        ])
    );
    // The same push again changes nothing.
    let again = app
        .push_incidents(
            &police,
            &[
                placed("L-1", None, Some("E01023720")),
                placed("L-2", Some("east"), Some("E01023721")),
            ],
        )
        .await;
    assert_eq!(again.body["unchanged"], 2, "{}", again.body);

    // The demo's wards list their (fictional) LSOAs.
    let r = app
        .gql(
            "{ areas(partnership: \"stevenage\") { code lsoas } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let old_town = r.data()["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .find(|a| a["code"] == "old-town")
        .cloned()
        .expect("old town");
    assert_eq!(old_town["lsoas"].as_array().map(Vec::len), Some(3));
}
