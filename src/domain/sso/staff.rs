//! Staff sign-in with Microsoft, after Microsoft vouched for the user: which Tenantry staff
//! account it is (by object id, by directory e-mail once, or created from the auto-create
//! group), or a refusal.

use super::{SignInRefused, SignedInVia, StaffSso};
use crate::domain::{DomainError, DomainResult, Services};
use crate::model::{Actor, Email, NewAuditEvent, Role, StaffUser};
use crate::oidc::Identity;
use crate::store::keys;

impl Services {
    /// Who is this staff member? By object id, else (once) by directory e-mail, else by the
    /// auto-create group. Anything else is refused.
    pub(super) async fn finish_staff(
        &self,
        id: Identity,
        next: String,
        ip: &str,
    ) -> DomainResult<Result<SignedInVia, SignInRefused>> {
        let who = if id.preferred_username.is_empty() {
            id.oid.clone()
        } else {
            id.preferred_username.clone()
        };
        let refuse = |message: String, code: &'static str| SignInRefused {
            message,
            code,
            portal_slug: None,
        };
        let settings = self.staff_sso().await?;
        let oid = id.oid.clone();
        let linked = self.store.read(move |r| r.staff_by_oid(&oid)).await?;
        let user = match linked {
            Some(u) => Some(u),
            None => self.link_or_create_staff(&id, &settings).await?,
        };
        let r = match user {
            Some(u) if u.disabled => refuse(
                format!("The Tenantry account of {who} is disabled. Ask an admin."),
                "account_disabled",
            ),
            Some(u) => {
                let cookie = self.start_session(u, ip, "Microsoft").await?;
                return Ok(Ok(SignedInVia::Staff { cookie, next }));
            }
            None => refuse(
                format!(
                    "{who} signed in at Microsoft, but has no Tenantry staff account. Ask an admin to add you under Settings → Users."
                ),
                "unknown_staff",
            ),
        };
        self.audit_refusal(
            None,
            ip,
            &who,
            &r,
            serde_json::json!({
                "oid": id.oid, "tid": id.tid,
            }),
        )
        .await?;
        Ok(Err(r))
    }

    async fn link_or_create_staff(
        &self,
        id: &Identity,
        settings: &StaffSso,
    ) -> DomainResult<Option<StaffUser>> {
        let want_email = settings.match_email;
        let want_group = !settings.auto_create_group_id.is_empty();
        if !want_email && !want_group {
            return Ok(None);
        }
        let graph = self.graph_client().await?;
        let dir = graph.user(&id.tid, &id.oid).await.map_err(|e| {
            DomainError::Conflict(format!(
                "Tenantry could not read your account from the MSP directory to match it to a staff account: {e}"
            ))
        })?;
        if dir.account_enabled == Some(false) {
            return Ok(None);
        }
        let candidates: Vec<String> = [dir.mail.clone(), dir.user_principal_name.clone()]
            .into_iter()
            .flatten()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        let now = self.now();
        if want_email {
            let oid = id.oid.clone();
            let c = candidates.clone();
            let linked = self
                .store
                .write(move |w| {
                    for email in &c {
                        let Some(mut u) = w.staff_by_email(email)? else {
                            continue;
                        };
                        // Already linked to another Entra user: never re-point an account.
                        if u.entra_object_id.as_deref().is_some_and(|o| o != oid) {
                            continue;
                        }
                        u.entra_object_id = Some(oid.clone());
                        w.put_staff(&u)?;
                        w.append_audit(NewAuditEvent::new(
                            now,
                            Actor::system(),
                            "staff.sso_link",
                            format!(
                                "Linked {} to Microsoft account {oid} (matched by directory e-mail)",
                                u.email
                            ),
                        ))?;
                        return Ok::<_, DomainError>(Some(u));
                    }
                    Ok(None)
                })
                .await?;
            if linked.is_some() {
                return Ok(linked);
            }
        }
        if !want_group {
            return Ok(None);
        }
        let groups = graph.user_group_ids(&id.tid, &id.oid).await.map_err(|e| {
            DomainError::Conflict(format!(
                "Tenantry could not read your group memberships from the MSP directory: {e}"
            ))
        })?;
        if !groups.contains(&settings.auto_create_group_id) {
            return Ok(None);
        }
        let Some(email) = candidates.iter().find_map(|c| Email::parse(c).ok()) else {
            return Ok(None);
        };
        let display = dir
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.to_string());
        let oid = id.oid.clone();
        let group = settings.auto_create_group_id.clone();
        let created = self
            .store
            .write(move |w| {
                if w.staff_by_email(email.as_str())?.is_some() {
                    // An account with this e-mail exists but is linked elsewhere: refuse.
                    return Ok::<_, DomainError>(None);
                }
                let user = StaffUser {
                    id: w.next_id(keys::seq::STAFF)?,
                    email: email.clone(),
                    display_name: crate::model::StaffUser::parse_display_name(&display)
                        .unwrap_or_else(|_| email.to_string()),
                    role: Role::Technician,
                    password_hash: None,
                    disabled: false,
                    entra_object_id: Some(oid.clone()),
                    created_at: now,
                    last_login_at: None,
                };
                w.put_staff(&user)?;
                w.append_audit(
                    NewAuditEvent::new(
                        now,
                        Actor::system(),
                        "staff.create",
                        format!(
                            "Created technician {} at first Microsoft sign-in (member of the auto-create group)",
                            user.email
                        ),
                    )
                    .details(serde_json::json!({ "oid": oid, "group": group })),
                )?;
                Ok(Some(user))
            })
            .await?;
        Ok(created)
    }
}
