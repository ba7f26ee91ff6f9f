//! placeholder
pub(crate) fn _x() {}
