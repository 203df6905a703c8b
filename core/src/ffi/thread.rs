//! An invoice's message thread for the shells: the record a thread is made of, three methods
//! of [`Arrears`] (the thread offline, a read from the server, a message written through the
//! outbox) and the thread screen's flow. Conversion and driving only: what may be written and
//! how it is sent are decided in `app::messages` and `app::flows::thread`.

use std::sync::{Arc, Mutex};

use super::arrears::{day, Arrears, Day};
use super::runtime::CoreRuntime;
use super::visit::failure;
use super::{CoreError, FailureKind};
use crate::app::flows::thread::{Effect, ThreadMachine};
use crate::app::Core;
use crate::store::messages::{StoredMessage, StoredMessageState};

/// Where one of the member's messages stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MessageState {
    /// Written on the phone, waiting to reach the server (offline, or being sent).
    Pending,
    /// The server has it (support's messages are always so).
    Sent,
    /// The server refused it for good: it will not be sent again.
    Failed,
}

/// One message of an invoice's thread.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ThreadMessage {
    /// The phone's id for it (stable from writing to sent).
    pub id: String,
    /// Written by the insurer's support (else by the member).
    pub from_support: bool,
    /// Support's display name; `None` for the member's own.
    pub author_name: Option<String>,
    /// Plain text as written: show it as text, never as markup.
    pub text: String,
    /// The attachment's type (`image/png`, `image/jpeg`, `application/pdf`), if any.
    pub attachment_type: Option<String>,
    /// When the platform received it (the phone's time while pending).
    pub day: Day,
    /// Unix seconds of the same moment, for ordering and times of day.
    pub created: i64,
    /// Where it stands.
    pub state: MessageState,
}

impl From<StoredMessage> for ThreadMessage {
    fn from(m: StoredMessage) -> Self {
        Self {
            id: m.local_id,
            from_support: m.from_staff,
            author_name: m.author_name,
            text: m.text,
            attachment_type: m.attachment_type,
            day: day(m.created),
            created: m.created,
            state: match m.state {
                StoredMessageState::Pending => MessageState::Pending,
                StoredMessageState::Sent => MessageState::Sent,
                StoredMessageState::Failed => MessageState::Failed,
            },
        }
    }
}

fn records(messages: Vec<StoredMessage>) -> Vec<ThreadMessage> {
    messages.into_iter().map(Into::into).collect()
}

#[uniffi::export(async_runtime = "tokio")]
impl Arrears {
    /// An invoice's message thread as last read, oldest first; no network.
    pub fn thread(&self, invoice_id: String) -> Result<Vec<ThreadMessage>, CoreError> {
        Ok(records(self.core.invoice_thread(&invoice_id)?))
    }

    /// Reads the thread's new messages from the server (after sending any waiting message).
    pub async fn sync_thread(&self, invoice_id: String) -> Result<Vec<ThreadMessage>, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.sync_invoice_thread(&invoice_id).await.map(records) })
            .await
    }

    /// Writes a message on an invoice (1 to 2,000 characters, newlines allowed): kept on the
    /// phone and sent exactly once, now or when the network is back. A text the server would
    /// refuse is refused here, naming `text`.
    pub async fn write_message(
        &self,
        invoice_id: String,
        text: String,
    ) -> Result<ThreadMessage, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                core.write_invoice_message(&invoice_id, &text)
                    .await
                    .map(Into::into)
            })
            .await
    }
}

/// A failure shown on the thread screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ThreadFlowError {
    /// What kind.
    pub kind: FailureKind,
    /// The field, for a refused text (`text`).
    pub field: Option<String>,
    /// What to tell the member.
    pub message: String,
}

/// What the thread screen draws.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ThreadFlowState {
    /// Grows with every change; a shell keeps the highest.
    pub revision: u64,
    /// The `in_…` whose thread this is.
    pub invoice_id: String,
    /// The messages, oldest first.
    pub messages: Vec<ThreadMessage>,
    /// A read from the server is under way.
    pub syncing: bool,
    /// Messages being written now: the send button shows busy while it is not 0.
    pub writing: u32,
    /// The member's messages not yet on the server.
    pub pending: u32,
    /// The last failure.
    pub error: Option<ThreadFlowError>,
}

/// Receives every new state of a thread flow.
#[uniffi::export(with_foreign)]
pub trait ThreadListener: Send + Sync {
    /// Called on a core thread (or the caller's, for an intent) with the whole state.
    fn on_state(&self, state: ThreadFlowState);
}

fn snapshot(m: &ThreadMachine, revision: u64) -> ThreadFlowState {
    let s = m.state();
    ThreadFlowState {
        revision,
        invoice_id: s.invoice_id.clone(),
        messages: records(s.messages.clone()),
        syncing: s.syncing,
        writing: s.writing.len() as u32,
        pending: s
            .messages
            .iter()
            .filter(|m| m.state == StoredMessageState::Pending)
            .count() as u32,
        error: s.error.clone().map(|f| ThreadFlowError {
            kind: f.kind,
            field: f.field,
            message: f.message,
        }),
    }
}

/// The thread screen of one invoice: the messages offline, a refresh, and the member's
/// messages written through the outbox.
#[derive(uniffi::Object)]
pub struct ThreadFlow {
    core: Arc<Core>,
    runtime: Arc<CoreRuntime>,
    machine: Mutex<(ThreadMachine, u64)>,
    listener: Arc<dyn ThreadListener>,
}

impl ThreadFlow {
    pub(crate) fn new(
        core: Arc<Core>,
        runtime: Arc<CoreRuntime>,
        invoice_id: String,
        listener: Arc<dyn ThreadListener>,
    ) -> Arc<Self> {
        // What the phone has shows at once; an invalid id or a phone not enrolled starts empty
        // and says why at the first refresh.
        let offline = core.invoice_thread(&invoice_id).unwrap_or_default();
        Arc::new(Self {
            core,
            runtime,
            machine: Mutex::new((ThreadMachine::new(&invoice_id, offline), 0)),
            listener,
        })
    }

    fn invoice_id(&self) -> String {
        self.machine
            .lock()
            .map(|m| m.0.state().invoice_id.clone())
            .unwrap_or_default()
    }

    fn apply(self: &Arc<Self>, change: impl FnOnce(&mut ThreadMachine) -> Vec<Effect>) {
        let (effects, state) = {
            let Ok(mut guard) = self.machine.lock() else {
                return;
            };
            let (m, revision) = &mut *guard;
            let effects = change(m);
            *revision += 1;
            (effects, snapshot(m, *revision))
        };
        self.listener.on_state(state);
        for effect in effects {
            let flow = self.clone();
            self.runtime.spawn(async move { flow.run(effect).await });
        }
    }

    async fn run(self: Arc<Self>, effect: Effect) {
        let invoice_id = self.invoice_id();
        match effect {
            Effect::Sync { request } => {
                let answer = self
                    .core
                    .sync_invoice_thread(&invoice_id)
                    .await
                    .map_err(failure);
                self.apply(move |m| {
                    m.synced(request, answer);
                    Vec::new()
                });
            }
            Effect::Write { request, text } => {
                let answer = self
                    .core
                    .write_invoice_message(&invoice_id, &text)
                    .await
                    .map_err(failure);
                self.apply(move |m| m.written(request, answer));
            }
            Effect::Reload => {
                let messages = self.core.invoice_thread(&invoice_id).unwrap_or_default();
                self.apply(move |m| {
                    m.reloaded(messages);
                    Vec::new()
                });
            }
        }
    }
}

#[uniffi::export]
impl ThreadFlow {
    /// The state as it stands.
    pub fn state(&self) -> Option<ThreadFlowState> {
        self.machine.lock().ok().map(|m| snapshot(&m.0, m.1))
    }

    /// Shows what the phone has, then sends waiting messages and reads the server.
    pub fn start(self: Arc<Self>) {
        self.apply(|m| m.refresh());
    }

    /// Reads the thread again (pull to refresh, the network back, a push saying support
    /// answered: `route_for_push` leads to this thread).
    pub fn refresh(self: Arc<Self>) {
        self.apply(|m| m.refresh());
    }

    /// The send button: the text is checked by the core (a refusal names `text`), then kept
    /// on the phone and sent exactly once, now or when the network is back.
    pub fn send(self: Arc<Self>, text: String) {
        self.apply(|m| m.send(&text));
    }
}
