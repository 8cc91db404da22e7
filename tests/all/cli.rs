//! The `sfn-start` binary as a user runs it: output, exit codes, and no secret anywhere.
//!
//! Every run here happens twice: through the native `sfn-start` and through the command
//! component under `wasmtime run`, and the two must agree byte for byte on exit status,
//! standard output and standard error. So each test below also proves the command flavour.
//! (Without wasmtime-cli, as in a plain `cargo test` on a fresh clone, only the first runs,
//! and the kit says so; `tests/run` requires both.)

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use sfn_test_kit::fixtures;
use sfn_test_kit::peers::{wasmtime, wasmtime_run};
use sfn_test_kit::sigv4::Credential;
use sfn_test_kit::standin::{Reply, StandIn};
use sfn_test_kit::{AKID, ARN, EXECUTION_ARN, SECRET, TOKEN};

use crate::sfn_start_command;

/// Runs `sfn-start` and `wasmtime run` of the command component with only the given
/// environment and optional standard input; asserts that they agree and returns the output.
///
/// Credentials from the environment come with a session token (the kit's `TOKEN`) unless
/// the test gives its own or prints a signed request (`--dry-run`, pinned to the token-less
/// shared vector); whatever happens, neither secret may appear in the output.
fn sfn_start(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut env = env.to_vec();
    let has = |env: &[(&str, &str)], name: &str| env.iter().any(|(n, _)| *n == name);
    if has(&env, "AWS_SECRET_ACCESS_KEY")
        && !has(&env, "AWS_SESSION_TOKEN")
        && !args.contains(&"--dry-run")
    {
        env.push(("AWS_SESSION_TOKEN", TOKEN));
    }
    let output = both_front_ends(args, &env, stdin);
    let given = env
        .iter()
        .filter(|(n, _)| *n == "AWS_SECRET_ACCESS_KEY" || *n == "AWS_SESSION_TOKEN");
    for (_, secret) in given.chain(&[("", SECRET), ("", TOKEN)]) {
        for printed in [&output.stdout, &output.stderr] {
            let printed = text(printed);
            assert!(!printed.contains(secret), "{secret} in:\n{printed}");
        }
    }
    output
}

fn both_front_ends(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut native = sfn_start_command();
    native.args(args).envs(env.iter().copied());
    let native = run(native, stdin);
    let names: Vec<&str> = env.iter().map(|(k, _)| *k).collect();
    // A file named by --input @FILE or --cli-input-json file://FILE needs its folder
    // preopened for the component.
    let dirs: Vec<String> = args
        .iter()
        .filter_map(|arg| {
            let path = arg
                .strip_prefix('@')
                .or_else(|| arg.strip_prefix("file://"))?;
            Path::new(path).parent()
        })
        .map(|dir| format!("--dir={}::{}", dir.display(), dir.display()))
        .collect();
    let Some(mut wasi) = wasmtime_run(sfn_host::COMMAND_WASM, &names, &dirs) else {
        return native;
    };
    wasi.args(args).env_clear().envs(env.iter().copied());
    let wasi = run(wasi, stdin);
    let shown = |o: &Output| {
        format!(
            "status {:?}\nstdout:\n{}\nstderr:\n{}",
            o.status.code(),
            text(&o.stdout),
            text(&o.stderr)
        )
    };
    assert_eq!(
        shown(&wasi),
        shown(&native),
        "wasmtime run (left) and sfn-start (right) disagree for {args:?}"
    );
    native
}

/// How many front ends each `sfn_start` runs: `sfn-start`, and `wasmtime run` where it is set
/// up.
fn front_ends() -> usize {
    1 + usize::from(wasmtime().is_some())
}

fn run(mut command: Command, stdin: Option<&str>) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

const CREDENTIALS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", AKID),
    ("AWS_SECRET_ACCESS_KEY", SECRET),
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Neither the secret key nor the session token may appear in anything printed.
fn assert_no_secret(output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        let printed = text(stream);
        assert!(
            !printed.contains(SECRET) && !printed.contains(TOKEN),
            "{printed}"
        );
    }
}

/// The shared vector (`tests/fixtures/sigv4-vector.json`) through both front ends, and the
/// README's example of it, byte for byte.
#[test]
fn dry_run_prints_the_signed_request() {
    let vector = fixtures::sigv4_vector();
    let args = [
        "--state-machine-arn",
        &vector.state_machine_arn,
        "--dry-run",
        "--signing-time",
        &vector.signing_time,
    ];
    let env = [
        ("AWS_ACCESS_KEY_ID", vector.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", vector.secret_access_key.as_str()),
    ];
    let output = sfn_start(&args, &env, None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let request = &vector.request;
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().into()))
        .collect();
    let expected = serde_json::json!({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "body": request.body,
    });
    let printed = text(&output.stdout);
    assert_eq!(printed, format!("{expected:#}\n"));
    assert_eq!(text(&output.stderr), "");
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&format!("```json\n{printed}```")),
        "the README's --dry-run example is not sfn-start's output:\n{printed}"
    );
}

#[test]
fn dry_run_redacts_the_session_token() {
    let env = [CREDENTIALS[0], CREDENTIALS[1], ("AWS_SESSION_TOKEN", TOKEN)];
    let pinned = ["--signing-time", "2015-08-30T12:36:00Z"];
    let args = [&["--state-machine-arn", ARN, "--dry-run"][..], &pinned].concat();
    let output = sfn_start(&args, &env, None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["headers"]["x-amz-security-token"], "<redacted>");
    let authorization = printed["headers"]["authorization"].as_str().unwrap();
    assert!(
        authorization.contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        )
    );
    assert_no_secret(&output);
}

#[test]
fn starts_against_an_endpoint_and_reports_like_the_provider() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        |_| Reply::success(EXECUTION_ARN, "1.686509515191E9", "req-cli"),
    );
    let env = [CREDENTIALS[0], CREDENTIALS[1], ("AWS_SESSION_TOKEN", TOKEN)];
    let url = server.url();
    let output = sfn_start(
        &[
            "--state-machine-arn",
            ARN,
            "--endpoint-url",
            &url,
            "--name",
            "run-1",
            "--input",
            r#"{"a": 1}"#,
        ],
        &env,
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "{{\n  \"executionArn\": \"{EXECUTION_ARN}\",\n  \"startDate\": \"2023-06-11T18:51:55.191Z\",\n  \"requestId\": \"req-cli\"\n}}\n"
        )
    );
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {ARN}...\nExecution started successfully with ARN {EXECUTION_ARN}\n"
        )
    );
    let request = &server.requests()[0];
    assert_eq!(request.check, Ok(()));
    assert_eq!(
        text(&request.body),
        format!(r#"{{"stateMachineArn":"{ARN}","input":"{{\"a\": 1}}","name":"run-1"}}"#)
    );
    assert_no_secret(&output);
}

#[test]
fn the_endpoint_variable_is_used_and_allowed() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        |_| Reply::success(EXECUTION_ARN, "1", "r"),
    );
    let url = server.url();
    let env = [
        CREDENTIALS[0],
        CREDENTIALS[1],
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let output = sfn_start(&["--state-machine-arn", ARN], &env, None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // One from each front end.
    assert_eq!(server.requests().len(), front_ends());
}

#[test]
fn input_from_a_file_and_from_standard_input() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        |_| Reply::success(EXECUTION_ARN, "1", "r"),
    );
    let url = server.url();
    let file = std::env::temp_dir().join(format!("sfn-start-input-{}.json", std::process::id()));
    std::fs::write(&file, "{\"from\": \"file\"}\n").unwrap();
    let at_file = format!("@{}", file.display());
    let common = [
        "--state-machine-arn",
        ARN,
        "--endpoint-url",
        url.as_str(),
        "--input",
    ];
    let from_file = sfn_start(
        &[&common[..], &[at_file.as_str()]].concat(),
        &CREDENTIALS,
        None,
    );
    let from_stdin = sfn_start(
        &[&common[..], &["-"]].concat(),
        &CREDENTIALS,
        Some("[\"stdin\"]"),
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "{}",
        text(&from_file.stderr)
    );
    assert_eq!(
        from_stdin.status.code(),
        Some(0),
        "{}",
        text(&from_stdin.stderr)
    );
    let inputs: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["input"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Each once per front end: sfn-start, then the command under wasmtime run.
    let file_input = "{\"from\": \"file\"}\n";
    let each = |input: &'static str| std::iter::repeat_n(input, front_ends());
    let expected: Vec<&str> = each(file_input).chain(each("[\"stdin\"]")).collect();
    assert_eq!(inputs, expected);
}

#[test]
fn invalid_arguments_exit_2_with_one_line_per_rule() {
    let output = sfn_start(
        &[
            "--state-machine-arn",
            "arn:aws:states:us-east-1:123456789012:stateMachine:Hello/map",
            "--input",
            "{",
            "--name",
            "a b",
            "--region",
            "eu-west-1",
            "--validate-only",
        ],
        &[],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        "error: invalid arguments:
  state_machine_arn: 'Hello/map' is a Distributed Map run label, which StartExecution does not accept: use the state machine's own ARN
  input: must be valid JSON: EOF while parsing an object at line 1 column 1
  name: must not contain white space: found U+0020 at byte 1
"
    );
}

#[test]
fn validate_only_accepts_good_arguments_without_credentials() {
    let output = sfn_start(
        &[
            "--state-machine-arn",
            ARN,
            "--input",
            "[1]",
            "--validate-only",
        ],
        &[],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), "The arguments are valid.\n");
}

#[test]
fn a_service_error_exits_1_with_code_message_and_request_id() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        |_| {
            Reply::error(
                400,
                "ExecutionAlreadyExists",
                "Execution Already Exists: 'arn:x'",
                "req-dup",
            )
        },
    );
    let url = server.url();
    let output = sfn_start(
        &[
            "--state-machine-arn",
            ARN,
            "--endpoint-url",
            &url,
            "--name",
            "dup",
        ],
        &CREDENTIALS,
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {ARN}...\nerror: could not start execution for state machine {ARN}: ExecutionAlreadyExists: Execution Already Exists: 'arn:x' (HTTP 400, request id req-dup)\n"
        )
    );
}

#[test]
fn an_unreachable_endpoint_is_named_and_exits_1() {
    // The CLI allows its own --endpoint-url; the refusal of other hosts is proven through
    // the library in service.rs. A refused connection is retried: --max-attempts bounds it. A body larger than one 4 KiB write is still being written
    // when the connection is refused: the refusal, not the closed body stream, is the cause.
    let large = format!("[{}1]", " ".repeat(20_000));
    for input in ["{}", large.as_str()] {
        let output = sfn_start(
            &[
                "--state-machine-arn",
                "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                "--endpoint-url",
                "http://127.0.0.1:9",
                "--max-attempts",
                "2",
                "--input",
                input,
            ],
            &CREDENTIALS,
            None,
        );
        assert_eq!(output.status.code(), Some(1));
        assert!(
            text(&output.stderr).ends_with("error: could not start execution for state machine arn:aws:states:us-east-1:123456789012:stateMachine:m: request to http://127.0.0.1:9/ failed: connection refused (after 2 attempts)\n"),
            "{}",
            text(&output.stderr)
        );
    }
}

#[test]
fn missing_credentials_exit_1_naming_where_they_were_looked_for() {
    // The front ends differ here, and only here: `sfn-start` resolves the AWS SDKs' chain in
    // the host; the command component reads its environment.
    let args = ["--state-machine-arn", ARN, "--dry-run"];
    let mut native = sfn_start_command();
    native.args(args);
    let native = run(native, None);
    assert_eq!(native.status.code(), Some(1));
    assert_eq!(
        text(&native.stderr),
        "error: missing credentials: none found; tried Environment (environment variable not set), Profile (nothing configured), WebIdentityToken ($AWS_WEB_IDENTITY_TOKEN_FILE was not set), EcsContainer (ECS provider not configured), Ec2InstanceMetadata (IMDS disabled by AWS_EC2_METADATA_DISABLED env var set to `true`)\n"
    );
    let Some(mut wasi) = wasmtime_run(sfn_host::COMMAND_WASM, &[], &[]) else {
        return;
    };
    wasi.args(args).env_clear();
    let wasi = run(wasi, None);
    assert_eq!(wasi.status.code(), Some(1));
    assert_eq!(
        text(&wasi.stderr),
        "error: missing credentials: pass credentials in the client options or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    let missing = sfn_start(&["--dry-run"], &[], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("--state-machine-arn <ARN>"),
        "{}",
        text(&missing.stderr)
    );
    let time_without_dry_run = sfn_start(
        &[
            "--state-machine-arn",
            ARN,
            "--signing-time",
            "2015-08-30T12:36:00Z",
        ],
        &[],
        None,
    );
    assert_eq!(time_without_dry_run.status.code(), Some(2));
    let bad_time = sfn_start(
        &[
            "--state-machine-arn",
            ARN,
            "--dry-run",
            "--signing-time",
            "yesterday",
        ],
        &[],
        None,
    );
    assert_eq!(bad_time.status.code(), Some(2));
    assert!(
        text(&bad_time.stderr).contains("expected e.g. 2015-08-30T12:36:00Z"),
        "{}",
        text(&bad_time.stderr)
    );
    let missing =
        std::env::temp_dir().join(format!("sfn-start-missing-{}.json", std::process::id()));
    let at_missing = format!("@{}", missing.display());
    let unreadable = sfn_start(
        &["--state-machine-arn", ARN, "--input", &at_missing],
        &[],
        None,
    );
    assert_eq!(unreadable.status.code(), Some(2));
    assert_eq!(
        text(&unreadable.stderr),
        format!(
            "error: --input {at_missing}: cannot read the file as UTF-8 text: No such file or directory\n"
        )
    );
}

#[test]
fn a_malformed_endpoint_is_an_argument_error_not_a_host_failure() {
    let dry_run = sfn_start(
        &[
            "--state-machine-arn",
            ARN,
            "--endpoint-url",
            "ftp://x",
            "--dry-run",
        ],
        &CREDENTIALS,
        None,
    );
    assert_eq!(dry_run.status.code(), Some(2));
    assert_eq!(
        text(&dry_run.stderr),
        "error: invalid arguments:\n  endpoint_url: the custom endpoint 'ftp://x' must start with https:// or http://\n"
    );
    // A stray variable must not stop a check that sends nothing.
    let env = [("AWS_ENDPOINT_URL", "nonsense")];
    let validate = sfn_start(&["--state-machine-arn", ARN, "--validate-only"], &env, None);
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        text(&validate.stderr)
    );
}

/// `sfn-start --component PATH --validate-only` with only this cache home.
fn with_component(cache_home: &Path) -> Output {
    let mut command = sfn_start_command();
    command
        .args(["--component", sfn_host::PLUGIN_WASM, "--validate-only"])
        .args(["--state-machine-arn", ARN])
        .env("XDG_CACHE_HOME", cache_home);
    run(command, None)
}

fn cached_files(cache_home: &Path) -> Vec<std::path::PathBuf> {
    let dir = cache_home.join("sfn-start/components");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries.map(|entry| entry.unwrap().path()).collect()
}

#[test]
fn a_component_file_is_compiled_once_and_cached() {
    let home = std::env::temp_dir().join(format!("sfn-start-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let first = with_component(&home);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(text(&first.stderr), "The arguments are valid.\n");
    let cached = cached_files(&home);
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(cached[0].extension().unwrap(), "cwasm");
    let written = std::fs::metadata(&cached[0]).unwrap().modified().unwrap();

    // Found, not written again.
    let second = with_component(&home);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(cached_files(&home), cached);
    let unchanged = std::fs::metadata(&cached[0]).unwrap().modified().unwrap();
    assert_eq!(unchanged, written);

    // A damaged entry is refused by wasmtime, compiled again and replaced.
    std::fs::write(&cached[0], b"not compiled code").unwrap();
    let third = with_component(&home);
    assert_eq!(third.status.code(), Some(0), "{}", text(&third.stderr));
    assert!(std::fs::metadata(&cached[0]).unwrap().len() > 1000);
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn cached_code_others_could_have_written_is_never_run() {
    use std::os::unix::fs::PermissionsExt;
    let chmod = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let home = std::env::temp_dir().join(format!("sfn-start-cache-trust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    assert_eq!(with_component(&home).status.code(), Some(0));
    let dir = home.join("sfn-start/components");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let entry = cached_files(&home).remove(0);

    // An entry others may write: ignored, said once, and replaced by one of our own.
    chmod(&entry, 0o666);
    let output = with_component(&home);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stderr),
        format!(
            "warning: ignoring the compiled code at {}: its group or others may write it (mode 666)\nThe arguments are valid.\n",
            entry.display()
        )
    );
    assert_eq!(
        std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        text(&with_component(&home).stderr),
        "The arguments are valid.\n"
    );

    // A folder others may write: nothing in it is run, nothing is written to it.
    chmod(&dir, 0o777);
    let output = with_component(&home);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        text(&output.stderr),
        format!(
            "warning: ignoring the compiled code at {}: its group or others may write it (mode 777)\nThe arguments are valid.\n",
            entry.display()
        )
    );
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn a_cache_that_cannot_be_written_only_means_compiling() {
    // A cache home that is a file: no directory can be made under it.
    let file = std::env::temp_dir().join(format!("sfn-start-cache-file-{}", std::process::id()));
    std::fs::write(&file, b"").unwrap();
    let output = with_component(&file);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // Said once, naming where it could not write.
    assert_eq!(
        text(&output.stderr),
        format!(
            "warning: could not keep the compiled component in {}/sfn-start/components: Not a directory (os error 20)\nThe arguments are valid.\n",
            file.display()
        )
    );
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn retry_flags_name_their_rule() {
    for (flag, value, rule) in [
        ("--max-attempts", "0", "0 is not in 1..=4294967295"),
        (
            "--timeout",
            "0",
            "must be a number of seconds, more than 0 (e.g. 30 or 2.5)",
        ),
        (
            "--timeout",
            "soon",
            "must be a number of seconds, more than 0 (e.g. 30 or 2.5)",
        ),
    ] {
        let output = sfn_start(
            &["--state-machine-arn", ARN, flag, value],
            &CREDENTIALS,
            None,
        );
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let stderr = text(&output.stderr);
        let named = format!("error: invalid value '{value}' for '{flag} <");
        assert!(
            stderr.starts_with(&named) && stderr.contains(rule),
            "{stderr}"
        );
    }
}

#[test]
fn the_timeout_ends_a_call_to_a_silent_server() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        |_| Reply::Hang,
    );
    let url = server.url();
    let started = std::time::Instant::now();
    let args = [
        "--state-machine-arn",
        ARN,
        "--endpoint-url",
        &url,
        "--timeout",
        "1",
        "--name",
        "silent-1",
    ];
    let output = sfn_start(&args, &CREDENTIALS, None);
    assert_eq!(output.status.code(), Some(1));
    // The request went out and no answer came: the execution may have started, and the
    // hint says how to check and how to try again safely.
    let execution = "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:silent-1";
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {ARN}...\nerror: could not start execution for state machine {ARN}: request to {url}/ failed: waiting for the response: the call's timeout of 1s passed\n\
             hint: an attempt may have started {execution} before its answer was lost. Check with: aws stepfunctions describe-execution --execution-arn {execution}; to try again, pass --name silent-1: a STANDARD state machine cannot get a second execution of that name\n"
        )
    );
    // Each front end gave up after its second, not long after (seconds, on a loaded machine).
    let runs = front_ends() as u32;
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_secs(runs.into())
            && took < std::time::Duration::from_secs(10) * runs,
        "{took:?}"
    );
    assert_eq!(server.requests().len(), front_ends());
}

#[test]
fn cli_input_json_as_text_or_a_file_with_flags_winning() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        |_| Reply::success(EXECUTION_ARN, "1", "r"),
    );
    let url = server.url();
    let request = format!(
        r#"{{"stateMachineArn":"{ARN}","input":"{{\"from\":\"json\"}}","name":"from-json","traceHeader":"Root=1-json"}}"#
    );
    let file =
        std::env::temp_dir().join(format!("sfn-start-cli-input-{}.json", std::process::id()));
    std::fs::write(&file, &request).unwrap();
    let from_file = format!("file://{}", file.display());
    let endpoint = ["--endpoint-url", url.as_str()];
    for (input, extra) in [
        (request.as_str(), &[][..]),
        (from_file.as_str(), &["--name", "from-flag"][..]),
    ] {
        let args = [&endpoint[..], &["--cli-input-json", input], extra].concat();
        let output = sfn_start(&args, &CREDENTIALS, None);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    std::fs::remove_file(&file).unwrap();
    let bodies: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let names: Vec<&str> = bodies.iter().map(|b| b["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = ["from-json", "from-flag"]
        .iter()
        .flat_map(|name| std::iter::repeat_n(*name, front_ends()))
        .collect();
    assert_eq!(names, expected);
    for body in &bodies {
        assert_eq!(
            (&body["input"], &body["traceHeader"]),
            (&r#"{"from":"json"}"#.into(), &"Root=1-json".into())
        );
    }
    let unknown = sfn_start(
        &["--cli-input-json", r#"{"stateMachine":"x"}"#],
        &CREDENTIALS,
        None,
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        text(&unknown.stderr),
        "error: --cli-input-json: unknown member \"stateMachine\"; the members are stateMachineArn, input, name, traceHeader\n"
    );
}

/// A hostile service: it echoes the secret key and the session token in a plain-text body
/// longer than any cut (the token straddling the 300th character), in the request id and in
/// a header, and puts terminal escapes in its message; then it returns an execution ARN
/// with escapes in it. Nothing of either secret, and no raw control character, reaches the
/// terminal, through either front end.
#[test]
fn a_service_that_echoes_secrets_and_escapes_cannot_reach_the_terminal() {
    let echo = format!("{}{TOKEN} and {SECRET}", "x".repeat(290));
    let echoed = echo.clone();
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        move |_| Reply::Raw {
            status: 400,
            headers: vec![
                ("content-type".into(), "text/plain".into()),
                ("x-amzn-requestid".into(), format!("id-{TOKEN}")),
            ],
            body: echoed.clone().into_bytes(),
        },
    );
    let env = [CREDENTIALS[0], CREDENTIALS[1], ("AWS_SESSION_TOKEN", TOKEN)];
    let url = server.url();
    let args = [
        "--state-machine-arn",
        ARN,
        "--endpoint-url",
        &url,
        "--max-attempts",
        "1",
    ];
    let output = sfn_start(&args, &env, None);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_no_secret(&output);
    assert!(
        text(&output.stderr).contains("***"),
        "{}",
        text(&output.stderr)
    );

    let forged = format!("{EXECUTION_ARN}\u{1b}[2J\rExecution started\u{9b}31m");
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        move |_| Reply::success(&forged, "1.7E9", "r"),
    );
    let url = server.url();
    let args = ["--state-machine-arn", ARN, "--endpoint-url", &url];
    let output = sfn_start(&args, &env, None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_no_secret(&output);
    for stream in [&output.stdout, &output.stderr] {
        let printed = text(stream);
        assert!(
            !printed.chars().any(|c| c != '\n' && (c.is_control())),
            "{printed:?}"
        );
    }
    // JSON's own escape for the carriage return on standard output, the CLI's elsewhere.
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(r#"\u001b[2J\rExecution started\u009b31m"#),
        "{stdout:?}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(r#"\u001b[2J\u000dExecution started\u009b31m"#),
        "{stderr:?}"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert!(json["executionArn"].as_str().unwrap().contains('\u{1b}'));
}

/// `--debug` (sfn-start's own flag) shows each request as it went, and never a header,
/// the body or a secret; a setting aws-config ignores is said as a warning.
#[test]
fn debug_shows_each_request_and_warnings_reach_standard_error() {
    let mut replies = vec![
        Reply::error(503, "ServiceUnavailable", "later", "r1"),
        Reply::success(EXECUTION_ARN, "1.7E9", "r2"),
    ]
    .into_iter();
    let replies = std::sync::Mutex::new(std::iter::from_fn(move || replies.next()));
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        move |_| replies.lock().unwrap().next().expect("two answers"),
    );
    let url = server.url();
    let mut command = sfn_start_command();
    command
        .envs(CREDENTIALS)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .env("AWS_USE_FIPS_ENDPOINT", "maybe")
        .args([
            "--state-machine-arn",
            ARN,
            "--endpoint-url",
            &url,
            "--debug",
        ]);
    let output = run(command, None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_no_secret(&output);
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    // The configuration is read after the arguments were found valid.
    assert!(lines[0].starts_with("Starting execution"), "{stderr}");
    assert!(
        lines[1].starts_with(
            "warning: invalid value for FIPS setting err=maybe is not a valid boolean"
        ),
        "{stderr}"
    );
    let request = format!("debug: POST {url}/ AWSStepFunctions.StartExecution");
    let attempts: Vec<&&str> = lines.iter().filter(|l| l.starts_with("debug: ")).collect();
    assert_eq!(attempts.len(), 2, "{stderr}");
    assert!(
        attempts[0].starts_with(&format!("{request} attempt 1: 503 Service Unavailable in ")),
        "{stderr}"
    );
    assert!(
        attempts[1].starts_with(&format!("{request} attempt 2: 200 OK in ")),
        "{stderr}"
    );
    // Without --debug, only the warning.
    let mut quiet = sfn_start_command();
    quiet
        .envs(CREDENTIALS)
        .env("AWS_USE_FIPS_ENDPOINT", "maybe")
        .args(["--state-machine-arn", ARN, "--dry-run"]);
    let quiet = text(&run(quiet, None).stderr);
    assert!(!quiet.contains("debug: "), "{quiet}");
    assert!(
        quiet.starts_with("warning: invalid value for FIPS setting"),
        "{quiet}"
    );
}

/// The README's example of a field error is what both front ends print for that call.
#[test]
fn the_readmes_error_example_is_sfn_starts_output() {
    let readme = include_str!("../../README.md");
    let intro = "each field error on its own line:\n\n```\n";
    let start = readme.find(intro).expect("the README shows a field error") + intro.len();
    let example = &readme[start..];
    let example = &example[..example.find("```").expect("the block ends")];
    let args = [
        "--state-machine-arn",
        ARN,
        "--name",
        "a b",
        "--validate-only",
    ];
    let output = sfn_start(&args, &[], None);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stderr), example);
}
