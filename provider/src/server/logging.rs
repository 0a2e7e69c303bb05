//! Logs to stderr (go-plugin forwards them into Terraform's log), with the
//! level taken from `TF_LOG_PROVIDER`, else `TF_LOG`, as Terraform's
//! go-hclog does. Nothing ever goes to stdout.

use tracing_subscriber::filter::LevelFilter;

/// Maps a Terraform log level name to a filter. Unset means warnings only;
/// `JSON` and unrecognised values mean trace, as in Terraform.
pub(crate) fn level(value: Option<&str>) -> LevelFilter {
    match value.map(|v| v.trim().to_ascii_uppercase()).as_deref() {
        None | Some("") => LevelFilter::WARN,
        Some("OFF") => LevelFilter::OFF,
        Some("ERROR") => LevelFilter::ERROR,
        Some("WARN") => LevelFilter::WARN,
        Some("INFO") => LevelFilter::INFO,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some(_) => LevelFilter::TRACE,
    }
}

/// Installs the stderr logger.
pub(crate) fn init() {
    let provider = std::env::var("TF_LOG_PROVIDER").ok();
    let any = std::env::var("TF_LOG").ok();
    let filter = level(
        provider
            .as_deref()
            .filter(|v| !v.is_empty())
            .or(any.as_deref()),
    );
    // Our own crates log at the chosen level; dependencies (TLS, HTTP/2)
    // only from warnings up, so TF_LOG=trace stays readable.
    let deps = filter.min(LevelFilter::WARN);
    let targets = tracing_subscriber::filter::Targets::new()
        .with_default(deps)
        .with_target("provider", filter)
        .with_target("terraform_provider_spinnaker", filter)
        .with_target("gate", filter);
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_target(false),
        )
        .with(targets)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_levels_map() {
        assert_eq!(level(None), LevelFilter::WARN);
        assert_eq!(level(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level(Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level(Some("off")), LevelFilter::OFF);
    }
}
