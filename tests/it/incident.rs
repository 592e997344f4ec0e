//! Partner pushes of incidents and the statistics on them, as partner systems, analysts and the
//! PCC's office use them: real HTTP, real PostgreSQL, real tokens.

use crate::common::*;
use serde_json::{Value, json};

async fn testshire(app: &TestApp) {
    app.testshire().await;
}

fn t(app: &TestApp, role: &str, agency: &str) -> String {
    app.token_for(role, agency, &["testshire"], &[])
}

fn record(r: &str, category: &str, at: &str, area: &str) -> Value {
    json!({"externalRef": r, "category": category, "occurredAt": at, "area": area})
}

async fn push(app: &TestApp, token: &str, records: &[Value]) -> Resp {
    app.push_incidents(token, records).await
}

/// `(row[key], row[value])` of each row of a JSON array.
fn pairs(rows: &Value, key: &str, value: &str) -> Vec<(String, Value)> {
    rows.as_array()
        .expect("an array")
        .iter()
        .map(|r| {
            (
                r[key].as_str().expect("a string key").to_owned(),
                r[value].clone(),
            )
        })
        .collect()
}

fn counts(r: &Resp) -> (i64, i64, i64, usize) {
    assert_eq!(r.status, 200, "{}", r.body);
    (
        r.body["created"].as_i64().expect("created"),
        r.body["updated"].as_i64().expect("updated"),
        r.body["unchanged"].as_i64().expect("unchanged"),
        r.body["rejected"].as_array().expect("rejected").len(),
    )
}

fn batch(n: usize, prefix: &str) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut r = record(
                &format!("{prefix}-{i:05}"),
                "burglary",
                &format!("2015-05-{:02}T10:00:00Z", i % 28 + 1),
                if i % 2 == 0 { "north" } else { "south" },
            );
            r["postcodeDistrict"] = json!(if i % 2 == 0 { "SG1" } else { "SG2" });
            r
        })
        .collect()
}

#[tokio::test]
async fn a_replayed_push_is_unchanged_and_a_changed_record_is_updated_with_its_revision_kept() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let records = batch(50, "CR");
    assert_eq!(counts(&push(&app, &police, &records).await), (50, 0, 0, 0));
    assert_eq!(counts(&push(&app, &police, &records).await), (0, 0, 50, 0));
    let mut changed = records.clone();
    changed[7]["outcome"] = json!("charged");
    changed[8]["status"] = json!("CANCELLED");
    changed[8]["cancelReason"] = json!("no-crime");
    assert_eq!(counts(&push(&app, &police, &changed).await), (0, 2, 48, 0));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'CR-%'")
            .await,
        50
    );

    let r = app
        .gql("{ incidents(filter: {partnership: \"testshire\", categories: [\"burglary\"], status: CANCELLED}) { totalCount nodes { externalRef status cancelReason { code label } revision sourceAgency { slug } revisions { revision pushedBy record } } } }", json!({}), Some(&police))
        .await;
    let node = &r.data()["incidents"]["nodes"][0];
    assert_eq!(node["externalRef"], "CR-00008");
    assert_eq!(
        node["cancelReason"],
        json!({"code": "no-crime", "label": node["cancelReason"]["label"].clone()})
    );
    assert!(
        node["cancelReason"]["label"]
            .as_str()
            .is_some_and(|l| l.len() > "no-crime".len()),
        "{node}"
    );
    assert_eq!(node["revision"], 2);
    assert_eq!(node["sourceAgency"]["slug"], "herts-police");
    assert_eq!(node["revisions"][0]["revision"], 1);
    assert_eq!(
        node["revisions"][0]["pushedBy"],
        "police-officer@herts-police"
    );
    assert_eq!(node["revisions"][0]["record"]["status"], "ACTIVE");
}

#[tokio::test]
async fn two_pushes_of_the_same_batch_at_the_same_moment_make_no_duplicates_and_no_errors() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let records = batch(500, "RACE");
    let (a, b) = tokio::join!(push(&app, &police, &records), push(&app, &police, &records));
    let (a, b) = (counts(&a), counts(&b));
    assert_eq!(a.0 + b.0, 500, "each record created once: {a:?} {b:?}");
    assert_eq!(
        a.2 + b.2,
        500,
        "and unchanged in the other push: {a:?} {b:?}"
    );
    assert_eq!((a.1, b.1, a.3, b.3), (0, 0, 0, 0));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'RACE-%'")
            .await,
        500
    );
}

#[tokio::test]
async fn each_bad_record_is_rejected_by_position_and_the_rest_applied() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let long_ref = "X".repeat(65);
    let mut fine_postcode = record("OK-2", "robbery", "2015-05-02T10:00:00Z", "south");
    fine_postcode["postcodeDistrict"] = json!("SG1 1HN");
    let mut named = record("BAD-NAME", "robbery", "2015-05-02T10:00:00Z", "south");
    named["victimName"] = json!("Jane Smith");
    // A deliberate fire needs its fire type (an ASB record without its type is accepted).
    let mut asb = record(
        "BAD-FIRE",
        "deliberate-fire",
        "2015-05-02T10:00:00Z",
        "south",
    );
    asb["fireType"] = Value::Null;
    let mut other = record("BAD-P", "robbery", "2015-05-02T10:00:00Z", "south");
    other["partnership"] = json!("north-herts");
    let mut strand = record("BAD-HATE", "public-order", "2015-05-02T10:00:00Z", "south");
    strand["hateStrands"] = json!(["race", "height"]);
    let records = vec![
        record("OK-1", "burglary", "2015-05-01T10:00:00Z", "north"),
        record("BAD-CAT", "jaywalking", "2015-05-01T10:00:00Z", "north"),
        record(
            "BAD-OLD",
            "public-disorder-weapons",
            "2015-05-01T10:00:00Z",
            "north",
        ),
        record("BAD-AREA", "burglary", "2015-05-01T10:00:00Z", "old-town"),
        record(&long_ref, "burglary", "2015-05-01T10:00:00Z", "north"),
        fine_postcode,
        named,
        asb,
        record("BAD-DATE", "burglary", "31/05/2015", "north"),
        record("OK-1", "burglary", "2015-05-01T10:00:00Z", "north"),
        other,
        strand,
        json!("not an object"),
        record("OK-3", "drugs", "2015-05-03T10:00:00Z", "north"),
    ];
    let r = push(&app, &police, &records).await;
    assert_eq!(counts(&r).0, 2);
    let rejected: Vec<(i64, String)> = r.body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|x| {
            (
                x["index"].as_i64().expect("index"),
                x["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(i64, String)> = [
        (1, "UNKNOWN_CATEGORY"),
        (2, "CATEGORY_NOT_IN_FORCE"),
        (3, "UNKNOWN_AREA"),
        (4, "REF_TOO_LONG"),
        (5, "POSTCODE_TOO_FINE"),
        (6, "INVALID_RECORD"),
        (7, "MISSING_FIELD"),
        (8, "INVALID_DATE"),
        (9, "DUPLICATE_REF"),
        (10, "UNKNOWN_PARTNERSHIP"),
        (11, "UNKNOWN_VALUE"),
        (12, "INVALID_RECORD"),
    ]
    .iter()
    .map(|(i, c)| (*i, (*c).to_owned()))
    .collect();
    assert_eq!(rejected, expected);
    let messages: Vec<&str> = r.body["rejected"]
        .as_array()
        .expect("r")
        .iter()
        .map(|x| x["message"].as_str().expect("m"))
        .collect();
    assert!(
        messages[1].contains("in force 2011-09-01 to 2013-04-30"),
        "{}",
        messages[1]
    );
    assert!(messages[4].contains("SG1"), "{}", messages[4]);
    assert!(
        messages[5].contains("victimName") && messages[5].contains("no names"),
        "{}",
        messages[5]
    );
    assert_eq!(r.body["rejected"][0]["externalRef"], "BAD-CAT");
    assert!(
        !r.body.to_string().contains("Jane Smith"),
        "personal data must not be echoed"
    );
}

#[tokio::test]
async fn categories_are_checked_against_the_vocabulary_in_force_on_the_day() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let r = push(
        &app,
        &police,
        &[
            record(
                "V-1",
                "public-disorder-weapons",
                "2012-06-01T12:00:00Z",
                "north",
            ),
            record("V-2", "public-order", "2012-06-01T12:00:00Z", "north"),
            record("V-3", "public-order", "2013-05-01T00:30:00+01:00", "north"),
            record(
                "V-4",
                "public-disorder-weapons",
                "2013-05-01T00:30:00+01:00",
                "north",
            ),
        ],
    )
    .await;
    assert_eq!(counts(&r), (2, 0, 0, 2));
    assert_eq!(r.body["rejected"][0]["index"], 1);
    assert_eq!(r.body["rejected"][1]["index"], 3);
    assert_eq!(r.body["rejected"][1]["code"], "CATEGORY_NOT_IN_FORCE");
    let v = app
        .gql(
            "{ vocabularies(vocabulary: CRIME_CATEGORY, on: \"2012-06-01\") { nodes { code validTo } } }",
            json!({}),
            Some(&app.pcc()),
        )
        .await;
    let codes: Vec<&str> = v.data()["vocabularies"]["nodes"]
        .as_array()
        .expect("v")
        .iter()
        .map(|t| t["code"].as_str().expect("c"))
        .collect();
    assert!(codes.contains(&"public-disorder-weapons") && !codes.contains(&"public-order"));
}

#[tokio::test]
async fn a_push_that_fails_part_way_applies_nothing_and_its_retry_lands_whole() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
               IF NEW.external_ref = 'AON-2' THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER boom BEFORE INSERT ON incidents FOR EACH ROW EXECUTE FUNCTION boom();",
        )
        .await
        .expect("trigger");
    let pushes_before = app.count("SELECT count(*) AS n FROM incident_pushes").await;
    let police = t(&app, "police", "herts-police");
    let records = [
        record("AON-1", "burglary", "2015-05-01T10:00:00Z", "north"),
        record("AON-2", "burglary", "2015-05-01T10:00:00Z", "north"),
        record("AON-3", "burglary", "2015-05-01T10:00:00Z", "north"),
    ];
    let r = push(&app, &police, &records).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.body["error"]["code"], "INTERNAL");
    assert!(!r.body.to_string().contains("disk on fire"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'AON-%'")
            .await,
        0
    );
    // Not even the push log: the whole request rolled back.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM incident_pushes").await,
        pushes_before
    );
    app.db
        .execute_unprepared("DROP TRIGGER boom ON incidents")
        .await
        .expect("drop");
    assert_eq!(counts(&push(&app, &police, &records).await), (3, 0, 0, 0));
    assert_eq!(counts(&push(&app, &police, &records).await), (0, 0, 3, 0));
}

#[tokio::test]
async fn bad_bodies_get_400_413_and_415() {
    let mut config = test_config();
    config.push_max_records = 5;
    config.push_max_bytes = 4_000;
    let app = TestApp::spawn_with(config).await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let send = |body: String, content_type: &'static str| {
        let req = app
            .client
            .post(app.url("/api/v1/incidents"))
            .bearer_auth(police.clone())
            .header("content-type", content_type)
            .body(body);
        async move { into_resp(req.send().await.expect("send")).await }
    };
    let r = send(
        "{\"incidents\": [\n  {\"externalRef\": \"A\",\n   \"category\": }\n]}".to_owned(),
        "application/json",
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "BAD_USER_INPUT");
    let message = r.body["error"]["message"].as_str().expect("message");
    assert!(message.contains("line 3, column"), "{message}");

    let ndjson = format!(
        "{}\n{}\n{{oops\n",
        record("N-1", "burglary", "2015-05-01T10:00:00Z", "north"),
        record("N-2", "burglary", "2015-05-01T10:00:00Z", "north")
    );
    let r = send(ndjson, "application/x-ndjson").await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("line 3, column 2"),
        "{}",
        r.body
    );

    let six = json!({"incidents": batch(6, "SIX")}).to_string();
    assert!(six.len() < 4_000);
    let r = send(six, "application/json").await;
    assert_eq!(r.status, 413);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("at most 5 records")
    );
    let lines: String = batch(6, "SIXN").iter().map(|r| format!("{r}\n")).collect();
    assert_eq!(send(lines, "application/x-ndjson").await.status, 413);

    let big = json!({"incidents": batch(5, &"L".repeat(900))}).to_string();
    let r = send(big.clone(), "application/json").await;
    assert_eq!(r.status, 413);
    // Without a Content-Length (chunked), the limit still holds while reading.
    let stream = futures_util::stream::iter(
        big.into_bytes()
            .chunks(500)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let r = app
        .client
        .post(app.url("/api/v1/incidents"))
        .bearer_auth(&police)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 413);

    assert_eq!(send("a,b".to_owned(), "text/plain").await.status, 415);
    // CSV is a push of its own now: a header of no incident columns is refused whole.
    assert_eq!(send("a,b".to_owned(), "text/csv").await.status, 400);
    // Nothing of the refused requests was applied.
    assert_eq!(app.count("SELECT count(*) AS n FROM incidents i JOIN partnerships p ON p.id = i.partnership_id WHERE p.slug = 'testshire'").await, 0);
}

#[tokio::test]
async fn pushing_needs_a_token_of_a_pushing_agency() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let records = batch(2, "AUTH");
    let r = into_resp(
        app.client
            .post(app.url("/api/v1/incidents"))
            .json(&json!({"incidents": records}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "UNAUTHENTICATED");
    let r = push(&app, &t(&app, "pcc", "herts-pcc"), &records).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"]["code"], "FORBIDDEN");
    for (role, agency) in [
        ("police", "herts-police"),
        ("fire", "herts-fire"),
        ("council", "stevenage-council"),
    ] {
        let mut records = batch(1, agency);
        if role == "fire" {
            records[0]["category"] = json!("deliberate-fire");
            records[0]["fireType"] = json!("secondary");
        }
        assert_eq!(
            counts(&push(&app, &t(&app, role, agency), &records).await).0,
            1,
            "{role}"
        );
    }
    // The source agency is the token's: a record cannot claim another.
    let mut claimed = batch(1, "CLAIM");
    claimed[0]["sourceAgency"] = json!("herts-fire");
    let r = push(&app, &t(&app, "police", "herts-police"), &claimed).await;
    assert_eq!(r.body["rejected"][0]["code"], "OTHER_AGENCY");
    let r = app.gql("{ incidents(filter: {partnership: \"testshire\"}) { nodes { externalRef sourceAgency { slug } } } }", json!({}), Some(&t(&app, "fire", "herts-fire"))).await;
    let sources: Vec<(&str, &str)> = r.data()["incidents"]["nodes"]
        .as_array()
        .expect("n")
        .iter()
        .map(|n| {
            (
                n["externalRef"].as_str().expect("r"),
                n["sourceAgency"]["slug"].as_str().expect("s"),
            )
        })
        .collect();
    assert!(sources.contains(&("herts-fire-00000", "herts-fire")));
    assert!(sources.contains(&("herts-police-00000", "herts-police")));
}

#[tokio::test]
async fn months_quarters_and_years_are_europe_london() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let r = push(
        &app,
        &police,
        &[
            record("BST-1", "robbery", "2015-03-31T23:30:00Z", "north"),
            record("GMT-1", "robbery", "2015-01-31T23:30:00Z", "north"),
            record("GMT-2", "robbery", "2015-03-31T22:59:59Z", "north"),
        ],
    )
    .await;
    assert_eq!(counts(&r).0, 3);
    let q = "query($g: [StatsDimension!]!) { incidentStats(filter: {partnership: \"testshire\", period: {from: \"2015-01-01\", to: \"2015-04-30\"}}, groupBy: $g) { rows { month quarter financialYear count } total { count } } }";
    let r = app
        .gql(
            q,
            json!({"g": ["MONTH", "QUARTER", "FINANCIAL_YEAR"]}),
            Some(&police),
        )
        .await;
    assert_eq!(
        r.data()["incidentStats"]["rows"],
        json!([
            {"month": "2015-01", "quarter": "2014/15 Q4", "financialYear": "2014/15", "count": 1},
            {"month": "2015-03", "quarter": "2014/15 Q4", "financialYear": "2014/15", "count": 1},
            {"month": "2015-04", "quarter": "2015/16 Q1", "financialYear": "2015/16", "count": 1},
        ])
    );
    // The incidents query's periods are London days too.
    let r = app.gql("{ incidents(filter: {partnership: \"testshire\", period: {quarter: \"2015/16 Q1\"}}) { nodes { externalRef } } }", json!({}), Some(&police)).await;
    assert_eq!(
        r.data()["incidents"]["nodes"],
        json!([{"externalRef": "BST-1"}])
    );
}

/// Pushes `n` records of a category into an area in a month (`YYYY-MM`).
async fn seed(
    app: &TestApp,
    token: &str,
    prefix: &str,
    n: usize,
    category: &str,
    (area, month): (&str, &str),
    domestic_abuse: bool,
) {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let mut r = record(
                &format!("{prefix}-{i}"),
                category,
                &format!("{month}-{:02}T12:00:00Z", i % 28 + 1),
                area,
            );
            r["domesticAbuse"] = json!(domestic_abuse);
            r
        })
        .collect();
    assert_eq!(counts(&push(app, token, &records).await).0, n as i64);
}

const STATS: &str = "query($f: IncidentFilterInput!, $g: [StatsDimension!]!, $c: StatsComparison) {
  incidentStats(filter: $f, groupBy: $g, compareWith: $c) {
    suppressionApplied excludesDomesticAbuse comparedWith { from to }
    rows { category area month flag count suppressed previousCount previousSuppressed changePercent }
    total { count suppressed previousCount changePercent } } }";

#[tokio::test]
async fn the_pcc_sees_small_numbers_suppressed_so_that_none_can_be_worked_out() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    seed(
        &app,
        &police,
        "B",
        20,
        "burglary",
        ("north", "2015-05"),
        false,
    )
    .await;
    seed(
        &app,
        &police,
        "R",
        3,
        "robbery",
        ("north", "2015-05"),
        false,
    )
    .await;
    // All in one area: the PCC's table set also has the figures by area, and they must not
    // give a withheld count away either (see `the_pcc_table_set_has_no_relation_with_one_withheld_cell`).
    seed(&app, &police, "D", 12, "drugs", ("north", "2015-05"), false).await;
    seed(
        &app,
        &police,
        "V",
        9,
        "vehicle-crime",
        ("north", "2015-05"),
        false,
    )
    .await;
    let f = json!({"partnership": "testshire", "period": {"month": "2015-05"}});
    let exact = app
        .gql(STATS, json!({"f": f, "g": ["CATEGORY"]}), Some(&police))
        .await;
    let rows = pairs(&exact.data()["incidentStats"]["rows"], "category", "count");
    assert_eq!(
        rows,
        [
            ("burglary".into(), json!(20)),
            ("drugs".into(), json!(12)),
            ("robbery".into(), json!(3)),
            ("vehicle-crime".into(), json!(9))
        ]
    );
    assert_eq!(exact.data()["incidentStats"]["suppressionApplied"], false);

    let pcc = t(&app, "pcc", "herts-pcc");
    let r = app
        .gql(STATS, json!({"f": f, "g": ["CATEGORY"]}), Some(&pcc))
        .await;
    let s = &r.data()["incidentStats"];
    assert_eq!(s["suppressionApplied"], true);
    let seen: Vec<(String, Value, bool)> = s["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["category"].as_str().expect("c").to_owned(),
                r["count"].clone(),
                r["suppressed"].as_bool().expect("s"),
            )
        })
        .collect();
    // robbery (3) is withheld, and vehicle crime (9, the next smallest) with it, so the total
    // (44) cannot give robbery away.
    assert_eq!(
        seen,
        [
            ("burglary".into(), json!(20), false),
            ("drugs".into(), json!(12), false),
            ("robbery".into(), Value::Null, true),
            ("vehicle-crime".into(), Value::Null, true),
        ]
    );
    assert_eq!(s["total"]["count"], 44);

    // Day-level periods would allow differencing: the PCC's periods are whole months.
    let days =
        json!({"partnership": "testshire", "period": {"from": "2015-05-02", "to": "2015-05-31"}});
    let r = app
        .gql(STATS, json!({"f": days, "g": []}), Some(&pcc))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let half_year =
        json!({"partnership": "testshire", "period": {"from": "2015-04-01", "to": "2015-09-30"}});
    let r = app
        .gql(STATS, json!({"f": half_year, "g": []}), Some(&pcc))
        .await;
    assert_eq!(r.data()["incidentStats"]["total"]["count"], 44);
    // Compared with the six whole months before, not with as many days.
    let r = app
        .gql(
            STATS,
            json!({"f": half_year, "g": [], "c": "PREVIOUS_PERIOD"}),
            Some(&pcc),
        )
        .await;
    assert_eq!(
        r.data()["incidentStats"]["comparedWith"],
        json!({"from": "2014-10-01", "to": "2015-03-31"})
    );
    let r = app
        .gql(STATS, json!({"f": days, "g": []}), Some(&police))
        .await;
    assert_eq!(r.data()["incidentStats"]["total"]["count"], 40);

    // A small total is withheld too.
    let small = json!({"partnership": "testshire", "period": {"month": "2015-05"}, "categories": ["robbery"]});
    let r = app
        .gql(STATS, json!({"f": small, "g": []}), Some(&pcc))
        .await;
    assert_eq!(
        r.data()["incidentStats"]["total"],
        json!({"count": null, "suppressed": true, "previousCount": null, "changePercent": null})
    );
}

#[tokio::test]
async fn the_pcc_never_gets_domestic_abuse_by_area() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    seed(
        &app,
        &police,
        "VN",
        30,
        "violent-crime",
        ("north", "2015-05"),
        false,
    )
    .await;
    seed(
        &app,
        &police,
        "DAN",
        12,
        "violent-crime",
        ("north", "2015-05"),
        true,
    )
    .await;
    seed(
        &app,
        &police,
        "VS",
        25,
        "violent-crime",
        ("south", "2015-05"),
        false,
    )
    .await;
    seed(
        &app,
        &police,
        "DAS",
        8,
        "violent-crime",
        ("south", "2015-05"),
        true,
    )
    .await;
    let pcc = t(&app, "pcc", "herts-pcc");
    let f = json!({"partnership": "testshire", "period": {"month": "2015-05"}});
    let r = app
        .gql(STATS, json!({"f": f, "g": ["AREA"]}), Some(&pcc))
        .await;
    let s = &r.data()["incidentStats"];
    assert_eq!(s["excludesDomesticAbuse"], true);
    let by_area = pairs(&s["rows"], "area", "count");
    assert_eq!(
        by_area,
        [("north".into(), json!(30)), ("south".into(), json!(25))]
    );
    // Asking for domestic abuse by area, or in an area, is refused outright.
    let da =
        json!({"partnership": "testshire", "period": {"month": "2015-05"}, "domesticAbuse": true});
    assert_eq!(
        app.gql(STATS, json!({"f": da, "g": ["AREA"]}), Some(&pcc))
            .await
            .code(),
        "FORBIDDEN"
    );
    let da_north = json!({"partnership": "testshire", "period": {"month": "2015-05"}, "domesticAbuse": true, "areas": ["north"]});
    assert_eq!(
        app.gql(STATS, json!({"f": da_north, "g": []}), Some(&pcc))
            .await
            .code(),
        "FORBIDDEN"
    );
    // District-level domestic abuse is fine (a cell of the PCC's table set), and partners see
    // it by area. Grouping by flag is not a cell: refused.
    let r = app.gql(STATS, json!({"f": da, "g": []}), Some(&pcc)).await;
    assert_eq!(
        r.data()["incidentStats"]["total"],
        json!({"count": 20, "suppressed": false, "previousCount": null, "changePercent": null})
    );
    let r = app
        .gql(STATS, json!({"f": da, "g": ["FLAG"]}), Some(&pcc))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
    let r = app
        .gql(STATS, json!({"f": da, "g": ["AREA"]}), Some(&police))
        .await;
    assert_eq!(r.data()["incidentStats"]["excludesDomesticAbuse"], false);
    assert_eq!(r.data()["incidentStats"]["rows"][0]["count"], 12);
}

#[tokio::test]
async fn statistics_compare_with_the_previous_period_and_the_year_before() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    seed(
        &app,
        &police,
        "Q1",
        22,
        "burglary",
        ("north", "2015-05"),
        false,
    )
    .await;
    seed(
        &app,
        &police,
        "Q4",
        20,
        "burglary",
        ("north", "2015-02"),
        false,
    )
    .await;
    seed(
        &app,
        &police,
        "LY",
        40,
        "burglary",
        ("north", "2014-06"),
        false,
    )
    .await;
    seed(
        &app,
        &police,
        "S",
        6,
        "shoplifting",
        ("north", "2015-02"),
        false,
    )
    .await;
    let f = json!({"partnership": "testshire", "period": {"quarter": "2015/16 Q1"}});
    let r = app
        .gql(
            STATS,
            json!({"f": f, "g": ["CATEGORY"], "c": "PREVIOUS_PERIOD"}),
            Some(&police),
        )
        .await;
    let s = &r.data()["incidentStats"];
    assert_eq!(
        s["comparedWith"],
        json!({"from": "2015-01-01", "to": "2015-03-31"})
    );
    assert_eq!(s["rows"][0]["category"], "burglary");
    assert_eq!(
        (
            s["rows"][0]["count"].clone(),
            s["rows"][0]["previousCount"].clone(),
            s["rows"][0]["changePercent"].clone()
        ),
        (json!(22), json!(20), json!(10.0))
    );
    // Gone to zero this period: still a row.
    assert_eq!(
        (
            s["rows"][1]["category"].clone(),
            s["rows"][1]["count"].clone(),
            s["rows"][1]["changePercent"].clone()
        ),
        (json!("shoplifting"), json!(0), json!(-100.0))
    );
    let r = app
        .gql(
            STATS,
            json!({"f": f, "g": [], "c": "SAME_PERIOD_LAST_YEAR"}),
            Some(&police),
        )
        .await;
    assert_eq!(
        r.data()["incidentStats"]["total"],
        json!({"count": 22, "suppressed": false, "previousCount": 40, "changePercent": -45.0})
    );
}

#[tokio::test]
async fn incidents_are_paginated_with_a_cursor_and_a_total() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    push(&app, &police, &batch(5, "PG")).await;
    let q = "query($after: String) { incidents(filter: {partnership: \"testshire\"}, first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { externalRef occurredAt } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app.gql(q, json!({"after": after}), Some(&police)).await;
        let page = r.data()["incidents"].clone();
        assert_eq!(page["totalCount"], 5);
        seen.extend(
            page["nodes"]
                .as_array()
                .expect("n")
                .iter()
                .map(|n| n["externalRef"].as_str().expect("r").to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen,
        ["PG-00000", "PG-00001", "PG-00002", "PG-00003", "PG-00004"]
    );
    let r = app
        .gql(
            "{ incidents(first: 2, after: \"garbage\") { totalCount } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

/// Relay: forwards with first/after and backwards with last/before give the same records in the
/// same order, every edge has its cursor, and a page that does not ask for `totalCount` runs no
/// count.
#[tokio::test]
async fn incidents_page_backwards_and_forwards_as_relay_connections() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    push(&app, &police, &batch(5, "RL")).await;
    let q = "query($first: Int, $after: String, $last: Int, $before: String) { incidents(filter: {partnership: \"testshire\"}, first: $first, after: $after, last: $last, before: $before) { edges { cursor node { externalRef } } nodes { externalRef } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let refs = |page: &Value| -> Vec<String> {
        let edges: Vec<String> = page["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["externalRef"].as_str().expect("ref").to_owned())
            .collect();
        let nodes: Vec<String> = page["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["externalRef"].as_str().expect("ref").to_owned())
            .collect();
        assert_eq!(edges, nodes);
        let cursors = page["edges"].as_array().expect("edges");
        if let (Some(first), Some(last)) = (cursors.first(), cursors.last()) {
            assert_eq!(page["pageInfo"]["startCursor"], first["cursor"]);
            assert_eq!(page["pageInfo"]["endCursor"], last["cursor"]);
        }
        edges
    };
    // The last two, in the list's order (oldest first).
    app.take_statements();
    let r = app.gql(q, json!({"last": 2}), Some(&police)).await;
    let page = r.data()["incidents"].clone();
    assert_eq!(refs(&page), ["RL-00003", "RL-00004"]);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    let counted = app.take_statements().iter().any(|s| {
        (s.contains("count(*)") && s.contains("incidents")) || s.contains("incident_counts")
    });
    assert!(!counted, "a page without totalCount ran a count");
    let r = app
        .gql(
            "{ incidents(filter: {partnership: \"testshire\"}, last: 2) { totalCount } }",
            json!({}),
            Some(&police),
        )
        .await;
    assert_eq!(r.data()["incidents"]["totalCount"], 5);
    let counted = app.take_statements().iter().any(|s| {
        (s.contains("count(*)") && s.contains("incidents")) || s.contains("incident_counts")
    });
    assert!(
        counted,
        "the statement log saw no count: the check above would prove nothing"
    );
    // Backwards to the start.
    let mut seen = refs(&page);
    let mut before = page["pageInfo"]["startCursor"].clone();
    loop {
        let r = app
            .gql(q, json!({"last": 2, "before": before}), Some(&police))
            .await;
        let page = r.data()["incidents"].clone();
        let mut got = refs(&page);
        got.extend(seen);
        seen = got;
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        if page["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(
        seen,
        ["RL-00000", "RL-00001", "RL-00002", "RL-00003", "RL-00004"]
    );
    // Between two cursors, forwards: what lies strictly between them.
    let all = app.gql(q, json!({"first": 5}), Some(&police)).await;
    let edges = all.data()["incidents"]["edges"].clone();
    let r = app
        .gql(
            q,
            json!({"first": 10, "after": edges[0]["cursor"], "before": edges[3]["cursor"]}),
            Some(&police),
        )
        .await;
    let page = r.data()["incidents"].clone();
    assert_eq!(refs(&page), ["RL-00001", "RL-00002"]);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
    // first with last is refused; so is a cursor this API did not give out, as `before` too.
    let r = app
        .gql(q, json!({"first": 1, "last": 1}), Some(&police))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let r = app
        .gql(q, json!({"last": 1, "before": "garbage"}), Some(&police))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert!(r.message().contains("before"), "{}", r.message());
    let r = app.gql(q, json!({"last": 101}), Some(&police)).await;
    assert!(
        r.message().contains("last must be between 1 and 100"),
        "{}",
        r.body
    );
}

/// Linked objects: an incident's agency, category, area and outcome come as objects with their
/// names, resolved for the whole page in one statement per kind, never one per row.
#[tokio::test]
async fn an_incident_page_links_its_objects_in_one_statement_per_kind() {
    let app = TestApp::spawn().await;
    let police = app.police();
    app.take_statements();
    let r = app
        .gql(
            "{ incidents(filter: {partnership: \"stevenage\"}, first: 100) { nodes { externalRef sourceAgency { slug name kind } category { code label } area { code name kind } outcome { code label } } } }",
            json!({}),
            Some(&police),
        )
        .await;
    let nodes = r.data()["incidents"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert_eq!(nodes.len(), 100);
    let areas: std::collections::BTreeSet<&str> = nodes
        .iter()
        .filter_map(|n| n["area"]["code"].as_str())
        .collect();
    assert!(areas.len() > 1, "{areas:?}");
    for n in &nodes {
        assert!(
            n["sourceAgency"]["name"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{n}"
        );
        let category = &n["category"];
        assert!(
            category["label"]
                .as_str()
                .is_some_and(|l| !l.is_empty() && l != category["code"]),
            "{n}"
        );
        if !n["area"].is_null() {
            assert!(
                n["area"]["name"].as_str().is_some_and(|s| !s.is_empty()),
                "{n}"
            );
        }
        if !n["outcome"].is_null() {
            assert!(n["outcome"]["label"].as_str().is_some(), "{n}");
        }
    }
    let statements = app.take_statements();
    let of = |needle: &str| statements.iter().filter(|s| s.contains(needle)).count();
    assert_eq!(of("FROM areas WHERE id = ANY"), 1, "{statements:#?}");
    assert_eq!(of("FROM vocabulary_terms"), 1, "{statements:#?}");

    // The other codes are terms too (hate strands, drug class, ASB type, fire type, cancel
    // reason), read with the rest in the same one statement.
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let records = json!([
        {"externalRef": "T-1", "category": "drugs", "occurredAt": "2015-05-01T10:00:00Z", "drugClass": "a",
         "hateStrands": ["race", "religion-or-belief"]},
        {"externalRef": "T-2", "category": "anti-social-behaviour", "occurredAt": "2015-05-02T10:00:00Z",
         "asbType": "nuisance"},
        {"externalRef": "T-3", "category": "criminal-damage-arson", "occurredAt": "2015-05-03T10:00:00Z",
         "fireType": "secondary", "status": "CANCELLED", "cancelReason": "duplicate"},
    ]);
    let pushed = app
        .push_incidents(&police, records.as_array().expect("records"))
        .await;
    assert_eq!(pushed.body["created"], 3, "{}", pushed.body);
    app.take_statements();
    let r = app
        .gql(
            "{ incidents(filter: {partnership: \"testshire\"}) { edges { node { externalRef
                hateStrands { code label } drugClass { code label } asbType { code label }
                fireType { code label } cancelReason { code label } } } } }",
            json!({}),
            Some(&police),
        )
        .await;
    let nodes: Vec<Value> = r.data()["incidents"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(
        nodes,
        vec![
            json!({"externalRef": "T-1",
                   "hateStrands": [{"code": "race", "label": "Race"}, {"code": "religion-or-belief", "label": "Religion or belief"}],
                   "drugClass": {"code": "a", "label": "Class A"}, "asbType": null, "fireType": null, "cancelReason": null}),
            json!({"externalRef": "T-2", "hateStrands": [], "drugClass": null,
                   "asbType": {"code": "nuisance", "label": "Nuisance"}, "fireType": null, "cancelReason": null}),
            json!({"externalRef": "T-3", "hateStrands": [], "drugClass": null, "asbType": null,
                   "fireType": {"code": "secondary", "label": "Deliberate secondary fire"},
                   "cancelReason": {"code": "duplicate", "label": "Duplicate of another record"}}),
        ],
        "{}",
        r.body
    );
    let statements = app.take_statements();
    let of = |needle: &str| statements.iter().filter(|s| s.contains(needle)).count();
    assert_eq!(of("FROM vocabulary_terms"), 1, "{statements:#?}");
}

#[tokio::test]
async fn data_freshness_shows_missing_months() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    seed(
        &app,
        &police,
        "APR",
        7,
        "burglary",
        ("north", "2015-04"),
        false,
    )
    .await;
    seed(
        &app,
        &police,
        "JUN",
        2,
        "burglary",
        ("north", "2015-06"),
        false,
    )
    .await;
    let q = "{ dataFreshness(partnership: \"testshire\", fromMonth: \"2015-04\", toMonth: \"2015-06\") { agencies { agency { slug } lastPushAt pushes months { month records suppressed hasRecords lastReceivedAt } } } }";
    let r = app.gql(q, json!({}), Some(&police)).await;
    let agencies = r.data()["dataFreshness"]["agencies"]
        .as_array()
        .expect("a")
        .clone();
    let police_row = agencies
        .iter()
        .find(|a| a["agency"]["slug"] == "herts-police")
        .expect("police");
    let months = pairs(&police_row["months"], "month", "records");
    assert_eq!(
        months,
        [
            ("2015-04".into(), json!(7)),
            ("2015-05".into(), json!(0)),
            ("2015-06".into(), json!(2))
        ]
    );
    assert_eq!(police_row["pushes"], 2);
    assert!(police_row["lastPushAt"].is_string());
    let fire = agencies
        .iter()
        .find(|a| a["agency"]["slug"] == "herts-fire")
        .expect("fire has never pushed");
    assert_eq!(
        (fire["pushes"].clone(), fire["lastPushAt"].clone()),
        (json!(0), Value::Null)
    );
    // The PCC sees which months are held, not how many records: an agency's monthly count is
    // not a cell of its protected table set.
    let r = app
        .gql(q, json!({}), Some(&t(&app, "pcc", "herts-pcc")))
        .await;
    let p = r.data()["dataFreshness"]["agencies"]
        .as_array()
        .expect("a")
        .iter()
        .find(|a| a["agency"]["slug"] == "herts-police")
        .expect("police")
        .clone();
    let records: Vec<(Value, Value)> = p["months"]
        .as_array()
        .expect("m")
        .iter()
        .map(|m| (m["records"].clone(), m["hasRecords"].clone()))
        .collect();
    assert_eq!(
        records,
        [
            (Value::Null, json!(true)),
            (Value::Null, json!(false)),
            (Value::Null, json!(true))
        ]
    );
}

#[tokio::test]
async fn the_graphql_push_gives_the_same_result_as_rest() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let m = "mutation($i: [IncidentInput!]!) { pushIncidents(incidents: $i) { created updated unchanged rejected { index externalRef code message } } }";
    let records = json!([
        {"externalRef": "G-1", "partnership": "testshire", "category": "burglary", "occurredAt": "2015-05-01T10:00:00Z", "area": "north"},
        {"externalRef": "G-2", "partnership": "testshire", "category": "burglary", "occurredAt": "2015-05-01T10:00:00Z", "area": "west"},
    ]);
    let r = app.gql(m, json!({"i": records}), Some(&police)).await;
    assert_eq!(r.data()["pushIncidents"]["created"], 1);
    assert_eq!(
        r.data()["pushIncidents"]["rejected"][0]["code"],
        "UNKNOWN_AREA"
    );
    let r = app.gql(m, json!({"i": records}), Some(&police)).await;
    assert_eq!(r.data()["pushIncidents"]["unchanged"], 1);
    let r = app
        .gql(m, json!({"i": records}), Some(&t(&app, "pcc", "herts-pcc")))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

/// Runs `csphub import incidents FILE --agency herts-police --partnership stevenage` against
/// the test's database.
fn import(app: &TestApp, file: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["import", "incidents", file.to_str().expect("path")])
        .args(["--agency", "herts-police", "--partnership", "stevenage"])
        .env("DATABASE_URL", format!("{}/{}", server(), app.db_name))
        .output()
        .expect("import")
}

/// Per agency: records held in Stevenage and the latest revision and change among them.
async fn holdings(app: &TestApp) -> Vec<(String, i64, i64, String)> {
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        &app.db,
        csphub::db::stmt(
            "SELECT a.slug, count(*) AS n, max(i.revision)::bigint AS rev, max(i.updated_at)::text AS at \
             FROM incidents i JOIN agencies a ON a.id = i.source_agency_id \
             JOIN partnerships p ON p.id = i.partnership_id WHERE p.slug = 'stevenage' \
             GROUP BY a.slug ORDER BY a.slug",
            [],
        ),
    )
    .await
    .expect("holdings");
    rows.iter()
        .map(|r| {
            (
                r.try_get::<String>("", "slug").expect("slug"),
                r.try_get::<i64>("", "n").expect("n"),
                r.try_get::<i64>("", "rev").expect("rev"),
                r.try_get::<String>("", "at").expect("at"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_whole_partnerships_export_reimported_by_one_agency_changes_nothing() {
    let app = TestApp::spawn().await;
    let police = app.police();
    let before = holdings(&app).await;
    assert!(before.len() >= 3, "{before:?}");
    // Every agency's records of the year, as partners may read them all.
    let csv = app
        .client
        .get(app.url("/api/v1/incidents.csv?partnership=stevenage&financialYear=2014/15"))
        .bearer_auth(&police)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    let source = header
        .iter()
        .position(|h| h == "sourceAgency")
        .expect("the export says whose each record is");
    let mut by_agency: std::collections::BTreeMap<String, usize> = Default::default();
    for row in reader.records() {
        *by_agency
            .entry(row.expect("row")[source].to_owned())
            .or_default() += 1;
    }
    let own = by_agency["herts-police"];
    let others: usize = by_agency
        .iter()
        .filter(|(a, _)| *a != "herts-police")
        .map(|(_, n)| n)
        .sum();
    assert!(own > 500 && others > 400, "{by_agency:?}");

    let file = std::env::temp_dir().join(format!("csphub-export-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&file, &csv).expect("write");
    let out = import(&app, &file);
    let _ = std::fs::remove_file(&file);
    // Every other agency's row refused by its own code; the police's own rows unchanged.
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("created 0, updated 0, unchanged {own}, rejected {others}")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("OTHER_AGENCY").count(),
        others,
        "{}",
        stderr.lines().take(5).collect::<Vec<_>>().join("\n")
    );
    // Nothing was created, updated or moved, for any agency.
    assert_eq!(holdings(&app).await, before);

    // The push says the same, per record: another agency's record is refused, one's own is not.
    let r = app
        .push_incidents(
            &police,
            &[
                json!({"externalRef": "SRC-1", "sourceAgency": "herts-fire", "category": "burglary",
                       "occurredAt": "2015-01-05T10:00:00Z", "area": "bedwell"}),
                json!({"externalRef": "SRC-2", "sourceAgency": "herts-police", "category": "burglary",
                       "occurredAt": "2015-01-05T10:00:00Z", "area": "bedwell"}),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["created"], 1, "{}", r.body);
    assert_eq!(r.body["rejected"][0]["code"], "OTHER_AGENCY", "{}", r.body);
    assert_eq!(r.body["rejected"][0]["externalRef"], "SRC-1");
}

#[tokio::test]
async fn an_export_reimports_unchanged() {
    let app = TestApp::spawn().await;
    let police = app.police();
    let r = app
        .client
        .get(app.url("/api/v1/incidents.csv?sourceAgency=herts-police&financialYear=2014/15"))
        .bearer_auth(&police)
        .send()
        .await
        .expect("export");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    let csv = r.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], csphub::domain::incident::CSV_COLUMNS.join(","));
    let exported = lines.len() - 1;
    let held = app.count("SELECT count(*) AS n FROM incidents i JOIN agencies a ON a.id = i.source_agency_id JOIN partnerships p ON p.id = i.partnership_id WHERE a.slug = 'herts-police' AND p.slug = 'stevenage' AND occurred_on BETWEEN '2014-04-01' AND '2015-03-31'").await;
    assert_eq!(exported as i64, held);
    assert!(exported > 500);

    let file = std::env::temp_dir().join(format!("csphub-export-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&file, &csv).expect("write");
    let out = import(&app, &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("created 0, updated 0, unchanged {exported}, rejected 0")
    );

    // A changed row and a bad row: the change lands, the bad row is reported by its line.
    let mut edited: Vec<String> = csv.lines().map(str::to_owned).collect();
    let plain = (1..edited.len())
        .find(|i| edited[*i].contains(",false,false,false,"))
        .expect("a row with no flags");
    edited[plain] = edited[plain].replacen(",false,false,false,", ",false,true,false,", 1);
    edited.push(
        "NEW-1,,stevenage,burglary,2015-01-05T10:00:00Z,,narnia,,false,false,false,,,,,,ACTIVE,,"
            .to_owned(),
    );
    std::fs::write(&file, edited.join("\n") + "\n").expect("write");
    let out = import(&app, &file);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "created 0, updated 1, unchanged {}, rejected 1",
            exported - 1
        )
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "line {}, column area: NEW-1 UNKNOWN_AREA",
            exported + 2
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&file);

    for (path, token, status) in [
        ("/api/v1/incidents.csv", app.pcc(), 403),
        (
            "/api/v1/incidents.csv?partnership=north-herts",
            police.clone(),
            404,
        ),
        ("/api/v1/incidents.csv?colour=red", police.clone(), 400),
    ] {
        let r = app
            .client
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("export");
        assert_eq!(r.status().as_u16(), status, "{path}");
    }
}

/// CSV over HTTP: an export pushed back as `text/csv` changes nothing; old snake_case headers
/// still read; a bad row is rejected by its line and column; a header naming anything else is
/// refused whole; and `csphub import incidents --url` pushes the same file with a token alone.
#[tokio::test]
async fn an_export_pushes_back_over_http_as_csv_with_nothing_changed() {
    let app = TestApp::spawn().await;
    let police = app.police();
    let csv = app
        .client
        .get(app.url("/api/v1/incidents.csv?sourceAgency=herts-police&financialYear=2014/15"))
        .bearer_auth(&police)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    let exported = csv.lines().count() - 1;
    assert!(exported > 500);
    let before = holdings(&app).await;
    let push_csv = |body: String| {
        app.client
            .post(app.url("/api/v1/incidents"))
            .bearer_auth(&police)
            .header("content-type", "text/csv; charset=utf-8")
            .body(body)
            .send()
    };
    let r = push_csv(csv.clone()).await.expect("push");
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body,
        json!({"created": 0, "updated": 0, "unchanged": exported, "rejected": []})
    );
    assert_eq!(holdings(&app).await, before);

    // The snake_case header exports had before still reads.
    let old_header = "external_ref,source_agency,partnership,category,occurred_at,reported_at,area,postcode_district,domestic_abuse,alcohol_related,youth_related,hate_strands,drug_class,asb_type,fire_type,outcome,status,cancel_reason,lsoa";
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    lines[0] = old_header.to_owned();
    let r = push_csv(lines.join("\n")).await.expect("push");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["unchanged"], exported, "{body}");

    // Bad rows: each rejected by its line (the header is line 1) and the column at fault.
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    lines.push(
        "CSV-1,,stevenage,burglary,2015-01-05T10:00:00Z,,narnia,,false,false,false,,,,,,ACTIVE,,"
            .to_owned(),
    );
    lines.push(
        "CSV-2,,stevenage,burglary,yesterday,,bedwell,,false,false,false,,,,,,ACTIVE,,".to_owned(),
    );
    lines.push(
        "CSV-3,,stevenage,burglary,2015-01-05T10:00:00Z,,bedwell,,perhaps,false,false,,,,,,ACTIVE,,"
            .to_owned(),
    );
    let r = push_csv(lines.join("\n") + "\n").await.expect("push");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["unchanged"], exported, "{body}");
    let rejected: Vec<(u64, String, String)> = body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["column"].as_str().unwrap_or("-").to_owned(),
                r["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect();
    let first = exported as u64 + 2;
    assert_eq!(
        rejected,
        [
            (first, "area".to_owned(), "UNKNOWN_AREA".to_owned()),
            (
                first + 1,
                "occurredAt".to_owned(),
                "INVALID_DATE".to_owned()
            ),
            (
                first + 2,
                "domesticAbuse".to_owned(),
                "INVALID_RECORD".to_owned()
            ),
        ],
        "{body}"
    );

    // A header that names anything else is refused whole, naming the column.
    let r = push_csv(
        "externalRef,category,occurredAt,name\nX-1,burglary,2015-01-05T10:00:00Z,Bob\n".to_owned(),
    )
    .await
    .expect("push");
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "BAD_USER_INPUT");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("column 4 is 'name'") && message.contains("externalRef"),
        "{message}"
    );
    let r = push_csv("area\nbedwell\n".to_owned()).await.expect("push");
    let body: Value = r.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("lacks externalRef, category, occurredAt")),
        "{body}"
    );

    // The command, as a partner system: over HTTP with the token alone, in small requests.
    let file = std::env::temp_dir().join(format!("csphub-export-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    // Run beside the test's server, which answers on this runtime.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_csphub"))
        .args(["import", "incidents", file.to_str().expect("path")])
        .args(["--url", &app.url(""), "--chunk", "200"])
        .env("CSPHUB_TOKEN", &police)
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("import");
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("created 0, updated 0, unchanged {exported}, rejected 3")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "line {}, column occurredAt: CSV-2 INVALID_DATE",
            first + 1
        )),
        "{stderr}"
    );
    assert_eq!(holdings(&app).await, before);
}

/// Found by fuzzing: a filter holding a NUL byte reached PostgreSQL only after the 200 and the
/// CSV header had gone out, so the client saw a broken chunked stream and no error code. Every
/// error of the first page must be an answer of its own, with a JSON code.
#[tokio::test]
async fn an_export_with_a_filter_postgresql_cannot_read_is_refused_with_a_code() {
    let app = TestApp::spawn().await;
    let police = app.police();
    for query in [
        "youthRelated=true&hateStrand=%11%23%16&category=%00%18%00%F2%A2%8D%AF%01rgl",
        "category=%00",
        "area=a%00b",
        "hateStrand=%00",
        "sourceAgency=%00",
        "partnership=stevenage&category=burglary%00",
    ] {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/incidents.csv?{query}")))
            .bearer_auth(&police)
            .send()
            .await
            .expect("export");
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{query}: {body}");
    }
    // The service is still whole: an ordinary export answers.
    let r = app
        .client
        .get(app.url("/api/v1/incidents.csv?partnership=stevenage&month=2015-05"))
        .bearer_auth(&police)
        .send()
        .await
        .expect("export");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.expect("body").starts_with("externalRef,"));
}

#[tokio::test]
async fn anti_social_behaviour_without_its_type_is_accepted_and_counted_as_not_recorded() {
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = t(&app, "police", "herts-police");
    let mut records = Vec::new();
    for (i, asb_type) in [Some("personal"), None, None, Some("nuisance"), None]
        .iter()
        .enumerate()
    {
        let mut r = record(
            &format!("ASB-{i}"),
            "anti-social-behaviour",
            "2015-05-02T10:00:00Z",
            "south",
        );
        match asb_type {
            Some(t) => r["asbType"] = json!(t),
            None => {
                r.as_object_mut().expect("object").remove("asbType");
            }
        }
        records.push(r);
    }
    records.push(record("B-1", "burglary", "2015-05-03T10:00:00Z", "north"));
    assert_eq!(counts(&push(&app, &police, &records).await), (6, 0, 0, 0));
    // Its qualifier still has to be one of the vocabulary's, and only on ASB.
    let mut wrong = record(
        "ASB-X",
        "anti-social-behaviour",
        "2015-05-02T10:00:00Z",
        "south",
    );
    wrong["asbType"] = json!("noisy");
    let mut misplaced = record("B-X", "burglary", "2015-05-02T10:00:00Z", "south");
    misplaced["asbType"] = json!("personal");
    let r = push(&app, &police, &[wrong, misplaced]).await;
    let codes: Vec<&str> = r.body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|x| x["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["UNKNOWN_VALUE", "INCONSISTENT"], "{}", r.body);

    let q = "{ incidentStats(filter: {partnership: \"testshire\", period: {month: \"2015-05\"}}, groupBy: [ASB_TYPE]) { rows { asbType count } total { count } } }";
    let r = app.gql(q, json!({}), Some(&police)).await;
    assert_eq!(
        pairs(&r.data()["incidentStats"]["rows"], "asbType", "count"),
        vec![
            ("not-applicable".to_owned(), json!(1)),
            ("not-recorded".to_owned(), json!(3)),
            ("nuisance".to_owned(), json!(1)),
            ("personal".to_owned(), json!(1)),
        ]
    );
    assert_eq!(r.data()["incidentStats"]["total"]["count"], 6);
    // Not a cell of the PCC's table set.
    let pcc = t(&app, "pcc", "herts-pcc");
    let r = app.gql(q, json!({}), Some(&pcc)).await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.body);
}

/// The push log's rows of `agency`'s pushes, oldest first: (push, partnership slug, received,
/// created, updated, unchanged, rejected).
async fn push_log(app: &TestApp, agency: &str) -> Vec<(i64, String, [i32; 5])> {
    use sea_orm::ConnectionTrait;
    app.db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!(
                "SELECT l.push_id, p.slug, l.received, l.created, l.updated, l.unchanged, l.rejected \
                 FROM incident_pushes l JOIN partnerships p ON p.id = l.partnership_id \
                 JOIN agencies a ON a.id = l.agency_id WHERE a.slug = '{agency}' ORDER BY l.push_id, p.slug"
            ),
        ))
        .await
        .expect("push log")
        .iter()
        .map(|r| {
            let n = |c: &str| r.try_get::<i32>("", c).expect(c);
            (
                r.try_get::<i64>("", "push_id").expect("push_id"),
                r.try_get::<String>("", "slug").expect("slug"),
                [
                    n("received"),
                    n("created"),
                    n("updated"),
                    n("unchanged"),
                    n("rejected"),
                ],
            )
        })
        .collect()
}

#[tokio::test]
async fn the_push_log_has_a_row_per_partnership_with_what_became_of_its_records() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    testshire(&app).await;
    let police = app.token_for("police", "herts-police", &["testshire", "stevenage"], &[]);
    let stevenage_area: String = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT a.code FROM areas a JOIN partnerships p ON p.id = a.partnership_id \
             WHERE p.slug = 'stevenage' ORDER BY a.code LIMIT 1",
        ))
        .await
        .expect("q")
        .expect("an area")
        .try_get("", "code")
        .expect("code");
    let mut records = vec![
        record("LOG-1", "burglary", "2015-05-01T10:00:00Z", "north"),
        record("LOG-2", "robbery", "2015-05-01T10:00:00Z", "south"),
        record("LOG-BAD", "jaywalking", "2015-05-01T10:00:00Z", "north"),
        record("LOG-S", "burglary", "2015-05-01T10:00:00Z", &stevenage_area),
        // Rejected where no partnership of the push can be named: in no partnership's row.
        record("LOG-NH", "burglary", "2015-05-01T10:00:00Z", "north"),
        json!("not an object"),
    ];
    for r in &mut records[..3] {
        r["partnership"] = json!("testshire");
    }
    records[3]["partnership"] = json!("stevenage");
    records[4]["partnership"] = json!("north-herts");
    let demo = push_log(&app, "herts-police").await.len();
    let r = push(&app, &police, &records).await;
    assert_eq!(counts(&r), (3, 0, 0, 3));
    // Again, with one record changed.
    records[1]["category"] = json!("burglary");
    let r = push(&app, &police, &records).await;
    assert_eq!(counts(&r), (0, 1, 2, 3));
    // Nothing but rejections of records with no partnership of the push: no row.
    let r = push(&app, &police, &records[4..]).await;
    assert_eq!(counts(&r), (0, 0, 0, 2));
    // Nothing but a rejection in testshire: testshire's row says so.
    let r = push(&app, &police, &records[2..3]).await;
    assert_eq!(counts(&r), (0, 0, 0, 1));

    let log = push_log(&app, "herts-police").await.split_off(demo);
    let rows: Vec<(String, [i32; 5])> = log.iter().map(|(_, p, c)| (p.clone(), *c)).collect();
    assert_eq!(
        rows,
        vec![
            ("stevenage".to_owned(), [1, 1, 0, 0, 0]),
            ("testshire".to_owned(), [3, 2, 0, 0, 1]),
            ("stevenage".to_owned(), [1, 0, 0, 1, 0]),
            ("testshire".to_owned(), [3, 0, 1, 1, 1]),
            ("testshire".to_owned(), [1, 0, 0, 0, 1]),
        ]
    );
    assert_eq!(log[0].0, log[1].0, "one push, one push_id");
    assert_eq!(log[2].0, log[3].0);
    assert!(log[2].0 > log[0].0);

    // dataFreshness's pushes into testshire: every push with records for it, accepted or not.
    let testshire_id: uuid::Uuid = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT id FROM partnerships WHERE slug = 'testshire'",
        ))
        .await
        .expect("q")
        .expect("row")
        .try_get("", "id")
        .expect("id");
    let last = csphub::db::incident::last_pushes(&app.db, testshire_id)
        .await
        .expect("last pushes");
    let police_row = last
        .iter()
        .find(|l| l.agency == "herts-police")
        .expect("police");
    assert_eq!(police_row.pushes, 3);
    assert!(police_row.last_push_at.is_some());
    assert_eq!(
        last.iter()
            .filter(|l| l.agency != "herts-police")
            .map(|l| l.pushes)
            .sum::<i64>(),
        0
    );
}
