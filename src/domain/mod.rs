//! Business rules with no web or GraphQL types in them.

pub mod period;
pub mod plan;
