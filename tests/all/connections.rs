//! The library's pooled HTTP client: connections kept alive and shared, the outbound
//! policy deciding before any connection is used, and the read timeouts enforced.

use std::time::{Duration, Instant};

use sfn_host::{Error, HostConfig, Runtime, Timeouts};
use sfn_test_kit::standin::{Reply, StandIn};
use sfn_test_kit::{ARN, EXECUTION_ARN};

use crate::{attempted, config, host, once, options, runtime, standin, success};

/// One attempt: these tests are about connections, not retries.
async fn start(runtime: &Runtime, server: &StandIn) -> Result<sfn_host::Execution, Error> {
    let result = runtime
        .start(&config(ARN), &once(options(Some(&server.url()))))
        .await
        .expect("the call completes");
    attempted(result, 1)
}

/// A host whose reads give up after `read`.
fn impatient(server: &StandIn, read: Duration) -> HostConfig {
    let mut host = host(&server.url());
    host.io_timeouts = Timeouts {
        read,
        ..Timeouts::default()
    };
    host
}

#[tokio::test]
async fn sequential_calls_reuse_one_connection() {
    let server = standin(success);
    let runtime = runtime(host(&server.url()));
    for _ in 0..5 {
        assert!(start(&runtime, &server).await.is_ok());
    }
    assert_eq!(server.requests().len(), 5);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn reconfigured_runtimes_share_the_pool() {
    let server = standin(success);
    let first = runtime(host(&server.url()));
    assert!(start(&first, &server).await.is_ok());
    let second = first.with_config(host(&server.url())).unwrap();
    assert!(start(&second, &server).await.is_ok());
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn concurrent_calls_open_at_most_one_connection_each_and_keep_them() {
    let server = standin(success);
    let runtime = runtime(host(&server.url()));
    let call = || start(&runtime, &server);
    let results = tokio::join!(call(), call(), call(), call());
    for result in [results.0, results.1, results.2, results.3] {
        assert!(result.is_ok(), "{result:?}");
    }
    let opened = server.connections();
    assert!((1..=4).contains(&opened), "{opened} connections");
    assert!(start(&runtime, &server).await.is_ok());
    assert_eq!(server.connections(), opened, "the fifth call reused one");
}

#[tokio::test]
async fn a_host_outside_the_policy_never_gets_a_connection_pooled_or_new() {
    let allowed = standin(success);
    let first = runtime(host(&allowed.url()));
    assert!(start(&first, &allowed).await.is_ok());
    assert_eq!(allowed.connections(), 1);

    // Same pool, a pooled connection to `allowed` idle in it, but a policy that allows
    // nothing custom: the pooled connection must not be used.
    let denied = first
        .with_config({
            let mut c = host(&allowed.url());
            c.allowed_endpoint = None;
            c
        })
        .unwrap();
    let refused = start(&denied, &allowed).await;
    assert!(
        matches!(&refused, Err(Error::Transport(m)) if m.contains("refused by the host's outbound policy")),
        "{refused:?}"
    );
    assert_eq!(allowed.requests().len(), 1);

    // A host the pool has never seen gets no new connection either.
    let stranger = standin(success);
    let refused = start(&first, &stranger).await;
    assert!(matches!(refused, Err(Error::Transport(_))), "{refused:?}");
    assert_eq!((stranger.connections(), stranger.requests().len()), (0, 0));
}

/// Runs one call against a server that answers with `reply` and a host whose reads give up
/// after 300 ms; checks that the call failed with `failure` within that bound.
async fn times_out(reply: Reply, failure: &str) {
    let server = standin(move |_| reply.clone());
    let read = Duration::from_millis(300);
    let began = Instant::now();
    let result = start(&runtime(impatient(&server, read)), &server).await;
    let took = began.elapsed();
    let url = server.url();
    assert_eq!(
        result,
        Err(Error::Transport(format!(
            "request to {url}/ failed: {failure}"
        )))
    );
    // The bound, plus the scheduling slack of a loaded 2-core machine.
    assert!(
        took >= read && took < read + Duration::from_secs(5),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_server_that_stalls_mid_body_is_a_transport_error_within_the_bound() {
    let body = format!(r#"{{"executionArn":"{EXECUTION_ARN}","startDate":1.7E9}}"#);
    let stall = Reply::Stall {
        body: body.into_bytes(),
        sent: 20,
    };
    times_out(stall, "reading the response: connection read timeout").await;
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_transport_error_within_the_bound() {
    times_out(Reply::Hang, "timed out waiting for the response").await;
}

#[tokio::test]
async fn a_connection_the_server_closes_is_not_reused() {
    let server = standin(|_| match Reply::success(EXECUTION_ARN, "1.7E9", "req-ok") {
        Reply::Raw {
            status,
            mut headers,
            body,
        } => {
            headers.push(("connection".into(), "close".into()));
            Reply::Raw {
                status,
                headers,
                body,
            }
        }
        other => other,
    });
    let runtime = runtime(host(&server.url()));
    for _ in 0..3 {
        let result = start(&runtime, &server).await;
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!((server.requests().len(), server.connections()), (3, 3));
}

/// A server that accepts connections and never says a word: a TLS client waits on its
/// handshake. The listener and every accepted connection stay open until it is dropped.
struct Mute {
    url: String,
    _task: tokio::task::JoinHandle<()>,
}

impl Mute {
    async fn start() -> Mute {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Mute {
            url: format!("https://127.0.0.1:{port}"),
            _task: task,
        }
    }
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_is_bounded_by_connect_and_not_sent() {
    let mute = Mute::start().await;
    let mut host = host(&mute.url);
    host.io_timeouts = Timeouts {
        connect: Duration::from_millis(500),
        read: Duration::from_secs(60),
    };
    let runtime = runtime(host);
    let began = Instant::now();
    let result = runtime
        .start(&config(ARN), &once(options(Some(&mute.url))))
        .await
        .expect("the call completes");
    let took = began.elapsed();
    let failure = result.expect_err("nothing answers");
    assert!(
        matches!(&failure.error, Error::Transport(m) if m.contains("timed out connecting")),
        "{failure:?}"
    );
    // Nothing was sent, so nothing may have started.
    assert_eq!(failure.maybe_started, None, "{failure:?}");
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}
