//! Figure 1: one start by a fresh process, `sfn-start` against `sfn-native-start`.
//!
//! Both run alternately (the order flips every round, so neither always follows the other)
//! with the same minimal environment: the example credentials, a read-only empty HOME, no
//! XDG_CACHE_HOME, and AWS_EC2_METADATA_DISABLED. Wall time runs from spawn to reap; peak
//! RSS is the kernel's `ru_maxrss` for the child, from `wait4`.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::Server;

/// What one program did over all runs.
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
    pub ours: Samples,
    pub native: Samples,
}

/// `runs` timed runs of each binary, after one untimed run each (which also checks that
/// both work, and leaves both binaries in the page cache).
pub fn measure(server: &Server, runs: usize) -> Result<ColdCli, String> {
    let (ours_path, native_path) = binaries()?;
    let home = EmptyHome::create()?;
    let run = |path: &Path, samples: &mut Samples, name: &str| {
        let before = server.connections();
        run_once(path, server.url(), home.path(), name, samples)?;
        samples.connections += server.connections() - before;
        Ok::<_, String>(())
    };
    let (mut ours, mut native) = (Samples::default(), Samples::default());
    run(&ours_path, &mut Samples::default(), "bench-warm-up")?;
    run(&native_path, &mut Samples::default(), "bench-warm-up")?;
    for round in 0..runs {
        let name = format!("bench-{round}");
        if round % 2 == 0 {
            run(&ours_path, &mut ours, &name)?;
            run(&native_path, &mut native, &name)?;
        } else {
            run(&native_path, &mut native, &name)?;
            run(&ours_path, &mut ours, &name)?;
        }
    }
    Ok(ColdCli { ours, native })
}

/// `sfn-start` and `sfn-native-start`, next to this executable.
fn binaries() -> Result<(PathBuf, PathBuf), String> {
    let exe = std::env::current_exe().map_err(|e| format!("locating this executable: {e}"))?;
    let dir = exe.parent().ok_or("this executable has no directory")?;
    let ours = dir.join("sfn-start");
    if !ours.is_file() {
        return Err(format!(
            "{} is missing: build it first with `cargo build --release -p sfn-host`",
            ours.display()
        ));
    }
    let native = dir.join("sfn-native-start");
    if !native.is_file() {
        return Err(format!(
            "{} is missing: build it with `cargo build --release -p sfn-bench` \
             (`cargo run` builds only the binary it runs)",
            native.display()
        ));
    }
    Ok((ours, native))
}

/// Runs one start, checks that it printed an execution, and adds its time and RSS.
fn run_once(
    program: &Path,
    url: &str,
    home: &Path,
    name: &str,
    samples: &mut Samples,
) -> Result<(), String> {
    let mut command = Command::new(program);
    command
        .args(["--state-machine-arn", sfn_bench::STATE_MACHINE_ARN])
        .args(["--input", sfn_bench::SMALL_INPUT, "--name", name])
        .args(["--endpoint-url", url])
        .env_clear()
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", sfn_bench::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", sfn_bench::SECRET_ACCESS_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = program.display();
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
struct EmptyHome(PathBuf);

impl EmptyHome {
    fn create() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("sfn-bench-home-{}", std::process::id()));
        let made = std::fs::create_dir(&dir)
            .and_then(|()| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)));
        made.map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for EmptyHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}
