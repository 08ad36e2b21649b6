//! The limits the server enforces that the derived schemas cannot carry:
//! patterns of the field checks in `dto::validate`, the password policy's
//! configured length, and the bounds of query values. Applied to the JSON
//! document, next to each other so a new check has one place to be declared.

use serde_json::{json, Value};

use crate::dto::admin::USERS_PAGE;
use crate::dto::audit::AUDIT_PAGE;
use crate::dto::validate::{ID_PATTERN, NOT_BLANK_PATTERN, NO_NUL_PATTERN, ROLE_PATTERN};
use crate::security::password_policy::PasswordPolicy;

/// Which check guards a body field.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rule {
    /// `validate::not_blank`.
    NotBlank,
    /// `validate::no_nul`.
    NoNul,
    /// `validate::new_password`, then the password policy.
    NewPassword,
    /// `validate::roles`, on each item.
    Roles,
}

/// (schema, property, rule) for every checked string of a request body.
pub(super) const FIELDS: &[(&str, &str, Rule)] = &[
    ("LoginRequest", "email", Rule::NotBlank),
    ("LoginRequest", "password", Rule::NotBlank),
    ("LoginRequest", "device_name", Rule::NoNul),
    ("LoginRequest", "device_token", Rule::NoNul),
    ("RefreshRequest", "refresh_token", Rule::NotBlank),
    ("ChangePasswordRequest", "current_password", Rule::NotBlank),
    ("ChangePasswordRequest", "new_password", Rule::NewPassword),
    ("VerifyTwoFactorRequest", "challenge_token", Rule::NotBlank),
    ("VerifyTwoFactorRequest", "code", Rule::NotBlank),
    ("EnableTwoFactorRequest", "password", Rule::NotBlank),
    ("EnableTwoFactorRequest", "code", Rule::NotBlank),
    ("DisableTwoFactorRequest", "password", Rule::NotBlank),
    ("DisableTwoFactorRequest", "code", Rule::NotBlank),
    ("CreateUserRequest", "email", Rule::NoNul),
    ("CreateUserRequest", "password", Rule::NewPassword),
    ("CreateUserRequest", "full_name", Rule::NoNul),
    ("CreateUserRequest", "roles", Rule::Roles),
    ("UpdateUserRequest", "roles", Rule::Roles),
    ("UpdateUserRequest", "full_name", Rule::NoNul),
    ("ResetPasswordRequest", "password", Rule::NewPassword),
    ("NotificationRequest", "message", Rule::NotBlank),
];

/// Bounds of query values: (path, parameter, schema keywords to add).
fn query_bounds() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "/admin/users",
            "limit",
            json!({"minimum": 1, "maximum": USERS_PAGE.1}),
        ),
        (
            "/admin/users",
            "offset",
            json!({"minimum": 0, "maximum": i32::MAX}),
        ),
        (
            "/admin/users",
            "email",
            json!({"maxLength": 254, "pattern": NO_NUL_PATTERN}),
        ),
        (
            "/admin/audit",
            "user_id",
            json!({"minimum": 1, "maximum": i64::MAX}),
        ),
        (
            "/admin/audit",
            "event",
            json!({"pattern": "^[a-z_]{1,64}$"}),
        ),
        (
            "/admin/audit",
            "limit",
            json!({"minimum": 1, "maximum": AUDIT_PAGE.1}),
        ),
        (
            "/admin/stats/hourly",
            "hours",
            json!({"minimum": 1, "maximum": 168}),
        ),
    ]
}

/// Shapes the derive cannot spell: a user id as a number or a decimal
/// string, and the second success of the admin password reset.
fn special_cases(doc: &mut Value) {
    let recipient = &mut doc["components"]["schemas"]["NotificationRequest"]["properties"];
    if let Some(props) = recipient.as_object_mut() {
        props.insert(
            "user_id".into(),
            json!({
                "description": "Recipient: a user id as a string (or a number); every connected user when absent.",
                "oneOf": [
                    {"type": "string", "pattern": ID_PATTERN},
                    {"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX},
                    {"type": "null"}
                ]
            }),
        );
    }
    let reset = &mut doc["paths"]["/admin/users/{id}/password"]["post"]["responses"];
    if let Some(responses) = reset.as_object_mut() {
        responses.insert(
            "204".into(),
            json!({"description": "Reset to the given password"}),
        );
    }
}

/// The property a rule constrains: the items of an array, else the field.
fn target<'a>(schemas: &'a mut Value, schema: &str, field: &str) -> Option<&'a mut Value> {
    let prop = schemas
        .get_mut(schema)?
        .get_mut("properties")?
        .get_mut(field)?;
    if prop.get("items").is_some() {
        return prop.get_mut("items");
    }
    Some(prop)
}

/// A body with `#[serde(flatten)]` fields is one object on the wire, but the
/// derive spells it as `allOf` its parts: merged back here into that one
/// object, so clients see one shape (and the limits above find its fields).
fn merge_flattened(schema: &mut Value) {
    let Some(parts) = schema.get("allOf").and_then(Value::as_array).cloned() else {
        return;
    };
    let (mut properties, mut required) = (serde_json::Map::new(), Vec::new());
    for mut part in parts {
        merge_flattened(&mut part);
        if part.get("type") != Some(&json!("object")) {
            return; // a `$ref` or another shape: not a flattened struct
        }
        if let Some(props) = part.get("properties").and_then(Value::as_object) {
            properties.extend(props.clone());
        }
        if let Some(names) = part.get("required").and_then(Value::as_array) {
            required.extend(names.iter().cloned());
        }
    }
    if let Some(object) = schema.as_object_mut() {
        object.remove("allOf");
        object.insert("type".into(), json!("object"));
        object.insert("required".into(), Value::Array(required));
        object.insert("properties".into(), Value::Object(properties));
    }
}

/// Adds every limit above to `doc` (a serialized OpenAPI document).
pub(super) fn tighten(doc: &mut Value, policy: &PasswordPolicy) {
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.values_mut().for_each(merge_flattened);
    }
    special_cases(doc);
    let schemas = &mut doc["components"]["schemas"];
    for (schema, field, rule) in FIELDS {
        let Some(prop) = target(schemas, schema, field) else {
            continue;
        };
        match rule {
            Rule::NotBlank => prop["pattern"] = json!(NOT_BLANK_PATTERN),
            Rule::NoNul => prop["pattern"] = json!(NO_NUL_PATTERN),
            Rule::NewPassword => {
                prop["pattern"] = json!(NO_NUL_PATTERN);
                prop["minLength"] = json!(policy.min_length);
                prop["maxLength"] = json!(128);
            }
            Rule::Roles => {
                prop["pattern"] = json!(ROLE_PATTERN);
                prop["minLength"] = json!(1);
                prop["maxLength"] = json!(64);
            }
        }
    }
    for (path, name, bounds) in query_bounds() {
        let Some(params) = doc["paths"][path]["get"]["parameters"].as_array_mut() else {
            continue;
        };
        for p in params.iter_mut().filter(|p| p["name"] == name) {
            if let (Some(schema), Some(add)) = (p["schema"].as_object_mut(), bounds.as_object()) {
                schema.extend(add.clone());
            }
        }
    }
}

/// Whether every rule above names a field the document has (for the tests).
#[cfg(test)]
pub(super) fn missing(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut copy = doc["components"]["schemas"].clone();
    for (schema, field, _) in FIELDS {
        if target(&mut copy, schema, field).is_none() {
            out.push(format!("{schema}.{field}"));
        }
    }
    for (path, name, _) in query_bounds() {
        let found = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == name));
        if !found {
            out.push(format!("{path}?{name}"));
        }
    }
    out
}
