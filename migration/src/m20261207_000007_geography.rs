//! Official geography (issue 30): the ONS's LSOAs, MSOAs, wards and districts of each vintage,
//! the 2011-to-2021 LSOA lookup, and which LSOAs make up which wards. Public reference data,
//! shared by every partnership; `csphub import geography` loads it from the ONS files on disk.
//! The service only reads it: no API writes it, so the service role gets SELECT alone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE geo_areas (
    kind        text NOT NULL CHECK (kind IN ('lsoa', 'msoa', 'ward', 'district')),
    vintage     smallint NOT NULL CHECK (vintage BETWEEN 2001 AND 2100),
    code        text NOT NULL CHECK (code ~ '^[EWSN][0-9]{8}$'),
    name        text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    district    text CHECK (district ~ '^[EWSN][0-9]{8}$'),
    boundary    jsonb CHECK (boundary IS NULL OR boundary->>'type' IN ('Polygon', 'MultiPolygon')),
    source      text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, vintage, code)
);
CREATE INDEX geo_areas_district ON geo_areas (district, kind, vintage, code);
CREATE INDEX geo_areas_code ON geo_areas (code);

CREATE TABLE geo_lsoa_changes (
    lsoa11      text NOT NULL CHECK (lsoa11 ~ '^[EW]01[0-9]{6}$'),
    lsoa21      text NOT NULL CHECK (lsoa21 ~ '^[EW]01[0-9]{6}$'),
    change      text NOT NULL CHECK (change IN ('U', 'S', 'M', 'X')),
    district    text CHECK (district ~ '^[EWSN][0-9]{8}$'),
    source      text NOT NULL,
    PRIMARY KEY (lsoa11, lsoa21)
);
CREATE INDEX geo_lsoa_changes_21 ON geo_lsoa_changes (lsoa21, lsoa11);

CREATE TABLE geo_memberships (
    lsoa            text NOT NULL CHECK (lsoa ~ '^[EW]01[0-9]{6}$'),
    lsoa_vintage    smallint NOT NULL,
    parent_kind     text NOT NULL CHECK (parent_kind IN ('msoa', 'ward', 'district')),
    parent_vintage  smallint NOT NULL,
    parent          text NOT NULL CHECK (parent ~ '^[EWSN][0-9]{8}$'),
    source          text NOT NULL,
    PRIMARY KEY (lsoa_vintage, lsoa, parent_kind, parent_vintage)
);
CREATE INDEX geo_memberships_parent ON geo_memberships (parent_kind, parent_vintage, parent);

GRANT SELECT ON geo_areas, geo_lsoa_changes, geo_memberships TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS geo_memberships;
DROP TABLE IF EXISTS geo_lsoa_changes;
DROP TABLE IF EXISTS geo_areas;
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
