//! A ring `/meetnow ring:` asked for, as the command hands it on: what `on::ring` needs once the command
//! itself is dropped (a few ids, the query, the person's lookup already running).

use serenity::all::{ChannelId, CommandInteraction};

use super::Languages;
use crate::graph::{GraphError, Person};
use crate::l10n::Lang;

/// A ring the command asked for, with what it needs once the command itself is gone.
pub(in crate::discord) struct RingJob {
    pub(in crate::discord) query: String,
    /// The person's lookup, started as soon as the command was acknowledged.
    pub(in crate::discord) lookup: tokio::task::JoinHandle<Result<Option<Person>, GraphError>>,
    pub(in crate::discord) channel_id: ChannelId,
    pub(in crate::discord) join_url: String,
    pub(in crate::discord) token: String,
    /// The channel's language (the line) and the invoker's (what only they read).
    pub(in crate::discord) lang: Lang,
    pub(in crate::discord) personal: Lang,
}

impl RingJob {
    pub(in crate::discord) fn new(
        command: &CommandInteraction,
        query: String,
        lookup: tokio::task::JoinHandle<Result<Option<Person>, GraphError>>,
        join_url: String,
        lang: Lang,
    ) -> Self {
        Self {
            query,
            lookup,
            channel_id: command.channel_id,
            join_url,
            token: command.token.clone(),
            lang,
            personal: Languages::personal(command),
        }
    }
}
