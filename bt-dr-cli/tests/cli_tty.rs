//! Progress bars only on a terminal: `bt-dr backup` with stderr on a pseudo-terminal draws
//! bars; with stderr on a pipe it writes plain lines and no escape codes.

use crate::cli_common;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

use cli_common::*;

/// A pseudo-terminal pair (master, slave) of 30×120.
fn openpty() -> (OwnedFd, OwnedFd) {
    let mut master = -1;
    let mut slave = -1;
    let ws = libc::winsize {
        ws_row: 30,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: valid out-pointers; name and termios may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two fresh descriptors this function now owns.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Everything written to the terminal until the last slave descriptor closes.
fn read_all(master: OwnedFd) -> String {
    let mut f = std::fs::File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Linux answers EIO once no process holds the slave side open.
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn progress_bars_on_a_terminal_plain_lines_on_a_pipe() {
    // A bigger NSB so the download takes a few draws.
    let s = SimSite::start("support", false, 8 * 1024 * 1024);
    let fleet = Fleet::new(&[&s]);

    let (master, slave) = openpty();
    let mut c = fleet.cmd(&["backup", "--no-recordings"]);
    c.env("TERM", "xterm-256color")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave));
    let mut child = c.spawn().unwrap();
    // The Command still holds its copy of the slave; drop it so EOF/EIO comes when the child
    // exits.
    drop(c);
    let reader = std::thread::spawn(move || read_all(master));
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let tty = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "stdout:\n{stdout}\ntty:\n{tty}");
    assert_no_secret(&stdout, &tty);
    // A drawn bar: its prefix, the bar's fill and terminal control sequences.
    assert!(tty.contains("NSB support"), "{tty:?}");
    assert!(tty.contains("[====="), "{tty:?}");
    assert!(tty.contains('\x1b') || tty.contains('\r'), "{tty:?}");
    // The plain "downloaded" line is for non-terminals only.
    assert!(!tty.contains("NSB downloaded"), "{tty:?}");
    // Stdout (a pipe) holds the table only.
    assert!(stdout.starts_with("SITE"), "{stdout}");
    assert!(!stdout.contains('\x1b'));

    // The same run with stderr on a pipe: plain lines, no bars, no escape codes.
    let r = fleet.run(&["backup", "--no-recordings"]);
    r.code(0);
    assert!(r.stderr.contains("NSB downloaded"), "{}", r.stderr);
    assert!(!r.stderr.contains("NSB support ["), "{}", r.stderr);
    assert!(
        !r.stderr.contains('\x1b') && !r.stderr.contains('\r'),
        "{:?}",
        r.stderr
    );

    // --quiet on a terminal: no bars either.
    let (master, slave) = openpty();
    let mut c = fleet.cmd(&["-q", "backup", "--no-recordings"]);
    c.env("TERM", "xterm-256color")
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave));
    let mut child = c.spawn().unwrap();
    drop(c);
    let reader = std::thread::spawn(move || read_all(master));
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let tty = reader.join().unwrap();
    assert!(!tty.contains("NSB support"), "{tty:?}");
}

/// Runs `args` as a session leader with a fresh terminal as its controlling terminal, stdin and
/// stderr; once `prompt` shows on it, types `answer`. Returns the exit code and everything the
/// terminal showed (including what the line discipline echoed).
fn run_on_terminal(fleet: &Fleet, args: &[&str], prompt: &str, answer: &str) -> (i32, String) {
    let (code, tty, _) = run_on_terminal_echo(fleet, args, prompt, answer);
    (code, tty)
}

/// [`run_on_terminal`], also saying whether the terminal echoes again once the command ended.
fn run_on_terminal_echo(
    fleet: &Fleet,
    args: &[&str],
    prompt: &str,
    answer: &str,
) -> (i32, String, bool) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let (master, slave) = openpty();
    let mut c = fleet.cmd(args);
    c.env("TERM", "xterm-256color")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave));
    // SAFETY: only async-signal-safe calls between fork and exec. A new session, and stdin
    // (the terminal) as its controlling terminal, so /dev/tty is this terminal.
    unsafe {
        c.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn().unwrap();
    drop(c);
    let mut typing = std::fs::File::from(master.try_clone().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let mut buf = [0u8; 4096];
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !String::from_utf8_lossy(&seen).contains(prompt) {
        match rx.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(chunk) => seen.extend(chunk),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                assert!(std::time::Instant::now() < deadline, "no prompt: {seen:?}");
            }
            Err(_) => break,
        }
    }
    // Typed only once asked: input typed ahead would be echoed before echo is turned off.
    typing.write_all(answer.as_bytes()).unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    // SAFETY: termios is plain data; the master side reports the terminal's settings.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(typing.as_raw_fd(), &mut term) }, 0);
    let echo = term.c_lflag & libc::ECHO != 0;
    drop(typing);
    reader.join().unwrap();
    seen.extend(rx.try_iter().flatten());
    (code, String::from_utf8_lossy(&seen).into_owned(), echo)
}

#[test]
fn cert_check_prompts_on_the_terminal_without_echo() {
    let s = SimSite::start("support", false, 64 * 1024);
    let fleet = Fleet::new(&[&s]);
    let file = p12("default_chain.p12");
    let args = ["cert", "check", file.to_str().unwrap()];
    let (code, tty) = run_on_terminal(
        &fleet,
        &args,
        "Passphrase for",
        &format!("{P12_PASSPHRASE}\n"),
    );
    assert_eq!(code, 0, "{tty}");
    assert!(
        !tty.contains(P12_PASSPHRASE),
        "the passphrase was echoed: {tty:?}"
    );
    // A wrong one typed at the prompt: 10 + wrong passphrase.
    let (code, tty) = run_on_terminal(&fleet, &args, "Passphrase for", "Typed-Wrong-9\n");
    assert_eq!(code, 18, "{tty}");
    assert!(!tty.contains("Typed-Wrong-9"), "{tty:?}");
    // Ctrl-C at the prompt: the process ends as SIGINT would (130), and the terminal echoes
    // again (the shell the user returns to is usable).
    let (code, tty, echo) = run_on_terminal_echo(&fleet, &args, "Passphrase for", "\u{3}");
    assert_eq!(code, 130, "{tty:?}");
    assert!(echo, "the terminal was left with echo off");
}

#[test]
fn failover_execute_asks_on_a_terminal() {
    use bt_dr_sim::FailoverRole;
    let s = SimSite::start("support", false, 64 * 1024);
    let fleet = Fleet::new(&[&s]);
    let args = ["failover", "execute", "support", "--confirm-timeout", "1"];

    // A wrong answer: usage exit, nothing changed.
    let (code, tty) = run_on_terminal(&fleet, &args, "Type the site name", "no\n");
    assert_eq!(code, 2, "{tty}");
    assert!(tty.contains("Type the site name"), "{tty}");
    assert!(tty.contains("not confirmed"), "{tty}");
    assert_eq!(s.sim.primary().failover_role(), FailoverRole::Primary);

    // The site name: it goes ahead.
    let (code, tty) = run_on_terminal(&fleet, &args, "Type the site name", "support\n");
    assert_eq!(code, 0, "{tty}");
    assert_no_secret("", &tty);
    assert_eq!(s.sim.primary().failover_role(), FailoverRole::Backup);
    assert_eq!(
        s.sim.backup().unwrap().failover_role(),
        FailoverRole::Primary
    );
}
