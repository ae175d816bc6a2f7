//! `/meetnow`: its registration and the reading of its options. Pure; the handler does the I/O.

use serenity::all::{
    CommandInteraction, CommandOptionType, CreateCommand, CreateCommandOption, InteractionContext, Permissions,
    ResolvedValue,
};

use super::render::text::{clean_text, limits, truncate};
use crate::l10n::{Lang, Msg};

pub const NAME: &str = "meetnow";
/// The longest subject accepted.
pub const SUBJECT_MAX: usize = limits::SUBJECT;
/// The longest `ring:` accepted: an object id, or an e-mail address or user principal name (at most 113
/// characters in Entra), with room to spare.
pub const RING_MAX: usize = 256;

/// Discord's Pin Messages permission (`PIN_MESSAGES`, 1 << 51), split from Manage Messages; serenity 0.12.5
/// predates it.
pub const PIN_MESSAGES: Permissions = Permissions::from_bits_retain(1 << 51);

/// Permissions the bot needs in incident channels: see them, read their history (the pins and the recent
/// messages live status reads), post, embed links, pin (Pin Messages; Manage Messages, which granted it
/// before the split, for servers whose roles predate it), and post in threads.
pub fn bot_permissions() -> Permissions {
    Permissions::VIEW_CHANNEL
        | Permissions::READ_MESSAGE_HISTORY
        | Permissions::SEND_MESSAGES
        | Permissions::SEND_MESSAGES_IN_THREADS
        | Permissions::EMBED_LINKS
        | Permissions::MANAGE_MESSAGES
        | PIN_MESSAGES
}

/// Discord's limit on command and option descriptions.
const DESCRIPTION_MAX: usize = 100;

/// Message `id` in every language but English, as (Discord locale, text): the description localizations.
fn translations(id: Msg) -> Vec<(&'static str, String)> {
    Lang::all()
        .filter(|&lang| lang != Lang::ENGLISH)
        .flat_map(|lang| {
            let text = truncate(&lang.text(id), DESCRIPTION_MAX);
            lang.discord_codes().iter().map(move |&code| (code, text.clone()))
        })
        .collect()
}

/// The command as registered with Discord: guild-only, usable by members who can send messages
/// (admins narrow it further under Server Settings → Integrations). Its name and its options' names stay
/// `meetnow`, `subject`, `new` and `ring` everywhere; their descriptions are in every language meetnow
/// speaks, so each member's command picker shows their own. `ring` (autocompleted from the directory) is
/// there only when ringing is on.
pub fn register(ring: bool) -> CreateCommand {
    let mut subject = CreateCommandOption::new(
        CommandOptionType::String,
        "subject",
        Lang::ENGLISH.text(Msg::OPTION_SUBJECT_DESCRIPTION),
    )
    .max_length(SUBJECT_MAX as u16)
    .required(false);
    for (code, text) in translations(Msg::OPTION_SUBJECT_DESCRIPTION) {
        subject = subject.description_localized(code, text);
    }
    let mut new =
        CreateCommandOption::new(CommandOptionType::Boolean, "new", Lang::ENGLISH.text(Msg::OPTION_NEW_DESCRIPTION))
            .required(false);
    for (code, text) in translations(Msg::OPTION_NEW_DESCRIPTION) {
        new = new.description_localized(code, text);
    }
    let mut command = CreateCommand::new(NAME).description(Lang::ENGLISH.text(Msg::COMMAND_DESCRIPTION));
    for (code, text) in translations(Msg::COMMAND_DESCRIPTION) {
        command = command.description_localized(code, text);
    }
    command = command.add_option(subject).add_option(new);
    if ring {
        let mut option = CreateCommandOption::new(
            CommandOptionType::String,
            "ring",
            Lang::ENGLISH.text(Msg::OPTION_RING_DESCRIPTION),
        )
        .max_length(RING_MAX as u16)
        .set_autocomplete(true)
        .required(false);
        for (code, text) in translations(Msg::OPTION_RING_DESCRIPTION) {
            option = option.description_localized(code, text);
        }
        command = command.add_option(option);
    }
    command
        // Permissions::empty() would serialize as "0": administrators only.
        .default_member_permissions(Permissions::SEND_MESSAGES)
        .contexts(vec![InteractionContext::Guild])
}

/// What the invoker asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Cleaned of control and invisible characters; `None` when absent or blank.
    pub subject: Option<String>,
    pub new: bool,
    /// Who to ring: an object id from the suggestions, or a typed e-mail address or user principal name.
    /// Cleaned; `None` when absent or blank.
    pub ring: Option<String>,
}

/// Why the options can't be used; the text is shown to the invoker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("The subject is too long (characters: {0}, at most: {SUBJECT_MAX}). Shorten it and run /meetnow again.")]
    SubjectTooLong(usize),
    /// A `ring:` too long to be anyone (Discord enforces the length; a crafted request may not).
    #[error("Nobody in the directory matches the ring: value.")]
    RingNotAPerson(String),
}

impl OptionsError {
    /// What the invoker reads, in their `lang`.
    pub fn sentence(&self, lang: crate::l10n::Lang) -> String {
        match self {
            Self::SubjectTooLong(length) => {
                lang.format(Msg::SUBJECT_TOO_LONG, &[("length", (*length).into()), ("max", SUBJECT_MAX.into())])
            }
            Self::RingNotAPerson(query) => lang.format(Msg::RING_NOT_FOUND, &[("query", query.as_str().into())]),
        }
    }
}

/// Reads the options. Discord enforces `max_length`, but a request can be crafted, so it is checked again.
///
/// # Errors
/// [`OptionsError`] with a sentence for the invoker.
pub fn options(command: &CommandInteraction) -> Result<Options, OptionsError> {
    let mut parsed = Options { subject: None, new: false, ring: None };
    for option in command.data.options() {
        match (option.name, option.value) {
            ("subject", ResolvedValue::String(text)) => {
                let cleaned = clean_text(text);
                let length = cleaned.chars().count();
                if length > SUBJECT_MAX {
                    return Err(OptionsError::SubjectTooLong(length));
                }
                parsed.subject = (!cleaned.is_empty()).then_some(cleaned);
            }
            ("new", ResolvedValue::Boolean(new)) => parsed.new = new,
            ("ring", ResolvedValue::String(text)) => {
                let cleaned = clean_text(text);
                if cleaned.chars().count() > RING_MAX {
                    return Err(OptionsError::RingNotAPerson(inert_query(&cleaned)));
                }
                parsed.ring = (!cleaned.is_empty()).then_some(cleaned);
            }
            _ => {}
        }
    }
    Ok(parsed)
}

/// What was typed in `ring:`, made safe to show: cut short, code-quoted (no mention or markdown survives).
pub fn inert_query(query: &str) -> String {
    super::render::text::code(&truncate(query, 80))
}
