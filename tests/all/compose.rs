//! Composition: the example webhook (`examples/webhook`, which imports
//! `sfn:action/start-execution`) plugged with the plugin by `wac plug` into one component,
//! served by `wasmtime serve` and driven over HTTP on 127.0.0.1, with moto behind it. Every
//! started execution is checked with moto's own DescribeExecution.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sfn_test_kit::peers::{Moto, moto, wac, wasmtime_serve};

/// StartExecution's limit on `input`, in bytes.
const MAX_INPUT: usize = 262_144;
const TOKEN: &str = "webhook-token-0123456789";
/// How long a child (wac, the server starting) or an answer may take, at most.
const BOUND: Duration = Duration::from_secs(60);
/// How much of a child's output or an answer a test reads, at most.
const READ_LIMIT: u64 = 1 << 20;

/// The names a component imports and exports.
fn component_names(path: &Path) -> (Vec<String>, Vec<String>) {
    let engine = wasmtime::Engine::default();
    let component = wasmtime::component::Component::from_file(&engine, path).unwrap();
    let ty = component.component_type();
    let imports = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
    let exports = ty.exports(&engine).map(|(n, _)| n.to_string()).collect();
    (imports, exports)
}

#[test]
fn the_webhook_imports_start_execution_and_exports_the_incoming_handler() {
    let (imports, exports) = component_names(Path::new(sfn_host::WEBHOOK_WASM));
    assert!(
        imports.contains(&"sfn:action/start-execution@0.2.0".to_string()),
        "{imports:?}"
    );
    // `wasi:http/proxy` hosts call exactly this export.
    assert_eq!(exports, ["wasi:http/incoming-handler@0.2.12"]);
}

#[test]
fn wac_plug_fills_every_sfn_action_import() {
    let Some(wac) = wac() else { return };
    let dir = tempfile::tempdir().unwrap();
    let composed = compose(wac, dir.path());
    let (imports, exports) = component_names(&composed);
    assert!(
        !imports.iter().any(|i| i.starts_with("sfn:action/")),
        "{imports:?}"
    );
    // What is left is WASI, which `wasmtime serve -S cli` provides.
    assert!(
        imports.iter().all(|i| i.starts_with("wasi:")),
        "{imports:?}"
    );
    assert_eq!(exports, ["wasi:http/incoming-handler@0.2.12"]);
}

#[test]
fn the_composed_webhook_starts_executions_in_moto() {
    let Some((wac, wasmtime, moto)) = peers() else {
        return;
    };
    let server = Server::start(
        wasmtime,
        wac,
        &settings(moto, TOKEN, &moto.secret_access_key),
    );
    let seen = &mut Vec::new();

    let refused = [
        None,
        Some("Bearer wrong-token".to_string()),
        Some(format!("Bearer {}", &TOKEN[..TOKEN.len() - 1])),
        // The token without its scheme, or with another.
        Some(TOKEN.to_string()),
        Some(format!("Digest {TOKEN}")),
    ];
    for authorization in refused {
        let answer = server.post(authorization.as_deref(), b"{}");
        assert_eq!(answer.status, 401, "{authorization:?}: {answer:?}");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        seen.push(answer);
    }

    // The scheme in any case: past the token check to the method's.
    let answer = server.request("GET", Some(&format!("bearer {TOKEN}")), b"");
    assert_eq!((answer.status, answer.header("allow")), (405, Some("POST")));

    let bearer = format!("Bearer {TOKEN}");

    let input = "{ \"order\" : 42,\n \"note\": \"héllo ✓\" }";
    let answer = server.post(Some(&bearer), input.as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    let execution_arn = answer.body["executionArn"].as_str().expect("an ARN");
    assert!(answer.body["startDate"].as_i64().is_some(), "{answer:?}");
    let found = moto.describe(execution_arn);
    assert_eq!(found["stateMachineArn"], moto.state_machine_arn.as_str());
    assert_eq!(
        found["input"], input,
        "the body is the input, byte for byte"
    );
    seen.push(answer);

    let answer = server.post(Some(&bearer), b"not JSON");
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(
        answer.body["fieldErrors"][0]["field"], "input",
        "{answer:?}"
    );
    seen.push(answer);

    // One byte over the limit in a body that never ends: refused without waiting for the rest.
    let answer = server.oversized(&bearer);
    assert_eq!(answer.status, 413, "{answer:?}");
    seen.push(answer);

    for answer in seen {
        let text = answer.body.to_string();
        assert!(
            !text.contains(&moto.secret_access_key) && !text.contains(TOKEN),
            "{text}"
        );
    }
}

/// A Step Functions error is a 502 with the service's code, and no secret.
#[test]
fn a_service_error_is_a_bad_gateway_without_secrets() {
    let Some((wac, wasmtime, moto)) = peers() else {
        return;
    };
    let wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY";
    let server = Server::start(wasmtime, wac, &settings(moto, TOKEN, wrong));
    let answer = server.post(Some(&format!("Bearer {TOKEN}")), b"{}");
    assert_eq!(answer.status, 502, "{answer:?}");
    assert_eq!(answer.body["code"], "SignatureDoesNotMatch", "{answer:?}");
    let text = answer.body.to_string();
    assert!(!text.contains(wrong) && !text.contains(TOKEN), "{text}");
}

#[test]
fn an_empty_webhook_token_refuses_every_request() {
    let Some((wac, wasmtime, moto)) = peers() else {
        return;
    };
    let server = Server::start(wasmtime, wac, &settings(moto, "", &moto.secret_access_key));
    for authorization in [None, Some("Bearer"), Some("Bearer "), Some("Bearer x")] {
        let answer = server.post(authorization, b"{}");
        assert_eq!(answer.status, 401, "{authorization:?}: {answer:?}");
    }
    let log = head(&server.log);
    assert!(log.contains("WEBHOOK_TOKEN is unset or empty"), "{log}");
}

/// `wac`, `wasmtime serve` and moto, in that order: moto starts only when the others are there.
fn peers() -> Option<(&'static Path, &'static Path, &'static Moto)> {
    Some((wac()?, wasmtime_serve()?, moto()?))
}

/// The component's environment: the webhook's settings and moto's endpoint and user.
fn settings(moto: &Moto, token: &str, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("WEBHOOK_TOKEN", token.to_string()),
        ("STATE_MACHINE_ARN", moto.state_machine_arn.clone()),
        ("AWS_ENDPOINT_URL_SFN", moto.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", moto.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
    ]
}

/// `wac plug` of the webhook with the plugin, into `dir`.
fn compose(wac: &Path, dir: &Path) -> PathBuf {
    let composed = dir.join("composed.wasm");
    let log = dir.join("wac.log");
    let mut command = Command::new(wac);
    command
        .env_clear()
        .args([
            "plug",
            sfn_host::WEBHOOK_WASM,
            "--plug",
            sfn_host::PLUGIN_WASM,
            "-o",
        ])
        .arg(&composed);
    let mut child = spawn(command, &log);
    let deadline = Instant::now() + BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wac plug took over {BOUND:?}: {}", head(&log));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "wac plug: {status}: {}", head(&log));
    composed
}

/// `command` with no input and its output, both streams, in `log`.
fn spawn(mut command: Command, log: &Path) -> Child {
    let file = File::create(log).unwrap();
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

/// The start of a log: enough to say what went wrong.
fn head(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(file) = File::open(path) {
        let _ = file.take(64 * 1024).read_to_string(&mut text);
    }
    text
}

/// `wasmtime serve` of the composed webhook; killed when dropped, the test passed or not.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(wasmtime: &Path, wac: &Path, env: &[(&str, String)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let composed = compose(wac, dir.path());
        let port = free_port();
        let log = dir.path().join("serve.log");
        let mut command = Command::new(wasmtime);
        command
            .env_clear()
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // `-S cli`: the composed component imports the environment and standard streams.
            .args(["serve", "-S", "cli", "--addr", &format!("127.0.0.1:{port}")]);
        // By name: the values, secrets among them, stay off the command line.
        for (name, value) in env {
            command.args(["--env", name]).env(name, value);
        }
        command.arg(&composed);
        let mut server = Server {
            child: spawn(command, &log),
            port,
            log,
            _dir: dir,
        };
        server.wait_until_accepting();
        server
    }

    fn wait_until_accepting(&mut self) {
        let deadline = Instant::now() + BOUND;
        let addr = (Ipv4Addr::LOCALHOST, self.port).into();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("wasmtime serve exited: {status}: {}", head(&self.log));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "wasmtime serve did not accept within {BOUND:?}: {}",
                head(&self.log)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn post(&self, authorization: Option<&str>, body: &[u8]) -> Answer {
        self.request("POST", authorization, body)
    }

    fn request(&self, method: &str, authorization: Option<&str>, body: &[u8]) -> Answer {
        let mut head = format!(
            "{method} / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        if let Some(authorization) = authorization {
            head.push_str(&format!("authorization: {authorization}\r\n"));
        }
        head.push_str("\r\n");
        let mut stream = self.connect();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        self.answer(stream)
    }

    /// A chunked body whose first chunk is one byte over the limit, and no last chunk.
    fn oversized(&self, authorization: &str) -> Answer {
        let head = format!(
            "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {authorization}\r\n\
             transfer-encoding: chunked\r\n\r\n{:x}\r\n",
            MAX_INPUT + 1
        );
        let mut stream = self.connect();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&vec![b' '; MAX_INPUT + 1]).unwrap();
        self.answer(stream)
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).unwrap();
        stream.set_read_timeout(Some(BOUND)).unwrap();
        stream.set_write_timeout(Some(BOUND)).unwrap();
        stream
    }

    /// Reads one answer, which the webhook always sends with its length.
    fn answer(&self, stream: TcpStream) -> Answer {
        let mut reader = BufReader::new(stream.take(READ_LIMIT));
        let mut line = String::new();
        let read = |reader: &mut BufReader<_>, line: &mut String| {
            line.clear();
            if let Err(e) = reader.read_line(line) {
                panic!(
                    "no answer within {BOUND:?}: {e}; the server's log: {}",
                    head(&self.log)
                );
            }
        };
        read(&mut reader, &mut line);
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok());
        let status = status.unwrap_or_else(|| {
            panic!(
                "a status line: {line:?}; the server's log: {}",
                head(&self.log)
            )
        });
        let mut headers = Vec::new();
        loop {
            read(&mut reader, &mut line);
            let Some((name, value)) = line.trim_end().split_once(':') else {
                break;
            };
            headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
        }
        let mut answer = Answer {
            status,
            headers,
            body: Value::Null,
        };
        let length: usize = answer
            .header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("a content-length: {answer:?}"));
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        answer.body = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&body));
        });
        answer
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        values.next().map(|(_, v)| v.as_str())
    }
}

/// A port nothing listens on now; `wasmtime serve` binds it a moment later.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}
