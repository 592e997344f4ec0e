//! The GraphQL API: the schema, its limits and the request context. One file per aggregate.

pub mod area;
pub mod audit;
pub mod case;
pub mod geography;
pub mod grant;
pub mod guard;
pub mod hotspot_response;
pub mod incident;
pub mod indicator;
pub mod node;
pub mod page;

pub(crate) use page::list_cost;
pub mod partnership;
pub mod plan;
pub mod plan_page;
pub mod report;
pub mod report_link;
pub mod submission;
pub mod tableset;
pub mod trusted;

use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use std::time::Duration;

use async_graphql::{Context, EmptySubscription, ID, MergedObject, Schema};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::request::{RequestDb, RequestTxn};
use crate::error::AppError;

/// Most complex query accepted: each field counts 1, a paginated list counts what it selects
/// times its page size, and the costly queries carry the weights below.
pub const MAX_COMPLEXITY: usize = 2_000;
/// What `incidentStats` counts: it scans every incident of its period (twice when compared).
pub const STATS_COST: usize = 250;
/// What `planProgress` and `dataFreshness` count: a few grouped queries each.
pub const REPORT_COST: usize = 50;
/// Largest page a list returns.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Page size when a list is asked for without one.
pub const DEFAULT_PAGE_SIZE: i32 = 50;

/// What may be read. Every field answers only within the partnerships the token names; a
/// record outside them is NOT_FOUND, as if it did not exist (docs/access.md).
#[derive(MergedObject, Default)]
pub struct Query(
    partnership::PartnershipQuery,
    plan::PlanQuery,
    area::AreaQuery,
    geography::GeographyQuery,
    incident::IncidentQuery,
    case::CaseQuery,
    audit::AuditQuery,
    indicator::IndicatorQuery,
    report::ReportQuery,
    report::PccReportQuery,
    grant::GrantQuery,
    hotspot_response::HotspotResponseQuery,
    submission::SubmissionQuery,
    node::NodeQuery,
);

/// What may be changed. Each mutation is applied whole, with its audit entry, or not at all;
/// who may call which is in docs/access.md.
#[derive(MergedObject, Default)]
pub struct Mutation(
    plan::PlanMutation,
    area::AreaMutation,
    incident::IncidentMutation,
    case::CaseMutation,
    case::CaseWorkMutation,
    indicator::IndicatorMutation,
    grant::GrantMutation,
    hotspot_response::HotspotResponseMutation,
    submission::SubmissionMutation,
    report_link::ReportLinkMutation,
);

pub type CsphubSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema exactly as production serves it (also used by `csphub schema`).
/// The database is not in the schema's data: each request brings its own transaction.
pub fn build_schema() -> CsphubSchema {
    builder().finish()
}

/// The same schema for documents that have passed async-graphql's full validation before with
/// the same operation name and that have no variables (`guard::Checked::validated`), whose
/// verdict therefore cannot change: it runs only the checks that count (complexity, depth,
/// fragment cycles), not every rule again. On the small `plans` query that is 12% fewer
/// instructions per request (callgrind, 191,000 to 168,000).
pub fn build_schema_validated() -> CsphubSchema {
    builder()
        .validation_mode(async_graphql::ValidationMode::Fast)
        .finish()
}

fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        // Depth is checked by `guard` (data fields only, so introspection tools work).
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(8)
}

/// Root fields that do heavy work (statistics, reports, the fuzzy people search). A request that asks for one takes a
/// heavy slot (`db::Heavy`) before it takes a connection, and its transaction gets the heavy
/// statement budget; the resolvers check that it did (`heavy_granted`).
pub const HEAVY_FIELDS: &[&str] = &[
    "incidentStats",
    "areaStatistics",
    "protectedAreaStatistics",
    "hotspots",
    "hotspotEvaluation",
    "planProgress",
    "dataFreshness",
    "searchPeople",
    "strategicAssessment",
    "ragUpdate",
    "pccReport",
    "reportDrift",
    "submitReport",
];

/// The root fields of case data. A request that asks for any of them runs its statements with
/// generic plans: under row-level security PostgreSQL's default kept planning these statements
/// afresh (about 1.5 ms each) on every request (bench/cases, `--plan-cache-mode`).
pub const CASE_FIELDS: &[&str] = &[
    "node",
    "cases",
    "case",
    "caseByRef",
    "searchPeople",
    "auditLog",
    "openCase",
    "shareCase",
    "unshareCase",
    "addCaseNote",
    "addSubject",
    "updateCase",
    "recordDash",
    "closeCase",
    "reopenCase",
    "recordIntervention",
    "referCase",
    "updateReferral",
    "linkIncident",
    "unlinkIncident",
    "updatePerson",
    "removeSubject",
];

/// Marks a request that holds a heavy slot (in the request data).
#[derive(Clone, Copy)]
pub struct HeavyGranted;

/// A batch of a data loader, run inside the request's own task (see `with_loaders`).
pub type LoaderTask = futures_util::future::BoxFuture<'static, ()>;

/// The per-request data: the verified caller, the request's transaction, and fresh data
/// loaders over that transaction (no cache crosses users). The loaders never wait on a timer:
/// their batches go to `tasks` and run when the request's resolvers have all asked.
pub fn request_data(
    request: async_graphql::Request,
    txn: &RequestTxn,
    heavy: &crate::db::Heavy,
    checked: guard::Checked,
    principal: Principal,
    tasks: &tokio::sync::mpsc::UnboundedSender<LoaderTask>,
    reads: &crate::db::audit::Reads,
) -> async_graphql::Request {
    let scope = principal.scope();
    let spawner = |tasks: tokio::sync::mpsc::UnboundedSender<LoaderTask>| {
        move |task: LoaderTask| {
            // The receiver lives until the request's execution ends; nothing loads after it.
            let _ = tasks.send(task);
        }
    };
    let mut request = request
        .data(principal)
        .data(reads.clone())
        .data(heavy.clone())
        .data(txn.clone())
        .data({
            // Cached for the request, so that `plan(id)` can hand its one-statement page to the
            // fields below it (`plan::PlanQuery::plan`); never across requests.
            let plans = DataLoader::with_cache(
                plan::PlanLoader::new(txn.clone()),
                spawner(tasks.clone()),
                HashMapCache::default(),
            )
            .delay(Duration::ZERO);
            plans.enable_all_cache(!checked.mutation);
            plans
        })
        .data(
            DataLoader::new(
                incident::IncidentLoader::new(txn.clone(), scope),
                spawner(tasks.clone()),
            )
            .delay(Duration::ZERO),
        );
    if checked.heavy {
        request = request.data(HeavyGranted);
    }
    request
}

/// Runs `execution` with the data loaders' batches in the same task: whenever the execution
/// waits, the batches its resolvers queued run, each with every key asked for by then. A level
/// of the query is one statement, with no timer, no thread hop and no batch split in two.
pub async fn with_loaders<F: Future>(
    execution: F,
    mut tasks: tokio::sync::mpsc::UnboundedReceiver<LoaderTask>,
) -> F::Output {
    use futures_util::StreamExt;
    use futures_util::stream::FuturesUnordered;
    use std::task::Poll;

    let mut execution = std::pin::pin!(execution);
    let mut running: FuturesUnordered<LoaderTask> = FuturesUnordered::new();
    std::future::poll_fn(move |cx| {
        loop {
            if let Poll::Ready(out) = execution.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            while let Poll::Ready(Some(task)) = tasks.poll_recv(cx) {
                running.push(task);
            }
            let mut finished = false;
            while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {
                finished = true;
            }
            // A finished batch has answered its resolvers: let them go on at once.
            if !finished {
                return Poll::Pending;
            }
        }
    })
    .await
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, AppError> {
    ctx.data_opt::<Principal>()
        .ok_or_else(|| AppError::Unauthenticated("a bearer token is required".to_owned()))
}

/// The request's transaction: every statement of a request runs on it.
pub(crate) fn db<'a>(ctx: &Context<'a>) -> Result<&'a RequestDb, AppError> {
    ctx.data_opt::<RequestTxn>()
        .map(|t| &**t)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no connection in the request data")))
}

/// The request's transaction, for fields that must have one: writes, case data, statistics
/// and reports (`graphql::guard` sends their requests to a transaction).
pub(crate) fn db_txn<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseTransaction, AppError> {
    db(ctx)?.txn()
}

/// Heavy resolvers call this: the request must have taken a heavy slot before its connection
/// (the field is in `HEAVY_FIELDS`), or it fails rather than take the pool from others.
pub(crate) fn heavy_granted(ctx: &Context<'_>) -> Result<(), AppError> {
    ctx.data_opt::<HeavyGranted>().map(|_| ()).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "a heavy field ran without a heavy slot: add it to HEAVY_FIELDS"
        ))
    })
}

/// Queues the audit entry of a read (written with the request's others before its COMMIT).
pub(crate) fn audit_read(
    ctx: &Context<'_>,
    who: &Principal,
    partnership_id: Uuid,
    action: crate::db::audit::Action,
    record: Option<(&str, String)>,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let reads = ctx
        .data_opt::<crate::db::audit::Reads>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no audit queue in the request data")))?;
    crate::db::audit::queue_read(reads, who, partnership_id, action, record, detail);
    Ok(())
}

/// The plan loader of the request.
pub type PlanLoaders = DataLoader<plan::PlanLoader, HashMapCache>;

pub(crate) fn loader<'a>(ctx: &Context<'a>) -> Result<&'a PlanLoaders, AppError> {
    ctx.data_opt::<PlanLoaders>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no data loader in the request data")))
}

/// Parses an id a client sent. A malformed id is reported as such; a well-formed id of a record
/// that does not exist or is out of scope is NOT_FOUND later.
pub fn parse_id(id: &ID, what: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::BadUserInput(format!("'{}' is not a valid {what} id", id.as_str())))
}

/// The check every free-text GraphQL input passes: at most `.0` characters and no control
/// characters other than line breaks and tabs (a NUL cannot be stored, and the rest have no
/// business in a title). Each input field documents its limit. Short texts (at most
/// [`NAME_MAX`] characters: codes, references, names and titles, which identify things) also
/// refuse bidirectional controls and zero-width characters; longer free text keeps them.
pub struct Text(pub usize);

/// The longest text that names something rather than describing it.
pub const NAME_MAX: usize = 200;

impl async_graphql::CustomValidator<String> for Text {
    fn check(&self, value: &String) -> Result<(), async_graphql::InputValueError<String>> {
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(async_graphql::InputValueError::custom(
                "contains a control character (such as NUL, \\u0000)",
            ));
        }
        if self.0 <= NAME_MAX && value.chars().any(crate::domain::text::is_invisible) {
            return Err(async_graphql::InputValueError::custom(
                crate::domain::text::INVISIBLE,
            ));
        }
        let len = value.chars().count();
        if len > self.0 {
            return Err(async_graphql::InputValueError::custom(format!(
                "is {len} characters long; at most {} are allowed",
                self.0
            )));
        }
        Ok(())
    }
}

/// The GraphQL name of an enum's value, which is what the database stores for it too: derived
/// from the schema (async-graphql's `Enum`), so the two cannot drift apart.
pub(crate) fn name_of<E: async_graphql::resolver_utils::EnumType>(value: E) -> &'static str {
    E::items()
        .iter()
        .find(|item| item.value == value)
        .map_or("", |item| item.name)
}

/// The enum value a GraphQL name (as stored in the database) stands for.
pub(crate) fn value_of<E: async_graphql::resolver_utils::EnumType>(name: &str) -> Option<E> {
    E::items()
        .iter()
        .find(|item| item.name == name)
        .map(|item| item.value)
}

/// An error from a data loader: shared between the fields that waited on the same batch.
#[derive(Clone)]
pub struct LoadError(pub Arc<AppError>);

impl From<AppError> for LoadError {
    fn from(e: AppError) -> Self {
        LoadError(Arc::new(e))
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(e: LoadError) -> Self {
        e.0.to_graphql()
    }
}

#[cfg(test)]
mod lists {
    //! `HEAVY_FIELDS` and `CASE_FIELDS` are kept by hand: these tests read the root resolvers'
    //! source and fail when a resolver that takes the heavy slot (`heavy_granted`) or reads
    //! case data (`Operation::WorkCases`, the audit log, a case through `node`) is missing from
    //! its list, or when a list names a field that does neither.

    use std::collections::BTreeSet;

    /// Root fields (resolvers of `impl ...Query` and `impl ...Mutation` blocks) whose body
    /// matches `uses`.
    fn root_fields(uses: &dyn Fn(&str) -> bool) -> BTreeSet<String> {
        let mut files = Vec::new();
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/graphql")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).expect("src/graphql") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let mut found = BTreeSet::new();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("source");
            let mut lines = text.lines();
            while let Some(line) = lines.next() {
                let root = line.starts_with("impl ")
                    && (line.ends_with("Query {") || line.ends_with("Mutation {"));
                if !root {
                    continue;
                }
                let mut current: Option<(String, String)> = None;
                for line in lines.by_ref() {
                    let resolver = line
                        .strip_prefix("    async fn ")
                        .or_else(|| line.strip_prefix("    pub async fn "));
                    if (line == "}" || resolver.is_some())
                        && let Some((name, body)) = current.take()
                        && uses(&body)
                    {
                        found.insert(name);
                    }
                    if line == "}" {
                        break;
                    }
                    if let Some(rest) = resolver {
                        let snake: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let mut camel = String::new();
                        let mut upper = false;
                        for c in snake.chars() {
                            if c == '_' {
                                upper = true;
                            } else if upper {
                                camel.extend(c.to_uppercase());
                                upper = false;
                            } else {
                                camel.push(c);
                            }
                        }
                        current = Some((camel, String::new()));
                    } else if let Some((_, body)) = current.as_mut() {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
            }
        }
        found
    }

    fn listed(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn heavy_fields_are_the_resolvers_that_take_the_heavy_slot() {
        let found = root_fields(&|body| body.contains("heavy_granted("));
        assert!(found.len() >= 9, "the reader found too few: {found:?}");
        assert_eq!(found, listed(super::HEAVY_FIELDS));
    }

    #[test]
    fn case_fields_are_the_resolvers_that_read_case_data() {
        let found = root_fields(&|body| {
            body.contains("caseworker(ctx)")
                || body.contains("case_node(ctx")
                || body.contains("Operation::WorkCases")
                || body.contains("Operation::ReadAuditLog")
                || body.contains("Operation::ReadCaseAudit")
        });
        assert!(found.len() >= 21, "the reader found too few: {found:?}");
        assert_eq!(found, listed(super::CASE_FIELDS));
    }
}
