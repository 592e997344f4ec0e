//! `POST /api/v1/incidents` (the partner push, JSON, NDJSON or CSV) and `GET /api/v1/incidents.csv`
//! (the export, re-importable unchanged).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::auth::Principal;
use crate::auth::policy::{Operation, authorize};
use crate::db;
use crate::db::incident::IncidentFilter;
use crate::db::request::RequestTxn;
use crate::domain::incident::{
    CSV_COLUMNS, CsvHeader, CsvRows, IncidentInput, from_csv_row, from_json,
};
use crate::domain::stats::Period;
use crate::error::AppError;
use crate::http::caller::VerifiedToken;
use crate::http::caller::{Bearer, PushBearer};
use crate::http::scope::{self, Scope};
use crate::http::state::AppState;

/// A push body's records, and for CSV its header and each record's line.
type Parsed = (
    Vec<Result<IncidentInput, String>>,
    Option<(CsvHeader, Vec<u64>)>,
);

/// Why a push body could not be read.
enum BodyProblem {
    TooLarge(String),
    Invalid(String),
    Internal(anyhow::Error),
}

impl BodyProblem {
    fn into_response(self) -> Response {
        match self {
            BodyProblem::TooLarge(message) => AppError::PayloadTooLarge(message).into_response(),
            BodyProblem::Invalid(message) => AppError::BadUserInput(message).into_response(),
            BodyProblem::Internal(e) => AppError::internal(e).into_response(),
        }
    }
}

const TOO_MANY: &str = "csphub:too-many-records";

/// The body of a JSON push.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PushBody {
    /// At most `CSPHUB_PUSH_MAX_RECORDS` (10,000) records.
    incidents: Vec<crate::domain::incident::IncidentInput>,
}

/// `POST /api/v1/incidents`: `{"incidents": [...]}` as `application/json`, one record per
/// line as `application/x-ndjson`, or rows with the export's columns as `text/csv`. Valid records are applied in one transaction; invalid ones
/// are listed by position. Police, fire and council push as their own agency.
#[utoipa::path(
    post,
    path = "/api/v1/incidents",
    tag = "incidents",
    security(("bearer" = [])),
    request_body(content = PushBody, content_type = "application/json",
        description = "Depersonalised incident records (also accepted as application/x-ndjson, one record per line, and as text/csv with the export's columns, whose rejections carry the line and column)"),
    responses(
        (status = 200, description = "Valid records applied in one transaction; invalid ones listed by position", body = crate::service::push::PushReport),
        (status = 400, description = "Unparseable JSON, naming the line and column", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 403, description = "The PCC may not push", body = super::ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = super::ErrorBody),
        (status = 413, description = "Too many records or too large a body", body = super::ErrorBody),
        (status = 415, description = "Another content type", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "The database is unavailable; retry after Retry-After", body = super::ErrorBody),
    )
)]
pub async fn push(
    State(state): State<Arc<AppState>>,
    token: Result<PushBearer, AppError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let metrics = state.metrics.clone();
    let res = match token {
        Ok(PushBearer(token)) => push_records(state, token, headers, body).await,
        Err(e) => e.into_response(),
    };
    match res.extensions().get::<crate::metrics::PushCounts>() {
        Some(counts) => metrics.push_applied(*counts),
        None => metrics.push_refused(),
    }
    res
}

async fn push_records(
    state: Arc<AppState>,
    token: VerifiedToken,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Whether the role may push at all is known from the token: refuse before the upload.
    if let Err(e) = authorize(&token.provisional_principal(), Operation::PushIncidents) {
        return e.into_response();
    }
    let max_bytes = state.push_max_bytes;
    let max_records = state.push_max_records;
    let too_large = || {
        BodyProblem::TooLarge(format!(
            "the body is larger than {max_bytes} bytes: split the push into smaller requests"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return too_large().into_response();
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let overflow = Arc::new(AtomicBool::new(false));
    let flag = overflow.clone();
    let mut seen = 0usize;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(io::Error::other)?;
        seen += chunk.len();
        if seen > max_bytes {
            flag.store(true, Ordering::SeqCst);
            return Err(io::Error::other("request body too large"));
        }
        Ok(chunk)
    });
    let reader = StreamReader::new(stream);
    let json = |values: Vec<Value>| (values.into_iter().map(from_json).collect(), None);
    let parsed = match content_type.as_str() {
        "application/json" => read_json(reader, max_records).await.map(json),
        "application/x-ndjson" | "application/ndjson" => {
            read_ndjson(reader, max_records).await.map(json)
        }
        "text/csv" => read_csv(reader, max_records).await.map(|(header, rows)| {
            let (lines, records) = rows.into_iter().unzip();
            (records, Some((header, lines)))
        }),
        other => {
            return AppError::UnsupportedMediaType(format!(
                "content type {other} is not accepted: send application/json, \
                 application/x-ndjson or text/csv"
            ))
            .into_response();
        }
    };
    let (records, csv): Parsed = match parsed {
        Ok(v) => v,
        Err(_) if overflow.load(Ordering::SeqCst) => return too_large().into_response(),
        Err(problem) => return problem.into_response(),
    };
    // The body is in: only now does the request take a connection, so a slow upload holds
    // none. The push gets the heavy statement budget but no slot (see `db::DbSettings`).
    // Acknowledged only once committed; a client that hangs up does not cut the push in two.
    let work = |txn: RequestTxn, principal: Principal| async move {
        authorize(&principal, Operation::PushIncidents)?;
        let pusher = db::incident::Pusher {
            agency_id: principal.agency_id,
            agency: principal.agency.clone(),
            sub: principal.sub.clone(),
            budget: None,
        };
        crate::service::push::push(txn.txn()?, &pusher, &principal.partnerships, records).await
    };
    match scope::run(state, token, Scope::PUSH, true, work).await {
        Ok(mut report) => {
            // A CSV push's rejections name the line and the column too.
            if let Some((header, lines)) = &csv {
                for r in &mut report.rejected {
                    r.line = lines.get(r.index).copied();
                    r.column = header.column_in(&r.message).map(str::to_owned);
                }
            }
            let counts = crate::metrics::PushCounts::from(&report);
            let mut res = Json(report).into_response();
            res.extensions_mut().insert(counts);
            res
        }
        Err(e) => e.into_response(),
    }
}

/// A CSV body with the export's columns (`CSV_COLUMNS`; the header names them), each row a
/// record with the line it starts on. A header that names anything else, or a body that is
/// not CSV, is refused whole; a row that cannot be read is that record's rejection.
async fn read_csv<R>(reader: R, max: usize) -> Result<(CsvHeader, CsvRows), BodyProblem>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    let bridge = SyncIoBridge::new(reader);
    tokio::task::spawn_blocking(move || {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(io::BufReader::new(bridge));
        let header = match reader.headers() {
            Ok(h) => CsvHeader::read(h).map_err(BodyProblem::Invalid)?,
            Err(e) => return Err(csv_problem(&e)),
        };
        let mut rows = Vec::new();
        let mut row = csv::StringRecord::new();
        loop {
            let line = reader.position().line();
            match reader.read_record(&mut row) {
                Ok(false) => return Ok((header, rows)),
                Ok(true) => {
                    if row.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    if rows.len() == max {
                        return Err(too_many(max));
                    }
                    rows.push((line, from_csv_row(&header, &row)));
                }
                // A row that is not UTF-8 is that record's rejection; the body goes on.
                Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                    if rows.len() == max {
                        return Err(too_many(max));
                    }
                    rows.push((line, Err("the row is not UTF-8".to_owned())));
                }
                Err(e) => return Err(csv_problem(&e)),
            }
        }
    })
    .await
    .map_err(|e| BodyProblem::Internal(e.into()))?
}

fn csv_problem(e: &csv::Error) -> BodyProblem {
    match e.kind() {
        csv::ErrorKind::Io(err) => {
            BodyProblem::Invalid(format!("the body could not be read: {err}"))
        }
        _ => BodyProblem::Invalid(match e.position() {
            Some(at) => format!("invalid CSV at line {}: {e}", at.line()),
            None => format!("invalid CSV: {e}"),
        }),
    }
}

fn too_many(max: usize) -> BodyProblem {
    BodyProblem::TooLarge(format!(
        "a push carries at most {max} records: split it into smaller requests"
    ))
}

async fn read_ndjson<R>(reader: R, max: usize) -> Result<Vec<Value>, BodyProblem>
where
    R: tokio::io::AsyncRead + Unpin,
{
    let mut lines = tokio::io::BufReader::new(reader).lines();
    let mut out = Vec::new();
    let mut line_no = 0usize;
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(out),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(BodyProblem::Invalid(format!(
                    "line {}: the body is not UTF-8",
                    line_no + 1
                )));
            }
            Err(e) => return Err(BodyProblem::Internal(e.into())),
        };
        line_no += 1;
        // A byte order mark, as Windows tools write one, starts the body, not the record.
        let mut line = line;
        if line_no == 1 && line.starts_with('\u{feff}') {
            line.drain(..'\u{feff}'.len_utf8());
        }
        if line.trim().is_empty() {
            continue;
        }
        if out.len() == max {
            return Err(too_many(max));
        }
        let value: Value = serde_json::from_str(&line).map_err(|e| {
            BodyProblem::Invalid(format!(
                "invalid JSON at line {line_no}, column {}: {e}",
                e.column()
            ))
        })?;
        out.push(value);
    }
}

async fn read_json<R>(reader: R, max: usize) -> Result<Vec<Value>, BodyProblem>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    let bridge = SyncIoBridge::new(reader);
    let parsed = tokio::task::spawn_blocking(move || {
        let mut body = io::BufReader::new(bridge);
        // A byte order mark, as Windows tools write one, is not JSON: read past it.
        if io::BufRead::fill_buf(&mut body).is_ok_and(|b| b.starts_with(b"\xef\xbb\xbf")) {
            io::BufRead::consume(&mut body, 3);
        }
        let mut de = serde_json::Deserializer::from_reader(body);
        let records = Envelope { max }.deserialize(&mut de)?;
        de.end()?;
        Ok::<_, serde_json::Error>(records)
    })
    .await
    .map_err(|e| BodyProblem::Internal(e.into()))?;
    parsed.map_err(|e| {
        if e.to_string().starts_with(TOO_MANY) {
            too_many(max)
        } else if e.is_io() {
            BodyProblem::Invalid(format!("the body could not be read: {e}"))
        } else {
            let text = e.to_string();
            let detail = text.split(" at line ").next().unwrap_or(&text);
            BodyProblem::Invalid(format!(
                "invalid JSON at line {}, column {}: {detail}",
                e.line(),
                e.column()
            ))
        }
    })
}

/// `{"incidents": [...]}`, stopping at the record past the limit.
struct Envelope {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for Envelope {
    type Value = Vec<Value>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Envelope {
    type Value = Vec<Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object {\"incidents\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut records = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "incidents" && records.is_none() {
                records = Some(map.next_value_seed(Records { max: self.max })?);
            } else {
                return Err(de::Error::custom(format!(
                    "unexpected key `{key}`: the body is {{\"incidents\": [...]}}"
                )));
            }
        }
        records.ok_or_else(|| de::Error::missing_field("incidents"))
    }
}

struct Records {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for Records {
    type Value = Vec<Value>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records {
    type Value = Vec<Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of incident records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        while let Some(v) = seq.next_element::<Value>()? {
            if out.len() == self.max {
                return Err(de::Error::custom(TOO_MANY));
            }
            out.push(v);
        }
        Ok(out)
    }
}

/// The query string of the CSV export: the incidents query's filters. Lists are
/// comma-separated.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportParams {
    partnership: Option<String>,
    financial_year: Option<String>,
    quarter: Option<String>,
    month: Option<String>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    category: Option<String>,
    area: Option<String>,
    source_agency: Option<String>,
    domestic_abuse: Option<bool>,
    alcohol_related: Option<bool>,
    youth_related: Option<bool>,
    hate_strand: Option<String>,
    status: Option<String>,
}

fn list(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl ExportParams {
    /// The status asked for, checked before anything else is read.
    fn status(&self) -> Result<Option<&'static str>, AppError> {
        self.status
            .as_deref()
            .map(|s| match s {
                "ACTIVE" => Ok("ACTIVE"),
                "CANCELLED" => Ok("CANCELLED"),
                _ => Err(AppError::BadUserInput(format!(
                    "status '{s}' must be ACTIVE or CANCELLED"
                ))),
            })
            .transpose()
    }

    /// The rows asked for, of a partnership in the caller's scope: the incidents query's filter.
    fn filter(&self, p: &Principal) -> Result<IncidentFilter, AppError> {
        let partnership = p.partnership_or_only(self.partnership.as_deref())?;
        let any_period = self.financial_year.is_some()
            || self.quarter.is_some()
            || self.month.is_some()
            || self.from.is_some()
            || self.to.is_some();
        let period = any_period
            .then(|| {
                Period::given(
                    self.financial_year.as_deref(),
                    self.quarter.as_deref(),
                    self.month.as_deref(),
                    self.from,
                    self.to,
                )
            })
            .transpose()?;
        Ok(IncidentFilter {
            partnership_id: partnership.id,
            from: period.map(|p| p.from),
            to: period.map(|p| p.to),
            categories: list(&self.category),
            areas: list(&self.area),
            source_agencies: list(&self.source_agency),
            domestic_abuse: self.domestic_abuse,
            alcohol_related: self.alcohol_related,
            youth_related: self.youth_related,
            hate_strand: self.hate_strand.clone(),
            status: self.status()?.map(str::to_owned),
            exclude_domestic_abuse: false,
        })
    }
}

/// A cell a spreadsheet would run as a formula (OWASP's CSV injection: it begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return) gets a leading `'`, which spreadsheets show as text.
/// Pushes refuse such references, so only rows stored before that rule can need it; the
/// import takes the `'` off again, and then refuses the reference like any push.
/// Bidirectional controls and zero-width characters are shown as their code points.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let cell = crate::domain::text::visible(cell);
    if cell.starts_with(crate::domain::incident::FORMULA_STARTS) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        cell
    }
}

fn csv_line(row: &db::incident::IncidentRow) -> Result<Vec<u8>, AppError> {
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let flag = |b: bool| if b { "true" } else { "false" };
    let fields: [String; 19] = [
        row.external_ref.clone(),
        row.source_agency.clone(),
        row.partnership.clone(),
        row.category.clone(),
        time(row.occurred_at),
        row.reported_at.map(time).unwrap_or_default(),
        row.area.clone().unwrap_or_default(),
        row.postcode_district.clone().unwrap_or_default(),
        flag(row.domestic_abuse).to_owned(),
        flag(row.alcohol_related).to_owned(),
        flag(row.youth_related).to_owned(),
        row.hate_strands.join(";"),
        row.drug_class.clone().unwrap_or_default(),
        row.asb_type.clone().unwrap_or_default(),
        row.fire_type.clone().unwrap_or_default(),
        row.outcome.clone().unwrap_or_default(),
        row.status.clone(),
        row.cancel_reason.clone().unwrap_or_default(),
        row.lsoa.clone().unwrap_or_default(),
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields.iter().map(|f| neutralise(f).into_owned()))
        .map_err(AppError::internal)?;
    w.into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))
}

/// `GET /api/v1/incidents.csv`: the records matching the incidents query's filters, as CSV with
/// the import's columns, streamed page by page. Police, fire and council only.
#[utoipa::path(
    get,
    path = "/api/v1/incidents.csv",
    tag = "incidents",
    security(("bearer" = [])),
    params(
        ("partnership" = Option<String>, Query, description = "a partnership slug"),
        ("financialYear" = Option<String>, Query, description = "e.g. 2015/16"),
        ("quarter" = Option<String>, Query, description = "e.g. 2015/16 Q1"),
        ("month" = Option<String>, Query, description = "e.g. 2015-04"),
        ("from" = Option<chrono::NaiveDate>, Query, description = "first day, with to"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "last day, with from"),
        ("category" = Option<String>, Query, description = "comma-separated categories"),
        ("area" = Option<String>, Query, description = "comma-separated area codes"),
        ("sourceAgency" = Option<String>, Query, description = "comma-separated agency slugs"),
        ("domesticAbuse" = Option<bool>, Query),
        ("alcoholRelated" = Option<bool>, Query),
        ("youthRelated" = Option<bool>, Query),
        ("hateStrand" = Option<String>, Query),
        ("status" = Option<String>, Query, description = "ACTIVE or CANCELLED"),
    ),
    responses(
        (status = 200, description = "CSV with the import's columns", content_type = "text/csv", body = String),
        (status = 400, description = "A bad filter", body = super::ErrorBody),
        (status = 401, description = "No token or a bad one", body = super::ErrorBody),
        (status = 403, description = "The PCC may not read rows", body = super::ErrorBody),
        (status = 404, description = "A partnership out of scope", body = super::ErrorBody),
        (status = 429, description = "Over a rate limit; retry after Retry-After", body = super::ErrorBody),
        (status = 503, description = "The database is unavailable", body = super::ErrorBody),
    )
)]
pub async fn export_csv(
    State(state): State<Arc<AppState>>,
    Bearer(token): Bearer,
    params: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(p) => p,
        Err(e) => return AppError::BadUserInput(e.body_text()).into_response(),
    };
    if let Err(e) = params.status() {
        return e.into_response();
    }
    if let Err(e) = authorize(&token.provisional_principal(), Operation::ReadIncidentRows) {
        return e.into_response();
    }
    // An export reads page after page in the request's transaction: it holds a heavy slot and
    // its connection until the last page is sent. It only reads: from the replica when there
    // is one.
    let slot = match state.slot_for(&token, Scope::HEAVY_READ).await {
        Ok(slot) => slot,
        Err(e) => return e.into_response(),
    };
    // The first page is read before the answer starts: an error of the query itself (a filter
    // PostgreSQL cannot read, a timeout) is then an answer of its own with a JSON code, not a
    // 200 whose stream breaks off after the header. The slot goes with the work: a client that
    // hangs up meanwhile does not free it while the first page is still being read.
    let opened = scope::run_to_completion(async move {
        let slot = slot;
        let scope::Opened { db: txn, principal } = state.open(&token, Scope::HEAVY_READ).await?;
        let prepared = async {
            authorize(&principal, Operation::ReadIncidentRows)?;
            let filter = params.filter(&principal)?;
            let first = db::incident::page(
                &*txn,
                &filter,
                db::incident::Order::Occurred,
                false,
                &export_page(None),
            )
            .await?;
            Ok::<_, AppError>((filter, first))
        }
        .await;
        match prepared {
            Ok((filter, first)) => Ok((slot, txn, filter, first)),
            Err(e) => scope::close(txn, Err(e), false).await,
        }
    })
    .await;
    let (slot, txn, filter, first) = match opened {
        Ok(opened) => opened,
        Err(e) => return e.into_response(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, io::Error>>(4);
    let request_id = crate::error::current_request_id().unwrap_or_default();
    let stalled = Arc::new(AtomicBool::new(false));
    let stalled_flag = stalled.clone();
    tokio::spawn(async move {
        let _slot = slot;
        if !export_pages(&txn, &filter, first, &tx, &request_id).await {
            stalled_flag.store(true, Ordering::SeqCst);
        }
        // Read-only: ROLLBACK ends it as well as COMMIT would. The slot goes with it.
        let _ = db::request::finish(txn, false).await;
    });
    let body = Body::from_stream(tokio_stream_from(rx, stalled));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"incidents.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// Rows per page of the CSV export.
const EXPORT_PAGE: u64 = 2_000;

/// How long the export waits for the client to take its next chunk before it gives up: a
/// client that stops reading must not hold a database connection and a heavy slot for as long
/// as its socket stays open. The answer is then broken off (no final chunk), so the client can
/// tell it is incomplete. Past it, the client must also have taken [`EXPORT_MIN_BYTES_PER_SECOND`]
/// on average.
pub const EXPORT_STALL: std::time::Duration = std::time::Duration::from_secs(10);

/// The least an export's client must take on average, once [`EXPORT_STALL`] has passed: one
/// that takes a chunk just before each deadline must not hold a slot for the whole export either.
pub const EXPORT_MIN_BYTES_PER_SECOND: u64 = 64 * 1024;

/// How an export's client is keeping up.
struct Pace {
    started: std::time::Instant,
    bytes: u64,
    stalled: bool,
}

/// One chunk to the client, or false when it has gone, took nothing for [`EXPORT_STALL`], or
/// takes less than [`EXPORT_MIN_BYTES_PER_SECOND`] on average.
async fn send(
    tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, io::Error>>,
    chunk: Vec<u8>,
    pace: &mut Pace,
) -> bool {
    let n = chunk.len() as u64;
    match tokio::time::timeout(EXPORT_STALL, tx.send(Ok(chunk))).await {
        Ok(Ok(())) => {
            pace.bytes += n;
            let elapsed = pace.started.elapsed();
            if elapsed > EXPORT_STALL
                && (pace.bytes as f64) / elapsed.as_secs_f64() < EXPORT_MIN_BYTES_PER_SECOND as f64
            {
                pace.stalled = true;
                return false;
            }
            true
        }
        Ok(Err(_)) => false,
        Err(_) => {
            pace.stalled = true;
            false
        }
    }
}

/// Sends the export's header, the first page (already read) and the pages after it to `tx`,
/// until the last one or until the client has gone. A failure after the first page (the
/// database gone, the statement timeout) can only break the stream off: the status has gone.
/// False when the client stopped reading ([`EXPORT_STALL`]).
async fn export_pages(
    conn: &db::request::RequestDb,
    filter: &db::incident::IncidentFilter,
    first: Vec<db::incident::IncidentRow>,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, io::Error>>,
    request_id: &str,
) -> bool {
    let mut pace = Pace {
        started: std::time::Instant::now(),
        bytes: 0,
        stalled: false,
    };
    let failed = |e: &dyn std::fmt::Debug| {
        tracing::error!(request_id = %request_id, error = ?e, "CSV export failed part-way");
    };
    let header = CSV_COLUMNS.join(",") + "\n";
    if !send(tx, header.into_bytes(), &mut pace).await {
        return !pace.stalled;
    }
    let mut rows = first;
    loop {
        let Some(last) = rows.last() else { return true };
        let after = Some((last.occurred_at, last.id));
        let mut chunk = Vec::new();
        for row in &rows {
            match csv_line(row) {
                Ok(line) => chunk.extend(line),
                Err(e) => {
                    failed(&e);
                    let _ = tokio::time::timeout(
                        EXPORT_STALL,
                        tx.send(Err(io::Error::other("export failed"))),
                    )
                    .await;
                    return true;
                }
            }
        }
        if !send(tx, chunk, &mut pace).await {
            if pace.stalled {
                tracing::warn!(request_id = %request_id, bytes = pace.bytes, "CSV export stopped: the client is not reading it");
            }
            return !pace.stalled;
        }
        if (rows.len() as u64) < EXPORT_PAGE {
            return true;
        }
        rows = match db::incident::page(
            conn,
            filter,
            db::incident::Order::Occurred,
            false,
            &export_page(after),
        )
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                failed(&e);
                let _ = tokio::time::timeout(
                    EXPORT_STALL,
                    tx.send(Err(io::Error::other("export failed"))),
                )
                .await;
                return true;
            }
        };
    }
}

/// The export's chunks; after an export that stopped for a stalled client, an error, so the
/// answer is broken off rather than ended as if complete.
fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, io::Error>>,
    stalled: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, io::Error>> {
    futures_util::stream::poll_fn(move |cx| match rx.poll_recv(cx) {
        std::task::Poll::Ready(None) if stalled.swap(false, Ordering::SeqCst) => {
            std::task::Poll::Ready(Some(Err(io::Error::other(
                "the export stopped: the client took nothing for too long",
            ))))
        }
        other => other,
    })
}

/// The export's next `EXPORT_PAGE` rows after `after`, in the list's order (the keyset reads one
/// more than its limit).
fn export_page(
    after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
) -> crate::db::page::Keyset<chrono::DateTime<chrono::Utc>, uuid::Uuid> {
    crate::db::page::Keyset {
        after,
        before: None,
        backward: false,
        limit: EXPORT_PAGE - 1,
    }
}
