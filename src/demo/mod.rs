//! Demo data: Stevenage's Community Safety Partnership (SoSafe) with its 2014/15 action plan as
//! the scrutiny report of 30 March 2015 describes it at the end of Q3, and the 2015/16 plan in
//! draft. Loading twice changes nothing.
//!
//! `plans` holds the partnership and its two plans; `incidents` the wards and the made-up
//! incidents; `county` the county's other districts, the grant and the survey; `cases` the
//! made-up cases. The loaders and the demo tokens are here.

mod cases;
mod county;
mod incidents;
mod plans;

pub use cases::*;
use county::*;
pub use incidents::*;
use plans::*;

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
    // Stevenage's geography, once: a later start finds it held.
    if !db::geography::holds_district(&txn, STEVENAGE).await? {
        let files: Vec<(String, String)> = GEOGRAPHY
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        crate::import::geography::import_texts(&txn, &files, Some(STEVENAGE), None).await?;
    }
    if !db::geography::holds_populations(&txn, STEVENAGE).await? {
        for (name, year, text) in FIGURES {
            let file = [(name.to_owned(), text.to_owned())];
            crate::import::geography::import_texts(&txn, &file, Some(STEVENAGE), Some(year))
                .await?;
        }
    }
    let ward_lsoas = db::geography::ward_lsoas(&txn, STEVENAGE, 2019, 2011).await?;
    for (name, district) in WARDS {
        let area = db::area::AreaRow {
            id: uuid::Uuid::nil(),
            partnership_id: partnership.id,
            code: slug(name),
            name: name.to_owned(),
            kind: "ward".to_owned(),
            postcode_districts: vec![district.to_owned()],
            lsoas: ward_lsoas
                .iter()
                .filter(|w| w.ward_name == name)
                .map(|w| w.lsoa.clone())
                .collect(),
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
            let report = crate::service::push::push(db, &pusher, &scope, records).await?;
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
            "  curl -s http://{}/graphql -H 'Content-Type: application/json' -H 'Authorization: Bearer {token}' \\\n    -d '{{\"query\":\"{{ plans(partnership: \\\"stevenage\\\") {{ nodes {{ id financialYear status }} }} }}\"}}'",
            config.bind
        );
    }
    Ok(())
}
