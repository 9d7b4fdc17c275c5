// Performance peer for deflect: Apache Lucene 8.8 + SmartChineseAnalyzer behind a tiny HTTP
// server that speaks the same request shape as deflect (GET /v1/search, POST /v1/answer,
// GET /readyz), so scripts/load.sh can run identical wrk query mixes against both.
//
//   java LucenePeer index <corpus_dir> <index_dir> [threads]
//   java LucenePeer serve <index_dir> <port> [threads]
//
// Only the JDK and Debian's liblucene8-java jars (core, analyzers-common, analyzers-smartcn).

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cn.smart.SmartChineseAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;

public final class LucenePeer {
    /** 2 clauses (title, body) per distinct term; BooleanQuery's default limit is 1024. */
    static final int MAX_CLAUSES = 1024;
    static final int MAX_TERMS = MAX_CLAUSES / 2;
    static final int DEFAULT_LIMIT = 10;
    static final int MAX_LIMIT = 100;
    static final int ANSWER_HITS = 3;
    static final Set<String> STORED = Set.of("id", "title");

    public static void main(String[] args) throws Exception {
        // Must be set before the HTTP server classes load: without TCP_NODELAY, the separate
        // header and body writes of a keep-alive response can stall on delayed ACKs (~40 ms).
        System.setProperty("sun.net.httpserver.nodelay", "true");
        int cores = Runtime.getRuntime().availableProcessors();
        if (args.length >= 3 && args[0].equals("index")) {
            int threads = args.length >= 4 ? Integer.parseInt(args[3]) : cores;
            index(Paths.get(args[1]), Paths.get(args[2]), threads);
        } else if (args.length >= 3 && args[0].equals("serve")) {
            int threads = args.length >= 4 ? Integer.parseInt(args[3]) : cores * 2;
            serve(Paths.get(args[1]), Integer.parseInt(args[2]), threads);
        } else {
            System.err.println("usage: LucenePeer index <corpus_dir> <index_dir> [threads]\n"
                    + "       LucenePeer serve <index_dir> <port> [threads]");
            System.exit(2);
        }
    }

    // ---------------------------------------------------------------- indexing

    static void index(Path corpus, Path indexDir, int threads) throws Exception {
        long t0 = System.nanoTime();
        Path root = corpus.toAbsolutePath().normalize();
        List<Path> files = listArticles(root);
        Analyzer analyzer = new SmartChineseAnalyzer();
        IndexWriterConfig cfg = new IndexWriterConfig(analyzer)
                .setOpenMode(IndexWriterConfig.OpenMode.CREATE)
                .setRAMBufferSizeMB(256);
        AtomicInteger indexed = new AtomicInteger();
        try (Directory dir = FSDirectory.open(indexDir); IndexWriter writer = new IndexWriter(dir, cfg)) {
            ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
            List<Future<?>> jobs = new ArrayList<>();
            for (Path f : files) {
                jobs.add(pool.submit(() -> {
                    try {
                        String text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
                        String rel = root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
                        String id = rel.endsWith(".md") ? rel.substring(0, rel.length() - 3) : rel;
                        String[] tb = parseArticle(text, f.getFileName().toString());
                        Document doc = new Document();
                        doc.add(new StringField("id", id, Field.Store.YES));
                        doc.add(new TextField("title", tb[0], Field.Store.YES));
                        doc.add(new TextField("body", tb[1], Field.Store.NO));
                        writer.addDocument(doc);
                        indexed.incrementAndGet();
                    } catch (IOException e) {
                        System.err.println("skipped " + f + ": " + e);
                    }
                    return null;
                }));
            }
            pool.shutdown();
            for (Future<?> j : jobs) j.get();
            pool.awaitTermination(1, TimeUnit.MINUTES);
            // A static corpus: merge to one segment, as one would before serving it.
            writer.forceMerge(1);
            writer.commit();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long bytes;
        try (Stream<Path> s = Files.walk(indexDir)) {
            bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        System.out.printf("PEER_INDEX files=%d seconds=%.2f bytes=%d%n", indexed.get(), secs, bytes);
        System.out.flush();
    }

    /** Every *.md under root, skipping hidden and '_'-prefixed directories and README.md files. */
    static List<Path> listArticles(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(root, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                new SimpleFileVisitor<Path>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                        if (d.equals(root)) return FileVisitResult.CONTINUE;
                        String n = d.getFileName().toString();
                        return n.startsWith(".") || n.startsWith("_") ? FileVisitResult.SKIP_SUBTREE
                                : FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                        String n = f.getFileName().toString();
                        if (a.isRegularFile() && n.endsWith(".md") && !n.equalsIgnoreCase("readme.md")) out.add(f);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path f, IOException e) {
                        System.err.println((e instanceof FileSystemLoopException ? "symlink loop, not followed: "
                                : "cannot read: ") + f);
                        return FileVisitResult.CONTINUE;
                    }
                });
        Collections.sort(out);
        return out;
    }

    /** Returns {title, body}: front matter stripped, title from `title:`, else first heading, else file name. */
    static String[] parseArticle(String text, String fileName) {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        String title = null;
        String body = text;
        int firstNl = text.indexOf('\n');
        if (firstNl > 0 && text.substring(0, firstNl).strip().equals("---")) {
            int pos = firstNl + 1;
            while (pos <= text.length()) {
                int nl = text.indexOf('\n', pos);
                int end = nl < 0 ? text.length() : nl;
                String line = text.substring(pos, end).strip();
                if (line.equals("---") || line.equals("...")) {
                    title = frontMatterTitle(text.substring(firstNl + 1, pos));
                    body = nl < 0 ? "" : text.substring(nl + 1);
                    break;
                }
                if (nl < 0) break; // unterminated: not front matter, keep the whole text
                pos = nl + 1;
            }
        }
        if (title == null) title = firstHeading(body);
        if (title == null) title = fileName.endsWith(".md") ? fileName.substring(0, fileName.length() - 3) : fileName;
        return new String[] {title, body};
    }

    static String frontMatterTitle(String fm) {
        for (String line : fm.split("\n")) {
            if (!line.startsWith("title")) continue;
            String rest = line.substring(5).stripLeading();
            if (!rest.startsWith(":")) continue;
            String v = rest.substring(1).strip();
            if (v.length() >= 2 && (v.charAt(0) == '"' || v.charAt(0) == '\'') && v.charAt(v.length() - 1) == v.charAt(0)) {
                v = v.substring(1, v.length() - 1).strip();
            }
            return v.isEmpty() ? null : v;
        }
        return null;
    }

    /** First ATX heading outside fenced code blocks. */
    static String firstHeading(String body) {
        boolean fence = false;
        for (String raw : body.split("\n")) {
            String line = raw.stripTrailing();
            String lead = line.stripLeading();
            if (line.length() - lead.length() > 3) continue;
            if (lead.startsWith("```") || lead.startsWith("~~~")) {
                fence = !fence;
                continue;
            }
            if (fence || !lead.startsWith("#")) continue;
            int h = 0;
            while (h < lead.length() && lead.charAt(h) == '#') h++;
            if (h > 6 || (h < lead.length() && lead.charAt(h) != ' ' && lead.charAt(h) != '\t')) continue;
            String t = lead.substring(h).strip();
            t = t.replaceAll("\\s+#+$", "").replaceAll("\\s*\\{#[^}]*\\}$", "").strip();
            if (!t.isEmpty() && !t.chars().allMatch(c -> c == '#')) return t;
        }
        return null;
    }

    // ---------------------------------------------------------------- serving

    static Analyzer analyzer;
    static IndexSearcher searcher;

    static void serve(Path indexDir, int port, int threads) throws Exception {
        Directory dir = FSDirectory.open(indexDir);
        DirectoryReader reader = DirectoryReader.open(dir);
        searcher = new IndexSearcher(reader); // BM25Similarity is the default
        analyzer = new SmartChineseAnalyzer();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
        server.setExecutor(Executors.newFixedThreadPool(Math.max(1, threads)));
        server.createContext("/", LucenePeer::handle);
        server.start();
        System.out.println("PEER_READY port=" + port + " docs=" + reader.numDocs() + " threads=" + threads);
        System.out.flush();
    }

    static void handle(HttpExchange ex) {
        int status;
        String body;
        String type = "application/json; charset=utf-8";
        try {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            byte[] req;
            try (InputStream in = ex.getRequestBody()) {
                req = in.readAllBytes();
            }
            if (path.equals("/readyz")) {
                status = 200;
                body = "ok";
                type = "text/plain; charset=utf-8";
            } else if (path.equals("/v1/search")) {
                if (!method.equals("GET")) {
                    status = 405;
                    body = error("use GET");
                } else {
                    Map<String, String> params = queryParams(ex.getRequestURI().getRawQuery());
                    String q = params.get("q");
                    Integer limit = parseLimit(params.get("limit"));
                    if (q == null || q.isBlank()) {
                        status = 400;
                        body = error("missing q");
                    } else if (limit == null) {
                        status = 400;
                        body = error("limit must be an integer");
                    } else {
                        status = 200;
                        body = search(q, limit, true);
                    }
                }
            } else if (path.equals("/v1/answer")) {
                if (!method.equals("POST")) {
                    status = 405;
                    body = error("use POST");
                } else {
                    String text = ticketText(new String(req, StandardCharsets.UTF_8));
                    if (text == null || text.isBlank()) {
                        status = 400;
                        body = error("expected {\"ticket\":{\"body\":\"...\"}}");
                    } else {
                        status = 200;
                        body = search(text, ANSWER_HITS, false);
                    }
                }
            } else {
                status = 404;
                body = error("not found");
            }
        } catch (Throwable t) {
            status = 500;
            body = error(String.valueOf(t));
        }
        try {
            byte[] out = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("content-type", type);
            ex.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(out);
            }
        } catch (IOException e) {
            // client went away
        } finally {
            ex.close();
        }
    }

    static Integer parseLimit(String s) {
        if (s == null || s.isEmpty()) return DEFAULT_LIMIT;
        try {
            return Math.max(1, Math.min(MAX_LIMIT, Integer.parseInt(s.trim())));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static Map<String, String> queryParams(String raw) {
        Map<String, String> m = new LinkedHashMap<>();
        if (raw == null) return m;
        for (String kv : raw.split("&")) {
            if (kv.isEmpty()) continue;
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            String v = eq < 0 ? "" : kv.substring(eq + 1);
            try {
                m.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                // malformed escape: ignore the parameter
            }
        }
        return m;
    }

    /** title^2 + body: one SHOULD TermQuery per distinct analyzed term and field. */
    static Query buildQuery(String text) throws IOException {
        LinkedHashSet<String> terms = new LinkedHashSet<>();
        try (TokenStream ts = analyzer.tokenStream("body", text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) {
                if (terms.size() < MAX_TERMS && term.length() > 0) terms.add(term.toString());
            }
            ts.end();
        }
        if (terms.isEmpty()) return null;
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        for (String t : terms) {
            b.add(new BoostQuery(new TermQuery(new Term("title", t)), 2.0f), BooleanClause.Occur.SHOULD);
            b.add(new TermQuery(new Term("body", t)), BooleanClause.Occur.SHOULD);
        }
        return b.build();
    }

    static String search(String text, int limit, boolean withTotal) throws IOException {
        Query q = buildQuery(text);
        StringBuilder sb = new StringBuilder(256 + 128 * limit).append('{');
        if (q == null) {
            if (withTotal) sb.append("\"total\":0,");
            return sb.append("\"hits\":[]}").toString();
        }
        TopDocs td = searcher.search(q, limit);
        if (withTotal) {
            // Lucene counts exactly up to 1,000 hits, then reports a lower bound (total_exact=false).
            sb.append("\"total\":").append(td.totalHits.value)
              .append(",\"total_exact\":").append(td.totalHits.relation == TotalHits.Relation.EQUAL_TO).append(',');
        }
        sb.append("\"hits\":[");
        for (int i = 0; i < td.scoreDocs.length; i++) {
            ScoreDoc sd = td.scoreDocs[i];
            Document d = searcher.doc(sd.doc, STORED);
            if (i > 0) sb.append(',');
            sb.append("{\"id\":");
            jsonString(sb, d.get("id"));
            sb.append(",\"title\":");
            jsonString(sb, d.get("title"));
            sb.append(",\"score\":").append(sd.score).append('}');
        }
        return sb.append("]}").toString();
    }

    static String error(String msg) {
        StringBuilder sb = new StringBuilder("{\"error\":");
        jsonString(sb, msg);
        return sb.append('}').toString();
    }

    static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        if (s != null) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': sb.append("\\\""); break;
                    case '\\': sb.append("\\\\"); break;
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029') sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    // ---------------------------------------------------------------- minimal JSON reading

    /** ticket.subject (if any) + ticket.body from an answer request, or null when malformed. */
    @SuppressWarnings("unchecked")
    static String ticketText(String json) {
        Object root;
        try {
            root = new JsonReader(json).readDocument();
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!(root instanceof Map)) return null;
        Object ticket = ((Map<String, Object>) root).get("ticket");
        if (!(ticket instanceof Map)) return null;
        Object body = ((Map<String, Object>) ticket).get("body");
        if (!(body instanceof String)) return null;
        Object subject = ((Map<String, Object>) ticket).get("subject");
        return subject instanceof String && !((String) subject).isEmpty() ? subject + "\n" + body : (String) body;
    }

    /** Objects → Map, arrays → List, strings → String, numbers → Double, true/false/null. */
    static final class JsonReader {
        final String s;
        int i;

        JsonReader(String s) {
            this.s = s;
        }

        Object readDocument() {
            Object v = value();
            ws();
            if (i != s.length()) throw new IllegalArgumentException("trailing data at " + i);
            return v;
        }

        void ws() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\n' || s.charAt(i) == '\r')) i++;
        }

        char peek() {
            if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
            return s.charAt(i);
        }

        void expect(char c) {
            if (peek() != c) throw new IllegalArgumentException("expected '" + c + "' at " + i);
            i++;
        }

        Object value() {
            ws();
            char c = peek();
            switch (c) {
                case '{': {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (peek() == '}') { i++; return m; }
                    while (true) {
                        ws();
                        String k = string();
                        ws();
                        expect(':');
                        m.put(k, value());
                        ws();
                        if (peek() == ',') { i++; continue; }
                        expect('}');
                        return m;
                    }
                }
                case '[': {
                    i++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (peek() == ']') { i++; return l; }
                    while (true) {
                        l.add(value());
                        ws();
                        if (peek() == ',') { i++; continue; }
                        expect(']');
                        return l;
                    }
                }
                case '"':
                    return string();
                case 't': literal("true"); return Boolean.TRUE;
                case 'f': literal("false"); return Boolean.FALSE;
                case 'n': literal("null"); return null;
                default: {
                    int st = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
                    if (st == i) throw new IllegalArgumentException("unexpected '" + c + "' at " + i);
                    try {
                        return Double.parseDouble(s.substring(st, i));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("bad number at " + st);
                    }
                }
            }
        }

        void literal(String w) {
            if (!s.startsWith(w, i)) throw new IllegalArgumentException("bad literal at " + i);
            i += w.length();
        }

        String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = peek();
                i++;
                if (c == '"') return sb.toString();
                if (c != '\\') { sb.append(c); continue; }
                char e = peek();
                i++;
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) throw new IllegalArgumentException("bad \\u escape");
                        try {
                            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException x) {
                            throw new IllegalArgumentException("bad \\u escape at " + i);
                        }
                        i += 4;
                        break;
                    default:
                        throw new IllegalArgumentException("bad escape at " + i);
                }
            }
        }
    }
}
