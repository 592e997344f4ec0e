//! Cancel reasons become a vocabulary (no free text in an incident record).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE vocabulary_terms DROP CONSTRAINT vocabulary_terms_vocabulary_check;
ALTER TABLE vocabulary_terms ADD CONSTRAINT vocabulary_terms_vocabulary_check
    CHECK (vocabulary IN ('CRIME_CATEGORY', 'ASB_TYPE', 'FIRE_TYPE', 'HATE_STRAND', 'OUTCOME', 'DRUG_CLASS', 'CANCEL_REASON'));
"#;

const DOWN: &str = r#"
DELETE FROM vocabulary_terms WHERE vocabulary = 'CANCEL_REASON';
ALTER TABLE vocabulary_terms DROP CONSTRAINT vocabulary_terms_vocabulary_check;
ALTER TABLE vocabulary_terms ADD CONSTRAINT vocabulary_terms_vocabulary_check
    CHECK (vocabulary IN ('CRIME_CATEGORY', 'ASB_TYPE', 'FIRE_TYPE', 'HATE_STRAND', 'OUTCOME', 'DRUG_CLASS'));
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
