//! The month of the data.police.uk outcome each record holds (issue 30): the import of
//! outcomes files keeps a crime's latest outcome whatever order the months are imported in,
//! and a street file imported again no longer sets back an outcome of a later month.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE incident_outcome_months (
    incident_id     uuid PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    -- The record's partnership, as every table of partnership data carries it.
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    month           date NOT NULL CHECK (extract(day from month) = 1)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON incident_outcome_months TO csphub_service;
"#;

const DOWN: &str = "DROP TABLE incident_outcome_months;";

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
