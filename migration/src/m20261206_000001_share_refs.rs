//! Each share row carries its case's reference (issue 26): `caseByRef` then finds a case
//! through the caller's own share rows, so a reference that exists but is not shared with the
//! caller and one that does not exist are the same index lookup that finds nothing, and answer
//! in the same time. The trigger that copies the case's partnership copies its reference too
//! (a case's reference never changes).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE case_shares ADD COLUMN case_ref text;
UPDATE case_shares s SET case_ref = c.ref FROM cases c WHERE c.id = s.case_id;
ALTER TABLE case_shares ALTER COLUMN case_ref SET NOT NULL;
CREATE OR REPLACE FUNCTION csphub_share_partnership() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    SELECT c.partnership_id, c.ref INTO NEW.partnership_id, NEW.case_ref
    FROM cases c WHERE c.id = NEW.case_id;
    RETURN NEW;
END
$f$;
CREATE UNIQUE INDEX case_shares_agency_ref ON case_shares (agency_id, partnership_id, case_ref);
"#;

const DOWN: &str = r#"
DROP INDEX case_shares_agency_ref;
CREATE OR REPLACE FUNCTION csphub_share_partnership() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    SELECT c.partnership_id INTO NEW.partnership_id FROM cases c WHERE c.id = NEW.case_id;
    RETURN NEW;
END
$f$;
ALTER TABLE case_shares DROP COLUMN case_ref;
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
