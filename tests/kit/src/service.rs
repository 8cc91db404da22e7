//! A model of what StartExecution does with names, for the stand-in to answer with (spec §4,
//! STANDARD state machines): an execution runs until a test closes it; a start with the name
//! and input of a running execution returns that execution again, and any other start with a
//! used name is `ExecutionAlreadyExists`. Inputs are compared byte for byte, as sent.
//!
//! ```ignore
//! let executions = Arc::new(Executions::default());
//! let model = Arc::clone(&executions);
//! let standin = StandIn::start(creds, move |request| model.reply(request));
//! ```

use std::sync::{Mutex, MutexGuard};

use crate::standin::{Recorded, Reply};

/// The first start date the model hands out, in epoch seconds; each start adds one.
pub const FIRST_START_DATE: u64 = 1_700_000_000;

/// One execution the model started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub arn: String,
    pub input: String,
    pub start_date: u64,
    pub running: bool,
}

/// The executions started so far, by name.
#[derive(Default)]
pub struct Executions {
    started: Mutex<Vec<Execution>>,
}

impl Executions {
    /// The answer to a StartExecution the stand-in accepted.
    pub fn reply(&self, request: &Recorded) -> Reply {
        let request_id = format!("model-{}", self.lock().len());
        let Some((machine, name, input)) = parse(&request.body) else {
            return Reply::error(400, "ValidationException", "unreadable body", &request_id);
        };
        let mut started = self.lock();
        let name = name.unwrap_or_else(|| format!("generated-{}", started.len()));
        let arn = execution_arn(&machine, &name);
        match started.iter().find(|e| e.arn == arn) {
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
                    input,
                    start_date: FIRST_START_DATE + started.len() as u64,
                    running: true,
                };
                let reply = success(&execution, &request_id);
                started.push(execution);
                reply
            }
        }
    }

    /// Every execution started, in order.
    pub fn started(&self) -> Vec<Execution> {
        self.lock().clone()
    }

    /// Ends the execution with this ARN (as SUCCEEDED, FAILED… would): its name stays used.
    pub fn close(&self, arn: &str) {
        for execution in self.lock().iter_mut().filter(|e| e.arn == arn) {
            execution.running = false;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Execution>> {
        // A panicking test thread must not hide what was started before it.
        self.started.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn success(execution: &Execution, request_id: &str) -> Reply {
    Reply::success(
        &execution.arn,
        &execution.start_date.to_string(),
        request_id,
    )
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
