//! Start AWS Step Functions executions: the pure core of the component.
//!
//! Everything here compiles and tests natively: validation, ARN parsing, endpoint
//! resolution, the request body, signing and response parsing. The WASI glue lives in
//! `component` and only calls [`prepare`] and [`start`] with the environment, the clock and
//! a transport.

pub mod arn;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod input;
pub mod name;
pub mod partition;
pub mod sign;
pub mod validate;
pub mod wire;

#[cfg(target_family = "wasm")]
mod component;

use std::time::SystemTime;

pub use credentials::Credentials;
pub use error::{Error, FieldError, ServiceError};
pub use sign::SignedRequest;
pub use validate::{Config, validate};
pub use wire::{Execution, Response};

/// How to reach and authenticate to the service; each unset field falls back to the
/// environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub credentials: Option<Credentials>,
    pub endpoint_url: Option<String>,
    pub use_fips: bool,
    pub use_dual_stack: bool,
}

/// Validates, resolves endpoint and credentials, and signs at `now`. Nothing is sent.
pub fn prepare(
    config: &Config,
    options: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<SignedRequest, Error> {
    let custom = endpoint::custom_from(options.endpoint_url.as_deref(), env);
    let fips = options.use_fips;
    let dual = options.use_dual_stack;
    // Custom endpoints are checked alongside the arguments so that every error is
    // reported at once.
    let custom = match custom {
        None => Ok(None),
        Some(custom) => {
            let arn_free = partition::by_id("aws").expect("aws is a known partition");
            endpoint::resolve(arn_free, "us-east-1", Some(custom), fips, dual).map(Some)
        }
    };
    let (validated, custom) = match (validate(config), custom) {
        (Ok(v), Ok(c)) => (v, c),
        (v, c) => {
            let mut errors = v.err().unwrap_or_default();
            errors.extend(c.err().unwrap_or_default());
            return Err(Error::InvalidConfig(errors));
        }
    };
    let arn = &validated.arn;
    let endpoint =
        custom.unwrap_or_else(|| endpoint::standard(arn.partition, arn.region, fips, dual));
    let credentials = credentials::resolve(options.credentials.as_ref(), env)?;
    let body = wire::request_body(&validated);
    sign::sign_request(&endpoint, arn.region, body, &credentials, now)
}

/// Prepares, sends once through `send`, and reads the answer. Secrets are scrubbed from
/// every error text.
pub fn start(
    config: &Config,
    options: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
    send: impl FnOnce(&SignedRequest) -> Result<Response, String>,
) -> Result<Execution, Error> {
    let request = prepare(config, options, env, now)?;
    let credentials = credentials::resolve(options.credentials.as_ref(), env)?;
    let outcome = send(&request)
        .map_err(Error::Transport)
        .and_then(|response| wire::parse_response(&response));
    outcome.map_err(|e| e.redact(&credentials.secrets()))
}
