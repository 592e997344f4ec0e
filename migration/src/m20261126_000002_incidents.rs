//! Areas, vocabularies with effective dates, depersonalised incidents and their revisions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE areas (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id      uuid NOT NULL REFERENCES partnerships (id),
    code                text NOT NULL CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(code) <= 64),
    name                text NOT NULL CHECK (btrim(name) <> ''),
    kind                text NOT NULL CHECK (kind IN ('ward', 'neighbourhood')),
    postcode_districts  text[] NOT NULL DEFAULT '{}'
        CHECK (array_to_string(postcode_districts, ',') ~ '^([A-Z]{1,2}[0-9][0-9A-Z]?(,|$))*$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partnership_id, code)
);

CREATE TABLE vocabulary_terms (
    vocabulary  text NOT NULL CHECK (vocabulary IN ('CRIME_CATEGORY', 'ASB_TYPE', 'FIRE_TYPE', 'HATE_STRAND', 'OUTCOME', 'DRUG_CLASS')),
    code        text NOT NULL CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    label       text NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date,
    PRIMARY KEY (vocabulary, code, valid_from),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

CREATE TABLE incidents (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source_agency_id    uuid NOT NULL REFERENCES agencies (id),
    external_ref        text NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 64),
    partnership_id      uuid NOT NULL REFERENCES partnerships (id),
    category            text NOT NULL,
    occurred_at         timestamptz NOT NULL,
    -- The Europe/London calendar date of occurred_at: months, quarters and years count by it.
    occurred_on         date NOT NULL,
    reported_at         timestamptz,
    area_id             uuid NOT NULL REFERENCES areas (id),
    postcode_district   text CHECK (postcode_district ~ '^[A-Z]{1,2}[0-9][0-9A-Z]?$'),
    domestic_abuse      boolean NOT NULL DEFAULT false,
    alcohol_related     boolean NOT NULL DEFAULT false,
    youth_related       boolean NOT NULL DEFAULT false,
    hate_strands        text[] NOT NULL DEFAULT '{}',
    drug_class          text CHECK (drug_class IN ('a', 'b', 'c')),
    asb_type            text,
    fire_type           text,
    outcome             text,
    status              text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'CANCELLED')),
    cancel_reason       text,
    content_hash        text NOT NULL,
    revision            integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    pushed_by_sub       text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_agency_id, external_ref),
    CHECK ((status = 'CANCELLED') = (cancel_reason IS NOT NULL))
);
CREATE INDEX incidents_partnership_day ON incidents (partnership_id, occurred_on, category) WHERE status = 'ACTIVE';
CREATE INDEX incidents_partnership_time ON incidents (partnership_id, occurred_at, id);
CREATE INDEX incidents_agency_created ON incidents (source_agency_id, created_at);

-- The state of an incident before each change, with who pushed that state and when.
CREATE TABLE incident_revisions (
    id            bigserial PRIMARY KEY,
    incident_id   uuid NOT NULL REFERENCES incidents (id),
    revision      integer NOT NULL,
    record        jsonb NOT NULL,
    pushed_by_sub text NOT NULL,
    pushed_at     timestamptz NOT NULL,
    replaced_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (incident_id, revision)
);

-- Every push, accepted or not, so that a missing month is visible before anyone reads a trend.
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
CREATE INDEX incident_pushes_agency ON incident_pushes (agency_id, pushed_at);
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS incident_pushes;
DROP TABLE IF EXISTS incident_revisions;
DROP TABLE IF EXISTS incidents;
DROP TABLE IF EXISTS vocabulary_terms;
DROP TABLE IF EXISTS areas;
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
