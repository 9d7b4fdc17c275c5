//! The `deflect` command: parses flags, sets up logging, dispatches to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use deflect::cli;

#[derive(Parser)]
#[command(
    name = "deflect",
    version,
    about = "Knowledge-base search and auto-answer for customer support"
)]
struct Cli {
    /// Config file (TOML). Default: ./deflect.toml when it exists.
    #[arg(long, global = true, env = "DEFLECT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the index from the KB and swap it in atomically.
    Reindex(cli::ReindexArgs),
    /// Search the index.
    Search(cli::SearchArgs),
    /// Lint the KB: every problem with file:line; exit 1 if any.
    Check(cli::CheckArgs),
    /// Answer a ticket: decision, fixes, reply.
    Answer(cli::AnswerArgs),
    /// Serve the HTTP API (builds the index on first start).
    Serve(cli::ServeArgs),
    /// Evaluate relevance and decisions on labelled queries.
    Eval(cli::EvalArgs),
    /// Report from the answer log and feedback: decisions, unhelpful fixes, KB gaps.
    Report(cli::ReportArgs),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    if !matches!(args.cmd, Cmd::Serve(_)) {
        quiet_on_closed_pipe();
    }
    let _log = deflect::config::init_tracing(matches!(args.cmd, Cmd::Serve(_)));
    let config = match deflect::config::Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match args.cmd {
        Cmd::Reindex(a) => cli::reindex(&config, a),
        Cmd::Search(a) => cli::search(&config, a),
        Cmd::Check(a) => cli::check(&config, a),
        Cmd::Answer(a) => cli::answer(&config, a),
        Cmd::Eval(a) => cli::eval(&config, a),
        Cmd::Report(a) => cli::report(&config, a),
        Cmd::Serve(a) => cli::serve(config, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Output piped into a reader that stops early (`deflect search … | head`) ends the command
/// quietly, as it ends any Unix tool, instead of a panic on the failed print. Not for
/// `serve`: a client closing its connection must not end the server.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
