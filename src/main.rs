//! The `csphub` command: parses the command line, sets up logging and calls the library.

use anyhow::Context;
use std::time::Duration;

use clap::{Parser, Subcommand};
use csphub::auth::token::{DevTokenRequest, issue_dev_token};
use csphub::config::Config;
use migration::{Migrator, MigratorTrait};
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's malloc: measured by bench/load (docs/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "csphub",
    version,
    about = "Shared data platform for Community Safety Partnerships"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (creates the database and runs pending migrations first).
    Serve {
        /// Load the demo data, accept development tokens and print one per demo role.
        #[arg(long)]
        demo: bool,
    },
    /// Print a development token (HS256, development secret). For local use and tests only.
    Token {
        #[arg(long)]
        role: String,
        #[arg(long)]
        agency: String,
        /// A partnership slug; repeat for several.
        #[arg(long = "partnership", required = true)]
        partnerships: Vec<String>,
        /// coordinator, caseworker or auditor; repeat for several.
        #[arg(long = "cap")]
        caps: Vec<String>,
        /// How long the token is valid, e.g. 8h, 30m.
        #[arg(long, default_value = "8h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        /// The subject; defaults to dev:ROLE@AGENCY.
        #[arg(long)]
        sub: Option<String>,
    },
    /// Apply, roll back or list database migrations.
    Migrate {
        #[arg(value_enum, default_value = "up")]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL); schema.graphql is its output.
    Schema,
    /// Exit 0 if the csphub at CSPHUB_BIND answers /readyz with 200 within 5 s, else 1 (the
    /// container image's HEALTHCHECK; no curl needed).
    Health,
    /// Import records from a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Delete closed cases past their review date (with their notes, shares, subjects,
    /// interventions, referrals and the people no other case holds); one audit entry per case.
    Retention {
        /// List what is due and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The day to judge "due" on (default today).
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// Who runs it, for the audit log.
        #[arg(long, default_value = "csphub-retention")]
        by: String,
    },
    /// Write everything held about one person as JSON, for a subject access request.
    SubjectExport {
        /// The person's id (as `searchPeople` gives it).
        #[arg(long)]
        person: uuid::Uuid,
        /// Who asks (e.g. the data protection officer), for the audit log.
        #[arg(long)]
        by: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Seal the audit log's new entries, or verify that no sealed entry was altered.
    Audit {
        #[arg(value_enum)]
        action: AuditAction,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AuditAction {
    /// Seal the entries of every transaction that has ended since the last seal.
    Seal,
    /// Recompute every seal; exit 1 and name the first entry that no longer matches.
    Verify,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Incidents from a CSV file with the export's columns (GET /api/v1/incidents.csv). With
    /// --url, pushed over HTTP with the token in CSPHUB_TOKEN, as a partner system pushes (no
    /// database credentials); without, straight into DATABASE_URL as --agency. Either way the
    /// same checks; exit 2 when a record was rejected.
    Incidents {
        file: std::path::PathBuf,
        /// The csphub to push to, such as https://csphub.example.org (the token, a partner's
        /// JWT, is read from CSPHUB_TOKEN, never from the command line).
        #[arg(long)]
        url: Option<String>,
        /// Straight into the database: the pushing agency's slug (police, fire or council).
        #[arg(long, required_unless_present = "url", conflicts_with = "url")]
        agency: Option<String>,
        /// Straight into the database: the partnership's slug.
        #[arg(long, required_unless_present = "url", conflicts_with = "url")]
        partnership: Option<String>,
        /// Records per request (at most the service's CSPHUB_PUSH_MAX_RECORDS).
        #[arg(long, default_value_t = 10_000)]
        chunk: usize,
    },
    /// data.police.uk's files as downloaded: monthly street CSVs, outcomes CSVs and the API's
    /// street-level crimes JSON (crimes first, then outcomes, whatever the order given).
    PoliceUk {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// The pushing agency's slug (the force).
        #[arg(long)]
        agency: String,
        /// The partnership's slug: rows in LSOAs none of its areas list are skipped.
        #[arg(long)]
        partnership: String,
        /// Keep rows without a location (data.police.uk's "No location": the force area's, not
        /// any district's) in the partnership, without an area: for a force-level partnership.
        /// A district's import leaves them out (the default) and counts them.
        #[arg(long)]
        keep_no_location: bool,
        /// What the import now does by default; accepted so that older scripts still run.
        #[arg(long, hide = true, conflicts_with = "keep_no_location")]
        skip_no_location: bool,
        /// The area to place the API JSON's records in when the boundaries of the
        /// partnership's LSOAs are not held (with them, each record is placed in its LSOA by
        /// its point).
        #[arg(long)]
        area: Option<String>,
    },
    /// The ONS's geography files as downloaded from the Open Geography Portal, offline: lookup
    /// CSVs (LSOA to ward, MSOA and district; the 2011-to-2021 LSOA lookup), GeoJSON
    /// boundaries in WGS84, populations by LSOA and the English Indices of Deprivation (with
    /// --year). All in one transaction; importing again changes nothing.
    Geography {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Only this district's rows and features (its ONS code, such as E07000243 for
        /// Stevenage): a national file then loads one district. Import the lookups before
        /// boundary files that do not name their district.
        #[arg(long)]
        district: Option<String>,
        /// The year of a population file's estimates (2021 for Census 2021, 2022 for mid-2022)
        /// or a deprivation file's edition (2019, 2025): the files do not say.
        #[arg(long)]
        year: Option<i32>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MigrateAction {
    Up,
    Down,
    Status,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // PostgreSQL's notices (every start's three `relation "seaql_migrations" already exists,
    // skipping`) are chatter, not news: shown only when RUST_LOG asks for them.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    match std::env::var("CSPHUB_LOG_FORMAT").as_deref() {
        // One JSON object per line, with the request's fields (its span) on each.
        Ok("json") => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .init(),
        Ok("text") | Err(_) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        Ok(other) => anyhow::bail!("CSPHUB_LOG_FORMAT must be json or text, not '{other}'"),
    }
    match cli.command {
        Command::Serve { demo } => {
            let mut config = Config::from_env()?;
            config.demo = demo;
            csphub::app::serve(config).await
        }
        Command::Token {
            role,
            agency,
            partnerships,
            caps,
            ttl,
            sub,
        } => {
            let config = Config::from_env()?;
            let token = issue_dev_token(
                &config.dev_jwt_secret,
                &config.audience,
                &DevTokenRequest {
                    role,
                    agency,
                    partnerships,
                    caps,
                    ttl,
                    sub,
                },
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Migrate { action } => {
            let config = Config::from_env()?;
            let db = csphub::db::connect_for_maintenance(&config.database_url).await?;
            // Not while an instance that is starting migrates.
            let lock = csphub::db::StartLock::take(&db).await?;
            let changed = match action {
                MigrateAction::Up => csphub::db::migrate_up(&db).await,
                MigrateAction::Down => Migrator::down(&db, Some(1))
                    .await
                    .map_err(anyhow::Error::from),
                MigrateAction::Status => Ok(()),
            };
            lock.release().await;
            changed?;
            match action {
                MigrateAction::Up | MigrateAction::Down => {}
                MigrateAction::Status => {
                    for m in Migrator::get_applied_migrations(&db).await? {
                        println!("applied  {}", m.name());
                    }
                    for m in Migrator::get_pending_migrations(&db).await? {
                        println!("pending  {}", m.name());
                    }
                }
            }
            Ok(())
        }
        Command::Import {
            what:
                ImportWhat::Incidents {
                    file,
                    url,
                    agency,
                    partnership,
                    chunk,
                },
        } => {
            let report = match (url, agency, partnership) {
                (Some(url), _, _) => {
                    let token = std::env::var("CSPHUB_TOKEN").map_err(|_| {
                        anyhow::anyhow!("set CSPHUB_TOKEN to the partner's token to push to {url}")
                    })?;
                    csphub::import::incidents_csv_over_http(&file, &url, token.trim(), chunk)
                        .await?
                }
                (None, Some(agency), Some(partnership)) => {
                    let config = Config::from_env()?;
                    let db = csphub::db::connect_for_maintenance(&config.database_url).await?;
                    require_migrated(&db).await?;
                    csphub::import::incidents_csv(
                        &db,
                        &file,
                        &agency,
                        &partnership,
                        chunk.min(config.push_max_records),
                    )
                    .await?
                }
                _ => anyhow::bail!("give --url, or --agency and --partnership"),
            };
            println!(
                "created {}, updated {}, unchanged {}, rejected {}",
                report.created,
                report.updated,
                report.unchanged,
                report.rejected.len()
            );
            for r in &report.rejected {
                let at = match (&r.line, &r.column) {
                    (Some(line), Some(column)) => format!("line {line}, column {column}"),
                    (Some(line), None) => format!("line {line}"),
                    _ => format!("record {}", r.index + 1),
                };
                eprintln!(
                    "{at}: {} {}: {}",
                    r.external_ref.as_deref().unwrap_or("-"),
                    r.code,
                    r.message
                );
            }
            if !report.rejected.is_empty() {
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Import {
            what:
                ImportWhat::PoliceUk {
                    files,
                    agency,
                    partnership,
                    keep_no_location,
                    skip_no_location: _,
                    area,
                },
        } => {
            use csphub::import::police_uk;
            let config = Config::from_env()?;
            let db = csphub::db::connect_for_maintenance(&config.database_url).await?;
            require_migrated(&db).await?;
            let importer =
                csphub::import::Importer::new(&db, &agency, &partnership, config.push_max_records)
                    .await?;
            let options = police_uk::Options {
                keep_no_location,
                area,
            };
            let reports = police_uk::import(&db, &importer, &files, &options).await?;
            let mut rejected = 0;
            for r in &reports {
                let kind = r.kind.map_or("file", police_uk::Kind::describe);
                let mut notes = Vec::new();
                if r.outside > 0 {
                    notes.push(format!(
                        "{} in LSOAs no area of {partnership} lists, skipped",
                        r.outside
                    ));
                }
                if r.no_location > 0 {
                    notes.push(format!(
                        "{} without a location{}",
                        r.no_location,
                        if keep_no_location {
                            ", kept without an area"
                        } else {
                            ", skipped (the force area's, not the district's; --keep-no-location keeps them)"
                        }
                    ));
                }
                if r.not_held > 0 {
                    notes.push(format!("{} for crimes not held, skipped", r.not_held));
                }
                if r.older > 0 {
                    notes.push(format!(
                        "{} older than the outcome held (of a later month), skipped",
                        r.older
                    ));
                }
                if r.kept_later_outcome > 0 {
                    notes.push(format!(
                        "{} keep the outcome an outcomes file gave them",
                        r.kept_later_outcome
                    ));
                }
                if r.placed_by_point > 0 {
                    notes.push(format!(
                        "{} placed in their LSOA by their point",
                        r.placed_by_point
                    ));
                }
                if r.outside_by_point > 0 {
                    notes.push(format!(
                        "{} at points in none of {partnership}'s LSOAs, skipped",
                        r.outside_by_point
                    ));
                }
                if r.boundaries_missing > 0 {
                    notes.push(format!(
                        "points not placed: the boundaries of {} of {partnership}'s LSOAs are not held (csphub import geography)",
                        r.boundaries_missing
                    ));
                }
                println!(
                    "{}: {kind}, {} rows: created {}, updated {}, unchanged {}, rejected {}{}",
                    police_uk::name(&r.path),
                    r.rows,
                    r.created,
                    r.updated,
                    r.unchanged,
                    r.rejected.len(),
                    if notes.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", notes.join("; "))
                    }
                );
                for x in &r.rejected {
                    eprintln!(
                        "{}:{}: {} {}: {}",
                        police_uk::name(&r.path),
                        x.index,
                        x.external_ref.as_deref().unwrap_or("-"),
                        x.code,
                        x.message
                    );
                }
                rejected += r.rejected.len();
            }
            if rejected > 0 {
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Import {
            what:
                ImportWhat::Geography {
                    files,
                    district,
                    year,
                },
        } => {
            use csphub::import::geography;
            let config = Config::from_env()?;
            let db = csphub::db::connect_for_maintenance(&config.database_url).await?;
            require_migrated(&db).await?;
            for r in geography::import(&db, &files, district.as_deref(), year).await? {
                let mut held = Vec::new();
                for (n, what) in [
                    (r.areas, "areas"),
                    (r.memberships, "LSOA memberships"),
                    (r.changes, "LSOA changes"),
                    (r.boundaries, "boundaries"),
                    (r.figures, "LSOA figures"),
                    (r.other_districts, "of other districts, left out"),
                ] {
                    if n > 0 {
                        held.push(format!("{n} {what}"));
                    }
                }
                println!("{}: {}: {}", r.file, r.kind, held.join(", "));
            }
            Ok(())
        }
        Command::Retention { dry_run, today, by } => {
            let config = Config::from_env()?;
            let db = csphub::db::connect_for_maintenance(&config.database_url).await?;
            let today = today.unwrap_or_else(|| {
                chrono::Utc::now()
                    .with_timezone(&chrono_tz::Europe::London)
                    .date_naive()
            });
            let due = if dry_run {
                csphub::maintenance::due(&db, today)
                    .await
                    .context("listing")?
            } else {
                csphub::maintenance::delete_due(&db, today, &by)
                    .await
                    .context("deleting")?
                    .0
            };
            for c in &due {
                println!(
                    "{} {} {} closed {} review {} ({} years): {} notes, {} subjects",
                    c.partnership,
                    c.r#ref,
                    c.case_type,
                    c.closed_on,
                    c.review_on,
                    c.years,
                    c.notes,
                    c.subjects
                );
            }
            if dry_run {
                println!(
                    "{} cases due on {today}; dry run, nothing deleted",
                    due.len()
                );
            } else {
                println!("{} cases deleted", due.len());
            }
            Ok(())
        }
        Command::SubjectExport { person, by, out } => {
            let config = Config::from_env()?;
            let db = csphub::db::connect_for_maintenance(&config.database_url).await?;
            let doc = csphub::maintenance::subject_export(&db, person, &by)
                .await
                .context("exporting")?;
            let text = serde_json::to_string_pretty(&doc)?;
            match out {
                Some(path) => std::fs::write(&path, text + "\n")
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
            Ok(())
        }
        Command::Audit { action } => {
            let config = Config::from_env()?;
            let db = csphub::db::connect_for_maintenance(&config.database_url).await?;
            match action {
                AuditAction::Seal => match csphub::db::audit::seal(&db).await.context("sealing")? {
                    csphub::db::audit::Sealed::Entries { seq, count }
                        if i64::try_from(count).unwrap_or(i64::MAX)
                            <= csphub::db::audit::SEAL_MAX =>
                    {
                        println!("sealed {count} entries as seal {seq}");
                    }
                    csphub::db::audit::Sealed::Entries { seq, count } => {
                        println!(
                            "sealed {count} entries in seals of at most {}, up to seal {seq}",
                            csphub::db::audit::SEAL_MAX
                        );
                    }
                    csphub::db::audit::Sealed::Nothing => println!("nothing new to seal"),
                    csphub::db::audit::Sealed::Busy => println!("another process is sealing"),
                },
                AuditAction::Verify => {
                    match csphub::db::audit::verify(&db).await.context("verifying")? {
                        csphub::db::audit::Verified::Intact {
                            seals,
                            entries,
                            unsealed,
                        } => println!(
                            "intact: {seals} seals over {entries} entries; {unsealed} entries not sealed yet"
                        ),
                        csphub::db::audit::Verified::Broken { seal, entry, what } => {
                            match entry {
                                Some(id) => println!("BROKEN at entry {id} (seal {seal}): {what}"),
                                None => println!("BROKEN at seal {seal}: {what}"),
                            }
                            std::process::exit(1);
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Schema => {
            print!("{}", csphub::graphql::build_schema().sdl());
            Ok(())
        }
        Command::Health => {
            let bind = std::env::var("CSPHUB_BIND")
                .unwrap_or_else(|_| csphub::config::DEFAULT_BIND.to_owned());
            let mut addr: std::net::SocketAddr = bind
                .parse()
                .map_err(|_| anyhow::anyhow!("CSPHUB_BIND '{bind}' is not an address"))?;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            match tokio::time::timeout(std::time::Duration::from_secs(5), ready(addr)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => {
                    eprintln!("not ready: {e:#}");
                    std::process::exit(1)
                }
                Err(_) => {
                    eprintln!("not ready: no answer from {addr} within 5 s");
                    std::process::exit(1)
                }
            }
        }
    }
}

/// GET /readyz on `addr` over plain HTTP/1.1: Ok when it answers 200.
async fn ready(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    conn.write_all(
        format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    // The status line, however the bytes arrive.
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < head.len() && !head[..n].contains(&b'\n') {
        match conn.read(&mut head[n..]).await? {
            0 => break,
            k => n += k,
        }
    }
    let line = String::from_utf8_lossy(&head[..n]);
    let status = line.split_whitespace().nth(1).unwrap_or("");
    anyhow::ensure!(status == "200", "/readyz answered {status:?}");
    Ok(())
}

/// The imports write into a database that is already migrated; they never migrate it. They do
/// write the built-in vocabularies and indicators (idempotent), which their checks read.
async fn require_migrated(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let pending = csphub::db::pending_migrations(db).await?;
    anyhow::ensure!(
        pending.is_empty(),
        "the database is not up to date ({} migration(s) pending, the first {}): run `csphub migrate up` first; imports do not migrate",
        pending.len(),
        pending.first().map(String::as_str).unwrap_or_default()
    );
    let lock = csphub::db::StartLock::take(db).await?;
    let synced = csphub::db::sync_builtins(db).await;
    lock.release().await;
    synced
}
