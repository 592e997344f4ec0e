//! The loaders behind an incident page's relations: its revisions, areas and vocabulary terms,
//! each read in one statement for every record of the page, in the request's transaction.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::Loader;
use uuid::Uuid;

use crate::db;
use crate::db::request::RequestTxn;
use crate::domain::vocabulary::Vocabulary;
use crate::error::AppError;
use crate::graphql::LoadError;

pub(super) fn incident_loader<'a>(
    ctx: &'a Context<'_>,
) -> Result<&'a async_graphql::dataloader::DataLoader<IncidentLoader>, AppError> {
    ctx.data_opt::<async_graphql::dataloader::DataLoader<IncidentLoader>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no incident loader")))
}

/// An area, by id, for the records of a page.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AreaById(pub Uuid);

impl Loader<AreaById> for IncidentLoader {
    // Shared, not copied: the loader's cache hands a value to every row that names it.
    type Value = Arc<crate::graphql::area::Area>;
    type Error = LoadError;
    async fn load(&self, keys: &[AreaById]) -> Result<HashMap<AreaById, Self::Value>, LoadError> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(db::area::areas_by_id(&*self.db, &ids, &self.scope)
            .await?
            .into_iter()
            .map(|a| {
                (
                    AreaById(a.id),
                    Arc::new(crate::graphql::area::Area::from(a)),
                )
            })
            .collect())
    }
}

/// Every version of a vocabulary's term, by code, for the records of a page.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TermsOf(pub Vocabulary, pub String);

impl Loader<TermsOf> for IncidentLoader {
    // Shared, not copied: the loader's cache hands a value to every row that names it.
    type Value = Arc<[crate::domain::vocabulary::Term]>;
    type Error = LoadError;
    async fn load(&self, keys: &[TermsOf]) -> Result<HashMap<TermsOf, Self::Value>, LoadError> {
        let pairs: Vec<(Vocabulary, String)> = keys.iter().map(|k| (k.0, k.1.clone())).collect();
        let mut map: HashMap<TermsOf, Vec<crate::domain::vocabulary::Term>> = HashMap::new();
        for t in db::vocabulary::terms_by_code(&*self.db, &pairs).await? {
            map.entry(TermsOf(t.vocabulary, t.code.clone()))
                .or_default()
                .push(t);
        }
        Ok(map.into_iter().map(|(k, v)| (k, Arc::from(v))).collect())
    }
}

/// Batches incident relations per request.
pub struct IncidentLoader {
    db: RequestTxn,
    /// The caller's partnerships: revisions made elsewhere are not shown.
    scope: Vec<Uuid>,
}

impl IncidentLoader {
    pub fn new(db: RequestTxn, scope: Vec<Uuid>) -> Self {
        Self { db, scope }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RevisionsOf(pub Uuid);

impl Loader<RevisionsOf> for IncidentLoader {
    type Value = Vec<db::incident::RevisionRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[RevisionsOf],
    ) -> Result<HashMap<RevisionsOf, Self::Value>, LoadError> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut map: HashMap<RevisionsOf, Self::Value> = HashMap::new();
        for r in db::incident::revisions_of(&*self.db, &ids, &self.scope).await? {
            map.entry(RevisionsOf(r.incident_id)).or_default().push(r);
        }
        Ok(map)
    }
}
