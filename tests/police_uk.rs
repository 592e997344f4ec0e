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
