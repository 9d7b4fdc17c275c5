//! Configuration: one typed struct, every default a documented constant in this file.
//!
//! Sources, later ones winning: built-in defaults → `deflect.toml` (or `--config FILE`) →
//! environment (`DEFLECT_KB`, `DEFLECT_INDEX`, `DEFLECT_LISTEN`, `DEFLECT_ADMIN_KEY`,
//! `DEFLECT_API_KEY`) → command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Default KB directory.
pub const DEFAULT_KB: &str = "kb";
/// Default index root.
pub const DEFAULT_INDEX: &str = "data/index";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Largest request body, bytes (a long ticket with pasted logs fits easily).
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 << 20;
/// Longest query or ticket text, chars; longer text is truncated, not rejected.
pub const DEFAULT_MAX_QUERY_CHARS: usize = 20_000;
/// Largest `limit` per request.
pub const DEFAULT_MAX_LIMIT: usize = 100;
/// Per-request search deadline, milliseconds.
pub const DEFAULT_SEARCH_TIMEOUT_MS: u64 = 5_000;
/// Longest time to receive a whole request body, ms: a client that dribbles its body
/// (slowloris) is cut off with 408 instead of holding a connection and a buffer forever.
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 10_000;
/// Blocking tasks (article reads, feedback writes) running at once (0: two per core).
pub const DEFAULT_MAX_CONCURRENT_SEARCHES: usize = 0;
/// Blocking tasks waiting for a slot before new ones get 503.
pub const DEFAULT_MAX_QUEUED_SEARCHES: usize = 256;
/// When a request woken now would wait longer than this to run, ms, new searches and answers
/// get 503 `overloaded` with `Retry-After` instead of joining the queue.
pub const DEFAULT_MAX_QUEUE_MS: u64 = 500;
/// Nice increment of a live reindex: Linux's scheduler then gives a serving thread ~9× a
/// reindex thread's share of a core both want.
pub const DEFAULT_LIVE_REINDEX_NICE: i32 = 10;
/// Debounce of `serve --watch`, milliseconds.
pub const DEFAULT_WATCH_DEBOUNCE_MS: u64 = 1_000;
/// Size past which the answer log is rotated, MB. A record is about 0.5–1.5 KB, so one
/// file holds some 50,000–100,000 answers.
pub const DEFAULT_ANSWER_LOG_MAX_MB: u64 = 64;
/// Confidence at or above which a ticket is answered automatically.
pub const DEFAULT_AUTO_THRESHOLD: f32 = 0.80;
/// Confidence below which a ticket is escalated.
pub const DEFAULT_SUGGEST_THRESHOLD: f32 = 0.55;
/// Candidates within this confidence ratio of the top one are "close" (clarify).
pub const DEFAULT_CLARIFY_RATIO: f32 = 0.90;
/// ... and the second's ranking score within this share of the top one's: (s₁ − s₂) / s₁ at
/// most this. Calibrated confidence saturates near 1 for two good matches, so the ratio alone
/// cannot tell a tie from a clear winner; the scores can.
pub const DEFAULT_CLARIFY_MARGIN: f32 = 0.30;

/// Errors loading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is not valid.
    #[error("invalid setting {key}: {message}")]
    Value {
        /// Setting.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Server and request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Longest query or ticket text, chars (truncated beyond).
    pub max_query_chars: usize,
    /// Largest `limit`.
    pub max_limit: usize,
    /// Per-request search deadline, ms.
    pub search_timeout_ms: u64,
    /// Longest time to receive a request body, ms (408 beyond).
    pub body_timeout_ms: u64,
    /// Concurrent blocking tasks: article reads, feedback writes (0: two per core).
    pub max_concurrent_searches: usize,
    /// Waiting blocking tasks before 503.
    pub max_queued_searches: usize,
    /// Queueing delay of the server, ms, beyond which new searches and answers get 503.
    pub max_queue_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_query_chars: DEFAULT_MAX_QUERY_CHARS,
            max_limit: DEFAULT_MAX_LIMIT,
            search_timeout_ms: DEFAULT_SEARCH_TIMEOUT_MS,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            max_concurrent_searches: DEFAULT_MAX_CONCURRENT_SEARCHES,
            max_queued_searches: DEFAULT_MAX_QUEUED_SEARCHES,
            max_queue_ms: DEFAULT_MAX_QUEUE_MS,
        }
    }
}

impl Limits {
    /// Concurrent blocking searches, resolved.
    pub fn concurrency(&self) -> usize {
        if self.max_concurrent_searches > 0 {
            self.max_concurrent_searches
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get() * 2)
                .unwrap_or(4)
        }
    }
}

/// Ingest limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Files larger than this are skipped, bytes.
    pub max_file_bytes: u64,
    /// Deeper nesting is flattened.
    pub max_nesting: usize,
    /// How much lower than serving a live reindex (the admin endpoint, `serve --watch`) runs:
    /// a Linux nice increment, 0–19, for the reindex and every thread it starts. Serving
    /// keeps its latency while a reindex runs; on an idle machine the reindex is as fast as
    /// ever, under load it takes longer. 0: the same priority as serving.
    pub live_reindex_nice: i32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_file_bytes: crate::ingest::DEFAULT_MAX_FILE_BYTES,
            max_nesting: crate::ingest::DEFAULT_MAX_NESTING,
            live_reindex_nice: DEFAULT_LIVE_REINDEX_NICE,
        }
    }
}

impl IngestConfig {
    /// As ingest limits.
    pub fn limits(&self) -> crate::ingest::Limits {
        crate::ingest::Limits {
            max_file_bytes: self.max_file_bytes,
            max_nesting: self.max_nesting,
        }
    }
}

/// Answer decision settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerConfig {
    /// Auto-reply at or above this confidence.
    pub auto_threshold: f32,
    /// Escalate below this confidence.
    pub suggest_threshold: f32,
    /// Top candidates within this ratio of each other, for different problems → clarify.
    pub clarify_ratio: f32,
    /// ... and the second's score within this share of the top one's ((s₁ − s₂) / s₁).
    pub clarify_margin: f32,
    /// SLA minutes per priority P0..P4.
    pub sla_minutes: [u32; 5],
    /// Base URL for article links in replies.
    pub article_base_url: String,
    /// How to reach a human, in replies (zh).
    pub human_contact_zh: String,
    /// How to reach a human, in replies (en).
    pub human_contact_en: String,
    /// The team a hand-off goes to, per ticket category (lower case). Added to
    /// [`DEFAULT_TEAMS`] and overriding it, so a KB with categories of its own
    /// (`container = "k8s-oncall"`) routes them without restating the rest.
    pub teams: std::collections::BTreeMap<String, String>,
    /// The team for a ticket whose category no entry names, or that has none.
    pub default_team: String,
    /// Longest auto-reply text, in characters, for channels with a limit (SMS, some chat
    /// apps); a request's `options.reply_max_chars` overrides it. Past it, steps lose their
    /// commands, then the last steps go (see `answer::reply::auto_reply`). None: no limit.
    pub reply_max_chars: Option<usize>,
    /// Longest auto-reply text per ticket `channel` (`sms = 300`, `wechat = 600`; any
    /// case), for systems that send each channel's tickets to one endpoint. Between a
    /// request's `options.reply_max_chars` and `reply_max_chars` in precedence.
    pub channel_reply_max_chars: std::collections::BTreeMap<String, usize>,
    /// Ranking weights for the candidates: the defaults, unless `deflect eval --weights`
    /// tries others (so that its decision figures are those of the weights tried). Not read
    /// from the config file.
    #[serde(skip)]
    pub weights: Option<crate::search::Weights>,
}

/// The teams of the bundled KB's categories; `[answer.teams]` adds to and overrides them.
pub const DEFAULT_TEAMS: [(&str, &str); 8] = [
    ("compute", "compute-support"),
    ("network", "network-support"),
    ("storage", "storage-support"),
    ("database", "database-support"),
    ("security", "security-response"),
    ("cdn", "cdn-support"),
    ("billing", "billing-support"),
    ("account", "account-services"),
];

impl AnswerConfig {
    /// The cap on an auto-reply's text for a ticket on `channel`: the channel's own, else
    /// `reply_max_chars`.
    pub fn reply_cap(&self, channel: Option<&str>) -> Option<usize> {
        let channel = channel.map(str::trim).filter(|c| !c.is_empty());
        channel
            .and_then(|c| {
                self.channel_reply_max_chars
                    .iter()
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case(c))
            })
            .map(|(_, &m)| m)
            .or(self.reply_max_chars)
    }

    /// The team a ticket of `category` is handed to: `[answer.teams]`, else
    /// [`DEFAULT_TEAMS`], else `default_team`.
    pub fn team_for(&self, category: Option<&str>) -> &str {
        let Some(c) = category.map(str::trim).filter(|c| !c.is_empty()) else {
            return &self.default_team;
        };
        let c = c.to_lowercase();
        self.teams
            .get(&c)
            .map(String::as_str)
            .or_else(|| DEFAULT_TEAMS.iter().find(|(k, _)| *k == c).map(|(_, t)| *t))
            .unwrap_or(&self.default_team)
    }
}

impl Default for AnswerConfig {
    fn default() -> Self {
        AnswerConfig {
            auto_threshold: DEFAULT_AUTO_THRESHOLD,
            suggest_threshold: DEFAULT_SUGGEST_THRESHOLD,
            clarify_ratio: DEFAULT_CLARIFY_RATIO,
            clarify_margin: DEFAULT_CLARIFY_MARGIN,
            sla_minutes: [15, 60, 240, 1440, 4320],
            article_base_url: "/v1/articles/".into(),
            human_contact_zh: "如问题仍未解决，请直接回复“转人工”，工程师会接手处理。".into(),
            human_contact_en:
                "If this does not solve it, reply \"human\" and an engineer will take over.".into(),
            teams: std::collections::BTreeMap::new(),
            default_team: "general-support".into(),
            reply_max_chars: None,
            channel_reply_max_chars: std::collections::BTreeMap::new(),
            weights: None,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// KB directory.
    pub kb: PathBuf,
    /// Index root.
    pub index: PathBuf,
    /// Listen address.
    pub listen: String,
    /// A second listen address for the operations endpoints alone (`/healthz`, `/readyz`,
    /// `/metrics`, `/v1/admin/reindex`), served by a thread of their own: probes and metrics
    /// answer at once even when the main workers are saturated. None: only on `listen`.
    pub ops_listen: Option<String>,
    /// Keys accepted on admin routes (required there).
    pub admin_keys: Vec<String>,
    /// Keys accepted on read routes (none: read routes are open).
    pub api_keys: Vec<String>,
    /// Allowed CORS origins (`*` for any; empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Log ticket text unmasked (phone numbers, e-mails, ID numbers). Off by default.
    pub log_personal_data: bool,
    /// Append every `/v1/answer` to `answers.jsonl` in the index root, for `deflect report`
    /// (ticket text masked unless `log_personal_data`).
    pub answer_log: bool,
    /// The answer log is rotated to `answers.jsonl.1` past this size, MB.
    pub answer_log_max_mb: u64,
    /// Debounce for `serve --watch`, ms.
    pub watch_debounce_ms: u64,
    /// Request limits.
    pub limits: Limits,
    /// Ingest limits.
    pub ingest: IngestConfig,
    /// Answer settings.
    pub answer: AnswerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            kb: DEFAULT_KB.into(),
            index: DEFAULT_INDEX.into(),
            listen: DEFAULT_LISTEN.into(),
            ops_listen: None,
            admin_keys: Vec::new(),
            api_keys: Vec::new(),
            cors_origins: Vec::new(),
            log_personal_data: false,
            answer_log: true,
            answer_log_max_mb: DEFAULT_ANSWER_LOG_MAX_MB,
            watch_debounce_ms: DEFAULT_WATCH_DEBOUNCE_MS,
            limits: Limits::default(),
            ingest: IngestConfig::default(),
            answer: AnswerConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then the file (`path`, or `./deflect.toml` if present), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let file = path
            .map(Path::to_path_buf)
            .or_else(|| Some(PathBuf::from("deflect.toml")).filter(|p| p.is_file()));
        let mut c = match file {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: p.clone(),
                    message: e.to_string(),
                })?
            }
            None => Config::default(),
        };
        c.apply_env(|k| std::env::var(k).ok());
        c.validate()?;
        Ok(c)
    }

    /// Applies `DEFLECT_*` variables.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("DEFLECT_KB") {
            self.kb = v.into();
        }
        if let Some(v) = get("DEFLECT_INDEX") {
            self.index = v.into();
        }
        if let Some(v) = get("DEFLECT_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("DEFLECT_OPS_LISTEN").filter(|v| !v.is_empty()) {
            self.ops_listen = Some(v);
        }
        if let Some(v) = get("DEFLECT_ADMIN_KEY").filter(|v| !v.is_empty()) {
            self.admin_keys.push(v);
        }
        if let Some(v) = get("DEFLECT_API_KEY").filter(|v| !v.is_empty()) {
            self.api_keys.push(v);
        }
    }

    /// Checks values that would fail later in a confusing way.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError::Value {
                key: "listen".into(),
                message: format!("`{}`: {e}", self.listen),
            })?;
        if let Some(ops) = &self.ops_listen {
            let addr = ops.parse::<SocketAddr>().map_err(|e| ConfigError::Value {
                key: "ops_listen".into(),
                message: format!("`{ops}`: {e}"),
            })?;
            if addr.port() != 0 && self.listen.parse::<SocketAddr>().ok() == Some(addr) {
                return Err(ConfigError::Value {
                    key: "ops_listen".into(),
                    message: format!(
                        "`{ops}` is the main listen address too; give it a port of its own"
                    ),
                });
            }
        }
        if self.answer_log_max_mb == 0 {
            return Err(ConfigError::Value {
                key: "answer_log_max_mb".into(),
                message: "must be at least 1 (turn the log off with `answer_log = false`)".into(),
            });
        }
        if !(0..=19).contains(&self.ingest.live_reindex_nice) {
            return Err(ConfigError::Value {
                key: "ingest.live_reindex_nice".into(),
                message: format!("{} is not within 0–19", self.ingest.live_reindex_nice),
            });
        }
        let a = &self.answer;
        if !(0.0..=1.0).contains(&a.auto_threshold)
            || !(0.0..=1.0).contains(&a.suggest_threshold)
            || a.suggest_threshold > a.auto_threshold
        {
            return Err(ConfigError::Value {
                key: "answer".into(),
                message: "thresholds must satisfy 0 <= suggest_threshold <= auto_threshold <= 1"
                    .into(),
            });
        }
        for (category, team) in &a.teams {
            if team.trim().is_empty() || category.trim().is_empty() {
                return Err(ConfigError::Value {
                    key: format!("answer.teams.{category}"),
                    message: "a category and its team must both be named".into(),
                });
            }
        }
        let caps = a
            .reply_max_chars
            .map(|m| ("answer.reply_max_chars".to_string(), m))
            .into_iter()
            .chain(
                a.channel_reply_max_chars
                    .iter()
                    .map(|(c, &m)| (format!("answer.channel_reply_max_chars.{c}"), m)),
            );
        for (key, m) in caps {
            if m < crate::answer::reply::MIN_REPLY_CHARS {
                return Err(ConfigError::Value {
                    key,
                    message: format!(
                        "{m} is below {}, too short for the title, link and contact lines",
                        crate::answer::reply::MIN_REPLY_CHARS
                    ),
                });
            }
        }
        if a.default_team.trim().is_empty() {
            return Err(ConfigError::Value {
                key: "answer.default_team".into(),
                message: "must name a team".into(),
            });
        }
        for k in self.admin_keys.iter().chain(&self.api_keys) {
            if k.len() < 16 {
                return Err(ConfigError::Value {
                    key: "keys".into(),
                    message: "API keys must be at least 16 characters".into(),
                });
            }
        }
        Ok(())
    }
}

/// Sets up logging: `RUST_LOG` filter (default `info`), JSON when `DEFLECT_LOG_JSON=1`.
///
/// With `background` (the server), lines are handed to a writer thread, so a request never
/// waits on stderr (a slow pipe or a stalled log collector); none is dropped: when the
/// thread's queue is full, the request waits. The returned guard flushes the queue when
/// dropped, so `main` keeps it to the end. Commands write in place, in order with their output.
pub fn init_tracing(background: bool) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("DEFLECT_LOG_JSON").is_ok_and(|v| v == "1");
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = if background {
        let (w, g) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .thread_name("deflect-log")
            .finish(std::io::stderr());
        (
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(w),
            Some(g),
        )
    } else {
        (
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr),
            None,
        )
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    guard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn env_overrides_and_file_keys() {
        let mut c: Config = toml::from_str("kb = \"x\"\n[limits]\nmax_limit = 5\n").unwrap();
        c.apply_env(|k| (k == "DEFLECT_ADMIN_KEY").then(|| "0123456789abcdef".to_string()));
        assert_eq!(c.kb, PathBuf::from("x"));
        assert_eq!(c.limits.max_limit, 5);
        assert_eq!(c.admin_keys, vec!["0123456789abcdef"]);
    }

    #[test]
    fn teams_add_to_the_built_in_map_and_override_it() {
        let c: Config = toml::from_str(
            "[answer]\ndefault_team = \"triage\"\n[answer.teams]\ncontainer = \"k8s-oncall\"\nbilling = \"finance\"\n",
        )
        .unwrap();
        c.validate().unwrap();
        let a = &c.answer;
        assert_eq!(a.team_for(Some("container")), "k8s-oncall");
        assert_eq!(a.team_for(Some("Billing")), "finance");
        assert_eq!(a.team_for(Some("compute")), "compute-support");
        assert_eq!(a.team_for(Some("other")), "triage");
        assert_eq!(a.team_for(None), "triage");
        let bad: Config = toml::from_str("[answer.teams]\nbilling = \" \"\n").unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn a_reply_cap_too_short_for_the_link_is_refused() {
        let c: Config = toml::from_str("[answer]\nreply_max_chars = 600\n").unwrap();
        c.validate().unwrap();
        assert_eq!(c.answer.reply_max_chars, Some(600));
        let c: Config = toml::from_str(
            "[answer]\nreply_max_chars = 900\n[answer.channel_reply_max_chars]\nSMS = 300\n",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.answer.reply_cap(Some(" sms ")), Some(300));
        assert_eq!(c.answer.reply_cap(Some("email")), Some(900));
        assert_eq!(c.answer.reply_cap(None), Some(900));
        let short: Config = toml::from_str("[answer.channel_reply_max_chars]\nsms = 70\n").unwrap();
        let err = short.validate().unwrap_err().to_string();
        assert!(err.contains("answer.channel_reply_max_chars.sms"), "{err}");
        let bad: Config = toml::from_str("[answer]\nreply_max_chars = 70\n").unwrap();
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("answer.reply_max_chars"), "{err}");
    }

    #[test]
    fn unknown_setting_is_an_error() {
        assert!(toml::from_str::<Config>("kbb = \"x\"\n").is_err());
    }

    #[test]
    fn short_keys_are_refused() {
        let c = Config {
            admin_keys: vec!["short".into()],
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn ops_listen_must_be_an_address_of_its_own() {
        let mut c = Config::default();
        c.apply_env(|k| (k == "DEFLECT_OPS_LISTEN").then(|| "127.0.0.1:9090".to_string()));
        assert_eq!(c.ops_listen.as_deref(), Some("127.0.0.1:9090"));
        c.validate().unwrap();
        c.ops_listen = Some("localhost-9090".into());
        assert!(c.validate().is_err());
        c.ops_listen = Some(c.listen.clone());
        assert!(c.validate().is_err());
    }

    #[test]
    fn live_reindex_nice_is_read_and_checked() {
        assert_eq!(Config::default().ingest.live_reindex_nice, 10);
        let c: Config = toml::from_str("[ingest]\nlive_reindex_nice = 0\n").unwrap();
        assert_eq!(c.ingest.live_reindex_nice, 0);
        c.validate().unwrap();
        for bad in [-1, 20] {
            let mut c = Config::default();
            c.ingest.live_reindex_nice = bad;
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("ingest.live_reindex_nice"), "{e}");
        }
    }
}
