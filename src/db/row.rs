//! Reading rows: the `pg_row!` row types decode each column straight from sqlx, by position.
//!
//! sea-orm's derived `FromQueryResult` finds every column by name (a SipHash of the name per
//! column) and, for every NULL in an `Option` field, formats an error message before it turns
//! it into `None`: about 10,000 instructions for one plan row, more than the rest of reading it
//! (`bench/instructions`). A `pg_row!` type reads column `i` for its `i`-th field when that
//! column has the field's name, which is the case when the SELECT list follows the struct's
//! order; otherwise it finds the column by name, so a SELECT list in another order still reads
//! correctly, only slower. A column that is missing or of another type is an error (sea-orm's
//! derive quietly reads a missing column into an `Option` field as `None`).

use sea_orm::sqlx::{self, Column, Postgres, Row, postgres::PgRow};
use sea_orm::{DbErr, QueryResult};

/// Declares a row struct (fields named as the columns of its SELECT list) and its
/// `sea_orm::FromQueryResult`, which reads column `i` for field `i` where the names agree (see
/// the module's documentation). Use it as a derive of `FromQueryResult` would be used.
#[macro_export]
macro_rules! pg_row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $fty ),*
        }

        impl sea_orm::FromQueryResult for $name {
            #[allow(unused_assignments)]
            fn from_query_result(
                res: &sea_orm::QueryResult,
                pre: &str,
            ) -> Result<Self, sea_orm::DbErr> {
                let row = $crate::db::row::postgres(res)?;
                let mut at = 0usize;
                Ok(Self {
                    $( $field: {
                        let value = $crate::db::row::column(row, at, pre, stringify!($field))?;
                        at += 1;
                        value
                    }, )*
                })
            }
        }
    };
}

/// The sqlx row under a sea-orm result (csphub only ever runs on PostgreSQL).
pub fn postgres(res: &QueryResult) -> Result<&PgRow, DbErr> {
    res.try_as_pg_row()
        .ok_or_else(|| DbErr::Type("a row that did not come from PostgreSQL".to_owned()))
}

/// Column `name` (after the prefix `pre`, if any), looked for first at position `at`.
pub fn column<'r, T>(row: &'r PgRow, at: usize, pre: &str, name: &str) -> Result<T, DbErr>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    // A field named with a raw identifier (`r#ref`) reads the column `ref`.
    let name = name.strip_prefix("r#").unwrap_or(name);
    let read = if !pre.is_empty() {
        row.try_get::<T, _>(format!("{pre}{name}").as_str())
    } else if row.columns().get(at).is_some_and(|c| c.name() == name) {
        row.try_get::<T, _>(at)
    } else {
        row.try_get::<T, _>(name)
    };
    read.map_err(|e| DbErr::Type(format!("column {pre}{name}: {e}")))
}
