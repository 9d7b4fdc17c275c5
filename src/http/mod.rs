//! HTTP: the JSON API, operations endpoints and the search page.
//!
//! `app(state)` builds the router (tests call it directly); `serve(listener, state, shutdown)`
//! runs it on an already-bound listener with graceful shutdown. Searches and answers are short
//! and CPU-bound, so they run on the runtime's worker threads (one per core), with no hand-off
//! to another thread. `Backlog` estimates how long a ready request waits for a worker; when
//! that exceeds `limits.max_queue_ms`, new requests get 503 with `Retry-After` instead of
//! queuing without bound. File I/O (articles, feedback) and reindex run on the blocking pool.
//! `serve_ops` serves the operations endpoints alone on a second listener, from a thread of
//! their own, so probes and metrics answer while the workers are saturated.

pub mod error;
mod page;
pub mod routes;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::config::Config;
use crate::engine::Engine;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The configuration.
    pub config: Arc<Config>,
    gate: Arc<Gate>,
    metrics: PrometheusHandle,
    feedback: Arc<Mutex<()>>,
    answer_log: Option<Arc<crate::answer::log::AnswerLog>>,
    started: Instant,
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// State over an engine and a configuration.
    pub fn new(engine: Arc<Engine>, config: Config) -> AppState {
        let gate = Gate {
            sem: Arc::new(Semaphore::new(config.limits.concurrency())),
            waiting: AtomicUsize::new(0),
            max_waiting: config.limits.max_queued_searches,
            deadline: Duration::from_millis(config.limits.search_timeout_ms),
            backlog: Backlog::start(),
            max_wait: Duration::from_millis(config.limits.max_queue_ms),
        };
        metrics::gauge!("deflect_index_entries").set(engine.loaded().meta.entries as f64);
        let answer_log = config.answer_log.then(|| {
            Arc::new(crate::answer::log::AnswerLog::start(
                config.index.join(crate::answer::log::ANSWER_LOG_FILE),
                config.answer_log_max_mb.saturating_mul(1 << 20),
                config.log_personal_data,
            ))
        });
        AppState {
            engine,
            config: Arc::new(config),
            gate: Arc::new(gate),
            metrics: metrics_handle(),
            feedback: Arc::new(Mutex::new(())),
            answer_log,
            started: Instant::now(),
            draining: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Appends an answer to the answer log, when it is on.
    pub fn log_answer(
        &self,
        resp: &crate::answer::AnswerResponse,
        req: &crate::answer::AnswerRequest,
    ) {
        if let Some(log) = &self.answer_log {
            log.record(crate::answer::log::LogRecord::of(
                resp,
                req,
                crate::answer::log::now(),
            ));
        }
    }

    /// Marks the server as shutting down: `/readyz` answers 503 `draining` from now on (on
    /// every listener), so a load balancer stops sending work while in-flight requests finish.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether [`AppState::drain`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Runs short CPU-bound work (a search, an answer) on this worker thread, unless the
    /// server is behind by more than `max_queue_ms`: then 503 `overloaded`.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T, ApiError> {
        self.gate.run_inline(f)
    }

    /// Runs blocking work (file I/O) on the blocking pool, behind the concurrency bound and
    /// the deadline.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.gate.run(f).await
    }
}

struct Gate {
    sem: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    deadline: Duration,
    backlog: Arc<Backlog>,
    max_wait: Duration,
}

impl Gate {
    fn run_inline<T>(&self, f: impl FnOnce() -> T) -> Result<T, ApiError> {
        if self.backlog.wait() > self.max_wait {
            self.backlog.record(Duration::ZERO);
            metrics::counter!("deflect_overload_rejections_total").increment(1);
            return Err(ApiError::Overloaded);
        }
        let started = Instant::now();
        let out = f();
        self.backlog.record(started.elapsed());
        Ok(out)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("deflect_overload_rejections_total").increment(1);
            return Err(ApiError::Overloaded);
        }
        let permit = tokio::time::timeout(self.deadline, self.sem.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let permit = match permit {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(ApiError::Internal("semaphore closed".into())),
            Err(_) => return Err(ApiError::Overloaded),
        };
        let left = self.deadline.saturating_sub(started.elapsed());
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        });
        match tokio::time::timeout(left, task).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ApiError::Internal(format!("blocking task failed: {e}"))),
            Err(_) => Err(ApiError::Timeout(self.deadline.as_millis() as u64)),
        }
    }
}

/// How far behind the server is: an estimate of how long a request that is ready now waits
/// before a worker thread runs it.
///
/// Work runs on the worker threads, so a backlog is a queue of ready tasks that no counter in
/// the gate sees. Two parts are measured. A monitor task wakes every `LAG_TICK`, yields to the
/// back of its worker's queue and records how late it runs again: the wait behind everything
/// in the workers' own queues (`lag`). Ready connections beyond those queues overflow into the
/// runtime's shared queue; their wait is their number times the mean cost of a request, spread
/// over the workers. The mean cost counts refused requests as free, so when the server refuses
/// much of a flood, the estimate falls and it admits more again: goodput stays near capacity
/// instead of every request being refused.
struct Backlog {
    lag_micros: AtomicU64,
    /// Mean cost of a request through the gate, ns (an `f64`'s bits, moving average).
    cost_nanos: AtomicU64,
    runtime: Option<tokio::runtime::Handle>,
}

const LAG_TICK: Duration = Duration::from_millis(10);
/// Weight of the newest request in the mean cost.
const COST_WEIGHT: f64 = 0.05;

impl Backlog {
    /// An estimate, with its monitor running if there is a runtime to run it on (without one
    /// the backlog stays zero).
    fn start() -> Arc<Backlog> {
        let backlog = Arc::new(Backlog::idle(tokio::runtime::Handle::try_current().ok()));
        if let Some(rt) = &backlog.runtime {
            rt.spawn(monitor_lag(Arc::downgrade(&backlog)));
        }
        backlog
    }

    fn idle(runtime: Option<tokio::runtime::Handle>) -> Backlog {
        Backlog {
            lag_micros: AtomicU64::new(0),
            cost_nanos: AtomicU64::new(0f64.to_bits()),
            runtime,
        }
    }

    /// Estimated wait of a request that is ready now.
    fn wait(&self) -> Duration {
        let (queued, workers) = self.runtime.as_ref().map_or((0, 1), |rt| {
            let m = rt.metrics();
            (m.global_queue_depth(), m.num_workers().max(1))
        });
        let cost = f64::from_bits(self.cost_nanos.load(Ordering::Relaxed));
        self.lag() + Duration::from_nanos((queued as f64 * cost / workers as f64) as u64)
    }

    fn lag(&self) -> Duration {
        Duration::from_micros(self.lag_micros.load(Ordering::Relaxed))
    }

    fn set_lag(&self, lag: Duration) {
        self.lag_micros
            .store(lag.as_micros() as u64, Ordering::Relaxed);
        metrics::gauge!("deflect_backlog_seconds").set(self.wait().as_secs_f64());
    }

    /// Folds one request's cost into the mean (races between threads only blur an estimate).
    fn record(&self, cost: Duration) {
        let old = f64::from_bits(self.cost_nanos.load(Ordering::Relaxed));
        let new = old + COST_WEIGHT * (cost.as_nanos() as f64 - old);
        self.cost_nanos.store(new.to_bits(), Ordering::Relaxed);
    }
}

/// Measures the lag until the estimate is dropped (the server's state is gone).
async fn monitor_lag(backlog: Weak<Backlog>) {
    loop {
        let due = tokio::time::Instant::now() + LAG_TICK;
        tokio::time::sleep_until(due).await;
        tokio::task::yield_now().await;
        let Some(backlog) = backlog.upgrade() else {
            return;
        };
        backlog.set_lag(due.elapsed());
    }
}

/// The process-wide Prometheus recorder (installed once; tests build many apps).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ];
            let builder = PrometheusBuilder::new();
            let builder = builder
                .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &buckets)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Builds the router.
pub fn app(state: AppState) -> Router {
    let cfg = state.config.clone();
    let read = Router::new()
        .route(
            "/v1/search",
            get(routes::search_get).post(routes::search_post),
        )
        .route("/v1/answer", post(routes::answer))
        .route("/v1/articles/{*id}", get(routes::article))
        .route("/v1/feedback", post(routes::feedback))
        .route_layer(middleware::from_fn_with_state(state.clone(), read_auth));
    let mut router = Router::new()
        .merge(read)
        .merge(ops_routes(&state))
        .route("/", get(page::index))
        .route("/openapi.json", get(routes::openapi));
    router = layered(router, &cfg, "no such route; see /openapi.json");
    if !cfg.cors_origins.is_empty() {
        let origin = if cfg.cors_origins.iter().any(|o| o == "*") {
            AllowOrigin::from(Any)
        } else {
            AllowOrigin::list(
                cfg.cors_origins
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok()),
            )
        };
        router = router.layer(
            CorsLayer::new()
                .allow_origin(origin)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
        );
    }
    router.with_state(state)
}

/// The operations endpoints alone: probes, metrics and reindex (see [`serve_ops`]).
pub fn ops_app(state: AppState) -> Router {
    let cfg = state.config.clone();
    let hint = "no such route here: this listener serves /healthz, /readyz, /metrics, /v1/admin/reindex and /v1/admin/report";
    layered(ops_routes(&state), &cfg, hint).with_state(state)
}

/// Probes, metrics, reindex and the report: on the main router, and alone on `ops_listen`.
fn ops_routes(state: &AppState) -> Router<AppState> {
    let admin = Router::new()
        .route("/v1/admin/reindex", post(routes::admin_reindex))
        .route("/v1/admin/report", get(routes::admin_report))
        .route_layer(middleware::from_fn_with_state(state.clone(), admin_auth));
    Router::new()
        .merge(admin)
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics))
}

/// What every router shares: stable errors for unknown routes (`not_found`, with `hint`) and
/// methods, metrics, the body limit, compression, panics as 500, request ids and tracing.
fn layered(router: Router<AppState>, cfg: &Config, hint: &'static str) -> Router<AppState> {
    router
        .fallback(move || async move { ApiError::NotFound(hint.into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(track))
        .layer(DefaultBodyLimit::max(cfg.limits.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| ApiError::Internal("handler panicked".into()).into_response()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Records request counts and latency per route and status.
async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("deflect_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status.clone()).increment(1);
    metrics::histogram!("deflect_http_request_duration_seconds", "route" => route, "method" => method, "status" => status).record(started.elapsed().as_secs_f64());
    resp
}

fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
        .map(str::trim)
}

/// Constant-time: every key is compared in full, whatever matches.
fn key_matches(given: &str, keys: &[String]) -> bool {
    let mut ok = 0u8;
    for k in keys {
        ok |= given.as_bytes().ct_eq(k.as_bytes()).unwrap_u8();
    }
    ok == 1
}

async fn admin_auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let keys = &s.config.admin_keys;
    match bearer(&req) {
        Some(k) if !keys.is_empty() && key_matches(k, keys) => next.run(req).await,
        _ => ApiError::Unauthorized.into_response(),
    }
}

async fn read_auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let keys = &s.config.api_keys;
    if keys.is_empty() {
        return next.run(req).await;
    }
    match bearer(&req) {
        Some(k) if key_matches(k, keys) || key_matches(k, &s.config.admin_keys) => {
            next.run(req).await
        }
        _ => ApiError::Unauthorized.into_response(),
    }
}

/// Serves `state` on `listener` until `shutdown` resolves; in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the operations endpoints ([`ops_app`]) on `listener` from a thread of their own,
/// with a single-threaded runtime, until `shutdown` resolves. The main workers can be saturated
/// by a flood of searches, each connection queued behind the others; a liveness probe that
/// waited its turn there could time out and get a busy but healthy server restarted. Here it
/// waits for nothing but the OS scheduler.
pub fn serve_ops(
    listener: std::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("deflect-ops".into())
        .spawn(move || {
            rt.block_on(async move {
                let served = match TcpListener::from_std(listener) {
                    Ok(l) => {
                        axum::serve(l, ops_app(state))
                            .with_graceful_shutdown(shutdown)
                            .await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = served {
                    tracing::error!("operations listener stopped: {e}");
                }
            })
        })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Watches the KB and reindexes (debounced) through the same path as the admin endpoint.
/// Returns the watcher, which stops when dropped.
pub fn watch(engine: Arc<Engine>, debounce: Duration) -> notify::Result<impl Drop> {
    use notify::RecursiveMode;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let mut debouncer = notify_debouncer_full::new_debouncer(
        debounce,
        None,
        move |res: notify_debouncer_full::DebounceEventResult| {
            if let Ok(events) = res {
                if events
                    .iter()
                    .any(|e| !matches!(e.kind, notify::EventKind::Access(_)))
                {
                    let _ = tx.send(());
                }
            }
        },
    )?;
    debouncer.watch(engine.kb(), RecursiveMode::Recursive)?;
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            while rx.try_recv().is_ok() {}
            match engine.reindex() {
                Ok(s) => tracing::info!(summary = %s.line(), "watch: reindexed"),
                Err(e) => {
                    tracing::warn!(error = %e, "watch: reindex failed; the serving index is unchanged")
                }
            }
        }
    });
    Ok(debouncer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_wait_ms: u64) -> Gate {
        Gate {
            sem: Arc::new(Semaphore::new(1)),
            waiting: AtomicUsize::new(0),
            max_waiting: 1,
            deadline: Duration::from_secs(5),
            backlog: Arc::new(Backlog::idle(None)),
            max_wait: Duration::from_millis(max_wait_ms),
        }
    }

    #[test]
    fn work_runs_until_the_server_falls_behind_then_is_refused() {
        let g = gate(100);
        assert_eq!(g.run_inline(|| 7).unwrap(), 7);
        g.backlog.set_lag(Duration::from_millis(100));
        assert_eq!(g.run_inline(|| 7).unwrap(), 7, "at the limit still runs");
        g.backlog.set_lag(Duration::from_millis(101));
        let mut ran = false;
        assert!(matches!(
            g.run_inline(|| ran = true),
            Err(ApiError::Overloaded)
        ));
        assert!(!ran, "refused work must not run");
        g.backlog.set_lag(Duration::ZERO);
        assert!(g.run_inline(|| ()).is_ok(), "caught up: runs again");
    }

    #[test]
    fn refused_requests_lower_the_mean_cost() {
        let b = Backlog::idle(None);
        let cost = |b: &Backlog| f64::from_bits(b.cost_nanos.load(Ordering::Relaxed));
        for _ in 0..200 {
            b.record(Duration::from_millis(1));
        }
        assert!(
            (cost(&b) - 1e6).abs() < 1e4,
            "steady 1 ms requests: mean ~1 ms, got {}",
            cost(&b)
        );
        for _ in 0..200 {
            b.record(Duration::ZERO);
        }
        assert!(
            cost(&b) < 1e4,
            "a run of refusals drives the mean toward zero, got {}",
            cost(&b)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn ready_tasks_beyond_the_workers_queues_count_as_wait() {
        let b = Backlog::start();
        for _ in 0..50 {
            b.record(Duration::from_millis(10));
        }
        // Flood the shared queue from outside the runtime while its one worker is held.
        let rt = b.runtime.clone().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (held_tx, held) = std::sync::mpsc::channel();
        rt.spawn(async move {
            held_tx.send(()).unwrap();
            let _ = rx.recv_timeout(Duration::from_secs(10));
        });
        // Flood only once the worker is held: a worker still free would take some of the
        // flood into its own queue, where the global depth does not see them.
        held.recv_timeout(Duration::from_secs(10)).unwrap();
        let flood = std::thread::spawn(move || {
            for _ in 0..100 {
                rt.spawn(async {});
            }
        });
        flood.join().unwrap();
        let wait = b.wait();
        tx.send(()).unwrap();
        assert!(
            wait >= Duration::from_millis(500),
            "100 queued x ~10 ms on one worker, got {wait:?}"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_lag_monitor_sees_a_blocked_worker_and_the_recovery() {
        let b = Backlog::start();
        tokio::time::sleep(LAG_TICK * 3).await;
        // Hold the only worker thread for 300 ms: the monitor's wake-up waits behind it.
        let mut seen = Duration::ZERO;
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(300));
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(1)).await;
                seen = seen.max(b.lag());
            }
            if seen >= Duration::from_millis(200) {
                break;
            }
        }
        assert!(
            seen >= Duration::from_millis(200),
            "a 300 ms block shows as lag, saw {seen:?}"
        );
        // Idle again: the next ticks record a small lag.
        let mut last = b.lag();
        for _ in 0..200 {
            tokio::time::sleep(LAG_TICK).await;
            last = b.lag();
            if last < Duration::from_millis(100) {
                break;
            }
        }
        assert!(
            last < Duration::from_millis(100),
            "an idle runtime is not behind, saw {last:?}"
        );
    }
}
