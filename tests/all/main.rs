//! The end-to-end tests: one binary, a module per concern (the layout of wasmtime's
//! `tests/all`), all driving the real component built by `host/build.rs`.
//!
//! - `component`: the plugin through the library, without a network: interface, wiring of
//!   validation, signing against the shared vector and an independent verifier.
//! - `service`: the library against the SigV4-verifying stand-in.
//! - `connections`: the pooled client: keep-alive, the policy before any connection, timeouts.
//! - `credentials`: `sfn-start`'s credential chain: profiles, processes, container and
//!   instance metadata fakes, and the errors that name what is wrong.
//! - `faults`: retries against the stand-in's model of the service with scripted faults.
//! - `cli`: `sfn-start` and `wasmtime run` of the command component, byte for byte.
//! - `waiting`: `wait`, `describe` and `start-sync` (`--wait`, `--sync`) against the stand-in
//!   and a moto that runs state machines.
//! - `sandbox`: hostile components built here from the WIT (one that spins, grows its
//!   memory, traps, or sends to a refused host in a loop), through the library and
//!   `sfn-start`: stopped, named on one line, never kept.
//! - `moto`, `oracle`: against moto and botocore, set up by `tests/run` (skipped, and said
//!   so, when they are not).
//! - `compose`: the example webhook plugged with the plugin by `wac plug`, under
//!   `wasmtime serve`, against moto.

mod cli;
mod component;
mod compose;
mod connections;
mod credentials;
mod faults;
mod moto;
mod oracle;
mod sandbox;
mod service;
mod waiting;

use std::sync::OnceLock;

use sfn_host::{
    ClientOptions, Error, Execution, Failure, HostConfig, Runtime, StartExecutionConfig,
};
use sfn_test_kit::sigv4::Credential;
use sfn_test_kit::standin::{Recorded, Reply, StandIn};
use sfn_test_kit::{AKID, EXECUTION_ARN, SECRET};

/// `sfn-start` with an empty environment but for a `HOME` with no AWS files and
/// `AWS_EC2_METADATA_DISABLED`: its credential chain must never reach for the instance
/// metadata service, nor read the files of whoever runs the tests. The home's cache holds
/// the compiled component from the first run on, which every test shares.
pub fn sfn_start_command() -> std::process::Command {
    static EMPTY_HOME: OnceLock<std::path::PathBuf> = OnceLock::new();
    let home = EMPTY_HOME.get_or_init(|| {
        let home =
            std::env::temp_dir().join(format!("sfn-start-empty-home-{}", std::process::id()));
        std::fs::create_dir_all(&home).expect("an empty home");
        // Compiled once here, rather than by every test that starts at the same moment.
        let warm = in_home(&home)
            .args(["--validate-only", "--state-machine-arn", "x"])
            .output()
            .expect("sfn-start runs");
        assert_eq!(warm.status.code(), Some(2), "{warm:?}");
        home
    });
    in_home(home)
}

/// Also with the home's cache named outright, so that a test that sets another `HOME`
/// still shares it.
fn in_home(home: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sfn-start"));
    command
        .env_clear()
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// A stand-in that knows the standard test credentials and answers with `reply`.
pub fn standin(reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> StandIn {
    StandIn::start(vec![Credential::new(AKID, SECRET)], reply)
}

/// The stand-in's usual answer: the execution, with a start date in milliseconds.
pub fn success(_: &Recorded) -> Reply {
    Reply::success(EXECUTION_ARN, "1.686509515191E9", "req-ok")
}

/// The embedded component, compiled once; each test reconfigures it.
pub fn runtime(config: HostConfig) -> Runtime {
    static BASE: OnceLock<Runtime> = OnceLock::new();
    BASE.get_or_init(|| Runtime::new(HostConfig::default()).expect("the component loads"))
        .with_config(config)
        .expect("a valid host configuration")
}

/// A host that gives the component these credentials and allows `endpoint`.
pub fn host(endpoint: &str, token: Option<&str>) -> HostConfig {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), AKID.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), SECRET.to_string()),
    ];
    if let Some(token) = token {
        env.push(("AWS_SESSION_TOKEN".to_string(), token.to_string()));
    }
    let mut host = HostConfig::default();
    host.env = env;
    host.allowed_endpoint = Some(endpoint.to_string());
    host
}

pub fn config(arn: &str) -> StartExecutionConfig {
    StartExecutionConfig {
        state_machine_arn: arn.to_string(),
        ..StartExecutionConfig::default()
    }
}

pub fn options(endpoint: Option<&str>) -> ClientOptions {
    ClientOptions {
        endpoint_url: endpoint.map(str::to_string),
        ..ClientOptions::default()
    }
}

/// The options with retries off: for tests of what one answer becomes.
pub fn once(options: ClientOptions) -> ClientOptions {
    ClientOptions {
        max_attempts: Some(1),
        ..options
    }
}

/// The error of a call that failed after exactly `attempts` attempts.
pub fn attempted(result: Result<Execution, Failure>, attempts: u32) -> Result<Execution, Error> {
    // Whatever came back, neither secret is in it.
    let shown = format!("{result:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains(sfn_test_kit::TOKEN),
        "{shown}"
    );
    match result {
        Ok(execution) => {
            assert_eq!(execution.attempts, attempts, "{execution:?}");
            Ok(execution)
        }
        Err(failure) => {
            assert_eq!(failure.attempts, attempts, "{failure:?}");
            Err(failure.error)
        }
    }
}
