//! Text as Discord shows it: Discord's length limits, and the cleaning, escaping and truncation that keep
//! what people and Graph wrote inside them, unable to ping, link or format. Pure functions, used by the
//! announcement, the command's options and every message the handler sends.

/// Discord's limits that apply to what we send.
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const FIELD_VALUE: usize = 1024;
    pub const BUTTON_URL: usize = 512;
    pub const EMBED_URL: usize = 2048;
    /// The longest `/meetnow` subject accepted (the interface's limit, within the embed title's).
    pub const SUBJECT: usize = 200;
}

/// Text as people should see it: no control, zero-width or direction-override characters, whitespace
/// (newlines included) folded to single spaces, trimmed.
pub fn clean_text(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| if c.is_whitespace() || c.is_control() { ' ' } else { c })
        .filter(|&c| !is_invisible_format_char(c))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Zero-width, joiner and bidirectional-control characters: they can hide or reorder text.
pub fn is_invisible_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Backslash-escapes what Discord markdown could turn into formatting, a link, a mention or a timestamp.
/// `text` is one line (see [`clean_text`]), so `#`, `-` and `>` matter only at its start (heading, list, quote);
/// `:` is escaped so `https://` can't become an auto-link.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.chars().enumerate() {
        let special = matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<' | '>' | '@' | ':')
            || (i == 0 && matches!(c, '#' | '-'));
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An inline code span that can't be broken out of: backticks in the value are dropped.
pub fn code(value: &str) -> String {
    format!("`{}`", clean_text(value).replace('`', ""))
}

/// At most `max` characters, with an ellipsis when cut. Never splits a backslash escape.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    // An odd run of trailing backslashes would escape the ellipsis; drop one.
    if cut.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1 {
        cut.pop();
    }
    cut.push('…');
    cut
}

/// Joins `lines` with newlines, keeping whole lines, within `max` characters; `more(n)` says how many were
/// left out.
pub fn fit_lines(lines: &[String], max: usize, more: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    for (shown, line) in lines.iter().enumerate() {
        let more = more(lines.len() - shown);
        let needed = out.chars().count() + line.chars().count() + 1;
        let room_for_note = lines.len() - shown > 1;
        if needed > max || (room_for_note && needed + more.chars().count() + 1 > max) {
            if out.is_empty() {
                return truncate(line, max);
            }
            out.push('\n');
            out.push_str(&more);
            return out;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_never_leaves_a_dangling_escape() {
        let t = truncate(&escape_markdown(&"*".repeat(300)), 256);
        assert!(t.chars().count() <= 256 && t.ends_with('…'));
        assert!(!t.trim_end_matches('…').ends_with("\\\\*\\"));
        assert_eq!(t.trim_end_matches('…').chars().rev().take_while(|&c| c == '\\').count() % 2, 0);
    }
}
