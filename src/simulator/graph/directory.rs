//! Single-user reads: `GET /users/{id | userPrincipalName}` and
//! `GET /users/{id | userPrincipalName}/transitiveMemberOf[/microsoft.graph.group]`.
//!
//! Graph behaviour followed here (Microsoft Graph docs `user-get`,
//! `user-list-transitivememberof`):
//! * the user segment is the object id or the userPrincipalName (case-insensitive);
//! * an unknown user answers 404 `Request_ResourceNotFound` "Resource '{segment}' does not exist
//!   or one of its queried reference-property objects are not present." (the wording Graph
//!   returns for directory objects, as seen in Microsoft's own issue threads);
//! * without `$select` a user comes with Graph's default property set;
//! * transitiveMemberOf lists every group the user is in, directly or through nested groups,
//!   once each; default page size 100, maximum 999; uncast items carry `@odata.type`, the
//!   context is `directoryObjects`, the `microsoft.graph.group` cast's context is `groups`.
//!
//! WHY compute memberships per request: membership lives on the groups (generated or in the
//! overlay), so a reverse lookup walks every live group. That is cheap at simulator sizes and
//! always agrees with `groups/delta` and the control API.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_json::{Map, Value, json};

use super::delta::{GROUP_PROPS, USER_DEFAULT, USER_PROPS};
use super::errors::GraphError;
use super::paging::{self, PageToken};
use super::{Ctx, GraphResult};
use crate::simulator::state::{SimState, Tenant};

const GROUP_TYPE: &str = "#microsoft.graph.group";
const CAST: &str = "microsoft.graph.group";

fn tenant<'a>(st: &'a SimState, ctx: &Ctx) -> Result<&'a Tenant, GraphError> {
    st.tenants
        .get(&ctx.tenant_id)
        .ok_or_else(|| GraphError::new(404, "Request_ResourceNotFound", "Tenant not found."))
}

/// Graph's 404 for a directory object that does not exist.
pub fn not_found(segment: &str) -> GraphError {
    GraphError::new(
        404,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{segment}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// Percent-decodes one path segment (`%23EXT%23` in a guest UPN, `%40` for `@`).
fn decode_segment(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The `{id | userPrincipalName}` segment of `/v1.0/users/{segment}/...`, decoded.
pub(crate) fn user_segment(ctx: &Ctx) -> String {
    let raw = ctx
        .path
        .split('/')
        .skip_while(|p| *p != "users")
        .nth(1)
        .unwrap_or_default();
    decode_segment(raw)
}

/// Finds a live user by object id or userPrincipalName; returns (id, object).
pub(crate) fn find_user(t: &Tenant, segment: &str) -> Option<(String, Map<String, Value>)> {
    let c = &t.users;
    for id in [segment.to_string(), segment.to_ascii_lowercase()] {
        if let Some(u) = c.get(&t.tg, &id) {
            return Some((id, u));
        }
    }
    if !segment.contains('@') {
        return None;
    }
    let mut p = 0;
    while let Some(pos) = c.next_pos(p) {
        if pos >= c.end() {
            break;
        }
        p = pos + 1;
        if let Some((id, u)) = c.at(&t.tg, pos)
            && u.get("userPrincipalName")
                .and_then(Value::as_str)
                .is_some_and(|upn| upn.eq_ignore_ascii_case(segment))
        {
            return Some((id, u));
        }
    }
    None
}

/// `GET /users/{id | userPrincipalName}`.
pub fn user(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    let segment = user_segment(ctx);
    let select = paging::parse_select(
        &ctx.query,
        USER_PROPS,
        "microsoft.graph.user",
        "Request_BadRequest",
    )?;
    let (_, u) = find_user(t, &segment).ok_or_else(|| not_found(&segment))?;
    let (props, context) = match &select {
        Some(s) => (
            s.clone(),
            format!(
                "{}/v1.0/$metadata#users({})/$entity",
                ctx.graph_url,
                s.join(",")
            ),
        ),
        None => (
            USER_DEFAULT.iter().map(|p| p.to_string()).collect(),
            format!("{}/v1.0/$metadata#users/$entity", ctx.graph_url),
        ),
    };
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context));
    body.extend(paging::project(&u, &props));
    Ok(Value::Object(body))
}

/// Ids of every live group `user_id` belongs to, directly or through nested groups, in the
/// groups collection's order.
pub fn transitive_groups(t: &Tenant, user_id: &str) -> Vec<String> {
    let c = &t.groups;
    let mut order: HashMap<String, u64> = HashMap::new();
    // child group id -> groups that contain it
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut p = 0;
    while let Some(pos) = c.next_pos(p) {
        if pos >= c.end() {
            break;
        }
        p = pos + 1;
        let Some((gid, _)) = c.at(&t.tg, pos) else {
            continue;
        };
        order.insert(gid.clone(), pos);
        for (ty, mid) in c.members(&t.tg, &gid) {
            if ty == GROUP_TYPE {
                parents.entry(mid).or_default().push(gid.clone());
            } else if mid == user_id && found.insert(gid.clone()) {
                queue.push_back(gid.clone());
            }
        }
    }
    while let Some(g) = queue.pop_front() {
        for parent in parents.get(&g).into_iter().flatten() {
            if order.contains_key(parent) && found.insert(parent.clone()) {
                queue.push_back(parent.clone());
            }
        }
    }
    let mut out: Vec<String> = found.into_iter().collect();
    out.sort_by_key(|g| order.get(g).copied().unwrap_or(u64::MAX));
    out
}

/// `GET /users/{id | userPrincipalName}/transitiveMemberOf[/microsoft.graph.group]`.
pub fn transitive_member_of(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    let t = tenant(st, ctx)?;
    let segment = user_segment(ctx);
    let cast = ctx
        .path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .is_some_and(|last| last.eq_ignore_ascii_case(CAST));
    let group_props: Vec<&str> = GROUP_PROPS
        .iter()
        .copied()
        .filter(|p| *p != "members")
        .collect();
    let (type_name, entity_set) = if cast {
        ("microsoft.graph.group", "groups")
    } else {
        ("microsoft.graph.directoryObject", "directoryObjects")
    };
    let (user_id, _) = find_user(t, &segment).ok_or_else(|| not_found(&segment))?;
    // The cursor is bound to the tenant, the user and the cast.
    let key = format!(
        "users/{user_id}/transitiveMemberOf{}",
        if cast { "/microsoft.graph.group" } else { "" }
    );
    let q = &ctx.query;
    let tok = match q.get("$skiptoken") {
        Some(s) => paging::decode(s)
            .filter(|k| k.t == t.id() && k.c == key && k.m == 2)
            .ok_or_else(|| {
                GraphError::new(
                    400,
                    "Request_BadRequest",
                    "The specified page token value has expired or is invalid.",
                )
            })?,
        None => PageToken {
            t: t.id().into(),
            c: key.clone(),
            e: 0,
            m: 2,
            since: 0,
            upto: 0,
            pos: 0,
            after: None,
            moff: 0,
            s: paging::parse_select(q, &group_props, type_name, "Request_BadRequest")?,
            n: paging::parse_top(q, 100, 999)?,
            iat: 0,
            z: false,
            f: None,
        },
    };
    let groups = transitive_groups(t, &user_id);
    let start = usize::try_from(tok.pos).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    for gid in groups.iter().skip(start).take(tok.n) {
        let Some(g) = t.groups.get(&t.tg, gid) else {
            continue;
        };
        let mut obj = Map::new();
        obj.insert("@odata.type".into(), json!(GROUP_TYPE));
        obj.extend(g);
        items.push(Value::Object(match &tok.s {
            Some(sel) => paging::project(&obj, sel),
            None => obj,
        }));
    }
    let end = start.saturating_add(tok.n);
    let mut body = Map::new();
    let sel = tok
        .s
        .as_ref()
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#{entity_set}{sel}",
            ctx.graph_url
        )),
    );
    if end < groups.len() {
        let next = PageToken {
            pos: end as u64,
            ..tok
        };
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}/v1.0/{key}?$skiptoken={}",
                ctx.graph_url,
                paging::encode(&next)
            )),
        );
    }
    body.insert("value".into(), Value::Array(items));
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::decode_segment;

    #[test]
    fn guest_upns_are_decoded_to_the_home_address() {
        assert_eq!(
            decode_segment("ann_x.com%23EXT%23%40contoso.onmicrosoft.com"),
            "ann_x.com#EXT#@contoso.onmicrosoft.com"
        );
        assert_eq!(decode_segment("50%"), "50%");
        assert_eq!(decode_segment("a%zzb"), "a%zzb");
    }
}
