//! The engine: the serving index generation, swapped atomically after a reindex.
//!
//! Every search takes an `Arc` snapshot of the loaded generation, so a reindex that swaps in a
//! new one never disturbs a search in flight: old searches finish on the old generation (its
//! files stay mapped), new ones start on the new. One code path serves the CLI, the admin
//! endpoint and `serve --watch`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::answer::{self, AnswerRequest, Ticket};
use crate::config::{AnswerConfig, Config};
use crate::index::{self, BuildOptions, BuildSummary, IndexError, Loaded};
use crate::search::{self, SearchRequest};

/// The serving state.
pub struct Engine {
    kb: PathBuf,
    root: PathBuf,
    build: BuildOptions,
    /// Nice increment of a reindex (see `IngestConfig::live_reindex_nice`).
    nice: i32,
    current: RwLock<Arc<Loaded>>,
    reindexing: Mutex<()>,
    reindex_count: AtomicU64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("kb", &self.kb)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the index of `config`, building it first when there is none or it is from an
    /// older schema.
    pub fn open_or_build(config: &Config) -> Result<(Engine, Option<BuildSummary>), IndexError> {
        let build = BuildOptions {
            limits: config.ingest.limits(),
            ..BuildOptions::default()
        };
        let mut summary = None;
        let loaded = match index::open(&config.index, Some(&config.kb)) {
            Ok(l) => l,
            Err(
                IndexError::Missing(_) | IndexError::Version { .. } | IndexError::Fields { .. },
            ) => {
                tracing::info!(kb = %config.kb.display(), index = %config.index.display(), "no usable index: building one");
                summary = Some(index::build(&config.kb, &config.index, &build, |_| {})?);
                index::open(&config.index, Some(&config.kb))?
            }
            Err(e) => return Err(e),
        };
        crate::analysis::normalize::warm_up();
        warm_up(&loaded);
        let engine = Engine {
            kb: config.kb.clone(),
            root: config.index.clone(),
            build,
            nice: config.ingest.live_reindex_nice,
            current: RwLock::new(Arc::new(loaded)),
            reindexing: Mutex::new(()),
            reindex_count: AtomicU64::new(0),
        };
        Ok((engine, summary))
    }

    /// Opens an existing index only.
    pub fn open(config: &Config) -> Result<Engine, IndexError> {
        let loaded = index::open(&config.index, Some(&config.kb))?;
        warm_up(&loaded);
        Ok(Engine {
            kb: config.kb.clone(),
            root: config.index.clone(),
            build: BuildOptions {
                limits: config.ingest.limits(),
                ..BuildOptions::default()
            },
            nice: config.ingest.live_reindex_nice,
            current: RwLock::new(Arc::new(loaded)),
            reindexing: Mutex::new(()),
            reindex_count: AtomicU64::new(0),
        })
    }

    /// The serving generation.
    pub fn loaded(&self) -> Arc<Loaded> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The KB directory.
    pub fn kb(&self) -> &Path {
        &self.kb
    }

    /// Reindexes completed since start.
    pub fn reindex_count(&self) -> u64 {
        self.reindex_count.load(Ordering::Relaxed)
    }

    /// Rebuilds from the KB, then swaps the new generation in. Blocking: call it off the async
    /// runtime. A second call while one runs fails with [`IndexError::Busy`] instead of queuing.
    pub fn reindex(&self) -> Result<BuildSummary, IndexError> {
        let Ok(_guard) = self.reindexing.try_lock() else {
            return Err(IndexError::Busy(self.root.clone()));
        };
        let started = Instant::now();
        // The build, the new generation's opening and its warm-up run below serving's
        // priority, on a thread of their own: the threads they start inherit its nice value,
        // and a lowered one cannot be raised back by an unprivileged process.
        let built = at_lower_priority(self.nice, || {
            let summary = index::build(&self.kb, &self.root, &self.build, |_| {});
            // Before the new generation is faulted in, so the two do not add up in the peak.
            release_freed_memory();
            let summary = summary?;
            let loaded = index::open(&self.root, Some(&self.kb))?;
            warm_up(&loaded);
            Ok((summary, loaded))
        })
        .map_err(|cause| IndexError::Io {
            context: "start the reindex thread".into(),
            cause,
        })
        .and_then(|built| built);
        release_freed_memory();
        let (summary, loaded) = match built {
            Ok(b) => b,
            Err(e) => {
                metrics::counter!("deflect_reindex_failures_total").increment(1);
                return Err(e);
            }
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
        self.reindex_count.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("deflect_reindex_total").increment(1);
        metrics::histogram!("deflect_reindex_seconds").record(started.elapsed().as_secs_f64());
        metrics::gauge!("deflect_index_entries").set(summary.entries as f64);
        tracing::info!(summary = %summary.line(), "reindex swapped in");
        Ok(summary)
    }
}

/// Runs `f` on a new thread whose CPU priority is `nice` steps below this one's (on Linux;
/// elsewhere, or with 0, at this priority). Threads `f` starts inherit the lower priority.
fn at_lower_priority<T: Send>(nice: i32, f: impl FnOnce() -> T + Send) -> std::io::Result<T> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("deflect-reindex".into())
            .spawn_scoped(scope, move || {
                lower_this_thread(nice);
                f()
            })?;
        Ok(worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

/// Lowers the calling thread's CPU priority by `nice` steps. Linux keeps a nice value per
/// thread, and a thread starts with its creator's.
fn lower_this_thread(nice: i32) {
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread's own id.
        let done = unsafe {
            let tid = libc::gettid() as libc::id_t;
            let now = libc::getpriority(libc::PRIO_PROCESS, tid);
            libc::setpriority(libc::PRIO_PROCESS, tid, (now + nice).min(19))
        };
        if done != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "cannot lower the reindex's priority");
        }
    }
}

/// Tickets a warm-up runs through search and answer: Chinese with an error code, traditional
/// Chinese, English with a pasted error, a how-to question.
const WARM_UP: [&str; 4] = [
    "ECS 实例重启后 ssh 连不上，报错 Connection refused，错误码 InvalidInstance.NotFound",
    "資料庫最近變得很慢，帳號登入不了主控台",
    "Our website returns 502 Bad Gateway after the upgrade: ERR_CONNECTION_RESET",
    "如何配置 OSS 防盗链",
];

/// Runs a few tickets through a generation before it serves. The first request after a
/// start or a swap would otherwise build the lazily compiled patterns and caches it meets
/// and fault in the generation's mapped files: 30–40 ms instead of 2–3 ms.
fn warm_up(loaded: &Loaded) {
    let started = Instant::now();
    let cfg = AnswerConfig::default();
    for text in WARM_UP {
        let _ = search::search(loaded, &SearchRequest::new(text));
        let req = AnswerRequest {
            ticket: Ticket {
                body: text.to_string(),
                ..Ticket::default()
            },
            options: None,
        };
        let _ = answer::answer(loaded, &cfg, &req);
    }
    tracing::debug!(ms = started.elapsed().as_secs_f64() * 1000.0, "warmed up");
}

/// Hands the memory a build freed back to the OS. The build allocates hundreds of MB on
/// its indexing threads, which then exit; the allocator would otherwise keep their pages
/// until its purge timer runs, so each live reindex would leave the RSS near its peak.
fn release_freed_memory() {
    // SAFETY: mi_collect only walks and purges the allocator's own free pages.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn own_nice() -> i32 {
        // SAFETY: reads the calling thread's own priority.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[test]
    fn a_reindex_and_the_threads_it_starts_run_below_the_caller() {
        let caller = own_nice();
        let (inside, started) = at_lower_priority(5, || {
            let started = std::thread::spawn(own_nice).join().unwrap();
            (own_nice(), started)
        })
        .unwrap();
        assert_eq!(inside, (caller + 5).min(19));
        assert_eq!(
            started, inside,
            "a thread the reindex starts inherits its priority"
        );
        assert_eq!(own_nice(), caller, "the caller's own priority is untouched");
        let same = at_lower_priority(0, own_nice).unwrap();
        assert_eq!(same, caller);
    }

    #[test]
    fn a_panic_in_the_reindex_thread_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| at_lower_priority(1, || panic!("boom")));
        assert!(r.is_err());
    }
}
