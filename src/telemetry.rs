//! Tracing subscriber: text or JSON lines on standard output, filtered by
//! `RUST_LOG` (default `info`).

use std::fmt;
use std::sync::mpsc::{sync_channel, SyncSender};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber (a second call is a no-op).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // Events emitted while one is being recorded are dropped by tracing, so
    // the WARN line for a refused request is written from a thread of its own.
    // Without the thread (it could not start) the lines are simply dropped:
    // logging itself must never depend on it.
    let (tx, rx) = sync_channel::<String>(256);
    let _ = std::thread::Builder::new()
        .name("log-relay".into())
        .spawn(move || {
            for problem in rx {
                tracing::warn!(problem, "malformed request refused with 400 before routing");
            }
        });
    let _ = subscriber(format, filter, ansi, std::io::stdout, tx).try_init();
}

/// The subscriber `init` installs, writing to `writer`.
fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
    relay: SyncSender<String>,
) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer);
    let lines = match format {
        LogFormat::Text => base.boxed(),
        LogFormat::Json => base
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(lines.with_filter(filter.and(KeepOut)))
        .with(ClientErrors(relay).with_filter(filter_fn(from_http_layer)))
}

/// actix-http reports a request it could not parse (a NUL byte in a header,
/// a broken request line) as an ERROR, though the client sent the bad bytes
/// and was answered 400. Such events are kept out of the log ([`KeepOut`])
/// and written again as the client error they are: one WARN line, sent to
/// the relay (dropped when a flood fills its queue).
struct ClientErrors(SyncSender<String>);

/// The filter that keeps those events out of the log lines.
struct KeepOut;

const PARSE_ERROR: &str = "stream error: request parse error: ";

fn from_http_layer(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target().starts_with("actix_http")
}

/// The parser's complaint, when `event` is that report.
fn parse_error(event: &Event<'_>) -> Option<String> {
    struct Message(Option<String>);
    impl Visit for Message {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if field.name() == "message" {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }
    if !from_http_layer(event.metadata()) {
        return None;
    }
    let mut message = Message(None);
    event.record(&mut message);
    message
        .0
        .and_then(|m| m.strip_prefix(PARSE_ERROR).map(str::to_string))
}

impl<S> Filter<S> for KeepOut {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        parse_error(event).is_none()
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for ClientErrors {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if let Some(problem) = parse_error(event) {
            let _ = self.0.try_send(problem);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_the_parser_refused_is_relayed_and_other_errors_stay_errors() {
        let out = Buffer::default();
        let writer = {
            let out = out.clone();
            move || out.clone()
        };
        let (tx, rx) = sync_channel(4);
        let sub = subscriber(LogFormat::Text, EnvFilter::new("info"), false, writer, tx);
        tracing::subscriber::with_default(sub, || {
            tracing::error!(
                target: "actix_http::h1::dispatcher",
                "stream error: request parse error: invalid Header provided"
            );
            tracing::error!(target: "actix_http::h1::dispatcher", "write zero; closing");
            tracing::debug!("not shown at info");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(
            lines[0].contains("ERROR") && lines[0].contains("write zero"),
            "{text}"
        );
        let relayed: Vec<String> = rx.try_iter().collect();
        assert_eq!(relayed, ["invalid Header provided"]);
    }
}
