//! data.police.uk's vocabularies, places and files (issue 11): its crime categories and outcomes
//! with their own codes, labels and history, as partners push them and as its files name them.

use crate::common::*;
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
            "{ vocabularies(vocabulary: OUTCOME) { nodes { code label aliases validFrom validTo } } }",
            json!({}),
            Some(&app.council()),
        )
        .await;
    let terms = r.data()["vocabularies"]["nodes"]
        .as_array()
        .expect("terms")
        .clone();
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
            "{ before: vocabularies(vocabulary: CRIME_CATEGORY, on: \"2011-01-01\") { nodes { code label } }
               after: vocabularies(vocabulary: CRIME_CATEGORY, on: \"2013-05-01\") { nodes { code label } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let pairs = |key: &str| -> Vec<(String, String)> {
        r.data()[key]["nodes"]
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
            "{ incidents(filter: {partnership: \"testshire\", areas: [\"no-area\"]}) { totalCount nodes { externalRef area { code } lsoa } } }",
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
            "{ areas(partnership: \"testshire\") { nodes { id code } } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    let north_id = north.data()["areas"]["nodes"]
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
            "{ incidents(filter: {partnership: \"testshire\"}) { nodes { externalRef area { code } lsoa } } }",
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
            {"externalRef": "L-1", "area": {"code": "east"}, "lsoa": "E01023720"},
            {"externalRef": "L-2", "area": {"code": "east"}, "lsoa": "E01023721"},
            {"externalRef": "L-6", "area": {"code": "south"}, "lsoa": "E01099999"},
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

    // The demo's wards list their real LSOAs of 2011, from the ONS's lookup to the wards of
    // 2019 (data/geography/E07000243).
    let r = app
        .gql(
            "{ areas(partnership: \"stevenage\") { nodes { code lsoas } } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    let old_town = r.data()["areas"]["nodes"]
        .as_array()
        .expect("areas")
        .iter()
        .find(|a| a["code"] == "old-town")
        .cloned()
        .expect("old town");
    assert_eq!(
        old_town["lsoas"],
        json!(["E01023775", "E01023776", "E01023777", "E01023778"])
    );
}

// ---- csphub import police-uk ----

const STREET_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context";
const OUTCOMES_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type";
const FORCE: &str = "Hertfordshire Constabulary";

/// The crime types of data.police.uk's current street files.
const CRIME_TYPES: [(&str, &str); 14] = [
    ("Anti-social behaviour", "anti-social-behaviour"),
    ("Bicycle theft", "bicycle-theft"),
    ("Burglary", "burglary"),
    ("Criminal damage and arson", "criminal-damage-arson"),
    ("Drugs", "drugs"),
    ("Other crime", "other-crime"),
    ("Other theft", "other-theft"),
    ("Possession of weapons", "possession-of-weapons"),
    ("Public order", "public-order"),
    ("Robbery", "robbery"),
    ("Shoplifting", "shoplifting"),
    ("Theft from the person", "theft-from-the-person"),
    ("Vehicle crime", "vehicle-crime"),
    ("Violence and sexual offences", "violent-crime"),
];

/// The outcome names of its street files ("Offender given penalty notice" as they spell it).
const OUTCOME_NAMES: [(&str, &str); 28] = [
    ("Awaiting court outcome", "awaiting-court-result"),
    ("Court result unavailable", "court-result-unavailable"),
    ("Court case unable to proceed", "unable-to-proceed"),
    ("Local resolution", "local-resolution"),
    (
        "Investigation complete; no suspect identified",
        "no-further-action",
    ),
    ("Offender deprived of property", "deprived-of-property"),
    ("Offender fined", "fined"),
    ("Offender given absolute discharge", "absolute-discharge"),
    ("Offender given a caution", "cautioned"),
    (
        "Offender given a drugs possession warning",
        "drugs-possession-warning",
    ),
    ("Offender given penalty notice", "penalty-notice-issued"),
    ("Offender given community sentence", "community-penalty"),
    (
        "Offender given conditional discharge",
        "conditional-discharge",
    ),
    (
        "Offender given suspended prison sentence",
        "suspended-sentence",
    ),
    ("Offender sent to prison", "imprisoned"),
    ("Offender otherwise dealt with", "other-court-disposal"),
    ("Offender ordered to pay compensation", "compensation"),
    (
        "Suspect charged as part of another case",
        "sentenced-in-another-case",
    ),
    ("Suspect charged", "charged"),
    ("Defendant found not guilty", "not-guilty"),
    ("Defendant sent to Crown Court", "sent-to-crown-court"),
    ("Unable to prosecute suspect", "unable-to-prosecute"),
    (
        "Formal action is not in the public interest",
        "formal-action-not-in-public-interest",
    ),
    (
        "Action to be taken by another organisation",
        "action-taken-by-another-organisation",
    ),
    (
        "Further investigation is not in the public interest",
        "further-investigation-not-in-public-interest",
    ),
    (
        "Further action is not in the public interest",
        "further-action-not-in-public-interest",
    ),
    ("Under investigation", "under-investigation"),
    ("Status update unavailable", "status-update-unavailable"),
];

/// A persistent crime id as data.police.uk makes them: 64 hexadecimal characters.
fn crime_id(n: usize) -> String {
    format!("{n:064x}")
}

fn street_row(
    id: &str,
    month: &str,
    place: (&str, &str, &str),
    crime: &str,
    outcome: &str,
) -> String {
    let (location, lsoa, coords) = place;
    let (lng, lat) = coords.split_once(' ').unwrap_or(("", ""));
    let lsoa_name = if lsoa.is_empty() {
        ""
    } else {
        "Testshire 001A"
    };
    format!(
        "{id},{month},{FORCE},{FORCE},{lng},{lat},{location},{lsoa},{lsoa_name},{crime},{outcome},"
    )
}

const NORTH: (&str, &str, &str) = (
    "On or near Parking Area",
    "E01000001",
    "-0.201946 51.905343",
);
const SOUTH: (&str, &str, &str) = ("On or near High Street", "E01000003", "-0.190001 51.899999");
const ELSEWHERE: (&str, &str, &str) = ("On or near Station Road", "E01099999", "-0.3 51.8");
const NOWHERE: (&str, &str, &str) = ("No location", "", "");

/// Testshire's areas list their LSOAs: north E01000001-2, south E01000003.
async fn lsoas(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    app.testshire().await;
    app.db
        .execute_unprepared(
            "INSERT INTO area_lsoas (partnership_id, lsoa, area_id)
             SELECT a.partnership_id, l, a.id FROM areas a
               JOIN partnerships p ON p.id = a.partnership_id AND p.slug = 'testshire',
               unnest(CASE a.code WHEN 'north' THEN ARRAY['E01000001', 'E01000002'] ELSE ARRAY['E01000003'] END) l",
        )
        .await
        .expect("lsoas");
}

fn import_police_uk(
    app: &TestApp,
    files: &[&std::path::Path],
    extra: &[&str],
) -> (i32, String, String) {
    import_into(app, "testshire", files, extra)
}

/// `csphub import police-uk FILES --agency herts-police --partnership P EXTRA...`: its exit
/// code, standard output (trimmed) and standard error.
fn import_into(
    app: &TestApp,
    partnership: &str,
    files: &[&std::path::Path],
    extra: &[&str],
) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["import", "police-uk"])
        .args(files)
        .args(["--agency", "herts-police", "--partnership", partnership])
        .args(extra)
        .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
        .output()
        .expect("import");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(app: &TestApp, name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", app.db_name));
    std::fs::write(&path, text).expect("write");
    path
}

async fn strings(app: &TestApp, sql: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    app.db
        .query_all_raw(csphub::db::stmt(sql, []))
        .await
        .expect("query")
        .iter()
        .map(|r| r.try_get::<String>("", "s").expect("s"))
        .collect()
}

#[tokio::test]
async fn a_street_file_imports_every_category_and_outcome_and_reimports_unchanged() {
    let app = TestApp::spawn().await;
    lsoas(&app).await;
    let mut rows = vec![format!("\u{feff}{STREET_HEADER}")];
    // Every crime type, in the north.
    for (i, (name, _)) in CRIME_TYPES.iter().enumerate().skip(1) {
        rows.push(street_row(
            &crime_id(i),
            "2015-05",
            NORTH,
            name,
            "Under investigation",
        ));
    }
    // Every outcome, on other thefts in the south.
    for (i, (name, _)) in OUTCOME_NAMES.iter().enumerate() {
        rows.push(street_row(
            &crime_id(100 + i),
            "2015-05",
            SOUTH,
            "Other theft",
            name,
        ));
    }
    // Anti-social behaviour has no crime id and no outcome; two at the same place are two.
    rows.push(street_row(
        "",
        "2015-05",
        NORTH,
        "Anti-social behaviour",
        "",
    ));
    rows.push(street_row(
        "",
        "2015-05",
        NORTH,
        "Anti-social behaviour",
        "",
    ));
    rows.push(street_row(
        "",
        "2015-05",
        SOUTH,
        "Anti-social behaviour",
        "",
    ));
    // Without a location; and in another district's LSOA.
    rows.push(street_row(
        &crime_id(200),
        "2015-05",
        NOWHERE,
        "Burglary",
        "Under investigation",
    ));
    rows.push(street_row(
        &crime_id(201),
        "2015-05",
        ELSEWHERE,
        "Burglary",
        "Under investigation",
    ));
    // An older month, in the categories of its day.
    rows.push(street_row(
        &crime_id(300),
        "2012-06",
        NORTH,
        "Public disorder and weapons",
        "Offender fined",
    ));
    rows.push(street_row(
        &crime_id(301),
        "2012-06",
        NORTH,
        "Violent crime",
        "Suspect charged",
    ));
    let file = write(
        &app,
        "2015-05-testshire-street.csv",
        &(rows.join("\r\n") + "\r\n"),
    );

    let (code, stdout, stderr) = import_police_uk(&app, &[&file], &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let total = 13 + 28 + 3 + 1 + 1 + 2;
    // Another district's row and the row without a location (the force area's) are counted
    // and left out.
    assert_eq!(
        stdout,
        format!(
            "{}: street CSV, {total} rows: created {}, updated 0, unchanged 0, rejected 0; \
             1 in LSOAs no area of testshire lists, skipped; 1 without a location, skipped \
             (the force area's, not the district's; --keep-no-location keeps them)",
            file.display(),
            total - 2
        )
    );
    // A force-level partnership keeps it, without an area.
    let (code, stdout, stderr) = import_police_uk(&app, &[&file], &["--keep-no-location"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.ends_with(&format!(
            "created 1, updated 0, unchanged {}, rejected 0; 1 in LSOAs no area of testshire lists, \
             skipped; 1 without a location, kept without an area",
            total - 2
        )),
        "{stdout}"
    );
    let categories = strings(&app, "SELECT DISTINCT category AS s FROM incidents i JOIN partnerships p ON p.id = i.partnership_id WHERE p.slug = 'testshire' ORDER BY 1").await;
    let mut expected: Vec<String> = CRIME_TYPES.iter().map(|(_, c)| (*c).to_owned()).collect();
    expected.push("public-disorder-weapons".to_owned());
    expected.sort();
    assert_eq!(categories, expected);
    let outcomes = strings(&app, "SELECT DISTINCT outcome AS s FROM incidents i WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire') AND outcome IS NOT NULL AND category = 'other-theft' ORDER BY 1").await;
    let mut expected: Vec<String> = OUTCOME_NAMES.iter().map(|(_, c)| (*c).to_owned()).collect();
    expected.sort();
    assert_eq!(outcomes, expected);
    // Places: the area that lists the LSOA, or none; never a coordinate or a street name.
    let places = strings(&app, "SELECT i.category || ' ' || coalesce(a.code, 'no-area') || ' ' || coalesce(i.lsoa, '-') || ' ' || count(*) AS s FROM incidents i LEFT JOIN areas a ON a.id = i.area_id WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire') AND i.category IN ('anti-social-behaviour', 'burglary') GROUP BY i.category, a.code, i.lsoa ORDER BY 1").await;
    assert_eq!(
        places,
        [
            "anti-social-behaviour north E01000001 2",
            "anti-social-behaviour south E01000003 1",
            "burglary no-area - 1",
            "burglary north E01000001 1",
        ]
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents i WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire') AND to_jsonb(i)::text ~ '(On or near|No location|51\\.9|0\\.20|Testshire 001A|Hertfordshire)'").await,
        0
    );
    let asb_refs = strings(&app, "SELECT external_ref AS s FROM incidents i WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire') AND category = 'anti-social-behaviour' ORDER BY 1").await;
    assert!(
        asb_refs.iter().all(|r| r.len() == 41 && r.starts_with('h')),
        "{asb_refs:?}"
    );

    // The same file again changes nothing.
    let (code, stdout, _) = import_police_uk(&app, &[&file], &["--keep-no-location"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(&format!(
            "created 0, updated 0, unchanged {}, rejected 0",
            total - 1
        )),
        "{stdout}"
    );
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn outcomes_files_update_crimes_held_and_api_json_keeps_their_places() {
    let app = TestApp::spawn().await;
    lsoas(&app).await;
    let street = write(
        &app,
        "street.csv",
        &[
            STREET_HEADER.to_owned(),
            street_row(
                &crime_id(1),
                "2015-05",
                NORTH,
                "Burglary",
                "Under investigation",
            ),
            street_row(
                &crime_id(2),
                "2015-05",
                SOUTH,
                "Robbery",
                "Under investigation",
            ),
        ]
        .join("\n"),
    );
    let outcome = |id: &str, month: &str, name: &str| {
        format!(
            "{id},{month},{FORCE},{FORCE},-0.2,51.9,On or near Parking Area,E01000001,Testshire 001A,{name}"
        )
    };
    let outcomes = write(
        &app,
        "outcomes.csv",
        &[
            format!("\u{feff}{OUTCOMES_HEADER}"),
            outcome(&crime_id(1), "2015-07", "Offender sent to prison"),
            outcome(&crime_id(1), "2015-06", "Suspect charged"),
            outcome(
                &crime_id(2),
                "2015-06",
                "Investigation complete; no suspect identified",
            ),
            outcome(&crime_id(9), "2015-06", "Suspect charged"),
            outcome(&crime_id(2), "2015-06", "Offender deported"),
        ]
        .join("\r\n"),
    );
    // Given outcomes first: crimes are imported first all the same.
    let (code, stdout, stderr) = import_police_uk(&app, &[&outcomes, &street], &[]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "{}: street CSV, 2 rows: created 2, updated 0, unchanged 0, rejected 0",
            street.display()
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "{}: outcomes CSV, 5 rows: created 0, updated 2, unchanged 0, rejected 1; 1 for crimes not held, skipped",
            outcomes.display()
        )
    );
    assert!(
        stderr.contains(&format!(
            "{}:6: {} UNKNOWN_VALUE",
            outcomes.display(),
            crime_id(2)
        )),
        "{stderr}"
    );
    let held = strings(&app, "SELECT category || ' ' || outcome || ' ' || revision AS s FROM incidents i WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire') AND category IN ('burglary', 'robbery') ORDER BY 1").await;
    assert_eq!(
        held,
        ["burglary imprisoned 2", "robbery no-further-action 2"]
    );

    // The API's JSON: a crime already held keeps its place; ASB and a crime without a location.
    // Testshire's LSOAs have no boundaries, so `--area` places the rest (and the summary says
    // why their points were not).
    let api = write(
        &app,
        "street-level-crimes.json",
        &json!([
            {"category": "burglary", "location_type": "Force", "location": {"latitude": "51.905343", "street": {"id": 1, "name": "On or near Parking Area"}, "longitude": "-0.201946"}, "context": "", "outcome_status": {"category": "Offender sent to prison", "date": "2015-07"}, "persistent_id": crime_id(1), "id": 1, "location_subtype": "", "month": "2015-05"},
            {"category": "anti-social-behaviour", "location_type": "Force", "location": {"latitude": "51.905343", "street": {"id": 1, "name": "On or near Parking Area"}, "longitude": "-0.201946"}, "context": "", "outcome_status": null, "persistent_id": "", "id": 2, "location_subtype": "", "month": "2015-05"},
            {"category": "drugs", "location_type": null, "location": null, "context": "", "outcome_status": {"category": "Offender given a drugs possession warning", "date": "2015-05"}, "persistent_id": crime_id(3), "id": 3, "location_subtype": "", "month": "2015-05"}
        ])
        .to_string(),
    );
    let (code, stdout, stderr) =
        import_police_uk(&app, &[&api], &["--area", "south", "--keep-no-location"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.ends_with("API street-level crimes JSON, 3 rows: created 2, updated 0, unchanged 1, rejected 0; 1 without a location, kept without an area; points not placed: the boundaries of 3 of testshire's LSOAs are not held (csphub import geography)"),
        "{stdout}"
    );
    let places = strings(&app, "SELECT i.category || ' ' || coalesce(a.code, 'no-area') || ' ' || coalesce(i.outcome, '-') AS s FROM incidents i LEFT JOIN areas a ON a.id = i.area_id WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'testshire') AND i.category IN ('burglary', 'anti-social-behaviour', 'drugs') ORDER BY 1").await;
    assert_eq!(
        places,
        [
            "anti-social-behaviour south -",
            "burglary north imprisoned",
            "drugs no-area drugs-possession-warning",
        ]
    );
    // And the outcomes file again changes nothing.
    let (_, stdout, _) = import_police_uk(&app, &[&outcomes], &[]);
    assert!(
        stdout.contains("updated 0, unchanged 2, rejected 1"),
        "{stdout}"
    );
    // The API says when each outcome was recorded: one of a month before the one held is not
    // taken; one of a later month is, and then an outcomes file of an earlier month is older.
    let burglary = |outcome: &str, date: &str| {
        write(
            &app,
            &format!("api-{date}.json"),
            &json!([{"category": "burglary", "location_type": "Force", "location": {"latitude": "51.905343", "street": {"id": 1, "name": "On or near Parking Area"}, "longitude": "-0.201946"}, "context": "", "outcome_status": {"category": outcome, "date": date}, "persistent_id": crime_id(1), "id": 1, "location_subtype": "", "month": "2015-05"}]).to_string(),
        )
    };
    let outcome_of_1 = || async {
        strings(
            &app,
            &format!(
                "SELECT outcome AS s FROM incidents WHERE external_ref = '{}'",
                crime_id(1)
            ),
        )
        .await
    };
    let earlier = burglary("Under investigation", "2015-06");
    let (code, stdout, stderr) = import_police_uk(&app, &[&earlier], &["--area", "south"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 keep the outcome an outcomes file gave them"),
        "{stdout}"
    );
    assert_eq!(outcome_of_1().await, ["imprisoned"]);
    let later = burglary("Offender fined", "2015-08");
    let (code, stdout, stderr) = import_police_uk(&app, &[&later], &["--area", "south"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(outcome_of_1().await, ["fined"]);
    let (_, stdout, _) = import_police_uk(&app, &[&outcomes], &[]);
    assert!(stdout.contains("1 older than the outcome held"), "{stdout}");
    assert_eq!(outcome_of_1().await, ["fined"]);
    for f in [street, outcomes, api, earlier, later] {
        let _ = std::fs::remove_file(f);
    }
}

#[tokio::test]
async fn a_bad_row_is_reported_by_its_line_and_the_rest_imported() {
    let app = TestApp::spawn().await;
    lsoas(&app).await;
    let file = write(
        &app,
        "bad.csv",
        &[
            format!("\u{feff}{STREET_HEADER}"),
            street_row(
                &crime_id(1),
                "2015-05",
                NORTH,
                "Burglary",
                "Under investigation",
            ),
            street_row(
                &crime_id(2),
                "2015-05",
                NORTH,
                "Public disorder and weapons",
                "",
            ),
            street_row(&crime_id(3), "May 2015", NORTH, "Burglary", ""),
            street_row(&crime_id(4), "2015-05", NORTH, "Jaywalking", ""),
            format!("{},2015-05,{FORCE}", crime_id(5)),
            street_row(
                &crime_id(6),
                "2015-05",
                NORTH,
                "Robbery",
                "Offender deported",
            ),
            String::new(),
        ]
        .join("\r\n"),
    );
    let (code, stdout, stderr) = import_police_uk(&app, &[&file], &[]);
    assert_eq!(code, 2);
    assert!(
        stdout.ends_with("street CSV, 6 rows: created 1, updated 0, unchanged 0, rejected 5"),
        "{stdout}"
    );
    let name = file.display().to_string();
    let got: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with(&name))
        .map(|l| {
            let rest = &l[name.len() + 1..];
            let mut parts = rest.splitn(3, ' ');
            let line = parts.next().unwrap_or("").trim_end_matches(':').to_owned();
            let _ref = parts.next();
            let code = parts
                .next()
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("")
                .to_owned();
            format!("{line} {code}")
        })
        .collect();
    assert_eq!(
        got,
        [
            "3 CATEGORY_NOT_IN_FORCE",
            "4 INVALID_DATE",
            "5 UNKNOWN_CATEGORY",
            "6 INVALID_RECORD",
            "7 UNKNOWN_VALUE",
        ],
        "{stderr}"
    );
    // A file that is none of data.police.uk's is refused whole.
    let other = write(
        &app,
        "stop-and-search.csv",
        "Type,Date,Part of a policing operation\nPerson search,2015-05-01,False\n",
    );
    let (code, _, stderr) = import_police_uk(&app, &[&other], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("not a data.police.uk street or outcomes file"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(other);
}

/// A county's files imported into two districts of the same force: each takes the rows in its
/// own LSOAs, neither takes the rows without a location (the force area's), and neither is
/// refused anything (before, the first district took them all and the second had every one
/// refused as UNKNOWN_PARTNERSHIP).
#[tokio::test]
async fn two_districts_import_the_same_county_file_with_nothing_misattributed_or_refused() {
    let app = TestApp::spawn().await;
    lsoas(&app).await;
    let stevenage_lsoa = strings(
        &app,
        "SELECT l.lsoa AS s FROM area_lsoas l JOIN partnerships p ON p.id = l.partnership_id \
         WHERE p.slug = 'stevenage' ORDER BY 1 LIMIT 1",
    )
    .await
    .pop()
    .expect("a Stevenage LSOA");
    let in_stevenage = (
        "On or near Bowling Green",
        stevenage_lsoa.as_str(),
        "-0.2 51.9",
    );
    let rows = [
        STREET_HEADER.to_owned(),
        street_row(
            &crime_id(1),
            "2024-01",
            NORTH,
            "Burglary",
            "Under investigation",
        ),
        street_row(
            &crime_id(2),
            "2024-01",
            in_stevenage,
            "Burglary",
            "Under investigation",
        ),
        street_row(
            &crime_id(3),
            "2024-01",
            NOWHERE,
            "Burglary",
            "Under investigation",
        ),
        street_row(
            &crime_id(4),
            "2024-01",
            NOWHERE,
            "Shoplifting",
            "Under investigation",
        ),
    ];
    let file = write(&app, "2024-01-county-street.csv", &(rows.join("\n") + "\n"));
    for partnership in ["testshire", "stevenage"] {
        let (code, stdout, stderr) = import_into(&app, partnership, &[&file], &[]);
        assert_eq!(code, 0, "{partnership}: {stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!(
                "4 rows: created 1, updated 0, unchanged 0, rejected 0; 1 in LSOAs no area of \
                 {partnership} lists, skipped; 2 without a location, skipped"
            )),
            "{partnership}: {stdout}"
        );
        assert!(stderr.is_empty(), "{partnership}: {stderr}");
    }
    let held = strings(
        &app,
        &format!(
            "SELECT p.slug || ' ' || right(i.external_ref, 1) AS s FROM incidents i \
             JOIN partnerships p ON p.id = i.partnership_id \
             WHERE i.external_ref IN ('{}', '{}', '{}', '{}') ORDER BY 1",
            crime_id(1),
            crime_id(2),
            crime_id(3),
            crime_id(4)
        ),
    )
    .await;
    assert_eq!(held, ["stevenage 2", "testshire 1"]);
    let _ = std::fs::remove_file(&file);
}

/// The code of an outcome's name in data.police.uk's files.
fn outcome_code(name: &str) -> String {
    OUTCOME_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| (*c).to_owned())
        .unwrap_or_else(|| panic!("outcome {name}"))
}

#[tokio::test]
async fn real_outcomes_of_eight_months_leave_each_crime_its_latest_outcome_in_any_order() {
    let app = TestApp::spawn().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/police_uk");
    let months = [
        "2021-06", "2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12", "2022-01",
    ];
    let street = std::path::PathBuf::from(format!("{dir}/2021-06-hertfordshire-street.csv"));
    let outcome_files: Vec<std::path::PathBuf> = months
        .iter()
        .map(|m| std::path::PathBuf::from(format!("{dir}/{m}-hertfordshire-outcomes.csv")))
        .collect();
    // What each crime should end with: the outcome of the latest month that gives one, else
    // the street file's.
    let mut expected: std::collections::BTreeMap<String, String> = Default::default();
    let read = |path: &std::path::Path| -> Vec<std::collections::HashMap<String, String>> {
        let text = std::fs::read_to_string(path).expect("read");
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        let header: Vec<String> = lines
            .next()
            .expect("header")
            .split(',')
            .map(str::to_owned)
            .collect();
        lines
            .map(|l| {
                // The files' fields hold no commas but in quoted LSOA names, which are not read.
                header
                    .iter()
                    .cloned()
                    .zip(l.split(',').map(str::to_owned))
                    .collect()
            })
            .collect()
    };
    for row in read(&street) {
        let id = &row["Crime ID"];
        if !id.is_empty() && row["LSOA code"].starts_with("E0102") {
            let last = row["Last outcome category"].trim();
            expected.insert(
                id.clone(),
                if last.is_empty() {
                    String::new()
                } else {
                    outcome_code(last)
                },
            );
        }
    }
    let mut later = 0;
    for path in &outcome_files {
        for row in read(path) {
            if let Some(e) = expected.get_mut(&row["Crime ID"]) {
                let code = outcome_code(row["Outcome type"].trim_end_matches('\r'));
                if *e != code {
                    later += 1;
                }
                *e = code;
            }
        }
    }
    assert!(later > 50, "{later}");
    let held = || async {
        strings(
            &app,
            "SELECT i.external_ref || ' ' || coalesce(i.outcome, '') AS s FROM incidents i \
             WHERE i.partnership_id = (SELECT id FROM partnerships WHERE slug = 'stevenage') \
               AND length(i.external_ref) = 64 ORDER BY 1",
        )
        .await
    };

    // The months given newest first, the street file last: crimes first, then the months
    // in order, whatever the order given.
    let mut files: Vec<&std::path::Path> =
        outcome_files.iter().rev().map(|p| p.as_path()).collect();
    files.push(&street);
    let (rc, out, err) = import_into(&app, "stevenage", &files, &[]);
    assert_eq!(rc, 0, "{out}\n{err}");
    let got = held().await;
    let want: Vec<String> = expected
        .iter()
        .filter(|(id, _)| got.iter().any(|g| g.starts_with(id.as_str())))
        .map(|(id, o)| format!("{id} {o}"))
        .collect();
    assert!(got.len() > 600, "{}", got.len());
    assert_eq!(got, want);
    assert!(out.lines().all(|l| l.contains("rejected 0")), "{out}");
    // Applied month by month: the street file, then June 2021 to January 2022.
    let order: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split('/').next_back()?.get(..7))
        .collect();
    assert_eq!(order[0], "2021-06", "{out}");
    assert_eq!(order[1..], months, "{out}");

    // An older month imported again later changes nothing, and says why.
    let (rc, out, err) = import_into(&app, "stevenage", &[outcome_files[1].as_path()], &[]);
    assert_eq!(rc, 0, "{out}\n{err}");
    assert!(out.contains("older than the outcome held"), "{out}");
    assert_eq!(held().await, got);
    // So does the street file: a crime keeps the outcome of a later month.
    let (rc, out, err) = import_into(&app, "stevenage", &[street.as_path()], &[]);
    assert_eq!(rc, 0, "{out}\n{err}");
    assert!(
        out.contains("keep the outcome an outcomes file gave them"),
        "{out}"
    );
    assert_eq!(held().await, got);
    // And the history of an outcome is kept: a crime with outcomes in several months has a
    // revision for each change.
    let revised = app
        .count(
            "SELECT count(*) AS n FROM incidents WHERE revision > 1 AND length(external_ref) = 64 \
             AND partnership_id = (SELECT id FROM partnerships WHERE slug = 'stevenage')",
        )
        .await;
    assert!(revised > 50, "{revised}");
    eprintln!(
        "OUTCOMES held {} changed by later months {later} revised {revised}",
        got.len()
    );
}
