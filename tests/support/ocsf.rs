//! A validator for OCSF events against the pinned, compiled schema in `fixtures/ocsf/`: every
//! attribute known to its class or object (profile attributes only with the profile applied), of the
//! right type, required attributes present, enum values defined with their sibling captions,
//! object constraints (`at_least_one`, `just_one`) met, and the class's ids consistent.

use serde_json::Value;

pub struct Schema(Value);

impl Schema {
    pub fn pinned() -> Schema {
        let path = super::root().join("fixtures/ocsf/detection_finding-1.8.0.schema.json");
        Schema(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
    }

    pub fn version(&self) -> &str {
        self.0["ocsf_version"].as_str().unwrap()
    }

    /// Every problem with one event, each naming the JSON path.
    pub fn validate(&self, ev: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        let profiles: Vec<String> =
            ev["metadata"]["profiles"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect()).unwrap_or_default();
        let class = &self.0["class"];
        for p in &profiles {
            if !class["profiles"].as_array().unwrap().iter().any(|x| x == p) {
                errors.push(format!("metadata.profiles: {p:?} is not a profile of this class"));
            }
        }
        self.object(&class["attributes"], &Value::Null, ev, "", &profiles, &mut errors);
        let (class_uid, cat, act, ty) = (ev["class_uid"].as_i64(), ev["category_uid"].as_i64(), ev["activity_id"].as_i64(), ev["type_uid"].as_i64());
        if class_uid != class["uid"].as_i64() {
            errors.push(format!("class_uid {class_uid:?} is not 2004"));
        }
        if cat != class["category_uid"].as_i64() {
            errors.push(format!("category_uid {cat:?} is not {}", class["category_uid"]));
        }
        if let (Some(c), Some(a), Some(t)) = (class_uid, act, ty) {
            if t != c * 100 + a {
                errors.push(format!("type_uid {t} is not class_uid × 100 + activity_id ({})", c * 100 + a));
            }
        }
        errors
    }

    fn object(&self, attrs: &Value, constraints: &Value, v: &Value, path: &str, profiles: &[String], errors: &mut Vec<String>) {
        let Some(obj) = v.as_object() else {
            errors.push(format!("{path}: expected an object, got {v}"));
            return;
        };
        let applies = |a: &Value| a["profiles"].as_array().is_none_or(|ps| ps.iter().any(|p| profiles.iter().any(|x| x == p.as_str().unwrap_or(""))));
        for (k, val) in obj {
            let at = join(path, k);
            let Some(a) = attrs.get(k) else {
                errors.push(format!("{at}: not an attribute of this class or object"));
                continue;
            };
            if !applies(a) {
                errors.push(format!("{at}: belongs to profile {} which metadata.profiles does not apply", a["profiles"]));
            }
            if a["is_array"].as_bool() == Some(true) {
                match val.as_array() {
                    Some(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.value(a, item, &format!("{at}[{i}]"), profiles, errors);
                        }
                    }
                    None => errors.push(format!("{at}: expected an array")),
                }
            } else {
                self.value(a, val, &at, profiles, errors);
            }
            // An enum id's sibling holds its caption (or, for 99 Other, the source's own label).
            if let (Some(e), Some(sib)) = (a.get("enum"), a["sibling"].as_str()) {
                if let Some(id) = val.as_i64() {
                    match (obj.get(sib).and_then(Value::as_str), e.get(id.to_string()).and_then(Value::as_str)) {
                        (None, _) if id == 99 => errors.push(format!("{at}: 99 (Other) without its label in {sib}")),
                        (Some(label), Some(caption)) if id != 99 && label != caption => {
                            errors.push(format!("{}: {label:?} is not the caption of {k} {id} ({caption:?})", join(path, sib)))
                        }
                        _ => {}
                    }
                }
            }
        }
        for (k, a) in attrs.as_object().unwrap() {
            if a["requirement"] == "required" && applies(a) && obj.get(k).is_none_or(Value::is_null) {
                errors.push(format!("{}: required attribute missing", join(path, k)));
            }
        }
        if let Some(names) = constraints["at_least_one"].as_array() {
            if !names.iter().any(|n| obj.contains_key(n.as_str().unwrap_or(""))) {
                errors.push(format!("{path}: needs at least one of {}", Value::Array(names.clone())));
            }
        }
        if let Some(names) = constraints["just_one"].as_array() {
            if names.iter().filter(|n| obj.contains_key(n.as_str().unwrap_or(""))).count() != 1 {
                errors.push(format!("{path}: needs exactly one of {}", Value::Array(names.clone())));
            }
        }
    }

    fn value(&self, a: &Value, v: &Value, path: &str, profiles: &[String], errors: &mut Vec<String>) {
        let ty = a["type"].as_str().unwrap_or("");
        let ok = match ty {
            "object_t" => {
                let name = a["object_type"].as_str().unwrap_or("");
                if name == "object" {
                    v.is_object()
                } else {
                    let o = &self.0["objects"][name];
                    assert!(o.is_object(), "schema has no object {name}");
                    self.object(&o["attributes"], &o["constraints"], v, path, profiles, errors);
                    return;
                }
            }
            "integer_t" | "long_t" | "timestamp_t" | "port_t" => v.is_i64() || v.is_u64(),
            "float_t" => v.is_number(),
            "boolean_t" => v.is_boolean(),
            "json_t" => true,
            _ => v.is_string(), // string_t and its refinements (url_t, resource_uid_t, datetime_t, …)
        };
        if !ok {
            errors.push(format!("{path}: {v} is not a {ty}"));
            return;
        }
        if let Some(e) = a.get("enum") {
            let key = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if e.get(&key).is_none() {
                errors.push(format!("{path}: {v} is not one of the enum's values"));
            }
        }
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}
