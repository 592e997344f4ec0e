//! Areas (wards, neighbourhoods) and the vocabularies incidents are recorded in.

use crate::scalar::Date;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};

use super::{parse_id, principal};
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::domain::incident::{NO_AREA, lsoa_code, outward_code};
use crate::domain::vocabulary::{Term, Vocabulary};
use crate::error::AppError;

/// What kind of place an area is: an electoral ward or a neighbourhood of the district.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AreaKind {
    /// An electoral ward of the district.
    Ward,
    /// A neighbourhood of the district, not an electoral ward.
    Neighbourhood,
}

impl AreaKind {
    fn as_str(self) -> &'static str {
        match self {
            AreaKind::Ward => "ward",
            AreaKind::Neighbourhood => "neighbourhood",
        }
    }
}

/// A ward or neighbourhood of a partnership's district.
#[derive(SimpleObject, Clone)]
pub struct Area {
    /// The area's id, an opaque string: `updateArea` takes it as `areaId`.
    pub id: ID,
    /// The code incidents name, such as `old-town`.
    pub code: String,
    /// The area's name for display, such as Old Town.
    pub name: String,
    /// Whether the area is a ward or a neighbourhood.
    pub kind: AreaKind,
    /// The outward postcodes the area covers, such as `SG1`.
    pub postcode_districts: Vec<String>,
    /// The LSOAs (census lower layer super output areas, such as `E01023720`) the area is made
    /// of: a record that gives its `lsoa` instead of an area is placed in the area listing it.
    pub lsoas: Vec<String>,
}

impl From<db::area::AreaRow> for Area {
    fn from(r: db::area::AreaRow) -> Self {
        Self {
            id: ID(r.id.to_string()),
            code: r.code,
            name: r.name,
            kind: if r.kind == "neighbourhood" {
                AreaKind::Neighbourhood
            } else {
                AreaKind::Ward
            },
            postcode_districts: r.postcode_districts,
            lsoas: r.lsoas,
        }
    }
}

/// A vocabulary of codes that records are checked against. The `vocabularies` query lists each
/// one's terms, with the days each term is in force.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Vocabulary")]
pub enum VocabularyKind {
    /// Crime categories, data.police.uk's codes such as `burglary`, plus `deliberate-fire`
    /// (an incident's `category`).
    CrimeCategory,
    /// The anti-social behaviour qualifiers of the National Standard for Incident Recording:
    /// `personal`, `nuisance`, `environmental` (an incident's `asbType`).
    AsbType,
    /// Kinds of deliberate fire: `primary`, `primary-vehicle`, `secondary` (an incident's
    /// `fireType`).
    FireType,
    /// The five monitored hate crime strands, such as `race` (an incident's `hateStrands`).
    HateStrand,
    /// data.police.uk's outcome categories, such as `under-investigation` (an incident's
    /// `outcome`).
    Outcome,
    /// Drug classes: `a`, `b`, `c` (an incident's `drugClass`).
    DrugClass,
    /// Why a record was withdrawn (`cancelReason`).
    CancelReason,
    /// How a case ended (`closeCase`).
    CaseOutcome,
    /// Tools and powers used in a case (`recordIntervention`).
    Intervention,
}

impl From<VocabularyKind> for Vocabulary {
    fn from(v: VocabularyKind) -> Self {
        match v {
            VocabularyKind::CrimeCategory => Vocabulary::CrimeCategory,
            VocabularyKind::AsbType => Vocabulary::AsbType,
            VocabularyKind::FireType => Vocabulary::FireType,
            VocabularyKind::HateStrand => Vocabulary::HateStrand,
            VocabularyKind::Outcome => Vocabulary::Outcome,
            VocabularyKind::DrugClass => Vocabulary::DrugClass,
            VocabularyKind::CancelReason => Vocabulary::CancelReason,
            VocabularyKind::CaseOutcome => Vocabulary::CaseOutcome,
            VocabularyKind::Intervention => Vocabulary::Intervention,
        }
    }
}

impl From<Vocabulary> for VocabularyKind {
    fn from(v: Vocabulary) -> Self {
        match v {
            Vocabulary::CrimeCategory => VocabularyKind::CrimeCategory,
            Vocabulary::AsbType => VocabularyKind::AsbType,
            Vocabulary::FireType => VocabularyKind::FireType,
            Vocabulary::HateStrand => VocabularyKind::HateStrand,
            Vocabulary::Outcome => VocabularyKind::Outcome,
            Vocabulary::DrugClass => VocabularyKind::DrugClass,
            Vocabulary::CancelReason => VocabularyKind::CancelReason,
            Vocabulary::CaseOutcome => VocabularyKind::CaseOutcome,
            Vocabulary::Intervention => VocabularyKind::Intervention,
        }
    }
}

/// An agency: a police force, fire and rescue service, council or the PCC's office, by slug,
/// name and kind. Wherever a record names an agency (its source, owner, author, lead), this
/// object is read with the record or for the whole page in one statement. A plan step,
/// progress record or submission whose agency has since left the register names it by its
/// slug, as name too, with kind `other`.
#[derive(SimpleObject, Clone)]
pub struct Agency {
    /// The agency's slug, such as `herts-police`: what every `agency` argument and input field
    /// takes.
    pub slug: String,
    /// The agency's name for display, such as Hertfordshire Constabulary.
    pub name: String,
    /// police, fire, council, pcc or other
    pub kind: String,
}

impl Agency {
    /// The agency a row names, with the name and kind its statement joined.
    pub fn new(slug: String, name: String, kind: String) -> Self {
        Self { slug, name, kind }
    }
}

impl From<db::partnership::AgencyRow> for Agency {
    fn from(r: db::partnership::AgencyRow) -> Self {
        Self::new(r.slug, r.name, r.kind)
    }
}

/// A term of a vocabulary and the days it is in force (both ends included).
#[derive(SimpleObject, Clone)]
pub struct VocabularyTerm {
    /// The vocabulary the term belongs to.
    pub vocabulary: VocabularyKind,
    /// What a record sends, such as `anti-social-behaviour`.
    pub code: String,
    /// The term's name for display, in English, such as "Anti-social behaviour".
    pub label: String,
    /// The first day the term is in force. A code can appear more than once, with a different
    /// label for each run of days (such as `violent-crime`, "Violence and sexual offences" from
    /// 1 May 2013).
    pub valid_from: crate::scalar::Date,
    /// Null while the term is in force.
    pub valid_to: Option<crate::scalar::Date>,
    /// Other names the term goes by, such as data.police.uk's file spellings ("Offender given
    /// penalty notice") and labels earlier releases used ("Offender cautioned"). A record still
    /// sends the code.
    pub aliases: Vec<String>,
}

impl From<Term> for VocabularyTerm {
    fn from(t: Term) -> Self {
        Self {
            vocabulary: t.vocabulary.into(),
            code: t.code,
            label: t.label,
            valid_from: Date(t.from),
            valid_to: t.to.map(Into::into),
            aliases: t.aliases,
        }
    }
}

/// A new area of a partnership, for `createArea`.
#[derive(InputObject)]
pub struct CreateAreaInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// The code records will name, lower-case words joined by hyphens such as `old-town`, up
    /// to 64 characters; unique in the partnership (CONFLICT) and never `no-area`. It cannot be
    /// changed later.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub code: String,
    /// The area's name for display, up to 200 characters; not blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub name: String,
    /// Whether the area is a ward or a neighbourhood.
    pub kind: AreaKind,
    /// The outward postcodes the area covers, such as `SG1`, up to 8 characters each (anything
    /// finer, such as `SG1 1HN`, is BAD_USER_INPUT); kept in capitals. None by default.
    #[graphql(default, validator(list, custom = "crate::graphql::Text(8)"))]
    pub postcode_districts: Vec<String>,
    /// At most 500 LSOA codes, each in one area of the partnership.
    #[graphql(
        default,
        validator(max_items = 500, list, custom = "crate::graphql::Text(16)")
    )]
    pub lsoas: Vec<String>,
}

/// Changes to an area, for `updateArea`: a field left out keeps its value.
#[derive(InputObject)]
pub struct UpdateAreaInput {
    /// The area's `id`; NOT_FOUND when it is not an area of a partnership in the token's scope.
    pub area_id: ID,
    /// The new name for display, up to 200 characters; not blank.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub name: Option<String>,
    /// The new kind: ward or neighbourhood.
    pub kind: Option<AreaKind>,
    /// Replaces the area's outward postcodes, such as `SG1` (up to 8 characters each; anything
    /// finer is BAD_USER_INPUT).
    #[graphql(validator(list, custom = "crate::graphql::Text(8)"))]
    pub postcode_districts: Option<Vec<String>>,
    /// Replaces the area's LSOAs (at most 500).
    #[graphql(validator(max_items = 500, list, custom = "crate::graphql::Text(16)"))]
    pub lsoas: Option<Vec<String>>,
}

fn lsoas(list: &[String]) -> Result<Vec<String>, AppError> {
    let mut out = list
        .iter()
        .map(|l| lsoa_code(l).map_err(|(_, m)| AppError::BadUserInput(m)))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn districts(list: &[String]) -> Result<Vec<String>, AppError> {
    let mut out = list
        .iter()
        .map(|d| outward_code(d).map_err(|(_, m)| AppError::BadUserInput(m)))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

#[derive(Default)]
pub struct AreaQuery;

#[Object]
impl AreaQuery {
    /// A partnership's areas, by code, as a Relay connection (a short list read whole and paged
    /// by position). Every role may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn areas(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (otherwise BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(
            desc = "The `pageInfo.endCursor` of the previous page; left out for the first page. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<crate::graphql::page::Connection<Area>> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadReferenceData)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        let rows = db::area::areas_in(super::db(ctx)?, &[target.id]).await?;
        Ok(crate::graphql::page::page_of(
            rows.into_iter().map(Area::from).collect(),
            &crate::graphql::page::PageArgs::new(first, after, last, before),
        )?)
    }

    /// The vocabularies records are checked against, optionally one of them and only the terms
    /// in force on a day, by vocabulary and code, as a Relay connection (read whole and paged by
    /// position). Every role may read them.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn vocabularies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this vocabulary's terms; every vocabulary's when omitted.")]
        vocabulary: Option<VocabularyKind>,
        #[graphql(
            desc = "Only the terms in force on this day (YYYY-MM-DD); every term, past ones included, when omitted."
        )]
        on: Option<crate::scalar::Date>,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(
            desc = "The `pageInfo.endCursor` of the previous page; left out for the first page. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<crate::graphql::page::Connection<VocabularyTerm>> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadReferenceData)?;
        let terms = db::vocabulary::terms(
            super::db(ctx)?,
            vocabulary.map(Into::into),
            on.map(Into::into),
        )
        .await?;
        Ok(crate::graphql::page::page_of(
            terms.into_iter().map(VocabularyTerm::from).collect(),
            &crate::graphql::page::PageArgs::new(first, after, last, before),
        )?)
    }
}

#[derive(Default)]
pub struct AreaMutation;

#[Object]
impl AreaMutation {
    /// Registers an area of a partnership, with the LSOAs it is made of. Its code may not be
    /// `no-area`, which statistics use for records without a location. Coordinators only.
    async fn create_area(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The area to register. An LSOA already in another area of the partnership is BAD_USER_INPUT."
        )]
        input: CreateAreaInput,
    ) -> Result<Area> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageAreas)?;
        let code = crate::domain::plan::code(&input.code, "area code", "old-town")?;
        if code == NO_AREA {
            return Err(AppError::BadUserInput(format!(
                "'{NO_AREA}' is where records without a location are counted: choose another code"
            ))
            .into());
        }
        let row = db::area::AreaRow {
            id: uuid::Uuid::nil(),
            partnership_id: target.id,
            code,
            name: crate::domain::plan::required_text(&input.name, "name")?,
            kind: input.kind.as_str().to_owned(),
            postcode_districts: districts(&input.postcode_districts)?,
            lsoas: lsoas(&input.lsoas)?,
        };
        let conn = super::db(ctx)?;
        let mut saved = db::area::save_area(conn, &row, false).await?;
        db::area::set_lsoas(conn, &saved, &row.lsoas).await?;
        saved.lsoas = row.lsoas;
        Ok(saved.into())
    }

    /// Renames an area or changes its kind, postcodes or LSOAs (its code stays). Coordinators
    /// only.
    async fn update_area(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The area (`areaId`) and what to change; fields left out keep their values."
        )]
        input: UpdateAreaInput,
    ) -> Result<Area> {
        let p = principal(ctx)?;
        let conn = super::db(ctx)?;
        let mut row =
            db::area::area_in_scope(conn, &p.scope(), parse_id(&input.area_id, "area")?).await?;
        authorize(p, Operation::ManageAreas)?;
        if let Some(name) = &input.name {
            row.name = crate::domain::plan::required_text(name, "name")?;
        }
        if let Some(kind) = input.kind {
            row.kind = kind.as_str().to_owned();
        }
        if let Some(list) = &input.postcode_districts {
            row.postcode_districts = districts(list)?;
        }
        db::area::update_area(conn, &row).await?;
        if let Some(list) = &input.lsoas {
            row.lsoas = lsoas(list)?;
            db::area::set_lsoas(conn, &row, &row.lsoas).await?;
        }
        Ok(row.into())
    }
}
