//! The push log has one row per push and partnership (issue 10): `incident_pushes` carries a
//! NOT NULL `partnership_id`, and the counts on a row are that partnership's records. The rows
//! of one push share its `push_id`.
//!
//! A push's row before this held the partnerships it touched in an array and the counts of the
//! whole push: each becomes one row per partnership it touched, each with the whole push's
//! counts (they cannot be split after the fact). A push that touched no partnership (every
//! record rejected) held no partnership's data and is not kept.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE incident_pushes RENAME TO incident_pushes_before;
ALTER INDEX incident_pushes_agency RENAME TO incident_pushes_before_agency;
ALTER INDEX incident_pushes_pkey RENAME TO incident_pushes_before_pkey;
ALTER SEQUENCE incident_pushes_id_seq RENAME TO incident_pushes_before_id_seq;
CREATE SEQUENCE incident_push_ids;
CREATE TABLE incident_pushes (
    id              bigserial PRIMARY KEY,
    push_id         bigint NOT NULL,
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    agency_id       uuid NOT NULL REFERENCES agencies (id),
    pushed_by_sub   text NOT NULL,
    pushed_at       timestamptz NOT NULL DEFAULT now(),
    -- This partnership's records in the push: received = created + updated + unchanged + rejected.
    received        integer NOT NULL,
    created         integer NOT NULL,
    updated         integer NOT NULL,
    unchanged       integer NOT NULL,
    rejected        integer NOT NULL,
    UNIQUE (push_id, partnership_id)
);
INSERT INTO incident_pushes (push_id, partnership_id, agency_id, pushed_by_sub, pushed_at,
                             received, created, updated, unchanged, rejected)
    SELECT o.id, p.id, o.agency_id, o.pushed_by_sub, o.pushed_at,
           o.received, o.created, o.updated, o.unchanged, o.rejected
    FROM incident_pushes_before o CROSS JOIN LATERAL unnest(o.partnership_ids) AS p(id)
    ORDER BY o.id, p.id;
SELECT setval('incident_push_ids', coalesce((SELECT max(id) FROM incident_pushes_before), 0) + 1, false);
DROP TABLE incident_pushes_before;
CREATE INDEX incident_pushes_partnership ON incident_pushes (partnership_id, agency_id, pushed_at);
GRANT SELECT, INSERT ON incident_pushes TO csphub_service;
GRANT USAGE ON SEQUENCE incident_push_ids, incident_pushes_id_seq TO csphub_service;
"#;

const DOWN: &str = r#"
ALTER TABLE incident_pushes RENAME TO incident_pushes_after;
ALTER INDEX incident_pushes_pkey RENAME TO incident_pushes_after_pkey;
ALTER SEQUENCE incident_pushes_id_seq RENAME TO incident_pushes_after_id_seq;
CREATE TABLE incident_pushes (
    id              bigserial PRIMARY KEY,
    agency_id       uuid NOT NULL REFERENCES agencies (id),
    partnership_ids uuid[] NOT NULL,
    pushed_by_sub   text NOT NULL,
    pushed_at       timestamptz NOT NULL DEFAULT now(),
    received        integer NOT NULL,
    created         integer NOT NULL,
    updated         integer NOT NULL,
    unchanged       integer NOT NULL,
    rejected        integer NOT NULL
);
INSERT INTO incident_pushes (agency_id, partnership_ids, pushed_by_sub, pushed_at, received, created,
                             updated, unchanged, rejected)
    SELECT min(agency_id::text)::uuid, array_agg(partnership_id ORDER BY partnership_id),
           min(pushed_by_sub), min(pushed_at), sum(received), sum(created), sum(updated),
           sum(unchanged), sum(rejected)
    FROM incident_pushes_after GROUP BY push_id ORDER BY push_id;
DROP TABLE incident_pushes_after;
DROP SEQUENCE incident_push_ids;
CREATE INDEX incident_pushes_agency ON incident_pushes (agency_id, pushed_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON incident_pushes TO csphub_service;
GRANT USAGE ON SEQUENCE incident_pushes_id_seq TO csphub_service;
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
