//! The messages: every language complete and with English's arguments, the code's ids exactly en.ftl's, plurals
//! per language, and every message within the Discord limit of where it is shown. And the classes of error a
//! native reader notices at once, in every language: a count without its plural ("1 participants"), French
//! punctuation without its no-break space, an English argument nobody explained to the translator.

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
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".ftl").map(str::to_owned))
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

/// The arguments that count something, so that the words after them inflect.
const COUNTS: [&str; 6] = ["count", "seconds", "length", "max", "minutes", "hours"];

/// What may follow a count that is not in a plural select: nothing (a label form, "joined: 3"), punctuation,
/// or a unit's abbreviation, which does not inflect.
fn may_follow_a_bare_count(text: &str) -> bool {
    const UNITS: [&str; 9] = ["min", "h", "s", "Min.", "Std.", "Sek.", "мин", "ч", "с"];
    let text = text.trim_start_matches([' ', '\u{a0}', '\u{202f}']);
    let word: String = text.chars().take_while(|c| c.is_alphabetic() || *c == '.').collect();
    word.is_empty() || UNITS.contains(&word.as_str())
}

/// The plural category (`one`, `few`, …) of `n` in `lang`, by CLDR's rules.
fn category(lang: Lang, n: usize) -> &'static str {
    use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
    // The rules are per language ("zh", not "zh-CN").
    let tag: unic_langid::LanguageIdentifier = lang.discord_codes()[0].parse().unwrap();
    let tag = unic_langid::LanguageIdentifier::from_parts(tag.language, None, None, &[]);
    let rules = PluralRules::create(tag, PluralRuleType::CARDINAL).unwrap();
    match rules.select(n).unwrap() {
        PluralCategory::ZERO => "zero",
        PluralCategory::ONE => "one",
        PluralCategory::TWO => "two",
        PluralCategory::FEW => "few",
        PluralCategory::MANY => "many",
        PluralCategory::OTHER => "other",
    }
}

/// The counts every message is tried with: one of each category in every language shipped (21 is `one` in
/// Russian, 2 `few`, 5 `many`).
const TRIED: [usize; 4] = [1, 2, 5, 21];

/// How a message uses one count: the variant keys of each select on it, and what follows each place it is
/// shown outside such a select.
#[derive(Default)]
struct CountUse {
    selects: Vec<(Vec<String>, String)>,
    bare_followers: Vec<String>,
}

fn count_use(message: &fluent_syntax::ast::Message<&str>, count: &str) -> CountUse {
    fn walk(p: &Pattern<&str>, count: &str, selected: bool, found: &mut CountUse) {
        for (i, element) in p.elements.iter().enumerate() {
            let PatternElement::Placeable { expression } = element else { continue };
            match expression {
                Expression::Select { selector, variants } => {
                    let on_count = matches!(selector, InlineExpression::VariableReference { id } if id.name == count);
                    if on_count {
                        let key = |k: &fluent_syntax::ast::VariantKey<&str>| match k {
                            fluent_syntax::ast::VariantKey::Identifier { name } => (*name).to_owned(),
                            fluent_syntax::ast::VariantKey::NumberLiteral { value } => (*value).to_owned(),
                        };
                        let keys = variants.iter().map(|v| key(&v.key)).collect();
                        let default = variants.iter().find(|v| v.default).map(|v| key(&v.key)).unwrap_or_default();
                        found.selects.push((keys, default));
                    }
                    for variant in variants {
                        walk(&variant.value, count, selected || on_count, found);
                    }
                }
                Expression::Inline(InlineExpression::VariableReference { id }) if id.name == count && !selected => {
                    let next = match p.elements.get(i + 1) {
                        Some(PatternElement::TextElement { value }) => (*value).to_owned(),
                        Some(_) => "{".to_owned(),
                        None => String::new(),
                    };
                    found.bare_followers.push(next);
                }
                Expression::Inline(_) => {}
            }
        }
    }
    let mut found = CountUse::default();
    if let Some(value) = &message.value {
        walk(value, count, false, &mut found);
    }
    found
}

fn entries(lang: Lang) -> Vec<fluent_syntax::ast::Message<&'static str>> {
    let resource = fluent_syntax::parser::parse(LANGUAGES[lang.0].source).unwrap_or_else(|(_, e)| panic!("{e:?}"));
    resource.body.into_iter().filter_map(|entry| if let Entry::Message(m) = entry { Some(m) } else { None }).collect()
}

#[test]
fn every_count_has_a_plural_select_or_a_label_form_in_every_language() {
    for lang in Lang::all() {
        let categories: BTreeSet<&str> = TRIED.iter().map(|&n| category(lang, n)).collect();
        for message in entries(lang) {
            for count in COUNTS {
                let uses = count_use(&message, count);
                for (keys, default) in &uses.selects {
                    for needed in &categories {
                        assert!(
                            keys.iter().any(|k| k == needed) || default == needed,
                            "{lang:?} {}: the select on ${count} has no [{needed}] variant (has {keys:?}); {} would \
                             get the default's form",
                            message.id.name,
                            TRIED.iter().find(|&&n| category(lang, n) == *needed).unwrap()
                        );
                    }
                }
                // A language with one form for every number (Chinese) needs no select.
                if categories.len() > 1 {
                    for follower in &uses.bare_followers {
                        assert!(
                            may_follow_a_bare_count(follower),
                            "{lang:?} {}: \"{{ ${count} }}{follower}\" is a count followed by a word that does not \
                             change with it: put it in a plural select, or use a label form (\"joined: {{ ${count} }}\")",
                            message.id.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn no_count_renders_the_form_of_another_number() {
    for lang in Lang::all() {
        for message in entries(lang) {
            let id = message.id.name;
            let Some(msg) = Msg::ALL.iter().find(|m| m.id() == id) else { continue };
            for count in COUNTS.into_iter().filter(|count| !count_use(&message, count).selects.is_empty()) {
                // The same form for every number of one category (1 and 21 in Russian), the number in it.
                let mut by_category: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
                for n in TRIED {
                    let others = COUNTS.into_iter().filter(|c| *c != count).map(|c| (c, Arg::Number(7)));
                    let args: Vec<(&str, Arg<'_>)> =
                        others.chain([(count, Arg::Number(n as i64))]).chain(texts()).collect();
                    let text = lang.format(*msg, &args);
                    assert!(text.contains(&n.to_string()), "{lang:?} {id} for {n}: the number is not shown: {text}");
                    by_category.entry(category(lang, n)).or_default().insert(text.replace(&n.to_string(), "N"));
                }
                for (category, forms) in by_category {
                    assert_eq!(forms.len(), 1, "{lang:?} {id}: the {category} numbers read differently: {forms:?}");
                }
            }
        }
    }
}

/// Every argument that is not a count.
const TEXTS: [&str; 28] = [
    "name",
    "query",
    "waited",
    "names",
    "since",
    "time",
    "ago",
    "duration",
    "start",
    "end",
    "number",
    "kind",
    "tap",
    "id",
    "passcode",
    "channel",
    "client",
    "organizer",
    "role",
    "host",
    "tenant",
    "variable",
    "error",
    "message",
    "detail",
    "explanation",
    "status",
    "code",
];

/// Every argument that is not a count, as a word that appears in no message.
fn texts() -> impl Iterator<Item = (&'static str, Arg<'static>)> {
    TEXTS.into_iter().map(|name| (name, Arg::Text("Q")))
}

#[test]
fn french_has_a_no_break_space_before_two_part_punctuation_and_inside_guillemets() {
    let french = lang("fr");
    // Every variant of every select: each count in turn.
    let renderings = Msg::ALL.iter().flat_map(|&id| {
        TRIED.into_iter().map(move |n| {
            let names = COUNTS.into_iter().map(|c| (c, Arg::Number(n as i64))).chain(texts());
            let args: Vec<(&str, Arg<'_>)> = names.collect();
            (id, french.format(id, &args))
        })
    });
    for (id, text) in renderings {
        // Commands and code keep their own punctuation.
        for (n, part) in text.split('`').enumerate().filter(|(n, _)| n % 2 == 0) {
            let chars: Vec<char> = part.chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                let punctuation = matches!(c, ':' | ';' | '!' | '?')
                    && chars.get(i + 1).is_none_or(|next| next.is_whitespace() || *next == '*');
                let before = i.checked_sub(1).map(|j| chars[j]);
                if punctuation {
                    assert!(
                        matches!(before, Some('\u{a0}' | '\u{202f}')),
                        "fr {id} (part {n}): no no-break space before '{c}': {part}"
                    );
                }
                if c == '«' {
                    assert_eq!(chars.get(i + 1), Some(&'\u{a0}'), "fr {id}: no no-break space after «: {part}");
                }
                if c == '»' {
                    assert_eq!(before, Some('\u{a0}'), "fr {id}: no no-break space before »: {part}");
                }
            }
        }
    }
}

#[test]
fn english_tells_the_translator_what_every_argument_is() {
    for message in entries(Lang::ENGLISH) {
        let vars = messages(Lang::ENGLISH).remove(message.id.name).unwrap_or_default();
        let comment = message.comment.as_ref().map(|c| c.content.join(" ")).unwrap_or_default();
        for var in vars {
            assert!(
                comment.contains(&format!("${var}")),
                "en {}: ${var} is not explained in the comment above the message",
                message.id.name
            );
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
    assert_eq!(people(lang("fr"), 2), "Appel en cours\u{a0}: 2 personnes");
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
            "command-description"
            | "option-subject-description"
            | "option-new-description"
            | "option-ring-description" => 100,
            "ring-ringing" | "ring-joined" | "ring-declined" | "ring-no-answer" | "ring-unreachable"
            | "ring-failed" => limits::EMBED_TITLE,
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
                let names = COUNTS.into_iter().chain(TEXTS);
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
