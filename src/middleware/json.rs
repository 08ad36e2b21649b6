//! `ApiJson<T>`: the JSON body extractor. Errors come out in the contract's
//! shape: empty body 400, not JSON 415, too large 413, bad syntax 400, and
//! well-formed JSON with missing or invalid fields 422 with per-field details.

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::errors::{AppError, FieldErrors};

/// A deserialized and validated JSON body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Maps a body-reading failure.
pub fn payload_error(e: &actix_web::Error) -> AppError {
    match e.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => AppError::PayloadTooLarge,
        _ => match e.as_error::<actix_web::error::JsonPayloadError>() {
            Some(actix_web::error::JsonPayloadError::Overflow { .. })
            | Some(actix_web::error::JsonPayloadError::OverflowKnownLength { .. }) => {
                AppError::PayloadTooLarge
            }
            _ => AppError::InvalidRequest("The request body could not be read.".into()),
        },
    }
}

/// The project's words for what a field should have been, from serde's
/// wording (which names Rust types and must never reach a client).
fn phrase(text: &str) -> &'static str {
    let expected = text.rsplit_once("expected ").map_or("", |(_, e)| e);
    if text.starts_with("unknown variant") {
        return "is not one of the accepted values";
    }
    if text.starts_with("invalid length") {
        return "has the wrong number of items";
    }
    if expected.contains("string") || expected.contains("char") {
        "must be a string"
    } else if expected.contains("bool") {
        "must be true or false"
    } else if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "integer",
    ]
    .iter()
    .any(|t| expected.contains(t))
    {
        "must be a whole number"
    } else if expected.contains("f32") || expected.contains("f64") || expected.contains("number") {
        "must be a number"
    } else if expected.contains("sequence") || expected.contains("array") {
        "must be a list"
    } else if expected.contains("struct") || expected.contains("map") {
        "must be a JSON object"
    } else if text.starts_with("invalid value") {
        "has an invalid value"
    } else {
        "has the wrong type"
    }
}

/// Turns a shape error into a 422 naming the field.
fn classify(err: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let text = inner.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text).to_string();
    let backticked = || text.split('`').nth(1).map(str::to_string);
    let (field, message) = if text.starts_with("missing field") {
        let name = backticked().unwrap_or_default();
        let field = if path == "." {
            name
        } else {
            format!("{path}.{name}")
        };
        (field, "is required".to_string())
    } else if text.starts_with("unknown field") {
        (
            backticked().unwrap_or_default(),
            "is not a known field".to_string(),
        )
    } else {
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        (field, phrase(&text).to_string())
    };
    let mut details = FieldErrors::new();
    details.insert(field, vec![message]);
    AppError::ValidationFailed(details)
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = is_json(req);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| payload_error(&e))?;
            parse_body(json, &bytes).map(ApiJson)
        })
    }
}

/// Parses and validates a JSON body read by hand (same answers as `ApiJson`).
pub fn parse_body<T: DeserializeOwned + Validate>(json: bool, bytes: &[u8]) -> Result<T, AppError> {
    parse_document(json, bytes).and_then(|document| parse_value(document))
}

/// The syntax half of `parse_body`: a JSON document or a 400/415.
pub fn parse_document(json: bool, bytes: &[u8]) -> Result<serde_json::Value, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::InvalidRequest(
            "A JSON request body is required.".into(),
        ));
    }
    if !json {
        return Err(AppError::UnsupportedMediaType);
    }
    // Syntax first (trailing data included), then shape, so a body that is
    // not JSON is always 400 and a JSON body of the wrong shape always 422.
    serde_json::from_slice(bytes)
        .map_err(|_| AppError::InvalidRequest("The request body is not valid JSON.".into()))
}

/// The shape half of `parse_body`: a typed, validated value or a 422.
pub fn parse_value<T: DeserializeOwned + Validate>(
    document: serde_json::Value,
) -> Result<T, AppError> {
    if !document.is_object() {
        let mut details = FieldErrors::new();
        details.insert("body".into(), vec!["must be a JSON object".into()]);
        return Err(AppError::ValidationFailed(details));
    }
    let value: T = serde_path_to_error::deserialize(document).map_err(classify)?;
    value.validate()?;
    Ok(value)
}

/// True when the request says its body is JSON.
pub fn declares_json(req: &HttpRequest) -> bool {
    is_json(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, Validate)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        on: bool,
        n: u32,
        list: Vec<String>,
    }

    fn message(body: serde_json::Value) -> (String, String) {
        match parse_value::<Probe>(body) {
            Err(AppError::ValidationFailed(d)) => {
                let (k, v) = d.into_iter().next().unwrap_or_default();
                (k, v.join(" "))
            }
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn shape_errors_speak_the_projects_words() {
        let base = serde_json::json!({ "name": "a", "on": true, "n": 1, "list": [] });
        let cases = [
            ("name", serde_json::json!(5), "must be a string"),
            ("on", serde_json::json!("x"), "must be true or false"),
            ("n", serde_json::json!(-1), "must be a whole number"),
            ("n", serde_json::json!("x"), "must be a whole number"),
            ("list", serde_json::json!({}), "must be a list"),
        ];
        for (field, value, want) in cases {
            let mut body = base.clone();
            body[field] = value;
            let (k, m) = message(body);
            assert_eq!((k.as_str(), m.as_str()), (field, want));
        }
        for body in [
            serde_json::Value::Null,
            serde_json::json!(0),
            serde_json::json!("x"),
            serde_json::json!([]),
        ] {
            assert_eq!(
                message(body),
                ("body".into(), "must be a JSON object".into())
            );
        }
    }
}
