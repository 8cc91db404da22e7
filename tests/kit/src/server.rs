//! A small HTTP/1.1 server on 127.0.0.1 for the fakes of the kit (the losing proxy, the
//! credential endpoints): each request goes to an async handler, which answers, or has the
//! connection closed with no answer at all. It serves on a [`Listening`] and stops, freeing
//! its port, when dropped.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::Notify;

use crate::listening::Listening;

/// A request as it arrived: method, path and query, headers (names lower-case), body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Received {
    /// The first value of a header; `name` in lower case.
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str())
    }
}

/// What a handler does with a request.
pub enum Answer {
    Respond(Response<Full<Bytes>>),
    /// Close the connection without a response.
    Close,
}

impl Answer {
    /// `status` with a body and no other header.
    pub fn text(status: u16, body: impl Into<Bytes>) -> Answer {
        Answer::with_headers(status, &[], body)
    }

    /// `status` with these headers and a body.
    pub fn with_headers(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Answer {
        let mut response = Response::builder().status(status);
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        let response = response.body(Full::new(body.into()));
        Answer::Respond(response.expect("a scripted answer is valid HTTP"))
    }
}

type Handled = Pin<Box<dyn Future<Output = Answer> + Send>>;
type Handler = dyn Fn(Received) -> Handled + Send + Sync;

struct Shared {
    handler: Box<Handler>,
    log: Mutex<Vec<Received>>,
}

/// A running server.
pub struct Server {
    listening: Listening,
    shared: Arc<Shared>,
}

impl Server {
    /// Serves every request with `handler`.
    pub fn start<F>(handler: impl Fn(Received) -> F + Send + Sync + 'static) -> Server
    where
        F: Future<Output = Answer> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            handler: Box::new(move |request| Box::pin(handler(request))),
            log: Mutex::new(Vec::new()),
        });
        let served = Arc::clone(&shared);
        let listening = Listening::start("server", move |stream| {
            drop(tokio::spawn(connection(stream, Arc::clone(&served))));
        });
        Server { listening, shared }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        self.listening.url()
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.log().clone()
    }

    fn log(&self) -> MutexGuard<'_, Vec<Received>> {
        self.shared.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    // Closing without an answer: the service call parks and raises `closed`, and the select
    // drops the connection future, which closes the socket.
    let closed = Arc::new(Notify::new());
    let raised = Arc::clone(&closed);
    let service =
        service_fn(move |request| handle(Arc::clone(&shared), Arc::clone(&raised), request));
    let served = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = served => {}
        _ = closed.notified() => {}
    }
}

async fn handle(
    shared: Arc<Shared>,
    closed: Arc<Notify>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let received = Received {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default(),
    };
    shared
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(received.clone());
    match (shared.handler)(received).await {
        Answer::Respond(response) => Ok(response),
        Answer::Close => {
            closed.notify_one();
            std::future::pending().await
        }
    }
}
