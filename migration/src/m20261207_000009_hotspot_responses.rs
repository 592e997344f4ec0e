//! Hotspot response (issue 30): the hotspots a partnership designates for a period (sets of
//! official LSOAs, with an optional comparison area) and each agency's response to them, week
//! by week (patrol hours, visible presence, powers used, partners involved).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE hotspot_designations (
    id                uuid PRIMARY KEY,
    partnership_id    uuid NOT NULL REFERENCES partnerships (id),
    name              text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    lsoas             text[] NOT NULL CHECK (cardinality(lsoas) BETWEEN 1 AND 100),
    comparison_lsoas  text[] NOT NULL DEFAULT '{}' CHECK (cardinality(comparison_lsoas) <= 100),
    starts_on         date NOT NULL,
    ends_on           date NOT NULL CHECK (ends_on >= starts_on AND ends_on - starts_on < 366),
    designated_by     uuid NOT NULL REFERENCES agencies (id),
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partnership_id, name, starts_on),
    UNIQUE (id, partnership_id)
);
CREATE INDEX hotspot_designations_order ON hotspot_designations (partnership_id, starts_on, id);

CREATE TABLE hotspot_responses (
    partnership_id          uuid NOT NULL REFERENCES partnerships (id),
    designation_id          uuid NOT NULL,
    agency_id               uuid NOT NULL REFERENCES agencies (id),
    week_starting           date NOT NULL CHECK (extract(isodow FROM week_starting) = 1),
    patrol_hours            numeric(7, 2) NOT NULL CHECK (patrol_hours BETWEEN 0 AND 168 * 100),
    visible_presence_hours  numeric(7, 2) NOT NULL CHECK (visible_presence_hours BETWEEN 0 AND 168 * 100),
    powers                  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(powers) = 'object'),
    partners                uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(partners) <= 50),
    recorded_by             text NOT NULL,
    recorded_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (designation_id, agency_id, week_starting),
    -- A response is of its designation's partnership.
    FOREIGN KEY (designation_id, partnership_id) REFERENCES hotspot_designations (id, partnership_id)
);

GRANT SELECT, INSERT ON hotspot_designations TO csphub_service;
GRANT SELECT, INSERT, UPDATE ON hotspot_responses TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS hotspot_responses;
DROP TABLE IF EXISTS hotspot_designations;
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
