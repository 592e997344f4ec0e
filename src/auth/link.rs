//! Report links: a short-lived, signed link to one printable report, which a browser opens
//! without an `Authorization` header (`createReportLink`, `GET /reports/link/{link}`).
//!
//! A link is a JWT signed with HS256 under the key the database holds (`report_link_keys`, one
//! for every instance). It names one page and its query, so it opens that report and no other;
//! and it carries the caller it was made for (subject, role, agency) scoped to the
//! report's partnership alone, without capabilities: opened, the report is produced as that
//! caller would see it then, with the agency and the partnership resolved again (a caller no
//! longer registered there is refused).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;
use super::token::Claims;
use crate::error::AppError;

/// The audience of a report link: no token of an issuer's carries it, and a link is no token.
pub const AUDIENCE: &str = "csphub-report-link";

/// The longest a link lives, and the default.
pub const MAX_MINUTES: i64 = 15;
pub const DEFAULT_MINUTES: i64 = 5;

/// The printable pages a link may open.
pub const PAGES: [&str; 4] = [
    "/reports/rag-update",
    "/reports/pcc-report",
    "/reports/strategic-assessment",
    "/reports/submissions",
];

/// What a link holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LinkClaims {
    pub aud: String,
    /// When it was made and when it stops opening (seconds since 1970).
    pub iat: i64,
    pub exp: i64,
    /// The link's own id, named in the audit entries of its making and its every opening.
    pub jti: Uuid,
    /// The caller it was made for.
    pub sub: String,
    pub role: String,
    pub agency: String,
    /// The report's partnership: its slug (the link's only scope) and id (its audit entries).
    pub partnership: String,
    pub partnership_id: Uuid,
    /// The page (one of [`PAGES`]) and its query (`application/x-www-form-urlencoded`); for
    /// a submission, the page is followed by `/` and its id.
    pub page: String,
    pub query: String,
}

impl LinkClaims {
    /// The token a link stands for: its caller, scoped to the report's partnership, with no
    /// capability and the link's expiry. Its issuer is the link's audience, so that a link's
    /// openings take from a rate limit of their own (per subject), not the caller's API budget.
    pub fn token_claims(&self) -> Claims {
        Claims {
            iss: AUDIENCE.to_owned(),
            sub: self.sub.clone(),
            exp: u64::try_from(self.exp).unwrap_or(0),
            nbf: None,
            role: self.role.clone(),
            agency: self.agency.clone(),
            partnerships: vec![self.partnership.clone()],
            caps: Vec::new(),
        }
    }

    pub fn role(&self) -> Result<Role, AppError> {
        Role::parse(&self.role).ok_or_else(invalid)
    }
}

fn invalid() -> AppError {
    AppError::Unauthenticated(
        "the report link is not valid: ask for a new one (createReportLink)".to_owned(),
    )
}

/// The link's text: a JWT signed under `key`.
pub fn sign(claims: &LinkClaims, key: &[u8]) -> Result<String, AppError> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .map_err(AppError::internal)
}

/// The claims of a link signed under `key` that has not expired (no leeway: a link of five
/// minutes opens for five minutes) and names one of the pages.
pub fn verify(link: &str, key: &[u8]) -> Result<LinkClaims, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    let data =
        jsonwebtoken::decode::<LinkClaims>(link, &DecodingKey::from_secret(key), &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AppError::Unauthenticated(
                    "the report link has expired: ask for a new one (createReportLink)".to_owned(),
                ),
                _ => invalid(),
            })?;
    let claims = data.claims;
    let known = PAGES.iter().any(|p| {
        claims.page == *p
            || (*p == "/reports/submissions"
                && claims
                    .page
                    .strip_prefix("/reports/submissions/")
                    .is_some_and(|id| Uuid::parse_str(id).is_ok()))
    });
    if !known {
        return Err(invalid());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> LinkClaims {
        LinkClaims {
            aud: AUDIENCE.to_owned(),
            iat: 0,
            exp,
            jti: Uuid::from_u128(7),
            sub: "s".into(),
            role: "pcc".into(),
            agency: "herts-pcc".into(),
            partnership: "stevenage".into(),
            partnership_id: Uuid::from_u128(9),
            page: "/reports/pcc-report".into(),
            query: "financialYear=2014%2F15&half=SECOND".into(),
        }
    }

    #[test]
    fn a_link_opens_under_its_key_until_it_expires_and_names_only_known_pages() {
        let key = [7u8; 48];
        let later = chrono::Utc::now().timestamp() + 300;
        let link = sign(&claims(later), &key).expect("sign");
        assert_eq!(verify(&link, &key).expect("verify"), claims(later));
        // Another key, a changed link, an expired one: refused, each with its reason.
        assert!(verify(&link, &[8u8; 48]).is_err());
        // Another report's claims under this link's signature.
        let mut other = claims(later);
        other.query = "financialYear=2013%2F14&half=SECOND".into();
        let other = sign(&other, &key).expect("sign");
        let mut parts: Vec<&str> = link.split('.').collect();
        parts[1] = other.split('.').nth(1).expect("payload");
        assert!(verify(&parts.join("."), &key).is_err());
        let old = sign(&claims(chrono::Utc::now().timestamp() - 1), &key).expect("sign");
        match verify(&old, &key) {
            Err(AppError::Unauthenticated(m)) => assert!(m.contains("expired"), "{m}"),
            other => panic!("{other:?}"),
        }
        let mut elsewhere = claims(later);
        elsewhere.page = "/api/v1/incidents.csv".into();
        assert!(verify(&sign(&elsewhere, &key).expect("sign"), &key).is_err());
        elsewhere.page = "/reports/submissions/../incidents".into();
        assert!(verify(&sign(&elsewhere, &key).expect("sign"), &key).is_err());
        // A token of an issuer's (another audience) is no link.
        let mut token = claims(later);
        token.aud = "csphub".into();
        assert!(verify(&sign(&token, &key).expect("sign"), &key).is_err());
    }
}
