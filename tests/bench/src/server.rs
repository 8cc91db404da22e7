//! The loopback Step Functions stand-in every figure talks to: HTTP/1.1 with keep-alive on
//! 127.0.0.1, answering every request with the same successful `StartExecution` reply, and
//! counting the TCP connections it accepts (how well each client reuses them).

use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const BODY: &[u8] = br#"{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:HelloWorld:NAME","startDate":1.7E9}"#;

/// A running server. It lives as long as the process: its thread is never joined.
pub struct Server {
    url: String,
    accepted: Arc<AtomicU64>,
}

impl Server {
    /// Binds an ephemeral port and serves it from a thread of its own.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let accepted = Arc::new(AtomicU64::new(0));
        let counter = accepted.clone();
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("loopback-server".into())
            .spawn(move || tokio.block_on(serve(listener, counter)))?;
        Ok(Self { url, accepted })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
}

async fn serve(listener: TcpListener, accepted: Arc<AtomicU64>) {
    let listener =
        tokio::net::TcpListener::from_std(listener).expect("a non-blocking listener registers");
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors, say: back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        accepted.fetch_add(1, Ordering::Relaxed);
        // Replies are one small write; without this, Nagle could hold one back.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(answer);
            // A client closing its connection is not an error worth reporting.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Reads the whole request (so the connection can carry the next one) and succeeds.
async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let _ = request.into_body().collect().await;
    let response = Response::builder()
        .status(200)
        .header(CONTENT_TYPE, "application/x-amz-json-1.0")
        .body(Full::new(Bytes::from_static(BODY)))
        .expect("a static response is valid");
    Ok(response)
}
