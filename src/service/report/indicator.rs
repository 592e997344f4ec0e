//! Indicators as reports carry them, and the strategic assessment's types.

use async_graphql::{Enum, ID, SimpleObject};

use super::PeriodRange;
use crate::db::indicator::IndicatorRow;

/// What an indicator measures: a count of incident records, or a figure recorded from another
/// source.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IndicatorKind {
    /// Counts ACTIVE incidents matching the definition.
    Incidents,
    /// A figure a coordinator records for a partnership and a period (`recordIndicatorValue`).
    External,
}

/// Which incidents an INCIDENTS indicator counts: ACTIVE records matching every condition
/// given. An empty list or a null flag is no condition.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorDefinition {
    /// Crime categories (any of them).
    pub categories: Vec<String>,
    /// true: only records flagged as domestic-abuse related; false: only records not so flagged;
    /// null: no condition.
    pub domestic_abuse: Option<bool>,
    /// true: only records flagged as alcohol related; false: only records not so flagged; null:
    /// no condition.
    pub alcohol_related: Option<bool>,
    /// true: only records flagged as youth related; false: only records not so flagged; null: no
    /// condition.
    pub youth_related: Option<bool>,
    /// true: records with at least one hate strand.
    pub hate_crime: Option<bool>,
    /// Records with any of these hate strands.
    pub hate_strands: Vec<String>,
    /// Records with any of these drug classes (DRUG_CLASS vocabulary codes: `a`, `b`, `c`).
    pub drug_classes: Vec<String>,
    /// Records with any of these fire types (FIRE_TYPE vocabulary codes, such as `secondary`).
    pub fire_types: Vec<String>,
}

/// A named measure: a count of incidents, or an external figure with its source.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Indicator {
    /// Opaque id, for `indicatorId` arguments. Each partnership's copy of a built-in indicator
    /// has an id of its own.
    pub id: ID,
    /// Such as `domestic-abuse`; unique within a partnership, built-in codes included.
    pub code: String,
    /// Display name, such as `Domestic abuse related crime`.
    pub name: String,
    /// What the indicator counts, in plain words; may be empty.
    pub description: String,
    /// INCIDENTS: counted from the incident records by `definition`. EXTERNAL: figures recorded
    /// with `recordIndicatorValue` (read them with `indicatorValues`).
    pub kind: IndicatorKind,
    /// Built in (every partnership has its own copy, kept up to date by csphub) rather than the
    /// partnership's own. A built-in indicator has the same code in every partnership but not
    /// the same id.
    pub built_in: bool,
    /// Null for EXTERNAL indicators.
    pub definition: Option<IndicatorDefinition>,
    /// The priorities of the partnership's plans it is linked to.
    pub priority_ids: Vec<ID>,
}

impl From<IndicatorRow> for Indicator {
    fn from(r: IndicatorRow) -> Self {
        let kind = if r.kind == "EXTERNAL" {
            IndicatorKind::External
        } else {
            IndicatorKind::Incidents
        };
        let d = r.definition();
        Self {
            id: ID(r.id.to_string()),
            code: r.code,
            name: r.name,
            description: r.description,
            kind,
            built_in: r.builtin,
            definition: (kind == IndicatorKind::Incidents).then_some(IndicatorDefinition {
                categories: d.categories,
                domestic_abuse: d.domestic_abuse,
                alcohol_related: d.alcohol_related,
                youth_related: d.youth_related,
                hate_crime: d.hate_crime,
                hate_strands: d.hate_strands,
                drug_classes: d.drug_classes,
                fire_types: d.fire_types,
            }),
            priority_ids: r
                .priority_ids
                .into_iter()
                .map(|p| ID(p.to_string()))
                .collect(),
        }
    }
}

/// One indicator in the assessment.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessedIndicator {
    /// The indicator assessed.
    pub indicator: Indicator,
    /// In the window. Null when withheld from the PCC (see `suppressed`), when the partnership
    /// holds no incident records at all in the window, or for an external indicator with no
    /// figure recorded for exactly the window.
    pub count: Option<i64>,
    /// In `previousWindow`; null in the same cases as `count`.
    pub previous_count: Option<i64>,
    /// `count - previousCount`; null when either is null.
    pub change: Option<i64>,
    /// The change as a % of the previous count, one decimal place (half away from zero); null
    /// when the previous count is 0 or either count is null.
    pub change_percent: Option<f64>,
    /// Per 1,000 residents (the population estimate the assessment names), two decimal places;
    /// null when `count` or the assessment's `population` is null.
    pub rate_per_thousand: Option<f64>,
    /// 1 is the lowest rate among the county's partnerships with figures for the window; equal
    /// rates share a rank. Null when this partnership has no count or no population for the
    /// window.
    pub rank: Option<i32>,
    /// How many partnerships were ranked.
    pub ranked: i32,
    /// True when the PCC's count or previous count is withheld: a cell of 1 to 4 (or withheld
    /// so that none can be worked out), or a figure not made of cells of its table set (an
    /// indicator on hate strands, drug classes, fire types or flags other than domestic abuse).
    pub suppressed: bool,
}

/// One of the partnership's areas in the assessment, for its map: the records placed in it.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessedArea {
    /// The area's code in the partnership.
    pub code: String,
    /// The area's name.
    pub name: String,
    /// Records in the window placed in the area, domestic-abuse related records left out (they
    /// are never located finer than the partnership). Null when withheld from the PCC.
    pub count: Option<i64>,
    /// In `previousWindow`; null when withheld from the PCC.
    pub previous_count: Option<i64>,
    /// The change as a % of the previous count, one decimal place; null when the previous
    /// count is 0 or either count is null.
    pub change_percent: Option<f64>,
    /// True when the PCC's count or previous count is withheld (a cell of its table set).
    pub suppressed: bool,
}

/// The strategic assessment of a partnership for a window of days.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StrategicAssessment {
    /// The partnership's slug.
    pub partnership: String,
    /// The name of the partnership's county, among whose partnerships it is ranked.
    pub county: String,
    /// The window asked for, both days included (YYYY-MM-DD).
    pub window: PeriodRange,
    /// What the window is compared with: for partners the window of the same length just
    /// before it; for the PCC the month, quarter, half or financial year before.
    pub previous_window: PeriodRange,
    /// The year of the mid-year estimates used for rates: the one at or before the middle of the
    /// window (a partnership without one uses its latest earlier estimate).
    pub population_year: i32,
    /// The partnership's population used; null when none is recorded (then no rate or rank).
    pub population: Option<i32>,
    /// The county's partnerships.
    pub county_partnerships: i32,
    /// Every indicator of the partnership, the built-in ones first, then by code.
    pub indicators: Vec<AssessedIndicator>,
    /// True for the PCC: its figures are cells of the partnerships' protected table sets, and
    /// only partnerships whose figure it may see are ranked.
    pub suppression_applied: bool,
    /// Every area of the partnership, by code, with the records placed in it (the printable
    /// page draws them as a map). Records without an area and domestic-abuse related records
    /// are in no area.
    pub areas: Vec<AssessedArea>,
}
