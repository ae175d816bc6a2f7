//! What the directory said lately, so `ring:`'s autocomplete answers within Discord's three seconds even
//! when Graph is slow: the people of recent searches, for the same words or the words they start with
//! ("ad" knows what "a" found). A search that outlives the answer goes on in the background and is
//! remembered for the next keystroke. Bounded: [`REMEMBERED`] searches, each of at most 25 people, kept
//! [`FRESH`]; at most [`SEARCHES_IN_BACKGROUND`] at once.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::graph::{Person, MAX_SUGGESTIONS};

/// Searches remembered.
pub const REMEMBERED: usize = 256;
/// How long a search's answer is used.
pub const FRESH: Duration = Duration::from_secs(10 * 60);
/// Searches still running after their answer, at most.
pub const SEARCHES_IN_BACKGROUND: usize = 16;

struct Search {
    words: String,
    at: Instant,
    people: Arc<Vec<Person>>,
}

#[derive(Default)]
pub struct Directory {
    recent: Mutex<VecDeque<Search>>,
    running: Mutex<HashSet<String>>,
}

/// The words of a query as they are compared: lower case, single spaces.
pub fn words_of(query: &str) -> String {
    query.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// Whether every word of `words` starts a word of the person's name, mail or sign-in name, as Graph's
/// `$search` matches.
fn matches(person: &Person, words: &str) -> bool {
    let theirs: Vec<String> =
        [Some(person.display_name.as_str()), person.mail.as_deref(), person.user_principal_name.as_deref()]
            .into_iter()
            .flatten()
            .flat_map(|text| {
                text.split(|c: char| c.is_whitespace() || matches!(c, '.' | '@' | '-' | '_'))
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
            })
            .collect();
    let full: Vec<String> = [person.mail.as_deref(), person.user_principal_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::to_lowercase)
        .collect();
    words.split(' ').all(|word| theirs.iter().any(|t| t.starts_with(word)) || full.iter().any(|t| t.starts_with(word)))
}

impl Directory {
    /// Remembers what a search for `words` found.
    pub fn remember(&self, words: &str, people: Vec<Person>) {
        let Ok(mut recent) = self.recent.lock() else { return };
        recent.retain(|search| search.words != words);
        if recent.len() >= REMEMBERED {
            recent.pop_front();
        }
        recent.push_back(Search { words: words.to_owned(), at: Instant::now(), people: Arc::new(people) });
    }

    /// The people known to match `words`: a fresh search for them, else those of fresh searches for the
    /// words they start with that match them.
    pub fn known(&self, words: &str) -> Vec<Person> {
        let Ok(recent) = self.recent.lock() else { return Vec::new() };
        let fresh = || recent.iter().rev().filter(|search| search.at.elapsed() < FRESH);
        if let Some(exact) = fresh().find(|search| search.words == words) {
            return exact.people.as_ref().clone();
        }
        let mut found: Vec<Person> = Vec::new();
        for search in fresh().filter(|search| !search.words.is_empty() && words.starts_with(&search.words)) {
            for person in search.people.iter().filter(|p| matches(p, words)) {
                if found.len() < MAX_SUGGESTIONS && !found.iter().any(|f| f.id == person.id) {
                    found.push(person.clone());
                }
            }
        }
        found
    }

    /// Marks a search for `words` as running in the background; `false` when one is, or too many are.
    pub fn start(&self, words: &str) -> bool {
        self.running
            .lock()
            .is_ok_and(|mut running| running.len() < SEARCHES_IN_BACKGROUND && running.insert(words.to_owned()))
    }

    /// The background search for `words` is over.
    pub fn done(&self, words: &str) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(words);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, name: &str, mail: &str) -> Person {
        Person { id: id.into(), display_name: name.into(), mail: Some(mail.into()), user_principal_name: None }
    }

    #[test]
    fn a_longer_query_is_answered_from_what_a_shorter_one_found() {
        let directory = Directory::default();
        directory.remember(
            "a",
            vec![person("1", "Ada Lovelace", "ada@contoso.com"), person("2", "Alan Turing", "alan@contoso.com")],
        );
        let names = |found: Vec<Person>| found.into_iter().map(|p| p.display_name).collect::<Vec<_>>();
        assert_eq!(names(directory.known("a")), ["Ada Lovelace", "Alan Turing"]);
        assert_eq!(names(directory.known("ad")), ["Ada Lovelace"]);
        assert_eq!(names(directory.known("ada love")), ["Ada Lovelace"]);
        assert_eq!(names(directory.known("alan@con")), ["Alan Turing"]);
        assert!(directory.known("grace").is_empty(), "nothing is made up");
        assert!(directory.start("ad") && !directory.start("ad"), "one background search per query");
        directory.done("ad");
        assert!(directory.start("ad"));
    }
}
