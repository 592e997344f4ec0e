//! Resident survey results, and grants (the PCC's community safety grant and others): awards,
//! the actions they fund, and spend against them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE survey_results (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id   uuid NOT NULL REFERENCES partnerships (id),
    survey           text NOT NULL CHECK (btrim(survey) <> '' AND length(survey) <= 200),
    year             integer NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    question         text NOT NULL CHECK (btrim(question) <> '' AND length(question) <= 500),
    percentage       numeric(4, 1) NOT NULL CHECK (percentage BETWEEN 0 AND 100),
    sample_size      integer CHECK (sample_size > 0),
    recorded_by_sub  text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partnership_id, survey, year, question)
);

CREATE TABLE grants (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id      uuid NOT NULL REFERENCES partnerships (id),
    funder_agency_id    uuid NOT NULL REFERENCES agencies (id),
    amount_pence        bigint NOT NULL CHECK (amount_pence > 0 AND amount_pence < 10000000000000),
    purpose             text NOT NULL CHECK (btrim(purpose) <> '' AND length(purpose) <= 2000),
    awarded_on          date NOT NULL,
    recorded_by_sub     text NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, partnership_id)
);
CREATE INDEX grants_partnership ON grants (partnership_id, awarded_on);

CREATE TABLE grant_actions (
    grant_id        uuid NOT NULL REFERENCES grants (id),
    action_id       uuid NOT NULL REFERENCES actions (id),
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    PRIMARY KEY (grant_id, action_id)
);

CREATE TABLE grant_spend (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    grant_id         uuid NOT NULL,
    partnership_id   uuid NOT NULL,
    amount_pence     bigint NOT NULL CHECK (amount_pence > 0 AND amount_pence < 10000000000000),
    spent_on         date NOT NULL,
    description      text NOT NULL CHECK (btrim(description) <> '' AND length(description) <= 2000),
    recorded_by_sub  text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (grant_id, partnership_id) REFERENCES grants (id, partnership_id)
);
CREATE INDEX grant_spend_grant ON grant_spend (grant_id, spent_on);

GRANT SELECT, INSERT, UPDATE ON survey_results TO csphub_service;
GRANT SELECT, INSERT ON grants, grant_actions, grant_spend TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS grant_spend;
DROP TABLE IF EXISTS grant_actions;
DROP TABLE IF EXISTS grants;
DROP TABLE IF EXISTS survey_results;
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
