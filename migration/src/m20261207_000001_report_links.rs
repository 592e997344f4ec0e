//! Reports from a link (issue 29): `createReportLink` hands out a signed, short-lived link to one
//! printable report that a browser opens without a header. The key that signs the links lives
//! here, in the database every instance shares, so a link made by one instance opens on any.
//! The service role reads it and cannot change it; replacing the row (as the owner) revokes
//! every link given out with the old key at once:
//!
//! ```sql
//! UPDATE report_link_keys SET secret = decode(replace(gen_random_uuid()::text
//!     || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), made_at = now();
//! ```

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE report_link_keys (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- 48 bytes, 366 of their bits from PostgreSQL's strong random source (three version-4 UUIDs).
    secret   bytea NOT NULL CHECK (octet_length(secret) >= 32),
    made_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO report_link_keys (secret) VALUES (decode(replace(gen_random_uuid()::text
    || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
GRANT SELECT ON report_link_keys TO csphub_service;
"#;

const DOWN: &str = r#"
DROP TABLE report_link_keys;
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
