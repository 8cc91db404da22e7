//! The WASI side of the core, shared by the plugin component (`component`) and the command
//! component (`command/`): the environment (`wasi:cli/environment`) and a transport
//! (`wasi:http/outgoing-handler`) that sends a signed request once and reads the answer.

use std::time::Duration;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

use crate::SignedRequest;
use crate::wire::{MAX_RESPONSE_BYTES, Response};

/// The environment the host chose to give the component, read once per call.
pub fn env_lookup() -> impl Fn(&str) -> Option<String> {
    let vars = wasip2::cli::environment::get_environment();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// How long to wait for a connection, the first byte, and between bytes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends the signed request once and reads the whole answer.
pub fn send(request: &SignedRequest) -> Result<Response, String> {
    let (scheme, authority) = split_url(&request.url);
    let failed = |what: String| format!("request to {scheme}://{authority}/ failed: {what}");
    let outgoing = outgoing_request(request, scheme, authority).map_err(&failed)?;
    let body = outgoing
        .body()
        .map_err(|()| failed("the request body was already taken".into()))?;
    let future = outgoing_handler::handle(outgoing, Some(request_options()))
        .map_err(|e| failed(describe(&e)))?;
    let written = write_body(body, request.body.as_bytes());
    // A request that fails early (connection refused) also closes the body stream under
    // the writer, so which error shows first is a race. The response's error names the
    // cause; it wins over the write's.
    let response = match (wait_for(&future), written) {
        (Err(e), _) | (Ok(_), Err(e)) => return Err(failed(e)),
        (Ok(response), Ok(())) => response,
    };
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let body = response
        .consume()
        .map_err(|()| failed("the response body was already taken".into()))
        .and_then(|b| read_body(b).map_err(&failed))?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn wait_for(future: &FutureIncomingResponse) -> Result<IncomingResponse, String> {
    loop {
        match future.get() {
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(e))) => return Err(describe(&e)),
            Some(Err(())) => return Err("the response was already taken".into()),
            None => future.subscribe().block(),
        }
    }
}

/// `scheme://authority/` as produced by the endpoint module.
fn split_url(url: &str) -> (&str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    (scheme, rest.trim_end_matches('/'))
}

fn outgoing_request(
    request: &SignedRequest,
    scheme: &str,
    authority: &str,
) -> Result<OutgoingRequest, String> {
    let fields = Fields::new();
    // `host` is signed, but wasi-http forbids setting it: the authority becomes the header.
    for (name, value) in request.headers.iter().filter(|(n, _)| n != "host") {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| format!("header {name} refused: {e:?}"))?;
    }
    let outgoing = OutgoingRequest::new(fields);
    let scheme = if scheme == "http" {
        Scheme::Http
    } else {
        Scheme::Https
    };
    let refused = |what: &str| format!("the host refused the request's {what}");
    outgoing
        .set_method(&Method::Post)
        .map_err(|()| refused("method"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(Some(authority))
        .map_err(|()| refused("authority"))?;
    outgoing
        .set_path_with_query(Some("/"))
        .map_err(|()| refused("path"))?;
    Ok(outgoing)
}

/// Timeouts are advisory: a runtime that does not support one keeps its own default.
fn request_options() -> RequestOptions {
    let options = RequestOptions::new();
    let connect = CONNECT_TIMEOUT.as_nanos() as u64;
    let read = READ_TIMEOUT.as_nanos() as u64;
    let _ = options.set_connect_timeout(Some(connect));
    let _ = options.set_first_byte_timeout(Some(read));
    let _ = options.set_between_bytes_timeout(Some(read));
    options
}

/// `blocking-write-and-flush` takes at most 4096 bytes a call.
fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    {
        let stream = body
            .write()
            .map_err(|()| "the request body stream was already taken".to_string())?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("writing the request body: {}", stream_error(e)))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|e| describe(&e))
}

fn read_body(body: IncomingBody) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let stream = body
            .stream()
            .map_err(|()| "the response body stream was already taken".to_string())?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(e) => return Err(format!("reading the response: {}", stream_error(e))),
            }
            if bytes.len() > MAX_RESPONSE_BYTES {
                return Err(format!(
                    "the response body is larger than {MAX_RESPONSE_BYTES} bytes"
                ));
            }
        }
    }
    drop(IncomingBody::finish(body));
    Ok(bytes)
}

fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "stream closed".into(),
        StreamError::LastOperationFailed(e) => match wasip2::http::types::http_error_code(&e) {
            Some(code) => describe(&code),
            None => e.to_debug_string(),
        },
    }
}

/// wasi-http error codes in words.
fn describe(e: &ErrorCode) -> String {
    match e {
        ErrorCode::DnsError(p) => format!(
            "DNS lookup failed{}",
            p.rcode
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTerminated => "connection closed before a response".into(),
        ErrorCode::ConnectionTimeout => "timed out connecting".into(),
        ErrorCode::ConnectionReadTimeout => "timed out waiting for the response".into(),
        ErrorCode::ConnectionLimitReached => "connection limit reached".into(),
        ErrorCode::TlsCertificateError => "TLS certificate not trusted".into(),
        ErrorCode::TlsProtocolError => "TLS handshake failed".into(),
        ErrorCode::HttpRequestDenied => "refused by the host's outbound policy".into(),
        ErrorCode::HttpProtocolError => "HTTP protocol error".into(),
        ErrorCode::HttpResponseIncomplete => "response ended early".into(),
        ErrorCode::InternalError(Some(message)) => message.clone(),
        other => format!("{other:?}"),
    }
}
