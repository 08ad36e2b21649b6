//! The browser console's files (`ui/`), built into the binary. Every asset is
//! served under one version, a hash of all of them, so browsers may keep them
//! for a year and still see a new release at once; the two pages name that
//! version where they write `__ASSET_VERSION__`.

use std::borrow::Cow;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "ui/"]
struct Files;

/// The placeholder the pages carry for the asset version.
const VERSION_MARK: &str = "__ASSET_VERSION__";

/// The console's pages and assets.
#[derive(Clone)]
pub struct Console {
    version: String,
}

/// One file to send.
pub struct ConsoleFile {
    /// Its bytes.
    pub body: Cow<'static, [u8]>,
    /// Its media type.
    pub content_type: &'static str,
}

/// The pages of the console.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    /// Sign-in and the account (`/ui/`).
    Account,
    /// The admin screens (`/ui/admin`).
    Admin,
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Console {
    /// Reads the built-in files once to name their version.
    pub fn new() -> Self {
        let mut names: Vec<_> = Files::iter().collect();
        names.sort();
        let mut hash = Sha256::new();
        for name in names {
            if let Some(file) = Files::get(&name) {
                hash.update(name.as_bytes());
                hash.update([0]);
                hash.update(&file.data);
            }
        }
        let version = hex::encode(&hash.finalize()[..6]);
        Self { version }
    }

    /// The version in asset URLs.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A page, with the asset version filled in.
    pub fn page(&self, page: Page) -> Option<String> {
        let name = match page {
            Page::Account => "index.html",
            Page::Admin => "admin.html",
        };
        let file = Files::get(name)?;
        let text = String::from_utf8_lossy(&file.data);
        Some(text.replace(VERSION_MARK, &self.version))
    }

    /// The asset `path` of `version`: none for another version (an old page
    /// must not get new files under an old name), a hidden file or a folder.
    pub fn asset(&self, version: &str, path: &str) -> Option<ConsoleFile> {
        if version != self.version || path.split('/').any(|p| p.is_empty() || p.starts_with('.')) {
            return None;
        }
        let content_type = content_type(path)?;
        let file = Files::get(&format!("assets/{path}"))?;
        Some(ConsoleFile {
            body: file.data,
            content_type,
        })
    }
}

/// The media type of the kinds of files the console has; others are not served.
fn content_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.')?.1;
    Some(match ext {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_of_another_version_or_outside_the_folder_are_not_served() {
        let console = Console::new();
        assert_eq!(console.version().len(), 12);
        assert!(console.asset("000000000000", "console.css").is_none());
        assert!(console.asset(console.version(), "../index.html").is_none());
        assert!(console.asset(console.version(), "console.css").is_some());
        let page = console.page(Page::Account).unwrap_or_default();
        assert!(page.contains(console.version()) && !page.contains(VERSION_MARK));
    }
}
