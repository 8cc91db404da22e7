//! Figure 2: starts per second to the keep-alive loopback server, the library's
//! `Runtime::start` against `aws_sdk_sfn::Client::start_execution`.
//!
//! `in_flight` OS threads each drive their own current-thread tokio runtime, calling back
//! to back; all share one `Runtime` (ours) or one `Client` (native), as a server embedding
//! either would. Every thread warms up, all wait at a barrier while the server's connection
//! count is read, then all run for the same time.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::fixtures::{credentials, small_request};
use aws_sdk_sfn::error::DisplayErrorContext;
use sfn_host::{ClientOptions, HostConfig, Runtime, StartExecutionConfig};

use crate::server::Server;

/// Long enough for every thread to open its connections and warm its allocator.
const WARM_UP: Duration = Duration::from_millis(500);

/// One way of starting an execution, shared by every thread.
pub trait Starter: Sync {
    fn start(&self) -> impl Future<Output = Result<(), String>>;
}

/// The component through the library.
pub struct Ours {
    runtime: Runtime,
    config: StartExecutionConfig,
    options: ClientOptions,
}

impl Ours {
    /// A runtime of its own (its own connection pool), its code from `cache_dir`: compiled
    /// there by the first, before any timing.
    pub fn new(url: &str, cache_dir: &Path) -> Result<Self, String> {
        let mut host = HostConfig::default();
        host.allow_endpoint(url);
        host.cache_dir = Some(cache_dir.to_path_buf());
        let runtime = Runtime::new(host).map_err(|e| format!("loading the component: {e}"))?;
        let config = small_request();
        let options = ClientOptions {
            credentials: Some(credentials()),
            endpoint_url: Some(url.into()),
            ..ClientOptions::default()
        };
        Ok(Self {
            runtime,
            config,
            options,
        })
    }
}

impl Starter for Ours {
    async fn start(&self) -> Result<(), String> {
        let outcome = self.runtime.start(&self.config, &self.options).await;
        let answer = outcome.map_err(|e| format!("host: {e}"))?;
        answer.map(drop).map_err(|e| format!("component: {e:?}"))
    }
}

/// The SDK's client.
pub struct Native(aws_sdk_sfn::Client);

impl Native {
    pub fn new(url: &str) -> Self {
        let credentials = sfn_bench::native::static_credentials(
            sfn_bench::ACCESS_KEY_ID.into(),
            sfn_bench::SECRET_ACCESS_KEY.into(),
            None,
        );
        Self(sfn_bench::native::client(url, credentials))
    }
}

impl Starter for Native {
    async fn start(&self) -> Result<(), String> {
        let request = self.0.start_execution();
        let request = request.state_machine_arn(sfn_bench::STATE_MACHINE_ARN);
        let sent = request.input(sfn_bench::SMALL_INPUT).send().await;
        sent.map(drop)
            .map_err(|e| DisplayErrorContext(e).to_string())
    }
}

/// One run's result.
pub struct Throughput {
    pub per_second: f64,
    /// Connections the server accepted during the warm-up and during the measured time.
    pub warm_up_connections: u64,
    pub connections: u64,
}

impl Throughput {
    /// The median rate of `runs`, and all their connections.
    pub fn median(mut runs: Vec<Throughput>) -> Throughput {
        let warm_up_connections = runs.iter().map(|run| run.warm_up_connections).sum();
        let connections = runs.iter().map(|run| run.connections).sum();
        runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
        let per_second = runs.get(runs.len() / 2).map_or(0.0, |run| run.per_second);
        Throughput {
            per_second,
            warm_up_connections,
            connections,
        }
    }
}

/// Measures `starter` with `in_flight` threads for `time` after the warm-up.
pub fn measure(
    starter: &impl Starter,
    server: &Server,
    in_flight: usize,
    time: Duration,
) -> Result<Throughput, String> {
    let before = server.connections();
    let window = Window::after(WARM_UP, time);
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..in_flight)
            .map(|_| scope.spawn(|| worker(starter, &window, &done, in_flight)))
            .collect();
        std::thread::sleep(window.opens.saturating_duration_since(Instant::now()));
        let warmed = server.connections();
        std::thread::sleep(window.closes.saturating_duration_since(Instant::now()));
        let closed = server.connections();
        let mut calls = 0;
        for handle in workers {
            calls += handle.join().expect("a worker thread panicked")?;
        }
        Ok(Throughput {
            per_second: calls as f64 / time.as_secs_f64(),
            warm_up_connections: warmed - before,
            connections: closed - warmed,
        })
    })
}

/// The measured time: calls that end within it count.
struct Window {
    opens: Instant,
    closes: Instant,
}

impl Window {
    fn after(warm_up: Duration, time: Duration) -> Self {
        let opens = Instant::now() + warm_up;
        Self {
            opens,
            closes: opens + time,
        }
    }

    fn contains(&self, instant: Instant) -> bool {
        self.opens < instant && instant <= self.closes
    }
}

/// One thread's share: the calls that ended within the window.
fn worker(
    starter: &impl Starter,
    window: &Window,
    done: &AtomicUsize,
    threads: usize,
) -> Result<u64, String> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting a tokio runtime: {e}"));
    let calls = match &tokio {
        Ok(tokio) => tokio.block_on(calls_until_closed(starter, window)),
        Err(e) => Err(e.clone()),
    };
    // Both clients run a pooled connection on the runtime of the call that opened it, and
    // any thread's call may pick it from the shared pool: so every runtime stays driven
    // until all threads are done. A thread that stopped driving its runtime (blocked, or
    // gone) would stall or break the other threads' calls on its connections.
    done.fetch_add(1, Ordering::AcqRel);
    if let Ok(tokio) = &tokio {
        tokio.block_on(async {
            while done.load(Ordering::Acquire) < threads {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
    }
    calls
}

/// Calls back to back until the window closes (warming up before it opens); the number of
/// calls that ended within it.
async fn calls_until_closed(starter: &impl Starter, window: &Window) -> Result<u64, String> {
    let mut calls = 0;
    while Instant::now() < window.closes {
        starter.start().await?;
        calls += u64::from(window.contains(Instant::now()));
    }
    Ok(calls)
}
