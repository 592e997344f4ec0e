//! Pages and counts of `cases` read the caller's own share rows (issue 29, measured with
//! `bench/pages`, 100,000 cases, 50,000 shared with the police). Walking the cases in an order
//! and skipping those not shared with the caller cost as many rows as lay before the caller's
//! page: a police page by risk from the high end skipped 33,000 high-risk cases shared only
//! with the council (55 ms), and a filter the caller's shares rarely match read all 100,000.
//! Each share row now carries its case's sort keys too (when it was recorded, the day it was
//! opened), and an index per order holds the caller's shares in that order, with the
//! filterable fields and the reference alongside, so a page is a range of one index, filtered
//! there; the orders' indexes on `cases` go.
//! `case_shares_filters` serves the filtered counts (status first, the commonest): counting the
//! open cases read 30,000 share rows from the table (50 to 86 ms).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE case_shares
    ADD COLUMN case_created_at timestamptz,
    ADD COLUMN opened_on date;
UPDATE case_shares s SET case_created_at = c.created_at, opened_on = c.opened_on
FROM cases c WHERE c.id = s.case_id;
ALTER TABLE case_shares
    ALTER COLUMN case_created_at SET NOT NULL,
    ALTER COLUMN opened_on SET NOT NULL;
-- Every share row was rewritten again (see m20261207_000005 on VACUUM).
ANALYZE case_shares;

CREATE OR REPLACE FUNCTION csphub_share_partnership() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    SELECT c.partnership_id, c.ref, c.case_type, c.status, c.risk_level, c.owning_agency_id, c.area_code,
           c.created_at, c.opened_on
    INTO NEW.partnership_id, NEW.case_ref, NEW.case_type, NEW.case_status, NEW.risk_level,
         NEW.owning_agency_id, NEW.area_code, NEW.case_created_at, NEW.opened_on
    FROM cases c WHERE c.id = NEW.case_id;
    RETURN NEW;
END
$f$;

CREATE OR REPLACE FUNCTION csphub_case_to_shares() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    UPDATE case_shares SET case_type = NEW.case_type, case_status = NEW.status,
        risk_level = NEW.risk_level, owning_agency_id = NEW.owning_agency_id, area_code = NEW.area_code,
        case_created_at = NEW.created_at, opened_on = NEW.opened_on
    WHERE case_id = NEW.id;
    RETURN NULL;
END
$f$;
DROP TRIGGER cases_to_shares ON cases;
CREATE TRIGGER cases_to_shares
    AFTER UPDATE OF case_type, status, risk_level, owning_agency_id, area_code, created_at, opened_on
    ON cases FOR EACH ROW
    WHEN ((OLD.case_type, OLD.status, OLD.risk_level, OLD.owning_agency_id, OLD.area_code,
           OLD.created_at, OLD.opened_on)
          IS DISTINCT FROM (NEW.case_type, NEW.status, NEW.risk_level, NEW.owning_agency_id,
           NEW.area_code, NEW.created_at, NEW.opened_on))
    EXECUTE FUNCTION csphub_case_to_shares();

CREATE INDEX case_shares_filters ON case_shares
    (agency_id, partnership_id, case_status, risk_level, case_type, area_code, owning_agency_id);
CREATE INDEX case_shares_by_created ON case_shares (agency_id, partnership_id, case_created_at, case_id)
    INCLUDE (case_status, risk_level, case_type, area_code, owning_agency_id, case_ref);
CREATE INDEX case_shares_by_opened ON case_shares (agency_id, partnership_id, opened_on, case_id)
    INCLUDE (case_status, risk_level, case_type, area_code, owning_agency_id, case_ref);
CREATE INDEX case_shares_by_risk ON case_shares (agency_id, partnership_id,
    ((CASE risk_level WHEN 'HIGH' THEN 3 WHEN 'MEDIUM' THEN 2 ELSE 1 END) * 100000 + (opened_on - DATE '1900-01-01')),
    case_id)
    INCLUDE (case_status, risk_level, case_type, area_code, owning_agency_id, case_ref);
-- The orders' indexes on the cases themselves, which pages walked before: nothing reads them now.
DROP INDEX cases_partnership_created;
DROP INDEX cases_partnership_opened;
DROP INDEX cases_partnership_risk;
"#;

const DOWN: &str = r#"
CREATE INDEX cases_partnership_created ON cases (partnership_id, created_at, id);
CREATE INDEX cases_partnership_opened ON cases (partnership_id, opened_on, id);
CREATE INDEX cases_partnership_risk ON cases (partnership_id,
    ((CASE risk_level WHEN 'HIGH' THEN 3 WHEN 'MEDIUM' THEN 2 ELSE 1 END) * 100000
     + (opened_on - DATE '1900-01-01')), id);
DROP INDEX case_shares_by_risk;
DROP INDEX case_shares_by_opened;
DROP INDEX case_shares_by_created;
DROP INDEX case_shares_filters;
DROP TRIGGER cases_to_shares ON cases;
CREATE TRIGGER cases_to_shares AFTER UPDATE OF case_type, status, risk_level, owning_agency_id, area_code
    ON cases FOR EACH ROW
    WHEN ((OLD.case_type, OLD.status, OLD.risk_level, OLD.owning_agency_id, OLD.area_code)
          IS DISTINCT FROM (NEW.case_type, NEW.status, NEW.risk_level, NEW.owning_agency_id, NEW.area_code))
    EXECUTE FUNCTION csphub_case_to_shares();
CREATE OR REPLACE FUNCTION csphub_case_to_shares() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    UPDATE case_shares SET case_type = NEW.case_type, case_status = NEW.status,
        risk_level = NEW.risk_level, owning_agency_id = NEW.owning_agency_id, area_code = NEW.area_code
    WHERE case_id = NEW.id;
    RETURN NULL;
END
$f$;
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
ALTER TABLE case_shares DROP COLUMN case_created_at, DROP COLUMN opened_on;
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
