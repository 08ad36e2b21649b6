//! A real Chromium (Debian's `chromium` and `chromium-driver`) driven over
//! WebDriver, for the console tests. Each `Page` is its own browser with its
//! own cookies, so two pages are two people or two devices. Every page records
//! script errors, `console.error` calls and Content-Security-Policy violations
//! from its first script on; tests assert there were none.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use thirtyfour::extensions::cdp::ChromeDevTools;
use thirtyfour::prelude::*;

/// Installed before any page script runs (outside the page's CSP).
const WATCH: &str = r#"
window.__problems = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__problems.push('CSP: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));
window.addEventListener('error', e => window.__problems.push('error: ' + e.message));
window.addEventListener('unhandledrejection', e => window.__problems.push('rejection: ' + e.reason));
const originalError = console.error;
console.error = (...args) => { window.__problems.push('console.error: ' + args.join(' ')); originalError(...args); };
"#;

/// Desktop and phone window sizes for screenshots.
pub const DESKTOP: (u32, u32) = (1280, 1024);
pub const PHONE: (u32, u32) = (390, 844);

/// The chromedriver of one test; killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

/// The driver, or a loud skip where no browser is installed (a failure under CI).
pub async fn driver(test: &str) -> Option<Driver> {
    let found = Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromedriver is not installed (packages chromium, chromium-driver)"
        );
        eprintln!(
            "SKIPPED {test}: chromedriver not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{url}/status")).send().await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(Driver { child, url })
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// A fresh browser (no cookies) on the server at `base`.
    pub async fn open(&self, base: &str) -> Page {
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary("/usr/bin/chromium").unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1024",
            "--lang=en-US",
            // The machine's network is closed: no background calls home.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ] {
            caps.add_arg(arg).unwrap();
        }
        let mut last = None;
        // Chromium may be slow to start while other tests load the machine.
        for _ in 0..3 {
            match WebDriver::new(&self.url, caps.clone()).await {
                Ok(driver) => {
                    let tools = ChromeDevTools::new(driver.handle.clone());
                    tools
                        .execute_cdp_with_params(
                            "Page.addScriptToEvaluateOnNewDocument",
                            json!({ "source": WATCH }),
                        )
                        .await
                        .unwrap();
                    return Page {
                        driver,
                        base: base.to_string(),
                    };
                }
                Err(e) => last = Some(e),
            }
        }
        panic!("no browser session: {last:?}");
    }
}

/// One browser window on the console.
pub struct Page {
    pub driver: WebDriver,
    base: String,
}

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

impl Page {
    pub async fn goto(&self, path: &str) {
        self.driver
            .goto(format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// The element `#id` once it is shown.
    pub async fn shown(&self, id: &str) -> WebElement {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(e) = self.driver.find(By::Id(id)).await {
                if e.is_displayed().await.unwrap_or(false) {
                    return e;
                }
            }
            if Instant::now() > deadline {
                self.failure_shot(id).await;
                panic!("#{id} never shown; problems: {:?}", self.problems().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `#id` is not shown (hidden or gone).
    pub async fn gone(&self, id: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let shown = match self.driver.find(By::Id(id)).await {
                Ok(e) => e.is_displayed().await.unwrap_or(false),
                Err(_) => false,
            };
            if !shown {
                return;
            }
            assert!(Instant::now() < deadline, "#{id} still shown");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn fill(&self, id: &str, text: &str) {
        let e = self.shown(id).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, id: &str) {
        self.shown(id).await.click().await.unwrap();
    }

    /// Clicks the first shown element matching a CSS selector.
    pub async fn click_css(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            for e in self.driver.find_all(By::Css(css)).await.unwrap_or_default() {
                if e.is_displayed().await.unwrap_or(false) && e.click().await.is_ok() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "nothing clickable at {css}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many elements match a CSS selector.
    pub async fn count(&self, css: &str) -> usize {
        self.driver
            .find_all(By::Css(css))
            .await
            .map_or(0, |v| v.len())
    }

    /// Waits until `count(css)` is `n`.
    pub async fn wait_count(&self, css: &str, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.count(css).await != n {
            assert!(
                Instant::now() < deadline,
                "{css}: {} elements, wanted {n}",
                self.count(css).await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until at least `n` elements match a CSS selector.
    pub async fn wait_at_least(&self, css: &str, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.count(css).await < n {
            assert!(Instant::now() < deadline, "{css}: fewer than {n} elements");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, id: &str) -> String {
        self.shown(id).await.text().await.unwrap()
    }

    /// Waits until `#id` is shown and its text contains `part` (any case).
    pub async fn wait_text(&self, id: &str, part: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = match self.driver.find(By::Id(id)).await {
                Ok(e) if e.is_displayed().await.unwrap_or(false) => {
                    e.text().await.unwrap_or_default()
                }
                _ => String::new(),
            };
            if text.to_lowercase().contains(&part.to_lowercase()) {
                return text;
            }
            if Instant::now() > deadline {
                self.failure_shot(id).await;
                panic!("#{id} never said {part:?}; it says {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What went wrong in the page so far (script errors, CSP violations).
    pub async fn problems(&self) -> Vec<String> {
        match self
            .driver
            .execute("return window.__problems || [];", vec![])
            .await
        {
            Ok(ret) => ret.convert().unwrap_or_default(),
            Err(e) => vec![format!("cannot read problems: {e}")],
        }
    }

    pub async fn assert_clean(&self) {
        let problems = self.problems().await;
        assert!(problems.is_empty(), "the page reported {problems:?}");
    }

    /// Saves `name`-desktop.png and `name`-phone.png into the screenshot folder.
    pub async fn screenshots(&self, name: &str) {
        let dir = screenshot_dir();
        for (size, (w, h)) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.driver.set_window_rect(0, 0, w, h).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let path = dir.join(format!("{name}-{size}.png"));
            self.driver.screenshot(&path).await.unwrap();
        }
        let (w, h) = DESKTOP;
        self.driver.set_window_rect(0, 0, w, h).await.unwrap();
    }

    async fn failure_shot(&self, what: &str) {
        let path = screenshot_dir().join(format!("failure-{}.png", what.replace('/', "_")));
        let _ = self.driver.screenshot(&path).await;
    }

    pub async fn close(self) {
        let _ = self.driver.quit().await;
    }
}

/// `target/console-screenshots`, where the test run leaves its screenshots.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
