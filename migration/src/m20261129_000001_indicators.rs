//! Indicators (named measures over incidents, or external figures a coordinator records), their
//! links to plan priorities, and mid-year population estimates for rates per 1,000 residents.
//!
//! Built-in indicators have no partnership (every partnership has them) and are written at
//! start-up from the code, like the vocabularies; a partnership's own have its id.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE populations (
    partnership_id   uuid NOT NULL REFERENCES partnerships (id),
    year             integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    population       integer NOT NULL CHECK (population > 0),
    source           text NOT NULL CHECK (btrim(source) <> '' AND length(source) <= 500),
    recorded_by_sub  text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partnership_id, year)
);

CREATE TABLE indicators (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL: built in, the same for every partnership.
    partnership_id   uuid REFERENCES partnerships (id),
    code             text NOT NULL CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(code) <= 64),
    name             text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    kind             text NOT NULL CHECK (kind IN ('INCIDENTS', 'EXTERNAL')),
    -- What an INCIDENTS indicator counts: ACTIVE incidents matching every condition given.
    -- An empty list or a NULL flag is no condition.
    categories       text[] NOT NULL DEFAULT '{}',
    domestic_abuse   boolean,
    alcohol_related  boolean,
    youth_related    boolean,
    -- true: at least one hate strand; or any of the strands listed.
    hate_crime       boolean,
    hate_strands     text[] NOT NULL DEFAULT '{}',
    drug_classes     text[] NOT NULL DEFAULT '{}',
    fire_types       text[] NOT NULL DEFAULT '{}',
    created_by_sub   text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'INCIDENTS' OR (categories = '{}' AND domestic_abuse IS NULL AND alcohol_related IS NULL
        AND youth_related IS NULL AND hate_crime IS NULL AND hate_strands = '{}' AND drug_classes = '{}'
        AND fire_types = '{}'))
);
CREATE UNIQUE INDEX indicators_code ON indicators (coalesce(partnership_id, '00000000-0000-0000-0000-000000000000'::uuid), code);
CREATE INDEX indicators_partnership ON indicators (partnership_id);

CREATE TABLE priority_indicators (
    priority_id   uuid NOT NULL REFERENCES priorities (id) ON DELETE CASCADE,
    indicator_id  uuid NOT NULL REFERENCES indicators (id),
    linked_by_sub text NOT NULL,
    linked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (priority_id, indicator_id)
);
CREATE INDEX priority_indicators_indicator ON priority_indicators (indicator_id);

-- An EXTERNAL indicator's figure for a partnership and a period (both days included).
CREATE TABLE indicator_values (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    indicator_id     uuid NOT NULL REFERENCES indicators (id),
    partnership_id   uuid NOT NULL REFERENCES partnerships (id),
    period_from      date NOT NULL,
    period_to        date NOT NULL,
    value            bigint NOT NULL CHECK (value >= 0),
    source           text NOT NULL CHECK (btrim(source) <> '' AND length(source) <= 500),
    recorded_by_sub  text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (period_to >= period_from),
    UNIQUE (indicator_id, partnership_id, period_from, period_to)
);

GRANT SELECT, INSERT, UPDATE ON populations, indicator_values TO csphub_service;
GRANT SELECT, INSERT ON indicators TO csphub_service;
GRANT SELECT, INSERT, DELETE ON priority_indicators TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS indicator_values;
DROP TABLE IF EXISTS priority_indicators;
DROP TABLE IF EXISTS indicators;
DROP TABLE IF EXISTS populations;
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
