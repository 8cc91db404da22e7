//! The component's side of the shared fixtures, kept out of the library so that
//! `sfn-native-start` links nothing of the core.

use sfn_core::{Credentials, StartExecutionConfig};

/// The small request of figures 2 and 3.
pub fn small_request() -> StartExecutionConfig {
    StartExecutionConfig {
        state_machine_arn: sfn_bench::STATE_MACHINE_ARN.into(),
        input: Some(sfn_bench::SMALL_INPUT.into()),
        ..StartExecutionConfig::default()
    }
}

/// The example credentials, for the component's and the native core's `ClientOptions`.
pub fn credentials() -> Credentials {
    Credentials {
        access_key_id: sfn_bench::ACCESS_KEY_ID.into(),
        secret_access_key: sfn_bench::SECRET_ACCESS_KEY.into(),
        session_token: None,
    }
}
