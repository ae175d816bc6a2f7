//! What Discord refuses in a message (50035) and whom a message would ping, given its `allowed_mentions`.

use serde_json::Value;

/// Discord's message limits, as 50035 would report them.
pub fn limit_violations(message: &Value) -> Vec<String> {
    fn chars(v: &Value) -> usize {
        v.as_str().map_or(0, |s| s.chars().count())
    }
    fn check(problems: &mut Vec<String>, what: String, value: &Value, max: usize) {
        if chars(value) > max {
            problems.push(format!("{what} is {} characters, over {max}", chars(value)));
        }
    }
    let mut problems = Vec::new();
    check(&mut problems, "content".into(), &message["content"], 2000);
    let embeds = message["embeds"].as_array().cloned().unwrap_or_default();
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        check(&mut problems, format!("embeds[{i}].title"), &embed["title"], 256);
        check(&mut problems, format!("embeds[{i}].description"), &embed["description"], 4096);
        check(&mut problems, format!("embeds[{i}].footer.text"), &embed["footer"]["text"], 2048);
        check(&mut problems, format!("embeds[{i}].author.name"), &embed["author"]["name"], 256);
        check(&mut problems, format!("embeds[{i}].url"), &embed["url"], 2048);
        if let Some(url) = embed["url"].as_str() {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                problems.push(format!("embeds[{i}].url is not an http(s) URL"));
            }
        }
        total += chars(&embed["title"])
            + chars(&embed["description"])
            + chars(&embed["footer"]["text"])
            + chars(&embed["author"]["name"]);
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > 25 {
            problems.push(format!("embeds[{i}] has {} fields, over 25", fields.len()));
        }
        for (j, field) in fields.iter().enumerate() {
            check(&mut problems, format!("embeds[{i}].fields[{j}].name"), &field["name"], 256);
            check(&mut problems, format!("embeds[{i}].fields[{j}].value"), &field["value"], 1024);
            if chars(&field["name"]) == 0 || chars(&field["value"]) == 0 {
                problems.push(format!("embeds[{i}].fields[{j}] has an empty name or value"));
            }
            total += chars(&field["name"]) + chars(&field["value"]);
        }
    }
    if embeds.len() > 10 {
        problems.push(format!("{} embeds, over 10", embeds.len()));
    }
    if total > 6000 {
        problems.push(format!("embeds total {total} characters, over 6000"));
    }
    for (r, row) in message["components"].as_array().cloned().unwrap_or_default().iter().enumerate() {
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        if buttons.len() > 5 {
            problems.push(format!("components[{r}] has {} buttons, over 5", buttons.len()));
        }
        for (b, button) in buttons.iter().enumerate() {
            check(&mut problems, format!("components[{r}][{b}].label"), &button["label"], 80);
            check(&mut problems, format!("components[{r}][{b}].url"), &button["url"], 512);
        }
    }
    problems
}

/// The mentions in `content` that would notify someone, given `allowed_mentions` (absent: Discord's defaults).
pub fn would_ping(message: &Value) -> Vec<String> {
    let content = message["content"].as_str().unwrap_or_default();
    let allowed = &message["allowed_mentions"];
    let parse: Vec<&str> = match allowed["parse"].as_array() {
        Some(list) => list.iter().filter_map(Value::as_str).collect(),
        None if allowed.is_object() => Vec::new(),
        None => vec!["users", "roles", "everyone"],
    };
    let listed =
        |kind: &str, id: &str| allowed[kind].as_array().is_some_and(|l| l.iter().any(|v| v.as_str() == Some(id)));
    let mut pings = Vec::new();
    for everyone in ["@everyone", "@here"] {
        if content.contains(everyone) && parse.contains(&"everyone") {
            pings.push(everyone.to_owned());
        }
    }
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('>') else { break };
        let inner = &rest[..end];
        let (kind, id) = match inner.strip_prefix('&') {
            Some(role) => ("roles", role),
            None => ("users", inner.trim_start_matches('!')),
        };
        if id.chars().all(|c| c.is_ascii_digit()) && (parse.contains(&kind) || listed(kind, id)) {
            pings.push(format!("<@{inner}>"));
        }
    }
    pings
}
