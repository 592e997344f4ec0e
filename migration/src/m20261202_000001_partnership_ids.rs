//! Every table that holds a partnership's data carries a NOT NULL `partnership_id` (issue 10):
//! the column a sharded deployment (Citus) would distribute on, and one row-level security
//! keys on. The tables that lacked it are children of a plan, a case or an incident; their
//! `partnership_id` is their parent's, filled in by a trigger when an INSERT does not give it,
//! so no write can leave it out. Shared reference data (agencies, partnerships, vocabularies,
//! the retention schedule, the audit seals, the agencies' push log) stays without it; the test
//! `tests/partnership_ids.rs` reads the catalogue and names the rest.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE priorities ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE actions ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE plan_events ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE progress_records ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE priority_indicators ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE case_incidents ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE case_interventions ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE case_notes ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE case_referrals ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
ALTER TABLE case_subjects ADD COLUMN partnership_id uuid REFERENCES partnerships (id);
-- A revision keeps the partnership its record was in at the time (a record may move).
ALTER TABLE incident_revisions ADD COLUMN partnership_id uuid REFERENCES partnerships (id);

UPDATE priorities c SET partnership_id = p.partnership_id FROM plans p WHERE p.id = c.plan_id;
UPDATE actions c SET partnership_id = p.partnership_id FROM plans p WHERE p.id = c.plan_id;
UPDATE plan_events c SET partnership_id = p.partnership_id FROM plans p WHERE p.id = c.plan_id;
UPDATE progress_records c SET partnership_id = a.partnership_id FROM actions a WHERE a.id = c.action_id;
UPDATE priority_indicators c SET partnership_id = p.partnership_id FROM priorities p WHERE p.id = c.priority_id;
UPDATE case_incidents c SET partnership_id = k.partnership_id FROM cases k WHERE k.id = c.case_id;
UPDATE case_interventions c SET partnership_id = k.partnership_id FROM cases k WHERE k.id = c.case_id;
UPDATE case_notes c SET partnership_id = k.partnership_id FROM cases k WHERE k.id = c.case_id;
UPDATE case_referrals c SET partnership_id = k.partnership_id FROM cases k WHERE k.id = c.case_id;
UPDATE case_subjects c SET partnership_id = k.partnership_id FROM cases k WHERE k.id = c.case_id;
UPDATE incident_revisions c SET partnership_id = i.partnership_id FROM incidents i WHERE i.id = c.incident_id;

ALTER TABLE priorities ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE actions ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE plan_events ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE progress_records ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE priority_indicators ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE case_incidents ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE case_interventions ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE case_notes ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE case_referrals ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE case_subjects ALTER COLUMN partnership_id SET NOT NULL;
ALTER TABLE incident_revisions ALTER COLUMN partnership_id SET NOT NULL;

-- The parent's partnership, for an INSERT that does not give one. SECURITY DEFINER: the
-- service role may not read every parent row (cases are behind row-level security), and the
-- function reads only the parent's partnership_id, which the row being written names anyway.
CREATE FUNCTION csphub_fill_partnership_id() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    CASE TG_TABLE_NAME
    WHEN 'priorities', 'actions', 'plan_events' THEN
        SELECT partnership_id INTO NEW.partnership_id FROM plans WHERE id = NEW.plan_id;
    WHEN 'progress_records' THEN
        SELECT partnership_id INTO NEW.partnership_id FROM actions WHERE id = NEW.action_id;
    WHEN 'priority_indicators' THEN
        SELECT partnership_id INTO NEW.partnership_id FROM priorities WHERE id = NEW.priority_id;
    WHEN 'incident_revisions' THEN
        SELECT partnership_id INTO NEW.partnership_id FROM incidents WHERE id = NEW.incident_id;
    ELSE
        SELECT partnership_id INTO NEW.partnership_id FROM cases WHERE id = NEW.case_id;
    END CASE;
    RETURN NEW;
END
$fn$;
REVOKE ALL ON FUNCTION csphub_fill_partnership_id() FROM PUBLIC;

CREATE TRIGGER fill_partnership_id BEFORE INSERT ON priorities FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON actions FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON plan_events FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON progress_records FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON priority_indicators FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON case_incidents FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON case_interventions FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON case_notes FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON case_referrals FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON case_subjects FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();
CREATE TRIGGER fill_partnership_id BEFORE INSERT ON incident_revisions FOR EACH ROW
    WHEN (NEW.partnership_id IS NULL) EXECUTE FUNCTION csphub_fill_partnership_id();

-- Row-level security keys on the column too: a case's rows are seen only within the caller's
-- partnerships, besides the share the policies already require.
ALTER POLICY service_all ON case_incidents USING (
    partnership_id = ANY (csphub_partnerships())
    AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_incidents.case_id
                AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_all ON case_interventions USING (
    partnership_id = ANY (csphub_partnerships())
    AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_interventions.case_id
                AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_read ON case_notes USING (
    partnership_id = ANY (csphub_partnerships())
    AND (visibility = 'SHARED' OR agency_id = csphub_agency())
    AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_notes.case_id
                AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_all ON case_referrals USING (
    partnership_id = ANY (csphub_partnerships())
    AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_referrals.case_id
                AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_all ON case_subjects USING (
    partnership_id = ANY (csphub_partnerships())
    AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_subjects.case_id
                AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
"#;

const DOWN: &str = r#"
ALTER POLICY service_all ON case_incidents USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_incidents.case_id
            AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_all ON case_interventions USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_interventions.case_id
            AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_read ON case_notes USING (
    (visibility = 'SHARED' OR agency_id = csphub_agency())
    AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_notes.case_id
                AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_all ON case_referrals USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_referrals.case_id
            AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_all ON case_subjects USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_subjects.case_id
            AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
DROP TRIGGER fill_partnership_id ON priorities;
DROP TRIGGER fill_partnership_id ON actions;
DROP TRIGGER fill_partnership_id ON plan_events;
DROP TRIGGER fill_partnership_id ON progress_records;
DROP TRIGGER fill_partnership_id ON priority_indicators;
DROP TRIGGER fill_partnership_id ON case_incidents;
DROP TRIGGER fill_partnership_id ON case_interventions;
DROP TRIGGER fill_partnership_id ON case_notes;
DROP TRIGGER fill_partnership_id ON case_referrals;
DROP TRIGGER fill_partnership_id ON case_subjects;
DROP TRIGGER fill_partnership_id ON incident_revisions;
DROP FUNCTION csphub_fill_partnership_id();
ALTER TABLE priorities DROP COLUMN partnership_id;
ALTER TABLE actions DROP COLUMN partnership_id;
ALTER TABLE plan_events DROP COLUMN partnership_id;
ALTER TABLE progress_records DROP COLUMN partnership_id;
ALTER TABLE priority_indicators DROP COLUMN partnership_id;
ALTER TABLE case_incidents DROP COLUMN partnership_id;
ALTER TABLE case_interventions DROP COLUMN partnership_id;
ALTER TABLE case_notes DROP COLUMN partnership_id;
ALTER TABLE case_referrals DROP COLUMN partnership_id;
ALTER TABLE case_subjects DROP COLUMN partnership_id;
ALTER TABLE incident_revisions DROP COLUMN partnership_id;
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
