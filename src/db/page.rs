//! Keyset pages: a place in a list ordered by two columns (a time and a tie-breaking id), read
//! forwards from its start or backwards from its end, with no OFFSET, so that every page costs
//! the same however deep it is, and with the index that matches the order.

use sea_orm::Value;

use super::bind;

/// Where a page is in a list ordered by a key of two columns: the rows strictly after `after`
/// and strictly before `before` (in the list's own order), `limit` of them (the query asks for
/// one more, to know whether there are others), counted from the start of that range, or from
/// its end when `backward` (Relay's `last`).
#[derive(Clone, Debug)]
pub struct Keyset<A, B> {
    pub after: Option<(A, B)>,
    pub before: Option<(A, B)>,
    pub backward: bool,
    pub limit: u64,
}

impl<A, B> Keyset<A, B>
where
    A: Into<Value> + Clone,
    B: Into<Value> + Clone,
{
    /// The first `limit` rows of a list read from its start.
    pub fn first(limit: u64) -> Self {
        Keyset {
            after: None,
            before: None,
            backward: false,
            limit,
        }
    }

    /// The conditions (each starting with ` AND`) and the `ORDER BY ... LIMIT ...` for a list
    /// ordered by `columns` (two, such as `i.occurred_at, i.id`), descending when `desc`. Rows
    /// come in the order read: the list's order, or its reverse when `backward`; the caller
    /// puts them back (`graphql::page::connection`).
    pub fn clauses(&self, values: &mut Vec<Value>, columns: [&str; 2], desc: bool) -> String {
        let [a, b] = columns;
        let (later, earlier) = if desc { ("<", ">") } else { (">", "<") };
        let mut sql = String::new();
        for (key, op) in [(&self.after, later), (&self.before, earlier)] {
            if let Some((x, y)) = key {
                let (x, y) = (bind(values, x.clone()), bind(values, y.clone()));
                sql.push_str(&format!(" AND ({a}, {b}) {op} ({x}, {y})"));
            }
        }
        let dir = if desc != self.backward { "DESC" } else { "ASC" };
        let limit = bind(
            values,
            i64::try_from(self.limit.saturating_add(1)).unwrap_or(i64::MAX),
        );
        sql.push_str(&format!(" ORDER BY {a} {dir}, {b} {dir} LIMIT {limit}"));
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_reads_the_other_way_and_bounds_by_the_order() {
        let mut v = Vec::new();
        let k: Keyset<i64, i64> = Keyset {
            after: Some((1, 2)),
            before: Some((5, 6)),
            backward: true,
            limit: 10,
        };
        assert_eq!(
            k.clauses(&mut v, ["t", "id"], true),
            " AND (t, id) < ($1, $2) AND (t, id) > ($3, $4) ORDER BY t ASC, id ASC LIMIT $5"
        );
        assert_eq!(v.len(), 5);
        let mut v = Vec::new();
        let k: Keyset<i64, i64> = Keyset::first(3);
        assert_eq!(
            k.clauses(&mut v, ["t", "id"], false),
            " ORDER BY t ASC, id ASC LIMIT $1"
        );
        assert_eq!(v, vec![Value::from(4i64)]);
    }
}
