//! WebSocket client helpers: tickets, upgrades, reading events with deadlines.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A refused upgrade: status and JSON body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
    pub www_authenticate: Option<String>,
}

impl TestApp {
    pub fn ws_url(&self, ticket: &str) -> String {
        format!(
            "{}/ws?token={ticket}",
            self.address.replacen("http://", "ws://", 1)
        )
    }

    /// `POST /api/ws/token` with a bearer token; asserts the contract answer.
    pub async fn ws_ticket(&self, access: &str) -> String {
        let resp = self.post_auth("/api/ws/token", access, None).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["expires_in"], 30, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// Upgrades with `ticket`, or reports the refusal.
    pub async fn ws_try(&self, ticket: &str) -> Result<Ws, Refused> {
        self.ws_try_from(ticket, None).await
    }

    /// Like `ws_try`, sending `Origin: origin` as a browser would.
    pub async fn ws_try_from(&self, ticket: &str, origin: Option<&str>) -> Result<Ws, Refused> {
        let mut request = self.ws_url(ticket).into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        match connect_async(request).await {
            Ok((ws, resp)) => {
                assert_eq!(resp.status().as_u16(), 101);
                Ok(ws)
            }
            Err(WsError::Http(resp)) => {
                let body = resp
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                Err(Refused {
                    status: resp.status().as_u16(),
                    body,
                    www_authenticate: resp
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                })
            }
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// A fresh ticket and an open socket for `access`.
    pub async fn ws_open(&self, access: &str) -> Ws {
        let ticket = self.ws_ticket(access).await;
        self.ws_try(&ticket).await.expect("upgrade accepted")
    }
}

/// Asserts a refusal with status 401 and the contract error code.
pub fn assert_refused(result: Result<Ws, Refused>, code: &str) {
    let refused = match result {
        Ok(_) => panic!("upgrade accepted, expected {code}"),
        Err(r) => r,
    };
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(refused.body["error"], code, "{refused:?}");
    assert!(refused.body["message"].is_string(), "{refused:?}");
    let www = refused.www_authenticate.expect("WWW-Authenticate on 401");
    assert!(www.starts_with("Bearer realm=\"tokenward\""), "{www}");
}

/// What a socket produced before a deadline.
#[derive(Debug)]
pub enum Next {
    Event(Value),
    Closed(Option<CloseCode>),
    Timeout,
}

/// The next JSON event or close, skipping pings and pongs.
pub async fn next(ws: &mut Ws, within: Duration) -> Next {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Err(_) => return Next::Timeout,
            Ok(None) | Ok(Some(Err(_))) => return Next::Closed(None),
            Ok(Some(Ok(Message::Text(t)))) => {
                return Next::Event(serde_json::from_str(t.as_str()).expect("JSON event"))
            }
            Ok(Some(Ok(Message::Close(frame)))) => return Next::Closed(frame.map(|f| f.code)),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// The next event, which must be of `kind`, within five seconds.
pub async fn expect_event(ws: &mut Ws, kind: &str) -> Value {
    match next(ws, Duration::from_secs(5)).await {
        Next::Event(v) if v["type"] == kind => v,
        other => panic!("expected a {kind} event, got {other:?}"),
    }
}

/// Waits for the server's close frame (events before it are returned).
pub async fn expect_close(ws: &mut Ws, within: Duration) -> (Vec<Value>, Option<CloseCode>) {
    let mut seen = Vec::new();
    loop {
        match next(ws, within).await {
            Next::Event(v) => seen.push(v),
            Next::Closed(code) => return (seen, code),
            Next::Timeout => panic!("socket still open; events so far: {seen:?}"),
        }
    }
}
