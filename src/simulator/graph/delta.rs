//! `GET /users/delta` and `GET /groups/delta`.
//!
//! Rounds follow docs/microsoft.md#delta-queries: an initial round lists every existing object
//! (large groups split over pages via `members@delta` slices), ends in a deltaLink; a later
//! round returns only objects changed since that link's version. Updated objects carry all
//! selected properties, or only the changed ones with `Prefer: return=minimal`; removals carry
//! `@removed`. Expired tokens answer 400 `syncStateNotFound` or 410 `resyncRequired` + Location.

use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::paging::{self, PageToken};
use super::{Ctx, GraphResult};
use crate::simulator::collection::{Collection, Entry, Kind};
use crate::simulator::generator::TenantGen;
use crate::simulator::state::{SimState, Tenant};

/// Every user property the simulator knows (all exist in the CSDL; see the schema test).
pub const USER_PROPS: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "department",
    "jobTitle",
    "accountEnabled",
    "userType",
    "businessPhones",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "createdDateTime",
];
/// Graph's documented default set for users/delta without `$select` (no `department`!).
pub const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];
pub const GROUP_PROPS: &[&str] = &[
    "id",
    "displayName",
    "description",
    "mail",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "membershipRule",
    "membershipRuleProcessingState",
    "visibility",
    "createdDateTime",
    "onPremisesSyncEnabled",
    "isAssignableToRole",
    "members",
];
const GROUP_DEFAULT: &[&str] = &[
    "displayName",
    "description",
    "mail",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "membershipRule",
    "membershipRuleProcessingState",
    "visibility",
    "createdDateTime",
];

pub fn users(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    run(st, ctx, Kind::User)
}

pub fn groups(st: &mut SimState, ctx: &Ctx) -> GraphResult {
    run(st, ctx, Kind::Group)
}

fn names(
    kind: Kind,
) -> (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
) {
    match kind {
        Kind::Group => (
            "groups",
            GROUP_PROPS,
            GROUP_DEFAULT,
            "microsoft.graph.group",
        ),
        _ => ("users", USER_PROPS, USER_DEFAULT, "microsoft.graph.user"),
    }
}

fn expired(t: &Tenant, coll: &str, select: &Option<Vec<String>>, graph_url: &str) -> GraphError {
    if t.settings.expired_delta_status == 410 {
        let mut loc = format!("{graph_url}/v1.0/{coll}/delta");
        if let Some(s) = select {
            loc.push_str(&format!("?$select={}", s.join(",")));
        }
        GraphError::new(
            410,
            "resyncRequired",
            "The delta token is no longer valid, and the app must reset the sync state.",
        )
        .header("Location", &loc)
    } else {
        GraphError::new(
            400,
            "syncStateNotFound",
            "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
        )
    }
}

fn run(st: &mut SimState, ctx: &Ctx, kind: Kind) -> GraphResult {
    let (coll, allowed, _, type_name) = names(kind);
    let Some(t) = st.tenants.get(&ctx.tenant_id) else {
        return Err(GraphError::new(
            404,
            "Request_ResourceNotFound",
            "Tenant not found.",
        ));
    };
    let q = &ctx.query;
    let now = crate::simulator::clock::now().timestamp();
    let tok = if let Some(skip) = q.get("$skiptoken") {
        let tok = paging::decode(skip)
            .filter(|k| k.t == t.id() && k.c == coll && k.m <= 1)
            .ok_or_else(|| {
                GraphError::new(
                    400,
                    "Request_BadRequest",
                    "The specified page token value has expired or is invalid.",
                )
            })?;
        if tok.e != t.delta_epoch {
            return Err(expired(t, coll, &tok.s, &ctx.graph_url));
        }
        tok
    } else if let Some(dt) = q.get("$deltatoken") {
        let select = paging::parse_select(q, allowed, type_name, "Request_BadRequest")?;
        if dt.eq_ignore_ascii_case("latest") {
            let tok = PageToken {
                t: t.id().into(),
                c: coll.into(),
                e: t.delta_epoch,
                m: 1,
                since: t.version,
                upto: t.version,
                pos: 0,
                after: None,
                moff: 0,
                s: select,
                n: t.settings.delta_page_size,
                iat: now,
                z: false,
                f: None,
            };
            return Ok(json!({
                "@odata.context": context(ctx, coll, &tok.s),
                "@odata.deltaLink": format!("{}/v1.0/{coll}/delta?$deltatoken={}", ctx.graph_url, paging::encode(&tok)),
                "value": [],
            }));
        }
        let Some(prev) = paging::decode(dt).filter(|k| k.t == t.id() && k.c == coll && k.m == 1)
        else {
            return Err(expired(t, coll, &select, &ctx.graph_url));
        };
        if prev.e != t.delta_epoch || now - prev.iat > t.settings.delta_token_max_age_secs {
            return Err(expired(t, coll, &prev.s, &ctx.graph_url));
        }
        PageToken {
            since: prev.upto,
            upto: t.version,
            pos: 0,
            after: None,
            moff: 0,
            iat: now,
            ..prev
        }
    } else {
        for bad in [
            "$top", "$orderby", "$expand", "$filter", "$count", "$search", "$skip",
        ] {
            if q.has(bad) {
                return Err(GraphError::unsupported(&format!(
                    "Unsupported query option '{bad}' for delta query (the simulator supports only $select)."
                )));
            }
        }
        let select = paging::parse_select(q, allowed, type_name, "Request_BadRequest")?;
        let n = paging::prefer_max_page_size(&ctx.prefer)
            .unwrap_or(t.settings.delta_page_size)
            .clamp(1, 999);
        PageToken {
            t: t.id().into(),
            c: coll.into(),
            e: t.delta_epoch,
            m: 0,
            since: 0,
            upto: t.version,
            pos: 0,
            after: None,
            moff: 0,
            s: select,
            n,
            iat: now,
            z: false,
            f: None,
        }
    };
    let minimal = ctx
        .prefer
        .split(',')
        .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"));
    let c = t.coll(kind);
    let (items, next) = if tok.m == 0 {
        initial_page(t, c, &tok)
    } else {
        change_page(t, c, &tok, minimal)
    };
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context(ctx, coll, &tok.s)));
    match next {
        Some(n) => {
            body.insert(
                "@odata.nextLink".into(),
                json!(format!(
                    "{}/v1.0/{coll}/delta?$skiptoken={}",
                    ctx.graph_url,
                    paging::encode(&n)
                )),
            );
        }
        None => {
            let d = PageToken {
                m: 1,
                since: tok.upto,
                upto: tok.upto,
                pos: 0,
                after: None,
                moff: 0,
                iat: now,
                z: false,
                f: None,
                ..tok
            };
            body.insert(
                "@odata.deltaLink".into(),
                json!(format!(
                    "{}/v1.0/{coll}/delta?$deltatoken={}",
                    ctx.graph_url,
                    paging::encode(&d)
                )),
            );
        }
    }
    body.insert(
        "value".into(),
        Value::Array(items.into_iter().map(Value::Object).collect()),
    );
    Ok(Value::Object(body))
}

fn context(ctx: &Ctx, coll: &str, select: &Option<Vec<String>>) -> String {
    match select {
        Some(s) => format!("{}/v1.0/$metadata#{coll}({})", ctx.graph_url, s.join(",")),
        None => format!("{}/v1.0/$metadata#{coll}", ctx.graph_url),
    }
}

fn selection(kind: Kind, s: &Option<Vec<String>>) -> Vec<String> {
    let (_, _, default, _) = names(kind);
    match s {
        Some(v) => v.clone(),
        None => default.iter().map(|p| p.to_string()).collect(),
    }
}

fn member_entry(t: &str, id: &str, removed: bool) -> Value {
    let mut m = json!({ "@odata.type": t, "id": id });
    if removed && let Value::Object(o) = &mut m {
        o.insert("@removed".into(), json!({ "reason": "deleted" }));
    }
    m
}

/// One page of an initial round: current state of every object, in position order.
fn initial_page(
    t: &Tenant,
    c: &Collection,
    tok: &PageToken,
) -> (Vec<Map<String, Value>>, Option<PageToken>) {
    let g: &TenantGen = &t.tg;
    let select = selection(c.kind, &tok.s);
    let with_members = c.kind == Kind::Group && select.iter().any(|s| s == "members");
    let per = t.settings.members_per_page.max(1);
    if t.settings.delta_empty_pages && tok.pos > 0 && !tok.z {
        return (
            Vec::new(),
            Some(PageToken {
                z: true,
                f: None,
                ..tok.clone()
            }),
        );
    }
    let mut out = Vec::new();
    if t.settings.delta_replays && tok.pos > 0 && tok.moff == 0 {
        // Graph may repeat an object within a round; clients must apply idempotently.
        if let Some((_, obj)) = c.at(g, tok.pos - 1) {
            out.push(paging::project(&obj, &select));
        }
    }
    let mut pos = tok.pos;
    let mut moff = tok.moff;
    while out.len() < tok.n {
        let Some(p) = c.next_pos(pos) else {
            pos = c.end();
            break;
        };
        pos = p;
        if pos >= c.end() {
            break;
        }
        let Some((id, obj)) = c.at(g, pos) else {
            pos += 1;
            moff = 0;
            continue;
        };
        let mut item = paging::project(&obj, &select);
        if with_members {
            let members = c.members(g, &id);
            if !members.is_empty() {
                let slice: Vec<Value> = members
                    .iter()
                    .skip(moff)
                    .take(per)
                    .map(|(ty, mid)| member_entry(ty, mid, false))
                    .collect();
                item.insert("members@delta".into(), Value::Array(slice));
                if moff + per < members.len() {
                    moff += per;
                    out.push(item);
                    continue;
                }
            }
        }
        out.push(item);
        pos += 1;
        moff = 0;
    }
    let more = c.next_pos(pos).is_some_and(|p| p < c.end());
    let next = more.then(|| PageToken {
        pos,
        moff,
        z: false,
        f: None,
        ..tok.clone()
    });
    (out, next)
}

fn relevant(e: &Entry, since: u64, select: &[String]) -> bool {
    if e.version <= since {
        return false;
    }
    if e.current.is_none() || e.full_version > since {
        return true;
    }
    let props = e
        .prop_versions
        .iter()
        .any(|(p, v)| *v > since && select.iter().any(|s| s == p));
    let members = select.iter().any(|s| s == "members")
        && e.members
            .as_ref()
            .is_some_and(|m| m.changes.values().any(|(v, _, _)| *v > since));
    props || members
}

/// One page of an incremental round: objects changed since `tok.since`, in id order.
fn change_page(
    t: &Tenant,
    c: &Collection,
    tok: &PageToken,
    minimal: bool,
) -> (Vec<Map<String, Value>>, Option<PageToken>) {
    let select = selection(c.kind, &tok.s);
    let mut out = Vec::new();
    let mut last = None;
    let range: Box<dyn Iterator<Item = (&String, &Entry)>> = match &tok.after {
        Some(a) => Box::new(c.overlay.range::<String, _>((
            std::ops::Bound::Excluded(a.clone()),
            std::ops::Bound::Unbounded,
        ))),
        None => Box::new(c.overlay.iter()),
    };
    let mut more = false;
    for (id, e) in range {
        if !relevant(e, tok.since, &select) {
            continue;
        }
        if out.len() >= tok.n {
            more = true;
            break;
        }
        last = Some(id.clone());
        let Some(cur) = &e.current else {
            out.push(json_obj(
                json!({ "id": id, "@removed": { "reason": e.removed_reason } }),
            ));
            continue;
        };
        let mut item = if minimal && e.full_version <= tok.since {
            let changed: Vec<String> = select
                .iter()
                .filter(|s| e.prop_versions.get(*s).is_some_and(|v| *v > tok.since))
                .cloned()
                .collect();
            paging::project(cur, &changed)
        } else {
            paging::project(cur, &select)
        };
        if select.iter().any(|s| s == "members") {
            let list: Vec<Value> = if e.full_version > tok.since {
                c.members(&t.tg, id)
                    .iter()
                    .map(|(ty, mid)| member_entry(ty, mid, false))
                    .collect()
            } else {
                e.members
                    .as_ref()
                    .map(|m| {
                        m.changes
                            .iter()
                            .filter(|(_, (v, _, _))| *v > tok.since)
                            .map(|(mid, (_, add, ty))| member_entry(ty, mid, !add))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            if !list.is_empty() {
                item.insert("members@delta".into(), Value::Array(list));
            }
        }
        out.push(item);
    }
    let next = more.then(|| PageToken {
        after: last,
        ..tok.clone()
    });
    (out, next)
}

fn json_obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
