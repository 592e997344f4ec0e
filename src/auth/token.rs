//! Verifying bearer tokens against the configured trusted issuers, and issuing development
//! tokens for `csphub token` and demo mode.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

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
    /// Keys from files (PEM or a JWKS file).
    pub keys: Vec<IssuerKey>,
    /// Where the issuer publishes its keys, if csphub fetches them (`jwks_url`).
    pub jwks: Option<JwksSource>,
    /// The keys last fetched from `jwks`.
    pub fetched: Vec<IssuerKey>,
}

/// An issuer's JWKS URL and how often its keys are fetched again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksSource {
    pub url: String,
    pub refresh: Duration,
}

/// How often an issuer's JWKS is fetched unless the issuers file says otherwise.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(300);
/// The shortest gap between two fetches an unknown `kid` may cause, per issuer: a flood of
/// tokens naming made-up keys costs the identity provider one request per gap at most.
pub const UNKNOWN_KID_FETCH_GAP: Duration = Duration::from_secs(30);

/// Tokens verified lately, kept so that a front-end's next request with the same token does not
/// pay for its signature again (an RSA or ECDSA check costs more than a small query). At most
/// this many, each at most `MAX_REMEMBERED_TOKEN` bytes long.
const REMEMBERED_TOKENS: usize = 1024;
const MAX_REMEMBERED_TOKEN: usize = 4096;
/// The most a JWKS fetch may take, and the largest key set read.
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);
const JWKS_MAX_BYTES: usize = 1024 * 1024;

impl TrustedIssuer {
    fn all_keys(&self) -> impl Iterator<Item = &IssuerKey> {
        self.keys.iter().chain(self.fetched.iter())
    }
}

impl std::fmt::Debug for TrustedIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedIssuer")
            .field("issuer", &self.issuer)
            .field("algorithm", &self.algorithm)
            .field("keys", &self.keys.len())
            .field("jwks", &self.jwks)
            .field("fetched", &self.fetched.len())
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
    /// The issuer's published key set, fetched at start, every `jwks_refresh_secs` and on an
    /// unknown `kid`.
    jwks_url: Option<String>,
    jwks_refresh_secs: Option<u64>,
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
            jwks: None,
            fetched: Vec::new(),
        })
    }

    /// A trusted issuer whose keys are fetched from its JWKS URL.
    pub fn from_jwks_url(
        issuer: &str,
        algorithm: Algorithm,
        url: &str,
        refresh: Duration,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            url.starts_with("https://") || url.starts_with("http://"),
            "the JWKS URL of {issuer} must be http:// or https://"
        );
        anyhow::ensure!(
            refresh >= Duration::from_secs(1),
            "the JWKS refresh of {issuer} must be at least a second"
        );
        Ok(Self {
            issuer: issuer.to_owned(),
            algorithm,
            keys: Vec::new(),
            jwks: Some(JwksSource {
                url: url.to_owned(),
                refresh,
            }),
            fetched: Vec::new(),
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
            let jwks = match &entry.jwks_url {
                Some(url) => {
                    let refresh = entry
                        .jwks_refresh_secs
                        .map_or(DEFAULT_JWKS_REFRESH, Duration::from_secs);
                    TrustedIssuer::from_jwks_url(&entry.issuer, algorithm, url, refresh)?.jwks
                }
                None => {
                    anyhow::ensure!(
                        entry.jwks_refresh_secs.is_none(),
                        "issuer {}: jwks_refresh_secs needs a jwks_url",
                        entry.issuer
                    );
                    None
                }
            };
            anyhow::ensure!(
                !keys.is_empty() || jwks.is_some(),
                "issuer {} has no keys (keys, jwks_file or jwks_url)",
                entry.issuer
            );
            issuers.push(TrustedIssuer {
                issuer: entry.issuer,
                algorithm,
                keys,
                jwks,
                fetched: Vec::new(),
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

/// Checks signatures and standard claims against the trusted issuers. The issuers' keys can
/// change while the service runs: fetched from JWKS URLs (`refresh_due`, `verify_fetching`) and
/// reloaded from the issuers file (`reload`).
pub struct Verifier {
    issuers: RwLock<HashMap<String, Arc<TrustedIssuer>>>,
    /// Issuers that no reload replaces (the development issuer in demo mode).
    fixed: Vec<TrustedIssuer>,
    audience: String,
    leeway: u64,
    /// When each JWKS issuer is next fetched on schedule.
    next_fetch: Mutex<HashMap<String, Instant>>,
    /// When an unknown `kid` last made each issuer's keys be fetched.
    last_unknown_kid_fetch: Mutex<HashMap<String, Instant>>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    http: reqwest::Client,
    /// Tokens that passed every check, by their exact text: the claims, and the key set they
    /// were checked against (`keys_version`). One is taken from here only while it has not
    /// expired (with the same leeway) and only while the keys have not changed since.
    verified: Mutex<lru::LruCache<Box<str>, (Claims, u64)>>,
    /// Counts every change of the issuers or their keys (a reload, a fetch).
    keys_version: std::sync::atomic::AtomicU64,
}

/// Why a token was refused, telling an unknown key apart (which a fetch may cure).
enum Refusal {
    UnknownKid(String),
    Other(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Other(e)
    }
}

impl Refusal {
    fn into_error(self) -> AppError {
        match self {
            Refusal::UnknownKid(_) => {
                unauthenticated("the token's key id (kid) is not known for its issuer")
            }
            Refusal::Other(e) => e,
        }
    }
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
        Self::with_fixed(issuers, Vec::new(), audience, leeway)
    }

    /// `issuers` from the issuers file, which `reload` replaces, and `fixed` ones it keeps.
    pub fn with_fixed(
        issuers: Vec<TrustedIssuer>,
        fixed: Vec<TrustedIssuer>,
        audience: &str,
        leeway: u64,
    ) -> Self {
        // Built even with no JWKS issuer yet: a reload may add one.
        let http = reqwest::Client::builder()
            .timeout(JWKS_TIMEOUT)
            .connect_timeout(JWKS_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let verifier = Self {
            issuers: RwLock::default(),
            fixed,
            audience: audience.to_owned(),
            leeway: leeway.min(MAX_LEEWAY_SECS),
            next_fetch: Mutex::default(),
            last_unknown_kid_fetch: Mutex::default(),
            fetching: tokio::sync::Mutex::new(()),
            http,
            verified: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(REMEMBERED_TOKENS)
                    .unwrap_or(std::num::NonZeroUsize::MIN),
            )),
            keys_version: std::sync::atomic::AtomicU64::new(0),
        };
        verifier.install(issuers);
        verifier
    }

    /// Puts a new set of issuers (from the issuers file) in place, keeping the fixed ones, and
    /// the keys already fetched for a JWKS issuer whose URL did not change. JWKS issuers are
    /// fetched again at the next `refresh_due`.
    fn install(&self, issuers: Vec<TrustedIssuer>) {
        let Ok(mut map) = self.issuers.write() else {
            return;
        };
        let mut next: HashMap<String, Arc<TrustedIssuer>> = HashMap::new();
        for mut issuer in issuers {
            if let Some(old) = map.get(&issuer.issuer)
                && old.jwks == issuer.jwks
            {
                issuer.fetched = old.fetched.clone();
            }
            next.insert(issuer.issuer.clone(), Arc::new(issuer));
        }
        for issuer in &self.fixed {
            next.insert(issuer.issuer.clone(), Arc::new(issuer.clone()));
        }
        if let Ok(mut due) = self.next_fetch.lock() {
            due.clear();
            for issuer in next.values().filter(|i| i.jwks.is_some()) {
                due.insert(issuer.issuer.clone(), Instant::now());
            }
        }
        *map = next;
        self.keys_changed();
    }

    /// Forgets every token verified with the keys held until now.
    fn keys_changed(&self) {
        self.keys_version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut verified) = self.verified.lock() {
            verified.clear();
        }
    }

    /// A token verified lately, against the keys held now, that has not expired since.
    fn remembered(&self, token: &str) -> Option<Claims> {
        let version = self.keys_version.load(std::sync::atomic::Ordering::SeqCst);
        let mut verified = self.verified.lock().ok()?;
        let (claims, checked_with) = verified.get(token)?;
        let now = jsonwebtoken::get_current_timestamp();
        // Expired exactly when the signature check says so: `exp` earlier than now - leeway.
        if *checked_with == version && claims.exp >= now.saturating_sub(self.leeway) {
            return Some(claims.clone());
        }
        verified.pop(token);
        None
    }

    fn remember(&self, token: &str, claims: &Claims, version: u64) {
        if token.len() > MAX_REMEMBERED_TOKEN {
            return;
        }
        if let Ok(mut verified) = self.verified.lock() {
            verified.put(token.into(), (claims.clone(), version));
        }
    }

    /// Replaces the issuers from the issuers file (on SIGHUP), refusing an empty set.
    pub fn reload(&self, issuers: Vec<TrustedIssuer>) -> anyhow::Result<usize> {
        anyhow::ensure!(
            !issuers.is_empty(),
            "the issuers file lists no issuer; keeping the keys in use"
        );
        let n = issuers.len();
        self.install(issuers);
        Ok(n)
    }

    fn issuer(&self, name: &str) -> Option<Arc<TrustedIssuer>> {
        self.issuers.read().ok()?.get(name).cloned()
    }

    /// Fetches the keys of every JWKS issuer whose time has come (all of them at start and
    /// after a reload). A failed fetch keeps the keys already held and is tried again at the
    /// next refresh.
    pub async fn refresh_due(&self) {
        let now = Instant::now();
        let due: Vec<String> = match self.next_fetch.lock() {
            Ok(next) => next
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(name, _)| name.clone())
                .collect(),
            Err(_) => return,
        };
        for name in due {
            let Some(issuer) = self.issuer(&name) else {
                continue;
            };
            let Some(source) = issuer.jwks.clone() else {
                continue;
            };
            if let Ok(mut next) = self.next_fetch.lock() {
                next.insert(name.clone(), now + source.refresh);
            }
            let _one = self.fetching.lock().await;
            self.fetch(&name).await;
        }
    }

    /// Fetches one issuer's key set and puts it in place. Logs and keeps the old keys on any
    /// failure.
    async fn fetch(&self, name: &str) {
        let Some(issuer) = self.issuer(name) else {
            return;
        };
        let Some(source) = issuer.jwks.clone() else {
            return;
        };
        match fetch_jwks(&self.http, &source.url, issuer.algorithm).await {
            Ok(keys) => {
                tracing::info!(issuer = %name, keys = keys.len(), "fetched the issuer's keys");
                if let Ok(mut map) = self.issuers.write()
                    && let Some(current) = map.get(name)
                    && current.jwks.as_ref() == Some(&source)
                {
                    let mut updated = (**current).clone();
                    updated.fetched = keys;
                    map.insert(name.to_owned(), Arc::new(updated));
                    drop(map);
                    self.keys_changed();
                }
            }
            Err(e) => tracing::warn!(
                issuer = %name,
                error = %format!("{e:#}"),
                "fetching the issuer's keys failed; keeping the keys already held"
            ),
        }
    }

    /// Verifies a token, fetching its issuer's keys once if it names a key not yet known (at
    /// most once per `UNKNOWN_KID_FETCH_GAP` per issuer, whatever the number of such tokens).
    pub async fn verify_fetching(&self, token: &str) -> Result<Claims, AppError> {
        if let Some(claims) = self.remembered(token) {
            return Ok(claims);
        }
        match self.checked(token) {
            Ok(claims) => Ok(claims),
            Err(Refusal::UnknownKid(name)) => {
                let has_url = self.issuer(&name).is_some_and(|i| i.jwks.is_some());
                if !has_url {
                    return Err(Refusal::UnknownKid(name).into_error());
                }
                {
                    let _one = self.fetching.lock().await;
                    // Another request may have fetched while this one waited: ask again first.
                    if let Err(Refusal::UnknownKid(_)) = self.check(token) {
                        let now = Instant::now();
                        let allowed = match self.last_unknown_kid_fetch.lock() {
                            Ok(mut last) => {
                                let ok = last.get(&name).is_none_or(|t| {
                                    now.duration_since(*t) >= UNKNOWN_KID_FETCH_GAP
                                });
                                if ok {
                                    last.insert(name.clone(), now);
                                }
                                ok
                            }
                            Err(_) => false,
                        };
                        if allowed {
                            self.fetch(&name).await;
                        }
                    }
                }
                self.checked(token).map_err(Refusal::into_error)
            }
            Err(other) => Err(other.into_error()),
        }
    }

    /// `check`, remembering a token that passes (with the version of the keys it passed).
    fn checked(&self, token: &str) -> Result<Claims, Refusal> {
        let version = self.keys_version.load(std::sync::atomic::Ordering::SeqCst);
        let claims = self.check(token)?;
        self.remember(token, &claims, version);
        Ok(claims)
    }

    /// Verifies a token against the keys held now. Every failure is UNAUTHENTICATED with a
    /// message that says which check failed and never echoes the token.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        self.check(token).map_err(Refusal::into_error)
    }

    fn check(&self, token: &str) -> Result<Claims, Refusal> {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(
                unauthenticated("malformed token: expected three dot-separated parts").into(),
            );
        }
        let header: RawHeader = decode_part(parts[0])
            .ok_or_else(|| unauthenticated("malformed token: the header is not base64url JSON"))?;
        let alg = header
            .alg
            .ok_or_else(|| unauthenticated("malformed token: the header names no algorithm"))?;
        if alg.eq_ignore_ascii_case("none") {
            return Err(unauthenticated("unsigned tokens (alg: none) are not accepted").into());
        }
        let raw: RawIssuer = decode_part(parts[1])
            .ok_or_else(|| unauthenticated("malformed token: the payload is not base64url JSON"))?;
        let iss = match raw.iss {
            Some(serde_json::Value::String(s)) => s,
            _ => return Err(unauthenticated("the token has no issuer (iss)").into()),
        };
        let issuer = self
            .issuer(&iss)
            .ok_or_else(|| unauthenticated("the token's issuer is not trusted"))?;
        let pinned = format!("{:?}", issuer.algorithm);
        if alg != pinned {
            return Err(AppError::Unauthenticated(format!(
                "algorithm {} is not accepted for this issuer (pinned to {pinned})",
                truncate(&alg, 16)
            ))
            .into());
        }
        let key = match header.kid.as_deref() {
            Some(kid) => match issuer.all_keys().find(|k| k.kid.as_deref() == Some(kid)) {
                Some(key) => key,
                None => return Err(Refusal::UnknownKid(issuer.issuer.clone())),
            },
            None => {
                let mut keys = issuer.all_keys();
                match (keys.next(), keys.next()) {
                    (Some(only), None) => only,
                    (None, _) => return Err(Refusal::UnknownKid(issuer.issuer.clone())),
                    _ => {
                        return Err(unauthenticated(
                            "the token names no key id (kid) and its issuer has several keys",
                        )
                        .into());
                    }
                }
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
        Ok(claims_from(data.claims)?)
    }
}

/// Fetches a JWKS and turns its signing keys into decoding keys; keys for encryption, of
/// another algorithm family or that cannot be read are left out.
async fn fetch_jwks(
    http: &reqwest::Client,
    url: &str,
    algorithm: Algorithm,
) -> anyhow::Result<Vec<IssuerKey>> {
    use anyhow::Context;
    use jsonwebtoken::jwk::{AlgorithmParameters, PublicKeyUse};
    let mut res = http.get(url).send().await.context("requesting the JWKS")?;
    anyhow::ensure!(
        res.status().is_success(),
        "the JWKS URL answered {}",
        res.status()
    );
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.context("reading the JWKS")? {
        body.extend_from_slice(&chunk);
        anyhow::ensure!(
            body.len() <= JWKS_MAX_BYTES,
            "the JWKS is larger than {JWKS_MAX_BYTES} bytes"
        );
    }
    let set: JwkSet = serde_json::from_slice(&body).context("the JWKS is not a JSON key set")?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
            continue;
        }
        let family_fits = matches!(
            (&jwk.algorithm, algorithm),
            (AlgorithmParameters::RSA(_), Algorithm::RS256)
                | (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256)
                | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
        );
        if !family_fits {
            continue;
        }
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => keys.push(IssuerKey {
                kid: jwk.common.key_id.clone(),
                key,
            }),
            Err(e) => tracing::warn!(error = %e, "a key of the JWKS cannot be read; left out"),
        }
    }
    Ok(keys)
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
        jwks: None,
        fetched: Vec::new(),
    }
}
