//! The messages: every language complete and with English's arguments, the code's ids exactly en.ftl's, plurals
//! per language, and every message within the Discord limit of where it is shown.

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
    let source = LANGUAGES[lang.0].source;
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
    let english = messages(Lang::ENGLISH);
    assert!(english.len() > 80, "{}", english.len());
    for lang in Lang::all() {
        let translated = messages(lang);
        let missing: Vec<&String> = english.keys().filter(|id| !translated.contains_key(*id)).collect();
        let extra: Vec<&String> = translated.keys().filter(|id| !english.contains_key(*id)).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{lang:?}: missing {missing:?}, extra {extra:?}");
        for (id, vars) in &english {
            assert_eq!(&translated[id], vars, "{lang:?} {id}: other arguments than English");
        }
    }
}

fn lang(file: &str) -> Lang {
    Lang::named(file)
}

#[test]
fn the_code_names_exactly_the_messages_english_has() {
    let in_file: Vec<String> = messages(Lang::ENGLISH).into_keys().collect();
    let mut in_code: Vec<String> = Msg::ALL.iter().map(|m| m.id().to_owned()).collect();
    in_code.sort();
    assert_eq!(in_code, in_file, "Msg's constants and en.ftl's messages differ");
}

#[test]
fn a_language_is_one_line_of_the_table_and_its_file() {
    let files: Vec<&str> = Lang::all().map(|lang| LANGUAGES[lang.0].file).collect();
    assert_eq!(files, ["en", "ru", "zh-CN", "es", "de", "fr"]);
    let mut on_disk: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/locales"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().trim_end_matches(".ftl").to_owned())
        .collect();
    on_disk.sort();
    let mut spoken: Vec<String> = files.iter().map(|f| (*f).to_owned()).collect();
    spoken.sort();
    assert_eq!(spoken, on_disk, "every file under locales/ is in the table, and only those");
    for lang in Lang::all() {
        assert_eq!(Lang::from_discord(&format!("{lang:?}")), Some(lang));
        for code in lang.discord_codes() {
            assert_eq!(Lang::from_discord(code), Some(lang), "{code}");
        }
    }
}

#[test]
fn plurals_follow_each_language() {
    let people = |lang: Lang, n: i64| lang.format(Msg::LIVE_TITLE, &[("count", n.into())]);
    assert_eq!(people(Lang::ENGLISH, 1), "Call in progress: 1 person");
    assert_eq!(people(Lang::ENGLISH, 3), "Call in progress: 3 people");
    assert_eq!(people(lang("ru"), 1), "Идёт звонок: 1 участник");
    assert_eq!(people(lang("ru"), 3), "Идёт звонок: 3 участника");
    assert_eq!(people(lang("ru"), 5), "Идёт звонок: 5 участников");
    assert_eq!(people(lang("ru"), 21), "Идёт звонок: 21 участник");
    assert_eq!(people(lang("zh-CN"), 2), "通话进行中：2 人");
    assert_eq!(people(lang("es"), 1), "Llamada en curso: 1 persona");
    assert_eq!(lang("es").format(Msg::ENDED_JOINED, &[("count", 0.into())]), "No se unió nadie.");
    assert_eq!(people(lang("de"), 1), "Anruf läuft: 1 Person");
    assert_eq!(people(lang("fr"), 2), "Appel en cours : 2 personnes");
}

#[test]
fn discord_locales_map_onto_languages_and_the_rest_is_english() {
    assert_eq!(Lang::from_discord("es-419"), Some(lang("es")));
    assert_eq!(Lang::from_discord("es-ES"), Some(lang("es")));
    assert_eq!(Lang::from_discord("zh-CN"), Some(lang("zh-CN")));
    assert_eq!(Lang::from_discord("zh-TW"), None);
    assert_eq!(Lang::or_english(Some("pt-BR")), Lang::ENGLISH);
    assert_eq!(Lang::or_english(None), Lang::ENGLISH);
    // No isolation marks around arguments: they are invisible characters.
    let text = lang("ru").format(Msg::JOIN_BY_ID, &[("id", "250 123".into())]);
    assert_eq!(text, "Идентификатор собрания 250 123");
}

/// Every message fits where Discord shows it.
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
        for lang in Lang::all() {
            for &id in Msg::ALL {
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
                let limit = limit_of(id.id());
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
