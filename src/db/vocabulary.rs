//! Vocabularies as data. The built-in terms are written at start-up (idempotently), so a new
//! release's vocabulary changes reach every installation without seed data in migrations.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::{execute, fetch_all};
use crate::domain::vocabulary::{Term, Vocabularies, Vocabulary, builtin};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, FromQueryResult)]
struct TermRow {
    vocabulary: String,
    code: String,
    label: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

/// Writes the built-in vocabularies (new terms added, labels and end dates brought up to date).
pub async fn sync_builtin<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    let terms = builtin();
    let json = serde_json::Value::Array(
        terms
            .iter()
            .map(|t| {
                serde_json::json!({
                    "vocabulary": t.vocabulary.as_str(), "code": t.code, "label": t.label,
                    "valid_from": t.from, "valid_to": t.to,
                })
            })
            .collect(),
    );
    execute(
        conn,
        "INSERT INTO vocabulary_terms (vocabulary, code, label, valid_from, valid_to) \
         SELECT vocabulary, code, label, valid_from, valid_to FROM jsonb_to_recordset($1::jsonb) \
           AS t(vocabulary text, code text, label text, valid_from date, valid_to date) \
         ON CONFLICT (vocabulary, code, valid_from) DO UPDATE \
           SET label = EXCLUDED.label, valid_to = EXCLUDED.valid_to \
           WHERE (vocabulary_terms.label, vocabulary_terms.valid_to) IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.valid_to)",
        vec![json.into()],
        &[],
    )
    .await?;
    Ok(())
}

/// Every term, optionally of one vocabulary and in force on one day.
pub async fn terms<C: ConnectionTrait>(
    conn: &C,
    vocabulary: Option<Vocabulary>,
    on: Option<NaiveDate>,
) -> AppResult<Vec<Term>> {
    let rows: Vec<TermRow> = fetch_all(
        conn,
        "SELECT vocabulary, code, label, valid_from, valid_to FROM vocabulary_terms \
         WHERE ($1::text IS NULL OR vocabulary = $1) \
           AND ($2::date IS NULL OR (valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2))) \
         ORDER BY vocabulary, code, valid_from",
        vec![vocabulary.map(|v| v.as_str().to_owned()).into(), on.into()],
    )
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Term {
                vocabulary: Vocabulary::parse(&r.vocabulary).ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("unknown vocabulary {}", r.vocabulary))
                })?,
                code: r.code,
                label: r.label,
                from: r.valid_from,
                to: r.valid_to,
            })
        })
        .collect()
}

pub async fn load<C: ConnectionTrait>(conn: &C) -> AppResult<Vocabularies> {
    Ok(Vocabularies::new(terms(conn, None, None).await?))
}
