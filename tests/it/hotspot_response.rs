//! Hotspot response (issue 30, item 5): a coordinator designates a hotspot, agencies record
//! their response week by week, and the evaluation counts crime and ASB before, during and
//! after against the rest of the district and a comparison area, as the monthly return asks.

use std::collections::BTreeMap;

use crate::common::*;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const DESIGNATE: &str = "mutation($i: DesignateHotspotInput!) { designateHotspot(input: $i) {
    id name lsoas comparisonLsoas startsOn endsOn designatedBy responses { agency } } }";
const RESPOND: &str = "mutation($i: RecordHotspotResponseInput!) { recordHotspotResponse(input: $i) {
    changed response { weekStarting agency patrolHours visiblePresenceHours powers { power count } partners } } }";
const EVALUATE: &str = "query($id: ID!) { hotspotEvaluation(id: $id) {
    countedLsoas countedComparisonLsoas relativeChangePercent
    windows { phase from to days complete hotspot { crime asb total } restOfDistrict { crime asb total } comparison { crime asb total } }
    changes { group phase count beforeCount changePercent pValue significant }
    months { month hotspot { crime asb total } restOfDistrict { total } comparison { total } patrolHours visiblePresenceHours powersUsed }
    response { weeks patrolHours visiblePresenceHours powers { power count } agencies } } }";

fn coordinator(app: &TestApp) -> String {
    app.token("police", "herts-police", &["coordinator"])
}

/// The demo's LSOAs in Stevenage by their records, most first.
async fn busiest_lsoas(app: &TestApp) -> Vec<String> {
    app.db
        .query_all_raw(csphub::db::stmt(
            "SELECT lsoa FROM incidents WHERE lsoa IS NOT NULL AND status = 'ACTIVE' \
               AND partnership_id = (SELECT id FROM partnerships WHERE slug = 'stevenage') \
             GROUP BY lsoa ORDER BY count(*) DESC, lsoa",
            [],
        ))
        .await
        .expect("lsoas")
        .iter()
        .map(|r| r.try_get::<String>("", "lsoa").expect("lsoa"))
        .collect()
}

/// (crime, asb) of Stevenage's records between two days, in or out of a set of LSOAs.
async fn counted(
    app: &TestApp,
    from: &str,
    to: &str,
    lsoas: &[String],
    inside: bool,
) -> (i64, i64) {
    let row = app
        .db
        .query_one_raw(csphub::db::stmt(
            &format!(
                "SELECT count(*) FILTER (WHERE category <> 'anti-social-behaviour') AS crime, \
                   count(*) FILTER (WHERE category = 'anti-social-behaviour') AS asb \
                 FROM incidents WHERE status = 'ACTIVE' \
                   AND partnership_id = (SELECT id FROM partnerships WHERE slug = 'stevenage') \
                   AND occurred_on BETWEEN '{from}' AND '{to}' \
                   AND {} coalesce(lsoa = ANY($1), false)",
                if inside { "" } else { "NOT" }
            ),
            [lsoas.to_vec().into()],
        ))
        .await
        .expect("count")
        .expect("row");
    (
        row.try_get("", "crime").expect("crime"),
        row.try_get("", "asb").expect("asb"),
    )
}

async fn designate(app: &TestApp, token: &str, hot: &[String], comparison: &[String]) -> Value {
    let r = app
        .gql(
            DESIGNATE,
            json!({"i": {"name": "Town centre", "lsoas": hot, "comparisonLsoas": comparison,
                         "startsOn": "2014-10-01", "endsOn": "2014-12-31"}}),
            Some(token),
        )
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    r.data()["designateHotspot"].clone()
}

#[tokio::test]
async fn a_designated_hotspot_is_evaluated_before_during_and_after_with_its_weekly_response() {
    let app = TestApp::spawn().await;
    let busiest = busiest_lsoas(&app).await;
    assert!(busiest.len() >= 6, "{busiest:?}");
    let hot: Vec<String> = busiest[..2].to_vec();
    let comparison: Vec<String> = busiest[2..4].to_vec();
    let d = designate(
        &app,
        &coordinator(&app),
        &[hot[1].to_lowercase(), hot[0].clone()],
        &comparison,
    )
    .await;
    let mut sorted = hot.clone();
    sorted.sort();
    assert_eq!(
        d["lsoas"],
        json!(sorted),
        "upper case, sorted, as designated"
    );
    assert_eq!(d["designatedBy"], "herts-police");
    assert_eq!(d["responses"], json!([]));
    let id = d["id"].as_str().expect("id").to_owned();

    // Police and the council record the week of 6 October 2014; sent again, nothing changes.
    let week = |patrol: f64, powers: Value, partners: Value| {
        json!({"i": {"designationId": id, "weekStarting": "2014-10-06", "patrolHours": patrol,
                     "visiblePresenceHours": 2.5, "powers": powers, "partners": partners}})
    };
    let police_week = week(
        12.345,
        json!([{"power": "ARREST", "count": 2}, {"power": "STOP_AND_SEARCH", "count": 3}]),
        json!(["stevenage-council"]),
    );
    let r = app
        .gql(RESPOND, police_week.clone(), Some(&app.police()))
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    assert_eq!(
        r.data()["recordHotspotResponse"],
        json!({"changed": true, "response": {"weekStarting": "2014-10-06", "agency": "herts-police",
               "patrolHours": 12.35, "visiblePresenceHours": 2.5,
               "powers": [{"power": "STOP_AND_SEARCH", "count": 3}, {"power": "ARREST", "count": 2}],
               "partners": ["stevenage-council"]}})
    );
    let again = app.gql(RESPOND, police_week, Some(&app.police())).await;
    assert_eq!(again.data()["recordHotspotResponse"]["changed"], false);
    let r = app
        .gql(
            RESPOND,
            week(
                4.0,
                json!([{"power": "COMMUNITY_PROTECTION_NOTICE", "count": 1}]),
                json!([]),
            ),
            Some(&app.council()),
        )
        .await;
    assert_eq!(
        r.data()["recordHotspotResponse"]["changed"],
        true,
        "{}",
        r.body
    );
    // A correction replaces the week.
    let r = app
        .gql(
            RESPOND,
            week(
                4.25,
                json!([{"power": "COMMUNITY_PROTECTION_NOTICE", "count": 1}]),
                json!([]),
            ),
            Some(&app.council()),
        )
        .await;
    assert_eq!(
        r.data()["recordHotspotResponse"]["response"]["patrolHours"],
        4.25
    );

    let r = app
        .gql(EVALUATE, json!({"id": id}), Some(&app.police()))
        .await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let e = &r.data()["hotspotEvaluation"];
    let phases = [
        ("BEFORE", "2014-07-01", "2014-09-30"),
        ("DURING", "2014-10-01", "2014-12-31"),
        ("AFTER", "2015-01-01", "2015-04-02"),
    ];
    let windows = e["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 3);
    let mut totals = BTreeMap::new();
    for (w, (phase, from, to)) in windows.iter().zip(phases) {
        assert_eq!(
            (&w["phase"], &w["from"], &w["to"]),
            (&json!(phase), &json!(from), &json!(to))
        );
        assert_eq!((&w["days"], &w["complete"]), (&json!(92), &json!(true)));
        let (crime, asb) = counted(&app, from, to, &hot, true).await;
        assert_eq!(
            w["hotspot"],
            json!({"crime": crime, "asb": asb, "total": crime + asb}),
            "{phase}"
        );
        let (crime_r, asb_r) = counted(&app, from, to, &hot, false).await;
        assert_eq!(w["restOfDistrict"]["total"], crime_r + asb_r, "{phase}");
        let (crime_c, asb_c) = counted(&app, from, to, &comparison, true).await;
        assert_eq!(w["comparison"]["total"], crime_c + asb_c, "{phase}");
        totals.insert(phase, (crime + asb, crime_r + asb_r));
    }
    assert!(totals["DURING"].0 > 0, "the busiest LSOAs have records");
    // Each change against BEFORE, with its exact two-sided test.
    let changes = e["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 6);
    let hot_during = changes
        .iter()
        .find(|c| c["group"] == "HOTSPOT" && c["phase"] == "DURING")
        .expect("change");
    assert_eq!(hot_during["count"], totals["DURING"].0);
    assert_eq!(hot_during["beforeCount"], totals["BEFORE"].0);
    let p = hot_during["pValue"].as_f64().expect("p");
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(hot_during["significant"], p < 0.05);
    let (h0, r0) = totals["BEFORE"];
    let (h1, r1) = totals["DURING"];
    let relative = ((h1 as f64 / h0 as f64) / (r1 as f64 / r0 as f64) - 1.0) * 100.0;
    assert!((e["relativeChangePercent"].as_f64().expect("relative") - relative).abs() < 0.051);
    // The monthly return: July 2014 to April 2015, the response in the month its week starts.
    let months = e["months"].as_array().expect("months");
    assert_eq!(months.len(), 10);
    assert_eq!(months[0]["month"], "2014-07");
    let october = months
        .iter()
        .find(|m| m["month"] == "2014-10")
        .expect("october");
    assert_eq!(
        (
            &october["patrolHours"],
            &october["visiblePresenceHours"],
            &october["powersUsed"]
        ),
        (&json!(16.6), &json!(5.0), &json!(6))
    );
    let month_sum: i64 = months
        .iter()
        .map(|m| m["hotspot"]["total"].as_i64().expect("n"))
        .sum();
    assert_eq!(month_sum, totals.values().map(|t| t.0).sum::<i64>());
    assert_eq!(
        e["response"],
        json!({"weeks": 1, "patrolHours": 16.6, "visiblePresenceHours": 5.0,
               "powers": [{"power": "STOP_AND_SEARCH", "count": 3}, {"power": "ARREST", "count": 2},
                          {"power": "COMMUNITY_PROTECTION_NOTICE", "count": 1}],
               "agencies": ["herts-police", "stevenage-council"]})
    );

    // Everyone reads the designations with their responses; the PCC not the evaluation.
    let list = "{ hotspotDesignations(first: 10) { totalCount nodes { name responses { agency patrolHours } } } }";
    for token in [app.police(), app.pcc()] {
        let r = app.gql(list, json!({}), Some(&token)).await;
        assert!(r.body.get("errors").is_none(), "{}", r.body);
        assert_eq!(
            r.data()["hotspotDesignations"]["nodes"],
            json!([{"name": "Town centre", "responses": [{"agency": "herts-police", "patrolHours": 12.35}, {"agency": "stevenage-council", "patrolHours": 4.25}]}])
        );
    }
    // Powers by hotspot and week are small counts by LSOA: partners see them, the PCC not.
    let powers =
        "{ hotspotDesignations { nodes { responses { agency powers { power count } } } } }";
    let r = app.gql(powers, json!({}), Some(&app.police())).await;
    assert_eq!(
        r.data()["hotspotDesignations"]["nodes"][0]["responses"][1]["powers"],
        json!([{"power": "COMMUNITY_PROTECTION_NOTICE", "count": 1}])
    );
    let r = app.gql(powers, json!({}), Some(&app.pcc())).await;
    assert_eq!(
        r.data()["hotspotDesignations"]["nodes"][0]["responses"],
        json!([{"agency": "herts-police", "powers": []}, {"agency": "stevenage-council", "powers": []}])
    );
    let r = app.gql(EVALUATE, json!({"id": id}), Some(&app.pcc())).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app
        .gql(RESPOND, week(1.0, json!([]), json!([])), Some(&app.pcc()))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    // In force on a day, or not.
    let on = |day: &str| {
        format!("{{ hotspotDesignations(inForceOn: \"{day}\") {{ nodes {{ name }} }} }}")
    };
    let r = app
        .gql(&on("2014-11-05"), json!({}), Some(&app.police()))
        .await;
    assert_eq!(
        r.data()["hotspotDesignations"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let r = app
        .gql(&on("2015-01-01"), json!({}), Some(&app.police()))
        .await;
    assert_eq!(r.data()["hotspotDesignations"]["nodes"], json!([]));
}

#[tokio::test]
async fn bad_designations_and_responses_say_what_is_wrong() {
    let app = TestApp::spawn().await;
    let busiest = busiest_lsoas(&app).await;
    let c = coordinator(&app);
    let bad = |input: Value| {
        let app = &app;
        let c = c.clone();
        async move {
            let mut i = json!({"name": "Estate", "lsoas": [busiest_first(app).await], "startsOn": "2014-10-01", "endsOn": "2014-12-31"});
            for (k, v) in input.as_object().expect("o") {
                i[k] = v.clone();
            }
            let r = app.gql(DESIGNATE, json!({"i": i}), Some(&c)).await;
            (
                r.code_opt().unwrap_or_default(),
                r.body["errors"][0]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    let (code, m) = bad(json!({"lsoas": ["E01999999"]})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(
        m.contains("not LSOAs held") && m.contains("E01999999"),
        "{m}"
    );
    let (code, _) = bad(json!({"lsoas": []})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, m) = bad(json!({"comparisonLsoas": [busiest[0]]})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(
        m.contains("both the hotspot and its comparison area"),
        "{m}"
    );
    // Overlapping through the lookup: 008E of 2021 was split from 008D of 2011.
    let (code, m) = bad(json!({"lsoas": ["E01035570"], "comparisonLsoas": ["E01023758"]})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(m.contains("through the ONS's 2011-to-2021 lookup"), "{m}");
    let (code, _) = bad(json!({"endsOn": "2014-09-30"})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, _) = bad(json!({"endsOn": "2015-10-02"})).await;
    assert_eq!(code, "BAD_USER_INPUT", "over 365 days");
    let (code, _) = bad(json!({"name": "  "})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, m) = bad(json!({})).await;
    assert_eq!(code, "", "{m}");
    let (code, m) = bad(json!({})).await;
    assert_eq!(code, "CONFLICT", "the same name starting the same day: {m}");

    let d = designate(&app, &c, &busiest[..1], &[]).await;
    let id = d["id"].as_str().expect("id").to_owned();
    let respond = |i: Value| {
        let app = &app;
        let id = id.clone();
        async move {
            let mut input =
                json!({"designationId": id, "weekStarting": "2014-10-06", "patrolHours": 1.0});
            for (k, v) in i.as_object().expect("o") {
                input[k] = v.clone();
            }
            let r = app
                .gql(RESPOND, json!({"i": input}), Some(&app.police()))
                .await;
            (
                r.code_opt().unwrap_or_default(),
                r.body["errors"][0]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        }
    };
    for (input, needle) in [
        (json!({"weekStarting": "2014-10-07"}), "must be a Monday"),
        (
            json!({"weekStarting": "2015-01-05"}),
            "must overlap the designation",
        ),
        (
            json!({"weekStarting": "2014-09-22"}),
            "must overlap the designation",
        ),
        // The calendar's last Monday: refused, not a panic.
        (
            json!({"weekStarting": "+262142-12-31"}),
            "must overlap the designation",
        ),
        (
            json!({"patrolHours": -1.0}),
            "patrolHours must be between 0 and 16800",
        ),
        (
            json!({"visiblePresenceHours": 20000.0}),
            "visiblePresenceHours",
        ),
        (
            json!({"powers": [{"power": "ARREST", "count": 1}, {"power": "ARREST", "count": 2}]}),
            "ARREST is given twice",
        ),
        (
            json!({"powers": [{"power": "ARREST", "count": -1}]}),
            "between 0 and 10000",
        ),
        (
            json!({"partners": ["no-such-agency"]}),
            "no-such-agency is not a registered agency",
        ),
    ] {
        let (code, m) = respond(input.clone()).await;
        assert_eq!(code, "BAD_USER_INPUT", "{input}: {m}");
        assert!(m.contains(needle), "{input}: {m}");
    }
    // The week of 29 September overlaps 1 October: allowed.
    let (code, m) = respond(json!({"weekStarting": "2014-09-29"})).await;
    assert_eq!(code, "", "{m}");
    let r = app
        .gql(
            "{ hotspotDesignations(inForceOn: \"+262142-12-31\") { totalCount } }",
            json!({}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    // An id out of scope or made up is NOT_FOUND, for the response and the evaluation alike.
    let other = app.token_for("police", "herts-police", &["north-herts"], &[]);
    let r = app
        .gql(
            RESPOND,
            json!({"i": {"designationId": id, "weekStarting": "2014-10-06", "patrolHours": 1.0}}),
            Some(&other),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app.gql(EVALUATE, json!({"id": id}), Some(&other)).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .gql(
            EVALUATE,
            json!({"id": "00000000-0000-0000-0000-000000000000"}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

async fn busiest_first(app: &TestApp) -> String {
    busiest_lsoas(app).await.remove(0)
}
