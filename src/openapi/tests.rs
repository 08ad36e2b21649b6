//! The OpenAPI document against the route table, the Allow headers and docs/api.md.

use super::*;

fn served() -> serde_json::Value {
    document(&crate::config::Settings::default().password_policy())
}

#[test]
fn every_limit_names_a_field_and_operation_ids_are_unique() {
    let doc = served();
    assert_eq!(shapes::missing(&doc), Vec::<String>::new());
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let all = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all);
    let schemas = &doc["components"]["schemas"];
    let password = &schemas["CreateUserRequest"]["properties"]["password"];
    assert_eq!(password["minLength"], 12);
    let role = &schemas["UpdateUserRequest"]["properties"]["roles"]["items"];
    assert_eq!(role["pattern"], crate::dto::validate::ROLE_PATTERN);
    let limit = &doc["paths"]["/admin/users"]["get"]["parameters"][0]["schema"];
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&1.into(), &500.into())
    );
}

/// Every `resource("..")` of the route table with its methods, read from the source.
fn route_table() -> Vec<(String, String)> {
    let src = include_str!("../routes.rs");
    let mut out = Vec::new();
    for piece in src.split("resource(\"").skip(1) {
        let (path, rest) = piece.split_once('"').unwrap_or_default();
        for m in rest.split("web::").skip(1) {
            let method = m.split("()").next().unwrap_or_default();
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                // `{name:regex}` is documented as `{name}`.
                let path = path
                    .split('/')
                    .map(|s| match s.split_once(':') {
                        Some((name, _)) if s.starts_with('{') => format!("{name}}}"),
                        _ => s.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((method.to_uppercase(), path));
            }
        }
    }
    out
}

#[test]
fn every_allow_header_names_exactly_the_methods_served() {
    let src = include_str!("../routes.rs");
    for piece in src.split("resource(\"").skip(1) {
        let (path, rest) = piece.split_once('"').unwrap_or_default();
        let allow = rest.split('"').nth(1).unwrap_or_default();
        let served: Vec<String> = rest
            .split("web::")
            .skip(1)
            .map(|m| m.split("()").next().unwrap_or_default().to_uppercase())
            .filter(|m| ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()))
            .collect();
        assert_eq!(allow, served.join(", "), "{path}");
    }
}

#[test]
fn lists_are_arrays_several_shapes_are_one_of_and_queries_are_declared() {
    let doc = served();
    let ok = |path: &str, method: &str| {
        doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
            .clone()
    };
    for path in [
        "/admin/users",
        "/admin/audit",
        "/auth/sessions",
        "/auth/devices",
    ] {
        assert_eq!(ok(path, "get")["type"], "array", "{path}");
    }
    assert_eq!(
        ok("/admin/tokens/sessions/{user_id}", "get")["type"],
        "array"
    );
    assert_eq!(
        ok("/auth/login", "post")["oneOf"].as_array().map(Vec::len),
        Some(2)
    );
    let names = |path: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(names("/admin/users"), ["limit", "offset", "email"]);
    assert_eq!(
        names("/admin/audit"),
        ["user_id", "event", "since", "limit"]
    );
    assert_eq!(names("/ws"), ["token"]);
    // The limits the server enforces are in the document too.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["LoginRequest"]["properties"]["email"]["minLength"],
        1
    );
    assert_eq!(
        schemas["LoginRequest"]["properties"]["email"]["maxLength"],
        254
    );
    assert_eq!(
        schemas["CreateUserRequest"]["properties"]["email"]["format"],
        "email"
    );
    assert_eq!(
        schemas["VerifyTwoFactorRequest"]["properties"]["code"]["maxLength"],
        64
    );
    let revoke = schemas["RevokeTokenRequest"]["oneOf"].as_array().unwrap();
    assert_eq!(revoke.len(), 2);
    assert_eq!(revoke[0]["required"], serde_json::json!(["token"]));
    assert_eq!(revoke[1]["additionalProperties"], false);
}

#[test]
fn the_api_reference_has_a_section_for_every_route() {
    let reference = include_str!("../../docs/api.md");
    let doc = served();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let heading = format!("### {} {path}", method.to_uppercase());
            assert!(
                reference.lines().any(|l| l.trim() == heading),
                "docs/api.md has no section {heading:?}"
            );
        }
    }
}

#[test]
fn every_route_in_the_table_is_documented_and_nothing_else() {
    let doc = served();
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    let mut table = route_table();
    table.sort();
    documented.sort();
    assert!(table.len() > 25, "{table:?}");
    assert_eq!(table, documented);
    // References resolve.
    let text = doc.to_string();
    for name in text.split("#/components/schemas/").skip(1) {
        let name = name.split('"').next().unwrap();
        assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
    }
}
