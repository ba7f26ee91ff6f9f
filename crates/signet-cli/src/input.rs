//! Local files named on the command line, read with a cap enforced while
//! reading (a FIFO, `/dev/stdin` or a `/proc` file reports no size).

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};

/// Reads `path` whole, refusing more than `limit` bytes.
pub fn read_capped(path: &Path, limit: usize, what: &str) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("{what} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{what} {}", path.display()))?;
    if bytes.len() > limit {
        bail!(
            "{what} {}: larger than the limit of {limit} bytes",
            path.display()
        );
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 11]).unwrap();
        assert_eq!(read_capped(&path, 11, "file").unwrap().len(), 11);
        let err = read_capped(&path, 10, "file").unwrap_err().to_string();
        assert!(err.contains("larger than the limit of 10"), "{err}");
        assert!(read_capped(&dir.path().join("missing"), 10, "file").is_err());
    }
}
