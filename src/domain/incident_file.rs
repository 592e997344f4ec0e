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

/// The CSV columns of import and export, in order. An export re-imports unchanged.
pub const CSV_COLUMNS: [&str; 19] = [
    "external_ref",
    "source_agency",
    "partnership",
    "category",
    "occurred_at",
    "reported_at",
    "area",
    "postcode_district",
    "domestic_abuse",
    "alcohol_related",
    "youth_related",
    "hate_strands",
    "drug_class",
    "asb_type",
    "fire_type",
    "outcome",
    "status",
    "cancel_reason",
    "lsoa",
];

fn csv_bool(v: &str, column: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        other => Err(format!("{column} '{other}' must be true or false")),
    }
}

/// Reads one CSV row (with the header's column positions) into a record.
pub fn from_csv_row(
    header: &csv::StringRecord,
    row: &csv::StringRecord,
) -> Result<IncidentInput, String> {
    let mut input = IncidentInput::default();
    for (name, value) in header.iter().zip(row.iter()) {
        // The export's guard against spreadsheet formulas, taken off again.
        let value = match value.strip_prefix('\'') {
            Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
            _ => value,
        };
        let some = || Some(value.to_owned()).filter(|v| !v.trim().is_empty());
        match name.trim() {
            "external_ref" => input.external_ref = value.to_owned(),
            "source_agency" => input.source_agency = some(),
            "partnership" => input.partnership = some(),
            "category" => input.category = value.to_owned(),
            "occurred_at" => input.occurred_at = value.to_owned(),
            "reported_at" => input.reported_at = some(),
            "area" => input.area = some(),
            "lsoa" => input.lsoa = some(),
            "postcode_district" => input.postcode_district = some(),
            "domestic_abuse" => input.domestic_abuse = csv_bool(value, name)?,
            "alcohol_related" => input.alcohol_related = csv_bool(value, name)?,
            "youth_related" => input.youth_related = csv_bool(value, name)?,
            "hate_strands" => {
                input.hate_strands = value
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "drug_class" => input.drug_class = some(),
            "asb_type" => input.asb_type = some(),
            "fire_type" => input.fire_type = some(),
            "outcome" => input.outcome = some(),
            "status" => input.status = some(),
            "cancel_reason" => input.cancel_reason = some(),
            other => {
                return Err(format!(
                    "unknown column '{other}': incident records carry no names, free text or addresses"
                ));
            }
        }
    }
    Ok(input)
}
