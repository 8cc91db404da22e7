//! `sfn-bench`: the component (through `sfn-start` and the `sfn-host` library) against a
//! native `aws-sdk-sfn` client, in one run, against one loopback HTTP/1.1 keep-alive server
//! that this program starts on 127.0.0.1 and that counts the connections it accepts.
//!
//! ```sh
//! cargo build --release -p sfn-host    # target/release/sfn-start, figure 1's subject
//! cargo build --release -p sfn-bench   # also target/release/sfn-native-start, its baseline
//! cargo run --release -p sfn-bench     # [--runs 21] [--seconds 3] [--only FIGURE]
//! ```
//!
//! The builds come first because `cargo run` builds only the binary it runs: figure 1 runs
//! `sfn-start`, `sfn-native-start` and `sfn-sdk-start` from this executable's directory as
//! they were last built, and stops with a message naming the build to run if one is
//! missing. They are separate builds so that `sfn-start` keeps its own package's features
//! (the SDK would add some to crates they share).

//! It prints a markdown table with these figures:
//!
//! 1. **cli**: a cold CLI doing one start. First `sfn-start`'s first run, which compiles
//!    the component and writes it to its cache (a private, empty XDG_CACHE_HOME, fresh for
//!    each such run): wall time and peak RSS. Then, with that cache filled, median wall
//!    time and peak RSS of `target/release/sfn-start` against two native programs of this
//!    crate: `sfn-native-start` (aws-sdk-sfn with static credentials, no credential chain)
//!    and `sfn-sdk-start` (what an SDK user writes: aws-config's default loading, then the
//!    client), all run in rotating order with a read-only empty HOME. Then how much of that
//!    is the library loading the component from the same cache in a fresh process, which
//!    native has no counterpart of.
//! 2. **throughput**: starts per second with 1 and with 16 calls in flight, one OS thread and
//!    current-thread tokio runtime per call, sharing one `Runtime` / one `Client`: the
//!    median of five rounds, the two sides alternating; and the connections the server
//!    accepted.
//! 3. **prepare**: a warm instantiate + `prepare` (validate and sign, nothing sent) of a
//!    small request, against `sfn_core::prepare` run natively: the median over batches
//!    (the two sides alternating) of the mean time within a batch. Then the same in the
//!    instance the last call left, as the library runs calls by default.
//! 4. **prepare**: the same with a 262,144-byte input (the service's maximum).
//! 5. **size**: the plugin component, the compiled form `sfn-start` keeps in its cache, and
//!    the CLI binaries.
//!
//! The library figures (2 to 4) compile the component once, into a private cache of their
//! own, before anything is timed; every runtime after that loads it from there.
//!
//! Nothing here reaches beyond 127.0.0.1: credentials are static example keys, endpoints
//! are the loopback server, and AWS_EC2_METADATA_DISABLED is set for this process and every
//! child all the same.

mod cache;
mod cli;
mod fixtures;
mod load;
mod prepare;
mod server;
mod size;
mod table;
mod throughput;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use cache::CacheHome;
use server::Server;
use table::Row;
use throughput::{Native, Ours, Throughput};

/// Measure sfn-start and the sfn-host library against aws-sdk-sfn on a loopback server.
#[derive(Parser, Debug)]
#[command(name = "sfn-bench")]
struct Args {
    /// Timed runs of each CLI (figure 1).
    #[arg(long, default_value_t = 21)]
    runs: usize,
    /// Runs of `sfn-start` with an empty cache, each in a fresh one (figure 1).
    #[arg(long, default_value_t = 3)]
    first_runs: usize,
    /// Measured seconds of each side's throughput (figure 2), split into alternating rounds
    /// that each follow a short warm-up.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Measure one figure only.
    #[arg(long, value_enum)]
    only: Option<Figure>,
    /// Time one load of the component and print it (how figure 1 runs this executable).
    #[arg(long = load::ONE_LOAD, hide = true)]
    time_one_load: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Figure {
    Cli,
    Throughput,
    Prepare,
    Size,
}

/// Calls in flight in the throughput figure.
const IN_FLIGHT: [usize; 2] = [1, 16];
/// Alternating rounds of each side in the throughput figure; `--seconds` is split among them.
const ROUNDS: u32 = 5;
/// Measured calls of the prepare figures: small request, then the maximal input.
const SMALL_CALLS: u32 = 2000;
const LARGE_CALLS: u32 = 40;

fn main() -> ExitCode {
    // SAFETY: no other thread exists yet to read the environment concurrently.
    unsafe { std::env::set_var("AWS_EC2_METADATA_DISABLED", "true") };
    let args = Args::parse();
    let done = if args.time_one_load {
        load::time_one()
    } else {
        run(&args).map(|rows| table::print(&rows))
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<Vec<Row>, String> {
    let seconds = Duration::try_from_secs_f64(args.seconds)
        .ok()
        .filter(|s| !s.is_zero())
        .ok_or(format!("--seconds {}: not a positive time", args.seconds))?;
    if args.runs == 0 || args.first_runs == 0 {
        return Err("--runs and --first-runs: a median needs at least one run".into());
    }
    let server = Server::start().map_err(|e| format!("starting the loopback server: {e}"))?;
    eprintln!("loopback server at {}", server.url());
    let wanted = |figure| args.only.is_none_or(|only| only == figure);
    let mut rows = Vec::new();
    let mut entry_len = None;
    if wanted(Figure::Cli) {
        let (cli_rows, len) = cold_cli(&server, args.runs, args.first_runs)?;
        rows.extend(cli_rows);
        entry_len = Some(len);
    }
    if wanted(Figure::Throughput) || wanted(Figure::Prepare) {
        let library = CacheHome::create()?;
        if wanted(Figure::Throughput) {
            rows.extend(throughput(&server, seconds, library.path())?);
        }
        if wanted(Figure::Prepare) {
            rows.extend(prepare(library.path())?);
        }
    }
    if wanted(Figure::Size) {
        let entry_len = match entry_len {
            Some(len) => len,
            None => cli::entry_len(&server)?,
        };
        rows.extend(sizes(entry_len));
    }
    Ok(rows)
}

/// Figure 1's rows, and the size of the compiled component `sfn-start` cached.
fn cold_cli(server: &Server, runs: usize, first_runs: usize) -> Result<(Vec<Row>, u64), String> {
    eprintln!(
        "figure 1: {first_runs} first runs of sfn-start, then {runs} cold runs of each CLI..."
    );
    let cold = cli::measure(server, runs, first_runs)?;
    let mib = |kib: i64| kib as f64 / 1024.0;
    let per_run =
        |samples: &cli::Samples| format!("{:.1}", samples.connections as f64 / runs.max(1) as f64);
    let dash = || "—".to_string();
    let (ours, native, sdk) = (&cold.ours, &cold.native, &cold.sdk);
    let lean = "sfn-native-start: static credentials";
    let user = "sfn-sdk-start: aws-config defaults";
    let rows = vec![
        Row::new(
            format!(
                "1. first run, empty cache (compiles, writes the cache): median wall time ({first_runs} runs)"
            ),
            table::time(cold.first.median()),
            dash(),
            dash(),
        ),
        Row::new(
            "1. first run: peak RSS (max over runs)",
            format!("{:.1} MiB", mib(cold.first.max_rss_kib)),
            dash(),
            dash(),
        ),
        Row::times(
            format!(
                "1. cold CLI after its first run, one start: median wall time ({runs} runs), vs {lean}"
            ),
            ours.median(),
            native.median(),
        ),
        Row::times(
            format!("1. the same, vs {user}"),
            ours.median(),
            sdk.median(),
        ),
        Row::new(
            format!(
                "1. of which loading the component (`Runtime::new` from the filled cache, {runs} fresh processes)"
            ),
            table::time(cold.load),
            dash(),
            dash(),
        ),
        Row::times(
            format!("1. cold CLI less that load, vs {lean}"),
            ours.median().saturating_sub(cold.load),
            native.median(),
        ),
        Row::times(
            format!("1. cold CLI less that load, vs {user}"),
            ours.median().saturating_sub(cold.load),
            sdk.median(),
        ),
        Row::sizes(
            format!("1. cold CLI: peak RSS (max over runs), vs {lean}"),
            mib(ours.max_rss_kib),
            mib(native.max_rss_kib),
            "MiB",
        ),
        Row::sizes(
            format!("1. cold CLI: peak RSS (max over runs), vs {user}"),
            mib(ours.max_rss_kib),
            mib(sdk.max_rss_kib),
            "MiB",
        ),
        Row::new(
            "1. cold CLI: connections opened per run (native: static credentials / aws-config defaults)",
            per_run(ours),
            format!("{} / {}", per_run(native), per_run(sdk)),
            dash(),
        ),
    ];
    Ok((rows, cold.entry_len))
}

fn throughput(server: &Server, seconds: Duration, cache_dir: &Path) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let round = seconds / ROUNDS;
    for in_flight in IN_FLIGHT {
        eprintln!("figure 2: throughput with {in_flight} in flight...");
        // The two alternate in short rounds, so that a noisy moment on this shared machine
        // lands on both, and the median leaves it out. A fresh runtime and client per
        // round, so that each starts with an empty pool.
        let (mut ours, mut native) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let starter = Ours::new(server.url(), cache_dir)?;
            ours.push(throughput::measure(&starter, server, in_flight, round)?);
            let starter = Native::new(server.url());
            native.push(throughput::measure(&starter, server, in_flight, round)?);
        }
        let (ours, native) = (Throughput::median(ours), Throughput::median(native));
        let secs = round.as_secs_f64();
        rows.push(Row::rates(
            format!(
                "2. throughput, {in_flight} in flight (starts/s, median of {ROUNDS} rounds of {secs} s)"
            ),
            ours.per_second,
            native.per_second,
        ));
        let opened = |t: &Throughput| format!("{} + {}", t.warm_up_connections, t.connections);
        rows.push(Row::new(
            format!(
                "2. connections opened, {in_flight} in flight (warm-ups + measured, all rounds)"
            ),
            opened(&ours),
            opened(&native),
            "—".into(),
        ));
    }
    Ok(rows)
}

fn prepare(cache_dir: &Path) -> Result<Vec<Row>, String> {
    eprintln!("figures 3 and 4: prepare, component and native...");
    let small = prepare::small(SMALL_CALLS, cache_dir)?;
    let kept = prepare::small_kept(SMALL_CALLS, cache_dir)?;
    let large = prepare::large(LARGE_CALLS, cache_dir)?;
    let batches = |figure: &prepare::Prepare| {
        let batch = figure.calls / prepare::BATCHES;
        format!("median of {} batches of {batch}", prepare::BATCHES)
    };
    Ok(vec![
        Row::times(
            format!(
                "3. warm instantiate + prepare, small request ({})",
                batches(&small)
            ),
            small.component,
            small.native,
        ),
        Row::times(
            format!(
                "3. prepare in the instance the last call left ({})",
                batches(&kept)
            ),
            kept.component,
            kept.native,
        ),
        Row::times(
            format!("4. prepare, 262,144-byte input ({})", batches(&large)),
            large.component,
            large.native,
        ),
    ])
}

fn sizes(entry_len: u64) -> Vec<Row> {
    let bytes = |n: u64| format!("{n} B");
    let dash = || "—".to_string();
    let mut rows = vec![
        Row::new(
            "5. plugin component (.wasm)",
            bytes(size::component()),
            dash(),
            dash(),
        ),
        Row::new(
            "5. compiled plugin in sfn-start's cache (.cwasm)",
            bytes(entry_len),
            dash(),
            dash(),
        ),
    ];
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.to_path_buf()));
    let binary = |name: &str| {
        exe_dir
            .as_ref()
            .and_then(|dir| size::file_size(&dir.join(name)))
    };
    let mib = |n: u64| n as f64 / (1024.0 * 1024.0);
    let ours = binary("sfn-start");
    for (native, against) in [
        ("sfn-native-start", "static credentials"),
        ("sfn-sdk-start", "aws-config defaults"),
    ] {
        if let (Some(ours), Some(size)) = (ours, binary(native)) {
            let figure = format!("5. CLI binary, vs {native} ({against})");
            rows.push(Row::sizes(figure, mib(ours), mib(size), "MiB"));
        }
    }
    rows
}
