//! What a process uses while a fleet-scale benchmark runs: peak RSS, CPU time, open file
//! descriptors, and the file-descriptor limit raised to what the machine allows.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns `(soft, hard)` afterwards:
/// thousands of simulated appliances and their connections need more than the usual 1,024.
pub fn raise_nofile() -> Result<(u64, u64), String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit the call writes into.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!(
            "getrlimit(RLIMIT_NOFILE): {}",
            std::io::Error::last_os_error()
        ));
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit the call only reads.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(format!(
                "setrlimit(RLIMIT_NOFILE, {}): {}",
                lim.rlim_max,
                std::io::Error::last_os_error()
            ));
        }
        lim = raised;
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `r` is a valid rusage the call writes into; RUSAGE_SELF/CHILDREN cannot fail.
    unsafe { libc::getrusage(who, &mut r) };
    r
}

fn secs(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// User + system CPU seconds this process used so far.
pub fn cpu_secs() -> f64 {
    let r = rusage(libc::RUSAGE_SELF);
    secs(r.ru_utime) + secs(r.ru_stime)
}

/// Peak resident set size of this process since it started (`getrusage` maxrss), KiB.
pub fn max_rss_kib() -> u64 {
    rusage(libc::RUSAGE_SELF).ru_maxrss.max(0) as u64
}

fn status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Peak RSS since start or since the last [`reset_peak_rss`] (`VmHWM`), KiB.
pub fn hwm_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// Current RSS (`VmRSS`), KiB.
pub fn rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so that one process can measure the peak
/// of several runs one after the other. False when the kernel refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Open file descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Samples open file descriptors and RSS from a thread of its own (independent of a busy
/// async runtime) until dropped, keeping the peaks.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    peak_fds: Arc<AtomicU64>,
    peak_rss: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Peaks a [`Sampler`] saw.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Peaks {
    /// Most open file descriptors at once.
    pub fds: u64,
    /// Largest sampled RSS, KiB.
    pub rss_kib: u64,
}

impl Sampler {
    /// Starts sampling every `every`.
    pub fn start(every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_fds = Arc::new(AtomicU64::new(fd_count() as u64));
        let peak_rss = Arc::new(AtomicU64::new(rss_kib().unwrap_or(0)));
        let thread = {
            let (stop, peak_fds, peak_rss) = (stop.clone(), peak_fds.clone(), peak_rss.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak_fds.fetch_max(fd_count() as u64, Ordering::Relaxed);
                    peak_rss.fetch_max(rss_kib().unwrap_or(0), Ordering::Relaxed);
                    std::thread::sleep(every);
                }
            })
        };
        Self {
            stop,
            peak_fds,
            peak_rss,
            thread: Some(thread),
        }
    }

    /// Stops sampling and returns the peaks.
    pub fn finish(mut self) -> Peaks {
        self.stop_thread();
        Peaks {
            fds: self.peak_fds.load(Ordering::Relaxed),
            rss_kib: self.peak_rss.load(Ordering::Relaxed),
        }
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_of_this_process() {
        let (soft, hard) = raise_nofile().unwrap();
        assert_eq!(soft, hard);
        let before = fd_count();
        let files: Vec<_> = (0..8)
            .map(|_| std::fs::File::open("/proc/self/status").unwrap())
            .collect();
        assert!(fd_count() >= before + 8);
        drop(files);
        let sampler = Sampler::start(Duration::from_millis(1));
        let v = vec![1u8; 32 << 20];
        std::thread::sleep(Duration::from_millis(20));
        let peaks = sampler.finish();
        assert!(v.iter().all(|&b| b == 1));
        assert!(peaks.fds >= 3);
        assert!(peaks.rss_kib >= 32 * 1024, "{peaks:?}");
        assert!(max_rss_kib() >= 32 * 1024);
        assert!(hwm_kib().unwrap() >= 32 * 1024);
        // A large buffer is returned to the kernel when freed, so the reset peak is below it.
        drop(v);
        assert!(reset_peak_rss());
        assert!(
            hwm_kib().unwrap() < 32 * 1024,
            "VmHWM is reset to the current RSS"
        );
        assert!(cpu_secs() > 0.0);
    }
}
