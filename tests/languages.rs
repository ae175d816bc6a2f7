//! In the channel's language: what the whole channel sees is in the server's language (`guild_locale`, or the
//! server's preferred locale for posts nobody typed), what one person sees privately is in theirs (`locale`),
//! `MEETNOW_LOCALE` forces the channel's, and anything meetnow does not speak is English. Through the real
//! bot and the stand-ins, for every language shipped.

use serde_json::Value;

use crate::support::bot::RunningBot;
use crate::support::discord::{Invocation, GUILD_ID};
use crate::support::graph::attendance::Attended;
use crate::support::graph::Fault;

/// What each server language must show in the announcement: (Discord locale, the dial-in field, the
/// conference id field, the Join button, the Attendance button, the status line's start).
const ANNOUNCED: [(&str, &str, &str, &str, &str, &str); 7] = [
    (
        "ru",
        "Подключиться по телефону",
        "Идентификатор конференции",
        "Присоединиться к собранию",
        "Посещаемость",
        "Новый бридж",
    ),
    ("zh-CN", "电话拨入", "电话会议 ID", "加入会议", "出席情况", "新会议桥"),
    ("es-ES", "Acceso telefónico", "Id. de conferencia", "Unirse a la reunión", "Asistencia", "Nuevo puente"),
    ("es-419", "Acceso telefónico", "Id. de conferencia", "Unirse a la reunión", "Asistencia", "Nuevo puente"),
    ("de", "Telefonische Einwahl", "Konferenz-ID", "An der Besprechung teilnehmen", "Anwesenheit", "Neue Bridge"),
    ("fr", "Accès par téléphone", "ID de conférence", "Rejoindre la réunion", "Présence", "Nouveau pont"),
    ("pt-BR", "Dial in", "Conference ID", "Join meeting", "Attendance", "New bridge"),
];

fn labels(message: &Value) -> Vec<String> {
    message["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["label"].as_str().map(str::to_owned))
        .collect()
}

fn fields(message: &Value) -> Vec<String> {
    message["embeds"][0]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_channel_sees_the_servers_language_and_each_person_their_own() {
    let bot = RunningBot::start(&[]).await;
    bot.graph.set_roles(&[crate::support::graph::ROLE, crate::support::graph::attendance::ATTENDANCE_ROLE]);
    for (n, (locale, dial_in, conference, join, attendance, status)) in ANNOUNCED.into_iter().enumerate() {
        let channel = 8_100 + n as u64;
        // Typed by someone whose own Discord is in English, in a server whose language is `locale`.
        let invocation = Invocation::in_channel(channel).locales("en-US", locale);
        let token = bot.discord.invoke(invocation.clone()).await;
        let message = bot.discord.settled(&token).await.original.expect("announced");
        let embed = &message["embeds"][0];
        assert!(embed["description"].as_str().unwrap().starts_with(status), "{locale}: {embed}");
        assert_eq!(fields(&message)[..2], [dial_in.to_owned(), conference.to_owned()], "{locale}");
        let buttons = labels(&message);
        assert_eq!((buttons[0].as_str(), buttons[2].as_str()), (join, attendance), "{locale}");
        println!("{locale}: {} | {}", embed["title"], embed["description"]);

        // The Attendance answer goes to whoever clicked, in their language: here, the server's.
        let mut clicker = Invocation::in_channel(channel).locales(locale, locale);
        clicker.user_id = 700_000_000_000_000_777;
        let click = bot.discord.click(&message, "meetnow:attendance", clicker).await;
        let answer = bot.discord.wait_for("the attendance answer", |d| d.interaction(&click).original).await;
        let title = answer["embeds"][0]["title"].as_str().unwrap().to_owned();
        let expected = match locale {
            "ru" => "Кто был на бридже",
            "zh-CN" => "谁参加了会议桥",
            "es-ES" | "es-419" => "Quién estuvo en el puente",
            "de" => "Wer in der Bridge war",
            "fr" => "Qui était sur le pont",
            _ => "Who was on the bridge",
        };
        assert_eq!(title, expected, "{locale}");
    }
    assert!(bot.discord.violations().is_empty(), "{:?}", bot.discord.violations());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn errors_and_refusals_are_in_the_persons_language_with_commands_kept_as_they_are() {
    let bot = RunningBot::start(&[("MEETNOW_ALLOWED_ROLE_IDS", "555")]).await;
    // No role: refused, in the member's language.
    let token = bot.discord.invoke(Invocation::in_channel(8_201).locales("ru", "en-US")).await;
    let refusal = bot.discord.settled(&token).await.ephemeral_text().unwrap();
    assert!(refusal.starts_with("Чтобы пользоваться meetnow здесь"), "{refusal}");

    // Teams refuses: the fix in the member's language, the PowerShell and ids exactly as typed.
    let mut member = Invocation::in_channel(8_202).locales("zh-CN", "ru");
    member.roles = vec![555];
    bot.graph.push_fault(Fault::AccessPolicy);
    let token = bot.discord.invoke(member.clone()).await;
    let error = bot.discord.settled(&token).await.ephemeral_text().unwrap();
    assert!(error.starts_with("Teams 拒绝创建会议"), "{error}");
    let client = crate::support::graph::CLIENT_ID;
    assert!(
        error.contains(&format!(
            "`New-CsApplicationAccessPolicy -Identity MeetNow -AppIds \"{client}\" -Description \"Discord /meetnow\"`"
        )),
        "{error}"
    );
    assert!(error.contains("`Import-Module MicrosoftTeams; Connect-MicrosoftTeams`"), "{error}");

    // A subject too long (a crafted request): in Spanish for a Spanish-speaking member.
    let mut long = Invocation::in_channel(8_203).locales("es-419", "en-US").subject(&"x".repeat(400));
    long.roles = vec![555];
    let token = bot.discord.invoke(long).await;
    let problem = bot.discord.settled(&token).await.ephemeral_text().unwrap();
    assert_eq!(
        problem,
        "El asunto es demasiado largo (caracteres: 400; máximo: 200). Acórtalo y vuelve a ejecutar /meetnow."
    );
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn meetnow_locale_forces_the_channels_language_and_leaves_private_answers_alone() {
    let bot = RunningBot::start(&[("MEETNOW_LOCALE", "ru")]).await;
    let token = bot.discord.invoke(Invocation::in_channel(8_301).locales("es-ES", "zh-CN")).await;
    let message = bot.discord.settled(&token).await.original.unwrap();
    assert_eq!(fields(&message)[1], "Идентификатор конференции");
    assert_eq!(message["embeds"][0]["title"], "Бридж #inc-8301", "the default subject too");
    bot.graph.set_always(Some(Fault::Unavailable));
    let token = bot.discord.invoke(Invocation::in_channel(8_302).locales("es-ES", "zh-CN").new_meeting()).await;
    let error = bot.discord.settled(&token).await.ephemeral_text().unwrap();
    assert!(error.starts_with("Microsoft Teams (Graph) no responde"), "{error}");
    bot.graph.set_always(None);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_bridge_posted_without_typing_is_in_the_servers_preferred_language() {
    let bot = RunningBot::start(&[("MEETNOW_AUTO_CHANNELS", "inc-*")]).await;
    bot.discord.set_preferred_locale(GUILD_ID, "zh-CN");
    let channel = bot.discord.create_channel("inc-8401", 0, 0).await;
    let posted = bot
        .discord
        .wait_for("the new channel's bridge", |d| d.channel_messages().into_iter().find(|m| m.channel_id == channel))
        .await
        .body;
    assert_eq!(posted["embeds"][0]["title"], "\\#inc-8401 会议桥");
    assert!(posted["embeds"][0]["description"].as_str().unwrap().starts_with("新会议桥"));
    assert_eq!(labels(&posted)[0], "加入会议");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_command_is_registered_with_its_descriptions_in_every_language_and_its_name_unchanged() {
    let bot = RunningBot::start(&[]).await;
    let (_, body) = bot.discord.registrations().pop().unwrap();
    let command = &body[0];
    assert_eq!(command["name"], "meetnow");
    assert!(command["name_localizations"].is_null() || command["name_localizations"].as_object().unwrap().is_empty());
    let descriptions = command["description_localizations"].as_object().unwrap();
    let mut locales: Vec<&str> = descriptions.keys().map(String::as_str).collect();
    locales.sort();
    assert_eq!(locales, ["de", "es-419", "es-ES", "fr", "ru", "zh-CN"]);
    assert_eq!(descriptions["ru"], "Начать или снова открыть бридж этого канала в Microsoft Teams");
    for option in command["options"].as_array().unwrap() {
        let localized = option["description_localizations"].as_object().unwrap();
        assert_eq!(localized.len(), 6, "{option}");
        assert!(localized.values().all(|d| d.as_str().unwrap().chars().count() <= 100));
    }
    assert!(bot.discord.violations().is_empty(), "{:?}", bot.discord.violations());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn attendance_roles_and_durations_are_in_the_clickers_language() {
    let bot = RunningBot::start(&[]).await;
    bot.graph.set_roles(&[crate::support::graph::ROLE, crate::support::graph::attendance::ATTENDANCE_ROLE]);
    let token = bot.discord.invoke(Invocation::in_channel(8_501)).await;
    let message = bot.discord.settled(&token).await.original.unwrap();
    let meeting = bot.graph.meeting_id_of(message["embeds"][0]["url"].as_str().unwrap()).unwrap();
    let start = time::macros::datetime!(2026-11-23 03:00 UTC);
    bot.graph.add_attendance_report(&meeting, start, &[Attended::new("Olga Okafor", "Organizer", 0, 3900)]);
    let click =
        bot.discord.click(&message, "meetnow:attendance", Invocation::in_channel(8_501).locales("ru", "en-US")).await;
    let answer = bot.discord.wait_for("the attendance answer", |d| d.interaction(&click).original).await;
    let text = answer["embeds"][0]["description"].as_str().unwrap();
    assert!(text.contains("**Звонок 1**") && text.contains("Olga Okafor (Организатор)"), "{text}");
    assert!(text.contains("1 ч 05 мин"), "{text}");
    bot.stop().await.unwrap();
}
