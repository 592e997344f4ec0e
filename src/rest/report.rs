//! Reports as CSV for analysts: `GET /api/v1/reports/...`, the same token rules and the same
//! numbers as the GraphQL queries (the report is produced by the same code and flattened).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::Value;

use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize, exact_statistics};
use crate::db;
use crate::db::request::RequestTxn;
use crate::error::AppError;
use crate::http::caller::Bearer;
use crate::http::scope::{self, Scope};
use crate::http::state::AppState;

/// Produces a report's JSON in a request transaction of its own, holding a heavy slot, as the
/// token's caller. Parameters are checked before the token's failure is answered.
async fn produce<F>(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    build: F,
) -> Result<Value, AppError>
where
    F: for<'a> FnOnce(
            &'a sea_orm::DatabaseTransaction,
            &'a Principal,
        ) -> futures_util::future::BoxFuture<'a, Result<Value, AppError>>
        + Send
        + 'static,
{
    let Bearer(token) = token?;
    // Reports only read: from the replica when there is one, and nothing to commit.
    let work =
        |txn: RequestTxn, principal: Principal| async move { build(txn.txn()?, &principal).await };
    scope::run(state.clone(), token, Scope::HEAVY_READ, false, work).await
}

fn csv(name: &str, v: &Value) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        crate::domain::report::to_csv(v),
    )
        .into_response()
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, AppError> {
    serde_json::to_value(v).map_err(AppError::internal)
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, AppError> {
    q.map(|Query(t)| t)
        .map_err(|e| AppError::BadUserInput(e.body_text()))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RagParams {
    plan_id: String,
    quarter: String,
}

type Params<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// `ragUpdate` as JSON, for the CSV and the page.
pub async fn rag_json(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    params: Params<RagParams>,
) -> Result<Value, AppError> {
    let params = query(params)?;
    let plan = crate::graphql::parse_id(&async_graphql::ID(params.plan_id), "plan")?;
    produce(state, token, move |txn, p| {
        Box::pin(async move {
            authorize(p, Operation::ReadPlans)?;
            let r = crate::service::report::build_rag(
                txn,
                &p.scope(),
                plan,
                &params.quarter,
                exact_statistics(p),
            )
            .await?;
            to_json(&r)
        })
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PccParams {
    partnership: Option<String>,
    financial_year: String,
    /// FIRST or SECOND.
    half: String,
}

/// `pccReport` as JSON, for the CSV and the page.
pub async fn pcc_json(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    params: Params<PccParams>,
) -> Result<Value, AppError> {
    let params = query(params)?;
    let half = match params.half.as_str() {
        "FIRST" => crate::service::report::Half::First,
        "SECOND" => crate::service::report::Half::Second,
        _ => {
            return Err(AppError::BadUserInput(
                "half must be FIRST or SECOND".to_owned(),
            ));
        }
    };
    produce(state, token, move |txn, p| {
        Box::pin(async move {
            authorize(p, Operation::ReadPlans)?;
            let target = p.partnership_or_only(params.partnership.as_deref())?;
            let r = crate::service::report::build_pcc(
                txn,
                target,
                &params.financial_year,
                half,
                exact_statistics(p),
            )
            .await?;
            to_json(&r)
        })
    })
    .await
}

#[derive(serde::Deserialize)]
pub struct AssessmentParams {
    partnership: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
}

/// `strategicAssessment` as JSON, for the CSV.
pub async fn assessment_json(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    params: Params<AssessmentParams>,
) -> Result<Value, AppError> {
    Ok(assessment(state, token, params, false).await?.0)
}

/// `strategicAssessment` as JSON with its areas' boundaries for the page's map, read in the
/// same transaction.
pub async fn assessment_with_shapes(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    params: Params<AssessmentParams>,
) -> Result<(Value, crate::service::map::Shapes), AppError> {
    assessment(state, token, params, true).await
}

/// The assessment's JSON, and its areas' shapes when `with_shapes` (none otherwise).
async fn assessment(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    params: Params<AssessmentParams>,
    with_shapes: bool,
) -> Result<(Value, crate::service::map::Shapes), AppError> {
    let params = query(params)?;
    // `produce` hands back the JSON alone: the shapes come out beside it.
    let shapes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = shapes.clone();
    let v = produce(state, token, move |txn, p| {
        Box::pin(async move {
            authorize(p, Operation::ReadAssessment)?;
            let target = p.partnership_or_only(params.partnership.as_deref())?;
            let r = crate::service::report::assessment_for(
                txn,
                target,
                params.from,
                params.to,
                exact_statistics(p),
            )
            .await?;
            if with_shapes {
                let drawn = crate::service::map::partnership_shapes(txn, target.id).await?;
                *kept
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = drawn;
            }
            to_json(&r)
        })
    })
    .await?;
    let shapes = std::mem::take(
        &mut *shapes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    Ok((v, shapes))
}

/// A submitted report's kind and content, exactly as sent.
pub async fn submission_json(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    id: &str,
) -> Result<(String, Value), AppError> {
    let id = crate::graphql::parse_id(&async_graphql::ID(id.to_owned()), "report submission")?;
    let v = produce(state, token, move |txn, p| {
        Box::pin(async move {
            authorize(p, Operation::ReadPlans)?;
            let row = db::submission::get(
                txn,
                &p.scope(),
                crate::auth::policy::readable_reports(p),
                id,
            )
            .await?;
            Ok(serde_json::json!({"kind": row.kind, "content": row.content}))
        })
    })
    .await?;
    Ok((
        v["kind"].as_str().unwrap_or_default().to_owned(),
        v["content"].clone(),
    ))
}

fn csv_answer(name: &str, result: Result<Value, AppError>) -> Response {
    match result {
        Ok(v) => csv(name, &v),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/reports/rag-update.csv?planId=...&quarter=2014/15 Q3`
#[utoipa::path(
    get,
    path = "/api/v1/reports/rag-update.csv",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("planId" = String, Query, description = "the plan's id"),
        ("quarter" = String, Query, description = "e.g. 2014/15 Q3"),
    ),
    responses(
        (status = 200, description = "CSV: section,row,field,value (one row per figure)", content_type = "text/csv", body = String),
        (status = 400, description = "Bad parameters", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 404, description = "Out of scope or missing", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "No heavy slot or database", body = super::ErrorBody),
    )
)]
pub async fn rag_update_csv(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Params<RagParams>,
) -> Response {
    csv_answer("rag-update", rag_json(&state, token, params).await)
}

/// `GET /api/v1/reports/pcc-report.csv?financialYear=2014/15&half=SECOND`
#[utoipa::path(
    get,
    path = "/api/v1/reports/pcc-report.csv",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("partnership" = Option<String>, Query, description = "a partnership slug"),
        ("financialYear" = String, Query, description = "e.g. 2014/15"),
        ("half" = String, Query, description = "FIRST or SECOND"),
    ),
    responses(
        (status = 200, description = "CSV: section,row,field,value (one row per figure)", content_type = "text/csv", body = String),
        (status = 400, description = "Bad parameters", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 404, description = "Out of scope or missing", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "No heavy slot or database", body = super::ErrorBody),
    )
)]
pub async fn pcc_report_csv(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Params<PccParams>,
) -> Response {
    csv_answer("pcc-report", pcc_json(&state, token, params).await)
}

/// `GET /api/v1/reports/strategic-assessment.csv?from=2013-08-01&to=2014-07-31`
#[utoipa::path(
    get,
    path = "/api/v1/reports/strategic-assessment.csv",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("partnership" = Option<String>, Query, description = "a partnership slug"),
        ("from" = chrono::NaiveDate, Query, description = "first day"),
        ("to" = chrono::NaiveDate, Query, description = "last day"),
    ),
    responses(
        (status = 200, description = "CSV: section,row,field,value (one row per figure)", content_type = "text/csv", body = String),
        (status = 400, description = "Bad parameters", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 404, description = "Out of scope or missing", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "No heavy slot or database", body = super::ErrorBody),
    )
)]
pub async fn assessment_csv(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Params<AssessmentParams>,
) -> Response {
    csv_answer(
        "strategic-assessment",
        assessment_json(&state, token, params).await,
    )
}

/// `GET /api/v1/reports/submissions/{id}.csv`: a submitted report exactly as it was sent.
#[utoipa::path(
    get,
    path = "/api/v1/reports/submissions/{file}",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("file" = String, Path, description = "the submission id followed by .csv"),
    ),
    responses(
        (status = 200, description = "CSV: section,row,field,value (one row per figure)", content_type = "text/csv", body = String),
        (status = 400, description = "Bad parameters", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 404, description = "Out of scope or missing", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "No heavy slot or database", body = super::ErrorBody),
    )
)]
pub async fn submission_csv(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    Path(file): Path<String>,
) -> Response {
    let result = match file.strip_suffix(".csv") {
        Some(id) => submission_json(&state, token, id).await.map(|(_, v)| v),
        None => Err(AppError::not_found("report submission")),
    };
    csv_answer("report-submission", result)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AreaStatisticsParams {
    partnership: Option<String>,
    district: String,
    kind: String,
    vintage: i32,
    financial_year: Option<String>,
    quarter: Option<String>,
    month: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    category: Option<String>,
    compare_with: Option<String>,
    tolerance: Option<f64>,
}

/// `GET /api/v1/statistics/areas.csv`: `areaStatistics` as a table, a row per official area.
#[utoipa::path(
    get,
    path = "/api/v1/statistics/areas.csv",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("partnership" = Option<String>, Query, description = "a partnership slug; may be left out when the token names one"),
        ("district" = String, Query, description = "the district's ONS code, such as E07000243"),
        ("kind" = String, Query, description = "lsoa, msoa or ward"),
        ("vintage" = i32, Query, description = "the areas' vintage: 2011 or 2021 for LSOAs and MSOAs, a lookup's year for wards (such as 2024)"),
        ("financialYear" = Option<String>, Query, description = "the period: a financial year such as 2023/24, or quarter, month, or from and to"),
        ("quarter" = Option<String>, Query, description = "such as 2023/24 Q1"),
        ("month" = Option<String>, Query, description = "such as 2024-01"),
        ("from" = Option<chrono::NaiveDate>, Query, description = "first day"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "last day"),
        ("category" = Option<String>, Query, description = "CRIME_CATEGORY codes, comma-separated; every category when left out"),
        ("compareWith" = Option<String>, Query, description = "previous-period or same-period-last-year"),
    ),
    responses(
        (status = 200, description = "CSV: code,name,period_from,period_to,compared_from,compared_to,lsoa_vintage,count,previous_count,change_percent,population,population_year,rate_per_1000,previous_rate_per_1000,deprivation_decile,deprivation_rank,deprivation_edition; a row per area, then the district's total and the records outside and unplaced", content_type = "text/csv", body = String),
        (status = 400, description = "Bad parameters", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 403, description = "The PCC (its figures are cells of its protected table set)", body = super::ErrorBody),
        (status = 404, description = "Out of scope, or the district's areas are not held", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "No heavy slot or database", body = super::ErrorBody),
    )
)]
pub async fn area_statistics_csv(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Params<AreaStatisticsParams>,
) -> Response {
    let answer = official_csv(&state, token, params, |txn, filter, q| {
        Box::pin(async move {
            let s = crate::service::geography::area_statistics(
                txn,
                &filter,
                &q.district,
                &q.kind,
                q.vintage,
                q.period,
                q.compared,
            )
            .await?;
            Ok(crate::service::geography::to_csv(&s))
        })
    })
    .await;
    text_csv("area-statistics", answer)
}

/// `GET /api/v1/statistics/hotspots.csv`: `hotspots` as a table, a row per official area.
#[utoipa::path(
    get,
    path = "/api/v1/statistics/hotspots.csv",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("partnership" = Option<String>, Query, description = "a partnership slug; may be left out when the token names one"),
        ("district" = String, Query, description = "the district's ONS code, such as E07000243"),
        ("kind" = String, Query, description = "lsoa, msoa or ward"),
        ("vintage" = i32, Query, description = "the areas' vintage: 2011 or 2021 for LSOAs and MSOAs, a lookup's year for wards (such as 2024)"),
        ("financialYear" = Option<String>, Query, description = "the period: a financial year such as 2023/24, or quarter, month, or from and to"),
        ("quarter" = Option<String>, Query, description = "such as 2023/24 Q1"),
        ("month" = Option<String>, Query, description = "such as 2024-01"),
        ("from" = Option<chrono::NaiveDate>, Query, description = "first day"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "last day"),
        ("category" = Option<String>, Query, description = "CRIME_CATEGORY codes, comma-separated; every category when left out"),
    ),
    responses(
        (status = 200, description = "CSV: code,name,period_from,period_to,count,population,population_year,rate_per_1000,rank,previous_period_count,previous_period_change_percent,previous_period_p_rise,previous_period_p_fall,previous_period_finding,last_year_count,last_year_change_percent,last_year_p_rise,last_year_p_fall,last_year_finding,gi_star,gi_star_p,spatial,neighbours,deprivation_decile; a row per area by rank", content_type = "text/csv", body = String),
        (status = 400, description = "Bad parameters", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 403, description = "The PCC (its figures are cells of its protected table set)", body = super::ErrorBody),
        (status = 404, description = "Out of scope, or the district's areas are not held", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "No heavy slot or database", body = super::ErrorBody),
    )
)]
pub async fn hotspots_csv(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Params<AreaStatisticsParams>,
) -> Response {
    let answer = official_csv(&state, token, params, |txn, filter, q| {
        Box::pin(async move {
            let h = crate::service::hotspot::hotspots(
                txn,
                &filter,
                &q.district,
                &q.kind,
                q.vintage,
                q.period,
            )
            .await?;
            Ok(crate::service::hotspot::to_csv(&h))
        })
    })
    .await;
    text_csv("hotspots", answer)
}

/// The checked parameters of a figure by official area.
pub struct OfficialQuery {
    district: String,
    kind: String,
    vintage: i32,
    period: crate::domain::stats::Period,
    compared: Option<crate::domain::stats::Period>,
    tolerance: f64,
}

/// Checks the parameters (before the token's failure is answered), then builds the answer (a
/// CSV, a map) in a request transaction holding a heavy slot, as the token's caller, for
/// partners only.
async fn official_csv<F>(
    state: &Arc<AppState>,
    token: Result<Bearer, AppError>,
    params: Params<AreaStatisticsParams>,
    build: F,
) -> Result<String, AppError>
where
    F: for<'a> FnOnce(
            &'a sea_orm::DatabaseTransaction,
            db::incident::IncidentFilter,
            OfficialQuery,
        ) -> futures_util::future::BoxFuture<'a, Result<String, AppError>>
        + Send
        + 'static,
{
    let params = query(params)?;
    let period = crate::domain::stats::Period::given(
        params.financial_year.as_deref(),
        params.quarter.as_deref(),
        params.month.as_deref(),
        params.from,
        params.to,
    )?;
    let compared = match params.compare_with.as_deref() {
        None => None,
        Some("previous-period") => Some(period.previous()),
        Some("same-period-last-year") => Some(period.year_earlier()),
        Some(other) => {
            return Err(AppError::BadUserInput(format!(
                "compareWith '{other}' must be previous-period or same-period-last-year"
            )));
        }
    };
    let district = crate::service::geography::district_code(&params.district)?;
    let kind = match params.kind.to_ascii_lowercase().as_str() {
        k @ ("lsoa" | "msoa" | "ward") => k.to_owned(),
        other => {
            return Err(AppError::BadUserInput(format!(
                "kind '{other}' must be lsoa, msoa or ward"
            )));
        }
    };
    // Only the map takes a tolerance (checked there against the few it may be).
    let tolerance = params
        .tolerance
        .unwrap_or(crate::domain::map::DEFAULT_TOLERANCE);
    let q = OfficialQuery {
        district,
        kind,
        vintage: params.vintage,
        period,
        compared,
        tolerance,
    };
    let categories: Vec<String> = params
        .category
        .as_deref()
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let partnership = params.partnership;
    let Bearer(token) = token?;
    let work = move |txn: RequestTxn, p: Principal| async move {
        authorize(&p, Operation::ReadAreaStatistics)?;
        let target = p.partnership_or_only(partnership.as_deref())?;
        let filter = db::incident::IncidentFilter {
            partnership_id: target.id,
            categories,
            ..Default::default()
        };
        build(txn.txn()?, filter, q).await
    };
    scope::run(state.clone(), token, Scope::HEAVY_READ, false, work).await
}

fn text_csv(name: &str, answer: Result<String, AppError>) -> Response {
    match answer {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/maps/areas.geojson`: a district's official areas with their figures, as
/// GeoJSON for a front-end's map.
#[utoipa::path(
    get,
    path = "/api/v1/maps/areas.geojson",
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("partnership" = Option<String>, Query, description = "a partnership slug; may be left out when the token names one"),
        ("district" = String, Query, description = "the district's ONS code, such as E07000243"),
        ("kind" = String, Query, description = "lsoa, msoa or ward"),
        ("vintage" = i32, Query, description = "the areas' vintage: 2011 or 2021 for LSOAs and MSOAs, a lookup's year for wards (such as 2024)"),
        ("financialYear" = Option<String>, Query, description = "the period: a financial year such as 2023/24, or quarter, month, or from and to"),
        ("quarter" = Option<String>, Query, description = "such as 2023/24 Q1"),
        ("month" = Option<String>, Query, description = "such as 2024-01"),
        ("from" = Option<chrono::NaiveDate>, Query, description = "first day"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "last day"),
        ("category" = Option<String>, Query, description = "CRIME_CATEGORY codes, comma-separated; every category when left out"),
        ("compareWith" = Option<String>, Query, description = "previous-period or same-period-last-year"),
        ("tolerance" = Option<f64>, Query, description = "simplification in degrees: 0 (none), 0.00001, 0.0001, 0.001 or 0.01; 0.0001 when left out"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection: a Feature per area (id its code; geometry WGS84, simplified; properties the areaStatistics figures of the area) and a metadata member (period, population year, total, outside, unplaced, attribution)", content_type = "application/geo+json", body = String),
        (status = 400, description = "Bad parameters", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 403, description = "The PCC (its figures are cells of its protected table set)", body = super::ErrorBody),
        (status = 404, description = "Out of scope, or the district's areas are not held", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "No heavy slot or database", body = super::ErrorBody),
    )
)]
pub async fn areas_geojson(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Params<AreaStatisticsParams>,
) -> Response {
    let answer = official_csv(&state, token, params, |txn, filter, q| {
        Box::pin(async move {
            let map = crate::service::map::areas_geojson(
                txn,
                &filter,
                &q.district,
                &q.kind,
                q.vintage,
                q.period,
                q.compared,
                q.tolerance,
            )
            .await?;
            serde_json::to_string(&map).map_err(AppError::internal)
        })
    })
    .await;
    match answer {
        Ok(text) => (
            [(header::CONTENT_TYPE, "application/geo+json".to_owned())],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
