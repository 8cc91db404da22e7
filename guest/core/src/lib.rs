//! Start AWS Step Functions executions: the pure core of the component.
//!
//! Everything here compiles and tests natively: validation, ARN parsing, endpoint
//! resolution, the request body, signing, response parsing, and the retries that never start
//! an execution twice. The facade is small: the WIT's types ([`types`]), [`validate`],
//! [`prepare`] and [`start`], the retry policy ([`retry`]), the endpoint rules the host's
//! outbound policy shares ([`endpoint`]), and what a call needs from outside ([`Io`]: clocks,
//! randomness, one send). On `wasm` targets, `transport` is that `Io` on WASI, with the
//! environment, which the plugin (`guest/plugin`) and the command (`guest/command`) pass to
//! [`prepare`] and [`start`].

mod arn;
pub mod calendar;
mod client;
mod credentials;
pub mod endpoint;
mod error;
mod idempotency;
mod input;
pub mod io;
mod name;
mod partition;
pub mod retry;
mod scrub;
mod sign;
mod start;
pub mod types;
mod validate;
mod wait;
mod wire;

#[cfg(target_family = "wasm")]
pub mod transport;

use std::time::SystemTime;

pub use input::MAX_BYTES as MAX_INPUT_BYTES;
pub use io::{Io, SendError};
pub use start::{start, start_sync};
pub use types::{
    BillingDetails, ClientOptions, Credentials, Error, Execution, Failure, FieldError, Outcome,
    ServiceError, SignedRequest, StartExecutionConfig,
};
pub use wait::{describe, wait};
pub use wire::{Response, SYNC_ANSWER_WITHIN, first_byte_timeout};

/// The region of a valid state machine or execution ARN: the only region a call about it
/// sends requests to.
pub fn region_of_arn(arn: &str) -> Option<&str> {
    match arn::parse(arn) {
        Ok(machine) => Some(machine.region),
        Err(_) => arn::parse_execution(arn)
            .ok()
            .map(|execution| execution.region),
    }
}

/// Checks every argument without any I/O; on failure lists every broken rule, in argument
/// order.
pub fn validate(config: &StartExecutionConfig) -> Result<(), Vec<FieldError>> {
    validate::validate(config).map(|_| ())
}

/// Validates, resolves endpoint and credentials, and signs at `now` exactly what it is
/// given: no name is generated, so the signature is reproducible. Nothing is sent.
pub fn prepare(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<SignedRequest, Error> {
    start::resolve(config, options, env, None, start::Mode::Start)?.sign(now)
}

/// As [`prepare`], for StartSyncExecution: the request [`start_sync`] would send first.
pub fn prepare_sync(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<SignedRequest, Error> {
    start::resolve(config, options, env, None, start::Mode::Sync)?.sign(now)
}

#[cfg(test)]
mod properties;
