//! What meetnow says in Discord, in the reader's language: Project Fluent messages, one file per language
//! under `locales/` (a translator edits text, not Rust), compiled into the binary.
//!
//! [`Lang`] is a language meetnow speaks (English, Russian, Simplified Chinese, Spanish, German, French);
//! [`Lang::from_discord`] maps Discord's locale codes onto it (both Spanish locales, `es-ES` and `es-419`, read
//! the one Spanish file, written to suit both), and anything else falls back to English. Messages are plain text with Discord markdown; arguments come already cleaned and
//! escaped, and Fluent's Unicode isolation marks are off (they are invisible characters, which meetnow
//! removes from everything it shows). The terminal (`create`, `check`, `attendance`) and the logs always use
//! [`Lang::En`].

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language meetnow's messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ru,
    ZhCn,
    Es,
    De,
    Fr,
}

/// Every language, English first.
pub const LANGS: [Lang; 6] = [Lang::En, Lang::Ru, Lang::ZhCn, Lang::Es, Lang::De, Lang::Fr];

const SOURCES: [(Lang, &str, &str); 6] = [
    (Lang::En, "en-US", include_str!("../locales/en.ftl")),
    (Lang::Ru, "ru", include_str!("../locales/ru.ftl")),
    (Lang::ZhCn, "zh-CN", include_str!("../locales/zh-CN.ftl")),
    (Lang::Es, "es", include_str!("../locales/es.ftl")),
    (Lang::De, "de", include_str!("../locales/de.ftl")),
    (Lang::Fr, "fr", include_str!("../locales/fr.ftl")),
];

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

fn bundles() -> &'static [FluentBundle<FluentResource>; 6] {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 6]> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        SOURCES.map(|(_, tag, source)| {
            // The files are part of the crate and a test parses each; a broken one still loads what parses.
            let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
            let language = tag.parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![language]);
            bundle.set_use_isolating(false);
            let _ = bundle.add_resource(resource);
            bundle
        })
    })
}

impl Lang {
    /// The language for a Discord locale code (`ru`, `zh-CN`, `es-419`, …), if meetnow speaks it.
    pub fn from_discord(code: &str) -> Option<Self> {
        match code {
            "en-US" | "en-GB" | "en" => Some(Self::En),
            "ru" => Some(Self::Ru),
            "zh-CN" => Some(Self::ZhCn),
            "es-ES" | "es-419" | "es" => Some(Self::Es),
            "de" => Some(Self::De),
            "fr" => Some(Self::Fr),
            _ => None,
        }
    }

    /// [`Lang::from_discord`], English when absent or not spoken.
    pub fn or_english(code: Option<&str>) -> Self {
        code.and_then(Self::from_discord).unwrap_or(Self::En)
    }

    /// The Discord locale codes this language is registered under (`name_localizations` and the like).
    pub fn discord_codes(self) -> &'static [&'static str] {
        match self {
            Self::En => &["en-US", "en-GB"],
            Self::Ru => &["ru"],
            Self::ZhCn => &["zh-CN"],
            Self::Es => &["es-ES", "es-419"],
            Self::De => &["de"],
            Self::Fr => &["fr"],
        }
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        let index = SOURCES.iter().position(|(lang, _, _)| *lang == self).unwrap_or(0);
        &bundles()[index]
    }

    /// Message `id` without arguments.
    pub fn text(self, id: &str) -> String {
        self.format(id, &[])
    }

    /// Message `id` with `args`. A message missing from this language is taken from English (a test keeps
    /// every language complete); one missing from English is its id.
    pub fn format(self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(text) => fluent_args.set(*name, FluentValue::from(*text)),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        for lang in [self, Self::En] {
            let bundle = lang.bundle();
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                if errors.is_empty() || lang == Self::En {
                    return text.into_owned();
                }
            }
        }
        id.to_owned()
    }

    /// Every message id of this language, for the tests.
    #[cfg(test)]
    fn message_ids(self) -> Vec<String> {
        let source = SOURCES.iter().find(|(lang, _, _)| *lang == self).map_or("", |(_, _, s)| *s);
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
        resource
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
    use std::collections::{BTreeMap, BTreeSet};

    /// Every message of a language file with the variables it uses.
    fn messages(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        fn pattern(p: &Pattern<&str>, vars: &mut BTreeSet<String>) {
            for element in &p.elements {
                if let PatternElement::Placeable { expression } = element {
                    expr(expression, vars);
                }
            }
        }
        fn expr(e: &Expression<&str>, vars: &mut BTreeSet<String>) {
            match e {
                Expression::Select { selector, variants } => {
                    inline(selector, vars);
                    for variant in variants {
                        pattern(&variant.value, vars);
                    }
                }
                Expression::Inline(i) => inline(i, vars),
            }
        }
        fn inline(i: &InlineExpression<&str>, vars: &mut BTreeSet<String>) {
            match i {
                InlineExpression::VariableReference { id } => {
                    vars.insert(id.name.to_owned());
                }
                InlineExpression::Placeable { expression } => expr(expression, vars),
                _ => {}
            }
        }
        let source = SOURCES.iter().find(|(l, _, _)| *l == lang).unwrap().2;
        let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| {
            panic!("{lang:?} does not parse: {errors:?}");
        });
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(m) => {
                    let mut vars = BTreeSet::new();
                    pattern(m.value.as_ref().expect("every message has a value"), &mut vars);
                    Some((m.id.name.to_owned(), vars))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_language_has_every_message_with_the_same_arguments() {
        let english = messages(Lang::En);
        assert!(english.len() > 80, "{}", english.len());
        for lang in LANGS {
            let translated = messages(lang);
            let missing: Vec<&String> = english.keys().filter(|id| !translated.contains_key(*id)).collect();
            let extra: Vec<&String> = translated.keys().filter(|id| !english.contains_key(*id)).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang:?}: missing {missing:?}, extra {extra:?}");
            for (id, vars) in &english {
                assert_eq!(&translated[id], vars, "{lang:?} {id}: other arguments than English");
            }
            assert_eq!(lang.message_ids().len(), english.len());
        }
    }

    #[test]
    fn plurals_follow_each_language() {
        let people = |lang: Lang, n: i64| lang.format("live-title", &[("count", n.into())]);
        assert_eq!(people(Lang::En, 1), "Call in progress: 1 person");
        assert_eq!(people(Lang::En, 3), "Call in progress: 3 people");
        assert_eq!(people(Lang::Ru, 1), "Идёт звонок: 1 участник");
        assert_eq!(people(Lang::Ru, 3), "Идёт звонок: 3 участника");
        assert_eq!(people(Lang::Ru, 5), "Идёт звонок: 5 участников");
        assert_eq!(people(Lang::Ru, 21), "Идёт звонок: 21 участник");
        assert_eq!(people(Lang::ZhCn, 2), "通话进行中：2 人");
        assert_eq!(people(Lang::Es, 1), "Llamada en curso: 1 persona");
        assert_eq!(Lang::Es.format("ended-joined", &[("count", 0.into())]), "No se unió nadie.");
        assert_eq!(people(Lang::De, 1), "Anruf läuft: 1 Person");
        assert_eq!(people(Lang::Fr, 2), "Appel en cours : 2 personnes");
    }

    #[test]
    fn discord_locales_map_onto_languages_and_the_rest_is_english() {
        assert_eq!(Lang::from_discord("es-419"), Some(Lang::Es));
        assert_eq!(Lang::from_discord("es-ES"), Some(Lang::Es));
        assert_eq!(Lang::from_discord("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_discord("zh-TW"), None);
        assert_eq!(Lang::or_english(Some("pt-BR")), Lang::En);
        assert_eq!(Lang::or_english(None), Lang::En);
        // No isolation marks around arguments: they are invisible characters.
        let text = Lang::Ru.format("join-by-id", &[("id", "250 123".into())]);
        assert_eq!(text, "Идентификатор собрания 250 123");
        assert_eq!(Lang::En.text("no-such-message"), "no-such-message");
    }
}

#[cfg(test)]
mod limits {
    use super::*;
    use crate::discord::render::text::limits;

    /// The longest value each argument takes in practice (a Discord timestamp, a GUID, a long name list, a
    /// count), so a message is measured as the longest it gets.
    fn worst(name: &str) -> Arg<'static> {
        match name {
            "count" | "length" | "max" | "seconds" | "minutes" | "hours" | "status" | "number" | "code" => {
                Arg::Number(700_213)
            }
            "names" => Arg::Text(
                "Maximiliana Alexandrovna Konstantinopolskaya-Wellington, Maximiliana Alexandrovna \
                 Konstantinopolskaya-Wellington, Maximiliana Alexandrovna Konstantinopolskaya-Wellington, and 40 more",
            ),
            "message" | "detail" | "explanation" => Arg::Text(
                "the longest message Graph or the platform sends is cut to three hundred characters before it is \
                 shown, so this stands for one: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do \
                 eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud",
            ),
            _ => Arg::Text("11111111-2222-3333-4444-555555555555-<t:1796094000:R>"),
        }
    }

    /// Where each message is shown, and Discord's limit there.
    fn limit_of(id: &str) -> usize {
        match id {
            "command-description" | "option-subject-description" | "option-new-description" => 100,
            _ if id.starts_with("button-") => 80,
            "live-title"
            | "live-title-empty"
            | "ended-title"
            | "attendance-title"
            | "default-subject"
            | "default-subject-unnamed" => limits::SUBJECT.min(limits::EMBED_TITLE),
            _ if id.starts_with("field-") => 256,
            "live-pointer" => 2048,
            _ if id.starts_with("error-") || id.starts_with("sign-in-") || id.starts_with("refused-") => {
                limits::CONTENT
            }
            _ => limits::FIELD_VALUE,
        }
    }

    #[test]
    fn every_message_fits_where_discord_shows_it_in_every_language() {
        let ids = Lang::En.message_ids();
        for lang in LANGS {
            for id in &ids {
                let names = ["count", "length", "max", "seconds", "minutes", "hours", "status", "number", "code"]
                    .into_iter()
                    .chain([
                        "names",
                        "message",
                        "detail",
                        "explanation",
                        "since",
                        "id",
                        "passcode",
                        "kind",
                        "tap",
                        "channel",
                        "time",
                        "ago",
                        "duration",
                        "start",
                        "end",
                        "client",
                        "organizer",
                        "role",
                        "host",
                        "tenant",
                        "variable",
                        "error",
                    ]);
                let args: Vec<(&str, Arg<'_>)> = names.map(|name| (name, worst(name))).collect();
                let text = lang.format(id, &args);
                let limit = limit_of(id);
                assert!(
                    text.chars().count() <= limit,
                    "{lang:?} {id}: {} characters, over {limit}",
                    text.chars().count()
                );
                assert!(!text.contains('{') && !text.contains('}'), "{lang:?} {id}: an unfilled argument: {text}");
                assert!(!text.chars().any(crate::discord::render::text::is_invisible_format_char), "{lang:?} {id}");
            }
        }
    }
}
