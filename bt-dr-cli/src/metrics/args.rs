//! The flags of `bt-dr metrics` and `bt-dr metrics serve`.

use std::path::PathBuf;
use std::time::Duration;

/// `bt-dr metrics` flags.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MetricsArgs {
    /// `serve`: a scrape endpoint instead of one collection.
    #[command(subcommand)]
    pub command: Option<MetricsCommand>,
    #[command(flatten)]
    pub once: OnceArgs,
}

/// One collection, written to a textfile or stdout.
#[derive(Debug, Clone, clap::Args)]
pub struct OnceArgs {
    /// Write the series to this file (atomically: node_exporter's textfile collector never
    /// reads a half-written file; name it `*.prom`). Without it they go to stdout.
    #[arg(long, value_name = "PATH")]
    pub textfile: Option<PathBuf>,
    /// Only this site of the inventory.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Do not re-hash the newest backup set of each site (`bt_dr_backup_verified` is left out).
    #[arg(long)]
    pub no_verify: bool,
    /// The vendor's supported-upgrade table (TOML or JSON) for the audit's restore checks
    /// (default: the empty table, as `bt-dr audit`).
    #[arg(long, value_name = "FILE")]
    pub upgrade_table: Option<PathBuf>,
}

/// `bt-dr metrics` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum MetricsCommand {
    /// Serve `/metrics` (every site) and `/probe?site=NAME` (one site) over HTTP.
    Serve(ServeArgs),
}

/// `bt-dr metrics serve` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. `127.0.0.1:9771` (port 0: any free port; the address taken
    /// is printed on stdout).
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// How long one collection answers scrapes before the appliances are asked again
    /// (`60`, `90s`, `5m`). Scrapes during a refresh wait for that refresh.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub cache_ttl: Duration,
    /// How long a backup set's verification (re-hashing every file, in the background; the
    /// result shows from the first refresh after it finished) is reused before the newest set
    /// is hashed again (`30m`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub verify_interval: Duration,
    /// Do not re-hash backup sets (`bt_dr_backup_verified` is left out).
    #[arg(long)]
    pub no_verify: bool,
    /// The vendor's supported-upgrade table (TOML or JSON) for the audit's restore checks
    /// (default: the empty table, as `bt-dr audit`).
    #[arg(long, value_name = "FILE")]
    pub upgrade_table: Option<PathBuf>,
}

/// `90`, `90s`, `5m`, `2h`, `500ms`: a whole number with an optional unit (seconds by default).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 60, 90s, 5m or 1h"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("`{s}`: unit must be ms, s, m or h")),
    };
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("m").is_err());
    }
}
