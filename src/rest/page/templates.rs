//! The printable pages' HTML, written with maud: every value is escaped by the template (a
//! partner's text cannot open a tag), and invisible characters are shown as `<U+...>` first
//! (`domain::text::visible`). Pages render the same JSON as the CSV and GraphQL forms, so the
//! three carry the same numbers; a submitted report's content, kept as it was sent, renders
//! through the same templates.

use std::sync::Arc;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use super::choropleth;

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

/// A JSON value as text: a string as it is, null as nothing, anything else as JSON writes it.
pub(super) fn raw(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Text for people: invisible characters shown as `<U+...>` (after any change of case or cut,
/// so the marker stays whole and as written).
pub(super) fn shown(s: &str) -> String {
    crate::domain::text::visible(s).into_owned()
}

/// A JSON value as text for people ([`raw`], then [`shown`]).
pub(super) fn text(v: &Value) -> String {
    shown(&raw(v))
}

/// A number cell; withheld figures say so.
pub(super) fn num(v: &Value, withheld: bool) -> Markup {
    html! {
        @if v.is_null() && withheld {
            td.n.withheld { "withheld" }
        } @else if v.is_null() {
            td.n { (PreEscaped("&ndash;")) }
        } @else {
            td.n { (text(v)) }
        }
    }
}

/// A status code as words for people: `ON_TARGET` is "On target".
fn label(v: &Value) -> String {
    let code = raw(v);
    let mut words = code.replace('_', " ").to_lowercase();
    if let Some(first) = words.get(..1) {
        let upper = first.to_uppercase();
        words.replace_range(..1, &upper);
    }
    shown(&words)
}

/// The row a table shows when it has no others, saying so in words.
fn none_row(columns: usize, what: &str) -> Markup {
    html! { tr { td.none colspan=(columns) { (what) } } }
}

pub(super) fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Pence as pounds with thousands grouped: `&pound;30,000.00`.
fn pounds(pence: &Value) -> Markup {
    let p = pence.as_i64().unwrap_or(0);
    let mut digits = (p / 100).to_string();
    let mut grouped = String::new();
    while digits.len() > 3 {
        let tail = digits.split_off(digits.len() - 3);
        grouped = format!(",{tail}{grouped}");
    }
    html! { (PreEscaped("&pound;")) (digits) (grouped) "." (format!("{:02}", p % 100)) }
}

/// One decimal place, as the charts' coordinates are written.
pub(super) fn f1(x: f64) -> String {
    format!("{x:.1}")
}

const STATUSES: [(&str, &str, &str); 5] = [
    ("complete", "Complete", "#2e7d32"),
    ("onTarget", "On target", "#1565c0"),
    ("incomplete", "Incomplete", "#c62828"),
    ("removed", "Removed", "#757575"),
    ("notStarted", "Not started", "#f9a825"),
];

/// Status by priority as stacked bars, one per priority, each as long as its expected outcomes.
fn status_chart(progress: &Value) -> Markup {
    let rows = list(&progress["priorities"]);
    let most = rows
        .iter()
        .map(|r| r["counts"]["expected"].as_i64().unwrap_or(0))
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_w, bar_w, row_h) = (230.0, 400.0, 24.0);
    let height = row_h * rows.len() as f64 + 10.0;
    let width = label_w + bar_w + 40.0;
    html! {
        svg.chart.status xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (height) }
            width=(width) height=(height) role="img" aria-label="Status by priority" {
            @for (i, r) in rows.iter().enumerate() {
                @let y = 5.0 + row_h * i as f64;
                @let whole = format!("{}. {}", raw(&r["position"]), raw(&r["title"]));
                @let short = shown(&whole.chars().take(34).collect::<String>());
                @let title = shown(&whole);
                @let (segments, end) = stack(&r["counts"], label_w, bar_w, most);
                text x="0" y=(y + 15.0) font-size="11" { (short) }
                @for Segment { x, w, n, name, colour } in segments {
                    rect.bar x=(f1(x)) y=(y) width=(f1(w)) height=(row_h - 6.0) fill=(colour) {
                        title { (title) ": " (name) " " (n) }
                    }
                    @if w > 14.0 {
                        text x=(f1(x + w / 2.0)) y=(y + 13.0) font-size="10" fill="#fff" text-anchor="middle" { (n) }
                    }
                }
                text x=(f1(end + 4.0)) y=(y + 13.0) font-size="10" { (text(&r["counts"]["expected"])) }
            }
        }
        div.legend {
            @for (_, name, colour) in STATUSES {
                span { i style={ "background:" (colour) } {} (name) }
            }
        }
    }
}

/// One status's part of a priority's stacked bar.
struct Segment {
    x: f64,
    w: f64,
    n: i64,
    name: &'static str,
    colour: &'static str,
}

/// A priority's stacked bar: a segment for each status with any actions, from `x0`, the most
/// expected outcomes of any priority `bar_w` long; and where the bar ends.
fn stack(counts: &Value, x0: f64, bar_w: f64, most: i64) -> (Vec<Segment>, f64) {
    let mut x = x0;
    let mut segments = Vec::new();
    for (key, name, colour) in STATUSES {
        let n = counts[key].as_i64().unwrap_or(0);
        if n > 0 {
            let w = bar_w * n as f64 / most as f64;
            segments.push(Segment {
                x,
                w,
                n,
                name,
                colour,
            });
            x += w;
        }
    }
    (segments, x)
}

/// An indicator's trend: per quarter, this year's count beside the same quarter a year earlier.
fn trend_chart(name: &str, quarters: &[Value]) -> Markup {
    let most = quarters
        .iter()
        .flat_map(|q| [q["count"].as_i64(), q["yearEarlierCount"].as_i64()])
        .flatten()
        .max()
        .unwrap_or(0)
        .max(1);
    let (h, group_w, bar_w) = (120.0, 90.0, 30.0);
    let width = 40.0 + group_w * quarters.len() as f64;
    let bars = [
        (
            "yearEarlierCount",
            "yearEarlierSuppressed",
            "#9e9e9e",
            "a year earlier",
        ),
        ("count", "suppressed", "#1565c0", ""),
    ];
    html! {
        svg.chart.trend xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (h + 40.0) }
            width=(width) height=(h + 40.0) role="img" aria-label={ (name) " by quarter" } {
            line x1="30" y1=(h) x2=(width) y2=(h) stroke="#444" {}
            text x="0" y="12" font-size="9" { (most) }
            text x="0" y=(h) font-size="9" { "0" }
            @for (i, q) in quarters.iter().enumerate() {
                @let x0 = 40.0 + group_w * i as f64;
                @for (j, (key, withheld, colour, when)) in bars.iter().enumerate() {
                    @let x = x0 + bar_w * j as f64;
                    @let middle = f1(x + (bar_w - 4.0) / 2.0);
                    @if let Some(n) = q[*key].as_i64() {
                        @let bh = (h - 10.0) * n as f64 / most as f64;
                        rect.bar x=(f1(x)) y=(f1(h - bh)) width=(bar_w - 4.0) height=(f1(bh)) fill=(colour) {
                            title { (text(&q["quarter"])) " " (when) ": " (n) }
                        }
                        text x=(middle) y=(f1(h - bh - 2.0)) font-size="9" text-anchor="middle" { (n) }
                    } @else {
                        text x=(middle) y=(f1(h - 3.0)) font-size="9" text-anchor="middle" fill="#777" {
                            @if q[*withheld] == true { "w/h" } @else { "-" }
                        }
                    }
                }
                text x=(f1(x0 + bar_w)) y=(h + 15.0) font-size="10" text-anchor="middle" { (text(&q["quarter"])) }
            }
        }
        div.legend {
            span { i style="background:#1565c0" {} "this year" }
            span { i style="background:#9e9e9e" {} "a year earlier" }
            span { "w/h: withheld" }
        }
    }
}

const PROGRESS_COLUMNS: [&str; 6] = [
    "expected",
    "complete",
    "onTarget",
    "incomplete",
    "removed",
    "notStarted",
];

fn progress_section(progress: &Value, heading: &str) -> Markup {
    let priorities = list(&progress["priorities"]);
    let removed = list(&progress["removedActions"]);
    let incomplete = list(&progress["incompleteActions"]);
    html! {
        section #progress {
            h2 { (heading) }
            (status_chart(progress))
            table {
                tr {
                    th { "Priority" } th.n { "Expected" } th.n { "Complete" } th.n { "On target" }
                    th.n { "Incomplete" } th.n { "Removed" } th.n { "Not started" }
                }
                @for r in priorities.iter().chain([&progress["total"]]) {
                    @let counts = if r.get("counts").is_some() { &r["counts"] } else { r };
                    tr {
                        td {
                            @if r.get("counts").is_some() {
                                (text(&r["position"])) ". " (text(&r["title"]))
                            } @else {
                                "Total"
                            }
                        }
                        @for key in PROGRESS_COLUMNS {
                            td.n {
                                (text(&counts[key]))
                                @if let Some(p) = counts[format!("{key}Percent").as_str()].as_f64() {
                                    " (" (format!("{p:.1}")) "%)"
                                }
                            }
                        }
                    }
                }
            }
            @if !removed.is_empty() {
                h3 { "Removed by decision" }
                table {
                    tr { th { "Ref" } th { "Action" } th { "Reason" } th { "Decided by" } th { "On" } }
                    @for a in removed {
                        tr {
                            td { (text(&a["ref"])) } td { (text(&a["title"])) } td { (text(&a["reason"])) }
                            td { (text(&a["decidedBy"])) } td { (text(&a["decidedOn"])) }
                        }
                    }
                }
            }
            @if !incomplete.is_empty() {
                h3 { "Incomplete" }
                table {
                    tr { th { "Ref" } th { "Action" } th { "Commentary" } }
                    @for a in incomplete {
                        tr { td { (text(&a["ref"])) } td { (text(&a["title"])) } td { (text(&a["commentary"])) } }
                    }
                }
            }
        }
    }
}

fn page(title: &str, meta: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { h1 { (title) } p.meta { (meta) } }
                (body)
            }
        }
    }
    .into_string()
}

/// Whether every priority of an indicators list has none.
fn no_indicators(v: &Value) -> bool {
    list(&v["indicators"])
        .iter()
        .all(|p| list(&p["indicators"]).is_empty())
}

/// The RAG's quarterly update as a page.
pub fn rag_page(v: &Value) -> String {
    let progress = &v["progress"];
    let plan = &progress["plan"];
    let since = match v["previousQuarter"].as_str() {
        Some(q) => format!("the end of {q}"),
        None => "the start of the year".to_owned(),
    };
    let changes = list(&v["changes"]);
    let past = list(&v["pastTarget"]);
    let body = html! {
        (progress_section(progress, &format!("Progress at {}", text(&progress["asAt"]))))
        section #changes {
            h2 { "Changes since " (shown(&since)) }
            table {
                tr { th { "Ref" } th { "From" } th { "To" } }
                @if changes.is_empty() { (none_row(3, "No action changed its status.")) }
                @for c in changes {
                    tr { td { (text(&c["ref"])) } td { (label(&c["from"])) } td { (label(&c["to"])) } }
                }
            }
        }
        section #past-target {
            h2 { "Past their target date" }
            table {
                tr { th { "Ref" } th { "Action" } th { "Target" } th { "Status" } th { "Lead" } }
                @if past.is_empty() { (none_row(5, "No action is past its target date.")) }
                @for a in past {
                    tr {
                        td { (text(&a["ref"])) } td { (text(&a["title"])) } td { (text(&a["targetDate"])) }
                        td { (label(&a["status"])) } td { (text(&a["leadAgency"])) }
                    }
                }
            }
        }
        section #indicators {
            h2 {
                "Indicators: " (text(&v["period"]["from"])) " to " (text(&v["period"]["to"]))
                " against " (text(&v["comparedWith"]["from"])) " to " (text(&v["comparedWith"]["to"]))
            }
            @if no_indicators(v) {
                p.none { "No indicator is linked to the plan's priorities." }
            }
            @for p in list(&v["indicators"]) {
                @let rows = list(&p["indicators"]);
                @if !rows.is_empty() {
                    h3 { (text(&p["position"])) ". " (text(&p["title"])) }
                    table {
                        tr {
                            th { "Indicator" } th.n { "This quarter" } th.n { "A year earlier" }
                            th.n { "Change" } th.n { "%" }
                        }
                        @for i in rows {
                            @let w = i["suppressed"] == true;
                            tr {
                                td { (text(&i["indicator"]["name"])) }
                                (num(&i["count"], w)) (num(&i["previousCount"], w))
                                (num(&i["change"], w)) (num(&i["changePercent"], w))
                            }
                        }
                    }
                    @let points: Vec<Value> = rows.iter().map(|i| serde_json::json!({
                        "quarter": i["indicator"]["code"], "count": i["count"],
                        "suppressed": i["suppressed"], "yearEarlierCount": i["previousCount"],
                        "yearEarlierSuppressed": i["suppressed"]})).collect();
                    @if points.iter().any(|q| q["count"].is_i64() || q["yearEarlierCount"].is_i64()) {
                        (trend_chart(&text(&p["title"]), &points))
                    }
                }
            }
        }
    };
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
        body,
    )
}

/// The PCC's twice-yearly report as a page.
pub fn pcc_page(v: &Value) -> String {
    let grants = list(&v["grants"]);
    let surveys = list(&v["surveys"]);
    let missing = list(&v["missingMonths"]);
    let body = html! {
        @if v["progress"].is_object() {
            (progress_section(&v["progress"], &format!("Progress at {}", text(&v["progress"]["asAt"]))))
        } @else {
            section #progress { h2 { "Progress" } p { "No plan for the year." } }
        }
        section #indicators {
            h2 { "Indicators by quarter" }
            @if no_indicators(v) {
                p.none { "No indicator is linked to the plan's priorities." }
            }
            @for p in list(&v["indicators"]) {
                @for i in list(&p["indicators"]) {
                    @let name = text(&i["indicator"]["name"]);
                    @let quarters = list(&i["quarters"]);
                    h3 { (text(&p["position"])) ". " (text(&p["title"])) ": " (name) }
                    @if quarters.iter().any(|q| q["count"].is_i64() || q["yearEarlierCount"].is_i64()) {
                        (trend_chart(&name, quarters))
                    } @else {
                        p.withheld { "Every figure of this indicator is withheld." }
                    }
                    table {
                        tr { th { "Quarter" } th.n { "Count" } th.n { "A year earlier" } th.n { "%" } }
                        @for q in quarters {
                            tr {
                                td { (text(&q["quarter"])) }
                                (num(&q["count"], q["suppressed"] == true))
                                (num(&q["yearEarlierCount"], q["yearEarlierSuppressed"] == true))
                                (num(&q["changePercent"], false))
                            }
                        }
                    }
                }
            }
        }
        section #grants {
            h2 { "Grants and spend" }
            table {
                tr {
                    th { "Purpose" } th { "Funder" } th { "Awarded" } th.n { "Amount" } th.n { "Spent" }
                    th.n { "Left" } th { "Funded actions" }
                }
                @if grants.is_empty() { (none_row(7, "No grant is recorded.")) }
                @for g in grants {
                    @let actions: Vec<String> = list(&g["fundedActions"]).iter()
                        .map(|a| format!("{} ({})", text(&a["ref"]), label(&a["status"]))).collect();
                    tr {
                        td { (text(&g["purpose"])) } td { (text(&g["funder"])) } td { (text(&g["awardedOn"])) }
                        td.n { (pounds(&g["amountPence"])) } td.n { (pounds(&g["spentPence"])) }
                        td.n { (pounds(&g["remainingPence"])) } td { (actions.join(", ")) }
                    }
                }
            }
        }
        section #surveys {
            h2 { "Survey results" }
            table {
                tr { th { "Survey" } th { "Year" } th { "Question" } th.n { "%" } th.n { "Sample" } }
                @if surveys.is_empty() { (none_row(5, "No survey result is recorded.")) }
                @for s in surveys {
                    tr {
                        td { (text(&s["survey"])) } td { (text(&s["year"])) } td { (text(&s["question"])) }
                        (num(&s["percentage"], false)) (num(&s["sampleSize"], false))
                    }
                }
            }
        }
        section #completeness {
            h2 { "Data completeness" }
            @if missing.is_empty() {
                p { "Every pushing partner holds records for every month of the half." }
            } @else {
                table {
                    tr { th { "Agency" } th { "Month with no records" } }
                    @for m in missing {
                        tr { td { (text(&m["agency"])) } td { (text(&m["month"])) } }
                    }
                }
            }
        }
    };
    page(
        &format!(
            "PCC report: {} {} ({} half)",
            text(&v["partnership"]),
            text(&v["financialYear"]),
            shown(&raw(&v["half"]).to_lowercase())
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
        body,
    )
}

/// The strategic assessment as a page: its indicators, their change and county rank as charts,
/// and its areas as a map drawn from `shapes` (each area's LSOA boundaries; none for a report
/// as it was submitted, whose map is not kept).
pub fn assessment_page(v: &Value, shapes: &[(String, Vec<Arc<Value>>)]) -> String {
    let indicators = list(&v["indicators"]);
    let areas = list(&v["areas"]);
    let body = html! {
        section #indicators {
            h2 { "Indicators" }
            table {
                tr {
                    th { "Indicator" } th.n { "Count" } th.n { "Previous" } th.n { "Change" } th.n { "%" }
                    th.n { "Per 1,000" } th.n { "County rank" }
                }
                @if indicators.is_empty() { (none_row(7, "The partnership has no indicator.")) }
                @for i in indicators {
                    @let w = i["suppressed"] == true;
                    tr {
                        td { (text(&i["indicator"]["name"])) }
                        (num(&i["count"], w)) (num(&i["previousCount"], w)) (num(&i["change"], w))
                        (num(&i["changePercent"], w)) (num(&i["ratePerThousand"], w))
                        td.n {
                            @if let Some(r) = i["rank"].as_i64() { (r) " of " (text(&i["ranked"])) }
                        }
                    }
                }
            }
        }
        @if !indicators.is_empty() {
            section #change {
                h2 { "Change by indicator" }
                (choropleth::change_chart(indicators))
            }
            section #rank {
                h2 { "County rank" }
                (choropleth::rank_chart(indicators))
            }
        }
        @if !areas.is_empty() {
            section #map {
                h2 { "Records by area" }
                @if shapes.is_empty() {
                    p.none { "The map is drawn when the report is produced; a report as it was submitted is shown without it." }
                } @else {
                    (choropleth::area_map(areas, shapes))
                }
                table {
                    tr { th { "Area" } th.n { "Count" } th.n { "Previous" } th.n { "%" } }
                    @for a in areas {
                        @let w = a["suppressed"] == true;
                        tr {
                            td { (text(&a["name"])) }
                            (num(&a["count"], w)) (num(&a["previousCount"], w)) (num(&a["changePercent"], w))
                        }
                    }
                }
            }
        }
    };
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
        body,
    )
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
        // An invisible character is shown as written, after the change of case.
        assert_eq!(label(&json!("ON\u{202e}TARGET")), "On<U+202E>target");
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

    #[test]
    fn partners_text_is_escaped_and_invisible_characters_shown() {
        let html = assessment_page(
            &json!({
                "partnership": "<script>x</script>",
                "indicators": [{"indicator": {"name": "A & B \u{202e}evil"}, "count": 3,
                                "suppressed": false, "rank": 2, "ranked": 10}],
            }),
            &[],
        );
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(html.contains("A &amp; B &lt;U+202E&gt;evil"), "{html}");
        assert!(html.contains("<td class=\"n\">2 of 10</td>"), "{html}");
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{html}"
        );
    }
}
