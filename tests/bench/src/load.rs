//! Figure 1's floor: how long the library takes to load the embedded component in a fresh
//! process, before any of the component's code runs: `Runtime::new`, which makes the
//! engine, deserialises the precompiled code, links WASI and checks the component's
//! imports. `sfn-start` does this once per run and `sfn-native-start` has nothing like it,
//! so a cold CLI cannot come nearer native than this.
//!
//! Each sample is a new process (this executable again, with the flag [`ONE_LOAD`]), so that
//! nothing of an earlier load is warm but the page cache, as for a cold `sfn-start`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sfn_host::{HostConfig, Instances, Runtime};

/// The hidden flag (without its dashes) that makes this executable time one load and
/// print it.
pub const ONE_LOAD: &str = "time-one-load";

/// In the child: loads the component once and prints how long it took, in nanoseconds.
pub fn time_one() -> Result<(), String> {
    // As `sfn-start` loads it: a one-shot process reserves no pool of instances.
    let host = {
        let mut c = HostConfig::default();
        c.instances = Instances::OnDemand;
        c
    };
    let started = Instant::now();
    let runtime = Runtime::new(host).map_err(|e| format!("loading the component: {e}"))?;
    let took = started.elapsed();
    if let Some(why) = runtime.compiled_at_load() {
        return Err(format!("the precompiled component was not used: {why}"));
    }
    println!("{}", took.as_nanos());
    Ok(())
}

/// The median load time over `runs` fresh processes.
pub fn measure(runs: usize) -> Result<Duration, String> {
    let exe = std::env::current_exe().map_err(|e| format!("locating this executable: {e}"))?;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let output = Command::new(&exe)
            .arg(format!("--{ONE_LOAD}"))
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
        samples.push(Duration::from_nanos(nanos));
    }
    Ok(crate::table::median(samples))
}
