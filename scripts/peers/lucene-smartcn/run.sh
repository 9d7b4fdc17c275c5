#!/usr/bin/env bash
# Lucene 8.8 + SmartChineseAnalyzer performance peer for deflect (see README.md).
# Usage: run.sh index CORPUS_DIR INDEX_DIR [THREADS]
#        run.sh serve INDEX_DIR PORT [THREADS]
# Installs Debian's liblucene8-java (and a JDK) when missing, compiles LucenePeer.java into
# build/ when the source is newer than the class, then execs java (so $! is the JVM's pid).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$HERE/build
JARS=/usr/share/java
case "${1:-}" in
  index|serve) [ $# -ge 3 ] || { sed -n '3,4p' "$0" >&2; exit 2; } ;;
  *) sed -n '3,4p' "$0" >&2; exit 2 ;;
esac
jar() { # first jar matching the Lucene 8 artifact name (Debian ships 8.8.1 under 8.7.0 file names)
  ls "$JARS"/$1-8*.jar 2>/dev/null | head -n1
}
if [ -z "$(jar lucene-core)" ] || [ -z "$(jar lucene-analyzers-smartcn)" ]; then
  apt-get update -qq && apt-get install -y -qq liblucene8-java >&2
fi
command -v javac >/dev/null || { apt-get update -qq && apt-get install -y -qq default-jdk-headless >&2; }
CP=$(jar lucene-core):$(jar lucene-analyzers-common):$(jar lucene-analyzers-smartcn)
if [ ! -f "$BUILD/LucenePeer.class" ] || [ "$HERE/LucenePeer.java" -nt "$BUILD/LucenePeer.class" ]; then
  mkdir -p "$BUILD"
  javac -nowarn -encoding UTF-8 -cp "$CP" -d "$BUILD" "$HERE/LucenePeer.java" >&2
fi
exec java -Xmx2g -Dsun.net.httpserver.nodelay=true -Dfile.encoding=UTF-8 -cp "$BUILD:$CP" LucenePeer "$@"
