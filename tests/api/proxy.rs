//! The deployment in `deploy/` tested for real: nginx from the Debian package,
//! with a self-signed certificate, in front of a running server, using the
//! nginx site as shipped (only ports and paths adapted). Everything goes
//! through HTTPS with curl, from client addresses other than the proxy's.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::*;

/// True when nginx, openssl and curl are here; a loud skip otherwise (a
/// failure under CI=true, whose `.ci/run` installs them).
fn tools_present(test: &str) -> bool {
    let found = ["nginx", "openssl", "curl"].iter().all(|tool| {
        ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            .iter()
            .any(|dir| Path::new(dir).join(tool).exists())
    });
    if found {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("nginx, openssl or curl is missing under CI=true");
    }
    eprintln!("SKIPPED {test}: nginx, openssl or curl is not installed");
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx running the shipped site in front of `upstream`, on a TLS port.
struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// nginx's own error log, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(upstream: u16) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(format!("{d}/key.pem"))
        .arg("-out")
        .arg(format!("{d}/cert.pem"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let (port, plain) = (free_port(), free_port());
    let shipped = include_str!("../../deploy/nginx/tokenward.conf");
    let site = shipped
        .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{port} ssl;"))
        .replace("listen 80;", &format!("listen 127.0.0.1:{plain};"))
        .replace(
            "ssl_certificate /etc/ssl/certs/tokenward.crt;",
            &format!("ssl_certificate {d}/cert.pem;"),
        )
        .replace(
            "ssl_certificate_key /etc/ssl/private/tokenward.key;",
            &format!("ssl_certificate_key {d}/key.pem;"),
        )
        .replace(
            "proxy_pass http://127.0.0.1:8080;",
            &format!("proxy_pass http://127.0.0.1:{upstream};"),
        );
    assert_ne!(site, shipped);
    std::fs::write(format!("{d}/site.conf"), site).unwrap();
    let main = format!(
        "daemon off; pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{}}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
    );
    std::fs::write(format!("{d}/nginx.conf"), main).unwrap();
    let mut child = Command::new("nginx")
        .args(["-p", &d, "-c", &format!("{d}/nginx.conf")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Up once the TLS port accepts connections.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Nginx {
                child,
                port,
                _dir: dir,
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(format!("{d}/error.log")).unwrap_or_default();
    panic!("nginx did not start: {log}");
}

/// curl over HTTPS to the proxy from client address `from`; returns the body.
/// It runs on the blocking pool: the server under test shares this runtime.
async fn curl(nginx: &Nginx, from: &str, args: &[&str], path: &str) -> String {
    let mut cmd = Command::new("curl");
    cmd.args(["-skS", "--max-time", "10", "--interface", from])
        .args(args)
        .arg(format!("https://127.0.0.1:{}{path}", nginx.port));
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return format!("{said}\ncurl failed: {err}");
    }
    said
}

fn login_args(jar: &str) -> Vec<String> {
    let body =
        format!(r#"{{"email":"{ADMIN_EMAIL}","password":"{ADMIN_PASSWORD}","cookie":true}}"#);
    [
        "-c",
        jar,
        "-H",
        "content-type: application/json",
        "-H",
        "x-forwarded-for: 203.0.113.9",
        "-d",
        &body,
        "-w",
        "\n%{http_code}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn the_shipped_nginx_site_carries_cookies_client_ips_limits_and_websockets(backend: Backend) {
    let test = "the_shipped_nginx_site_carries_cookies_client_ips_limits_and_websockets";
    if !tools_present(test) {
        return;
    }
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.login_rate_limit = 3;
        s.cookie_secure = true;
        s.ws_session_check_ms = 0;
    })
    .await;
    let upstream: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = start_nginx(upstream);
    let jar_dir = tempfile::tempdir().unwrap();
    let jar = jar_dir.path().join("jar").display().to_string();

    // Cookie mode through TLS: the Secure cookies come back and work.
    let args = login_args(&jar);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let said = curl(&nginx, "127.0.0.2", &args, "/auth/login").await;
    assert!(said.ends_with("\n200"), "{said}\n{}", nginx.log());
    let cookies = std::fs::read_to_string(&jar).unwrap();
    let secure_access = cookies
        .lines()
        .any(|l| l.contains("access_token") && l.split('\t').nth(3) == Some("TRUE"));
    assert!(secure_access, "{cookies}");
    let validated = curl(&nginx, "127.0.0.2", &["-b", &jar], "/auth/validate").await;
    assert!(validated.contains("\"valid\":true"), "{validated}");

    // The stored client IP is the client's, not the proxy's nor a forged one.
    let sessions = curl(&nginx, "127.0.0.2", &["-b", &jar], "/auth/sessions").await;
    let sessions: Value = serde_json::from_str(&sessions).unwrap();
    assert_eq!(sessions[0]["ip_address"], "127.0.0.2", "{sessions}");

    // The login rate limit keys on the client: the 4th login of 127.0.0.2 is
    // refused, while another client behind the same proxy still gets in.
    let spare = jar_dir.path().join("spare").display().to_string();
    let again = login_args(&spare);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    for _ in 0..2 {
        curl(&nginx, "127.0.0.2", &again, "/auth/login").await;
    }
    let fourth = curl(&nginx, "127.0.0.2", &again, "/auth/login").await;
    assert!(fourth.ends_with("\n429"), "{fourth}");
    let other_jar = jar_dir.path().join("other").display().to_string();
    let other = login_args(&other_jar);
    let other: Vec<&str> = other.iter().map(String::as_str).collect();
    let another = curl(&nginx, "127.0.0.3", &other, "/auth/login").await;
    assert!(another.ends_with("\n200"), "{another}");

    // The WebSocket upgrade and a session.revoked push pass the proxy.
    let csrf = [
        "-b",
        &jar,
        "-H",
        "x-requested-with: tokenward",
        "-X",
        "POST",
    ];
    let said = curl(&nginx, "127.0.0.2", &csrf, "/api/ws/token").await;
    let ticket: Value = serde_json::from_str(&said).unwrap_or_default();
    let ticket = ticket["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{said}"))
        .to_string();
    let socket = Command::new("curl")
        .args(["-sk", "-i", "-N", "--http1.1", "--max-time", "6"])
        .args(["--interface", "127.0.0.2"])
        .args(["-H", "Connection: Upgrade", "-H", "Upgrade: websocket"])
        .args(["-H", "Sec-WebSocket-Version: 13"])
        .args(["-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])
        .arg(format!(
            "https://127.0.0.1:{}/ws?token={ticket}",
            nginx.port
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let open = eventually(Duration::from_secs(5), || async { app.hub.count() == 1 }).await;
    assert!(open, "the upgrade did not reach the server");
    let logout = curl(&nginx, "127.0.0.2", &csrf, "/auth/logout").await;
    assert!(logout.is_empty(), "{logout}");
    let out = tokio::task::spawn_blocking(move || socket.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(seen.contains(" 101 "), "{seen}");
    assert!(seen.contains("session.revoked"), "{seen}");
}

backend_tests!(the_shipped_nginx_site_carries_cookies_client_ips_limits_and_websockets,);
