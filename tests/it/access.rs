//! The access matrix of ACCESS.md for the action plan: every query and mutation, each role with
//! and without the coordinator capability, allowed and denied; and tenancy (another
//! partnership's records answer NOT_FOUND, exactly as records that do not exist).

use crate::common::*;
use serde_json::{Value, json};

/// (label, role, agency, caps)
const PRINCIPALS: [(&str, &str, &str, &[&str]); 8] = [
    ("police", "police", "herts-police", &[]),
    (
        "police coordinator",
        "police",
        "herts-police",
        &["coordinator"],
    ),
    ("fire", "fire", "herts-fire", &[]),
    ("fire coordinator", "fire", "herts-fire", &["coordinator"]),
    ("council", "council", "stevenage-council", &[]),
    (
        "council coordinator",
        "council",
        "stevenage-council",
        &["coordinator"],
    ),
    ("pcc", "pcc", "herts-pcc", &[]),
    (
        "pcc claiming coordinator",
        "pcc",
        "herts-pcc",
        &["coordinator"],
    ),
];

fn token(app: &TestApp, label: &str) -> String {
    let (_, role, agency, caps) = PRINCIPALS.iter().find(|p| p.0 == label).expect("principal");
    app.token(role, agency, caps)
}

const COORDINATORS: [&str; 3] = [
    "police coordinator",
    "fire coordinator",
    "council coordinator",
];

/// Builds the operation's query and variables against an app's data (after any setup).
type Build =
    for<'a> fn(
        &'a TestApp,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = (String, Value)> + 'a>>;

/// Runs an operation as every principal: the allowed ones each on a fresh database (so earlier
/// calls cannot change the outcome), the denied ones on one shared database.
async fn check(name: &str, allowed: &[&str], build: Build) {
    let denied_app = TestApp::spawn().await;
    let (query, vars) = build(&denied_app).await;
    for (label, ..) in PRINCIPALS {
        if allowed.contains(&label) {
            let app = TestApp::spawn().await;
            let (query, vars) = build(&app).await;
            let r = app.gql(&query, vars, Some(&token(&app, label))).await;
            assert!(
                r.body.get("errors").is_none(),
                "{name}: {label} should be allowed, got {}",
                r.body
            );
        } else {
            let r = denied_app
                .gql(&query, vars.clone(), Some(&token(&denied_app, label)))
                .await;
            assert_eq!(
                r.code(),
                "FORBIDDEN",
                "{name}: {label} should be forbidden, got {}",
                r.body
            );
        }
    }
}

async fn priority_of(app: &TestApp, year: &str, position: usize) -> String {
    let plan = app.plan_id(year).await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { priorities { id } } }",
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    r.data()["plan"]["priorities"][position - 1]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn every_role_reads_plans_actions_and_progress() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let (action, _) = app.action("2014/15", "1.1").await;
    let queries = [
        ("{ plans { nodes { id financialYear status } } }", json!({})),
        (
            "{ plans(partnership: \"stevenage\") { nodes { id } } }",
            json!({}),
        ),
        (
            "query($id: ID!) { plan(id: $id) { id priorities { actions { id progressHistory { id } } } lifecycle { step } } }",
            json!({"id": plan}),
        ),
        (
            "query($id: ID!) { action(id: $id) { id status } }",
            json!({"id": action}),
        ),
        (
            "query($id: ID!) { planProgress(planId: $id, quarter: \"2014/15 Q3\") { total { expected } } }",
            json!({"id": plan}),
        ),
        ("{ me { role } partnerships { nodes { slug } } }", json!({})),
    ];
    for (label, ..) in PRINCIPALS {
        for (q, vars) in &queries {
            let r = app.gql(q, vars.clone(), Some(&token(&app, label))).await;
            assert!(r.body.get("errors").is_none(), "{label}: {q}: {}", r.body);
        }
        let r = app
            .gql(
                "{ plans { nodes { id } } }",
                json!({}),
                Some(&token(&app, label)),
            )
            .await;
        assert_eq!(
            r.data()["plans"]["nodes"].as_array().expect("plans").len(),
            2,
            "{label}"
        );
    }
}

#[tokio::test]
async fn whoever_reads_a_report_makes_a_link_to_it_and_submissions_follow_their_readers() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let create = "mutation($i: CreateReportLinkInput!) { createReportLink(input: $i) { path } }";
    let readable = [
        json!({"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3"}),
        json!({"kind": "PCC_REPORT", "financialYear": "2014/15", "half": "SECOND"}),
        json!({"kind": "STRATEGIC_ASSESSMENT", "from": "2014-04-01", "to": "2015-03-31"}),
    ];
    let rag = app
        .gql(
            "mutation($i: SubmitReportInput!) { submitReport(input: $i) { id } }",
            json!({"i": {"kind": "RAG_UPDATE", "planId": plan, "quarter": "2014/15 Q3"}}),
            Some(&app.coordinator()),
        )
        .await
        .data()["submitReport"]["id"]
        .clone();
    for (label, role, ..) in PRINCIPALS {
        for input in &readable {
            let r = app
                .gql(create, json!({"i": input}), Some(&token(&app, label)))
                .await;
            assert!(
                r.body.get("errors").is_none(),
                "{label}: {input}: {}",
                r.body
            );
        }
        // A RAG update as submitted is for partners; the PCC reads only what is sent to it.
        let r = app
            .gql(
                create,
                json!({"i": {"submissionId": rag}}),
                Some(&token(&app, label)),
            )
            .await;
        if role == "pcc" {
            assert_eq!(r.code(), "NOT_FOUND", "{label}: {}", r.body);
        } else {
            assert!(r.body.get("errors").is_none(), "{label}: {}", r.body);
        }
    }
    let r = app.gql(create, json!({"i": readable[1]}), None).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "{}", r.body);
}

#[tokio::test]
async fn only_coordinators_create_plans() {
    check("createPlan", &COORDINATORS, |_| Box::pin(async {
        ("mutation { createPlan(input: {partnership: \"stevenage\", financialYear: \"2016/17\", title: \"Plan\"}) { id } }".to_owned(), json!({}))
    }))
    .await;
}

#[tokio::test]
async fn only_coordinators_edit_and_redraft_plans() {
    check("updatePlan", &COORDINATORS, |app| Box::pin(async move {
        ("mutation($id: ID!) { updatePlan(input: {planId: $id, title: \"Renamed\"}) { title } }".to_owned(), json!({"id": app.plan_id("2015/16").await}))
    }))
    .await;
    check("newPlanDraft", &COORDINATORS, |app| {
        Box::pin(async move {
            (
                "mutation($id: ID!) { newPlanDraft(planId: $id) { draftNumber } }".to_owned(),
                json!({"id": app.plan_id("2015/16").await}),
            )
        })
    })
    .await;
}

#[tokio::test]
async fn only_coordinators_sign_off_ratify_and_close() {
    check("signOffPlan", &COORDINATORS, |app| Box::pin(async move {
        ("mutation($id: ID!) { signOffPlan(input: {planId: $id, signedOffBy: \"RAG chair\", signedOffOn: \"2015-03-31\"}) { status } }".to_owned(), json!({"id": app.plan_id("2015/16").await}))
    }))
    .await;
    check("ratifyPlan", &COORDINATORS, |app| Box::pin(async move {
        let id = app.plan_id("2015/16").await;
        app.gql("mutation($id: ID!) { signOffPlan(input: {planId: $id, signedOffBy: \"RAG chair\", signedOffOn: \"2015-03-31\"}) { status } }", json!({"id": id}), Some(&app.coordinator())).await.data();
        ("mutation($id: ID!) { ratifyPlan(input: {planId: $id, meeting: \"RAG\", ratifiedOn: \"2015-04-20\"}) { status } }".to_owned(), json!({"id": id}))
    }))
    .await;
    check("closePlan", &COORDINATORS, |app| {
        Box::pin(async move {
            (
                "mutation($id: ID!) { closePlan(planId: $id) { status } }".to_owned(),
                json!({"id": app.plan_id("2014/15").await}),
            )
        })
    })
    .await;
}

#[tokio::test]
async fn only_coordinators_manage_priorities() {
    check("addPriority", &COORDINATORS, |app| Box::pin(async move {
        ("mutation($id: ID!) { addPriority(input: {planId: $id, position: 5, title: \"Exploitation\"}) { id } }".to_owned(), json!({"id": app.plan_id("2015/16").await}))
    }))
    .await;
    check("updatePriority", &COORDINATORS, |app| Box::pin(async move {
        ("mutation($id: ID!) { updatePriority(input: {priorityId: $id, title: \"Young people\"}) { title } }".to_owned(), json!({"id": priority_of(app, "2015/16", 1).await}))
    }))
    .await;
    check("deletePriority", &COORDINATORS, |app| {
        Box::pin(async move {
            (
                "mutation($id: ID!) { deletePriority(priorityId: $id) }".to_owned(),
                json!({"id": priority_of(app, "2015/16", 4).await}),
            )
        })
    })
    .await;
}

#[tokio::test]
async fn only_coordinators_manage_actions() {
    check("addAction", &COORDINATORS, |app| Box::pin(async move {
        ("mutation($id: ID!) { addAction(input: {priorityId: $id, ref: \"1.1\", title: \"Youth diversion\", leadAgency: \"herts-fire\"}) { id } }".to_owned(), json!({"id": priority_of(app, "2015/16", 1).await}))
    }))
    .await;
    check("updateAction", &COORDINATORS, |app| Box::pin(async move {
        let (id, version) = app.action("2015/16", "2.1").await;
        ("mutation($id: ID!, $v: Int!) { updateAction(input: {actionId: $id, version: $v, title: \"CCTV stories\"}) { version } }".to_owned(), json!({"id": id, "v": version}))
    }))
    .await;
    check("deleteAction", &COORDINATORS, |app| {
        Box::pin(async move {
            (
                "mutation($id: ID!) { deleteAction(actionId: $id) }".to_owned(),
                json!({"id": app.action("2015/16", "2.1").await.0}),
            )
        })
    })
    .await;
    check("removeAction", &COORDINATORS, |app| Box::pin(async move {
        ("mutation($id: ID!) { removeAction(input: {actionId: $id, reason: \"RAG decision\", decidedBy: \"RAG\", decidedOn: \"2015-01-20\"}) { id } }".to_owned(), json!({"id": app.action("2014/15", "6.11").await.0}))
    }))
    .await;
    check("carryOverAction", &COORDINATORS, |app| Box::pin(async move {
        let (id, _) = app.action("2014/15", "6.10").await;
        ("mutation($id: ID!, $p: ID!) { carryOverAction(input: {actionId: $id, priorityId: $p, ref: \"1.1\"}) { id } }".to_owned(), json!({"id": id, "p": priority_of(app, "2015/16", 1).await}))
    }))
    .await;
}

#[tokio::test]
async fn progress_is_recorded_by_the_lead_agency_or_a_coordinator() {
    // 6.10 is led by the police; 6.11 by fire and rescue.
    check("recordProgress (police-led)", &["police", "police coordinator", "fire coordinator", "council coordinator"], |app| Box::pin(async move {
        ("mutation($id: ID!) { recordProgress(input: {actionId: $id, quarter: \"2014/15 Q4\", status: ON_TARGET}) { id } }".to_owned(), json!({"id": app.action("2014/15", "6.10").await.0}))
    }))
    .await;
    check("recordProgress (fire-led)", &["fire", "police coordinator", "fire coordinator", "council coordinator"], |app| Box::pin(async move {
        ("mutation($id: ID!) { recordProgress(input: {actionId: $id, quarter: \"2014/15 Q4\", status: COMPLETE}) { id } }".to_owned(), json!({"id": app.action("2014/15", "6.11").await.0}))
    }))
    .await;
}

#[tokio::test]
async fn another_partnerships_records_answer_not_found_like_missing_ones() {
    let app = TestApp::spawn().await;
    let plan = app.north_herts("plans").await;
    let action = app.north_herts("actions").await;
    let priority = app.north_herts("priorities").await;
    let missing = uuid::Uuid::new_v4().to_string();
    let operations = [
        "query($id: ID!) { plan(id: $id) { id } }",
        "query($id: ID!) { action(id: $id) { id } }",
        "query($id: ID!) { planProgress(planId: $id, quarter: \"2014/15 Q3\") { quarter } }",
        "mutation($id: ID!) { closePlan(planId: $id) { id } }",
        "mutation($id: ID!) { recordProgress(input: {actionId: $id, quarter: \"2014/15 Q4\", status: ON_TARGET}) { id } }",
        "mutation($id: ID!) { removeAction(input: {actionId: $id, reason: \"r\", decidedBy: \"RAG\", decidedOn: \"2015-01-01\"}) { id } }",
        "mutation($id: ID!) { updateAction(input: {actionId: $id, version: 1, leadOfficer: \"x\"}) { id } }",
        "mutation($id: ID!) { addAction(input: {priorityId: $id, ref: \"1.2\", title: \"x\", leadAgency: \"herts-police\", addedInQuarter: \"2014/15 Q4\"}) { id } }",
    ];
    for q in operations {
        let id = if q.contains("actionId") || q.contains("action(") {
            &action
        } else if q.contains("priorityId") {
            &priority
        } else {
            &plan
        };
        for (label, ..) in PRINCIPALS {
            let theirs = app
                .gql(q, json!({"id": id}), Some(&token(&app, label)))
                .await;
            let none = app
                .gql(q, json!({"id": missing}), Some(&token(&app, label)))
                .await;
            assert_eq!(theirs.code(), "NOT_FOUND", "{label}: {q}: {}", theirs.body);
            assert_eq!(
                theirs.body["errors"][0]["message"], none.body["errors"][0]["message"],
                "{label}: {q}"
            );
        }
    }
    let r = app
        .gql(
            "{ plans(partnership: \"north-herts\") { nodes { id } } }",
            json!({}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .gql("mutation { createPlan(input: {partnership: \"north-herts\", financialYear: \"2016/17\", title: \"x\"}) { id } }", json!({}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

#[tokio::test]
async fn scope_is_the_token_partnerships_the_agency_belongs_to() {
    let app = TestApp::spawn().await;
    // Herts Police belongs to both partnerships; a token naming both sees both.
    let both = app.token_for("police", "herts-police", &["stevenage", "north-herts"], &[]);
    let r = app
        .gql(
            "{ plans { nodes { partnership financialYear } } me { partnerships } }",
            json!({}),
            Some(&both),
        )
        .await;
    assert_eq!(
        r.data()["plans"]["nodes"].as_array().expect("plans").len(),
        3
    );
    assert_eq!(
        r.data()["me"]["partnerships"],
        json!(["north-herts", "stevenage"])
    );
    // North Herts Council does not belong to Stevenage: naming it in the token grants nothing.
    let outsider = app.token_for(
        "council",
        "north-herts-council",
        &["stevenage"],
        &["coordinator"],
    );
    let r = app
        .gql(
            "{ plans { nodes { id } } me { partnerships } }",
            json!({}),
            Some(&outsider),
        )
        .await;
    assert_eq!(r.data()["plans"]["nodes"], json!([]));
    assert_eq!(r.data()["me"]["partnerships"], json!([]));
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { id } }",
            json!({"id": plan}),
            Some(&outsider),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

const PARTNERS: [&str; 6] = [
    "police",
    "police coordinator",
    "fire",
    "fire coordinator",
    "council",
    "council coordinator",
];

#[tokio::test]
async fn incident_rows_are_for_partners_and_statistics_for_everyone() {
    let app = TestApp::spawn().await;
    let queries = [
        ("{ incidents(first: 1) { totalCount nodes { id } } }", false),
        (
            "{ incidentStats(filter: {period: {financialYear: \"2014/15\"}}, groupBy: [CATEGORY]) { total { count } } }",
            true,
        ),
        (
            "{ dataFreshness(fromMonth: \"2014-04\", toMonth: \"2015-03\") { agencies { agency { slug } } } }",
            true,
        ),
        ("{ areas { nodes { code } } }", true),
        (
            "{ vocabularies(vocabulary: HATE_STRAND) { nodes { code } } }",
            true,
        ),
        (
            "{ officialAreas(district: \"E07000243\", kind: WARD, vintage: 2024) { nodes { code } } }",
            true,
        ),
        // Exact figures by official area: partners only (the PCC reads
        // protectedAreaStatistics, below).
        (
            "{ areaStatistics(filter: {period: {financialYear: \"2014/15\"}}, district: \"E07000243\", kind: WARD, vintage: 2024) { total { count } } }",
            false,
        ),
        (
            "{ hotspots(filter: {period: {financialYear: \"2014/15\"}}, district: \"E07000243\", kind: WARD, vintage: 2024) { areas { code spatial } } }",
            false,
        ),
    ];
    for (label, ..) in PRINCIPALS {
        for (q, pcc_too) in queries {
            let r = app.gql(q, json!({}), Some(&token(&app, label))).await;
            if label.starts_with("pcc") && !pcc_too {
                assert_eq!(r.code(), "FORBIDDEN", "{label}: {q}");
            } else {
                assert!(r.body.get("errors").is_none(), "{label}: {q}: {}", r.body);
            }
        }
    }
    // Figures by official area from the protected table set: the PCC only.
    let q = "{ protectedAreaStatistics(filter: {period: {financialYear: \"2014/15\"}}, district: \"E07000243\", kind: WARD, vintage: 2024) { total { count suppressed } } }";
    for (label, ..) in PRINCIPALS {
        let r = app.gql(q, json!({}), Some(&token(&app, label))).await;
        if label.starts_with("pcc") {
            assert!(r.body.get("errors").is_none(), "{label}: {}", r.body);
        } else {
            assert_eq!(r.code(), "FORBIDDEN", "{label}: {}", r.body);
        }
    }
    // Exact for partners, suppressed for the PCC.
    let q = "{ incidentStats(filter: {period: {month: \"2014-04\"}}, groupBy: [AREA, CATEGORY]) { suppressionApplied rows { suppressed } } }";
    let exact = app.gql(q, json!({}), Some(&app.council())).await;
    assert_eq!(exact.data()["incidentStats"]["suppressionApplied"], false);
    assert!(
        exact.data()["incidentStats"]["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["suppressed"] == false)
    );
    let pcc = app.gql(q, json!({}), Some(&app.pcc())).await;
    assert_eq!(pcc.data()["incidentStats"]["suppressionApplied"], true);
    assert!(
        pcc.data()["incidentStats"]["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["suppressed"] == true)
    );
}

#[tokio::test]
async fn partners_push_incidents_and_the_pcc_does_not() {
    let m = "mutation { pushIncidents(incidents: [{externalRef: \"ACC-1\", category: \"burglary\", occurredAt: \"2015-05-01T10:00:00Z\", area: \"old-town\"}]) { created } }";
    let app = TestApp::spawn().await;
    for (label, ..) in PRINCIPALS {
        let r = app.gql(m, json!({}), Some(&token(&app, label))).await;
        if PARTNERS.contains(&label) {
            assert!(r.body.get("errors").is_none(), "{label}: {}", r.body);
        } else {
            assert_eq!(r.code(), "FORBIDDEN", "{label}");
        }
    }
}

/// A hotspot designated in the app by a coordinator, on the demo's first LSOA.
async fn designated_hotspot(app: &TestApp) -> Value {
    let r = app
        .gql(
            "mutation { designateHotspot(input: {name: \"Bus station\", lsoas: [\"E01023758\"], startsOn: \"2014-10-01\", endsOn: \"2014-12-31\"}) { id } }",
            json!({}),
            Some(&app.coordinator()),
        )
        .await;
    r.data()["designateHotspot"]["id"].clone()
}

#[tokio::test]
async fn coordinators_designate_hotspots_partners_respond_and_evaluate_and_everyone_reads_them() {
    check("designateHotspot", &COORDINATORS, |_| Box::pin(async {
        ("mutation { designateHotspot(input: {name: \"Town centre\", lsoas: [\"E01023758\", \"E01035570\"], comparisonLsoas: [\"E01023753\"], startsOn: \"2014-10-01\", endsOn: \"2014-12-31\"}) { id lsoas } }".to_owned(), json!({}))
    }))
    .await;
    check("recordHotspotResponse", &PARTNERS, |app| Box::pin(async move {
        let id = designated_hotspot(app).await;
        ("mutation($id: ID!) { recordHotspotResponse(input: {designationId: $id, weekStarting: \"2014-10-06\", patrolHours: 6}) { changed } }".to_owned(), json!({"id": id}))
    }))
    .await;
    check("hotspotEvaluation", &PARTNERS, |app| Box::pin(async move {
        let id = designated_hotspot(app).await;
        ("query($id: ID!) { hotspotEvaluation(id: $id) { windows { phase hotspot { total } } } }".to_owned(), json!({"id": id}))
    }))
    .await;
    let everyone: Vec<&str> = PRINCIPALS.iter().map(|p| p.0).collect();
    check("hotspotDesignations", &everyone, |app| {
        Box::pin(async move {
            designated_hotspot(app).await;
            (
                "{ hotspotDesignations { totalCount nodes { name responses { agency } } } }"
                    .to_owned(),
                json!({}),
            )
        })
    })
    .await;
}

#[tokio::test]
async fn only_coordinators_manage_areas() {
    check("createArea", &COORDINATORS, |_| Box::pin(async {
        ("mutation { createArea(input: {code: \"town-centre\", name: \"Town centre\", kind: NEIGHBOURHOOD, postcodeDistricts: [\"sg1\"]}) { code postcodeDistricts } }".to_owned(), json!({}))
    }))
    .await;
    check("updateArea", &COORDINATORS, |app| Box::pin(async move {
        let r = app.gql("{ areas { nodes { id code } } }", json!({}), Some(&app.police())).await;
        let id = r.data()["areas"]["nodes"][0]["id"].clone();
        ("mutation($id: ID!) { updateArea(input: {areaId: $id, name: \"Renamed\"}) { name } }".to_owned(), json!({"id": id}))
    }))
    .await;
    let app = TestApp::spawn().await;
    let r = app
        .gql("mutation { createArea(input: {code: \"Town Centre\", name: \"x\", kind: WARD}) { code } }", json!({}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let r = app
        .gql("mutation { createArea(input: {code: \"old-town\", name: \"Old Town again\", kind: WARD}) { code } }", json!({}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.code(), "CONFLICT");
    let r = app
        .gql("mutation { createArea(input: {code: \"tc\", name: \"TC\", kind: WARD, postcodeDistricts: [\"SG1 1HN\"]}) { code } }", json!({}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn another_partnerships_incidents_are_invisible() {
    let app = TestApp::spawn().await;
    for q in [
        "{ incidents(filter: {partnership: \"north-herts\"}) { totalCount } }",
        "{ incidentStats(filter: {partnership: \"north-herts\", period: {financialYear: \"2014/15\"}}) { total { count } } }",
        "{ dataFreshness(partnership: \"north-herts\") { partnership } }",
        "{ areas(partnership: \"north-herts\") { nodes { code } } }",
    ] {
        for label in ["police", "council coordinator", "pcc"] {
            let r = app.gql(q, json!({}), Some(&token(&app, label))).await;
            assert_eq!(r.code(), "NOT_FOUND", "{label}: {q}");
        }
    }
    // Pushing into a partnership outside the token is a per-record rejection.
    let r = app
        .gql("mutation { pushIncidents(incidents: [{externalRef: \"X-1\", partnership: \"north-herts\", category: \"burglary\", occurredAt: \"2015-05-01T10:00:00Z\", area: \"old-town\"}]) { created rejected { code } } }", json!({}), Some(&app.police()))
        .await;
    assert_eq!(
        r.data()["pushIncidents"],
        json!({"created": 0, "rejected": [{"code": "UNKNOWN_PARTNERSHIP"}]})
    );
    // Herts Police belongs to both: Stevenage's figures never include North Herts records.
    let both = app.token_for("police", "herts-police", &["stevenage", "north-herts"], &[]);
    let r = app
        .gql("mutation { createArea(input: {partnership: \"north-herts\", code: \"hitchin\", name: \"Hitchin\", kind: WARD}) { code } }", json!({}), Some(&app.token_for("police", "herts-police", &["north-herts"], &["coordinator"])))
        .await;
    r.data();
    let r = app
        .gql("mutation { pushIncidents(incidents: [{externalRef: \"NH-1\", partnership: \"north-herts\", category: \"burglary\", occurredAt: \"2015-05-01T10:00:00Z\", area: \"hitchin\"}]) { created } }", json!({}), Some(&both))
        .await;
    assert_eq!(r.data()["pushIncidents"]["created"], 1);
    // A Stevenage-only token cannot move (or overwrite) the agency's North Herts record.
    let r = app
        .gql("mutation { pushIncidents(incidents: [{externalRef: \"NH-1\", category: \"robbery\", occurredAt: \"2015-05-01T10:00:00Z\", area: \"old-town\"}]) { created updated unchanged rejected { index code } } }", json!({}), Some(&app.police()))
        .await;
    assert_eq!(
        r.data()["pushIncidents"],
        json!({"created": 0, "updated": 0, "unchanged": 0, "rejected": [{"index": 0, "code": "UNKNOWN_PARTNERSHIP"}]})
    );
    let r = app.gql("{ incidents(filter: {partnership: \"north-herts\", period: {month: \"2015-05\"}}) { nodes { externalRef category { code } } } }", json!({}), Some(&both)).await;
    assert_eq!(
        r.data()["incidents"]["nodes"],
        json!([{"externalRef": "NH-1", "category": {"code": "burglary"}}])
    );
    let r = app.gql("{ incidents(filter: {partnership: \"stevenage\", period: {month: \"2015-05\"}}) { nodes { externalRef } } }", json!({}), Some(&both)).await;
    assert!(
        r.data()["incidents"]["nodes"]
            .as_array()
            .expect("n")
            .iter()
            .all(|n| n["externalRef"] != "NH-1")
    );
    let r = app
        .gql(
            "{ incidents(first: 1) { totalCount } }",
            json!({}),
            Some(&both),
        )
        .await;
    assert_eq!(
        r.code(),
        "BAD_USER_INPUT",
        "with two partnerships the query must name one"
    );
}
