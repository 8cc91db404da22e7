//! Third-party peers nobody here wrote: moto's Step Functions emulator and botocore.
//!
//! Both run in the Python virtual environment that `tests/run` (and `.ci/run`) create from
//! the pinned `tests/peers/requirements.txt`. Each is a child process that lives as long as
//! its pipes: when the test binary exits, passed or failed, its standard input closes and
//! the peer stops (moto's server with it). `wasmtime` (`run` and `serve`) and `wac` are the
//! other peers.
//!
//! A plain `cargo test` on a fresh clone has none of them: each finder then answers `None`
//! and says once, on the terminal, which tests it skipped and that `tests/run` sets the
//! peers up. `tests/run` sets `SFN_REQUIRE_PEERS=1`, and then a missing peer fails the test
//! instead: nothing is skipped silently there.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, Once, OnceLock};

use serde_json::Value;

/// The workspace root (this package lives in `tests/kit/`).
pub fn workspace() -> PathBuf {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR"));
    kit.join("../..")
        .canonicalize()
        .unwrap_or_else(|_| kit.join("../.."))
}

/// Whether a missing peer fails the test (under `tests/run`) instead of skipping it.
fn required() -> bool {
    std::env::var_os("SFN_REQUIRE_PEERS").is_some_and(|v| v == "1")
}

/// A peer that is not set up: a failure under `tests/run`, else a skip said once per peer
/// and test binary. Written to the terminal directly, past the test harness's capture, so
/// that a passing run still shows what it did not test.
fn missing<T>(said: &'static Once, tests: &str, why: String) -> Option<T> {
    let advice = format!("{why}: run `tests/run`, which sets up every peer");
    assert!(!required(), "{advice}");
    said.call_once(|| {
        let mut terminal = std::io::stderr();
        let _ = writeln!(terminal, "skipped: the {tests} tests ({advice})");
    });
    None
}

/// The Python that has moto and botocore: `SFN_PEERS_PYTHON`, else the project's venv.
pub fn python() -> Option<PathBuf> {
    static SAID: Once = Once::new();
    let path = std::env::var_os("SFN_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/peers/venv/bin/python"));
    if path.exists() {
        return Some(path);
    }
    let why = format!("{} with moto and botocore is missing", path.display());
    missing(&SAID, "moto and botocore", why)
}

/// A Python script of `tests/peers/` speaking JSON lines over its standard streams.
pub struct Peer {
    child: Child,
    io: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
}

impl Peer {
    fn spawn(python: &Path, script: &str, args: &[String]) -> Peer {
        let mut child = Command::new(python)
            .arg(workspace().join("tests/peers").join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Peer {
            child,
            io: Mutex::new((stdin, stdout)),
        }
    }

    fn read_line(stdout: &mut BufReader<ChildStdout>, what: &str) -> Value {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the peer's output");
        assert!(!line.is_empty(), "the peer exited while {what}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what}: {e}: {line}"))
    }

    /// Sends one JSON line and reads the one-line answer.
    pub fn ask(&self, question: &Value) -> Value {
        let mut io = self.io.lock().unwrap_or_else(|e| e.into_inner());
        let (stdin, stdout) = &mut *io;
        writeln!(stdin, "{question}").expect("the peer reads");
        stdin.flush().expect("the peer reads");
        Self::read_line(stdout, "answering")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's server, set up with a user, its access key, temporary credentials from an
/// assumed role, and the state machine `HelloWorld` (see `tests/peers/moto_peer.py`).
pub struct Moto {
    peer: Peer,
    pub endpoint: String,
    pub state_machine_arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session: (String, String, String),
    /// A role anyone may assume, with every permission.
    pub role_arn: String,
    /// The state machines of a running moto, by name (`Pass`, `Fail`, `Wait`, `Choice`);
    /// empty otherwise.
    pub machines: std::collections::HashMap<String, String>,
}

/// One moto server per test binary, shared by its tests; `None` when not set up.
pub fn moto() -> Option<&'static Moto> {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    let python = python()?;
    Some(MOTO.get_or_init(|| spawn_moto(&python, "moto.log", &[])))
}

/// A second moto server that runs the state machines it starts (Pass, Fail, Wait and Choice
/// machines in [`Moto::machines`]); `None` when not set up.
pub fn running_moto() -> Option<&'static Moto> {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    let python = python()?;
    Some(MOTO.get_or_init(|| spawn_moto(&python, "moto-running.log", &["running"])))
}

fn spawn_moto(python: &Path, log: &str, extra: &[&str]) -> Moto {
    let log = workspace().join("target/peers").join(log);
    let mut args = vec![log.display().to_string()];
    args.extend(extra.iter().map(|a| a.to_string()));
    let peer = Peer::spawn(python, "moto_peer.py", &args);
    let info = {
        let mut io = peer.io.lock().unwrap();
        Peer::read_line(&mut io.1, "starting moto")
    };
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    let session = &info["session"];
    Moto {
        endpoint: text(&info["endpoint"]),
        state_machine_arn: text(&info["stateMachineArn"]),
        access_key_id: text(&info["accessKeyId"]),
        secret_access_key: text(&info["secretAccessKey"]),
        role_arn: text(&info["roleArn"]),
        session: (
            text(&session["accessKeyId"]),
            text(&session["secretAccessKey"]),
            text(&session["sessionToken"]),
        ),
        machines: info["machines"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
            .unwrap_or_default(),
        peer,
    }
}

impl Moto {
    /// moto's DescribeExecution, signed by botocore with the user's key.
    pub fn describe(&self, execution_arn: &str) -> Value {
        let answer = self.peer.ask(&serde_json::json!({
            "op": "describe",
            "executionArn": execution_arn,
        }));
        match answer.get("ok") {
            Some(found) => found.clone(),
            None => panic!("DescribeExecution {execution_arn}: {answer}"),
        }
    }

    /// The names of every execution of the state machine moto holds (ListExecutions).
    pub fn execution_names(&self) -> Vec<String> {
        let answer = self.peer.ask(&serde_json::json!({
            "op": "names",
            "stateMachineArn": self.state_machine_arn,
        }));
        match answer.get("ok").and_then(Value::as_array) {
            Some(names) => names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            None => panic!("ListExecutions: {answer}"),
        }
    }

    /// The ARN of a state machine moto does not have, in the same account and region.
    pub fn unknown_state_machine(&self) -> String {
        self.state_machine_arn
            .replace(":HelloWorld", ":NoSuchMachine")
    }
}

/// botocore's endpoint resolver, serializer and SigV4Auth (see `tests/peers/sign_oracle.py`).
/// `None` when not set up.
pub fn oracle() -> Option<Peer> {
    Some(Peer::spawn(&python()?, "sign_oracle.py", &[]))
}

/// botocore's standard retry mode as the installed botocore lists it: its throttling and
/// transient codes and statuses, and which of Step Functions' modeled errors are retryable
/// (see `tests/peers/retry_codes.py`). `None` when not set up.
pub fn botocore_retry_mode() -> Option<Value> {
    let python = python()?;
    let script = workspace().join("tests/peers/retry_codes.py");
    let output = Command::new(python)
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(output.status.success(), "{}: {output:?}", script.display());
    Some(serde_json::from_slice(&output.stdout).expect("one JSON object"))
}

/// A name no other test (or earlier run against the same server) has used.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The `wasmtime` CLI (48.x): `SFN_WASMTIME`, else the one on `PATH`, as an absolute path
/// (tests clear the environment of what they run). Looked up and checked once; `None` when
/// there is none.
pub fn wasmtime() -> Option<&'static Path> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static SAID: Once = Once::new();
    match FOUND.get_or_init(find_wasmtime) {
        Ok(path) => Some(path),
        Err(why) => missing(&SAID, "`wasmtime run`", why.clone()),
    }
}

/// The program `variable` names, else `name` on `PATH`, else `name` itself (not found).
fn locate(variable: &str, name: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| name.into())
}

fn find_wasmtime() -> Result<PathBuf, String> {
    find_version("SFN_WASMTIME", "wasmtime", "wasmtime-cli", "wasmtime 48.")
}

/// The program [`locate`] finds, if its `--version` starts with `version` (such as
/// `wasmtime 48.` or `wac-cli 0.12.`); else why not, naming where it looked.
fn find_version(
    variable: &str,
    name: &str,
    package: &str,
    version: &str,
) -> Result<PathBuf, String> {
    let program = locate(variable, name);
    let wanted = version.rsplit(' ').next().unwrap_or(version);
    let Ok(output) = Command::new(&program).arg("--version").output() else {
        return Err(format!(
            "{package} {} is not installed (looked for {variable}, then `{name}` on PATH)",
            wanted.trim_end_matches('.')
        ));
    };
    let found = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if found.starts_with(version) {
        Ok(program)
    } else {
        Err(format!(
            "{} is {found:?}, not {package} {wanted}x",
            program.display()
        ))
    }
}

/// The `wasmtime` of [`wasmtime`] if it was built with `serve` (`tests/run` builds it so;
/// `cargo install wasmtime-cli` with its default features does too). Checked once; `None`
/// when it was not.
pub fn wasmtime_serve() -> Option<&'static Path> {
    static SERVES: OnceLock<bool> = OnceLock::new();
    static SAID: Once = Once::new();
    let program = wasmtime()?;
    let serves = SERVES.get_or_init(|| {
        let help = Command::new(program).args(["serve", "--help"]).output();
        help.is_ok_and(|help| help.status.success())
    });
    if *serves {
        return Some(program);
    }
    let why = format!("{} was built without `serve`", program.display());
    missing(&SAID, "`wasmtime serve`", why)
}

/// `wac` (wac-cli 0.12.x), for `wac plug`: `SFN_WAC`, else the one on `PATH`, as an
/// absolute path. Looked up and checked once; `None` when there is none.
pub fn wac() -> Option<&'static Path> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static SAID: Once = Once::new();
    match FOUND.get_or_init(find_wac) {
        Ok(path) => Some(path),
        Err(why) => missing(&SAID, "`wac plug`", why.clone()),
    }
}

fn find_wac() -> Result<PathBuf, String> {
    find_version("SFN_WAC", "wac", "wac-cli", "wac-cli 0.12.")
}

/// `wasmtime run` of `component` with outbound HTTP, these variables passed through and
/// these other wasmtime options, ready for the program's arguments; `None` without wasmtime.
pub fn wasmtime_run(component: &str, variables: &[&str], options: &[String]) -> Option<Command> {
    let mut command = Command::new(wasmtime()?);
    command.args(["run", "-S", "http"]);
    for name in variables {
        command.args(["--env", name]);
    }
    command.args(options).arg(component);
    Some(command)
}
