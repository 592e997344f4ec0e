//! Services: what both APIs (and the commands) call, above `db` and below the APIs: the push
//! (`push`), the reports (`report`) and statistics by official area (`geography`).

pub mod geography;
pub mod hotspot;
pub mod hotspot_response;
pub mod map;
pub mod protected_area;
pub mod push;
pub mod report;
