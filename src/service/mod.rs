//! Services: what both APIs (and the commands) call, above `db` and below the APIs: the push
//! (`push`) and the reports (`report`).

pub mod push;
pub mod report;
