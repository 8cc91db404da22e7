//! One operation's requests to the resolved endpoint: each attempt signed afresh, sent, and
//! retried as the plan says, within the call's deadline.

use std::time::{Duration, SystemTime};

use crate::endpoint::Endpoint;
use crate::io::{Io, SendError};
use crate::retry::{self, Plan};
use crate::sign;
use crate::types::{Credentials, Error, SignedRequest};
use crate::wire::Response;

/// Where and as whom a call's requests go, and how many attempts and how long it has.
pub struct Client {
    pub endpoint: Endpoint,
    pub region: String,
    pub credentials: Credentials,
    pub plan: Plan,
    /// When the call's time is up, on the monotonic clock of [`Io`].
    pub deadline: Option<Duration>,
}

/// What one failed attempt leaves the call to do.
enum Step {
    Retry(Error),
    Stop(Error),
}

/// An operation's outcome and the requests it took.
pub struct Attempted<T> {
    pub outcome: Result<T, Error>,
    pub attempts: u32,
}

impl Client {
    /// Starts the call's clock: its deadline is the plan's timeout from now.
    pub fn begin(&mut self, io: &mut dyn Io) {
        let now = io.monotonic();
        self.deadline = self.plan.timeout.and_then(|t| now.checked_add(t));
    }

    /// Sends `body` to the operation `target` until an answer parses, an error is final, or
    /// the attempts or the time run out; the last error is the one reported.
    pub fn call<T>(
        &self,
        io: &mut dyn Io,
        target: &str,
        body: &str,
        parse: impl Fn(&Response) -> Result<T, Error>,
    ) -> Attempted<T> {
        let mut attempts = 0;
        loop {
            let request = match self.sign(target, body.to_string(), io.now()) {
                Ok(request) => request,
                Err(error) => return Attempted::failed(error, attempts),
            };
            attempts += 1;
            let retryable = match self.attempt(io, &request, &parse) {
                Ok(value) => {
                    return Attempted {
                        outcome: Ok(value),
                        attempts,
                    };
                }
                Err(Step::Retry(error)) => error,
                Err(Step::Stop(error)) => return Attempted::failed(error, attempts),
            };
            if attempts >= self.plan.max_attempts || !self.wait_before_retry(io, attempts) {
                return Attempted::failed(retryable, attempts);
            }
        }
    }

    /// A request of the operation `target`, signed at `now`.
    pub fn sign(
        &self,
        target: &str,
        body: String,
        now: SystemTime,
    ) -> Result<SignedRequest, Error> {
        let (endpoint, region, credentials) = (&self.endpoint, &self.region, &self.credentials);
        sign::sign_request(endpoint, region, target, body, credentials, now)
    }

    /// One request and its answer; a failure says whether another attempt may help.
    fn attempt<T>(
        &self,
        io: &mut dyn Io,
        request: &SignedRequest,
        parse: &impl Fn(&Response) -> Result<T, Error>,
    ) -> Result<T, Step> {
        match io.send(request, self.deadline) {
            Ok(response) => parse(&response).map_err(|error| {
                if retry::is_retryable(&error) {
                    Step::Retry(error)
                } else {
                    Step::Stop(error)
                }
            }),
            Err(SendError::Transient(message)) => Err(Step::Retry(Error::Transport(message))),
            Err(SendError::Permanent(message)) => Err(Step::Stop(Error::Transport(message))),
            Err(SendError::Deadline(message)) => Err(Step::Stop(self.timed_out(&message))),
        }
    }

    /// Sleeps the backoff before the next attempt; false when the deadline would pass first,
    /// so that the call ends now with its last error instead of at the deadline with none.
    fn wait_before_retry(&self, io: &mut dyn Io, attempts: u32) -> bool {
        let delay = retry::backoff(attempts, io.random());
        if let Some(deadline) = self.deadline
            && io.monotonic().saturating_add(delay) >= deadline
        {
            return false;
        }
        io.sleep(delay);
        true
    }

    fn timed_out(&self, awaiting: &str) -> Error {
        let timeout = self.plan.timeout.unwrap_or_default();
        Error::Transport(format!(
            "{awaiting}: the call's timeout of {timeout:?} passed"
        ))
    }
}

impl<T> Attempted<T> {
    fn failed(error: Error, attempts: u32) -> Self {
        Attempted {
            outcome: Err(error),
            attempts,
        }
    }
}
