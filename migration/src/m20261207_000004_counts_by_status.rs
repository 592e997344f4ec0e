//! The monthly counts (`incident_counts`) for every status, with when each key last received a
//! record (issue 29, measured with `bench/pages`), so that they answer more than statistics:
//!
//! - `totalCount` of `incidents` (any status, or one) for whole months, with the days at a
//!   period's edges counted from the records: a count of 1.5 million records read a few
//!   thousand rows instead of every record;
//! - `dataFreshness` (records of any status per agency and month, and when the latest
//!   arrived), which read every record of the months asked for.
//!
//! Rows are still signed deltas appended by the triggers, a key's count the sum of its rows.
//! `last_at` is the latest `updated_at` of the records a row added or changed (NULL on rows that
//! only took records away); a key's is the latest of its rows, so a record that since moved to
//! another month or was removed still counts as received for the month it was in.
//!
//! A partial index on hate crime records serves the strategic assessment's hate crime
//! indicator, which the counts cannot answer.
//!
//! The fold now rewrites only the keys that have more than one row, not the whole table every
//! minute (which, where autovacuum is slow or off, grew the table by its size each time).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
DROP TRIGGER incidents_count_insert ON incidents;
DROP TRIGGER incidents_count_update ON incidents;
DROP TRIGGER incidents_count_delete ON incidents;
DROP FUNCTION csphub_count_incidents();
DROP FUNCTION csphub_fold_incident_counts();
DROP TABLE incident_counts;

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
    status            text NOT NULL,
    n                 bigint NOT NULL,
    last_at           timestamptz
);
CREATE INDEX incident_counts_partnership_month ON incident_counts (partnership_id, month);

CREATE FUNCTION csphub_count_incidents() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_counts
        SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
               domestic_abuse, alcohol_related, youth_related, status, count(*), max(updated_at)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_counts
        SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
               domestic_abuse, alcohol_related, youth_related, status, -count(*), NULL
        FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
    ELSE
        -- A changed record in an unchanged key adds 0 and its time: its month received it.
        INSERT INTO incident_counts
        SELECT partnership_id, month, category, area_id, source_agency_id, domestic_abuse, alcohol_related,
               youth_related, status, sum(d), max(at) FROM (
            SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
                   domestic_abuse, alcohol_related, youth_related, status, 1 AS d, updated_at AS at
            FROM new_rows
            UNION ALL
            SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
                   domestic_abuse, alcohol_related, youth_related, status, -1, NULL
            FROM old_rows
        ) k (partnership_id, month, category, area_id, source_agency_id, domestic_abuse, alcohol_related,
             youth_related, status, d, at)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 HAVING sum(d) <> 0 OR max(at) IS NOT NULL;
    END IF;
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

-- Folds the rows of every key that has more than one into one, in one statement: a reader sees
-- the sums before or after, never between. Rows appended meanwhile are not in its snapshot and
-- stay as they are; keys with one row are not touched. Keys whose sum is 0 vanish. Returns how
-- many rows it removed.
CREATE FUNCTION csphub_fold_incident_counts() RETURNS bigint LANGUAGE sql AS $fn$
    WITH gone AS (
        DELETE FROM incident_counts WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM (
                SELECT ctid, count(*) OVER (PARTITION BY partnership_id, month, category, area_id,
                           source_agency_id, domestic_abuse, alcohol_related, youth_related, status) AS rows
                FROM incident_counts) k
            WHERE rows > 1))
        RETURNING *),
    folded AS (
        INSERT INTO incident_counts
        SELECT partnership_id, month, category, area_id, source_agency_id, domestic_abuse, alcohol_related,
               youth_related, status, sum(n), max(last_at)
        FROM gone GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 HAVING sum(n) <> 0
        RETURNING 1)
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM folded);
$fn$;

INSERT INTO incident_counts
SELECT partnership_id, date_trunc('month', occurred_on)::date, category, area_id, source_agency_id,
       domestic_abuse, alcohol_related, youth_related, status, count(*), max(updated_at)
FROM incidents GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
ANALYZE incident_counts;

GRANT SELECT, INSERT, DELETE ON incident_counts TO csphub_service;

-- The strategic assessment's hate crime indicator reads its records (about 2%) through this
-- rather than every record of its windows.
CREATE INDEX incidents_hate_day ON incidents (partnership_id, occurred_on)
    WHERE status = 'ACTIVE' AND cardinality(hate_strands) > 0;
"#;

const DOWN: &str = r#"
DROP INDEX IF EXISTS incidents_hate_day;
DROP TRIGGER incidents_count_insert ON incidents;
DROP TRIGGER incidents_count_update ON incidents;
DROP TRIGGER incidents_count_delete ON incidents;
DROP FUNCTION csphub_count_incidents();
DROP FUNCTION csphub_fold_incident_counts();
DROP TABLE incident_counts;

CREATE TABLE incident_counts (
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

CREATE TRIGGER incidents_count_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incidents();
CREATE TRIGGER incidents_count_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incidents();
CREATE TRIGGER incidents_count_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION csphub_count_incidents();

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
