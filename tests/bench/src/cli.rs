//! Figure 1: one start by a fresh process: `sfn-start` against two native programs,
//! `sfn-native-start` (static credentials, no credential chain) and `sfn-sdk-start` (the
//! program an SDK user writes: aws-config's default loading, then the client).
//!
//! All three get the same minimal environment: the example credentials, AWS_REGION,
//! AWS_ENDPOINT_URL (the loopback server; the first two also get `--endpoint-url`), a
//! read-only empty HOME, AWS_EC2_METADATA_DISABLED, and as XDG_CACHE_HOME a private (0700)
//! folder where `sfn-start` keeps its compiled component. Its first run, with that cache
//! empty, compiles the component and writes it there: that run is timed on its own, each in
//! a fresh cache. Every later run loads the code the last first run wrote; they run in
//! rounds, the order rotating every round so that none always follows another. Wall time
//! runs from spawn to reap; peak RSS is the kernel's `ru_maxrss` for the child, from
//! `wait4`.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cache::{self, CacheHome};
use crate::server::Server;

/// What one program did over all its runs.
#[derive(Default)]
pub struct Samples {
    pub wall: Vec<Duration>,
    /// KiB, the largest over the runs.
    pub max_rss_kib: i64,
    /// TCP connections the server accepted during this program's runs.
    pub connections: u64,
}

impl Samples {
    pub fn median(&self) -> Duration {
        crate::table::median(self.wall.clone())
    }
}

/// Figure 1's results.
pub struct ColdCli {
    /// `sfn-start` with an empty cache, each run in a fresh one.
    pub first: Samples,
    /// `sfn-start` after its first run.
    pub ours: Samples,
    pub native: Samples,
    pub sdk: Samples,
    /// The library's load of the component from the same cache, in a fresh process: the
    /// median over as many processes as rounds.
    pub load: Duration,
    /// The size of the compiled component `sfn-start` wrote there.
    pub entry_len: u64,
}

/// The three programs of the figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ours,
    Native,
    Sdk,
}

struct Program {
    kind: Kind,
    path: PathBuf,
}

/// `first_runs` first runs of `sfn-start`, then `runs` rounds of a timed run of each program
/// and one load of the component by the library, after one untimed run of each program
/// (which also checks that each works, and leaves the binaries in the page cache).
pub fn measure(server: &Server, runs: usize, first_runs: usize) -> Result<ColdCli, String> {
    let [ours, native, sdk] = binaries()?;
    let home = EmptyHome::create()?;
    let run = |program: &Program, cache: &CacheHome, samples: &mut Samples, name: &str| {
        let before = server.connections();
        run_once(
            program,
            server.url(),
            home.path(),
            cache.path(),
            name,
            samples,
        )?;
        samples.connections += server.connections() - before;
        Ok::<_, String>(())
    };
    let warm_up = CacheHome::create()?;
    for program in [&ours, &native, &sdk] {
        run(program, &warm_up, &mut Samples::default(), "bench-warm-up")?;
    }
    drop(warm_up);

    let mut first = Samples::default();
    let mut filled = None;
    for n in 0..first_runs.max(1) {
        let cache = CacheHome::create()?;
        run(&ours, &cache, &mut first, &format!("bench-first-{n}"))?;
        filled = Some(cache);
    }
    let cache = filled.expect("at least one first run");
    let entry = cache::only_entry(&cache.components())?;
    let entry_len = entry.len;

    let (mut ours_samples, mut native_samples, mut sdk_samples) =
        (Samples::default(), Samples::default(), Samples::default());
    let mut loads = Vec::with_capacity(runs);
    for round in 0..runs {
        let name = format!("bench-{round}");
        let mut order = [&ours, &native, &sdk];
        let programs = order.len();
        order.rotate_left(round % programs);
        for program in order {
            let samples = match program.kind {
                Kind::Ours => &mut ours_samples,
                Kind::Native => &mut native_samples,
                Kind::Sdk => &mut sdk_samples,
            };
            run(program, &cache, samples, &name)?;
        }
        loads.push(crate::load::one(cache.path())?);
    }
    if cache::entries(&cache.components())? != [entry] {
        return Err(format!(
            "the cache in {} changed after sfn-start's first run: the timed runs did not \
             all load the code that run wrote",
            cache.components().display()
        ));
    }
    Ok(ColdCli {
        first,
        ours: ours_samples,
        native: native_samples,
        sdk: sdk_samples,
        load: crate::table::median(loads),
        entry_len,
    })
}

/// The size of the compiled component a first run of `sfn-start` writes (for figure 5
/// when figure 1 does not run).
pub fn entry_len(server: &Server) -> Result<u64, String> {
    let [ours, _, _] = binaries()?;
    let (home, cache) = (EmptyHome::create()?, CacheHome::create()?);
    let mut samples = Samples::default();
    let url = server.url();
    run_once(
        &ours,
        url,
        home.path(),
        cache.path(),
        "bench-size",
        &mut samples,
    )?;
    Ok(cache::only_entry(&cache.components())?.len)
}

/// `sfn-start`, `sfn-native-start` and `sfn-sdk-start`, next to this executable.
fn binaries() -> Result<[Program; 3], String> {
    let exe = std::env::current_exe().map_err(|e| format!("locating this executable: {e}"))?;
    let dir = exe.parent().ok_or("this executable has no directory")?;
    let find = |kind, name: &str, build: &str| {
        let path = dir.join(name);
        if path.is_file() {
            Ok(Program { kind, path })
        } else {
            Err(format!("{} is missing: {build}", path.display()))
        }
    };
    let bench = "build it with `cargo build --release -p sfn-bench` \
                 (`cargo run` builds only the binary it runs)";
    Ok([
        find(
            Kind::Ours,
            "sfn-start",
            "build it first with `cargo build --release -p sfn-host`",
        )?,
        find(Kind::Native, "sfn-native-start", bench)?,
        find(Kind::Sdk, "sfn-sdk-start", bench)?,
    ])
}

/// Runs one start, checks that it printed an execution (and, for `sfn-start`, no warning),
/// and adds its time and RSS.
fn run_once(
    program: &Program,
    url: &str,
    home: &Path,
    cache_home: &Path,
    name: &str,
    samples: &mut Samples,
) -> Result<(), String> {
    let mut command = Command::new(&program.path);
    command
        .args(["--state-machine-arn", sfn_bench::STATE_MACHINE_ARN])
        .args(["--input", sfn_bench::SMALL_INPUT, "--name", name]);
    if program.kind != Kind::Sdk {
        command.args(["--endpoint-url", url]);
    }
    command
        .env_clear()
        .env("HOME", home)
        .env("XDG_CACHE_HOME", cache_home)
        .env("AWS_ACCESS_KEY_ID", sfn_bench::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", sfn_bench::SECRET_ACCESS_KEY)
        .env("AWS_REGION", sfn_bench::native::REGION)
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = program.path.display();
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("running {shown}: {e}"))?;
    // Both outputs are a few hundred bytes: reading one after the other cannot block on a
    // full pipe.
    let (mut stdout, mut stderr) = (String::new(), String::new());
    if let Some(out) = child.stdout.as_mut() {
        out.read_to_string(&mut stdout)
            .map_err(|e| format!("reading {shown}'s output: {e}"))?;
    }
    if let Some(err) = child.stderr.as_mut() {
        err.read_to_string(&mut stderr)
            .map_err(|e| format!("reading {shown}'s errors: {e}"))?;
    }
    let (status, max_rss_kib) =
        reap(child.id()).map_err(|e| format!("waiting for {shown}: {e}"))?;
    let wall = started.elapsed();
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !exited_ok || !stdout.contains("\"executionArn\"") {
        return Err(format!(
            "{shown} failed (wait status {status}):\n{stdout}{stderr}"
        ));
    }
    // A warning means its cache could not be used or written: it compiled, and its times
    // are not what they claim to be.
    if program.kind == Kind::Ours && stderr.contains("warning:") {
        return Err(format!("{shown} warned:\n{stderr}"));
    }
    samples.wall.push(wall);
    samples.max_rss_kib = samples.max_rss_kib.max(max_rss_kib);
    Ok(())
}

/// Waits for `pid` with `wait4`, for its resource usage: `std::process` gives none. Returns
/// the wait status and the child's peak RSS in KiB (Linux's unit for `ru_maxrss`).
fn reap(pid: u32) -> std::io::Result<(i32, i64)> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    loop {
        let mut status = 0;
        // SAFETY: `rusage` is plain integers, for which all zeroes is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are to live, writable locals of the types wait4 expects; the
        // child is ours and not yet reaped (std's `Child` is never waited on).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage.ru_maxrss));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// A fresh empty directory for HOME, read-only so that nothing can cache into it; removed
/// when dropped.
struct EmptyHome(tempfile::TempDir);

impl EmptyHome {
    fn create() -> Result<Self, String> {
        let dir = tempfile::Builder::new().prefix("sfn-bench-home-").tempdir();
        let made = dir.and_then(|dir| {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555))?;
            Ok(dir)
        });
        made.map(Self)
            .map_err(|e| format!("creating an empty HOME: {e}"))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}
