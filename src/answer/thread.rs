//! The customer's own words in a ticket that arrives by mail: as text when the mail is HTML,
//! without the quoted history of the thread, the signature, or `Re:` in the subject; and in
//! one from a chat, without the placeholders the platform writes for an image or a sticker
//! (`[图片]`, `[捂脸]`).
//!
//! A reply to a support mail carries everything said before it (`-----原始邮件-----`, `On …
//! wrote:`, `> …`), and a signature (`--`, `发自我的iPhone`). Their words are not the
//! customer's problem: a quoted question of ours that names the CDN pulls CDN articles to the
//! top, and a signature's `运维工程师 · XX科技有限公司 · 电话` is half of what a short ticket says,
//! so the right fix covers half of it. A forwarded mail is kept: what is forwarded (an alert,
//! a customer's complaint) is the problem.

// What every line rule below needs somewhere in the text (see `own_words`).
re!(
    MAIL_MARKS,
    r"(?i)--|__|wrote|写道|寫道|from|发件人|寄件者|发自我的|来自我的|從我的|sent from|get outlook|forward|转发|轉寄"
);
// A line that opens the quoted history of a reply.
re!(
    REPLY_SEPARATOR,
    r"(?i)^\s*-{2,}\s*(?:原始邮件|原始郵件|original message|reply message|回复邮件)\s*-{2,}\s*$|^\s*_{10,}\s*$"
);
// `On Mon, 23 Nov 2026 at 10:00, Support <support@example.com> wrote:`, which mail clients
// may wrap onto two lines.
re!(ON_WROTE_START, r"(?i)^\s*on\s.{4,}");
re!(WROTE_END, r"(?i)wrote\s*:\s*$");
// `在 2026年11月23日 10:00，Support <support@example.com> 写道：`
re!(ZH_WROTE, r"^\s*在\s?.{2,160}(?:写道|寫道)\s*[:：]\s*$");
// The header block a client writes above the quoted mail: `From:` / `发件人：` then `Sent:`,
// `Date:`, `To:` or `Subject:` on the next lines.
re!(
    HEADER_FROM,
    r"(?i)^\s*\**(?:from|发件人|寄件者)\s*\**\s*[:：]"
);
re!(
    HEADER_NEXT,
    r"(?i)^\s*\**(?:sent|date|to|cc|subject|发送时间|时间|日期|收件人|抄送|主题|主旨|寄件日期|收件者)\s*\**\s*[:：]"
);
// A forwarded mail's marker: what follows is the problem (an alert, a customer's complaint).
re!(
    FORWARD,
    r"(?i)^\s*-{2,}\s*(?:forwarded message|begin forwarded message|转发的邮件|轉寄的郵件)\s*-{0,}\s*$|^\s*begin forwarded message\s*:"
);
// A signature's first line: the sig dashes, or a mobile client's line.
re!(
    SIGNATURE,
    r"(?i)^\s*--\s*$|^\s*(?:发自我的|来自我的|從我的|sent from my|get outlook for).{0,30}$"
);
// A subject's reply or forward prefix: `Re:`, `回复：` (`re:Invent` is told apart in `subject`).
re!(
    SUBJECT_PREFIX,
    r"(?i)^(?:re|aw|fw|fwd|回复|答复|回覆|转发|轉寄)\s*[:：]"
);

/// The lines of a mail's own words end before the first line that opens the quoted history
/// or the signature. Never cuts everything: a body that is all quote, or whose own part is
/// only a word or two, is kept whole. `>` lines without a line that opens a quote stay: in a
/// ticket form that takes Markdown they are the customer's own quote of an error.
pub fn own_words(body: &str) -> &str {
    // Most tickets hold nothing any of the line rules looks for: one pass over the text
    // settles them.
    if !MAIL_MARKS.is_match(body) {
        return body;
    }
    let lines = line_starts(body);
    if lines.iter().any(|(_, l)| FORWARD.is_match(l)) {
        return body;
    }
    let opens_quote = |i: usize| {
        let line = lines[i].1;
        let next = lines.get(i + 1).map(|l| l.1).unwrap_or("");
        REPLY_SEPARATOR.is_match(line)
            || ZH_WROTE.is_match(line)
            || (ON_WROTE_START.is_match(line)
                && (WROTE_END.is_match(line) || WROTE_END.is_match(next)))
            || (HEADER_FROM.is_match(line) && HEADER_NEXT.is_match(next))
    };
    // A signature is a few lines of name, title and phone up to the quote or the end; a
    // `--` above a pasted log or error is the customer's divider.
    let signature = |i: usize| {
        let block: Vec<&str> = lines[i + 1..]
            .iter()
            .enumerate()
            .take_while(|(k, _)| !opens_quote(i + 1 + k))
            .map(|(_, l)| l.1)
            .filter(|l| !l.trim().is_empty())
            .collect();
        block.len() <= MAX_SIGNATURE_LINES
            && block
                .iter()
                .all(|l| crate::analysis::entities::error_codes(l).is_empty())
    };
    let cut = (0..lines.len())
        .find(|&i| opens_quote(i) || (SIGNATURE.is_match(lines[i].1) && signature(i)))
        .map_or(body.len(), |i| lines[i].0);
    let kept = &body[..cut];
    if substance(kept) < MIN_OWN_CHARS {
        return body;
    }
    kept.trim_end()
}

// What a chat platform writes in place of what it cannot pass on as text: `[图片]`, `[语音]`,
// `[文件]`, a sticker (`[捂脸]`, `[微笑]`: one to four Han characters in brackets), `[image]`.
// `[ERROR]` and `[2026-11-24 10:00:01]` in a pasted log are kept.
re!(
    PLACEHOLDER,
    r"(?i)\[\p{Han}{1,4}\]|【(?:图片|语音|视频|文件|表情|动画表情|链接)】|\[(?:image|photo|picture|sticker|emoji|attachment|file|voice|video|screenshot)(?:\s*\d{1,3})?\]"
);

/// `text` without chat placeholders ([`PLACEHOLDER`]). `[图片] [图片] 如图，网站打开显示这个`
/// found articles on images; what the customer wrote is `如图，网站打开显示这个`.
pub fn without_placeholders(text: &str) -> std::borrow::Cow<'_, str> {
    PLACEHOLDER.replace_all(text, " ")
}

// HTML a mail or a web form passes on: markup that ends a line, markup that does not, and
// what is never text. Only HTML's own tag names: `<your-bucket>` or `a < b` in a ticket stay.
re!(
    HTML_DROP,
    r"(?is)<!--.*?-->|<style\b[^>]*>.*?</style\s*>|<script\b[^>]*>.*?</script\s*>"
);
re!(
    HTML_BREAK,
    r"(?i)<br\s*/?>|</?(?:p|div|li|tr|h[1-6]|ul|ol|table|blockquote|pre|hr|dt|dd|section|article|header|footer)(?:\s[^<>]*)?/?>"
);
re!(
    HTML_INLINE,
    r"(?i)</?(?:span|b|i|u|s|strong|em|a|img|font|td|th|tbody|thead|tfoot|html|head|body|title|meta|link|center|small|big|sup|sub|label|o:p|colgroup|col|caption|wbr)(?:\s[^<>]*)?/?>"
);
re!(
    HTML_ENTITY,
    r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));"
);
re!(BLANK_LINES, r"\n(?:[ \t\u{a0}]*\n){2,}");

/// `text` as plain text when it is HTML (it holds HTML's own tags): line-ending markup as
/// line breaks, other tags dropped, entities decoded. `<div>网站打不开了&nbsp;提示 502</div>`
/// searched `div`, `nbsp`, `style` and `font-family` with the customer's words.
pub fn html_to_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !(HTML_BREAK.is_match(text) || HTML_INLINE.is_match(text)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let t = HTML_DROP.replace_all(text, "");
    let t = HTML_BREAK.replace_all(&t, "\n");
    let t = HTML_INLINE.replace_all(&t, " ");
    let t = HTML_ENTITY.replace_all(&t, |c: &regex::Captures| {
        let code = c
            .get(1)
            .and_then(|d| d.as_str().parse::<u32>().ok())
            .or_else(|| {
                c.get(2)
                    .and_then(|h| u32::from_str_radix(h.as_str(), 16).ok())
            });
        if let Some(ch) = code.and_then(char::from_u32) {
            return ch.to_string();
        }
        match c.get(3).map(|n| n.as_str()) {
            Some("nbsp") | Some("ensp") | Some("emsp") => " ".into(),
            Some("lt") => "<".into(),
            Some("gt") => ">".into(),
            Some("amp") => "&".into(),
            Some("quot") => "\"".into(),
            Some("apos") => "'".into(),
            _ => c[0].to_string(),
        }
    });
    std::borrow::Cow::Owned(BLANK_LINES.replace_all(&t, "\n\n").into_owned())
}

/// The subject without its `Re:` / `回复：` / `Fwd:` prefixes.
pub fn subject(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        let Some(m) = SUBJECT_PREFIX.find(s) else {
            return s;
        };
        let rest = &s[m.end()..];
        // `re:Invent` is a name: an ASCII colon glued to a word is no reply prefix.
        if m.as_str().ends_with(':') && rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return s;
        }
        s = rest;
    }
}

/// A signature longer than this is no signature (see [`own_words`]).
const MAX_SIGNATURE_LINES: usize = 8;

/// Below this many letters, digits and Han characters, what precedes the quote is no ticket
/// of its own (`见下`, `FYI`, `同上`), and the whole body is kept.
const MIN_OWN_CHARS: usize = 6;

fn substance(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphanumeric()).count()
}

/// Each line with its byte offset in `s`.
fn line_starts(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in s.split_inclusive('\n') {
        out.push((at, line.trim_end_matches(['\n', '\r'])));
        at += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_history_and_signature_go() {
        let mail = "您好，\n\n网站今天访问特别慢，打开要十几秒。\n\n谢谢！\n--\n张伟 | 运维工程师\n电话：138-0000-0000\n\n-----原始邮件-----\n发件人: support@example.com\n主题: 回复：工单 12345\n请问 CDN 配置了吗？";
        assert_eq!(
            own_words(mail),
            "您好，\n\n网站今天访问特别慢，打开要十几秒。\n\n谢谢！"
        );
        let mail = "OSS 图片外链返回 403\n\nOn Mon, Nov 23, 2026 at 10:00 AM Support <support@example.com>\nwrote:\n> Could you check the CDN origin?\n";
        assert_eq!(own_words(mail), "OSS 图片外链返回 403");
        let mail = "还是连不上，截图见附件\n\n在 2026年11月23日 10:00，Support <s@example.com> 写道：\n> 请检查安全组";
        assert_eq!(own_words(mail), "还是连不上，截图见附件");
        let mail = "重启后还是不行\n\nFrom: Support <s@example.com>\nSent: Monday, November 23, 2026 10:00 AM\nSubject: RE: ticket\n\nPlease reboot.";
        assert_eq!(own_words(mail), "重启后还是不行");
        let mail = "磁盘满了怎么扩容\n\n发自我的iPhone";
        assert_eq!(own_words(mail), "磁盘满了怎么扩容");
    }

    #[test]
    fn what_is_no_quote_stays() {
        for t in [
            // A shell prompt, a command's flags, a line that starts with `On`.
            "mongo shell 里执行\n> db.orders.find()\n报错 Unauthorized，但是我用的是 root",
            "执行 mysqldump --single-transaction 报错\n-- Dump completed 没有出现",
            "On the new instance, nginx returns 502",
            "From: 字段在邮件推送里显示乱码",
            "数据库连不上\n--\nERROR 2003 (HY000): Can't connect to MySQL server on '10.0.0.8' (110)",
            "连接数据库报错：\n\n> ERROR 1045 (28000): Access denied for user 'app'@'10.0.0.8'",
        ] {
            assert_eq!(own_words(t), t);
        }
        // A forward is its content; a body that is all quote is kept whole.
        let fwd = "FYI\n---------- Forwarded message ---------\nFrom: alerts@example.com\n云监控告警：磁盘使用率 95%";
        assert_eq!(own_words(fwd), fwd);
        let fwd = "见下\n-----原始邮件-----\n发件人: ops@example.com\n主题: 告警\nRDS 连接数满了";
        assert_eq!(own_words(fwd), fwd);
    }

    #[test]
    fn html_is_read_as_text() {
        let html =
            "<div>您好，</div><div><br></div><div>网站打不开了&nbsp;提示 502 Bad Gateway</div>\
                    <div style=\"font-family: Arial\">谢谢</div><style>p {color: red}</style>";
        let t = html_to_text(html);
        assert!(t.contains("网站打不开了 提示 502 Bad Gateway"), "{t}");
        for junk in ["div", "nbsp", "font-family", "color", "<"] {
            assert!(!t.contains(junk), "{junk}: {t}");
        }
        // Our reply quoted below a Gmail reply: as text, its attribution line cuts it.
        let mail = "重启之后还是不行<br><br><div class=\"gmail_quote\"><div>On Mon, Nov 23, 2026 at 10:00 AM Support &lt;s@example.com&gt; wrote:<br></div><blockquote>请检查 CDN 回源</blockquote></div>";
        assert_eq!(own_words(&html_to_text(mail)), "重启之后还是不行");
        // Not HTML: angle brackets of a placeholder or a comparison stay, and so do entities.
        for t in [
            "ossutil cp a.txt oss://<your-bucket>/",
            "if a < b && c > d",
            "AT&amp;T",
            // A pasted XML error is no HTML.
            "返回 <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
        ] {
            assert_eq!(html_to_text(t), t);
        }
        assert_eq!(
            html_to_text("<p>A&#39;s &#x4e2d; &amp; &unknown;</p>").trim(),
            "A's 中 & &unknown;"
        );
    }

    #[test]
    fn chat_placeholders_go() {
        assert_eq!(
            without_placeholders("[图片][图片] 如图，网站打开显示这个[捂脸]").trim(),
            "如图，网站打开显示这个"
        );
        assert_eq!(
            without_placeholders("see [Image 2] please").trim(),
            "see   please"
        );
        for t in [
            "[ERROR] connection refused",
            "[2026-11-24 10:00:01] nginx: [emerg] bind() failed",
            "arr[0] 越界",
            "[Service]\nExecStart=/usr/bin/app",
        ] {
            assert_eq!(without_placeholders(t), t);
        }
    }

    #[test]
    fn subject_prefixes_go() {
        assert_eq!(subject("Re: 回复：网站访问慢"), "网站访问慢");
        assert_eq!(subject("FW: disk full"), "disk full");
        assert_eq!(subject("Redis 连接超时"), "Redis 连接超时");
        assert_eq!(subject("Re:网站访问慢"), "网站访问慢");
        assert_eq!(subject("re:invent 的门票"), "re:invent 的门票");
    }
}
