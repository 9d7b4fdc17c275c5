//! `deflect eval --report out.html`: one self-contained page (inline SVG, no scripts) with the
//! metrics table, the precision-coverage curve, a reliability diagram and the worst misses.

use super::{QueryResult, Summary};
use crate::search::html_escape;

fn svg_curve(points: &[(f64, f64)], x_label: &str, y_label: &str, diagonal: bool) -> String {
    let (w, h, pad) = (360.0, 240.0, 36.0);
    let px = |x: f64| pad + x.clamp(0.0, 1.0) * (w - 2.0 * pad);
    let py = |y: f64| h - pad - y.clamp(0.0, 1.0) * (h - 2.0 * pad);
    let mut s = format!("<svg width='{w}' height='{h}' xmlns='http://www.w3.org/2000/svg' style='background:#fafafa;border:1px solid #ddd'>");
    s.push_str(&format!(
        "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#999'/>",
        px(0.0),
        py(0.0),
        px(1.0),
        py(0.0)
    ));
    s.push_str(&format!(
        "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#999'/>",
        px(0.0),
        py(0.0),
        px(0.0),
        py(1.0)
    ));
    if diagonal {
        s.push_str(&format!(
            "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#ccc' stroke-dasharray='4'/>",
            px(0.0),
            py(0.0),
            px(1.0),
            py(1.0)
        ));
    }
    let pts: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
        .collect();
    s.push_str(&format!(
        "<polyline fill='none' stroke='#2a6fdb' stroke-width='2' points='{}'/>",
        pts.join(" ")
    ));
    for (x, y) in points {
        s.push_str(&format!(
            "<circle cx='{:.1}' cy='{:.1}' r='3' fill='#2a6fdb'/>",
            px(*x),
            py(*y)
        ));
    }
    s.push_str(&format!(
        "<text x='{}' y='{}' font-size='11' text-anchor='middle'>{x_label}</text>",
        w / 2.0,
        h - 6.0
    ));
    s.push_str(&format!("<text x='12' y='{}' font-size='11' transform='rotate(-90 12 {})' text-anchor='middle'>{y_label}</text>", h / 2.0, h / 2.0));
    s.push_str("</svg>");
    s
}

/// Renders the report page.
pub fn render(summaries: &[Summary], results: &[(String, Vec<QueryResult>)]) -> String {
    let mut s = String::from("<!doctype html><html><head><meta charset='utf-8'><title>deflect eval</title><style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;vertical-align:top}th{background:#f0f0f0}.bad{color:#b00}</style></head><body><h1>deflect relevance report</h1>");
    s.push_str("<table><tr><th>set</th><th>split</th><th>n</th><th>MRR@10</th><th>R@1</th><th>R@3</th><th>R@10</th><th>nDCG@10</th><th>p50 ms</th><th>p99 ms</th></tr>");
    for x in summaries {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            html_escape(&x.set), x.split, x.n, x.mrr10, x.r1, x.r3, x.r10, x.ndcg10, x.p50_ms, x.p99_ms
        ));
    }
    s.push_str("</table>");
    for x in summaries.iter().filter(|x| x.split == "all") {
        if let Some(d) = &x.decisions {
            s.push_str(&format!("<h2>Decisions: {}</h2><p>auto_reply precision {:.3}, coverage {:.3}; clarify rate {:.3}; vague tickets asked {}; no-answer tickets escalated {}; P0/security/human tickets escalated {}; escalations to the labelled team {}; ROC-AUC (top-1 right) {:.3}; ROC-AUC (answerable) {:.3}</p>",
                html_escape(&x.set), d.auto_precision, d.auto_coverage, d.clarify_rate, super::share(d.clarify_recall, d.n_clarify), super::share(d.escalation_recall_no_answer, d.n_no_answer), super::share(d.escalation_recall_rules, d.n_rules), super::share(d.routing, d.n_routed), d.auc_top1, d.auc_answerable));
            let curve: Vec<(f64, f64)> = d.curve.iter().map(|(_, c, p)| (*c, *p)).collect();
            let rel: Vec<(f64, f64)> = d
                .reliability
                .iter()
                .filter(|r| r.2 > 0)
                .map(|r| (r.3, r.4))
                .collect();
            s.push_str("<div style='display:flex;gap:2em'><div><h3>Precision vs coverage (threshold sweep)</h3>");
            s.push_str(&svg_curve(&curve, "coverage", "precision", false));
            s.push_str("</div><div><h3>Reliability (predicted vs actual)</h3>");
            s.push_str(&svg_curve(
                &rel,
                "predicted confidence",
                "share right",
                true,
            ));
            s.push_str("</div></div><table><tr><th>bucket</th><th>n</th><th>mean predicted</th><th>share right</th></tr>");
            for (lo, hi, n, p, a) in &d.reliability {
                s.push_str(&format!(
                    "<tr><td>{lo:.1}–{hi:.1}</td><td>{n}</td><td>{p:.2}</td><td>{a:.2}</td></tr>"
                ));
            }
            s.push_str("</table>");
        }
    }
    for (set, rs) in results {
        let mut misses: Vec<&QueryResult> = rs
            .iter()
            .filter(|r| !r.expected.is_empty() && r.rr < 1.0)
            .collect();
        misses.sort_by(|a, b| a.rr.total_cmp(&b.rr));
        s.push_str(&format!("<h2>Worst misses: {} ({} of {} not at rank 1)</h2><table><tr><th>query</th><th>expected</th><th>got (top 3)</th><th>RR</th></tr>", html_escape(set), misses.len(), rs.len()));
        for r in misses.iter().take(40) {
            let got: Vec<String> = r
                .got
                .iter()
                .zip(&r.got_titles)
                .take(3)
                .map(|(p, t)| format!("{} <small>({})</small>", html_escape(t), html_escape(p)))
                .collect();
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class='bad'>{:.2}</td></tr>",
                html_escape(&r.text),
                html_escape(&r.expected.join(", ")),
                got.join("<br>"),
                r.rr
            ));
        }
        s.push_str("</table>");
    }
    s.push_str("</body></html>");
    s
}
