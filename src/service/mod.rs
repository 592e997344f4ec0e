//! Services: what both APIs (and the commands) call, above `db` and below the APIs. Today the
//! push (`push`); the report builders are still in `graphql` (docs/ARCHITECTURE.md, "Not yet").

pub mod push;
