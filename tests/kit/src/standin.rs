//! A Step Functions stand-in for end-to-end tests.
//!
//! It accepts only what the real `StartExecution` endpoint would (awsJson1_0, a valid
//! SigV4 signature checked by our own [`sigv4`] code, a scope that matches the state
//! machine's region), records every request, and answers with whatever the test scripts.
//!
//! ```ignore
//! let standin = StandIn::start(vec![Credential::new("AKID", "SECRET")], |_| {
//!     Reply::success("arn:aws:states:us-east-1:1:execution:M:x", "1.7E9", "req-1")
//! });
//! run_component_against(&standin.url());
//! assert_eq!(standin.requests()[0].check, Ok(()));
//! ```

use crate::listening::Listening;
use crate::sigv4::{self, Credential};
use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::Notify;

pub const JSON_1_0: &str = "application/x-amz-json-1.0";
pub const TARGET: &str = "AWSStepFunctions.StartExecution";
pub const DESCRIBE_TARGET: &str = "AWSStepFunctions.DescribeExecution";
pub const SYNC_TARGET: &str = "AWSStepFunctions.StartSyncExecution";

/// The operations the stand-in takes: target, required and allowed members, and the member
/// whose ARN (of the given resource type) names the region.
struct Operation {
    target: &'static str,
    required: &'static [&'static str],
    allowed: &'static [&'static str],
    arn: (&'static str, &'static str),
}

const OPERATIONS: [Operation; 3] = [
    Operation {
        target: TARGET,
        required: &["stateMachineArn", "input"],
        allowed: &["stateMachineArn", "input", "name", "traceHeader"],
        arn: ("stateMachineArn", "stateMachine"),
    },
    Operation {
        target: DESCRIBE_TARGET,
        required: &["executionArn"],
        allowed: &["executionArn", "includedData"],
        arn: ("executionArn", "execution"),
    },
    Operation {
        target: SYNC_TARGET,
        required: &["stateMachineArn"],
        allowed: &[
            "stateMachineArn",
            "input",
            "name",
            "traceHeader",
            "includedData",
        ],
        arn: ("stateMachineArn", "stateMachine"),
    },
];
/// The `x-amzn-RequestId` of the stand-in's own rejections.
pub const CHECK_FAILED_REQUEST_ID: &str = "standin-check-failed";

/// One request as it arrived, and what the stand-in's checks made of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    /// Names lower-cased, in order of arrival (hyper groups a repeated name at its
    /// first occurrence).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `Ok` or the first check that failed.
    pub check: Result<(), String>,
}

impl Recorded {
    /// The values of a header, in order; `name` in lower case.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        let named = self.headers.iter().filter(|(n, _)| n == name);
        named.map(|(_, v)| v.as_str()).collect()
    }

    /// The first value of a header; `name` in lower case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).first().copied()
    }
}

/// What the stand-in answers to a request that passed its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Any status, extra headers, raw body bytes (content-type is set only if given in headers).
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the TCP connection without sending any response bytes.
    Drop,
    /// Send the head of a 200 with a `content-length` of `body`, then `sent` bytes of
    /// `body`, then nothing more, holding the connection open: a server that stalls
    /// mid-body.
    Stall { body: Vec<u8>, sent: usize },
    /// Send the head of a 200 with a `content-length` of `body`, then `sent` bytes of
    /// `body`, then close the connection: an answer cut short.
    Cut { body: Vec<u8>, sent: usize },
    /// Read the request, then never answer, holding the connection open.
    Hang,
    /// Wait this long, then answer with the reply: a slow service.
    Late(Duration, Box<Reply>),
}

impl Reply {
    /// 200 with `{"executionArn":..,"startDate":..}`; `start_date` is raw JSON number
    /// text, sent verbatim so tests can script any number form (`1.44E9`, `1440938160.123`).
    pub fn success(execution_arn: &str, start_date: &str, request_id: &str) -> Reply {
        let body = format!(
            r#"{{"executionArn":{},"startDate":{start_date}}}"#,
            json_string(execution_arn)
        );
        json_reply(200, body, request_id)
    }

    /// `status` with `{"__type":..,"message":..}`, as AWS reports errors in awsJson1_0.
    /// `status` with this JSON body, as the service sends it.
    pub fn json(status: u16, body: &str, request_id: &str) -> Reply {
        json_reply(status, body.to_owned(), request_id)
    }

    pub fn error(status: u16, type_: &str, message: &str, request_id: &str) -> Reply {
        let body = format!(
            r#"{{"__type":{},"message":{}}}"#,
            json_string(type_),
            json_string(message)
        );
        json_reply(status, body, request_id)
    }
}

fn json_string(value: &str) -> String {
    serde_json::to_string(value).expect("a string always serialises")
}

fn json_reply(status: u16, body: String, request_id: &str) -> Reply {
    let headers = vec![
        ("content-type".to_owned(), JSON_1_0.to_owned()),
        ("x-amzn-RequestId".to_owned(), request_id.to_owned()),
    ];
    let body = body.into_bytes();
    Reply::Raw {
        status,
        headers,
        body,
    }
}

/// Settings for [`StandIn::start_with`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Largest accepted distance between `x-amz-date` and the clock; `None` accepts any,
    /// e.g. for requests signed at a fixed time. Default: 15 minutes, as AWS.
    pub max_skew: Option<Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_skew: Some(Duration::from_secs(15 * 60)),
        }
    }
}

type ReplyFn = dyn Fn(&Recorded) -> Reply + Send + Sync;

struct Shared {
    creds: Vec<Credential>,
    options: Options,
    reply: Box<ReplyFn>,
    log: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    /// Connections still to be closed unread as soon as they are accepted.
    to_reset: AtomicUsize,
    /// `127.0.0.1:PORT`, the only `host` a request may name.
    host: OnceLock<String>,
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Vec<Recorded>> {
        // A panicking test thread must not hide what was recorded before it.
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running stand-in on 127.0.0.1; it stops, and frees its port, when dropped.
pub struct StandIn {
    listening: Listening,
    shared: Arc<Shared>,
}

impl StandIn {
    /// Starts with [`Options::default`].
    pub fn start(
        creds: Vec<Credential>,
        reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> StandIn {
        StandIn::start_with(Options::default(), creds, reply)
    }

    /// Serves on a [`Listening`] of its own, so it works from sync and async tests alike.
    pub fn start_with(
        options: Options,
        creds: Vec<Credential>,
        reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> StandIn {
        let shared = Arc::new(Shared {
            creds,
            options,
            reply: Box::new(reply),
            log: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            to_reset: AtomicUsize::new(0),
            host: OnceLock::new(),
        });
        let served = Arc::clone(&shared);
        let listening = Listening::start("standin", move |stream| accept(stream, &served));
        let host = listening.addr().to_string();
        shared.host.set(host).expect("set once, here");
        StandIn { listening, shared }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        self.listening.url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.listening.addr()
    }

    /// TCP connections accepted so far: with keep-alive, fewer than requests.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Closes the next `count` connections as soon as they are accepted, before reading
    /// anything: the client's request is left unread, so the kernel answers it with a reset.
    /// They are counted in [`StandIn::connections`], and nothing of them is recorded.
    pub fn reset_connections(&self, count: usize) {
        self.shared.to_reset.store(count, Ordering::SeqCst);
    }

    /// Everything received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log().clone()
    }
}

/// Counts the connection, and serves it or, while resets are asked for, closes it unread.
fn accept(stream: TcpStream, shared: &Arc<Shared>) {
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let reset = shared
        .to_reset
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    if reset.is_err() {
        drop(tokio::spawn(serve_connection(stream, Arc::clone(shared))));
    } else {
        drop(tokio::spawn(close_unread(stream)));
    }
}

/// Waits for the request's first bytes, so that closing leaves them unread (a reset), then
/// closes without reading them.
async fn close_unread(stream: TcpStream) {
    let _ = stream.readable().await;
    drop(stream);
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    // hyper answers every request whose service call completes, so `Reply::Drop` parks
    // the call and raises `abort`; dropping the connection future closes the socket
    // with no response bytes.
    let abort = Arc::new(Notify::new());
    let raised = Arc::clone(&abort);
    let service =
        service_fn(move |request| handle(Arc::clone(&shared), Arc::clone(&raised), request));
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = abort.notified() => {}
    }
}

async fn handle(
    shared: Arc<Shared>,
    abort: Arc<Notify>,
    request: Request<Incoming>,
) -> Result<Response<Answer>, Infallible> {
    let (recorded, outcome) = receive(request, &shared).await;
    shared.log().push(recorded.clone());
    let mut reply = match outcome {
        Ok(()) => (shared.reply)(&recorded),
        Err(failure) => failure.reply(),
    };
    while let Reply::Late(after, late) = reply {
        tokio::time::sleep(after).await;
        reply = *late;
    }
    match reply {
        Reply::Raw {
            status,
            headers,
            body,
        } => Ok(response(status, headers, body).map(Either::Left)),
        Reply::Stall { body, sent } => Ok(stalled(body, sent, false)),
        Reply::Cut { body, sent } => Ok(stalled(body, sent, true)),
        Reply::Hang => std::future::pending().await,
        Reply::Late(..) => unreachable!("waited for above"),
        Reply::Drop => {
            abort.notify_one();
            std::future::pending().await
        }
    }
}

/// Reads the whole request and runs the checks.
async fn receive(request: Request<Incoming>, shared: &Shared) -> (Recorded, Result<(), Failure>) {
    let (parts, body) = request.into_parts();
    let headers = parts.headers.iter();
    let mut recorded = Recorded {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .to_owned(),
        headers: headers
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: Vec::new(),
        check: Ok(()),
    };
    let outcome = match body.collect().await {
        Ok(collected) => {
            recorded.body = collected.to_bytes().to_vec();
            check(&recorded, shared)
        }
        Err(e) => Err(Failure::Protocol(format!(
            "could not read the request body: {e}"
        ))),
    };
    recorded.check = outcome.clone().map_err(Failure::into_message);
    (recorded, outcome)
}

#[derive(Clone, Debug)]
enum Failure {
    /// Not what awsJson1_0 `StartExecution` looks like.
    Protocol(String),
    /// Signature, credential or scope.
    Auth(String),
}

impl Failure {
    fn into_message(self) -> String {
        match self {
            Failure::Protocol(message) | Failure::Auth(message) => message,
        }
    }

    fn reply(self) -> Reply {
        let type_ = match self {
            Failure::Protocol(_) => "SerializationException",
            Failure::Auth(_) => "InvalidSignatureException",
        };
        Reply::error(400, type_, &self.into_message(), CHECK_FAILED_REQUEST_ID)
    }
}

fn check(recorded: &Recorded, shared: &Shared) -> Result<(), Failure> {
    let own = shared.host.get().map_or("", String::as_str);
    expect_header(recorded, "host", own).map_err(Failure::Protocol)?;
    let arn_region = check_protocol(recorded).map_err(Failure::Protocol)?;
    check_auth(recorded, &arn_region, shared).map_err(Failure::Auth)
}

/// Returns the region of the ARN the request names.
fn check_protocol(recorded: &Recorded) -> Result<String, String> {
    if recorded.method != "POST" {
        return Err(format!("method must be POST, got {}", recorded.method));
    }
    if recorded.path != "/" {
        return Err(format!("path must be \"/\", got {:?}", recorded.path));
    }
    expect_header(recorded, "content-type", JSON_1_0)?;
    let target = recorded.header("x-amz-target").unwrap_or_default();
    let operation = OPERATIONS
        .iter()
        .find(|o| o.target == target)
        .ok_or_else(|| {
            let known: Vec<&str> = OPERATIONS.iter().map(|o| o.target).collect();
            format!("x-amz-target must be one of {known:?}, got {target:?}")
        })?;
    expect_header(recorded, "x-amz-target", operation.target)?;
    check_body(operation, &recorded.body)
}

fn expect_header(recorded: &Recorded, name: &str, want: &str) -> Result<(), String> {
    match recorded.header_values(name)[..] {
        [value] if value == want => Ok(()),
        [] => Err(format!("missing {name} header")),
        ref got => Err(format!("{name} must be exactly {want:?}, got {got:?}")),
    }
}

/// Checks the operation's input shape; returns the region of the ARN it names.
fn check_body(operation: &Operation, body: &[u8]) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let object = value.as_object().ok_or("body must be a JSON object")?;
    for required in operation.required {
        if !object.contains_key(*required) {
            return Err(format!("body has no {required}"));
        }
    }
    for (name, member) in object {
        if !operation.allowed.contains(&name.as_str()) {
            return Err(format!("unexpected member {name:?} in body"));
        }
        if !member.is_string() {
            return Err(format!("{name} must be a string, got {member}"));
        }
    }
    // The execution's input is JSON text inside the JSON body.
    if let Some(input) = object.get("input").and_then(serde_json::Value::as_str)
        && let Err(e) = serde_json::from_str::<serde_json::Value>(input)
    {
        return Err(format!("input is not JSON: {e}"));
    }
    let (member, resource) = operation.arn;
    arn_region(
        object[member].as_str().expect("checked a string above"),
        resource,
    )
}

fn arn_region(arn: &str, resource: &str) -> Result<String, String> {
    match arn.split(':').collect::<Vec<_>>()[..] {
        // A version or alias may follow a state machine's name; an execution's name follows
        // its state machine's.
        ["arn", partition, "states", region, account, kind, name, ..]
            if kind == resource && ![partition, region, account, name].contains(&"") =>
        {
            Ok(region.to_owned())
        }
        _ => Err(format!(
            "{arn:?} is not arn:PARTITION:states:REGION:ACCOUNT:{resource}:NAME"
        )),
    }
}

fn check_auth(recorded: &Recorded, arn_region: &str, shared: &Shared) -> Result<(), String> {
    let scope = sigv4::verify(
        &recorded.method,
        &recorded.path,
        &recorded.headers,
        &recorded.body,
        &shared.creds,
        SystemTime::now(),
        shared.options.max_skew,
    )?;
    if scope.service != "states" {
        return Err(format!(
            "credential scope service is {:?}, expected \"states\"",
            scope.service
        ));
    }
    if scope.region != arn_region {
        return Err(format!(
            "credential scope region {} does not match the state machine's region {arn_region}",
            scope.region
        ));
    }
    Ok(())
}

/// A whole body, or one that stalls.
type Answer = Either<Full<Bytes>, Stalling>;

fn stalled(mut body: Vec<u8>, sent: usize, close: bool) -> Response<Answer> {
    let length = body.len();
    body.truncate(sent);
    Response::builder()
        .status(200)
        .header("content-type", JSON_1_0)
        .header("content-length", length)
        .body(Either::Right(Stalling {
            bytes: Some(Bytes::from(body)),
            close,
        }))
        .expect("a 200 with a content-length is valid")
}

/// Yields its bytes, then either never another frame (the connection stays open until the
/// client gives up or the stand-in stops) or, with `close`, an error, on which hyper closes
/// the connection.
pub struct Stalling {
    bytes: Option<Bytes>,
    close: bool,
}

impl hyper::body::Body for Stalling {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        match self.bytes.take() {
            Some(bytes) => Poll::Ready(Some(Ok(hyper::body::Frame::data(bytes)))),
            None if self.close => Poll::Ready(Some(Err(std::io::Error::other("cut short")))),
            None => Poll::Pending,
        }
    }
}

/// The scripted answer, dated by the stand-in's clock unless the script dates it: AWS
/// dates every answer, and the component reads DescribeExecution's `Date`.
fn response(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("date")) {
        builder = builder.header("date", httpdate::fmt_http_date(SystemTime::now()));
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|e| {
            // A bad scripted status or header is a test bug: say so instead of hanging up.
            let message = format!("stand-in: the scripted reply is not valid HTTP: {e}");
            Response::builder()
                .status(500)
                .body(Full::new(Bytes::from(message)))
                .expect("a plain 500 is valid")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const REGION: &str = "us-east-1";
    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld";
    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run-1";

    fn cred() -> Credential {
        Credential::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    }

    fn request_body() -> String {
        format!(r#"{{"stateMachineArn":"{ARN}","input":"{{}}"}}"#)
    }

    fn success(_: &Recorded) -> Reply {
        Reply::success(EXECUTION, "1.44093816E9", "req-1")
    }

    /// A POST to `/` with these headers, the authorization and the body, as HTTP/1.1 text.
    fn raw_post(headers: &[(String, String)], auth: String, body: &str) -> String {
        let mut text = String::from("POST / HTTP/1.1\r\n");
        for (name, value) in headers.iter().chain([&("authorization".to_owned(), auth)]) {
            text += &format!("{name}: {value}\r\n");
        }
        text += &format!(
            "content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        text
    }

    /// A StartExecution request signed now by `signer`, as raw HTTP/1.1 bytes.
    fn signed_request(standin: &StandIn, signer: &Credential, region: &str, body: &str) -> Vec<u8> {
        let headers: Vec<(String, String)> = [
            ("content-type", JSON_1_0.to_owned()),
            ("host", standin.addr().to_string()),
            ("x-amz-date", sigv4::amz_date_of(SystemTime::now())),
            ("x-amz-target", TARGET.to_owned()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
        let auth = sigv4::authorization(
            "POST",
            "/",
            &headers,
            body.as_bytes(),
            signer,
            region,
            "states",
        );
        raw_post(&headers, auth, body).into_bytes()
    }

    /// Sends raw bytes on a new connection and reads until the stand-in closes it.
    async fn exchange(standin: &StandIn, request: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(standin.addr()).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut response = Vec::new();
        let read = stream.read_to_end(&mut response);
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("an answer in time")
            .unwrap();
        response
    }

    /// (status, lower-cased headers, body) of a raw response.
    fn parse(response: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head");
        let head = std::str::from_utf8(&response[..split]).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .map(|line| line.split_once(": ").unwrap())
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        (status, headers, response[split + 4..].to_vec())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[tokio::test]
    async fn answers_a_signed_request_with_the_scripted_success() {
        let standin = StandIn::start(vec![cred()], success);
        let before = SystemTime::now();
        let (status, headers, body) = parse(
            &exchange(
                &standin,
                &signed_request(&standin, &cred(), REGION, &request_body()),
            )
            .await,
        );
        let after = SystemTime::now();
        assert_eq!(status, 200);
        // Dated by the stand-in's clock, in whole seconds (IMF-fixdate).
        let date = header(&headers, "date").expect("a date header");
        let dated = httpdate::parse_http_date(date).unwrap();
        assert_eq!(httpdate::fmt_http_date(dated), date);
        assert!(
            dated <= after && before < dated + Duration::from_secs(1),
            "{date}"
        );
        let expected = format!(r#"{{"executionArn":"{EXECUTION}","startDate":1.44093816E9}}"#);
        assert_eq!(String::from_utf8(body).unwrap(), expected);
        assert_eq!(header(&headers, "content-type"), Some(JSON_1_0));
        assert_eq!(header(&headers, "x-amzn-requestid"), Some("req-1"));
        assert_eq!(
            header(&headers, "content-length"),
            Some(expected.len().to_string().as_str())
        );
        let recorded = standin.requests();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].check, Ok(()));
        assert_eq!(
            (recorded[0].method.as_str(), recorded[0].path.as_str()),
            ("POST", "/")
        );
        assert_eq!(recorded[0].body, request_body().into_bytes());
        assert_eq!(recorded[0].header("x-amz-target"), Some(TARGET));
    }

    #[tokio::test]
    async fn a_scripted_date_is_sent_as_the_only_one() {
        let scripted = "Sun, 06 Nov 1994 08:49:37 GMT";
        let standin = StandIn::start(vec![cred()], move |_| Reply::Raw {
            status: 200,
            headers: vec![("Date".into(), scripted.into())],
            body: b"{}".to_vec(),
        });
        let (_, headers, _) = parse(
            &exchange(
                &standin,
                &signed_request(&standin, &cred(), REGION, &request_body()),
            )
            .await,
        );
        let dates: Vec<&str> = headers
            .iter()
            .filter(|(n, _)| n == "date")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(dates, [scripted]);
    }

    #[tokio::test]
    async fn rejects_a_bad_signature_without_calling_reply() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let standin = StandIn::start(vec![cred()], move |r| {
            counted.fetch_add(1, Ordering::SeqCst);
            success(r)
        });
        let impostor = Credential::new("AKIDEXAMPLE", "not-the-secret");
        let (status, headers, body) = parse(
            &exchange(
                &standin,
                &signed_request(&standin, &impostor, REGION, &request_body()),
            )
            .await,
        );
        assert_eq!(status, 400);
        assert_eq!(
            header(&headers, "x-amzn-requestid"),
            Some(CHECK_FAILED_REQUEST_ID)
        );
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["__type"], "InvalidSignatureException");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("signature mismatch: expected ")
        );
        let check = standin.requests()[0].check.clone().unwrap_err();
        assert!(
            check.starts_with("signature mismatch: expected "),
            "{check}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn rejects_protocol_and_region_errors() {
        let standin = StandIn::start(vec![cred()], success);
        let wrong_target =
            String::from_utf8(signed_request(&standin, &cred(), REGION, &request_body()))
                .unwrap()
                .replace(TARGET, "AWSStepFunctions.StopExecution");
        let (status, _, body_bytes) = parse(&exchange(&standin, wrong_target.as_bytes()).await);
        assert_eq!(status, 400);
        let error: serde_json::Value = serde_json::from_slice(&body_bytes).unwrap();
        assert_eq!(error["__type"], "SerializationException");
        let (status, _, _) = parse(
            &exchange(
                &standin,
                &signed_request(&standin, &cred(), "eu-west-1", &request_body()),
            )
            .await,
        );
        assert_eq!(status, 400);
        let checks: Vec<String> = standin
            .requests()
            .into_iter()
            .map(|r| r.check.unwrap_err())
            .collect();
        assert_eq!(
            checks[0],
            r#"x-amz-target must be one of ["AWSStepFunctions.StartExecution", "AWSStepFunctions.DescribeExecution", "AWSStepFunctions.StartSyncExecution"], got "AWSStepFunctions.StopExecution""#
        );
        let region =
            "credential scope region eu-west-1 does not match the state machine's region us-east-1";
        assert_eq!(checks[1], region);
    }

    #[tokio::test]
    async fn rejects_a_host_other_than_its_own() {
        let standin = StandIn::start(vec![cred()], success);
        let own = standin.addr().to_string();
        let other = own.replace("127.0.0.1", "localhost");
        // Signed with the other host, so that only the host check can refuse it.
        let request =
            String::from_utf8(signed_request(&standin, &cred(), REGION, &request_body())).unwrap();
        let headers: Vec<(String, String)> = [
            ("content-type", JSON_1_0.to_owned()),
            ("host", other.clone()),
            ("x-amz-date", sigv4::amz_date_of(SystemTime::now())),
            ("x-amz-target", TARGET.to_owned()),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
        let body = request_body();
        let auth = sigv4::authorization(
            "POST",
            "/",
            &headers,
            body.as_bytes(),
            &cred(),
            REGION,
            "states",
        );
        let text = raw_post(&headers, auth, &body);
        assert!(request.contains(&format!("host: {own}")));
        let (status, _, _) = parse(&exchange(&standin, text.as_bytes()).await);
        assert_eq!(status, 400);
        assert_eq!(
            standin.requests()[0].check,
            Err(format!("host must be exactly {own:?}, got [{other:?}]"))
        );
    }

    #[tokio::test]
    async fn drop_closes_the_connection_without_a_response() {
        let standin = StandIn::start(vec![cred()], |_| Reply::Drop);
        let response = exchange(
            &standin,
            &signed_request(&standin, &cred(), REGION, &request_body()),
        )
        .await;
        assert!(response.is_empty(), "got {} bytes", response.len());
        assert_eq!(standin.requests()[0].check, Ok(()));
    }

    #[tokio::test]
    async fn records_sequential_connections_in_order() {
        let standin = StandIn::start(vec![cred()], |r| {
            let name =
                serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["name"].clone();
            Reply::success(EXECUTION, "1", name.as_str().unwrap())
        });
        for i in 0..20 {
            let body = format!(r#"{{"stateMachineArn":"{ARN}","input":"{{}}","name":"run-{i}"}}"#);
            let (status, headers, _) =
                parse(&exchange(&standin, &signed_request(&standin, &cred(), REGION, &body)).await);
            assert_eq!(
                (status, header(&headers, "x-amzn-requestid")),
                (200, Some(format!("run-{i}").as_str()))
            );
        }
        let names: Vec<String> = standin
            .requests()
            .iter()
            .map(|r| String::from_utf8(r.body.clone()).unwrap())
            .collect();
        assert_eq!(names.len(), 20);
        assert!(
            names
                .iter()
                .enumerate()
                .all(|(i, b)| b.contains(&format!("\"run-{i}\"")))
        );
    }

    #[test]
    fn works_from_sync_tests_and_frees_its_port_when_dropped() {
        use std::io::{Read, Write};
        let standin = StandIn::start(vec![cred()], success);
        let mut stream = std::net::TcpStream::connect(standin.addr()).unwrap();
        stream
            .write_all(&signed_request(&standin, &cred(), REGION, &request_body()))
            .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        assert_eq!(parse(&response).0, 200);
        let addr = standin.addr();
        drop(standin);
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "port still open after drop"
        );
    }

    #[test]
    fn a_stall_sends_the_head_and_part_of_the_body_then_holds_the_connection() {
        use std::io::{ErrorKind, Read, Write};
        let body = br#"{"executionArn":"x","startDate":1}"#.to_vec();
        let script = body.clone();
        let standin = StandIn::start(vec![cred()], move |_| Reply::Stall {
            body: script.clone(),
            sent: 10,
        });
        let mut stream = std::net::TcpStream::connect(standin.addr()).unwrap();
        stream
            .write_all(&signed_request(&standin, &cred(), REGION, &request_body()))
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        let stalled = loop {
            match stream.read(&mut chunk) {
                Ok(0) => panic!("closed instead of stalling"),
                Ok(n) => received.extend_from_slice(&chunk[..n]),
                Err(e) => break e.kind(),
            }
        };
        assert!(matches!(
            stalled,
            ErrorKind::WouldBlock | ErrorKind::TimedOut
        ));
        let text = String::from_utf8(received).unwrap();
        let (head, sent) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert_eq!(sent.as_bytes(), &body[..10]);
        assert_eq!(standin.connections(), 1);
    }

    #[test]
    fn body_shape_rules() {
        let start = &OPERATIONS[0];
        let check_body = |body: &[u8]| super::check_body(start, body);
        assert_eq!(check_body(request_body().as_bytes()), Ok(REGION.to_owned()));
        let describe = format!(r#"{{"executionArn":"{EXECUTION}"}}"#);
        assert_eq!(
            super::check_body(&OPERATIONS[1], describe.as_bytes()),
            Ok(REGION.to_owned())
        );
        let cases = [
            ("[]", "body must be a JSON object"),
            (r#"{"input":"{}"}"#, "body has no stateMachineArn"),
            (
                r#"{"stateMachineArn":"x","input":{}}"#,
                "input must be a string",
            ),
            (
                r#"{"stateMachineArn":"x","input":"{}","extra":""}"#,
                "unexpected member \"extra\"",
            ),
            (
                r#"{"stateMachineArn":"x","input":"{\"a\":"}"#,
                "input is not JSON",
            ),
            (r#"{"stateMachineArn":"x","input":""}"#, "input is not JSON"),
            (
                r#"{"stateMachineArn":"arn:aws:lambda:us-east-1:1:function:f","input":"{}"}"#,
                "is not arn:",
            ),
        ];
        for (body, cause) in cases {
            let message = check_body(body.as_bytes()).unwrap_err();
            assert!(message.contains(cause), "{body}: {message}");
        }
    }
}
