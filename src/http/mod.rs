//! The HTTP edge: who is asking (`caller`: the bearer token verified, the caller resolved and
//! cached, and the extractors every HTTP entry takes the token with), the service's state
//! (`state`), one request's database work (`scope`), the GraphQL endpoint (`graphql`), the
//! guards around every request (`layers`), rate limits (`limits`) and the admin address
//! (`admin`). REST's handlers (`crate::rest`) use it; it hosts the schema (`crate::graphql`).
//! Nothing here imports the server assembly (`crate::app`).

pub mod admin;
pub mod caller;
pub mod graphql;
pub mod layers;
pub mod limits;
pub mod scope;
pub mod state;
