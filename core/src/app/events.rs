//! Events the core sends to whoever listens: a registry of callbacks, each removed by the
//! handle its subscription returned.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Something the shells may want to redraw for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreEvent {
    /// Enrollment finished on this device.
    Enrolled,
    /// Member, contract or beneficiaries changed.
    ProfileUpdated,
    /// The member signed out on this device.
    SignedOut,
    /// The server ended the session (for example, the member enrolled another phone).
    SessionEnded,
    /// The card's status or wallet tokens changed.
    CardUpdated,
    /// The invoices on the phone changed (the event stream said so and they were synced, or
    /// an outbox answer updated one): the arrears screens redraw.
    InvoicesUpdated,
}

type Callback = Arc<dyn Fn(&CoreEvent) + Send + Sync>;

/// Registered listeners.
#[derive(Default)]
pub struct Events {
    next: AtomicU64,
    listeners: Mutex<BTreeMap<u64, Callback>>,
}

impl Events {
    /// Adds a listener; returns its id for [`Events::remove`].
    pub fn add(&self, callback: Callback) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut map) = self.listeners.lock() {
            map.insert(id, callback);
        }
        id
    }

    /// Removes a listener; removing twice is harmless.
    pub fn remove(&self, id: u64) {
        if let Ok(mut map) = self.listeners.lock() {
            map.remove(&id);
        }
    }

    /// Calls every listener. The lock is released first, so a listener may unsubscribe.
    pub fn emit(&self, event: CoreEvent) {
        let callbacks: Vec<Callback> = match self.listeners.lock() {
            Ok(map) => map.values().cloned().collect(),
            Err(_) => return,
        };
        for callback in callbacks {
            callback(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_listeners_hear_nothing_more() {
        let events = Events::default();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = heard.clone();
        let id = events.add(Arc::new(move |e| sink.lock().unwrap().push(e.clone())));
        events.emit(CoreEvent::Enrolled);
        events.remove(id);
        events.emit(CoreEvent::SignedOut);
        assert_eq!(*heard.lock().unwrap(), vec![CoreEvent::Enrolled]);
    }
}
