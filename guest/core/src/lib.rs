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
mod robustness {
    //! Hostile input through the whole core: every call returns, none panics.

    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    use sfn_test_kit::rng::Rng;

    /// Pieces that sit on the rules' edges, glued at random.
    fn text(rng: &mut Rng) -> String {
        const PIECES: &[&str] = &[
            "arn",
            ":",
            "aws",
            "aws-cn",
            "states",
            "us-east-1",
            "cn-north-1",
            "123456789012",
            "stateMachine",
            "m",
            "/",
            "1",
            "PROD",
            "{",
            "}",
            "[",
            "]",
            "\"",
            "\\",
            "\\u",
            "d800",
            " ",
            "\u{a0}",
            "\n",
            "\r",
            "\u{0}",
            "\u{7f}",
            "\u{fffe}",
            "\u{10ffff}",
            "é",
            "😀",
            "-",
            ".",
            "@",
            "http://",
            "https://",
            "<Code>",
            "</Code>",
            "<title>",
            "1e999",
            "-0",
            "",
        ];
        (0..rng.below(12))
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect()
    }

    fn maybe(rng: &mut Rng) -> Option<String> {
        (rng.below(3) > 0).then(|| text(rng))
    }

    #[test]
    fn no_input_makes_the_core_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut sent = 0;
        for round in 0..20_000 {
            // Every other round starts from a valid request so that signing and response
            // parsing are reached, not only validation.
            let valid = round % 2 == 0;
            let config = StartExecutionConfig {
                state_machine_arn: if valid {
                    "arn:aws:states:us-east-1:123456789012:stateMachine:m".into()
                } else {
                    text(&mut rng)
                },
                input: if valid { None } else { maybe(&mut rng) },
                name: if valid { None } else { maybe(&mut rng) },
                region: if valid { None } else { maybe(&mut rng) },
                trace_header: if valid { None } else { maybe(&mut rng) },
            };
            let options = ClientOptions {
                credentials: (valid || rng.below(2) == 0).then(|| Credentials {
                    access_key_id: if valid { "AKID".into() } else { text(&mut rng) },
                    secret_access_key: format!("s{}", text(&mut rng)),
                    session_token: if valid { None } else { maybe(&mut rng) },
                }),
                endpoint_url: if valid { None } else { maybe(&mut rng) },
                use_fips: !valid && rng.below(2) == 0,
                use_dual_stack: !valid && rng.below(2) == 0,
            };
            let env_value = text(&mut rng);
            let env =
                |name: &str| (!valid && name.len().is_multiple_of(2)).then(|| env_value.clone());
            let status = [200, 204, 400, 403, 429, 500, 503, 0, 999][rng.below(9)];
            let body = text(&mut rng);
            let _ = start(&config, &options, &env, now, |_| {
                sent += 1;
                Ok(Response {
                    status,
                    headers: vec![("x-amzn-errortype".into(), text(&mut rng))],
                    body: body.into_bytes(),
                })
            });
        }
        // Every valid round must be signed and sent; the response side is what it fuzzes.
        assert_eq!(sent, 10_000, "valid rounds that reached the transport");
    }
}
