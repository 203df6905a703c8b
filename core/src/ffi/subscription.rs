use std::sync::{Arc, Mutex};

use super::SessionEvent;
use crate::app::Core;

/// Receives session events. Shells wrap it as a Kotlin Flow or a Swift AsyncStream.
#[uniffi::export(with_foreign)]
pub trait SessionListener: Send + Sync {
    /// Called on a core thread for every event; return quickly.
    fn on_event(&self, event: SessionEvent);
}

/// A live subscription; dropping it, or calling `cancel`, stops the events.
#[derive(uniffi::Object)]
pub struct Subscription {
    core: Arc<Core>,
    id: Mutex<Option<u64>>,
}

impl Subscription {
    pub(crate) fn new(core: Arc<Core>, listener: Arc<dyn SessionListener>) -> Self {
        let id = core.events().add(Arc::new(move |event| {
            // Events of one screen's data (the invoices) reach that screen's flow, not here.
            if let Some(event) = SessionEvent::of(event) {
                listener.on_event(event)
            }
        }));
        Self {
            core,
            id: Mutex::new(Some(id)),
        }
    }
}

#[uniffi::export]
impl Subscription {
    /// Stops the events; calling it again does nothing.
    pub fn cancel(&self) {
        if let Some(id) = self.id.lock().ok().and_then(|mut id| id.take()) {
            self.core.events().remove(id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}
