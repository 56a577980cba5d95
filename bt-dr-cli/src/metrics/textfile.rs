//! The textfile for node_exporter's textfile collector.

use std::io::Write;
use std::path::{Path, PathBuf};

use bt_dr_core::{AtomicFile, Error};

/// Writes `text` to `dest` under a temporary name in the same folder, then renames it into
/// place: the collector (which reads only `*.prom`) never sees a half-written file, and an
/// older file stays whole when writing fails. The file is made world-readable (0644) because
/// node_exporter seldom runs as the user the collection runs as, and the series hold no
/// secret.
pub fn write(dest: &Path, text: &str) -> Result<PathBuf, Error> {
    let mut f = AtomicFile::create(dest)?;
    f.file()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("writing", dest, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io("setting permissions of", dest, e))?;
    }
    f.commit()
}
