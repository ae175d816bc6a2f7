//! What meetnow says in Discord, in the reader's language: Project Fluent messages, one file per language
//! under `locales/` (a translator edits text, not Rust), compiled into the binary.
//!
//! [`Lang`] is a language meetnow speaks (English, Russian, Simplified Chinese, Spanish, German, French), one
//! line of the table below; [`Lang::from_discord`] maps Discord's locale codes onto it (both Spanish locales,
//! `es-ES` and `es-419`, read the one Spanish file, written to suit both), and anything else falls back to
//! English. [`Msg`] names the messages. Messages are plain text with Discord markdown; arguments come
//! already cleaned and escaped, and Fluent's Unicode isolation marks are off (they are invisible characters,
//! which meetnow removes from everything it shows). The terminal (`create`, `check`, `attendance`) and the
//! logs always use [`Lang::ENGLISH`].

mod messages;

pub use messages::Msg;

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// One language: its file under `locales/`, the Discord locale codes it answers to (the first is also
/// Fluent's language tag, which picks the plural rules), and the file's text.
struct Language {
    file: &'static str,
    discord_codes: &'static [&'static str],
    source: &'static str,
}

macro_rules! languages {
    ($($file:literal => [$($code:literal),+],)+) => {
        const LANGUAGES: &[Language] = &[$(Language {
            file: $file,
            discord_codes: &[$($code),+],
            source: include_str!(concat!("../locales/", $file, ".ftl")),
        }),+];
    };
}

// Adding a language is its file under `locales/` and one line here. English first: it is the fallback.
languages! {
    "en" => ["en-US", "en-GB"],
    "ru" => ["ru"],
    "zh-CN" => ["zh-CN"],
    "es" => ["es-ES", "es-419"],
    "de" => ["de"],
    "fr" => ["fr"],
}

/// A language meetnow's messages are written in: one of the table above.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lang(usize);

impl std::fmt::Debug for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.language().file)
    }
}

/// One argument of a message.
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(n: $t) -> Self {
                Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
number_arg!(i32, i64, u64, u32, u16, usize);

/// One bundle per language, in the table's order, made on first use.
fn bundles() -> &'static [FluentBundle<FluentResource>] {
    static BUNDLES: OnceLock<Vec<FluentBundle<FluentResource>>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|language| {
                // The files are part of the crate and a test parses each; a broken one still loads what parses.
                let resource =
                    FluentResource::try_new(language.source.to_owned()).unwrap_or_else(|(partial, _)| partial);
                let tag = language.discord_codes[0].parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![tag]);
                bundle.set_use_isolating(false);
                let _ = bundle.add_resource(resource);
                bundle
            })
            .collect()
    })
}

impl Lang {
    /// English: the terminal's and the logs' language, and every other language's fallback.
    pub const ENGLISH: Lang = Lang(0);

    /// Every language, English first.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..LANGUAGES.len()).map(Lang)
    }

    /// The language for a Discord locale code (`ru`, `zh-CN`, `es-419`, …) or a file's name (`en`, `es`), if
    /// meetnow speaks it.
    pub fn from_discord(code: &str) -> Option<Self> {
        Self::all().find(|lang| {
            let language = lang.language();
            language.file == code || language.discord_codes.contains(&code)
        })
    }

    /// The language of `locales/{file}.ftl`, for tests that need one by name.
    #[cfg(test)]
    pub(crate) fn named(file: &str) -> Self {
        Self::all().find(|lang| lang.language().file == file).unwrap_or_else(|| panic!("no locales/{file}.ftl"))
    }

    /// [`Lang::from_discord`], English when absent or not spoken.
    pub fn or_english(code: Option<&str>) -> Self {
        code.and_then(Self::from_discord).unwrap_or(Self::ENGLISH)
    }

    /// The Discord locale codes this language is registered under (`name_localizations` and the like).
    pub fn discord_codes(self) -> &'static [&'static str] {
        self.language().discord_codes
    }

    fn language(self) -> &'static Language {
        // A `Lang` is only ever made from an index of the table.
        &LANGUAGES[self.0]
    }

    /// Message `id` without arguments.
    pub fn text(self, id: Msg) -> String {
        self.format(id, &[])
    }

    /// Message `id` with `args`. A message missing from this language is taken from English (a test keeps
    /// every language complete); one missing from English (a test keeps [`Msg::ALL`] and `en.ftl` the same)
    /// is its id.
    pub fn format(self, id: Msg, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(text) => fluent_args.set(*name, FluentValue::from(*text)),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        for lang in [self, Self::ENGLISH] {
            let bundle = &bundles()[lang.0];
            if let Some(pattern) = bundle.get_message(id.id()).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                if errors.is_empty() || lang == Self::ENGLISH {
                    return text.into_owned();
                }
            }
        }
        id.id().to_owned()
    }
}

#[cfg(test)]
mod tests;
