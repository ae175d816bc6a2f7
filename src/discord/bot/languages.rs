//! Which language a reader reads: what the whole channel sees is in the server's language (`guild_locale`,
//! or for posts no interaction carries it for, the server's preferred locale, read and remembered for an
//! hour), unless `MEETNOW_LOCALE` fixes one; what one person sees privately is in their own (`locale`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serenity::all::{CommandInteraction, GuildId, Http};
use tokio::time::Instant;

use super::calls::DiscordCalls;
use crate::l10n::Lang;

/// How long a server's preferred language is remembered: admins rarely change it.
const SERVER_LANG_MEMORY: Duration = Duration::from_secs(60 * 60);

/// `MEETNOW_LOCALE`, and the servers' preferred languages as read.
#[derive(Default)]
pub struct Languages {
    /// `MEETNOW_LOCALE`: the language of everything posted in channels, whatever the server's.
    fixed: Option<Lang>,
    servers: Mutex<HashMap<u64, (Lang, Instant)>>,
}

impl Languages {
    /// Every channel post in `lang` (`Some`), or in each server's language.
    pub fn fixed(lang: Option<Lang>) -> Self {
        Self { fixed: lang, ..Self::default() }
    }

    /// The language of what only the invoker sees: their Discord client's (`locale`).
    pub fn personal(command: &CommandInteraction) -> Lang {
        Lang::or_english(Some(&command.locale))
    }

    /// The language of what the whole channel sees for `command`: `MEETNOW_LOCALE`, else the server's
    /// (`guild_locale`), else English.
    pub fn channel(&self, command: &CommandInteraction) -> Lang {
        self.channel_of(command.guild_locale.as_deref())
    }

    fn channel_of(&self, guild_locale: Option<&str>) -> Lang {
        self.fixed.unwrap_or_else(|| Lang::or_english(guild_locale))
    }

    /// The language of a post no interaction asked for (a new channel's bridge, live status):
    /// `MEETNOW_LOCALE`, else the server's preferred locale (`GET /guilds/{id}`, remembered for an hour), else
    /// English.
    pub async fn server(&self, calls: &DiscordCalls, http: &Http, guild: GuildId) -> Lang {
        if let Some(lang) = self.fixed {
            return lang;
        }
        if let Some(lang) = self.remembered(guild) {
            return lang;
        }
        let read = calls.bot_token(|| async move { http.get_guild(guild).await.map(|g| g.preferred_locale) }).await;
        let lang = match read {
            Ok(locale) => Lang::or_english(Some(&locale)),
            Err(error) => {
                tracing::debug!(%error, "could not read the server's preferred locale; posting in English");
                return Lang::ENGLISH;
            }
        };
        self.remember(guild, lang);
        lang
    }

    fn remembered(&self, guild: GuildId) -> Option<Lang> {
        let servers = self.servers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        servers.get(&guild.get()).filter(|(_, at)| at.elapsed() < SERVER_LANG_MEMORY).map(|(lang, _)| *lang)
    }

    fn remember(&self, guild: GuildId, lang: Lang) {
        let mut servers = self.servers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        servers.retain(|_, (_, at)| at.elapsed() < SERVER_LANG_MEMORY);
        servers.insert(guild.get(), (lang, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meetnow_locale_wins_over_the_servers_and_unknown_ones_are_english() {
        let each = Languages::default();
        assert_eq!(each.channel_of(Some("ru")), Lang::named("ru"));
        assert_eq!(each.channel_of(Some("pt-BR")), Lang::ENGLISH);
        assert_eq!(each.channel_of(None), Lang::ENGLISH);
        assert_eq!(Languages::fixed(Some(Lang::named("de"))).channel_of(Some("ru")), Lang::named("de"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_servers_language_is_remembered_for_an_hour() {
        let languages = Languages::default();
        let guild = GuildId::new(1);
        languages.remember(guild, Lang::named("fr"));
        assert_eq!(languages.remembered(guild), Some(Lang::named("fr")));
        tokio::time::advance(SERVER_LANG_MEMORY).await;
        assert_eq!(languages.remembered(guild), None, "read again after an hour");
    }
}
