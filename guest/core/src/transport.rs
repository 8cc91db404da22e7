//! The WASI side of the core, shared by the plugin component (`guest/plugin`) and the
//! command component (`guest/command`): the environment (`wasi:cli/environment`) and the
//! [`Io`] of a call: clocks (`wasi:clocks`), randomness (`wasi:random`) and a transport
//! (`wasi:http/outgoing-handler`) that sends a signed request once and reads the answer,
//! giving up at the call's deadline whatever the runtime does with timeouts.

use std::time::{Duration, SystemTime};

use wasip2::clocks::monotonic_clock;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::poll::{Pollable, poll};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

use crate::SignedRequest;
use crate::io::{Io, SendError};
use crate::wire::{self, MAX_RESPONSE_BYTES, Response};

/// The environment the host chose to give the component, read once per call.
pub fn env_lookup() -> impl Fn(&str) -> Option<String> {
    let vars = wasip2::cli::environment::get_environment();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// How long to wait for a connection, the first byte, and between bytes, at most.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The calls of a component go through WASI.
pub struct Wasi;

impl Io for Wasi {
    fn now(&mut self) -> SystemTime {
        SystemTime::now()
    }

    fn monotonic(&mut self) -> Duration {
        Duration::from_nanos(monotonic_clock::now())
    }

    fn sleep(&mut self, duration: Duration) {
        monotonic_clock::subscribe_duration(nanos(duration)).block();
    }

    fn random(&mut self) -> u64 {
        wasip2::random::random::get_random_u64()
    }

    fn send(
        &mut self,
        request: &SignedRequest,
        deadline: Option<Duration>,
    ) -> Result<Response, SendError> {
        let (scheme, authority) = split_url(&request.url);
        let exchange = Exchange {
            deadline: deadline.map(nanos),
        };
        exchange.send(request, scheme, authority).map_err(|failed| {
            let describe =
                |what: String| format!("request to {scheme}://{authority}/ failed: {what}");
            match failed {
                Failed::Unsent(what) => SendError::Unsent(describe(what)),
                Failed::Transient(what) => SendError::Transient(describe(what)),
                Failed::Unreadable(what) => SendError::Unreadable(describe(what)),
                Failed::Permanent(what) => SendError::Permanent(describe(what)),
                Failed::Deadline(what) => SendError::Deadline(describe(what.into())),
            }
        })
    }
}

/// Each attempt's own bounds. They are advisory (a runtime that does not support one
/// keeps its default) and not shortened to the call's deadline: the deadline is kept
/// here, by polling, so that it ends the call with the same error on every runtime.
fn request_options(request: &SignedRequest) -> RequestOptions {
    let target = request.headers.iter().find(|(k, _)| k == "x-amz-target");
    let first_byte = wire::first_byte_timeout(target.map(|(_, v)| v.as_str()), READ_TIMEOUT);
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(nanos(CONNECT_TIMEOUT)));
    let _ = options.set_first_byte_timeout(Some(nanos(first_byte)));
    let _ = options.set_between_bytes_timeout(Some(nanos(READ_TIMEOUT)));
    options
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Why one exchange failed, before the URL is added.
enum Failed {
    /// Before the request was written: connecting failed.
    Unsent(String),
    Transient(String),
    /// An answer came that cannot be read.
    Unreadable(String),
    Permanent(String),
    /// The deadline passed; what was still awaited.
    Deadline(&'static str),
}

/// One request and its answer, bounded by the call's deadline (monotonic nanoseconds).
struct Exchange {
    deadline: Option<u64>,
}

impl Exchange {
    fn send(
        &self,
        request: &SignedRequest,
        scheme: &str,
        authority: &str,
    ) -> Result<Response, Failed> {
        let outgoing = outgoing_request(request, scheme, authority).map_err(Failed::Permanent)?;
        let body = outgoing
            .body()
            .map_err(|()| Failed::Permanent("the request body was already taken".into()))?;
        let future = outgoing_handler::handle(outgoing, Some(request_options(request)))
            .map_err(|e| classify(&e))?;
        let written = self.write_body(body, request.body.as_bytes());
        // A request that fails early (connection refused) also closes the body stream under
        // the writer, so which error shows first is a race. The response's error names the
        // cause; it wins over the write's.
        let response = match (self.wait_for(&future), written) {
            (Err(e), _) | (Ok(_), Err(e)) => return Err(e),
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
            .map_err(|()| Failed::Unreadable("the response body was already taken".into()))?;
        let body = self.read_body(body)?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// Waits until `pollable` is ready; `Err` when the deadline comes first.
    fn ready(&self, pollable: &Pollable, awaiting: &'static str) -> Result<(), Failed> {
        let Some(deadline) = self.deadline else {
            pollable.block();
            return Ok(());
        };
        let timer = monotonic_clock::subscribe_instant(deadline);
        if poll(&[pollable, &timer]).contains(&0) {
            Ok(())
        } else {
            Err(Failed::Deadline(awaiting))
        }
    }

    fn wait_for(&self, future: &FutureIncomingResponse) -> Result<IncomingResponse, Failed> {
        loop {
            match future.get() {
                Some(Ok(Ok(response))) => return Ok(response),
                Some(Ok(Err(e))) => return Err(classify(&e)),
                Some(Err(())) => {
                    return Err(Failed::Unreadable("the response was already taken".into()));
                }
                None => self.ready(&future.subscribe(), "waiting for the response")?,
            }
        }
    }

    fn write_body(&self, body: OutgoingBody, bytes: &[u8]) -> Result<(), Failed> {
        {
            let stream = body.write().map_err(|()| {
                Failed::Permanent("the request body stream was already taken".into())
            })?;
            self.write_all(&stream, bytes)
                .map_err(|e| e.while_doing("writing the request body"))?;
        }
        OutgoingBody::finish(body, None).map_err(|e| classify(&e))
    }

    /// Writes as much as the stream takes each time it is ready, then flushes.
    fn write_all(&self, stream: &OutputStream, mut bytes: &[u8]) -> Result<(), Failed> {
        let awaiting = "sending the request";
        while !bytes.is_empty() {
            self.ready(&stream.subscribe(), awaiting)?;
            let room = stream.check_write().map_err(stream_error)?;
            let take = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
            stream.write(&bytes[..take]).map_err(stream_error)?;
            bytes = &bytes[take..];
        }
        // Every byte is written: a stream the host closed once it had them all (the
        // content-length reached) is done, not failed.
        let flushed = match stream.flush() {
            Ok(()) => {
                self.ready(&stream.subscribe(), awaiting)?;
                stream.check_write().map(drop)
            }
            Err(e) => Err(e),
        };
        match flushed {
            Ok(()) | Err(StreamError::Closed) => Ok(()),
            Err(e) => Err(stream_error(e)),
        }
    }

    fn read_body(&self, body: IncomingBody) -> Result<Vec<u8>, Failed> {
        let mut bytes = Vec::new();
        {
            let stream = body.stream().map_err(|()| {
                Failed::Unreadable("the response body stream was already taken".into())
            })?;
            while self.read_some(&stream, &mut bytes)? {
                if bytes.len() > MAX_RESPONSE_BYTES {
                    return Err(Failed::Unreadable(format!(
                        "the response body is larger than {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
            }
        }
        drop(IncomingBody::finish(body));
        Ok(bytes)
    }

    /// Appends what the stream has once it is ready; false at its end.
    fn read_some(&self, stream: &InputStream, bytes: &mut Vec<u8>) -> Result<bool, Failed> {
        self.ready(&stream.subscribe(), "reading the response")?;
        match stream.read(64 * 1024) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                Ok(true)
            }
            Err(StreamError::Closed) => Ok(false),
            Err(e) => Err(stream_error(e).while_doing("reading the response")),
        }
    }
}

impl Failed {
    fn while_doing(self, doing: &str) -> Failed {
        match self {
            Failed::Unsent(what) => Failed::Unsent(format!("{doing}: {what}")),
            Failed::Transient(what) => Failed::Transient(format!("{doing}: {what}")),
            Failed::Unreadable(what) => Failed::Unreadable(format!("{doing}: {what}")),
            Failed::Permanent(what) => Failed::Permanent(format!("{doing}: {what}")),
            deadline => deadline,
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

/// A failed stream operation: the exchange broke off, so another attempt may work.
fn stream_error(e: StreamError) -> Failed {
    match e {
        StreamError::Closed => Failed::Transient("stream closed".into()),
        StreamError::LastOperationFailed(e) => match wasip2::http::types::http_error_code(&e) {
            Some(code) => classify(&code),
            None => Failed::Transient(e.to_debug_string()),
        },
    }
}

/// A wasi-http error code in words, and whether the same request may work again. What the
/// host refused or cannot trust stays refused; a connection that failed, broke or timed out
/// may not.
fn classify(e: &ErrorCode) -> Failed {
    let what = describe(e);
    match e {
        ErrorCode::HttpRequestDenied
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_)
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestUriTooLong
        | ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestHeaderSectionSize(_)
        | ErrorCode::HttpRequestHeaderSize(_)
        | ErrorCode::HttpRequestBodySize(_) => Failed::Permanent(what),
        ErrorCode::HttpResponseBodySize(_) => Failed::Unreadable(what),
        ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTimeout
        | ErrorCode::TlsProtocolError => Failed::Unsent(what),
        _ => Failed::Transient(what),
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
