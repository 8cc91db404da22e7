//! The `sfn-start` command line: flags, input, output and exit statuses.
//!
//! Two front ends share it, so that they take the same flags and print the same bytes: the
//! native host (`host/`, which runs the plugin component under wasmtime) and the command
//! component (`command/`, which `wasmtime run` or any WASI 0.2 runtime runs). Each supplies
//! a [`Backend`] that validates, signs or starts; everything a user sees is decided here.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use sfn_core::{
    ClientOptions, Error, Execution, Failure, FieldError, Outcome, SignedRequest,
    StartExecutionConfig,
};

/// Exit statuses: 0 started (or valid, or printed; with `--wait` or `--sync`, SUCCEEDED),
/// 1 a service or transport failure, 2 invalid arguments, 3 the execution ended `FAILED`,
/// `TIMED_OUT` or `ABORTED`, 4 the wait ended with the execution still running.
pub const FAILED: u8 = 1;
pub const INVALID: u8 = 2;
pub const EXECUTION_FAILED: u8 = 3;
pub const STILL_RUNNING: u8 = 4;

/// `--wait-timeout`'s default: an hour.
const DEFAULT_WAIT: Duration = Duration::from_secs(3600);
/// While waiting, a progress line at least this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// The flags both front ends take.
#[derive(clap::Args, Clone, Debug)]
pub struct Flags {
    /// ARN of the state machine (unqualified, version- or alias-qualified).
    #[arg(long, value_name = "ARN", required_unless_present = "cli_input_json")]
    pub state_machine_arn: Option<String>,
    /// The request as the AWS CLI takes it: JSON with stateMachineArn, input, name and
    /// traceHeader, as text or file://PATH. Flags given alongside win.
    #[arg(long, value_name = "JSON|file://PATH")]
    pub cli_input_json: Option<String>,
    /// JSON input: the text itself, @FILE to read a file, or - to read standard input.
    #[arg(long, value_name = "JSON|@FILE|-")]
    pub input: Option<String>,
    /// Name of the execution (a random UUID when omitted, so that a retry can never start a
    /// second execution).
    #[arg(long)]
    pub name: Option<String>,
    /// Region; must be the region of the state machine's ARN.
    #[arg(long)]
    pub region: Option<String>,
    /// AWS X-Ray trace header.
    #[arg(long)]
    pub trace_header: Option<String>,
    /// Custom endpoint, e.g. http://127.0.0.1:4566 (the only non-AWS host the sandbox may reach).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Use the FIPS endpoint.
    #[arg(long)]
    pub fips: bool,
    /// Use the dual-stack endpoint.
    #[arg(long)]
    pub dual_stack: bool,
    /// Requests to send at most, the first included (1: no retry) [default: AWS_MAX_ATTEMPTS,
    /// else 3].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: Option<u32>,
    /// Give up after this long, retries and backoff included (e.g. 30 or 2.5); with --wait,
    /// it bounds the start and each poll.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Wait for the execution to end (polling DescribeExecution) and print its outcome:
    /// exit 0 if it SUCCEEDED, 3 if it FAILED, TIMED_OUT or was ABORTED, 4 if still running.
    #[arg(long, conflicts_with_all = ["sync", "dry_run", "validate_only"])]
    pub wait: bool,
    /// Stop waiting after this long; the outcome then shows the execution RUNNING
    /// [default: 3600].
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, requires = "wait")]
    pub wait_timeout: Option<Duration>,
    /// Run an EXPRESS state machine with StartSyncExecution and print how it ended (exit
    /// statuses as with --wait).
    #[arg(long, conflicts_with = "validate_only")]
    pub sync: bool,
    /// Print the signed request as JSON instead of sending it (session token redacted).
    #[arg(long, conflicts_with = "validate_only")]
    pub dry_run: bool,
    /// Signing time for --dry-run, RFC 3339 in UTC (e.g. 2015-08-30T12:36:00Z).
    #[arg(long, requires = "dry_run", value_name = "RFC3339", value_parser = parse_time)]
    pub signing_time: Option<SystemTime>,
    /// Only check the arguments; send nothing.
    #[arg(long)]
    pub validate_only: bool,
}

/// A positive number of seconds, kept to the millisecond.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let rule = "must be a number of seconds, more than 0 (e.g. 30 or 2.5)";
    let seconds: f64 = text.trim().parse().map_err(|_| rule.to_string())?;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| d.as_millis() > 0 && d.as_millis() < u128::from(u64::MAX))
        .map(|d| Duration::from_millis(d.as_millis() as u64))
        .ok_or_else(|| rule.to_string())
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339(text).map_err(|e| format!("{e} (expected e.g. 2015-08-30T12:36:00Z)"))
}

/// Parses the command line, or prints clap's error, help or version and gives the exit
/// status. clap's own `parse` exits through `std::process::exit`, which WASI's stable
/// `exit` reduces to 0 or 1; returning the status lets the command keep clap's 2.
pub fn parse<A: clap::Parser>() -> Result<A, u8> {
    A::try_parse().map_err(|e| {
        let _ = e.print();
        u8::try_from(e.exit_code()).unwrap_or(FAILED)
    })
}

/// A failure of the front end itself (loading the component, say), already in words.
pub type BackendError = String;

/// What validates, signs and starts: the plugin under wasmtime, or the core in the command.
/// Both answer in the core's types; the outer `Result` is the front end's own failure.
pub trait Backend {
    fn validate(
        &mut self,
        config: &StartExecutionConfig,
    ) -> Result<Result<(), Vec<FieldError>>, BackendError>;
    fn prepare(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError>;
    fn start(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Execution, Failure>, BackendError>;
    fn prepare_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError>;
    fn start_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Outcome, Failure>, BackendError>;
    fn wait(
        &mut self,
        execution_arn: &str,
        options: &ClientOptions,
        max_wait: Duration,
    ) -> Result<Result<Outcome, Failure>, BackendError>;
}

/// Runs the command: reads the input, makes the backend, does what the flags ask, prints
/// the outcome and returns the exit status.
pub fn run<B: Backend>(
    flags: &Flags,
    backend: impl FnOnce(&StartExecutionConfig) -> Result<B, BackendError>,
) -> u8 {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let mut console = Console {
        out: &mut out,
        err: &mut err,
    };
    run_on(flags, backend, &mut console)
}

/// [`run`], writing to `console`.
fn run_on<B: Backend>(
    flags: &Flags,
    backend: impl FnOnce(&StartExecutionConfig) -> Result<B, BackendError>,
    console: &mut Console<'_>,
) -> u8 {
    let config = match config(flags) {
        Ok(config) => config,
        Err(e) => {
            console.say(format_args!("error: {e}"));
            return INVALID;
        }
    };
    let outcome =
        backend(&config).and_then(|mut backend| act(flags, &config, &mut backend, console));
    outcome.unwrap_or_else(|e| {
        console.say(format_args!("error: {e}"));
        FAILED
    })
}

/// Where the command writes: the outcome's JSON to `out` (standard output), every other
/// line to `err` (standard error). Both escape control characters ([`escape_controls`]):
/// the service's texts reach them, and a terminal would act on an escape sequence in one.
struct Console<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

impl Console<'_> {
    /// One line on `err`, its control characters escaped, and any line it spans after the
    /// first indented, so that no text from the service can pass for a line of ours. A
    /// closed standard error is no reason to fail.
    fn say(&mut self, line: impl Display) {
        let line = line.to_string();
        let line = escape_controls(line.trim_end()).replace('\n', "\n  ");
        let _ = self.err.write_all(format!("{line}\n").as_bytes());
    }

    /// Pretty JSON and a newline on `out`, control characters escaped; exit status 0.
    fn print_json(&mut self, value: &serde_json::Value) -> Result<u8, BackendError> {
        let text = serde_json::to_string_pretty(value).map_err(std::io::Error::from);
        let written = text
            .and_then(|text| self.out.write_all(escape_controls(&text).as_bytes()))
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush());
        written.map_err(|e| format!("writing standard output: {e}"))?;
        Ok(0)
    }
}

/// `text` with every control character but the newline (C0, DEL and C1) written as JSON
/// escapes one, `\u001b`. The one escape for both streams: in JSON, serde_json escapes C0
/// inside strings but writes DEL and C1 raw, and its only raw newlines are its own layout.
fn escape_controls(text: &str) -> Cow<'_, str> {
    let escaped = |c: char| c.is_control() && c != '\n';
    if !text.contains(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escaped(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn act(
    flags: &Flags,
    config: &StartExecutionConfig,
    backend: &mut impl Backend,
    console: &mut Console<'_>,
) -> Result<u8, BackendError> {
    // Credentials always come from the environment.
    let options = ClientOptions {
        credentials: None,
        endpoint_url: flags.endpoint_url.clone(),
        use_fips: flags.fips,
        use_dual_stack: flags.dual_stack,
        max_attempts: flags.max_attempts,
        timeout_ms: flags.timeout.map(|t| t.as_millis() as u64),
    };
    if flags.validate_only {
        return Ok(match backend.validate(config)? {
            Ok(()) => {
                console.say("The arguments are valid.");
                0
            }
            Err(errors) => report(config, Error::InvalidConfig(errors), 0, console),
        });
    }
    if flags.dry_run {
        let prepared = if flags.sync {
            backend.prepare_sync(config, &options)?
        } else {
            backend.prepare(config, &options)?
        };
        return Ok(match prepared {
            Ok(signed) => console.print_json(&dry_run_json(&signed))?,
            Err(error) => report(config, error, 0, console),
        });
    }
    if flags.sync {
        return run_sync(config, &options, backend, console);
    }
    let arn = &config.state_machine_arn;
    console.say(format_args!(
        "Starting execution for state machine {arn}..."
    ));
    let started = match backend.start(config, &options)? {
        Ok(started) => started,
        Err(failure) => return Ok(report_start_failure(config, failure, console)),
    };
    let execution_arn = &started.execution_arn;
    let retried = after(started.attempts);
    console.say(format_args!(
        "Execution started successfully with ARN {execution_arn}{retried}"
    ));
    if flags.wait {
        let max_wait = flags.wait_timeout.unwrap_or(DEFAULT_WAIT);
        return wait(execution_arn, &options, max_wait, backend, console);
    }
    console.print_json(&serde_json::json!({
        "executionArn": execution_arn,
        "startDate": rfc3339_ms(started.start_date_epoch_ms),
        "requestId": started.request_id,
    }))
}

/// `--sync`: StartSyncExecution, then the outcome.
fn run_sync(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    backend: &mut impl Backend,
    console: &mut Console<'_>,
) -> Result<u8, BackendError> {
    let arn = &config.state_machine_arn;
    console.say(format_args!(
        "Running an express execution of state machine {arn} synchronously..."
    ));
    let began = Instant::now();
    match backend.start_sync(config, options)? {
        Ok(outcome) => conclude(&outcome, began, console),
        Err(failure) => {
            let unsupported = matches!(&failure.error, Error::Service(e) if e.code == "StateMachineTypeNotSupported");
            let status = report(config, failure.error, failure.attempts, console);
            if unsupported {
                console.say(
                    "hint: --sync runs EXPRESS state machines only; to run a STANDARD one and wait for its outcome, use --wait",
                );
            }
            Ok(status)
        }
    }
}

/// `--wait`: polls in slices of [`PROGRESS_EVERY`], saying between them that the execution
/// still runs, until it ends or `max_wait` has passed.
fn wait(
    execution_arn: &str,
    options: &ClientOptions,
    max_wait: Duration,
    backend: &mut impl Backend,
    console: &mut Console<'_>,
) -> Result<u8, BackendError> {
    console.say(format_args!(
        "Waiting up to {} for the execution to end...",
        seconds(max_wait)
    ));
    let began = Instant::now();
    loop {
        let left = max_wait.saturating_sub(began.elapsed());
        let slice = left.min(PROGRESS_EVERY);
        let outcome = match backend.wait(execution_arn, options, slice)? {
            Ok(outcome) => outcome,
            Err(failure) => {
                let error = failure.error;
                console.say(format_args!(
                    "error: could not wait for execution {execution_arn}: {}",
                    in_words(error)
                ));
                return Ok(FAILED);
            }
        };
        if outcome.is_open() && slice < left {
            let waited = seconds(began.elapsed());
            console.say(format_args!(
                "Execution is {} after {waited}",
                outcome.status
            ));
            continue;
        }
        return conclude(&outcome, began, console);
    }
}

/// Prints how an execution ended (or that it still runs) and the outcome's JSON; the exit
/// status says which.
fn conclude(
    outcome: &Outcome,
    began: Instant,
    console: &mut Console<'_>,
) -> Result<u8, BackendError> {
    let status = outcome.status.as_str();
    let exit = exit_status(outcome);
    let took = match outcome.stop_date_epoch_ms {
        Some(stop) => {
            let ms = stop.saturating_sub(outcome.start_date_epoch_ms).max(0);
            seconds(Duration::from_millis(ms.unsigned_abs()))
        }
        None => seconds(began.elapsed()),
    };
    match exit {
        STILL_RUNNING => console.say(format_args!(
            "Stopped waiting after {took}: the execution is still {status}"
        )),
        FAILED => console.say(format_args!(
            "error: the execution's status is {status}, which this version does not know"
        )),
        _ => console.say(format_args!("Execution {status} after {took}")),
    }
    console.print_json(&outcome_json(outcome))?;
    Ok(exit)
}

/// The exit status an outcome gives: 0 SUCCEEDED; 3 FAILED, TIMED_OUT or ABORTED; 4 still
/// under way (RUNNING, PENDING_REDRIVE); 1 a status this version does not know.
fn exit_status(outcome: &Outcome) -> u8 {
    match outcome.status.as_str() {
        "SUCCEEDED" => 0,
        "FAILED" | "TIMED_OUT" | "ABORTED" => EXECUTION_FAILED,
        _ if outcome.is_open() => STILL_RUNNING,
        _ => FAILED,
    }
}

/// The outcome as the CLI prints it, members in the order of the AWS CLI's
/// describe-execution; absent members left out.
fn outcome_json(outcome: &Outcome) -> serde_json::Value {
    let mut json = serde_json::Map::new();
    let mut put = |key: &str, value: Option<serde_json::Value>| {
        if let Some(value) = value {
            json.insert(key.into(), value);
        }
    };
    let text = |value: &Option<String>| value.as_deref().map(serde_json::Value::from);
    put("executionArn", Some(outcome.execution_arn.as_str().into()));
    put(
        "startDate",
        Some(rfc3339_ms(outcome.start_date_epoch_ms).into()),
    );
    put(
        "stopDate",
        outcome.stop_date_epoch_ms.map(|ms| rfc3339_ms(ms).into()),
    );
    put("status", Some(outcome.status.as_str().into()));
    put("output", text(&outcome.output));
    put("error", text(&outcome.error));
    put("cause", text(&outcome.cause));
    put(
        "billingDetails",
        outcome.billing.map(|b| {
            serde_json::json!({
                "billedMemoryUsedInMB": b.billed_memory_used_mb,
                "billedDurationInMilliseconds": b.billed_duration_ms,
            })
        }),
    );
    put("requestId", text(&outcome.request_id));
    serde_json::Value::Object(json)
}

/// A duration as seconds with one decimal, e.g. `2.5s`.
fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// ` (after N attempts)` when a call took more than one.
fn after(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

/// The action's arguments, with `--input` read, over those of `--cli-input-json`.
fn config(flags: &Flags) -> Result<StartExecutionConfig, String> {
    let given = match &flags.cli_input_json {
        Some(value) => cli_input(value)?,
        None => StartExecutionConfig::default(),
    };
    Ok(StartExecutionConfig {
        state_machine_arn: flags
            .state_machine_arn
            .clone()
            .unwrap_or(given.state_machine_arn),
        input: match &flags.input {
            Some(value) => Some(read_input(value)?),
            None => given.input,
        },
        name: flags.name.clone().or(given.name),
        region: flags.region.clone(),
        trace_header: flags.trace_header.clone().or(given.trace_header),
    })
}

/// The members of StartExecution's request that the AWS CLI's `--cli-input-json` takes.
const CLI_INPUT_MEMBERS: [&str; 4] = ["stateMachineArn", "input", "name", "traceHeader"];

/// `--cli-input-json` as text or `file://PATH`, read as the AWS CLI reads it: a JSON
/// object of StartExecution's members, each a string; any other member is an error.
fn cli_input(value: &str) -> Result<StartExecutionConfig, String> {
    let text = match value.strip_prefix("file://") {
        Some(path) => {
            Source::file(&format!("--cli-input-json {value}"), CLI_INPUT_JSON).read_file(path)?
        }
        None if value.len() > CLI_INPUT_JSON.bytes => {
            return Err(Source::text("--cli-input-json", CLI_INPUT_JSON).too_large());
        }
        None => value.to_string(),
    };
    let wrong = |why: String| format!("--cli-input-json: {why}");
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| wrong(format!("not a JSON object: {e}")))?;
    let member = |name: &str| -> Result<Option<String>, String> {
        match object.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(wrong(format!("{name} must be a string, got {other}"))),
        }
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !CLI_INPUT_MEMBERS.contains(&k.as_str()))
    {
        return Err(wrong(format!(
            "unknown member {unknown:?}; the members are {}",
            CLI_INPUT_MEMBERS.join(", ")
        )));
    }
    Ok(StartExecutionConfig {
        state_machine_arn: member("stateMachineArn")?.unwrap_or_default(),
        input: member("input")?,
        name: member("name")?,
        region: None,
        trace_header: member("traceHeader")?,
    })
}

/// `--input` as text, `@file` or `-` (standard input).
fn read_input(value: &str) -> Result<String, String> {
    let argument = format!("--input {value}");
    if value == "-" {
        let source = Source::standard_input(&argument, INPUT);
        return source.read(std::io::stdin().lock());
    }
    match value.strip_prefix('@') {
        Some("") => Err("--input @: name a file after the @".into()),
        Some(path) => Source::file(&argument, INPUT).read_file(path),
        None => Ok(value.to_string()),
    }
}

/// How many bytes a source may hold, and why.
#[derive(Clone, Copy)]
struct Limit {
    bytes: usize,
    why: &'static str,
}

/// `--input`'s file or standard input: the core's bound on an execution's input.
const INPUT: Limit = Limit {
    bytes: sfn_core::MAX_INPUT_BYTES,
    why: "the most an execution's input may be",
};

/// `--cli-input-json`: the input travels in it as a JSON string, where one byte may take
/// six (`\u0000`); a seventh share is room for the other members.
const CLI_INPUT_JSON: Limit = Limit {
    bytes: 7 * sfn_core::MAX_INPUT_BYTES,
    why: "enough for the largest input however it is escaped",
};

/// Something of the user's to read, as errors name it: the argument as given and what it
/// is (`the file`, `standard input`), with its limit.
struct Source<'a> {
    argument: &'a str,
    what: &'static str,
    limit: Limit,
}

impl<'a> Source<'a> {
    fn file(argument: &'a str, limit: Limit) -> Self {
        Self::new(argument, "the file", limit)
    }

    fn standard_input(argument: &'a str, limit: Limit) -> Self {
        Self::new(argument, "standard input", limit)
    }

    fn text(argument: &'a str, limit: Limit) -> Self {
        Self::new(argument, "the text", limit)
    }

    fn new(argument: &'a str, what: &'static str, limit: Limit) -> Self {
        Source {
            argument,
            what,
            limit,
        }
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        let file = std::fs::File::open(path).map_err(|e| self.unreadable(&io_words(&e)))?;
        self.read(file)
    }

    /// At most the limit and one byte more, so that a larger source, or an endless one, is
    /// never held whole: it is refused once that byte arrives.
    fn read(&self, reader: impl Read) -> Result<String, String> {
        let mut bytes = Vec::new();
        let most = u64::try_from(self.limit.bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        reader
            .take(most)
            .read_to_end(&mut bytes)
            .map_err(|e| self.unreadable(&io_words(&e)))?;
        if bytes.len() > self.limit.bytes {
            return Err(self.too_large());
        }
        String::from_utf8(bytes).map_err(|_| self.unreadable("stream did not contain valid UTF-8"))
    }

    fn unreadable(&self, why: &str) -> String {
        let Source { argument, what, .. } = self;
        format!("{argument}: cannot read {what} as UTF-8 text: {why}")
    }

    fn too_large(&self) -> String {
        let Source {
            argument,
            what,
            limit,
        } = self;
        let Limit { bytes, why } = limit;
        format!("{argument}: {what} is larger than {bytes} bytes, {why}")
    }
}

/// An I/O error in words, without the OS's error number: WASI and Linux number them
/// differently, and both front ends must print the same thing.
fn io_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// Prints a failure the way the Terraform action words it, one field error a line, and
/// returns the exit status.
fn report(
    config: &StartExecutionConfig,
    error: Error,
    attempts: u32,
    console: &mut Console<'_>,
) -> u8 {
    if let Error::InvalidConfig(errors) = error {
        console.say("error: invalid arguments:");
        for e in errors {
            console.say(format_args!("  {}: {}", e.field, e.message));
        }
        return INVALID;
    }
    if let Error::MissingCredentials(m) = error {
        console.say(format_args!("error: missing credentials: {m}"));
        return FAILED;
    }
    let arn = &config.state_machine_arn;
    let retried = after(attempts);
    console.say(format_args!(
        "error: could not start execution for state machine {arn}: {}{retried}",
        in_words(error)
    ));
    FAILED
}

/// A failed start, and how to check and retry safely when an attempt may have started the
/// execution anyway.
fn report_start_failure(
    config: &StartExecutionConfig,
    failure: Failure,
    console: &mut Console<'_>,
) -> u8 {
    let status = report(config, failure.error, failure.attempts, console);
    if let Some(arn) = failure.maybe_started {
        let name = arn.rsplit(':').next().unwrap_or_default();
        console.say(format_args!(
            "hint: an attempt may have started {arn} before its answer was lost. Check with: aws stepfunctions describe-execution --execution-arn {arn}; to try again, pass --name {name}: a STANDARD state machine cannot get a second execution of that name"
        ));
    }
    status
}

/// An error as the CLI words it after "could not ...: ".
fn in_words(error: Error) -> String {
    match error {
        Error::InvalidConfig(errors) => {
            let each = errors.iter().map(|e| format!("{}: {}", e.field, e.message));
            each.collect::<Vec<_>>().join("; ")
        }
        Error::MissingCredentials(m) => format!("missing credentials: {m}"),
        Error::Service(e) => {
            let request_id = e.request_id.as_deref().unwrap_or("none");
            let (code, message, status) = (e.code, e.message, e.status);
            format!("{code}: {message} (HTTP {status}, request id {request_id})")
        }
        Error::Transport(m) => m,
        Error::InvalidResponse(m) => format!("invalid response: {m}"),
    }
}

/// The signed request with the session token hidden: it is a credential.
fn dry_run_json(request: &SignedRequest) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> = request
        .shown_headers()
        .map(|(name, value)| (name.to_string(), value.into()))
        .collect();
    serde_json::json!({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "body": request.body,
    })
}

/// Epoch milliseconds as RFC 3339 with milliseconds, in UTC. Any `i64` prints: the date
/// comes from the service, and humantime's formatter panics before 1970.
fn rfc3339_ms(ms: i64) -> String {
    let (days, ms) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = sfn_core::calendar::civil_from_days(days);
    let (hour, minute, second) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:03}Z",
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_dates_print_in_utc_with_milliseconds() {
        assert_eq!(rfc3339_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        // Nonsense from a server still prints instead of panicking.
        assert_eq!(rfc3339_ms(i64::MAX), "292278994-08-17T07:12:55.807Z");
        assert!(rfc3339_ms(i64::MIN).ends_with(".192Z"));
    }

    #[test]
    fn the_session_token_is_redacted_and_header_order_kept() {
        let signed = SignedRequest {
            method: "POST".into(),
            url: "https://h/".into(),
            headers: vec![
                ("x-amz-security-token".into(), "SECRET-TOKEN".into()),
                ("content-type".into(), "application/x-amz-json-1.0".into()),
            ],
            body: "{}".into(),
        };
        assert_eq!(
            dry_run_json(&signed).to_string(),
            r#"{"method":"POST","url":"https://h/","headers":{"x-amz-security-token":"<redacted>","content-type":"application/x-amz-json-1.0"},"body":"{}"}"#
        );
    }

    fn outcome(status: &str) -> Outcome {
        Outcome {
            execution_arn: "arn:x".into(),
            status: status.into(),
            start_date_epoch_ms: 1_700_000_000_000,
            stop_date_epoch_ms: None,
            output: None,
            error: None,
            cause: None,
            billing: None,
            request_id: None,
            attempts: 1,
        }
    }

    #[test]
    fn every_status_has_its_exit_status() {
        for (status, exit) in [
            ("SUCCEEDED", 0),
            ("FAILED", 3),
            ("TIMED_OUT", 3),
            ("ABORTED", 3),
            ("RUNNING", 4),
            ("PENDING_REDRIVE", 4),
            ("SOMETHING_NEW", 1),
        ] {
            assert_eq!(exit_status(&outcome(status)), exit, "{status}");
        }
    }

    #[test]
    fn the_outcome_leaves_out_what_the_service_did_not_say() {
        let running = outcome("RUNNING");
        assert_eq!(
            outcome_json(&running).to_string(),
            r#"{"executionArn":"arn:x","startDate":"2023-11-14T22:13:20.000Z","status":"RUNNING"}"#
        );
        let ended = Outcome {
            stop_date_epoch_ms: Some(1_700_000_000_500),
            output: Some("{\"a\": 1}".into()),
            billing: Some(sfn_core::BillingDetails {
                billed_memory_used_mb: 64,
                billed_duration_ms: 500,
            }),
            request_id: Some("r".into()),
            ..outcome("SUCCEEDED")
        };
        assert_eq!(
            outcome_json(&ended).to_string(),
            r#"{"executionArn":"arn:x","startDate":"2023-11-14T22:13:20.000Z","stopDate":"2023-11-14T22:13:20.500Z","status":"SUCCEEDED","output":"{\"a\": 1}","billingDetails":{"billedMemoryUsedInMB":64,"billedDurationInMilliseconds":500},"requestId":"r"}"#
        );
    }

    #[test]
    fn timeouts_are_positive_seconds_kept_to_the_millisecond() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_seconds("0.0015"), Ok(Duration::from_millis(1)));
        let rule = "must be a number of seconds, more than 0 (e.g. 30 or 2.5)";
        for bad in ["0", "0.0004", "-1", "soon", "inf", "NaN", "1e300", ""] {
            assert_eq!(parse_seconds(bad), Err(rule.to_string()), "{bad}");
        }
    }

    #[test]
    fn cli_input_json_takes_the_aws_clis_members_and_flags_win() {
        let json = r#"{"stateMachineArn":"arn:a","input":"{\"n\":1}","name":"from-json","traceHeader":"Root=1"}"#;
        let given = cli_input(json).unwrap();
        assert_eq!(
            (
                given.state_machine_arn.as_str(),
                given.input.as_deref(),
                given.name.as_deref()
            ),
            ("arn:a", Some(r#"{"n":1}"#), Some("from-json"))
        );
        assert_eq!(given.trace_header.as_deref(), Some("Root=1"));
        assert_eq!(
            cli_input(r#"{"stateMachineArn":"a","nmae":"x"}"#),
            Err("--cli-input-json: unknown member \"nmae\"; the members are stateMachineArn, input, name, traceHeader".into())
        );
        assert_eq!(
            cli_input(r#"{"input":{"n":1}}"#),
            Err(r#"--cli-input-json: input must be a string, got {"n":1}"#.into())
        );
        assert!(
            cli_input("[1]")
                .unwrap_err()
                .starts_with("--cli-input-json: not a JSON object: ")
        );
        let missing = cli_input("file:///no/such/file.json").unwrap_err();
        assert!(
            missing.starts_with("--cli-input-json file:///no/such/file.json: cannot read"),
            "{missing}"
        );
    }

    #[test]
    fn input_forms() {
        assert_eq!(read_input("{\"a\":1}").unwrap(), "{\"a\":1}");
        assert_eq!(
            read_input("@").unwrap_err(),
            "--input @: name a file after the @"
        );
        let missing = read_input("@/nonexistent/input.json").unwrap_err();
        assert_eq!(
            missing,
            "--input @/nonexistent/input.json: cannot read the file as UTF-8 text: \
             No such file or directory"
        );
    }

    /// A file that is removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> Self {
            let file = format!("sfn-cli-{name}-{}", std::process::id());
            let path = std::env::temp_dir().join(file);
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        fn path(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_file_over_its_limit_is_refused_naming_it_and_the_limit() {
        let large = TempFile::new("large-input", &" ".repeat(300_000));
        let path = large.path();
        assert_eq!(
            read_input(&format!("@{path}")),
            Err(format!(
                "--input @{path}: the file is larger than 262144 bytes, the most an execution's input may be"
            ))
        );
        // At the limit it is read whole, for the core to judge.
        let full = TempFile::new("full-input", &" ".repeat(262_144));
        assert_eq!(
            read_input(&format!("@{}", full.path())).unwrap().len(),
            262_144
        );
        let json = "{\"input\":\"{}\"}".to_string() + &" ".repeat(7 * 262_144);
        let large = TempFile::new("large-cli-input", &json);
        let path = large.path();
        let over =
            "is larger than 1835008 bytes, enough for the largest input however it is escaped";
        assert_eq!(
            cli_input(&format!("file://{path}")),
            Err(format!("--cli-input-json file://{path}: the file {over}"))
        );
        assert_eq!(
            cli_input(&json),
            Err(format!("--cli-input-json: the text {over}"))
        );
        // An input that fits, escaped at worst, still passes.
        let escaped = serde_json::json!({ "input": "\u{1}".repeat(262_144) }).to_string();
        assert_eq!(cli_input(&escaped).unwrap().input.unwrap().len(), 262_144);
    }

    /// A stream that never ends, counting the bytes it gave.
    struct Endless(usize);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(b' ');
            self.0 += buf.len();
            Ok(buf.len())
        }
    }

    #[test]
    fn an_endless_stream_is_read_to_one_byte_past_the_limit() {
        let mut endless = Endless(0);
        let source = Source::standard_input("--input -", INPUT);
        assert_eq!(
            source.read(&mut endless),
            Err("--input -: standard input is larger than 262144 bytes, the most an execution's input may be".into())
        );
        assert_eq!(endless.0, 262_145);
        assert_eq!(
            source.read(&b"{\"a\":\xff}"[..]),
            Err("--input -: cannot read standard input as UTF-8 text: stream did not contain valid UTF-8".into())
        );
    }

    /// Answers as scripted; what was not scripted fails as a front end would.
    #[derive(Default)]
    struct Scripted {
        start: Option<Result<Execution, Failure>>,
        sync: Option<Result<Outcome, Failure>>,
    }

    fn unscripted<T>() -> Result<T, BackendError> {
        Err("not scripted".into())
    }

    impl Backend for Scripted {
        fn validate(
            &mut self,
            _: &StartExecutionConfig,
        ) -> Result<Result<(), Vec<FieldError>>, BackendError> {
            unscripted()
        }

        fn prepare(
            &mut self,
            _: &StartExecutionConfig,
            _: &ClientOptions,
        ) -> Result<Result<SignedRequest, Error>, BackendError> {
            unscripted()
        }

        fn start(
            &mut self,
            _: &StartExecutionConfig,
            _: &ClientOptions,
        ) -> Result<Result<Execution, Failure>, BackendError> {
            self.start.take().map_or_else(unscripted, Ok)
        }

        fn prepare_sync(
            &mut self,
            _: &StartExecutionConfig,
            _: &ClientOptions,
        ) -> Result<Result<SignedRequest, Error>, BackendError> {
            unscripted()
        }

        fn start_sync(
            &mut self,
            _: &StartExecutionConfig,
            _: &ClientOptions,
        ) -> Result<Result<Outcome, Failure>, BackendError> {
            self.sync.take().map_or_else(unscripted, Ok)
        }

        fn wait(
            &mut self,
            _: &str,
            _: &ClientOptions,
            _: Duration,
        ) -> Result<Result<Outcome, Failure>, BackendError> {
            unscripted()
        }
    }

    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        flags: Flags,
    }

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:M";
    /// Clears the screen, returns to the line's start, and opens a C1 control sequence.
    const REPAINT: &str = "\x1b[2J\r\u{9b}";

    /// The exit status, standard output and standard error of `sfn-start` with `args`.
    fn run_with(args: &[&str], backend: Scripted) -> (u8, String, String) {
        let flags = <Args as clap::Parser>::try_parse_from(
            ["sfn-start", "--state-machine-arn", ARN, "--name", "n"]
                .iter()
                .chain(args),
        )
        .unwrap()
        .flags;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut console = Console {
            out: &mut out,
            err: &mut err,
        };
        let status = run_on(&flags, |_| Ok(backend), &mut console);
        let text = |bytes| String::from_utf8(bytes).unwrap();
        (status, text(out), text(err))
    }

    /// Not a control character but the newline.
    fn no_controls(text: &str) -> bool {
        !text.contains(|c: char| c.is_control() && c != '\n')
    }

    #[test]
    fn an_execution_arn_from_the_service_is_printed_escaped() {
        let execution_arn =
            format!("arn:aws:states:us-east-1:123456789012:execution:M:{REPAINT}\x7f");
        let started = Execution {
            execution_arn: execution_arn.clone(),
            start_date_epoch_ms: 0,
            request_id: Some("r\u{85}".into()),
            attempts: 1,
        };
        let scripted = Scripted {
            start: Some(Ok(started)),
            ..Scripted::default()
        };
        let (status, out, err) = run_with(&[], scripted);
        assert_eq!(status, 0);
        assert_eq!(
            err,
            format!(
                "Starting execution for state machine {ARN}...\nExecution started successfully with ARN arn:aws:states:us-east-1:123456789012:execution:M:\\u001b[2J\\u000d\\u009b\\u007f\n"
            )
        );
        assert!(no_controls(&out), "{out:?}");
        assert!(
            out.contains(r#"execution:M:\u001b[2J\r\u009b\u007f","#),
            "{out}"
        );
        let printed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(printed["executionArn"], execution_arn.as_str());
        assert_eq!(printed["requestId"], "r\u{85}");
    }

    #[test]
    fn an_error_message_from_the_service_is_printed_escaped_and_cannot_forge_a_line() {
        let message = format!("Rate exceeded{REPAINT}\nExecution started successfully");
        let failure = Failure {
            error: Error::Service(sfn_core::ServiceError {
                status: 400,
                code: "ThrottlingException".into(),
                message,
                request_id: Some(format!("id{REPAINT}")),
            }),
            attempts: 1,
            maybe_started: None,
        };
        let scripted = Scripted {
            start: Some(Err(failure)),
            ..Scripted::default()
        };
        let (status, out, err) = run_with(&[], scripted);
        assert_eq!((status, out.as_str()), (FAILED, ""));
        assert_eq!(
            err,
            format!(
                "Starting execution for state machine {ARN}...\nerror: could not start execution for state machine {ARN}: ThrottlingException: Rate exceeded\\u001b[2J\\u000d\\u009b\n  Execution started successfully (HTTP 400, request id id\\u001b[2J\\u000d\\u009b)\n"
            )
        );
    }

    #[test]
    fn an_outcome_from_the_service_is_printed_escaped() {
        let outcome = Outcome {
            error: Some(format!("States.{REPAINT}")),
            cause: Some("line\nnext\u{85}\u{9f}".into()),
            stop_date_epoch_ms: Some(1_700_000_000_000),
            ..outcome(&format!("FAILED{REPAINT}"))
        };
        let scripted = Scripted {
            sync: Some(Ok(outcome.clone())),
            ..Scripted::default()
        };
        let (status, out, err) = run_with(&["--sync"], scripted);
        assert_eq!(status, FAILED);
        assert!(
            err.ends_with("error: the execution's status is FAILED\\u001b[2J\\u000d\\u009b, which this version does not know\n"),
            "{err}"
        );
        assert!(no_controls(&out), "{out:?}");
        assert!(
            out.contains(r#""cause": "line\nnext\u0085\u009f""#),
            "{out}"
        );
        let printed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(printed["error"], outcome.error.unwrap().as_str());
        assert_eq!(printed["cause"], outcome.cause.unwrap().as_str());
    }

    #[test]
    fn controls_but_the_newline_are_escaped_as_json_escapes_them() {
        assert_eq!(escape_controls("plain\ntext é"), "plain\ntext é");
        assert_eq!(
            escape_controls("\0\t\r\x1b\x7f\u{80}\u{9f}\u{a0}"),
            "\\u0000\\u0009\\u000d\\u001b\\u007f\\u0080\\u009f\u{a0}"
        );
    }
}
