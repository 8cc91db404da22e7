//! The awsJson1_0 wire format of StartExecution, StartSyncExecution and DescribeExecution:
//! the request bodies,
//! the success responses and the error response (spec §2, `describe-and-sync.md`).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::types::{BillingDetails, Error, Execution, Outcome, ServiceError};
use crate::validate::Validated;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
pub const START_EXECUTION: &str = "AWSStepFunctions.StartExecution";
pub const DESCRIBE_EXECUTION: &str = "AWSStepFunctions.DescribeExecution";
pub const START_SYNC_EXECUTION: &str = "AWSStepFunctions.StartSyncExecution";

/// An express execution runs at most five minutes, and StartSyncExecution answers when it
/// ends: its answer may take this long to begin, against a minute for the other operations.
pub const SYNC_ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(5 * 60 + 15);

/// How long the answer to the operation `target` (its `x-amz-target`) may take to begin,
/// given `usual` for the others: the one rule the component's transport and the host's
/// connection pool share.
pub fn first_byte_timeout(target: Option<&str>, usual: std::time::Duration) -> std::time::Duration {
    if target == Some(START_SYNC_EXECUTION) {
        usual.max(SYNC_ANSWER_WITHIN)
    } else {
        usual
    }
}

/// Answers larger than this are not a result of these operations and are not read further:
/// an execution's input and output (256 KiB each) may come back escaped, six bytes to a
/// character at worst.
// Only the WASI transport reads answers; natively there is none.
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartExecutionInput<'a> {
    state_machine_arn: &'a str,
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_header: Option<&'a str>,
}

/// The request body: the input travels as a JSON string holding the user's exact text.
pub fn request_body(v: &Validated<'_>) -> String {
    let arn = StartExecutionInput {
        state_machine_arn: v.arn.text,
        input: v.input,
        name: v.name,
        trace_header: v.trace_header,
    };
    serde_json::to_string(&arn).expect("serialising strings cannot fail")
}

/// What came back over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Names as received; looked up case-insensitively.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn request_id(&self) -> Option<String> {
        self.header("x-amzn-requestid").map(str::to_string)
    }

    /// The service's clock when it answered: the `Date` header, in whole seconds.
    fn date(&self) -> Option<SystemTime> {
        httpdate::parse_http_date(self.header("date")?).ok()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartExecutionOutput {
    execution_arn: String,
    /// awsJson timestamps are epoch seconds as any JSON number (`1.686509515191E9`).
    start_date: f64,
}

/// The execution from a 2xx answer, or the service error of any other.
pub fn parse_response(response: &Response) -> Result<Execution, Error> {
    let output: StartExecutionOutput = parse(response, "StartExecution")?;
    Ok(Execution {
        execution_arn: output.execution_arn,
        start_date_epoch_ms: start_date(output.start_date)?,
        request_id: response.request_id(),
        attempts: 1,
    })
}

/// The DescribeExecution request body.
pub fn describe_body(execution_arn: &str) -> String {
    serde_json::json!({ "executionArn": execution_arn }).to_string()
}

/// What DescribeExecution told of an execution: its outcome so far, and its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub outcome: Outcome,
    /// Absent when the caller may not see it (`includedData`, KMS).
    pub input: Option<String>,
    /// When the service answered, by its own clock (the `Date` header); absent when the
    /// answer has no readable one.
    pub answered: Option<SystemTime>,
}

/// The members DescribeExecution and StartSyncExecution answer alike.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionOutput {
    execution_arn: String,
    status: String,
    start_date: f64,
    stop_date: Option<f64>,
    input: Option<String>,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
    billing_details: Option<BillingOutput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BillingOutput {
    #[serde(rename = "billedMemoryUsedInMB")]
    billed_memory_used_in_mb: u64,
    billed_duration_in_milliseconds: u64,
}

/// The execution from a 2xx DescribeExecution answer, or the service error of any other.
pub fn parse_described(response: &Response) -> Result<Described, Error> {
    let output: ExecutionOutput = parse(response, "DescribeExecution")?;
    let input = output.input.clone();
    Ok(Described {
        outcome: outcome(output, response)?,
        input,
        answered: response.date(),
    })
}

/// The ended express execution from a 2xx StartSyncExecution answer, or the service error
/// of any other.
pub fn parse_sync(response: &Response) -> Result<Outcome, Error> {
    let output: ExecutionOutput = parse(response, "StartSyncExecution")?;
    if output.stop_date.is_none() {
        return Err(Error::InvalidResponse(format!(
            "HTTP {} StartSyncExecution result has no stopDate",
            response.status
        )));
    }
    outcome(output, response)
}

fn outcome(output: ExecutionOutput, response: &Response) -> Result<Outcome, Error> {
    Ok(Outcome {
        execution_arn: output.execution_arn,
        status: output.status,
        start_date_epoch_ms: start_date(output.start_date)?,
        stop_date_epoch_ms: output.stop_date.map(|s| date("stopDate", s)).transpose()?,
        output: output.output,
        error: output.error,
        cause: output.cause,
        billing: output.billing_details.map(|b| BillingDetails {
            billed_memory_used_mb: b.billed_memory_used_in_mb,
            billed_duration_ms: b.billed_duration_in_milliseconds,
        }),
        request_id: response.request_id(),
        attempts: 1,
    })
}

/// The output of a 2xx answer to `operation`, or the service error of any other answer.
fn parse<T: serde::de::DeserializeOwned>(response: &Response, operation: &str) -> Result<T, Error> {
    if !(200..300).contains(&response.status) {
        return Err(Error::Service(service_error(response)));
    }
    serde_json::from_slice(&response.body).map_err(|e| {
        Error::InvalidResponse(format!(
            "HTTP {} body is not a {operation} result ({e}): {}",
            response.status,
            snippet(&response.body)
        ))
    })
}

fn start_date(seconds: f64) -> Result<i64, Error> {
    date("startDate", seconds)
}

/// A timestamp member in epoch milliseconds, or why it is not a time.
fn date(member: &str, seconds: f64) -> Result<i64, Error> {
    epoch_ms(seconds).ok_or_else(|| {
        // Not `{seconds}`: float formatting would add its sizeable code to the component.
        Error::InvalidResponse(format!(
            "{member} is not a representable time: more than 285,000 years from 1970"
        ))
    })
}

/// Seconds to whole milliseconds, keeping the service's millisecond precision.
fn epoch_ms(seconds: f64) -> Option<i64> {
    let ms = (seconds * 1000.0).round();
    // `as` saturates; the bounds keep the result exact and meaningful.
    (ms.is_finite() && ms.abs() < 9.0e15).then_some(ms as i64)
}

/// The error code and message, from wherever the answer put them (spec §2.6): a JSON body
/// (`__type` or `code`, then `message`), the `x-amzn-ErrorType` header, an XML body (moto and
/// some front ends answer auth failures in XML), else the HTTP status.
pub fn service_error(response: &Response) -> ServiceError {
    let json = json_error(&response.body);
    let code = named_code(response).unwrap_or_else(|| code_of_status(response.status));
    let message = match json {
        Some((_, Some(message))) => message,
        Some((_, None)) => "the error response carries no message".into(),
        None => xml_element(&response.body, "Message").unwrap_or_else(|| snippet(&response.body)),
    };
    ServiceError {
        status: response.status,
        code,
        message,
        request_id: response
            .request_id()
            .or_else(|| xml_element(&response.body, "RequestId")),
    }
}

/// The error code the answer named (sanitized), if it named one: what the retry decision
/// reads, as the SDKs do, rather than a code made up from the status.
pub fn named_code(response: &Response) -> Option<String> {
    let json = || json_error(&response.body).and_then(|(code, _)| code);
    let header = || response.header("x-amzn-errortype").map(str::to_string);
    let xml = || xml_element(&response.body, "Code");
    json()
        .or_else(header)
        .or_else(xml)
        .map(|code| sanitize_code(&code).to_string())
        .filter(|code| !code.is_empty())
}

/// `(code, message)` of a JSON error object; keys compared case-insensitively as the Go SDK
/// does.
fn json_error(body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let field = |names: &[&str]| {
        object
            .iter()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    let code = field(&["__type"]).or_else(|| field(&["code"]));
    Some((code, field(&["message", "errormessage"])))
}

/// Smithy's rule: keep what precedes the first `:`, then what follows the last `#`.
pub fn sanitize_code(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim()
}

/// A code for an answer that named none: the status's reason phrase in CamelCase.
fn code_of_status(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|reason| reason.split([' ', '-']).collect())
        .unwrap_or_else(|| format!("Http{status}"))
}

/// The text of the first `<tag>...</tag>` in an XML body (CDATA and the five entities
/// decoded). Enough for AWS-style error documents; not a general XML parser.
fn xml_element(body: &[u8], tag: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + text[start..].find(&format!("</{tag}>"))?;
    let inner = text[start..end].trim();
    let inner = inner
        .strip_prefix("<![CDATA[")
        .and_then(|s| s.strip_suffix("]]>"))
        .map(str::to_string)
        .unwrap_or_else(|| decode_entities(inner));
    Some(clean(&inner)).filter(|s| !s.is_empty())
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Longest text kept from a body that is not a structured error.
pub const SNIPPET_CHARS: usize = 300;

/// A short, single-line description of an unstructured body: an HTML page's title, else its
/// text without markup.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return "empty response body".into();
    }
    let text = xml_element(body, "title").unwrap_or_else(|| strip_tags(&text));
    let cleaned = clean(&text);
    match cleaned.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &cleaned[..cut]),
        None => cleaned,
    }
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// One line of printable text: white space runs become one space, controls are dropped.
fn clean(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StartExecutionConfig;
    use crate::validate::validate;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn error_of(r: &Response) -> ServiceError {
        match parse_response(r) {
            Err(Error::Service(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn body_keeps_member_order_and_input_bytes() {
        let config = StartExecutionConfig {
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld"
                .into(),
            input: Some("{ \"b\" : 1,\n \"a\":\"ü\\u00fc\" }".into()),
            name: Some("run-1".into()),
            trace_header: Some("Root=1-abc".into()),
            region: None,
        };
        let body = request_body(&validate(&config).unwrap());
        assert_eq!(
            body,
            r#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld","input":"{ \"b\" : 1,\n \"a\":\"ü\\u00fc\" }","name":"run-1","traceHeader":"Root=1-abc"}"#
        );
        let decoded: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(decoded["input"], config.input.unwrap().as_str());
    }

    #[test]
    fn absent_optionals_are_omitted() {
        let config = StartExecutionConfig {
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld"
                .into(),
            ..StartExecutionConfig::default()
        };
        assert_eq!(
            request_body(&validate(&config).unwrap()),
            r#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld","input":"{}"}"#
        );
    }

    #[test]
    fn start_date_in_every_number_form() {
        for (date, ms) in [
            ("1.686509515191E9", 1_686_509_515_191),
            ("1.686509515191e9", 1_686_509_515_191),
            ("1686509515", 1_686_509_515_000),
            ("1686509515.5", 1_686_509_515_500),
            ("1.6865095151915E+9", 1_686_509_515_192),
            ("0", 0),
            ("-1.5", -1_500),
        ] {
            let body = format!(r#"{{"executionArn":"arn:x","startDate":{date}}}"#);
            let r = response(200, &[("X-Amzn-RequestId", "req-1")], &body);
            let execution = parse_response(&r).unwrap();
            assert_eq!(execution.start_date_epoch_ms, ms, "{date}");
            assert_eq!(execution.request_id.as_deref(), Some("req-1"));
        }
    }

    #[test]
    fn malformed_success_bodies_are_invalid_responses() {
        for (body, expected) in [
            (
                r#"{"startDate":1}"#,
                "HTTP 200 body is not a StartExecution result (missing field `executionArn` at line 1 column 15): {\"startDate\":1}",
            ),
            (
                r#"{"executionArn":"a","startDate":"2023"}"#,
                "HTTP 200 body is not a StartExecution result (invalid type: string \"2023\", expected f64 at line 1 column 38): {\"executionArn\":\"a\",\"startDate\":\"2023\"}",
            ),
            (
                "",
                "HTTP 200 body is not a StartExecution result (EOF while parsing a value at line 1 column 0): empty response body",
            ),
            (
                r#"{"executionArn":"a","startDate":1e300}"#,
                "startDate is not a representable time: more than 285,000 years from 1970",
            ),
        ] {
            assert_eq!(
                parse_response(&response(200, &[], body)),
                Err(Error::InvalidResponse(expected.into())),
                "{body}"
            );
        }
    }

    #[test]
    fn json_errors_are_sanitized() {
        let e = error_of(&response(
            400,
            &[("x-amzn-requestid", "rid")],
            r#"{"__type":"com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists","message":"Execution Already Exists: 'arn:x'"}"#,
        ));
        assert_eq!(
            e,
            ServiceError {
                status: 400,
                code: "ExecutionAlreadyExists".into(),
                message: "Execution Already Exists: 'arn:x'".into(),
                request_id: Some("rid".into()),
            }
        );
        for raw in [
            "FooError",
            "FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/",
            "aws.protocoltests.restjson#FooError",
            "aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/",
        ] {
            assert_eq!(sanitize_code(raw), "FooError", "{raw}");
        }
        let lower = error_of(&response(
            400,
            &[],
            r#"{"code":"ThrottlingException","Message":"Rate exceeded"}"#,
        ));
        assert_eq!(
            (lower.code.as_str(), lower.message.as_str()),
            ("ThrottlingException", "Rate exceeded")
        );
    }

    #[test]
    fn header_code_is_used_when_the_body_names_none() {
        let e = error_of(&response(
            400,
            &[("X-Amzn-ErrorType", "InvalidArn:http://internal/")],
            r#"{"message":"bad arn"}"#,
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("InvalidArn", "bad arn")
        );
    }

    #[test]
    fn xml_errors_give_code_message_and_request_id() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse>\n  <Errors>\n    <Error>\n      <Code>SignatureDoesNotMatch</Code>\n      <Message><![CDATA[The request signature we calculated does not match the signature you provided.]]></Message>\n    </Error>\n  </Errors>\n  <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\n</ErrorResponse>";
        assert_eq!(
            error_of(&response(403, &[], body)),
            ServiceError {
                status: 403,
                code: "SignatureDoesNotMatch".into(),
                message:
                    "The request signature we calculated does not match the signature you provided."
                        .into(),
                request_id: Some("7a62c49f-347e-4fc4-9331-6e8eEXAMPLE".into()),
            }
        );
        let escaped = error_of(&response(
            400,
            &[],
            "<Error><Code>A&amp;B</Code><Message>x &lt; y</Message></Error>",
        ));
        assert_eq!(
            (escaped.code.as_str(), escaped.message.as_str()),
            ("A&B", "x < y")
        );
    }

    #[test]
    fn html_and_empty_bodies_get_a_code_from_the_status() {
        let html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
        let e = error_of(&response(502, &[], html));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("BadGateway", "502 Bad Gateway")
        );
        let untitled = error_of(&response(503, &[], "<p>Down\tfor\n\nmaintenance</p>"));
        assert_eq!(
            (untitled.code.as_str(), untitled.message.as_str()),
            ("ServiceUnavailable", "Down for maintenance")
        );
        let empty = error_of(&response(500, &[], ""));
        assert_eq!(
            (empty.code.as_str(), empty.message.as_str()),
            ("InternalServerError", "empty response body")
        );
        let silent = error_of(&response(429, &[], "{}"));
        assert_eq!(
            (silent.code.as_str(), silent.message.as_str()),
            ("TooManyRequests", "the error response carries no message")
        );
        let odd = error_of(&response(599, &[], "x"));
        assert_eq!(odd.code, "Http599");
        let long = error_of(&response(500, &[], &"ab ".repeat(500)));
        assert_eq!(long.message.chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn described_answers_carry_the_services_date() {
        let body = r#"{"executionArn":"e","stateMachineArn":"m","status":"RUNNING","startDate":1}"#;
        let answered = |date: Option<&str>| {
            let headers: Vec<(&str, &str)> = date.map(|d| ("Date", d)).into_iter().collect();
            parse_described(&response(200, &headers, body))
                .unwrap()
                .answered
        };
        let at = |secs: u64| Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(
            answered(Some("Sun, 06 Nov 1994 08:49:37 GMT")),
            at(784_111_777)
        );
        assert_eq!(
            answered(Some("Fri, 15 Jan 2027 08:00:01 GMT")),
            at(1_800_000_001)
        );
        for unreadable in [
            // The wrong weekday, a day that does not exist, another zone, no time.
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 +0000",
            "Sun, 06 Nov 1994",
            "1800000001",
            "",
        ] {
            assert_eq!(answered(Some(unreadable)), None, "{unreadable}");
        }
        assert_eq!(answered(None), None);
    }
}
