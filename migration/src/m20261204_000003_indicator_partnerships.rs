//! Every indicator belongs to a partnership (issue 10): `indicators.partnership_id` is NOT NULL.
//!
//! The built-in indicators were rows with no partnership, shared by all. Their definitions are
//! now reference data, `indicator_definitions` (the same for everyone), and each partnership
//! has its own copy of each (`indicators.builtin`), made by a trigger when the partnership is
//! added and kept up to date by the start-up's sync. Links to priorities and recorded values
//! move to the partnership's copy. A built-in whose code a partnership's own indicator already
//! has is not copied into that partnership (its own one keeps the code).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE indicator_definitions (
    code             text PRIMARY KEY CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(code) <= 64),
    name             text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    kind             text NOT NULL CHECK (kind IN ('INCIDENTS', 'EXTERNAL')),
    categories       text[] NOT NULL DEFAULT '{}',
    domestic_abuse   boolean,
    alcohol_related  boolean,
    youth_related    boolean,
    hate_crime       boolean,
    hate_strands     text[] NOT NULL DEFAULT '{}',
    drug_classes     text[] NOT NULL DEFAULT '{}',
    fire_types       text[] NOT NULL DEFAULT '{}'
);
INSERT INTO indicator_definitions (code, name, description, kind, categories, domestic_abuse,
        alcohol_related, youth_related, hate_crime, hate_strands, drug_classes, fire_types)
    SELECT code, name, description, kind, categories, domestic_abuse, alcohol_related,
           youth_related, hate_crime, hate_strands, drug_classes, fire_types
    FROM indicators WHERE partnership_id IS NULL;

ALTER TABLE indicators ADD COLUMN builtin boolean NOT NULL DEFAULT false;
INSERT INTO indicators (partnership_id, code, name, description, kind, categories, domestic_abuse,
        alcohol_related, youth_related, hate_crime, hate_strands, drug_classes, fire_types,
        created_by_sub, created_at, builtin)
    SELECT p.id, d.code, d.name, d.description, d.kind, d.categories, d.domestic_abuse,
           d.alcohol_related, d.youth_related, d.hate_crime, d.hate_strands, d.drug_classes,
           d.fire_types, d.created_by_sub, d.created_at, true
    FROM partnerships p CROSS JOIN indicators d
    WHERE d.partnership_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM indicators o WHERE o.partnership_id = p.id AND o.code = d.code);

UPDATE priority_indicators l SET indicator_id = c.id
    FROM indicators d, indicators c
    WHERE d.id = l.indicator_id AND d.partnership_id IS NULL
      AND c.partnership_id = l.partnership_id AND c.code = d.code AND c.builtin;
UPDATE indicator_values v SET indicator_id = c.id
    FROM indicators d, indicators c
    WHERE d.id = v.indicator_id AND d.partnership_id IS NULL
      AND c.partnership_id = v.partnership_id AND c.code = d.code AND c.builtin;
DO $check$
DECLARE
    left_over bigint;
BEGIN
    SELECT (SELECT count(*) FROM priority_indicators l JOIN indicators d ON d.id = l.indicator_id
              WHERE d.partnership_id IS NULL)
         + (SELECT count(*) FROM indicator_values v JOIN indicators d ON d.id = v.indicator_id
              WHERE d.partnership_id IS NULL)
      INTO left_over;
    IF left_over > 0 THEN
        RAISE EXCEPTION '% links or values of built-in indicators belong to a partnership whose own indicator has the same code: rename that indicator''s code, then migrate again', left_over;
    END IF;
END
$check$;
DELETE FROM indicators WHERE partnership_id IS NULL;

ALTER TABLE indicators ALTER COLUMN partnership_id SET NOT NULL;
DROP INDEX indicators_code;
DROP INDEX indicators_partnership;
CREATE UNIQUE INDEX indicators_code ON indicators (partnership_id, code);

-- A new partnership gets its copy of every built-in indicator.
CREATE FUNCTION csphub_builtin_indicators() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
    INSERT INTO indicators (partnership_id, code, name, description, kind, categories, domestic_abuse,
            alcohol_related, youth_related, hate_crime, hate_strands, drug_classes, fire_types,
            created_by_sub, builtin)
        SELECT NEW.id, d.code, d.name, d.description, d.kind, d.categories, d.domestic_abuse,
               d.alcohol_related, d.youth_related, d.hate_crime, d.hate_strands, d.drug_classes,
               d.fire_types, 'csphub', true
        FROM indicator_definitions d
        ON CONFLICT (partnership_id, code) DO NOTHING;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION csphub_builtin_indicators() FROM PUBLIC;
CREATE TRIGGER builtin_indicators AFTER INSERT ON partnerships
    FOR EACH ROW EXECUTE FUNCTION csphub_builtin_indicators();

GRANT SELECT, INSERT ON indicator_definitions TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TRIGGER builtin_indicators ON partnerships;
DROP FUNCTION csphub_builtin_indicators();
DROP INDEX indicators_code;
ALTER TABLE indicators ALTER COLUMN partnership_id DROP NOT NULL;
INSERT INTO indicators (partnership_id, code, name, description, kind, categories, domestic_abuse,
        alcohol_related, youth_related, hate_crime, hate_strands, drug_classes, fire_types,
        created_by_sub)
    SELECT NULL, code, name, description, kind, categories, domestic_abuse, alcohol_related,
           youth_related, hate_crime, hate_strands, drug_classes, fire_types, 'csphub'
    FROM indicator_definitions;
UPDATE priority_indicators l SET indicator_id = s.id
    FROM indicators c, indicators s
    WHERE c.id = l.indicator_id AND c.builtin AND s.partnership_id IS NULL AND s.code = c.code;
UPDATE indicator_values v SET indicator_id = s.id
    FROM indicators c, indicators s
    WHERE c.id = v.indicator_id AND c.builtin AND s.partnership_id IS NULL AND s.code = c.code;
DELETE FROM indicators WHERE builtin;
ALTER TABLE indicators DROP COLUMN builtin;
CREATE UNIQUE INDEX indicators_code ON indicators (coalesce(partnership_id, '00000000-0000-0000-0000-000000000000'::uuid), code);
CREATE INDEX indicators_partnership ON indicators (partnership_id);
DROP TABLE indicator_definitions;
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
