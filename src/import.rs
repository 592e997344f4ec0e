//! `csphub import incidents FILE.csv --agency A --partnership P`: the push from a CSV file with
//! the export's columns, through the same checks and upsert as `POST /api/v1/incidents`; and
//! `csphub import police-uk FILE...` (see [`police_uk`]).

pub mod geography;
pub mod police_uk;

use std::path::Path;

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::auth::ScopedPartnership;
use crate::db;
use crate::domain::incident::{CsvHeader, CsvRows, IncidentInput, Rejection, from_csv_row};

/// The pushing agency and the one partnership it imports into.
pub struct Importer {
    pub pusher: db::incident::Pusher,
    pub scope: Vec<ScopedPartnership>,
    pub chunk: usize,
}

impl Importer {
    /// Checks that `agency` is a pushing agency of `partnership`.
    pub async fn new(
        db: &DatabaseConnection,
        agency: &str,
        partnership: &str,
        chunk: usize,
    ) -> anyhow::Result<Self> {
        let agency_row = db::partnership::agency_by_slug(db, agency)
            .await?
            .with_context(|| format!("agency '{agency}' is not registered"))?;
        anyhow::ensure!(
            matches!(agency_row.kind.as_str(), "police" | "fire" | "council"),
            "agency '{agency}' is a {} agency: only police, fire and council agencies push incidents",
            agency_row.kind
        );
        let scope: Vec<ScopedPartnership> =
            db::partnership::agency_partnerships(db, agency_row.id, &[partnership.to_owned()])
                .await?
                .into_iter()
                .map(|p| ScopedPartnership {
                    id: p.id,
                    slug: p.slug,
                })
                .collect();
        anyhow::ensure!(
            !scope.is_empty(),
            "agency '{agency}' does not belong to partnership '{partnership}'"
        );
        Ok(Self {
            pusher: db::incident::Pusher {
                agency_id: agency_row.id,
                agency: agency.to_owned(),
                sub: format!("csphub-import:{agency}"),
                budget: None,
            },
            scope,
            chunk: chunk.max(1),
        })
    }

    /// Pushes the records in requests of at most `chunk`, each all or nothing. Rejections carry
    /// the record's index in `records`.
    pub async fn push(
        &self,
        db: &DatabaseConnection,
        records: Vec<Result<IncidentInput, String>>,
    ) -> anyhow::Result<crate::service::push::PushReport> {
        let mut total = crate::service::push::PushReport::default();
        let mut offset = 0;
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let batch: Vec<_> = records.by_ref().take(self.chunk).collect();
            let n = batch.len();
            let report = crate::service::push::push(db, &self.pusher, &self.scope, batch).await?;
            total.created += report.created;
            total.updated += report.updated;
            total.unchanged += report.unchanged;
            total
                .rejected
                .extend(report.rejected.into_iter().map(|r| Rejection {
                    index: r.index + offset,
                    ..r
                }));
            offset += n;
        }
        Ok(total)
    }
}

/// A CSV file with the export's columns, read whole: its header and each record with the line
/// it starts on. A header that names anything but incident columns is refused.
pub fn read_incidents_csv(path: &Path) -> anyhow::Result<(CsvHeader, CsvRows)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let header = CsvHeader::read(reader.headers().context("reading the CSV header")?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) if row.iter().all(|c| c.trim().is_empty()) => {}
            Ok(true) => rows.push((line, from_csv_row(&header, &row))),
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                rows.push((line, Err("the row is not UTF-8".to_owned())));
            }
            Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
        }
    }
    Ok((header, rows))
}

/// Pushes a file straight into the database, in requests of at most `chunk` records, each all
/// or nothing, as `agency` into `partnership`. Rejections carry the record's index in the file
/// and its line.
pub async fn incidents_csv(
    db: &DatabaseConnection,
    path: &Path,
    agency: &str,
    partnership: &str,
    chunk: usize,
) -> anyhow::Result<crate::service::push::PushReport> {
    let importer = Importer::new(db, agency, partnership, chunk).await?;
    let (header, rows) = read_incidents_csv(path)?;
    let (lines, records): (Vec<u64>, Vec<_>) = rows.into_iter().unzip();
    let mut report = importer.push(db, records).await?;
    for r in &mut report.rejected {
        r.line = lines.get(r.index).copied();
        r.column = header.column_in(&r.message).map(str::to_owned);
    }
    Ok(report)
}

/// Pushes a file over HTTP to a csphub (`POST {url}/api/v1/incidents` as `text/csv`) with a
/// partner's token, as a partner system would: the same checks, limits and idempotency, and
/// no database credentials. Requests of at most `chunk` records; one answered 429 or 503 is
/// sent again after its `Retry-After` (a push is idempotent), at most five times.
pub async fn incidents_csv_over_http(
    path: &Path,
    url: &str,
    token: &str,
    chunk: usize,
) -> anyhow::Result<crate::service::push::PushReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let header_row = reader.headers().context("reading the CSV header")?.clone();
    // Refused here as the service would, before anything is sent.
    CsvHeader::read(&header_row).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let endpoint = format!("{}/api/v1/incidents", url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()?;
    let mut total = crate::service::push::PushReport::default();
    let mut offset = 0usize;
    let mut row = csv::StringRecord::new();
    let mut done = false;
    while !done {
        let mut body = csv::Writer::from_writer(Vec::new());
        body.write_record(&header_row)?;
        let mut lines = Vec::new();
        while lines.len() < chunk.max(1) {
            let line = reader.position().line();
            if !reader
                .read_record(&mut row)
                .with_context(|| format!("{}: reading line {line}", path.display()))?
            {
                done = true;
                break;
            }
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            body.write_record(&row)?;
            lines.push(line);
        }
        if lines.is_empty() {
            break;
        }
        let body = body.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        let report = post_csv(&client, &endpoint, token, body).await?;
        total.created += report.created;
        total.updated += report.updated;
        total.unchanged += report.unchanged;
        total
            .rejected
            .extend(report.rejected.into_iter().map(|r| Rejection {
                index: r.index + offset,
                line: lines.get(r.index).copied(),
                ..r
            }));
        offset += lines.len();
    }
    Ok(total)
}

/// What the service answers a push with, as read back by the command.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    created: u64,
    updated: u64,
    unchanged: u64,
    rejected: Vec<AnsweredRejection>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnsweredRejection {
    index: usize,
    external_ref: Option<String>,
    code: String,
    message: String,
    column: Option<String>,
}

async fn post_csv(
    client: &reqwest::Client,
    endpoint: &str,
    token: &str,
    body: Vec<u8>,
) -> anyhow::Result<crate::service::push::PushReport> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let res = client
            .post(endpoint)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .body(body.clone())
            .send()
            .await
            .with_context(|| format!("sending the push to {endpoint}"))?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let text = res.text().await.context("reading the service's answer")?;
        if status.is_success() {
            let a: Answer = serde_json::from_str(&text)
                .with_context(|| format!("the service's answer is not a push report: {text}"))?;
            return Ok(crate::service::push::PushReport {
                created: a.created,
                updated: a.updated,
                unchanged: a.unchanged,
                rejected: a
                    .rejected
                    .into_iter()
                    .map(|r| Rejection {
                        index: r.index,
                        external_ref: r.external_ref,
                        // The codes are the service's; this keeps them as text.
                        code: crate::domain::incident::rejection_code(&r.code),
                        message: r.message,
                        line: None,
                        column: r.column,
                    })
                    .collect(),
            });
        }
        let retryable = status.as_u16() == 429 || status.as_u16() == 503;
        if retryable && attempt < 5 {
            tokio::time::sleep(std::time::Duration::from_secs(
                retry_after.unwrap_or(2).min(60),
            ))
            .await;
            continue;
        }
        anyhow::bail!("the service refused the push ({status}): {text}");
    }
}
