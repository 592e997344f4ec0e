//! Vocabularies as data. The built-in terms are written at start-up (idempotently), so a new
//! release's vocabulary changes reach every installation without seed data in migrations.

use crate::pg_row;
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::{execute, fetch_all};
use crate::domain::vocabulary::{Term, Vocabularies, Vocabulary, builtin};
use crate::error::{AppError, AppResult};

pg_row! {
    #[derive(Debug, Clone)]
    struct TermRow {
        vocabulary: String,
        code: String,
        label: String,
        valid_from: NaiveDate,
        valid_to: Option<NaiveDate>,
        aliases: Vec<String>,
    }
}

/// Writes the built-in vocabularies: new terms added, labels, aliases and end dates brought up to
/// date, and terms a release no longer ships (a start date corrected, say) removed. Every term is
/// built in: nothing else writes the table.
pub async fn sync_builtin<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    let terms = builtin();
    let json = serde_json::Value::Array(
        terms
            .iter()
            .map(|t| {
                serde_json::json!({
                    "vocabulary": t.vocabulary.as_str(), "code": t.code, "label": t.label,
                    "valid_from": t.from, "valid_to": t.to, "aliases": t.aliases,
                })
            })
            .collect(),
    );
    execute(
        conn,
        "WITH t AS (SELECT * FROM jsonb_to_recordset($1::jsonb) \
             AS t(vocabulary text, code text, label text, valid_from date, valid_to date, aliases text[])), \
         gone AS (DELETE FROM vocabulary_terms v WHERE NOT EXISTS \
             (SELECT 1 FROM t WHERE (t.vocabulary, t.code, t.valid_from) = (v.vocabulary, v.code, v.valid_from))) \
         INSERT INTO vocabulary_terms (vocabulary, code, label, valid_from, valid_to, aliases) \
         SELECT vocabulary, code, label, valid_from, valid_to, aliases FROM t \
         ON CONFLICT (vocabulary, code, valid_from) DO UPDATE \
           SET label = EXCLUDED.label, valid_to = EXCLUDED.valid_to, aliases = EXCLUDED.aliases \
           WHERE (vocabulary_terms.label, vocabulary_terms.valid_to, vocabulary_terms.aliases) \
             IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.valid_to, EXCLUDED.aliases)",
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
        "SELECT vocabulary, code, label, valid_from, valid_to, aliases FROM vocabulary_terms \
         WHERE ($1::text IS NULL OR vocabulary = $1) \
           AND ($2::date IS NULL OR (valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2))) \
         ORDER BY vocabulary, code, valid_from",
        vec![vocabulary.map(|v| v.as_str().to_owned()).into(), on.into()],
    )
    .await?;
    rows.into_iter().map(term).collect()
}

fn term(r: TermRow) -> AppResult<Term> {
    Ok(Term {
        vocabulary: Vocabulary::parse(&r.vocabulary).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("unknown vocabulary {}", r.vocabulary))
        })?,
        code: r.code,
        label: r.label,
        from: r.valid_from,
        to: r.valid_to,
        aliases: r.aliases,
    })
}

/// Every version of the terms with these (vocabulary, code) pairs, in one statement.
pub async fn terms_by_code<C: ConnectionTrait>(
    conn: &C,
    pairs: &[(Vocabulary, String)],
) -> AppResult<Vec<Term>> {
    let vocabularies: Vec<String> = pairs.iter().map(|(v, _)| v.as_str().to_owned()).collect();
    let codes: Vec<String> = pairs.iter().map(|(_, c)| c.clone()).collect();
    let rows: Vec<TermRow> = fetch_all(
        conn,
        "SELECT vocabulary, code, label, valid_from, valid_to, aliases FROM vocabulary_terms \
         WHERE (vocabulary, code) IN (SELECT * FROM unnest($1::text[], $2::text[])) \
         ORDER BY vocabulary, code, valid_from",
        vec![vocabularies.into(), codes.into()],
    )
    .await?;
    rows.into_iter().map(term).collect()
}

pub async fn load<C: ConnectionTrait>(conn: &C) -> AppResult<Vocabularies> {
    Ok(Vocabularies::new(terms(conn, None, None).await?))
}
