//! Places as data.police.uk gives them (issue 11): a record without a location has no area
//! (counted under "no area", never guessed into one), areas list the LSOAs (census lower layer
//! super output areas) they are made of, and a record may name its LSOA instead of its area.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE incidents ALTER COLUMN area_id DROP NOT NULL;
ALTER TABLE incidents ADD COLUMN lsoa text CHECK (lsoa ~ '^[EW]01[0-9]{6}$');

-- "no-area" is what statistics call records without one: no area may take the code.
ALTER TABLE areas ADD CONSTRAINT areas_code_not_no_area CHECK (code <> 'no-area') NOT VALID;
ALTER TABLE areas ADD CONSTRAINT areas_id_partnership_key UNIQUE (id, partnership_id);

-- An LSOA belongs to at most one area of a partnership.
CREATE TABLE area_lsoas (
    partnership_id  uuid NOT NULL,
    lsoa            text NOT NULL CHECK (lsoa ~ '^[EW]01[0-9]{6}$'),
    area_id         uuid NOT NULL,
    PRIMARY KEY (partnership_id, lsoa),
    FOREIGN KEY (area_id, partnership_id) REFERENCES areas (id, partnership_id) ON DELETE CASCADE
);
CREATE INDEX area_lsoas_area ON area_lsoas (area_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON area_lsoas TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS area_lsoas;
ALTER TABLE areas DROP CONSTRAINT IF EXISTS areas_id_partnership_key;
ALTER TABLE areas DROP CONSTRAINT IF EXISTS areas_code_not_no_area;
ALTER TABLE incidents DROP COLUMN IF EXISTS lsoa;
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
