//! Each share row carries its case's reference (issue 26): `caseByRef` then finds a case
//! through the caller's own share rows, so a reference that exists but is not shared with the
//! caller and one that does not exist are the same index lookup that finds nothing, and answer
//! in the same time. The trigger that copies the case's partnership copies its reference too
//! (a case's reference never changes: a trigger refuses it).

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
-- The copies stay true: a case's reference and partnership never change.
CREATE FUNCTION csphub_refuse_case_move() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'a case''s reference and partnership never change'
        USING ERRCODE = 'check_violation';
END
$f$;
CREATE TRIGGER cases_ref_fixed BEFORE UPDATE OF ref, partnership_id ON cases FOR EACH ROW
    WHEN (OLD.ref IS DISTINCT FROM NEW.ref OR OLD.partnership_id IS DISTINCT FROM NEW.partnership_id)
    EXECUTE FUNCTION csphub_refuse_case_move();
"#;

const DOWN: &str = r#"
DROP TRIGGER cases_ref_fixed ON cases;
DROP FUNCTION csphub_refuse_case_move();
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
