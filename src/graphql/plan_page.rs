//! The plan page built as JSON by the database (issue 7).
//!
//! A front-end's plan page asks `plan(id)` for plain fields of the plan, its priorities, their
//! actions, each action's lead agency and current status. For such a selection `plan(id)` does
//! not resolve field by field: it turns the selection into one statement that builds the
//! answer's JSON in PostgreSQL, response keys (aliases) and order included, and hands it on as
//! the field's value. Anything this module does not know how to build exactly (fragments,
//! directives, arguments, timestamps, progress histories, ...) takes the ordinary path: the
//! caller falls back when [`shape`] says `None`. The tests compare both paths field for field.

use crate::pg_row;
use std::borrow::Cow;
use std::sync::Mutex;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::plan::Plan;
use crate::error::{AppError, AppResult};

/// What `plan(id)` answers: the page the database built, or a plan resolved field by field.
pub enum PlanOut {
    Built(Mutex<Option<Value>>),
    Object(Box<Plan>),
}

impl OutputType for PlanOut {
    fn type_name() -> Cow<'static, str> {
        <Plan as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Plan as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self {
            PlanOut::Built(value) => Ok(value
                .lock()
                .ok()
                .and_then(|mut v| v.take())
                .unwrap_or(Value::Null)),
            PlanOut::Object(plan) => OutputType::resolve(plan.as_ref(), ctx, field).await,
        }
    }
}

/// A level of the page: the object's table alias and, per response key, what to put there.
#[derive(Debug, PartialEq)]
pub struct Shape {
    entries: Vec<(String, Entry)>,
}

#[derive(Debug, PartialEq)]
enum Entry {
    /// The level's type name.
    Typename,
    /// A SQL expression over the level's alias.
    Column(&'static str),
    /// The priorities of a plan, or actions of a plan or priority: a JSON array.
    List(Level, Shape),
    /// The lead agency of an action: one object.
    Agency(Shape),
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Level {
    Plan,
    Priority,
    Action,
    Agency,
}

impl Level {
    fn type_name(self) -> &'static str {
        match self {
            Level::Plan => "Plan",
            Level::Priority => "Priority",
            Level::Action => "Action",
            Level::Agency => "Agency",
        }
    }

    /// The SQL of a plain field of this level, or None when it is not one this module builds.
    fn column(self, name: &str) -> Option<&'static str> {
        Some(match (self, name) {
            (Level::Plan, "id") => "p.id",
            (Level::Plan, "partnership") => "pa.slug",
            (Level::Plan, "financialYear") => "p.financial_year",
            (Level::Plan, "title") => "p.title",
            (Level::Plan, "status") => "p.status",
            (Level::Plan, "draftNumber") => "p.draft_number",
            (Level::Plan, "signedOffBy") => "p.signed_off_by",
            (Level::Plan, "signedOffOn") => "p.signed_off_on",
            (Level::Plan, "ratifiedMeeting") => "p.ratified_meeting",
            (Level::Plan, "ratifiedOn") => "p.ratified_on",
            (Level::Priority, "id") => "pr.id",
            (Level::Priority, "position") => "pr.position",
            (Level::Priority, "title") => "pr.title",
            (Level::Priority, "description") => "pr.description",
            (Level::Action, "id") => "a.id",
            (Level::Action, "ref") => "a.ref",
            (Level::Action, "title") => "a.title",
            (Level::Action, "description") => "a.description",
            (Level::Action, "measure") => "a.measure",
            (Level::Action, "targetDate") => "a.target_date",
            (Level::Action, "leadOfficer") => "a.lead_officer",
            (Level::Action, "addedInQuarter") => "a.added_in_quarter",
            (Level::Action, "version") => "a.version",
            // The standing now, exactly as `Action.status` without a quarter: REMOVED once a
            // removal is decided, else the latest record not superseded, else NOT_STARTED.
            (Level::Action, "status") => {
                "CASE WHEN a.removal_quarter IS NOT NULL THEN 'REMOVED' ELSE coalesce((\
                   SELECT r.status FROM progress_records r WHERE r.action_id = a.id \
                     AND NOT EXISTS (SELECT 1 FROM progress_records s WHERE s.supersedes_id = r.id) \
                   ORDER BY r.quarter DESC, r.recorded_at DESC LIMIT 1), 'NOT_STARTED') END"
            }
            (Level::Agency, "slug") => "g.slug",
            (Level::Agency, "name") => "g.name",
            (Level::Agency, "kind") => "g.kind",
            _ => return None,
        })
    }
}

/// The page's shape for the `plan` field's selection, or None when the ordinary path must
/// answer it: a fragment or directive anywhere, a field with arguments, a response key given
/// twice, or a field this module does not build.
pub fn shape(field: &Field) -> Option<Shape> {
    level_shape(Level::Plan, &field.selection_set.node)
}

fn level_shape(level: Level, set: &SelectionSet) -> Option<Shape> {
    let mut entries: Vec<(String, Entry)> = Vec::new();
    for item in &set.items {
        let Selection::Field(f) = &item.node else {
            return None;
        };
        let f = &f.node;
        if !f.directives.is_empty() || !f.arguments.is_empty() {
            return None;
        }
        let name = f.name.node.as_str();
        let key = f.response_key().node.as_str();
        if entries.iter().any(|(k, _)| k == key) || !plain_name(key) {
            return None;
        }
        let sub = &f.selection_set.node;
        let entry = match (level, name) {
            (_, "__typename") => Entry::Typename,
            (Level::Plan, "priorities") => {
                Entry::List(Level::Priority, level_shape(Level::Priority, sub)?)
            }
            (Level::Plan | Level::Priority, "actions") => {
                Entry::List(Level::Action, level_shape(Level::Action, sub)?)
            }
            (Level::Action, "leadAgency") => Entry::Agency(level_shape(Level::Agency, sub)?),
            _ if sub.items.is_empty() => Entry::Column(level.column(name)?),
            _ => return None,
        };
        entries.push((key.to_owned(), entry));
    }
    // json_build_object takes at most 100 arguments (50 keys). The document limits (30
    // aliases) keep a level well under that today; past it, the ordinary path answers.
    if entries.is_empty() || entries.len() > MAX_KEYS {
        return None;
    }
    Some(Shape { entries })
}

const MAX_KEYS: usize = 50;

/// A GraphQL name (the parser allows nothing else), checked again because it goes into SQL.
fn plain_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `json_build_object(...)` of a level: per response key, a column, a literal type name, a
/// sub-select of a list or a nested object.
fn object_sql(level: Level, shape: &Shape, parent: &str) -> String {
    let mut args: Vec<String> = Vec::new();
    for (key, entry) in &shape.entries {
        let value = match entry {
            Entry::Typename => format!("'{}'", level.type_name()),
            Entry::Column(c) => (*c).to_owned(),
            Entry::List(Level::Priority, s) => format!(
                "(SELECT coalesce(json_agg({} ORDER BY pr.position), '[]'::json) \
                 FROM priorities pr WHERE pr.plan_id = p.id)",
                object_sql(Level::Priority, s, "pr")
            ),
            Entry::List(_, s) => {
                let owner = if parent == "p" {
                    "a.plan_id = p.id"
                } else {
                    "a.priority_id = pr.id"
                };
                format!(
                    "(SELECT coalesce(json_agg({} ORDER BY split_part(a.ref, '.', 1)::int, \
                       split_part(a.ref, '.', 2)::int), '[]'::json) FROM actions a WHERE {owner})",
                    object_sql(Level::Action, s, "a")
                )
            }
            Entry::Agency(s) => format!(
                "(SELECT {} FROM agencies g WHERE g.id = a.lead_agency_id)",
                object_sql(Level::Agency, s, "g")
            ),
        };
        args.push(format!("'{key}', {value}"));
    }
    // At most MAX_KEYS keys (`level_shape`): within json_build_object's 100 arguments.
    format!("json_build_object({})", args.join(", "))
}

/// The statement for a page of this shape: one row with the plan's JSON when the plan exists
/// in one of the partnerships in scope, none otherwise.
pub fn statement(shape: &Shape) -> String {
    format!(
        "SELECT {}::text AS page FROM plans p JOIN partnerships pa ON pa.id = p.partnership_id \
         WHERE p.id = $1 AND p.partnership_id = ANY($2)",
        object_sql(Level::Plan, shape, "p")
    )
}

pg_row! {
    struct PageRow {
        page: String,
    }
}

/// The page's value, or NOT_FOUND exactly as for a plan outside the caller's scope.
pub async fn build<C: ConnectionTrait>(
    conn: &C,
    shape: &Shape,
    scope: &[Uuid],
    id: Uuid,
) -> AppResult<Value> {
    let row: Option<PageRow> = crate::db::fetch_optional(
        conn,
        &statement(shape),
        vec![id.into(), scope.to_vec().into()],
    )
    .await?;
    let row = row.ok_or_else(|| AppError::not_found("plan"))?;
    serde_json::from_str(&row.page).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::{parse_query, types::Selection};

    fn plan_field(query: &str) -> Field {
        let doc = parse_query(query).expect("parses");
        let op = doc.operations.iter().next().expect("an operation").1;
        match &op.node.selection_set.node.items[0].node {
            Selection::Field(f) => f.node.clone(),
            _ => panic!("a field"),
        }
    }

    #[test]
    fn a_level_wider_than_json_build_object_takes_the_ordinary_path() {
        let keys = |n: usize| (0..n).map(|k| format!("t{k}: title ")).collect::<String>();
        let fits = plan_field(&format!("{{ plan(id: 1) {{ {} }} }}", keys(50)));
        assert!(shape(&fits).is_some());
        let wide = plan_field(&format!("{{ plan(id: 1) {{ {} }} }}", keys(51)));
        assert_eq!(shape(&wide), None);
        let nested = plan_field(&format!(
            "{{ plan(id: 1) {{ priorities {{ {} }} }} }}",
            keys(51).replace("title", "position")
        ));
        assert_eq!(shape(&nested), None);
    }

    #[test]
    fn fragments_arguments_and_unknown_fields_take_the_ordinary_path() {
        for q in [
            "{ plan(id: 1) { ...on Plan { title } } }",
            "{ plan(id: 1) { actions { status(quarter: \"2014/15 Q1\") } } }",
            "{ plan(id: 1) { createdAt } }",
            "{ plan(id: 1) { title t: title title } }",
            "{ plan(id: 1) { title @deprecated } }",
        ] {
            assert_eq!(shape(&plan_field(q)), None, "{q}");
        }
        assert!(shape(&plan_field("{ plan(id: 1) { title t: title } }")).is_some());
    }
}
