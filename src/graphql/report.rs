//! The report queries: the RAG's quarterly update and the PCC's twice-yearly report, built by
//! `service::report`.

use async_graphql::{Context, ID, Object, Result};

use super::{parse_id, principal};
use crate::auth::policy::{Operation, authorize, exact_statistics};
pub use crate::service::report::{
    Half, IndicatorFigure, IndicatorTrend, MissingMonth, OverdueAction, PccReport,
    PriorityIndicators, PriorityTrends, QuarterPoint, RagUpdate, StatusChange, build_pcc,
    build_rag,
};

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// The RAG's quarterly update of a plan (`quarter` such as `2014/15 Q3`): progress at the
    /// quarter's end, the actions whose status changed since the previous quarter, those past
    /// their target date, the removed and incomplete ones with reasons, and each priority's
    /// indicators for the quarter against the same quarter a year earlier. Every role may read
    /// it; the PCC's indicator figures are cells of its protected table set.
    #[graphql(complexity = "2 * crate::graphql::REPORT_COST + child_complexity")]
    async fn rag_update(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A plan of a partnership in scope (NOT_FOUND otherwise).")] plan_id: ID,
        #[graphql(
            desc = "A quarter of the plan's financial year, such as `2014/15 Q3`; BAD_USER_INPUT otherwise."
        )]
        quarter: String,
    ) -> Result<RagUpdate> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadPlans)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        let plan_id = parse_id(&plan_id, "plan")?;
        Ok(build_rag(conn, &p.scope(), plan_id, &quarter, exact_statistics(p)).await?)
    }
}

#[derive(Default)]
pub struct PccReportQuery;

#[Object]
impl PccReportQuery {
    /// The PCC's twice-yearly report (`financialYear` such as `2014/15`; FIRST is Q1-Q2,
    /// SECOND Q3-Q4): plan progress at the half's end, each priority's indicators by quarter,
    /// grants and spend with the funded actions' status, survey results, and which partner
    /// months are missing. Every role may read it; the PCC's indicator figures are cells of its
    /// protected table set.
    #[graphql(complexity = "3 * crate::graphql::REPORT_COST + child_complexity")]
    async fn pcc_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership (else BAD_USER_INPUT). A partnership outside the token's scope is NOT_FOUND."
        )]
        partnership: Option<String>,
        #[graphql(desc = "The financial year, such as `2014/15`; BAD_USER_INPUT when malformed.")]
        financial_year: String,
        #[graphql(desc = "FIRST (April to September) or SECOND (October to March).")] half: Half,
    ) -> Result<PccReport> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        authorize(p, Operation::ReadPlans)?;
        let conn = super::db_txn(ctx)?;
        super::heavy_granted(ctx)?;
        Ok(build_pcc(conn, target, &financial_year, half, exact_statistics(p)).await?)
    }
}
