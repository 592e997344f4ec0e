//! Who is asking: the bearer token verified (`verify_token`), the caller it names resolved in
//! the request's transaction (`resolve_caller`) with the callers resolved in the last few
//! seconds (`CallerCache`), and the extractors every HTTP entry takes the token with
//! (`Bearer`, `PushBearer`, `GraphqlBearer`), so that a handler that forgets cannot compile.
//!
//! It reads HTTP headers and the database, so it sits at the HTTP edge, above `db`; `auth`
//! (the token's checks, the principal, the policy) sits at the base, below everything.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;

use crate::auth::{Capability, Principal, Role, ScopedPartnership};
use crate::db;
use crate::db::partnership::{AgencyRow, PartnershipRow};
use crate::error::AppError;
use crate::http::limits::Budget;
use crate::http::state::AppState;

/// The verified token of a REST request (`verify_token` with the requests budget). A failure
/// is answered in REST's shape.
pub struct Bearer(pub VerifiedToken);

/// The verified token of a push (`verify_token` with the pushes budget), REST's shape.
pub struct PushBearer(pub VerifiedToken);

/// The verified token of a GraphQL request (the requests budget); a failure is answered in
/// GraphQL's shape.
pub struct GraphqlBearer(pub VerifiedToken);

impl FromRequestParts<Arc<AppState>> for Bearer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        verify_token(state, &parts.headers, Budget::Requests)
            .await
            .map(Bearer)
    }
}

impl FromRequestParts<Arc<AppState>> for PushBearer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        verify_token(state, &parts.headers, Budget::Pushes)
            .await
            .map(PushBearer)
    }
}

impl FromRequestParts<Arc<AppState>> for GraphqlBearer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        verify_token(state, &parts.headers, Budget::Requests)
            .await
            .map(GraphqlBearer)
            .map_err(AppError::into_graphql_response)
    }
}

/// A token whose signature and claims have been checked, with its role and capabilities
/// parsed; the agency and partnerships it names are resolved in the request's transaction.
pub struct VerifiedToken {
    pub claims: crate::auth::token::Claims,
    pub role: Role,
    pub caps: Vec<Capability>,
}

impl VerifiedToken {
    /// Who is asking, for per-caller limits: the issuer and the subject.
    pub fn caller(&self) -> String {
        format!("{}\n{}", self.claims.iss, self.claims.sub)
    }

    /// The caller as far as the token alone tells: for the checks that depend on the role and
    /// capabilities only, made before the request takes a connection. It has no agency id and no
    /// partnerships; the real one comes from `resolve_caller`.
    pub fn provisional_principal(&self) -> Principal {
        Principal {
            sub: self.claims.sub.clone(),
            role: self.role,
            agency_id: uuid::Uuid::nil(),
            agency: self.claims.agency.clone(),
            partnerships: Vec::new(),
            caps: self.caps.clone(),
        }
    }
}

/// Verifies the bearer token: signature, issuer, audience, times and the claims csphub needs,
/// then takes one from the caller's rate-limit `budget`. No database work: a bad token costs
/// nothing but the check.
pub async fn verify_token(
    state: &AppState,
    headers: &HeaderMap,
    budget: Budget,
) -> Result<VerifiedToken, AppError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::Unauthenticated(
            "a bearer token is required: send Authorization: Bearer <JWT>".to_owned(),
        )
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthenticated("the Authorization header must be 'Bearer <JWT>'".to_owned())
        })?;
    let claims = state.verifier.verify_fetching(token).await?;
    let role = Role::parse(&claims.role).ok_or_else(|| {
        AppError::Unauthenticated(
            "the token's role is not one of police, fire, council, pcc".to_owned(),
        )
    })?;
    let caps = claims
        .caps
        .iter()
        .map(|c| {
            Capability::parse(c).ok_or_else(|| {
                AppError::Unauthenticated(
                    "the token names an unknown capability (caps: coordinator, caseworker, auditor)"
                        .to_owned(),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if claims.sub.trim().is_empty() {
        return Err(AppError::Unauthenticated(
            "the token's subject (sub) is empty".to_owned(),
        ));
    }
    if claims.partnerships.is_empty() {
        return Err(AppError::Unauthenticated(
            "the token names no partnership".to_owned(),
        ));
    }
    let span = tracing::Span::current();
    span.record("sub", claims.sub.as_str());
    span.record("agency", claims.agency.as_str());
    state.limits.take_caller(&claims.iss, &claims.sub, budget)?;
    Ok(VerifiedToken { claims, role, caps })
}

/// Resolves the token's agency and the partnerships it belongs to, as the first statement of
/// the request's transaction (which also sets the caller's transaction-local settings and, for
/// heavy work, its statement budget: `db::request::open_as`). `case_data` is a request that
/// reads or writes case records: it needs those settings for row-level security. Any other
/// request without a budget takes a caller resolved in the last few seconds from `callers`
/// and runs no statement for it.
pub async fn resolve_caller(
    txn: &db::request::RequestDb,
    token: &VerifiedToken,
    heavy_budget: Option<Duration>,
    case_data: bool,
    callers: &CallerCache,
) -> Result<Principal, AppError> {
    let claims = &token.claims;
    let needs_settings = heavy_budget.is_some() || case_data;
    let cached = if needs_settings {
        None
    } else {
        callers.get(&claims.agency, &claims.partnerships)
    };
    let (agency, partnerships) = match cached {
        Some(found) => found,
        None => {
            let caller = db::request::Caller {
                sub: &claims.sub,
                role: token.role.as_str(),
                agency: &claims.agency,
                partnerships: &claims.partnerships,
                heavy_budget,
                generic_plans: case_data,
            };
            let found = db::request::open_as(txn, &caller).await?.ok_or_else(|| {
                AppError::Unauthenticated("the token's agency is not registered".to_owned())
            })?;
            callers.put(&claims.agency, &claims.partnerships, &found);
            found
        }
    };
    if agency.kind != token.role.agency_kind() {
        return Err(AppError::Unauthenticated(format!(
            "the token's agency is a {} agency, which does not match the role {}",
            agency.kind,
            token.role.as_str()
        )));
    }
    let partnerships = partnerships
        .into_iter()
        .map(|p| ScopedPartnership {
            id: p.id,
            slug: p.slug,
        })
        .collect();
    Ok(Principal {
        sub: claims.sub.clone(),
        role: token.role,
        agency_id: agency.id,
        agency: agency.slug,
        partnerships,
        caps: token.caps.clone(),
    })
}

/// The callers this instance resolved in the last `ttl`, by agency and the token's
/// partnerships, so that a request that reads no case data and has no statement budget runs no
/// statement to find its caller ([`CallerCache::get`]). Such a request's transaction has none of
/// the settings above, and row-level security shows it no case rows: a request that reads
/// case data always runs [`db::request::open_as`].
///
/// Per instance, like the document cache. Only complete answers are kept (the agency exists and
/// belongs to every partnership the token names), so a new agency or membership is seen at once;
/// a removed membership or agency is seen within `ttl` (5 s by default,
/// `CSPHUB_CALLER_CACHE_MS`, 0 turns it off), as a token already issued stays valid until it
/// expires.
pub struct CallerCache {
    ttl: Duration,
    entries: std::sync::Mutex<lru::LruCache<CallerKey, (std::time::Instant, Resolved)>>,
}

type CallerKey = (String, Vec<String>);
type Resolved = (AgencyRow, Vec<PartnershipRow>);

impl CallerCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(4096).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        }
    }

    /// A caller resolved less than `ttl` ago.
    pub fn get(&self, agency: &str, partnerships: &[String]) -> Option<Resolved> {
        if self.ttl.is_zero() {
            return None;
        }
        let key = (agency.to_owned(), partnerships.to_vec());
        let mut entries = self.entries.lock().ok()?;
        match entries.get(&key) {
            Some((at, found)) if at.elapsed() < self.ttl => Some(found.clone()),
            Some(_) => {
                entries.pop(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps what [`db::request::open_as`] found, when it found every partnership the token names.
    pub fn put(&self, agency: &str, partnerships: &[String], found: &Resolved) {
        let mut named: Vec<&String> = partnerships.iter().collect();
        named.sort();
        named.dedup();
        if self.ttl.is_zero() || found.1.len() != named.len() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(
                (agency.to_owned(), partnerships.to_vec()),
                (std::time::Instant::now(), found.clone()),
            );
        }
    }
}
