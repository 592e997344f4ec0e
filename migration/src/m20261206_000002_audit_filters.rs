//! The audit log at the size a busy partnership reaches in a few years (issue 27): every read of
//! case data writes an entry, so millions a year. `auditLog` reads one partnership's entries
//! newest first (by time, then id), filtered by agency (an auditor reads its own agency's),
//! action, subject, record or time: each filter gets an index that serves a page of it in that
//! order, from any time, without reading the rest.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE INDEX audit_log_partnership_agency ON audit_log (partnership_id, agency_id, at, id);
CREATE INDEX audit_log_partnership_action ON audit_log (partnership_id, action, at, id);
CREATE INDEX audit_log_partnership_sub ON audit_log (partnership_id, sub, at, id);
CREATE INDEX audit_log_partnership_record ON audit_log (partnership_id, record_id, at, id);
CREATE INDEX audit_log_partnership_at ON audit_log (partnership_id, at, id);
"#;

const DOWN: &str = r#"
DROP INDEX audit_log_partnership_agency;
DROP INDEX audit_log_partnership_action;
DROP INDEX audit_log_partnership_sub;
DROP INDEX audit_log_partnership_record;
DROP INDEX audit_log_partnership_at;
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
