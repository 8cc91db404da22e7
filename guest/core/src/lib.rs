//! Start AWS Step Functions executions: the pure core of the component.
//!
//! Everything here compiles and tests natively: validation, ARN parsing, endpoint
//! resolution, the request body, signing and response parsing. The facade is small: the
//! WIT's types ([`types`]), [`validate`], [`prepare`] and [`start`], the endpoint rules the
//! host's outbound policy shares ([`endpoint`]), and on `wasm` targets the WASI environment
//! and transport ([`transport`]) that the plugin (`guest/plugin`) and the command
//! (`guest/command`) pass to [`prepare`] and [`start`].

mod arn;
mod credentials;
pub mod endpoint;
mod error;
mod input;
mod name;
mod partition;
mod sign;
pub mod types;
mod validate;
mod wire;

#[cfg(target_family = "wasm")]
pub mod transport;

use std::time::SystemTime;

pub use types::{
    ClientOptions, Credentials, Error, Execution, FieldError, ServiceError, SignedRequest,
    StartExecutionConfig,
};
pub use wire::Response;

/// Checks every argument without any I/O; on failure lists every broken rule, in argument
/// order.
pub fn validate(config: &StartExecutionConfig) -> Result<(), Vec<FieldError>> {
    validate::validate(config).map(|_| ())
}

/// Validates, resolves endpoint and credentials, and signs at `now`. Nothing is sent.
pub fn prepare(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<SignedRequest, Error> {
    signed(config, options, env, now).map(|(request, _)| request)
}

/// The signed request and the credentials that signed it.
fn signed(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<(SignedRequest, Credentials), Error> {
    let fips = options.use_fips;
    let dual = options.use_dual_stack;
    // Custom endpoints are checked alongside the arguments so that every error is
    // reported at once.
    let custom = endpoint::custom_from(options.endpoint_url.as_deref(), env)
        .map(|custom| endpoint::custom(custom, fips, dual))
        .transpose();
    let (validated, custom) = match (validate::validate(config), custom) {
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
    let request = sign::sign_request(&endpoint, arn.region, body, &credentials, now)?;
    Ok((request, credentials))
}

/// Prepares, sends once through `send`, and reads the answer. Secrets are scrubbed from
/// every error text.
pub fn start(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
    send: impl FnOnce(&SignedRequest) -> Result<Response, String>,
) -> Result<Execution, Error> {
    let (request, credentials) = signed(config, options, env, now)?;
    let outcome = send(&request)
        .map_err(Error::Transport)
        .and_then(|response| wire::parse_response(&response));
    outcome.map_err(|e| e.redact(&credentials.secrets()))
}

#[cfg(test)]
mod properties;
