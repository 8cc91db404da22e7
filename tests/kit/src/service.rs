//! A model of what Step Functions does with executions, for the stand-in to answer with
//! (spec §4, STANDARD state machines): an execution runs until a test closes it; a start
//! with the name and input of a running execution returns that execution again, and any
//! other start with a used name is `ExecutionAlreadyExists`. Inputs are compared byte for
//! byte, as sent. DescribeExecution reports what was started. Faults can be scripted in
//! front of the model, each for one StartExecution, to see what a client's retries do.
//!
//! ```ignore
//! let executions = Arc::new(Executions::with_faults([Fault::LostAfterStart]));
//! let model = Arc::clone(&executions);
//! let standin = StandIn::start(creds, move |request| model.reply(request));
//! ```

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::standin::{DESCRIBE_TARGET, Recorded, Reply};

/// One execution the model started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub input: String,
    /// Epoch milliseconds, from the wall clock when it started.
    pub start_date_ms: u128,
    pub running: bool,
}

/// What the stand-in does with one StartExecution instead of answering it plainly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answers this without the service acting: a throttle, a 5xx from a front end, a
    /// connection reset before the request is read.
    Instead(Reply),
    /// The execution starts, then the connection closes before any answer: the answer is lost.
    LostAfterStart,
    /// As [`Fault::LostAfterStart`], and the execution has ended by the next request.
    LostAfterStartAndClosed,
    /// The execution starts; its answer is cut off halfway.
    CutAfterStart,
    /// The execution starts, then this is answered instead of its result.
    After(Reply),
}

#[derive(Default)]
struct State {
    started: Vec<Execution>,
    faults: VecDeque<Fault>,
    describe_denied: bool,
    starts: usize,
}

/// The executions started so far, by name, and the faults still to come.
#[derive(Default)]
pub struct Executions {
    state: Mutex<State>,
}

impl Executions {
    /// A model whose first StartExecutions meet these faults, one each, in order.
    pub fn with_faults(faults: impl IntoIterator<Item = Fault>) -> Self {
        let state = State {
            faults: faults.into_iter().collect(),
            ..State::default()
        };
        Executions {
            state: Mutex::new(state),
        }
    }

    /// Scripts one more fault, after those still to come.
    pub fn add_fault(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// DescribeExecution is answered with `AccessDeniedException` from now on.
    pub fn deny_describe(&self) {
        self.lock().describe_denied = true;
    }

    /// The answer to a request the stand-in accepted.
    pub fn reply(&self, request: &Recorded) -> Reply {
        if request.header("x-amz-target") == Some(DESCRIBE_TARGET) {
            return self.describe(request);
        }
        let fault = {
            let mut state = self.lock();
            state.starts += 1;
            state.faults.pop_front()
        };
        match fault {
            None => self.start(request),
            Some(Fault::Instead(reply)) => reply,
            Some(Fault::After(reply)) => {
                self.start(request);
                reply
            }
            Some(Fault::LostAfterStart) => {
                self.start(request);
                Reply::Drop
            }
            Some(Fault::LostAfterStartAndClosed) => {
                self.start(request);
                let mut state = self.lock();
                if let Some(last) = state.started.last_mut() {
                    last.running = false;
                }
                Reply::Drop
            }
            Some(Fault::CutAfterStart) => match self.start(request) {
                Reply::Raw { body, .. } => Reply::Cut {
                    sent: body.len() / 2,
                    body,
                },
                other => other,
            },
        }
    }

    /// StartExecution requests received, faulted or not.
    pub fn start_requests(&self) -> usize {
        self.lock().starts
    }

    fn start(&self, request: &Recorded) -> Reply {
        let mut state = self.lock();
        let request_id = format!("model-{}", state.started.len());
        let Some((machine, name, input)) = parse(&request.body) else {
            return Reply::error(400, "ValidationException", "unreadable body", &request_id);
        };
        let name = name.unwrap_or_else(|| format!("generated-{}", state.started.len()));
        let arn = execution_arn(&machine, &name);
        match state.started.iter().find(|e| e.arn == arn) {
            Some(same) if same.running && same.input == input => success(same, &request_id),
            Some(_) => Reply::error(
                400,
                "ExecutionAlreadyExists",
                &format!("Execution Already Exists: '{arn}'"),
                &request_id,
            ),
            None => {
                let execution = Execution {
                    arn,
                    state_machine_arn: machine,
                    name,
                    input,
                    start_date_ms: now_ms(),
                    running: true,
                };
                let reply = success(&execution, &request_id);
                state.started.push(execution);
                reply
            }
        }
    }

    fn describe(&self, request: &Recorded) -> Reply {
        let state = self.lock();
        let request_id = format!("describe-{}", state.started.len());
        if state.describe_denied {
            let message = "User is not authorized to perform: states:DescribeExecution";
            return Reply::error(400, "AccessDeniedException", message, &request_id);
        }
        let value: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let arn = value["executionArn"].as_str().unwrap_or_default();
        let Some(found) = state.started.iter().find(|e| e.arn == arn) else {
            let message = format!("Execution Does Not Exist: '{arn}'");
            return Reply::error(400, "ExecutionDoesNotExist", &message, &request_id);
        };
        let body = serde_json::json!({
            "executionArn": found.arn,
            "stateMachineArn": found.state_machine_arn,
            "name": found.name,
            "status": if found.running { "RUNNING" } else { "SUCCEEDED" },
            "input": found.input,
            "inputDetails": {"included": true},
        });
        let mut text = body.to_string();
        text.insert_str(
            text.len() - 1,
            &format!(r#","startDate":{}"#, seconds(found)),
        );
        Reply::Raw {
            status: 200,
            headers: vec![
                ("content-type".into(), crate::standin::JSON_1_0.into()),
                ("x-amzn-RequestId".into(), request_id),
            ],
            body: text.into_bytes(),
        }
    }

    /// Every execution started, in order.
    pub fn started(&self) -> Vec<Execution> {
        self.lock().started.clone()
    }

    /// Ends the execution with this ARN (as SUCCEEDED, FAILED… would): its name stays used.
    pub fn close(&self, arn: &str) {
        for execution in self.lock().started.iter_mut().filter(|e| e.arn == arn) {
            execution.running = false;
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide what was started before it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Epoch seconds with milliseconds, as the service writes them.
fn seconds(execution: &Execution) -> String {
    let ms = execution.start_date_ms;
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn success(execution: &Execution, request_id: &str) -> Reply {
    Reply::success(&execution.arn, &seconds(execution), request_id)
}

/// `stateMachineArn`, `name` and `input` (`{}` when absent, as the service defaults it).
fn parse(body: &[u8]) -> Option<(String, Option<String>, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let input = text("input").unwrap_or_else(|| "{}".to_owned());
    Some((text("stateMachineArn")?, text("name"), input))
}

/// `arn:P:states:R:A:stateMachine:M[:qualifier]` → `arn:P:states:R:A:execution:M:name`.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    let parts: Vec<&str> = state_machine_arn.split(':').collect();
    let base = parts.get(..5).unwrap_or(&parts[..]).join(":");
    let machine = parts.get(6).copied().unwrap_or_default();
    format!("{base}:execution:{machine}:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_arns_drop_the_qualifier() {
        for machine in [
            "arn:aws:states:us-east-1:123456789012:stateMachine:M",
            "arn:aws:states:us-east-1:123456789012:stateMachine:M:7",
            "arn:aws:states:us-east-1:123456789012:stateMachine:M:PROD",
        ] {
            assert_eq!(
                execution_arn(machine, "run"),
                "arn:aws:states:us-east-1:123456789012:execution:M:run"
            );
        }
    }
}
