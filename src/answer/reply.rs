//! Reply texts: fix steps from the article, and the messages for each decision, in the
//! ticket's language and script (traditional-Chinese tickets get traditional replies).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{Clarify, ClarifyOption, Fix, Reply};
use crate::analysis::normalize::to_traditional;
use crate::analysis::Lang;
use crate::config::AnswerConfig;
use crate::index::Loaded;
use crate::ingest::markdown::{section_kind, SectionKind};
use crate::search::{self, Hit};

/// Most steps listed in a reply.
const MAX_STEPS: usize = 8;
/// Longest step, chars.
const MAX_STEP_CHARS: usize = 240;

/// The fix steps of entry `id`: the top-level items of its solution section's first list, or,
/// for an FAQ answer, its first paragraphs.
pub fn steps(loaded: &Loaded, id: &str) -> Vec<String> {
    let Some(doc) = search::fetch(loaded, id) else {
        return Vec::new();
    };
    let md = search::text(&doc, loaded.fields.markdown);
    let kind = search::text(&doc, loaded.fields.kind);
    steps_from_markdown(&md, kind == "faq")
}

/// Extracts steps from Markdown (see [`steps`]).
pub fn steps_from_markdown(md: &str, whole: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_solution = whole;
    let mut heading = false;
    let mut heading_text = String::new();
    let mut list_depth = 0usize;
    let mut item_depth = 0usize;
    let mut cur = String::new();
    let mut in_code = false;
    let mut paragraphs = Vec::new();
    let mut para = String::new();
    for ev in Parser::new_ext(
        md,
        Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES,
    ) {
        match ev {
            Event::Start(Tag::Heading { .. }) => {
                heading = true;
                heading_text.clear();
            }
            Event::End(TagEnd::Heading(level)) => {
                heading = false;
                if !whole && (level as usize) <= 3 {
                    if in_solution && !out.is_empty() {
                        break;
                    }
                    in_solution = section_kind(&heading_text) == SectionKind::Solution;
                }
            }
            Event::Start(Tag::List(_)) => list_depth += 1,
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                if in_solution && list_depth == 0 && out.len() >= 2 && !whole {
                    break;
                }
            }
            Event::Start(Tag::Item) => {
                item_depth += 1;
                if item_depth == 1 {
                    cur.clear();
                }
            }
            Event::End(TagEnd::Item) => {
                if item_depth == 1 && in_solution && out.len() < MAX_STEPS {
                    let s = clip(cur.trim());
                    if !s.is_empty() {
                        out.push(s);
                    }
                }
                item_depth = item_depth.saturating_sub(1);
            }
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::Text(t) | Event::Code(t) => {
                if heading {
                    heading_text.push_str(&t);
                } else if in_solution && !in_code {
                    if item_depth == 1 && list_depth == 1 {
                        cur.push_str(&t);
                    } else if item_depth == 0 {
                        para.push_str(&t);
                    }
                }
            }
            Event::SoftBreak | Event::HardBreak if item_depth == 1 => cur.push(' '),
            Event::End(TagEnd::Paragraph) if item_depth == 0 && in_solution => {
                let p = clip(para.trim());
                if !p.is_empty() {
                    paragraphs.push(p);
                }
                para.clear();
            }
            _ => {}
        }
    }
    if out.is_empty() {
        paragraphs.truncate(3);
        return paragraphs;
    }
    out
}

fn clip(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(MAX_STEP_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

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

/// The auto-reply: the fix, its steps, expected time, link, and how to reach a human.
pub fn auto_reply(fix: &Fix, lang: Lang, cfg: &AnswerConfig) -> Reply {
    let en = lang == Lang::En;
    let mut md = String::new();
    let mut text = String::new();
    if en {
        md.push_str(&format!("This looks like: **{}**\n\nSteps:\n", fix.title));
        text.push_str(&format!("This looks like: {}\n\nSteps:\n", fix.title));
    } else {
        md.push_str(&format!(
            "根据您的描述，问题可能是：**{}**\n\n处理步骤：\n",
            fix.title
        ));
        text.push_str(&format!(
            "根据您的描述，问题可能是：{}\n\n处理步骤：\n",
            fix.title
        ));
    }
    for (i, s) in fix.steps.iter().enumerate() {
        md.push_str(&format!("{}. {s}\n", i + 1));
        text.push_str(&format!("{}. {s}\n", i + 1));
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
        md.push_str(&format!("{}. [{}]({})\n", i + 1, f.title, f.link));
        text.push_str(&format!("{}. {} {}\n", i + 1, f.title, f.link));
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

/// The clarifying question: the close candidates as options.
pub fn clarify(
    hits: &[Hit],
    confs: &[(f32, super::Features)],
    lang: Lang,
    cfg: &AnswerConfig,
) -> Clarify {
    let top = confs.first().map(|c| c.0).unwrap_or(0.0);
    let mut options = Vec::new();
    let mut pages = std::collections::HashSet::new();
    for (h, (c, _)) in hits.iter().zip(confs) {
        if options.len() >= 4 || (options.len() >= 2 && *c < top * cfg.clarify_ratio * 0.8) {
            break;
        }
        if pages.insert(h.doc_id.clone()) {
            options.push(ClarifyOption {
                id: h.id.clone(),
                label: localize(h.title.clone(), lang),
            });
        }
    }
    let question = match lang {
        Lang::En => "Which of these best describes your problem?".to_string(),
        _ => localize("请问您遇到的是下面哪种情况？".to_string(), lang),
    };
    Clarify { question, options }
}

/// The clarifying question as a reply.
pub fn clarify_reply(c: &Clarify, lang: Lang) -> Reply {
    let mut text = format!("{}\n", c.question);
    for (i, o) in c.options.iter().enumerate() {
        text.push_str(&format!("{}. {}\n", i + 1, o.label));
    }
    let tail = if lang == Lang::En {
        "Reply with the number."
    } else {
        "请回复对应的序号。"
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

    #[test]
    fn steps_from_solution_list() {
        let md = "# T\n## 现象\n1. not a step\n## 解决方案\n1. 检查安全组\n   ```bash\n   ss -tlnp\n   ```\n2. 重启 **sshd**\n   - sub item\n## 验证\n1. nope\n";
        assert_eq!(
            steps_from_markdown(md, false),
            vec!["检查安全组", "重启 sshd"]
        );
    }

    #[test]
    fn faq_answer_paragraphs() {
        let md = "## 欠费会停机吗？\n欠费后 24 小时停机。\n\n充值后自动恢复。\n";
        assert_eq!(
            steps_from_markdown(md, true),
            vec!["欠费后 24 小时停机。", "充值后自动恢复。"]
        );
    }
}
