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

use std::fmt::Debug;
use std::time::Duration;

use sfn_host::{
    ClientOptions, Error, Execution, Failure, FieldError, HostConfig, HostError, Outcome, Runtime,
    SignedRequest, StartExecutionConfig,
};
use sfn_test_kit::sigv4::Credential;
use sfn_test_kit::standin::{Recorded, Reply, StandIn};
use sfn_test_kit::{AKID, EXECUTION_ARN, SECRET, TOKEN};

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

/// A stand-in that knows the standard test credentials, session token included, and
/// answers with `reply`.
pub fn standin(reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> StandIn {
    StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        reply,
    )
}

/// The stand-in's usual answer: the execution, with a start date in milliseconds.
pub fn success(_: &Recorded) -> Reply {
    Reply::success(EXECUTION_ARN, "1.686509515191E9", "req-ok")
}

/// The embedded component, compiled once; each test reconfigures it.
pub fn runtime(config: HostConfig) -> Checked {
    static BASE: OnceLock<Runtime> = OnceLock::new();
    let base =
        BASE.get_or_init(|| Runtime::new(HostConfig::default()).expect("the component loads"));
    Checked(
        base.with_config(config)
            .expect("a valid host configuration"),
    )
}

/// A host that gives the component the kit's temporary credentials (a session token
/// among them) and allows `endpoint`.
pub fn host(endpoint: &str) -> HostConfig {
    let mut host = host_without_token(endpoint);
    host.env
        .push(("AWS_SESSION_TOKEN".to_string(), TOKEN.to_string()));
    host
}

/// The same with long-term credentials: for the shared vector, which has no token.
pub fn host_without_token(endpoint: &str) -> HostConfig {
    let mut host = HostConfig::default();
    host.env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), AKID.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), SECRET.to_string()),
    ];
    host.allowed_endpoint = Some(endpoint.to_string());
    host
}

/// The library as the tests call it: whatever a call returns, success or failure, is
/// checked for both secrets before the test sees it, and no call may hang. Everything else is the `Runtime`'s.
pub struct Checked(Runtime);

impl std::ops::Deref for Checked {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        &self.0
    }
}

type Called<T, E> = Result<Result<T, E>, HostError>;

impl Checked {
    pub fn with_config(&self, config: HostConfig) -> Result<Checked, HostError> {
        self.0.with_config(config).map(Checked)
    }

    pub async fn validate(&self, config: &StartExecutionConfig) -> Called<(), Vec<FieldError>> {
        secret_free(bounded(self.0.validate(config)).await)
    }

    /// A signed request carries the session token by design; never the secret key.
    pub async fn prepare(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Called<SignedRequest, Error> {
        without(SECRET, bounded(self.0.prepare(config, options)).await)
    }

    pub async fn prepare_sync(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Called<SignedRequest, Error> {
        without(SECRET, bounded(self.0.prepare_sync(config, options)).await)
    }

    pub async fn start(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Called<Execution, Failure> {
        secret_free(bounded(self.0.start(config, options)).await)
    }

    pub async fn start_sync(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Called<Outcome, Failure> {
        secret_free(bounded(self.0.start_sync(config, options)).await)
    }

    pub async fn describe(&self, arn: &str, options: &ClientOptions) -> Called<Outcome, Failure> {
        secret_free(bounded(self.0.describe(arn, options)).await)
    }

    pub async fn wait(
        &self,
        arn: &str,
        options: &ClientOptions,
        max_wait: Duration,
    ) -> Called<Outcome, Failure> {
        secret_free(bounded(self.0.wait(arn, options, max_wait)).await)
    }
}

/// A call that has not ended after a minute is a broken timeout: the test fails rather than
/// hanging the suite.
async fn bounded<F: std::future::Future>(call: F) -> F::Output {
    let limit = Duration::from_secs(60);
    tokio::time::timeout(limit, call)
        .await
        .unwrap_or_else(|_| panic!("the call did not end within {limit:?}"))
}

/// `value`, after checking that neither the secret key nor the session token shows in it.
pub fn secret_free<T: Debug>(value: T) -> T {
    without(TOKEN, without(SECRET, value))
}

fn without<T: Debug>(secret: &str, value: T) -> T {
    let shown = format!("{value:?}");
    assert!(!shown.contains(secret), "a secret in: {shown}");
    value
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
    match secret_free(result) {
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
