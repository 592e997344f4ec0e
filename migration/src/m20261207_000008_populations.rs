//! Populations and deprivation by LSOA (issue 30): the ONS's population estimates (Census 2021
//! and mid-year estimates) and the English Indices of Deprivation, public reference data shared
//! by every partnership, loaded by `csphub import geography` from the published files. The
//! service only reads them. And each boundary's digest, by which maps keep simplified copies.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE geo_populations (
    lsoa          text NOT NULL CHECK (lsoa ~ '^[EW]01[0-9]{6}$'),
    lsoa_vintage  smallint NOT NULL CHECK (lsoa_vintage IN (2011, 2021)),
    year          smallint NOT NULL CHECK (year BETWEEN 2001 AND 2100),
    population    integer NOT NULL CHECK (population >= 0),
    source        text NOT NULL,
    PRIMARY KEY (lsoa_vintage, lsoa, year)
);

CREATE TABLE geo_deprivation (
    lsoa          text NOT NULL CHECK (lsoa ~ '^[EW]01[0-9]{6}$'),
    lsoa_vintage  smallint NOT NULL CHECK (lsoa_vintage IN (2011, 2021)),
    edition       smallint NOT NULL CHECK (edition BETWEEN 2000 AND 2100),
    imd_rank      integer NOT NULL CHECK (imd_rank >= 1),
    imd_decile    smallint NOT NULL CHECK (imd_decile BETWEEN 1 AND 10),
    source        text NOT NULL,
    PRIMARY KEY (lsoa_vintage, lsoa, edition)
);

GRANT SELECT ON geo_populations, geo_deprivation TO csphub_service;

-- A map keeps simplified boundaries by their content: the digest is kept with the boundary.
ALTER TABLE geo_areas ADD COLUMN boundary_digest text
    GENERATED ALWAYS AS (md5(boundary::text)) STORED;
"#;

const DOWN: &str = r#"
ALTER TABLE geo_areas DROP COLUMN IF EXISTS boundary_digest;
DROP TABLE IF EXISTS geo_deprivation;
DROP TABLE IF EXISTS geo_populations;
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
