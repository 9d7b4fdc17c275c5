//! `deflect report`: what the answer log and customer feedback say about the KB.
//!
//! - **Decisions**: how many tickets were answered automatically, suggested, asked, escalated,
//!   and why and to whom the escalations went.
//! - **Fixes customers marked not helpful**: feedback joined to the entry it was about (its
//!   `entry_id`, else the top fix of the answer its `answer_id` names).
//! - **KB gaps**: tickets escalated because no fix was good enough (`no_match`,
//!   `low_confidence`), grouped by the informative words they share, each group with example
//!   tickets and the nearest entry the KB has. An editor reads it as "write an article on
//!   宝塔 面板" or "extend the nearest one".
//!
//! Words are the ticket's own, as the search analyses them: stop words and chatter left out,
//! the rarest in the KB first (a word the KB never uses is what it is missing), error codes
//! whole.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::answer::log::{read_lines, read_records, LogRecord, ANSWER_LOG_FILE, FEEDBACK_FILE};
use crate::answer::{Decision, EscalationReason};
use crate::index::Loaded;
use crate::search::query::{self, Mode, DEFAULT_WEIGHTS};

/// Words of a gap ticket used to group it.
const TOPIC_WORDS: usize = 6;
/// Words of a gap ticket considered, before the broad ones are left out.
const TOPIC_CANDIDATES: usize = 12;
/// A word in more than this share of the gap tickets (and more than [`BROAD_MIN`] of them)
/// is how this desk's customers ask (如何, 是否, 支持) or a product it serves as a whole, not
/// a topic: left out of the grouping.
const BROAD_SHARE: usize = 20;
/// See [`BROAD_SHARE`].
const BROAD_MIN: usize = 20;
/// A word weighted down to less than this as chatter does not name a topic.
const MIN_WORD_WEIGHT: f32 = 0.5;
/// Example tickets shown per gap.
const EXAMPLES: usize = 3;
/// Characters of an example ticket.
const EXAMPLE_CHARS: usize = 80;
/// Gap tickets grouped, the most recent: each is analysed as a search would (about a
/// millisecond), so a month of a busy desk's log still reports in seconds.
pub const MAX_GROUPED: usize = 5000;

/// What to report on.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Only records at or after this time (Unix seconds).
    pub since: Option<u64>,
    /// Rows per list (fixes, gaps).
    pub top: usize,
}

/// A named count.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Count {
    /// What is counted.
    pub name: String,
    /// How many.
    pub count: usize,
    /// Share of the whole, 0–1.
    pub share: f64,
}

/// Feedback totals.
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FeedbackTotals {
    /// Marked helpful.
    pub helpful: usize,
    /// Marked not helpful.
    pub not_helpful: usize,
    /// Feedback on an answer the log no longer holds (rotated away, or the log was off).
    pub unmatched: usize,
}

/// Decisions on one category's tickets.
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CategoryStat {
    /// The ticket's category, given or inferred (`-` when none).
    pub name: String,
    /// Answers.
    pub answers: usize,
    /// Of which sent as an automatic reply.
    pub auto_reply: usize,
    /// Of which escalated.
    pub escalated: usize,
}

/// One entry's record.
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct EntryStat {
    /// Entry id.
    pub id: String,
    /// Its title, when the index still has it.
    pub title: Option<String>,
    /// Times it was the top fix offered to a customer (auto-reply, suggestion, question).
    pub top_fix: usize,
    /// Times it was sent as an automatic reply.
    pub auto_replies: usize,
    /// Feedback marking it helpful.
    pub helpful: usize,
    /// Feedback marking it not helpful.
    pub not_helpful: usize,
}

/// Tickets the KB could not answer that share words.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Gap {
    /// The shared word, and a second one most of the group shares too.
    pub words: Vec<String>,
    /// How many tickets.
    pub tickets: usize,
    /// Example tickets, most recent first.
    pub examples: Vec<String>,
    /// The entry most often offered first to these tickets, among those escalated for low
    /// confidence (a `no_match` ticket has nothing close): extend it, or write its sibling.
    pub nearest: Option<String>,
    /// Its title.
    pub nearest_title: Option<String>,
}

/// The report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// First and last answer covered (Unix seconds).
    pub from: Option<u64>,
    /// See `from`.
    pub to: Option<u64>,
    /// Answers covered (first answers to a ticket: a follow-up is not one).
    pub answers: usize,
    /// Answers to a customer's choice from a clarifying question or suggestion
    /// (`options.chosen`): not in the decisions, whose first answer is.
    pub follow_ups: usize,
    /// Lines of the logs that could not be read.
    pub unreadable_lines: usize,
    /// Answers per decision.
    pub decisions: Vec<Count>,
    /// Escalations per reason.
    pub escalation_reasons: Vec<Count>,
    /// Escalations per team.
    pub teams: Vec<Count>,
    /// Decisions per category, most answers first: where the bot carries the load and where
    /// people do.
    pub categories: Vec<CategoryStat>,
    /// Feedback totals.
    pub feedback: FeedbackTotals,
    /// Entries customers marked not helpful, most first; then the most served.
    pub entries: Vec<EntryStat>,
    /// Escalations for want of a good fix (`no_match`, `low_confidence`).
    pub gap_tickets: usize,
    /// How many of them, the most recent, were grouped (at most [`MAX_GROUPED`]).
    pub gap_tickets_grouped: usize,
    /// Those tickets grouped by shared words, largest group first; tickets sharing words
    /// with no other follow, one per row.
    pub gaps: Vec<Gap>,
}

/// One line of `feedback.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct FeedbackLine {
    /// Unix seconds.
    #[serde(default)]
    pub at: u64,
    /// The feedback as posted.
    pub feedback: FeedbackBody,
}

/// The posted feedback.
#[derive(Debug, Clone, Deserialize)]
pub struct FeedbackBody {
    /// The answer it is about.
    #[serde(default)]
    pub answer_id: Option<String>,
    /// The entry it is about.
    #[serde(default)]
    pub entry_id: Option<String>,
    /// Did it help?
    pub helpful: bool,
}

/// Reads the logs in `root` (an index root) and builds the report.
pub fn from_dir(loaded: &Loaded, root: &Path, opts: Options) -> std::io::Result<Report> {
    let (records, bad_a) = read_records(&root.join(ANSWER_LOG_FILE))?;
    let (feedback, bad_f) = read_lines::<FeedbackLine>(&[root.join(FEEDBACK_FILE)])?;
    let mut r = build(loaded, &records, &feedback, opts);
    r.unreadable_lines = bad_a + bad_f;
    Ok(r)
}

/// Builds the report from answer records and feedback lines.
pub fn build(
    loaded: &Loaded,
    records: &[LogRecord],
    feedback: &[FeedbackLine],
    opts: Options,
) -> Report {
    let since = opts.since.unwrap_or(0);
    let records: Vec<&LogRecord> = records.iter().filter(|r| r.at >= since).collect();
    // A follow-up is the second turn of an answer already counted: feedback may name it,
    // but it is no decision of its own.
    let (follow_ups, records): (Vec<&LogRecord>, Vec<&LogRecord>) =
        records.into_iter().partition(|r| r.follow_up);
    let n = records.len();
    let mut decisions: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut teams: BTreeMap<String, usize> = BTreeMap::new();
    let mut entries: HashMap<String, EntryStat> = HashMap::new();
    let mut by_answer: HashMap<&str, &LogRecord> = HashMap::new();
    let mut categories: BTreeMap<&str, CategoryStat> = BTreeMap::new();
    for r in &follow_ups {
        by_answer.insert(r.answer_id.as_str(), r);
    }
    for r in &records {
        *decisions.entry(r.decision.as_str()).or_default() += 1;
        let c = categories
            .entry(r.category.as_deref().unwrap_or("-"))
            .or_default();
        c.answers += 1;
        c.auto_reply += usize::from(r.decision == Decision::AutoReply);
        c.escalated += usize::from(r.decision == Decision::Escalate);
        by_answer.insert(r.answer_id.as_str(), r);
        if r.decision == Decision::Escalate {
            if let Some(reason) = r.reason {
                *reasons.entry(reason.as_str().to_string()).or_default() += 1;
            }
            if let Some(t) = &r.team {
                *teams.entry(t.clone()).or_default() += 1;
            }
        }
        // The fixes the customer was offered: an escalation's candidates are the agent's.
        if let Some(top) = r.fixes.first().filter(|_| r.decision != Decision::Escalate) {
            let e = entries.entry(top.clone()).or_default();
            e.top_fix += 1;
            if r.decision == Decision::AutoReply {
                e.auto_replies += 1;
            }
        }
    }
    let escalated = decisions.get("escalate").copied().unwrap_or(0);

    let mut totals = FeedbackTotals::default();
    for f in feedback.iter().filter(|f| f.at >= since) {
        let f = &f.feedback;
        let entry = f.entry_id.clone().or_else(|| {
            f.answer_id
                .as_deref()
                .and_then(|a| by_answer.get(a))
                .and_then(|r| r.fixes.first().cloned())
        });
        let Some(entry) = entry else {
            totals.unmatched += 1;
            continue;
        };
        let e = entries.entry(entry).or_default();
        if f.helpful {
            totals.helpful += 1;
            e.helpful += 1;
        } else {
            totals.not_helpful += 1;
            e.not_helpful += 1;
        }
    }
    let mut entries: Vec<EntryStat> = entries
        .into_iter()
        .map(|(id, e)| EntryStat { id, ..e })
        .collect();
    entries.sort_by(|a, b| {
        b.not_helpful
            .cmp(&a.not_helpful)
            .then(b.top_fix.cmp(&a.top_fix))
            .then(a.id.cmp(&b.id))
    });
    entries.truncate(opts.top);
    // Titles for the rows shown only: each is a look-up in the index.
    for e in &mut entries {
        e.title = title_of(loaded, &e.id);
    }

    let mut gap_records: Vec<&LogRecord> = records
        .iter()
        .copied()
        .filter(|r| {
            r.decision == Decision::Escalate
                && matches!(
                    r.reason,
                    Some(EscalationReason::NoMatch | EscalationReason::LowConfidence)
                )
        })
        .collect();
    let gap_tickets = gap_records.len();
    gap_records.sort_by_key(|r| std::cmp::Reverse(r.at));
    gap_records.truncate(MAX_GROUPED);
    let gaps = group_gaps(loaded, &gap_records, opts.top);

    Report {
        from: records.iter().map(|r| r.at).min(),
        to: records.iter().map(|r| r.at).max(),
        answers: n,
        follow_ups: follow_ups.len(),
        unreadable_lines: 0,
        decisions: counts(
            ["auto_reply", "suggest", "clarify", "escalate"]
                .into_iter()
                .map(|d| (d.to_string(), decisions.get(d).copied().unwrap_or(0)))
                .collect(),
            n,
        ),
        escalation_reasons: counts(sorted_desc(reasons), escalated),
        teams: counts(sorted_desc(teams), escalated),
        categories: {
            let mut v: Vec<CategoryStat> = categories
                .into_iter()
                .map(|(name, c)| CategoryStat {
                    name: name.to_string(),
                    ..c
                })
                .collect();
            v.sort_by(|a, b| b.answers.cmp(&a.answers).then(a.name.cmp(&b.name)));
            v
        },
        feedback: totals,
        entries,
        gap_tickets,
        gap_tickets_grouped: gap_records.len(),
        gaps,
    }
}

fn sorted_desc(m: BTreeMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn counts(v: Vec<(String, usize)>, of: usize) -> Vec<Count> {
    v.into_iter()
        .map(|(name, count)| Count {
            name,
            count,
            share: if of > 0 {
                count as f64 / of as f64
            } else {
                0.0
            },
        })
        .collect()
}

fn title_of(loaded: &Loaded, id: &str) -> Option<String> {
    crate::search::fetch(loaded, id)
        .map(|d| crate::search::text(&d, loaded.fields.title))
        .filter(|t| !t.is_empty())
}

/// A word of a ticket: as analysed (what groups tickets) and as the ticket wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The analysed term (or the canonical error code).
    pub term: String,
    /// As written in the ticket.
    pub shown: String,
}

/// A ticket's topic words: its error codes, then its most informative words in the KB's
/// terms (main words, not chatter, not numbers), rarest first.
pub fn topic_words(loaded: &Loaded, searcher: &tantivy::Searcher, ticket: &str) -> Vec<Word> {
    let plan = query::build(
        loaded,
        searcher,
        ticket,
        Mode::Ranked(DEFAULT_WEIGHTS),
        false,
    );
    let mut words: Vec<Word> = Vec::new();
    for code in crate::analysis::entities::error_codes(ticket) {
        let term = crate::analysis::normalize::canonical_code(&code);
        if plan.codes.contains(&term) && !words.iter().any(|w| w.term == term) {
            words.push(Word { term, shown: code });
        }
    }
    let codes = words.len();
    let mut terms: Vec<_> = plan
        .terms
        .iter()
        .filter(|t| {
            !t.secondary
                && t.weight >= MIN_WORD_WEIGHT
                && t.text.chars().any(char::is_alphabetic)
                && !t.text.starts_with(|c: char| c.is_ascii_digit())
        })
        .collect();
    terms.sort_by(|a, b| {
        (b.idf * b.weight)
            .total_cmp(&(a.idf * a.weight))
            .then(a.text.cmp(&b.text))
    });
    let tokens = loaded.analyzer.analyze(ticket);
    for t in terms {
        if words.len() >= TOPIC_CANDIDATES + codes {
            break;
        }
        // As written (`OOMKilled` for `oomkil`), unless the analysis spans more than the
        // Chinese word (a conversion joined it to its neighbours).
        let shown = tokens
            .iter()
            .find(|k| k.text == t.text)
            .and_then(|k| ticket.get(k.from..k.to))
            .filter(|s| s.is_ascii() || s.chars().count() <= t.text.chars().count() + 2)
            .unwrap_or(&t.text)
            .to_string();
        if words
            .iter()
            .any(|w| w.term == t.text || w.shown.eq_ignore_ascii_case(&shown))
        {
            continue;
        }
        words.push(Word {
            term: t.text.clone(),
            shown,
        });
    }
    words
}

/// Groups gap tickets greedily: the pair of words the most remaining tickets share makes a
/// group of them (at least two), until no pair is shared; the rest follow one per row, up
/// to `top` rows in all. A pair, not one word: tickets that share only a common word of
/// customers (主机, 机器) are about different things. Words too broad to be a topic
/// ([`BROAD_SHARE`]) are left out first.
fn group_gaps(loaded: &Loaded, records: &[&LogRecord], top: usize) -> Vec<Gap> {
    let searcher = loaded.reader.searcher();
    let mut words: Vec<Vec<Word>> = records
        .iter()
        .map(|r| topic_words(loaded, &searcher, &r.ticket))
        .collect();
    let mut df: HashMap<String, usize> = HashMap::new();
    for w in &words {
        for x in w {
            *df.entry(x.term.clone()).or_default() += 1;
        }
    }
    let broad = (records.len() / BROAD_SHARE).max(BROAD_MIN);
    for w in &mut words {
        w.retain(|x| df[&x.term] <= broad);
        w.truncate(TOPIC_WORDS);
    }
    let mut left: BTreeSet<usize> = (0..records.len()).collect();
    let mut gaps = Vec::new();
    while gaps.len() < top {
        // (word, word) → the remaining tickets holding both.
        let mut pairs: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for &i in &left {
            let w = &words[i];
            for a in 0..w.len() {
                for b in a + 1..w.len() {
                    let (x, y) = (w[a].term.as_str(), w[b].term.as_str());
                    let key = if x <= y { (x, y) } else { (y, x) };
                    pairs.entry(key).or_default().push(i);
                }
            }
        }
        let Some(((x, y), group)) = pairs
            .into_iter()
            .filter(|(_, g)| g.len() >= 2)
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(&a.0)))
        else {
            break;
        };
        // Shown as the ticket that ranks them first wrote them, in its order.
        let first = &words[group[0]];
        let mut label: Vec<&Word> = first
            .iter()
            .filter(|w| w.term == x || w.term == y)
            .collect();
        label.truncate(2);
        let label = label.into_iter().map(|w| w.shown.clone()).collect();
        for i in &group {
            left.remove(i);
        }
        gaps.push(gap(loaded, records, &group, label));
    }
    // One-offs, most recent first.
    let mut rest: Vec<usize> = left.into_iter().collect();
    rest.sort_by(|&a, &b| records[b].at.cmp(&records[a].at).then(a.cmp(&b)));
    for i in rest {
        if gaps.len() >= top {
            break;
        }
        let label = words[i].iter().take(2).map(|w| w.shown.clone()).collect();
        gaps.push(gap(loaded, records, &[i], label));
    }
    gaps
}

fn gap(loaded: &Loaded, records: &[&LogRecord], group: &[usize], words: Vec<String>) -> Gap {
    let mut idx = group.to_vec();
    idx.sort_by(|&a, &b| records[b].at.cmp(&records[a].at).then(a.cmp(&b)));
    let examples = idx
        .iter()
        .take(EXAMPLES)
        .map(|&i| one_line(&records[i].ticket))
        .collect();
    // Only from tickets with a candidate at all: a `no_match` ticket's first fix shares
    // too little of it to say what the KB has closest.
    let mut nearest: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in group {
        if records[i].reason != Some(EscalationReason::LowConfidence) {
            continue;
        }
        if let Some(f) = records[i].fixes.first() {
            *nearest.entry(f.as_str()).or_default() += 1;
        }
    }
    let nearest = nearest
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(id, _)| id.to_string());
    Gap {
        words,
        tickets: group.len(),
        examples,
        nearest_title: nearest.as_deref().and_then(|id| title_of(loaded, id)),
        nearest,
    }
}

fn one_line(t: &str) -> String {
    let flat: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > EXAMPLE_CHARS {
        let mut s: String = flat.chars().take(EXAMPLE_CHARS).collect();
        s.push('…');
        s
    } else {
        flat
    }
}

/// `YYYY-MM-DD` (UTC) of Unix seconds.
pub fn date(secs: u64) -> String {
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The report as text for a terminal.
pub fn render(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let period = match (r.from, r.to) {
        (Some(a), Some(b)) => format!(", {} .. {}", date(a), date(b)),
        _ => String::new(),
    };
    let _ = writeln!(s, "{} answer(s){period}", r.answers);
    if r.follow_ups > 0 {
        let _ = writeln!(
            s,
            "{} follow-up(s) to a customer's choice (not in the decisions)",
            r.follow_ups
        );
    }
    if r.unreadable_lines > 0 {
        let _ = writeln!(s, "({} unreadable log line(s) skipped)", r.unreadable_lines);
    }
    let row = |v: &[Count]| {
        v.iter()
            .map(|c| format!("{} {} ({:.1}%)", c.name, c.count, c.share * 100.0))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(s, "decisions    {}", row(&r.decisions));
    if !r.escalation_reasons.is_empty() {
        let _ = writeln!(s, "escalations  {}", row(&r.escalation_reasons));
        let _ = writeln!(s, "teams        {}", row(&r.teams));
    }
    let f = &r.feedback;
    let rated = f.helpful + f.not_helpful;
    let _ = writeln!(
        s,
        "feedback     {} helpful, {} not helpful{}{}",
        f.helpful,
        f.not_helpful,
        if rated > 0 {
            format!(" ({:.0}% helpful)", f.helpful as f64 * 100.0 / rated as f64)
        } else {
            String::new()
        },
        if f.unmatched > 0 {
            format!("; {} on answers no longer in the log", f.unmatched)
        } else {
            String::new()
        }
    );
    if !r.categories.is_empty() {
        let _ = writeln!(s, "\nby category (answers: auto-replied, escalated)");
        for c in &r.categories {
            let pct = |k: usize| k as f64 * 100.0 / c.answers.max(1) as f64;
            let _ = writeln!(
                s,
                "  {:<12} {:>6}: {:>5.1}% auto  {:>5.1}% escalated",
                c.name,
                c.answers,
                pct(c.auto_reply),
                pct(c.escalated)
            );
        }
    }
    if !r.entries.is_empty() {
        let _ = writeln!(
            s,
            "\nfixes by feedback (not helpful / helpful, times offered first, auto-replies)"
        );
        for e in &r.entries {
            let _ = writeln!(
                s,
                "  {:>3} / {:<3}  first {:<4} auto {:<4}  {}  {}",
                e.not_helpful,
                e.helpful,
                e.top_fix,
                e.auto_replies,
                e.id,
                e.title.as_deref().unwrap_or("(no longer in the index)")
            );
        }
    }
    let _ = writeln!(
        s,
        "\nKB gaps: {} ticket(s) escalated with no fix good enough (no_match, low_confidence){}",
        r.gap_tickets,
        if r.gap_tickets_grouped < r.gap_tickets {
            format!("; the latest {} grouped", r.gap_tickets_grouped)
        } else {
            String::new()
        }
    );
    for g in &r.gaps {
        let nearest = match (&g.nearest, &g.nearest_title) {
            (Some(id), Some(t)) => format!("   nearest: {id}  {t}"),
            (Some(id), None) => format!("   nearest: {id}"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:>4} ticket(s)  {}{nearest}",
            g.tickets,
            g.words.join(" · ")
        );
        for e in &g.examples {
            let _ = writeln!(s, "         {e}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_795_478_400), "2026-11-24");
    }

    #[test]
    fn examples_are_one_line_and_cut() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        let long = "很".repeat(100);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), EXAMPLE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
