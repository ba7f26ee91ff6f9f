//! Writing key files without ever replacing one or leaving half a file.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

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

/// Reads a key file, refusing anything implausibly large.
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, KmsError> {
    let io = |source| KmsError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = fs::metadata(path).map_err(io)?;
    if meta.len() > signet_core::limits::MAX_KEY_FILE_BYTES as u64 {
        return Err(KmsError::key(
            path.display().to_string(),
            signet_core::KeyError::Malformed(format!(
                "file is {} bytes; not a key file",
                meta.len()
            )),
        ));
    }
    fs::read(path).map_err(io)
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
}
