//! One `/meetnow` as a member types it, and the interaction payload Discord makes of it.

use serde_json::{json, Value};

use super::{APP_ID, GUILD_ID};

/// One `/meetnow` as a member types it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub channel_name: String,
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub subject: Option<String>,
    pub new: Option<bool>,
    /// `ring:`, as picked from the suggestions (an object id) or typed.
    pub ring: Option<String>,
    /// The member's Discord client language (`locale`).
    pub locale: String,
    /// The server's language (`guild_locale`).
    pub guild_locale: String,
}

impl Invocation {
    /// `/meetnow` with no options, by an ordinary member, in channel `channel_id` named `inc-<id>`.
    pub fn in_channel(channel_id: u64) -> Self {
        Self {
            guild_id: Some(GUILD_ID),
            channel_id,
            channel_name: format!("inc-{}", channel_id % 10_000),
            user_id: 700_000_000_000_000_001,
            roles: Vec::new(),
            subject: None,
            new: None,
            ring: None,
            locale: "en-US".into(),
            guild_locale: "en-US".into(),
        }
    }

    /// Typed by a member whose Discord is in `locale`, in a server whose language is `guild_locale`.
    pub fn locales(mut self, locale: &str, guild_locale: &str) -> Self {
        self.locale = locale.to_owned();
        self.guild_locale = guild_locale.to_owned();
        self
    }

    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }

    pub fn ring(mut self, who: &str) -> Self {
        self.ring = Some(who.to_owned());
        self
    }

    /// By a member with these roles.
    pub fn roles(mut self, roles: &[u64]) -> Self {
        self.roles = roles.to_vec();
        self
    }

    pub fn new_meeting(mut self) -> Self {
        self.new = Some(true);
        self
    }

    pub(super) fn payload(&self, id: u64, token: &str) -> Value {
        let mut options = Vec::new();
        if let Some(subject) = &self.subject {
            options.push(json!({"name": "subject", "type": 3, "value": subject}));
        }
        if let Some(new) = self.new {
            options.push(json!({"name": "new", "type": 5, "value": new}));
        }
        if let Some(ring) = &self.ring {
            options.push(json!({"name": "ring", "type": 3, "value": ring}));
        }
        let user = json!({
            "id": self.user_id.to_string(), "username": "oncall", "discriminator": "0",
            "global_name": "On Call", "avatar": null, "public_flags": 0
        });
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": APP_ID.to_string(),
            "type": 2,
            "data": {"id": "1200000000000000001", "name": "meetnow", "type": 1, "options": options},
            "channel_id": self.channel_id.to_string(),
            "channel": {"id": self.channel_id.to_string(), "name": self.channel_name, "type": 0, "permissions": "2248473465835073"},
            "token": token,
            "version": 1,
            "locale": self.locale,
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
            "attachment_size_limit": 26_214_400,
        });
        match self.guild_id {
            Some(guild) => {
                payload["guild_id"] = json!(guild.to_string());
                payload["guild_locale"] = json!(self.guild_locale);
                payload["context"] = json!(0);
                payload["member"] = json!({
                    "user": user,
                    "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
                    "joined_at": "2024-01-01T00:00:00.000000+00:00",
                    "deaf": false, "mute": false, "flags": 0, "pending": false,
                    "permissions": "2248473465835073", "nick": null, "avatar": null,
                });
            }
            None => {
                payload["user"] = user;
                payload["context"] = json!(1);
            }
        }
        payload
    }
}
