//! One operation's requests to the resolved endpoint: each attempt signed afresh, sent, and
//! retried as the plan says, within the call's deadline.

use std::time::{Duration, SystemTime};

use crate::endpoint::{self, Endpoint};
use crate::io::{Io, SendError};
use crate::partition::Partition;
use crate::retry::{self, Plan};
use crate::scrub::Scrub;
use crate::types::{ClientOptions, Credentials, Error, FieldError, SignedRequest};
use crate::wire::Response;
use crate::{credentials, error, sign, wire};

/// Where and as whom a call's requests go, and how many attempts and how long it has.
pub struct Client {
    pub endpoint: Endpoint,
    pub region: String,
    pub credentials: Credentials,
    pub plan: Plan,
    /// When the call's time is up, on the monotonic clock of [`Io`].
    pub deadline: Option<Duration>,
    /// Whether a request whose fate is unknown (its answer lost, or a 5xx) may be sent
    /// again. False for StartSyncExecution: an express execution has no name to be found
    /// by, so only a refusal (throttling) or a request that never left is retried.
    pub replayable: bool,
}

/// What the options ask of every call, checked before anything else: the custom endpoint
/// (if any) and the retry plan. Every broken rule is listed.
pub struct Settings {
    custom: Option<Endpoint>,
    plan: Plan,
    fips: bool,
    dual_stack: bool,
}

/// Checks the options' endpoint and retry settings.
pub fn settings(
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, Vec<FieldError>> {
    let (fips, dual_stack) = (options.use_fips, options.use_dual_stack);
    let custom = endpoint::custom_from(options.endpoint_url.as_deref(), env)
        .map(|custom| endpoint::custom(custom, fips, dual_stack))
        .transpose();
    let (custom, plan) = error::all_valid(custom, retry::plan(options, env))?;
    Ok(Settings {
        custom,
        plan,
        fips,
        dual_stack,
    })
}

impl Settings {
    /// A client for `region` of `partition`, with the credentials of the options or the
    /// environment. `host_prefix` (an operation's `endpoint.hostPrefix`) goes before the
    /// rule set's host; a custom endpoint is used as given, since no emulator on
    /// `127.0.0.1` resolves a prefixed name.
    pub fn client(
        self,
        partition: &Partition,
        region: &str,
        host_prefix: &str,
        options: &ClientOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Client, Error> {
        let (fips, dual_stack) = (self.fips, self.dual_stack);
        let endpoint = self.custom.unwrap_or_else(|| {
            endpoint::standard(partition, region, fips, dual_stack).with_host_prefix(host_prefix)
        });
        Ok(Client {
            endpoint,
            region: region.to_string(),
            credentials: credentials::resolve(options.credentials.as_ref(), env)?,
            plan: self.plan,
            deadline: None,
            replayable: true,
        })
    }
}

/// One failed attempt: its error, whether another attempt may help, and whether the
/// request may have been acted on although no good answer came back.
struct Failed {
    error: Error,
    retry: bool,
    unsure: bool,
}

/// An operation's outcome and the requests it took.
pub struct Attempted<T> {
    pub outcome: Result<T, Error>,
    pub attempts: u32,
    /// The call failed on an error that another attempt might have cured (throttling, a
    /// 5xx, a failed connection), and ran out of attempts or time.
    pub gave_up: bool,
    /// Some request may have been acted on without its answer read: it was lost, cut
    /// short, late past the deadline, unreadable, or a server error (5xx).
    pub unsure: bool,
}

impl Client {
    /// Starts the call's clock: its deadline is the plan's timeout from now. Returns now, on
    /// the monotonic clock of `io`: no attempt of the call was sent before it.
    pub fn begin(&mut self, io: &mut dyn Io) -> Duration {
        let now = io.monotonic();
        self.deadline = self.plan.timeout.and_then(|t| now.checked_add(t));
        now
    }

    /// Sends `body` to the operation `target` until an answer parses, an error is final, or
    /// the attempts or the time run out; the last error is the one reported. Whatever came
    /// back, value or error, is scrubbed of the credentials' secrets.
    pub fn call<T: Scrub>(
        &self,
        io: &mut dyn Io,
        target: &str,
        body: &str,
        parse: impl Fn(&Response) -> Result<T, Error>,
    ) -> Attempted<T> {
        let (mut attempts, mut unsure) = (0, false);
        let payload = sign::Payload::new(body);
        loop {
            let request = match self.sign(target, &payload, io.now()) {
                Ok(request) => request,
                Err(error) => return Attempted::failed(error, attempts, false, unsure),
            };
            attempts += 1;
            let failed = match self.attempt(io, &request, &parse) {
                Ok(value) => {
                    return Attempted {
                        outcome: Ok(value),
                        attempts,
                        gave_up: false,
                        unsure,
                    };
                }
                Err(failed) => failed,
            };
            unsure |= failed.unsure;
            if !failed.retry {
                return Attempted::failed(failed.error, attempts, false, unsure);
            }
            if attempts >= self.plan.max_attempts || !self.wait_before_retry(io, attempts) {
                return Attempted::failed(failed.error, attempts, true, unsure);
            }
        }
    }

    /// A request of the operation `target`, signed at `now`.
    pub fn sign(
        &self,
        target: &str,
        payload: &sign::Payload<'_>,
        now: SystemTime,
    ) -> Result<SignedRequest, Error> {
        let (endpoint, region, credentials) = (&self.endpoint, &self.region, &self.credentials);
        sign::sign_request(endpoint, region, target, payload, credentials, now)
    }

    /// One request and its answer; a failure says whether another attempt may help and
    /// whether this one may have been acted on. This is where text from the network enters
    /// the core: the raw answer is scrubbed before it is parsed (and a body cut), and the
    /// parsed value after, since JSON escapes such as `\/` can hide a secret from the first;
    /// every error too, the runtime's words on a failed exchange included.
    fn attempt<T: Scrub>(
        &self,
        io: &mut dyn Io,
        request: &SignedRequest,
        parse: &impl Fn(&Response) -> Result<T, Error>,
    ) -> Result<T, Failed> {
        let secrets = self.credentials.secrets();
        let failed = |error: Error, retry, unsure| Failed {
            error: error.scrub(&secrets),
            retry,
            unsure,
        };
        match io.send(request, self.deadline) {
            Ok(response) => {
                let response = response.scrub(&secrets);
                parse(&response)
                    .map(|value| value.scrub(&secrets))
                    .map_err(|error| {
                        let named = wire::named_code(&response);
                        let retry = retry::after(&error, named.as_deref(), self.replayable);
                        let unsure = match &error {
                            Error::Service(e) => e.status >= 500,
                            _ => true,
                        };
                        failed(error, retry, unsure)
                    })
            }
            Err(SendError::Unsent(m)) => Err(failed(Error::Transport(m), true, false)),
            Err(SendError::Transient(m)) => Err(failed(Error::Transport(m), self.replayable, true)),
            Err(SendError::Permanent(m)) => Err(failed(Error::Transport(m), false, false)),
            Err(SendError::Unreadable(m)) => Err(failed(Error::Transport(m), false, true)),
            Err(SendError::Deadline(m)) => Err(failed(self.timed_out(&m), false, true)),
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
    fn failed(error: Error, attempts: u32, gave_up: bool, unsure: bool) -> Self {
        Attempted {
            outcome: Err(error),
            attempts,
            gave_up,
            unsure,
        }
    }
}
