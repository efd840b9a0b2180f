//! Mentions: `@name` in a message calls the member of the room with that name.
//!
//! Worked out once, by the room, when the message is numbered, against the names of the members
//! present then; the result travels with the message ([`ChatMessage::mentions`]) and is stored
//! with it. Whether a mention is *mine* is decided by each reader (the page, the terminal client),
//! so the relay still encodes each message once per dialect.
//!
//! [`ChatMessage::mentions`]: crate::protocol::ChatMessage::mentions

/// At most this many `@` signs of one message are looked at. Each is compared with every
/// member's name under the room lock, so a message of nothing but `@` signs in a crowded room
/// must not cost more than a normal one; nobody calls more people than this in one line.
pub const MOST_ATS: usize = 32;

/// The names among `names` that `text` mentions, in the order they are first mentioned, each
/// once, spelled as the member's name is.
///
/// `@` mentions a name when it starts the text or follows a character that cannot be part of a
/// word (so `ann@example.org` mentions nobody), and the name follows it, compared without
/// regard to case. The longest name that fits wins: with `ann` and `ann (2)` both present,
/// `@ann (2)` mentions `ann (2)`. A name that ends in a letter or digit must end the word
/// there: `@annie` does not mention `ann`.
pub fn find<'n>(text: &str, names: impl Iterator<Item = &'n str> + Clone) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    if !text.contains('@') {
        return found;
    }
    let mut previous: Option<char> = None;
    let mut ats = 0;
    for (at, c) in text.char_indices() {
        let starts_word = previous.is_none_or(|p| !is_word(p));
        previous = Some(c);
        if c != '@' || !starts_word {
            continue;
        }
        ats += 1;
        if ats > MOST_ATS {
            break;
        }
        let rest = &text[at + 1..];
        let best = names.clone().filter(|name| !name.is_empty() && calls(rest, name)).max_by_key(|name| name.len());
        if let Some(name) = best {
            if !found.iter().any(|f| f == name) {
                found.push(name.to_string());
            }
        }
    }
    found
}

/// Whether `rest` (what follows an `@`) starts with `name`, without regard to case, and the word
/// ends there if the name ends in a letter or digit.
fn calls(rest: &str, name: &str) -> bool {
    let mut rest_chars = rest.chars();
    for wanted in name.chars() {
        match rest_chars.next() {
            Some(got) if got == wanted || got.to_lowercase().eq(wanted.to_lowercase()) => {}
            _ => return false,
        }
    }
    let ends_in_word = name.chars().next_back().is_some_and(is_word);
    !ends_in_word || rest_chars.next().is_none_or(|after| !is_word(after))
}

/// A character that can be part of a word (a name, an address).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str, names: &[&str]) -> Vec<String> {
        find(text, names.iter().copied())
    }

    #[test]
    fn a_name_after_an_at_sign_is_mentioned() {
        assert_eq!(of("hi @ann, tea?", &["ann", "bob"]), ["ann"]);
        assert_eq!(of("@bob", &["ann", "bob"]), ["bob"]);
        assert_eq!(of("no one here", &["ann"]), Vec::<String>::new());
        assert_eq!(of("@carl is not here", &["ann"]), Vec::<String>::new());
    }

    #[test]
    fn case_does_not_matter_and_the_name_is_spelled_as_the_member_spells_it() {
        assert_eq!(of("@ANN look", &["Ann"]), ["Ann"]);
        assert_eq!(of("@émile", &["Émile"]), ["Émile"]);
    }

    #[test]
    fn the_longest_name_wins() {
        assert_eq!(of("@ann (2) and @ann", &["ann", "ann (2)"]), ["ann (2)", "ann"]);
        assert_eq!(of("@ann (3)", &["ann", "ann (2)"]), ["ann"]);
    }

    #[test]
    fn a_name_must_end_its_word() {
        assert_eq!(of("@annie", &["ann"]), Vec::<String>::new());
        assert_eq!(of("@ann's turn", &["ann"]), ["ann"]);
        assert_eq!(of("@ann_b", &["ann"]), Vec::<String>::new());
    }

    #[test]
    fn an_address_is_not_a_mention() {
        assert_eq!(of("mail ann@example.org", &["example"]), Vec::<String>::new());
        assert_eq!(of("(@ann)", &["ann"]), ["ann"]);
    }

    #[test]
    fn each_name_once_in_order() {
        assert_eq!(of("@bob @ann @bob", &["ann", "bob"]), ["bob", "ann"]);
    }

    #[test]
    fn only_the_first_at_signs_are_looked_at() {
        let text = format!("{} @ann", "@ ".repeat(MOST_ATS));
        assert_eq!(of(&text, &["ann"]), Vec::<String>::new());
        let text = format!("{} @ann", "@ ".repeat(MOST_ATS - 1));
        assert_eq!(of(&text, &["ann"]), ["ann"]);
    }
}
