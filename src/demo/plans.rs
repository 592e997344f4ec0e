//! The demo partnership and its plans: 2014/15 as the March 2015 scrutiny report describes it at the end of Q3, and 2015/16 in draft.

use super::*;

pub(super) struct DemoAction {
    title: &'static str,
    lead: &'static str,
    /// Statuses at the end of Q1, Q2 and Q3: N not started, O on target, C complete,
    /// I incomplete, R removed (by the decision in `REMOVALS`).
    path: &'static str,
}

pub(super) const fn a(title: &'static str, lead: &'static str, path: &'static str) -> DemoAction {
    DemoAction { title, lead, path }
}

pub(super) const P: &str = "herts-police";
pub(super) const F: &str = "herts-fire";
pub(super) const C: &str = "stevenage-council";

/// The six priorities of 2014/15 with their expected outcomes, numbered in order.
pub(super) const PRIORITIES_2014: [(&str, &[DemoAction]); 6] = [
    (
        "Domestic abuse",
        &[
            a(
                "Embed the DA action plan through the multi-agency strategic steering group and operational working groups",
                C,
                "OCC",
            ),
            a(
                "Run the Herts Change perpetrator programme in Stevenage (two cohorts of 12)",
                C,
                "OOC",
            ),
            a(
                "Complete a five-year domestic abuse data analysis exercise",
                P,
                "OOC",
            ),
            a(
                "Pilot a multi-agency standard / medium risk DA panel and the NSPCC DART programme (PCC award of £30,000)",
                C,
                "NOO",
            ),
            a(
                "Fund Evolve to deliver workplace training and pilot a counselling programme for working women",
                C,
                "OOO",
            ),
            a(
                "Identify DA champions across the council and train front-line staff in the SafeLives DASH risk assessment",
                C,
                "NOO",
            ),
        ],
    ),
    (
        "Acquisitive crime",
        &[
            a(
                "Support Shop Watch through SBC and police licensing",
                C,
                "OOC",
            ),
            a("Run a campaign focussed on tackling shoplifting", C, "OR"),
            a(
                "Coordinate street meets, attended by partners when required",
                P,
                "OCC",
            ),
            a(
                "Deploy high-visibility police officers and PCSOs in the town centre",
                P,
                "OOO",
            ),
            a(
                "Use social media (Twitter, Facebook, OWL messaging) to distribute crime prevention information quickly",
                P,
                "OOO",
            ),
            a(
                "Work with local retailers to deter shoplifters and target-harden shops in the neighbourhood centres",
                C,
                "OOC",
            ),
            a(
                "Operation Scorpion: target burglars, robbers and those involved in drug and vehicle related crime",
                P,
                "OOO",
            ),
            a(
                "Operations Scrod and Twist: the illegal scrap metal trade, and seasonal shoplifting and purse dipping",
                P,
                "OOO",
            ),
        ],
    ),
    (
        "Violent crime, alcohol and drugs",
        &[
            a("Continue employing taxi marshals in the Old Town", C, "OCC"),
            a(
                "No More project for alcohol and drug related offending adults with complex needs",
                C,
                "OOO",
            ),
            a("Hold Blue Light events in the Old Town", F, "OOC"),
            a(
                "Support Pub Watch through SBC and police licensing",
                C,
                "OCC",
            ),
            a("Start PubWatch online", C, "OOC"),
            a(
                "Multi-agency action planning with licensed premises",
                P,
                "OOC",
            ),
            a("Alcohol awareness week activities", C, "NOC"),
            a(
                "Operation Scorpion: disrupt serious crime including drug dealing and manufacture",
                P,
                "OOO",
            ),
            a(
                "Op Advisory: night-time economy engagement to prevent sexual assault",
                P,
                "OCC",
            ),
            a("Project Ex: work with young offenders", C, "NOO"),
            a(
                "Reduce street drinking and associated crime through the No More project",
                P,
                "OOC",
            ),
            a("Share intelligence with the Op Scorpion team", P, "OCC"),
            a(
                "Develop crime reduction action plans with licensed premises",
                C,
                "OOC",
            ),
            a(
                "Engage young people enjoying the night-time economy through events",
                C,
                "OOC",
            ),
            a(
                "Test purchase operations on underage alcohol sales",
                P,
                "OCC",
            ),
            a("Target hotspots for possession of Class A drugs", P, "OOO"),
            a(
                "Safe haven for the night-time economy in the Old Town",
                C,
                "OOC",
            ),
        ],
    ),
    (
        "Hate crime",
        &[
            a(
                "Information sharing and engagement with Stevenage Mosque",
                P,
                "OCC",
            ),
            a(
                "Complete weekly tension monitoring returns shared with counter terrorism and the harm reduction unit",
                P,
                "OOC",
            ),
            a(
                "Prevent training for Members, SBC and partners' staff",
                C,
                "OOC",
            ),
            a(
                "Become a third-party reporting site for hate crime",
                C,
                "NOO",
            ),
        ],
    ),
    (
        "Reassurance",
        &[
            a("Hold targeted action days", C, "OOC"),
            a(
                "Run a publicity campaign on personal safety in the local press",
                C,
                "OR",
            ),
            a("National Personal Safety Day event", C, "OOI"),
            a(
                "Operation Sabre: high-visibility HFRS and police ASB prevention initiative",
                F,
                "OCC",
            ),
            a("Hold Silver Street Meets and street meets", P, "OOC"),
            a("Operation Night Owl", P, "OOO"),
            a(
                "Police and Members local priority setting meetings, and engagement with local press and Bob FM",
                P,
                "OOC",
            ),
        ],
    ),
    (
        "ASB, criminal damage and deliberate fires",
        &[
            a(
                "Use the SafetyNet case management database across police and partners",
                C,
                "OCC",
            ),
            a("Move mobile CCTV frequently to hotspot ASB areas", C, "OOC"),
            a("Operation Sabre in ASB hotspots", F, "OOC"),
            a(
                "Family Intervention Project referrals from partner agencies including Thriving Families",
                C,
                "OOC",
            ),
            a("Box Cleva and Life Project through HFRS", F, "OCC"),
            a(
                "ASB mentors and a youth forum of ex-clients of the FIP",
                C,
                "NOO",
            ),
            a(
                "Section 30 dispersal orders at The Hyde and for Sonisphere",
                P,
                "OCC",
            ),
            a(
                "Prevention work with YMCA, Pod 53 and North Herts College",
                C,
                "OOC",
            ),
            a("Publicise good news stories about CCTV", C, "OOI"),
            a("Reduce ASB by 5%", P, "OOI"),
            a("Reduce deliberate secondary fires", F, "OOO"),
            a("Youth ASB diversion in Shephall", C, "NOO"),
            a("Criminal damage hotspot patrols", P, "OOC"),
            a("Discuss vulnerable victims and cases at the ODG", C, "OCC"),
            a(
                "Remove fly-tipped waste and abandoned vehicles to prevent deliberate fires",
                F,
                "OOC",
            ),
            a("Arson risk reduction home visits", F, "OOC"),
            a("Run ASB case reviews (community trigger) jointly", C, "OOC"),
            a(
                "Recruit an ASB coordinator to take a strategic overview",
                C,
                "NOO",
            ),
        ],
    ),
];

/// A removal decision: (year, month, day) of the decision.
type Decision = (&'static str, &'static str, &'static str, (i32, u32, u32));

/// (ref, reason, deciding body, date of decision)
pub(super) const REMOVALS: [Decision; 2] = [
    (
        "2.2",
        "Lack of time and resources made the shoplifting campaign unachievable",
        "RAG",
        (2014, 7, 22),
    ),
    (
        "5.2",
        "After consultation with RAG, the potential for heightened fear of crime was deemed too risky",
        "RAG",
        (2014, 10, 14),
    ),
];

/// Commentary for the actions incomplete at the end of Q3.
pub(super) const INCOMPLETE: [(&str, &str); 3] = [
    (
        "5.3",
        "Officers were not available to coordinate the event.",
    ),
    (
        "6.9",
        "Not delivered this year; to be carried over into 2015/16 as part of a wider communication and engagement programme.",
    ),
    (
        "6.10",
        "The 5% reduction target has not been met: ASB rose unexpectedly this year (+16.4% in Q3), much of it youth ASB in Shephall.",
    ),
];

pub(super) const THEMES_2015: [&str; 4] = [
    "Children and young people",
    "Reassurance",
    "Domestic abuse",
    "Health and mental health",
];

pub(super) async fn seed_partnership<C: ConnectionTrait>(conn: &C) -> Result<(), AppError> {
    db::execute(
        conn,
        "INSERT INTO partnerships (slug, name, county) VALUES ($1, 'Stevenage (SoSafe)', 'Hertfordshire') \
         ON CONFLICT (slug) DO NOTHING",
        vec![PARTNERSHIP.into()],
        &[],
    )
    .await?;
    for (slug, name, kind) in AGENCIES {
        db::execute(
            conn,
            "INSERT INTO agencies (slug, name, kind) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING",
            vec![slug.into(), name.into(), kind.into()],
            &[],
        )
        .await?;
        db::execute(
            conn,
            "INSERT INTO agency_partnerships (agency_id, partnership_id) \
             SELECT a.id, p.id FROM agencies a, partnerships p WHERE a.slug = $1 AND p.slug = $2 \
             ON CONFLICT DO NOTHING",
            vec![slug.into(), PARTNERSHIP.into()],
            &[],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn agency_id<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
) -> Result<uuid::Uuid, AppError> {
    db::partnership::agency_by_slug(conn, slug)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo agency {slug} missing")))
}

pub(super) async fn seed_plans<C: ConnectionTrait>(
    conn: &C,
    partnership: uuid::Uuid,
) -> Result<(), AppError> {
    // The lead agencies, looked up once rather than once per action.
    let mut leads = std::collections::HashMap::new();
    for slug in [P, F, C] {
        leads.insert(slug, agency_id(conn, slug).await?);
    }
    let lead_id = |slug: &str| {
        leads
            .get(slug)
            .copied()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo agency {slug} missing")))
    };
    // 2014/15: signed off, ratified and tracked to the end of Q3.
    let plan = db::plan::insert_plan(
        conn,
        partnership,
        "2014/15",
        "SoSafe community safety action plan 2014/15",
    )
    .await?;
    db::plan::insert_event(conn, plan, "CREATED", LOADER, C, None).await?;
    db::plan::apply_lifecycle(
        conn,
        plan,
        LifecycleUpdate {
            status: "SIGNED_OFF",
            signed_off: Some(("RAG chair and vice chair".to_owned(), date(2014, 3, 28)?)),
            ..Default::default()
        },
    )
    .await?;
    db::plan::insert_event(
        conn,
        plan,
        "SIGNED_OFF",
        LOADER,
        C,
        Some("signed off by RAG chair and vice chair on 2014-03-28".to_owned()),
    )
    .await?;
    db::plan::apply_lifecycle(
        conn,
        plan,
        LifecycleUpdate {
            status: "RATIFIED",
            ratified: Some(("RAG".to_owned(), date(2014, 4, 22)?)),
            ..Default::default()
        },
    )
    .await?;
    db::plan::insert_event(
        conn,
        plan,
        "RATIFIED",
        LOADER,
        C,
        Some("ratified at RAG on 2014-04-22".to_owned()),
    )
    .await?;

    let quarters: Vec<Quarter> = (1..=3)
        .map(|q| {
            "2014/15"
                .parse::<crate::domain::period::FinancialYear>()
                .and_then(|y| y.quarter(q))
        })
        .collect::<Result<_, _>>()?;
    let mut carried_source = None;
    for (i, (title, actions)) in PRIORITIES_2014.iter().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(1);
        let priority = db::plan::insert_priority(conn, plan, position, title, "").await?;
        for (j, action) in actions.iter().enumerate() {
            let action_ref = format!("{position}.{}", j + 1);
            let lead = lead_id(action.lead)?;
            let id = db::plan::insert_action(
                conn,
                &db::plan::NewAction {
                    plan_id: plan,
                    priority_id: priority,
                    action_ref: action_ref.clone(),
                    title: action.title.to_owned(),
                    description: String::new(),
                    measure: String::new(),
                    target_date: Some(date(2015, 3, 31)?),
                    lead_agency_id: lead,
                    lead_officer: String::new(),
                    added_in_quarter: None,
                    carried_over_from_id: None,
                },
            )
            .await?;
            if action_ref == "6.9" {
                carried_source = Some((id, action.lead));
            }
            for (quarter, code) in quarters.iter().zip(action.path.chars()) {
                let (status, commentary) = match code {
                    'N' => ("NOT_STARTED", None),
                    'O' => ("ON_TARGET", None),
                    'C' => ("COMPLETE", None),
                    'I' => (
                        "INCOMPLETE",
                        INCOMPLETE
                            .iter()
                            .find(|(r, _)| *r == action_ref)
                            .map(|(_, c)| (*c).to_owned()),
                    ),
                    _ => continue,
                };
                db::plan::append_progress(
                    conn,
                    db::plan::ProgressEntry {
                        action_id: id,
                        quarter: quarter.to_string(),
                        status,
                        commentary,
                        percent_complete: None,
                        by_sub: "demo:lead-officer",
                        by_agency: action.lead,
                    },
                )
                .await?;
            }
            if let Some((_, reason, body, (y, m, d))) =
                REMOVALS.iter().find(|(r, ..)| *r == action_ref)
            {
                let on = date(*y, *m, *d)?;
                db::plan::remove_action(
                    conn,
                    id,
                    1,
                    db::plan::RemovalRecord {
                        reason,
                        decided_by: body,
                        decided_on: on,
                        quarter: Quarter::containing(on).to_string(),
                        removed_by: LOADER,
                    },
                )
                .await?;
            }
        }
    }

    // 2015/16: draft 1 with its four priority themes; 6.9 carried over into "Reassurance".
    let next = db::plan::insert_plan(
        conn,
        partnership,
        "2015/16",
        "SoSafe community safety action plan 2015/16",
    )
    .await?;
    db::plan::insert_event(conn, next, "CREATED", LOADER, C, None).await?;
    for (i, theme) in THEMES_2015.iter().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(1);
        let priority = db::plan::insert_priority(conn, next, position, theme, "").await?;
        if let (2, Some((source, lead))) = (position, carried_source) {
            db::plan::insert_action(conn, &db::plan::NewAction {
                plan_id: next,
                priority_id: priority,
                action_ref: "2.1".to_owned(),
                title: "Publicise good news stories about CCTV, as part of a wider communication and engagement programme".to_owned(),
                description: String::new(),
                measure: String::new(),
                target_date: None,
                lead_agency_id: lead_id(lead)?,
                lead_officer: String::new(),
                added_in_quarter: None,
                carried_over_from_id: Some(source),
            })
            .await?;
        }
    }
    Ok(())
}
