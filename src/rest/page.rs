//! Reports as printable HTML pages (`GET /reports/...`) with SVG charts drawn by the server: no
//! script, nothing loaded from anywhere (the page's policy forbids both), and a print stylesheet
//! for a clean A4 PDF from any browser. Pages render the same JSON as the CSV and GraphQL forms,
//! so the three carry the same numbers.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::report::{AssessmentParams, PccParams, RagParams};
use crate::auth::link;
use crate::db;
use crate::error::AppError;
use crate::http::caller::{Bearer, VerifiedToken};
use crate::http::limits::Budget;
use crate::http::scope::{self, Scope};
use crate::http::state::AppState;

/// The page's policy: inline styles and inline SVG only; no script, no fetch, no frame.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const STYLE: &str = "
body { font: 11pt/1.4 'DejaVu Sans', Arial, sans-serif; color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 18pt; margin: 0 0 .2em; } h2 { font-size: 13pt; margin: 1.4em 0 .4em; border-bottom: 1px solid #999; }
h3 { font-size: 11pt; margin: 1em 0 .3em; }
p.meta { color: #444; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; font-size: 10pt; }
th, td { border: 1px solid #bbb; padding: .2em .4em; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.withheld, .none { color: #555; font-style: italic; }
svg { display: block; margin: .4em 0 1em; max-width: 100%; height: auto; }
.legend span { display: inline-block; margin-right: 1em; font-size: 9pt; }
.legend i { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; }
section { break-inside: avoid-page; }
@page { size: A4; margin: 15mm 12mm; }
@media print { body { margin: 0; max-width: none; padding: 0; font-size: 10pt; } h2 { break-after: avoid; } tr, svg { break-inside: avoid; } }
";

fn esc(s: &str) -> String {
    crate::domain::text::visible(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A number cell; withheld figures say so.
fn num(v: &Value, withheld: bool) -> String {
    if v.is_null() && withheld {
        "<td class=\"n withheld\">withheld</td>".to_owned()
    } else if v.is_null() {
        "<td class=\"n\">&ndash;</td>".to_owned()
    } else {
        format!("<td class=\"n\">{}</td>", esc(&text(v)))
    }
}

/// A status code as words for people: `ON_TARGET` is "On target".
fn label(v: &Value) -> String {
    let code = text(v);
    let mut words = code.replace('_', " ").to_lowercase();
    if let Some(first) = words.get(..1) {
        let upper = first.to_uppercase();
        words.replace_range(..1, &upper);
    }
    words
}

/// The row a table shows when it has no others, saying so in words.
fn none_row(columns: usize, what: &str) -> String {
    format!(
        "<tr><td class=\"none\" colspan=\"{columns}\">{}</td></tr>",
        esc(what)
    )
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn pounds(pence: &Value) -> String {
    let p = pence.as_i64().unwrap_or(0);
    let whole = p / 100;
    let mut digits = whole.to_string();
    let mut grouped = String::new();
    while digits.len() > 3 {
        let tail = digits.split_off(digits.len() - 3);
        grouped = format!(",{tail}{grouped}");
    }
    format!("&pound;{digits}{grouped}.{:02}", p % 100)
}

const STATUSES: [(&str, &str, &str); 5] = [
    ("complete", "Complete", "#2e7d32"),
    ("onTarget", "On target", "#1565c0"),
    ("incomplete", "Incomplete", "#c62828"),
    ("removed", "Removed", "#757575"),
    ("notStarted", "Not started", "#f9a825"),
];

/// Status by priority as stacked bars, one per priority, each as long as its expected outcomes.
fn status_chart(progress: &Value) -> String {
    let rows = list(&progress["priorities"]);
    let most = rows
        .iter()
        .map(|r| r["counts"]["expected"].as_i64().unwrap_or(0))
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_w, bar_w, row_h) = (230.0, 400.0, 24.0);
    let height = row_h * rows.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg class=\"chart status\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {height}\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"Status by priority\">",
        label_w + bar_w + 40.0,
        label_w + bar_w + 40.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let title = format!("{}. {}", text(&r["position"]), text(&r["title"]));
        let short: String = title.chars().take(34).collect();
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"11\">{}</text>",
            y + 15.0,
            esc(&short)
        ));
        let mut x = label_w;
        for (key, name, colour) in STATUSES {
            let n = r["counts"][key].as_i64().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / most as f64;
            svg.push_str(&format!(
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{colour}\"><title>{}: {name} {n}</title></rect>",
                row_h - 6.0,
                esc(&title)
            ));
            if w > 14.0 {
                svg.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" fill=\"#fff\" text-anchor=\"middle\">{n}</text>",
                    x + w / 2.0,
                    y + 13.0
                ));
            }
            x += w;
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{}</text>",
            x + 4.0,
            y + 13.0,
            text(&r["counts"]["expected"])
        ));
    }
    svg.push_str("</svg>");
    let legend: String = STATUSES
        .iter()
        .map(|(_, name, colour)| {
            format!("<span><i style=\"background:{colour}\"></i>{name}</span>")
        })
        .collect();
    format!("{svg}<div class=\"legend\">{legend}</div>")
}

/// An indicator's trend: per quarter, this year's count beside the same quarter a year earlier.
fn trend_chart(name: &str, quarters: &[Value]) -> String {
    let most = quarters
        .iter()
        .flat_map(|q| [q["count"].as_i64(), q["yearEarlierCount"].as_i64()])
        .flatten()
        .max()
        .unwrap_or(0)
        .max(1);
    let (h, group_w, bar_w) = (120.0, 90.0, 30.0);
    let width = 40.0 + group_w * quarters.len() as f64;
    let mut svg = format!(
        "<svg class=\"chart trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {}\" width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"{} by quarter\">",
        h + 40.0,
        h + 40.0,
        esc(name)
    );
    svg.push_str(&format!(
        "<line x1=\"30\" y1=\"{h}\" x2=\"{width}\" y2=\"{h}\" stroke=\"#444\"/><text x=\"0\" y=\"12\" font-size=\"9\">{most}</text><text x=\"0\" y=\"{h}\" font-size=\"9\">0</text>"
    ));
    for (i, q) in quarters.iter().enumerate() {
        let x0 = 40.0 + group_w * i as f64;
        for (j, (key, withheld, colour)) in [
            ("yearEarlierCount", "yearEarlierSuppressed", "#9e9e9e"),
            ("count", "suppressed", "#1565c0"),
        ]
        .iter()
        .enumerate()
        {
            let x = x0 + bar_w * j as f64;
            match q[*key].as_i64() {
                Some(n) => {
                    let bh = (h - 10.0) * n as f64 / most as f64;
                    svg.push_str(&format!(
                        "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{}\" height=\"{bh:.1}\" fill=\"{colour}\"><title>{} {}: {n}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\">{n}</text>",
                        h - bh,
                        bar_w - 4.0,
                        esc(&text(&q["quarter"])),
                        if j == 0 { "a year earlier" } else { "" },
                        x + (bar_w - 4.0) / 2.0,
                        h - bh - 2.0
                    ));
                }
                None => {
                    let label = if q[*withheld] == true { "w/h" } else { "-" };
                    svg.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#777\">{label}</text>",
                        x + (bar_w - 4.0) / 2.0,
                        h - 3.0
                    ));
                }
            }
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x0 + bar_w,
            h + 15.0,
            esc(&text(&q["quarter"]))
        ));
    }
    svg.push_str("</svg>");
    format!(
        "{svg}<div class=\"legend\"><span><i style=\"background:#1565c0\"></i>this year</span><span><i style=\"background:#9e9e9e\"></i>a year earlier</span><span>w/h: withheld</span></div>"
    )
}

fn progress_section(progress: &Value, heading: &str) -> String {
    let mut h = format!(
        "<section id=\"progress\"><h2>{}</h2>{}<table><tr><th>Priority</th><th class=\"n\">Expected</th><th class=\"n\">Complete</th><th class=\"n\">On target</th><th class=\"n\">Incomplete</th><th class=\"n\">Removed</th><th class=\"n\">Not started</th></tr>",
        esc(heading),
        status_chart(progress)
    );
    for r in list(&progress["priorities"])
        .iter()
        .chain([&progress["total"]])
    {
        let c = if r.get("counts").is_some() {
            &r["counts"]
        } else {
            r
        };
        let label = if r.get("counts").is_some() {
            format!("{}. {}", text(&r["position"]), text(&r["title"]))
        } else {
            "Total".to_owned()
        };
        h.push_str(&format!("<tr><td>{}</td>", esc(&label)));
        for key in [
            "expected",
            "complete",
            "onTarget",
            "incomplete",
            "removed",
            "notStarted",
        ] {
            let pct = c[format!("{key}Percent").as_str()].as_f64();
            let cell = match pct {
                Some(p) => format!("{} ({p:.1}%)", text(&c[key])),
                None => text(&c[key]),
            };
            h.push_str(&format!("<td class=\"n\">{}</td>", esc(&cell)));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    let removed = list(&progress["removedActions"]);
    if !removed.is_empty() {
        h.push_str("<h3>Removed by decision</h3><table><tr><th>Ref</th><th>Action</th><th>Reason</th><th>Decided by</th><th>On</th></tr>");
        for a in removed {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&text(&a["ref"])),
                esc(&text(&a["title"])),
                esc(&text(&a["reason"])),
                esc(&text(&a["decidedBy"])),
                esc(&text(&a["decidedOn"]))
            ));
        }
        h.push_str("</table>");
    }
    let incomplete = list(&progress["incompleteActions"]);
    if !incomplete.is_empty() {
        h.push_str(
            "<h3>Incomplete</h3><table><tr><th>Ref</th><th>Action</th><th>Commentary</th></tr>",
        );
        for a in incomplete {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&text(&a["ref"])),
                esc(&text(&a["title"])),
                esc(&text(&a["commentary"]))
            ));
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
    h
}

fn page(title: &str, meta: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><header><h1>{}</h1><p class=\"meta\">{}</p></header>{body}</body></html>",
        esc(title),
        esc(title),
        esc(meta)
    )
}

/// The RAG's quarterly update as a page.
pub fn rag_page(v: &Value) -> String {
    let progress = &v["progress"];
    let plan = &progress["plan"];
    let mut body = progress_section(
        progress,
        &format!("Progress at {}", text(&progress["asAt"])),
    );
    let since = match v["previousQuarter"].as_str() {
        Some(q) => format!("the end of {q}"),
        None => "the start of the year".to_owned(),
    };
    body.push_str(&format!(
        "<section id=\"changes\"><h2>Changes since {}</h2><table><tr><th>Ref</th><th>From</th><th>To</th></tr>",
        esc(&since)
    ));
    let changes = list(&v["changes"]);
    if changes.is_empty() {
        body.push_str(&none_row(3, "No action changed its status."));
    }
    for c in changes {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&text(&c["ref"])),
            esc(&label(&c["from"])),
            esc(&label(&c["to"]))
        ));
    }
    body.push_str("</table></section><section id=\"past-target\"><h2>Past their target date</h2><table><tr><th>Ref</th><th>Action</th><th>Target</th><th>Status</th><th>Lead</th></tr>");
    let past = list(&v["pastTarget"]);
    if past.is_empty() {
        body.push_str(&none_row(5, "No action is past its target date."));
    }
    for a in past {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&text(&a["ref"])),
            esc(&text(&a["title"])),
            esc(&text(&a["targetDate"])),
            esc(&label(&a["status"])),
            esc(&text(&a["leadAgency"]))
        ));
    }
    body.push_str(&format!(
        "</table></section><section id=\"indicators\"><h2>Indicators: {} to {} against {} to {}</h2>",
        esc(&text(&v["period"]["from"])),
        esc(&text(&v["period"]["to"])),
        esc(&text(&v["comparedWith"]["from"])),
        esc(&text(&v["comparedWith"]["to"]))
    ));
    if list(&v["indicators"])
        .iter()
        .all(|p| list(&p["indicators"]).is_empty())
    {
        body.push_str("<p class=\"none\">No indicator is linked to the plan's priorities.</p>");
    }
    for p in list(&v["indicators"]) {
        let rows = list(&p["indicators"]);
        if rows.is_empty() {
            continue;
        }
        body.push_str(&format!(
            "<h3>{}. {}</h3><table><tr><th>Indicator</th><th class=\"n\">This quarter</th><th class=\"n\">A year earlier</th><th class=\"n\">Change</th><th class=\"n\">%</th></tr>",
            esc(&text(&p["position"])),
            esc(&text(&p["title"]))
        ));
        for i in rows {
            let w = i["suppressed"] == true;
            body.push_str(&format!(
                "<tr><td>{}</td>{}{}{}{}</tr>",
                esc(&text(&i["indicator"]["name"])),
                num(&i["count"], w),
                num(&i["previousCount"], w),
                num(&i["change"], w),
                num(&i["changePercent"], w)
            ));
        }
        body.push_str("</table>");
        let points: Vec<Value> = rows
            .iter()
            .map(|i| {
                serde_json::json!({"quarter": i["indicator"]["code"], "count": i["count"],
                    "suppressed": i["suppressed"], "yearEarlierCount": i["previousCount"],
                    "yearEarlierSuppressed": i["suppressed"]})
            })
            .collect();
        if points
            .iter()
            .any(|q| q["count"].is_i64() || q["yearEarlierCount"].is_i64())
        {
            body.push_str(&trend_chart(&text(&p["title"]), &points));
        }
    }
    body.push_str("</section>");
    page(
        &format!("RAG update: {}", text(&plan["title"])),
        &format!(
            "{} at the end of {}; produced from the records{}",
            text(&plan["partnership"]),
            text(&v["progress"]["quarter"]),
            if v["suppressionApplied"] == true {
                "; small figures withheld"
            } else {
                ""
            }
        ),
        &body,
    )
}

/// The PCC's twice-yearly report as a page.
pub fn pcc_page(v: &Value) -> String {
    let mut body = String::new();
    if v["progress"].is_object() {
        body.push_str(&progress_section(
            &v["progress"],
            &format!("Progress at {}", text(&v["progress"]["asAt"])),
        ));
    } else {
        body.push_str(
            "<section id=\"progress\"><h2>Progress</h2><p>No plan for the year.</p></section>",
        );
    }
    body.push_str("<section id=\"indicators\"><h2>Indicators by quarter</h2>");
    if list(&v["indicators"])
        .iter()
        .all(|p| list(&p["indicators"]).is_empty())
    {
        body.push_str("<p class=\"none\">No indicator is linked to the plan's priorities.</p>");
    }
    for p in list(&v["indicators"]) {
        for i in list(&p["indicators"]) {
            let name = text(&i["indicator"]["name"]);
            body.push_str(&format!(
                "<h3>{}. {}: {}</h3>",
                esc(&text(&p["position"])),
                esc(&text(&p["title"])),
                esc(&name)
            ));
            let quarters = list(&i["quarters"]);
            if quarters
                .iter()
                .any(|q| q["count"].is_i64() || q["yearEarlierCount"].is_i64())
            {
                body.push_str(&trend_chart(&name, quarters));
            } else {
                body.push_str(
                    "<p class=\"withheld\">Every figure of this indicator is withheld.</p>",
                );
            }
            body.push_str("<table><tr><th>Quarter</th><th class=\"n\">Count</th><th class=\"n\">A year earlier</th><th class=\"n\">%</th></tr>");
            for q in quarters {
                body.push_str(&format!(
                    "<tr><td>{}</td>{}{}{}</tr>",
                    esc(&text(&q["quarter"])),
                    num(&q["count"], q["suppressed"] == true),
                    num(&q["yearEarlierCount"], q["yearEarlierSuppressed"] == true),
                    num(&q["changePercent"], false)
                ));
            }
            body.push_str("</table>");
        }
    }
    body.push_str("</section><section id=\"grants\"><h2>Grants and spend</h2><table><tr><th>Purpose</th><th>Funder</th><th>Awarded</th><th class=\"n\">Amount</th><th class=\"n\">Spent</th><th class=\"n\">Left</th><th>Funded actions</th></tr>");
    let grants = list(&v["grants"]);
    if grants.is_empty() {
        body.push_str(&none_row(7, "No grant is recorded."));
    }
    for g in grants {
        let actions: Vec<String> = list(&g["fundedActions"])
            .iter()
            .map(|a| format!("{} ({})", text(&a["ref"]), label(&a["status"])))
            .collect();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&text(&g["purpose"])),
            esc(&text(&g["funder"])),
            esc(&text(&g["awardedOn"])),
            pounds(&g["amountPence"]),
            pounds(&g["spentPence"]),
            pounds(&g["remainingPence"]),
            esc(&actions.join(", "))
        ));
    }
    body.push_str("</table></section><section id=\"surveys\"><h2>Survey results</h2><table><tr><th>Survey</th><th>Year</th><th>Question</th><th class=\"n\">%</th><th class=\"n\">Sample</th></tr>");
    let surveys = list(&v["surveys"]);
    if surveys.is_empty() {
        body.push_str(&none_row(5, "No survey result is recorded."));
    }
    for s in surveys {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}</tr>",
            esc(&text(&s["survey"])),
            esc(&text(&s["year"])),
            esc(&text(&s["question"])),
            num(&s["percentage"], false),
            num(&s["sampleSize"], false)
        ));
    }
    body.push_str("</table></section><section id=\"completeness\"><h2>Data completeness</h2>");
    let missing = list(&v["missingMonths"]);
    if missing.is_empty() {
        body.push_str("<p>Every pushing partner holds records for every month of the half.</p>");
    } else {
        body.push_str("<table><tr><th>Agency</th><th>Month with no records</th></tr>");
        for m in missing {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&text(&m["agency"])),
                esc(&text(&m["month"]))
            ));
        }
        body.push_str("</table>");
    }
    body.push_str("</section>");
    page(
        &format!(
            "PCC report: {} {} ({} half)",
            text(&v["partnership"]),
            text(&v["financialYear"]),
            text(&v["half"]).to_lowercase()
        ),
        &format!(
            "{} to {}; produced from the records{}",
            text(&v["period"]["from"]),
            text(&v["period"]["to"]),
            if v["suppressionApplied"] == true {
                "; counts of 1 to 4 withheld, with further counts so that each withheld one could still be any of at least three values"
            } else {
                ""
            }
        ),
        &body,
    )
}

/// The strategic assessment as a page.
pub fn assessment_page(v: &Value) -> String {
    let mut body = String::from(
        "<section id=\"indicators\"><h2>Indicators</h2><table><tr><th>Indicator</th><th class=\"n\">Count</th><th class=\"n\">Previous</th><th class=\"n\">Change</th><th class=\"n\">%</th><th class=\"n\">Per 1,000</th><th class=\"n\">County rank</th></tr>",
    );
    let indicators = list(&v["indicators"]);
    if indicators.is_empty() {
        body.push_str(&none_row(7, "The partnership has no indicator."));
    }
    for i in indicators {
        let w = i["suppressed"] == true;
        let rank = match i["rank"].as_i64() {
            Some(r) => format!("{r} of {}", text(&i["ranked"])),
            None => String::new(),
        };
        body.push_str(&format!(
            "<tr><td>{}</td>{}{}{}{}{}<td class=\"n\">{}</td></tr>",
            esc(&text(&i["indicator"]["name"])),
            num(&i["count"], w),
            num(&i["previousCount"], w),
            num(&i["change"], w),
            num(&i["changePercent"], w),
            num(&i["ratePerThousand"], w),
            esc(&rank)
        ));
    }
    body.push_str("</table></section>");
    page(
        &format!("Strategic assessment: {}", text(&v["partnership"])),
        &format!(
            "{} to {} against {} to {}; population {} (mid-{} estimate); ranks among {} partnerships of {}",
            text(&v["window"]["from"]),
            text(&v["window"]["to"]),
            text(&v["previousWindow"]["from"]),
            text(&v["previousWindow"]["to"]),
            text(&v["population"]),
            text(&v["populationYear"]),
            text(&v["countyPartnerships"]),
            text(&v["county"])
        ),
        &body,
    )
}

fn html(body: String) -> Response {
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    res
}

fn answer(result: Result<Value, AppError>, render: fn(&Value) -> String) -> Response {
    match result {
        Ok(v) => html(render(&v)),
        Err(e) => e.into_response(),
    }
}

/// `GET /reports/rag-update?planId=...&quarter=2014/15 Q3`
pub async fn rag_update_page(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Result<Query<RagParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(
        super::report::rag_json(&state, token, params).await,
        rag_page,
    )
}

/// `GET /reports/pcc-report?financialYear=2014/15&half=SECOND`
pub async fn pcc_report_page(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Result<Query<PccParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(
        super::report::pcc_json(&state, token, params).await,
        pcc_page,
    )
}

/// `GET /reports/strategic-assessment?from=2013-08-01&to=2014-07-31`
pub async fn assessment_page_handler(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    params: Result<Query<AssessmentParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    answer(
        super::report::assessment_json(&state, token, params).await,
        assessment_page,
    )
}

/// `GET /reports/submissions/{id}`: a submitted report as it was sent.
pub async fn submission_page(
    State(state): State<Arc<AppState>>,
    token: Result<Bearer, AppError>,
    Path(id): Path<String>,
) -> Response {
    submission_answer(super::report::submission_json(&state, token, &id).await)
}

fn submission_answer(result: Result<(String, Value), AppError>) -> Response {
    match result {
        Ok((kind, v)) => html(match kind.as_str() {
            "RAG_UPDATE" => rag_page(&v),
            "PCC_REPORT" => pcc_page(&v),
            _ => assessment_page(&v),
        }),
        Err(e) => e.into_response(),
    }
}

/// `GET /reports/link/{link}`: the one report a link from `createReportLink` opens, in a
/// browser without an `Authorization` header, until the link expires. The opening is written to
/// the audit log (REPORT_LINK_OPENED) before the report is produced: no entry, no report. The
/// page is not to be kept by caches, and it sends no referrer (the link is in its address).
pub async fn report_link_page(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
) -> Response {
    let mut res = match open_link(&state, &link).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    };
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The longest link this service makes is well under this; anything longer is not one.
const LINK_MAX_BYTES: usize = 4096;

async fn open_link(state: &Arc<AppState>, text: &str) -> Result<Response, AppError> {
    if text.len() > LINK_MAX_BYTES {
        return Err(AppError::Unauthenticated(
            "the report link is not valid: ask for a new one (createReportLink)".to_owned(),
        ));
    }
    let key = db::report_link::key(&state.db).await?;
    let claims = link::verify(text, &key)?;
    let role = claims.role()?;
    let token_claims = claims.token_claims();
    state
        .limits
        .take_caller(&token_claims.iss, &token_claims.sub, Budget::Requests)?;
    let token = || VerifiedToken {
        claims: token_claims.clone(),
        role,
        caps: Vec::new(),
    };
    let entry = serde_json::json!({"page": claims.page, "query": claims.query});
    let (partnership_id, jti) = (claims.partnership_id, claims.jti.to_string());
    scope::run(
        state.clone(),
        token(),
        Scope::WRITE,
        true,
        move |txn, p| async move {
            db::audit::record(
                txn.txn()?,
                &p,
                partnership_id,
                db::audit::Action::ReportLinkOpened,
                Some(("report_link", jti)),
                entry,
            )
            .await
        },
    )
    .await?;
    let uri: axum::http::Uri = format!("{}?{}", claims.page, claims.query)
        .parse()
        .map_err(AppError::internal)?;
    let bearer = Ok(Bearer(token()));
    Ok(match claims.page.as_str() {
        "/reports/rag-update" => answer(
            super::report::rag_json(state, bearer, Query::try_from_uri(&uri)).await,
            rag_page,
        ),
        "/reports/pcc-report" => answer(
            super::report::pcc_json(state, bearer, Query::try_from_uri(&uri)).await,
            pcc_page,
        ),
        "/reports/strategic-assessment" => answer(
            super::report::assessment_json(state, bearer, Query::try_from_uri(&uri)).await,
            assessment_page,
        ),
        page => {
            let id = page.strip_prefix("/reports/submissions/").unwrap_or(page);
            submission_answer(super::report::submission_json(state, bearer, id).await)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_read_as_words_and_empty_tables_say_so() {
        assert_eq!(label(&json!("ON_TARGET")), "On target");
        assert_eq!(label(&json!("NOT_STARTED")), "Not started");
        assert_eq!(label(&json!("COMPLETE")), "Complete");
        let html = rag_page(&json!({
            "progress": {"plan": {"title": "Plan"}, "asAt": "2014-12-31", "quarter": "2014/15 Q3",
                          "priorities": [], "total": {}},
            "previousQuarter": "2014/15 Q2",
            "changes": [{"ref": "1.1", "from": "NOT_STARTED", "to": "ON_TARGET"}],
            "pastTarget": [],
            "period": {"from": "2014-10-01", "to": "2014-12-31"},
            "comparedWith": {"from": "2013-10-01", "to": "2013-12-31"},
            "indicators": [],
        }));
        assert!(
            html.contains("<td>Not started</td><td>On target</td>"),
            "{html}"
        );
        assert!(!html.contains("ON_TARGET"), "{html}");
        assert!(
            html.contains("No action is past its target date."),
            "{html}"
        );
        assert!(html.contains("No indicator is linked"), "{html}");
        let html = pcc_page(&json!({"indicators": [], "grants": [], "surveys": [],
                                    "missingMonths": [], "period": {}}));
        assert!(html.contains("No grant is recorded."), "{html}");
        assert!(html.contains("No survey result is recorded."), "{html}");
    }
}
