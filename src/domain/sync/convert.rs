//! Graph's answers → the model's sync inputs. Without `Prefer: return=minimal`, Graph sends
//! every selected property that has a value, so an absent property means "no value".

use crate::graph::devices::ManagedDevice;
use crate::graph::groups::{MemberChange, MemberType, MergedGroup};
use crate::graph::users::DeltaUser;
use crate::model::{DeviceRecord, Field, GroupDelta, UserDelta};

fn field<T>(v: Option<T>) -> Field<T> {
    match v {
        Some(v) => Field::Set(v),
        None => Field::Cleared,
    }
}

pub(super) fn user_delta(u: DeltaUser) -> UserDelta {
    let removed = u.is_removed();
    UserDelta {
        oid: u.id,
        removed,
        display_name: field(u.display_name),
        mail: field(u.mail),
        upn: field(u.user_principal_name),
        department: field(u.department),
        job_title: field(u.job_title),
        account_enabled: u.account_enabled.map(Field::Set).unwrap_or_default(),
        user_type: u.user_type.map(Field::Set).unwrap_or_default(),
    }
}

/// Object ids of the entries in `list` that `keep` selects.
fn member_ids(list: &[MemberChange], keep: fn(&MemberChange) -> bool) -> Vec<String> {
    list.iter()
        .filter(|m| keep(m))
        .map(|m| m.id.clone())
        .collect()
}

/// A member entry without `@odata.type` is taken for a user, as before nesting was kept.
fn maybe_user(m: &MemberChange) -> bool {
    matches!(m.member_type, None | Some(MemberType::User))
}

fn is_group(m: &MemberChange) -> bool {
    matches!(m.member_type, Some(MemberType::Group))
}

/// A removal without a type is also tried as a nested group: deleting a link that is not
/// there costs nothing, keeping one that should go would leave portal access behind.
fn maybe_group(m: &MemberChange) -> bool {
    matches!(m.member_type, None | Some(MemberType::Group))
}

pub(super) fn group_delta(g: MergedGroup) -> GroupDelta {
    let removed = g.is_removed();
    GroupDelta {
        oid: g.group.id,
        removed,
        display_name: field(g.group.display_name),
        description: field(g.group.description),
        mail_enabled: g.group.mail_enabled.map(Field::Set).unwrap_or_default(),
        members_added: member_ids(&g.members_added, maybe_user),
        members_removed: member_ids(&g.members_removed, maybe_user),
        groups_added: member_ids(&g.members_added, is_group),
        groups_removed: member_ids(&g.members_removed, maybe_group),
    }
}

pub(super) fn device_record(d: ManagedDevice) -> DeviceRecord {
    DeviceRecord {
        device_id: d.id,
        hostname: d.device_name.unwrap_or_default(),
        os: d.operating_system.unwrap_or_default(),
        os_version: d.os_version.unwrap_or_default(),
        serial_number: d.serial_number.unwrap_or_default().trim().to_string(),
        compliance_state: d
            .compliance_state
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        last_check_in: d.last_sync_date_time,
        user_oid: d
            .user_id
            .filter(|u| !u.is_empty() && u != "00000000-0000-0000-0000-000000000000"),
        model: d.model.unwrap_or_default(),
        manufacturer: d.manufacturer.unwrap_or_default(),
        is_encrypted: d.is_encrypted,
        jail_broken: d.jail_broken,
    }
}
