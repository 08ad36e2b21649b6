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

/// Every path of the route table with its methods, in the order listed, read
/// from the source's `routes!` table (`"path": METHOD handler, ...;`).
fn route_table() -> Vec<(String, String)> {
    let src = include_str!("../routes.rs");
    let table = src.split("routes! { cfg;").nth(1).unwrap_or_default();
    let table = table.split("\n    }").next().unwrap_or_default();
    let mut out = Vec::new();
    for entry in table.split(';') {
        let entry = entry.trim().trim_start_matches('"');
        let Some((path, methods)) = entry.split_once("\":") else {
            continue;
        };
        // `{name:regex}` is documented as `{name}`.
        let path = path
            .split('/')
            .map(|s| match s.split_once(':') {
                Some((name, _)) if s.starts_with('{') => format!("{name}}}"),
                _ => s.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
        for route in methods.split(',') {
            let method = route.split_whitespace().next().unwrap_or_default();
            out.push((method.to_string(), path.clone()));
        }
    }
    out
}

/// Every path answers a method it does not serve with 405 and an `Allow`
/// naming exactly the methods the table serves it with.
#[actix_web::test]
async fn every_allow_header_names_exactly_the_methods_served() {
    use actix_web::test::{call_service, init_service, TestRequest};
    let app = init_service(actix_web::App::new().configure(crate::routes::configure)).await;
    let mut served: Vec<(String, Vec<String>)> = Vec::new();
    for (method, path) in route_table() {
        match served.iter_mut().find(|(p, _)| *p == path) {
            Some((_, methods)) => methods.push(method),
            None => served.push((path, vec![method])),
        }
    }
    assert!(served.len() > 25, "{served:?}");
    for (path, methods) in served {
        let uri: Vec<&str> = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect();
        // A method the path does not serve.
        let Some(unserved) = ["PUT", "PATCH", "DELETE", "POST", "GET"]
            .into_iter()
            .find(|m| !methods.iter().any(|s| s == m))
        else {
            continue;
        };
        let method = actix_web::http::Method::from_bytes(unserved.as_bytes()).unwrap();
        let req = TestRequest::default()
            .method(method)
            .uri(&uri.join("/"))
            .to_request();
        let resp = call_service(&app, req).await;
        assert_eq!(resp.status(), 405, "{path}");
        let allow = resp.headers().get("allow").and_then(|v| v.to_str().ok());
        assert_eq!(allow, Some(methods.join(", ").as_str()), "{path}");
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
