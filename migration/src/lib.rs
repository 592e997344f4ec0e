//! Database migrations for csphub. Files are append-only: never edit one that has landed.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_foundation;
mod m20261126_000002_incidents;
mod m20261127_000001_cancel_reasons;
mod m20261128_000001_cases;
mod m20261129_000001_indicators;
mod m20261129_000002_grants_surveys;
mod m20261129_000003_report_submissions;
mod m20261130_000001_incident_counts;
mod m20261201_000001_vocabulary_aliases;
mod m20261201_000002_places;
mod m20261202_000001_partnership_ids;
mod m20261204_000001_audit_partnership;
mod m20261204_000002_push_partnerships;
mod m20261204_000003_indicator_partnerships;
mod m20261206_000001_share_refs;
mod m20261206_000002_audit_filters;
mod m20261206_000003_restore;
mod m20261207_000001_report_links;
mod m20261207_000002_list_orders;
mod m20261207_000003_case_policies_once;
mod m20261207_000004_counts_by_status;
mod m20261207_000005_share_filters;
mod m20261207_000006_share_pages;
mod m20261207_000007_geography;
mod m20261207_000008_populations;
mod m20261207_000009_hotspot_responses;
mod m20261208_000001_place_counts;
mod m20261208_000002_outcome_months;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_foundation::Migration),
            Box::new(m20261126_000002_incidents::Migration),
            Box::new(m20261127_000001_cancel_reasons::Migration),
            Box::new(m20261128_000001_cases::Migration),
            Box::new(m20261129_000001_indicators::Migration),
            Box::new(m20261129_000002_grants_surveys::Migration),
            Box::new(m20261129_000003_report_submissions::Migration),
            Box::new(m20261130_000001_incident_counts::Migration),
            Box::new(m20261201_000001_vocabulary_aliases::Migration),
            Box::new(m20261201_000002_places::Migration),
            Box::new(m20261202_000001_partnership_ids::Migration),
            Box::new(m20261204_000001_audit_partnership::Migration),
            Box::new(m20261204_000002_push_partnerships::Migration),
            Box::new(m20261204_000003_indicator_partnerships::Migration),
            Box::new(m20261206_000001_share_refs::Migration),
            Box::new(m20261206_000002_audit_filters::Migration),
            Box::new(m20261206_000003_restore::Migration),
            Box::new(m20261207_000001_report_links::Migration),
            Box::new(m20261207_000002_list_orders::Migration),
            Box::new(m20261207_000003_case_policies_once::Migration),
            Box::new(m20261207_000004_counts_by_status::Migration),
            Box::new(m20261207_000005_share_filters::Migration),
            Box::new(m20261207_000006_share_pages::Migration),
            Box::new(m20261207_000007_geography::Migration),
            Box::new(m20261207_000008_populations::Migration),
            Box::new(m20261207_000009_hotspot_responses::Migration),
            Box::new(m20261208_000001_place_counts::Migration),
            Box::new(m20261208_000002_outcome_months::Migration),
        ]
    }
}
