//! Untrusted text on its way into an error message.

/// Shortens untrusted text before it goes into an error message, and keeps the
/// message on one line.
pub(crate) fn snippet(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}
