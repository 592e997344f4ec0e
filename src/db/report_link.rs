//! The key report links are signed with (`auth::link`), shared by every instance.

use crate::pg_row;
use sea_orm::ConnectionTrait;

use super::fetch_optional;
use crate::error::{AppError, AppResult};

pg_row! {
    struct Key {
        secret: Vec<u8>,
    }
}

/// The report links' signing key. It is read afresh each time (one small statement per link
/// made or opened), so replacing it revokes every link at once on every instance.
pub async fn key<C: ConnectionTrait>(conn: &C) -> AppResult<Vec<u8>> {
    let key: Option<Key> =
        fetch_optional(conn, "SELECT secret FROM report_link_keys", Vec::new()).await?;
    key.map(|k| k.secret).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "report_link_keys holds no key: run csphub migrate"
        ))
    })
}
