//! A listener on 127.0.0.1 that accepts on a thread and a current-thread runtime of its own,
//! so that it works from sync and async tests alike and never depends on the test's runtime
//! making progress. The stand-in and the small server of the fakes both serve on one.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Accepting until dropped; dropping it closes the listener and every connection task
/// before `drop` returns.
pub struct Listening {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Listening {
    /// Binds now, so that the address is known as soon as this returns, then hands each
    /// accepted connection to `accept`, which runs on the listener's runtime and spawns
    /// whatever serves it. `name` names the thread, with the port.
    pub fn start(name: &str, accept: impl Fn(TcpStream) + Send + 'static) -> Listening {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind to 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let addr = listener.local_addr().expect("the listener's address");
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || serve(listener, accept, stopped))
            .expect("spawn the listener's thread");
        Listening {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Joining means the listener and every connection are closed once drop returns.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    listener: std::net::TcpListener,
    accept: impl Fn(TcpStream),
    mut stopped: oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the listener's runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("register the listener");
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => accept(stream),
                    // Out of descriptors, say: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
            }
        }
    });
    // Dropping the runtime cancels the connection tasks, closing their sockets.
}
