//! Each share row carries the case's filterable fields (issue 29, measured with `bench/pages`):
//! its type, status, risk level, owning agency and area. A filtered `totalCount` of `cases`
//! then counts the caller's own share rows, as the unfiltered count already did, instead of
//! joining every shared case under row-level security (with 100,000 cases, 50,000 shared with
//! the caller: 390 ms for the open ones). The insert trigger copies them with the partnership
//! and reference; a trigger on `cases` keeps every share row of a case in step when they change.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE case_shares
    ADD COLUMN case_type text,
    ADD COLUMN case_status text,
    ADD COLUMN risk_level text,
    ADD COLUMN owning_agency_id uuid,
    ADD COLUMN area_code text;
UPDATE case_shares s SET case_type = c.case_type, case_status = c.status, risk_level = c.risk_level,
    owning_agency_id = c.owning_agency_id, area_code = c.area_code
FROM cases c WHERE c.id = s.case_id;
ALTER TABLE case_shares
    ALTER COLUMN case_type SET NOT NULL,
    ALTER COLUMN case_status SET NOT NULL,
    ALTER COLUMN risk_level SET NOT NULL,
    ALTER COLUMN owning_agency_id SET NOT NULL;
-- Every share row was rewritten: the planner's figures are stale until analysed. (VACUUM, which
-- cannot run in the migration's transaction, is autovacuum's; where that is off, run
-- `VACUUM ANALYZE case_shares` after upgrading: until then case pages read the old row
-- versions too, about twice as slow at 100,000 cases.)
ANALYZE case_shares;

CREATE OR REPLACE FUNCTION csphub_share_partnership() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    SELECT c.partnership_id, c.ref, c.case_type, c.status, c.risk_level, c.owning_agency_id, c.area_code
    INTO NEW.partnership_id, NEW.case_ref, NEW.case_type, NEW.case_status, NEW.risk_level,
         NEW.owning_agency_id, NEW.area_code
    FROM cases c WHERE c.id = NEW.case_id;
    RETURN NEW;
END
$f$;

-- A change to a case's filterable fields reaches every share row of it, in the same statement
-- (the service may not update share rows itself: this runs as their owner).
CREATE FUNCTION csphub_case_to_shares() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    UPDATE case_shares SET case_type = NEW.case_type, case_status = NEW.status,
        risk_level = NEW.risk_level, owning_agency_id = NEW.owning_agency_id, area_code = NEW.area_code
    WHERE case_id = NEW.id;
    RETURN NULL;
END
$f$;
CREATE TRIGGER cases_to_shares AFTER UPDATE OF case_type, status, risk_level, owning_agency_id, area_code
    ON cases FOR EACH ROW
    WHEN ((OLD.case_type, OLD.status, OLD.risk_level, OLD.owning_agency_id, OLD.area_code)
          IS DISTINCT FROM (NEW.case_type, NEW.status, NEW.risk_level, NEW.owning_agency_id, NEW.area_code))
    EXECUTE FUNCTION csphub_case_to_shares();
"#;

const DOWN: &str = r#"
DROP TRIGGER cases_to_shares ON cases;
DROP FUNCTION csphub_case_to_shares();
CREATE OR REPLACE FUNCTION csphub_share_partnership() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    SELECT c.partnership_id, c.ref INTO NEW.partnership_id, NEW.case_ref
    FROM cases c WHERE c.id = NEW.case_id;
    RETURN NEW;
END
$f$;
ALTER TABLE case_shares
    DROP COLUMN case_type,
    DROP COLUMN case_status,
    DROP COLUMN risk_level,
    DROP COLUMN owning_agency_id,
    DROP COLUMN area_code;
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
