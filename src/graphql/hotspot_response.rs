//! Hotspot response (issue 30, item 5): designated hotspots, the weekly response to them, and
//! their evaluation. Types in `service::hotspot_response`.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{Datelike, NaiveDate};

use super::{parse_id, principal};
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::error::AppError;
pub use crate::service::hotspot_response::{
    HotspotChange, HotspotDesignation, HotspotEvaluation, HotspotGroup, HotspotMonth, HotspotPhase,
    HotspotPower, HotspotResponseTotals, HotspotResponseWeek, HotspotWindow, PowerCount,
    RecordCounts,
};
use crate::service::hotspot_response::{checked_lsoas, designations_with_responses};

/// A hotspot to designate for a period. Coordinators (not the PCC).
#[derive(InputObject)]
pub struct DesignateHotspotInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// The hotspot's name, such as "Town centre night-time economy": up to 200 characters, not
    /// blank. The same name may start only once on a day.
    #[graphql(validator(custom = "crate::graphql::Text(200)"))]
    pub name: String,
    /// The official LSOA codes (2011 or 2021) the hotspot is made of: 1 to 100, each an LSOA
    /// held (`csphub import geography`); BAD_USER_INPUT otherwise.
    #[graphql(validator(max_items = 100))]
    pub lsoas: Vec<String>,
    /// A comparison area's LSOA codes, none of them in the hotspot: 0 to 100.
    #[graphql(default, validator(max_items = 100))]
    pub comparison_lsoas: Vec<String>,
    /// The first day of the designation.
    pub starts_on: crate::scalar::Date,
    /// The last day, at most 365 days after the first and a year from today.
    pub ends_on: crate::scalar::Date,
}

/// One power and how often it was used in the week.
#[derive(InputObject)]
pub struct PowerCountInput {
    /// The power.
    pub power: HotspotPower,
    /// 0 to 10,000.
    pub count: i32,
}

/// The caller's agency's response to a hotspot in one week. Sending it again changes nothing;
/// sending it with other figures corrects the week.
#[derive(InputObject)]
pub struct RecordHotspotResponseInput {
    /// A designation of a partnership in scope (NOT_FOUND otherwise).
    pub designation_id: ID,
    /// The Monday the week starts on; the week must overlap the designation and have begun.
    pub week_starting: crate::scalar::Date,
    /// Hours of patrol in the hotspot (officer hours), 0 to 16,800, kept to two decimal places.
    pub patrol_hours: f64,
    /// Hours of other visible presence, 0 to 16,800.
    #[graphql(default)]
    pub visible_presence_hours: f64,
    /// Powers used, each once.
    #[graphql(default, validator(max_items = 7))]
    pub powers: Vec<PowerCountInput>,
    /// The other agencies involved (slugs of registered agencies), up to 50.
    #[graphql(default, validator(max_items = 50))]
    pub partners: Vec<String>,
}

/// What `recordHotspotResponse` did.
#[derive(SimpleObject)]
pub struct RecordHotspotResponsePayload {
    /// The week as now recorded.
    pub response: HotspotResponseWeek,
    /// False when the week was already recorded with the same figures.
    pub changed: bool,
}

fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn hours(h: f64, what: &str) -> Result<f64, AppError> {
    if h.is_finite() && (0.0..=16_800.0).contains(&h) {
        Ok((h * 100.0).round() / 100.0)
    } else {
        Err(AppError::BadUserInput(format!(
            "{what} must be between 0 and 16800 hours"
        )))
    }
}

#[derive(Default)]
pub struct HotspotResponseQuery;

#[Object]
impl HotspotResponseQuery {
    /// A partnership's designated hotspots, earliest start first, each with every agency's
    /// weekly response; optionally only those in force on a day. Every role may read them; the
    /// PCC's responses carry no `powers` (small counts by LSOA and week).
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn hotspot_designations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "Only the designations in force on this day.")] in_force_on: Option<
            crate::scalar::Date,
        >,
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
    ) -> Result<super::page::Connection<HotspotDesignation>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadHotspots)?;
        let args = super::page::PageArgs::new(first, after, last, before);
        if let Some(day) = in_force_on
            && !(1900..=9999).contains(&day.0.year())
        {
            return Err(AppError::BadUserInput(
                "inForceOn must lie between the years 1900 and 9999".to_owned(),
            )
            .into());
        }
        let conn = super::db(ctx)?;
        let rows =
            db::hotspot_response::designations(conn, target.id, in_force_on.map(|d| d.0)).await?;
        let mut all = designations_with_responses(conn, &target.slug, rows).await?;
        if !crate::auth::policy::exact_statistics(p) {
            // Powers by hotspot and week are small counts by LSOA: not for the PCC.
            for d in &mut all {
                for w in &mut d.responses {
                    w.powers.clear();
                }
            }
        }
        Ok(super::page::page_of(all, &args)?)
    }

    /// A designated hotspot evaluated as the monthly hotspot return asks: its crime and ASB
    /// before, during and after the designation (as many days each), against the rest of the
    /// district and the comparison area, each change put to an exact rate-ratio test; the
    /// months of the phases with the patrol hours, visible presence and powers of the weeks
    /// starting in them; and the response added up. Records of either LSOA vintage count where
    /// their LSOA lies wholly within the hotspot. Partners only, like `areaStatistics`.
    #[graphql(complexity = "crate::graphql::STATS_COST + child_complexity")]
    async fn hotspot_evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The designation's id (NOT_FOUND outside the token's scope).")] id: ID,
    ) -> Result<HotspotEvaluation> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadAreaStatistics)?;
        let id = parse_id(&id, "hotspot designation")?;
        let txn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        let scope: Vec<uuid::Uuid> = p.partnerships.iter().map(|s| s.id).collect();
        let slug_of = |id: uuid::Uuid| {
            p.partnerships
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.slug.clone())
                .unwrap_or_default()
        };
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive();
        Ok(crate::service::hotspot_response::evaluation(txn, &scope, slug_of, id, today).await?)
    }
}

#[derive(Default)]
pub struct HotspotResponseMutation;

#[Object]
impl HotspotResponseMutation {
    /// Designates a hotspot for a period: a set of official LSOAs, with an optional comparison
    /// area. Coordinators (not the PCC).
    async fn designate_hotspot(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partnership, the name, the LSOAs and the days.")]
        input: DesignateHotspotInput,
    ) -> Result<HotspotDesignation> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageHotspots)?;
        let name = crate::domain::plan::required_text(&input.name, "name")?;
        let (starts, ends) = (input.starts_on.0, input.ends_on.0);
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive();
        let latest = today + chrono::Duration::days(366);
        if starts < earliest() || ends > latest {
            return Err(AppError::BadUserInput(
                "a designation must lie between 1990 and a year from today".to_owned(),
            )
            .into());
        }
        if ends < starts || (ends - starts).num_days() >= 366 {
            return Err(AppError::BadUserInput(
                "endsOn must be on or after startsOn and at most 365 days after it".to_owned(),
            )
            .into());
        }
        let conn = super::db(ctx)?;
        let lsoas = checked_lsoas(conn, &input.lsoas, "lsoas", 1).await?;
        let comparison = checked_lsoas(conn, &input.comparison_lsoas, "comparisonLsoas", 0).await?;
        if let Some(both) = comparison.iter().find(|c| lsoas.contains(c)) {
            return Err(AppError::BadUserInput(format!(
                "{both} is in both the hotspot and its comparison area"
            ))
            .into());
        }
        // Nor may they overlap through the lookup (a 2011 LSOA in one, a 2021 LSOA split from
        // it in the other): a record would count in both.
        let counted_hot = crate::service::hotspot_response::with_counterparts(conn, &lsoas).await?;
        let counted_cmp =
            crate::service::hotspot_response::with_counterparts(conn, &comparison).await?;
        if let Some(both) = counted_cmp.iter().find(|c| counted_hot.contains(c)) {
            return Err(AppError::BadUserInput(format!(
                "{both} lies in both the hotspot and its comparison area (through the ONS's 2011-to-2021 lookup)"
            ))
            .into());
        }
        let row = db::hotspot_response::insert_designation(
            conn,
            &db::hotspot_response::NewDesignation {
                partnership: target.id,
                name: &name,
                lsoas: &lsoas,
                comparison: &comparison,
                starts_on: starts,
                ends_on: ends,
                agency: p.agency_id,
                sub: &p.sub,
            },
        )
        .await?;
        designations_with_responses(conn, &target.slug, vec![row])
            .await?
            .pop()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("designation is missing")).into())
    }

    /// Records (or corrects) the caller's agency's response to a hotspot in one week: patrol
    /// hours, visible presence, powers used and the partners involved. Any partner agency (not
    /// the PCC), always for its own agency.
    async fn record_hotspot_response(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The designation, the week and the response.")]
        input: RecordHotspotResponseInput,
    ) -> Result<RecordHotspotResponsePayload> {
        let p = principal(ctx)?;
        authorize(p, Operation::RecordHotspotResponse)?;
        let conn = super::db(ctx)?;
        let scope: Vec<uuid::Uuid> = p.partnerships.iter().map(|s| s.id).collect();
        let designation = db::hotspot_response::designation(
            conn,
            &scope,
            parse_id(&input.designation_id, "hotspot designation")?,
        )
        .await?
        .ok_or_else(|| AppError::not_found("hotspot designation"))?;
        let week = input.week_starting.0;
        if week.weekday() != chrono::Weekday::Mon {
            return Err(AppError::BadUserInput(format!(
                "weekStarting must be a Monday; {week} is a {}",
                week.weekday()
            ))
            .into());
        }
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive();
        // The week's last day, checked: a date near the calendar's end has none.
        let last_day = week.checked_add_days(chrono::Days::new(6));
        if week > designation.ends_on
            || week > today
            || last_day.is_none_or(|d| d < designation.starts_on)
        {
            return Err(AppError::BadUserInput(format!(
                "the week of {week} must overlap the designation ({} to {}) and have begun",
                designation.starts_on, designation.ends_on
            ))
            .into());
        }
        let patrol = hours(input.patrol_hours, "patrolHours")?;
        let presence = hours(input.visible_presence_hours, "visiblePresenceHours")?;
        let mut powers = serde_json::Map::new();
        for pc in &input.powers {
            if !(0..=10_000).contains(&pc.count) {
                return Err(AppError::BadUserInput(
                    "a power's count must be between 0 and 10000".to_owned(),
                )
                .into());
            }
            let key = pc.power.code();
            if powers.insert(key.to_owned(), pc.count.into()).is_some() {
                return Err(
                    AppError::BadUserInput(format!("{key} is given twice in powers")).into(),
                );
            }
        }
        // A power used 0 times is as if not given, so the same week sent both ways is the same.
        powers.retain(|_, n| n.as_i64() != Some(0));
        let mut slugs: Vec<String> = input.partners.iter().map(|s| s.trim().to_owned()).collect();
        slugs.sort();
        slugs.dedup();
        let found = db::partnership::agencies_by_slugs(conn, &slugs).await?;
        if let Some(missing) = slugs.iter().find(|s| !found.iter().any(|a| &a.slug == *s)) {
            return Err(AppError::BadUserInput(format!(
                "partners: {missing} is not a registered agency"
            ))
            .into());
        }
        let mut partners: Vec<uuid::Uuid> = found
            .iter()
            .map(|a| a.id)
            .filter(|id| *id != p.agency_id)
            .collect();
        partners.sort();
        let (row, changed) = db::hotspot_response::upsert_response(
            conn,
            &db::hotspot_response::NewResponse {
                designation: &designation,
                agency: p.agency_id,
                week_starting: week,
                patrol_hours: patrol,
                visible_presence_hours: presence,
                powers: serde_json::Value::Object(powers),
                partners: &partners,
                sub: &p.sub,
            },
        )
        .await?;
        Ok(RecordHotspotResponsePayload {
            response: crate::service::hotspot_response::week_of(row),
            changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_are_stored_under_their_schema_names() {
        for (power, code) in HotspotPower::ALL {
            assert_eq!(super::super::name_of(power), code);
        }
    }
}
