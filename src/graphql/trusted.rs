//! Trusted documents (`CSPHUB_TRUSTED_DOCUMENTS`): a deployment can restrict each role to the
//! GraphQL documents its front-end's build produced. With the list on, a request names its
//! document by hash (`documentId`, or Apollo's `extensions.persistedQuery.sha256Hash`) or sends
//! a text whose hash is listed; anything else is refused (FORBIDDEN) before it is parsed.
//!
//! The file:
//!
//! ```json
//! {
//!   "documents": { "<sha256 of the text, hex>": "query PlanPage($id: ID!) { ... }" },
//!   "roles": { "police": ["<sha256>", ...], "council": [...], "fire": [...], "pcc": [...] }
//! }
//! ```
//!
//! A role not named may run no document at all.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::Role;
use crate::error::AppError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    documents: HashMap<String, String>,
    roles: HashMap<String, Vec<String>>,
}

/// Each role's allowed documents, by hash.
#[derive(Debug, Default)]
pub struct TrustedDocuments {
    documents: HashMap<String, String>,
    roles: HashMap<Role, HashSet<String>>,
}

/// The list in use, which SIGHUP may replace (`TrustedList::replace`) while requests read it.
#[derive(Debug)]
pub struct TrustedList(std::sync::RwLock<std::sync::Arc<TrustedDocuments>>);

impl TrustedList {
    pub fn new(documents: std::sync::Arc<TrustedDocuments>) -> Self {
        Self(std::sync::RwLock::new(documents))
    }

    /// The list as it is now (requests already running keep the one they took).
    pub fn current(&self) -> std::sync::Arc<TrustedDocuments> {
        match self.0.read() {
            Ok(list) => list.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, documents: TrustedDocuments) {
        let documents = std::sync::Arc::new(documents);
        match self.0.write() {
            Ok(mut list) => *list = documents,
            Err(poisoned) => *poisoned.into_inner() = documents,
        }
    }

    /// Documents and roles in the list now, for the log.
    pub fn sizes(&self) -> (usize, usize) {
        let list = self.current();
        (list.documents.len(), list.roles.len())
    }
}

/// The hash a document is known by: SHA-256 of its exact text, lowercase hex.
pub fn hash_of(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl TrustedDocuments {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the trusted documents {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: File = serde_json::from_str(text)
            .context("the trusted documents must be {\"documents\": {...}, \"roles\": {...}}")?;
        let mut documents = HashMap::new();
        for (hash, doc) in file.documents {
            let hash = normalise(&hash);
            anyhow::ensure!(
                hash_of(&doc) == hash,
                "document {hash}: its text's SHA-256 is {}, not the hash it is listed under",
                hash_of(&doc)
            );
            documents.insert(hash, doc);
        }
        let mut roles = HashMap::new();
        for (name, hashes) in file.roles {
            let role = Role::parse(&name)
                .with_context(|| format!("'{name}' is not a role (police, fire, council, pcc)"))?;
            let mut allowed = HashSet::new();
            for hash in hashes {
                let hash = normalise(&hash);
                anyhow::ensure!(
                    documents.contains_key(&hash),
                    "role {name} lists {hash}, which is not among the documents"
                );
                allowed.insert(hash);
            }
            roles.insert(role, allowed);
        }
        Ok(Self { documents, roles })
    }

    /// Settles which document a request runs: the listed text for a hash it names, or its
    /// own text if that text is listed for the role. Everything else is refused; nothing is
    /// parsed here.
    pub fn resolve(
        &self,
        role: Role,
        request: &mut async_graphql::Request,
        document_id: Option<&str>,
    ) -> Result<(), AppError> {
        let named = document_id.map(normalise).or_else(|| {
            request
                .extensions
                .0
                .get("persistedQuery")
                .and_then(|p| match p {
                    async_graphql::Value::Object(o) => o.get("sha256Hash").cloned(),
                    _ => None,
                })
                .and_then(|h| match h {
                    async_graphql::Value::String(s) => Some(normalise(&s)),
                    _ => None,
                })
        });
        let allowed = self.roles.get(&role);
        let hash = match named {
            Some(hash) => {
                if !request.query.is_empty() && hash_of(&request.query) != hash {
                    return Err(AppError::BadUserInput(
                        "the query text does not match the document id it names".to_owned(),
                    ));
                }
                hash
            }
            None => hash_of(&request.query),
        };
        match (allowed, self.documents.get(&hash)) {
            (Some(allowed), Some(text)) if allowed.contains(&hash) => {
                if request.query.is_empty() {
                    request.query = text.clone();
                }
                Ok(())
            }
            _ => Err(AppError::Forbidden(format!(
                "this deployment runs only its trusted documents, and document {} is not one \
                 for the role {}",
                short(&hash),
                role.as_str()
            ))),
        }
    }
}

/// `sha256:<hex>` or `<hex>`, in lowercase.
fn normalise(hash: &str) -> String {
    let h = hash.trim();
    h.strip_prefix("sha256:").unwrap_or(h).to_ascii_lowercase()
}

/// The first characters of a hash, enough to find it in the file; never a caller's text.
fn short(hash: &str) -> String {
    hash.chars()
        .take(16)
        .filter(char::is_ascii_hexdigit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLANS: &str = "query Plans { plans(partnership: \"stevenage\") { id } }";

    fn file() -> String {
        let h = hash_of(PLANS);
        serde_json::json!({
            "documents": {format!("sha256:{h}"): PLANS},
            "roles": {"police": [h]},
        })
        .to_string()
    }

    #[test]
    fn a_listed_document_runs_by_id_or_text_for_its_role_only() {
        let t = TrustedDocuments::parse(&file()).expect("parse");
        let h = hash_of(PLANS);
        let mut by_id = async_graphql::Request::new("");
        t.resolve(Role::Police, &mut by_id, Some(&format!("sha256:{h}")))
            .expect("by id");
        assert_eq!(by_id.query, PLANS);
        let mut by_text = async_graphql::Request::new(PLANS);
        t.resolve(Role::Police, &mut by_text, None)
            .expect("by text");
        let mut apq = async_graphql::Request::new("");
        apq.extensions.0.insert(
            "persistedQuery".to_owned(),
            async_graphql::Value::from_json(
                serde_json::json!({"version": 1, "sha256Hash": h.to_uppercase()}),
            )
            .expect("value"),
        );
        t.resolve(Role::Police, &mut apq, None).expect("apq");
        assert_eq!(apq.query, PLANS);
        // Another role, another text, an unknown id.
        let mut other = async_graphql::Request::new(PLANS);
        assert!(matches!(
            t.resolve(Role::Council, &mut other, None),
            Err(AppError::Forbidden(_))
        ));
        let mut other = async_graphql::Request::new("{ plans(partnership: \"x\") { id } }");
        assert!(matches!(
            t.resolve(Role::Police, &mut other, None),
            Err(AppError::Forbidden(_))
        ));
        let mut other = async_graphql::Request::new("");
        assert!(matches!(
            t.resolve(Role::Police, &mut other, Some("abc")),
            Err(AppError::Forbidden(_))
        ));
        // A text that does not match the id it names.
        let mut mismatch = async_graphql::Request::new("{ __typename }");
        assert!(matches!(
            t.resolve(Role::Police, &mut mismatch, Some(&h)),
            Err(AppError::BadUserInput(_))
        ));
    }

    #[test]
    fn a_file_with_a_wrong_hash_an_unknown_role_or_a_missing_document_is_refused() {
        let wrong = serde_json::json!({"documents": {"00": PLANS}, "roles": {}}).to_string();
        assert!(TrustedDocuments::parse(&wrong).is_err());
        let h = hash_of(PLANS);
        let role =
            serde_json::json!({"documents": {&h: PLANS}, "roles": {"admin": [&h]}}).to_string();
        assert!(TrustedDocuments::parse(&role).is_err());
        let missing = serde_json::json!({"documents": {}, "roles": {"police": [&h]}}).to_string();
        assert!(TrustedDocuments::parse(&missing).is_err());
    }
}
