//! Submitting a report freezes it: exactly what was sent is kept (content, who, when, a content
//! hash), and `reportDrift` shows what would differ if it were produced again today.

use crate::scalar::Timestamp;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::page::{Connection, PageArgs, connection, decode_cursor, encode_cursor, wants_total};
use super::report::Half;
use super::{parse_id, principal};
use crate::auth::policy::{Operation, authorize, readable_reports};
use crate::auth::{Principal, ScopedPartnership};
use crate::db;
use crate::domain::report::{content_hash, differences};
use crate::error::AppError;

/// Which report a submission holds.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReportKind {
    /// `ragUpdate`, with exact figures: for the partnership's own board.
    RagUpdate,
    /// `pccReport`, always as the PCC sees it (its figures are cells of its table set).
    PccReport,
    /// `strategicAssessment`, with exact figures.
    StrategicAssessment,
}

impl ReportKind {
    fn as_str(self) -> &'static str {
        super::name_of(self)
    }

    fn parse(s: &str) -> ReportKind {
        super::value_of(s).unwrap_or(ReportKind::StrategicAssessment)
    }
}

/// What to produce: the report's kind and its arguments.
#[derive(InputObject)]
pub struct SubmitReportInput {
    /// Which report to produce. The fields its kind needs must be given (BAD_USER_INPUT
    /// otherwise); the other kinds' fields are ignored.
    pub kind: ReportKind,
    /// The partnership's slug; may be left out when the token names one partnership (for
    /// RAG_UPDATE the plan's partnership is used).
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// RAG_UPDATE: the plan, of a partnership in scope (NOT_FOUND otherwise).
    pub plan_id: Option<ID>,
    /// RAG_UPDATE: a quarter of the plan's financial year, such as `2014/15 Q3`; up to 32
    /// characters.
    #[graphql(validator(custom = "crate::graphql::Text(32)"))]
    pub quarter: Option<String>,
    /// PCC_REPORT: the financial year, such as `2014/15`; up to 32 characters.
    #[graphql(validator(custom = "crate::graphql::Text(32)"))]
    pub financial_year: Option<String>,
    /// PCC_REPORT: the half of the financial year.
    pub half: Option<Half>,
    /// STRATEGIC_ASSESSMENT: the window's first day (YYYY-MM-DD).
    pub from: Option<crate::scalar::Date>,
    /// STRATEGIC_ASSESSMENT: the window's last day, included; not before `from` and at most ten
    /// years after it.
    pub to: Option<crate::scalar::Date>,
    /// Such as "RAG meeting, 20 April 2015".
    #[graphql(default, validator(custom = "crate::graphql::Text(2000)"))]
    pub note: String,
}

/// A report as submitted: its content is exactly what was sent and never changes.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ReportSubmission {
    /// Opaque id, for `reportSubmission` and `reportDrift`.
    pub id: ID,
    /// Which report it is.
    pub kind: ReportKind,
    /// The partnership's slug.
    pub partnership: String,
    /// The report's arguments.
    pub parameters: async_graphql::Json<Value>,
    /// The report as produced when it was submitted (the fields of the GraphQL query of its
    /// kind, every one of them).
    pub content: async_graphql::Json<Value>,
    /// sha256 (hex) of the content's canonical JSON text (keys sorted, no spaces).
    pub content_hash: String,
    /// The submitter's note, such as the meeting it was sent for; may be empty.
    pub note: String,
    /// The token subject (`sub`) that submitted it.
    pub submitted_by: String,
    #[graphql(skip)]
    pub submitted_by_agency: String,
    /// When it was submitted: RFC 3339, in UTC.
    pub submitted_at: crate::scalar::Timestamp,
}

#[async_graphql::ComplexObject]
impl ReportSubmission {
    /// The submitter's agency (slug, name, kind).
    #[graphql(complexity = "child_complexity")]
    async fn submitted_by_agency(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<std::sync::Arc<crate::graphql::area::Agency>> {
        crate::graphql::incident::agency(ctx, &self.submitted_by_agency).await
    }
}

/// A figure that differs between the submitted report and the same report produced today.
#[derive(SimpleObject, Clone)]
pub struct FigureDifference {
    /// Where in the content, such as `progress.total.complete` or
    /// `changes[ref=6.9].to`; list rows are named by their ref, quarter, indicator code,
    /// question, month or position.
    pub path: String,
    /// Null when the figure was not in the submitted report.
    pub submitted: async_graphql::Json<Value>,
    /// Null when the figure is no longer produced.
    pub now: async_graphql::Json<Value>,
}

/// What would differ if a submitted report were produced again today.
#[derive(SimpleObject, Clone)]
pub struct ReportDrift {
    /// The submission's id.
    pub submission_id: ID,
    /// The submission's `contentHash`.
    pub submitted_hash: String,
    /// The hash of the report produced now.
    pub current_hash: String,
    /// True when the report produced now differs from the submitted one (the hashes differ).
    pub changed: bool,
    /// The figures that differ: one entry per value changed, and one per list row added or
    /// gone (the whole row).
    pub differences: Vec<FigureDifference>,
}

pub(crate) fn submission(slug: &str, r: db::submission::SubmissionRow) -> ReportSubmission {
    ReportSubmission {
        id: ID(r.id.to_string()),
        kind: ReportKind::parse(&r.kind),
        partnership: slug.to_owned(),
        parameters: async_graphql::Json(r.parameters),
        content: async_graphql::Json(r.content),
        content_hash: r.content_hash,
        note: r.note,
        submitted_by: r.submitted_by_sub,
        submitted_by_agency: r.submitted_by_agency,
        submitted_at: Timestamp(r.submitted_at),
    }
}

fn missing(what: &str, kind: ReportKind) -> AppError {
    AppError::BadUserInput(format!("{} needs {what}", kind.as_str()))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, AppError> {
    serde_json::to_value(v).map_err(AppError::internal)
}

/// Produces a report from the records for its kind and parameters: exact figures for the RAG
/// update and the assessment, the PCC's for its report.
async fn produce(
    conn: &sea_orm::DatabaseTransaction,
    partnership: &ScopedPartnership,
    kind: ReportKind,
    parameters: &Value,
) -> Result<Value, AppError> {
    let text = |k: &str| parameters.get(k).and_then(Value::as_str).map(str::to_owned);
    match kind {
        ReportKind::RagUpdate => {
            let plan = text("planId")
                .ok_or_else(|| missing("planId", kind))
                .and_then(|id| parse_id(&ID(id), "plan"))?;
            let quarter = text("quarter").ok_or_else(|| missing("quarter", kind))?;
            let report =
                crate::service::report::build_rag(conn, &[partnership.id], plan, &quarter, true)
                    .await?;
            to_json(&report)
        }
        ReportKind::PccReport => {
            let year = text("financialYear").ok_or_else(|| missing("financialYear", kind))?;
            let half = text("half")
                .and_then(|h| super::value_of::<Half>(&h))
                .ok_or_else(|| missing("half", kind))?;
            let report =
                crate::service::report::build_pcc(conn, partnership, &year, half, false).await?;
            to_json(&report)
        }
        ReportKind::StrategicAssessment => {
            let day = |k: &str| -> Result<NaiveDate, AppError> {
                text(k)
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| missing("from and to", kind))
            };
            let report = crate::service::report::assessment_for(
                conn,
                partnership,
                day("from")?,
                day("to")?,
                true,
            )
            .await?;
            to_json(&report)
        }
    }
}

#[derive(Default)]
pub struct SubmissionQuery;

#[Object]
impl SubmissionQuery {
    /// A partnership's submitted reports, newest first, cursor-paginated. Police, fire and
    /// council read every kind; the PCC reads the PCC reports.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn report_submissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
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
    ) -> Result<Connection<ReportSubmission>> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadPlans)?;
        let keys = PageArgs::new(first, after, last, before).keyset(decode_cursor)?;
        let conn = super::db(ctx)?;
        let kinds = readable_reports(p);
        let rows = db::submission::page(conn, target.id, kinds, &keys).await?;
        let total_count = if wants_total(ctx) {
            db::submission::count(conn, target.id, kinds).await?
        } else {
            0
        };
        Ok(connection(
            &keys,
            rows,
            |r| encode_cursor(r.submitted_at, r.id),
            |r| Ok(submission(&target.slug, r)),
            total_count,
        )?)
    }

    /// One submitted report, exactly as it was sent.
    async fn report_submission(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The submission's id. NOT_FOUND when it is not of a partnership in scope or, for the PCC, not a PCC report."
        )]
        id: ID,
    ) -> Result<ReportSubmission> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let row = db::submission::get(
            super::db(ctx)?,
            &p.scope(),
            readable_reports(p),
            parse_id(&id, "report submission")?,
        )
        .await?;
        let slug = slug_of(p, row.partnership_id);
        Ok(submission(&slug, row))
    }

    /// What would differ, figure by figure, if a submitted report were produced again from
    /// today's records (corrections never change the submission itself). Heavy.
    #[graphql(complexity = "3 * crate::graphql::REPORT_COST + child_complexity")]
    async fn report_drift(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The submission's id. NOT_FOUND when it is not of a partnership in scope or, for the PCC, not a PCC report."
        )]
        submission_id: ID,
    ) -> Result<ReportDrift> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        let row = db::submission::get(
            conn,
            &p.scope(),
            readable_reports(p),
            parse_id(&submission_id, "report submission")?,
        )
        .await?;
        let partnership = ScopedPartnership {
            id: row.partnership_id,
            slug: slug_of(p, row.partnership_id),
        };
        let kind = ReportKind::parse(&row.kind);
        let now = produce(conn, &partnership, kind, &row.parameters).await?;
        let current_hash = content_hash(&now);
        let differences: Vec<FigureDifference> = differences(&row.content, &now)
            .into_iter()
            .map(|(path, submitted, now)| FigureDifference {
                path,
                submitted: async_graphql::Json(submitted),
                now: async_graphql::Json(now),
            })
            .collect();
        Ok(ReportDrift {
            submission_id: ID(row.id.to_string()),
            changed: current_hash != row.content_hash,
            submitted_hash: row.content_hash,
            current_hash,
            differences,
        })
    }
}

/// The slug of a partnership in the caller's scope, by id (empty when it is not one).
pub(crate) fn slug_of(p: &Principal, id: uuid::Uuid) -> String {
    p.partnerships
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.slug.clone())
        .unwrap_or_default()
}

#[derive(Default)]
pub struct SubmissionMutation;

#[Object]
impl SubmissionMutation {
    /// Produces a report from the records and freezes it: the content, who, when and its hash
    /// are kept and never change. Coordinators (not the PCC).
    async fn submit_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's kind and the arguments that kind needs, with a note.")]
        input: SubmitReportInput,
    ) -> Result<ReportSubmission> {
        let p = principal(ctx)?;
        authorize(p, Operation::SubmitReports)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        let kind = input.kind;
        let (partnership, parameters) = match kind {
            ReportKind::RagUpdate => {
                let plan_id = input.plan_id.ok_or_else(|| missing("planId", kind))?;
                let quarter = input.quarter.ok_or_else(|| missing("quarter", kind))?;
                let plan =
                    db::plan::plan_in_scope(conn, &p.scope(), parse_id(&plan_id, "plan")?, false)
                        .await?;
                let target = ScopedPartnership {
                    id: plan.partnership_id,
                    slug: slug_of(p, plan.partnership_id),
                };
                (
                    target,
                    json!({"planId": plan.id.to_string(), "quarter": quarter.trim()}),
                )
            }
            ReportKind::PccReport => {
                let target = p.partnership_or_only(input.partnership.as_deref())?.clone();
                let year = input
                    .financial_year
                    .ok_or_else(|| missing("financialYear", kind))?;
                let half = super::name_of(input.half.ok_or_else(|| missing("half", kind))?);
                (target, json!({"financialYear": year.trim(), "half": half}))
            }
            ReportKind::StrategicAssessment => {
                let target = p.partnership_or_only(input.partnership.as_deref())?.clone();
                let (from, to) = input
                    .from
                    .zip(input.to)
                    .ok_or_else(|| missing("from and to", kind))?;
                (
                    target,
                    json!({"from": from.to_string(), "to": to.to_string()}),
                )
            }
        };
        let content = produce(conn, &partnership, kind, &parameters).await?;
        let hash = content_hash(&content);
        let row = db::submission::insert(
            conn,
            db::submission::NewSubmission {
                partnership_id: partnership.id,
                kind: kind.as_str(),
                parameters,
                content,
                content_hash: hash,
                note: input.note.trim(),
                sub: &p.sub,
                agency: &p.agency,
            },
        )
        .await?;
        Ok(submission(&partnership.slug, row))
    }
}
