//! Level's JSON as it arrives (docs/levelio.md#api). Every property but `id` is optional:
//! Level omits some (`last_seen_at`) and our reading of the schema may be incomplete.

use serde::Deserialize;

/// One page of a list: `{"data": [...], "has_more": bool}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Group {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OperatingSystem {
    #[serde(default)]
    pub full_operating_system: Option<String>,
    #[serde(default)]
    pub major_version: Option<String>,
    #[serde(default)]
    pub minor_version: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Device {
    pub id: String,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub group_id: Option<String>,
    /// Tag names (the simulator's shape); objects with a `name` are read too, as our reading
    /// of the schema is unconfirmed.
    #[serde(default)]
    pub tags: Vec<serde_json::Value>,
    #[serde(default)]
    pub online: Option<bool>,
    #[serde(default)]
    pub last_seen_at: Option<String>,
    #[serde(default)]
    pub maintenance_mode: Option<bool>,
    #[serde(default)]
    pub manufacturer: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub last_logged_in_user: Option<String>,
    #[serde(default)]
    pub last_reboot_time: Option<String>,
    #[serde(default)]
    pub security_score: Option<i64>,
    #[serde(default)]
    pub operating_system: Option<OperatingSystem>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CustomField {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CustomFieldValue {
    pub id: String,
    #[serde(default)]
    pub custom_field_id: Option<String>,
    /// The organisation, a group or a device.
    #[serde(default)]
    pub assigned_to_id: Option<String>,
    /// Free text; may be blank.
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Tag {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

impl Device {
    /// Tag names, whether Level sent strings or `{name}` objects.
    pub fn tag_names(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| match t {
                serde_json::Value::String(s) => Some(s.clone()),
                other => other
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map(str::to_string),
            })
            .collect()
    }
}
