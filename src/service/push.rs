//! The push: the one path behind `POST /api/v1/incidents`, GraphQL `pushIncidents`,
//! `csphub import` and the demo loader. It reads the partnerships' areas and the vocabularies,
//! checks every record (`domain::incident`), and applies the valid ones in the caller's
//! transaction (`db::incident::apply_push`).

use chrono::Utc;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use crate::db;
use crate::db::incident::Pusher;
use crate::error::AppResult;

impl From<&PushReport> for crate::metrics::PushCounts {
    fn from(r: &PushReport) -> Self {
        Self {
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            rejected: r.rejected.len() as u64,
        }
    }
}

/// The result of a push: what was applied and which records were rejected, and why.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct PushReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<crate::domain::incident::Rejection>,
}

/// The one push path behind the REST endpoint, GraphQL `pushIncidents` and `csphub import`:
/// checks every record against the vocabularies and the partnerships' areas, then applies the
/// valid ones in one transaction.
pub async fn push<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    pusher: &Pusher,
    scope: &[crate::auth::ScopedPartnership],
    records: Vec<Result<crate::domain::incident::IncidentInput, String>>,
) -> AppResult<PushReport> {
    use crate::domain::incident::{PushContext, PushTarget, check_batch};
    let ids: Vec<Uuid> = scope.iter().map(|p| p.id).collect();
    let areas = db::area::areas_in(db, &ids).await?;
    let mut targets: Vec<PushTarget> = scope
        .iter()
        .map(|p| PushTarget {
            id: p.id,
            slug: p.slug.clone(),
            areas: areas
                .iter()
                .filter(|a| a.partnership_id == p.id)
                .map(|a| (a.code.clone(), a.id))
                .collect(),
            lsoas: areas
                .iter()
                .filter(|a| a.partnership_id == p.id)
                .flat_map(|a| a.lsoas.iter().map(|l| (l.clone(), (a.id, a.code.clone()))))
                .collect(),
            through_lookup: std::collections::HashMap::new(),
        })
        .collect();
    place_through_lookup(db, &areas, &records, &mut targets).await?;
    let vocabularies = db::vocabulary::load(db).await?;
    let ctx = PushContext {
        agency: &pusher.agency,
        targets: &targets,
        vocabularies: &vocabularies,
        now: Utc::now(),
    };
    // The partnership each record went to, where it names one the push may go to: the push
    // log counts a rejected record there.
    let record_partnership: Vec<Option<Uuid>> = records
        .iter()
        .map(|r| r.as_ref().ok().and_then(|i| i.partnership_in(&targets)))
        .collect();
    let (valid, mut rejected) = check_batch(records, &ctx);
    let rejected_in: Vec<Uuid> = rejected
        .iter()
        .filter_map(|r| record_partnership.get(r.index).copied().flatten())
        .collect();
    let (counts, blocked) =
        db::incident::apply_push(db, pusher, &ids, &valid, &rejected_in).await?;
    for index in blocked {
        if let Some(i) = valid.iter().find(|i| i.index == index) {
            rejected.push(crate::domain::incident::Rejection {
                index,
                external_ref: Some(i.external_ref.clone()),
                code: "UNKNOWN_PARTNERSHIP",
                message: "this agency already uses the externalRef in another partnership, which this push may not write to"
                    .to_owned(),
                line: None,
                column: None,
            });
        }
    }
    rejected.sort_by_key(|r| r.index);
    Ok(PushReport {
        created: counts.created,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected,
    })
}

/// Adds to the targets the LSOAs of the batch that no area of the record's partnership lists
/// but that lie in an area through the 2011-to-2021 lookup (`db::geography::placed_through_lookup`):
/// a partnership whose areas list 2011 LSOAs takes records in 2021 ones, and the reverse. One
/// statement, and only when a record names an LSOA its partnership's areas do not list.
async fn place_through_lookup<C: ConnectionTrait>(
    db: &C,
    areas: &[db::area::AreaRow],
    records: &[Result<crate::domain::incident::IncidentInput, String>],
    targets: &mut [crate::domain::incident::PushTarget],
) -> AppResult<()> {
    let asked: Vec<(Uuid, String)> = records
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|r| {
            let partnership = r.partnership_in(targets)?;
            let lsoa = crate::domain::incident::lsoa_code(r.lsoa.as_deref()?).ok()?;
            let target = targets.iter().find(|t| t.id == partnership)?;
            (!target.lsoas.contains_key(&lsoa)).then_some((partnership, lsoa))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if asked.is_empty() {
        return Ok(());
    }
    let placed = db::geography::placed_through_lookup(db, &asked).await?;
    for ((partnership, lsoa), area_id) in placed {
        let Some(area) = areas.iter().find(|a| a.id == area_id) else {
            continue;
        };
        if let Some(t) = targets.iter_mut().find(|t| t.id == partnership) {
            t.through_lookup.insert(lsoa, (area.id, area.code.clone()));
        }
    }
    Ok(())
}
