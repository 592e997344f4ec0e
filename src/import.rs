//! `csphub import incidents FILE.csv --agency A --partnership P`: the push from a CSV file with
//! the export's columns, through the same checks and upsert as `POST /api/v1/incidents`; and
//! `csphub import police-uk FILE...` (see [`police_uk`]).

pub mod police_uk;

use std::path::Path;

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::auth::ScopedPartnership;
use crate::db;
use crate::domain::incident::{IncidentInput, Rejection, from_csv_row};

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

/// Reads the file and pushes it in requests of at most `chunk` records, each all or nothing.
/// Rejections carry the record's index in the file (0 for the first row after the header).
pub async fn incidents_csv(
    db: &DatabaseConnection,
    path: &Path,
    agency: &str,
    partnership: &str,
    chunk: usize,
) -> anyhow::Result<crate::service::push::PushReport> {
    let importer = Importer::new(db, agency, partnership, chunk).await?;
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let header = reader.headers().context("reading the CSV header")?.clone();
    let records: Vec<Result<IncidentInput, String>> = reader
        .records()
        .map(|row| match row {
            Ok(row) => from_csv_row(&header, &row),
            Err(e) => Err(format!("unreadable CSV row: {e}")),
        })
        .collect();
    importer.push(db, records).await
}
