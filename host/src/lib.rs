//! Runs the `sfn:action` StartExecution component under wasmtime.
//!
//! Engine, compilation (or the compiled-code cache), linker and pre-instantiation are done
//! once in [`Runtime::new`]. A call runs in a store of its runtime's, with that runtime's
//! memory limit, environment and outbound policy and a deadline of its own: the store the
//! runtime's last call left, or a new one. The WIT's types are `sfn_core`'s, re-exported
//! here: nothing is converted at the boundary.
//!
//! The README's example, line for line (`readme_shows_the_crate_example` checks it):
//!
//! ```no_run
//! # async fn run() -> Result<(), sfn_host::HostError> {
//! use sfn_host::{ClientOptions, HostConfig, Runtime, StartExecutionConfig};
//!
//! let runtime = Runtime::new(HostConfig::from_process_env())?;
//! let config = StartExecutionConfig {
//!     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld".into(),
//!     input: Some(r#"{"order":42}"#.into()),
//!     ..StartExecutionConfig::default()
//! };
//! let options = ClientOptions::default(); // credentials and endpoint from the environment
//! match runtime.start(&config, &options).await? {
//!     Ok(execution) => println!("{}", execution.execution_arn),
//!     Err(failure) => eprintln!("{} (after {} attempts)", failure.error, failure.attempts),
//! }
//! // Also: validate, prepare, prepare_sync, start_sync, describe, wait.
//! # Ok(()) }
//! ```

mod bindings;
pub mod cache;
mod config;
mod engine;
mod epoch;
mod error;
mod loading;
mod outbound;
pub mod policy;
mod runtime;
pub mod shared_config;
mod store;
mod warm;

pub use config::{HostConfig, Instances, KEPT_INSTANCES, KEPT_MEMORY, POOLED_CALLS};
pub use error::{ConfigError, HostError};
pub use outbound::Timeouts;
pub use policy::Policy;
pub use runtime::Runtime;
pub use sfn_core::types::{
    BillingDetails, ClientOptions, Credentials, Error, Execution, Failure, FieldError, Outcome,
    ServiceError, SignedRequest, StartExecutionConfig,
};
pub use shared_config::{CredentialSource, Settings};

include!(concat!(env!("OUT_DIR"), "/components.rs"));

/// The only variables of the host's environment the component is given.
pub const FORWARDED_VARIABLES: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_SFN",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_MAX_ATTEMPTS",
];

#[cfg(test)]
mod tests {
    /// The README's Rust example is this crate's doc-test (the crate documentation above),
    /// which `cargo test` compiles: the two must be the same lines, the doc-test's hidden
    /// ones aside.
    #[test]
    fn readme_shows_the_crate_example() {
        let example: Vec<&str> = include_str!("lib.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//!"))
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .skip_while(|line| *line != "```no_run")
            .skip(1)
            .take_while(|line| *line != "```")
            .filter(|line| !line.starts_with("# "))
            .collect();
        let shown: Vec<&str> = include_str!("../../README.md")
            .lines()
            .skip_while(|line| *line != "```rust")
            .skip(1)
            .take_while(|line| *line != "```")
            .collect();
        assert!(example.len() > 10, "no example found: {example:?}");
        assert_eq!(
            shown, example,
            "README.md's Rust example is not the crate's doc-test"
        );
    }
}
