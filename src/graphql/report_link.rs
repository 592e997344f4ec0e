//! `createReportLink`: a short-lived, signed link to one printable report, for a browser that
//! cannot send an `Authorization` header (`auth::link`, `GET /reports/link/{link}`).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use serde_json::json;

use super::report::Half;
use super::submission::{ReportKind, slug_of};
use super::{parse_id, principal};
use crate::auth::link::{self, LinkClaims};
use crate::auth::policy::{Operation, authorize, exact_statistics, readable_reports};
use crate::auth::{Principal, ScopedPartnership};
use crate::db;
use crate::db::audit::Action;
use crate::domain::period::{FinancialYear, Quarter};
use crate::error::AppError;
use crate::scalar::{Date, Timestamp};

/// Which report a link opens: a report produced when the link is opened (`kind` and the
/// fields that kind needs, as `submitReport` takes them), or a submitted report
/// (`submissionId`). Exactly one of `kind` and `submissionId` (BAD_USER_INPUT otherwise).
#[derive(InputObject)]
pub struct CreateReportLinkInput {
    /// The report to produce when the link is opened. The fields its kind needs must be given
    /// (BAD_USER_INPUT otherwise); the other kinds' fields are ignored.
    pub kind: Option<ReportKind>,
    /// A submitted report, as sent (`reportSubmission`): of a partnership in scope and of a
    /// kind the caller may read (NOT_FOUND otherwise).
    pub submission_id: Option<ID>,
    /// PCC_REPORT and STRATEGIC_ASSESSMENT: the partnership's slug; may be left out when the
    /// token names one partnership.
    #[graphql(validator(custom = "crate::graphql::Text(64)"))]
    pub partnership: Option<String>,
    /// RAG_UPDATE: the plan, of a partnership in scope (NOT_FOUND otherwise).
    pub plan_id: Option<ID>,
    /// RAG_UPDATE: a quarter of the plan's financial year, such as `2014/15 Q3`.
    #[graphql(validator(custom = "crate::graphql::Text(32)"))]
    pub quarter: Option<String>,
    /// PCC_REPORT: the financial year, such as `2014/15`.
    #[graphql(validator(custom = "crate::graphql::Text(32)"))]
    pub financial_year: Option<String>,
    /// PCC_REPORT: the half of the financial year.
    pub half: Option<Half>,
    /// STRATEGIC_ASSESSMENT: the window's first day (YYYY-MM-DD).
    pub from: Option<Date>,
    /// STRATEGIC_ASSESSMENT: the window's last day, included.
    pub to: Option<Date>,
    /// How long the link opens the report, in minutes: 1 to 15 (default 5).
    #[graphql(default = 5, validator(minimum = 1, maximum = 15))]
    pub minutes: i32,
}

/// A link that opens one printable report in a browser, without a header, until it expires.
#[derive(SimpleObject)]
pub struct ReportLink {
    /// The link's path, such as `/reports/link/eyJ...`: put it after the service's address.
    /// It opens only this report, as the caller who asked for it would see it then, and only
    /// until `expiresAt`; every opening is in the audit log (REPORT_LINK_OPENED). Treat it as a
    /// password: anyone who has it may open the report until then.
    pub path: String,
    /// When the link stops opening the report (RFC 3339, UTC).
    pub expires_at: Timestamp,
}

/// The page and query a link opens, and the report's partnership.
struct Target {
    page: String,
    query: Vec<(&'static str, String)>,
    partnership: ScopedPartnership,
}

fn missing(what: &str, kind: &str) -> AppError {
    AppError::BadUserInput(format!("a link to {kind} needs {what}"))
}

/// Checks what can be checked before the link is opened (the caller may read the report,
/// the record exists in scope, the arguments read) and gives the page it opens.
async fn target(
    conn: &sea_orm::DatabaseTransaction,
    p: &Principal,
    input: &CreateReportLinkInput,
) -> Result<Target, AppError> {
    match (input.kind, &input.submission_id) {
        (Some(_), Some(_)) | (None, None) => Err(AppError::BadUserInput(
            "give exactly one of kind (a report produced when the link is opened) and submissionId (a submitted report)".to_owned(),
        )),
        (None, Some(id)) => {
            authorize(p, Operation::ReadPlans)?;
            let id = parse_id(id, "report submission")?;
            let row = db::submission::get(conn, &p.scope(), readable_reports(p), id).await?;
            Ok(Target {
                page: format!("/reports/submissions/{}", row.id),
                query: Vec::new(),
                partnership: ScopedPartnership {
                    id: row.partnership_id,
                    slug: slug_of(p, row.partnership_id),
                },
            })
        }
        (Some(ReportKind::RagUpdate), None) => {
            authorize(p, Operation::ReadPlans)?;
            let kind = "RAG_UPDATE";
            let plan_id = input.plan_id.as_ref().ok_or_else(|| missing("planId", kind))?;
            let quarter = input.quarter.as_deref().ok_or_else(|| missing("quarter", kind))?;
            let plan =
                db::plan::plan_in_scope(conn, &p.scope(), parse_id(plan_id, "plan")?, false)
                    .await?;
            let quarter: Quarter = quarter.trim().parse()?;
            let year: FinancialYear = plan.financial_year.parse()?;
            if !year.contains(quarter) {
                return Err(AppError::BadUserInput(format!(
                    "quarter {quarter} is not in the plan's financial year {year}"
                )));
            }
            Ok(Target {
                page: "/reports/rag-update".to_owned(),
                query: vec![
                    ("planId", plan.id.to_string()),
                    ("quarter", quarter.to_string()),
                ],
                partnership: ScopedPartnership {
                    id: plan.partnership_id,
                    slug: slug_of(p, plan.partnership_id),
                },
            })
        }
        (Some(ReportKind::PccReport), None) => {
            authorize(p, Operation::ReadPlans)?;
            let kind = "PCC_REPORT";
            let partnership = p.partnership_or_only(input.partnership.as_deref())?.clone();
            let year = input
                .financial_year
                .as_deref()
                .ok_or_else(|| missing("financialYear", kind))?;
            let year: FinancialYear = year.trim().parse()?;
            let half = super::name_of(input.half.ok_or_else(|| missing("half", kind))?);
            Ok(Target {
                page: "/reports/pcc-report".to_owned(),
                query: vec![
                    ("partnership", partnership.slug.clone()),
                    ("financialYear", year.to_string()),
                    ("half", half.to_owned()),
                ],
                partnership,
            })
        }
        (Some(ReportKind::StrategicAssessment), None) => {
            authorize(p, Operation::ReadAssessment)?;
            let kind = "STRATEGIC_ASSESSMENT";
            let partnership = p.partnership_or_only(input.partnership.as_deref())?.clone();
            let (from, to) = input
                .from
                .zip(input.to)
                .ok_or_else(|| missing("from and to", kind))?;
            let (from, to): (chrono::NaiveDate, chrono::NaiveDate) = (from.into(), to.into());
            crate::domain::indicator::check_window(from, to)?;
            if !exact_statistics(p) && crate::domain::tableset::Unit::of_days(from, to).is_none() {
                return Err(AppError::BadUserInput(crate::domain::tableset::UNITS.to_owned()));
            }
            Ok(Target {
                page: "/reports/strategic-assessment".to_owned(),
                query: vec![
                    ("partnership", partnership.slug.clone()),
                    ("from", from.to_string()),
                    ("to", to.to_string()),
                ],
                partnership,
            })
        }
    }
}

#[derive(Default)]
pub struct ReportLinkMutation;

#[Object]
impl ReportLinkMutation {
    /// A link that opens one printable report (`/reports/...`) in a browser without an
    /// `Authorization` header, for a few minutes: for a browser tab, an email to oneself, a
    /// board paper's PDF. Whoever may read the report may ask (the PCC too, for the reports
    /// it reads); the link opens only that report, scoped to its partnership, as the caller
    /// would see it when it is opened. Making it and every opening are in the audit log
    /// (REPORT_LINK_CREATED, REPORT_LINK_OPENED).
    async fn create_report_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report the link opens, and for how long.")]
        input: CreateReportLinkInput,
    ) -> Result<ReportLink> {
        let p = principal(ctx)?;
        let conn = super::db_txn(ctx)?;
        let target = target(conn, p, &input).await?;
        let query = serde_urlencoded::to_string(&target.query).map_err(AppError::internal)?;
        let now = chrono::Utc::now();
        let minutes = i64::from(input.minutes).clamp(1, link::MAX_MINUTES);
        let expires = now + chrono::Duration::minutes(minutes);
        let claims = LinkClaims {
            aud: link::AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            jti: uuid::Uuid::new_v4(),
            sub: p.sub.clone(),
            role: p.role.as_str().to_owned(),
            agency: p.agency.clone(),
            partnership: target.partnership.slug.clone(),
            partnership_id: target.partnership.id,
            page: target.page.clone(),
            query: query.clone(),
        };
        let key = db::report_link::key(conn).await?;
        let signed = link::sign(&claims, &key)?;
        db::audit::record(
            conn,
            p,
            target.partnership.id,
            Action::ReportLinkCreated,
            Some(("report_link", claims.jti.to_string())),
            json!({"page": target.page, "query": query, "expiresAt": expires.to_rfc3339()}),
        )
        .await?;
        let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires);
        Ok(ReportLink {
            path: format!("/reports/link/{signed}"),
            expires_at: Timestamp(expires_at),
        })
    }
}
