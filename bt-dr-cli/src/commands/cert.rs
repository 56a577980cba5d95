//! `bt-dr cert check FILE`: the core's `check_certificate_bundle` on a p12 export.

use std::io::IsTerminal;
use std::path::PathBuf;

use bt_dr_core::{BundleCheckOptions, Error, SecretString, check_certificate_bundle};

use super::FailOn;
use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::{print_json, print_table};

/// The environment variable the passphrase is read from first.
pub const PASSPHRASE_ENV: &str = "BT_DR_P12_PASSPHRASE";

/// `bt-dr cert` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CertCommand {
    /// Check a PKCS#12 bundle exported from /appliance: chain, key, names, expiry, key sizes.
    ///
    /// The passphrase comes from BT_DR_P12_PASSPHRASE, --passphrase-file, or a prompt on the
    /// terminal; never from the command line.
    Check(CheckArgs),
}

/// `bt-dr cert check` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The .p12 / .pfx file.
    pub file: PathBuf,
    /// Check the names against this inventory site (its FQDN and appliance hostnames) and use
    /// the inventory's thresholds.
    #[arg(long)]
    pub site: Option<String>,
    /// The FQDN the leaf must cover (without --site).
    #[arg(long, conflicts_with = "site")]
    pub fqdn: Option<String>,
    /// A file whose first line is the passphrase.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

/// Runs `bt-dr cert …`.
pub fn run(cmd: CertCommand, ctx: &Context) -> CliResult {
    match cmd {
        CertCommand::Check(a) => check(a, ctx),
    }
}

/// The passphrase: environment, then file, then a prompt when stdin is a terminal.
fn passphrase(args: &CheckArgs) -> Result<SecretString, CliError> {
    if let Ok(v) = std::env::var(PASSPHRASE_ENV) {
        return Ok(SecretString::from(v));
    }
    if let Some(path) = &args.passphrase_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io("reading the passphrase file", path, e))?;
        let first = text.lines().next().unwrap_or("");
        return Ok(SecretString::from(first.to_string()));
    }
    if std::io::stdin().is_terminal() {
        let p = prompt_hidden(&format!("Passphrase for {}: ", args.file.display()))
            .map_err(|e| Error::io("reading the passphrase from the terminal", &args.file, e))?;
        return Ok(SecretString::from(p));
    }
    Err(CliError::Usage(format!(
        "no passphrase: set {PASSPHRASE_ENV}, pass --passphrase-file FILE, or run on a terminal"
    )))
}

/// Asks on the controlling terminal with echo off. Echo is turned off before the prompt is
/// shown, so nothing typed once the prompt is visible is ever echoed.
#[cfg(unix)]
fn prompt_hidden(prompt: &str) -> std::io::Result<String> {
    use std::io::{BufRead, Write};
    use std::os::fd::AsRawFd;

    /// Puts the terminal back as it was, however the read ends.
    struct Restore {
        fd: i32,
        saved: libc::termios,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: fd is open for the guard's lifetime; saved came from tcgetattr.
            unsafe {
                libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved);
            }
        }
    }

    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for an open terminal descriptor.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let _restore = Restore { fd, saved: term };
    // Ctrl-C (or a TERM/HUP) during the prompt ends the process without running `Restore`:
    // a handler puts the terminal back first, so the user's shell never keeps echo off.
    let _signals = RestoreOnSignal::install(fd, term);
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: fd is open; term is a valid termios.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    (&tty).write_all(prompt.as_bytes())?;
    (&tty).flush()?;
    let mut line = String::new();
    std::io::BufReader::new(&tty).read_line(&mut line)?;
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(line)
}

/// The terminal settings a signal handler restores while a hidden prompt is up.
#[cfg(unix)]
static PROMPT_TERMINAL: std::sync::Mutex<Option<(i32, libc::termios)>> =
    std::sync::Mutex::new(None);

/// Handlers for SIGINT, SIGTERM and SIGHUP while a hidden prompt is up: restore the terminal,
/// then end the process as the signal would have (exit status 128 + signal).
#[cfg(unix)]
struct RestoreOnSignal {
    previous: Vec<(libc::c_int, libc::sighandler_t)>,
}

#[cfg(unix)]
impl RestoreOnSignal {
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    extern "C" fn on_signal(sig: libc::c_int) {
        // try_lock: never block in a handler; the slot is written before the handlers go in.
        if let Ok(slot) = PROMPT_TERMINAL.try_lock()
            && let Some((fd, saved)) = slot.as_ref()
        {
            // SAFETY: tcsetattr and _exit are async-signal-safe; fd and saved came from
            // tcgetattr on the open terminal.
            unsafe {
                libc::tcsetattr(*fd, libc::TCSANOW, saved);
            }
        }
        // SAFETY: _exit is async-signal-safe and never returns.
        unsafe { libc::_exit(128 + sig) }
    }

    fn install(fd: i32, saved: libc::termios) -> Self {
        *PROMPT_TERMINAL.lock().unwrap_or_else(|e| e.into_inner()) = Some((fd, saved));
        let handler = Self::on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        let previous = Self::SIGNALS
            .iter()
            // SAFETY: installs a handler that only calls async-signal-safe functions.
            .map(|&sig| (sig, unsafe { libc::signal(sig, handler) }))
            .collect();
        RestoreOnSignal { previous }
    }
}

#[cfg(unix)]
impl Drop for RestoreOnSignal {
    fn drop(&mut self) {
        for &(sig, old) in &self.previous {
            // SAFETY: puts back the handler that was there before `install`.
            unsafe {
                libc::signal(sig, old);
            }
        }
        *PROMPT_TERMINAL.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(not(unix))]
fn prompt_hidden(prompt: &str) -> std::io::Result<String> {
    rpassword::prompt_password(prompt)
}

fn check(args: CheckArgs, ctx: &Context) -> CliResult {
    let mut opts = match (&args.site, &args.fqdn) {
        (Some(name), _) => {
            let site = ctx.site(name)?;
            BundleCheckOptions::for_site(&site.fqdn)
                .with_appliances(site.appliances.iter().map(|a| a.hostname.clone()))
                .with_thresholds(&ctx.inventory()?.thresholds)
        }
        (None, Some(fqdn)) => BundleCheckOptions::for_site(fqdn),
        (None, None) => BundleCheckOptions::default(),
    };
    if args.site.is_none()
        && let Some(path) = &ctx.args.inventory
        && path.exists()
    {
        opts = opts.with_thresholds(&ctx.inventory()?.thresholds);
    }
    let bytes =
        std::fs::read(&args.file).map_err(|e| Error::io("reading the bundle", &args.file, e))?;
    let pass = passphrase(&args)?;
    let report = check_certificate_bundle(&bytes, &pass, &opts)?;
    if ctx.args.json {
        print_json(&report.view())?;
    } else {
        match report.leaf_cert() {
            Some(leaf) => println!(
                "leaf: {} (expires {}), chain of {}, key {}",
                leaf.issued_to,
                leaf.not_after.date(),
                report.chain.len(),
                match report.key_matches_leaf {
                    Some(true) => "matches the leaf",
                    Some(false) => "DOES NOT match the leaf",
                    None if report.has_private_key => "not comparable",
                    None => "absent",
                }
            ),
            None => println!("no leaf certificate found"),
        }
        let rows: Vec<Vec<String>> = report
            .findings
            .iter()
            .map(|f| {
                vec![
                    f.severity.as_str().to_string(),
                    f.id.clone(),
                    f.subject.clone(),
                    f.message.clone(),
                ]
            })
            .collect();
        if rows.is_empty() {
            println!("no findings");
        } else {
            print_table(&["SEVERITY", "RULE", "SUBJECT", "FINDING"], &rows);
        }
    }
    Ok(if args.fail_on.reached_by(report.worst()) {
        Exit::Findings
    } else {
        Exit::Ok
    })
}
