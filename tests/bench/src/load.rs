//! Figure 1's floor: how long the library takes to load the embedded component in a fresh
//! process, before any of the component's code runs: `Runtime::new` as `sfn-start` calls
//! it after its first run (instances on demand, the code from its filled cache), which
//! makes the engine, loads the compiled code from the cache, links WASI and checks the
//! component's imports. `sfn-start` does this once per run and the native programs have
//! nothing like it.
//!
//! Each sample is a new process (this executable again, with the flag [`ONE_LOAD`], and
//! XDG_CACHE_HOME set to the cache `sfn-start` filled), so that nothing of an earlier load
//! is warm but the page cache, as for a cold `sfn-start`. Figure 1 takes one in each of its
//! rounds, next to the programs' runs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sfn_host::{HostConfig, Instances, Runtime};

use crate::cache;

/// The hidden flag (without its dashes) that makes this executable time one load and
/// print it.
pub const ONE_LOAD: &str = "time-one-load";

/// In the child: loads the component once and prints how long it took, in nanoseconds.
pub fn time_one() -> Result<(), String> {
    // As `sfn-start` loads it: a one-shot process reserves no pool of instances, and its
    // compiled code is kept in the cache that XDG_CACHE_HOME names.
    let dir = sfn_host::cache::default_dir().ok_or("no XDG_CACHE_HOME or HOME")?;
    let host = {
        let mut c = HostConfig::default();
        c.instances = Instances::OnDemand;
        c.cache_dir = Some(dir.clone());
        c
    };
    let before = cache::entries(&dir)?;
    if before.is_empty() {
        return Err(format!("{}: no compiled component to load", dir.display()));
    }
    let started = Instant::now();
    let runtime = Runtime::new(host).map_err(|e| format!("loading the component: {e}"))?;
    let took = started.elapsed();
    drop(runtime);
    // A load that compiled would have written its own entry: then this is not the load
    // that `sfn-start` does.
    if cache::entries(&dir)? != before {
        return Err(format!(
            "{}: the library compiled instead of loading what sfn-start wrote",
            dir.display()
        ));
    }
    println!("{}", took.as_nanos());
    Ok(())
}

/// One load in a fresh process, from the cache under `cache_home`.
pub fn one(cache_home: &Path) -> Result<Duration, String> {
    let exe = std::env::current_exe().map_err(|e| format!("locating this executable: {e}"))?;
    let output = Command::new(&exe)
        .arg(format!("--{ONE_LOAD}"))
        .env_clear()
        .env("XDG_CACHE_HOME", cache_home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", exe.display()))?;
    let printed = String::from_utf8_lossy(&output.stdout);
    let nanos: u64 = printed.trim().parse().map_err(|_| {
        let errors = String::from_utf8_lossy(&output.stderr);
        format!(
            "timing one load failed ({}): {printed}{errors}",
            output.status
        )
    })?;
    Ok(Duration::from_nanos(nanos))
}
