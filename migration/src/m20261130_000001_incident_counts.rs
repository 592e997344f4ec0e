//! Monthly counts of ACTIVE incidents, kept by the database itself as incidents change, so that
//! statistics over whole months read a few hundred rows instead of every record (issue 7).
//!
//! `incident_counts` holds signed deltas, never updated in place: a statement on `incidents`
//! appends one row per key it changed (+ for ACTIVE rows it wrote, - for ACTIVE rows it
//! replaced or removed), so concurrent pushes never wait on one another's counts and cannot
//! deadlock on them. The count of a key is the sum of its rows. The service folds the rows of
//! each key into one from time to time (`csphub_fold_incident_counts`), which changes no sum.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE incident_counts (
    -- No foreign keys: every row comes from an incident, which has them.
    partnership_id    uuid NOT NULL,
    month             date NOT NULL CHECK (extract(day from month) = 1),
    category          text NOT NULL,
    area_id           uuid,
    source_agency_id  uuid NOT NULL,
    domestic_abuse    boolean NOT NULL,
    alcohol_related   boolean NOT NULL,
    youth_related     boolean NOT NULL,
    n                 bigint NOT NULL
);
CREATE INDEX incident_counts_partnership_month ON incident_counts (partnership_id, month);

CREATE FUNCTION csphub_count_incidents() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_counts
        SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
               domestic_abuse, alcohol_related, youth_related, count(*)
        FROM new_rows WHERE status = 'ACTIVE' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_counts
        SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
               domestic_abuse, alcohol_related, youth_related, -count(*)
        FROM old_rows WHERE status = 'ACTIVE' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    ELSE
        INSERT INTO incident_counts
        SELECT partnership_id, month, category, area_id, source_agency_id, domestic_abuse, alcohol_related,
               youth_related, sum(d) FROM (
            SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
                   domestic_abuse, alcohol_related, youth_related, 1 AS d
            FROM new_rows WHERE status = 'ACTIVE'
            UNION ALL
            SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
                   domestic_abuse, alcohol_related, youth_related, -1
            FROM old_rows WHERE status = 'ACTIVE'
        ) k (partnership_id, month, category, area_id, source_agency_id, domestic_abuse, alcohol_related,
             youth_related, d)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION csphub_clear_incident_counts() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM incident_counts;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER incidents_count_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incidents();
CREATE TRIGGER incidents_count_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incidents();
CREATE TRIGGER incidents_count_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incidents();
CREATE TRIGGER incidents_count_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_clear_incident_counts();

-- Folds every key's rows into one, in one statement: a reader sees the sums before or after,
-- never between. Rows appended meanwhile are not in its snapshot and stay as they are. Keys
-- whose sum is 0 vanish. Returns how many rows it removed.
CREATE FUNCTION csphub_fold_incident_counts() RETURNS bigint LANGUAGE sql AS $fn$
    WITH gone AS (DELETE FROM incident_counts RETURNING *),
    folded AS (
        INSERT INTO incident_counts
        SELECT partnership_id, month, category, area_id, source_agency_id, domestic_abuse, alcohol_related,
               youth_related, sum(n)
        FROM gone GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING sum(n) <> 0
        RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM folded);
$fn$;

INSERT INTO incident_counts
SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
       domestic_abuse, alcohol_related, youth_related, count(*)
FROM incidents WHERE status = 'ACTIVE' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

GRANT SELECT, INSERT, DELETE ON incident_counts TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS incidents_count_insert ON incidents;
DROP TRIGGER IF EXISTS incidents_count_update ON incidents;
DROP TRIGGER IF EXISTS incidents_count_delete ON incidents;
DROP TRIGGER IF EXISTS incidents_count_truncate ON incidents;
DROP FUNCTION IF EXISTS csphub_count_incidents();
DROP FUNCTION IF EXISTS csphub_clear_incident_counts();
DROP FUNCTION IF EXISTS csphub_fold_incident_counts();
DROP TABLE IF EXISTS incident_counts;
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
