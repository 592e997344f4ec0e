//! Demo data: Stevenage's Community Safety Partnership (SoSafe) with its 2014/15 action plan as
//! the scrutiny report of 30 March 2015 describes it at the end of Q3, and the 2015/16 plan in
//! draft. Loading twice changes nothing.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::auth::token::{DevTokenRequest, issue_dev_token};
use crate::config::Config;
use crate::db::{self, plan::LifecycleUpdate};
use crate::domain::period::Quarter;
use crate::error::AppError;

pub const PARTNERSHIP: &str = "stevenage";

/// (slug, name, kind)
pub const AGENCIES: [(&str, &str, &str); 4] = [
    ("herts-police", "Hertfordshire Constabulary", "police"),
    (
        "herts-fire",
        "Hertfordshire Fire and Rescue Service",
        "fire",
    ),
    ("stevenage-council", "Stevenage Borough Council", "council"),
    (
        "herts-pcc",
        "Office of the Hertfordshire Police and Crime Commissioner",
        "pcc",
    ),
];

const LOADER: &str = "csphub-demo-loader";

struct DemoAction {
    title: &'static str,
    lead: &'static str,
    /// Statuses at the end of Q1, Q2 and Q3: N not started, O on target, C complete,
    /// I incomplete, R removed (by the decision in `REMOVALS`).
    path: &'static str,
}

const fn a(title: &'static str, lead: &'static str, path: &'static str) -> DemoAction {
    DemoAction { title, lead, path }
}

const P: &str = "herts-police";
const F: &str = "herts-fire";
const C: &str = "stevenage-council";

/// The six priorities of 2014/15 with their expected outcomes, numbered in order.
const PRIORITIES_2014: [(&str, &[DemoAction]); 6] = [
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
const REMOVALS: [Decision; 2] = [
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
const INCOMPLETE: [(&str, &str); 3] = [
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

const THEMES_2015: [&str; 4] = [
    "Children and young people",
    "Reassurance",
    "Domestic abuse",
    "Health and mental health",
];

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate, AppError> {
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("bad demo date {y}-{m}-{d}")))
}

/// Loads the demo data unless it is already there.
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(7461001)")
        .await?;
    seed_partnership(&txn).await?;
    let partnership = db::partnership::agency_partnerships(
        &txn,
        agency_id(&txn, C).await?,
        &[PARTNERSHIP.to_owned()],
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| anyhow::anyhow!("demo partnership missing"))?;
    if db::plan::plan_for_year(&txn, partnership.id, "2014/15")
        .await?
        .is_none()
    {
        seed_plans(&txn, partnership.id).await?;
        tracing::info!("loaded the demo plans");
    }
    for (n, (name, district)) in (1u32..).zip(WARDS) {
        let area = db::area::AreaRow {
            id: uuid::Uuid::nil(),
            partnership_id: partnership.id,
            code: slug(name),
            name: name.to_owned(),
            kind: "ward".to_owned(),
            postcode_districts: vec![district.to_owned()],
            lsoas: demo_lsoas(n),
        };
        let saved = db::area::save_area(&txn, &area, true).await?;
        db::area::set_lsoas(&txn, &saved, &area.lsoas).await?;
    }
    load_county(&txn).await?;
    txn.execute_unprepared(GRANT_AND_SURVEY_SQL).await?;
    txn.commit().await?;
    let scope = [crate::auth::ScopedPartnership {
        id: partnership.id,
        slug: partnership.slug.clone(),
    }];
    // Records from April 2014 on (earlier ones come from `load_county`).
    let filter = db::incident::IncidentFilter {
        partnership_id: partnership.id,
        from: Some(date(2014, 4, 1)?),
        ..Default::default()
    };
    if db::incident::count(db, &filter).await? == 0 {
        for (agency, records) in demo_incidents() {
            let pusher = db::incident::Pusher {
                agency_id: agency_id(db, agency).await?,
                agency: agency.to_string(),
                sub: LOADER.to_owned(),
                budget: None,
            };
            let records = records.into_iter().map(Ok).collect();
            let report = db::incident::push(db, &pusher, &scope, records).await?;
            anyhow::ensure!(
                report.rejected.is_empty(),
                "demo incidents rejected: {:?}",
                report.rejected.first()
            );
        }
        tracing::info!("loaded the demo incidents");
    }
    Ok(())
}

/// Stevenage's wards, each with the outward postcode it mostly lies in.
/// The demo ward's LSOAs. No published ONS lookup of Stevenage's LSOAs to its wards could be
/// reached from where this was written, so these are plainly fictional: `E0199` and the ward's
/// number, beyond any real code (real English codes end near E01035000). A partnership takes its
/// own from the ONS "LSOA to electoral ward" lookup (see the README).
pub fn demo_lsoas(ward: u32) -> Vec<String> {
    (1..=3).map(|k| format!("E0199{ward:02}{k:02}")).collect()
}

pub const WARDS: [(&str, &str); 13] = [
    ("Bandley Hill", "SG2"),
    ("Bedwell", "SG1"),
    ("Chells", "SG2"),
    ("Longmeadow", "SG2"),
    ("Manor", "SG2"),
    ("Martins Wood", "SG1"),
    ("Old Town", "SG1"),
    ("Pin Green", "SG1"),
    ("Roebuck", "SG2"),
    ("St Nicholas", "SG1"),
    ("Shephall", "SG2"),
    ("Symonds Green", "SG1"),
    ("Woodfield", "SG1"),
];

/// `Old Town` -> `old-town`.
pub fn slug(name: &str) -> String {
    name.to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

/// Picks from a list with a deterministic generator.
fn pick<'a>(next: &mut impl FnMut(u64) -> u64, list: &[&'a str]) -> &'a str {
    let i = next(list.len() as u64);
    list[usize::try_from(i).unwrap_or(0)]
}

/// Made-up, deterministic, depersonalised demo incidents for April 2014 to June 2015 from each
/// pushing agency, with the report's shapes: youth ASB in Shephall, night-time economy
/// violence in the Old Town, deliberate secondary fires.
pub fn demo_incidents() -> Vec<(&'static str, Vec<crate::domain::incident::IncidentInput>)> {
    use crate::domain::incident::IncidentInput;
    let mut state: u64 = 0x5eed_2015;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let start = NaiveDate::from_ymd_opt(2014, 4, 1).unwrap_or_default();
    let wards: Vec<&str> = WARDS.iter().map(|w| w.0).collect();
    let categories = [
        "violent-crime",
        "burglary",
        "vehicle-crime",
        "criminal-damage-arson",
        "shoplifting",
        "other-theft",
        "drugs",
        "public-order",
    ];
    let outcomes = [
        "under-investigation",
        "charged",
        "no-further-action",
        "local-resolution",
    ];
    let (mut police, mut fire, mut council) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..1500u64 {
        let day = start + chrono::Duration::days(i64::try_from(next(456)).unwrap_or(0));
        let ward = if next(5) == 0 {
            "Shephall"
        } else {
            pick(&mut next, &wards)
        };
        let mut input = IncidentInput {
            occurred_at: format!("{day}T{:02}:{:02}:00Z", next(24), next(60)),
            area: Some(slug(ward)),
            postcode_district: WARDS.iter().find(|w| w.0 == ward).map(|w| w.1.to_owned()),
            ..Default::default()
        };
        match n % 10 {
            0..=5 => {
                input.external_ref = format!("HP-{:06}", 100_000 + n);
                input.category = pick(&mut next, &categories).to_owned();
                input.domestic_abuse = input.category == "violent-crime" && next(3) == 0;
                input.alcohol_related = ward == "Old Town" && next(2) == 0;
                if input.category == "drugs" {
                    input.drug_class = Some(pick(&mut next, &["a", "b", "c"]).to_owned());
                }
                if input.category == "public-order" && next(6) == 0 {
                    input.hate_strands = vec!["race".to_owned()];
                }
                input.outcome = Some(pick(&mut next, &outcomes).to_owned());
                police.push(input);
            }
            6 => {
                input.external_ref = format!("HFRS-{:06}", 500_000 + n);
                input.category = "deliberate-fire".to_owned();
                let fire_type = pick(
                    &mut next,
                    &["secondary", "secondary", "primary", "primary-vehicle"],
                );
                input.fire_type = Some(fire_type.to_owned());
                input.youth_related = next(2) == 0;
                fire.push(input);
            }
            _ => {
                input.external_ref = format!("SBC-ASB-{:05}", 20_000 + n);
                input.category = "anti-social-behaviour".to_owned();
                let asb_type = pick(&mut next, &["personal", "nuisance", "environmental"]);
                input.asb_type = Some(asb_type.to_owned());
                input.youth_related = ward == "Shephall" || next(4) == 0;
                council.push(input);
            }
        }
    }
    vec![(P, police), (F, fire), (C, council)]
}

async fn seed_partnership<C: ConnectionTrait>(conn: &C) -> Result<(), AppError> {
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

async fn agency_id<C: ConnectionTrait>(conn: &C, slug: &str) -> Result<uuid::Uuid, AppError> {
    db::partnership::agency_by_slug(conn, slug)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo agency {slug} missing")))
}

async fn seed_plans<C: ConnectionTrait>(conn: &C, partnership: uuid::Uuid) -> Result<(), AppError> {
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

/// The token each demo role uses: (label, role, agency, caps).
pub const DEMO_TOKENS: [(&str, &str, &str, &[&str]); 8] = [
    ("police (lead agency)", "police", "herts-police", &[]),
    ("fire (lead agency)", "fire", "herts-fire", &[]),
    (
        "police caseworker",
        "police",
        "herts-police",
        &["caseworker"],
    ),
    ("fire caseworker", "fire", "herts-fire", &["caseworker"]),
    (
        "council caseworker",
        "council",
        "stevenage-council",
        &["caseworker"],
    ),
    (
        "council coordinator",
        "council",
        "stevenage-council",
        &["coordinator"],
    ),
    (
        "police auditor (reads its agency's audit entries about case data)",
        "police",
        "herts-police",
        &["auditor"],
    ),
    ("pcc (aggregates only)", "pcc", "herts-pcc", &[]),
];

/// The demo's cases: fifteen made-up cases (three of each type) owned by police, council and
/// fire, shared in each way the rules allow (owner only, with one agency, with all), with
/// SHARED and AGENCY notes, plainly fictional people (and a likely duplicate pair, John Example
/// and Jon Exampel, born the same day), interventions, a referral and a MARAC flag. Loaded by
/// `serve --demo`, not by the tests' template, unless already there.
pub async fn load_cases(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(7461001)")
        .await?;
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        n: i64,
    }
    let existing: Option<N> = db::fetch_optional(
        &txn,
        "SELECT count(*) AS n FROM cases c JOIN partnerships p ON p.id = c.partnership_id WHERE p.slug = $1",
        vec![PARTNERSHIP.into()],
    )
    .await?;
    if existing.is_some_and(|e| e.n > 0) {
        return Ok(());
    }
    txn.execute_unprepared(DEMO_CASES_SQL).await?;
    txn.commit().await?;
    tracing::info!("loaded the demo cases");
    Ok(())
}

const DEMO_CASES_SQL: &str = r#"
CREATE TEMP TABLE demo_cases (n int, ref text, case_type text, owner text, lead text, risk text,
    opened date, summary text, share_with text[], dash int, closed date, outcome text) ON COMMIT DROP;
INSERT INTO demo_cases VALUES
 (1,  'ASB-2014-0001', 'ASB', 'herts-police', 'PC Demo Able', 'MEDIUM', '2014-05-06', 'Repeat noise and intimidation at a parade of shops (made-up demo case)', '{stevenage-council}', NULL, NULL, NULL),
 (2,  'ASB-2014-0002', 'ASB', 'stevenage-council', 'ASB Officer Demo Baker', 'STANDARD', '2014-06-10', 'Neighbour dispute over a shared garden (made-up demo case)', '{}', NULL, NULL, NULL),
 (3,  'ASB-2014-0003', 'ASB', 'herts-fire', 'WM Demo Carter', 'MEDIUM', '2014-07-01', 'Repeated small deliberate fires in a stairwell (made-up demo case)', '{herts-police,stevenage-council}', NULL, NULL, NULL),
 (4,  'DA-2014-0004', 'DOMESTIC_ABUSE', 'herts-police', 'DC Demo Davies', 'HIGH', '2014-08-12', 'High-risk domestic abuse, awaiting MARAC referral (made-up demo case)', '{stevenage-council}', 16, NULL, NULL),
 (5,  'DA-2014-0005', 'DOMESTIC_ABUSE', 'herts-police', 'DC Demo Evans', 'MEDIUM', '2014-09-03', 'Medium-risk domestic abuse, panel support (made-up demo case)', '{stevenage-council,herts-fire}', 11, NULL, NULL),
 (6,  'DA-2014-0006', 'DOMESTIC_ABUSE', 'stevenage-council', 'IDVA Demo Foster', 'STANDARD', '2014-10-20', 'Standard-risk domestic abuse, closed after support (made-up demo case)', '{herts-police}', 6, '2015-02-27', 'risk-reduced'),
 (7,  'HATE-2014-0007', 'HATE', 'herts-police', 'PC Demo Green', 'MEDIUM', '2014-11-04', 'Racially aggravated harassment at a bus stop (made-up demo case)', '{}', NULL, NULL, NULL),
 (8,  'HATE-2014-0008', 'HATE', 'stevenage-council', 'Officer Demo Hughes', 'STANDARD', '2014-12-01', 'Homophobic graffiti on a front door (made-up demo case)', '{herts-police}', NULL, NULL, NULL),
 (9,  'HATE-2015-0001', 'HATE', 'herts-police', 'PC Demo Irwin', 'HIGH', '2015-01-15', 'Disability hate incidents against a vulnerable adult (made-up demo case)', '{stevenage-council,herts-fire}', NULL, NULL, NULL),
 (10, 'VUL-2015-0002', 'VULNERABILITY', 'herts-fire', 'WM Demo Jones', 'HIGH', '2015-02-02', 'Hoarding with a high fire risk (made-up demo case)', '{stevenage-council}', NULL, NULL, NULL),
 (11, 'VUL-2015-0003', 'VULNERABILITY', 'stevenage-council', 'Officer Demo King', 'MEDIUM', '2015-02-16', 'Self-neglect of an older resident (made-up demo case)', '{herts-fire}', NULL, NULL, NULL),
 (12, 'VUL-2015-0004', 'VULNERABILITY', 'herts-police', 'PC Demo Lewis', 'STANDARD', '2015-03-02', 'Missing-from-home young person, now returned (made-up demo case)', '{}', NULL, '2015-03-30', 'no-further-action'),
 (13, 'OTH-2015-0005', 'OTHER', 'stevenage-council', 'Officer Demo Morris', 'STANDARD', '2015-03-09', 'Fly-tipping hotspot tied to one address (made-up demo case)', '{}', NULL, NULL, NULL),
 (14, 'OTH-2015-0006', 'OTHER', 'herts-fire', 'WM Demo Nash', 'STANDARD', '2015-03-16', 'Arson risk at an empty building (made-up demo case)', '{herts-police}', NULL, NULL, NULL),
 (15, 'OTH-2015-0007', 'OTHER', 'herts-police', 'PC Demo Owen', 'MEDIUM', '2015-03-23', 'Street drinking group near a school (made-up demo case)', '{stevenage-council,herts-fire}', NULL, NULL, NULL);

INSERT INTO cases (id, partnership_id, ref, case_type, summary, owning_agency_id, lead_officer, risk_level,
    opened_on, dash_score, status, outcome, closed_on, review_on, created_by)
SELECT md5('demo-case-' || d.n)::uuid, p.id, d.ref, d.case_type, d.summary, a.id, d.lead, d.risk, d.opened,
    d.dash, CASE WHEN d.closed IS NULL THEN 'OPEN' ELSE 'CLOSED' END, d.outcome, d.closed,
    (d.closed + make_interval(years => r.years))::date, 'demo'
FROM demo_cases d JOIN partnerships p ON p.slug = 'stevenage' JOIN agencies a ON a.slug = d.owner
JOIN case_retention r ON r.case_type = d.case_type;

INSERT INTO case_ref_counters (partnership_id, year, last_number)
SELECT p.id, y.year, y.n FROM partnerships p, (VALUES (2014, 8), (2015, 7)) AS y(year, n)
WHERE p.slug = 'stevenage'
ON CONFLICT (partnership_id, year) DO UPDATE SET last_number = greatest(case_ref_counters.last_number, EXCLUDED.last_number);

INSERT INTO case_shares (case_id, agency_id, legal_basis, shared_by)
SELECT md5('demo-case-' || d.n)::uuid, a.id, 'OWNER', 'demo' FROM demo_cases d JOIN agencies a ON a.slug = d.owner;
INSERT INTO case_shares (case_id, agency_id, legal_basis, basis_text, shared_by)
SELECT md5('demo-case-' || d.n)::uuid, a.id,
    CASE WHEN d.case_type = 'DOMESTIC_ABUSE' THEN 'SAFEGUARDING' WHEN d.n % 4 = 0 THEN 'CONSENT' ELSE 'S115_CDA_1998' END,
    NULL, 'demo'
FROM demo_cases d CROSS JOIN LATERAL unnest(d.share_with) AS w(slug) JOIN agencies a ON a.slug = w.slug;

CREATE TEMP TABLE demo_people (n int, name text, dob date, part text, case_n int) ON COMMIT DROP;
INSERT INTO demo_people VALUES
 (1, 'John Example', '1980-04-01', 'VICTIM', 1), (2, 'Terry Testcase', '1996-07-14', 'PERPETRATOR', 1),
 (3, 'Pat Placeholder', '1975-01-20', 'COMPLAINANT', 2), (4, 'Sam Sample', '1977-03-03', 'PERPETRATOR', 2),
 (5, 'Jon Exampel', '1980-04-01', 'WITNESS', 3), (6, 'Dee Demo', '1989-09-09', 'VICTIM', 4),
 (7, 'Morgan Mockup', '1986-12-12', 'PERPETRATOR', 4), (8, 'Casey Fictional', '1992-02-29', 'VICTIM', 5),
 (9, 'Robin Madeup', '1990-10-10', 'VICTIM', 6), (10, 'Alex Invented', '1970-06-06', 'VICTIM', 7),
 (11, 'Jamie Notreal', '1985-05-05', 'VICTIM', 8), (12, 'Chris Pretend', '1964-08-08', 'VICTIM', 9),
 (13, 'Lee Imaginary', '1941-11-11', 'OTHER', 10), (14, 'Kim Dummy', '1938-03-17', 'VICTIM', 11),
 (15, 'Jordan Sampleton', '1999-01-01', 'VICTIM', 12), (16, 'Frankie Fakename', '1983-07-07', 'PERPETRATOR', 13),
 (17, 'Charlie Examplesson', '2000-02-02', 'OTHER', 14), (18, 'Drew Testperson', '1988-08-18', 'PERPETRATOR', 15);
INSERT INTO people (id, partnership_id, full_name, date_of_birth, address, contact, consent, consent_on, created_by)
SELECT md5('demo-person-' || d.n)::uuid, p.id, d.name, d.dob, d.n || ' Example Street, Stevenage (made up)',
    '01438 000 ' || lpad(d.n::text, 3, '0') || ' (made up)',
    CASE WHEN d.n % 3 = 0 THEN 'GIVEN' WHEN d.n % 3 = 1 THEN 'NOT_ASKED' ELSE 'REFUSED' END,
    CASE WHEN d.n % 3 = 1 THEN NULL ELSE DATE '2014-05-01' + d.n END, 'demo'
FROM demo_people d JOIN partnerships p ON p.slug = 'stevenage';
INSERT INTO case_subjects (case_id, person_id, part, added_by)
SELECT md5('demo-case-' || d.case_n)::uuid, md5('demo-person-' || d.n)::uuid, d.part, 'demo' FROM demo_people d;
-- John Example is in the ASB case 1 and a witness in the domestic-abuse case 5 too.
INSERT INTO case_subjects (case_id, person_id, part, added_by)
VALUES (md5('demo-case-5')::uuid, md5('demo-person-1')::uuid, 'WITNESS', 'demo');

INSERT INTO case_notes (case_id, author, agency_id, visibility, body, created_at)
SELECT md5('demo-case-' || d.n)::uuid, 'demo', a.id, 'SHARED',
    'Shared note: case discussed at the ODG; actions agreed with partners (made up).', d.opened + time '10:00'
FROM demo_cases d JOIN agencies a ON a.slug = d.owner;
INSERT INTO case_notes (case_id, author, agency_id, visibility, body, created_at)
SELECT md5('demo-case-' || d.n)::uuid, 'demo', a.id, 'AGENCY',
    'Agency-only note: ' || d.owner || ' intelligence, not for partners (made up).', d.opened + time '11:00'
FROM demo_cases d JOIN agencies a ON a.slug = d.owner WHERE d.n % 2 = 1;
-- Partners shared with add their own notes, one of them AGENCY-only.
INSERT INTO case_notes (case_id, author, agency_id, visibility, body, created_at)
SELECT md5('demo-case-' || d.n)::uuid, 'demo', a.id, CASE WHEN d.n % 3 = 0 THEN 'AGENCY' ELSE 'SHARED' END,
    w.slug || ' visited and spoke to the household (made up).', d.opened + 7 + time '09:30'
FROM demo_cases d CROSS JOIN LATERAL unnest(d.share_with) AS w(slug) JOIN agencies a ON a.slug = w.slug;

UPDATE cases SET odg_dates = ARRAY[opened_on + 14, opened_on + 42] WHERE id IN (md5('demo-case-1')::uuid, md5('demo-case-3')::uuid);
UPDATE cases SET dash_override_level = 'HIGH', dash_override_reason = 'Escalation and threats to kill (made up)', risk_level = 'HIGH'
    WHERE id = md5('demo-case-5')::uuid;
UPDATE cases SET marac_referred_on = DATE '2014-09-10', marac_outcome = 'Safety plan agreed (made up)' WHERE id = md5('demo-case-5')::uuid;

INSERT INTO case_interventions (case_id, intervention, agency_id, starts_on, recorded_by)
SELECT md5('demo-case-1')::uuid, 'warning-letter', a.id, DATE '2014-05-20', 'demo' FROM agencies a WHERE a.slug = 'herts-police'
UNION ALL SELECT md5('demo-case-1')::uuid, 'acceptable-behaviour-contract', a.id, DATE '2014-07-01', 'demo' FROM agencies a WHERE a.slug = 'stevenage-council'
UNION ALL SELECT md5('demo-case-15')::uuid, 'community-protection-notice', a.id, DATE '2015-03-30', 'demo' FROM agencies a WHERE a.slug = 'herts-police'
UNION ALL SELECT md5('demo-case-10')::uuid, 'home-fire-safety-visit', a.id, DATE '2015-02-05', 'demo' FROM agencies a WHERE a.slug = 'herts-fire';
INSERT INTO case_referrals (case_id, from_agency_id, to_programme, status, referred_on, decided_on, recorded_by)
SELECT md5('demo-case-2')::uuid, a.id, 'Family Intervention Project (Thriving Families)', 'ACCEPTED', DATE '2014-06-20', DATE '2014-07-01', 'demo'
FROM agencies a WHERE a.slug = 'stevenage-council';
"#;

/// Prints one ready token per demo role, valid for 8 hours.
pub fn print_tokens(config: &Config) -> anyhow::Result<()> {
    println!("Demo tokens for partnership '{PARTNERSHIP}' (development secret, valid 8 hours):");
    let mut first = None;
    for (label, role, agency, caps) in DEMO_TOKENS {
        let token = issue_dev_token(
            &config.dev_jwt_secret,
            &config.audience,
            &DevTokenRequest {
                role: role.to_owned(),
                agency: agency.to_owned(),
                partnerships: vec![PARTNERSHIP.to_owned()],
                caps: caps.iter().map(|c| (*c).to_owned()).collect(),
                ttl: std::time::Duration::from_secs(8 * 3600),
                sub: None,
            },
        )?;
        println!("  {label:<24} {token}");
        first.get_or_insert(token);
    }
    if let Some(token) = first {
        println!();
        println!("Try:");
        println!(
            "  curl -s http://{}/graphql -H 'Content-Type: application/json' -H 'Authorization: Bearer {token}' \\\n    -d '{{\"query\":\"{{ plans(partnership: \\\"stevenage\\\") {{ id financialYear status }} }}\"}}'",
            config.bind
        );
    }
    Ok(())
}

/// Hertfordshire's ten districts (each its own partnership; Stevenage is the demo's own), with
/// populations close to the ONS mid-2013 and mid-2014 estimates, rounded: demo figures, not
/// official ones.
const COUNTY: [(&str, &str, i32, i32); 10] = [
    ("broxbourne", "Broxbourne", 94_600, 95_700),
    ("dacorum", "Dacorum", 147_200, 148_300),
    ("east-herts", "East Hertfordshire", 140_800, 142_400),
    ("hertsmere", "Hertsmere", 101_400, 102_400),
    ("north-herts", "North Hertfordshire", 129_000, 130_600),
    ("st-albans", "St Albans", 143_000, 144_800),
    (PARTNERSHIP, "Stevenage (SoSafe)", 85_000, 85_600),
    ("three-rivers", "Three Rivers", 89_100, 89_800),
    ("watford", "Watford", 93_700, 94_700),
    ("welwyn-hatfield", "Welwyn Hatfield", 114_000, 115_900),
];

/// The county's other districts, their populations, and made-up incidents from August 2012 (the
/// 2015 strategic assessment's window and the one before it) to March 2015: each district's
/// rate for each category is Stevenage's times a factor between 0.5 and 1.5, so the demo's
/// assessment ranks Stevenage among ten. Stevenage's own records before April 2014 come from
/// the same generator; its records from April 2014 are `demo_incidents`. Deterministic; loading
/// twice changes nothing.
async fn load_county<C: ConnectionTrait>(conn: &C) -> Result<(), AppError> {
    for (slug, name, pop13, pop14) in COUNTY {
        db::execute(
            conn,
            "INSERT INTO partnerships (slug, name, county) VALUES ($1, $2, 'Hertfordshire') \
             ON CONFLICT (slug) DO NOTHING",
            vec![slug.into(), name.into()],
            &[],
        )
        .await?;
        for (year, population) in [(2013, pop13), (2014, pop14)] {
            db::execute(
                conn,
                "INSERT INTO populations (partnership_id, year, population, source, recorded_by_sub) \
                 SELECT id, $2, $3, 'Demo figure close to the ONS mid-year estimate (rounded; not official)', $4 \
                 FROM partnerships WHERE slug = $1 ON CONFLICT DO NOTHING",
                vec![slug.into(), year.into(), population.into(), LOADER.into()],
                &[],
            )
            .await?;
        }
    }
    let slugs: Vec<String> = COUNTY.iter().map(|c| c.0.to_owned()).collect();
    let wards: Vec<String> = WARDS.iter().map(|w| slug(w.0)).collect();
    db::execute(
        conn,
        "INSERT INTO agency_partnerships (agency_id, partnership_id) \
         SELECT a.id, p.id FROM agencies a, partnerships p \
         WHERE a.slug IN ('herts-police', 'herts-fire', 'herts-pcc') AND p.slug = ANY($1) \
         ON CONFLICT DO NOTHING",
        vec![slugs.clone().into()],
        &[],
    )
    .await?;
    db::execute(
        conn,
        "INSERT INTO areas (partnership_id, code, name, kind) \
         SELECT p.id, 'whole-district', p.name || ' (whole district)', 'neighbourhood' \
         FROM partnerships p WHERE p.slug = ANY($1) AND p.slug <> $2 ON CONFLICT DO NOTHING",
        vec![slugs.clone().into(), PARTNERSHIP.into()],
        &[],
    )
    .await?;
    db::execute(
        conn,
        COUNTY_SQL,
        vec![slugs.into(), wards.into(), LOADER.into()],
        &[],
    )
    .await?;
    Ok(())
}

/// $1: the districts' slugs; $2: Stevenage's ward codes; $3: the loader's subject.
const COUNTY_SQL: &str = r#"
WITH cats(category, base, source) AS (VALUES
    ('violent-crime', 0.29, 'herts-police'), ('burglary', 0.29, 'herts-police'),
    ('vehicle-crime', 0.29, 'herts-police'), ('criminal-damage-arson', 0.29, 'herts-police'),
    ('shoplifting', 0.29, 'herts-police'), ('other-theft', 0.29, 'herts-police'),
    ('drugs', 0.29, 'herts-police'), ('public-order', 0.29, 'herts-police'),
    ('deliberate-fire', 0.39, 'herts-fire'), ('anti-social-behaviour', 1.16, 'herts-police')
), d AS (
    SELECT p.id, p.slug, pop.population,
        CASE WHEN p.slug = 'stevenage' THEN date '2014-03-31' ELSE date '2015-03-31' END AS stop
    FROM partnerships p JOIN populations pop ON pop.partnership_id = p.id AND pop.year = 2013
    WHERE p.slug = ANY($1)
      AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.partnership_id = p.id AND i.external_ref LIKE 'CTY-%')
), rows AS (
    SELECT d.id AS partnership_id, d.slug, s.day::date AS day, c.category, c.source, g.k,
        abs(hashtext(d.slug || s.day::date::text || c.category || g.k::text)) AS h
    FROM d
    CROSS JOIN generate_series(date '2012-08-01', d.stop, interval '1 day') AS s(day)
    CROSS JOIN cats c
    CROSS JOIN LATERAL generate_series(1, floor(
        c.base * d.population / 100000.0
        * CASE WHEN d.slug = 'stevenage' THEN 1.0 ELSE 0.5 + (abs(hashtext(d.slug || c.category)) % 101) / 100.0 END
        + (abs(hashtext(d.slug || s.day::date::text || c.category)) % 1000) / 1000.0)::int) AS g(k)
)
INSERT INTO incidents (source_agency_id, external_ref, partnership_id, category, occurred_at, occurred_on,
    area_id, domestic_abuse, youth_related, hate_strands, drug_class, asb_type, fire_type, content_hash,
    pushed_by_sub)
SELECT
    CASE WHEN r.slug = 'stevenage' AND r.category = 'anti-social-behaviour'
        THEN (SELECT id FROM agencies WHERE slug = 'stevenage-council')
        ELSE (SELECT id FROM agencies WHERE slug = r.source) END,
    'CTY-' || r.slug || '-' || to_char(r.day, 'YYYYMMDD') || '-' || r.category || '-' || r.k,
    r.partnership_id, r.category,
    (r.day + make_interval(hours => r.h % 24, mins => r.h % 60)) AT TIME ZONE 'Europe/London',
    r.day,
    (SELECT a.id FROM areas a WHERE a.partnership_id = r.partnership_id AND a.code =
        CASE WHEN r.slug = 'stevenage' THEN ($2::text[])[1 + r.h % cardinality($2::text[])] ELSE 'whole-district' END),
    r.category = 'violent-crime' AND r.h % 3 = 0,
    r.category IN ('anti-social-behaviour', 'deliberate-fire') AND r.h % 4 = 0,
    CASE WHEN r.category = 'public-order' AND r.h % 6 = 0 THEN ARRAY['race'] ELSE '{}'::text[] END,
    CASE WHEN r.category = 'drugs' THEN (ARRAY['a', 'b', 'c'])[1 + r.h % 3] END,
    CASE WHEN r.category = 'anti-social-behaviour' THEN (ARRAY['personal', 'nuisance', 'environmental'])[1 + r.h % 3] END,
    CASE WHEN r.category = 'deliberate-fire' THEN (ARRAY['secondary', 'secondary', 'primary', 'primary-vehicle'])[1 + r.h % 4] END,
    md5('CTY-' || r.slug || r.day::text || r.category || r.k::text),
    $3
FROM rows r
"#;

/// The report's PCC grant (GBP 30,000 for the standard / medium risk domestic abuse panel and
/// the DART programme; the award date and the spend are made up), the built-in indicators the
/// report quotes linked to the 2014/15 priorities they belong to, and the 2013 residents'
/// survey figures the report quotes (its sample size is not given).
const GRANT_AND_SURVEY_SQL: &str = r#"
INSERT INTO grants (partnership_id, funder_agency_id, amount_pence, purpose, awarded_on, recorded_by_sub)
SELECT p.id, a.id, 3000000,
    'Pilot a multi-agency standard / medium risk domestic abuse panel and the NSPCC DART programme',
    '2014-05-01', 'csphub-demo-loader'
FROM partnerships p, agencies a
WHERE p.slug = 'stevenage' AND a.slug = 'herts-pcc'
  AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.partnership_id = p.id);
INSERT INTO grant_actions (grant_id, action_id, partnership_id)
SELECT g.id, ac.id, g.partnership_id FROM grants g
JOIN plans pl ON pl.partnership_id = g.partnership_id AND pl.financial_year = '2014/15'
JOIN actions ac ON ac.plan_id = pl.id AND ac.title LIKE 'Pilot a multi-agency standard / medium risk DA panel%'
WHERE g.amount_pence = 3000000 AND g.recorded_by_sub = 'csphub-demo-loader'
ON CONFLICT DO NOTHING;
INSERT INTO grant_spend (grant_id, partnership_id, amount_pence, spent_on, description, recorded_by_sub)
SELECT g.id, g.partnership_id, s.amount, s.spent_on::date, s.description, 'csphub-demo-loader'
FROM grants g, (VALUES
    (1250000, '2014-09-30', 'Panel coordinator, April to September (made-up demo spend)'),
    (750000, '2014-12-31', 'NSPCC DART programme, first cohort (made-up demo spend)')) AS s(amount, spent_on, description)
WHERE g.amount_pence = 3000000 AND g.recorded_by_sub = 'csphub-demo-loader'
  AND NOT EXISTS (SELECT 1 FROM grant_spend x WHERE x.grant_id = g.id);
INSERT INTO priority_indicators (priority_id, indicator_id, linked_by_sub)
SELECT pr.id, d.id, 'csphub-demo-loader'
FROM plans pl JOIN partnerships p ON p.id = pl.partnership_id AND p.slug = 'stevenage'
JOIN priorities pr ON pr.plan_id = pl.id
JOIN (VALUES (1, 'domestic-abuse'), (2, 'burglary'), (2, 'vehicle-crime'), (3, 'serious-violence'),
    (3, 'class-a-possession'), (4, 'hate-crime'), (6, 'anti-social-behaviour'), (6, 'criminal-damage'),
    (6, 'deliberate-fires')) AS l(position, code) ON l.position = pr.position
JOIN indicators d ON d.partnership_id = p.id AND d.builtin AND d.code = l.code
WHERE pl.financial_year = '2014/15'
ON CONFLICT DO NOTHING;
INSERT INTO survey_results (partnership_id, survey, year, question, percentage, recorded_by_sub)
SELECT p.id, 'Stevenage residents'' survey', 2013, q.question, q.pct, 'csphub-demo-loader'
FROM partnerships p, (VALUES
    ('Feel unsafe after dark', 42.0),
    ('Feel unsafe during the day', 7.0),
    ('Chose tackling crime and anti-social behaviour as a priority', 84.0)) AS q(question, pct)
WHERE p.slug = 'stevenage'
ON CONFLICT DO NOTHING;
"#;
