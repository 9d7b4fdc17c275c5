//! Entities found in ticket and article text: error codes (matched exactly in their own
//! field), and the identifiers that tell the answer step what a ticket already provides
//! (instance and resource IDs, IPs, regions, timestamps, order numbers) or that logs must mask
//! (phone numbers, e-mail addresses, ID-card numbers).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use serde::Serialize;

use super::normalize::{canonical_code, nfkc};

/// What the extractor found in one text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Entities {
    /// Error codes and messages, as written (`InvalidInstanceId.NotFound`, `HTTP 502`).
    pub error_codes: Vec<String>,
    /// Instance and resource IDs (`i-bp1…`, `sg-…`, `vpc-…`).
    pub resource_ids: Vec<String>,
    /// IPv4 addresses.
    pub ips: Vec<String>,
    /// Region ids or names (`cn-hangzhou`, `华东1`).
    pub regions: Vec<String>,
    /// Dates and times.
    pub timestamps: Vec<String>,
    /// Order numbers.
    pub order_ids: Vec<String>,
    /// Domain names and URLs.
    pub domains: Vec<String>,
    /// Pasted error lines without a code (`Permission denied (publickey)`).
    pub error_messages: Vec<String>,
    /// Months named, which tell which bill a billing ticket means (`上个月`, `2026年10月`,
    /// `2026-10`, `last month`, `October`).
    pub months: Vec<String>,
    /// The customer's account, as given: an e-mail address or login name, or an account ID
    /// after its label (`UID 1234567890123456`, `账号是 shop_admin`).
    pub accounts: Vec<String>,
}

// Error codes. Each pattern is anchored on shape, not on a list of products.
re!(
    DOTTED_CODE,
    r"(?-u:\b)[A-Z][A-Za-z0-9]+(?:\.[A-Z][A-Za-z0-9]*)+(?-u:\b)"
);
re!(SNAKE_CODE, r"(?-u:\b)[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?-u:\b)");
// Camel-case codes: a condition at the end (`InstanceNotFound`, `RequestTimeTooSkewed`,
// after a product's capitals too: `OTSParameterInvalid`, `OTSServerBusy`), a
// condition at the start (`InvalidParameter`, `MissingParameter`, `NoSuchKey`), or a noun
// the API names (`Access`, `Request`, `Signature`, `Entity`, `Operation`, `Quota`) with a
// condition word after it (`AccessDenied`, `OperationNotSupported`, `QuotaExceeded`). Such
// a noun with nouns only after it is a parameter or a credential (`RequestId`,
// `AccessKeyId`, `SignatureVersion`), found on every API page: not a code.
re!(
    CAMEL_CODE,
    r"(?-u:\b)(?:[A-Z]{2,5}(?:[A-Z][a-z0-9]+)+|(?:[A-Z][a-z0-9]+){2,})(?:Error|Exception|Denied|NotFound|Invalid|Failed|Failure|Fail|Timeout|Mismatch|Exceeded|Exhausted|Forbidden|Conflict|Unavailable|Expired|Match|Skewed|Large|Exists|Exist|Busy)(?-u:\b)|(?-u:\b)(?:Invalid|Missing|Forbidden|Throttling|Unauthorized|Incorrect|No[A-Z])[A-Za-z]*(?:[A-Z][a-z0-9]+)+(?-u:\b)|(?-u:\b)(?:Access|Request|Signature|Entity|Operation|Quota)(?:[A-Z][a-z0-9]+)*(?:Denied|Forbidden|Timeout|Skewed|Expired|Exceeded|Exceed|Throttled|Conflict|Failed|Failure|Aborted|Unsupported|Used|Too|Not|Invalid|Error|Mismatch)(?:[A-Z][a-z0-9]+)*(?-u:\b)"
);
re!(DASH_CODE, r"(?-u:\b)[A-Z]{2,6}-\d{3,6}(?-u:\b)");
re!(
    MYSQL_CODE,
    r"(?i)(?-u:\b)ERROR\s+(\d{4,5})\s*\(([0-9A-Z]{5})\)"
);
re!(HEX_CODE, r"(?-u:\b)0x[0-9A-Fa-f]{8}(?-u:\b)");
re!(
    ERRNO,
    r"(?-u:\b)E(?:CONNREFUSED|CONNRESET|CONNABORTED|TIMEDOUT|HOSTUNREACH|NETUNREACH|ADDRINUSE|ADDRNOTAVAIL|ACCES|PERM|NOENT|NOSPC|NOMEM|MFILE|NFILE|PIPE|AGAIN|EXIST|INVAL|ROFS|IO|NOTCONN|DQUOT)(?-u:\b)"
);
re!(
    HTTP_STATUS,
    r"(?i)(?:(?-u:\b)HTTP(?:/\d(?:\.\d)?)?|状态码|status(?:\s*code)?|错误码|返回|报)\s*[:：]?\s*([1-5]\d\d)(?-u:\b)|(?-u:\b)([45]\d\d)\s+(?:bad gateway|gateway time-?out|forbidden|not found|service unavailable|internal server error|unauthorized|bad request|too many requests)"
);
re!(
    RESOURCE_ID,
    r"(?-u:\b)(?:i|d|s|m|eip|vpc|vsw|sg|lb|alb|nlb|ngw|vpn|vco|rm|r|cdn|dds|pc|eni|img|snap|key|acs|cr|ack|nas|fs)-[a-z0-9]{8,32}(?-u:\b)"
);
re!(
    IPV4,
    r"(?-u:\b)(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?-u:\b)"
);
re!(
    REGION_ID,
    r"(?-u:\b)(?:cn|ap|us|eu|me|sa|af|na)-(?:[a-z]+)(?:-[a-z0-9]+)?(?:-\d)?(?-u:\b)"
);
re!(
    REGION_NAME,
    r"华东\s?[12]|华北\s?[1-6]|华南\s?[1-3]|西南\s?1|杭州|上海|北京|深圳|张家口|呼和浩特|乌兰察布|河源|广州|成都|青岛|香港|新加坡|东京|首尔|法兰克福|伦敦|硅谷|弗吉尼亚|悉尼|吉隆坡|雅加达|孟买|迪拜"
);
re!(
    TIMESTAMP,
    r"(?-u:\b)\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?|(?-u:\b)\d{4}年\d{1,2}月\d{1,2}[日号](?:\s*\d{1,2}[:点]\d{0,2})?|(?:今天|昨天|前天|今早|今晚|昨晚|刚才|上午|下午|晚上|凌晨)\s*\d{1,2}(?:[:：]\d{2}|点(?:\d{1,2}分?|半)?)|(?-u:\b)\d{1,2}:\d{2}(?::\d{2})?(?-u:\b)"
);
// A month, as a bill is named. Chinese: `上个月`, `本月`, `这个月`, `10月份`, `2026年10月`;
// a year and month `2026-10` (not a date); English: `last month`, a month's full name
// (`may` only with a year: it is a verb), an abbreviation with a year (`Oct 2026`).
re!(
    MONTH,
    r"(?i)(?:上上|上|本|这|当)个?月份?|(?:\d{4}\s*年\s*)?\d{1,2}\s*月份?|(?-u:\b)\d{4}[-/.](?:0?[1-9]|1[0-2])(?:[-/.]\d{1,2})?(?-u:\b)|(?-u:\b)(?:last|this|previous|past|current)\s+month(?-u:\b)|(?-u:\b)(?:january|february|march|april|june|july|august|september|october|november|december)(?-u:\b)(?:\s+\d{4})?|(?-u:\b)(?:may|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?\s+\d{4}(?-u:\b)"
);
// An account ID or login name after its label: `UID: 1234567890123456`, `账号ID 123…`,
// `账号是 shop_admin`, `account name: shop-admin`.
re!(
    ACCOUNT,
    r"(?i)(?:uid|(?:主)?(?:账号|帐号|账户|帐户)\s*id|account\s*id)\s*(?:是|为|[:：#])?\s*(\d{6,20})(?-u:\b)|(?:账号|帐号|账户|登录名|用户名|account(?:\s+name)?|user\s*name|login)\s*(?:是|为|[:：])\s*([A-Za-z0-9][A-Za-z0-9._@-]{2,63})"
);
re!(
    ORDER_ID,
    r"(?i)(?:订单号?|单号|order\s*(?:id|no\.?|number)?|流水号)\s*[:：#]?\s*([0-9A-Za-z]{8,32})"
);
re!(
    DOMAIN,
    r"(?i)(?-u:\b)(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|cn|net|org|io|top|xyz|info|biz|cc|tv|me|shop|site|online|app|dev|co|hk|tw|jp|us|uk)(?-u:\b)(?:/[^\s，。)）]*)?"
);
// A word that makes a line of ASCII text an error message (see `error_lines`).
re!(
    ERROR_WORD,
    r"(?i)(?-u:\b)(?:error|denied|refused|timed? ?out|failed|failure|exception|not found|forbidden|invalid|unable to|cannot|can't|no such|panic|fatal|unreachable|expired|too many)(?-u:\b)"
);
// A pasted message after a Chinese lead-in (`报错：…`).
re!(
    ERROR_AFTER_LEAD,
    r"(?:报错|错误提示|提示|报|返回)[:：]\s*[^\n。]{4,80}"
);

/// Bytes of message text taken on each side of an [`ERROR_WORD`].
const ERROR_LINE_REACH: usize = 60;

/// The bytes an English error line is made of.
fn error_line_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" ,.'()_:/-".contains(&b)
}

/// Pasted error lines in NFKC text, in order: an [`ERROR_WORD`] with up to
/// [`ERROR_LINE_REACH`] bytes of message text on each side (starting at a letter), or a
/// message after a Chinese lead-in. The matches are those of the one regex
/// `(?i)[A-Za-z][class]{0,60}\b(?:words)\b[class]{0,60}|lead-in` with leftmost-first
/// semantics, found without it: its counted repeats made the lazy DFA build new states on
/// every ticket (a quarter of an answer's work).
fn error_lines(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let words: Vec<(usize, usize)> = ERROR_WORD
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut next_word = 0;
    loop {
        // The English line starting first at or after `pos`: the first word, in order, with
        // a letter before it (at most REACH + 1 bytes back, message bytes all the way).
        while next_word < words.len() && words[next_word].0 <= pos {
            next_word += 1;
        }
        let mut english = None;
        for w in &words[next_word..] {
            let ks = w.0;
            let mut start = None;
            let mut i = ks;
            while i > pos && ks - i < ERROR_LINE_REACH + 1 && error_line_byte(bytes[i - 1]) {
                i -= 1;
                if bytes[i].is_ascii_alphabetic() {
                    start = Some(i);
                }
            }
            if let Some(p) = start {
                // Greedy: the last word the text before it still reaches from `p`.
                let reach = p + 1 + ERROR_LINE_REACH;
                // Where the message bytes from `p` end, as far as a reachable word can go.
                let scan = (reach + 16).min(bytes.len());
                let run_end = (p + 1..scan)
                    .find(|&j| !error_line_byte(bytes[j]))
                    .unwrap_or(scan);
                let (_, ke) = *words
                    .iter()
                    .rev()
                    .find(|w| w.0 > p && w.0 <= reach && w.1 <= run_end)
                    .unwrap_or(w);
                let tail = bytes[ke..]
                    .iter()
                    .take(ERROR_LINE_REACH)
                    .take_while(|&&b| error_line_byte(b))
                    .count();
                english = Some(p..ke + tail);
                break;
            }
        }
        let lead = ERROR_AFTER_LEAD.find_at(text, pos).map(|m| m.range());
        let next = match (english, lead) {
            (Some(e), Some(l)) => {
                if l.start < e.start {
                    l
                } else {
                    e
                }
            }
            (Some(e), None) => e,
            (None, Some(l)) => l,
            (None, None) => break,
        };
        pos = next.end;
        out.push(next);
    }
    out
}
re!(PHONE, r"(?-u:\b)1[3-9]\d{9}(?-u:\b)");
re!(EMAIL, r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}");
re!(
    ID_CARD,
    r"(?-u:\b)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?-u:\b)"
);

fn push_unique(v: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() && !v.iter().any(|x| x.eq_ignore_ascii_case(s)) {
        v.push(s.to_string());
    }
}

/// Error codes in `text`, as written. NFKC first so full-width codes are found.
pub fn error_codes(text: &str) -> Vec<String> {
    let text = nfkc(text);
    let mut out = Vec::new();
    for m in MYSQL_CODE.captures_iter(&text) {
        push_unique(&mut out, &format!("ERROR {} ({})", &m[1], &m[2]));
    }
    for re in [
        &*DOTTED_CODE,
        &*SNAKE_CODE,
        &*CAMEL_CODE,
        &*DASH_CODE,
        &*HEX_CODE,
        &*ERRNO,
    ] {
        for m in re.find_iter(&text) {
            let s = m.as_str();
            // A dotted "code" that is a file name or a version is not an error code.
            if re.as_str() == DOTTED_CODE.as_str()
                && !s.chars().skip(1).any(|c| c.is_ascii_uppercase())
            {
                continue;
            }
            push_unique(&mut out, s);
        }
    }
    for c in HTTP_STATUS.captures_iter(&text) {
        if let Some(code) = c.get(1).or_else(|| c.get(2)) {
            push_unique(&mut out, &format!("HTTP {}", code.as_str()));
        }
    }
    out
}

/// Canonical (matching) forms of the error codes in `text`.
pub fn canonical_codes(text: &str) -> Vec<String> {
    let mut out: Vec<String> = error_codes(text)
        .iter()
        .map(|c| canonical_code(c))
        .collect();
    out.dedup();
    out
}

/// Phrases that report a problem: simplified and traditional Chinese, matched anywhere.
const PROBLEM_PHRASES: &[&str] = &[
    "无法",
    "不能",
    "不了",
    "不上",
    "不到",
    "不通",
    "不出",
    "失败",
    "报错",
    "错误",
    "出错",
    "异常",
    "故障",
    "超时",
    "打不开",
    "不生效",
    "未生效",
    "没生效",
    "没有生效",
    "没反应",
    "没有反应",
    "丢失",
    "掉线",
    "断开",
    "中断",
    "卡住",
    "卡死",
    "崩溃",
    "宕机",
    "挂了",
    "告警",
    "报警",
    "拒绝",
    "被拦截",
    "无数据",
    "没数据",
    "为空",
    "是空的",
    "不见了",
    "没了",
    "变慢",
    "很慢",
    "特别慢",
    "怎么办",
    "怎么处理",
    "怎么解决",
    "如何解决",
    "如何处理",
    "如何排查",
    "为什么",
    "为何",
    "無法",
    "失敗",
    "報錯",
    "錯誤",
    "異常",
    "超時",
    "打不開",
    "連不上",
    "斷開",
    "當機",
    "為什麼",
    "怎麼辦",
    // Something ran out, over or wrong (`磁盘满了`, `CPU 飙升`, `证书格式不对`). Not `不足` or
    // `被删`: `余额不足时…会受影响吗` and `快照会被删除吗` ask about a case, they report none.
    "满了",
    "占满",
    "爆满",
    "打满",
    "跑满",
    "爆了",
    "刷爆",
    "飙升",
    "不够",
    "卡顿",
    "很卡",
    "不行",
    "不对",
    "有问题",
    "出问题",
    "误删",
    "被封",
    "封禁",
    "限流",
    "滿了",
    "佔滿",
    "爆滿",
    "飆升",
    "不夠",
    "卡頓",
    "不對",
    "有問題",
    "出問題",
    "誤刪",
];

/// English words that report a problem: any case, as whole words.
const PROBLEM_WORDS: &[&str] = &[
    "error",
    "errors",
    "fail",
    "fails",
    "failed",
    "failing",
    "failure",
    "cannot",
    "can't",
    "can not",
    "unable",
    "denied",
    "refused",
    "timeout",
    "timed out",
    "time out",
    "not working",
    "doesn't work",
    "does not work",
    "broken",
    "crash",
    "crashed",
    "crashes",
    "exception",
    "invalid",
    "forbidden",
    "unreachable",
    "lost",
    "missing",
    "stuck",
    "hangs",
    "slow",
    "why",
];

/// True when `token` (one analysed word) is itself a report of something going wrong
/// (`不行`, `报错`, `失败`, `打不开`, `timeout`): a word of [`describes_problem`]'s lists. A
/// ticket whose words are all such (`还是不行`, `又报错了`) says that something fails and
/// not what.
pub fn is_problem_word(token: &str) -> bool {
    /// Words that say an attempt failed (`试了没用`, "still not working", "didn't help"),
    /// kept out of [`PROBLEM_PHRASES`]: read as substrings there, `没用` would find a problem
    /// in `没用过`. English ones as the analyzer leaves them: stems, and a negative
    /// contraction's two halves (`didn` and `t`).
    const ATTEMPT_FAILED: &[&str] = &[
        "没用",
        "没有用",
        "不管用",
        "没效果",
        "没有效果",
        "not",
        "work",
        "still",
        "t",
        "don",
        "doesn",
        "didn",
        "isn",
        "wasn",
        "aren",
        "weren",
        "won",
        "couldn",
        "wouldn",
    ];
    PROBLEM_PHRASES.contains(&token)
        || PROBLEM_WORDS.contains(&token)
        || ATTEMPT_FAILED.contains(&token)
}

/// True when `text` reports something going wrong (a failure, an error, something that does
/// not work or is missing) rather than asking how to do or what something is. Simplified,
/// traditional and English phrasings; `text` need not be normalised.
///
/// One automaton over all phrases: a regex alternation of them built lazy-DFA states on
/// most new tickets (~130 K instructions a call), where this is a pass over the bytes.
pub fn describes_problem(text: &str) -> bool {
    static AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(PROBLEM_PHRASES.iter().chain(PROBLEM_WORDS))
            .expect("valid phrases")
    });
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let bytes = text.as_bytes();
    AC.find_overlapping_iter(text).any(|m| {
        if m.pattern().as_usize() < PROBLEM_PHRASES.len() {
            !a_not_a_question(text, m.start())
        } else {
            !word(m.start().checked_sub(1).and_then(|i| bytes.get(i))) && !word(bytes.get(m.end()))
        }
    })
}

/// Whether the `不` at byte `at` is the middle of an X不X question (`能不能开通 pg_cron 插件`,
/// `是不是我们自己人登的`): it asks, it reports nothing wrong. Not when that first X ends a
/// word (`功能不能用`, `性能不能满足`, `但是不是我们的人`): then `不X` is said outright.
pub fn a_not_a_question(text: &str, at: usize) -> bool {
    /// Characters that make a word with a following 能 or 是.
    const ENDS_WORD: &str =
        "功性可智技效本职体动产潜势才万机热电核节储异但还就总于凡倒若要只即或真老都也正像便而";
    let Some(x) = text[at..].strip_prefix('不').and_then(|r| r.chars().next()) else {
        return false;
    };
    let mut before = text[..at].chars().rev();
    before.next() == Some(x) && before.next().is_none_or(|c| !ENDS_WORD.contains(c))
}

/// The pasted error lines of `text` without a code (`Permission denied (publickey)`), at
/// most five: what [`Entities::error_messages`] holds.
pub fn error_messages(text: &str) -> Vec<String> {
    messages_in(&nfkc(text))
}

/// [`error_messages`] of a text already NFKC-normalised.
fn messages_in(norm: &str) -> Vec<String> {
    let mut out = Vec::new();
    for m in error_lines(norm) {
        // The sentence's own punctuation (`…Connection refused，麻烦…` normalises to `,`)
        // is not part of the message.
        let msg = norm[m].trim_end_matches([' ', ',', '.', ';', ':', '/', '-', '(']);
        if out.len() < 5 && !msg.is_empty() {
            push_unique(&mut out, msg);
        }
    }
    out
}

/// Extracts every entity kind from `text`.
pub fn extract(text: &str) -> Entities {
    let norm = nfkc(text);
    let mut e = Entities {
        error_codes: error_codes(&norm),
        ..Default::default()
    };
    for m in RESOURCE_ID.find_iter(&norm) {
        push_unique(&mut e.resource_ids, m.as_str());
    }
    for m in IPV4.find_iter(&norm) {
        push_unique(&mut e.ips, m.as_str());
    }
    for m in REGION_ID.find_iter(&norm) {
        let s = m.as_str();
        // `cn-hangzhou` yes; `ap-xxx` only if it looks like a region, not a random word pair.
        if s.starts_with("cn-") || s.chars().last().is_some_and(|c| c.is_ascii_digit()) {
            push_unique(&mut e.regions, s);
        }
    }
    for m in REGION_NAME.find_iter(&norm) {
        push_unique(&mut e.regions, m.as_str());
    }
    for m in TIMESTAMP.find_iter(&norm) {
        push_unique(&mut e.timestamps, m.as_str());
    }
    for c in ORDER_ID.captures_iter(&norm) {
        if c[1].chars().filter(|c| c.is_ascii_digit()).count() >= 8 {
            push_unique(&mut e.order_ids, &c[1]);
        }
    }
    e.error_messages = messages_in(&norm);
    for m in MONTH.find_iter(&norm) {
        // `2026-10-05` is a date (a timestamp); `2026-10` names a month.
        if m.as_str().matches(['-', '/', '.']).count() < 2 {
            push_unique(&mut e.months, m.as_str());
        }
    }
    for m in EMAIL.find_iter(&norm) {
        push_unique(&mut e.accounts, m.as_str());
    }
    for c in ACCOUNT.captures_iter(&norm) {
        if let Some(a) = c.get(1).or_else(|| c.get(2)) {
            push_unique(&mut e.accounts, a.as_str());
        }
    }
    for m in DOMAIN.find_iter(&norm) {
        let s = m.as_str();
        if !EMAIL.is_match(s)
            && !norm[m.end()..].starts_with('@')
            && !norm[..m.start()].ends_with('@')
        {
            push_unique(&mut e.domains, s);
        }
    }
    e
}

/// True when an analysed token is shaped like an identifier of one customer's things rather
/// than a word: an IP address, a resource or request id (`i-bp1c3e5g7i9k1m3o5q7s`), a long
/// number (order, account, phone, port), a date or time (`13/may/2024:12:03:11`), a hash. No KB
/// article is about such a token, so a ticket full of them does not say more; the query
/// leaves them out when the index has never seen them. Short codes (`0x0000007b`, `1153`,
/// `08s01`, `tlsv1.2`) are not identifiers.
pub fn is_identifier(token: &str) -> bool {
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 || !token.is_ascii() {
        return false;
    }
    let letters = token.bytes().filter(u8::is_ascii_alphabetic).count();
    let parts: Vec<&str> = token.split(['.', '_', '-', '/', ':', '+', '#']).collect();
    // Dotted quads with an optional port or prefix length: 10.0.3.7, 47.243.118.62:8080.
    if parts.len() >= 4
        && parts[..4]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return true;
    }
    if letters == 0 {
        // Numbers of five digits or more, alone or grouped as a date or a time (2024-05-13,
        // 12:03:11). Short versions (5.7.44, 8.0.32) and ports (3306) stay words.
        return digits >= 5
            && (parts.len() == 1 || parts.len() >= 3 || parts.iter().any(|p| p.len() >= 4));
    }
    // Letters and digits mixed: ids and hashes are long and dense with digits. A Windows
    // stop code or HRESULT (0xc004f074) is a code.
    let len = token.len();
    if token.starts_with("0x") && len <= 10 {
        return false;
    }
    let hex = token.bytes().all(|b| b.is_ascii_hexdigit());
    (len >= 16 && hex) || (len >= 10 && digits >= 3 && digits * 5 >= len)
}

/// Replaces phone numbers, e-mail addresses and ID-card numbers with placeholders, for logs;
/// and credentials ([`mask_secrets`]).
pub fn mask_personal_data(text: &str) -> String {
    let t = mask_secrets(text);
    let t = EMAIL.replace_all(&t, "[email]");
    let t = ID_CARD.replace_all(&t, "[id-card]");
    PHONE.replace_all(&t, "[phone]").into_owned()
}

// Credentials customers paste into tickets although the form asks them not to.
re!(
    ACCESS_KEY_ID,
    r"(?-u:\b)(?:LTAI[0-9A-Za-z]{12,24}|(?:AKIA|ASIA)[0-9A-Z]{16})(?-u:\b)"
);
re!(
    SECRET_VALUE,
    r"(?i)(access\s*key\s*secret|secret\s*key|secret|password|passwd|pwd|token|密码|口令|密钥|秘钥)(\s*(?:是|为|:|：|=)\s*)[^\s，。,;；'\x22“”]{6,}"
);
// The same told in an English sentence: `root password is Abc12345`. Only a value holding a
// digit or a symbol counts ([`looks_secret`]): `the password is incorrect` tells no secret.
re!(
    SECRET_SENTENCE,
    r"(?i)(?-u:\b)((?:root |admin |db |database |my |our |the )?(?:password|passwd|passphrase|pwd))(\s+(?:is|was|is still|=)\s+)([^\s，。,;；'\x22“”]{6,})"
);

/// A value that reads as a secret rather than a word: it holds an ASCII digit or symbol.
fn looks_secret(value: &str) -> bool {
    let v = value.trim_end_matches(['.', '!', '?', ')']);
    v.chars().count() >= 6
        && v.chars()
            .any(|c| c.is_ascii_digit() || c.is_ascii_punctuation())
}

re!(
    PRIVATE_KEY,
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]*?-----END [A-Z ]*PRIVATE KEY-----|\s*[A-Za-z0-9+/=\s]{40,})"
);

/// What kind of credential `text` carries, if any: `accesskey`, `private_key` or `secret`
/// (see [`mask_secrets`]).
pub fn credential_kind(text: &str) -> Option<&'static str> {
    if PRIVATE_KEY.is_match(text) {
        Some("private_key")
    } else if ACCESS_KEY_ID.is_match(text) {
        Some("accesskey")
    } else if SECRET_VALUE.is_match(text)
        || SECRET_SENTENCE
            .captures_iter(text)
            .any(|c| looks_secret(&c[3]))
    {
        Some("secret")
    } else {
        None
    }
}

/// Replaces credentials with placeholders: AccessKey IDs (`LTAI…`, `AKIA…`), a value given
/// after a secret's label (`AccessKey Secret: …`, `密码是 …`, `password=…`; six characters or
/// more, so `using password: YES` stays), and private keys (a key's header alone, `私钥文件开头是
/// -----BEGIN PRIVATE KEY-----`, stays). Applied to everything
/// deflect writes down (the answer log, feedback comments, request logs), whatever
/// `log_personal_data` says: no one needs a credential in a log.
pub fn mask_secrets(text: &str) -> String {
    let t = PRIVATE_KEY.replace_all(text, "[private-key]");
    let t = ACCESS_KEY_ID.replace_all(&t, "[accesskey-id]");
    let t = SECRET_VALUE.replace_all(&t, "${1}${2}[secret]");
    SECRET_SENTENCE
        .replace_all(&t, |c: &regex::Captures| {
            if looks_secret(&c[3]) {
                format!("{}{}[secret]", &c[1], &c[2])
            } else {
                c[0].to_string()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ticket and query text we have, line by line: the fixtures, the labelled query
    /// sets beside the repo when present, and English troubleshooting pages (error messages
    /// pasted in prose and code blocks). The matchers that replaced a regex are checked
    /// against it on these.
    fn oracle_texts() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts: Vec<String> = Vec::new();
        for f in std::fs::read_dir(root.join("tests/fixtures"))
            .unwrap()
            .flatten()
        {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            texts.extend(text.lines().map(str::to_string));
        }
        let data = root.join("../shared/data");
        for set in [
            "alibabacloud-docs/eval_full",
            "pingcap-docs-cn/eval",
            "awsdocs-ec2-en",
        ] {
            let text = std::fs::read_to_string(data.join(set).join("queries.tsv"));
            texts.extend(text.unwrap_or_default().lines().map(str::to_string));
        }
        if let Ok(dir) = std::fs::read_dir(data.join("awsdocs-ec2-en/articles/doc_source")) {
            for f in dir.flatten().take(60) {
                let text = std::fs::read_to_string(f.path()).unwrap_or_default();
                texts.extend(text.lines().map(str::to_string));
            }
        }
        texts
    }

    #[test]
    fn months_and_accounts() {
        let months = |t: &str| extract(t).months;
        assert_eq!(months("上个月的账单多扣了钱"), ["上个月"]);
        assert_eq!(months("2026年10月和本月的发票"), ["2026年10月", "本月"]);
        assert_eq!(months("账单月份 2026-10"), ["2026-10"]);
        assert_eq!(
            months("invoice for last month, and the one for October 2026"),
            ["last month", "October 2026"]
        );
        assert_eq!(months("the May 2026 bill"), ["May 2026"]);
        // A date is a timestamp; `may` is a verb; a duration names no month.
        assert!(months("2026-10-05 被扣费").is_empty());
        assert!(months("I may have been charged twice").is_empty());
        assert!(months("包年包月，买了3个月").is_empty());
        let accounts = |t: &str| extract(t).accounts;
        assert_eq!(
            accounts("账号是 zhangsan@example.com"),
            ["zhangsan@example.com"]
        );
        assert_eq!(
            accounts("主账号 UID: 1234567890123456"),
            ["1234567890123456"]
        );
        assert_eq!(accounts("帐号是 shop_admin，收不到验证码"), ["shop_admin"]);
        assert_eq!(accounts("account name: shop-admin"), ["shop-admin"]);
        assert!(accounts("账号被锁了").is_empty());
    }

    #[test]
    fn problem_reports_are_those_of_the_one_regex() {
        // The automaton against the regex alternation it replaces (less the `能不能` rule).
        // The regex folds case by
        // Unicode rules, so it also reads the Kelvin sign as k and the long s as s; texts with
        // those two are left out.
        let oracle = regex::Regex::new(concat!(
            r"无法|不能|不了|不上|不到|不通|不出|失败|报错|错误|出错|异常|故障|超时|打不开|",
            r"不生效|未生效|没生效|没有生效|没反应|没有反应|丢失|掉线|断开|中断|卡住|卡死|崩溃|",
            r"宕机|挂了|告警|报警|拒绝|被拦截|无数据|没数据|为空|是空的|不见了|没了|变慢|很慢|特别慢|",
            r"怎么办|怎么处理|怎么解决|如何解决|如何处理|如何排查|为什么|为何|",
            r"無法|不能|失敗|報錯|錯誤|異常|故障|超時|打不開|連不上|斷開|當機|為什麼|怎麼辦|",
            r"满了|占满|爆满|打满|跑满|爆了|刷爆|飙升|不够|卡顿|很卡|不行|不对|有问题|出问题|误删|",
            r"被封|封禁|限流|滿了|佔滿|爆滿|飆升|不夠|卡頓|不對|有問題|出問題|誤刪|",
            r"(?i:(?-u:\b)(?:error|errors|fail|fails|failed|failing|failure|cannot|can't|can not|",
            r"unable|denied|refused|timeout|timed out|time out|not working|doesn't work|",
            r"does not work|broken|crash|crashed|crashes|exception|invalid|forbidden|",
            r"unreachable|lost|missing|stuck|hangs|slow|why)(?-u:\b))"
        ))
        .unwrap();
        let mut texts = oracle_texts();
        for edge in [
            "ERROR",
            "Errors",
            "my_error",
            "error_",
            "errorr",
            "x-error-y",
            "timed outs",
            "time  out",
            "can notice",
            "can not",
            "whyever",
            "Why?",
            "登录failed了",
            "失败",
            "無法",
            "3fail",
            "fail3",
            "cannot",
            "doesn't work",
            "DOESN'T WORK!",
            "",
        ] {
            texts.push(edge.to_string());
        }
        let (mut yes, mut no) = (0, 0);
        for t in texts
            .iter()
            .filter(|t| !t.contains(['\u{212A}', '\u{17F}']))
        {
            for t in [t.clone(), nfkc(t).into_owned()] {
                // Less the `不能` of a `能不能` question, which the automaton passes over.
                let want = oracle
                    .find_iter(&t)
                    .any(|m| !(m.as_str() == "不能" && a_not_a_question(&t, m.start())));
                assert_eq!(describes_problem(&t), want, "{t}");
                if want {
                    yes += 1;
                } else {
                    no += 1;
                }
            }
        }
        assert!(yes > 500 && no > 500, "{yes} problem reports, {no} not");
    }

    #[test]
    fn error_lines_are_those_of_the_one_regex() {
        // The hand-written matcher against the regex it replaces, on every ticket and query
        // text we have (and the labelled sets beside the repo when present), plus edges.
        let oracle = regex::Regex::new(concat!(
            r"(?i)[A-Za-z][A-Za-z0-9 ,.'()_:/-]{0,60}(?-u:\b)(?:error|denied|refused|timed? ?out|",
            r"failed|failure|exception|not found|forbidden|invalid|unable to|cannot|can't|no such|",
            r"panic|fatal|unreachable|expired|too many)(?-u:\b)[A-Za-z0-9 ,.'()_:/-]{0,60}|",
            r"(?:报错|错误提示|提示|报|返回)[:：]\s*[^\n。]{4,80}"
        ))
        .unwrap();
        let mut texts = oracle_texts();
        let long = "x".repeat(70);
        for edge in [
            "error",
            "Error: connection refused",
            "1234 error",
            "a error",
            "ab error error error",
            "Permission denied (publickey).",
            "timed out timeout time out",
            "cannot found not found",
            "报错：   Access Denied for user root",
            "返回: x",
            "提示：abc denied by policy",
        ] {
            texts.push(edge.to_string());
        }
        texts.push(format!("a{long} error {long}"));
        texts.push(format!("a{} error", "x".repeat(59)));
        texts.push(format!("a {} error tail{long} failed", "x".repeat(59)));
        texts.push(format!("{long} failed; then {long} refused"));
        let mut lines = 0;
        for t in &texts {
            let t = nfkc(t);
            let want: Vec<_> = oracle.find_iter(&t).map(|m| m.range()).collect();
            assert_eq!(error_lines(&t), want, "{t}");
            lines += want.len();
        }
        assert!(lines > 100, "{lines} lines in {} texts", texts.len());
    }

    #[test]
    fn problem_reports_are_told_from_how_to_questions() {
        for t in [
            "ECS 实例 ssh 连不上",
            "禁用内网网卡之后云监控里全是无数据",
            "开启 HTTPS 后页面打不开，怎么办",
            "我們的網站從早上開始無法連線",
            "Downloading an object returns 403 and the job failed",
            "pip install timed out on the instance",
            "Why is my instance stuck in Stopping?",
        ] {
            assert!(describes_problem(t), "{t}");
        }
        for t in [
            "如何创建有公网IP地址的ECS实例",
            "云盘扩容",
            "How do I transfer a domain to another account?",
            "抢占式实例停止后会继续收费吗？",
            "a profile page with errorless rendering",
            "RDS 能不能开通 pg_cron 插件",
            "包年包月的实例，能不能改成按量付费？",
        ] {
            assert!(!describes_problem(t), "{t}");
        }
        assert!(a_not_a_question("是不是被黑了", "是".len()));
        assert!(!a_not_a_question("功能不能用", "功能".len()));
        assert!(!a_not_a_question("但是不是我们的人", "但是".len()));
        // `能不能` asks; `功能不能用` reports. Another problem word still counts.
        for t in [
            "这个功能不能用了",
            "性能不能满足业务需求",
            "能不能帮忙看下为什么连不上",
            "不能登录",
            "系统盘满了",
            "凌晨 CPU 飙升到 100%",
        ] {
            assert!(describes_problem(t), "{t}");
        }
    }

    #[test]
    fn identifiers_are_told_from_codes_and_versions() {
        for t in [
            "i-bp1c3e5g7i9k1m3o5q7s",
            "rm-bp1k7x3n9q2w8e5r",
            "47.243.118.62",
            "10.0.3.7:8080",
            "2023041200158",
            "2024-05-13",
            "13/may/2024:12:03:11",
            "12:03:11",
            "6710c2a9e4b0f1d2c3a4b5c6",
            "m-bp1a9s8d7f6g5h4j3k2l",
        ] {
            assert!(is_identifier(t), "{t}");
        }
        for t in [
            "0x0000007b",
            "0xc004f074",
            "1153",
            "08s01",
            "tlsv1.2",
            "5.7.44",
            "ubuntu",
            "ecs.g7.large",
            "err_connection_refused",
            "ora-12541",
            "http/1.1",
            "3306",
        ] {
            assert!(!is_identifier(t), "{t}");
        }
    }

    #[test]
    fn codes_of_every_shape() {
        let t = "调用返回 InvalidInstanceId.NotFound，浏览器报 ERR_CONNECTION_REFUSED，\
                 网关 HTTP 502，数据库 ORA-12541，ERROR 1105 (HY000)，蓝屏 0x0000007B，errno ECONNREFUSED";
        let c = error_codes(t);
        for want in [
            "InvalidInstanceId.NotFound",
            "ERR_CONNECTION_REFUSED",
            "HTTP 502",
            "ORA-12541",
            "ERROR 1105 (HY000)",
            "0x0000007B",
            "ECONNREFUSED",
        ] {
            assert!(c.iter().any(|x| x == want), "missing {want} in {c:?}");
        }
    }

    #[test]
    fn camel_codes_and_status_phrases() {
        let c = error_codes("OSS 返回 SignatureDoesNotMatch, then 403 Forbidden, AccessDenied");
        assert!(c.contains(&"SignatureDoesNotMatch".to_string()), "{c:?}");
        assert!(c.contains(&"AccessDenied".to_string()), "{c:?}");
        assert!(c.contains(&"HTTP 403".to_string()), "{c:?}");
    }

    #[test]
    fn api_nouns_are_codes_only_with_a_condition() {
        // Codes: the noun with a condition word after it, anywhere in the name.
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "AccessForbidden",
            "RequestTimeout",
            "RequestTimeTooSkewed",
            "RequestIsNotMultiPartContent",
            "SignatureDoesNotMatch",
            "SignatureNonceUsed",
            "EntityTooSmall",
            "EntityNotExist",
            "OperationDenied",
            "OperationNotSupported",
            "QuotaExceeded",
            "QuotaExceed",
            "InvalidAccessKeyId.NotFound",
            "InvalidAccessKeyId",
            "MissingParameter",
            "IncorrectInstanceStatus",
            "NoSuchKey",
            "OTSParameterInvalid",
            "OTSObjectNotExist",
            "OTSServerBusy",
            "OTSConditionCheckFail",
            "OTSQuotaExhausted",
            "HSFTimeOutException",
        ] {
            let c = error_codes(&format!("调用返回 {code}，怎么办"));
            assert_eq!(c.first(), Some(&code.to_string()), "{code}: {c:?}");
        }
        // Parameters and credentials every API page names: not codes.
        for word in [
            "RequestId",
            "AccessKey",
            "AccessKeyId",
            "AccessKeySecret",
            "SignatureVersion",
            "SignatureMethod",
            "OperationLocks",
            "AccessGroupName",
            "RequestBody",
            "OTSClient",
            "ECSInstance",
            "RAMRoleArn",
            "SQLException",
            "XMLHttpRequest",
        ] {
            let c = error_codes(&format!("请求里的 {word} 要怎么填"));
            assert!(c.is_empty(), "{word}: {c:?}");
        }
    }

    #[test]
    fn file_names_and_versions_are_not_codes() {
        let c = error_codes("edit nginx.conf and /etc/ssh/sshd_config, kernel 2.6.32, TLSv1.2");
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn codes_glued_to_chinese_are_found() {
        let c =
            error_codes("调用报错InvalidInstanceId.NotFound，浏览器提示ERR_CONNECTION_REFUSED错误");
        assert!(
            c.contains(&"InvalidInstanceId.NotFound".to_string()),
            "{c:?}"
        );
        assert!(c.contains(&"ERR_CONNECTION_REFUSED".to_string()), "{c:?}");
    }

    #[test]
    fn full_width_codes_are_found() {
        assert_eq!(
            error_codes("错误：ＯＲＡ－１２５４１"),
            vec!["ORA-12541".to_string()]
        );
    }

    #[test]
    fn ticket_entities() {
        let e = extract("你好，我的实例 i-bp1a2b3c4d5e6f7g8h9 在 cn-hangzhou（华东1），公网 IP 47.96.10.20，\
                         今天上午10点开始 ssh 连不上，订单号 202611210001234，网站 www.example.com 也打不开");
        assert_eq!(e.resource_ids, vec!["i-bp1a2b3c4d5e6f7g8h9"]);
        assert_eq!(e.ips, vec!["47.96.10.20"]);
        assert!(
            e.regions.contains(&"cn-hangzhou".to_string())
                && e.regions.contains(&"华东1".to_string())
        );
        assert!(!e.timestamps.is_empty(), "{e:?}");
        assert_eq!(e.order_ids, vec!["202611210001234"]);
        assert_eq!(e.domains, vec!["www.example.com"]);
    }

    #[test]
    fn masks_personal_data() {
        let m =
            mask_personal_data("联系 13812345678 或 ops@example.com，身份证 110101199003071234");
        assert_eq!(m, "联系 [phone] 或 [email]，身份证 [id-card]"); // Chinese text runs straight into the number: the patterns' word boundaries are ASCII
                                                                    // ones (a Han character is not a word character to them), so glued numbers are masked
                                                                    // too, and the regex engine keeps its fast DFA on Chinese text.
        let m = mask_personal_data("手机13812345678，身份证号110101199003071234谢谢");
        assert_eq!(m, "手机[phone]，身份证号[id-card]谢谢");
    }

    #[test]
    fn masks_credentials() {
        let m = mask_secrets(
            "AK 是 LTAI5tQ9xYz8AbCdEfGh1234，AccessKey Secret: q1W2e3R4t5Y6u7I8o9P0aSdFgHjKl，谢谢",
        );
        assert_eq!(m, "AK 是 [accesskey-id]，AccessKey Secret: [secret]，谢谢");
        assert_eq!(
            mask_secrets("root 密码是Abc#12345，登不上"),
            "root 密码是[secret]，登不上"
        );
        assert_eq!(
            mask_secrets("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE password=hunter2hunter"),
            "export AWS_ACCESS_KEY_ID=[accesskey-id] password=[secret]"
        );
        let key = "我的私钥：\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\n帮看下";
        assert_eq!(mask_secrets(key), "我的私钥：\n[private-key]\n帮看下");
        let cut = "私钥：-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n后面的没贴";
        assert_eq!(mask_secrets(cut), "私钥：[private-key]后面的没贴");
        // Not credentials: an error that names a password, a short answer, a word.
        for t in [
            "Access denied for user 'app'@'10.0.3.21' (using password: YES)",
            "密码是对的",
            "重置密码后还是登不上",
            "token 过期了怎么办",
            "私钥文件开头是 -----BEGIN PRIVATE KEY-----。上传时提示不匹配",
            "the password is incorrect, I reset it twice",
            "my password was changed yesterday",
        ] {
            assert_eq!(mask_secrets(t), t);
        }
        // Told in an English sentence.
        assert_eq!(
            mask_secrets("we were hacked, root password is Abc12345! please help"),
            "we were hacked, root password is [secret] please help"
        );
        assert_eq!(
            credential_kind("the db password was hunter2hunter"),
            Some("secret")
        );
        assert_eq!(credential_kind("the password is incorrect"), None);
        // The log masks them with the personal data.
        assert_eq!(
            mask_personal_data("密码：Passw0rd!2024 手机 13812345678"),
            "密码：[secret] 手机 [phone]"
        );
    }
}
