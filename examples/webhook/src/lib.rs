//! An example application component: a webhook that starts an execution for each authorized
//! `POST`, through the `sfn:action/start-execution` it imports. `wac plug` fills that import
//! with the plugin, `sfn_start_execution.wasm`; `wasmtime serve -S cli` serves the result.
//!
//! - `POST` with `Authorization: Bearer $WEBHOOK_TOKEN` and a JSON body starts an execution
//!   of `$STATE_MACHINE_ARN` with the body as its input: `200 {"executionArn", "startDate"}`
//!   (milliseconds since the Unix epoch).
//! - 401 without the token (and for every request while `WEBHOOK_TOKEN` is unset or empty),
//!   405 for another method, 413 for a body over StartExecution's limit, 400 for a body the
//!   plugin refuses (the field errors), 500 when the webhook's own settings are at fault,
//!   502 when Step Functions could not be reached or refused. Every answer is JSON.
//!
//! The composed component has one environment, which the plugin reads too: its `AWS_*`
//! variables (credentials, `AWS_ENDPOINT_URL_SFN`, `AWS_MAX_ATTEMPTS`) go there.
//!
//! Natively this crate is empty: it is a component and nothing else.

#![cfg(target_family = "wasm")]

use std::io::{Read as _, Write as _};

use serde_json::{Value, json};
use wasip2::http::types::{
    ErrorCode, Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

use sfn::action::start_execution::start;
use sfn::action::types::{ClientOptions, Error, Failure, StartExecutionConfig};

wit_bindgen::generate!({
    // Only the import is generated here; the export, `wasi:http/incoming-handler`, is the
    // `wasip2` crate's (`export!` below), so that its types are the ones this code uses.
    inline: "
        package sfn-example:webhook;

        world webhook {
            import sfn:action/start-execution@0.2.0;
        }
    ",
    path: "../../wit",
    // `types` too, which `start-execution` uses: it is in another package than this world.
    generate_all,
});

/// StartExecution's limit on `input`, in bytes: the body is read to one byte past it, no further.
const MAX_INPUT: u64 = 262_144;

/// The bound on one start, retries included: webhook senders wait seconds, not minutes.
const TIMEOUT_MS: u64 = 10_000;

struct Webhook;

impl wasip2::exports::http::incoming_handler::Guest for Webhook {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let (status, body) = answer(&request);
        respond(out, status, &body);
    }
}

wasip2::http::proxy::export!(Webhook);

/// The status and JSON body for a request.
fn answer(request: &IncomingRequest) -> (u16, Value) {
    let token = std::env::var("WEBHOOK_TOKEN").unwrap_or_default();
    if token.is_empty() {
        eprintln!("webhook: WEBHOOK_TOKEN is unset or empty, so every request is refused");
    }
    // Checked first, so that a caller without the token learns nothing else.
    if !authorized(&request.headers(), &token) {
        return error(401, "Unauthorized", "a valid bearer token is required");
    }
    if !matches!(request.method(), Method::Post) {
        return error(405, "MethodNotAllowed", "only POST starts an execution");
    }
    let input = match read_body(request) {
        Ok(input) => input,
        Err(answer) => return answer,
    };
    let config = StartExecutionConfig {
        // Unset, it is empty, and the plugin's field error says so (a 500 below).
        state_machine_arn: std::env::var("STATE_MACHINE_ARN").unwrap_or_default(),
        input: Some(input),
        // The plugin names it with a UUID, so that its retries never start a second one.
        name: None,
        region: None,
        trace_header: None,
    };
    // Left out, credentials and endpoint come from the environment.
    let options = ClientOptions {
        credentials: None,
        endpoint_url: None,
        use_fips: false,
        use_dual_stack: false,
        max_attempts: None,
        timeout_ms: Some(TIMEOUT_MS),
    };
    match start(&config, &options) {
        Ok(execution) => (
            200,
            json!({
                "executionArn": execution.execution_arn,
                "startDate": execution.start_date_epoch_ms,
            }),
        ),
        Err(failure) => failed(failure),
    }
}

/// Whether the request has exactly one `Authorization: Bearer <token>` naming `token`.
fn authorized(headers: &Fields, token: &str) -> bool {
    let values = headers.get("authorization");
    let [value] = values.as_slice() else {
        return false;
    };
    let Some((scheme, presented)) = value.split_at_checked(7) else {
        return false;
    };
    // The scheme is case-insensitive (RFC 9110, 11.1).
    !token.is_empty()
        && scheme.eq_ignore_ascii_case(b"Bearer ")
        && same(presented.trim_ascii(), token.as_bytes())
}

/// Compares every byte whatever the first difference, so that the time taken does not tell
/// a caller how much of a guess was right. The length is not the secret.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0, |differ, (x, y)| differ | std::hint::black_box(x ^ y))
            == 0
}

/// The body as text, reading at most one byte past the limit: a longer body is never
/// buffered, and its sender not waited for.
fn read_body(request: &IncomingRequest) -> Result<String, (u16, Value)> {
    let unreadable = || error(400, "BadRequest", "the body could not be read");
    let body = request.consume().map_err(|()| unreadable())?;
    let mut stream = body.stream().map_err(|()| unreadable())?;
    let mut bytes = Vec::new();
    let read = stream.by_ref().take(MAX_INPUT + 1).read_to_end(&mut bytes);
    // A body's stream is its child: it must go first.
    drop(stream);
    drop(body);
    read.map_err(|_| unreadable())?;
    if bytes.len() as u64 > MAX_INPUT {
        let message = format!("the body is over StartExecution's limit of {MAX_INPUT} bytes");
        return Err(error(413, "PayloadTooLarge", &message));
    }
    // The plugin's own words for the same rule, were the body text.
    String::from_utf8(bytes).map_err(|_| field_errors(400, [("input", "must be valid JSON")]))
}

/// The status and body for a start that failed. No secret is in a failure: the plugin
/// replaces the credentials with `***` in everything the service answers.
fn failed(failure: Failure) -> (u16, Value) {
    let (status, mut body) = match failure.error {
        Error::InvalidConfig(errors) => {
            // Only `input` is the caller's; any other field is the webhook's settings.
            let caller = errors.iter().all(|e| e.field == "input");
            let errors = errors
                .iter()
                .map(|e| (e.field.as_str(), e.message.as_str()));
            field_errors(if caller { 400 } else { 500 }, errors)
        }
        // The webhook's settings, not Step Functions, are at fault.
        Error::MissingCredentials(message) => error(500, "MissingCredentials", &message),
        Error::Service(e) => (
            502,
            json!({
                "error": "Service",
                "status": e.status,
                "code": e.code,
                "message": e.message,
                "requestId": e.request_id,
            }),
        ),
        Error::Transport(message) => error(502, "Transport", &message),
        Error::InvalidResponse(message) => error(502, "InvalidResponse", &message),
    };
    // The caller can look it up rather than guess whether it started.
    if let Some(arn) = failure.maybe_started {
        body["maybeStarted"] = arn.into();
    }
    (status, body)
}

fn error(status: u16, error: &str, message: &str) -> (u16, Value) {
    (status, json!({ "error": error, "message": message }))
}

fn field_errors<'a>(
    status: u16,
    errors: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (u16, Value) {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(field, message)| json!({ "field": field, "message": message }))
        .collect();
    (
        status,
        json!({ "error": "InvalidConfig", "fieldErrors": errors }),
    )
}

/// Sends `body` as JSON with `status`, and the header that status requires.
fn respond(out: ResponseOutparam, status: u16, body: &Value) {
    let body = body.to_string();
    let length = body.len().to_string();
    let mut headers = vec![
        ("content-type", "application/json"),
        ("content-length", length.as_str()),
    ];
    match status {
        401 => headers.push(("www-authenticate", "Bearer")),
        405 => headers.push(("allow", "POST")),
        _ => {}
    }
    let Some((response, outgoing)) = response(status, &headers) else {
        let why = "the webhook could not build its response".to_string();
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(Some(why))));
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    // The status is sent: a failed write can only cut the body short, which the declared
    // length shows the caller.
    if let Ok(mut stream) = outgoing.write() {
        let _ = stream.write_all(body.as_bytes());
        let _ = stream.flush();
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

fn response(status: u16, headers: &[(&str, &str)]) -> Option<(OutgoingResponse, OutgoingBody)> {
    let headers: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
        .collect();
    let response = OutgoingResponse::new(Fields::from_list(&headers).ok()?);
    response.set_status_code(status).ok()?;
    let body = response.body().ok()?;
    Some((response, body))
}
