//! Hotspot response (issue 30, item 5): designating hotspots, recording the response week by
//! week, and evaluating it as the monthly hotspot return asks: crime and ASB in the hotspot
//! before, during and after the designation, against the rest of the district and a comparison
//! area, with the response beside them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_graphql::{Enum, SimpleObject};
use chrono::{Datelike, NaiveDate};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::db;
use crate::db::hotspot_response::{DesignationRow, PlaceCount, ResponseRow};
use crate::domain::hotspot::rate_ratio_p_values;
use crate::domain::stats::change_percent;
use crate::error::AppError;

/// A power used in a hotspot, counted per week.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HotspotPower {
    /// Stop and search (PACE s.1, Misuse of Drugs Act s.23, s.60).
    StopAndSearch,
    /// Arrests.
    Arrest,
    /// Dispersal directions (ASB, Crime and Policing Act 2014, s.35).
    DispersalDirection,
    /// Community protection warnings and notices (2014 Act, s.43).
    CommunityProtectionNotice,
    /// Fixed penalty notices.
    FixedPenaltyNotice,
    /// Seizures (vehicles, alcohol, weapons, drugs).
    Seizure,
    /// Any other power.
    Other,
}

impl HotspotPower {
    /// Every power with the name it is stored and written under.
    pub const ALL: [(HotspotPower, &'static str); 7] = [
        (HotspotPower::StopAndSearch, "STOP_AND_SEARCH"),
        (HotspotPower::Arrest, "ARREST"),
        (HotspotPower::DispersalDirection, "DISPERSAL_DIRECTION"),
        (
            HotspotPower::CommunityProtectionNotice,
            "COMMUNITY_PROTECTION_NOTICE",
        ),
        (HotspotPower::FixedPenaltyNotice, "FIXED_PENALTY_NOTICE"),
        (HotspotPower::Seizure, "SEIZURE"),
        (HotspotPower::Other, "OTHER"),
    ];

    /// The name it is stored under.
    pub fn code(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("OTHER", |(_, c)| c)
    }

    fn of_code(code: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, c)| *c == code).map(|(p, _)| *p)
    }
}

/// One power and how often it was used.
#[derive(SimpleObject, Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PowerCount {
    /// The power.
    pub power: HotspotPower,
    /// How often it was used, 0 to 10,000 a week.
    pub count: i64,
}

/// An agency's response to a hotspot in one week.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HotspotResponseWeek {
    /// The Monday the week starts on.
    pub week_starting: crate::scalar::Date,
    /// The responding agency's slug.
    pub agency: String,
    /// Hours of patrol in the hotspot, to two decimal places.
    pub patrol_hours: f64,
    /// Hours of other visible presence (static points, events, surgeries), to two decimal places.
    pub visible_presence_hours: f64,
    /// Powers used, each with its count (those used at least once), in the enum's order; empty
    /// for the PCC (small counts by LSOA and week).
    pub powers: Vec<PowerCount>,
    /// The partner agencies (slugs) involved alongside the responding one.
    pub partners: Vec<String>,
    /// When the week was last recorded or corrected: RFC 3339, in UTC.
    pub recorded_at: crate::scalar::Timestamp,
}

/// A hotspot a partnership designated for a period.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HotspotDesignation {
    /// Opaque id, for `recordHotspotResponse` and `hotspotEvaluation`.
    pub id: async_graphql::ID,
    /// The partnership's slug.
    pub partnership: String,
    /// The hotspot's name, such as "Town centre night-time economy".
    pub name: String,
    /// The official LSOA codes the hotspot is made of, as designated.
    pub lsoas: Vec<String>,
    /// The comparison area's LSOA codes (empty when none was named).
    pub comparison_lsoas: Vec<String>,
    /// The first day of the designation.
    pub starts_on: crate::scalar::Date,
    /// The last day of the designation.
    pub ends_on: crate::scalar::Date,
    /// The designating agency's slug.
    pub designated_by: String,
    /// When it was designated: RFC 3339, in UTC.
    pub created_at: crate::scalar::Timestamp,
    /// Every agency's response, week by week, then by agency.
    pub responses: Vec<HotspotResponseWeek>,
}

/// The powers of a week as stored (`{"ARREST": 2}`), those used, in the enum's order.
pub fn powers_of(v: &serde_json::Value) -> Vec<PowerCount> {
    let mut out: Vec<PowerCount> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, n)| {
            Some(PowerCount {
                power: HotspotPower::of_code(k)?,
                count: n.as_i64().filter(|n| *n > 0)?,
            })
        })
        .collect();
    out.sort_by_key(|p| p.power);
    out
}

/// A response row as the schema gives it.
pub fn week_of(r: ResponseRow) -> HotspotResponseWeek {
    HotspotResponseWeek {
        week_starting: r.week_starting.into(),
        agency: r.agency,
        patrol_hours: r.patrol_hours,
        visible_presence_hours: r.visible_presence_hours,
        powers: powers_of(&r.powers),
        partners: r.partners,
        recorded_at: r.recorded_at.into(),
    }
}

/// The designations with their responses (one statement for all of their responses).
pub async fn designations_with_responses<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
    rows: Vec<DesignationRow>,
) -> Result<Vec<HotspotDesignation>, AppError> {
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut weeks: HashMap<Uuid, Vec<HotspotResponseWeek>> = HashMap::new();
    for r in db::hotspot_response::responses(conn, &ids).await? {
        weeks.entry(r.designation_id).or_default().push(week_of(r));
    }
    Ok(rows
        .into_iter()
        .map(|d| HotspotDesignation {
            id: async_graphql::ID(d.id.to_string()),
            partnership: slug.to_owned(),
            responses: weeks.remove(&d.id).unwrap_or_default(),
            name: d.name,
            lsoas: d.lsoas,
            comparison_lsoas: d.comparison_lsoas,
            starts_on: d.starts_on.into(),
            ends_on: d.ends_on.into(),
            designated_by: d.designated_by,
            created_at: d.created_at.into(),
        })
        .collect())
}

/// Official LSOA codes as designated: upper case, no repeats, 1 to 100 (0 to 100 for a
/// comparison area), each an LSOA held (`csphub import geography`).
pub async fn checked_lsoas<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
    what: &str,
    at_least: usize,
) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = codes
        .iter()
        .map(|c| c.trim().to_ascii_uppercase())
        .collect();
    out.sort();
    out.dedup();
    if out.len() < at_least || out.len() > 100 {
        return Err(AppError::BadUserInput(format!(
            "{what} must list {at_least} to 100 LSOA codes"
        )));
    }
    let known: BTreeSet<String> = db::geography::lsoa_vintages(conn, &out)
        .await?
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    let unknown: Vec<&String> = out.iter().filter(|c| !known.contains(*c)).collect();
    if let Some(first) = unknown.first() {
        return Err(AppError::BadUserInput(format!(
            "{what}: {} of the codes are not LSOAs held (csphub import geography), such as {first}",
            unknown.len()
        )));
    }
    Ok(out)
}

/// The codes, with each LSOA of the other vintage that lies wholly within them (every one of
/// its counterparts in the ONS's lookup is among them): records of either vintage then land.
pub async fn with_counterparts<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<Vec<String>, AppError> {
    let set: BTreeSet<&str> = codes.iter().map(String::as_str).collect();
    let (pairs, _) = db::geography::lookup_of(conn, codes, 2021).await?;
    let others: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.lsoa11.clone(), p.lsoa21.clone()])
        .filter(|c| !set.contains(c.as_str()))
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    let (theirs, _) = db::geography::lookup_of(conn, &others, 2021).await?;
    let mut out: BTreeSet<String> = codes.iter().cloned().collect();
    for c in others {
        let mut sides = theirs.iter().filter_map(|p| {
            if p.lsoa11 == c {
                Some(p.lsoa21.as_str())
            } else if p.lsoa21 == c {
                Some(p.lsoa11.as_str())
            } else {
                None
            }
        });
        if sides.all(|o| set.contains(o)) {
            out.insert(c);
        }
    }
    Ok(out.into_iter().collect())
}

/// Before, during or after a designation.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HotspotPhase {
    /// As many days just before the designation.
    Before,
    /// The designation's days.
    During,
    /// As many days just after it.
    After,
}

/// Where records are counted.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HotspotGroup {
    /// The hotspot's LSOAs.
    Hotspot,
    /// The partnership's other records (records without an LSOA among them).
    RestOfDistrict,
    /// The comparison area's LSOAs.
    Comparison,
}

/// Records counted: crime (every record that is not ASB) and ASB.
#[derive(SimpleObject, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordCounts {
    /// Records that are not anti-social behaviour.
    pub crime: i64,
    /// Anti-social behaviour records.
    pub asb: i64,
    /// Both.
    pub total: i64,
}

impl RecordCounts {
    fn add(&mut self, asb: bool, n: i64) {
        if asb {
            self.asb += n;
        } else {
            self.crime += n;
        }
        self.total += n;
    }
}

/// One phase's records.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HotspotWindow {
    /// Which phase.
    pub phase: HotspotPhase,
    /// Its first day.
    pub from: crate::scalar::Date,
    /// Its last day.
    pub to: crate::scalar::Date,
    /// Its days.
    pub days: i32,
    /// False while the phase runs (it is cut at yesterday).
    pub complete: bool,
    /// In the hotspot.
    pub hotspot: RecordCounts,
    /// In the rest of the partnership's records.
    pub rest_of_district: RecordCounts,
    /// In the comparison area; null when none was named.
    pub comparison: Option<RecordCounts>,
}

/// A group's records in a phase against the phase before.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HotspotChange {
    /// Where.
    pub group: HotspotGroup,
    /// DURING or AFTER, against BEFORE.
    pub phase: HotspotPhase,
    /// Records in the phase (crime and ASB).
    pub count: i64,
    /// Records before.
    pub before_count: i64,
    /// The change on BEFORE, as a % of its rate per day (of its count when the windows are as
    /// long, as they are once complete), one decimal place; null when BEFORE had none.
    pub change_percent: Option<f64>,
    /// Two-sided p-value of the exact rate-ratio test, the phases' days the exposures.
    pub p_value: f64,
    /// p below 0.05: a change that chance alone would rarely make.
    pub significant: bool,
}

/// One calendar month of the monthly hotspot return.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HotspotMonth {
    /// YYYY-MM.
    pub month: String,
    /// Records in the hotspot (of the phases' days in the month).
    pub hotspot: RecordCounts,
    /// Records in the rest of the district.
    pub rest_of_district: RecordCounts,
    /// Records in the comparison area; null when none was named.
    pub comparison: Option<RecordCounts>,
    /// Patrol hours of the weeks starting in the month, every agency's.
    pub patrol_hours: f64,
    /// Visible presence hours of the weeks starting in the month.
    pub visible_presence_hours: f64,
    /// Powers used in the weeks starting in the month, all kinds together.
    pub powers_used: i64,
}

/// The response, added up.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HotspotResponseTotals {
    /// Weeks with any agency's response recorded.
    pub weeks: i32,
    /// Patrol hours, every agency's.
    pub patrol_hours: f64,
    /// Visible presence hours.
    pub visible_presence_hours: f64,
    /// Each power used, with its count.
    pub powers: Vec<PowerCount>,
    /// The agencies that responded or were involved (slugs).
    pub agencies: Vec<String>,
}

/// A hotspot's evaluation.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HotspotEvaluation {
    /// The hotspot, with its responses.
    pub designation: HotspotDesignation,
    /// The hotspot's LSOAs with those of the other vintage that lie wholly within them, whose
    /// records are counted too.
    pub counted_lsoas: Vec<String>,
    /// The comparison area's, likewise.
    pub counted_comparison_lsoas: Vec<String>,
    /// BEFORE, DURING and (once begun) AFTER.
    pub windows: Vec<HotspotWindow>,
    /// Each group's DURING and AFTER against BEFORE.
    pub changes: Vec<HotspotChange>,
    /// The hotspot's change during the designation relative to the rest of the district's:
    /// (hotspot during / before) / (rest during / before) - 1, as a %; null when a count
    /// before is 0. Below 0: the hotspot fell further (or rose less) than the rest.
    pub relative_change_percent: Option<f64>,
    /// The monthly return: each month of the phases.
    pub months: Vec<HotspotMonth>,
    /// The response, added up.
    pub response: HotspotResponseTotals,
}

/// The phases' windows: as many days just before the designation, the designation, and as many
/// days just after it, each cut at `yesterday` (`complete` false when cut) and left out when it
/// has not begun.
pub fn windows(
    starts: NaiveDate,
    ends: NaiveDate,
    yesterday: NaiveDate,
) -> Vec<(HotspotPhase, NaiveDate, NaiveDate, bool)> {
    let days = (ends - starts).num_days() + 1;
    let spans = [
        (
            HotspotPhase::Before,
            starts.checked_sub_signed(chrono::Duration::days(days)),
            starts.pred_opt(),
        ),
        (HotspotPhase::During, Some(starts), Some(ends)),
        (
            HotspotPhase::After,
            ends.succ_opt(),
            ends.checked_add_signed(chrono::Duration::days(days)),
        ),
    ];
    spans
        .into_iter()
        .filter_map(|(phase, from, to)| {
            let (from, to) = (from?, to?);
            (from <= yesterday).then(|| (phase, from, to.min(yesterday), to <= yesterday))
        })
        .collect()
}

fn two_sided(now: i64, before: i64, e_now: f64, e_before: f64) -> f64 {
    let (rise, fall) = rate_ratio_p_values(
        u64::try_from(now).unwrap_or(0),
        u64::try_from(before).unwrap_or(0),
        e_now,
        e_before,
    );
    (2.0 * rise.min(fall)).min(1.0)
}

/// The evaluation from the counts and the responses (no database).
pub fn evaluate(
    designation: HotspotDesignation,
    counted: (Vec<String>, Vec<String>),
    phases: &[(HotspotPhase, NaiveDate, NaiveDate, bool)],
    counts: &[PlaceCount],
) -> HotspotEvaluation {
    let has_comparison = !designation.comparison_lsoas.is_empty();
    let mut windows: Vec<HotspotWindow> = phases
        .iter()
        .map(|(phase, from, to, complete)| HotspotWindow {
            phase: *phase,
            from: (*from).into(),
            to: (*to).into(),
            days: i32::try_from((*to - *from).num_days() + 1).unwrap_or(0),
            complete: *complete,
            hotspot: RecordCounts::default(),
            rest_of_district: RecordCounts::default(),
            comparison: has_comparison.then(RecordCounts::default),
        })
        .collect();
    let mut months: BTreeMap<NaiveDate, HotspotMonth> = BTreeMap::new();
    for c in counts {
        let Some(w) = usize::try_from(c.k).ok().and_then(|k| windows.get_mut(k)) else {
            continue;
        };
        let m = months.entry(c.month).or_insert_with(|| HotspotMonth {
            month: format!("{:04}-{:02}", c.month.year(), c.month.month()),
            hotspot: RecordCounts::default(),
            rest_of_district: RecordCounts::default(),
            comparison: has_comparison.then(RecordCounts::default),
            patrol_hours: 0.0,
            visible_presence_hours: 0.0,
            powers_used: 0,
        });
        if c.hot {
            w.hotspot.add(c.asb, c.n);
            m.hotspot.add(c.asb, c.n);
        } else {
            w.rest_of_district.add(c.asb, c.n);
            m.rest_of_district.add(c.asb, c.n);
        }
        if c.comparison {
            if let Some(x) = w.comparison.as_mut() {
                x.add(c.asb, c.n);
            }
            if let Some(x) = m.comparison.as_mut() {
                x.add(c.asb, c.n);
            }
        }
    }
    // Every month of the phases has a row, records or not.
    if let (Some(first), Some(last)) = (phases.first(), phases.last()) {
        let mut m = first.1.with_day(1).unwrap_or(first.1);
        while m <= last.2 {
            months.entry(m).or_insert_with(|| HotspotMonth {
                month: format!("{:04}-{:02}", m.year(), m.month()),
                hotspot: RecordCounts::default(),
                rest_of_district: RecordCounts::default(),
                comparison: has_comparison.then(RecordCounts::default),
                patrol_hours: 0.0,
                visible_presence_hours: 0.0,
                powers_used: 0,
            });
            let Some(next) = m.checked_add_months(chrono::Months::new(1)) else {
                break;
            };
            m = next;
        }
    }
    let mut weeks = BTreeSet::new();
    let mut agencies = BTreeSet::new();
    let (mut patrol, mut presence) = (0.0, 0.0);
    let mut powers: BTreeMap<HotspotPower, i64> = BTreeMap::new();
    for r in &designation.responses {
        let start = r.week_starting.0;
        weeks.insert(start);
        agencies.insert(r.agency.clone());
        agencies.extend(r.partners.iter().cloned());
        patrol += r.patrol_hours;
        presence += r.visible_presence_hours;
        let used: i64 = r.powers.iter().map(|p| p.count).sum();
        for p in &r.powers {
            *powers.entry(p.power).or_insert(0) += p.count;
        }
        if let Some(m) = months.get_mut(&start.with_day(1).unwrap_or(start)) {
            m.patrol_hours += r.patrol_hours;
            m.visible_presence_hours += r.visible_presence_hours;
            m.powers_used += used;
        }
    }
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    for m in months.values_mut() {
        m.patrol_hours = round2(m.patrol_hours);
        m.visible_presence_hours = round2(m.visible_presence_hours);
    }
    let mut changes = Vec::new();
    let before = windows
        .first()
        .filter(|w| w.phase == HotspotPhase::Before)
        .cloned();
    if let Some(before) = &before {
        for w in windows.iter().skip(1) {
            let groups = [
                (HotspotGroup::Hotspot, Some(w.hotspot), Some(before.hotspot)),
                (
                    HotspotGroup::RestOfDistrict,
                    Some(w.rest_of_district),
                    Some(before.rest_of_district),
                ),
                (HotspotGroup::Comparison, w.comparison, before.comparison),
            ];
            for (group, now, then) in groups {
                let (Some(now), Some(then)) = (now, then) else {
                    continue;
                };
                let p = two_sided(
                    now.total,
                    then.total,
                    f64::from(w.days),
                    f64::from(before.days),
                );
                // On the rate per day: the windows' days differ while one is cut at yesterday.
                let change = if w.days == before.days {
                    change_percent(now.total, then.total)
                } else if then.total > 0 && w.days > 0 && before.days > 0 {
                    let ratio = (now.total as f64 / f64::from(w.days))
                        / (then.total as f64 / f64::from(before.days));
                    Some(((ratio - 1.0) * 1000.0).round() / 10.0)
                } else {
                    None
                };
                changes.push(HotspotChange {
                    group,
                    phase: w.phase,
                    count: now.total,
                    before_count: then.total,
                    change_percent: change,
                    p_value: (p * 1e6).round() / 1e6,
                    significant: p < 0.05,
                });
            }
        }
    }
    let relative_change_percent = before.as_ref().and_then(|b| {
        let during = windows.iter().find(|w| w.phase == HotspotPhase::During)?;
        if b.hotspot.total == 0
            || b.rest_of_district.total == 0
            || during.rest_of_district.total == 0
        {
            return None;
        }
        let hot = during.hotspot.total as f64 / b.hotspot.total as f64;
        let rest = during.rest_of_district.total as f64 / b.rest_of_district.total as f64;
        Some(((hot / rest - 1.0) * 1000.0).round() / 10.0)
    });
    HotspotEvaluation {
        counted_lsoas: counted.0,
        counted_comparison_lsoas: counted.1,
        windows,
        changes,
        relative_change_percent,
        months: months.into_values().collect(),
        response: HotspotResponseTotals {
            weeks: i32::try_from(weeks.len()).unwrap_or(i32::MAX),
            patrol_hours: round2(patrol),
            visible_presence_hours: round2(presence),
            powers: powers
                .into_iter()
                .map(|(power, count)| PowerCount { power, count })
                .collect(),
            agencies: agencies.into_iter().collect(),
        },
        designation,
    }
}

/// Evaluates a designation of a partnership in scope (NOT_FOUND otherwise) as of `today`.
pub async fn evaluation<C: ConnectionTrait>(
    conn: &C,
    scope: &[Uuid],
    slug_of: impl Fn(Uuid) -> String,
    id: Uuid,
    today: NaiveDate,
) -> Result<HotspotEvaluation, AppError> {
    let row = db::hotspot_response::designation(conn, scope, id)
        .await?
        .ok_or_else(|| AppError::not_found("hotspot designation"))?;
    let partnership = row.partnership_id;
    let hot = with_counterparts(conn, &row.lsoas).await?;
    let comparison = with_counterparts(conn, &row.comparison_lsoas).await?;
    let phases = windows(
        row.starts_on,
        row.ends_on,
        today - chrono::Duration::days(1),
    );
    let spans: Vec<(NaiveDate, NaiveDate)> = phases.iter().map(|p| (p.1, p.2)).collect();
    let counts =
        db::hotspot_response::place_counts(conn, partnership, &hot, &comparison, &spans).await?;
    let designation = designations_with_responses(conn, &slug_of(partnership), vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("designation is missing")))?;
    Ok(evaluate(designation, (hot, comparison), &phases, &counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("day")
    }

    #[test]
    fn phases_are_as_long_as_the_designation_and_the_after_ends_yesterday() {
        let w = windows(day("2024-03-01"), day("2024-03-31"), day("2024-04-10"));
        assert_eq!(
            w,
            vec![
                (
                    HotspotPhase::Before,
                    day("2024-01-30"),
                    day("2024-02-29"),
                    true
                ),
                (
                    HotspotPhase::During,
                    day("2024-03-01"),
                    day("2024-03-31"),
                    true
                ),
                (
                    HotspotPhase::After,
                    day("2024-04-01"),
                    day("2024-04-10"),
                    false
                ),
            ]
        );
        // Not yet ended: no after, and during is cut at yesterday.
        let w = windows(day("2024-03-01"), day("2024-03-31"), day("2024-03-15"));
        assert_eq!(
            w,
            vec![
                (
                    HotspotPhase::Before,
                    day("2024-01-30"),
                    day("2024-02-29"),
                    true
                ),
                (
                    HotspotPhase::During,
                    day("2024-03-01"),
                    day("2024-03-15"),
                    false
                ),
            ]
        );
        // Not yet begun: before cut, nothing else; far off: nothing at all.
        let w = windows(day("2024-03-01"), day("2024-03-31"), day("2024-02-10"));
        assert_eq!(
            w,
            vec![(
                HotspotPhase::Before,
                day("2024-01-30"),
                day("2024-02-10"),
                false
            )]
        );
        assert!(windows(day("2024-03-01"), day("2024-03-31"), day("2023-01-01")).is_empty());
        // At the calendar's ends, no panic.
        assert_eq!(
            windows(NaiveDate::MIN, NaiveDate::MIN, NaiveDate::MAX).len(),
            2
        );
        assert_eq!(
            windows(NaiveDate::MAX, NaiveDate::MAX, NaiveDate::MAX).len(),
            2
        );
    }

    #[test]
    fn every_power_is_stored_under_its_schema_name() {
        for (power, code) in HotspotPower::ALL {
            assert_eq!(power.code(), code);
            assert_eq!(HotspotPower::of_code(code), Some(power));
        }
    }

    #[test]
    fn powers_read_back_in_order_and_unknown_or_zero_ones_are_left_out() {
        let p = powers_of(&serde_json::json!({"SEIZURE": 1, "ARREST": 2, "NOPE": 3, "OTHER": 0}));
        assert_eq!(
            p,
            vec![
                PowerCount {
                    power: HotspotPower::Arrest,
                    count: 2
                },
                PowerCount {
                    power: HotspotPower::Seizure,
                    count: 1
                },
            ]
        );
    }
}
