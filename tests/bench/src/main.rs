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
//! `sfn-start` and `sfn-native-start` from this executable's directory as they were last
//! built, and stops with a message naming the build to run if either is missing. They are
//! separate builds so that `sfn-start` keeps its own package's features (the SDK would add
//! some to crates they share).

//! It prints a markdown table with these figures:
//!
//! 1. **cli**: a cold CLI doing one start: median wall time and peak RSS of
//!    `target/release/sfn-start` against `sfn-native-start` (this crate, aws-sdk-sfn),
//!    run alternately with a read-only empty HOME. Then how much of that is the library
//!    loading the component in a fresh process, which native has no counterpart of.
//! 2. **throughput**: starts per second with 1 and with 16 calls in flight, one OS thread and
//!    current-thread tokio runtime per call, sharing one `Runtime` / one `Client`: the
//!    median of five rounds, the two sides alternating; and the connections the server
//!    accepted.
//! 3. **prepare**: a warm instantiate + `prepare` (validate and sign, nothing sent) of a
//!    small request, against `sfn_core::prepare` run natively: the median over batches
//!    (the two sides alternating) of the mean time within a batch. Then the same in the
//!    instance the last call left, as the library runs calls by default.
//! 4. **prepare**: the same with a 262,144-byte input (the service's maximum).
//! 5. **size**: the plugin component, its precompiled form, and the two CLI binaries.
//!
//! Nothing here reaches beyond 127.0.0.1: credentials are static example keys, endpoints
//! are the loopback server, and AWS_EC2_METADATA_DISABLED is set for this process and every
//! child all the same.

mod cli;
mod fixtures;
mod load;
mod prepare;
mod server;
mod size;
mod table;
mod throughput;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

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
    if args.runs == 0 {
        return Err("--runs 0: a median needs at least one run".into());
    }
    let server = Server::start().map_err(|e| format!("starting the loopback server: {e}"))?;
    eprintln!("loopback server at {}", server.url());
    let wanted = |figure| args.only.is_none_or(|only| only == figure);
    let mut rows = Vec::new();
    if wanted(Figure::Cli) {
        rows.extend(cold_cli(&server, args.runs)?);
    }
    if wanted(Figure::Throughput) {
        rows.extend(throughput(&server, seconds)?);
    }
    if wanted(Figure::Prepare) {
        rows.extend(prepare()?);
    }
    if wanted(Figure::Size) {
        rows.extend(sizes());
    }
    Ok(rows)
}

fn cold_cli(server: &Server, runs: usize) -> Result<Vec<Row>, String> {
    eprintln!("figure 1: {runs} cold runs of each CLI...");
    let cli::ColdCli { ours, native } = cli::measure(server, runs)?;
    let load = load::measure(runs)?;
    let mib = |kib: i64| kib as f64 / 1024.0;
    let per_run = |samples: &cli::Samples| samples.connections as f64 / runs.max(1) as f64;
    Ok(vec![
        Row::times(
            format!("1. cold CLI, one start: median wall time ({runs} runs)"),
            ours.median(),
            native.median(),
        ),
        Row::new(
            format!("1. of which loading the component (`Runtime::new`, {runs} fresh processes)"),
            table::time(load),
            "—".into(),
            "—".into(),
        ),
        Row::times(
            "1. cold CLI less that load",
            ours.median().saturating_sub(load),
            native.median(),
        ),
        Row::sizes(
            "1. cold CLI: peak RSS (max over runs)",
            mib(ours.max_rss_kib),
            mib(native.max_rss_kib),
            "MiB",
        ),
        Row::new(
            "1. cold CLI: connections opened per run",
            format!("{:.1}", per_run(&ours)),
            format!("{:.1}", per_run(&native)),
            "—".into(),
        ),
    ])
}

fn throughput(server: &Server, seconds: Duration) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let round = seconds / ROUNDS;
    for in_flight in IN_FLIGHT {
        eprintln!("figure 2: throughput with {in_flight} in flight...");
        // The two alternate in short rounds, so that a noisy moment on this shared machine
        // lands on both, and the median leaves it out. A fresh runtime and client per
        // round, so that each starts with an empty pool.
        let (mut ours, mut native) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let starter = Ours::new(server.url())?;
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

fn prepare() -> Result<Vec<Row>, String> {
    eprintln!("figures 3 and 4: prepare, component and native...");
    let small = prepare::small(SMALL_CALLS)?;
    let kept = prepare::small_kept(SMALL_CALLS)?;
    let large = prepare::large(LARGE_CALLS)?;
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

fn sizes() -> Vec<Row> {
    let sizes = size::measure();
    let bytes = |n: Option<u64>| n.map_or("not found".into(), |n| format!("{n} B"));
    let dash = || "—".to_string();
    let mut rows = vec![
        Row::new(
            "5. plugin component (.wasm)",
            bytes(Some(sizes.component)),
            dash(),
            dash(),
        ),
        Row::new(
            "5. precompiled plugin (.cwasm)",
            bytes(Some(sizes.precompiled)),
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
    if let (Some(ours), Some(native)) = (binary("sfn-start"), binary("sfn-native-start")) {
        let mib = |n: u64| n as f64 / (1024.0 * 1024.0);
        rows.push(Row::sizes("5. CLI binary", mib(ours), mib(native), "MiB"));
    }
    rows
}
