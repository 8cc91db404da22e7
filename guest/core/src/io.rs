//! What a call needs from outside the core: clocks, randomness and one way to send a
//! request. The WASI build implements it in `transport`; tests script it.

use std::time::{Duration, SystemTime};

use crate::SignedRequest;
use crate::wire::Response;

/// The world a call runs in.
pub trait Io {
    /// The wall clock: signing times, and how long a waited-for execution has run.
    fn now(&mut self) -> SystemTime;
    /// A monotonic clock from an origin of the implementation's choosing: backoff and
    /// deadlines are measured on it.
    fn monotonic(&mut self) -> Duration;
    /// Waits, on the monotonic clock.
    fn sleep(&mut self, duration: Duration);
    /// Uniformly random bits: names and jitter.
    fn random(&mut self) -> u64;
    /// Sends the request once and reads the whole answer, giving up when the monotonic
    /// clock reaches `deadline`.
    fn send(
        &mut self,
        request: &SignedRequest,
        deadline: Option<Duration>,
    ) -> Result<Response, SendError>;
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The request never left: the name did not resolve, the connection was refused or
    /// timed out, the TLS handshake failed. Sending it again is safe, even where a replay
    /// is not.
    Unsent(String),
    /// The connection failed, was reset or timed out after the request may have gone out:
    /// the same request may work again, and the first may have been acted on.
    Transient(String),
    /// It would fail again the same way, and nothing was sent: refused by the outbound
    /// policy, an untrusted certificate.
    Permanent(String),
    /// An answer came but cannot be read (over the size cap): not worth sending again, and
    /// the request may have been acted on.
    Unreadable(String),
    /// The call's deadline came first; the text says what was still awaited.
    Deadline(String),
}

/// An [`Io`] for tests: a clock that moves only when slept on (or by `send_takes`), fixed
/// randomness, and answers scripted in order; it records what was sent and slept.
#[cfg(test)]
pub mod scripted {
    use super::*;

    pub struct Scripted {
        pub answers: std::collections::VecDeque<Result<Response, SendError>>,
        pub sent: Vec<SignedRequest>,
        pub slept: Vec<Duration>,
        pub clock: Duration,
        /// Monotonic time each send takes.
        pub send_takes: Duration,
        pub random: u64,
        pub wall_origin: SystemTime,
    }

    impl Scripted {
        pub fn new(answers: impl IntoIterator<Item = Result<Response, SendError>>) -> Self {
            Scripted {
                answers: answers.into_iter().collect(),
                sent: Vec::new(),
                slept: Vec::new(),
                clock: Duration::ZERO,
                send_takes: Duration::from_millis(10),
                random: u64::MAX / 2,
                wall_origin: std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            }
        }

        /// A `status` answer with a JSON body.
        pub fn json(status: u16, body: &str) -> Result<Response, SendError> {
            Ok(Response {
                status,
                headers: vec![("x-amzn-RequestId".into(), format!("req-{status}"))],
                body: body.as_bytes().to_vec(),
            })
        }

        /// `answer` with a `Date` header of `epoch_secs`: the service's clock when it answered.
        pub fn dated(
            mut answer: Result<Response, SendError>,
            epoch_secs: u64,
        ) -> Result<Response, SendError> {
            if let Ok(response) = &mut answer {
                let at = std::time::UNIX_EPOCH + Duration::from_secs(epoch_secs);
                let date = httpdate::fmt_http_date(at);
                response.headers.push(("Date".into(), date));
            }
            answer
        }

        pub fn error(status: u16, code: &str) -> Result<Response, SendError> {
            Self::json(
                status,
                &format!(r#"{{"__type":"{code}","message":"{code} here"}}"#),
            )
        }
    }

    /// Options with test credentials (secret `SECRET`) and nothing else.
    pub fn options() -> crate::ClientOptions {
        crate::ClientOptions {
            credentials: Some(crate::Credentials {
                access_key_id: "AKID".into(),
                secret_access_key: "SECRET".into(),
                session_token: None,
            }),
            ..crate::ClientOptions::default()
        }
    }

    impl Io for Scripted {
        fn now(&mut self) -> SystemTime {
            self.wall_origin + self.clock
        }

        fn monotonic(&mut self) -> Duration {
            self.clock
        }

        fn sleep(&mut self, duration: Duration) {
            self.slept.push(duration);
            self.clock += duration;
        }

        fn random(&mut self) -> u64 {
            self.random
        }

        fn send(
            &mut self,
            request: &SignedRequest,
            deadline: Option<Duration>,
        ) -> Result<Response, SendError> {
            self.sent.push(request.clone());
            self.clock += self.send_takes;
            if let Some(deadline) = deadline
                && self.clock >= deadline
            {
                self.clock = deadline;
                return Err(SendError::Deadline("waiting for the response".into()));
            }
            let answer = self.answers.pop_front();
            answer.unwrap_or_else(|| Err(SendError::Permanent("nothing scripted".into())))
        }
    }
}
