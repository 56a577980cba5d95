//! Which file names bt-dr accepts from an appliance and which it writes itself.
//!
//! An appliance proposes names (`Content-Disposition`); bt-dr never trusts them to choose where
//! a file lands. The rules here decide: a proposal is kept only when it is one safe path
//! component that cannot collide with anything bt-dr writes, and for a backup only when it is a
//! real NSB backup name. The API client applies these rules; it decides nothing itself.

use time::OffsetDateTime;

use crate::model::version::ProductVersion;
use crate::rules::backup::BackupName;
use crate::support::error::Result;

/// Suffix of the sidecar bt-dr writes next to every backup (`<backup>.nsb.bt-dr.json`).
pub const SIDECAR_SUFFIX: &str = ".bt-dr.json";

/// Names bt-dr itself writes next to downloads, in backup sets and in the store. A name the
/// appliance proposes is never one of them (compared without regard to case).
pub(crate) const RESERVED_NAMES: [&str; 8] = [
    "manifest.json",
    "checkpoint.json",
    "vault-key.json",
    "recordings",
    "certificates",
    "appliance",
    "vault",
    "sets",
];

/// Extensions a recording may keep from the appliance's proposal; anything else becomes `.rec`.
const RECORDING_EXTENSIONS: [&str; 11] = [
    "flv", "mp4", "webm", "mkv", "avi", "mov", "m4v", "ogv", "rec", "bin", "zip",
];

/// Device names Windows reserves whatever the extension (`NUL.nsb` is the null device).
pub(crate) fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_uppercase();
    matches!(
        stem.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.len() == 4
        && stem.as_bytes()[3].is_ascii_digit())
}

/// Characters that make a name lie about itself on screen (bidi overrides, zero-width).
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The last path component of a proposed name, or `None` when it is not safe to use.
///
/// Invariant (the name is used as one component under a folder bt-dr chose): the result is a
/// single path component, never empty, `.` or `..`, never hidden (leading `.`) or option-like
/// (leading `-`), holds no control, bidi-override or zero-width character nor any of
/// `<>:"|?*`, does not end in a dot or space, is at most 200 bytes, and is none of the names
/// bt-dr writes (`manifest.json`, `checkpoint.json`, `vault-key.json`, any `*.bt-dr.json`
/// sidecar, the set's folder names) nor a Windows device name.
///
/// ```
/// use bt_dr_core::backup::sanitize_file_name;
/// assert_eq!(sanitize_file_name("../../etc/x.nsb").as_deref(), Some("x.nsb"));
/// assert_eq!(sanitize_file_name("manifest.json"), None);
/// assert_eq!(sanitize_file_name("a.nsb.bt-dr.json"), None);
/// assert_eq!(sanitize_file_name("..."), None);
/// ```
pub fn sanitize_file_name(proposed: &str) -> Option<String> {
    let base = proposed.rsplit(['/', '\\']).next()?.trim();
    let lower = base.to_lowercase();
    if base.is_empty()
        || base.len() > 200
        || base.contains("..")
        || base.starts_with(['.', '-'])
        || base.ends_with(['.', ' '])
        || base
            .chars()
            .any(|c| c.is_control() || is_deceptive(c) || "<>:\"|?*".contains(c))
        || RESERVED_NAMES.contains(&lower.as_str())
        || lower.ends_with(SIDECAR_SUFFIX)
        || is_windows_device(base)
    {
        return None;
    }
    Some(base.to_string())
}

/// The name bt-dr gives a backup when the appliance proposes none it can keep: the vendor's
/// default pattern (`bomgar-<version>-<site>-<date>-<time>-<id>.nsb`) with a random id, so two
/// downloads in the same second never share a name.
///
/// ```
/// let v: bt_dr_core::ProductVersion = "24.1.2".parse()?;
/// let now = time::macros::datetime!(2026-12-02 03:00 UTC);
/// let name = bt_dr_core::backup::fallback_backup_name(&v, "support", now)?;
/// assert!(name.starts_with("bomgar-24.1.2-support-") && name.ends_with(".nsb"));
/// assert!(name.parse::<bt_dr_core::BackupName>().is_ok());
/// # Ok::<(), bt_dr_core::Error>(())
/// ```
pub fn fallback_backup_name(
    version: &ProductVersion,
    site: &str,
    now: OffsetDateTime,
) -> Result<String> {
    Ok(BackupName::new(
        version.clone(),
        site,
        now.date(),
        Some(now.time()),
        &hex::encode(rand::random::<[u8; 4]>()),
    )?
    .to_string())
}

/// The file name a backup is saved under: the appliance's proposal when it is a safe, real NSB
/// backup name (see [`BackupName`]), else `fallback`. Either way it ends in `.nsb`, so it can
/// never be a name the set or store writes.
///
/// ```
/// use bt_dr_core::backup::backup_file_name;
/// let ours = "bomgar-24.1.2-support-2026-12-02-030000-0a0b0c0d.nsb";
/// assert_eq!(backup_file_name(Some("bomgar-24.1.2-support-2026-12-01-1733022000.nsb"), ours),
///            "bomgar-24.1.2-support-2026-12-01-1733022000.nsb");
/// assert_eq!(backup_file_name(Some("../manifest.json"), ours), ours);
/// assert_eq!(backup_file_name(Some("error.html"), ours), ours);
/// assert_eq!(backup_file_name(None, ours), ours);
/// ```
pub fn backup_file_name(proposed: Option<&str>, fallback: &str) -> String {
    proposed
        .and_then(sanitize_file_name)
        .filter(|n| n.parse::<BackupName>().is_ok())
        .unwrap_or_else(|| fallback.to_string())
}

/// The file name a session recording is saved under: bt-dr's `stem` (the reporting archive
/// and the incremental checkpoint find recordings by it), with the extension of the
/// appliance's proposal when that is a known video or archive type, else `.rec`.
///
/// ```
/// use bt_dr_core::backup::recording_file_name;
/// assert_eq!(recording_file_name(Some("Session 12.MP4"), "lsid-12"), "lsid-12.mp4");
/// assert_eq!(recording_file_name(Some("x.exe"), "lsid-12"), "lsid-12.rec");
/// assert_eq!(recording_file_name(None, "lsid-12.rec"), "lsid-12.rec");
/// ```
pub fn recording_file_name(proposed: Option<&str>, stem: &str) -> String {
    let ext = proposed
        .and_then(sanitize_file_name)
        .and_then(|s| s.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()))
        .filter(|e| RECORDING_EXTENSIONS.contains(&e.as_str()))
        .unwrap_or_else(|| "rec".into());
    format!("{}.{ext}", stem.trim_end_matches(".rec"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_names() {
        assert_eq!(
            sanitize_file_name("bomgar-1.2.3-x-20250101-ab.nsb").as_deref(),
            Some("bomgar-1.2.3-x-20250101-ab.nsb")
        );
        assert_eq!(
            sanitize_file_name("../../etc/evil.nsb").as_deref(),
            Some("evil.nsb")
        );
        assert_eq!(
            sanitize_file_name("..\\..\\evil.nsb").as_deref(),
            Some("evil.nsb")
        );
        assert_eq!(sanitize_file_name(".."), None);
        assert_eq!(sanitize_file_name("a\u{7}b.nsb"), None);
        assert_eq!(sanitize_file_name(".hidden"), None);
        assert_eq!(sanitize_file_name("dir/"), None);
        for bad in [
            "manifest.json",
            "MANIFEST.JSON",
            "checkpoint.json",
            "vault-key.json",
            "x.nsb.bt-dr.json",
            "recordings",
            "NUL.nsb",
            "com1",
            "lpt9.txt",
            "-rf",
            "a:b.nsb",
            "a?.nsb",
            "trailing.",
            "trailing. ",
            "bidi\u{202E}bsn.exe",
            "zero\u{200B}width",
            ".",
            "...",
            "",
            "   ",
        ] {
            assert_eq!(sanitize_file_name(bad), None, "{bad:?}");
        }
        assert_eq!(
            sanitize_file_name("été €.nsb").as_deref(),
            Some("été €.nsb")
        );
    }

    /// The fuzzing invariant, over a few thousand generated names.
    #[test]
    fn sanitized_names_are_one_safe_component() {
        let parts = [
            "",
            ".",
            "..",
            "/",
            "\\",
            "a",
            "é",
            "€",
            "\u{0}",
            "\n",
            " ",
            "-",
            "manifest.json",
            ".bt-dr.json",
            "nsb",
            "NUL",
            "😀",
            "\u{202E}",
            ":",
            "x.nsb",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    let p = format!("{a}{b}{c}");
                    if let Some(n) = sanitize_file_name(&p) {
                        let path = std::path::Path::new(&n);
                        assert_eq!(path.components().count(), 1, "{p:?} -> {n:?}");
                        assert!(
                            matches!(
                                path.components().next(),
                                Some(std::path::Component::Normal(_))
                            ),
                            "{p:?} -> {n:?}"
                        );
                        assert!(!n.starts_with('.') && !n.contains(['/', '\\']), "{n:?}");
                        assert!(!n.to_lowercase().ends_with(".bt-dr.json"), "{n:?}");
                        assert!(
                            !RESERVED_NAMES.contains(&n.to_lowercase().as_str()),
                            "{n:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn backups_keep_only_real_nsb_names() {
        let fb = "bomgar-24.1.2-support-20261202T010203-ab12cd34.nsb";
        let real = "bomgar-24.1.2-support-20261202-5f3a9c01.nsb";
        assert_eq!(backup_file_name(Some(real), fb), real);
        assert_eq!(backup_file_name(Some(&format!("../../{real}")), fb), real);
        for p in [
            "manifest.json",
            "evil.nsb",
            "../../etc/evil.nsb",
            "bomgar-24.1.2-support-20261202-5f3a9c01.nsb.bt-dr.json",
            "bomgar-x-support-20261202-5f3a9c01.nsb",
            "checkpoint.json",
        ] {
            assert_eq!(backup_file_name(Some(p), fb), fb, "{p}");
        }
        assert_eq!(backup_file_name(None, fb), fb);
    }
}
