//! Answer: from a ticket to a decision a bot can send or a human can pick up.
//!
//! Rules, in order (configurable thresholds in `[answer]`):
//! 1. the customer asks for a human → `escalate` (`customer_requested`);
//! 2. outage wording (P0) or a security incident → `escalate` to the owning team at once,
//!    with the candidate fixes attached;
//! 3. a disputed charge (charged twice, overcharged, "refund this") → `escalate` to billing:
//!    only someone who can see the account settles it, whatever the refund article says;
//! 4. a closing line that only thanks or says the problem is gone (`好的，谢谢`, `it works now`)
//!    → `auto_reply` with no fix and a reply that leaves the door open;
//! 5. otherwise by calibrated confidence of the top fix: ≥ `auto_threshold` → `auto_reply`;
//!    the top two are close (confidence ratio ≥ `clarify_ratio`) and either different
//!    problems within `clarify_margin` of each other's ranking score, or two articles whose
//!    titles both hold every word of a short ticket (whatever their link and scores), or one
//!    of the next three fixes is a different problem that matches as much of the ticket, in
//!    its title too ([`matched_alike`]), and neither the ticket's error code nor a product
//!    it names tells them apart → `clarify`;
//!    ≥ `suggest_threshold` → `suggest`; below → `escalate` (`low_confidence`, or `no_match`
//!    when nothing relevant was found).

pub mod confidence;
pub mod log;
pub mod reply;
pub mod rules;
pub mod thread;
pub mod topics;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::analysis::entities::{self, Entities};
use crate::analysis::lang::{self, Lang};
use crate::analysis::normalize::{mentions, normalize_str};
use crate::config::AnswerConfig;
use crate::index::Loaded;
use crate::search::{self, Hit, SearchError, SearchRequest};

pub use confidence::Features;
pub use rules::{MissingInfo, Signal};

/// A ticket.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ticket {
    /// Subject line.
    pub subject: Option<String>,
    /// The customer's text.
    pub body: String,
    /// Product, if the ticket form asked.
    pub product: Option<String>,
    /// Category, if the ticket form asked.
    pub category: Option<String>,
    /// Channel (chat, email, web, sms …): picks the reply's length cap when
    /// `[answer.channel_reply_max_chars]` names it.
    pub channel: Option<String>,
    /// Language (zh, zh-Hant, en); default: detected.
    pub lang: Option<String>,
    /// Customer tier (standard, enterprise, vip …); raises priority.
    pub customer_tier: Option<String>,
}

impl Ticket {
    /// The subject (when there is one) and the body, as one text: what is answered, and
    /// what the answer log keeps. A mail is read as text when it is HTML; its quoted history
    /// and signature, `Re:` before its subject, and a chat's `[图片]` are not the customer's
    /// words and stay out ([`thread`]).
    pub fn text(&self) -> String {
        let html = thread::html_to_text(&self.body);
        let body = thread::own_words(&html);
        let text = match self
            .subject
            .as_deref()
            .map(thread::subject)
            .filter(|s| !s.trim().is_empty())
        {
            Some(s) => format!("{s}\n{body}"),
            None => body.to_string(),
        };
        match thread::without_placeholders(&text) {
            std::borrow::Cow::Owned(t) => t,
            std::borrow::Cow::Borrowed(_) => text,
        }
    }
}

/// Threshold overrides for one request.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Auto-reply at or above.
    pub auto: Option<f32>,
    /// Escalate below.
    pub suggest: Option<f32>,
}

/// Options of one answer request.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerOptions {
    /// Fixes to return (1–10, default 3).
    pub max_fixes: Option<usize>,
    /// Threshold overrides.
    pub thresholds: Option<Thresholds>,
    /// Longest auto-reply text, in characters, for this channel (at least 200; overrides
    /// the configured cap of the ticket's channel and `answer.reply_max_chars`). A longer
    /// reply keeps its title, link and contact and shows each step as one line, then fewer
    /// steps.
    pub reply_max_chars: Option<usize>,
    /// The entry the customer picked from this ticket's clarifying question or suggested
    /// fixes (an option's or a fix's `id`): the answer is built on it, an `auto_reply` with
    /// its reply, unless a rule hands the ticket to a human (a request for one, an outage, a
    /// security incident, a disputed charge). Send the same ticket again with it.
    pub chosen: Option<String>,
}

/// `POST /v1/answer` body.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// The ticket.
    pub ticket: Ticket,
    /// Options.
    #[serde(default)]
    pub options: Option<AnswerOptions>,
}

/// What to do with the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Send the reply.
    AutoReply,
    /// Offer the fixes as choices.
    Suggest,
    /// Ask the clarifying question.
    Clarify,
    /// Hand to a human.
    Escalate,
}

impl Decision {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::AutoReply => "auto_reply",
            Decision::Suggest => "suggest",
            Decision::Clarify => "clarify",
            Decision::Escalate => "escalate",
        }
    }
}

/// Why a ticket is (or would be) escalated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// Not escalated: the ticket was answered (`auto_reply`, `suggest`, or `clarify` between
    /// candidate fixes), and this is the hand-off to use if the customer says the answer did
    /// not help.
    IfUnresolved,
    /// Confidence below the suggest threshold.
    LowConfidence,
    /// Nothing relevant in the KB.
    NoMatch,
    /// Outage wording.
    P0Incident,
    /// Security incident.
    SecurityIncident,
    /// The customer asked for a human.
    CustomerRequested,
    /// The customer disputes a charge: someone must check the account.
    BillingDispute,
    /// The customer has written about this before.
    RepeatContact,
}

impl EscalationReason {
    /// snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::IfUnresolved => "if_unresolved",
            EscalationReason::LowConfidence => "low_confidence",
            EscalationReason::NoMatch => "no_match",
            EscalationReason::P0Incident => "p0_incident",
            EscalationReason::SecurityIncident => "security_incident",
            EscalationReason::CustomerRequested => "customer_requested",
            EscalationReason::BillingDispute => "billing_dispute",
            EscalationReason::RepeatContact => "repeat_contact",
        }
    }
}

/// One ranked fix.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fix {
    /// Entry id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Calibrated confidence that this fix answers the ticket.
    pub confidence: f32,
    /// Solution steps, one line of plain text each.
    pub steps: Vec<String>,
    /// The same steps as Markdown, each with the commands (fenced code), sub-points and
    /// notes the article gives it: what an agent's screen or a rich chat widget shows.
    pub steps_markdown: Vec<String>,
    /// What the article says before its numbered steps, as Markdown: a first action (`先通过
    /// VNC 登录实例`), or the whole fix when it is prose and points, not numbered steps. For a
    /// long guide, the opening of the section the ticket names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps_intro: Option<String>,
    /// `steps_intro` is a quote of `section`, the page having no fix of its own.
    #[serde(skip)]
    pub steps_from_section: bool,
    /// Expected minutes to fix.
    pub expected_fix_minutes: Option<u64>,
    /// Automation action the article declares (deflect never runs it).
    pub automation: Option<String>,
    /// Link to the article.
    pub link: String,
    /// Related article ids.
    pub related: Vec<String>,
    /// Category of the fix.
    pub category: Option<String>,
    /// What the confidence was computed from.
    pub features: Features,
    /// In a long page, the section that holds the ticket's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<crate::search::HitSection>,
}

/// A ready-to-send reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reply {
    /// Plain text.
    pub text: String,
    /// Markdown.
    pub markdown: String,
}

/// An option of a clarifying question.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClarifyOption {
    /// Entry id.
    pub id: String,
    /// What the customer picks.
    pub label: String,
}

/// A clarifying question.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Clarify {
    /// The question.
    pub question: String,
    /// 2–4 options, one entry each; none when the ticket names no problem (a greeting,
    /// `有问题`): the question asks the customer for it.
    pub options: Vec<ClarifyOption>,
}

/// Category, product and priority of the ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Classification {
    /// Category.
    pub category: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// `ticket` (given) or `inferred`: from the top fix when it is confident enough to
    /// suggest, else from the candidates, when the first three share a category or those
    /// of a product the ticket names do, else from the ticket's routing words
    /// (`answer::topics`).
    pub source: String,
    /// P0–P3.
    pub priority: String,
    /// What set the priority.
    pub priority_signals: Vec<Signal>,
}

/// The hand-off to a human.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Escalation {
    /// L1, L2 or L3.
    pub tier: String,
    /// Owning team.
    pub team: String,
    /// Why.
    pub reason: EscalationReason,
    /// Minutes to first response, from priority.
    pub sla_minutes: u32,
    /// Candidate fixes for the agent (entry ids).
    pub candidate_fixes: Vec<String>,
    /// A one-line summary for the agent queue.
    pub summary: String,
}

/// `POST /v1/answer` response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerResponse {
    /// Id of this answer (for feedback).
    pub answer_id: String,
    /// The decision.
    pub decision: Decision,
    /// Calibrated confidence of the top fix, 0–1.
    pub confidence: f32,
    /// Detected language: zh, zh-Hant or en.
    pub language: Lang,
    /// Ranked fixes.
    pub fixes: Vec<Fix>,
    /// Ready-to-send reply: the fix (auto_reply), the fixes (suggest), the question (clarify),
    /// or, for an escalation, who has the ticket, when to expect an answer and what to send.
    pub reply: Option<Reply>,
    /// The clarifying question (clarify).
    pub clarify: Option<Clarify>,
    /// Category, product, priority.
    pub classification: Classification,
    /// Entities found in the ticket.
    pub entities: Entities,
    /// Information a human would still need, with follow-up questions.
    pub missing_info: Vec<MissingInfo>,
    /// The hand-off: for `escalate`, who has the ticket and why; otherwise the hand-off ready
    /// for when the customer says the answer did not help, with reason `if_unresolved` (or
    /// `no_match` for a question to a ticket that names no problem).
    pub escalation: Escalation,
    /// Milliseconds spent.
    pub took_ms: f64,
}

static ANSWER_SEQ: AtomicU64 = AtomicU64::new(1);

fn new_answer_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("ans-{t:x}-{:x}", ANSWER_SEQ.fetch_add(1, Ordering::Relaxed))
}

/// Candidates considered for fixes and clarifying questions.
const CANDIDATES: usize = 5;

/// The share of the ticket's information the top hit must hold for the ticket to have a
/// match at all; below it the top fix is neither suggested nor offered in a question.
const MATCH_COVERAGE: f32 = 0.25;

/// A hand-off says `no_match` (nothing relevant in the KB) when the top fix is not a match
/// ([`MATCH_COVERAGE`]) and its confidence is below this too. A long ticket covers little of
/// its text with any fix, the right one included: on our labelled tickets (both sets) the
/// `no_match` hand-offs went from 47 to 27, those whose first fix was right from 14 to 2,
/// and 23 of the 28 that no fix answers kept it. The others say `low_confidence`, so the
/// agent reads their candidates rather than starting from nothing.
const NO_MATCH_CONFIDENCE: f32 = 0.25;

/// The category of the candidates whose product the ticket names (`RDS 大版本升级要停机多久`),
/// when they all share one: the customer has said what it is about, even where no fix
/// answers it. On our labelled tickets this, after [`agreed_category`], took hand-offs to
/// the labelled team from 46% to 59%, with 2 of the 15 it routed going to another team.
fn named_category(hits: &[Hit], ticket_norm: &str) -> Option<String> {
    let mut named = hits
        .iter()
        .filter(|h| {
            h.area
                .as_deref()
                .is_some_and(|a| mentions(ticket_norm, &normalize_str(a)))
        })
        .map(routing_key);
    let first = named.next()??;
    named.all(|c| c.as_ref() == Some(&first)).then_some(first)
}

/// What the products a ticket names route it by when no candidate is of them: the route
/// the entries of each area of the KB it names share (`Loaded::area_routes`), when they
/// agree. A ticket form's `product` field routes this way whatever the text matched
/// (`RDS` → database-support). It comes after [`named_category`]: the candidates of a
/// product whose entries span categories (ECS: compute, network, storage) still say which.
fn area_category(routes: &[(String, Option<String>)], named: &str) -> Option<String> {
    let mut found = routes
        .iter()
        .filter(|(area, _)| mentions(named, area))
        .map(|(_, route)| route.clone());
    let first = found.next()??;
    found.all(|r| r.as_ref() == Some(&first)).then_some(first)
}

/// What a hit routes a ticket by: its category, else its area (the declared product, else
/// the top-level folder), so that a KB organised by product folders without categories
/// routes too once `[answer.teams]` names its folders (`ecs = "compute-support"`).
fn routing_key(h: &Hit) -> Option<String> {
    h.category.clone().or_else(|| h.area.clone())
}

/// Candidates that must agree for [`agreed_category`].
const AGREEING: usize = 3;

/// The category the first [`AGREEING`] candidates share, when none is confident enough to
/// classify the ticket by itself but the first is a match at all ([`MATCH_COVERAGE`]). A
/// ticket the KB does not answer is often about a topic it covers (a billing dispute, an
/// RDS upgrade), and its hand-off should reach that team, not the general queue: on our
/// labelled tickets, 16 of 17 such hand-offs went to the labelled team.
fn agreed_category(hits: &[Hit]) -> Option<String> {
    let first = hits.first().filter(|h| h.coverage >= MATCH_COVERAGE)?;
    let category = routing_key(first)?;
    (hits.len() >= AGREEING
        && hits[..AGREEING]
            .iter()
            .all(|h| routing_key(h).as_ref() == Some(&category)))
    .then_some(category)
}

/// What a reply says of a fix.
struct FixContent {
    intro: Option<String>,
    steps: Vec<String>,
    steps_markdown: Vec<String>,
    from_section: bool,
}

/// A fix's introduction and steps (plain and as Markdown), and whether they are a
/// section's excerpt. An entry's own come from the text store (its plain steps stand in if
/// the store cannot be read). A long page has none, but when the hit names the section that
/// holds the ticket, the top fix quotes the opening of that section (`markdown::excerpt`):
/// the reply then says what the section says, not only where it is. Only the top fix
/// reads its page, so an answer decompresses at most one.
fn fix_content(loaded: &Loaded, h: &Hit, top: bool) -> FixContent {
    let plain = |intro| FixContent {
        intro,
        steps: h.steps.clone(),
        steps_markdown: h.steps.clone(),
        from_section: false,
    };
    match loaded.fix_markdown(h) {
        Some((intro, md)) if md.len() == h.steps.len() => FixContent {
            intro,
            steps: h.steps.clone(),
            steps_markdown: md,
            from_section: false,
        },
        Some(_) => plain(None),
        None => match (top && h.steps.is_empty(), &h.section) {
            (true, Some(sec)) => {
                let intro = section_excerpt(loaded, &h.id, sec);
                FixContent {
                    from_section: intro.is_some(),
                    ..plain(intro)
                }
            }
            _ => plain(None),
        },
    }
}

/// The opening of one section of an entry's page (see `markdown::excerpt`).
fn section_excerpt(loaded: &Loaded, id: &str, sec: &search::HitSection) -> Option<String> {
    use crate::ingest::markdown;
    let md = search::fetch(loaded, id).and_then(|doc| loaded.markdown(&doc))?;
    let parsed = markdown::parse(&md);
    let s = parsed.sections.iter().find(|s| match &sec.anchor {
        Some(a) => s.anchor.as_deref() == Some(a.as_str()),
        None => s.heading == sec.heading,
    })?;
    markdown::excerpt(&md[s.range.0..s.range.1]).map(|e| e.markdown)
}

/// Answers a ticket.
pub fn answer(
    loaded: &Loaded,
    cfg: &AnswerConfig,
    req: &AnswerRequest,
) -> Result<AnswerResponse, SearchError> {
    let started = Instant::now();
    let t = &req.ticket;
    let text = t.text();
    let language = t.lang.as_deref().and_then(Lang::parse).unwrap_or_else(|| {
        // A ticket of placeholders alone (`[图片]`) is in the language they are written in.
        if text.chars().any(char::is_alphanumeric) {
            lang::detect(&text)
        } else {
            lang::detect(&t.body)
        }
    });
    let opts = req.options.clone().unwrap_or_default();
    let max_fixes = opts.max_fixes.unwrap_or(3).clamp(1, 10);
    let auto_t = opts
        .thresholds
        .and_then(|x| x.auto)
        .unwrap_or(cfg.auto_threshold)
        .clamp(0.0, 1.0);
    let suggest_t = opts
        .thresholds
        .and_then(|x| x.suggest)
        .unwrap_or(cfg.suggest_threshold)
        .clamp(0.0, auto_t);

    let mut sreq = SearchRequest::new(text.clone());
    sreq.limit = CANDIDATES;
    sreq.facets = false;
    sreq.snippets = false;
    sreq.sections = true;
    if let Some(w) = cfg.weights {
        sreq.mode = search::Mode::Ranked(w);
    }
    let mut resp = search::search(loaded, &sreq)?;
    // A ticket of greetings and chatter alone names no problem: the entries its words find
    // are not candidates, and the customer is asked what the problem is.
    let topicless = !resp.topical;
    // Nor does a request for a human with nothing else (`转人工`, `人工客服！！！机器人回答的
    // 都没用`): its words find entries on real-name checks and robots, which would only
    // mislead the agent.
    let ticket_norm = crate::analysis::normalize::normalize_str(&text);
    let human = rules::asks_for_human(&ticket_norm);
    let bare_request = !topicless
        && resp.codes.is_empty()
        && human
        && !search::query::build(
            loaded,
            &loaded.reader.searcher(),
            &rules::without_human_request(&ticket_norm),
            sreq.mode,
            false,
        )
        .topical;
    // A closing line (`好的，谢谢`, `it works now`) is answered in kind, with no fix: its words
    // would only find articles on `works` or `好`.
    let closing = !human && rules::closes_conversation(&ticket_norm);
    if topicless || bare_request || closing {
        resp.hits.clear();
    }
    // The customer's choice leads: its own candidate, or the entry itself when the ticket
    // no longer finds it among the first.
    let chosen = opts
        .chosen
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(id) = chosen {
        let hit = match resp.hits.iter().position(|h| h.id == id) {
            Some(i) => resp.hits.remove(i),
            None => {
                let mut doc = search::fetch(loaded, id)
                    .ok_or_else(|| SearchError::UnknownEntry(id.to_string()))?;
                resp.hits.truncate(CANDIDATES - 1);
                search::to_hit(loaded, &mut doc, 0.0)
            }
        };
        resp.hits.insert(0, hit);
    }
    let chosen = chosen.is_some();
    let hits = &resp.hits;
    let num_docs = loaded.reader.searcher().num_docs();

    // Each candidate's title words: what the ticket may restate, and what tells two copies
    // of one question from two questions.
    let titles: Vec<Vec<String>> = hits
        .iter()
        .map(|h| confidence::title_words(&loaded.analyzer, &loaded.resources, &h.title))
        .collect();
    // Calibrated confidence per candidate.
    let mut confs: Vec<(f32, Features)> = hits
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let f = confidence::features(
                h,
                hits.get(i + 1).map(|n| n.score),
                resp.information,
                num_docs,
                confidence::title_precision(&titles[i], &ticket_norm),
            );
            (confidence::predict(&f), f)
        })
        .collect();
    // A fix never shows more confidence than the one ranked above it: the model scores each
    // hit on its own, and an agent reading 0.99 under 0.97 would not know which to trust.
    // (The decision reads the top fix, and whether the second comes near it: unchanged.)
    for i in 1..confs.len() {
        confs[i].0 = confs[i].0.min(confs[i - 1].0);
    }
    let top_conf = confs.first().map(|c| c.0).unwrap_or(0.0);

    let fixes: Vec<Fix> = hits
        .iter()
        .zip(&confs)
        .take(max_fixes)
        .enumerate()
        .map(|(i, (h, (c, f)))| {
            let content = fix_content(loaded, h, i == 0);
            Fix {
                id: h.id.clone(),
                title: h.title.clone(),
                confidence: *c,
                steps: content.steps,
                steps_markdown: content.steps_markdown,
                steps_intro: content.intro,
                steps_from_section: content.from_section,
                expected_fix_minutes: h.avg_fix_minutes,
                automation: h.automation.clone(),
                // A named section's anchor takes a portal's page straight to it.
                link: match h.section.as_ref().and_then(|s| s.anchor.as_deref()) {
                    Some(a) => format!(
                        "{}{}#{}",
                        cfg.article_base_url,
                        urlencode_id(&h.id),
                        urlencode_id(a)
                    ),
                    None => format!("{}{}", cfg.article_base_url, urlencode_id(&h.id)),
                },
                related: h.related.clone(),
                category: h.category.clone(),
                features: *f,
                section: h.section.clone(),
            }
        })
        .collect();

    // Classification: the ticket's own fields first, else the confident top hit, else what
    // the candidates agree on, else the ticket's routing words (the team a hand-off goes to).
    let norm = ticket_norm;
    // The products the ticket names: its text, and its product field.
    let named = match t.product.as_deref() {
        Some(p) => format!("{norm}\n{}", normalize_str(p)),
        None => norm.clone(),
    };
    let given = t.category.as_deref().filter(|c| !c.trim().is_empty());
    let inferred_from = hits.first().filter(|_| chosen || top_conf >= suggest_t);
    let category = given
        .map(|c| c.trim().to_lowercase())
        .or_else(|| inferred_from.and_then(routing_key))
        .or_else(|| agreed_category(hits))
        .or_else(|| named_category(hits, &named))
        .or_else(|| area_category(&loaded.area_routes, &named))
        .or_else(|| {
            // Only to a category this desk has: its KB's, or one `[answer.teams]` names. A
            // KB of product folders, or of categories of its own, is not sent to ours.
            // The ticket's own problem, not its request for a person: a complaint that the
            // `机器人` answered wrong says nothing of `机器` (compute).
            let rest;
            let problem = if human {
                rest = rules::without_human_request(&norm);
                &rest
            } else {
                &text
            };
            let tokens = loaded.analyzer.analyze(problem);
            loaded
                .topics
                .classify(&tokens, |c| {
                    loaded.categories.contains(c) || cfg.teams.contains_key(c)
                })
                .map(|(c, _)| c.to_string())
        });
    let product = t
        .product
        .clone()
        .filter(|p| !p.trim().is_empty())
        .or_else(|| inferred_from.and_then(|h| h.product.clone()));
    let no_match = hits.is_empty() || hits[0].coverage < MATCH_COVERAGE;
    // Whether the top fix and the one at `j` are two answers the ticket does not choose
    // between (rule 4's clarify cases).
    let different = |j: usize| different_problems(&hits[0], &hits[j], &titles[0], &titles[j]);
    let undecided = |j: usize| {
        let (top, other) = (&hits[0], &hits[j]);
        let as_close = j == 1
            && confs[j].0 >= confs[0].0 * cfg.clarify_ratio
            && ((score_margin(top, other) <= cfg.clarify_margin && different(j))
                || both_restate(top, other));
        let alike = different(j) && matched_alike(top, other);
        confs[j].0 >= suggest_t
            && (as_close || alike)
            && !told_apart_by_code(top, other)
            && !told_apart_by_title(confs[0].1.title_precision, confs[j].1.title_precision)
            && !told_apart_by_product(top, other, &named)
    };
    // The first fix the ticket does not choose from the top one: the question offers it.
    let rival = (1..hits.len().min(MATCHED_ALIKE_DEPTH + 1)).find(|&j| undecided(j));
    let close = rival.is_some();
    // An article's priority is that of the problem it fixes: it raises a ticket that reports
    // the problem (`网站打不开，提示未备案` is P1), not one that asks a question the article
    // also answers (`网站备案要多久` stays P3). A low one lowers either. When the ticket is
    // undecided between fixes, it is the most urgent of theirs: `服务器连不上，ping 也不通`
    // may be a routing fault (P2) as well as blocked ICMP (P4).
    let priority_of = |h: &Hit| {
        h.priority
            .as_deref()
            .and_then(|p| p.trim_start_matches('P').parse::<u8>().ok())
            .filter(|&p| resp.problem || p >= rules::DEFAULT_PRIORITY)
    };
    let article_priority = match (inferred_from, rival) {
        (Some(h), Some(r)) if !chosen => [h, &hits[r]].into_iter().filter_map(priority_of).min(),
        (Some(h), _) => priority_of(h),
        (None, _) => None,
    };
    let (prio, mut signals) = rules::priority(&norm, t.customer_tier.as_deref(), article_priority);
    // A credential in the ticket: the reply asks the customer to change it, and the hand-off
    // says so (without the credential).
    let credential = entities::credential_kind(&text);
    if let Some(kind) = credential {
        signals.push(rules::Signal {
            name: "credential_in_ticket".into(),
            evidence: kind.into(),
        });
    }
    // As `rules::disputes_charge(&norm)`. A disputed charge is a billing ticket whatever it
    // matched (`RDS 这个月扣了两次` is not a database question), unless the form said otherwise:
    // it asks for the order number and goes to the billing team.
    let dispute = signals.iter().any(|s| s.name == "billing_dispute");
    let category = match given {
        None if dispute => Some("billing".to_string()),
        _ => category,
    };
    let entities = entities::extract(&text);
    let missing_info = rules::missing_info(
        category.as_deref(),
        &norm,
        &entities,
        language,
        resp.problem,
    );

    // The decision.
    // As `rules::is_security_incident(&norm)`: `priority` has just looked.
    let security = signals.iter().any(|s| s.name == "security_incident");
    let outage = prio == 0 && signals.iter().any(|s| s.name == "outage");
    let (decision, reason) = if human {
        (Decision::Escalate, EscalationReason::CustomerRequested)
    } else if outage {
        (Decision::Escalate, EscalationReason::P0Incident)
    } else if security {
        (Decision::Escalate, EscalationReason::SecurityIncident)
    } else if dispute {
        (Decision::Escalate, EscalationReason::BillingDispute)
    } else if closing && !chosen {
        (Decision::AutoReply, EscalationReason::IfUnresolved)
    } else if topicless && !chosen {
        (Decision::Clarify, EscalationReason::NoMatch)
    } else if chosen || (top_conf >= auto_t && !close && !resp.keyword) {
        // A bare keyword (`发票`, `备案`) names a topic and asks nothing of it: its fixes are
        // listed (a suggestion), none of them sent as the answer.
        // The customer's choice is answered whatever its confidence.
        (Decision::AutoReply, EscalationReason::IfUnresolved)
    } else if close && !no_match {
        (Decision::Clarify, EscalationReason::IfUnresolved)
    } else if top_conf >= suggest_t && !no_match {
        (Decision::Suggest, EscalationReason::IfUnresolved)
    } else if no_match && top_conf < NO_MATCH_CONFIDENCE {
        (Decision::Escalate, EscalationReason::NoMatch)
    } else {
        (Decision::Escalate, EscalationReason::LowConfidence)
    };
    let security_category = if security { Some("security") } else { None };
    let team_category = security_category.or(category.as_deref());
    let tier = match (decision, reason) {
        (_, EscalationReason::P0Incident | EscalationReason::SecurityIncident) => "L3",
        (Decision::Escalate, EscalationReason::NoMatch) if prio <= 1 => "L3",
        (Decision::Escalate, EscalationReason::NoMatch | EscalationReason::LowConfidence) => "L2",
        _ => "L1",
    };
    let sla = cfg.sla_minutes.get(prio as usize).copied().unwrap_or(1440);
    let escalation = Escalation {
        tier: tier.into(),
        team: cfg.team_for(team_category).into(),
        reason,
        sla_minutes: sla,
        candidate_fixes: fixes.iter().map(|f| f.id.clone()).collect(),
        summary: reply::agent_summary(&text, prio, category.as_deref(), &fixes),
    };
    let clarify = (decision == Decision::Clarify).then(|| {
        if hits.is_empty() {
            reply::ask_for_details(language)
        } else {
            reply::clarify(hits, &confs, rival.unwrap_or(1), language, cfg, |h| {
                told_apart_by_product(&hits[0], h, &named)
            })
        }
    });
    let warning = credential.map(|k| reply::credential_warning(k, language));
    // The warning comes out of the reply's length cap, not on top of it.
    let warned = warning.as_ref().map_or(0, |w| w.chars().count() + 2);
    let reply = match decision {
        Decision::AutoReply if fixes.is_empty() => Some(reply::closing(language)),
        Decision::AutoReply => Some(reply::auto_reply(
            &fixes[0],
            language,
            cfg,
            opts.reply_max_chars
                .or_else(|| cfg.reply_cap(t.channel.as_deref()))
                .map(|m| m.max(reply::MIN_REPLY_CHARS).saturating_sub(warned)),
        )),
        Decision::Suggest => Some(reply::suggest(&fixes, language, cfg)),
        Decision::Clarify => clarify.as_ref().map(|c| reply::clarify_reply(c, language)),
        Decision::Escalate => Some(reply::escalate(
            reason,
            escalation.sla_minutes,
            &missing_info,
            language,
        )),
    };
    let reply = match (reply, &warning) {
        (Some(r), Some(w)) => Some(reply::prepend(r, w)),
        (r, _) => r,
    };
    Ok(AnswerResponse {
        answer_id: new_answer_id(),
        decision,
        confidence: top_conf,
        language,
        fixes,
        reply,
        clarify,
        classification: Classification {
            category,
            product,
            source: if given.is_some() {
                "ticket".into()
            } else {
                "inferred".into()
            },
            priority: format!("P{prio}"),
            priority_signals: signals,
        },
        entities,
        missing_info,
        escalation,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The ticket's error code, or the message it pastes, is in the top entry and not in the
/// runner-up: the code already answers the question a clarification would ask (`Connection
/// refused` or `timed out`).
fn told_apart_by_code(top: &Hit, second: &Hit) -> bool {
    let quotes = |h: &Hit| !h.matched_codes.is_empty() || h.quotes_message;
    quotes(top) && !quotes(second)
}

/// The ticket restates the top entry's title whole (every informative word of it), and not
/// the other's: `哪里有发送最佳实践？` is that FAQ question, not `哪里可以找到消费最佳实践？`,
/// however close their scores. The precisions are [`confidence::title_precision`].
fn told_apart_by_title(top_precision: f32, other_precision: f32) -> bool {
    top_precision >= 1.0 && other_precision < 1.0
}

/// The ticket names the top hit's product and not the other's (`ECS 磁盘满了` against an RDS
/// entry on a full disk): the customer has already said which one it is. A product is the
/// hit's area: its declared product, else its top-level folder (`ecs/…`, `rds/…`).
fn told_apart_by_product(a: &Hit, b: &Hit, ticket_norm: &str) -> bool {
    match (a.area.as_deref(), b.area.as_deref()) {
        (Some(pa), Some(pb)) => {
            let (pa, pb) = (normalize_str(pa), normalize_str(pb));
            pa != pb && mentions(ticket_norm, &pa) && !mentions(ticket_norm, &pb)
        }
        _ => false,
    }
}

/// How far the second hit's ranking score falls below the first's, as a share of the first.
fn score_margin(a: &Hit, b: &Hit) -> f32 {
    if a.score > 0.0 {
        ((a.score - b.score) / a.score).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Two hits are different problems unless they are the same page, link to each other, or
/// ask the same question in other words within one product (a FAQ copied onto a second
/// page: `删除了Consumer Group还会收到堆积告警？` and `为何删除了 Consumer Group 还会收到堆积告警？`).
/// The same question in two products is two problems: which product is the customer's?
fn different_problems(a: &Hit, b: &Hit, a_title: &[String], b_title: &[String]) -> bool {
    let copies = a.area == b.area && same_question(a_title, b_title);
    a.doc_id != b.doc_id
        && !a.related.contains(&b.doc_id)
        && !b.related.contains(&a.doc_id)
        && !copies
}

/// Two titles whose informative words ([`confidence::title_words`], sorted) are nearly the
/// same set: at least [`SAME_QUESTION`] of their union is shared.
fn same_question(a: &[String], b: &[String]) -> bool {
    /// Four shared words of five: one question word or qualifier may differ.
    const SAME_QUESTION: f32 = 0.8;
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let shared = a.iter().filter(|w| b.binary_search(w).is_ok()).count();
    shared as f32 >= SAME_QUESTION * (a.len() + b.len() - shared) as f32
}

/// How deep among the candidates [`matched_alike`] looks for a second answer.
const MATCHED_ALIKE_DEPTH: usize = 3;

/// The other hit matches as much of the ticket as the top one, and as much of it in its
/// title or aliases: `disk is full, help pls` finds the same words in the titles of the data
/// disk's, the system disk's and the database's full-disk articles, and nothing else. The ranking
/// score still orders them (title length, term frequency), but nothing the customer said
/// does, so a reply naming the top one is a guess. Two guards keep this to real choices:
/// the top title must hold a fair share of the ticket (two pages that merely mention a word
/// of it are weak candidates, not options to put to the customer), and the other must score
/// within [`ALIKE_SCORE`] of the top one, unless both titles hold all of the ticket
/// (`怎么又扣费了？？` in `莫名被扣费` and in `释放实例后还会继续扣费吗？`). A score far
/// below the top one's means the words it found weigh less there, such as a coarse
/// translation (`已满` for `disk full` in a connections-full title).
fn matched_alike(top: &Hit, other: &Hit) -> bool {
    /// Below this difference in coverage two hits found the same words.
    const SAME: f32 = 0.02;
    /// The share of the ticket the top hit's title must hold.
    const TITLE_MIN: f32 = 0.3;
    /// How far below the top one's ranking score (as a share of it) the other may fall.
    const ALIKE_SCORE: f32 = 0.5;
    /// Title coverage at which both titles restate the ticket whole.
    const WHOLE: f32 = 0.95;
    top.title_coverage >= TITLE_MIN
        && other.coverage >= top.coverage - SAME
        && other.title_coverage >= top.title_coverage - SAME
        && (score_margin(top, other) <= ALIKE_SCORE
            || top.title_coverage.min(other.title_coverage) >= WHOLE)
}

/// Every word of the ticket is in both titles (or aliases): a short ticket such as `ping不通`
/// or `服务器很卡` that two articles answer equally well, however closely they are related
/// (ICMP blocked by the security group, or a route between subnets; CPU credits run out, or
/// a runaway process). Nothing the customer said tells them apart, so a reply naming one
/// of them is a guess: asking is the better answer.
fn both_restate(a: &Hit, b: &Hit) -> bool {
    const FULL: f32 = 0.95;
    a.doc_id != b.doc_id
        && a.coverage.min(b.coverage) >= FULL
        && a.title_coverage.min(b.title_coverage) >= FULL
}

/// Percent-encodes the characters of an entry id that cannot stand in a URL path.
pub fn urlencode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xF)] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::same_question;

    #[test]
    fn reason_names_are_their_serialised_names() {
        use super::EscalationReason::*;
        for r in [
            IfUnresolved,
            LowConfidence,
            NoMatch,
            P0Incident,
            SecurityIncident,
            CustomerRequested,
            BillingDispute,
            RepeatContact,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    fn words(title: &str) -> Vec<String> {
        let analyzer = crate::analysis::Analyzer::new(&[]);
        let res = crate::analysis::resources::QueryResources::default();
        super::confidence::title_words(&analyzer, &res, title)
    }

    #[test]
    fn a_question_copied_in_other_words_is_the_same_question() {
        let kafka = words("删除了Consumer Group还会收到堆积告警？");
        assert!(same_question(
            &kafka,
            &words("为何删除了 Consumer Group 还会收到堆积告警？")
        ));
        assert!(same_question(&kafka, &kafka));
        // Two words shared of seven: another question on the same subject.
        assert!(!same_question(
            &words("为什么告警堆积量和控制台堆积量不一致？"),
            &kafka
        ));
        assert!(!same_question(
            &words("系统盘空间满"),
            &words("RDS 存储空间满")
        ));
        assert!(!same_question(&[], &[]));
    }

    #[test]
    fn entry_ids_are_percent_encoded_for_links() {
        assert_eq!(
            super::urlencode_id("ecs/安全组 规则~a.b_c-d"),
            "ecs/%E5%AE%89%E5%85%A8%E7%BB%84%20%E8%A7%84%E5%88%99~a.b_c-d"
        );
        assert_eq!(super::urlencode_id("faq#q1?x"), "faq%23q1%3Fx");
    }
}
