//! Outbound HTTP for the component: the policy's check first, then one pooled client per
//! [`crate::Runtime`], shared by every call and task. wasmtime-wasi-http's own sender opens
//! a connection per request and speaks HTTP/1.1 only; this one keeps connections alive,
//! offers HTTP/2 to TLS servers (ALPN), verifies certificates with rustls against the
//! webpki roots, and enforces the connect, first-byte and between-bytes timeouts itself.

use std::error::Error as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::{Instant, Sleep};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::{self, http::outgoing_handler::Host as _};
use wasmtime_wasi_http::p2::types::HostOutgoingRequest;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttp, WasiHttpHooks, WasiHttpView};

use crate::Error as CallError;
use crate::error::ConfigError;
use crate::policy::{Policy, Refused};

/// How long an unused connection stays open: under the 60 s after which load balancers
/// commonly drop idle connections, so that a call rarely picks one the server has closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(45);
/// Idle connections kept per origin; more than enough for 16 calls in flight.
const MAX_IDLE_PER_ORIGIN: usize = 32;

/// The most the host waits; a component may ask for less (`request-options`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening a connection, TLS handshake included.
    pub connect: Duration,
    /// From sending a request to the response's head, and from one body chunk to the next
    /// (StartSyncExecution's head may take up to `sfn_core::SYNC_ANSWER_WITHIN`: it comes
    /// when the express execution ends).
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(60),
        }
    }
}

/// The pooled client. Cloning shares the pool.
#[derive(Clone)]
pub(crate) struct Connections {
    client: Client<Bounded<HttpsConnector<HttpConnector>>, WasiBody>,
    timeouts: Timeouts,
}

impl Connections {
    pub(crate) fn new(timeouts: Timeouts) -> Result<Self, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(ConfigError::Tls)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tcp = HttpConnector::new();
        // The policy, not the connector, decides which schemes may go out.
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(timeouts.connect));
        tcp.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(tcp);
        let connector = Bounded {
            inner: https,
            limit: timeouts.connect,
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_max_idle_per_host(MAX_IDLE_PER_ORIGIN)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Self { client, timeouts })
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Sends a request the policy has allowed, on a pooled connection or a new one.
    async fn send(
        self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<http::Response<WasiBody>, Error> {
        let limit = |asked: Option<Duration>, cap: Duration| asked.map_or(cap, |t| t.min(cap));
        // StartSyncExecution answers when the express execution ends: minutes, not seconds.
        let target = request.headers().get("x-amz-target");
        let target = target.and_then(|v| v.to_str().ok());
        let first_byte_cap = sfn_core::first_byte_timeout(target, self.timeouts.read);
        let first_byte = limit(options.and_then(|o| o.first_byte_timeout), first_byte_cap);
        let between_bytes = limit(
            options.and_then(|o| o.between_bytes_timeout),
            self.timeouts.read,
        );
        let response = tokio::time::timeout(first_byte, self.client.request(request))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(|e| classify(&e))?;
        Ok(response.map(|body| Paced::new(body, between_bytes).boxed_unsync()))
    }
}

/// A connector that gives up when connecting, TCP and TLS handshake together, takes longer
/// than `limit`: a server that accepts but never finishes the handshake has not been sent
/// anything, and must not hold the call until its read timeout.
#[derive(Clone)]
pub(crate) struct Bounded<C> {
    inner: C,
    limit: Duration,
}

type Connecting<T> =
    Pin<Box<dyn Future<Output = Result<T, Box<dyn std::error::Error + Send + Sync>>> + Send>>;

impl<C> tower_service::Service<http::Uri> for Bounded<C>
where
    C: tower_service::Service<http::Uri>,
    C::Future: Send + 'static,
    C::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = C::Response;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Connecting<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => {
                    Err(io::Error::new(io::ErrorKind::TimedOut, "connecting timed out").into())
                }
            }
        })
    }
}

/// What the component's `error-code` should say about a failed request.
fn classify(error: &hyper_util::client::legacy::Error) -> Error {
    let mut cause = error.source();
    while let Some(current) = cause {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(_) => Error::TlsCertificateError,
                _ => Error::TlsProtocolError,
            };
        }
        if let Some(io) = current.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
                io::ErrorKind::TimedOut => Error::ConnectionTimeout,
                // wasmtime maps the text of a failed name lookup to `dns-error`.
                kind => Error::Connect(io::Error::new(kind, io.to_string())),
            };
        }
        if let Some(hyper) = current.downcast_ref::<hyper::Error>() {
            return if hyper.is_incomplete_message() {
                Error::ConnectionTerminated
            } else {
                Error::HttpProtocolError
            };
        }
        cause = current.source();
    }
    Error::HttpProtocolError
}

/// A response body that fails with `connection-read-timeout` when the gap between two
/// chunks exceeds its limit: a server that stalls mid-body cannot hold a call forever.
struct Paced {
    body: Incoming,
    gap: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Paced {
    fn new(body: Incoming, gap: Duration) -> Self {
        let deadline = Box::pin(tokio::time::sleep(gap));
        Self {
            body,
            gap,
            deadline,
        }
    }
}

impl Body for Paced {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = Instant::now() + self.gap;
                self.deadline.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) if e.is_incomplete_message() => {
                Poll::Ready(Some(Err(Error::HttpResponseIncomplete)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::Hyper(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The send hook: the outbound policy decides before a connection is used or opened, and
/// the reason of a refusal is kept for the call's error, since the component only learns
/// that the host denied it. One call's hook: it numbers the call's attempts per operation.
pub(crate) struct Outbound {
    policy: Arc<Policy>,
    connections: Connections,
    refused: Option<Refused>,
    attempts: Vec<(String, u32)>,
}

impl Outbound {
    pub(crate) fn new(policy: Arc<Policy>, connections: Connections) -> Self {
        Self {
            policy,
            connections,
            refused: None,
            attempts: Vec::new(),
        }
    }

    /// The component's error, with the policy's reason added to the transport error that
    /// a refusal caused.
    pub(crate) fn explain(&self, error: CallError) -> CallError {
        match (error, &self.refused) {
            (CallError::Transport(message), Some(reason)) => {
                CallError::Transport(format!("{message}: {reason}"))
            }
            (error, _) => error,
        }
    }

    /// Which attempt of its operation (`x-amz-target`) this call's request is.
    fn attempt(&mut self, operation: &str) -> u32 {
        let index = match self.attempts.iter().position(|(op, _)| op == operation) {
            Some(index) => index,
            None => {
                self.attempts.push((operation.to_string(), 0));
                self.attempts.len() - 1
            }
        };
        self.attempts[index].1 += 1;
        self.attempts[index].1
    }
}

type Sent = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _request_body_sent: Sent,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, Sent), Error>> + Send> {
        let verdict = self.policy.check(request.uri());
        self.refused = verdict.as_ref().err().cloned();
        let operation = request.headers().get("x-amz-target");
        let operation = operation.and_then(|v| v.to_str().ok()).unwrap_or("-");
        let shown = Shown {
            method: request.method().clone(),
            url: url_of(request.uri()),
            attempt: self.attempt(operation),
            operation: operation.to_string(),
        };
        let connections = self.connections.clone();
        Box::new(async move {
            if let Err(refused) = verdict {
                tracing::debug!("{shown}: {refused}");
                return Err(Error::HttpRequestDenied);
            }
            let began = Instant::now();
            let response = connections.send(request, options).await;
            let took = began.elapsed();
            match &response {
                Ok(response) => tracing::debug!("{shown}: {} in {took:?}", response.status()),
                Err(error) => tracing::debug!("{shown}: failed after {took:?}: {error}"),
            }
            // The pool drives the connection: nothing is left for wasmtime to await.
            Ok((response?, Box::new(async { Ok(()) }) as Sent))
        })
    }
}

/// A request as `--debug` shows it: never a header or the body, which carry secrets.
struct Shown {
    method: http::Method,
    url: String,
    operation: String,
    attempt: u32,
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Shown {
            method,
            url,
            operation,
            attempt,
        } = self;
        write!(f, "{method} {url} {operation} attempt {attempt}")
    }
}

/// The URL without any user information, and without its query.
fn url_of(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("-");
    let host = uri.host().unwrap_or("-");
    let port = uri.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}{}", uri.path())
}

/// Where the component finds `handle`: the `wasi:http` version wasmtime-wasi-http 48
/// implements (components importing an earlier 0.2 link to it too).
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// Links `wasi:http`: wasmtime-wasi-http's, except that `handle` also drops the request
/// options it is given. wasmtime-wasi-http 48 reads them and leaves them in the store's
/// table, one per request: unnoticed in a store that makes one request, a leak in a store
/// that serves call after call (see `runtime::Warm`).
pub(crate) fn add_to_linker<T: WasiHttpView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    let options = bindings::LinkOptions::default();
    bindings::http::types::add_to_linker::<_, WasiHttp>(linker, &options.into(), T::http)?;
    linker.instance(OUTGOING_HANDLER)?.func_wrap(
        "handle",
        |mut store: StoreContextMut<'_, T>, params| {
            let (request, options): (
                Resource<HostOutgoingRequest>,
                Option<Resource<RequestOptions>>,
            ) = params;
            let mut http = store.data_mut().http();
            let given = options.as_ref().map(|options| options.rep());
            let handled = http.handle(request, options);
            if let Some(rep) = given {
                let options = Resource::<RequestOptions>::new_own(rep);
                // Only if `handle` left them there: a wasmtime that drops them itself may
                // have put the response in their slot, and `delete` checks the type only
                // after removing the entry.
                if http.table.get(&options).is_ok() {
                    let _ = http.table.delete(options);
                }
            }
            match handled {
                Ok(response) => Ok((Ok(response),)),
                // An error code is the component's to handle; anything else traps.
                Err(error) => Ok((Err(error.downcast()?),)),
            }
        },
    )
}
