//! Writing key files without ever replacing one or leaving half a file.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use signet_core::limits;
use zeroize::Zeroizing;

use crate::KmsError;

/// Refuses early if any of `paths` exists, so that a key pair is never half written.
pub fn ensure_absent(paths: &[&Path]) -> Result<(), KmsError> {
    for p in paths {
        if p.symlink_metadata().is_ok() {
            return Err(KmsError::AlreadyExists(p.display().to_string()));
        }
    }
    Ok(())
}

/// Writes `contents` to a new file at `path` with permission bits `mode`.
///
/// The bytes go to a temporary file in the same directory, created with `mode`
/// from the start (a private key is never readable by others, not even
/// briefly), and are then hard-linked into place. Linking fails if `path`
/// exists, so an existing key is never replaced, and a crash leaves either no
/// file or a complete one.
pub fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), KmsError> {
    let io = |source| KmsError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have cleared bits of `mode`; set them exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(KmsError::AlreadyExists(path.display().to_string()))
        }
        Err(e) => Err(io(e)),
    }
}

/// Reads a key file through a capped reader (a FIFO or `/dev/stdin` reports
/// no size, so the cap applies to the bytes read). The buffer is wiped when
/// dropped.
pub fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    limits::read_secret_file(path, limits::KEY_FILE).map_err(KmsError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_overwrites_and_sets_mode() {
        let dir = std::env::temp_dir().join(format!("signet-files-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k.key");
        let _ = fs::remove_file(&p);
        write_new(&p, b"one", 0o600).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(
            write_new(&p, b"two", 0o600),
            Err(KmsError::AlreadyExists(_))
        ));
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert!(ensure_absent(&[&p]).is_err());
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A FIFO reports size 0; the cap applies to what is read from it.
    #[test]
    fn fifo_key_files_are_read_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        for (len, ok) in [
            (300, true),
            (limits::MAX_KEY_FILE_BYTES + 1, false),
            (1 << 20, false),
        ] {
            let fifo = dir.path().join(format!("key-{len}.fifo"));
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            // A test that cannot run must fail, never pass unseen.
            assert!(
                made.is_ok_and(|s| s.success()),
                "mkfifo (coreutils) is required for this test"
            );
            let writer = {
                let fifo = fifo.clone();
                std::thread::spawn(move || {
                    // The reader may stop early (EPIPE); that is the point.
                    if let Ok(mut f) = fs::OpenOptions::new().write(true).open(&fifo) {
                        let _ = f.write_all(&vec![b'k'; len]);
                    }
                })
            };
            let result = read_key_file(&fifo);
            writer.join().unwrap();
            match result {
                Ok(bytes) => {
                    assert!(ok, "{len} bytes were accepted");
                    assert_eq!(bytes.len(), len);
                }
                Err(e) => {
                    assert!(!ok, "{len}: {e}");
                    assert!(
                        e.to_string()
                            .contains("larger than 65536 bytes, the limit for a key file"),
                        "{e}"
                    );
                }
            }
        }
    }
}
