//! What every handler may read, built once by `startup`.

use std::sync::Arc;

use crate::accounts::batch::runner::Services;
use crate::accounts::store::AccountStore;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Db;
use crate::directory::Directory;
use crate::secrets::AppKey;
use crate::web::views::letters::LetterPortal;

/// What every handler may read.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub key: AppKey,
    pub clock: SharedClock,
    pub tz: chrono_tz::Tz,
    pub directory: Arc<dyn Directory>,
    /// Where pupils' and parents' credentials and states live (`[accounts] store`).
    pub accounts: Arc<dyn AccountStore>,
    /// This instance's stable name (`[server] instance_id`, default `host:port`).
    pub instance_id: String,
    /// Where the letters send their readers, and the password rules they state.
    pub portal: LetterPortal,
    /// The ENT connectors (`[sso]`).
    pub sso: Arc<crate::sso::Connectors>,
}

impl AppState {
    /// What a batch's worker needs.
    pub fn batch_services(&self) -> Services {
        Services {
            pool: self.db.pool().clone(),
            key: self.key.clone(),
            clock: self.clock.clone(),
            tz: self.tz,
            directory: self.directory.clone(),
            store: self.accounts.clone(),
            instance_id: self.instance_id.clone(),
        }
    }
}
