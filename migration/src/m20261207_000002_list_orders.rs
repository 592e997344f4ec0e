//! Lists at a big city's size (issue 29): every page of `incidents` and `cases`, in each order
//! `orderBy` offers, comes from an index in that order, so a page reads its rows and stops,
//! however long the list. Measured with `bench/pages` (1,500,000 incidents, 100,000 cases).
//!
//! - incidents by category or by area, in time order: a filtered page no longer walks the
//!   whole partnership's time index past the records of other categories and areas;
//! - incidents by when they last changed (`orderBy: {field: UPDATED_AT}`);
//! - cases by when they were recorded (the default), opened, or their risk (the same expression
//!   as `db::case::RISK_KEY`), within the partnership;
//! - the shares an agency holds in a partnership, read whole by the row-level security policy
//!   on `cases` (a hashed subplan): from the index alone.
//!
//! Built without CONCURRENTLY, as every migration runs in its transaction: on a database of
//! millions of records, migrate when pushes can wait (seconds per index per million rows).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE INDEX incidents_partnership_category_time ON incidents (partnership_id, category, occurred_at, id);
CREATE INDEX incidents_partnership_area_time ON incidents (partnership_id, area_id, occurred_at, id);
CREATE INDEX incidents_partnership_updated ON incidents (partnership_id, updated_at, id);
CREATE INDEX cases_partnership_created ON cases (partnership_id, created_at, id);
CREATE INDEX cases_partnership_opened ON cases (partnership_id, opened_on, id);
CREATE INDEX cases_partnership_risk ON cases (partnership_id,
    ((CASE risk_level WHEN 'HIGH' THEN 3 WHEN 'MEDIUM' THEN 2 ELSE 1 END) * 100000
     + (opened_on - DATE '1900-01-01')), id);
CREATE INDEX case_shares_agency_partnership ON case_shares (agency_id, partnership_id, case_id);
"#;

const DOWN: &str = r#"
DROP INDEX incidents_partnership_category_time;
DROP INDEX incidents_partnership_area_time;
DROP INDEX incidents_partnership_updated;
DROP INDEX cases_partnership_created;
DROP INDEX cases_partnership_opened;
DROP INDEX cases_partnership_risk;
DROP INDEX case_shares_agency_partnership;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
