//! Verifying bearer tokens against the configured trusted issuers, and issuing development
//! tokens for `csphub token` and demo mode.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The issuer development tokens carry. Trusted only in demo mode.
pub const DEV_ISSUER: &str = "csphub-dev";
/// Used when `CSPHUB_DEV_JWT_SECRET` is not set. Never trusted outside demo mode.
pub const BUILTIN_DEV_SECRET: &str = "csphub-development-secret-do-not-use-in-production";
/// The most clock leeway the service allows on `exp` and `nbf`.
pub const MAX_LEEWAY_SECS: u64 = 60;

/// A key an issuer signs with, optionally named by `kid`.
#[derive(Clone)]
pub struct IssuerKey {
    pub kid: Option<String>,
    pub key: DecodingKey,
}

/// An identity provider the service trusts, with its pinned algorithm and keys.
#[derive(Clone)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub algorithm: Algorithm,
    pub keys: Vec<IssuerKey>,
}

impl std::fmt::Debug for TrustedIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedIssuer")
            .field("issuer", &self.issuer)
            .field("algorithm", &self.algorithm)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// One entry of the issuers file (`CSPHUB_ISSUERS_FILE`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerEntry {
    issuer: String,
    algorithm: String,
    #[serde(default)]
    keys: Vec<PemKeyEntry>,
    jwks_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PemKeyEntry {
    kid: Option<String>,
    pem_file: String,
}

/// The asymmetric algorithms an external issuer may be pinned to.
fn parse_external_algorithm(name: &str) -> anyhow::Result<Algorithm> {
    match name {
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        "EdDSA" => Ok(Algorithm::EdDSA),
        other => anyhow::bail!(
            "algorithm {other} is not accepted for a trusted issuer: use RS256, ES256 or EdDSA \
             (shared-secret algorithms are for development tokens only)"
        ),
    }
}

impl TrustedIssuer {
    /// A trusted issuer whose keys are PEM public keys.
    pub fn from_pem(
        issuer: &str,
        algorithm: Algorithm,
        keys: &[(Option<&str>, &[u8])],
    ) -> anyhow::Result<Self> {
        let keys = keys
            .iter()
            .map(|(kid, pem)| {
                Ok(IssuerKey {
                    kid: kid.map(str::to_owned),
                    key: decoding_key_from_pem(algorithm, pem)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!keys.is_empty(), "issuer {issuer} has no keys");
        Ok(Self {
            issuer: issuer.to_owned(),
            algorithm,
            keys,
        })
    }

    /// Reads the issuers file: a JSON array of
    /// `{"issuer", "algorithm", "keys": [{"kid", "pem_file"}] | "jwks_file"}`.
    /// Relative paths are taken from the file's folder.
    pub fn load_file(path: &Path) -> anyhow::Result<Vec<TrustedIssuer>> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading issuers file {}", path.display()))?;
        let entries: Vec<IssuerEntry> = serde_json::from_str(&text)
            .with_context(|| format!("parsing issuers file {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut issuers = Vec::new();
        for entry in entries {
            let algorithm = parse_external_algorithm(&entry.algorithm)
                .with_context(|| format!("issuer {}", entry.issuer))?;
            let mut keys = Vec::new();
            for k in &entry.keys {
                let pem = std::fs::read(base.join(&k.pem_file))
                    .with_context(|| format!("reading key {} of {}", k.pem_file, entry.issuer))?;
                keys.push(IssuerKey {
                    kid: k.kid.clone(),
                    key: decoding_key_from_pem(algorithm, &pem)
                        .with_context(|| format!("key {} of {}", k.pem_file, entry.issuer))?,
                });
            }
            if let Some(jwks) = &entry.jwks_file {
                let text = std::fs::read_to_string(base.join(jwks))
                    .with_context(|| format!("reading JWKS {jwks} of {}", entry.issuer))?;
                let set: JwkSet = serde_json::from_str(&text)
                    .with_context(|| format!("parsing JWKS {jwks} of {}", entry.issuer))?;
                for jwk in &set.keys {
                    keys.push(IssuerKey {
                        kid: jwk.common.key_id.clone(),
                        key: DecodingKey::from_jwk(jwk)
                            .with_context(|| format!("a key in JWKS {jwks} of {}", entry.issuer))?,
                    });
                }
            }
            anyhow::ensure!(!keys.is_empty(), "issuer {} has no keys", entry.issuer);
            issuers.push(TrustedIssuer {
                issuer: entry.issuer,
                algorithm,
                keys,
            });
        }
        Ok(issuers)
    }
}

fn decoding_key_from_pem(algorithm: Algorithm, pem: &[u8]) -> anyhow::Result<DecodingKey> {
    Ok(match algorithm {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => DecodingKey::from_rsa_pem(pem)?,
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem)?,
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem)?,
        other => anyhow::bail!("algorithm {other:?} takes no PEM public key"),
    })
}

/// The claims csphub reads. `aud` may be a string or an array.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub exp: u64,
    #[serde(default)]
    pub nbf: Option<u64>,
    pub role: String,
    pub agency: String,
    pub partnerships: Vec<String>,
    #[serde(default)]
    pub caps: Vec<String>,
}

/// Checks signatures and standard claims against the trusted issuers.
pub struct Verifier {
    issuers: HashMap<String, TrustedIssuer>,
    audience: String,
    leeway: u64,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct RawIssuer {
    iss: Option<serde_json::Value>,
}

fn unauthenticated(msg: &str) -> AppError {
    AppError::Unauthenticated(msg.to_owned())
}

impl Verifier {
    pub fn new(issuers: Vec<TrustedIssuer>, audience: &str, leeway: u64) -> Self {
        Self {
            issuers: issuers.into_iter().map(|i| (i.issuer.clone(), i)).collect(),
            audience: audience.to_owned(),
            leeway: leeway.min(MAX_LEEWAY_SECS),
        }
    }

    /// Verifies a token. Every failure is UNAUTHENTICATED with a message that says which check
    /// failed and never echoes the token.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(unauthenticated(
                "malformed token: expected three dot-separated parts",
            ));
        }
        let header: RawHeader = decode_part(parts[0])
            .ok_or_else(|| unauthenticated("malformed token: the header is not base64url JSON"))?;
        let alg = header
            .alg
            .ok_or_else(|| unauthenticated("malformed token: the header names no algorithm"))?;
        if alg.eq_ignore_ascii_case("none") {
            return Err(unauthenticated(
                "unsigned tokens (alg: none) are not accepted",
            ));
        }
        let raw: RawIssuer = decode_part(parts[1])
            .ok_or_else(|| unauthenticated("malformed token: the payload is not base64url JSON"))?;
        let iss = match raw.iss {
            Some(serde_json::Value::String(s)) => s,
            _ => return Err(unauthenticated("the token has no issuer (iss)")),
        };
        let issuer = self
            .issuers
            .get(&iss)
            .ok_or_else(|| unauthenticated("the token's issuer is not trusted"))?;
        let pinned = format!("{:?}", issuer.algorithm);
        if alg != pinned {
            return Err(AppError::Unauthenticated(format!(
                "algorithm {} is not accepted for this issuer (pinned to {pinned})",
                truncate(&alg, 16)
            )));
        }
        let key = match header.kid.as_deref() {
            Some(kid) => issuer
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| {
                    unauthenticated("the token's key id (kid) is not known for its issuer")
                })?,
            None if issuer.keys.len() == 1 => &issuer.keys[0],
            None => {
                return Err(unauthenticated(
                    "the token names no key id (kid) and its issuer has several keys",
                ));
            }
        };
        let mut validation = Validation::new(issuer.algorithm);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&issuer.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &validation)
            .map_err(|e| AppError::Unauthenticated(describe_jwt_error(e.kind())))?;
        claims_from(data.claims)
    }
}

/// Reads csphub's claims from a verified payload, saying which claim is missing or malformed.
fn claims_from(payload: serde_json::Value) -> Result<Claims, AppError> {
    for (claim, kind) in [
        ("sub", "a string"),
        ("role", "a string"),
        ("agency", "a string"),
        ("partnerships", "an array of strings"),
    ] {
        match payload.get(claim) {
            None | Some(serde_json::Value::Null) => {
                return Err(AppError::Unauthenticated(format!(
                    "the token lacks the required claim {claim}"
                )));
            }
            Some(v) if v.is_string() != (kind == "a string") => {
                return Err(AppError::Unauthenticated(format!(
                    "the token's claim {claim} must be {kind}"
                )));
            }
            Some(_) => {}
        }
    }
    serde_json::from_value(payload).map_err(|_| {
        AppError::Unauthenticated(
            "the token's claims are malformed: role, agency and sub are strings, partnerships and \
             caps arrays of strings, exp and nbf numbers"
                .to_owned(),
        )
    })
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn decode_part<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn describe_jwt_error(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => "bad signature".to_owned(),
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidAudience => "the token is for another audience (aud)".to_owned(),
        ErrorKind::InvalidIssuer => "the token's issuer is not trusted".to_owned(),
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted".to_owned(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token lacks the required claim {c}"),
        ErrorKind::Json(_) | ErrorKind::InvalidClaimFormat(_) => {
            "the token's claims are malformed: role, agency (strings), partnerships and caps \
             (arrays of strings), exp and nbf (numbers) are expected"
                .to_owned()
        }
        _ => "the token could not be verified".to_owned(),
    }
}

/// The claims of a development token.
#[derive(Debug, Serialize)]
pub struct DevClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub role: String,
    pub agency: String,
    pub partnerships: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<String>,
}

/// What a development token says.
#[derive(Debug, Clone)]
pub struct DevTokenRequest {
    pub role: String,
    pub agency: String,
    pub partnerships: Vec<String>,
    pub caps: Vec<String>,
    pub ttl: std::time::Duration,
    pub sub: Option<String>,
}

/// Signs a development token (HS256) with the development secret.
pub fn issue_dev_token(
    secret: &SecretString,
    audience: &str,
    req: &DevTokenRequest,
) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = DevClaims {
        iss: DEV_ISSUER.to_owned(),
        aud: audience.to_owned(),
        sub: req
            .sub
            .clone()
            .unwrap_or_else(|| format!("dev:{}@{}", req.role, req.agency)),
        iat: now,
        exp: now + req.ttl.as_secs(),
        role: req.role.clone(),
        agency: req.agency.clone(),
        partnerships: req.partnerships.clone(),
        caps: req.caps.clone(),
    };
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes());
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &key,
    )?)
}

/// The trusted issuer for development tokens (demo mode only).
pub fn dev_issuer(secret: &SecretString) -> TrustedIssuer {
    TrustedIssuer {
        issuer: DEV_ISSUER.to_owned(),
        algorithm: Algorithm::HS256,
        keys: vec![IssuerKey {
            kid: None,
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        }],
    }
}
