//! The queries of plans and the plan progress report.

use super::*;
use crate::graphql::page::{Connection, PageArgs};

/// The most plans `plans` reads for one request: a plan a year for a century in each of a
/// hundred partnerships.
const PLANS_READ_WHOLE: u64 = 10_000;

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// The plans of the partnerships in scope, or of one of them, ordered by partnership (slug)
    /// and financial year, as a Relay connection. Every role may read plans.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "a partnership slug; all partnerships in scope when omitted")]
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
    ) -> Result<Connection<Plan>> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let partnership_id = match partnership.as_deref() {
            Some(slug) => Some(p.partnership(slug)?.id),
            None => None,
        };
        // A partnership has a plan a year: the partnerships in scope hold a short list, read
        // whole and paged by position.
        let rows = db::plan::list_plans(
            crate::graphql::db(ctx)?,
            &p.scope(),
            partnership_id,
            PLANS_READ_WHOLE,
            0,
        )
        .await?;
        let plans = rows
            .into_iter()
            .map(Plan::try_from)
            .collect::<Result<Vec<_>, AppError>>()?;
        let args = PageArgs::new(first, after, last, before);
        Ok(crate::graphql::page::page_of(plans, &args)?)
    }

    /// One plan with its priorities, actions and progress history.
    async fn plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "the plan's id; NOT_FOUND when no such plan is in the partnerships of the caller's token"
        )]
        id: ID,
    ) -> Result<crate::graphql::plan_page::PlanOut> {
        use crate::graphql::plan_page::{self, PlanOut};
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let id = parse_id(&id, "plan")?;
        let conn = crate::graphql::db(ctx)?;
        // The front-end's page (plain fields, priorities, actions, lead agencies, statuses):
        // built as JSON by one statement (`plan_page`).
        if let Some(shape) = plan_page::shape(&ctx.item.node) {
            let page = plan_page::build(conn, &shape, &p.scope(), id).await?;
            return Ok(PlanOut::Built(std::sync::Mutex::new(Some(page))));
        }
        let look = ctx.look_ahead();
        if !(look.field("priorities").exists() || look.field("actions").exists()) {
            let row = db::plan::plan_in_scope(conn, &p.scope(), id, false).await?;
            return Ok(PlanOut::Object(Box::new(Plan::try_from(row)?)));
        }
        // The page: one statement, handed to the fields below through the loaders' cache.
        let tree = db::plan::plan_tree(conn, &p.scope(), id).await?;
        let row = prime(
            loader(ctx)?,
            tree,
            look.field("priorities").exists(),
            look.field("actions").exists(),
        )
        .await;
        Ok(PlanOut::Object(Box::new(Plan::try_from(row)?)))
    }

    /// One action (expected outcome).
    async fn action(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "the action's id; NOT_FOUND when no such action is in a plan of the partnerships of the caller's token"
        )]
        id: ID,
    ) -> Result<Action> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let row = db::plan::action_in_scope(
            crate::graphql::db(ctx)?,
            &p.scope(),
            parse_id(&id, "action")?,
            false,
        )
        .await?;
        Ok(row.into())
    }

    /// The plan as at the end of `quarter` (e.g. `2014/15 Q3`): counts by status per priority
    /// and in total, with the removed and incomplete actions. Every role may read it.
    #[graphql(complexity = "crate::graphql::REPORT_COST + child_complexity")]
    async fn plan_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "the plan's id; NOT_FOUND when no such plan is in the partnerships of the caller's token"
        )]
        plan_id: ID,
        #[graphql(
            desc = "a quarter of the plan's financial year, such as `2014/15 Q3` (Q1 is April to June); BAD_USER_INPUT when malformed or in another year"
        )]
        quarter: String,
    ) -> Result<PlanProgress> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let conn = crate::graphql::db_txn(ctx)?;
        crate::graphql::heavy_granted(ctx)?;
        let plan =
            db::plan::plan_in_scope(conn, &p.scope(), parse_id(&plan_id, "plan")?, false).await?;
        let quarter: Quarter = quarter.parse()?;
        let year: FinancialYear = plan.financial_year.parse()?;
        if !year.contains(quarter) {
            return Err(AppError::BadUserInput(format!(
                "quarter {quarter} is not in the plan's financial year {year}"
            ))
            .into());
        }
        let priorities = db::plan::priorities_of_plans(conn, &[plan.id]).await?;
        let rows = db::plan::report_rows(conn, plan.id, &quarter.to_string()).await?;
        Ok(progress_report(plan, quarter, priorities, rows)?)
    }
}
