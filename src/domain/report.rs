//! Frozen reports: the canonical text and hash of a report's content, and the figure-by-figure
//! differences between what was submitted and what the records give today.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The content as canonical JSON text: object keys sorted, no spaces.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String(k.clone()),
                        canonical(map.get(k).unwrap_or(&Value::Null))
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// sha256 of the canonical text, hex.
pub fn content_hash(v: &Value) -> String {
    let digest = Sha256::digest(canonical(v).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What names an element of a list, so that a row added or removed does not shift the rest:
/// its `ref`, `quarter`, indicator code, `question`, `month`, `position`, `id`, else its index.
fn label(item: &Value, index: usize) -> String {
    let field = |k: &str| {
        item.get(k).filter(|v| !v.is_null()).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    if let Some(code) = item
        .get("indicator")
        .and_then(|i| i.get("code"))
        .and_then(Value::as_str)
    {
        return format!("code={code}");
    }
    for k in ["ref", "quarter", "question", "month", "position", "id"] {
        if let Some(v) = field(k) {
            let agency = field("agency").map(|a| format!("{a}/")).unwrap_or_default();
            return format!("{k}={agency}{v}");
        }
    }
    index.to_string()
}

/// Every leaf that differs between `before` and `now`, as (path, before, now); a value only on
/// one side has null on the other, and a list row added or gone is one difference (the row).
pub fn differences(before: &Value, now: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    diff("", before, now, &mut out);
    out
}

fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_owned()
    } else {
        format!("{path}.{part}")
    }
}

fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<(String, Value, Value)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff(
                    &join(path, k),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let named = |items: &Vec<Value>| -> Vec<(String, Value)> {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (label(v, i), v.clone()))
                    .collect()
            };
            let (xs, ys) = (named(x), named(y));
            let mut labels: Vec<String> = xs.iter().map(|p| p.0.clone()).collect();
            for (l, _) in &ys {
                if !labels.contains(l) {
                    labels.push(l.clone());
                }
            }
            for l in labels {
                let find = |list: &Vec<(String, Value)>| {
                    list.iter()
                        .find(|p| p.0 == l)
                        .map(|p| p.1.clone())
                        .unwrap_or(Value::Null)
                };
                let (a, b) = (find(&xs), find(&ys));
                let at = format!("{path}[{l}]");
                if a.is_null() || b.is_null() {
                    // A row added or gone: one difference, the whole row.
                    out.push((at, a, b));
                } else {
                    diff(&at, &a, &b, out);
                }
            }
        }
        (Value::Object(x), Value::Null) => {
            for (k, v) in x {
                diff(&join(path, k), v, &Value::Null, out);
            }
        }
        (Value::Null, Value::Object(y)) => {
            for (k, v) in y {
                diff(&join(path, k), &Value::Null, v, out);
            }
        }
        _ if a != b => out.push((path.to_owned(), a.clone(), b.clone())),
        _ => {}
    }
}

/// One figure of a report as a CSV row: the list it is in (`progress.priorities`), the row of
/// that list (`position=1`; rows of nested lists joined by `/`), the field within the row
/// (`counts.complete`) and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatRow {
    pub section: String,
    pub row: String,
    pub field: String,
    pub value: String,
}

/// Every leaf of a report as a row, in the report's order: a tidy table that pivots in any
/// spreadsheet and carries the same numbers as the GraphQL answer.
pub fn flatten(v: &Value) -> Vec<FlatRow> {
    let mut out = Vec::new();
    walk(
        v,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut Vec::new(),
        &mut out,
    );
    out
}

fn walk(
    v: &Value,
    section: &mut Vec<String>,
    rows: &mut Vec<String>,
    field: &mut Vec<String>,
    out: &mut Vec<FlatRow>,
) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                field.push(k.clone());
                walk(child, section, rows, field, out);
                field.pop();
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
            // A list of plain values (such as categories): one cell, joined by `;`.
            let joined = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(";");
            push(section, rows, field, joined, out);
        }
        Value::Array(items) => {
            // The list's path becomes part of the section; its rows are named.
            let moved: Vec<String> = std::mem::take(field);
            let depth = section.len();
            section.extend(moved.iter().cloned());
            for (i, item) in items.iter().enumerate() {
                rows.push(label(item, i));
                walk(item, section, rows, &mut Vec::new(), out);
                rows.pop();
            }
            section.truncate(depth);
            *field = moved;
        }
        Value::Null => push(section, rows, field, String::new(), out),
        Value::String(s) => push(section, rows, field, s.clone(), out),
        other => push(section, rows, field, other.to_string(), out),
    }
}

fn push(
    section: &[String],
    rows: &[String],
    field: &[String],
    value: String,
    out: &mut Vec<FlatRow>,
) {
    out.push(FlatRow {
        section: section.join("."),
        row: rows.join("/"),
        field: field.join("."),
        value,
    });
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or
/// `@` of text is escaped with a quote mark so a spreadsheet does not run it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = super::text::visible(s);
    let numeric = s.parse::<f64>().is_ok();
    let s = if !numeric && s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.into_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A report as CSV: `section,row,field,value`.
pub fn to_csv(v: &Value) -> String {
    let mut out = String::from("section,row,field,value\r\n");
    for r in flatten(v) {
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            csv_field(&r.section),
            csv_field(&r.row),
            csv_field(&r.field),
            csv_field(&r.value)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_text_does_not_depend_on_key_order() {
        let a = json!({"b": 1, "a": [1, {"y": 2, "x": null}]});
        let b = json!({"a": [1, {"x": null, "y": 2}], "b": 1});
        assert_eq!(canonical(&a), r#"{"a":[1,{"x":null,"y":2}],"b":1}"#);
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&json!({"b": 2})));
    }

    #[test]
    fn differences_follow_rows_by_their_names() {
        let before = json!({"total": {"complete": 38}, "rows": [{"ref": "1.1", "status": "ON_TARGET"}, {"ref": "1.2", "status": "COMPLETE"}]});
        let now = json!({"total": {"complete": 39}, "rows": [{"ref": "1.0", "status": "COMPLETE"}, {"ref": "1.1", "status": "COMPLETE"}, {"ref": "1.2", "status": "COMPLETE"}]});
        let d = differences(&before, &now);
        assert_eq!(
            d,
            vec![
                (
                    "rows[ref=1.1].status".to_owned(),
                    json!("ON_TARGET"),
                    json!("COMPLETE")
                ),
                (
                    "rows[ref=1.0]".to_owned(),
                    Value::Null,
                    json!({"ref": "1.0", "status": "COMPLETE"})
                ),
                ("total.complete".to_owned(), json!(38), json!(39)),
            ]
        );
        assert!(differences(&now, &now).is_empty());
    }

    #[test]
    fn a_report_flattens_to_named_rows() {
        let v = json!({"total": {"complete": 38}, "priorities": [{"position": 1, "counts": {"complete": 3}, "rows": [{"ref": "1.1", "note": "=1+1, \"x\""}]}], "cats": ["a", "b"]});
        let csv = to_csv(&v);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines,
            [
                "section,row,field,value",
                ",,cats,a;b",
                "priorities,position=1,counts.complete,3",
                "priorities,position=1,position,1",
                "priorities.rows,position=1/ref=1.1,note,\"'=1+1, \"\"x\"\"\"",
                "priorities.rows,position=1/ref=1.1,ref,1.1",
                ",,total.complete,38",
            ]
        );
        assert_eq!(csv_field("-3"), "-3");
        assert_eq!(csv_field("-x"), "'-x");
    }
}
