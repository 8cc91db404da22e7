//! What the benchmark (`sfn-bench`) and its native CLI (`sfn-native-start`) share: the
//! fixtures and the native `aws-sdk-sfn` client.

pub mod native;

/// The state machine every figure starts.
pub const STATE_MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld";
/// The execution input of the small-request figures.
pub const SMALL_INPUT: &str = r#"{"order":42,"items":["a","b"]}"#;
/// Example credentials from the SigV4 documentation: the loopback server checks nothing.
pub const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
