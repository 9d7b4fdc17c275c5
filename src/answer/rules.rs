//! Wording rules: requests for a human, outages, security incidents, priority signals, and the
//! information each category needs. Patterns are on meaning-bearing words, zh and en; text is
//! normalised first (simplified, lower-case), so traditional tickets match too.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::analysis::entities::Entities;
use crate::analysis::Lang;

re!(
    HUMAN,
    r"不要机器人|别用机器人|不要自动回复|转人工|人工客服|人工服务|找人工|要人工|真人|接人工|人工坐席|人工支持|人工处理|人工介入|(?:找|联系|转|安排)(?:一下|下)?(?:我们|你们|贵司)?(?:的)?(?:专属)?(?:客户经理|商务经理|销售经理|业务经理|商务|销售|专人)|(?:跟|和|与)(?:你们|贵司)?(?:的)?(?:业务员?|销售|商务|客户经理|专人)(?:经理)?(?:谈|聊|沟通|对接)|我要投诉|要投诉你们|投诉你们|客服经理|打电话给我|给我回电|(?:机器人|自动回复|智能客服|机器客服)(?:的|给的)?(?:回答|回复|答案)?(?:的)?(?:都|全|根本|完全)?(?:不对|没用|没有用|没帮助|没有帮助|不管用|答非所问|解决不了)|答非所问|human agent|real person|(?:(?:can|could|may) (?:i|we) )?(?:talk|speak|chat) (?:to|with) (?:a |an )?(?:real |actual |live )?(?:human|person|agent|engineer|someone)|(?:get|connect|transfer) me (?:to |with )?(?:a |an )?(?:real |actual |live )?(?:human|person|agent|engineer|someone)|(?:the |your )?bot (?:is )?(?:useless|not helping|doesn't help|does not help)|live agent|(?-u:\b)agent please(?-u:\b)|(?:can|could) (?:someone|somebody|anyone|you) (?:call|phone|ring) (?:me|us)|(?:talk|speak) (?:to|with) (?:a |the |your )?(?:manager|supervisor)|(?-u:\b)any (?:update|updates|news|progress)(?-u:\b)|有进展了?吗|有结果了?吗|处理得?怎么样了|escalate (?:this|it|to)|call me back|(?:call|email|phone|contact) me directly|instead of (?:an? )?(?:automated|auto|bot|canned)|someone from (?:billing|support|sales|your (?:team|side))|(?:talk|speak) (?:to|with) (?:someone in |someone from |your |our |my |a |an )?(?:sales|account manager)|contact (?:my |our |your |an? )?(?:account manager|sales)|human being"
);
/// Outage wording (the pattern of [`OUTAGE`]).
const OUTAGE_PATTERN: &str = r"(?:全部|所有|整个|大面积|全站|全线|批量|大量).{0,12}(?:宕机|挂了|挂掉|全挂|瘫痪|不可用|无法访问|访问不了|访问失败|打不开|连不上|中断|down|报错|故障|消失|丢失|被删|不见了)|(?:影响|波及)(?:到)?(?:全部|所有|全体)(?:的)?(?:用户|客户)|(?:生产|线上|正式)(?:环境|业务|系统|服务)?.{0,10}(?:宕机|挂了|全挂|瘫痪|中断|不可用|停摆)|业务(?:全部|完全|已经)?(?:中断|停了|挂了|瘫痪|停摆)|数据(?:全|都)?(?:丢了|丢失|没了|被删)|数据丢失|白屏|(?:几|数)?(?:百|千|万|百万|千万)(?:个)?(?:用户|客户).{0,6}(?:受影响|无法|用不了)|(?:用户|客户)(?:全部|都)?受影响|(?-u:\b)p0(?-u:\b)|all (?:of )?(?:our |my )?(?:users|customers|instances|servers|services|sites|regions)|(?:data|files|disk|database|everything)(?-u:\b).{0,40}(?-u:\b)(?:is |are )?(?:gone|wiped|lost|deleted|empty)(?-u:\b)|(?:entire|whole|all of (?:our|the)|our) (?:[a-z]+ ){0,2}(?:system|site|service|platform|business|app|application|website)s? (?:is |are |went |has gone |have gone )?(?:completely |totally )?(?:down|offline|unavailable)|(?:production|prod|site|service|business|everything|whole (?:site|system)) (?:is |went |has gone )?(?:completely )?(?:down|offline|unavailable)|(?:production|prod)(?-u:\b)[^.!?\n]{0,40}(?-u:\b)(?:went|is|are|has gone|have gone) (?:completely |totally )?(?:down|offline|unavailable)|(?-u:\b)(?:completely|totally) (?:down|offline|unavailable)|outage|data loss|lost (?:all )?(?:our |my )?data";
/// Outage wording, searched without the lazy DFA. Its counted gaps (`.{0,12}` after a bulk
/// word, `.{0,40}` before "gone") make the lazy DFA build new states on nearly every ticket
/// it has not seen: ~13–17 µs a ticket, against ~3 µs for the literal prefilter and a
/// backtracker, which find the same matches (see the test). Warm, on a ticket seen before,
/// both take 1–3 µs; a support desk rarely sees the same ticket twice.
static OUTAGE: LazyLock<regex_automata::meta::Regex> = LazyLock::new(|| {
    regex_automata::meta::Regex::builder()
        .configure(regex_automata::meta::Config::new().hybrid(false).dfa(false))
        .build(OUTAGE_PATTERN)
        .expect("valid regex")
});
re!(
    BILLING_STOP,
    r"欠费|欠款|余额不足|余额为负|(?:到期|过期)(?:未续费|后?停机|被停)|未续费|overdue|arrears|unpaid (?:bill|invoice|balance)|insufficient (?:account )?(?:balance|funds)|negative balance|outstanding (?:balance|payment|bill)|payment (?:is |was )?(?:overdue|failed|declined)"
);
// A ticket about a charge, a bill or an order the account has: its order number or month
// finds it. A question of price, a contract or a discount (`按 token 收费吗`, `框架合同`) has
// none, and asking for one tells the customer the bot did not read it.
re!(
    ABOUT_A_CHARGE,
    r"(?i)扣费|扣款|扣钱|扣了|多扣|账单|帐单|退款|退费|退钱|发票|开票|订单|续费|欠费|欠款|余额|充值|代金券|(?-u:\b)(?:charged|charges?|refund|invoice|bill|billed|order|renew(?:al|ed)?|overdue|balance|voucher)(?-u:\b)"
);
// A question about what is offered (`你们有哪些 GPU 规格`, `支持哪些地域`, "do you offer …"):
// asked before there is a resource of the customer's to name.
re!(
    ASKS_OFFERING,
    r"(?i)(?:有|支持|提供|开放)哪些|有哪几种|有什么(?:规格|型号|类型|版本|套餐)|你们(?:有没有|有|提供|支持)|是否(?:提供|有)|(?-u:\b)(?:do|does) (?:you|alibaba cloud|your (?:cloud|platform)) (?:offer|support|have|provide|sell)(?-u:\b)|(?-u:\b)what (?:types|kinds|sizes|instance types|regions|editions|plans)(?-u:\b)|(?-u:\b)which (?:regions|instance types|editions|plans)(?-u:\b)"
);

// English words of a charge that also have another sense: `in order to`, `order by`, a load
// balancer.
re!(
    NOT_A_CHARGE,
    r"(?i)(?-u:\b)(?:in order (?:to|for)|order by|load[- ]?balanc\w*)(?-u:\b)"
);

/// Whether the ticket is about a charge, a bill or an order of the account's
/// (`ABOUT_A_CHARGE`), those words read in their billing sense only.
fn about_a_charge(text: &str) -> bool {
    ABOUT_A_CHARGE.is_match(&NOT_A_CHARGE.replace_all(text, " "))
}
// A question of price (`A100 多少钱一个月`, `how much does …`): asked before buying, so there is
// no instance, region or order of the customer's to name.
re!(
    ASKS_PRICE,
    r"(?i)多少钱|价格|价钱|报价|收费标准|怎么收费|如何收费|费用是多少|多少费用|贵不贵|how much|(?-u:\b)(?:price|prices|pricing|quote)(?-u:\b)|cost of"
);
// A charge the customer says is wrong: a duplicate or extra charge, or a demand to refund one.
// No article settles it; someone must check the account. A question about the refund policy
// (`包年包月的能退款吗`, `差价能退给我吗`) is not a dispute, and an article answers it.
re!(
    BILLING_DISPUTE,
    r"扣了?两次|两次扣|扣了两笔|重复(?:扣|收费|计费|付款|支付)|多扣|多收|扣错|错扣|乱扣|多了一笔|charged (?:me )?twice|double[- ]?charged|double charge|billed twice|duplicate (?:charge|payment|billing)|over-?charged|(?:wrongly|incorrectly) (?:charged|billed)|charged (?:me )?(?:wrongly|incorrectly|by mistake)|please refund|refund (?:the|this|my|me|it)(?-u:\b)"
);
re!(
    SECURITY,
    r"被黑|黑客|被入侵|入侵|被攻击|正在攻击|遭受攻击|攻击中|勒索|文件被加密|被加密了|中毒|木马|病毒|挖矿|被篡改|挂马|盗用|被盗|泄露|泄漏|陌生(?:的)?\s*ip\s*(?:在|一直|不停|正在|还在)?\s*(?:登录|登陆|调用|创建|操作|下载)|(?:推|提交|上传|传|发|放)(?:到|在|上)?了?[^，。！？]{0,8}公开(?:的)?\s*(?:github|gitee|gitlab)?\s*(?:代码)?(?:仓库|库|repo)|(?:ak|accesskey|access\s*key|密钥|秘钥|密码|secret|token|凭证)[^，。！？]{0,20}(?:推|提交|上传|传|发|放)(?:到|在|上)?了?[^，。！？]{0,8}(?:github|gitee|gitlab)|(?:暴力)?破解(?:成功|进来|进去|进入|登录|登进)|被破解|拖库|脱库|数据被盗|比特币|赎金|后门|提权|(?:首页|主页|网页|页面|网站).{0,8}被(?:改成|换成|挂上|植入|替换)|赌博|博彩|被(?:导出|拖走|拖库|外泄)|(?:用户|客户)(?:的)?(?:数据|信息|资料|手机号|密码).{0,12}(?:泄露|外泄|流出|被发|被卖)|多了(?:一个|个|几个|一些)(?:叫\s*[^\s，。]{1,24}\s*的|陌生的?|不认识的?|未知的?)?(?:用户|账号|帐号|账户|管理员)|不是(?:我们)?自己人|crontab.{0,12}多了|反弹\s*shell|webshell|肉鸡|union select|(?-u:\b)ddos(?-u:\b)|cc攻击|hacked|compromised|breach|ransom|malware|virus|trojan|intrusion|under attack|being attacked|leaked|stolen|(?:pushed|committed|uploaded|published|posted)(?-u:\b).{0,80}public (?:github |gitlab |git )?repo|(?:key|secret|password|token|credential)s?(?-u:\b).{0,60}(?:pushed|committed|uploaded|published|posted)(?-u:\b).{0,40}(?:github|gitlab)|(?:regions?|zones?) (?:that )?(?:we|i) (?:never|don't|do not) use|unauthori[sz]ed access|crypto ?min|brute.?force.{0,40}(?:succeeded|success|got in)|(?:new|unknown|strange) (?:local )?(?:admin|user)? ?accounts?|backdoor|reverse shell|webshell|bitcoin|\.locked(?-u:\b)|exfiltrat"
);
// Products named after what they defend against: `DDoS高防的回源IP段在哪看` asks about the
// product and reports no attack. Left out before [`SECURITY`] reads a ticket.
re!(
    DEFENCE_PRODUCT,
    r"ddos\s*(?:高防|防护|原生防护|原生|基础防护|基础版|防御)|anti-?ddos|ddos (?:protection|pro(?-u:\b)|premium|basic)"
);

/// `text` without the names of defence products ([`DEFENCE_PRODUCT`]).
fn without_defence_products(text: &str) -> std::borrow::Cow<'_, str> {
    DEFENCE_PRODUCT.replace_all(text, " ")
}
re!(
    PRODUCTION,
    r"生产|线上|正式环境|核心业务|production|(?-u:\b)prod(?-u:\b)|live site"
);
re!(
    MANY_USERS,
    r"所有(?:用户|客户)|全部(?:用户|客户)|大量(?:用户|客户)|很多(?:用户|客户)|用户都|客户都|all (?:our |my )?(?:users|customers)|many (?:users|customers)|every (?:user|customer)"
);
re!(
    URGENT,
    r"紧急|十万火急|急急|马上|立刻|尽快|asap|urgent|immediately|emergency|critical"
);
re!(
    ACTIVE_BREACH,
    r"勒索|文件被加密|被加密了|正在(?:被)?攻击|攻击中|正在被盗用|ransom|under attack|being attacked|actively"
);

// A message that only thanks, acknowledges or says the problem is gone, each of its parts one
// of these (punctuation, emoji and apostrophes left out first). `谢谢，但是还是连不上` and
// `重启好了之后ssh连不上` hold more than that; `好了吗` asks.
re!(
    CLOSING,
    r"(?i)^(?:\s*(?:(?:非常|十分|万分|太)?(?:谢谢|感谢|多谢)(?:你们|你|您|啦|了|哈|大家)?|辛苦(?:了|啦|你们了|你了|您了)?|(?:唔该|多谢)晒?|搞掂(?:咗|了|啦)?|麻烦(?:你们|你|您)?了|太好了|好的?(?:呀|啊|哈|啦|吧|滴)?|嗯+|哦+|噢|收到(?:了|啦)?|明白(?:了|啦)?|知道(?:了|啦)|了解(?:了|啦)?|懂了|ok(?:ay)?(?:了|啦)?|算了|(?:现在|目前)?(?:我|我们)?(?:自己)?(?:我的|这个)?(?:问题)?(?:已经|已)?(?:解决|搞定|处理好|弄好|修好|好|正常|恢复正常|恢复|可以|能用|能访问|能连上|连上)(?:了|啦)|(?:问题)?已解决|没(?:有)?问题了|没事了|不用了|(?:many )?thanks?(?: you)?(?: (?:so|very) much| a lot| again)?|thx|ty|got it|great|perfect|cool|awesome|good|fine|nice|sounds good|(?:it|that|this|everything|all)? ?(?:is |s )?(?:works?|working)(?: (?:now|again|fine|perfectly|ok))*|(?:the )?(?:issue|problem)(?: is| has been| was)? (?:resolved|solved|fixed|gone)(?: now)?|(?:resolved|solved|fixed)(?: now| it)?|all good|never ?mind|no problem|(?:you can |please )?close (?:this|the ticket|it))\s*)+$"
);

/// True when the whole message thanks, acknowledges, or says the problem is solved (`好的，
/// 谢谢`, `问题已经解决了`, `it works now, thanks!`): a chat's closing line. Nothing in it
/// asks for a fix, and its words (`works`, `resolved`, `好`) would find articles that have
/// nothing to do with it. `text` is normalised ([`crate::analysis::normalize::normalize_str`]).
pub fn closes_conversation(text: &str) -> bool {
    // 60 characters at most: a long ticket is not looked at (no copy of it is made).
    if text.len() > 60 * 4 {
        return false;
    }
    let bare: String = text
        .chars()
        .filter(|c| !matches!(c, '\'' | '’'))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let bare = bare.trim();
    !bare.is_empty() && bare.chars().count() <= 60 && CLOSING.is_match(bare)
}

/// True when the customer asks for a human.
pub fn asks_for_human(text: &str) -> bool {
    HUMAN.is_match(text)
}

/// `text` without its requests for a human (`转人工`, "talk to a real person"): what is
/// left of the ticket to say what it is about.
pub fn without_human_request(text: &str) -> String {
    HUMAN.replace_all(text, " ").into_owned()
}

/// True for outage wording (P0 candidates).
pub fn is_outage(text: &str) -> bool {
    ongoing_outage(text).is_some()
}

// What puts an `outage` in the past: `there was an outage last Tuesday`, `fail2ban … caused
// an outage for some users`. A customer telling of one asks for its cause or a fix, and is
// not a P0 in progress.
re!(
    PAST_OUTAGE,
    r"(?-u:\b)(?:was|were|had|caused|after|during)\s+(?:an?\s+|the\s+)?(?:[a-z-]+\s+)?$"
);

/// The first outage wording in `text` that reports one in progress (see [`PAST_OUTAGE`]).
fn ongoing_outage(text: &str) -> Option<std::ops::Range<usize>> {
    OUTAGE.find_iter(text).map(|m| m.range()).find(|r| {
        &text[r.clone()] != "outage" || {
            let before = &text[..r.start];
            let lead = before
                .char_indices()
                .rev()
                .nth(23)
                .map_or(before, |(i, _)| &before[i..]);
            !PAST_OUTAGE.is_match(lead)
        }
    })
}

/// True for security-incident wording.
pub fn is_security_incident(text: &str) -> bool {
    security_report(&without_defence_products(text)).is_some()
}

// What makes the words after it a supposition or a question: `如果不是自己人`, `是否被入侵`,
// `how do I tell if we were hacked`.
re!(
    SUPPOSED,
    r"(?:如果|假如|要是|万一|若是|是否|有没有|会不会|怎么判断|如何判断)\S{0,2}$|(?:防止|避免|预防|防范|以防|以免|禁止|屏蔽|拦截|阻止)[^，。,.!?！？\n]{0,10}$|(?-u:\b)(?:if|whether|prevent|avoid|against)(?-u:\b)(?:\s+\S+){0,3}\s*$"
);

/// The first security wording in `text` that reports an incident: not the `不是` of a
/// `是不是` question (`是不是我们自己人登的`), nor words a supposition or a question leads
/// ([`SUPPOSED`]).
fn security_report(text: &str) -> Option<regex::Match<'_>> {
    SECURITY.find_iter(text).find(|m| {
        let before = &text[..m.start()];
        let a_not_a = crate::analysis::entities::a_not_a_question(text, m.start());
        let lead = before
            .char_indices()
            .rev()
            .nth(23)
            .map_or(before, |(i, _)| &before[i..]);
        !a_not_a && !SUPPOSED.is_match(lead)
    })
}

/// True when the customer disputes a charge (charged twice, overcharged, refund this).
pub fn disputes_charge(text: &str) -> bool {
    BILLING_DISPUTE.is_match(text)
}

/// A signal that set the priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Signal {
    /// `outage`, `billing_stop`, `billing_dispute`, `security_incident`, `production`,
    /// `many_users`, `urgent`, `customer_tier`, `article_priority`; and
    /// `credential_in_ticket` (evidence: `accesskey`, `private_key` or `secret`), which does
    /// not change the priority.
    pub name: String,
    /// The words that triggered it.
    pub evidence: String,
}

fn found(re: &Regex, text: &str, name: &str, out: &mut Vec<Signal>) -> bool {
    noted(re.find(text), name, out)
}

/// Records `m`, when there is one, as the signal `name`.
fn noted(m: Option<regex::Match<'_>>, name: &str, out: &mut Vec<Signal>) -> bool {
    match m {
        Some(m) => {
            out.push(Signal {
                name: name.into(),
                evidence: m.as_str().to_string(),
            });
            true
        }
        None => false,
    }
}

/// The priority of a ticket nothing marks out.
pub const DEFAULT_PRIORITY: u8 = 3;

/// Priority 0–4 and the signals that set it. `article` is the top fix's declared priority.
pub fn priority(text: &str, customer_tier: Option<&str>, article: Option<u8>) -> (u8, Vec<Signal>) {
    let mut s = Vec::new();
    // Everything stopped because the account is overdue is a billing stop, not an outage:
    // topping up and restarting is the fix, and the billing article gives it. Still urgent.
    let outage_words = ongoing_outage(text).map(|r| &text[r]);
    let billing_stop = outage_words.is_some() && found(&BILLING_STOP, text, "billing_stop", &mut s);
    let outage = match outage_words {
        Some(m) if !billing_stop => {
            s.push(Signal {
                name: "outage".into(),
                evidence: m.to_string(),
            });
            true
        }
        _ => false,
    };
    let security = noted(
        security_report(&without_defence_products(text)),
        "security_incident",
        &mut s,
    );
    let dispute = found(&BILLING_DISPUTE, text, "billing_dispute", &mut s);
    let active = security && found(&ACTIVE_BREACH, text, "active_attack", &mut s);
    let production = found(&PRODUCTION, text, "production", &mut s);
    let many = found(&MANY_USERS, text, "many_users", &mut s);
    let urgent = found(&URGENT, text, "urgent", &mut s);
    let mut p: u8 = match article {
        Some(a) => {
            s.push(Signal {
                name: "article_priority".into(),
                evidence: format!("P{a}"),
            });
            a
        }
        None => DEFAULT_PRIORITY,
    };
    if outage || active {
        p = 0;
    } else {
        if security {
            p = p.min(1);
        }
        if production || many {
            p = p.min(if production && many { 1 } else { 2 });
        }
        if urgent || billing_stop || dispute {
            p = p.min(2);
        }
    }
    if let Some(t) = customer_tier {
        let t = t.to_lowercase();
        if matches!(
            t.as_str(),
            "enterprise" | "vip" | "premium" | "platinum" | "gold" | "key_account"
        ) && p > 1
        {
            p -= 1;
            s.push(Signal {
                name: "customer_tier".into(),
                evidence: t,
            });
        }
    }
    (p, s)
}

/// Something a human would still need, and the question that asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MissingInfo {
    /// `instance_id`, `region`, `error_message`, `time`, `ip_or_domain`, `order_id`, `domain`,
    /// `account`.
    pub field: String,
    /// The follow-up question, in the ticket's language.
    pub question: String,
}

/// What is still missing for a ticket of `category`, given what was found. `problem`: the
/// ticket reports something going wrong (an error code, or `entities::describes_problem`,
/// as the search read it); one that asks how
/// to do something (`ECS 怎么挂载数据盘`) has no error message to paste and no time it started,
/// and is not asked for them.
pub fn missing_info(
    category: Option<&str>,
    text: &str,
    e: &Entities,
    lang: Lang,
    problem: bool,
) -> Vec<MissingInfo> {
    // In the ticket's language and script: a traditional-Chinese ticket is asked in
    // traditional characters, as its reply is written.
    let q = |field: &str, zh: &str, english: &str| MissingInfo {
        field: field.into(),
        question: match lang {
            Lang::En => english.into(),
            Lang::ZhHant => crate::analysis::normalize::to_traditional(zh),
            _ => zh.into(),
        },
    };
    if !problem && (ASKS_PRICE.is_match(text) || ASKS_OFFERING.is_match(text)) {
        return Vec::new();
    }
    let has_instance = e.resource_ids.iter().any(|r| {
        ["i-", "rm-", "r-", "dds-", "pc-"]
            .iter()
            .any(|p| r.starts_with(p))
    });
    let has_resource = !e.resource_ids.is_empty();
    let mut out = Vec::new();
    let need_instance = |out: &mut Vec<MissingInfo>| {
        if !has_instance {
            out.push(q("instance_id", "请提供出问题的实例 ID（如 i-xxxxxxxx），可在控制台实例列表中复制。", "Which instance is affected? Please send its instance ID (i-…), copied from the console."));
        }
    };
    let need_region = |out: &mut Vec<MissingInfo>| {
        if e.regions.is_empty() {
            out.push(q(
                "region",
                "实例或资源在哪个地域（例如 cn-hangzhou / 华东1）？",
                "Which region is it in (for example cn-hangzhou)?",
            ));
        }
    };
    // An error code, or a pasted message (`报 Connection refused`), is the error: asking for
    // it again tells the customer nobody read the ticket.
    let need_error = |out: &mut Vec<MissingInfo>| {
        if problem && e.error_codes.is_empty() && e.error_messages.is_empty() {
            out.push(q(
                "error_message",
                "请贴出完整的报错信息或截图（原文即可）。",
                "Please paste the exact error message (or a screenshot).",
            ));
        }
    };
    let need_time = |out: &mut Vec<MissingInfo>| {
        if problem && e.timestamps.is_empty() {
            out.push(q(
                "time",
                "问题是从什么时间开始的？是否一直存在还是偶发？",
                "When did it start, and is it constant or intermittent?",
            ));
        }
    };
    match category.unwrap_or("") {
        "compute" => {
            need_instance(&mut out);
            need_region(&mut out);
            need_error(&mut out);
        }
        "network" | "cdn" => {
            need_error(&mut out);
            need_time(&mut out);
            if e.ips.is_empty() && e.domains.is_empty() {
                out.push(q(
                    "ip_or_domain",
                    "访问的目标 IP 或域名是什么？从哪里发起的访问？",
                    "Which IP address or domain are you trying to reach, and from where?",
                ));
            }
        }
        "storage" => {
            if !has_resource && e.domains.is_empty() {
                out.push(q(
                    "resource_id",
                    "请提供云盘 ID 或 Bucket 名称。",
                    "Which disk ID or bucket name is affected?",
                ));
            }
            need_region(&mut out);
            need_error(&mut out);
        }
        "database" => {
            // Database instances are named rm-… (RDS), r-… (Redis), dds-… (MongoDB), pc-…
            // (PolarDB): asking for an `i-…` sends the customer to the ECS console.
            if !has_instance {
                out.push(q(
                    "instance_id",
                    "请提供出问题的数据库实例 ID（如 rm-xxxxxxxx、r-xxxxxxxx），可在控制台实例列表中复制。",
                    "Which database instance is affected? Please send its instance ID (rm-…, r-…), copied from the console.",
                ));
            }
            need_error(&mut out);
        }
        "security" => {
            if !has_resource && e.ips.is_empty() {
                out.push(q(
                    "affected_resource",
                    "受影响的实例 ID 或公网 IP 是哪个？",
                    "Which instance ID or public IP is affected?",
                ));
            }
            need_time(&mut out);
        }
        "billing" => {
            // An order number, or the month of the bill, is what finds the charge.
            if e.order_ids.is_empty() && e.months.is_empty() && about_a_charge(text) {
                out.push(q(
                    "order_id",
                    "请提供相关的订单号或账单月份。",
                    "Please send the order number or the billing month concerned.",
                ));
            }
        }
        "account" => {
            if e.accounts.is_empty() {
                out.push(q(
                    "account",
                    "请提供登录账号（或账号 ID），不要发送密码或 AccessKey Secret。",
                    "Please send the account name or ID — never a password or AccessKey secret.",
                ));
            }
        }
        _ => need_error(&mut out),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closing_line_is_told_from_a_ticket() {
        let norm = crate::analysis::normalize::normalize_str;
        for t in [
            "谢谢",
            "好的，谢谢！",
            "问题已经解决了，谢谢",
            "問題解決了，謝謝",
            "现在可以了，辛苦了🙏",
            "唔該晒，搞掂咗",
            "收到，明白了",
            "Thank you, it works now",
            "it's working again, thanks!",
            "the issue is resolved",
            "ok thx",
            "good",
            "OK了",
            "没事了，自己搞定了",
            "算了不用了",
        ] {
            assert!(closes_conversation(&norm(t)), "{t}");
        }
        for t in [
            "谢谢，但是还是连不上",
            "好了吗？",
            "重启好了之后ssh连不上",
            "谢谢，顺便问一下怎么开发票",
            "thanks, but it still doesn't work",
            "resolved the dns but the site is down",
            "ok",
        ] {
            let closes = closes_conversation(&norm(t));
            assert_eq!(closes, t == "ok", "{t}");
        }
    }
    use crate::analysis::entities::extract;

    #[test]
    fn a_database_ticket_is_asked_for_a_database_instance_id() {
        let asked = missing_info(
            Some("database"),
            "RDS 连接数满了",
            &extract("RDS 连接数满了"),
            Lang::Zh,
            true,
        );
        let q = &asked
            .iter()
            .find(|m| m.field == "instance_id")
            .unwrap()
            .question;
        assert!(q.contains("rm-") && !q.contains("i-x"), "{q}");
        // A MongoDB instance named in the ticket is the instance.
        let given = missing_info(
            Some("database"),
            "dds-bp1a2b3c4d5e6f7g 连不上",
            &extract("dds-bp1a2b3c4d5e6f7g 连不上"),
            Lang::Zh,
            true,
        );
        assert!(given.iter().all(|m| m.field != "instance_id"));
    }

    #[test]
    fn human_requests() {
        for t in [
            "转人工",
            "我要人工客服",
            "别让机器人回复了，找人工",
            "please let me talk to a human",
            "I want a real person",
            // Asking for the account manager or sales is asking for a person too.
            "找一下我们的客户经理，明年续费价格要谈一下",
            "想跟业务谈一下大量采购折扣",
            "这笔费用我要求人工处理",
            "can I talk to sales about a discount",
            "please contact my account manager",
            // A complaint about the bot's answers asks for a person.
            "机器人回答的不对",
            "智能客服答非所问",
            "can I talk to a real person",
            "connect me to a live agent",
            "your bot is useless",
            // A call, a manager, or a chase on the open case is for a person.
            "can someone call me",
            "i want to speak to a manager",
            "any update?",
            "有进展了吗",
        ] {
            assert!(asks_for_human(t), "{t}");
        }
        for t in [
            "how do i update the kernel",
            "apt update fails",
            "人工智能服务怎么开通",
            "业务中断了半小时",
            "和业务相关的安全组怎么配",
            "销售额统计报表导出失败",
            // A DingTalk robot is a product, not the bot.
            "钉钉机器人收不到告警",
        ] {
            assert!(!asks_for_human(t), "{t}");
        }
    }

    #[test]
    fn outages_and_priority() {
        let (p, s) = priority("生产环境全部宕机了，所有用户都访问不了", None, Some(3));
        assert_eq!(p, 0);
        assert!(s.iter().any(|x| x.name == "outage"));
        assert_eq!(priority("our production site is down", None, None).0, 0);
        // What is down may come between `production` and `went down`; `completely offline`
        // says the scale on its own.
        assert_eq!(
            priority(
                "our production RDS primary went down 20 min ago",
                None,
                None
            )
            .0,
            0
        );
        assert_eq!(priority("Checkout is completely offline.", None, None).0, 0);
        assert!(priority("will production be down during the upgrade?", None, Some(3)).0 > 0);
        assert!(priority("one test server went down last night", None, Some(3)).0 > 0);
        // Data vanishing in bulk is an outage in progress; one lost file is not.
        assert_eq!(priority("bucket 里的文件在大量消失", None, Some(2)).0, 0);
        assert_eq!(priority("所有图片都不见了", None, Some(2)).0, 0);
        assert!(priority("oss 文件被自动删除了", None, Some(2)).0 > 0);
        assert_eq!(priority("ssh 连不上", None, Some(3)).0, 3);
        assert_eq!(priority("ssh 连不上", Some("enterprise"), Some(3)).0, 2);
        assert_eq!(
            priority("线上业务的数据库很慢，很多用户投诉", None, Some(3)).0,
            1
        );
        assert_eq!(priority("线上业务的数据库很慢", None, Some(3)).0, 2);
        assert!(!asks_for_human("很多用户投诉数据库慢")); // English words glued to Chinese still have word boundaries (ASCII ones).
        assert_eq!(priority("p0故障，官网打不开", None, Some(3)).0, 0);
        assert_eq!(priority("今天prod环境的接口很慢", None, Some(3)).0, 2);
        assert_eq!(priority("product 页面加载慢", None, Some(3)).0, 3);
        // Everything stopped over an unpaid bill: urgent, but the billing article is the fix.
        for t in [
            "all our instances were stopped this morning, the banner says your account has an overdue payment",
            "账户欠费了，所有服务器都访问不了，充值以后还是停机状态",
            "余额不足，整个网站都打不开了",
        ] {
            let (p, s) = priority(t, None, Some(3));
            assert_eq!(p, 2, "{t}");
            assert!(s.iter().any(|x| x.name == "billing_stop"), "{t}");
            assert!(!s.iter().any(|x| x.name == "outage"), "{t}");
        }
        // Billing words without outage wording are no signal at all.
        assert_eq!(
            priority("欠费后怎么开发票", None, Some(3)),
            (
                3,
                vec![Signal {
                    name: "article_priority".into(),
                    evidence: "P3".into()
                }]
            )
        );
    }

    #[test]
    fn outage_search_without_the_lazy_dfa_finds_what_the_default_engine_finds() {
        let default = Regex::new(OUTAGE_PATTERN).unwrap();
        let mut texts: Vec<String> = ["tickets", "alibaba_tickets", "holdout_tickets"]
            .iter()
            .flat_map(|f| {
                let path = format!("{}/tests/fixtures/{f}.jsonl", env!("CARGO_MANIFEST_DIR"));
                std::fs::read_to_string(path)
                    .unwrap()
                    .lines()
                    .map(|l| {
                        let v: serde_json::Value = serde_json::from_str(l).unwrap();
                        crate::analysis::normalize::normalize_str(v["text"].as_str().unwrap())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        // Long text, where a backtracker gives way to the NFA simulation.
        texts.push(texts.join(" "));
        let mut matched = 0;
        for t in &texts {
            let ours = OUTAGE.find(t.as_str()).map(|m| m.range());
            let theirs = default.find(t).map(|m| m.range());
            assert_eq!(ours, theirs, "{t}");
            matched += usize::from(ours.is_some());
        }
        assert!(matched >= 20, "the fixtures hold outage tickets: {matched}");
        assert!(is_outage("整个集群全部宕机") && !is_outage("一台机器重启慢"));
        // An outage told of as past is not one in progress.
        assert!(is_outage(
            "full production outage, we are losing orders every minute"
        ));
        assert!(is_outage(
            "is there an ongoing outage in singapore right now?"
        ));
        assert!(!is_outage(
            "last tuesday there was an outage in zone h, we need the rca"
        ));
        assert!(!is_outage(
            "fail2ban banned a bunch of edge nodes yesterday which caused an outage for some users"
        ));
    }

    #[test]
    fn disputed_charges() {
        for t in [
            "订单号 202403158826170 同一笔订单扣了两次钱，请核实一下退一笔给我",
            "续费被重复扣费了",
            "这个月账单里多了一笔 4,300 元的费用",
            "感觉被多收了钱",
            "i was charged twice for the same instance",
            "we were double-charged for march",
            "please refund the second payment",
        ] {
            assert!(disputes_charge(t), "{t}");
        }
        for t in [
            "包年包月的能退款吗？",
            "包年的服务器配置买高了，现在想降到2核4g，剩下的差价能退给我吗",
            "实例释放了为什么还在扣费",
            "how do i get a refund for a subscription instance?",
            "what is the refund policy",
            "扣费两次通知是什么意思",
        ] {
            assert!(!disputes_charge(t), "{t}");
        }
    }

    #[test]
    fn security_incidents() {
        assert!(is_security_incident("服务器被黑了，被人装了挖矿程序"));
        // A defence product's name is not an attack, and a question or a supposition
        // reports nothing; an attack named beside the product, or said outright, does.
        for t in [
            "ddos高防的回源ip段在哪看？",
            "how do i buy anti-ddos pro for my slb",
            "ddoscoo-cn-7mz2xxxx 这个实例的账单怎么算",
            "怎么判断这次是不是我们自己人登的？",
            "如果不是自己人，要先做哪些事？",
            "how do i tell if we were hacked",
            ".xin 域名开启信用验证，是否有泄露隐私的风险？",
        ] {
            assert!(!is_security_incident(t), "{t}");
        }
        for t in [
            "被 ddos 了，ddos防护好像没生效",
            "现在正在被 ddos 攻击，ip 已经被黑洞了",
            "登录的确认不是我们自己人",
            "we were hacked last night, what do we do if they come back",
        ] {
            assert!(is_security_incident(t), "{t}");
        }
        assert!(is_security_incident("we were hacked"));
        assert_eq!(priority("文件全被勒索病毒加密了", None, None).0, 0);
        assert!(!is_security_incident("如何开启 MFA"));
        // Defacement, stolen user data, an account nobody created.
        assert!(is_security_incident(
            &crate::analysis::normalize::normalize_str(
                "官网首页被改成了别人的页面，用户表好像被导出了"
            )
        ));
        assert!(is_security_incident(
            "系统里多了一个叫 sysupdate 的用户，确认不是自己人"
        ));
        assert!(!is_security_incident("怎么给子账号多加一个权限"));
        assert!(!is_security_incident("网站访问量多了很多，用户反馈变慢"));
        // Attempts and alerts are not incidents: the alert's article answers them. Success
        // is. Decrypting a secret is not ransomware; a ransom note still is.
        assert!(!is_security_incident(
            "收到安全中心的 ssh 暴力破解告警，secure 日志一直在刷 failed password，要怎么加固"
        ));
        assert!(!is_security_incident("是不是被暴力破解了，怎么防"));
        assert!(is_security_incident(
            "root 密码被暴力破解成功了，对方已经登录进来"
        ));
        assert!(is_security_incident("服务器密码被破解了"));
        assert!(!is_security_incident(
            "安全中心报了异常登录，登录的人就是我本人"
        ));
        assert!(!is_security_incident(
            "应用用 kms 解密数据库密码失败，返回 rejected.disabled"
        ));
        assert!(!is_security_incident(
            "our service can't decrypt its config secrets"
        ));
        assert!(is_security_incident("文件都被加密了，要付比特币才能解密"));
        assert!(is_security_incident(
            "every folder has a readme_for_decrypt.txt and files end in .locked"
        ));
        assert!(asks_for_human(
            "could someone from billing please call or email me directly instead of an automated reply?"
        ));
        // A credential published where anyone can read it, or someone else using the
        // account, is an incident whatever the wording of the leak; keeping it from
        // happening is a question.
        for t in [
            "ak 被实习生提交到了 github 上",
            "项目推到了公开的 github 仓库，里面有 accesskey",
            "数据库密码推到了公开的代码仓库，已经几个小时了",
            "有陌生 ip 在调用我们的 api 开机器",
            "a developer pushed our config with the accesskey secret to a public github repo",
            "there are 30 instances running in regions we never use",
        ] {
            assert!(is_security_incident(t), "{t}");
        }
        for t in [
            "怎么防止 ak 被传到 github 上",
            "how do we prevent keys being pushed to github",
            "we pushed the fix to github, how do i redeploy",
            "如何禁止陌生 ip 登录服务器",
            "代码推到 github 以后自动部署到 ecs 怎么配置",
        ] {
            assert!(!is_security_incident(t), "{t}");
        }
    }

    #[test]
    fn missing_info_per_category() {
        let e = extract("ssh 连不上");
        let m = missing_info(Some("compute"), "ssh 连不上", &e, Lang::Zh, true);
        let fields: Vec<_> = m.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["instance_id", "region", "error_message"]);
        // A how-to question has no error to paste.
        let m = missing_info(
            Some("compute"),
            "ECS 怎么挂载数据盘",
            &extract("ECS 怎么挂载数据盘"),
            Lang::Zh,
            false,
        );
        let fields: Vec<_> = m.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["instance_id", "region"]);
        // A traditional-Chinese ticket is asked in traditional characters, as its reply is.
        let m = missing_info(
            Some("compute"),
            "伺服器連不上",
            &extract("伺服器連不上"),
            Lang::ZhHant,
            true,
        );
        assert!(
            m[0].question.starts_with("請提供") && !m[0].question.contains("实例"),
            "{}",
            m[0].question
        );
        let m = missing_info(
            Some("cdn"),
            "CDN 怎么配置 HTTPS",
            &extract("CDN 怎么配置 HTTPS"),
            Lang::Zh,
            false,
        );
        assert!(m
            .iter()
            .all(|x| x.field != "error_message" && x.field != "time"));
        let t = "实例 i-bp1a2b3c4d5e6f7g8h 在 cn-hangzhou 报 Permission denied (publickey) 错误码 ERR_AUTH_FAILED";
        assert!(missing_info(Some("compute"), t, &extract(t), Lang::Zh, true).is_empty());
        let t = "ECS 实例重启之后 ssh 一直连不上，报 Connection refused，麻烦看看";
        let e = extract(t);
        assert_eq!(e.error_messages, ["Connection refused"]);
        let m = missing_info(Some("compute"), t, &e, Lang::Zh, true);
        let fields: Vec<_> = m.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["instance_id", "region"], "the message was given");
        let e = extract("多扣了钱");
        assert_eq!(
            missing_info(Some("billing"), "多扣了钱", &e, Lang::En, true)[0].field,
            "order_id"
        );
        // A question of price or a contract has no order to find.
        for t in [
            "通义千问的 API 是按 token 收费吗，有没有包月的套餐",
            "我们要签框架合同，需要加 SLA 赔偿条款，找谁对接",
            "Do you offer volume discounts for a three-year commitment?",
            "Can we sign a reseller agreement in order to sell your cloud to our clients?",
            "Does the enterprise support plan cover load balance setup?",
        ] {
            assert!(
                missing_info(Some("billing"), t, &extract(t), Lang::Zh, false).is_empty(),
                "{t}"
            );
        }
        // Nor a question of price or of what is offered: nothing to name yet.
        for (c, t) in [
            ("compute", "想了解一下你们的 GPU 实例有哪些规格"),
            ("database", "RDS 支持哪些地域？"),
            ("compute", "Do you offer ARM instances in Singapore?"),
            ("compute", "你们有 GPU 服务器吗？A100 多少钱一个月"),
            (
                "database",
                "How much does an RDS MySQL instance with 8 cores cost per month?",
            ),
        ] {
            assert!(
                missing_info(Some(c), t, &extract(t), Lang::Zh, false).is_empty(),
                "{t}"
            );
        }
        // The month of the bill finds the charge as well as an order number does; an account
        // given is not asked for again.
        for given in [
            "上个月的账单里多扣了300块，能帮我查一下吗",
            "2026年10月的账单金额不对",
            "how can I get an invoice for last month",
            "Our October 2026 bill has a charge we don't recognise",
        ] {
            assert!(
                missing_info(Some("billing"), given, &extract(given), Lang::Zh, true).is_empty(),
                "{given}"
            );
        }
        for given in [
            "我要注销账号，账号是 zhangsan@example.com",
            "主账号 UID 1234567890123456 登录不上",
            "帐号是 shop_admin，收不到验证码",
        ] {
            assert!(
                missing_info(Some("account"), given, &extract(given), Lang::Zh, true).is_empty(),
                "{given}"
            );
        }
        let m = missing_info(
            Some("account"),
            "账号被锁了",
            &extract("账号被锁了"),
            Lang::Zh,
            true,
        );
        assert_eq!(m[0].field, "account");
    }
}
