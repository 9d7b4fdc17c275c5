//! Calibrated confidence: the probability that a hit is a right answer for the ticket.
//!
//! A logistic model over features that mean the same on any KB (no raw BM25 score, whose scale
//! depends on the corpus): how much of the ticket's information the hit contains, how much of
//! it sits in the hit's title or aliases, the margin to the next hit, an exact error-code
//! match (or the pasted message quoted word for word), how much the ticket says at all, the
//! score relative to the query's own maximum, and how much of the hit's title the ticket
//! mentions (a human agent's first check: is this FAQ question the customer's question?).
//! Coefficients are fitted on the dev halves of two ticket sets over two KBs (ours, and the
//! Alibaba Cloud docs) by `scripts/fit-confidence.sh`, and checked on their test halves.

use serde::{Deserialize, Serialize};

use crate::search::{query::DEFAULT_WEIGHTS, Hit};

/// Feature names, in model order.
pub const FEATURES: [&str; NF] = [
    "coverage",
    "title_coverage",
    "margin",
    "code_match",
    "log_terms",
    "relative_score",
    "title_precision",
];

/// Number of features.
pub const NF: usize = 7;

/// Fitted coefficients: intercept, then one per feature.
/// Fitted by `scripts/fit-confidence.sh`: the dev split of our tickets over `kb/` and of the
/// Alibaba Cloud tickets over that corpus, pooled, so the model is not tuned to one KB.
pub const COEFFICIENTS: [f32; NF + 1] = [
    -8.8510, 3.1584, 5.2392, 2.0237, 1.6189, 1.2461, 5.6980, 1.7309,
];

/// The features of one hit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Features {
    /// IDF share of the ticket's words found in the hit.
    pub coverage: f32,
    /// IDF share found in the title or aliases.
    pub title_coverage: f32,
    /// (score − next score) / score.
    pub margin: f32,
    /// 1 when an error code matched exactly, or the hit quotes the ticket's pasted message
    /// word for word ([`crate::search::Hit::quotes_message`]).
    pub code_match: f32,
    /// ln(1 + effective informative words): Σ IDF / ln(1 + N), so the scale does not grow
    /// with the size of the KB.
    pub log_terms: f32,
    /// Score / the largest score the query's words could give, capped at 1.
    pub relative_score: f32,
    /// Share of the hit title's informative words that the ticket contains.
    pub title_precision: f32,
}

impl Features {
    /// As a vector in [`FEATURES`] order.
    pub fn to_vec(self) -> [f32; NF] {
        [
            self.coverage,
            self.title_coverage,
            self.margin,
            self.code_match,
            self.log_terms,
            self.relative_score,
            self.title_precision,
        ]
    }
}

/// Computes the features of `hit`, given the next hit's BM25 score, the query's information (Σ IDF)
/// and the number of entries in the index.
pub fn features(
    hit: &Hit,
    next_score: Option<f32>,
    information: f32,
    num_docs: u64,
    title_precision: f32,
) -> Features {
    // Raw BM25, not the coordinated score: coverage is a feature of its own.
    let s = hit.bm25.max(0.0);
    let margin = match next_score {
        Some(n) if s > 0.0 => ((s - n) / s).clamp(0.0, 1.0),
        _ => 1.0,
    };
    let w = DEFAULT_WEIGHTS;
    // A word found in every main field once would score about idf × (sum of field boosts).
    let reach = information * (w.title + w.aliases + w.body);
    Features {
        coverage: hit.coverage,
        title_coverage: hit.title_coverage,
        margin,
        code_match: if hit.matched_codes.is_empty() && !hit.quotes_message {
            0.0
        } else {
            1.0
        },
        log_terms: (1.0 + information / (1.0 + num_docs as f32).ln().max(1.0)).ln(),
        relative_score: if reach > 0.0 {
            (s / reach).min(1.0)
        } else {
            0.0
        },
        title_precision,
    }
}

/// A title's informative words (analysed; stop words, punctuation and single Han characters
/// left out), sorted and distinct. What [`title_precision`] looks for in the ticket, and what
/// tells two copies of one question apart from two questions.
pub fn title_words(
    analyzer: &crate::analysis::Analyzer,
    resources: &crate::analysis::resources::QueryResources,
    title: &str,
) -> Vec<String> {
    let mut words: Vec<String> = analyzer
        .analyze(title)
        .into_iter()
        .map(|t| t.text)
        .filter(|w| {
            !resources.is_stop(w)
                && w.chars().any(char::is_alphanumeric)
                && (w.chars().count() >= 2 || w.is_ascii())
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// Share of a title's informative words ([`title_words`]) found in the ticket, given as
/// normalised text ([`crate::analysis::normalize::normalize_str`]). A FAQ question the ticket
/// restates scores high; a title on another product or another problem scores low, however
/// many of the ticket's generic words its body shares.
pub fn title_precision(words: &[String], ticket: &str) -> f32 {
    if words.is_empty() {
        return 0.0;
    }
    words.iter().filter(|w| ticket.contains(w.as_str())).count() as f32 / words.len() as f32
}

/// The model's probability for `f` with coefficients `c`.
pub fn predict_with(c: &[f32; NF + 1], f: &Features) -> f32 {
    let z = c[0]
        + f.to_vec()
            .iter()
            .zip(&c[1..])
            .map(|(x, w)| x * w)
            .sum::<f32>();
    1.0 / (1.0 + (-z).exp())
}

/// The fitted model's probability.
pub fn predict(f: &Features) -> f32 {
    predict_with(&COEFFICIENTS, f)
}

/// Fits logistic regression by batch gradient descent with a little L2; returns coefficients.
pub fn fit(samples: &[(Features, bool)]) -> [f32; NF + 1] {
    let mut c = [0f32; NF + 1];
    if samples.is_empty() {
        return c;
    }
    let n = samples.len() as f32;
    let lr = 0.5;
    let l2 = 1e-3;
    for _ in 0..20_000 {
        let mut g = [0f32; NF + 1];
        for (f, y) in samples {
            let p = predict_with(&c, f);
            let err = p - if *y { 1.0 } else { 0.0 };
            g[0] += err;
            for (i, x) in f.to_vec().iter().enumerate() {
                g[i + 1] += err * x;
            }
        }
        for i in 0..=NF {
            let reg = if i == 0 { 0.0 } else { l2 * c[i] };
            c[i] -= lr * (g[i] / n + reg);
        }
    }
    c
}

/// Area under the ROC curve of `scores` for `labels` (ties count half).
pub fn auc(scored: &[(f32, bool)]) -> f32 {
    let pos: Vec<f32> = scored.iter().filter(|s| s.1).map(|s| s.0).collect();
    let neg: Vec<f32> = scored.iter().filter(|s| !s.1).map(|s| s.0).collect();
    if pos.is_empty() || neg.is_empty() {
        return f32::NAN;
    }
    let mut wins = 0f64;
    for p in &pos {
        for q in &neg {
            wins += if p > q {
                1.0
            } else if p == q {
                0.5
            } else {
                0.0
            };
        }
    }
    (wins / (pos.len() * neg.len()) as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_on_hand_computed_examples() {
        assert_eq!(auc(&[(0.9, true), (0.1, false)]), 1.0);
        assert_eq!(auc(&[(0.1, true), (0.9, false)]), 0.0);
        assert_eq!(auc(&[(0.5, true), (0.5, false)]), 0.5);
        // 2 positives, 2 negatives: pairs (0.8>0.3 ✓, 0.8>0.6 ✓, 0.4>0.3 ✓, 0.4<0.6 ✗) = 3/4.
        assert_eq!(
            auc(&[(0.8, true), (0.4, true), (0.3, false), (0.6, false)]),
            0.75
        );
    }

    #[test]
    fn title_precision_is_the_share_of_the_title_the_ticket_restates() {
        let analyzer = crate::analysis::Analyzer::new(&[]);
        let res = crate::analysis::resources::QueryResources::default();
        let ticket = crate::analysis::normalize::normalize_str(
            "EIP绑好了，ifconfig里却看不到这个IP？网卡上只有内网地址",
        );
        let words = |title: &str| title_words(&analyzer, &res, title);
        let same = title_precision(&words("EIP绑定后在网卡上看不到EIP"), &ticket);
        let other = title_precision(&words("MongoDB只读节点简介"), &ticket);
        assert!(same >= 0.5, "{same}");
        assert_eq!(other, 0.0);
        // Traditional script and full-width letters in the ticket are normalised first.
        let trad = crate::analysis::normalize::normalize_str("ＥＩＰ綁定後網卡上看不到");
        assert!(title_precision(&words("EIP绑定后在网卡上看不到EIP"), &trad) >= 0.5);
    }

    #[test]
    fn fit_separates_a_separable_set() {
        let mk = |c: f32| Features {
            coverage: c,
            title_coverage: c,
            margin: 0.5,
            code_match: 0.0,
            log_terms: 1.0,
            relative_score: c,
            title_precision: c,
        };
        let samples: Vec<_> = (0..40).map(|i| (mk(i as f32 / 40.0), i >= 20)).collect();
        let c = fit(&samples);
        assert!(predict_with(&c, &mk(0.9)) > 0.8);
        assert!(predict_with(&c, &mk(0.1)) < 0.2);
    }
}
