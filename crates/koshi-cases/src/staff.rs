//! The administrator's management of who works in Koshi (issue 17 item 4): people's accounts
//! added with their role, unit and post (п. 15 approval authority) and disabled, system tokens
//! revoked. Each act is the administrator's, checked against the permission matrix
//! (`accounts.manage`) and recorded in the audit chain; a secret is never recorded.

use koshi_store::repo::{self, NewEvent};
use koshi_store::{Unit, instant};
use serde_json::json;

use crate::CaseError;
use crate::service::{Caller, Service};

/// An account just added, and its first password (shown once; stored only as its hash).
pub struct AddedAccount {
    pub username: String,
    pub password: String,
}

impl Service {
    fn staff_event(&self, caller: &Caller, action: &'static str, detail: serde_json::Value) -> koshi_store::Op {
        repo::insert_event(NewEvent {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: None,
            at: instant(self.now()),
            actor: caller.actor(),
            action: action.into(),
            citation: "—".into(),
            rules_version: "—".into(),
            detail: detail.to_string(),
        })
    }

    /// Adds a person's account with a random first password, returned once.
    pub async fn add_account(
        &self,
        caller: &Caller,
        username: &str,
        role: &str,
        unit: &str,
        post: &str,
    ) -> Result<AddedAccount, CaseError> {
        self.authz.allow(caller, "accounts.manage")?;
        if !self.authz.units().any(|u| u.id == unit) {
            return Err(CaseError::unprocessable(
                "unknown_unit",
                "/unit",
                format!("no unit {unit:?}"),
            ));
        }
        let password = crate::accounts::first_password();
        crate::accounts::add_user(&self.store, username, &password, role, unit, post, self.now())
            .await
            .map_err(|e| {
                let text = e.to_string();
                if text.contains("is taken") {
                    CaseError::conflict("username_taken", text)
                } else {
                    CaseError::unprocessable("invalid_account", "/", text)
                }
            })?;
        self.store
            .write(Unit::new().with(self.staff_event(
                caller,
                "account.added",
                json!({"username": username.trim(), "role": role, "unit": unit, "post": post}),
            )))
            .await?;
        Ok(AddedAccount {
            username: username.trim().to_string(),
            password,
        })
    }

    /// Disables an account: it signs in no more and its sessions end at once. An administrator
    /// does not disable their own account (another administrator does).
    pub async fn disable_account(&self, caller: &Caller, username: &str) -> Result<(), CaseError> {
        self.authz.allow(caller, "accounts.manage")?;
        let user = self
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(|| CaseError::not_found("account"))?;
        if caller.token_id == format!("user:{}", user.id) {
            return Err(CaseError::conflict(
                "own_account",
                "an administrator does not disable their own account",
            ));
        }
        if user.disabled_at.is_some() {
            return Err(CaseError::conflict(
                "already_disabled",
                "the account is already disabled",
            ));
        }
        let mut unit = Unit::new();
        unit.push(repo::disable_user(&user.id, &instant(self.now())));
        unit.push(self.staff_event(caller, "account.disabled", json!({"username": user.username})));
        self.store.write(unit).await?;
        Ok(())
    }

    /// Revokes a system token by its id (a portal party's token ends with its sign-in).
    pub async fn revoke_system_token(&self, caller: &Caller, id: &str) -> Result<(), CaseError> {
        self.authz.allow(caller, "accounts.manage")?;
        let token = self
            .store
            .token(id)
            .await?
            .filter(|k| k.party.is_none())
            .ok_or_else(|| CaseError::not_found("token"))?;
        if token.revoked_at.is_some() {
            return Err(CaseError::conflict("already_revoked", "the token is already revoked"));
        }
        let mut unit = Unit::new();
        unit.push(repo::revoke_token(&token.id, &instant(self.now())));
        unit.push(self.staff_event(
            caller,
            "token.revoked",
            json!({"token": token.id, "label": token.label, "role": token.role, "unit": token.unit}),
        ));
        self.store.write(unit).await?;
        Ok(())
    }
}
