//! WebSocket load bench (loopback only; run by `scripts/bench/ws.sh`).
//!
//! Opens many idle sockets on instance A, reports the server's resident memory
//! per idle connection, then measures the time from a logout request to the
//! `session.revoked` frame on a socket of that session: on A itself, and, with
//! `--b`, on instance B (revoked on A, fanned out through Redis).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

struct Args {
    a: String,
    b: Option<String>,
    pid: Option<u32>,
    connections: usize,
    samples: usize,
    email: String,
    password: String,
}

fn args() -> Args {
    let mut a = Args {
        a: "http://127.0.0.1:18080".into(),
        b: None,
        pid: None,
        connections: 10_000,
        samples: 200,
        email: "admin@bench.local".into(),
        password: "bench-password-1".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--a" => a.a = value,
            "--b" => a.b = Some(value),
            "--pid" => a.pid = value.parse().ok(),
            "--connections" => a.connections = value.parse().expect("a number"),
            "--samples" => a.samples = value.parse().expect("a number"),
            "--email" => a.email = value,
            "--password" => a.password = value,
            other => panic!("unknown flag {other}"),
        }
    }
    for url in std::iter::once(&a.a).chain(a.b.iter()) {
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("http://localhost:"),
            "loopback only: {url}"
        );
    }
    a
}

/// Resident set of `pid`, KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> Value {
    let resp = http
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request");
    assert!(resp.status().is_success(), "login: {}", resp.status());
    resp.json().await.expect("login body")
}

async fn ticket(http: &reqwest::Client, base: &str, access: &str) -> String {
    let body: Value = http
        .post(format!("{base}/api/ws/token"))
        .bearer_auth(access)
        .send()
        .await
        .expect("ticket request")
        .json()
        .await
        .expect("ticket body");
    body["token"].as_str().expect("token").to_string()
}

async fn open(http: &reqwest::Client, base: &str, access: &str) -> Ws {
    let t = ticket(http, base, access).await;
    let url = format!("{}/ws?token={t}", base.replacen("http://", "ws://", 1));
    connect_async(url).await.expect("upgrade").0
}

/// Keeps a socket idle but alive: reading answers the server's pings.
fn park(mut ws: Ws) {
    tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
}

async fn wait_revoked(ws: &mut Ws) {
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(t) = msg {
            if t.as_str().contains("\"session.revoked\"") {
                return;
            }
        }
    }
    panic!("socket closed before session.revoked");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Logout on `revoke_on`, socket on `socket_on`: `samples` timings.
async fn latency(
    http: &reqwest::Client,
    revoke_on: &str,
    socket_on: &str,
    email: &str,
    samples: usize,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let s = login(http, revoke_on, email, "sampler-password-1").await;
        let access = s["access_token"].as_str().expect("access").to_string();
        let mut ws = open(http, socket_on, &access).await;
        let started = Instant::now();
        let logout = http
            .post(format!("{revoke_on}/auth/logout"))
            .bearer_auth(&access)
            .send();
        let (resp, ()) = tokio::join!(logout, async {
            tokio::time::timeout(Duration::from_secs(10), wait_revoked(&mut ws))
                .await
                .expect("session.revoked within 10 s")
        });
        out.push(started.elapsed());
        assert_eq!(resp.expect("logout").status().as_u16(), 204);
    }
    out.sort();
    out
}

fn report(name: &str, d: &[Duration]) {
    println!(
        "{name}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        d.len(),
        percentile(d, 0.50).as_secs_f64() * 1e3,
        percentile(d, 0.99).as_secs_f64() * 1e3,
        d.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let args = args();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("http client");
    let admin = login(&http, &args.a, &args.email, &args.password).await;
    let access = admin["access_token"].as_str().expect("access").to_string();
    let sampler = "sampler@bench.local";
    let _ = http
        .post(format!("{}/admin/users", args.a))
        .bearer_auth(&access)
        .json(&json!({ "email": sampler, "password": "sampler-password-1",
                       "full_name": "Bench sampler", "roles": ["user"] }))
        .send()
        .await;

    let before = args.pid.and_then(rss_kib);
    let started = Instant::now();
    let opened = stream::iter(0..args.connections)
        .map(|_| {
            let (http, base, access) = (&http, &args.a, &access);
            async move { open(http, base, access).await }
        })
        .buffer_unordered(64)
        .fold(0usize, |n, ws| async move {
            park(ws);
            n + 1
        })
        .await;
    println!(
        "opened {opened} idle sockets on A in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let (Some(pid), Some(before)) = (args.pid, before) {
        if let Some(after) = rss_kib(pid) {
            let per = (after.saturating_sub(before)) as f64 / opened.max(1) as f64;
            println!("server RSS {before} KiB -> {after} KiB: {per:.1} KiB per idle connection");
        }
    }
    let local = latency(&http, &args.a, &args.a, sampler, args.samples).await;
    report("revocation -> session.revoked, same instance", &local);
    if let Some(b) = &args.b {
        let cross = latency(&http, &args.a, b, sampler, args.samples).await;
        report("revocation on A -> session.revoked on B", &cross);
    }
}
