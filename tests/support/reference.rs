//! The format reference in README, generated from the JSON schemas so the two
//! cannot drift apart.

use serde_json::{Map, Value};

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(super::repo_root().join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The reference as Markdown: one table per kind of table in the format.
pub fn markdown() -> String {
    let service = load("schemas/service.schema.json");
    let environment = load("schemas/environment.schema.json");
    let defs = service["$defs"].as_object().unwrap().clone();
    let mut out = String::new();
    section(
        &mut out,
        "Environment: `environments/<env>.toml`",
        &environment,
        &defs,
        "",
    );
    let service_def = &defs["service"];
    section(
        &mut out,
        "Service: `services/<name>.toml`, overlays and `[defaults]`",
        service_def,
        &defs,
        "`image` is required in the service file; nothing is required in overlays and `[defaults]`.",
    );
    for (name, def) in &defs {
        if name == "service" {
            continue;
        }
        if let Some(properties) = object_with_properties(def) {
            let title = format!("`{name}`");
            let mut node = Map::new();
            node.insert("properties".into(), Value::Object(properties.clone()));
            if let Some(r) = def.get("required") {
                node.insert("required".into(), r.clone());
            }
            let intro = def
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            section(&mut out, &title, &Value::Object(node), &defs, intro);
        } else if let Some(branches) = def.get("oneOf").and_then(Value::as_array) {
            let objects: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("properties").is_some())
                .collect();
            if objects.is_empty() {
                continue;
            }
            let intro = def
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            out.push_str(&format!("#### `{name}`\n\n{}\n\n", sentence(intro)));
            for branch in objects {
                table(&mut out, branch, &defs);
            }
        }
    }
    out.push_str("#### Value formats\n\n| format | meaning |\n|---|---|\n");
    for (name, def) in &defs {
        if object_with_properties(def).is_none()
            && def.get("oneOf").is_none_or(|_| !is_union_of_objects(def))
        {
            if let Some(d) = def.get("description").and_then(Value::as_str) {
                out.push_str(&format!("| `{name}` | {} |\n", escape(d)));
            }
        }
    }
    out
}

fn is_union_of_objects(def: &Value) -> bool {
    def["oneOf"]
        .as_array()
        .is_some_and(|b| b.iter().any(|x| x.get("properties").is_some()))
}

fn object_with_properties(def: &Value) -> Option<&Map<String, Value>> {
    (def.get("type").and_then(Value::as_str) == Some("object"))
        .then(|| def.get("properties")?.as_object())?
}

fn section(out: &mut String, title: &str, node: &Value, defs: &Map<String, Value>, intro: &str) {
    out.push_str(&format!("#### {title}\n\n"));
    if !intro.is_empty() {
        out.push_str(&sentence(intro));
        out.push_str("\n\n");
    }
    table(out, node, defs);
}

fn table(out: &mut String, node: &Value, defs: &Map<String, Value>) {
    let required: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| key | type | default | example | meaning |\n|---|---|---|---|---|\n");
    for (key, prop) in node["properties"].as_object().unwrap() {
        let ty = type_of(prop, defs);
        let default = match prop.get("default") {
            Some(d) => format!("`{}`", toml_inline(d)),
            None if required.contains(&key.as_str()) => "required".into(),
            None => "—".into(),
        };
        let example = match prop
            .get("examples")
            .and_then(|e| e.get(0))
            .or(prop.get("default"))
        {
            Some(e) => format!("`{}`", toml_inline(e)),
            None => match referenced_object(prop, defs) {
                Some(name) => format!("see `{name}`"),
                None => "—".into(),
            },
        };
        let meaning = prop
            .get("description")
            .and_then(Value::as_str)
            .or_else(|| {
                resolve(prop, defs)
                    .and_then(|d| d.get("description"))
                    .and_then(Value::as_str)
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{key}` | {ty} | {} | {} | {} |\n",
            escape(&default),
            escape(&example),
            escape(&sentence(meaning))
        ));
    }
    out.push('\n');
}

fn resolve<'a>(prop: &'a Value, defs: &'a Map<String, Value>) -> Option<&'a Value> {
    let r = prop.get("$ref")?.as_str()?;
    defs.get(r.rsplit('/').next()?)
}

fn referenced_object(prop: &Value, defs: &Map<String, Value>) -> Option<String> {
    let target = prop
        .get("items")
        .or(prop.get("additionalProperties"))
        .unwrap_or(prop);
    let r = target.get("$ref")?.as_str()?;
    let name = r.rsplit('/').next()?;
    let def = defs.get(name)?;
    (object_with_properties(def).is_some() || is_union_of_objects(def)).then(|| name.to_string())
}

fn type_of(prop: &Value, defs: &Map<String, Value>) -> String {
    if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        let def = &defs[name];
        return if object_with_properties(def).is_some() || is_union_of_objects(def) {
            format!("table (`{name}`)")
        } else {
            format!("`{name}`")
        };
    }
    if let Some(options) = prop.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = options
            .iter()
            .map(|o| format!("`{}`", toml_inline(o)))
            .collect();
        return format!("one of {}", names.join(", "));
    }
    if let Some(branches) = prop.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = branches.iter().map(|b| type_of(b, defs)).collect();
        return names.join(" or ");
    }
    match prop.get("type").and_then(Value::as_str) {
        Some("array") => format!("array of {}", plural(&type_of(&prop["items"], defs))),
        Some("object") => match prop.get("additionalProperties") {
            Some(inner) if inner.is_object() => {
                format!("table of {}", plural(&type_of(inner, defs)))
            }
            _ => "table".into(),
        },
        Some(t) => t.to_string(),
        None => match prop.get("type").and_then(Value::as_array) {
            Some(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" or "),
            None => "any".into(),
        },
    }
}

fn plural(ty: &str) -> String {
    match ty {
        "string" => "strings".into(),
        "integer" => "integers".into(),
        "boolean" => "booleans".into(),
        "table" => "tables".into(),
        other => other.to_string(),
    }
}

fn sentence(s: &str) -> String {
    let first_word = s.split_whitespace().next().unwrap_or_default();
    // `imagePullSecrets` stays as Kubernetes spells it.
    let identifier = first_word.chars().skip(1).any(char::is_uppercase);
    let mut c = s.chars();
    match c.next() {
        Some(f) if identifier => {
            let mut out: String = std::iter::once(f).chain(c).collect();
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        Some(f) => {
            let mut out: String = f.to_uppercase().chain(c).collect();
            if !out.ends_with('.') && !out.is_empty() {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "\\n")
}

/// A JSON value written as an inline TOML value.
fn toml_inline(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "\"\"".into(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(toml_inline).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => {
            if map.is_empty() {
                return "{}".into();
            }
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_inline(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap()
    }
}

/// `schema` (the text of the environment or overlay schema) with its
/// `$ref`s into the service schema made local and, as its last key, the
/// service schema's `$defs` block copied as written.
pub fn with_service_defs(schema: &str, service: &str) -> String {
    const DEFS: &str = "\n  \"$defs\": {";
    let block = &service[service.find(DEFS).expect("the service schema has $defs") + 1..];
    let block = block.trim_end().strip_suffix('}').unwrap().trim_end();
    let own = schema.replace("\"service.schema.json#", "\"#");
    let own = match own.find(DEFS) {
        Some(at) => own[..at].trim_end_matches(','),
        None => own.trim_end().strip_suffix('}').unwrap().trim_end(),
    };
    format!("{own},\n{block}\n}}\n")
}
