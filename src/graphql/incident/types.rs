//! The incident types of the schema: the record (`Incident`) with its linked objects and
//! revisions, the push's input and result, and the filters of `incidents` and the statistics.

use super::*;

/// Whether an incident record stands or was withdrawn by its agency.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IncidentStatus {
    /// The record stands: it counts in statistics.
    Active,
    /// Withdrawn by its agency, with a `cancelReason`: kept, but never counted in statistics.
    Cancelled,
}

impl IncidentStatus {
    fn as_str(self) -> &'static str {
        crate::graphql::name_of(self)
    }
}

/// A depersonalised incident record as a partner system pushes it. There is no field for a
/// name, free text or an address.
#[derive(InputObject)]
pub struct IncidentInput {
    /// The partner's own id, up to 64 characters, unique per agency.
    pub external_ref: String,
    /// The agency whose record it is, as an export names it: left out, the pushing agency's;
    /// naming another agency, the record is refused (OTHER_AGENCY), since an agency's records
    /// are changed only by that agency.
    pub source_agency: Option<String>,
    /// The partnership's slug; may be left out when the token names one partnership.
    pub partnership: Option<String>,
    /// A CRIME_CATEGORY code in force on the day it occurred.
    pub category: String,
    /// RFC 3339, e.g. 2015-03-31T23:30:00Z. Months and quarters count in Europe/London time.
    pub occurred_at: String,
    /// When it was reported, RFC 3339 like `occurredAt`; not before `occurredAt` and not more
    /// than 5 minutes ahead of the server's clock (INVALID_DATE).
    pub reported_at: Option<String>,
    /// An area code of the partnership, e.g. old-town. Left out with `lsoa` for a record without
    /// a location, which has no area and counts under `no-area`.
    pub area: Option<String>,
    /// An LSOA code, e.g. E01023720: with `area` left out, the record is placed in the area that
    /// lists it (UNKNOWN_LSOA when none does); with `area`, it must not be another area's.
    pub lsoa: Option<String>,
    /// An outward postcode only, e.g. SG1; anything finer is rejected.
    pub postcode_district: Option<String>,
    /// Whether the incident is domestic abuse related (default false). The PCC's figures never
    /// place such records in an area.
    #[graphql(default)]
    pub domestic_abuse: bool,
    /// Whether the incident is alcohol related (default false).
    #[graphql(default)]
    pub alcohol_related: bool,
    /// Whether the incident is youth related (default false).
    #[graphql(default)]
    pub youth_related: bool,
    /// HATE_STRAND codes (such as `race`) in force on the day it occurred, from the
    /// `vocabularies` query; empty (the default) when it is not a hate incident. Repeats are
    /// dropped.
    #[graphql(default)]
    pub hate_strands: Vec<String>,
    /// a, b or c.
    pub drug_class: Option<String>,
    /// Only with anti-social-behaviour, and optional: personal, nuisance or environmental.
    pub asb_type: Option<String>,
    /// Required for deliberate-fire: primary, primary-vehicle or secondary.
    pub fire_type: Option<String>,
    /// An OUTCOME code (data.police.uk's outcome categories, such as `under-investigation`,
    /// from the `vocabularies` query); may be left out.
    pub outcome: Option<String>,
    /// ACTIVE (the default when left out) or CANCELLED, which needs `cancelReason`.
    pub status: Option<IncidentStatus>,
    /// Required when CANCELLED.
    pub cancel_reason: Option<String>,
}

impl From<IncidentInput> for RecordInput {
    fn from(i: IncidentInput) -> Self {
        RecordInput {
            external_ref: i.external_ref,
            source_agency: i.source_agency,
            partnership: i.partnership,
            category: i.category,
            occurred_at: i.occurred_at,
            reported_at: i.reported_at,
            area: i.area,
            lsoa: i.lsoa,
            postcode_district: i.postcode_district,
            domestic_abuse: i.domestic_abuse,
            alcohol_related: i.alcohol_related,
            youth_related: i.youth_related,
            hate_strands: i.hate_strands,
            drug_class: i.drug_class,
            asb_type: i.asb_type,
            fire_type: i.fire_type,
            outcome: i.outcome,
            status: i.status.map(|s| s.as_str().to_owned()),
            cancel_reason: i.cancel_reason,
        }
    }
}

/// A record of a push that was not applied, by its position in the request.
#[derive(SimpleObject, Clone)]
pub struct PushRejection {
    /// The record's position in the request's list, counting from 0.
    pub index: i32,
    /// The record's `externalRef` as sent (cut to 64 characters); null when the record could
    /// not be read at all.
    pub external_ref: Option<String>,
    /// e.g. UNKNOWN_CATEGORY, CATEGORY_NOT_IN_FORCE, UNKNOWN_AREA, POSTCODE_TOO_FINE, REF_TOO_LONG.
    pub code: String,
    /// What is wrong with the record, in English, for people to read; match on `code`, not on
    /// this.
    pub message: String,
}

/// What a push did. Pushing the same records again makes them `unchanged`.
#[derive(SimpleObject, Clone)]
pub struct PushResult {
    /// How many records were new and are now stored.
    pub created: i32,
    /// How many records already held were changed (each one's previous state kept as a
    /// revision).
    pub updated: i32,
    /// How many records were already held exactly as sent, so nothing changed.
    pub unchanged: i32,
    /// The records not applied, in request order, each with why; every other record was
    /// applied.
    pub rejected: Vec<PushRejection>,
}

fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<PushReport> for PushResult {
    fn from(r: PushReport) -> Self {
        Self {
            created: int(r.created),
            updated: int(r.updated),
            unchanged: int(r.unchanged),
            rejected: r
                .rejected
                .into_iter()
                .map(|x| PushRejection {
                    index: i32::try_from(x.index).unwrap_or(i32::MAX),
                    external_ref: x.external_ref,
                    code: x.code.to_owned(),
                    message: x.message,
                })
                .collect(),
        }
    }
}

/// A period: exactly one of a financial year, a quarter, a month, or from and to.
#[derive(InputObject, Clone, Default)]
pub struct PeriodInput {
    /// e.g. 2015/16
    pub financial_year: Option<String>,
    /// e.g. 2015/16 Q1
    pub quarter: Option<String>,
    /// e.g. 2015-04
    pub month: Option<String>,
    /// First day (Europe/London), with `to`.
    pub from: Option<crate::scalar::Date>,
    /// Last day, included.
    pub to: Option<crate::scalar::Date>,
}

impl PeriodInput {
    pub fn to_period(&self) -> Result<Period, AppError> {
        Period::given(
            self.financial_year.as_deref(),
            self.quarter.as_deref(),
            self.month.as_deref(),
            self.from.map(Into::into),
            self.to.map(Into::into),
        )
    }
}

/// Filters for incident rows and statistics.
#[derive(InputObject, Clone, Default)]
pub struct IncidentFilterInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    pub partnership: Option<String>,
    /// The days the incidents occurred in (Europe/London). Optional for `incidents` (every
    /// date when left out); required for `incidentStats` (BAD_USER_INPUT without it).
    pub period: Option<PeriodInput>,
    /// CRIME_CATEGORY codes (from the `vocabularies` query): records of any of them. Empty (the
    /// default) for every category. The PCC may name at most one.
    #[graphql(default)]
    pub categories: Vec<String>,
    /// Area codes of the partnership (from the `areas` query), or `no-area` for records
    /// without a location: records in any of them. Empty (the default) for every area. The
    /// PCC may name at most one, and none with `domesticAbuse: true` (FORBIDDEN).
    #[graphql(default)]
    pub areas: Vec<String>,
    /// Slugs of the agencies that pushed the records: records of any of them. Empty (the
    /// default) for every agency. The PCC may not use it (BAD_USER_INPUT).
    #[graphql(default)]
    pub source_agencies: Vec<String>,
    /// True: only records flagged as domestic abuse; false: only those not flagged; left out:
    /// both. The PCC may give only true, and then no area.
    pub domestic_abuse: Option<bool>,
    /// True: only alcohol related records; false: only the others; left out: both. The PCC may
    /// not use it (BAD_USER_INPUT).
    pub alcohol_related: Option<bool>,
    /// True: only youth related records; false: only the others; left out: both. The PCC may
    /// not use it (BAD_USER_INPUT).
    pub youth_related: Option<bool>,
    /// A HATE_STRAND code such as `race`: only records carrying it. The PCC may not use it
    /// (BAD_USER_INPUT).
    pub hate_strand: Option<String>,
    /// Rows only; statistics always count ACTIVE records.
    pub status: Option<IncidentStatus>,
}

impl IncidentFilterInput {
    pub fn to_filter(&self, p: &Principal) -> Result<(IncidentFilter, Option<Period>), AppError> {
        let partnership = p.partnership_or_only(self.partnership.as_deref())?;
        let period = self
            .period
            .as_ref()
            .map(PeriodInput::to_period)
            .transpose()?;
        Ok((
            IncidentFilter {
                partnership_id: partnership.id,
                from: period.map(|p| p.from),
                to: period.map(|p| p.to),
                categories: self.categories.clone(),
                areas: self.areas.clone(),
                source_agencies: self.source_agencies.clone(),
                domestic_abuse: self.domestic_abuse,
                alcohol_related: self.alcohol_related,
                youth_related: self.youth_related,
                hate_strand: self.hate_strand.clone(),
                status: self.status.map(|s| s.as_str().to_owned()),
                exclude_domestic_abuse: false,
            },
            period,
        ))
    }
}

/// An incident record as partners see it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Incident {
    /// The record's id, an opaque string.
    pub id: ID,
    /// The linked objects of the page it came in, when `incidents` read them for the page.
    #[graphql(skip)]
    pub links: Option<Arc<PageLinks>>,
    /// The source agency's slug (`sourceAgency` is the agency).
    #[graphql(skip)]
    pub source_agency: String,
    #[graphql(skip)]
    pub source_agency_name: String,
    #[graphql(skip)]
    pub source_agency_kind: String,
    /// The source agency's own reference for the record, unique per agency.
    pub external_ref: String,
    /// The slug of the partnership the record belongs to.
    pub partnership: String,
    /// The CRIME_CATEGORY code (`category` is the term).
    #[graphql(skip)]
    pub category: String,
    /// When it occurred (RFC 3339, UTC). Periods count it by its Europe/London day.
    pub occurred_at: crate::scalar::Timestamp,
    /// When it was reported (RFC 3339, UTC); null when the agency did not say.
    pub reported_at: Option<crate::scalar::Timestamp>,
    /// The area's code (`area` is the area).
    #[graphql(skip)]
    pub area: Option<String>,
    #[graphql(skip)]
    pub area_id: Option<Uuid>,
    /// The LSOA the partner gave, if any.
    pub lsoa: Option<String>,
    /// The outward postcode, such as `SG1`, never finer; null when the agency gave none.
    pub postcode_district: Option<String>,
    /// Whether the incident is domestic abuse related.
    pub domestic_abuse: bool,
    /// Whether the incident is alcohol related.
    pub alcohol_related: bool,
    /// Whether the incident is youth related.
    pub youth_related: bool,
    /// The HATE_STRAND codes (`hateStrands` are the terms).
    #[graphql(skip)]
    pub hate_strands: Vec<String>,
    /// The DRUG_CLASS code (`drugClass` is the term).
    #[graphql(skip)]
    pub drug_class: Option<String>,
    /// The ASB_TYPE code (`asbType` is the term).
    #[graphql(skip)]
    pub asb_type: Option<String>,
    /// The FIRE_TYPE code (`fireType` is the term).
    #[graphql(skip)]
    pub fire_type: Option<String>,
    /// The OUTCOME code (`outcome` is the term).
    #[graphql(skip)]
    pub outcome: Option<String>,
    /// ACTIVE, or CANCELLED when its agency withdrew it; only ACTIVE records count in
    /// statistics.
    pub status: IncidentStatus,
    /// The CANCEL_REASON code (`cancelReason` is the term).
    #[graphql(skip)]
    pub cancel_reason: Option<String>,
    /// 1 for the first push; up by one with each change.
    pub revision: i32,
    /// When csphub first received the record (RFC 3339, UTC).
    pub created_at: crate::scalar::Timestamp,
    /// When a push last changed the record (RFC 3339, UTC); the same as `createdAt` until one
    /// does. Pushing it again unchanged does not move it.
    pub updated_at: crate::scalar::Timestamp,
    #[graphql(skip)]
    pub uuid: Uuid,
}

impl From<IncidentRow> for Incident {
    fn from(r: IncidentRow) -> Self {
        Self {
            id: ID(r.id.to_string()),
            links: None,
            uuid: r.id,
            source_agency: r.source_agency,
            source_agency_name: r.source_agency_name,
            source_agency_kind: r.source_agency_kind,
            external_ref: r.external_ref,
            partnership: r.partnership,
            category: r.category,
            occurred_at: Timestamp(r.occurred_at),
            reported_at: r.reported_at.map(Into::into),
            area: r.area,
            area_id: r.area_id,
            lsoa: r.lsoa,
            postcode_district: r.postcode_district,
            domestic_abuse: r.domestic_abuse,
            alcohol_related: r.alcohol_related,
            youth_related: r.youth_related,
            hate_strands: r.hate_strands,
            drug_class: r.drug_class,
            asb_type: r.asb_type,
            fire_type: r.fire_type,
            outcome: r.outcome,
            status: if r.status == "CANCELLED" {
                IncidentStatus::Cancelled
            } else {
                IncidentStatus::Active
            },
            cancel_reason: r.cancel_reason,
            revision: r.revision,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

/// An earlier state of an incident, kept when a push changed it.
#[derive(SimpleObject, Clone)]
pub struct IncidentRevision {
    /// The `revision` the record had in that state (1 for the first push).
    pub revision: i32,
    /// The record as it stood (stored columns, as JSON).
    pub record: async_graphql::Json<serde_json::Value>,
    /// Who pushed that state, and when.
    pub pushed_by: String,
    /// When that state was pushed (RFC 3339, UTC).
    pub pushed_at: crate::scalar::Timestamp,
    /// When a later push replaced it.
    pub replaced_at: crate::scalar::Timestamp,
}

#[async_graphql::ComplexObject]
impl Incident {
    /// The agency that pushed the record (its slug, name and kind): the record is its.
    #[graphql(complexity = "child_complexity")]
    async fn source_agency(&self) -> crate::graphql::area::Agency {
        crate::graphql::area::Agency::new(
            self.source_agency.clone(),
            self.source_agency_name.clone(),
            self.source_agency_kind.clone(),
        )
    }

    /// The crime category: its CRIME_CATEGORY code (such as `burglary`) and label, as the term
    /// stood on the day the incident occurred. Read in one statement for a whole page.
    #[graphql(complexity = "child_complexity")]
    async fn category(&self, ctx: &Context<'_>) -> Result<crate::graphql::area::VocabularyTerm> {
        let term = self
            .term(ctx, Vocabulary::CrimeCategory, &self.category)
            .await?;
        Ok(term)
    }

    /// The area the record is placed in (code, name, kind); null for a record without a
    /// location (`no-area` in statistics). Read in one statement for a whole page.
    #[graphql(complexity = "child_complexity")]
    async fn area(&self, ctx: &Context<'_>) -> Result<Option<Arc<crate::graphql::area::Area>>> {
        let Some(id) = self.area_id else {
            return Ok(None);
        };
        if let Some(links) = &self.links {
            return Ok(links.areas.get(&id).cloned());
        }
        Ok(links(ctx)?.load_one(AreaById(id)).await?)
    }

    /// The outcome: its OUTCOME code (such as `under-investigation`) and label; null when the
    /// agency gave none. Read in one statement for a whole page.
    #[graphql(complexity = "child_complexity")]
    async fn outcome(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::area::VocabularyTerm>> {
        self.optional_term(ctx, Vocabulary::Outcome, self.outcome.as_deref())
            .await
    }

    /// The hate strands the record carries: each HATE_STRAND code (such as `race`) with its
    /// label, sorted by code; empty when it is not a hate incident. Read in one statement for a
    /// whole page.
    #[graphql(complexity = "child_complexity")]
    async fn hate_strands(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::graphql::area::VocabularyTerm>> {
        let mut out = Vec::with_capacity(self.hate_strands.len());
        for code in &self.hate_strands {
            out.push(self.term(ctx, Vocabulary::HateStrand, code).await?);
        }
        Ok(out)
    }

    /// The drug class: its DRUG_CLASS code (`a`, `b` or `c`) and label; null when none was
    /// given. Read in one statement for a whole page.
    #[graphql(complexity = "child_complexity")]
    async fn drug_class(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::area::VocabularyTerm>> {
        self.optional_term(ctx, Vocabulary::DrugClass, self.drug_class.as_deref())
            .await
    }

    /// The kind of anti-social behaviour: its ASB_TYPE code (`personal`, `nuisance` or
    /// `environmental`) and label; null when not given or not anti-social behaviour. Read in
    /// one statement for a whole page.
    #[graphql(complexity = "child_complexity")]
    async fn asb_type(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::area::VocabularyTerm>> {
        self.optional_term(ctx, Vocabulary::AsbType, self.asb_type.as_deref())
            .await
    }

    /// The kind of fire: its FIRE_TYPE code (`primary`, `primary-vehicle` or `secondary`) and
    /// label, for a deliberate-fire or criminal-damage-arson record; null otherwise. Read in
    /// one statement for a whole page.
    #[graphql(complexity = "child_complexity")]
    async fn fire_type(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::area::VocabularyTerm>> {
        self.optional_term(ctx, Vocabulary::FireType, self.fire_type.as_deref())
            .await
    }

    /// Why its agency withdrew a CANCELLED record: the CANCEL_REASON code (such as
    /// `duplicate`) and label; null for an ACTIVE one. Read in one statement for a whole page.
    #[graphql(complexity = "child_complexity")]
    async fn cancel_reason(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::area::VocabularyTerm>> {
        self.optional_term(ctx, Vocabulary::CancelReason, self.cancel_reason.as_deref())
            .await
    }

    /// Earlier states of the record, oldest first.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<IncidentRevision>> {
        let loader = ctx
            .data_opt::<async_graphql::dataloader::DataLoader<IncidentLoader>>()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no incident loader")))?;
        let rows = loader
            .load_one(RevisionsOf(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|r| IncidentRevision {
                revision: r.revision,
                record: async_graphql::Json(r.record),
                pushed_by: r.pushed_by_sub,
                pushed_at: Timestamp(r.pushed_at),
                replaced_at: Timestamp(r.replaced_at),
            })
            .collect())
    }
}

impl Incident {
    /// The term of `vocabulary` with `code` in force on the day the incident occurred (London
    /// time), or its latest version; a code no term has (none should) is its own label.
    async fn optional_term(
        &self,
        ctx: &Context<'_>,
        vocabulary: Vocabulary,
        code: Option<&str>,
    ) -> Result<Option<crate::graphql::area::VocabularyTerm>> {
        match code {
            None => Ok(None),
            Some(code) => Ok(Some(self.term(ctx, vocabulary, code).await?)),
        }
    }

    async fn term(
        &self,
        ctx: &Context<'_>,
        vocabulary: Vocabulary,
        code: &str,
    ) -> Result<crate::graphql::area::VocabularyTerm> {
        let day = self
            .occurred_at
            .0
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive();
        super::term_on(ctx, self.links.as_deref(), vocabulary, code, day).await
    }
}
