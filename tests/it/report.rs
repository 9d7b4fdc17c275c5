//! `deflect report` on the bundled KB: tickets it cannot answer, grouped into topics.

use deflect::answer::log::LogRecord;
use deflect::answer::{Decision, EscalationReason};
use deflect::report::{build, Options};

use super::common::bundled;

fn gap(i: usize, ticket: String) -> LogRecord {
    LogRecord {
        at: 1_795_000_000 + i as u64,
        answer_id: format!("a{i}"),
        decision: Decision::Escalate,
        confidence: 0.1,
        reason: Some(EscalationReason::NoMatch),
        team: Some("general-support".into()),
        priority: "P3".into(),
        category: None,
        language: "zh".into(),
        channel: None,
        fixes: vec![],
        ticket,
        follow_up: false,
    }
}

/// Sixty tickets on three products kb/ has no article on, all asked with 如何 / 是否 / 支持:
/// the question words are in every ticket, so they group nothing; the products do.
#[test]
fn gap_topics_are_what_the_tickets_are_about_not_how_they_ask() {
    let places = ["华东1", "华北2", "华南1", "香港", "新加坡"];
    let mut records = Vec::new();
    for (k, place) in places.iter().enumerate() {
        for (j, t) in [
            format!("如何在{place}的 Kafka 消费组里重置消费位点？是否支持按时间重置"),
            format!("{place}的 Kafka Topic 分区数是否支持在线扩容？如何操作"),
            format!(
                "{place}的 Elasticsearch 集群分片一直 unassigned，如何恢复？是否支持自动重新分配"
            ),
            format!("{place} Elasticsearch 集群是否支持冷热分离？如何设置分片"),
            format!("如何在{place}给视频点播的 m3u8 转码模板加 HLS 加密？是否支持"),
            format!("{place}视频点播转码后的 m3u8 是否支持多码率？如何配置转码模板"),
        ]
        .into_iter()
        .enumerate()
        {
            records.push(gap(k * 10 + j, t));
        }
    }
    // Twice, so that 如何 / 是否 / 支持 are in 60 tickets: past the broad-word floor.
    let more: Vec<LogRecord> = records
        .iter()
        .enumerate()
        .map(|(i, r)| gap(100 + i, format!("{} 谢谢", r.ticket)))
        .collect();
    records.extend(more);
    let r = build(
        bundled(),
        &records,
        &[],
        Options {
            since: None,
            top: 5,
        },
    );
    assert_eq!(r.gap_tickets, 60);
    // Each group holds tickets on one product, and four groups hold them all (the two Kafka
    // questions share only the product's name, and a group needs two shared words).
    let tops: Vec<String> = r.gaps.iter().take(4).map(|g| g.words.join(" ")).collect();
    assert_eq!(
        r.gaps.iter().take(4).map(|g| g.tickets).sum::<usize>(),
        60,
        "{:#?}",
        r.gaps
    );
    for g in r.gaps.iter().take(4) {
        let product = ["Kafka", "Elasticsearch", "m3u8"]
            .into_iter()
            .filter(|p| g.examples.iter().all(|e| e.contains(p)))
            .count();
        assert_eq!(product, 1, "{g:#?}");
        for w in &g.words {
            assert!(!["如何", "是否", "支持"].contains(&w.as_str()), "{tops:?}");
        }
    }
    let all = tops.join(" | ").to_lowercase();
    for product in ["kafka", "elasticsearch", "m3u8"] {
        assert!(all.contains(product), "{tops:?}");
    }
}
