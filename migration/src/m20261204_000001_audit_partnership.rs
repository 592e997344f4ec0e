//! Every audit entry belongs to a partnership (issue 10): `audit_log.partnership_id` is NOT
//! NULL. The only entries written without one were retention's deletions of people no case held
//! any more; retention now writes one entry per partnership those people were in.
//!
//! Entries already written without a partnership keep their place in the seal chain: they move,
//! unchanged, to `audit_log_unscoped`, which takes no new rows, and the seals read both tables
//! through the view `audit_entries` (sealing and verifying hash exactly the same content).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE audit_log_unscoped AS
    SELECT id, at, xact, sub, agency_id, action, record_type, record_id, detail, request_id
    FROM audit_log WHERE partnership_id IS NULL;
ALTER TABLE audit_log_unscoped ADD PRIMARY KEY (id);
CREATE INDEX audit_log_unscoped_xact ON audit_log_unscoped (xact, id);
CREATE TRIGGER audit_log_unscoped_closed BEFORE INSERT OR UPDATE OR DELETE ON audit_log_unscoped
    FOR EACH ROW EXECUTE FUNCTION csphub_refuse_change();
CREATE TRIGGER audit_log_unscoped_no_truncate BEFORE TRUNCATE ON audit_log_unscoped
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_refuse_change();

ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DELETE FROM audit_log WHERE partnership_id IS NULL;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
ALTER TABLE audit_log ALTER COLUMN partnership_id SET NOT NULL;

-- What the seals cover: every entry, in both tables, with the same columns as ever.
CREATE VIEW audit_entries AS
    SELECT id, at, xact, sub, agency_id, partnership_id, action, record_type, record_id, detail, request_id
    FROM audit_log
    UNION ALL
    SELECT id, at, xact, sub, agency_id, NULL::uuid, action, record_type, record_id, detail, request_id
    FROM audit_log_unscoped;
GRANT SELECT ON audit_log_unscoped, audit_entries TO csphub_service;
"#;

const DOWN: &str = r#"
DROP VIEW audit_entries;
ALTER TABLE audit_log ALTER COLUMN partnership_id DROP NOT NULL;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
INSERT INTO audit_log (id, at, xact, sub, agency_id, partnership_id, action, record_type, record_id, detail, request_id)
    SELECT id, at, xact, sub, agency_id, NULL, action, record_type, record_id, detail, request_id
    FROM audit_log_unscoped;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
DROP TABLE audit_log_unscoped;
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
