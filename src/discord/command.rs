//! `/meetnow`: its registration and the reading of its options. Pure; the handler does the I/O.

use serenity::all::{
    CommandInteraction, CommandOptionType, CreateCommand, CreateCommandOption, InteractionContext, Permissions,
    ResolvedValue,
};

use super::text::{clean_text, limits};

pub const NAME: &str = "meetnow";
/// The longest subject accepted.
pub const SUBJECT_MAX: usize = limits::SUBJECT;

/// Permissions the bot needs in incident channels: see them, post, embed links, pin (Manage Messages),
/// and post in threads.
pub fn bot_permissions() -> Permissions {
    Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::SEND_MESSAGES_IN_THREADS
        | Permissions::EMBED_LINKS
        | Permissions::MANAGE_MESSAGES
}

/// The command as registered with Discord: guild-only, usable by members who can send messages
/// (admins narrow it further under Server Settings → Integrations).
pub fn register() -> CreateCommand {
    CreateCommand::new(NAME)
        .description("Start or rejoin this channel's Microsoft Teams bridge")
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::String,
                "subject",
                "Meeting subject (default: #channel bridge)",
            )
            .max_length(SUBJECT_MAX as u16)
            .required(false),
        )
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::Boolean,
                "new",
                "Start a separate meeting instead of the channel's standing bridge",
            )
            .required(false),
        )
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
}

/// Why the options can't be used; the text is shown to the invoker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("The subject is {0} characters long; keep it to {SUBJECT_MAX} or fewer.")]
    SubjectTooLong(usize),
}

/// Reads the options. Discord enforces `max_length`, but a request can be crafted, so it is checked again.
///
/// # Errors
/// [`OptionsError`] with a sentence for the invoker.
pub fn options(command: &CommandInteraction) -> Result<Options, OptionsError> {
    let mut parsed = Options { subject: None, new: false };
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
            _ => {}
        }
    }
    Ok(parsed)
}
