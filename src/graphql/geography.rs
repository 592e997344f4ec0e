//! The ONS's official geography as clients read it (`officialAreas`): LSOAs, MSOAs, wards and
//! districts of each vintage, with the LSOAs within each and each LSOA's counterparts in the
//! 2011-to-2021 lookup. Public reference data: every role may read it. And the partnership's
//! records counted in those areas (`areaStatistics`), with populations, rates and deprivation.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::principal;
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::error::AppError;

/// A kind of official area.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OfficialAreaKind {
    /// A lower layer super output area (about 1,500 residents), of 2011 or 2021.
    Lsoa,
    /// A middle layer super output area (a few LSOAs), of 2011 or 2021.
    Msoa,
    /// An electoral ward, as a boundary review drew it.
    Ward,
    /// A local authority district.
    District,
}

/// How an LSOA of 2011 became LSOAs of 2021, as the ONS's lookup says.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LsoaChange {
    /// The same LSOA in both (its name may have changed).
    Unchanged,
    /// A 2011 LSOA split into several of 2021.
    Split,
    /// Several 2011 LSOAs merged into one of 2021.
    Merged,
    /// Redrawn otherwise: parts of LSOAs became parts of others.
    Irregular,
}

/// An LSOA's counterpart of the other vintage in the 2011-to-2021 lookup.
#[derive(SimpleObject, Clone)]
pub struct LsoaCounterpart {
    /// The other vintage's LSOA code.
    pub code: String,
    /// How the 2011 LSOA became the 2021 one.
    pub change: LsoaChange,
}

/// An area of the ONS's official geography, as `csphub import geography` loaded it.
#[derive(SimpleObject, Clone)]
pub struct OfficialArea {
    /// The ONS code, such as `E01023778` (an LSOA) or `E05015624` (a ward).
    pub code: String,
    /// The ONS name, such as `Stevenage 002C` or `Almond Hill`.
    pub name: String,
    /// What kind of area it is.
    pub kind: OfficialAreaKind,
    /// The year of the geography the code and name come from: 2011 or 2021 for LSOAs and
    /// MSOAs; for wards and districts, the year of the lookup or boundary file (a ward of 2019
    /// and one of 2024 may share a code when a review left it alone).
    pub vintage: i32,
    /// The district's ONS code, such as `E07000243`; null when no file imported said.
    pub district: Option<String>,
    /// True when a boundary was imported for it.
    pub has_boundary: bool,
    /// For a ward, MSOA or district: the LSOAs within it by the ONS's best-fit lookup of the
    /// same vintage, by code; empty for an LSOA and where no lookup was imported.
    pub lsoas: Vec<String>,
    /// For an LSOA: its counterparts of the other vintage in the 2011-to-2021 lookup, by code;
    /// empty for other kinds and where the lookup was not imported.
    pub counterparts: Vec<LsoaCounterpart>,
}

/// The kind as the tables hold it: `lsoa`, `msoa`, `ward`, `district`.
fn kind_of(kind: OfficialAreaKind) -> String {
    super::name_of(kind).to_ascii_lowercase()
}

impl TryFrom<db::geography::OfficialAreaRow> for OfficialArea {
    type Error = AppError;
    fn try_from(r: db::geography::OfficialAreaRow) -> Result<Self, AppError> {
        let kind = super::value_of::<OfficialAreaKind>(&r.kind.to_ascii_uppercase())
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown area kind {}", r.kind)))?;
        let counterparts = r
            .counterparts
            .iter()
            .map(|c| {
                let (code, change) = c.split_once(':').unwrap_or((c, ""));
                let change = match change {
                    "U" => LsoaChange::Unchanged,
                    "S" => LsoaChange::Split,
                    "M" => LsoaChange::Merged,
                    "X" => LsoaChange::Irregular,
                    other => {
                        return Err(AppError::internal(anyhow::anyhow!(
                            "unknown LSOA change {other}"
                        )));
                    }
                };
                Ok(LsoaCounterpart {
                    code: code.to_owned(),
                    change,
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(Self {
            code: r.code,
            name: r.name,
            kind,
            vintage: r.vintage,
            district: r.district,
            has_boundary: r.has_boundary,
            lsoas: r.lsoas,
            counterparts,
        })
    }
}

#[derive(Default)]
pub struct GeographyQuery;

#[Object]
impl GeographyQuery {
    /// A district's official areas of one kind (LSOAs, MSOAs, wards or districts), of every
    /// vintage or of one, by vintage and code, as a Relay connection (read whole and paged by
    /// position). The ONS's geography as `csphub import geography` loaded it: public reference
    /// data, which every role may read.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn official_areas(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The district's ONS code, such as `E07000243` (Stevenage); BAD_USER_INPUT when it is not a letter and eight digits."
        )]
        district: String,
        #[graphql(desc = "The kind of area listed.")] kind: OfficialAreaKind,
        #[graphql(
            desc = "Only this vintage, such as 2011 or 2021 for LSOAs, or 2024 for wards; every vintage when omitted."
        )]
        vintage: Option<i32>,
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
    ) -> Result<crate::graphql::page::Connection<OfficialArea>> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadReferenceData)?;
        let d = crate::service::geography::district_code(&district)?;
        let rows =
            db::geography::official_areas(super::db(ctx)?, &d, &kind_of(kind), vintage).await?;
        let areas = rows
            .into_iter()
            .map(OfficialArea::try_from)
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(crate::graphql::page::page_of(
            areas,
            &crate::graphql::page::PageArgs::new(first, after, last, before),
        )?)
    }

    /// A partnership's ACTIVE records counted in a district's official areas of one kind and
    /// vintage (LSOAs, MSOAs or wards), whichever LSOA vintage each record carries: a record
    /// in an LSOA of the other vintage is counted through the ONS's 2011-to-2021 lookup, a
    /// split shared by population (docs/geography.md). Each area has its population, its rate
    /// per 1,000 residents and, for an LSOA, its deprivation decile. Exact figures, for
    /// partners; the PCC gets FORBIDDEN and reads `protectedAreaStatistics`. NOT_FOUND when the
    /// district's areas of that kind and vintage are not held.
    #[graphql(
        complexity = "crate::graphql::STATS_COST * (1 + usize::from(compare_with.is_some())) + child_complexity"
    )]
    async fn area_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            name = "filter",
            desc = "Which records to count; `period` is required (BAD_USER_INPUT without it). Only ACTIVE records count, so `status` is ignored."
        )]
        input: crate::graphql::incident::IncidentFilterInput,
        #[graphql(
            desc = "The district's ONS code, such as `E07000243` (Stevenage); BAD_USER_INPUT when it is not a letter and eight digits."
        )]
        district: String,
        #[graphql(desc = "LSOA, MSOA or WARD (BAD_USER_INPUT for DISTRICT: read `total`).")]
        kind: OfficialAreaKind,
        #[graphql(
            desc = "The areas' vintage: 2011 or 2021 for LSOAs and MSOAs, a lookup's year for wards (such as 2024)."
        )]
        vintage: i32,
        #[graphql(
            desc = "An earlier period to count as well (`previousCount`, `changePercent`, `previousRatePer1000`); none when omitted."
        )]
        compare_with: Option<crate::graphql::incident::StatsComparison>,
    ) -> Result<crate::service::geography::AreaStatistics> {
        let p = principal(ctx)?;
        let (filter, period) = input.to_filter(p)?;
        authorize(p, Operation::ReadAreaStatistics)?;
        let period = period.ok_or_else(|| {
            AppError::BadUserInput("areaStatistics needs filter.period".to_owned())
        })?;
        let (d, kind) = official_target(&district, kind)?;
        let compared = compare_with.map(|c| match c {
            crate::graphql::incident::StatsComparison::PreviousPeriod => period.previous(),
            crate::graphql::incident::StatsComparison::SamePeriodLastYear => period.year_earlier(),
        });
        let txn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        Ok(crate::service::geography::area_statistics(
            txn, &filter, &d, &kind, vintage, period, compared,
        )
        .await?)
    }

    /// The PCC's figures of a partnership in a district's official areas of one kind and
    /// vintage (LSOAs, MSOAs or wards): each area's count is the sum of the cells of the
    /// partnership's protected table set for the LSOAs within it (the records' own LSOAs,
    /// placed whole through the ONS's lookup where that is certain), withheld (null,
    /// `suppressed`) when any of those cells is, so that small numbers and anything the PCC's
    /// other figures withhold stay withheld (docs/small-numbers.md). Of all categories, for
    /// one quarter, half or financial year (an LSOA's month or category is nearly always a
    /// small count: BAD_USER_INPUT). Domestic-abuse related records
    /// are never located: `domesticAbuse`. The PCC only (partners read the exact
    /// `areaStatistics`); NOT_FOUND when the district's areas of that kind and vintage are not
    /// held.
    #[graphql(
        complexity = "crate::graphql::STATS_COST * (1 + usize::from(compare_with.is_some())) + child_complexity"
    )]
    async fn protected_area_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            name = "filter",
            desc = "The partnership and the period (one quarter, half or financial year); BAD_USER_INPUT for a month, a category or any other filter."
        )]
        input: crate::graphql::incident::IncidentFilterInput,
        #[graphql(desc = "The district's ONS code, such as `E07000243` (Stevenage).")]
        district: String,
        #[graphql(desc = "LSOA, MSOA or WARD (BAD_USER_INPUT for DISTRICT: read `total`).")]
        kind: OfficialAreaKind,
        #[graphql(
            desc = "The areas' vintage: 2011 or 2021 for LSOAs and MSOAs, a lookup's year for wards (such as 2024)."
        )]
        vintage: i32,
        #[graphql(
            desc = "The unit before, or the same unit a year earlier (`previousCount`, `changePercent`); none when omitted."
        )]
        compare_with: Option<crate::graphql::incident::StatsComparison>,
    ) -> Result<crate::service::protected_area::ProtectedAreaStatistics> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadProtectedAreaStatistics)?;
        let (filter, period) = input.to_filter(p)?;
        if !input.source_agencies.is_empty()
            || input.alcohol_related.is_some()
            || input.youth_related.is_some()
            || input.hate_strand.is_some()
            || input.status.is_some()
            || input.domestic_abuse.is_some()
            || !input.areas.is_empty()
            || input.categories.len() > 1
        {
            return Err(AppError::BadUserInput(
                "the PCC's figures by official area are cells of one protected table: filter by partnership and period only".to_owned(),
            )
            .into());
        }
        let period = period.ok_or_else(|| {
            AppError::BadUserInput("protectedAreaStatistics needs filter.period".to_owned())
        })?;
        let (d, kind) = official_target(&district, kind)?;
        let txn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        Ok(crate::service::protected_area::protected_area_statistics(
            txn,
            filter.partnership_id,
            input.categories.first().cloned(),
            &d,
            &kind,
            vintage,
            period,
            compare_with.map(Into::into),
        )
        .await?)
    }

    /// A district's official areas (LSOAs, MSOAs or wards) as hotspots of a partnership's
    /// ACTIVE records in a period: each area's count, rate per 1,000 and rank by rate; its
    /// change on the previous period and on the same period last year, each put to an exact
    /// rate-ratio test (so that 2 becoming 4 is not called a rise); the Getis-Ord Gi* statistic
    /// of the area with its neighbours (from the boundaries); findings held to a 5% false
    /// discovery rate across the areas; and the records by deprivation decile. Filter by
    /// category for a crime type or ASB (`categories: ["anti-social-behaviour"]`). Method and
    /// limits: docs/geography.md. Partners only, like `areaStatistics`; NOT_FOUND when the
    /// district's areas of that kind and vintage are not held.
    #[graphql(complexity = "crate::graphql::STATS_COST * 3 + child_complexity")]
    async fn hotspots(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            name = "filter",
            desc = "Which records to count; `period` is required (BAD_USER_INPUT without it). Only ACTIVE records count."
        )]
        input: crate::graphql::incident::IncidentFilterInput,
        #[graphql(desc = "The district's ONS code, such as `E07000243` (Stevenage).")]
        district: String,
        #[graphql(desc = "LSOA, MSOA or WARD (BAD_USER_INPUT for DISTRICT).")]
        kind: OfficialAreaKind,
        #[graphql(
            desc = "The areas' vintage: 2011 or 2021 for LSOAs and MSOAs, a lookup's year for wards (such as 2024)."
        )]
        vintage: i32,
    ) -> Result<crate::service::hotspot::Hotspots> {
        let p = principal(ctx)?;
        let (filter, period) = input.to_filter(p)?;
        authorize(p, Operation::ReadAreaStatistics)?;
        let period = period
            .ok_or_else(|| AppError::BadUserInput("hotspots needs filter.period".to_owned()))?;
        let (d, kind) = official_target(&district, kind)?;
        let txn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        Ok(crate::service::hotspot::hotspots(txn, &filter, &d, &kind, vintage, period).await?)
    }
}

/// The district's code and the kind of area statistics are counted in, checked.
fn official_target(district: &str, kind: OfficialAreaKind) -> Result<(String, String), AppError> {
    let d = crate::service::geography::district_code(district)?;
    if kind == OfficialAreaKind::District {
        return Err(AppError::BadUserInput(
            "figures are counted in LSOAs, MSOAs or wards; a district's figure is their total"
                .to_owned(),
        ));
    }
    Ok((d, kind_of(kind)))
}
