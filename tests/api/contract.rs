//! Every response the suite receives is held against the committed OpenAPI document: the
//! operation must list the status, the content type must be one it documents, and a JSON body
//! must validate against the documented schema (JSON Schema 2020-12, as OpenAPI 3.1 uses it).
//! Objects in the document are checked closed (no field the document does not name), so a field
//! added to a response without documenting it fails too.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

struct Contract {
    doc: Value,
    /// (method, template segments, template) for every documented operation.
    operations: Vec<(String, Vec<String>, String)>,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("the committed document"))
                .expect("the document is JSON");
        let components = doc["components"]["schemas"].clone();
        close_objects(&mut doc["components"]["schemas"], &components);
        close_objects(&mut doc["paths"], &components);
        let mut operations = Vec::new();
        for (template, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                operations.push((method.to_uppercase(), segments(template), template.clone()));
            }
        }
        Contract {
            doc,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// Sets `additionalProperties: false` on every object schema that lists its properties and says
/// nothing of others. A composition (`allOf`) is closed as a whole with `unevaluatedProperties`,
/// its parts (referenced components inlined) left open, since each part names only some fields.
fn close_objects(value: &mut Value, components: &Value) {
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(|v| close_objects(v, components));
        }
        return;
    };
    if let Some(Value::Array(parts)) = map.get_mut("allOf") {
        for part in parts.iter_mut() {
            if let Some(name) = part
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                *part = components[name].clone();
            }
            close_objects(part, components);
            if let Some(part) = part.as_object_mut() {
                part.remove("additionalProperties");
            }
        }
        map.insert("unevaluatedProperties".into(), Value::Bool(false));
    } else if map.contains_key("properties") && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, v) in map.iter_mut() {
        if key != "allOf" {
            close_objects(v, components);
        }
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

/// The documented template a concrete path matches: the one with the most literal segments.
fn template_for(method: &str, path: &str) -> Option<&'static str> {
    let concrete = segments(path);
    contract()
        .operations
        .iter()
        .filter(|(m, template, _)| {
            m == method
                && template.len() == concrete.len()
                && template
                    .iter()
                    .zip(&concrete)
                    .all(|(t, c)| (t.starts_with('{') && !c.is_empty()) || t == c)
        })
        .max_by_key(|(_, template, _)| template.iter().filter(|t| !t.starts_with('{')).count())
        .map(|(_, _, template)| template.as_str())
}

fn validator(key: &str, schema: &Value) -> std::sync::Arc<jsonschema::Validator> {
    let c = contract();
    let mut cache = c.validators.lock().unwrap_or_else(|p| p.into_inner());
    cache
        .entry(key.to_owned())
        .or_insert_with(|| {
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": c.doc["components"],
                "allOf": [schema],
            });
            std::sync::Arc::new(
                jsonschema::validator_for(&root)
                    .unwrap_or_else(|e| panic!("the schema at {key} does not compile: {e}")),
            )
        })
        .clone()
}

/// Checks one exchange; the error says what the document does not cover.
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), String> {
    let Some(template) = template_for(method, path) else {
        // Not a documented operation (Swagger UI, a probe of an unknown path or method).
        return Ok(());
    };
    let operation = &contract().doc["paths"][template][method.to_lowercase()];
    let responses = &operation["responses"];
    let status_key = status.to_string();
    let response = match responses.get(&status_key).or_else(|| responses.get("default")) {
        Some(r) => r,
        None => {
            return Err(format!(
                "{method} {template} answered {status}, which its document does not list (it lists {:?})",
                responses.as_object().map(|r| r.keys().collect::<Vec<_>>())
            ))
        }
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        if body.is_empty() {
            return Ok(());
        }
        return Err(format!(
            "{method} {template} {status}: a body of {} bytes where the document describes none",
            body.len()
        ));
    };
    let media = content_type
        .map(|t| t.split(';').next().unwrap_or("").trim().to_owned())
        .unwrap_or_default();
    let Some(described) = content.get(&media) else {
        return Err(format!(
            "{method} {template} {status}: content type {media:?}, the document lists {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    if !(media == "application/json" || media.ends_with("+json")) {
        return Ok(());
    }
    let Some(schema) = described.get("schema") else {
        return Ok(());
    };
    let instance: Value = serde_json::from_slice(body)
        .map_err(|e| format!("{method} {template} {status}: the body is not JSON: {e}"))?;
    let key = format!("{method} {template} {status} {media}");
    let validator = validator(&key, schema);
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .take(5)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{method} {template} {status}: the body does not match the document:\n  {}\nbody: {}",
            errors.join("\n  "),
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        ))
    }
}

#[test]
fn the_checker_catches_what_the_document_does_not_say() {
    // An undocumented status.
    assert!(check("GET", "/api/v1/me", 418, Some("application/json"), b"{}").is_err());
    // A body with a field of the wrong kind, and one with an undocumented field.
    let problem = |extra: &str| {
        format!(
            r#"{{"type":"urn:x","title":"Not Found","status":404,"detail":"d","code":"not_found"{extra}}}"#
        )
    };
    let ok = problem("");
    assert!(check(
        "GET",
        "/api/v1/users/7",
        404,
        Some("application/problem+json"),
        ok.as_bytes()
    )
    .is_ok());
    let wrong = ok.replace(r#""status":404"#, r#""status":"404""#);
    assert!(check(
        "GET",
        "/api/v1/users/7",
        404,
        Some("application/problem+json"),
        wrong.as_bytes()
    )
    .is_err());
    let extra = problem(r#","secret":"x""#);
    assert!(check(
        "GET",
        "/api/v1/users/7",
        404,
        Some("application/problem+json"),
        extra.as_bytes()
    )
    .is_err());
    // The wrong content type.
    assert!(check(
        "GET",
        "/api/v1/users/7",
        404,
        Some("text/html"),
        ok.as_bytes()
    )
    .is_err());
    // An enum value the document does not list (the same body with a listed value passes, so the
    // refusal is the enum's).
    let me = |role: &str| {
        format!(
            r#"{{"id":1,"email":"a@b.cn","role":"{role}","disabled":false,"institution_id":null,"learner_id":null,"created_at":"2026-12-02T00:00:00Z","updated_at":"2026-12-02T00:00:00Z"}}"#
        )
    };
    assert_eq!(
        check(
            "GET",
            "/api/v1/me",
            200,
            Some("application/json"),
            me("admin").as_bytes()
        ),
        Ok(())
    );
    assert!(check(
        "GET",
        "/api/v1/me",
        200,
        Some("application/json"),
        me("Admin").as_bytes()
    )
    .is_err());
}
