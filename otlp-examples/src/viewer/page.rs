//! The page's static files, embedded at build time.

/// The HTML.
pub(crate) const INDEX: &str = include_str!("page/index.html");
/// The script.
pub(crate) const SCRIPT: &str = include_str!("page/app.js");
/// The styles.
pub(crate) const STYLE: &str = include_str!("page/style.css");
