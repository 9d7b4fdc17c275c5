//! Decision quality on tickets the model was not fitted on: the test split (even ids) of
//! tests/fixtures/tickets.jsonl (the model was fitted on the dev split), and
//! tests/fixtures/holdout_tickets.jsonl and tests/fixtures/blind_tickets.jsonl, written blind
//! and not used for tuning (see their READMEs for the four tickets that were). Aggregate
//! floors, not hand-picked tickets:
//! - auto_reply precision (a bot must rarely send a wrong fix);
//! - top-3 accuracy on answerable tickets;
//! - no-answer tickets escalated;
//! - every P0, security-incident and human-request ticket escalated, with the right reason;
//! - escalated tickets handed to the team of their labelled category.

use std::fs;

use deflect::answer::{
    answer, AnswerOptions, AnswerRequest, AnswerResponse, Decision, EscalationReason, Ticket,
};
use deflect::config::AnswerConfig;
use deflect::eval::load_jsonl;
use deflect::index::{self, BuildOptions, Loaded};

use super::common::{built, bundled, kb_of, quoted_message_kb, temp_kb};

/// Floors a ticket set's decisions must reach.
struct Floors {
    /// The set's size, so that a truncated fixture fails instead of passing on less.
    tickets: usize,
    precision: f64,
    top3: f64,
    escalated: f64,
    routed: f64,
}

#[test]
fn decisions_on_the_test_split() {
    check_decisions(
        "tickets.jsonl",
        Some("test"),
        Floors {
            tickets: 75,
            precision: 0.9,
            top3: 0.85,
            escalated: 0.8,
            // 0.731 (49/67) since hand-offs no candidate classifies go by their words
            // (`answer::topics`); 0.567 before, 0.448 before the candidates' category.
            routed: 0.65,
        },
    );
}

/// Measured when the set was added: auto_reply precision 0.971 (34/35), top-3 0.980,
/// no-answer tickets escalated 0.875 (14/16).
#[test]
fn decisions_on_the_blind_holdout() {
    check_decisions(
        "holdout_tickets.jsonl",
        None,
        Floors {
            tickets: 75,
            precision: 0.9,
            top3: 0.9,
            escalated: 0.75,
            // 0.879 (29/33) with the routing words; 0.697 (23/33) before, 0.576 before that.
            routed: 0.8,
        },
    );
}

/// A second set written blind by two other authors (`blind_tickets.README.md`). Measured when
/// it was added: auto_reply precision 0.969 (31/32) on answerable tickets, top-3 1.000, no-answer tickets escalated 0.769 (10/13), hand-offs to the
/// labelled team 0.750 (18/24).
#[test]
fn decisions_on_the_second_blind_set() {
    check_decisions(
        "blind_tickets.jsonl",
        None,
        Floors {
            tickets: 60,
            precision: 0.88,
            top3: 0.9,
            escalated: 0.65,
            routed: 0.65,
        },
    );
}

/// A third blind set, one author writing for form (chat messages, forwarded e-mail, form
/// fields, logs, Cantonese) and one for the long tail of topics (`blind_tickets2.README.md`).
/// Measured when it was added: auto_reply precision 0.963 (26/27), no-answer tickets
/// escalated 0.917 (11/12), hand-offs to the labelled team 0.714.
#[test]
fn decisions_on_the_third_blind_set() {
    check_decisions(
        "blind_tickets2.jsonl",
        None,
        Floors {
            tickets: 70,
            precision: 0.88,
            top3: 0.85,
            escalated: 0.75,
            routed: 0.6,
        },
    );
}

fn check_decisions(file: &str, split: Option<&str>, floors: Floors) {
    let tickets: Vec<_> = load_jsonl(&fixture(file))
        .unwrap()
        .into_iter()
        .filter(|t| split.is_none_or(|s| t.split() == s))
        .collect();
    assert!(tickets.len() >= floors.tickets, "{}", tickets.len());
    let cfg = AnswerConfig::default();
    let (mut autos, mut autos_right, mut answerable, mut top3, mut no_answer, mut no_answer_esc) =
        (0, 0, 0, 0, 0, 0);
    let (mut handed, mut handed_right) = (0, 0);
    let mut failures = Vec::new();
    for t in &tickets {
        let a = answer(
            bundled(),
            &cfg,
            &AnswerRequest {
                ticket: Ticket {
                    body: t.text.clone(),
                    ..Default::default()
                },
                options: None,
            },
        )
        .unwrap();
        // Fixes are listed best first, and their confidence says so.
        assert!(
            a.fixes
                .windows(2)
                .all(|w| w[0].confidence >= w[1].confidence),
            "{}: {:?}",
            t.id,
            a.fixes.iter().map(|f| f.confidence).collect::<Vec<_>>()
        );
        // An answered ticket's hand-off is the one ready for "that didn't help", never read
        // as an escalation; an escalated ticket's says why it was escalated.
        let answered_reason = a.escalation.reason == EscalationReason::IfUnresolved;
        let topicless = a.decision == Decision::Clarify && a.fixes.is_empty();
        assert_eq!(
            answered_reason,
            a.decision != Decision::Escalate && !topicless,
            "{}: {:?} with reason {:?}",
            t.id,
            a.decision,
            a.escalation.reason
        );
        if answered_reason {
            assert!(
                !a.escalation.team.is_empty()
                    && a.escalation.sla_minutes > 0
                    && a.escalation.candidate_fixes.first() == a.fixes.first().map(|f| &f.id),
                "{}: {:?}",
                t.id,
                a.escalation
            );
        }
        if let (Decision::Escalate, Some(c)) = (a.decision, t.category.as_deref()) {
            handed += 1;
            if a.escalation.team == cfg.team_for(Some(c)) {
                handed_right += 1;
            }
        }
        let page = |id: &str| id.split('#').next().unwrap_or(id).to_string();
        let right = |id: &str| t.relevant.iter().any(|r| r == id || page(r) == page(id));
        let reason = t.reason.as_deref();
        match reason {
            Some(
                "p0_incident" | "security_incident" | "customer_requested" | "billing_dispute",
            ) => {
                let want = match reason {
                    Some("p0_incident") => EscalationReason::P0Incident,
                    Some("security_incident") => EscalationReason::SecurityIncident,
                    Some("billing_dispute") => EscalationReason::BillingDispute,
                    _ => EscalationReason::CustomerRequested,
                };
                // A ticket can carry two rule signals; any rule reason is an immediate escalation.
                let rule = matches!(
                    a.escalation.reason,
                    EscalationReason::P0Incident
                        | EscalationReason::SecurityIncident
                        | EscalationReason::CustomerRequested
                        | EscalationReason::BillingDispute
                );
                if a.decision != Decision::Escalate || !rule {
                    failures.push(format!(
                        "{} ({want:?}) → {:?} {:?}: {}",
                        t.id, a.decision, a.escalation.reason, t.text
                    ));
                }
                continue;
            }
            Some("no_match") => {
                no_answer += 1;
                if a.decision == Decision::Escalate {
                    no_answer_esc += 1;
                }
                continue;
            }
            _ => {}
        }
        if t.relevant.is_empty() {
            continue;
        }
        answerable += 1;
        if a.fixes.iter().take(3).any(|f| right(&f.id)) {
            top3 += 1;
        }
        if a.decision == Decision::AutoReply {
            autos += 1;
            if right(&a.fixes[0].id) {
                autos_right += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "rule tickets not escalated:\n{}",
        failures.join("\n")
    );
    let precision = autos_right as f64 / autos.max(1) as f64;
    assert!(autos >= 10, "only {autos} auto replies");
    assert!(
        precision >= floors.precision,
        "{file}: auto_reply precision {precision:.3} ({autos_right}/{autos})"
    );
    let top3_acc = top3 as f64 / answerable as f64;
    assert!(
        top3_acc >= floors.top3,
        "{file}: top-3 accuracy {top3_acc:.3}"
    );
    let esc = no_answer_esc as f64 / no_answer as f64;
    assert!(
        esc >= floors.escalated,
        "{file}: no-answer escalation {esc:.3} ({no_answer_esc}/{no_answer})"
    );
    let routed = handed_right as f64 / handed.max(1) as f64;
    assert!(handed >= 10, "only {handed} labelled hand-offs");
    assert!(
        routed >= floors.routed,
        "{file}: hand-offs to the labelled team {routed:.3} ({handed_right}/{handed})"
    );
}

/// A ticket no fix answers still reaches the team that owns its topic: the one its
/// candidates all belong to, or the one of the product it names.
#[test]
fn a_hand_off_reaches_the_team_its_candidates_agree_on() {
    for (ticket, team) in [
        ("这个月的账单对不上，我没开新的服务啊", "billing-support"),
        (
            "RDS 能不能开通 PostgreSQL 的 pg_cron 插件",
            "database-support",
        ),
    ] {
        let a = answer_text(ticket);
        assert_eq!(a.decision, Decision::Escalate, "{ticket}");
        assert_eq!(a.escalation.team, team, "{ticket}");
    }
    // Candidates spread over topics and no product named: the ticket's own words say which
    // team owns it (`服务器`: compute) ...
    let a = answer_text("服务器要做等保三级，需要准备什么材料");
    assert_eq!(a.escalation.team, "compute-support");
    assert_eq!(a.classification.category.as_deref(), Some("compute"));
    // ... and when they do not either, the general queue triages it.
    let a = answer_text("想把公司的业务整体上云，需要准备些什么");
    assert_eq!(a.escalation.team, "general-support");
    assert_eq!(a.classification.category, None);
    // A ticket form's product field routes it even when no candidate is of that product.
    let form = answer_with_product("能不能开通 PostgreSQL 的 pg_cron 插件", "RDS");
    assert_eq!(form.escalation.team, "database-support");
    // A support team names its own queues (`[answer.teams]`, `default_team`).
    let mut cfg = AnswerConfig::default();
    cfg.teams.insert("billing".into(), "finance-desk".into());
    cfg.default_team = "triage".into();
    let ask = |body: &str| answer_with(bundled(), &cfg, body);
    assert_eq!(
        ask("这个月的账单对不上，我没开新的服务啊").escalation.team,
        "finance-desk"
    );
    assert_eq!(
        ask("想把公司的业务整体上云，需要准备些什么")
            .escalation
            .team,
        "triage"
    );
}

#[test]
fn traditional_ticket_gets_a_traditional_reply() {
    let a = answer_text("資料庫一直報 ERROR 1040 (HY000): Too many connections，應用程式連不上");
    assert_eq!(a.language, deflect::analysis::Lang::ZhHant);
    if let Some(r) = &a.reply {
        assert!(
            r.text.contains("處理") || r.text.contains("問題") || r.text.contains("請"),
            "{}",
            r.text
        );
    }
}

#[test]
fn english_ticket_gets_an_english_reply() {
    let a = answer_text(
        "After I reinstalled the OS, ssh says WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!",
    );
    assert_eq!(a.language, deflect::analysis::Lang::En);
    assert_eq!(a.fixes[0].id, "ecs-en-ssh-host-key-changed");
    let reply = a.reply.expect("a reply");
    assert!(
        reply.text.is_ascii() || reply.text.contains("Steps") || reply.text.contains("articles"),
        "{}",
        reply.text
    );
}

/// A file of tests/fixtures.
fn fixture(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file)
}

/// The answer to a ticket that is only `body`, with the default configuration, on `loaded`.
fn answer_on(loaded: &Loaded, body: &str) -> AnswerResponse {
    answer_with(loaded, &AnswerConfig::default(), body)
}

/// The answer on the bundled KB to a ticket whose form names its product.
fn answer_with_product(body: &str, product: &str) -> AnswerResponse {
    let req = AnswerRequest {
        ticket: Ticket {
            body: body.into(),
            product: Some(product.into()),
            ..Default::default()
        },
        options: None,
    };
    answer(bundled(), &AnswerConfig::default(), &req).unwrap()
}

/// The same with settings of its own.
fn answer_with(loaded: &Loaded, cfg: &AnswerConfig, body: &str) -> AnswerResponse {
    let req = AnswerRequest {
        ticket: Ticket {
            body: body.into(),
            ..Default::default()
        },
        options: None,
    };
    answer(loaded, cfg, &req).unwrap()
}

/// A ticket that restates one FAQ question whole has chosen it: it is answered, not asked
/// to pick between that question and a near one (`发送` is not `消费`). Thirty quota pages
/// make both words common, as they are in a real message-queue KB, so that the two
/// questions score alike.
#[test]
fn a_ticket_restating_a_question_is_not_asked_to_choose() {
    let mut files: Vec<(String, String)> = vec![
        (
            "kafka/send.md".into(),
            "---\nid: send-best-practice\ntitle: 哪里有发送最佳实践？\ncategory: middleware\n---\n\n请参见发布者最佳实践：发送消息时设置重试次数、批量发送，并检查每次发送的返回值。\n".into(),
        ),
        (
            "kafka/consume.md".into(),
            "---\nid: consume-best-practice\ntitle: 哪里可以找到消费最佳实践？\ncategory: middleware\n---\n\n请参见订阅者最佳实践：消费消息时控制每次拉取的批量，处理完成后及时提交位点。\n".into(),
        ),
    ];
    for i in 1..=30 {
        files.push((
            format!("kafka/topic-{i}.md"),
            format!("---\nid: topic-{i}\ntitle: 主题 {i} 的配额\ncategory: middleware\n---\n\n主题 {i} 每秒可发送和消费的消息数有上限，发送失败时重试，消费堆积时扩容。\n"),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let (_dir, kb) = kb_of(&files);
    let (_index, loaded) = built(&kb);
    let a = answer_on(&loaded, "哪里有发送最佳实践？");
    assert_eq!(a.fixes[0].id, "send-best-practice");
    assert_eq!(a.fixes[1].id, "consume-best-practice");
    assert_ne!(a.decision, Decision::Clarify, "{:?}", a.clarify);
    // Restating neither, the ticket is asked which it means.
    let a = answer_on(&loaded, "最佳实践在哪里");
    assert_eq!(a.decision, Decision::Clarify, "{:?}", a.fixes);
}

/// A pasted message that only the top fix quotes tells two fixes apart as an error code
/// does: `invalid ip...` is the collector's error, though an API page's error table holds
/// the same words as often.
#[test]
fn a_quoted_message_settles_what_a_clarification_would_ask() {
    let (_dir, kb) = quoted_message_kb();
    let (_index, loaded) = built(&kb);
    let a = answer_on(&loaded, "invalid ip...");
    assert_eq!(a.fixes[0].id, "collector-errors");
    assert_ne!(a.decision, Decision::Clarify, "{:?}", a.clarify);
}

/// The answer to a ticket that is only `body`, on the bundled KB.
fn answer_text(body: &str) -> AnswerResponse {
    answer_on(bundled(), body)
}

/// An escalated ticket's reply tells the customer that a person has it, when to expect an
/// answer (the SLA of its priority), and asks for what the hand-off lacks, in the ticket's
/// language and script; a credential in the ticket is still warned about.
#[test]
fn an_escalation_tells_the_customer_when_and_asks_for_what_is_missing() {
    let cfg = AnswerConfig::default();
    // Outage: the P0 SLA, and the instance and region asked for.
    let a = answer_text("生产环境全部服务器都宕机了，网站全挂，紧急！");
    assert_eq!(a.escalation.reason, EscalationReason::P0Incident);
    let text = a.reply.expect("an escalation has a reply").text;
    assert!(
        text.contains(&format!("{} 分钟", cfg.sla_minutes[0])),
        "{text}"
    );
    for m in &a.missing_info {
        assert!(text.contains(&m.question), "{text}");
    }
    assert!(!a.missing_info.is_empty());
    // A request for a person, in traditional characters: answered in them.
    let a = answer_text("我要找真人客服，機器人都答非所問，帳單的問題");
    assert_eq!(a.escalation.reason, EscalationReason::CustomerRequested);
    let text = a.reply.unwrap().text;
    assert!(
        text.contains("轉接人工") && !text.contains("转接"),
        "{text}"
    );
    // English, with a password in it: the warning opens the reply.
    let a = answer_text(
        "our server was hacked and someone installed a crypto miner, root password is Abc12345!",
    );
    assert_eq!(a.escalation.reason, EscalationReason::SecurityIncident);
    let text = a.reply.unwrap().text;
    assert!(
        text.starts_with("Note: your message contains a password"),
        "{text}"
    );
    assert!(text.contains("security response"), "{text}");
}

/// The ticket is answered with a clarifying question: its options' entry ids.
fn asked(body: &str) -> Vec<String> {
    let a = answer_text(body);
    assert_eq!(a.decision, Decision::Clarify, "{body}: {:?}", a.fixes);
    a.clarify
        .expect("a clarify decision carries its question")
        .options
        .into_iter()
        .map(|o| o.id)
        .collect()
}

#[test]
fn an_article_priority_rates_a_report_of_its_problem_not_a_question() {
    // The ICP article fixes a site that is blocked (P1). A customer whose site is blocked
    // gets P1; one asking whether a site without a filing can be reached gets the same
    // article at the usual P3.
    let report = answer_text("网站打不开了，提示域名未备案被拦截");
    let question = answer_text("没有备案的网站能访问吗");
    assert_eq!(report.fixes[0].id, "net-domain-icp-blocked");
    assert_eq!(question.fixes[0].id, "net-domain-icp-blocked");
    // How long a filing takes is the filing article's question, not the blocked site's.
    assert_eq!(
        answer_text("网站备案要多久").fixes[0].id,
        "net-icp-filing-process"
    );
    assert_eq!(report.classification.priority, "P1");
    assert!(report
        .classification
        .priority_signals
        .iter()
        .any(|s| s.name == "article_priority"));
    assert_eq!(question.classification.priority, "P3");
    assert!(question.escalation.sla_minutes > report.escalation.sla_minutes);
    // Undecided between blocked ICMP (P4) and a routing fault (P2), the ticket is as urgent
    // as the more urgent of the two.
    let undecided = answer_text("服务器链接不上，ping 也不通");
    assert_eq!(undecided.decision, Decision::Clarify);
    assert_eq!(undecided.fixes[0].id, "net-ping-instance-fail");
    assert_eq!(undecided.classification.priority, "P2");
}

#[test]
fn a_disputed_charge_goes_to_billing_not_to_the_refund_article() {
    // The refund article matches these well; only someone who can see the account can say
    // whether the second charge is owed.
    for body in [
        "RDS 实例续费，同一个订单号 202611050017788 扣了两次钱，麻烦把多扣的那笔退给我",
        "I was charged twice for the same ECS renewal this month, please refund the duplicate",
    ] {
        let a = answer_text(body);
        assert_eq!(a.decision, Decision::Escalate, "{body}");
        assert_eq!(
            a.escalation.reason,
            EscalationReason::BillingDispute,
            "{body}"
        );
        assert_eq!(
            a.classification.category.as_deref(),
            Some("billing"),
            "{body}"
        );
        assert_eq!(a.escalation.team, "billing-support", "{body}");
        // The customer is told who will look into it, not sent the refund article.
        let reply = a
            .reply
            .as_ref()
            .expect("an escalation tells the customer")
            .text
            .clone();
        assert!(
            reply.contains("账单专员") || reply.contains("billing specialist"),
            "{body}: {reply}"
        );
        // The agent gets the candidate fixes all the same.
        assert!(!a.escalation.candidate_fixes.is_empty(), "{body}");
        assert!(
            a.classification
                .priority_signals
                .iter()
                .any(|s| s.name == "billing_dispute"),
            "{body}"
        );
    }
    // The order number was given, so the hand-off does not ask for it again.
    let given = answer_text("同一个订单号 202611050017788 扣了两次钱，请核实后退一笔给我");
    assert!(given.missing_info.iter().all(|m| m.field != "order_id"));
    let missing = answer_text("OSS 被重复扣费了，请退回多收的钱");
    assert_eq!(missing.escalation.reason, EscalationReason::BillingDispute);
    assert!(missing.missing_info.iter().any(|m| m.field == "order_id"));
    // Nor when the month of the bill was: the question asks for the one or the other.
    let month = answer_text("这个月 OSS 被重复扣费了，请退回多收的钱");
    assert_eq!(month.escalation.reason, EscalationReason::BillingDispute);
    assert_eq!(month.entities.months, ["这个月"]);
    assert!(month.missing_info.iter().all(|m| m.field != "order_id"));
    // Asking what the refund policy is is not a dispute: the article answers it.
    for body in [
        "包年包月的实例退订能退款吗",
        "包年的服务器配置买高了，降配以后差价能退给我吗",
    ] {
        let a = answer_text(body);
        assert_ne!(
            a.escalation.reason,
            EscalationReason::BillingDispute,
            "{body}"
        );
    }
    let policy = answer_text("包年包月的实例退订能退款吗");
    assert_eq!(policy.decision, Decision::AutoReply, "{:?}", policy.fixes);
    assert!(
        policy.fixes[0].id.contains("refund"),
        "{}",
        policy.fixes[0].id
    );
}

#[test]
fn chatter_around_a_ticket_does_not_make_its_fix_look_partial() {
    // The same problem, told plainly and told the way an exasperated customer tells it. The
    // chatter is weighed down in ranking, so the best score the ticket can reach is that of
    // its topic: the fix reaches the same share of it either way.
    let plain = answer_text("数据库连接数满了，报 Too many connections");
    let chatty = answer_text(
        "真是搞不懂，前几天还好好的，今天早上一来发现数据库连接数满了，报 Too many connections，\
         到底是哪里出了毛病，我们这边也没改过啥",
    );
    let (p, c) = (&plain.fixes[0], &chatty.fixes[0]);
    assert_eq!(p.id, c.id);
    assert!(p.id.contains("too-many-connections"), "{}", p.id);
    assert!(
        c.features.relative_score >= 0.8 * p.features.relative_score,
        "plain {:?} chatty {:?}",
        p.features,
        c.features
    );
    assert_eq!(chatty.decision, plain.decision, "{:?}", c.features);
}

#[test]
fn a_bare_keyword_gets_its_fixes_listed_not_one_sent() {
    // `发票` alone asks nothing: the invoice article leads a list. Asked as a question, it is
    // the answer.
    for (t, decision) in [
        ("发票", Decision::Suggest),
        ("invoice", Decision::Suggest),
        ("怎么开发票", Decision::AutoReply),
        ("能开发票吗", Decision::AutoReply),
        ("how do I get an invoice?", Decision::AutoReply),
    ] {
        let a = answer_text(t);
        assert_eq!(a.decision, decision, "{t}");
        assert_eq!(a.fixes[0].id, "bill-invoice", "{t}");
    }
}

#[test]
fn a_mail_reply_is_answered_on_the_customers_own_words() {
    // A reply by mail: greeting, the problem, a signature, and our earlier mail quoted below.
    // Signature and quote are no part of the problem: the answer is the plain ticket's.
    let ask = |subject: &str, body: &str| {
        let req = AnswerRequest {
            ticket: Ticket {
                subject: Some(subject.into()),
                body: body.into(),
                channel: Some("email".into()),
                ..Default::default()
            },
            options: None,
        };
        answer(bundled(), &AnswerConfig::default(), &req).unwrap()
    };
    let plain = ask(
        "网站访问慢",
        "我们的网站今天早上开始访问特别慢，打开要十几秒。服务器是 ECS，CPU 不高。",
    );
    let replied = ask(
        "Re: 回复：网站访问慢",
        "您好，\n\n我们的网站今天早上开始访问特别慢，打开要十几秒。服务器是 ECS，CPU 不高。\n\n\
         谢谢！\n--\n张伟 | 运维工程师\nXX科技有限公司\n电话：138-0000-0000\n\n\
         -----原始邮件-----\n发件人: support@example.com\n主题: 回复：工单 12345\n\
         您好，请问您的 CDN 回源配置和 RAM 授权策略检查过了吗？",
    );
    let ids = |a: &AnswerResponse| a.fixes.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&replied), ids(&plain));
    assert_eq!(replied.decision, plain.decision);
    assert!(!ids(&replied).iter().any(|id| id.starts_with("cdn-")));
    // The same reply sent as HTML: its markup is no word of the customer's.
    let html = ask(
        "Re: 网站访问慢",
        "<div>您好，</div><div><br></div><div>我们的网站今天早上开始访问特别慢，打开要十几秒。服务器是&nbsp;ECS，CPU 不高。</div>\
         <div style=\"font-family: Arial\">谢谢！</div><div class=\"gmail_quote\">On Mon, Nov 23, 2026 at 10:00 AM \
         Support &lt;support@example.com&gt; wrote:<br><blockquote>请问您的 CDN 回源配置检查过了吗？</blockquote></div>",
    );
    assert_eq!(ids(&html), ids(&plain));
    assert_eq!(html.decision, plain.decision);
}

#[test]
fn a_pasted_error_settles_what_a_clarification_would_ask() {
    // "Can't ssh" fits three entries; the customer is asked which one fits.
    let open = answer_text("ECS 的 ssh 连不上了，帮忙看看");
    assert_eq!(open.decision, Decision::Clarify);
    assert!(open.missing_info.iter().any(|m| m.field == "error_message"));
    // The same ticket with the error pasted names one of them: no question, and no request
    // for the error message the customer already gave.
    let told = answer_text("ECS 的 ssh 连不上了，报 Connection refused，帮忙看看");
    assert_ne!(told.decision, Decision::Clarify);
    assert_eq!(told.fixes[0].id, "ecs-ssh-connection-refused");
    assert_eq!(told.entities.error_messages, ["Connection refused"]);
    assert!(
        told.missing_info.iter().all(|m| m.field != "error_message"),
        "{:?}",
        told.missing_info
    );
    // A timeout after a reboot fits the same entries, but one of them is about that error
    // and clearly outranks the rest: confidence near 1 for both is no tie, so no question.
    let clear = answer_text("ECS重启以后ssh连接超时 Connection timed out");
    assert_ne!(clear.decision, Decision::Clarify);
    assert_eq!(clear.fixes[0].id, "ecs-ssh-timeout");
}

#[test]
fn a_named_product_settles_what_a_clarification_would_ask() {
    // A full disk: an ECS entry and an RDS entry fit equally well; the customer is asked.
    let options = asked("磁盘满了，无法写入");
    assert!(
        options.contains(&"ecs-disk-full".into())
            && options.contains(&"db-disk-full-locked".into())
    );
    // Naming the product, in the text or in the ticket's product field, answers the question.
    let named = answer_text("ECS 磁盘满了，无法写入");
    assert_ne!(named.decision, Decision::Clarify);
    assert_eq!(named.fixes[0].id, "ecs-disk-full");
    let field = answer_with_product("磁盘满了，无法写入", "ecs");
    assert_ne!(field.decision, Decision::Clarify);
    assert_eq!(field.fixes[0].id, "ecs-disk-full");
}

#[test]
fn a_clarifying_question_offers_no_product_the_ticket_ruled_out() {
    // Forgotten root password: a server's or a database's. Unnamed, both are offered.
    let options = asked("忘记了root密码");
    assert!(
        options.contains(&"ecs-vnc-password-reset".into())
            && options.contains(&"db-reset-account-password".into()),
        "{options:?}"
    );
    // Naming ECS leaves the question between the two ECS entries (a forgotten password, a
    // reset that did not take), without the database's or the account's password.
    let options = asked("ECS 实例 root 密码忘了怎么重置");
    assert!(
        options.contains(&"ecs-vnc-password-reset".into())
            && options.contains(&"ecs-reset-instance-password".into()),
        "{options:?}"
    );
    assert!(options.iter().all(|o| o.starts_with("ecs-")), "{options:?}");
}

#[test]
fn moving_a_server_to_another_region_is_answered_in_the_customers_words() {
    // jieba cuts 迁到 into 迁 / 到; the region names are words the KB uses no more than
    // general writing does, so before the KB kept 迁到 whole (and grouped it with 迁移), the
    // first of these named nothing but `服务器` and was asked what its problem was.
    for ticket in [
        "我想把香港的服务器迁到杭州",
        "我想把服务器从北京迁到上海",
        "ECS 能不能跨地域迁移",
    ] {
        let a = answer_text(ticket);
        assert_eq!(a.decision, Decision::AutoReply, "{ticket}: {:?}", a.fixes);
        assert_eq!(a.fixes[0].id, "ecs-migrate-region", "{ticket}");
    }
}

#[test]
fn a_ticket_that_two_related_titles_both_restate_is_asked() {
    // `ping不通` is every word of two linked articles' titles: ICMP blocked on an instance
    // one can SSH into, and a route missing between two subnets. The link does not make
    // them one problem, and nothing the customer said picks one: ask.
    let options = asked("ping不通");
    assert!(
        options.contains(&"net-ping-instance-fail".into())
            && options.contains(&"net-vpc-route-table".into()),
        "{options:?}"
    );
    // Saying which case it is settles it, as it did before.
    for (ticket, id) in [
        ("能ssh登录，但是ping不通", "net-ping-instance-fail"),
        ("同一个VPC里两台机器互相ping不通", "net-vpc-route-table"),
    ] {
        let told = answer_text(ticket);
        assert_eq!(told.decision, Decision::AutoReply, "{ticket}");
        assert_eq!(told.fixes[0].id, id, "{ticket}");
    }
}
#[test]
fn a_ticket_that_lower_ranked_problems_match_as_well_is_asked() {
    // `disk is full` is in the titles of the data-disk, system-disk and RDS full-disk
    // articles, and the ticket says nothing else. The ranking puts one first by title length
    // and term counts, not by anything the customer said: ask, offering the database too.
    let options = asked("disk is full, help pls");
    assert!(
        options.contains(&"db-disk-full-locked".into())
            && (options.contains(&"ecs-disk-full".into())
                || options.contains(&"disk-en-no-space-left".into())),
        "{options:?}"
    );
    // `又扣费了` is in the titles of an unexplained charge and of the FAQ on charges after a
    // release, the latter third: both restate the ticket whole, whatever their scores.
    let options = asked("怎么又扣费了？？");
    assert!(
        options.contains(&"bill-unexpected-charge".into())
            && options.contains(&"bill-faq#fee-after-release".into()),
        "{options:?}"
    );
    // Naming the database settles it. The connections-full article further down also holds
    // `rds` and `full` (`已满`, a rendering of `disk full`), but at a third of the top
    // score: that is not a second answer to offer.
    let told = answer_text("rds disk is full, help pls");
    assert_eq!(told.decision, Decision::AutoReply);
    assert_eq!(told.fixes[0].id, "db-disk-full-locked");
}

#[test]
fn options_with_one_title_in_two_products_name_their_product() {
    // Two products each keep a page titled `证书格式说明`. A ticket that says only that is
    // asked which product it means, and the two options must not read alike.
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    for (product, body) in [
        (
            "cdn",
            "加速域名开启 HTTPS 时，证书和私钥都要是 PEM 编码。证书链把站点证书放在最前，中间证书依次跟在后面。",
        ),
        (
            "vod",
            "播放域名配置 HTTPS 时上传的证书须为 PEM 编码，私钥不能设置密码。点播控制台不接受 PFX 文件，需先转换。",
        ),
        (
            "ecs",
            "实例的登录密码忘记后，可以在控制台重置，重置后重启实例生效。",
        ),
    ] {
        fs::create_dir_all(kb.join(product)).unwrap();
        let title = if product == "ecs" {
            "重置实例登录密码"
        } else {
            "证书格式说明"
        };
        fs::write(kb.join(product).join("page.md"), format!("# {title}\n\n{body}\n")).unwrap();
    }
    let index_dir = dir.path().join("index");
    index::build(&kb, &index_dir, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&index_dir, None).unwrap();
    let a = answer_on(&loaded, "证书格式说明");
    assert_eq!(a.decision, Decision::Clarify, "{:?}", a.fixes);
    let mut labels: Vec<String> = a
        .clarify
        .unwrap()
        .options
        .into_iter()
        .map(|o| o.label)
        .collect();
    labels.sort();
    assert_eq!(labels, ["证书格式说明（cdn）", "证书格式说明（vod）"]);
}

#[test]
fn a_kb_organised_by_product_folders_tells_products_apart_without_front_matter() {
    // The two full-disk entries, moved into folders named after their products, with their
    // `product` front matter removed: the folder is their area, and naming it decides.
    let (_dir, config) = temp_kb();
    for (from, to) in [
        ("compute/ecs-disk-full.md", "ecs/ecs-disk-full.md"),
        (
            "database/db-disk-full-locked.md",
            "rds/db-disk-full-locked.md",
        ),
    ] {
        let text = fs::read_to_string(config.kb.join(from)).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.starts_with("product:"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::create_dir_all(config.kb.join(to).parent().unwrap()).unwrap();
        fs::write(config.kb.join(to), kept).unwrap();
        fs::remove_file(config.kb.join(from)).unwrap();
    }
    index::build(&config.kb, &config.index, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&config.index, None).unwrap();
    let ask = |body: &str| answer_on(&loaded, body);
    let open = ask("磁盘满了，无法写入");
    assert_eq!(open.decision, Decision::Clarify, "{:?}", open.fixes);
    assert_eq!(open.fixes[0].id, "ecs-disk-full");
    let named = ask("ECS 磁盘满了，无法写入");
    assert_ne!(named.decision, Decision::Clarify);
    assert_eq!(named.fixes[0].id, "ecs-disk-full");
}

#[test]
fn a_kb_without_categories_routes_by_its_product_folders() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    for (path, text) in [
        (
            "ecs/disk-full.md",
            "# 实例系统盘满了\n\n## 解决方案\n1. 用 du 找出大文件并清理日志。\n",
        ),
        (
            "ecs/cpu-high.md",
            "# 实例 CPU 使用率 100%\n\n## 解决方案\n1. 用 top 找出占用高的进程。\n",
        ),
        (
            "ecs/ssh-refused.md",
            "# 实例 SSH 连接被拒绝\n\n## 解决方案\n1. 检查 sshd 是否在运行。\n",
        ),
        (
            "oss/upload-403.md",
            "# 上传文件返回 403\n\n## 解决方案\n1. 检查 RAM 授权。\n",
        ),
    ] {
        fs::create_dir_all(kb.join(path).parent().unwrap()).unwrap();
        fs::write(kb.join(path), text).unwrap();
    }
    let (_idx, loaded) = super::common::built(&kb);
    let mut cfg = AnswerConfig::default();
    cfg.teams.insert("ecs".into(), "compute-support".into());
    let a = answer_with(
        &loaded,
        &cfg,
        "ECS 实例能不能在线修改主机名以外的网卡 MAC 地址",
    );
    assert_eq!(a.classification.category.as_deref(), Some("ecs"), "{a:?}");
    assert_eq!(a.escalation.team, "compute-support");
    // The built-in routing words send a hand-off only to a category this desk has: none of
    // this KB's entries is `billing`, so a refund question goes to the default team, until
    // the configuration names a billing team.
    let refund = "上个月的发票还没开，退款什么时候到账";
    let a = answer_with(&loaded, &cfg, refund);
    assert_eq!(a.decision, Decision::Escalate, "{a:?}");
    assert_eq!(a.escalation.team, "general-support");
    cfg.teams.insert("billing".into(), "finance-desk".into());
    let a = answer_with(&loaded, &cfg, refund);
    assert_eq!(a.classification.category.as_deref(), Some("billing"));
    assert_eq!(a.escalation.team, "finance-desk");
}

#[test]
fn a_fix_on_a_long_reference_page_names_the_section_the_ticket_names() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    // A reference page of settings, each under its own heading, long enough to scroll.
    let mut page = String::from("# 数据库参数参考\n\n本页列出实例支持修改的全部参数。\n");
    for name in [
        "lock_wait_timeout",
        "max_connections",
        "system_time_zone",
        "time_zone",
        "sql_mode",
    ] {
        page.push_str(&format!("\n## `{name}` <span>从 v5.7 开始引入</span>\n\n"));
        for i in 0..12 {
            page.push_str(&format!(
                "参数 {name} 的第 {i} 条说明：修改后在控制台的参数设置页提交，部分参数需要重启实例才会生效，请在业务低峰期操作并提前备份。\n\n"
            ));
        }
    }
    fs::write(kb.join("params.md"), &page).unwrap();
    fs::write(
        kb.join("short.md"),
        "# 时区不对\n\n## 现象\n\n写入的时间差 8 小时。\n\n## 原因\n\n时区。\n\n## 解决方案\n\n检查应用的时区。\n",
    )
    .unwrap();
    let root = dir.path().join("index");
    index::build(&kb, &root, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&root, None).unwrap();
    let ask = |body: &str| answer_on(&loaded, body);
    let section_of = |r: &AnswerResponse, id: &str| {
        r.fixes
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{id} not among {:?}", r.fixes))
            .section
            .as_ref()
            .map(|s| s.heading.clone())
    };
    // Named outright: that section, not `system_time_zone`, which holds the name.
    let named = ask("时区不对，写入的时间差 8 小时，参数 time_zone 改成 +08:00 以后要重启实例吗");
    assert_eq!(
        section_of(&named, "params").as_deref(),
        Some("time_zone 从 v5.7 开始引入")
    );
    // A short page, or a ticket naming no heading: no section.
    assert_eq!(section_of(&named, "short"), None);
    let vague = ask("参数修改以后要重启实例吗");
    assert_eq!(section_of(&vague, "params"), None);
}

#[test]
fn a_pasted_message_leads_to_the_section_of_an_exported_guide_that_quotes_it() {
    // A troubleshooting guide exported from HTML: `<a name>` anchors and backslash-escaped
    // punctuation in its headings, each heading an error's label and message.
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    let mut page = String::from(
        "# Troubleshoot connecting to your server<a name=\"connecting\"></a>\n\nWhat to check when a client cannot reach the server over SSH.\n",
    );
    for (heading, anchor) in [
        ("Common causes for connection issues", "causes"),
        ("Resolution", "resolution"),
        (
            "Error connecting to your server: Connection timed out",
            "timeout",
        ),
        (
            "Error: Permission denied or connection closed by \\[server\\] port 22",
            "denied",
        ),
        ("Error: Unprotected private key file", "unprotected-key"),
        (
            "Error: Server refused our key *or* No supported authentication methods available",
            "refused",
        ),
    ] {
        page.push_str(&format!("\n## {heading}<a name=\"{anchor}\"></a>\n\n"));
        for i in 0..14 {
            page.push_str(&format!(
                "Check {i} for this case: look at the security rules, the user name the image expects, the key file and its permissions, and the server's sshd log before changing anything.\n\n"
            ));
        }
    }
    fs::write(kb.join("connecting.md"), &page).unwrap();
    fs::write(
        kb.join("billing.md"),
        "# Understand your bill\n\nCharges are listed per resource and per day.\n\n## Resolution\n\nOpen the bill's details page.\n",
    )
    .unwrap();
    let root = dir.path().join("index");
    index::build(&kb, &root, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&root, None).unwrap();
    for (ticket, heading, anchor) in [
        (
            "ssh -i key.pem admin@203.0.113.7 prints WARNING: UNPROTECTED PRIVATE KEY FILE! Permissions 0644 for 'key.pem' are too open.",
            "Error: Unprotected private key file",
            "unprotected-key",
        ),
        (
            "ssh: connect to host 203.0.113.7 port 22: Connection timed out",
            "Error connecting to your server: Connection timed out",
            "timeout",
        ),
        (
            "PuTTY keeps saying No supported authentication methods available (server sent: publickey)",
            "Error: Server refused our key or No supported authentication methods available",
            "refused",
        ),
        (
            "we get Connection closed by 203.0.113.7 port 22 right after login",
            "Error: Permission denied or connection closed by [server] port 22",
            "denied",
        ),
    ] {
        let a = answer_on(&loaded, ticket);
        let fix = &a.fixes[0];
        assert_eq!(fix.id, "connecting", "{ticket}");
        let section = fix.section.as_ref().unwrap_or_else(|| panic!("{ticket}: no section"));
        assert_eq!(section.heading, heading, "{ticket}");
        assert_eq!(section.anchor.as_deref(), Some(anchor), "{ticket}");
        assert!(fix.link.ends_with(&format!("#{anchor}")), "{}", fix.link);
    }
    // A ticket that quotes no heading's message is pointed at the page, not a section; nor
    // does it name a heading that other pages repeat (`Resolution`) by saying its word.
    let vague = answer_on(
        &loaded,
        "cannot connect to my server over ssh since this morning, need a resolution",
    );
    assert_eq!(vague.fixes[0].id, "connecting");
    assert!(
        vague.fixes[0].section.is_none(),
        "{:?}",
        vague.fixes[0].section
    );
}

/// A step that says what to run shows it: on every auto-reply to the labelled tickets, a
/// step line that ends in a colon (`放行 SSH 端口：`) has the command, or the points, it
/// announces indented under it, and the Markdown reply keeps commands fenced.
#[test]
fn auto_replies_show_the_commands_their_steps_announce() {
    let tickets = load_jsonl(&fixture("tickets.jsonl")).unwrap();
    let mut replies = 0;
    let mut with_code = 0;
    for t in &tickets {
        let a = answer_text(&t.text);
        if a.decision != Decision::AutoReply {
            continue;
        }
        let reply = a.reply.expect("an auto-reply carries its reply");
        replies += 1;
        let lines: Vec<&str> = reply.text.lines().collect();
        let indent = |l: &str| l.len() - l.trim_start().len();
        for (i, line) in lines.iter().enumerate() {
            // A step's or a point's prose; deeper lines are commands.
            let step = line.starts_with(|c: char| c.is_ascii_digit()) || indent(line) == 3;
            if step && (line.ends_with('：') || line.ends_with(':')) {
                let next = lines.get(i + 1).copied().unwrap_or("");
                // Under it: indented deeper, or the points it introduces.
                assert!(
                    indent(next) > indent(line)
                        || (indent(next) == indent(line) && next.trim_start().starts_with("- ")),
                    "{}: `{line}` announces what is not shown:\n{}",
                    t.id,
                    reply.text
                );
            }
        }
        if reply.markdown.contains("\n   ```") {
            with_code += 1;
            assert!(!reply.text.contains("```"), "{}", reply.text);
        }
    }
    // 180 of the 213 auto-replies showed a command when this was written (none did before:
    // steps were their prose alone).
    assert!(replies > 100, "{replies} auto-replies");
    assert!(
        with_code * 2 > replies,
        "{with_code} of {replies} show a command"
    );
}

/// A page without a solution section still answers in the reply: a short page by its own
/// text, a long guide by the opening of the section the ticket names (quoted as it reads,
/// not numbered), instead of a title and a link.
#[test]
fn a_reply_quotes_what_a_page_without_steps_says() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    fs::write(
        kb.join("billing.md"),
        "# 停用加速服务后为什么还有少量流量费用\n\n停用后，用户本地 DNS 的缓存未过期前，仍会把请求解析到加速节点，产生少量流量费用。\n\n缓存过期后费用不再产生。\n",
    )
    .unwrap();
    let mut guide = String::from("# 客户端接入指南\n\n本文介绍各类客户端如何接入。\n");
    for (name, cmd) in [
        ("Nginx 配置方案", "real_ip_header X-Forwarded-For;"),
        ("Apache 配置方案", "RemoteIPHeader X-Forwarded-For"),
        ("Tomcat 配置方案", "<Valve className=\"RemoteIpValve\"/>"),
    ] {
        guide.push_str(&format!(
            "\n## {name}\n\n在配置文件中加入以下内容：\n\n```\n{cmd}\n```\n\n"
        ));
        for i in 0..10 {
            guide.push_str(&format!(
                "{name} 的第 {i} 条注意事项：修改配置后需要重新加载服务，并在日志中确认获取到的是客户端的真实地址。\n\n"
            ));
        }
    }
    fs::write(kb.join("guide.md"), &guide).unwrap();
    let (_index, loaded) = super::common::built(&kb);

    let a = answer_on(&loaded, "停用加速服务后为什么还有少量流量费用");
    assert_eq!(a.fixes[0].id, "billing");
    let intro = a.fixes[0].steps_intro.as_deref().unwrap_or_default();
    assert!(
        intro.contains("本地 DNS 的缓存") && intro.contains("缓存过期后费用不再产生"),
        "{intro}"
    );

    let a = answer_on(&loaded, "Apache 配置方案 怎么拿到客户端真实地址");
    let top = &a.fixes[0];
    assert_eq!(top.id, "guide");
    assert_eq!(
        top.section.as_ref().map(|s| s.heading.as_str()),
        Some("Apache 配置方案")
    );
    let intro = top.steps_intro.as_deref().unwrap_or_default();
    assert!(
        intro.starts_with("在配置文件中加入以下内容：\n\n```\nRemoteIPHeader X-Forwarded-For\n```"),
        "{intro}"
    );
    let reply = deflect::answer::reply::auto_reply(
        top,
        deflect::analysis::Lang::Zh,
        &AnswerConfig::default(),
        None,
    );
    assert!(reply.text.contains("以下摘自指南中的“Apache 配置方案”一节：\n在配置文件中加入以下内容：\n    RemoteIPHeader X-Forwarded-For\n"), "{}", reply.text);
    assert!(!reply.text.contains("1. 在配置文件"), "{}", reply.text);
}

/// A channel with a length limit gets a reply within it: the request's `reply_max_chars`
/// shortens the SSH fix's reply (every step a line, no commands) and keeps its link.
#[test]
fn a_request_caps_its_auto_reply_for_its_channel() {
    let ticket = "ECS 实例重启后 ssh 连不上，报错 Connection refused";
    let full = answer_text(ticket).reply.expect("auto-reply").text;
    let req = AnswerRequest {
        ticket: Ticket {
            body: ticket.into(),
            ..Default::default()
        },
        options: Some(deflect::answer::AnswerOptions {
            reply_max_chars: Some(500),
            ..Default::default()
        }),
    };
    let a = answer(bundled(), &AnswerConfig::default(), &req).unwrap();
    assert_eq!(a.decision, Decision::AutoReply);
    let text = a.reply.expect("auto-reply").text;
    assert!(full.chars().count() > 500, "the full reply is long: {full}");
    assert!(text.chars().count() <= 500, "{text}");
    assert!(
        text.contains("/v1/articles/ecs-ssh-connection-refused"),
        "{text}"
    );
    assert!(!text.contains("systemctl"), "{text}");

    // A system that sends every channel to one endpoint sets the caps in the config, and the
    // ticket's channel picks one; the request's own cap still wins.
    let mut cfg = AnswerConfig::default();
    cfg.channel_reply_max_chars.insert("sms".into(), 300);
    let on = |channel: &str, cap: Option<usize>| {
        let req = AnswerRequest {
            ticket: Ticket {
                body: ticket.into(),
                channel: Some(channel.into()),
                ..Default::default()
            },
            options: Some(deflect::answer::AnswerOptions {
                reply_max_chars: cap,
                ..Default::default()
            }),
        };
        answer(bundled(), &cfg, &req)
            .unwrap()
            .reply
            .expect("auto-reply")
            .text
    };
    let sms = on("SMS", None);
    assert!(sms.chars().count() <= 300, "{sms}");
    assert!(
        sms.contains("/v1/articles/ecs-ssh-connection-refused"),
        "{sms}"
    );
    assert_eq!(on("email", None), full);
    let asked = on("sms", Some(500));
    assert!(
        asked.chars().count() > 300 && asked.chars().count() <= 500,
        "{asked}"
    );
}

/// A ticket that carries a credential gets a reply that opens by asking the customer to
/// change it, inside the channel's length cap, and a signal for the agent that names the
/// kind of credential, never the credential.
#[test]
fn a_pasted_credential_is_flagged_and_the_customer_asked_to_change_it() {
    let ticket =
        "ECS 实例重启后 ssh 连不上，报错 Connection refused。root 密码是Abc#12345，麻烦帮看下";
    let a = answer_text(ticket);
    assert_eq!(a.decision, Decision::AutoReply);
    let reply = a.reply.expect("auto-reply");
    assert!(
        reply.text.starts_with("提醒：您的消息中包含密码或密钥"),
        "{}",
        reply.text
    );
    assert!(reply.markdown.starts_with("提醒："), "{}", reply.markdown);
    let s = a
        .classification
        .priority_signals
        .iter()
        .find(|s| s.name == "credential_in_ticket")
        .expect("signal");
    assert_eq!(s.evidence, "secret");
    assert!(!serde_json::to_string(&a.classification)
        .unwrap()
        .contains("Abc#12345"));

    let req = AnswerRequest {
        ticket: Ticket {
            body: ticket.into(),
            ..Default::default()
        },
        options: Some(deflect::answer::AnswerOptions {
            reply_max_chars: Some(300),
            ..Default::default()
        }),
    };
    let capped = answer(bundled(), &AnswerConfig::default(), &req)
        .unwrap()
        .reply
        .expect("auto-reply")
        .text;
    assert!(capped.chars().count() <= 300, "{capped}");
    assert!(capped.starts_with("提醒："), "{capped}");

    let en = answer_text(
        "ssh to my ECS instance says Connection refused after reboot, AccessKey LTAI5tQ9xYz8AbCdEfGh1234",
    );
    let text = en.reply.expect("reply").text;
    assert!(
        text.starts_with("Note: your message contains an AccessKey"),
        "{text}"
    );

    // Without one, nothing is said.
    let plain = answer_text("ECS 实例重启后 ssh 连不上，报错 Connection refused");
    assert!(!plain.reply.unwrap().text.contains("提醒"));
    assert!(plain
        .classification
        .priority_signals
        .iter()
        .all(|s| s.name != "credential_in_ticket"));
}

/// A `no_match` hand-off tells the agent the KB has nothing: it must not be said of a long
/// ticket whose first candidate is its answer but covers little of its text (i028, i044).
/// On both labelled sets, at most a tenth of the `no_match` hand-offs have the right first
/// fix (2 of 27; 14 of 47 when coverage alone decided).
#[test]
fn no_match_means_no_candidate_answers() {
    let mut no_match = 0;
    let mut right_first = 0;
    for file in ["tickets.jsonl", "holdout_tickets.jsonl"] {
        for t in load_jsonl(&fixture(file)).unwrap() {
            let a = answer_text(&t.text);
            if a.decision != Decision::Escalate || a.escalation.reason != EscalationReason::NoMatch
            {
                continue;
            }
            no_match += 1;
            let first = a.fixes.first().map(|f| f.id.as_str());
            if t.expect.as_deref() == Some("answer")
                && first.is_some_and(|f| t.relevant.iter().any(|r| r == f))
            {
                right_first += 1;
            }
        }
    }
    assert!(no_match >= 15, "{no_match}");
    assert!(right_first * 10 <= no_match, "{right_first} of {no_match}");
}

/// A customer answers a clarifying question: the same ticket sent again with the option's
/// entry is answered with that entry, even one the ticket ranks low or not at all; a rule
/// that hands the ticket to a human still does.
#[test]
fn the_customers_choice_is_answered_with_that_entry() {
    let ticket = "网站打不开了";
    let options = asked(ticket);
    let choose = |body: &str, id: &str| {
        let req = AnswerRequest {
            ticket: Ticket {
                body: body.into(),
                ..Default::default()
            },
            options: Some(AnswerOptions {
                chosen: Some(id.into()),
                ..Default::default()
            }),
        };
        answer(bundled(), &AnswerConfig::default(), &req)
    };
    for id in [&options[1], &options[2], "bill-invoice"] {
        let a = choose(ticket, id).unwrap();
        assert_eq!(a.decision, Decision::AutoReply, "{id}");
        assert_eq!(a.fixes[0].id, id);
        let reply = a.reply.expect("an auto-reply has its text");
        assert!(reply.text.contains(&a.fixes[0].title), "{}", reply.text);
        assert!(a.clarify.is_none());
    }
    // The category is the chosen entry's.
    let a = choose(ticket, "bill-invoice").unwrap();
    assert_eq!(a.classification.category.as_deref(), Some("billing"));
    let human = choose("网站打不开了，转人工", &options[1]).unwrap();
    assert_eq!(human.decision, Decision::Escalate);
    assert!(matches!(
        choose(ticket, "no-such-entry"),
        Err(deflect::search::SearchError::UnknownEntry(id)) if id == "no-such-entry"
    ));
}

/// The chat set's messages that name no problem (tests/fixtures/chat_tickets.README.md),
/// written blind: greetings and vague follow-ups are asked what the problem is, closings get
/// a closing reply; none is offered an article. (`C070`, `按你说的重启了 然后呢`, is not: its
/// one word, 重启, finds the reboot articles, and only the conversation says what it means.)
#[test]
fn the_chat_sets_messages_without_a_problem_get_no_article() {
    let draft = std::fs::read_to_string(fixture("chat_tickets.draft.txt")).unwrap();
    let line = |id: &str| {
        draft
            .lines()
            .find_map(|l| l.strip_prefix(id)?.strip_prefix('\t'))
            .unwrap_or_else(|| panic!("{id} in the draft"))
            .to_string()
    };
    let greetings = ["C054", "C055", "C056", "C057", "C058"];
    let follow_ups = ["C065", "C066", "C067"];
    for id in greetings.iter().chain(&follow_ups) {
        let t = line(id);
        let a = answer_text(&t);
        assert_eq!(a.decision, Decision::Clarify, "{id} {t}: {:?}", a.fixes);
        assert!(a.fixes.is_empty(), "{id} {t}: {:?}", a.fixes);
    }
    for id in ["C059", "C060", "C064"] {
        let t = line(id);
        let a = answer_text(&t);
        assert_eq!(a.decision, Decision::AutoReply, "{id} {t}: {:?}", a.fixes);
        assert!(a.fixes.is_empty(), "{id} {t}: {:?}", a.fixes);
    }
}

/// A chat's closing line (thanks, it works now) is answered in kind: no fix, no question.
/// Its words found articles before: `works` an English access-denied page, `resolved` a
/// DNS one, and the customer was asked to pick one.
#[test]
fn a_closing_line_gets_a_closing_reply_and_no_fix() {
    for (t, said) in [
        ("好的，谢谢", "随时"),
        ("问题已经解决了，谢谢！", "随时"),
        ("問題解決了，謝謝", "隨時"),
        ("Thank you, it works now", "write to us"),
        ("the issue is resolved", "write to us"),
    ] {
        let a = answer_text(t);
        assert_eq!(a.decision, Decision::AutoReply, "{t}: {:?}", a.fixes);
        assert!(a.fixes.is_empty(), "{t}: {:?}", a.fixes);
        assert!(a.clarify.is_none(), "{t}");
        let reply = a.reply.expect("a closing line is answered").text;
        assert!(reply.contains(said), "{t}: {reply}");
    }
    // More than thanks is a ticket.
    let a = answer_text("谢谢，但是 ssh 还是连不上");
    assert!(!a.fixes.is_empty());
    assert!(a.fixes[0].id.starts_with("ecs-ssh"), "{:?}", a.fixes);
    // A request for a person comes first.
    let a = answer_text("谢谢，转人工");
    assert_eq!(a.escalation.reason, EscalationReason::CustomerRequested);
}

/// A chat's opening line names no problem: the customer is asked what it is, with no
/// options drawn from what `问题` happens to find; a vague ticket on a topic keeps its
/// options, and a request for a human is still handed to one.
#[test]
fn a_ticket_that_names_no_problem_is_asked_what_it_is() {
    for t in [
        "你好，我有个问题想咨询一下",
        "有问题",
        "出问题了，急",
        "請問一下，我有問題",
        "hello?",
        "Hi, I have a question",
        "i-bp1abc123def456",
        // Its one word is in a third of the KB: what holds `服务器` is no more its answer
        // than any other entry.
        "我的服务器有问题",
        "my server has a problem",
        // What a chat platform writes for an image is no word of the customer's.
        "[图片]",
        "[图片][捂脸]",
        // A chat's `are you there?`: kb/ keeps 在吗 whole, and an alias holds it
        // (`数据还在吗`); it is chatter all the same.
        "在吗",
        "在吗？急急急",
        // A failure with nothing that fails: a chat's second message, or a first one. An
        // alias holds `配置了跨域还是不行`; that is not the customer's problem.
        "还是不行",
        "又报错了",
        "失败了！！",
        "试了没用啊 还是一样的报错",
        "still not working",
        "didn't help",
    ] {
        let a = answer_text(t);
        assert_eq!(a.decision, Decision::Clarify, "{t}: {:?}", a.fixes);
        assert!(a.fixes.is_empty(), "{t}: {:?}", a.fixes);
        let c = a.clarify.expect("a clarify decision carries its question");
        assert!(c.options.is_empty(), "{t}: {:?}", c.options);
        let reply = a.reply.expect("the question is the reply");
        assert_eq!(reply.text, c.question);
        assert!(
            ["报错", "報錯", "error message"]
                .iter()
                .any(|w| reply.text.contains(w)),
            "{t}: {}",
            reply.text
        );
    }
    assert!(answer_text("請問一下，我有問題")
        .reply
        .unwrap()
        .text
        .contains("請問"));
    assert!(asked("网站打不开了").len() >= 2);
    // The same word with what happens to it is a problem the KB has answers to.
    assert!(asked("服务器很慢").len() >= 2);
    // A question with options says what to send when none fits.
    let reply = answer_text("网站打不开了").reply.unwrap().text;
    assert!(reply.contains("如果都不是"), "{reply}");
    let reply = answer_text("disk is full, help pls").reply.unwrap().text;
    assert!(reply.contains("If none of these fits"), "{reply}");
    let human = answer_text("你好，转人工");
    assert_eq!(human.decision, Decision::Escalate);
    assert_eq!(human.escalation.reason, EscalationReason::CustomerRequested);
    // A request for a human and nothing else has no candidates for the agent: what `人工`
    // finds (real-name checks) would only mislead. With a problem, its fixes are there.
    for t in [
        "转人工",
        "转人工 转人工 转人工",
        "人工客服！！！机器人回答的都没用",
        "can I talk to a real person",
    ] {
        let a = answer_text(t);
        assert_eq!(a.escalation.reason, EscalationReason::CustomerRequested);
        // Nor does its wording send it to a team: `机器人` is no `机器` (compute).
        assert_eq!(a.escalation.team, "general-support", "{t}");
        assert!(
            a.escalation.candidate_fixes.is_empty(),
            "{t}: {:?}",
            a.fixes
        );
    }
    let a = answer_text("服务器 ssh 连不上，转人工");
    assert_eq!(a.escalation.reason, EscalationReason::CustomerRequested);
    assert!(
        a.escalation
            .candidate_fixes
            .iter()
            .any(|f| f.starts_with("ecs-ssh")),
        "{:?}",
        a.escalation.candidate_fixes
    );
}
