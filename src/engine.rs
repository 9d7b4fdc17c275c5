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

use crate::config::Config;
use crate::index::{self, BuildOptions, BuildSummary, IndexError, Loaded};

/// The serving state.
pub struct Engine {
    kb: PathBuf,
    root: PathBuf,
    build: BuildOptions,
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
            Err(IndexError::Missing(_) | IndexError::Version { .. }) => {
                tracing::info!(kb = %config.kb.display(), index = %config.index.display(), "no usable index: building one");
                summary = Some(index::build(&config.kb, &config.index, &build, |_| {})?);
                index::open(&config.index, Some(&config.kb))?
            }
            Err(e) => return Err(e),
        };
        crate::analysis::normalize::warm_up();
        let engine = Engine {
            kb: config.kb.clone(),
            root: config.index.clone(),
            build,
            current: RwLock::new(Arc::new(loaded)),
            reindexing: Mutex::new(()),
            reindex_count: AtomicU64::new(0),
        };
        Ok((engine, summary))
    }

    /// Opens an existing index only.
    pub fn open(config: &Config) -> Result<Engine, IndexError> {
        let loaded = index::open(&config.index, Some(&config.kb))?;
        Ok(Engine {
            kb: config.kb.clone(),
            root: config.index.clone(),
            build: BuildOptions {
                limits: config.ingest.limits(),
                ..BuildOptions::default()
            },
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
        let summary = index::build(&self.kb, &self.root, &self.build, |_| {});
        release_freed_memory();
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                metrics::counter!("deflect_reindex_failures_total").increment(1);
                return Err(e);
            }
        };
        let loaded = index::open(&self.root, Some(&self.kb))?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(loaded);
        self.reindex_count.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("deflect_reindex_total").increment(1);
        metrics::histogram!("deflect_reindex_seconds").record(started.elapsed().as_secs_f64());
        metrics::gauge!("deflect_index_entries").set(summary.entries as f64);
        tracing::info!(summary = %summary.line(), "reindex swapped in");
        Ok(summary)
    }
}

/// Hands the memory a build freed back to the OS. The build allocates hundreds of MB across
/// indexing threads; glibc keeps the freed pages in its arenas, so without this a server's
/// RSS would stay at its reindex peak and climb with each live reindex.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and trims the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
