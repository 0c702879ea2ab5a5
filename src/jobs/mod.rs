//! Background jobs that run on every instance: the batches' job (taking up orphaned
//! batches, in `accounts::batch::job`) and the housekeeping job, whose work is done by one
//! instance at a time, under a lease held in the database.

pub mod lease;

use std::sync::Weak;
use std::time::Duration;

use crate::accounts::batch::runner::{Services, new_owner};
use crate::config::SessionSettings;
use crate::usecases::account_upkeep::{self, Upkept};
use crate::usecases::housekeeping::{self, EVERY_SECS};
use crate::usecases::sessions::Timeouts;

/// Starts every background job of this instance: the batches' job and the housekeeping job.
pub fn spawn_all(
    alive: Weak<()>,
    services: Services,
    session: &SessionSettings,
) -> std::io::Result<()> {
    crate::accounts::batch::job::spawn(alive.clone(), services.clone())?;
    spawn_housekeeping(alive, services, Timeouts::of(session))
}

/// Runs the housekeeping job on a thread of its own while `alive` can be upgraded (the app
/// is up): a round at once, then one every [`EVERY_SECS`] seconds.
pub fn spawn_housekeeping(
    alive: Weak<()>,
    services: Services,
    timeouts: Timeouts,
) -> std::io::Result<()> {
    let owner = new_owner(&services.instance_id).map_err(std::io::Error::other)?;
    std::thread::Builder::new()
        .name("housekeeping-job".into())
        .spawn(move || {
            while alive.upgrade().is_some() {
                let round = services
                    .pool
                    .get()
                    .map_err(|e| crate::usecases::Failure::unavailable(e.to_string()))
                    .and_then(|mut conn| {
                        let now = services.clock.now();
                        let swept = housekeeping::run_once(
                            &mut conn,
                            &services.key,
                            &owner,
                            now,
                            timeouts,
                        )?;
                        // The lease holder also keeps the accounts (pending writes, expiries).
                        if swept.is_some() {
                            let store = &*services.store;
                            let upkept = account_upkeep::run_once(
                                &mut conn,
                                &services.key,
                                store,
                                now,
                                services.tz,
                            )?;
                            if upkept != Upkept::default() {
                                tracing::info!(?upkept, "accounts upkeep done");
                            }
                        }
                        Ok(swept)
                    });
                match round {
                    Ok(Some(swept)) if !swept.is_empty() => {
                        tracing::info!(?swept, "housekeeping done");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "housekeeping job"),
                }
                // Short naps, so that the thread ends soon after the app.
                for _ in 0..EVERY_SECS {
                    if alive.upgrade().is_none() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        })
        .map(drop)
}
