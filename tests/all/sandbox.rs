//! The sandbox's own promises, kept against hostile components: one that spins, one that
//! grows its memory without bound, one that traps, and one that sends requests in a loop
//! to a host the policy refuses. Each is stopped with the error that names it, leaves no
//! instance behind, and leaves its runtime able to serve the next call; `sfn-start` says
//! what stopped it on one line.
//!
//! The hostile component is built here, from the project's WIT: a core module written in
//! WAT against the canonical ABI of the plugin's world (decoded from the built plugin, so
//! its WASI imports are the plugin's own), encoded with `wit-component`. It exports all of
//! `sfn:action/start-execution`, so the host loads it as it loads the plugin; `validate`
//! and `start` act on the state machine's name (the ARN's last byte):
//!
//! - `...:spin`: loops forever without calling the host;
//! - `...:grow`: grows its memory a MiB at a time and traps (as a Rust guest aborts) when
//!   growing fails; should it reach 256 MiB, the limit did not hold and it returns `Ok`;
//! - `...:trap`: traps at once;
//! - `...:flood`: sends GET requests to the authority given as `input`, each awaited, in a
//!   loop without end;
//! - any other name: returns `Ok` from a new instance, and an empty list of field errors
//!   from one a hostile call ran in (every hostile call marks its instance first), so that
//!   a kept instance is seen from here.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sfn_host::{
    ClientOptions, FieldError, HostConfig, HostError, Instances, Runtime, StartExecutionConfig,
};
use sfn_test_kit::ARN;

/// The hostile core module. Its imports and exports are those `wit_component::dummy_module`
/// gives the plugin's world, under the standard `cm32p2` names; only `validate` and `start`
/// do anything but trap.
const HOSTILE_WAT: &str = r#"
(module
  (import "cm32p2|wasi:io/poll@0.2" "[method]pollable.block" (func $block (param i32)))
  (import "cm32p2|wasi:io/poll@0.2" "pollable_drop" (func $pollable_drop (param i32)))
  (import "cm32p2|wasi:http/types@0.2" "[constructor]fields" (func $fields (result i32)))
  (import "cm32p2|wasi:http/types@0.2" "[constructor]outgoing-request"
    (func $request (param i32) (result i32)))
  (import "cm32p2|wasi:http/types@0.2" "[method]outgoing-request.set-scheme"
    (func $set_scheme (param i32 i32 i32 i32 i32) (result i32)))
  (import "cm32p2|wasi:http/types@0.2" "[method]outgoing-request.set-path-with-query"
    (func $set_path (param i32 i32 i32 i32) (result i32)))
  (import "cm32p2|wasi:http/types@0.2" "[method]outgoing-request.set-authority"
    (func $set_authority (param i32 i32 i32 i32) (result i32)))
  (import "cm32p2|wasi:http/types@0.2" "[method]future-incoming-response.subscribe"
    (func $subscribe (param i32) (result i32)))
  (import "cm32p2|wasi:http/types@0.2" "[method]future-incoming-response.get"
    (func $get (param i32 i32)))
  (import "cm32p2|wasi:http/types@0.2" "future-incoming-response_drop"
    (func $future_drop (param i32)))
  (import "cm32p2|wasi:http/outgoing-handler@0.2" "handle" (func $handle (param i32 i32 i32 i32)))

  (memory (export "cm32p2_memory") 1)
  ;; Below 1024: return areas, and the path. From 1024: what the host allocates, never
  ;; freed.
  (data (i32.const 512) "/")
  (global $next (mut i32) (i32.const 1024))
  ;; Set by every hostile call: a later call that finds it set runs in a kept instance.
  (global $hostile_ran (mut i32) (i32.const 0))

  (func (export "cm32p2_realloc") (param $old i32) (param $old_size i32) (param $align i32)
    (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and
      (i32.sub (i32.add (global.get $next) (local.get $align)) (i32.const 1))
      (i32.sub (i32.const 0) (local.get $align))))
    (global.set $next (i32.add (local.get $at) (local.get $size)))
    (block $enough
      (loop $more
        (br_if $enough (i32.le_u (global.get $next)
          (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $more)))
    (local.get $at))

  ;; One GET of http://AUTHORITY/, awaited; whatever comes back is dropped.
  (func $send (param $authority i32) (param $len i32)
    (local $request i32) (local $future i32) (local $ready i32)
    (local.set $request (call $request (call $fields)))
    (drop (call $set_scheme (local.get $request) (i32.const 1) (i32.const 0) (i32.const 0)
      (i32.const 0)))
    (drop (call $set_authority (local.get $request) (i32.const 1) (local.get $authority)
      (local.get $len)))
    (drop (call $set_path (local.get $request) (i32.const 1) (i32.const 512) (i32.const 1)))
    ;; result<future-incoming-response, error-code> at 16: its case, then at 24 the handle.
    ;; A request refused here would be this module's mistake, not the policy's refusal
    ;; (that comes with the response): it traps, unmistakably.
    (call $handle (local.get $request) (i32.const 0) (i32.const 0) (i32.const 16))
    (if (i32.load8_u (i32.const 16)) (then unreachable))
    (local.set $future (i32.load (i32.const 24)))
    (local.set $ready (call $subscribe (local.get $future)))
    (call $block (local.get $ready))
    (call $pollable_drop (local.get $ready))
    (call $get (local.get $future) (i32.const 64))
    (call $future_drop (local.get $future)))

  ;; Acts on the ARN's last byte; returns 1 if the call is an ordinary one.
  (func $act (param $arn i32) (param $arn_len i32) (param $input i32) (param $input_len i32)
    (result i32)
    (local $last i32)
    (if (i32.eqz (local.get $arn_len)) (then (return (i32.const 1))))
    (local.set $last (i32.load8_u (i32.sub (i32.add (local.get $arn) (local.get $arn_len))
      (i32.const 1))))
    ;; "spin"
    (if (i32.eq (local.get $last) (i32.const 0x6e))
      (then
        (global.set $hostile_ran (i32.const 1))
        (loop $forever (br $forever))))
    ;; "grow"
    (if (i32.eq (local.get $last) (i32.const 0x77))
      (then
        (global.set $hostile_ran (i32.const 1))
        (loop $grow
          (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
          (br_if $grow (i32.lt_u (memory.size) (i32.const 4096))))
        (return (i32.const 1))))
    ;; "trap"
    (if (i32.eq (local.get $last) (i32.const 0x70))
      (then
        (global.set $hostile_ran (i32.const 1))
        unreachable))
    ;; "flood"
    (if (i32.eq (local.get $last) (i32.const 0x64))
      (then
        (global.set $hostile_ran (i32.const 1))
        (loop $again
          (call $send (local.get $input) (local.get $input_len))
          (br $again))))
    (i32.const 1))

  ;; validate(config) -> result<_, list<field-error>>, the config flattened: the ARN, then
  ;; the input's case, address and length, then the other options.
  (func (export "cm32p2|sfn:action/start-execution@0.2|validate")
    (param $arn i32) (param $arn_len i32) (param $has_input i32) (param $input i32)
    (param $input_len i32) (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (drop (call $act (local.get $arn) (local.get $arn_len) (local.get $input)
      (local.get $input_len)))
    ;; ok, or err with no field errors if a hostile call ran in this instance
    (i32.store8 (i32.const 0) (global.get $hostile_ran))
    (i32.store (i32.const 4) (i32.const 0))
    (i32.store (i32.const 8) (i32.const 0))
    (i32.const 0))
  (func (export "cm32p2|sfn:action/start-execution@0.2|validate_post") (param i32))

  ;; start(config, options): both records in memory at $args, the config first.
  (func (export "cm32p2|sfn:action/start-execution@0.2|start") (param $args i32) (result i32)
    (drop (call $act (i32.load (local.get $args)) (i32.load offset=4 (local.get $args))
      (i32.load offset=12 (local.get $args)) (i32.load offset=16 (local.get $args))))
    unreachable)
  (func (export "cm32p2|sfn:action/start-execution@0.2|start_post") (param i32))

  (func (export "cm32p2|sfn:action/start-execution@0.2|prepare") (param i32) (result i32)
    unreachable)
  (func (export "cm32p2|sfn:action/start-execution@0.2|prepare-sync") (param i32) (result i32)
    unreachable)
  (func (export "cm32p2|sfn:action/start-execution@0.2|start-sync") (param i32) (result i32)
    unreachable)
  (func (export "cm32p2|sfn:action/start-execution@0.2|describe") (param i32) (result i32)
    unreachable)
  (func (export "cm32p2|sfn:action/start-execution@0.2|wait") (param i32) (result i32)
    unreachable))
"#;

/// The hostile component, built once.
fn hostile() -> &'static [u8] {
    static COMPONENT: OnceLock<Vec<u8>> = OnceLock::new();
    COMPONENT.get_or_init(|| {
        let wit_component::DecodedWasm::Component(resolve, world) =
            wit_component::decode(sfn_host::COMPONENT).expect("the plugin decodes")
        else {
            panic!("the plugin is a component");
        };
        let mut module = wat::parse_str(HOSTILE_WAT).expect("the hostile module parses");
        wit_component::embed_component_metadata(
            &mut module,
            &resolve,
            world,
            wit_component::StringEncoding::UTF8,
        )
        .expect("the plugin's world embeds");
        wit_component::ComponentEncoder::default()
            .validate(true)
            .module(&module)
            .expect("the hostile module fits the world")
            .encode()
            .expect("the hostile component encodes")
    })
}

/// The kit's ARN with the state machine named `name`.
fn arn(name: &str) -> String {
    let (account_part, _) = ARN.rsplit_once(':').expect("a state machine ARN");
    format!("{account_part}:{name}")
}

/// How long a hostile call may take before the test fails rather than hang: a component
/// the host does not stop holds its thread forever.
const HANG: Duration = Duration::from_secs(30);

/// The deadline the sandbox's calls are given.
const TIMEOUT: Duration = Duration::from_secs(1);

/// A runtime of the hostile component, each call on a thread of its own.
struct Sandbox(Arc<Runtime>);

impl Sandbox {
    fn new(mut config: HostConfig) -> Self {
        config.timeout = TIMEOUT;
        Self(Arc::new(
            Runtime::from_bytes(hostile(), config).expect("the hostile component loads"),
        ))
    }

    /// `validate` of a state machine named `name`, and how long it took.
    fn validate(&self, name: &str) -> (Result<Result<(), Vec<FieldError>>, HostError>, Duration) {
        let config = StartExecutionConfig {
            state_machine_arn: arn(name),
            ..StartExecutionConfig::default()
        };
        self.on_own_thread(async move |runtime| runtime.validate(&config).await)
    }

    /// `start` of a state machine named `name` with `input`: only whether it stopped, as
    /// the hostile `start` never returns a value.
    fn start(&self, name: &str, input: &str) -> (Option<HostError>, Duration) {
        let config = StartExecutionConfig {
            state_machine_arn: arn(name),
            input: Some(input.to_string()),
            ..StartExecutionConfig::default()
        };
        let options = ClientOptions::default();
        self.on_own_thread(async move |runtime| runtime.start(&config, &options).await.err())
    }

    /// Runs `call` on a thread and a current-thread runtime of its own, failing the test
    /// if it has not returned within [`HANG`].
    fn on_own_thread<T: Send + 'static>(
        &self,
        call: impl AsyncFnOnce(&Runtime) -> T + Send + 'static,
    ) -> (T, Duration) {
        let runtime = self.0.clone();
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let tokio = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            let began = Instant::now();
            let value = tokio.block_on(call(&runtime));
            let _ = done.send((value, began.elapsed()));
        });
        match result.recv_timeout(HANG) {
            Ok(returned) => returned,
            Err(_) => panic!("the call has not returned within {HANG:?}: the host did not stop it"),
        }
    }

    /// The runtime serves an ordinary call, in an instance no hostile call ran in.
    fn serves_the_next_call(&self) {
        let (next, _) = self.validate("Hello");
        assert_eq!(
            next.expect("the next call runs"),
            Ok(()),
            "the next call ran in the hostile call's instance"
        );
    }
}

fn on_demand() -> HostConfig {
    let mut config = HostConfig::default();
    config.instances = Instances::OnDemand;
    config
}

#[test]
fn the_hostile_component_serves_an_ordinary_call_in_a_kept_instance() {
    // The observation the tests below rely on: ordinary calls succeed, and sequential
    // ones share the instance the first one left.
    let sandbox = Sandbox::new(on_demand());
    sandbox.serves_the_next_call();
    sandbox.serves_the_next_call();
}

#[test]
fn a_spinning_component_is_stopped_at_the_timeout_and_not_kept() {
    for config in [on_demand(), HostConfig::default()] {
        let sandbox = Sandbox::new(config);
        let (spun, took) = sandbox.validate("spin");
        assert!(
            matches!(spun, Err(HostError::Timeout(limit)) if limit == TIMEOUT),
            "{spun:?}"
        );
        assert!(
            took >= TIMEOUT && took < TIMEOUT * 4,
            "stopped after {took:?}"
        );
        sandbox.serves_the_next_call();
    }
}

#[test]
fn a_component_that_spins_in_start_is_stopped_soon_after_the_timeout() {
    let sandbox = Sandbox::new(on_demand());
    let (stopped, took) = sandbox.start("spin", "{}");
    // The host's bound: the timeout and a moment for the component's own error.
    assert!(
        matches!(stopped, Some(HostError::Timeout(limit)) if limit > TIMEOUT && limit < TIMEOUT * 2),
        "{stopped:?}"
    );
    assert!(
        took >= TIMEOUT && took < TIMEOUT * 4,
        "stopped after {took:?}"
    );
    sandbox.serves_the_next_call();
}

#[test]
fn a_component_that_grows_its_memory_traps_at_the_limit_and_is_not_kept() {
    const LIMIT: usize = 4 << 20;
    for instances in [Instances::OnDemand, Instances::Pooled] {
        let mut config = HostConfig::default();
        config.instances = instances;
        config.memory_limit = LIMIT;
        let sandbox = Sandbox::new(config);
        let (grown, took) = sandbox.validate("grow");
        let Err(HostError::Trap(trap)) = &grown else {
            panic!("{instances:?}: not stopped at the memory limit: {grown:?}");
        };
        assert_eq!(
            trap.downcast_ref::<wasmtime::Trap>(),
            Some(&wasmtime::Trap::UnreachableCodeReached),
            "{trap:?}"
        );
        let shown = grown.as_ref().unwrap_err().to_string();
        assert!(
            shown.contains("memory") && shown.contains(&LIMIT.to_string()),
            "{instances:?}: the error does not name the memory limit: {shown}"
        );
        assert!(took < HANG / 2, "{took:?}");
        sandbox.serves_the_next_call();
    }
}

#[test]
fn a_trapping_component_is_not_kept() {
    let sandbox = Sandbox::new(on_demand());
    // First a call that leaves an instance to keep: the trap must not run in it and then
    // leave it kept either.
    sandbox.serves_the_next_call();
    let (trapped, _) = sandbox.validate("trap");
    let Err(HostError::Trap(trap)) = &trapped else {
        panic!("{trapped:?}");
    };
    assert_eq!(
        trap.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::UnreachableCodeReached)
    );
    assert_eq!(
        trapped.unwrap_err().to_string(),
        "the component trapped: wasm `unreachable` instruction executed"
    );
    sandbox.serves_the_next_call();
}

/// A listener on 127.0.0.1 that counts the connections it accepts (and holds them open).
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let authority = listener.local_addr().expect("its address").to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            // Held open and never answered: a sender would wait until its deadline.
            held.push(stream);
        }
    });
    (authority, accepted)
}

#[test]
fn the_flooding_component_connects_to_an_allowed_host() {
    // The control: the same component, its host allowed, does connect.
    let (authority, accepted) = counting_listener();
    let mut config = on_demand();
    config.allowed_endpoint = Some(format!("http://{authority}"));
    let sandbox = Sandbox::new(config);
    let (stopped, _) = sandbox.start("flood", &authority);
    assert!(
        matches!(stopped, Some(HostError::Timeout(_))),
        "{stopped:?}"
    );
    assert!(accepted.load(Ordering::SeqCst) > 0, "no connection");
}

#[test]
fn a_component_sending_to_a_refused_host_in_a_loop_never_connects() {
    let (authority, accepted) = counting_listener();
    for config in [on_demand(), HostConfig::default()] {
        let sandbox = Sandbox::new(config);
        let (stopped, took) = sandbox.start("flood", &authority);
        assert!(
            matches!(stopped, Some(HostError::Timeout(_))),
            "{stopped:?}"
        );
        assert!(took < TIMEOUT * 4, "stopped after {took:?}");
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            0,
            "a refused request connected"
        );
        sandbox.serves_the_next_call();
    }
}

/// `sfn-start --component` of the hostile component, writing it to a file first.
fn sfn_start_hostile(args: &[&str]) -> std::process::Output {
    static FILE: OnceLock<tempfile::TempPath> = OnceLock::new();
    let path = FILE.get_or_init(|| {
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::io::Write::write_all(&mut file, hostile()).expect("the component written");
        file.into_temp_path()
    });
    let mut child = crate::sfn_start_command()
        .arg("--component")
        .arg(path.as_os_str())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sfn-start runs");
    // A component the host does not stop would hold the process forever.
    let began = Instant::now();
    while child.try_wait().expect("sfn-start waited for").is_none() {
        if began.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sfn-start has not exited within {HANG:?}: the host did not stop the call");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("sfn-start's output")
}

/// Exit status 1, nothing on standard output, and on standard error one line: `expected`.
fn fails_with_one_line(output: &std::process::Output, expected: impl Fn(&str) -> bool) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(expected(stderr.trim_end()), "{stderr}");
}

#[test]
fn sfn_start_says_in_one_line_that_the_component_trapped() {
    let trap = arn("trap");
    let output = sfn_start_hostile(&["--validate-only", "--state-machine-arn", &trap]);
    fails_with_one_line(&output, |line| {
        line == "error: the component trapped: wasm `unreachable` instruction executed"
    });
    // The backtrace is for whoever debugs the component.
    let debug = sfn_start_hostile(&["--debug", "--validate-only", "--state-machine-arn", &trap]);
    let stderr = String::from_utf8_lossy(&debug.stderr);
    assert_eq!(debug.status.code(), Some(1), "{debug:?}");
    assert!(stderr.contains("wasm backtrace"), "{stderr}");
}

#[test]
fn sfn_start_says_in_one_line_that_the_component_ran_out_of_time() {
    let spin = arn("spin");
    let began = Instant::now();
    let output = sfn_start_hostile(&[
        "--validate-only",
        "--timeout",
        "1",
        "--state-machine-arn",
        &spin,
    ]);
    fails_with_one_line(&output, |line| {
        line == "error: the call did not finish within 1s"
    });
    assert!(began.elapsed() < HANG, "{:?}", began.elapsed());
}

#[test]
fn sfn_start_says_in_one_line_that_the_component_reached_its_memory_limit() {
    let grow = arn("grow");
    let output = sfn_start_hostile(&["--validate-only", "--state-machine-arn", &grow]);
    fails_with_one_line(&output, |line| {
        line.starts_with("error: the component trapped") && line.contains("memory")
    });
}
