//! What `sfn-start` shows of the library's log: warnings always, and with `--debug` each
//! request the component sends, as `warning: ...` and `debug: ...` lines on standard error.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Installs the subscriber: the host's warnings and aws-config's about settings it
/// ignores, and with `debug` the host's own debug events. Other crates' events are for
/// their developers (the credential chain's repeat the error the call reports).
pub(crate) fn to_standard_error(debug: bool) {
    let host = if debug {
        LevelFilter::DEBUG
    } else {
        LevelFilter::WARN
    };
    let targets = Targets::new()
        .with_target("sfn_host", host)
        .with_target("aws_config::default_provider", LevelFilter::WARN);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(Plain);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(targets)
        .try_init();
}

/// `warning: message` or `debug: message`, like the CLI's own lines.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let label = match *event.metadata().level() {
            Level::ERROR | Level::WARN => "warning",
            _ => "debug",
        };
        write!(writer, "{label}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
