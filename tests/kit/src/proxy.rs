//! A proxy on 127.0.0.1 that loses answers: it forwards each request to the upstream server
//! and, for the first `lose` of them, closes the client's connection instead of passing the
//! answer on. The upstream has acted; the client only sees a connection closed before a
//! response, as after a network fault on the way back.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

struct Shared {
    upstream: SocketAddr,
    lose: usize,
    forwarded: AtomicUsize,
}

/// A running proxy; it stops when dropped.
pub struct LosingProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LosingProxy {
    /// Proxies to `upstream` (`http://127.0.0.1:PORT`), losing the first `lose` answers.
    pub fn start(upstream: &str, lose: usize) -> LosingProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("the upstream is http://127.0.0.1:PORT");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            upstream,
            lose,
            forwarded: AtomicUsize::new(0),
        });
        let (stop, stopped) = oneshot::channel();
        let served = Arc::clone(&shared);
        let thread = std::thread::spawn(move || serve(listener, served, stopped));
        LosingProxy {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests forwarded upstream so far, lost answers included.
    pub fn forwarded(&self) -> usize {
        self.shared.forwarded.load(Ordering::SeqCst)
    }
}

impl Drop for LosingProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the proxy's runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("register the listener");
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => if let Ok((stream, _)) = accepted {
                    drop(tokio::spawn(connection(stream, Arc::clone(&shared))));
                },
            }
        }
    });
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    // Losing an answer means dropping the connection: the service call parks and raises
    // `lost`, and the select drops the connection future, closing the socket.
    let lost = Arc::new(Notify::new());
    let raised = Arc::clone(&lost);
    let service =
        service_fn(move |request| forward(Arc::clone(&shared), Arc::clone(&raised), request));
    let served = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = served => {}
        _ = lost.notified() => {}
    }
}

async fn forward(
    shared: Arc<Shared>,
    lost: Arc<Notify>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = exchange(shared.upstream, request).await;
    let count = shared.forwarded.fetch_add(1, Ordering::SeqCst);
    match answer {
        Ok(response) if count >= shared.lose => Ok(response),
        Ok(_) => {
            lost.notify_one();
            std::future::pending().await
        }
        Err(e) => Ok(Response::builder()
            .status(502)
            .body(Full::new(Bytes::from(format!("proxy: {e}"))))
            .expect("a plain 502 is valid")),
    }
}

/// The request, sent upstream on a connection of its own; the whole answer.
async fn exchange(
    upstream: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, String> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let stream = TcpStream::connect(upstream)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    drop(tokio::spawn(connection));
    let response = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}
