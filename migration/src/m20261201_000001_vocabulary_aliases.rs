//! Other names a vocabulary term goes by (issue 11): data.police.uk's files spell some outcomes
//! differently from its API, and earlier csphub releases labelled some terms differently.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE vocabulary_terms ADD COLUMN aliases text[] NOT NULL DEFAULT '{}'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE vocabulary_terms DROP COLUMN aliases")
            .await?;
        Ok(())
    }
}
