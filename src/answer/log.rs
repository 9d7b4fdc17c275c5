//! The answer log: one JSON line per answered ticket, beside the index (`answers.jsonl`),
//! for `deflect report`: how many tickets were deflected, which fixes customers marked
//! unhelpful, and what the KB is missing.
//!
//! Requests never wait on the disk: a record goes into a bounded queue, and one thread,
//! every 20 ms, masks what is queued, appends it to the file and flushes.
//! When the queue is full (the disk stalls), the record is dropped and counted
//! (`deflect_answer_log_dropped_total`), never the request. The file is rotated to `answers.jsonl.1` past a size limit, so the log
//! holds between one and two limits' worth of the most recent answers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use super::{AnswerRequest, AnswerResponse, Decision, EscalationReason};
use crate::analysis::entities::{mask_personal_data, mask_secrets};

/// The answer log's file name, in the index root.
pub const ANSWER_LOG_FILE: &str = "answers.jsonl";
/// Customer feedback (`POST /v1/feedback`), in the index root.
pub const FEEDBACK_FILE: &str = "feedback.jsonl";
/// Lines waiting for the writer before new ones are dropped.
const QUEUE: usize = 16_384;
/// The writer wakes this often, takes what is queued, and writes it at once. It does not
/// wait on the queue: a sender would then wake it for every answer, and on a busy server
/// those wake-ups cost more than the log itself (~6% of answers/s on two cores).
const POLL: std::time::Duration = std::time::Duration::from_millis(20);
/// The writer's buffer.
const BUFFER: usize = 256 * 1024;
/// After a failed open or write, the writer tries again this much later.
const RETRY: std::time::Duration = std::time::Duration::from_secs(5);
/// Characters of the ticket kept in a record.
pub const TICKET_CHARS: usize = 1000;
/// Fixes kept in a record.
const FIXES: usize = 3;

/// One answered ticket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogRecord {
    /// Unix seconds.
    pub at: u64,
    /// The answer's id (what `/v1/feedback` refers to).
    pub answer_id: String,
    /// The decision.
    pub decision: Decision,
    /// Confidence of the top fix.
    pub confidence: f32,
    /// Why it was escalated (escalations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<EscalationReason>,
    /// The team it went to (escalations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// P0–P4.
    pub priority: String,
    /// The ticket's category, given or inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Language code of the reply.
    pub language: String,
    /// The ticket's channel, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The first fixes offered, best first.
    #[serde(default)]
    pub fixes: Vec<String>,
    /// The ticket (subject and body), personal data masked unless `log_personal_data`,
    /// credentials always, cut to [`TICKET_CHARS`].
    pub ticket: String,
    /// An answer to the customer's choice (`options.chosen`): the second turn of a
    /// clarifying question or a suggestion, whose first is logged too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_up: bool,
}

impl LogRecord {
    /// The record of `resp`, the answer to `req`; the ticket as written (the log's writer
    /// masks it).
    pub fn of(resp: &AnswerResponse, req: &AnswerRequest, at: u64) -> LogRecord {
        let ticket = &req.ticket;
        let text: String = ticket.text().trim().chars().take(TICKET_CHARS).collect();
        let escalated = resp.decision == Decision::Escalate;
        LogRecord {
            at,
            answer_id: resp.answer_id.clone(),
            decision: resp.decision,
            confidence: resp.confidence,
            reason: escalated.then_some(resp.escalation.reason),
            team: escalated.then(|| resp.escalation.team.clone()),
            priority: resp.classification.priority.clone(),
            category: resp.classification.category.clone(),
            language: resp.language.code().to_string(),
            channel: ticket.channel.clone(),
            fixes: resp
                .fixes
                .iter()
                .take(FIXES)
                .map(|f| f.id.clone())
                .collect(),
            ticket: text,
            follow_up: req
                .options
                .as_ref()
                .and_then(|o| o.chosen.as_deref())
                .is_some_and(|c| !c.trim().is_empty()),
        }
    }

    /// Masks the ticket: credentials always, personal data unless `personal_data`.
    pub fn mask(&mut self, personal_data: bool) {
        self.ticket = if personal_data {
            mask_secrets(&self.ticket)
        } else {
            mask_personal_data(&self.ticket)
        };
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The writer of an answer log. Dropping it writes what is queued and closes the file.
/// Masking and serialising happen on its thread, off the request's path.
pub struct AnswerLog {
    tx: Option<SyncSender<LogRecord>>,
    writer: Option<JoinHandle<()>>,
}

impl AnswerLog {
    /// Starts the writer thread for `path`, rotating past `max_bytes`, masking personal data
    /// unless `personal_data`. The file is opened (created) on the first line.
    pub fn start(path: PathBuf, max_bytes: u64, personal_data: bool) -> AnswerLog {
        let (tx, rx) = sync_channel::<LogRecord>(QUEUE);
        let writer = std::thread::Builder::new()
            .name("answer-log".into())
            .spawn(move || write_lines(rx, &path, max_bytes, personal_data))
            .ok();
        AnswerLog {
            tx: Some(tx),
            writer,
        }
    }

    /// Queues `record`; never blocks.
    pub fn record(&self, record: LogRecord) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                metrics::counter!("deflect_answer_log_dropped_total").increment(1);
            }
        }
    }
}

impl Drop for AnswerLog {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn write_lines(rx: Receiver<LogRecord>, path: &Path, max_bytes: u64, personal_data: bool) {
    let mut sink = Sink::new(path);
    loop {
        let mut wrote = false;
        let mut closed = false;
        loop {
            let mut record = match rx.try_recv() {
                Ok(r) => r,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            };
            record.mask(personal_data);
            let Ok(line) = serde_json::to_string(&record) else {
                continue;
            };
            if sink.write(&line) {
                wrote = true;
            } else {
                metrics::counter!("deflect_answer_log_dropped_total").increment(1);
            }
            if sink.size() > max_bytes {
                break;
            }
        }
        if wrote {
            sink.flush(max_bytes);
        }
        if closed {
            break;
        }
        std::thread::sleep(POLL);
    }
    sink.flush(u64::MAX);
}

/// The log file, reopened after a failure no sooner than [`RETRY`]: a disk that is full or
/// a directory that went away costs one warning and no system call per answer.
struct Sink<'a> {
    path: &'a Path,
    file: Option<(std::io::BufWriter<std::fs::File>, u64)>,
    retry_at: Option<std::time::Instant>,
}

impl<'a> Sink<'a> {
    fn new(path: &'a Path) -> Sink<'a> {
        Sink {
            path,
            file: None,
            retry_at: None,
        }
    }

    fn size(&self) -> u64 {
        self.file.as_ref().map_or(0, |(_, n)| *n)
    }

    fn failed(&mut self, what: &str, e: &std::io::Error) {
        if self.retry_at.is_none() {
            tracing::warn!(path = %self.path.display(), error = %e, "answer log: {what} failed; records are dropped until it works again");
        }
        self.file = None;
        self.retry_at = Some(std::time::Instant::now() + RETRY);
    }

    /// Appends a line (buffered); false when the file cannot be written now.
    fn write(&mut self, line: &str) -> bool {
        if self.file.is_none() {
            if self.retry_at.is_some_and(|t| std::time::Instant::now() < t) {
                return false;
            }
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path)
            {
                Ok(f) => {
                    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                    self.file = Some((std::io::BufWriter::with_capacity(BUFFER, f), size));
                }
                Err(e) => {
                    self.failed("open", &e);
                    return false;
                }
            }
        }
        let Some((w, size)) = self.file.as_mut() else {
            return false;
        };
        match writeln!(w, "{line}") {
            Ok(()) => {
                *size += line.len() as u64 + 1;
                true
            }
            Err(e) => {
                self.failed("write", &e);
                false
            }
        }
    }

    /// Flushes, and rotates the file past `max_bytes`.
    fn flush(&mut self, max_bytes: u64) {
        let Some((w, size)) = self.file.as_mut() else {
            return;
        };
        if let Err(e) = w.flush() {
            self.failed("write", &e);
            return;
        }
        if self.retry_at.take().is_some() {
            tracing::info!(path = %self.path.display(), "answer log: writing again");
        }
        if *size > max_bytes {
            self.file = None;
            let old = self.path.with_extension("jsonl.1");
            if let Err(e) = std::fs::rename(self.path, &old) {
                tracing::warn!(path = %self.path.display(), error = %e, "answer log: rotation failed");
            }
        }
    }
}

/// Reads the records of the log at `path` and of its rotated predecessor, oldest first.
/// Returns the records and the number of lines that could not be read (a line cut short by
/// a crash, an edit by hand).
pub fn read_records(path: &Path) -> std::io::Result<(Vec<LogRecord>, usize)> {
    read_lines(&[path.with_extension("jsonl.1"), path.to_path_buf()])
}

/// Reads JSON lines of type `T` from `paths` in order; missing files are empty.
pub fn read_lines<T: for<'de> Deserialize<'de>>(
    paths: &[PathBuf],
) -> std::io::Result<(Vec<T>, usize)> {
    let mut out = Vec::new();
    let mut bad = 0;
    for p in paths {
        let text = match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str(line) {
                Ok(r) => out.push(r),
                Err(_) => bad += 1,
            }
        }
    }
    Ok((out, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> LogRecord {
        LogRecord {
            at: 1,
            answer_id: id.into(),
            decision: Decision::Escalate,
            confidence: 0.2,
            reason: Some(EscalationReason::NoMatch),
            team: Some("general-support".into()),
            priority: "P3".into(),
            category: None,
            language: "zh".into(),
            channel: None,
            fixes: vec![],
            ticket: "宝塔面板登录不进去".into(),
            follow_up: false,
        }
    }

    #[test]
    fn lines_are_written_in_order_and_rotated_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ANSWER_LOG_FILE);
        {
            let log = AnswerLog::start(path.clone(), 1 << 20, false);
            for i in 0..100 {
                log.record(record(&format!("a{i}")));
            }
        }
        let (recs, bad) = read_records(&path).unwrap();
        assert_eq!(bad, 0);
        let ids: Vec<_> = recs.iter().map(|r| r.answer_id.clone()).collect();
        assert_eq!(ids, (0..100).map(|i| format!("a{i}")).collect::<Vec<_>>());

        // A limit below one line: every flush rotates, and the reader still finds the
        // latest lines (in the rotated file) after the restart.
        {
            let log = AnswerLog::start(path.clone(), 10, false);
            log.record(record("b0"));
        }
        assert!(path.with_extension("jsonl.1").is_file());
        let (recs, _) = read_records(&path).unwrap();
        assert_eq!(recs.last().unwrap().answer_id, "b0");
    }

    #[test]
    fn a_log_that_cannot_be_written_drops_records_and_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join(ANSWER_LOG_FILE);
        // More records than the queue holds, none of which can be written; dropping the log
        // then ends its writer (the test would hang if it retried forever).
        {
            let log = AnswerLog::start(path.clone(), 1 << 20, false);
            for i in 0..20_000 {
                log.record(record(&format!("a{i}")));
            }
        }
        assert!(!path.exists());
        // Once the directory is back, a new writer appends again.
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        {
            let log = AnswerLog::start(path.clone(), 1 << 20, false);
            log.record(record("back"));
        }
        let (recs, _) = read_records(&path).unwrap();
        assert_eq!(recs.len(), 1);
    }

    #[test]
    fn a_broken_line_is_counted_and_the_rest_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ANSWER_LOG_FILE);
        let good = serde_json::to_string(&record("x")).unwrap();
        std::fs::write(&path, format!("{good}\n{{\"at\": 3, \"answer_\n{good}\n")).unwrap();
        let (recs, bad) = read_records(&path).unwrap();
        assert_eq!((recs.len(), bad), (2, 1));
    }
}
