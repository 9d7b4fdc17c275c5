//! Ranking metrics over one query's ranked list of page keys.
//!
//! Recall@k here is success@k (at least one relevant page in the top k), as the reference
//! baselines count it: same-title copies of one answer are all listed as relevant, and
//! finding one of them answers the query. nDCG@10 uses binary gains, each distinct relevant
//! page counted once, with an ideal list of min(|relevant|, 10) relevant pages.

use std::collections::HashSet;

/// Metrics of one query.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueryMetrics {
    /// Reciprocal rank of the first relevant page within 10.
    pub rr10: f64,
    /// A relevant page at rank 1.
    pub r1: f64,
    /// Within 3.
    pub r3: f64,
    /// Within 10.
    pub r10: f64,
    /// nDCG@10.
    pub ndcg10: f64,
}

/// Scores `ranked` (page keys, best first) against `relevant`.
pub fn score(ranked: &[String], relevant: &HashSet<String>) -> QueryMetrics {
    let first = ranked.iter().take(10).position(|p| relevant.contains(p));
    let mut dcg = 0.0;
    let mut counted = HashSet::new();
    for (i, p) in ranked.iter().take(10).enumerate() {
        if relevant.contains(p) && counted.insert(p) {
            dcg += 1.0 / ((i + 2) as f64).log2();
        }
    }
    let ideal: f64 = (0..relevant.len().min(10))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    QueryMetrics {
        rr10: first.map(|i| 1.0 / (i + 1) as f64).unwrap_or(0.0),
        r1: (first == Some(0)) as u8 as f64,
        r3: first.is_some_and(|i| i < 3) as u8 as f64,
        r10: first.is_some() as u8 as f64,
        ndcg10: if ideal > 0.0 { dcg / ideal } else { 0.0 },
    }
}

/// Mean of per-query metrics.
pub fn mean(ms: &[QueryMetrics]) -> QueryMetrics {
    let n = ms.len().max(1) as f64;
    let mut out = QueryMetrics::default();
    for m in ms {
        out.rr10 += m.rr10 / n;
        out.r1 += m.r1 / n;
        out.r3 += m.r3 / n;
        out.r10 += m.r10 / n;
        out.ndcg10 += m.ndcg10 / n;
    }
    out
}

/// The p-th percentile (0–100) of `xs` (nearest rank).
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(xs: &[&str]) -> HashSet<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn list(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hand_computed() {
        // Relevant page at rank 2: RR 0.5, R@1 0, R@3 1; nDCG = (1/log2 3) / 1.
        let m = score(&list(&["a", "b", "c"]), &set(&["b"]));
        assert_eq!(m.rr10, 0.5);
        assert_eq!((m.r1, m.r3, m.r10), (0.0, 1.0, 1.0));
        assert!((m.ndcg10 - 1.0 / 3f64.log2()).abs() < 1e-12);
        // Two relevant at ranks 1 and 3: nDCG = (1 + 1/2) / (1 + 1/log2 3).
        let m = score(&list(&["a", "x", "b"]), &set(&["a", "b"]));
        assert!((m.ndcg10 - 1.5 / (1.0 + 1.0 / 3f64.log2())).abs() < 1e-12);
        assert_eq!(m.rr10, 1.0);
        // Nothing relevant in the top 10.
        let ranked: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        let m = score(&ranked, &set(&["11"]));
        assert_eq!(m, QueryMetrics::default());
    }

    #[test]
    fn means_and_percentiles() {
        let m = mean(&[
            QueryMetrics {
                rr10: 1.0,
                ..Default::default()
            },
            QueryMetrics::default(),
        ]);
        assert_eq!(m.rr10, 0.5);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 99.0), 4.0);
    }
}
