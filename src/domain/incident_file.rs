//! A record as partners' files carry it: one JSON object, or one row of the CSV that the export
//! writes and `csphub import incidents` reads (an export re-imports unchanged).

use super::incident::{FORMULA_STARTS, IncidentInput};

/// Reads one record from JSON, explaining what is wrong in partner terms.
pub fn from_json(value: serde_json::Value) -> Result<IncidentInput, String> {
    serde_json::from_value::<IncidentInput>(value).map_err(|e| {
        let text = e.to_string();
        if text.starts_with("unknown field") {
            format!("{text}: incident records carry no names, free text or addresses")
        } else {
            text
        }
    })
}

/// The CSV columns of import and export, in order: the JSON record's names, so that one naming
/// serves both (an export re-imports unchanged).
pub const CSV_COLUMNS: [&str; 19] = [
    "externalRef",
    "sourceAgency",
    "partnership",
    "category",
    "occurredAt",
    "reportedAt",
    "area",
    "postcodeDistrict",
    "domesticAbuse",
    "alcoholRelated",
    "youthRelated",
    "hateStrands",
    "drugClass",
    "asbType",
    "fireType",
    "outcome",
    "status",
    "cancelReason",
    "lsoa",
];

/// A CSV file's records, each with the line it starts on (the header is line 1).
pub type CsvRows = Vec<(u64, Result<IncidentInput, String>)>;

/// The columns a file must have.
const REQUIRED: [&str; 3] = ["externalRef", "category", "occurredAt"];

/// The column a header cell names: its JSON name, or the snake_case name exports had before
/// (`external_ref`), in any case.
pub fn csv_column(name: &str) -> Option<&'static str> {
    let key: String = name
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| *c != '_' && *c != ' ')
        .flat_map(char::to_lowercase)
        .collect();
    CSV_COLUMNS
        .iter()
        .find(|c| c.to_ascii_lowercase() == key)
        .copied()
}

/// A CSV file's header, read once: the column of each position.
#[derive(Debug, Clone)]
pub struct CsvHeader {
    columns: Vec<&'static str>,
}

impl CsvHeader {
    /// Reads the header row: every cell must name a column (no names, free text or addresses
    /// travel in records), none twice, and externalRef, category and occurredAt must be there.
    pub fn read(header: &csv::StringRecord) -> Result<Self, String> {
        let mut columns = Vec::with_capacity(header.len());
        for (i, cell) in header.iter().enumerate() {
            let Some(column) = csv_column(cell) else {
                return Err(format!(
                    "the header's column {} is '{}', which is not a column of incident records \
                     (they carry no names, free text or addresses); the columns are: {}",
                    i + 1,
                    cell.trim(),
                    CSV_COLUMNS.join(", ")
                ));
            };
            if columns.contains(&column) {
                return Err(format!("the header names {column} twice"));
            }
            columns.push(column);
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|c| !columns.contains(c))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header lacks {}: the first line must name the columns, such as {}",
                missing.join(", "),
                CSV_COLUMNS.join(",")
            ));
        }
        Ok(Self { columns })
    }

    /// The column a rejection's message is about: the first column of the header it names.
    pub fn column_in(&self, message: &str) -> Option<&'static str> {
        self.columns
            .iter()
            .filter_map(|c| message.find(c).map(|at| (at, *c)))
            .filter(|(at, c)| {
                // A whole word: `area` is not the start of `areas`.
                let end = at + c.len();
                message[end..]
                    .chars()
                    .next()
                    .is_none_or(|ch| !ch.is_alphanumeric())
            })
            .min_by_key(|(at, _)| *at)
            .map(|(_, c)| c)
    }
}

fn csv_bool(v: &str, column: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        other => Err(format!("{column} '{other}' must be true or false")),
    }
}

/// Reads one CSV row (with the header's column positions) into a record. A row with more
/// cells than the header is refused.
pub fn from_csv_row(header: &CsvHeader, row: &csv::StringRecord) -> Result<IncidentInput, String> {
    if row.len() > header.columns.len() {
        return Err(format!(
            "the row has {} cells and the header {} columns",
            row.len(),
            header.columns.len()
        ));
    }
    let mut input = IncidentInput::default();
    for (name, value) in header.columns.iter().copied().zip(row.iter()) {
        // The export's guard against spreadsheet formulas, taken off again.
        let value = match value.strip_prefix('\'') {
            Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
            _ => value,
        };
        let some = || Some(value.to_owned()).filter(|v| !v.trim().is_empty());
        match name {
            "externalRef" => input.external_ref = value.to_owned(),
            "sourceAgency" => input.source_agency = some(),
            "partnership" => input.partnership = some(),
            "category" => input.category = value.to_owned(),
            "occurredAt" => input.occurred_at = value.to_owned(),
            "reportedAt" => input.reported_at = some(),
            "area" => input.area = some(),
            "lsoa" => input.lsoa = some(),
            "postcodeDistrict" => input.postcode_district = some(),
            "domesticAbuse" => input.domestic_abuse = csv_bool(value, name)?,
            "alcoholRelated" => input.alcohol_related = csv_bool(value, name)?,
            "youthRelated" => input.youth_related = csv_bool(value, name)?,
            "hateStrands" => {
                input.hate_strands = value
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "drugClass" => input.drug_class = some(),
            "asbType" => input.asb_type = some(),
            "fireType" => input.fire_type = some(),
            "outcome" => input.outcome = some(),
            "status" => input.status = some(),
            "cancelReason" => input.cancel_reason = some(),
            // CsvHeader::read admits only the columns above.
            _ => {}
        }
    }
    Ok(input)
}
