//! A proxy on 127.0.0.1 that loses answers: it forwards each request to the upstream server
//! and, for the first `lose` of them, closes the client's connection instead of passing the
//! answer on. The upstream has acted; the client only sees a connection closed before a
//! response, as after a network fault on the way back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::server::{Answer, Received, Server};

/// A running proxy; it stops when dropped.
pub struct LosingProxy {
    server: Server,
    forwarded: Arc<AtomicUsize>,
}

impl LosingProxy {
    /// Proxies to `upstream` (`http://127.0.0.1:PORT`), losing the first `lose` answers.
    pub fn start(upstream: &str, lose: usize) -> LosingProxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("the upstream is http://127.0.0.1:PORT");
        let forwarded = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&forwarded);
        let server = Server::start(move |request| {
            let count = Arc::clone(&count);
            async move {
                let answer = exchange(upstream, request).await;
                match answer {
                    Ok(_) if count.fetch_add(1, Ordering::SeqCst) < lose => Answer::Close,
                    Ok(response) => Answer::Respond(response),
                    Err(e) => Answer::text(502, format!("proxy: {e}")),
                }
            }
        });
        LosingProxy { server, forwarded }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests forwarded upstream and answered there, lost answers included.
    pub fn forwarded(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }
}

/// The request, sent upstream on a connection of its own; the whole answer.
async fn exchange(
    upstream: SocketAddr,
    request: Received,
) -> Result<Response<Full<Bytes>>, String> {
    let mut builder = Request::builder()
        .method(request.method.as_str())
        .uri(&request.path);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Full::new(request.body))
        .map_err(|e| e.to_string())?;
    let stream = TcpStream::connect(upstream)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    drop(tokio::spawn(connection));
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}
