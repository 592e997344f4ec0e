//! Submitted reports: exactly what was sent (the content, who, when, a content hash), never
//! changed afterwards.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE report_submissions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id       uuid NOT NULL REFERENCES partnerships (id),
    kind                 text NOT NULL CHECK (kind IN ('RAG_UPDATE', 'PCC_REPORT', 'STRATEGIC_ASSESSMENT')),
    parameters           jsonb NOT NULL,
    content              jsonb NOT NULL,
    -- sha256 of the content as stored (its canonical JSON text), hex.
    content_hash         text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    note                 text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    submitted_by_sub     text NOT NULL,
    submitted_by_agency  text NOT NULL,
    submitted_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_submissions_partnership ON report_submissions (partnership_id, submitted_at DESC, id);
CREATE TRIGGER report_submissions_append_only BEFORE UPDATE OR DELETE ON report_submissions
    FOR EACH ROW EXECUTE FUNCTION csphub_refuse_change();
CREATE TRIGGER report_submissions_no_truncate BEFORE TRUNCATE ON report_submissions
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_refuse_change();
GRANT SELECT, INSERT ON report_submissions TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS report_submissions;
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
