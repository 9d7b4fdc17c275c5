//! Reply texts: the messages for each decision, in the
//! ticket's language and script (traditional-Chinese tickets get traditional replies).

use super::{Clarify, ClarifyOption, Fix, Reply};
use crate::analysis::normalize::to_traditional;
use crate::analysis::Lang;
use crate::config::AnswerConfig;
use crate::search::Hit;

fn localize(text: String, lang: Lang) -> String {
    if lang == Lang::ZhHant {
        to_traditional(&text)
    } else {
        text
    }
}

fn contact(lang: Lang, cfg: &AnswerConfig) -> &str {
    if lang == Lang::En {
        &cfg.human_contact_en
    } else {
        &cfg.human_contact_zh
    }
}

/// The fewest characters a capped reply may be given: the title, link and contact lines.
pub const MIN_REPLY_CHARS: usize = 200;

/// How much of a fix an auto-reply shows.
#[derive(Clone, Copy, PartialEq)]
enum Detail {
    /// Every step with its commands, points and tables.
    Full,
    /// The first `n` steps as one plain line each (a step's lead paragraph), and the
    /// introduction's first line.
    Lines(usize),
}

/// `line` with the colon that announced what followed it (`检查 sshd 状态：`, `Run:`) made a
/// full stop, for a reply that leaves that part out.
fn end_announcement(line: &str) -> String {
    match line.trim_end().strip_suffix(['：', ':']) {
        Some(head) => {
            let cjk = head.chars().last().is_some_and(|c| c > '\u{2E80}');
            format!("{head}{}", if cjk { "。" } else { "." })
        }
        None => line.to_string(),
    }
}

/// The auto-reply: the fix, its steps, expected time, link, and how to reach a human. With
/// `max_chars` (a channel's limit, `reply_max_chars`), a plain text longer than that is
/// made shorter: each step one line without its commands, then fewer steps, with a note
/// that the link has the rest. The title, link and contact are always kept.
/// The line that opens a reply to a ticket carrying a credential (`entities::credential_kind`):
/// a ticket is read by several people and kept, so the customer should change it.
pub fn credential_warning(kind: &str, lang: Lang) -> String {
    let warning: String = match (lang == Lang::En, kind) {
        (true, "accesskey") => "Note: your message contains an AccessKey. Tickets are read by several people and kept on record, so please disable it and create a new one.".into(),
        (true, "private_key") => "Note: your message contains a private key. Tickets are read by several people and kept on record, so please replace the key and its certificate.".into(),
        (true, _) => "Note: your message contains a password or secret. Tickets are read by several people and kept on record, so please change it.".into(),
        (false, "accesskey") => "提醒：您的消息中包含 AccessKey。工单会被多人查看并留存，请尽快禁用该 AccessKey 并创建新的。".into(),
        (false, "private_key") => "提醒：您的消息中包含私钥。工单会被多人查看并留存，请尽快更换私钥及对应证书。".into(),
        (false, _) => "提醒：您的消息中包含密码或密钥。工单会被多人查看并留存，请尽快修改。".into(),
    };
    localize(warning, lang)
}

/// How long the customer is told to wait, from a team's SLA: `15 分钟`, `4 小时`, `3 天`.
fn wait(minutes: u32, lang: Lang) -> String {
    let en = lang == Lang::En;
    let (n, zh, english) = if minutes < 120 {
        (minutes, "分钟", "minutes")
    } else if minutes < 2 * 1440 || !minutes.is_multiple_of(1440) {
        (minutes.div_ceil(60), "小时", "hours")
    } else {
        (minutes / 1440, "天", "days")
    };
    if en {
        format!("{n} {english}")
    } else {
        format!("{n} {zh}")
    }
}

/// What the customer is told when the ticket goes to a person: that it has, why when the
/// reason changes what they should expect, when to expect a reply (the team's SLA for the
/// ticket's priority), and what to send meanwhile (the hand-off's `missing_info`), so that
/// the agent's first message is not a question the bot could have asked.
pub fn escalate(
    reason: super::EscalationReason,
    sla_minutes: u32,
    missing: &[super::rules::MissingInfo],
    lang: Lang,
) -> Reply {
    use super::EscalationReason as R;
    let en = lang == Lang::En;
    let opening = match (reason, en) {
        (R::CustomerRequested, false) => "好的，已为您转接人工客服。",
        (R::CustomerRequested, true) => "Sure, your ticket is now with a support engineer.",
        (R::P0Incident, false) => "已收到您的故障报告，已按最高优先级转交值班工程师处理。",
        (R::P0Incident, true) => {
            "We have your outage report, and the on-call engineers have it at top priority."
        }
        (R::SecurityIncident, false) => "已收到您的安全事件报告，已转交安全应急工程师处理。",
        (R::SecurityIncident, true) => {
            "We have your security incident report, and our security response engineers have it."
        }
        (R::BillingDispute, false) => "已将您的费用问题转交账单专员核实。",
        (R::BillingDispute, true) => "A billing specialist will look into this charge.",
        (_, false) => "您的问题已转交工程师处理。",
        (_, true) => "Your ticket is now with a support engineer.",
    };
    let mut text = if en {
        format!(
            "{opening} You will hear from us within {}.",
            wait(sla_minutes, lang)
        )
    } else {
        format!("{opening}我们会在 {}内回复您。", wait(sla_minutes, lang))
    };
    if !missing.is_empty() {
        text.push_str(if en {
            "\n\nTo speed things up, please reply with:\n"
        } else {
            "\n\n为了更快处理，请回复补充以下信息：\n"
        });
        for (i, m) in missing.iter().enumerate() {
            text.push_str(&format!("{}. {}\n", i + 1, m.question));
        }
        text.pop();
    }
    let text = localize(text, lang);
    Reply {
        markdown: text.clone(),
        text,
    }
}

/// `reply` opened by `line` (a paragraph of its own).
pub fn prepend(reply: Reply, line: &str) -> Reply {
    Reply {
        text: format!("{line}\n\n{}", reply.text),
        markdown: format!("{line}\n\n{}", reply.markdown),
    }
}

pub fn auto_reply(fix: &Fix, lang: Lang, cfg: &AnswerConfig, max_chars: Option<usize>) -> Reply {
    let full = compose(fix, lang, cfg, Detail::Full);
    let Some(max) = max_chars else {
        return full;
    };
    let fits = |r: &Reply| r.text.chars().count() <= max;
    if fits(&full) {
        return full;
    }
    let mut n = fix.steps.len();
    loop {
        let r = compose(fix, lang, cfg, Detail::Lines(n));
        if fits(&r) || n == 0 {
            return r;
        }
        n -= 1;
    }
}

fn compose(fix: &Fix, lang: Lang, cfg: &AnswerConfig, detail: Detail) -> Reply {
    let en = lang == Lang::En;
    let mut md = String::new();
    let mut text = String::new();
    // An entry without extracted steps (most pages outside a curated KB) points to the guide
    // instead of announcing steps it does not list.
    // A long page without steps: the section that holds the ticket, so the reader need not
    // search the page for it.
    let section = fix.section.as_ref().map(|s| s.heading.as_str());
    let from = section.filter(|_| fix.steps_from_section);
    let said = !fix.steps.is_empty() || fix.steps_intro.is_some();
    let steps_head = match (en, !said, section) {
        (true, false, _) => match (from, fix.steps.is_empty()) {
            (Some(h), _) => format!("\n\nFrom the section \"{h}\" of the guide:\n"),
            (None, false) => "\n\nSteps:\n".to_string(),
            (None, true) => "\n\nWhat to do:\n".to_string(),
        },
        (false, false, _) => match (from, fix.steps.is_empty()) {
            (Some(h), _) => format!("\n\n以下摘自指南中的“{h}”一节：\n"),
            (None, false) => "\n\n处理步骤：\n".to_string(),
            (None, true) => "\n\n处理方法：\n".to_string(),
        },
        (true, true, Some(h)) => {
            format!("\n\nThe section \"{h}\" of the guide linked below walks through the fix.\n")
        }
        (false, true, Some(h)) => format!("\n\n处理方法请参见下方链接中的“{h}”一节。\n"),
        (true, true, None) => "\n\nThe guide linked below walks through the fix.\n".to_string(),
        (false, true, None) => "\n\n处理方法请参见下方链接中的指南。\n".to_string(),
    };
    if en {
        md.push_str(&format!("This looks like: **{}**{steps_head}", fix.title));
        text.push_str(&format!("This looks like: {}{steps_head}", fix.title));
    } else {
        md.push_str(&format!(
            "根据您的描述，问题可能是：**{}**{steps_head}",
            fix.title
        ));
        text.push_str(&format!(
            "根据您的描述，问题可能是：{}{steps_head}",
            fix.title
        ));
    }
    // Steps with more than one block (a command under the prose) make a loose list: a
    // blank line between items keeps each command visibly under its own step.
    let loose = fix.steps_markdown.iter().any(|s| s.contains("\n\n"));
    match detail {
        Detail::Full => {
            // What the article says before its steps (or instead of them), as it reads.
            if let Some(intro) = &fix.steps_intro {
                md.push_str(intro);
                md.push_str(if fix.steps.is_empty() { "\n" } else { "\n\n" });
                text.push_str(&step_text(None, intro));
            }
            for (i, s) in fix.steps_markdown.iter().enumerate() {
                if loose && i > 0 {
                    md.push('\n');
                }
                md.push_str(&step_markdown(i + 1, s));
                text.push_str(&step_text(Some(i + 1), s));
            }
        }
        Detail::Lines(n) => {
            // The introduction's first line (its lead sentence), then one line a step.
            // (Not a code fence or table row, when the introduction opens with one.)
            let first = fix.steps_intro.as_deref().and_then(|i| i.lines().next());
            if let Some(first) = first.filter(|l| !l.starts_with(['`', '~', '|'])) {
                let line = format!("{}\n", first.replace('`', ""));
                md.push_str(&line);
                text.push_str(&line);
            }
            for (i, s) in fix.steps.iter().take(n).enumerate() {
                // The step's lead paragraph: its prose without what follows its commands.
                // Its colon announced them; with them left out, it ends the sentence.
                let lead = fix
                    .steps_markdown
                    .get(i)
                    .and_then(|m| m.lines().next())
                    .map(|l| end_announcement(&l.replace('`', "")))
                    .unwrap_or_else(|| s.clone());
                let line = format!("{}. {lead}\n", i + 1);
                md.push_str(&line);
                text.push_str(&line);
            }
            let cut = n < fix.steps.len()
                || fix.steps_markdown.iter().any(|m| m.contains('\n'))
                || fix.steps_intro.as_deref().is_some_and(|i| i.contains('\n'));
            if cut {
                let more = if en {
                    "(The guide linked below has the full steps and commands.)\n"
                } else {
                    "（完整步骤和命令见下方链接。）\n"
                };
                md.push_str(more);
                text.push_str(more);
            }
        }
    }
    if let Some(m) = fix.expected_fix_minutes {
        let line = if en {
            format!("\nExpected time to fix: about {m} minutes.\n")
        } else {
            format!("\n预计处理时间：约 {m} 分钟。\n")
        };
        md.push_str(&line);
        text.push_str(&line);
    }
    if en {
        md.push_str(&format!(
            "\nFull guide: [{}]({})\n\n{}",
            fix.title,
            fix.link,
            contact(lang, cfg)
        ));
        text.push_str(&format!(
            "\nFull guide: {}\n\n{}",
            fix.link,
            contact(lang, cfg)
        ));
    } else {
        md.push_str(&format!(
            "\n详细说明：[{}]({})\n\n{}",
            fix.title,
            fix.link,
            contact(lang, cfg)
        ));
        text.push_str(&format!(
            "\n详细说明：{}\n\n{}",
            fix.link,
            contact(lang, cfg)
        ));
    }
    Reply {
        text: localize(text, lang),
        markdown: localize(md, lang),
    }
}

/// A step's Markdown (`markdown::Step`) as item `n` of a numbered list: its later blocks
/// (paragraphs, points, fenced code) indented under the number, so that they stay in the item.
fn step_markdown(n: usize, md: &str) -> String {
    let number = format!("{n}. ");
    let pad = " ".repeat(number.len());
    let mut out = number;
    for (i, line) in md.lines().enumerate() {
        if i > 0 && !line.is_empty() {
            out.push_str(&pad);
        }
        out.push_str(line);
        out.push('\n');
    }
    if md.is_empty() {
        out.push('\n');
    }
    out
}

/// A step's Markdown as plain text for channels that show no formatting: prose without
/// code-span backticks, commands indented under the step, no fences.
fn step_text(n: Option<usize>, md: &str) -> String {
    let mut out = String::new();
    let mut numbered = false;
    let mut fence: Option<&str> = None;
    // A numbered step's later lines sit under its text; an unnumbered block (an
    // introduction, a quoted section) keeps its prose at the margin.
    let (prose_pad, block_pad) = if n.is_some() {
        ("   ", "     ")
    } else {
        ("", "    ")
    };
    let number = |out: &mut String, numbered: &mut bool| {
        if !*numbered {
            if let Some(n) = n {
                out.push_str(&format!("{n}."));
            }
            *numbered = true;
            n.is_some()
        } else {
            false
        }
    };
    for line in md.lines() {
        if let Some(f) = fence {
            if line.trim() == f {
                fence = None;
            } else {
                if number(&mut out, &mut numbered) {
                    out.push('\n');
                }
                out.push_str(block_pad);
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            let marks = t.chars().take_while(|c| *c == '`' || *c == '~').count();
            fence = Some(&t[..marks]);
            continue;
        }
        if t.is_empty() {
            continue;
        }
        // A table row, as its cells; the header's rule line goes.
        if let Some(row) = t.strip_prefix('|') {
            if !row.chars().all(|c| matches!(c, '-' | '|' | ':' | ' ')) {
                if number(&mut out, &mut numbered) {
                    out.push('\n');
                }
                let row = row.strip_suffix('|').unwrap_or(row).trim();
                out.push_str(block_pad);
                out.push_str(&row.replace("\\|", "|").replace('`', ""));
                out.push('\n');
            }
            continue;
        }
        let plain = t.replace("`` ", "").replace(" ``", "").replace('`', "");
        if number(&mut out, &mut numbered) {
            out.push(' ');
        } else {
            out.push_str(prose_pad);
        }
        out.push_str(&plain);
        out.push('\n');
    }
    if let (false, Some(n)) = (numbered, n) {
        out.push_str(&format!("{n}.\n"));
    }
    out
}

/// The suggestion: the top fixes as choices.
pub fn suggest(fixes: &[Fix], lang: Lang, cfg: &AnswerConfig) -> Reply {
    let en = lang == Lang::En;
    let head = if en {
        "These articles may solve your problem:\n"
    } else {
        "以下文章可能解决您的问题：\n"
    };
    let mut md = String::from(head);
    let mut text = String::from(head);
    for (i, f) in fixes.iter().enumerate() {
        // A long page names the section to read: `系统变量 › tidb_gc_life_time`.
        let title = match &f.section {
            Some(sec) => format!("{} › {}", f.title, sec.heading),
            None => f.title.clone(),
        };
        md.push_str(&format!("{}. [{title}]({})\n", i + 1, f.link));
        text.push_str(&format!("{}. {title} {}\n", i + 1, f.link));
    }
    md.push('\n');
    md.push_str(contact(lang, cfg));
    text.push('\n');
    text.push_str(contact(lang, cfg));
    Reply {
        text: localize(text, lang),
        markdown: localize(md, lang),
    }
}

/// The clarifying question: the close candidates as options, up to and including `rival`
/// (the index of the hit the top one could not be told from).
///
/// `ruled_out` says which hits the ticket has already excluded (it names the top fix's
/// product and not theirs): they are not offered (the rival never is one). Asked `ECS 实例
/// root 密码忘了怎么重置`, a customer is not offered the database's password reset.
pub fn clarify(
    hits: &[Hit],
    confs: &[(f32, super::Features)],
    rival: usize,
    lang: Lang,
    cfg: &AnswerConfig,
    ruled_out: impl Fn(&Hit) -> bool,
) -> Clarify {
    let top = confs.first().map(|c| c.0).unwrap_or(0.0);
    let mut chosen: Vec<&Hit> = Vec::new();
    for (i, (h, (c, _))) in hits.iter().zip(confs).enumerate() {
        // The rival that made the ticket a question is offered whatever its confidence.
        let needed = i <= rival;
        if chosen.len() >= 4 || (!needed && chosen.len() >= 2 && *c < top * cfg.clarify_ratio * 0.8)
        {
            break;
        }
        if i > 0 && ruled_out(h) {
            continue;
        }
        if chosen.iter().all(|o| o.doc_id != h.doc_id) {
            chosen.push(h);
        }
    }
    // Options must read differently: the same page title in two products (`证书格式说明` of
    // CDN and of VOD) is labelled with its product, or the customer could not answer.
    let options = chosen
        .iter()
        .map(|h| {
            let twin = chosen
                .iter()
                .any(|o| o.id != h.id && o.title.trim() == h.title.trim());
            let label = match h.product.as_deref().or(h.area.as_deref()) {
                Some(p) if twin && lang == Lang::En => format!("{} ({p})", h.title),
                Some(p) if twin => format!("{}（{p}）", h.title),
                _ => h.title.clone(),
            };
            ClarifyOption {
                id: h.id.clone(),
                label: localize(label, lang),
            }
        })
        .collect();
    let question = match lang {
        Lang::En => "Which of these best describes your problem?".to_string(),
        _ => localize("请问您遇到的是下面哪种情况？".to_string(), lang),
    };
    Clarify { question, options }
}

/// The reply to a closing line (`好的，谢谢`, `it works now`): no fix, the door left open.
pub fn closing(lang: Lang) -> Reply {
    let text = match lang {
        Lang::En => "Thanks for letting us know. If anything else comes up, just write to us here."
            .to_string(),
        _ => localize(
            "好的，感谢您的反馈。之后如果还有其他问题，随时在这里告诉我们。".to_string(),
            lang,
        ),
    };
    Reply {
        markdown: text.clone(),
        text,
    }
}

/// The question for a ticket that names no problem (`你好，我有个问题想咨询一下`): what the
/// problem is, with what an agent needs to answer it.
pub fn ask_for_details(lang: Lang) -> Clarify {
    let question = match lang {
        Lang::En => "Could you tell us what the problem is? Please describe what happens, which product or \
                     resource it concerns (ECS, OSS, RDS, a domain…) and the exact error message if there is one."
            .to_string(),
        _ => localize(
            "请问具体遇到了什么问题？请描述一下现象、涉及的产品或资源（如 ECS、OSS、RDS、域名），有报错的话请附上完整的报错信息。"
                .to_string(),
            lang,
        ),
    };
    Clarify {
        question,
        options: Vec::new(),
    }
}

/// The clarifying question as a reply: the question, then its numbered options.
pub fn clarify_reply(c: &Clarify, lang: Lang) -> Reply {
    if c.options.is_empty() {
        return Reply {
            text: c.question.clone(),
            markdown: c.question.clone(),
        };
    }
    let mut text = format!("{}\n", c.question);
    for (i, o) in c.options.iter().enumerate() {
        text.push_str(&format!("{}. {}\n", i + 1, o.label));
    }
    // None of the options may fit: the customer is told what to send instead, so that the
    // next turn is a ticket that can be answered, not a bare "都不是".
    let tail = if lang == Lang::En {
        "Reply with the number. If none of these fits, describe what happens and the exact error."
    } else {
        "请回复对应的序号；如果都不是，请直接描述您遇到的现象和完整的报错信息。"
    };
    text.push_str(&localize(tail.to_string(), lang));
    Reply {
        markdown: text.clone(),
        text,
    }
}

/// A one-line summary for the agent queue.
pub fn agent_summary(text: &str, prio: u8, category: Option<&str>, fixes: &[Fix]) -> String {
    let first: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(80)
        .collect();
    let first = crate::analysis::entities::mask_personal_data(&first);
    let cand = fixes.first().map(|f| f.id.as_str()).unwrap_or("none");
    format!(
        "[P{prio}] [{}] {first} (top candidate: {cand})",
        category.unwrap_or("uncategorised")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::confidence::Features;

    #[test]
    fn waits_read_as_people_say_them() {
        let zh: Vec<String> = [15, 60, 240, 1440, 4320, 90, 1500]
            .iter()
            .map(|&m| wait(m, Lang::Zh))
            .collect();
        assert_eq!(
            zh,
            [
                "15 分钟",
                "60 分钟",
                "4 小时",
                "24 小时",
                "3 天",
                "90 分钟",
                "25 小时"
            ]
        );
        assert_eq!(wait(4320, Lang::En), "3 days");
    }

    fn fix(steps: &[&str]) -> Fix {
        Fix {
            id: "ecs-ssh".into(),
            title: "SSH 连接被拒绝".into(),
            confidence: 0.95,
            steps: steps.iter().map(|s| s.to_string()).collect(),
            steps_markdown: steps.iter().map(|s| s.to_string()).collect(),
            steps_intro: None,
            steps_from_section: false,
            expected_fix_minutes: None,
            automation: None,
            link: "https://help.example.com/kb/ecs-ssh".into(),
            related: Vec::new(),
            category: None,
            features: Features {
                coverage: 1.0,
                title_coverage: 1.0,
                margin: 0.5,
                code_match: 0.0,
                log_terms: 1.0,
                relative_score: 1.0,
                title_precision: 1.0,
            },
            section: None,
        }
    }

    #[test]
    fn a_step_cut_to_its_lead_does_not_announce_what_was_cut() {
        assert_eq!(end_announcement("检查 sshd 状态："), "检查 sshd 状态。");
        assert_eq!(
            end_announcement("Check the listener:"),
            "Check the listener."
        );
        assert_eq!(end_announcement("重启 sshd"), "重启 sshd");
        // In a reply capped to lead sentences, the colon goes with the command it announced.
        let mut f = fix(&["检查 sshd 状态", "放行安全组 22 端口"]);
        f.steps_markdown[0] = format!(
            "检查 sshd 状态：\n\n```bash\n{}```",
            "systemctl status sshd --no-pager --full\n".repeat(4)
        );
        let r = auto_reply(&f, Lang::Zh, &AnswerConfig::default(), Some(200));
        assert!(r.text.contains("1. 检查 sshd 状态。\n"), "{}", r.text);
        assert!(!r.text.contains("systemctl"), "{}", r.text);
    }

    #[test]
    fn a_reply_announces_steps_only_when_it_has_them() {
        let cfg = AnswerConfig::default();
        let r = auto_reply(&fix(&["放行安全组 22 端口"]), Lang::Zh, &cfg, None);
        assert!(
            r.text.contains("处理步骤：\n1. 放行安全组 22 端口"),
            "{}",
            r.text
        );
        let r = auto_reply(&fix(&[]), Lang::Zh, &cfg, None);
        assert!(!r.text.contains("处理步骤"), "{}", r.text);
        assert!(
            r.text.contains("指南") && r.text.contains("help.example.com"),
            "{}",
            r.text
        );
        let r = auto_reply(&fix(&[]), Lang::En, &cfg, None);
        assert!(!r.text.contains("Steps:"), "{}", r.text);
    }

    #[test]
    fn a_reply_shows_each_steps_commands_under_it() {
        let cfg = AnswerConfig::default();
        let mut f = fix(&["检查实例内防火墙：", "重启 sshd"]);
        f.steps_markdown = vec![
            "检查实例内防火墙：\n\n```bash\nufw status\n```\n\n放行 `22` 端口：\n\n- CentOS 用 firewalld\n\n```\nufw allow 22/tcp\n```".into(),
            "重启 sshd".into(),
        ];
        let r = auto_reply(&f, Lang::Zh, &cfg, None);
        // Markdown: the commands stay fenced inside their item, and items are apart.
        assert!(
            r.markdown.contains(
                "1. 检查实例内防火墙：\n\n   ```bash\n   ufw status\n   ```\n\n   放行 `22` 端口：\n\n   - CentOS 用 firewalld\n\n   ```\n   ufw allow 22/tcp\n   ```\n\n2. 重启 sshd\n"
            ),
            "{}",
            r.markdown
        );
        // Plain text: no fences or backticks, commands indented under their step.
        assert!(
            r.text.contains(
                "1. 检查实例内防火墙：\n     ufw status\n   放行 22 端口：\n   - CentOS 用 firewalld\n     ufw allow 22/tcp\n2. 重启 sshd\n"
            ),
            "{}",
            r.text
        );
        // A traditional-Chinese ticket's reply converts the prose; commands are ASCII.
        let r = auto_reply(&f, Lang::ZhHant, &cfg, None);
        assert!(r.text.contains("防火牆：\n     ufw status"), "{}", r.text);
    }

    #[test]
    fn a_capped_reply_drops_commands_then_steps_but_keeps_link_and_contact() {
        let cfg = AnswerConfig::default();
        let mut f = fix(&["检查实例内防火墙：", "放行端口", "重启 sshd"]);
        f.steps_markdown = vec![
            format!(
                "检查实例内防火墙：\n\n```bash\n{}\n```",
                "iptables -L INPUT -n\n".repeat(10)
            ),
            "放行端口".into(),
            "重启 sshd".into(),
        ];
        let full = auto_reply(&f, Lang::Zh, &cfg, None);
        assert!(full.text.contains("iptables"));
        let n = full.text.chars().count();
        // Room for the steps as lines: commands go, every step stays, the note says so.
        let r = auto_reply(&f, Lang::Zh, &cfg, Some(n - 100));
        assert!(r.text.chars().count() <= n - 100, "{}", r.text);
        assert!(
            !r.text.contains("iptables") && r.text.contains("3. 重启 sshd"),
            "{}",
            r.text
        );
        assert!(r.text.contains("完整步骤和命令见下方链接"), "{}", r.text);
        assert!(!r.markdown.contains("```"), "{}", r.markdown);
        // Less room: the last steps go; title, link and contact stay.
        let short = auto_reply(&f, Lang::Zh, &cfg, None).text.chars().count();
        let r = auto_reply(&f, Lang::Zh, &cfg, Some(short.min(130)));
        assert!(!r.text.contains("重启 sshd"), "{}", r.text);
        for kept in ["SSH 连接被拒绝", "help.example.com/kb/ecs-ssh", "转人工"] {
            assert!(r.text.contains(kept), "{kept}: {}", r.text);
        }
        // A reply that fits is the full one.
        assert_eq!(auto_reply(&f, Lang::Zh, &cfg, Some(n)).text, full.text);
    }

    #[test]
    fn a_long_page_without_steps_names_its_section() {
        let cfg = AnswerConfig::default();
        let mut f = fix(&[]);
        f.section = Some(crate::search::HitSection {
            heading: "time_zone".into(),
            anchor: None,
        });
        let r = auto_reply(&f, Lang::Zh, &cfg, None);
        assert!(r.text.contains("“time_zone”一节"), "{}", r.text);
        let r = auto_reply(&f, Lang::En, &cfg, None);
        assert!(r.text.contains("The section \"time_zone\""), "{}", r.text);
        let r = suggest(&[f], Lang::Zh, &cfg);
        assert!(r.text.contains("SSH 连接被拒绝 › time_zone"), "{}", r.text);
    }
}
