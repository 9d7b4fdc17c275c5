//! Shared fixtures: the bundled KB's index, temp copies of the KB, servers on 127.0.0.1:0.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use deflect::config::Config;
use deflect::engine::Engine;
use deflect::index::{self, BuildOptions, Loaded};

/// `articles` indexed into a temp directory (kept alive by the returned guard).
pub fn built(articles: &Path) -> (tempfile::TempDir, Loaded) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("index");
    index::build(articles, &root, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&root, None).unwrap();
    (dir, loaded)
}

/// A KB of `files` (path under the KB, Markdown) in a temp directory: the guard and the
/// KB's path.
pub fn kb_of(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    for (path, text) in files {
        let file = kb.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    (dir, kb)
}

/// Two pages sharing a message's words, one quoting the message word for word: a
/// collector's error table with `invalid ip...`, and an API page whose error table says
/// `Invalid IP` more often.
pub fn quoted_message_kb() -> (tempfile::TempDir, PathBuf) {
    kb_of(&[
        (
            "collector-errors.md",
            "# 采集错误类型\n\n| 错误类型 | 说明 |\n|---|---|\n| GEOIP_ALARM | 报错 `invalid ip...`：获取来源地址失败，请检查配置中的 SourceKey 是否指向客户端地址字段。 |\n| PARSE_ALARM | 解析失败，请检查解析规则与日志格式是否一致。 |\n| SEND_ALARM | 发送失败，请检查网络与写入配额。 |\n",
        ),
        (
            "gateway-api.md",
            "# CreateGateway\n\n| 错误码 | 错误信息 |\n|---|---|\n| InvalidIp.Malformed | The IP is invalid. Invalid IP address. |\n| InvalidIpAddress | Invalid IP: the ip address is invalid. |\n",
        ),
    ])
}

/// The repository's kb/.
pub fn kb_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kb")
}

/// Third-party data beside the repository (`../shared/data`).
pub fn shared_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

struct Shared {
    _dir: tempfile::TempDir,
    loaded: Loaded,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("index");
    index::build(&kb_dir(), &root, &BuildOptions::default(), |_| {}).expect("bundled kb builds");
    let loaded = index::open(&root, Some(&kb_dir())).expect("open");
    Shared { _dir: dir, loaded }
});

/// The bundled KB, indexed once per test run.
pub fn bundled() -> &'static Loaded {
    &SHARED.loaded
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.expect("walk");
        let rel = e.path().strip_prefix(from).expect("prefix");
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// A temp dir holding a copy of kb/ (at `kb/`) and a config pointing at it, index not built.
pub fn temp_kb() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&kb_dir(), &dir.path().join("kb"));
    let config = Config {
        kb: dir.path().join("kb"),
        index: dir.path().join("index"),
        ..Config::default()
    };
    (dir, config)
}

/// An engine over a temp copy of kb/, built.
pub fn temp_engine() -> (tempfile::TempDir, Config, Arc<Engine>) {
    let (dir, config) = temp_kb();
    let (engine, _) = Engine::open_or_build(&config).expect("engine");
    (dir, config, Arc::new(engine))
}
