//! Relay's object identification: the `Node` interface and `node(id)`, which fetches any
//! object again by its id, answering only what the caller may read (NOT_FOUND otherwise, as
//! every single-object query does).

use async_graphql::{Context, ID, Interface, Object, Result};

use super::case::Case;
use super::incident::Incident;
use super::plan::{Action, Plan};
use super::submission::ReportSubmission;
use super::{parse_id, principal};
use crate::auth::policy::{Operation, authorize, readable_reports};
use crate::db;
use crate::error::AppError;

/// An object with a global id: `node(id:)` fetches it again (Relay's object identification,
/// as Relay and Apollo's cache normalisation use it).
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "&ID",
    desc = "The object's id, unique across every kind of object csphub serves: pass it to `node(id:)` to fetch the object again."
))]
pub enum Node {
    Plan(Plan),
    Action(Action),
    Incident(Incident),
    Case(Case),
    ReportSubmission(ReportSubmission),
}

fn not_found() -> AppError {
    AppError::NotFound("no such object".to_owned())
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id, whatever its kind (a plan, an action, an incident record, a
    /// case, a submitted report), with the same rules as the query for that kind: NOT_FOUND
    /// when it does not exist or the caller may not read it (a case needs `caseworker` and a
    /// share with the caller's agency, and its reading is audited as `case(id)`'s; incident
    /// records are for partners; the PCC reads PCC reports only). Select its fields with
    /// `... on Plan { ... }`. Null with the error, as Relay expects of `node`.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An object's `id`, as any query gave it.")] id: ID,
    ) -> Result<Option<Node>> {
        let p = principal(ctx)?;
        let uuid = parse_id(&id, "object")?;
        let conn = super::db(ctx)?;
        let scope = p.scope();
        let kind = db::node::kind(conn, &scope, uuid).await?;
        let node = match kind.as_deref() {
            Some("plan") => {
                authorize(p, Operation::ReadPlans)?;
                let row = db::plan::plan_in_scope(conn, &scope, uuid, false).await?;
                Node::Plan(Plan::try_from(row)?)
            }
            Some("action") => {
                authorize(p, Operation::ReadPlans)?;
                let row = db::plan::action_in_scope(conn, &scope, uuid, false).await?;
                Node::Action(row.into())
            }
            Some("incident") => {
                authorize(p, Operation::ReadIncidentRows).map_err(|_| not_found())?;
                let row = db::incident::by_id(conn, &scope, uuid)
                    .await?
                    .ok_or_else(not_found)?;
                Node::Incident(Incident::from(row))
            }
            Some("report_submission") => {
                authorize(p, Operation::ReadPlans)?;
                let row = db::submission::get(conn, &scope, readable_reports(p), uuid)
                    .await
                    .map_err(|_| not_found())?;
                let slug = super::submission::slug_of(p, row.partnership_id);
                Node::ReportSubmission(super::submission::submission(&slug, row))
            }
            Some("case") => Node::Case(super::case::case_node(ctx, uuid).await?),
            _ => return Err(not_found().into()),
        };
        Ok(Some(node))
    }
}
