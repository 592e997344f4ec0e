//! Partnerships, agencies and the action plan (plans, priorities, actions, quarterly progress).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE partnerships (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    county      text NOT NULL CHECK (btrim(county) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agencies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    kind        text NOT NULL CHECK (kind IN ('police', 'fire', 'council', 'pcc', 'other')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agency_partnerships (
    agency_id       uuid NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    partnership_id  uuid NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    PRIMARY KEY (agency_id, partnership_id)
);

CREATE TABLE plans (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id    uuid NOT NULL REFERENCES partnerships (id),
    financial_year    text NOT NULL CHECK (
        financial_year ~ '^[0-9]{4}/[0-9]{2}$'
        AND (substr(financial_year, 1, 4)::int + 1) % 100 = substr(financial_year, 6, 2)::int
    ),
    title             text NOT NULL CHECK (btrim(title) <> ''),
    status            text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'SIGNED_OFF', 'RATIFIED', 'CLOSED')),
    draft_number      integer NOT NULL DEFAULT 1 CHECK (draft_number >= 1),
    signed_off_by     text,
    signed_off_on     date,
    ratified_meeting  text,
    ratified_on       date,
    closed_at         timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partnership_id, financial_year),
    CHECK (status = 'DRAFT' OR (signed_off_by IS NOT NULL AND signed_off_on IS NOT NULL)),
    CHECK (status NOT IN ('RATIFIED', 'CLOSED') OR (ratified_meeting IS NOT NULL AND ratified_on IS NOT NULL)),
    CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL))
);

CREATE TABLE plan_events (
    id            bigserial PRIMARY KEY,
    plan_id       uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    step          text NOT NULL CHECK (step IN ('CREATED', 'NEW_DRAFT', 'SIGNED_OFF', 'RATIFIED', 'CLOSED')),
    draft_number  integer NOT NULL,
    actor_sub     text NOT NULL,
    actor_agency  text NOT NULL,
    detail        text,
    at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX plan_events_plan ON plan_events (plan_id, id);

CREATE TABLE priorities (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id      uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    position     integer NOT NULL CHECK (position BETWEEN 1 AND 99),
    title        text NOT NULL CHECK (btrim(title) <> ''),
    description  text NOT NULL DEFAULT '',
    UNIQUE (plan_id, position),
    UNIQUE (id, plan_id)
);

CREATE TABLE actions (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id               uuid NOT NULL,
    priority_id           uuid NOT NULL,
    ref                   text NOT NULL CHECK (ref ~ '^[0-9]{1,2}\.[0-9]{1,3}$'),
    title                 text NOT NULL CHECK (btrim(title) <> ''),
    description           text NOT NULL DEFAULT '',
    measure               text NOT NULL DEFAULT '',
    target_date           date,
    lead_agency_id        uuid NOT NULL REFERENCES agencies (id),
    lead_officer          text NOT NULL DEFAULT '',
    added_in_quarter      text CHECK (added_in_quarter ~ '^[0-9]{4}/[0-9]{2} Q[1-4]$'),
    version               integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    removal_reason        text CHECK (btrim(removal_reason) <> ''),
    removal_decided_by    text CHECK (btrim(removal_decided_by) <> ''),
    removal_decided_on    date,
    removal_quarter       text CHECK (removal_quarter ~ '^[0-9]{4}/[0-9]{2} Q[1-4]$'),
    removed_by_sub        text,
    removed_at            timestamptz,
    carried_over_from_id  uuid UNIQUE REFERENCES actions (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (priority_id, plan_id) REFERENCES priorities (id, plan_id) ON DELETE CASCADE,
    UNIQUE (plan_id, ref),
    CHECK (
        (removal_reason IS NULL AND removal_decided_by IS NULL AND removal_decided_on IS NULL
            AND removal_quarter IS NULL AND removed_by_sub IS NULL AND removed_at IS NULL)
        OR
        (removal_reason IS NOT NULL AND removal_decided_by IS NOT NULL AND removal_decided_on IS NOT NULL
            AND removal_quarter IS NOT NULL AND removed_by_sub IS NOT NULL AND removed_at IS NOT NULL)
    ),
    CHECK (carried_over_from_id IS DISTINCT FROM id)
);
CREATE INDEX actions_priority ON actions (priority_id);

CREATE TABLE progress_records (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    action_id           uuid NOT NULL REFERENCES actions (id),
    quarter             text NOT NULL CHECK (quarter ~ '^[0-9]{4}/[0-9]{2} Q[1-4]$'),
    status              text NOT NULL CHECK (status IN ('NOT_STARTED', 'ON_TARGET', 'COMPLETE', 'INCOMPLETE')),
    commentary          text,
    percent_complete    smallint CHECK (percent_complete BETWEEN 0 AND 100),
    supersedes_id       uuid UNIQUE REFERENCES progress_records (id),
    recorded_by_sub     text NOT NULL,
    recorded_by_agency  text NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (status <> 'INCOMPLETE' OR btrim(coalesce(commentary, '')) <> '')
);
-- One first record per action and quarter; later ones supersede it (one successor each).
CREATE UNIQUE INDEX progress_first_per_quarter ON progress_records (action_id, quarter) WHERE supersedes_id IS NULL;
CREATE INDEX progress_action_quarter ON progress_records (action_id, quarter, recorded_at);

CREATE FUNCTION progress_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'progress records are append-only';
END $$;
CREATE TRIGGER progress_records_append_only BEFORE UPDATE OR DELETE ON progress_records
    FOR EACH ROW EXECUTE FUNCTION progress_records_append_only();
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS progress_records;
DROP FUNCTION IF EXISTS progress_records_append_only();
DROP TABLE IF EXISTS actions;
DROP TABLE IF EXISTS priorities;
DROP TABLE IF EXISTS plan_events;
DROP TABLE IF EXISTS plans;
DROP TABLE IF EXISTS agency_partnerships;
DROP TABLE IF EXISTS agencies;
DROP TABLE IF EXISTS partnerships;
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
