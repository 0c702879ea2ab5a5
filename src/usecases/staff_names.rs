//! Staff members' names as the directory gives them: a page names people, never by their uid
//! (BRIEF rule 10).

use std::collections::HashMap;

use crate::directory::Directory;
use crate::domain::{Agent, AgentUid};

/// What a page says of a stored actor the directory does not know (gone, disabled, an
/// operator at the command line, or the directory not answering).
pub const SOMEONE_ELSE: &str = "un autre personnel";

/// A staff member's name as the directory gives it (never his uid on a page).
pub fn agent_name(directory: &dyn Directory, uid: &str) -> String {
    AgentUid::parse(uid)
        .and_then(|uid| directory.lookup(&uid).ok().flatten())
        .map(|a| a.display_name)
        .unwrap_or_else(|| SOMEONE_ELSE.to_owned())
}

/// The names of the stored actors `uids` (who granted or revoked a delegation), each looked
/// up once; the agent asking (`me`) is known without a lookup.
pub fn agent_names<'u>(
    directory: &dyn Directory,
    me: &Agent,
    uids: impl IntoIterator<Item = &'u str>,
) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for uid in uids {
        if names.contains_key(uid) {
            continue;
        }
        let name = if uid.eq_ignore_ascii_case(me.uid.as_str()) {
            me.display_name.clone()
        } else {
            agent_name(directory, uid)
        };
        names.insert(uid.to_owned(), name);
    }
    names
}

/// The name `names` holds for `uid`.
pub fn name_in<'n>(names: &'n HashMap<String, String>, uid: &str) -> &'n str {
    names.get(uid).map_or(SOMEONE_ELSE, String::as_str)
}
