//! The action plan's rules, driven through the GraphQL API as a coordinator, lead officers and
//! the PCC's office would use it.

use crate::common::*;
use serde_json::{Value, json};

const PROGRESS: &str = "query($id: ID!, $q: String!) { planProgress(planId: $id, quarter: $q) {
    quarter asAt
    total { expected complete onTarget incomplete removed notStarted
            completePercent onTargetPercent incompletePercent removedPercent notStartedPercent }
    priorities { position title counts { expected complete onTarget incomplete removed notStarted } }
    removedActions { ref reason decidedBy decidedOn priorityPosition }
    incompleteActions { ref commentary recordedForQuarter }
} }";

const RECORD: &str = "mutation($input: RecordProgressInput!) { recordProgress(input: $input) {
    id quarter status commentary percentComplete supersedes superseded recordedBy recordedByAgency { slug } } }";

async fn progress(app: &TestApp, year: &str, quarter: &str) -> Value {
    let plan = app.plan_id(year).await;
    let r = app
        .gql(
            PROGRESS,
            json!({"id": plan, "q": quarter}),
            Some(&app.pcc()),
        )
        .await;
    r.data()["planProgress"].clone()
}

fn row(counts: &Value) -> [i64; 5] {
    ["expected", "complete", "onTarget", "incomplete", "removed"]
        .map(|k| counts[k].as_i64().expect("count"))
}

#[tokio::test]
async fn the_demo_plan_at_the_end_of_q3_matches_the_reports_per_priority_figures() {
    let app = TestApp::spawn().await;
    let p = progress(&app, "2014/15", "2014/15 Q3").await;
    assert_eq!(p["asAt"], "2014-12-31");
    let rows: Vec<[i64; 5]> = p["priorities"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| row(&r["counts"]))
        .collect();
    assert_eq!(
        rows,
        vec![
            [6, 3, 3, 0, 0],
            [8, 3, 4, 0, 1],
            [17, 13, 4, 0, 0],
            [4, 3, 1, 0, 0],
            [7, 4, 1, 1, 1],
            [18, 12, 4, 2, 0],
        ]
    );
    // The total is the sum of the rows (not the report's hand-assembled 37 / 4).
    assert_eq!(row(&p["total"]), [60, 38, 17, 3, 2]);
    assert_eq!(p["total"]["notStarted"], 0);
    assert_eq!(p["total"]["completePercent"], 63.3);
    assert_eq!(p["total"]["onTargetPercent"], 28.3);
    assert_eq!(p["total"]["incompletePercent"], 5.0);
    assert_eq!(p["total"]["removedPercent"], 3.3);
    let removed: Vec<&str> = p["removedActions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["ref"].as_str().expect("ref"))
        .collect();
    assert_eq!(removed, ["2.2", "5.2"]);
    assert_eq!(p["removedActions"][0]["decidedBy"], "RAG");
    assert!(
        p["removedActions"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("resources")
    );
    let incomplete: Vec<&str> = p["incompleteActions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["ref"].as_str().expect("ref"))
        .collect();
    assert_eq!(incomplete, ["5.3", "6.9", "6.10"]);
    assert!(
        p["incompleteActions"][2]["commentary"]
            .as_str()
            .expect("c")
            .contains("5%")
    );
}

#[tokio::test]
async fn earlier_quarters_use_the_records_of_their_time() {
    let app = TestApp::spawn().await;
    let q1 = progress(&app, "2014/15", "2014/15 Q1").await;
    // 2.2 was removed in Q2 and 5.2 in Q3: neither is removed at the end of Q1.
    assert_eq!(q1["total"]["removed"], 0);
    assert_eq!(q1["total"]["expected"], 60);
    let q2 = progress(&app, "2014/15", "2014/15 Q2").await;
    assert_eq!(q2["total"]["removed"], 1);
    assert_eq!(q2["removedActions"][0]["ref"], "2.2");
    // Q4 has no records yet: every action keeps its Q3 standing.
    let q4 = progress(&app, "2014/15", "2014/15 Q4").await;
    assert_eq!(row(&q4["total"]), [60, 38, 17, 3, 2]);
}

#[tokio::test]
async fn plan_progress_rejects_a_quarter_outside_the_plan_or_malformed() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    for q in ["2015/16 Q1", "2014/15 Q5", "Q3 2014", "2014-15 Q1"] {
        let r = app
            .gql(PROGRESS, json!({"id": plan, "q": q}), Some(&app.police()))
            .await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{q}: {}", r.body);
    }
}

#[tokio::test]
async fn a_correction_supersedes_the_earlier_record_and_the_history_keeps_both() {
    let app = TestApp::spawn().await;
    let (action, _) = app.action("2014/15", "1.5").await; // council-led, on target at Q3
    let first = app
        .gql(RECORD, json!({"input": {"actionId": action, "quarter": "2014/15 Q4", "status": "ON_TARGET", "percentComplete": 80}}), Some(&app.council()))
        .await;
    let first = first.data()["recordProgress"].clone();
    assert_eq!(first["supersedes"], Value::Null);
    assert_eq!(first["recordedBy"], "council-officer@stevenage-council");
    assert_eq!(first["recordedByAgency"]["slug"], "stevenage-council");
    let second = app
        .gql(RECORD, json!({"input": {"actionId": action, "quarter": "2014/15 Q4", "status": "COMPLETE", "commentary": "delivered in February"}}), Some(&app.council()))
        .await;
    let second = second.data()["recordProgress"].clone();
    assert_eq!(second["supersedes"], first["id"]);

    let r = app
        .gql("query($id: ID!) { action(id: $id) { status(quarter: \"2014/15 Q4\") q3: status(quarter: \"2014/15 Q3\")
              progressHistory { id quarter status superseded } } }", json!({"id": action}), Some(&app.police()))
        .await;
    let a = &r.data()["action"];
    assert_eq!(a["status"], "COMPLETE");
    assert_eq!(a["q3"], "ON_TARGET");
    let q4: Vec<&Value> = a["progressHistory"]
        .as_array()
        .expect("h")
        .iter()
        .filter(|h| h["quarter"] == "2014/15 Q4")
        .collect();
    assert_eq!(q4.len(), 2);
    assert_eq!(q4[0]["superseded"], true);
    assert_eq!(q4[0]["status"], "ON_TARGET");
    assert_eq!(q4[1]["superseded"], false);

    let p = progress(&app, "2014/15", "2014/15 Q4").await;
    assert_eq!(p["priorities"][0]["counts"]["complete"], 4);
    assert_eq!(p["total"]["complete"], 39);
}

#[tokio::test]
async fn concurrent_records_for_one_quarter_both_land_in_order() {
    let app = TestApp::spawn().await;
    let (action, _) = app.action("2014/15", "1.4").await;
    let token = app.coordinator();
    let send = |status: &'static str| {
        let input =
            json!({"input": {"actionId": action, "quarter": "2014/15 Q4", "status": status}});
        let app = &app;
        let token = token.clone();
        async move { app.gql(RECORD, input, Some(&token)).await }
    };
    let (a, b) = tokio::join!(send("ON_TARGET"), send("COMPLETE"));
    a.data();
    b.data();
    let r = app
        .gql("query($id: ID!) { action(id: $id) { progressHistory { quarter superseded supersedes id } } }", json!({"id": action}), Some(&token))
        .await;
    let q4: Vec<Value> = r.data()["action"]["progressHistory"]
        .as_array()
        .expect("h")
        .iter()
        .filter(|h| h["quarter"] == "2014/15 Q4")
        .cloned()
        .collect();
    assert_eq!(q4.len(), 2);
    assert_eq!(
        q4.iter().filter(|h| h["superseded"] == false).count(),
        1,
        "exactly one current record"
    );
    assert_eq!(q4[1]["supersedes"], q4[0]["id"]);
}

#[tokio::test]
async fn recording_progress_checks_its_input() {
    let app = TestApp::spawn().await;
    let (action, _) = app.action("2014/15", "1.4").await;
    let cases = [
        (
            json!({"quarter": "2014/15 Q4", "status": "INCOMPLETE"}),
            "BAD_USER_INPUT",
            "commentary is required",
        ),
        (
            json!({"quarter": "2014/15 Q4", "status": "INCOMPLETE", "commentary": "  "}),
            "BAD_USER_INPUT",
            "commentary is required",
        ),
        (
            json!({"quarter": "2015/16 Q1", "status": "ON_TARGET"}),
            "BAD_USER_INPUT",
            "not in the plan's financial year",
        ),
        (
            json!({"quarter": "2014/15 Q7", "status": "ON_TARGET"}),
            "BAD_USER_INPUT",
            "not a financial quarter",
        ),
        (
            json!({"quarter": "2014/15 Q4", "status": "ON_TARGET", "percentComplete": 150}),
            "BAD_USER_INPUT",
            "between 0 and 100",
        ),
        (
            json!({"quarter": "2014/15 Q4", "status": "DONE"}),
            "BAD_USER_INPUT",
            "",
        ),
    ];
    for (fields, code, says) in cases {
        let mut input = fields.clone();
        input["actionId"] = json!(action);
        let r = app
            .gql(RECORD, json!({"input": input}), Some(&app.coordinator()))
            .await;
        assert_eq!(r.code(), code, "{fields}: {}", r.body);
        assert!(r.message().contains(says), "{fields}: {}", r.message());
    }
    // Nothing was written by the rejected attempts.
    let r = app
        .gql(
            "query($id: ID!) { action(id: $id) { progressHistory { id } } }",
            json!({"id": action}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["action"]["progressHistory"]
            .as_array()
            .expect("h")
            .len(),
        3
    );
}

#[tokio::test]
async fn a_removed_action_stays_in_the_plan_as_removed_from_the_decision_quarter() {
    let app = TestApp::spawn().await;
    let (action, version) = app.action("2014/15", "6.11").await;
    const REMOVE: &str = "mutation($input: RemoveActionInput!) { removeAction(input: $input) {
        version removal { reason decidedBy decidedOn fromQuarter recordedBy } } }";
    // A reason and a deciding body are required.
    let r = app.gql(REMOVE, json!({"input": {"actionId": action, "reason": " ", "decidedBy": "RAG", "decidedOn": "2015-02-10"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let r = app.gql(REMOVE, json!({"input": {"actionId": action, "reason": "no longer needed", "decidedBy": "", "decidedOn": "2015-02-10"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    // The decision date must fall in the plan's year.
    let r = app.gql(REMOVE, json!({"input": {"actionId": action, "reason": "no longer needed", "decidedBy": "RAG", "decidedOn": "2015-05-10"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");

    let r = app
        .gql(REMOVE, json!({"input": {"actionId": action, "reason": "Superseded by the county fire strategy", "decidedBy": "RAG", "decidedOn": "2015-02-10", "version": version}}), Some(&app.coordinator()))
        .await;
    let removal = &r.data()["removeAction"]["removal"];
    assert_eq!(removal["fromQuarter"], "2014/15 Q4");
    assert_eq!(removal["decidedOn"], "2015-02-10");
    assert_eq!(removal["recordedBy"], "council-officer@stevenage-council");

    let q3 = progress(&app, "2014/15", "2014/15 Q3").await;
    assert_eq!(
        row(&q3["total"]),
        [60, 38, 17, 3, 2],
        "not removed before the decision's quarter"
    );
    let q4 = progress(&app, "2014/15", "2014/15 Q4").await;
    assert_eq!(row(&q4["total"]), [60, 38, 16, 3, 3]);
    assert_eq!(q4["removedActions"][2]["ref"], "6.11");

    // Removing twice, or recording progress after removal, is refused.
    let r = app.gql(REMOVE, json!({"input": {"actionId": action, "reason": "again", "decidedBy": "RAG", "decidedOn": "2015-02-11"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "CONFLICT");
    let r = app
        .gql(
            RECORD,
            json!({"input": {"actionId": action, "quarter": "2014/15 Q4", "status": "COMPLETE"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
}

const UPDATE: &str = "mutation($input: UpdateActionInput!) { updateAction(input: $input) { title leadOfficer version leadAgency { slug } } }";

#[tokio::test]
async fn an_edit_with_a_stale_version_is_a_conflict_and_nothing_is_lost() {
    let app = TestApp::spawn().await;
    let (action, version) = app.action("2015/16", "2.1").await;
    let first = app
        .gql(UPDATE, json!({"input": {"actionId": action, "version": version, "title": "CCTV good news stories"}}), Some(&app.coordinator()))
        .await;
    assert_eq!(first.data()["updateAction"]["version"], version + 1);
    // A second editor still holding the old version.
    let second = app
        .gql(
            UPDATE,
            json!({"input": {"actionId": action, "version": version, "title": "Something else"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(second.code(), "CONFLICT");
    assert!(second.message().contains("reload"));
    let r = app
        .gql(
            "query($id: ID!) { action(id: $id) { title version } }",
            json!({"id": action}),
            Some(&app.police()),
        )
        .await;
    assert_eq!(
        r.data()["action"],
        json!({"title": "CCTV good news stories", "version": version + 1})
    );
}

#[tokio::test]
async fn actions_and_priorities_are_freely_edited_only_in_draft() {
    let app = TestApp::spawn().await;
    let (action, version) = app.action("2014/15", "3.2").await;
    let r = app
        .gql(
            UPDATE,
            json!({"input": {"actionId": action, "version": version, "title": "New title"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    assert!(r.message().contains("ratified"), "{}", r.message());
    // People change: the lead officer and agency can be updated in a live plan.
    let r = app
        .gql(UPDATE, json!({"input": {"actionId": action, "version": version, "leadOfficer": "Community safety manager", "leadAgency": "herts-police"}}), Some(&app.coordinator()))
        .await;
    assert_eq!(
        r.data()["updateAction"]["leadOfficer"],
        "Community safety manager"
    );
    assert_eq!(
        r.data()["updateAction"]["leadAgency"]["slug"],
        "herts-police"
    );

    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql("mutation($id: ID!) { addPriority(input: {planId: $id, position: 7, title: \"Extra\"}) { id } }", json!({"id": plan}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.code(), "CONFLICT");

    // The draft 2015/16 plan takes new priorities and actions.
    let draft = app.plan_id("2015/16").await;
    let r = app
        .gql("mutation($id: ID!) { addPriority(input: {planId: $id, position: 5, title: \"Exploitation\"}) { id position } }", json!({"id": draft}), Some(&app.coordinator()))
        .await;
    let priority = r.data()["addPriority"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let add = "mutation($input: AddActionInput!) { addAction(input: $input) { id ref addedInQuarter leadAgency { slug } } }";
    let r = app
        .gql(add, json!({"input": {"priorityId": priority, "ref": "5.1", "title": "Map county lines activity", "leadAgency": "herts-police", "measure": "Map produced by Q2", "targetDate": "2015-09-30"}}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.data()["addAction"]["ref"], "5.1");
    assert_eq!(r.data()["addAction"]["addedInQuarter"], Value::Null);
    // Refs are unique in the plan and must match the priority.
    let r = app.gql(add, json!({"input": {"priorityId": priority, "ref": "5.1", "title": "Again", "leadAgency": "herts-police"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "CONFLICT");
    let r = app.gql(add, json!({"input": {"priorityId": priority, "ref": "4.9", "title": "Wrong ref", "leadAgency": "herts-police"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    // A lead agency must be one of the partnership's.
    let r = app.gql(add, json!({"input": {"priorityId": priority, "ref": "5.2", "title": "X", "leadAgency": "north-herts-council"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn actions_added_to_a_live_plan_count_from_the_quarter_they_were_added() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { priorities { id position } } }",
            json!({"id": plan}),
            Some(&app.police()),
        )
        .await;
    let priority = r.data()["plan"]["priorities"][5]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let add =
        "mutation($input: AddActionInput!) { addAction(input: $input) { id addedInQuarter } }";
    // In a live plan the quarter is required.
    let r = app.gql(add, json!({"input": {"priorityId": priority, "ref": "6.19", "title": "Youth shelter in Shephall", "leadAgency": "stevenage-council"}}), Some(&app.coordinator())).await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let r = app
        .gql(add, json!({"input": {"priorityId": priority, "ref": "6.19", "title": "Youth shelter in Shephall", "leadAgency": "stevenage-council", "addedInQuarter": "2014/15 Q4"}}), Some(&app.coordinator()))
        .await;
    assert_eq!(r.data()["addAction"]["addedInQuarter"], "2014/15 Q4");
    let action = r.data()["addAction"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        progress(&app, "2014/15", "2014/15 Q3").await["total"]["expected"],
        60
    );
    let q4 = progress(&app, "2014/15", "2014/15 Q4").await;
    assert_eq!(q4["total"]["expected"], 61);
    assert_eq!(q4["total"]["notStarted"], 1);
    // Progress before the quarter it was added in is refused.
    let r = app
        .gql(
            RECORD,
            json!({"input": {"actionId": action, "quarter": "2014/15 Q3", "status": "ON_TARGET"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

const LIFECYCLE: &str = "status draftNumber signedOffBy signedOffOn ratifiedMeeting ratifiedOn closedAt lifecycle { step draftNumber by agency { slug } detail }";

#[tokio::test]
async fn a_plan_moves_from_draft_through_sign_off_and_ratification_to_closed() {
    let app = TestApp::spawn().await;
    let c = app.coordinator();
    let r = app
        .gql(&format!("mutation {{ createPlan(input: {{partnership: \"stevenage\", financialYear: \"2016/17\", title: \"SoSafe plan 2016/17\"}}) {{ id financialYear {LIFECYCLE} }} }}"), json!({}), Some(&c))
        .await;
    let plan = r.data()["createPlan"].clone();
    let id = plan["id"].as_str().expect("id").to_owned();
    assert_eq!(plan["status"], "DRAFT");
    assert_eq!(plan["draftNumber"], 1);
    assert_eq!(plan["lifecycle"][0]["step"], "CREATED");
    assert_eq!(
        plan["lifecycle"][0]["by"],
        "council-officer@stevenage-council"
    );

    // Out of order steps are refused.
    let ratify = format!(
        "mutation($id: ID!) {{ ratifyPlan(input: {{planId: $id, meeting: \"RAG\", ratifiedOn: \"2016-04-20\"}}) {{ {LIFECYCLE} }} }}"
    );
    let r = app.gql(&ratify, json!({"id": id}), Some(&c)).await;
    assert_eq!(r.code(), "CONFLICT");
    let close = format!("mutation($id: ID!) {{ closePlan(planId: $id) {{ {LIFECYCLE} }} }}");
    assert_eq!(
        app.gql(&close, json!({"id": id}), Some(&c)).await.code(),
        "CONFLICT"
    );

    let r = app
        .gql(
            &format!("mutation($id: ID!) {{ newPlanDraft(planId: $id) {{ {LIFECYCLE} }} }}"),
            json!({"id": id}),
            Some(&c),
        )
        .await;
    assert_eq!(r.data()["newPlanDraft"]["draftNumber"], 2);
    let r = app
        .gql(&format!("mutation($id: ID!) {{ signOffPlan(input: {{planId: $id, signedOffBy: \"RAG chair and vice chair\", signedOffOn: \"2016-03-31\"}}) {{ {LIFECYCLE} }} }}"), json!({"id": id}), Some(&c))
        .await;
    let p = &r.data()["signOffPlan"];
    assert_eq!(p["status"], "SIGNED_OFF");
    assert_eq!(p["signedOffBy"], "RAG chair and vice chair");
    assert_eq!(p["signedOffOn"], "2016-03-31");
    // Ratification cannot predate sign-off.
    let early = ratify.replace("2016-04-20", "2016-03-01");
    assert_eq!(
        app.gql(&early, json!({"id": id}), Some(&c)).await.code(),
        "BAD_USER_INPUT"
    );
    let r = app.gql(&ratify, json!({"id": id}), Some(&c)).await;
    assert_eq!(r.data()["ratifyPlan"]["status"], "RATIFIED");
    assert_eq!(r.data()["ratifyPlan"]["ratifiedMeeting"], "RAG");
    let r = app.gql(&close, json!({"id": id}), Some(&c)).await;
    let p = &r.data()["closePlan"];
    assert_eq!(p["status"], "CLOSED");
    assert!(p["closedAt"].is_string());
    let steps: Vec<&str> = p["lifecycle"]
        .as_array()
        .expect("l")
        .iter()
        .map(|e| e["step"].as_str().expect("s"))
        .collect();
    assert_eq!(
        steps,
        ["CREATED", "NEW_DRAFT", "SIGNED_OFF", "RATIFIED", "CLOSED"]
    );
    assert_eq!(p["lifecycle"][2]["draftNumber"], 2);
    assert_eq!(
        p["lifecycle"][2]["detail"],
        "signed off by RAG chair and vice chair on 2016-03-31"
    );

    // A second plan for the same year is a conflict.
    let r = app
        .gql("mutation { createPlan(input: {partnership: \"stevenage\", financialYear: \"2016/17\", title: \"Again\"}) { id } }", json!({}), Some(&c))
        .await;
    assert_eq!(r.code(), "CONFLICT");
    let r = app
        .gql("mutation { createPlan(input: {partnership: \"stevenage\", financialYear: \"2016/18\", title: \"Bad\"}) { id } }", json!({}), Some(&c))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn progress_cannot_be_recorded_on_a_draft_or_closed_plan() {
    let app = TestApp::spawn().await;
    let (action, _) = app.action("2015/16", "2.1").await;
    let r = app
        .gql(
            RECORD,
            json!({"input": {"actionId": action, "quarter": "2015/16 Q1", "status": "ON_TARGET"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    assert!(r.message().contains("draft"));
}

#[tokio::test]
async fn carried_over_actions_are_linked_both_ways() {
    let app = TestApp::spawn().await;
    let (from, _) = app.action("2014/15", "6.9").await;
    let r = app
        .gql("query($id: ID!) { action(id: $id) { ref carriedOverTo { ref plan { financialYear } carriedOverFrom { ref } } } }", json!({"id": from}), Some(&app.pcc()))
        .await;
    let a = &r.data()["action"];
    assert_eq!(a["carriedOverTo"]["ref"], "2.1");
    assert_eq!(a["carriedOverTo"]["plan"]["financialYear"], "2015/16");
    assert_eq!(a["carriedOverTo"]["carriedOverFrom"]["ref"], "6.9");

    // Carry 6.10 into the draft 2015/16 plan; a second carry-over is a conflict.
    let (source, _) = app.action("2014/15", "6.10").await;
    let next = app.plan_id("2015/16").await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { priorities { id position } } }",
            json!({"id": next}),
            Some(&app.police()),
        )
        .await;
    let theme1 = r.data()["plan"]["priorities"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let carry = "mutation($input: CarryOverActionInput!) { carryOverAction(input: $input) { ref title carriedOverFrom { ref } } }";
    let r = app
        .gql(
            carry,
            json!({"input": {"actionId": source, "priorityId": theme1, "ref": "1.1"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(
        r.data()["carryOverAction"]["carriedOverFrom"]["ref"],
        "6.10"
    );
    assert_eq!(r.data()["carryOverAction"]["title"], "Reduce ASB by 5%");
    let r = app
        .gql(
            carry,
            json!({"input": {"actionId": source, "priorityId": theme1, "ref": "1.2"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    // Only into the next year's plan.
    let this_year = app.plan_id("2014/15").await;
    let r = app
        .gql(
            "query($id: ID!) { plan(id: $id) { priorities { id } } }",
            json!({"id": this_year}),
            Some(&app.police()),
        )
        .await;
    let same_year = r.data()["plan"]["priorities"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (other, _) = app.action("2014/15", "6.6").await;
    let r = app
        .gql(
            carry,
            json!({"input": {"actionId": other, "priorityId": same_year, "ref": "1.9"}}),
            Some(&app.coordinator()),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_plan_query_returns_priorities_actions_and_history() {
    let app = TestApp::spawn().await;
    let plan = app.plan_id("2014/15").await;
    let r = app
        .gql("query($id: ID!) { plan(id: $id) { financialYear status partnership priorities { position title actions { ref leadAgency { slug kind } progressHistory { quarter status } } } } }", json!({"id": plan}), Some(&app.pcc()))
        .await;
    let p = &r.data()["plan"];
    assert_eq!(p["partnership"], "stevenage");
    let priorities = p["priorities"].as_array().expect("p");
    assert_eq!(priorities.len(), 6);
    let sizes: Vec<usize> = priorities
        .iter()
        .map(|p| p["actions"].as_array().expect("a").len())
        .collect();
    assert_eq!(sizes, [6, 8, 17, 4, 7, 18]);
    let refs: Vec<&str> = priorities[2]["actions"]
        .as_array()
        .expect("a")
        .iter()
        .map(|a| a["ref"].as_str().expect("r"))
        .collect();
    assert_eq!(
        refs[8..11],
        ["3.9", "3.10", "3.11"],
        "refs sort numerically"
    );
    let history = priorities[0]["actions"][0]["progressHistory"]
        .as_array()
        .expect("h");
    assert_eq!(
        history
            .iter()
            .map(|h| h["quarter"].as_str().expect("q"))
            .collect::<Vec<_>>(),
        ["2014/15 Q1", "2014/15 Q2", "2014/15 Q3"]
    );
}

#[tokio::test]
async fn loading_the_demo_data_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let tables = [
        "actions",
        "progress_records",
        "plan_events",
        "agencies",
        "areas",
        "incidents",
        "incident_revisions",
        "incident_pushes",
        "partnerships",
        "populations",
    ];
    let mut counts = Vec::new();
    for _ in 0..2 {
        let mut now = Vec::new();
        for t in tables {
            now.push(app.count(&format!("SELECT count(*) AS n FROM {t}")).await);
        }
        counts.push(now);
        csphub::demo::load(&app.db).await.expect("reload");
    }
    assert_eq!(counts[0], counts[1]);
    assert_eq!(
        counts[1][0],
        60 + 1 + 1,
        "60 demo actions, one carried over, one in North Herts"
    );
    assert_eq!(
        counts[1][4],
        13 + 9,
        "Stevenage's wards and one area per other district"
    );
    assert_eq!(counts[1][6], 0, "no revisions: nothing changed");
    assert_eq!(counts[1][8], 10, "the county's ten districts");
    assert_eq!(counts[1][9], 20, "two population estimates each");
    let stevenage_from_april_2014 = app
        .count(
            "SELECT count(*) AS n FROM incidents i JOIN partnerships p ON p.id = i.partnership_id \
             WHERE p.slug = 'stevenage' AND i.occurred_on >= '2014-04-01'",
        )
        .await;
    assert_eq!(
        stevenage_from_april_2014, 1500,
        "Stevenage's demo incidents"
    );
    let county = app
        .count("SELECT count(*) AS n FROM incidents WHERE external_ref LIKE 'CTY-%'")
        .await;
    assert_eq!(
        counts[1][5],
        1500 + county,
        "and the county's generated ones"
    );
    assert!(county > 30_000, "{county}");
}

#[tokio::test]
async fn an_actions_status_without_a_quarter_is_its_latest_standing() {
    let app = TestApp::spawn().await;
    for (action_ref, expected) in [
        ("2.2", "REMOVED"),
        ("6.9", "INCOMPLETE"),
        ("1.1", "COMPLETE"),
        ("1.4", "ON_TARGET"),
    ] {
        let (id, _) = app.action("2014/15", action_ref).await;
        let r = app.gql("query($id: ID!) { action(id: $id) { status q1: status(quarter: \"2014/15 Q1\") } }", json!({"id": id}), Some(&app.fire())).await;
        assert_eq!(r.data()["action"]["status"], expected, "{action_ref}");
        assert_ne!(
            r.data()["action"]["q1"],
            "REMOVED",
            "{action_ref} was not removed in Q1"
        );
    }
    let (id, _) = app.action("2015/16", "2.1").await;
    let r = app
        .gql(
            "query($id: ID!) { action(id: $id) { status } }",
            json!({"id": id}),
            Some(&app.fire()),
        )
        .await;
    assert_eq!(r.data()["action"]["status"], "NOT_STARTED");
}

/// A plan step names its agency by slug as it was; when the register no longer holds that slug,
/// the step still reads, with the slug as the agency's name and `other` as its kind.
#[tokio::test]
async fn a_step_of_an_agency_no_longer_registered_still_reads() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            "mutation { createPlan(input: {partnership: \"stevenage\", financialYear: \"2016/17\", title: \"Plan\"}) { id } }",
            json!({}),
            Some(&app.coordinator()),
        )
        .await;
    let id = r.data()["createPlan"]["id"].clone();
    let q = "query($id: ID!) { plan(id: $id) { lifecycle { agency { slug name kind } } } }";
    let r = app.gql(q, json!({"id": id}), Some(&app.police())).await;
    assert_eq!(
        r.data()["plan"]["lifecycle"][0]["agency"]["kind"],
        "council",
        "{}",
        r.body
    );
    app.db
        .execute_unprepared(
            "UPDATE agencies SET slug = 'stevenage-borough' WHERE slug = 'stevenage-council'",
        )
        .await
        .expect("rename");
    let r = app.gql(q, json!({"id": id}), Some(&app.police())).await;
    assert_eq!(
        r.data()["plan"]["lifecycle"][0]["agency"],
        json!({"slug": "stevenage-council", "name": "stevenage-council", "kind": "other"}),
        "{}",
        r.body
    );
}
