//! Who may use the bot: the one decision every entry point asks for (a command, an **Attendance** click, a
//! new channel or thread), so that a new entry point can't forget a rule.
//!
//! Two rules, from the configuration: the server must be one the bot serves (`MEETNOW_ALLOWED_GUILD_IDS`,
//! by default `DISCORD_GUILD_ID`), and, when `MEETNOW_ALLOWED_ROLE_IDS` is set, the member must have one of
//! those roles. Channels are the exception to the second: creating one needs Manage Channels, which is
//! already more than any role list grants, so a new channel's creator is not asked for a role.

use crate::l10n::Msg;
use serenity::all::{GuildId, RoleId};

/// Who is asking, as far as the rules care.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// A member with these roles (a command, a click, a thread's creator looked up by REST).
    Member(&'a [RoleId]),
    /// Whoever created a channel (not a thread): Discord already required Manage Channels of them.
    ChannelCreator,
}

/// Why the bot won't serve a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A direct message, or an event without a server.
    NoServer,
    /// A server the bot does not serve.
    OtherServer,
    /// A member without any of the allowed roles.
    NoRole,
}

impl Refusal {
    /// A short stable name for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NoServer => "no_server",
            Self::OtherServer => "other_server",
            Self::NoRole => "no_role",
        }
    }

    /// What the person refused reads, privately, in their `lang`.
    pub fn sentence(self, lang: crate::l10n::Lang) -> String {
        lang.text(match self {
            Self::NoServer => Msg::REFUSED_NO_SERVER,
            Self::OtherServer => Msg::REFUSED_OTHER_SERVER,
            Self::NoRole => Msg::REFUSED_NO_ROLE,
        })
    }
}

/// The rules, as configured.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `None`: every server the bot is in.
    guilds: Option<Vec<GuildId>>,
    /// Empty: any member.
    roles: Vec<RoleId>,
}

impl Access {
    pub fn new(guilds: Option<&[u64]>, roles: &[u64]) -> Self {
        Self {
            guilds: guilds.map(|ids| ids.iter().copied().map(GuildId::new).collect()),
            roles: roles.iter().copied().map(RoleId::new).collect(),
        }
    }

    /// Whether the bot serves every server it is in (no `MEETNOW_ALLOWED_GUILD_IDS` or `DISCORD_GUILD_ID`).
    pub fn serves_every_server(&self) -> bool {
        self.guilds.is_none()
    }

    /// Whether only members with one of the allowed roles are served.
    pub fn needs_a_role(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Whether the server alone is served (the first half of [`Access::decide`], for events whose asker is
    /// not known yet).
    ///
    /// # Errors
    /// [`Refusal::NoServer`] or [`Refusal::OtherServer`].
    pub fn server(&self, guild: Option<GuildId>) -> Result<GuildId, Refusal> {
        let guild = guild.ok_or(Refusal::NoServer)?;
        match &self.guilds {
            Some(allowed) if !allowed.contains(&guild) => Err(Refusal::OtherServer),
            _ => Ok(guild),
        }
    }

    /// The decision: whether `asker` in `guild` is served.
    ///
    /// # Errors
    /// The [`Refusal`] to tell them, or to log.
    pub fn decide(&self, guild: Option<GuildId>, asker: Asker<'_>) -> Result<GuildId, Refusal> {
        let guild = self.server(guild)?;
        match asker {
            Asker::ChannelCreator => Ok(guild),
            Asker::Member(_) if self.roles.is_empty() => Ok(guild),
            Asker::Member(roles) if roles.iter().any(|role| self.roles.contains(role)) => Ok(guild),
            Asker::Member(_) => Err(Refusal::NoRole),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_then_roles() {
        let (ours, theirs) = (Some(GuildId::new(1)), Some(GuildId::new(2)));
        let anyone = Access::new(None, &[]);
        assert!(anyone.serves_every_server());
        assert!(anyone.decide(theirs, Asker::Member(&[])).is_ok());
        assert_eq!(anyone.decide(None, Asker::Member(&[])), Err(Refusal::NoServer));

        let one_server = Access::new(Some(&[1]), &[]);
        assert!(one_server.decide(ours, Asker::Member(&[])).is_ok());
        assert_eq!(one_server.decide(theirs, Asker::Member(&[])), Err(Refusal::OtherServer));
        assert_eq!(one_server.decide(theirs, Asker::ChannelCreator), Err(Refusal::OtherServer));

        let with_roles = Access::new(Some(&[1]), &[10]);
        assert!(with_roles.decide(ours, Asker::Member(&[RoleId::new(10)])).is_ok());
        assert_eq!(with_roles.decide(ours, Asker::Member(&[RoleId::new(11)])), Err(Refusal::NoRole));
        assert!(with_roles.decide(ours, Asker::ChannelCreator).is_ok(), "channels need Manage Channels already");
        assert_eq!(with_roles.decide(theirs, Asker::Member(&[RoleId::new(10)])), Err(Refusal::OtherServer));
    }
}
