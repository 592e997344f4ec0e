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

/// A term as it stood on `day` (or its latest version when none was in force then; the code
/// itself as its label when the vocabulary does not know it): from a page's links when they
/// were read, otherwise through the request's loader, which reads every code asked for in one
/// statement.
pub(crate) async fn term_on(
    ctx: &Context<'_>,
    page: Option<&PageLinks>,
    vocabulary: Vocabulary,
    code: &str,
    day: chrono::NaiveDate,
) -> async_graphql::Result<crate::graphql::area::VocabularyTerm> {
    let versions: Arc<[crate::domain::vocabulary::Term]> = match page {
        Some(page) => page
            .terms
            .get(&(vocabulary, code.to_owned()))
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new())),
        None => links(ctx)?
            .load_one(TermsOf(vocabulary, code.to_owned()))
            .await?
            .unwrap_or_else(|| Arc::from(Vec::new())),
    };
    let chosen = versions
        .iter()
        .find(|t| t.from <= day && t.to.is_none_or(|to| to >= day))
        .or_else(|| versions.iter().max_by_key(|t| t.from))
        .cloned();
    Ok(match chosen {
        Some(t) => t.into(),
        None => crate::graphql::area::VocabularyTerm::from(crate::domain::vocabulary::Term {
            vocabulary,
            code: code.to_owned(),
            label: code.to_owned(),
            from: day,
            to: None,
            aliases: Vec::new(),
        }),
    })
}

/// The request's loader of linked objects (areas, agencies, vocabulary terms, revisions), for
/// any type that links to them.
pub(crate) fn links<'a>(
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

/// An area, by its partnership and code (a case's area), for the rows of a page.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AreaByCode(pub Uuid, pub String);

impl Loader<AreaByCode> for IncidentLoader {
    type Value = Arc<crate::graphql::area::Area>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[AreaByCode],
    ) -> Result<HashMap<AreaByCode, Self::Value>, LoadError> {
        let pairs: Vec<(Uuid, String)> = keys.iter().map(|k| (k.0, k.1.clone())).collect();
        Ok(db::area::areas_by_code(&*self.db, &pairs, &self.scope)
            .await?
            .into_iter()
            .map(|a| {
                (
                    AreaByCode(a.partnership_id, a.code.clone()),
                    Arc::new(crate::graphql::area::Area::from(a)),
                )
            })
            .collect())
    }
}

/// An agency, by slug (a note's author's agency, a share's agency, a referral's maker), for
/// the rows of a page.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AgencyBySlug(pub String);

impl Loader<AgencyBySlug> for IncidentLoader {
    type Value = Arc<crate::graphql::area::Agency>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[AgencyBySlug],
    ) -> Result<HashMap<AgencyBySlug, Self::Value>, LoadError> {
        let slugs: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        Ok(db::partnership::agencies_by_slugs(&*self.db, &slugs)
            .await?
            .into_iter()
            .map(|a| (AgencyBySlug(a.slug.clone()), Arc::new(a.into())))
            .collect())
    }
}

/// The agency a row names by slug, read with every other agency the page names in one
/// statement. A slug the register no longer holds (a plan step, progress record or submission
/// keeps the slug as it was) answers the slug as its name and `other` as its kind, not an
/// error.
pub(crate) async fn agency(
    ctx: &Context<'_>,
    slug: &str,
) -> async_graphql::Result<Arc<crate::graphql::area::Agency>> {
    Ok(links(ctx)?
        .load_one(AgencyBySlug(slug.to_owned()))
        .await?
        .unwrap_or_else(|| {
            Arc::new(crate::graphql::area::Agency::new(
                slug.to_owned(),
                slug.to_owned(),
                "other".to_owned(),
            ))
        }))
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

/// The linked objects of a whole page of `incidents`, read before its rows are resolved when
/// the look-ahead shows them selected: the page's areas and vocabulary terms, each in one
/// statement, shared by every row. A row resolves them by lookup rather than through a
/// DataLoader per field (about 23,000 instructions a row: `bench/instructions`).
#[derive(Default)]
pub struct PageLinks {
    pub areas: HashMap<Uuid, Arc<crate::graphql::area::Area>>,
    pub terms: HashMap<(Vocabulary, String), Arc<[crate::domain::vocabulary::Term]>>,
}

/// What of a page's linked objects a request selects.
#[derive(Clone, Copy, Default)]
pub struct Selected {
    pub area: bool,
    pub category: bool,
    pub outcome: bool,
    pub hate_strands: bool,
    pub drug_class: bool,
    pub asb_type: bool,
    pub fire_type: bool,
    pub cancel_reason: bool,
}

impl Selected {
    /// The linked fields the `incidents` field selects under `nodes` or `edges { node }`.
    pub fn of(ctx: &Context<'_>) -> Self {
        let look = ctx.look_ahead();
        let nodes = look.field("nodes");
        let edges = look.field("edges").field("node");
        let picks = |name: &str| nodes.field(name).exists() || edges.field(name).exists();
        Selected {
            area: picks("area"),
            category: picks("category"),
            outcome: picks("outcome"),
            hate_strands: picks("hateStrands"),
            drug_class: picks("drugClass"),
            asb_type: picks("asbType"),
            fire_type: picks("fireType"),
            cancel_reason: picks("cancelReason"),
        }
    }

    pub fn any(self) -> bool {
        self.area
            || self.category
            || self.outcome
            || self.hate_strands
            || self.drug_class
            || self.asb_type
            || self.fire_type
            || self.cancel_reason
    }
}

/// Reads the linked objects `selected` asks for, for `rows`: at most two statements (the
/// areas, and every vocabulary's terms together).
pub async fn page_links(
    conn: &db::request::RequestDb,
    scope: &[Uuid],
    rows: &[db::incident::IncidentRow],
    selected: Selected,
) -> Result<PageLinks, AppError> {
    let mut links = PageLinks::default();
    if selected.area {
        let mut ids: Vec<Uuid> = rows.iter().filter_map(|r| r.area_id).collect();
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            for a in db::area::areas_by_id(conn, &ids, scope).await? {
                links
                    .areas
                    .insert(a.id, Arc::new(crate::graphql::area::Area::from(a)));
            }
        }
    }
    let mut pairs: Vec<(Vocabulary, String)> = Vec::new();
    for r in rows {
        if selected.category {
            pairs.push((Vocabulary::CrimeCategory, r.category.clone()));
        }
        for (wanted, vocabulary, code) in [
            (selected.outcome, Vocabulary::Outcome, &r.outcome),
            (selected.drug_class, Vocabulary::DrugClass, &r.drug_class),
            (selected.asb_type, Vocabulary::AsbType, &r.asb_type),
            (selected.fire_type, Vocabulary::FireType, &r.fire_type),
            (
                selected.cancel_reason,
                Vocabulary::CancelReason,
                &r.cancel_reason,
            ),
        ] {
            if let (true, Some(code)) = (wanted, code) {
                pairs.push((vocabulary, code.clone()));
            }
        }
        if selected.hate_strands {
            pairs.extend(
                r.hate_strands
                    .iter()
                    .map(|h| (Vocabulary::HateStrand, h.clone())),
            );
        }
    }
    pairs.sort_unstable_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    pairs.dedup();
    if !pairs.is_empty() {
        let mut map: HashMap<(Vocabulary, String), Vec<crate::domain::vocabulary::Term>> =
            HashMap::new();
        for t in db::vocabulary::terms_by_code(conn, &pairs).await? {
            map.entry((t.vocabulary, t.code.clone()))
                .or_default()
                .push(t);
        }
        links.terms = map.into_iter().map(|(k, v)| (k, Arc::from(v))).collect();
    }
    Ok(links)
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
