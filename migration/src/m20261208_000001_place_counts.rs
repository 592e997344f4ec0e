//! The monthly counts of ACTIVE records by area and LSOA (issue 30): what the PCC's protected
//! table set needs to hold official areas (LSOAs, and wards and MSOAs as sums of them) beside
//! the partnership's own areas, read from a few hundred rows instead of every record of a year.
//! The set's LSOA cells are of all categories, so the counts keep no category.
//!
//! Like `incident_counts`: signed deltas appended by statement triggers, a key's count the sum
//! of its rows, folded by `csphub_fold_incident_place_counts()` with the other counts. Only
//! ACTIVE records are counted (the table set counts nothing else).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE incident_place_counts (
    -- No foreign keys: every row comes from an incident, which has them.
    partnership_id  uuid NOT NULL,
    month           date NOT NULL CHECK (extract(day from month) = 1),
    area_id         uuid,
    lsoa            text,
    domestic_abuse  boolean NOT NULL,
    n               bigint NOT NULL
);
CREATE INDEX incident_place_counts_partnership_month ON incident_place_counts (partnership_id, month);

CREATE FUNCTION csphub_count_incident_places() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_place_counts
        SELECT partnership_id, date_trunc('month', occurred_on)::date, area_id, lsoa,
               domestic_abuse, count(*)
        FROM new_rows WHERE status = 'ACTIVE' GROUP BY 1, 2, 3, 4, 5;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_place_counts
        SELECT partnership_id, date_trunc('month', occurred_on)::date, area_id, lsoa,
               domestic_abuse, -count(*)
        FROM old_rows WHERE status = 'ACTIVE' GROUP BY 1, 2, 3, 4, 5;
    ELSE
        INSERT INTO incident_place_counts
        SELECT partnership_id, month, area_id, lsoa, domestic_abuse, sum(d) FROM (
            SELECT partnership_id, date_trunc('month', occurred_on)::date, area_id, lsoa,
                   domestic_abuse, 1 AS d
            FROM new_rows WHERE status = 'ACTIVE'
            UNION ALL
            SELECT partnership_id, date_trunc('month', occurred_on)::date, area_id, lsoa,
                   domestic_abuse, -1
            FROM old_rows WHERE status = 'ACTIVE'
        ) k (partnership_id, month, area_id, lsoa, domestic_abuse, d)
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER incidents_place_count_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incident_places();
CREATE TRIGGER incidents_place_count_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incident_places();
CREATE TRIGGER incidents_place_count_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incident_places();

CREATE FUNCTION csphub_clear_incident_place_counts() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM incident_place_counts;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER incidents_place_count_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_clear_incident_place_counts();

-- Folds the rows of every key that has more than one into one, in one statement, as
-- csphub_fold_incident_counts() does. Returns how many rows it removed.
CREATE FUNCTION csphub_fold_incident_place_counts() RETURNS bigint LANGUAGE sql AS $fn$
    WITH gone AS (
        DELETE FROM incident_place_counts WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM (
                SELECT ctid, count(*) OVER (PARTITION BY partnership_id, month, area_id, lsoa,
                           domestic_abuse) AS rows
                FROM incident_place_counts) k
            WHERE rows > 1))
        RETURNING *),
    folded AS (
        INSERT INTO incident_place_counts
        SELECT partnership_id, month, area_id, lsoa, domestic_abuse, sum(n)
        FROM gone GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
        RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM folded);
$fn$;

INSERT INTO incident_place_counts
SELECT partnership_id, date_trunc('month', occurred_on)::date, area_id, lsoa,
       domestic_abuse, count(*)
FROM incidents WHERE status = 'ACTIVE' GROUP BY 1, 2, 3, 4, 5;
ANALYZE incident_place_counts;

GRANT SELECT, INSERT, DELETE ON incident_place_counts TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TRIGGER incidents_place_count_insert ON incidents;
DROP TRIGGER incidents_place_count_update ON incidents;
DROP TRIGGER incidents_place_count_delete ON incidents;
DROP TRIGGER incidents_place_count_truncate ON incidents;
DROP FUNCTION csphub_clear_incident_place_counts();
DROP FUNCTION csphub_count_incident_places();
DROP FUNCTION csphub_fold_incident_place_counts();
DROP TABLE incident_place_counts;
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
