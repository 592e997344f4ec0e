//! Business rules with no web or GraphQL types in them.

pub mod case;
pub mod disclosure;
pub mod geography;
pub mod hotspot;
pub mod incident;
pub mod incident_file;
pub mod indicator;
pub mod map;
pub mod period;
pub mod plan;
pub mod report;
pub mod stats;
pub mod tableset;
pub mod text;
pub mod vocabulary;
