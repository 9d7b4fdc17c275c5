//! The HTTP service, spoken to over a real socket: every endpoint, auth, bad input, and a
//! reindex under load that must lose no request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use deflect::config::Config;
use deflect::http::{serve, AppState};
use serde_json::{json, Value};

use super::common::temp_engine;

const ADMIN: &str = "admin-key-for-tests-0123456789";

struct Server {
    base: String,
    client: reqwest::Client,
    config: Config,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn start(mut tweak: impl FnMut(&mut Config)) -> Server {
    let (dir, mut config, engine) = tokio::task::spawn_blocking(temp_engine).await.unwrap();
    config.admin_keys = vec![ADMIN.into()];
    tweak(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(engine, config.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async move {
        let _ = rx.await;
    }));
    Server {
        base,
        client: reqwest::Client::new(),
        config,
        _dir: dir,
        stop: Some(tx),
    }
}

impl Server {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers() {
    let s = start(|_| {}).await;
    let (st, v) = s
        .get("/v1/search?q=ssh%20%E8%BF%9E%E4%B8%8D%E4%B8%8A&limit=3&facets=true")
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["hits"].as_array().unwrap().len(), 3);
    assert!(
        v["facets"]["category"].is_object()
            && v["took_ms"].is_number()
            && v["total"].as_u64().unwrap() > 0
    );
    for field in [
        "id", "title", "category", "product", "score", "snippet", "path", "updated",
    ] {
        assert!(
            !v["hits"][0][field].is_null(),
            "hit lacks {field}: {}",
            v["hits"][0]
        );
    }

    let (st, v) = s
        .post(
            "/v1/search",
            &json!({"q": "数据库连接数满了", "limit": 2, "category": "database"}),
        )
        .await;
    assert_eq!(st, 200);
    assert!(v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["category"] == "database"));

    let (st, v) = s.get("/v1/articles/db-too-many-connections").await;
    assert_eq!(st, 200);
    assert!(v["html"].as_str().unwrap().contains("<h"), "{}", v["html"]);
    assert!(v["markdown"].as_str().unwrap().contains("max_connections"));
    let faq_id = {
        let (_, v) = s
            // 可以对公转账充值吗: a question only the billing FAQ asks.
            .get("/v1/search?q=%E5%8F%AF%E4%BB%A5%E5%AF%B9%E5%85%AC%E8%BD%AC%E8%B4%A6%E5%85%85%E5%80%BC%E5%90%97&limit=1")
            .await;
        v["hits"][0]["id"].as_str().unwrap().to_string()
    };
    assert_eq!(faq_id, "bill-faq#bank-transfer");
    let (st, v) = s
        .get(&format!("/v1/articles/{}", faq_id.replace('#', "%23")))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["id"], faq_id.as_str());

    let (st, v) = s.post("/v1/answer", &json!({"ticket": {"body": "RDS 报 ERROR 1040 (HY000): Too many connections，应用全连不上数据库"}})).await;
    assert_eq!(st, 200, "{v}");
    assert!(
        v["fixes"][0]["id"]
            .as_str()
            .unwrap()
            .contains("too-many-connections"),
        "{v}"
    );
    assert!(v["answer_id"].is_string() && v["escalation"]["tier"].is_string());

    let (st, _) = s
        .post(
            "/v1/feedback",
            &json!({"answer_id": v["answer_id"], "helpful": true}),
        )
        .await;
    assert_eq!(st, 202);
    assert!(s.config.index.join("feedback.jsonl").is_file());

    assert_eq!(s.get("/healthz").await.0, 200);
    let (st, v) = s.get("/readyz").await;
    assert_eq!(st, 200);
    assert!(v["entries"].as_u64().unwrap() > 100);
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("deflect_http_requests_total")
            && metrics.contains("deflect_http_request_duration_seconds"),
        "{metrics}"
    );
    let page = s
        .client
        .get(format!("{}/", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/v1/search"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route() {
    let s = start(|_| {}).await;
    let (st, v) = s.get("/openapi.json").await;
    assert_eq!(st, 200);
    let paths = v["paths"].as_object().unwrap();
    for p in [
        "/v1/search",
        "/v1/answer",
        "/v1/articles/{id}",
        "/v1/feedback",
        "/v1/admin/reindex",
        "/v1/admin/report",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(paths["/v1/search"]["get"].is_object() && paths["/v1/search"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_needs_the_key_and_read_key_is_optional() {
    let s = start(|c| c.api_keys = vec!["read-key-for-tests-0123456789".into()]).await;
    let url = format!("{}/v1/admin/reindex", s.base);
    let no_key = s.client.post(&url).send().await.unwrap();
    assert_eq!(no_key.status().as_u16(), 401);
    let wrong = s
        .client
        .post(&url)
        .bearer_auth("admin-key-for-tests-012345678X")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(code(&body), "unauthorized");
    let ok = s.client.post(&url).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let summary: Value = ok.json().await.unwrap();
    assert!(summary["entries"].as_u64().unwrap() > 100 && summary["seconds"].is_number());

    let search = format!("{}/v1/search?q=ssh", s.base);
    assert_eq!(
        s.client
            .get(&search)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let r = s
        .client
        .get(&search)
        .bearer_auth("read-key-for-tests-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_with_a_stable_code() {
    // A small body limit: a body over it still fits the loopback socket buffer, so the
    // client finishes sending before the 413 arrives (with megabytes, the early answer can
    // reset the connection mid-send).
    let s = start(|c| c.limits.max_body_bytes = 64 << 10).await;
    let cases: Vec<(u16, &str, (u16, Value))> = vec![
        (
            400,
            "invalid_json",
            s.post_raw("/v1/answer", b"{\"ticket\": {\"body\": ".to_vec())
                .await,
        ),
        (
            400,
            "invalid_json",
            s.post_raw("/v1/search", b"not json".to_vec()).await,
        ),
        (
            422,
            "invalid_parameter",
            s.post("/v1/answer", &json!({"ticket": {"body": 42}})).await,
        ),
        (
            422,
            "invalid_parameter",
            s.post("/v1/answer", &json!({"ticket": {"body": "x", "bogus": 1}}))
                .await,
        ),
        (
            422,
            "invalid_parameter",
            s.post("/v1/search", &json!({"q": "x", "limit": -5})).await,
        ),
        (
            422,
            "invalid_parameter",
            s.get("/v1/search?q=ssh&limit=100000").await,
        ),
        (
            422,
            "invalid_parameter",
            s.get("/v1/search?q=ssh&offset=-1").await,
        ),
        (
            422,
            "invalid_parameter",
            s.get("/v1/search?q=ssh&limit=abc").await,
        ),
        (400, "empty_query", s.get("/v1/search?q=").await),
        (400, "empty_query", s.get("/v1/search").await),
        (
            400,
            "empty_query",
            s.post("/v1/answer", &json!({"ticket": {"body": "   "}}))
                .await,
        ),
        (
            404,
            "not_found",
            s.get("/v1/articles/..%2F..%2Fetc%2Fpasswd").await,
        ),
        (
            404,
            "not_found",
            s.get("/v1/articles/../../Cargo.toml").await,
        ),
        (404, "not_found", s.get("/v1/nope").await),
        (
            413,
            "body_too_large",
            s.post_raw(
                "/v1/search",
                format!("{{\"q\": \"{}\"}}", "a".repeat(200 << 10)).into_bytes(),
            )
            .await,
        ),
        (
            422,
            "invalid_parameter",
            s.post_raw(
                "/v1/search",
                format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            )
            .await,
        ),
        (
            422,
            "invalid_parameter",
            s.post_raw(
                "/v1/search",
                format!("{{\"q\": {}", "{\"a\": ".repeat(10_000)).into_bytes(),
            )
            .await,
        ),
        (
            400,
            "invalid_json",
            s.post_raw("/v1/search", b"{\"q\": \"\xe4\xbd\xa0\xe5".to_vec())
                .await,
        ),
    ];
    for (i, (status, want, (got_status, body))) in cases.into_iter().enumerate() {
        assert_eq!(got_status, status, "case {i}: {body}");
        assert_eq!(code(&body), want, "case {i}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "case {i}"
        );
    }
    // Not JSON at all.
    let r = s
        .client
        .post(format!("{}/v1/answer", s.base))
        .body("ticket=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_but_valid_input_is_answered() {
    let s = start(|_| {}).await;
    // A 100k-character ticket is truncated, not refused.
    let long = format!("服务器 ssh 连不上 {}", "日志内容 ".repeat(20_000));
    let (st, v) = s
        .post("/v1/answer", &json!({"ticket": {"body": long}}))
        .await;
    assert_eq!(st, 200, "{v}");
    // Invalid UTF-8 in the query string is decoded lossily, never a 500.
    let r = s
        .client
        .get(format!("{}/v1/search?q=%FF%FE%E8%BF", s.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().as_u16() < 500, "{}", r.status());
    for q in [
        "%F0%9F%98%80%F0%9F%94%A5",
        "%E4%BD%A0%E5%A5%BD%E8%B0%A2%E8%B0%A2",
        "%3Cscript%3E",
        "%00%01%02",
    ] {
        let (st, v) = s.get(&format!("/v1/search?q={q}")).await;
        assert!(st == 200 || st == 400, "{q}: {st} {v}");
    }
    // The request id is echoed, or made up.
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_markdown_is_sanitised() {
    let s = start(|_| {}).await;
    let kb = s.config.kb.clone();
    std::fs::write(
        kb.join("security/hostile.md"),
        "---\nid: hostile-page\n---\n# 恶意页面 zzhostilezz\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[点我](javascript:alert(3)) and [this](JaVaScRiPt:alert(4))\n\n<iframe src=\"http://x\"></iframe>\n\n![x](data:text/html;base64,PHNjcmlwdD4=)\n\n<a href=\"data:text/html,x\" onclick=\"alert(5)\">y</a>\n",
    )
    .unwrap();
    let r = s
        .client
        .post(format!("{}/v1/admin/reindex", s.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (st, v) = s.get("/v1/articles/hostile-page").await;
    assert_eq!(st, 200);
    let html = v["html"].as_str().unwrap().to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "onclick",
        "href=\"javascript",
        "<iframe",
        "src=\"data:",
        "href=\"data:",
    ] {
        assert!(!html.contains(bad), "{bad} survived: {html}");
    }
    let (_, v) = s.get("/v1/search?q=zzhostilezz%20alert").await;
    let snippet = v["hits"][0]["snippet"].as_str().unwrap_or("");
    assert!(!snippet.contains("<script"), "{snippet}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reindex_under_load_loses_no_request() {
    let s = start(|_| {}).await;
    let s = Arc::new(s);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut loops = Vec::new();
    for i in 0..4 {
        let (s, stop, ok, failed) = (s.clone(), stop.clone(), ok.clone(), failed.clone());
        loops.push(tokio::spawn(async move {
            let qs = [
                "ssh%20%E8%BF%9E%E4%B8%8D%E4%B8%8A",
                "502",
                "%E6%AC%A0%E8%B4%B9",
                "Too%20many%20connections",
            ];
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 5000 {
                let r = s
                    .client
                    .get(format!("{}/v1/search?q={}", s.base, qs[(i + n) % qs.len()]))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                n += 1;
            }
        }));
    }
    // New content arrives while searches run; three reindexes swap generations under load.
    std::fs::write(s.config.kb.join("compute/new-article.md"), "---\nid: zz-new-article\ncategory: compute\n---\n# 全新的文章 qqzzxxmarker\n## 现象\nqqzzxxmarker 出现\n").unwrap();
    for _ in 0..3 {
        let r = s
            .client
            .post(format!("{}/v1/admin/reindex", s.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    stop.store(true, Ordering::Relaxed);
    for l in loops {
        l.await.unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "{} ok",
        ok.load(Ordering::Relaxed)
    );
    assert!(ok.load(Ordering::Relaxed) > 10);
    let (_, v) = s.get("/v1/search?q=qqzzxxmarker").await;
    assert_eq!(v["hits"][0]["id"], "zz-new-article");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_while_another_runs_is_refused_not_queued() {
    let s = start(|_| {}).await;
    // Another process (say `deflect reindex` from a shell) holds the build lock.
    let lock = std::fs::File::create(s.config.index.join(".lock")).unwrap();
    lock.try_lock().unwrap();
    let r = s
        .client
        .post(format!("{}/v1/admin/reindex", s.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "reindex_in_progress");
    drop(lock);
    let r = s
        .client
        .post(format!("{}/v1/admin/reindex", s.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Searches were answered throughout from the serving generation.
    assert_eq!(s.get("/v1/search?q=ssh").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_do_not_starve_the_others() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start(|c| c.limits.body_timeout_ms = 800).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    // 48 clients announce a 4 KB ticket and send a byte every 100 ms (slowloris).
    let mut slow = Vec::new();
    for _ in 0..48 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = "POST /v1/answer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n";
            c.write_all(head.as_bytes()).await.unwrap();
            let mut reply = Vec::new();
            for _ in 0..100 {
                if c.write_all(b" ").await.is_err() {
                    break;
                }
                tokio::select! {
                    n = c.read_buf(&mut reply) => { if n.unwrap_or(0) == 0 || !reply.is_empty() { break } }
                    _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                }
            }
            // Read the rest of the reply (it may come in more than one segment).
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), async {
                while !String::from_utf8_lossy(&reply).contains('}') {
                    if c.read_buf(&mut reply).await.unwrap_or(0) == 0 {
                        break;
                    }
                }
            })
            .await;
            String::from_utf8_lossy(&reply).into_owned()
        }));
    }
    // Meanwhile ordinary clients are served as usual.
    let mut ok = 0;
    for i in 0..40 {
        let (st, _) = if i % 2 == 0 {
            s.get("/v1/search?q=ssh%20%E8%BF%9E%E4%B8%8D%E4%B8%8A")
                .await
        } else {
            s.post(
                "/v1/answer",
                &json!({"ticket": {"body": "ECS 实例 ssh 连不上，提示 Connection refused"}}),
            )
            .await
        };
        ok += usize::from(st == 200);
    }
    assert_eq!(
        ok, 40,
        "ordinary requests failed while slow clients were connected"
    );
    // Every slow client got a 408 with the stable code, well before its body was complete.
    for h in slow {
        let reply = h.await.unwrap();
        assert!(
            reply.starts_with("HTTP/1.1 408") && reply.contains("body_timeout"),
            "{reply}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_closes_the_connection_and_the_next_request_succeeds() {
    // The server does not read the rest of a body over the limit and drops the connection:
    // the 413 must say so, or a pooling client sends its next request on a dead connection.
    // (A small limit, as in `bad_input_gets_a_4xx_with_a_stable_code`.)
    let s = start(|c| c.limits.max_body_bytes = 64 << 10).await;
    for _ in 0..5 {
        let r = s
            .client
            .post(format!("{}/v1/search", s.base))
            .header("content-type", "application/json")
            .body(format!("{{\"q\": \"{}\"}}", "a".repeat(200 << 10)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 413);
        assert_eq!(
            r.headers().get("connection").and_then(|v| v.to_str().ok()),
            Some("close")
        );
        let (st, _) = s.post("/v1/search", &serde_json::json!({"q": "ssh"})).await;
        assert_eq!(st, 200);
    }
}

/// One HTTP/1.1 request on a fresh connection: (status, body). The read timeout only keeps a
/// broken build from hanging the test run; no assertion depends on time.
fn raw_request(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .unwrap();
    write!(
        c,
        "{method} {path} HTTP/1.1\r\nHost: deflect\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

#[test]
fn ops_listener_answers_while_every_worker_is_held_and_readiness_follows_drain() {
    let (_dir, mut config, engine) = temp_engine();
    config.admin_keys = vec![ADMIN.into()];
    // The main server on a runtime with a single worker, which the test then holds.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (state, main_addr) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(engine, config.clone());
        tokio::spawn(serve(listener, state.clone(), std::future::pending()));
        (state, addr)
    });
    let ops = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ops_addr = ops.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let ops_thread = deflect::http::serve_ops(ops, state.clone(), async move {
        let _ = stopped.await;
    })
    .unwrap();

    assert_eq!(raw_request(main_addr, "GET", "/readyz").0, 200);
    // Hold the only worker.
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    rt.spawn(async move {
        held_tx.send(()).unwrap();
        let _ = release_rx.recv();
    });
    held_rx.recv().unwrap();
    // A probe on the main port waits for the worker; on the ops port it is answered at once.
    let main_probe = std::thread::spawn(move || raw_request(main_addr, "GET", "/readyz"));
    let (st, body) = raw_request(ops_addr, "GET", "/readyz");
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("\"ready\""), "{body}");
    assert!(
        !main_probe.is_finished(),
        "the main port answered while its only worker was held"
    );
    assert_eq!(raw_request(ops_addr, "GET", "/healthz").0, 200);
    let (st, metrics) = raw_request(ops_addr, "GET", "/metrics");
    assert_eq!(st, 200);
    assert!(metrics.contains("deflect_index_entries"), "{metrics}");
    // Only the operations endpoints are there, and reindex still needs the admin key.
    let (st, body) = raw_request(ops_addr, "GET", "/v1/search?q=ssh");
    assert_eq!(st, 404, "{body}");
    assert!(
        body.contains("not_found") && body.contains("/readyz"),
        "{body}"
    );
    let (st, body) = raw_request(ops_addr, "POST", "/v1/admin/reindex");
    assert_eq!(st, 401, "{body}");

    release_tx.send(()).unwrap();
    assert_eq!(main_probe.join().unwrap().0, 200);

    // Shutting down: not ready on either listener, still alive.
    state.drain();
    for addr in [main_addr, ops_addr] {
        let (st, body) = raw_request(addr, "GET", "/readyz");
        assert_eq!(st, 503, "{body}");
        assert!(body.contains("\"draining\""), "{body}");
        assert_eq!(raw_request(addr, "GET", "/healthz").0, 200);
    }
    stop.send(()).unwrap();
    ops_thread.join().unwrap();
}

/// Every answer goes to the answer log (personal data masked), and `deflect report` reads
/// it with the feedback: decisions, the fix marked not helpful, and the tickets the KB could
/// not answer grouped by what they share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_logged_and_reported_with_feedback_and_gaps() {
    let srv = start(|_| {}).await;
    let tickets = [
        "实例 i-bp1abc 重启后 ssh 报 Permission denied (publickey)，我的手机 13812345678",
        "Our managed Elasticsearch cluster went red after a node restart, 12 shards UNASSIGNED",
        "Elasticsearch cluster is yellow, replica shards UNASSIGNED since yesterday",
        "帮我转人工客服，root 密码是Abc#12345",
    ];
    let mut answers = Vec::new();
    for t in tickets {
        let (status, a) = srv
            .post("/v1/answer", &json!({"ticket": {"body": t}}))
            .await;
        assert_eq!(status, 200, "{a}");
        answers.push(a);
    }
    let ssh = &answers[0];
    assert_eq!(ssh["decision"], "auto_reply", "{ssh}");
    let (status, _) = srv
        .post(
            "/v1/feedback",
            &json!({"answer_id": ssh["answer_id"], "helpful": false}),
        )
        .await;
    assert_eq!(status, 202);

    let text = logged_answers(&srv, tickets.len()).await;
    assert!(
        !text.contains("13812345678") && text.contains("[phone]"),
        "{text}"
    );

    let r = report_of(&srv);
    assert_eq!(r.answers, tickets.len());
    assert_eq!(r.unreadable_lines, 0);
    for d in ["auto_reply", "suggest", "clarify", "escalate"] {
        let want = answers.iter().filter(|a| a["decision"] == d).count();
        let got = r.decisions.iter().find(|c| c.name == d).unwrap().count;
        assert_eq!(got, want, "{d}");
    }
    assert!(r
        .escalation_reasons
        .iter()
        .any(|c| c.name == "customer_requested" && c.count == 1));
    // Per category, the same decisions.
    assert_eq!(
        r.categories.iter().map(|c| c.answers).sum::<usize>(),
        tickets.len()
    );
    let ssh_category = ssh["classification"]["category"].as_str().unwrap_or("-");
    let c = r
        .categories
        .iter()
        .find(|c| c.name == ssh_category)
        .unwrap();
    assert!(c.auto_reply >= 1, "{c:?}");
    // The fix marked not helpful comes first, with its title.
    let top_fix = ssh["fixes"][0]["id"].as_str().unwrap();
    let e = &r.entries[0];
    assert_eq!(
        (e.id.as_str(), e.not_helpful, e.auto_replies),
        (top_fix, 1, 1)
    );
    assert!(e.title.is_some());
    assert_eq!(r.feedback.not_helpful, 1);
    // The two Elasticsearch tickets (nothing in kb/ answers them) are one gap.
    let es = r
        .gaps
        .iter()
        .find(|g| g.tickets == 2)
        .unwrap_or_else(|| panic!("{:#?}", r.gaps));
    assert!(
        es.words.iter().any(
            |w| w.eq_ignore_ascii_case("elasticsearch") || w.eq_ignore_ascii_case("unassigned")
        ),
        "{es:?}"
    );
    assert!(es.examples.iter().all(|e| e.contains("Elasticsearch")));
    assert_eq!(r.gap_tickets, 2, "{:#?}", r.gaps);

    // The same report over HTTP, for the admin key only.
    let url = format!("{}/v1/admin/report?days=1&top=5", srv.base);
    let anon = srv.client.get(&url).send().await.unwrap();
    assert_eq!(anon.status().as_u16(), 401);
    let r = srv
        .client
        .get(&url)
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["answers"], 4, "{v}");
    assert_eq!(v["entries"][0]["id"], top_fix);
    let (status, v) = srv.get("/v1/admin/report?top=0").await;
    assert!(
        status == 401 || code(&v) == "invalid_parameter",
        "{status} {v}"
    );
    let bad = srv
        .client
        .get(format!("{}/v1/admin/report?top=0", srv.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);

    // Off means off.
    let quiet = start(|c| c.answer_log = false).await;
    let (status, _) = quiet
        .post("/v1/answer", &json!({"ticket": {"body": "ssh 连不上"}}))
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!quiet.config.index.join("answers.jsonl").exists());
}

/// The answer log once the writer has appended `n` lines (it appends in the background,
/// every 20 ms): waits up to 20 s on a slow machine.
async fn logged_answers(srv: &Server, n: usize) -> String {
    let log = srv.config.index.join("answers.jsonl");
    for _ in 0..1000 {
        let lines = std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines == n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let text = std::fs::read_to_string(&log).expect("answers.jsonl");
    assert_eq!(text.lines().count(), n);
    text
}

/// `deflect report` over the server's logs.
fn report_of(srv: &Server) -> deflect::report::Report {
    let loaded = deflect::index::open(&srv.config.index, Some(&srv.config.kb)).unwrap();
    let opts = deflect::report::Options {
        since: None,
        top: 10,
    };
    deflect::report::from_dir(&loaded, &srv.config.index, opts).unwrap()
}

/// A chat bot's second turn: the customer picked an option of the clarifying question. The
/// same ticket with `options.chosen` is answered with that entry; an unknown entry is a
/// 422; the follow-up is logged as such, kept out of the decision mix, and feedback on it
/// counts for the entry the customer chose.
#[tokio::test]
async fn a_clarified_ticket_is_answered_with_the_customers_choice() {
    let srv = start(|_| {}).await;
    let ticket = json!({"body": "网站打不开了"});
    let (status, first) = srv.post("/v1/answer", &json!({"ticket": ticket})).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["decision"], "clarify", "{first}");
    let picked = first["clarify"]["options"][1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, second) = srv
        .post(
            "/v1/answer",
            &json!({"ticket": ticket, "options": {"chosen": picked}}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["decision"], "auto_reply", "{second}");
    assert_eq!(second["fixes"][0]["id"], picked.as_str());
    assert!(second["reply"]["text"]
        .as_str()
        .unwrap()
        .contains(second["fixes"][0]["title"].as_str().unwrap()));
    let (status, err) = srv
        .post(
            "/v1/answer",
            &json!({"ticket": ticket, "options": {"chosen": "no-such-entry"}}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "invalid_parameter");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-entry"));
    let (status, _) = srv
        .post(
            "/v1/feedback",
            &json!({"answer_id": second["answer_id"], "helpful": true}),
        )
        .await;
    assert_eq!(status, 202);

    logged_answers(&srv, 2).await;
    let r = report_of(&srv);
    assert_eq!((r.answers, r.follow_ups), (1, 1));
    let clarify = r.decisions.iter().find(|c| c.name == "clarify").unwrap();
    assert_eq!(clarify.count, 1);
    let auto = r.decisions.iter().find(|c| c.name == "auto_reply").unwrap();
    assert_eq!(auto.count, 0, "a follow-up is not a decision of its own");
    let e = r.entries.iter().find(|e| e.id == picked).unwrap();
    assert_eq!(e.helpful, 1, "{e:?}");
}
