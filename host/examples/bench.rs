//! Prints the component's size, the time to compile it, and the time of one warm
//! instantiate + `prepare` (and `validate`), averaged over many calls.
//!
//! cargo run --release -p sfn-host --example bench

use std::time::{Duration, Instant, UNIX_EPOCH};

use sfn_host::{ClientOptions, HostConfig, Runtime, StartExecutionConfig};

const CALLS: u32 = 200;

type Outcome = Result<(), Box<dyn std::error::Error>>;

fn main() -> Outcome {
    let host = HostConfig {
        env: vec![
            ("AWS_ACCESS_KEY_ID".into(), "AKIDEXAMPLE".into()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            ),
        ],
        wall_clock: Some(UNIX_EPOCH + Duration::from_secs(1_440_938_160)),
        ..HostConfig::default()
    };
    println!("component size: {} bytes", sfn_host::COMPONENT.len());
    let started = Instant::now();
    let runtime = Runtime::new(host)?;
    println!(
        "compile + link + pre-instantiate: {:.1} ms",
        ms(started.elapsed())
    );

    let config = StartExecutionConfig {
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld".into(),
        input: Some(r#"{"order":42,"items":["a","b"]}"#.into()),
        name: Some("bench-run".into()),
        ..StartExecutionConfig::default()
    };
    let options = ClientOptions::default();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async {
        let started = Instant::now();
        runtime
            .prepare(&config, &options)
            .await?
            .map_err(|e| format!("{e:?}"))?;
        println!(
            "first instantiate + prepare: {:.3} ms",
            ms(started.elapsed())
        );
        let started = Instant::now();
        for _ in 0..CALLS {
            runtime
                .prepare(&config, &options)
                .await?
                .map_err(|e| format!("{e:?}"))?;
        }
        println!(
            "warm instantiate + prepare: {:.3} ms per call ({CALLS} calls)",
            ms(started.elapsed()) / f64::from(CALLS)
        );
        let started = Instant::now();
        for _ in 0..CALLS {
            runtime
                .validate(&config)
                .await?
                .map_err(|e| format!("{e:?}"))?;
        }
        println!(
            "warm instantiate + validate: {:.3} ms per call ({CALLS} calls)",
            ms(started.elapsed()) / f64::from(CALLS)
        );
        let big = StartExecutionConfig {
            input: Some(format!("\"{}\"", "x".repeat(262_142))),
            ..config.clone()
        };
        let started = Instant::now();
        runtime
            .prepare(&big, &options)
            .await?
            .map_err(|e| format!("{e:?}"))?;
        println!(
            "instantiate + prepare with a 262,144-byte input: {:.3} ms",
            ms(started.elapsed())
        );
        Outcome::Ok(())
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
