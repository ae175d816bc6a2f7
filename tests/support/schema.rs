//! Validation of request bodies against the published API descriptions in `tests/specs/`.
//! See `tests/specs/README.md` for how the Graph OpenAPI 3.0 fragments are read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Map, Value};

/// A compiled request-body schema.
pub struct RequestSchema {
    validator: jsonschema::Validator,
}

impl RequestSchema {
    /// Every way `body` breaks the schema, as readable lines; empty when it is valid.
    pub fn violations(&self, body: &Value) -> Vec<String> {
        self.validator.iter_errors(body).map(|e| format!("{e} (at {})", e.instance_path)).collect()
    }
}

fn discord_doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc: Value = serde_json::from_str(include_str!("../specs/discord-openapi-meetnow.json"))
            .expect("Discord OpenAPI is JSON");
        // The one place the document is stricter than Discord: request schemas type the permission bit set as
        // an integer, while Discord's docs, its response schema and every library send a decimal string, which
        // the API accepts. Accept that string too (see tests/specs/README.md).
        for request in ["ApplicationCommandCreateRequest", "ApplicationCommandUpdateRequest"] {
            let property = &mut doc["components"]["schemas"][request]["properties"]["default_member_permissions"];
            let published = property.take();
            *property = json!({"anyOf": [published, {"type": "string", "pattern": "^[0-9]{1,17}$"}]});
        }
        doc
    })
}

fn graph_doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_yaml_ng::from_str(include_str!("../specs/graph-onlinemeeting-openapi.yaml"))
            .expect("Graph OpenAPI is YAML")
    })
}

/// Microsoft's beta call-event types, with OpenAPI 3.0's two habits read as the specs' README says: an
/// `additionalProperties: {type: object}` allows any other property, and `nullable: true` allows null.
fn call_events_doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| relaxed(include_str!("../specs/graph-callevents-beta-openapi.yaml")))
}

/// A Graph OpenAPI 3.0 document, read as JSON Schema with [`relax`].
fn relaxed(yaml: &str) -> Value {
    let mut doc: Value = serde_yaml_ng::from_str(yaml).expect("Graph OpenAPI is YAML");
    relax(&mut doc);
    doc
}

fn relax(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.get("additionalProperties") == Some(&json!({"type": "object"})) {
                object.remove("additionalProperties");
            }
            for child in object.values_mut() {
                relax(child);
            }
            if object.remove("nullable") == Some(Value::Bool(true)) {
                let schema = Value::Object(std::mem::take(object));
                object.insert("anyOf".into(), json!([schema, {"type": "null"}]));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(relax),
        _ => {}
    }
}

/// A type of the beta call-events document by its reference, e.g.
/// `#/x-csdl-derived-schemas/microsoft.graph.callEvent` or `#/components/schemas/microsoft.graph.participant`.
pub fn call_events_type(reference: &str) -> Arc<RequestSchema> {
    cached(format!("call events {reference}"), || {
        assert!(call_events_doc().pointer(&reference.replacen('#', "", 1)).is_some(), "{reference} is in the document");
        compile(call_events_doc(), json!({"$ref": reference}))
    })
}

/// Microsoft's v1.0 calls types (the ringing subset), relaxed as [`call_events_doc`].
fn calls_doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| relaxed(include_str!("../specs/graph-calls-openapi.yaml")))
}

/// A type of the v1.0 calls document by its reference, e.g. `#/components/schemas/microsoft.graph.call` or
/// `#/x-csdl-derived-schemas/microsoft.graph.commsNotifications`; or a path's request body, as
/// `/communications/calls/{call-id}/participants/microsoft.graph.invite`.
pub fn calls_type(reference: &str) -> Arc<RequestSchema> {
    cached(format!("calls {reference}"), || {
        if reference.starts_with('/') {
            let schema =
                calls_doc()["paths"][reference]["post"]["requestBody"]["content"]["application/json"]["schema"].clone();
            assert!(!schema.is_null(), "no request body for {reference}");
            return compile(calls_doc(), schema);
        }
        assert!(calls_doc().pointer(&reference.replacen('#', "", 1)).is_some(), "{reference} is in the document");
        compile(calls_doc(), json!({"$ref": reference}))
    })
}

/// A subscription's body (`POST /subscriptions`, `PATCH /subscriptions/{id}`): entity and subscription merged
/// and closed, as Graph answers 400 to a property it does not know.
pub fn graph_subscription() -> Arc<RequestSchema> {
    cached("graph subscription".into(), || {
        let schemas = &call_events_doc()["components"]["schemas"];
        let mut properties = Map::new();
        for branch in [&schemas["microsoft.graph.entity"], &schemas["microsoft.graph.subscription"]["allOf"][1]] {
            properties.extend(branch["properties"].as_object().expect("schema branch has properties").clone());
        }
        compile(call_events_doc(), json!({"type": "object", "properties": properties, "additionalProperties": false}))
    })
}

/// Compiles `schema` with `doc` around it, so its `#/components/...` references resolve.
fn compile(doc: &Value, schema: Value) -> RequestSchema {
    let mut root = doc.clone();
    root["components"]["schemas"]["__meetnow_request"] = schema;
    root["$ref"] = json!("#/components/schemas/__meetnow_request");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("request schema compiles");
    RequestSchema { validator }
}

fn cached(key: String, make: impl FnOnce() -> RequestSchema) -> Arc<RequestSchema> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<RequestSchema>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap().get(&key) {
        return found.clone();
    }
    let made = Arc::new(make());
    cache.lock().unwrap().insert(key, made.clone());
    made
}

/// The JSON request body schema of a Discord route, e.g. (`/webhooks/{webhook_id}/{webhook_token}/messages/@original`, `patch`).
pub fn discord(path: &str, method: &str) -> Arc<RequestSchema> {
    cached(format!("discord {method} {path}"), || {
        let schema =
            discord_doc()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"].clone();
        assert!(!schema.is_null(), "no JSON request body for {method} {path} in the Discord OpenAPI");
        compile(discord_doc(), schema)
    })
}

/// A type of Microsoft's Graph document by name (e.g. `microsoft.graph.attendanceRecord`), closed, for checking
/// what the Graph stand-in answers with. The document is OpenAPI 3.0 in two ways JSON Schema reads otherwise:
/// its `allOf` branches (entity + the type) each say `additionalProperties`, and `nullable: true` means "or
/// null"; so the branches' properties are merged and nullable ones accept null, as with the onlineMeeting.
pub fn graph_type(name: &str) -> Arc<RequestSchema> {
    cached(format!("graph type {name}"), || {
        let declared = &graph_doc()["components"]["schemas"][name];
        assert!(declared.is_object(), "{name} is in the Graph document");
        let mut properties = Map::new();
        let branches = declared["allOf"].as_array().cloned().unwrap_or_else(|| vec![declared.clone()]);
        for branch in branches {
            let branch = match branch["$ref"].as_str() {
                Some(reference) => graph_doc().pointer(&reference.replacen('#', "", 1)).cloned().unwrap_or_default(),
                None => branch,
            };
            for (field, schema) in branch["properties"].as_object().cloned().unwrap_or_default() {
                let nullable = schema["nullable"] == true;
                let schema = if nullable { json!({"anyOf": [schema, {"type": "null"}]}) } else { schema };
                properties.insert(field, schema);
            }
        }
        compile(graph_doc(), json!({"type": "object", "properties": properties, "additionalProperties": false}))
    })
}

/// The body of `POST /users/{id}/onlineMeetings` and `PATCH .../{meetingId}`: an onlineMeeting, closed.
pub fn graph_online_meeting() -> Arc<RequestSchema> {
    cached("graph onlineMeeting".into(), || {
        let schemas = &graph_doc()["components"]["schemas"];
        let mut properties = Map::new();
        let branches = [
            &schemas["microsoft.graph.entity"],
            &schemas["microsoft.graph.onlineMeetingBase"]["allOf"][1],
            &schemas["microsoft.graph.onlineMeeting"]["allOf"][1],
        ];
        for branch in branches {
            let props = branch["properties"].as_object().expect("schema branch has properties");
            properties.extend(props.clone());
        }
        compile(graph_doc(), json!({"type": "object", "properties": properties, "additionalProperties": false}))
    })
}

/// The body of `POST /users/{id}/onlineMeetings/createOrGet`, closed to the parameters Graph accepts.
pub fn graph_create_or_get() -> Arc<RequestSchema> {
    cached("graph createOrGet".into(), || {
        let mut schema = graph_doc()["paths"]["/users/{user-id}/onlineMeetings/microsoft.graph.createOrGet"]["post"]
            ["requestBody"]["content"]["application/json"]["schema"]
            .clone();
        assert!(schema.is_object(), "createOrGet body schema present");
        schema["additionalProperties"] = json!(false);
        schema["required"] = json!(["externalId"]);
        compile(graph_doc(), schema)
    })
}
