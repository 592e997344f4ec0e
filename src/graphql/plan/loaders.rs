//! The plan's data loaders: its relations batched per request, one statement per level of a query.

use super::*;

/// Batches the plan's relations per request, so no query runs once per row.
pub struct PlanLoader {
    db: RequestTxn,
}

impl PlanLoader {
    pub fn new(db: RequestTxn) -> Self {
        Self { db }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanById(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrioritiesOfPlan(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PriorityById(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionById(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionsOfPlan(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionsOfPriority(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CarriedOverTo(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgressOfAction(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LatestStatusOf(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventsOfPlan(pub Uuid);
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgencyById(pub Uuid);

pub(super) fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| f(*k)).collect()
}

pub(super) fn one_each<K: Hash + Eq, R>(rows: Vec<R>, key: impl Fn(&R) -> K) -> HashMap<K, R> {
    rows.into_iter().map(|r| (key(&r), r)).collect()
}

pub(super) fn grouped<K: Hash + Eq, R>(rows: Vec<R>, key: impl Fn(&R) -> K) -> HashMap<K, Vec<R>> {
    let mut map: HashMap<K, Vec<R>> = HashMap::new();
    for r in rows {
        map.entry(key(&r)).or_default().push(r);
    }
    map
}

impl Loader<PlanById> for PlanLoader {
    type Value = PlanRow;
    type Error = LoadError;
    async fn load(&self, keys: &[PlanById]) -> Result<HashMap<PlanById, PlanRow>, LoadError> {
        let rows = db::plan::plans_by_ids(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| PlanById(r.id)))
    }
}

impl Loader<PrioritiesOfPlan> for PlanLoader {
    type Value = Vec<PriorityRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[PrioritiesOfPlan],
    ) -> Result<HashMap<PrioritiesOfPlan, Vec<PriorityRow>>, LoadError> {
        let rows = db::plan::priorities_of_plans(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| PrioritiesOfPlan(r.plan_id)))
    }
}

impl Loader<PriorityById> for PlanLoader {
    type Value = PriorityRow;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[PriorityById],
    ) -> Result<HashMap<PriorityById, PriorityRow>, LoadError> {
        let rows = db::plan::priorities_by_ids(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| PriorityById(r.id)))
    }
}

impl Loader<ActionById> for PlanLoader {
    type Value = ActionRow;
    type Error = LoadError;
    async fn load(&self, keys: &[ActionById]) -> Result<HashMap<ActionById, ActionRow>, LoadError> {
        let rows = db::plan::actions_where(&*self.db, ActionKey::Id, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| ActionById(r.id)))
    }
}

impl Loader<ActionsOfPlan> for PlanLoader {
    type Value = Vec<ActionRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ActionsOfPlan],
    ) -> Result<HashMap<ActionsOfPlan, Vec<ActionRow>>, LoadError> {
        let rows = db::plan::actions_where(&*self.db, ActionKey::Plan, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| ActionsOfPlan(r.plan_id)))
    }
}

impl Loader<ActionsOfPriority> for PlanLoader {
    type Value = Vec<ActionRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ActionsOfPriority],
    ) -> Result<HashMap<ActionsOfPriority, Vec<ActionRow>>, LoadError> {
        let rows =
            db::plan::actions_where(&*self.db, ActionKey::Priority, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| ActionsOfPriority(r.priority_id)))
    }
}

impl Loader<CarriedOverTo> for PlanLoader {
    type Value = ActionRow;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[CarriedOverTo],
    ) -> Result<HashMap<CarriedOverTo, ActionRow>, LoadError> {
        let rows =
            db::plan::actions_where(&*self.db, ActionKey::CarriedOverFrom, &ids(keys, |k| k.0))
                .await?;
        let mut map = HashMap::new();
        for r in rows {
            if let Some(from) = r.carried_over_from_id {
                map.insert(CarriedOverTo(from), r);
            }
        }
        Ok(map)
    }
}

impl Loader<ProgressOfAction> for PlanLoader {
    type Value = Vec<ProgressRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[ProgressOfAction],
    ) -> Result<HashMap<ProgressOfAction, Vec<ProgressRow>>, LoadError> {
        let rows = db::plan::progress_of_actions(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| ProgressOfAction(r.action_id)))
    }
}

impl Loader<LatestStatusOf> for PlanLoader {
    /// `None` for an action with no standing record, so that the answer is cached too.
    type Value = Option<String>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[LatestStatusOf],
    ) -> Result<HashMap<LatestStatusOf, Option<String>>, LoadError> {
        let rows = db::plan::latest_status_of_actions(&*self.db, &ids(keys, |k| k.0)).await?;
        let mut map: HashMap<LatestStatusOf, Option<String>> =
            keys.iter().map(|k| (*k, None)).collect();
        for r in rows {
            map.insert(LatestStatusOf(r.action_id), Some(r.status));
        }
        Ok(map)
    }
}

impl Loader<EventsOfPlan> for PlanLoader {
    type Value = Vec<PlanEventRow>;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[EventsOfPlan],
    ) -> Result<HashMap<EventsOfPlan, Vec<PlanEventRow>>, LoadError> {
        let rows = db::plan::events_of_plans(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(grouped(rows, |r| EventsOfPlan(r.plan_id)))
    }
}

impl Loader<AgencyById> for PlanLoader {
    type Value = db::partnership::AgencyRow;
    type Error = LoadError;
    async fn load(
        &self,
        keys: &[AgencyById],
    ) -> Result<HashMap<AgencyById, db::partnership::AgencyRow>, LoadError> {
        let rows = db::partnership::agencies_by_ids(&*self.db, &ids(keys, |k| k.0)).await?;
        Ok(one_each(rows, |r| AgencyById(r.id)))
    }
}

/// Puts a plan's page into the request's loader cache for the lists the query selects (the
/// plan's `priorities`, its `actions`, or both), with an empty list for every priority without
/// actions and a status (perhaps none) for every action, so that no field below asks again.
/// Anything else (a progress history, an action's priority) loads as usual if asked for.
pub(super) async fn prime(
    loader: &crate::graphql::PlanLoaders,
    tree: db::plan::PlanTree,
    priorities: bool,
    actions: bool,
) -> PlanRow {
    let db::plan::PlanTree {
        plan: row,
        priorities: priority_rows,
        actions: action_rows,
        latest,
        agencies,
    } = tree;
    let plan = row.id;
    loader.feed_many([(PlanById(plan), row.clone())]).await;
    let for_status: Vec<Uuid> = action_rows.iter().map(|a| a.id).collect();
    let (for_plan, for_priorities) = match (actions, priorities) {
        (true, true) => (Some(action_rows.clone()), Some(action_rows)),
        (true, false) => (Some(action_rows), None),
        (false, true) => (None, Some(action_rows)),
        (false, false) => (None, None),
    };
    if let Some(all) = for_plan {
        loader.feed_many([(ActionsOfPlan(plan), all)]).await;
    }
    if let Some(all) = for_priorities {
        let mut of_priority: HashMap<Uuid, Vec<ActionRow>> =
            priority_rows.iter().map(|r| (r.id, Vec::new())).collect();
        for a in all {
            of_priority.entry(a.priority_id).or_default().push(a);
        }
        loader
            .feed_many([(PrioritiesOfPlan(plan), priority_rows)])
            .await;
        loader
            .feed_many(
                of_priority
                    .into_iter()
                    .map(|(k, v)| (ActionsOfPriority(k), v)),
            )
            .await;
    }
    let mut status: HashMap<Uuid, Option<String>> =
        for_status.into_iter().map(|id| (id, None)).collect();
    for r in latest {
        status.insert(r.action_id, Some(r.status));
    }
    loader
        .feed_many(status.into_iter().map(|(k, v)| (LatestStatusOf(k), v)))
        .await;
    loader
        .feed_many(agencies.into_iter().map(|r| (AgencyById(r.id), r)))
        .await;
    row
}

pub(super) async fn load_plan(ctx: &Context<'_>, id: Uuid) -> Result<Plan> {
    let row = loader(ctx)?
        .load_one(PlanById(id))
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("plan {id} missing")))?;
    Ok(Plan::try_from(row)?)
}
