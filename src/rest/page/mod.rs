//! Reports as printable HTML pages (`GET /reports/...`) with SVG charts drawn by the server: no
//! script, nothing loaded from anywhere (the page's policy forbids both), and a print stylesheet
//! for a clean A4 PDF from any browser. Pages render the same JSON as the CSV and GraphQL forms,
//! so the three carry the same numbers; the HTML is in `templates`.

mod choropleth;
mod templates;

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use templates::{assessment_page, pcc_page, rag_page};

use super::report::{AssessmentParams, PccParams, RagParams};
use crate::auth::link;
use crate::db;
use crate::error::AppError;
use crate::http::caller::{Bearer, VerifiedToken};
use crate::http::limits::Budget;
use crate::http::scope::{self, Scope};
use crate::http::state::AppState;

/// The page's policy: inline styles and inline SVG only; no script, no fetch, no frame.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn html(body: String) -> Response {
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    res
}

fn answer(result: Result<Value, AppError>, render: fn(&Value) -> String) -> Response {
    match result {
        Ok(v) => html(render(&v)),
        Err(e) => e.into_response(),
    }
}

/// `GET /reports/rag-update?planId=...&quarter=2014/15 Q3`
pub async fn rag_update_page(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Result<Query<RagParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(
        super::report::rag_json(&state, token, params).await,
        rag_page,
    )
}

/// `GET /reports/pcc-report?financialYear=2014/15&half=SECOND`
pub async fn pcc_report_page(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Result<Query<PccParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(
        super::report::pcc_json(&state, token, params).await,
        pcc_page,
    )
}

/// `GET /reports/strategic-assessment?from=2013-08-01&to=2014-07-31`
pub async fn assessment_page_handler(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Result<Query<AssessmentParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match super::report::assessment_with_shapes(&state, token, params).await {
        Ok((v, shapes)) => html(assessment_page(&v, &shapes)),
        Err(e) => e.into_response(),
    }
}

/// `GET /reports/submissions/{id}`: a submitted report as it was sent.
pub async fn submission_page(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    Path(id): Path<String>,
) -> Response {
    submission_answer(super::report::submission_json(&state, token, &id).await)
}

fn submission_answer(result: Result<(String, Value), AppError>) -> Response {
    match result {
        Ok((kind, v)) => html(match kind.as_str() {
            "RAG_UPDATE" => rag_page(&v),
            "PCC_REPORT" => pcc_page(&v),
            _ => assessment_page(&v, &[]),
        }),
        Err(e) => e.into_response(),
    }
}

/// `GET /reports/link/{link}`: the one report a link from `createReportLink` opens, in a
/// browser without an `Authorization` header, until the link expires. The opening is written to
/// the audit log (REPORT_LINK_OPENED) before the report is produced: no entry, no report. The
/// page is not to be kept by caches, and it sends no referrer (the link is in its address).
pub async fn report_link_page(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
) -> Response {
    let mut res = match open_link(&state, &link).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    };
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The longest link this service makes is well under this; anything longer is not one.
const LINK_MAX_BYTES: usize = 4096;

async fn open_link(state: &Arc<AppState>, text: &str) -> Result<Response, AppError> {
    if text.len() > LINK_MAX_BYTES {
        return Err(AppError::Unauthenticated(
            "the report link is not valid: ask for a new one (createReportLink)".to_owned(),
        ));
    }
    let key = db::report_link::key(&state.db).await?;
    let claims = link::verify(text, &key)?;
    let role = claims.role()?;
    let token_claims = claims.token_claims();
    state
        .limits
        .take_caller(&token_claims.iss, &token_claims.sub, Budget::Requests)?;
    let token = || VerifiedToken {
        claims: token_claims.clone(),
        role,
        caps: Vec::new(),
    };
    let entry = serde_json::json!({"page": claims.page, "query": claims.query});
    let (partnership_id, jti) = (claims.partnership_id, claims.jti.to_string());
    scope::run(
        state.clone(),
        token(),
        Scope::WRITE,
        true,
        move |txn, p| async move {
            db::audit::record(
                txn.txn()?,
                &p,
                partnership_id,
                db::audit::Action::ReportLinkOpened,
                Some(("report_link", jti)),
                entry,
            )
            .await
        },
    )
    .await?;
    let uri: axum::http::Uri = format!("{}?{}", claims.page, claims.query)
        .parse()
        .map_err(AppError::internal)?;
    let bearer = Ok(Bearer(token()));
    Ok(match claims.page.as_str() {
        "/reports/rag-update" => answer(
            super::report::rag_json(state, bearer, Query::try_from_uri(&uri)).await,
            rag_page,
        ),
        "/reports/pcc-report" => answer(
            super::report::pcc_json(state, bearer, Query::try_from_uri(&uri)).await,
            pcc_page,
        ),
        "/reports/strategic-assessment" => {
            match super::report::assessment_with_shapes(state, bearer, Query::try_from_uri(&uri))
                .await
            {
                Ok((v, shapes)) => html(assessment_page(&v, &shapes)),
                Err(e) => e.into_response(),
            }
        }
        page => {
            let id = page.strip_prefix("/reports/submissions/").unwrap_or(page);
            submission_answer(super::report::submission_json(state, bearer, id).await)
        }
    })
}
