//! An invoice's message thread, pure: what the phone has shows at once, a refresh reads the
//! server, and the member's message is checked here (so the send button says why before
//! anything is written), then written through the outbox by the driver. Answers come back with
//! their request; one the member overtook (a newer refresh) is dropped.

pub use super::Failure;
use super::FailureKind;
use crate::store::messages::StoredMessage;
use crate::wire::check_text;

/// I/O the driver runs, then reports back with `request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send the outbox, then read the thread from the server (`Core::sync_invoice_thread`).
    Sync {
        /// The request's token.
        request: u64,
    },
    /// Write the member's message (`Core::write_invoice_message`: the outbox row first, then
    /// a send if online).
    Write {
        /// The request's token.
        request: u64,
        /// The text, already checked.
        text: String,
    },
    /// Read the thread from the store again (no network).
    Reload,
}

/// What the thread screen shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadState {
    /// The `in_…` whose thread this is.
    pub invoice_id: String,
    /// The messages, oldest first, the member's pending ones where they were written.
    pub messages: Vec<StoredMessage>,
    /// A read from the server is under way.
    pub syncing: bool,
    /// Messages being written now (their text, in order): the send button shows busy.
    pub writing: Vec<String>,
    /// The last failure of a read or a write; a refused text names `text`.
    pub error: Option<Failure>,
}

/// The machine.
#[derive(Debug, Default)]
pub struct ThreadMachine {
    state: ThreadState,
    next_request: u64,
    sync_request: Option<u64>,
    write_requests: Vec<u64>,
}

impl ThreadMachine {
    /// A machine showing what the phone has of `invoice_id`'s thread.
    pub fn new(invoice_id: &str, offline: Vec<StoredMessage>) -> Self {
        let mut m = Self::default();
        m.state.invoice_id = invoice_id.to_owned();
        m.state.messages = offline;
        m
    }

    /// The state as it stands.
    pub fn state(&self) -> &ThreadState {
        &self.state
    }

    fn request(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    /// Pull to refresh, the screen opening, the network back, a push saying support answered:
    /// one read at a time (a newer one replaces the older's answer).
    pub fn refresh(&mut self) -> Vec<Effect> {
        let request = self.request();
        self.sync_request = Some(request);
        self.state.syncing = true;
        vec![Effect::Sync { request }]
    }

    /// The answer of a read.
    pub fn synced(&mut self, request: u64, answer: Result<Vec<StoredMessage>, Failure>) {
        if self.sync_request != Some(request) {
            return;
        }
        self.sync_request = None;
        self.state.syncing = false;
        match answer {
            Ok(messages) => {
                self.state.messages = messages;
                self.state.error = None;
            }
            Err(f) => self.state.error = Some(f),
        }
    }

    /// "Send" tapped: a text the server would refuse is refused here, naming `text`, and
    /// nothing is written; otherwise the driver writes it.
    pub fn send(&mut self, text: &str) -> Vec<Effect> {
        let text = match check_text(text) {
            Ok(t) => t,
            Err(refusal) => {
                self.state.error = Some(Failure {
                    kind: FailureKind::InvalidInput,
                    field: Some(refusal.param.to_owned()),
                    message: refusal.message,
                    code: None,
                });
                return Vec::new();
            }
        };
        let request = self.request();
        self.write_requests.push(request);
        self.state.writing.push(text.clone());
        self.state.error = None;
        vec![Effect::Write { request, text }]
    }

    /// The answer of a write: the message is on the phone (sent or pending); the thread is
    /// read from the store again to show it in its place.
    pub fn written(&mut self, request: u64, answer: Result<StoredMessage, Failure>) -> Vec<Effect> {
        let Some(at) = self.write_requests.iter().position(|r| *r == request) else {
            return Vec::new();
        };
        self.write_requests.remove(at);
        if at < self.state.writing.len() {
            self.state.writing.remove(at);
        }
        match answer {
            Ok(_) => vec![Effect::Reload],
            Err(f) => {
                self.state.error = Some(f);
                Vec::new()
            }
        }
    }

    /// The thread as the store has it now.
    pub fn reloaded(&mut self, messages: Vec<StoredMessage>) {
        self.state.messages = messages;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::messages::StoredMessageState;

    fn message(id: &str, state: StoredMessageState) -> StoredMessage {
        StoredMessage {
            local_id: id.into(),
            server_id: None,
            invoice_id: "in_1".into(),
            from_staff: false,
            author_name: None,
            text: "Bonjour".into(),
            attachment_type: None,
            attachment_size: None,
            created: 1,
            state,
        }
    }

    fn offline() -> Failure {
        Failure {
            kind: FailureKind::Network,
            field: None,
            message: "offline".into(),
            code: None,
        }
    }

    #[test]
    fn a_text_the_server_would_refuse_is_refused_before_anything_is_written() {
        let mut m = ThreadMachine::new("in_1", Vec::new());
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(2_001)] {
            assert!(m.send(bad).is_empty(), "{bad:?}");
            let error = m.state().error.clone().unwrap();
            assert_eq!(
                (error.kind, error.field.as_deref()),
                (FailureKind::InvalidInput, Some("text"))
            );
        }
        assert!(m.state().writing.is_empty());
        // The text goes trimmed, as the server keeps it.
        assert_eq!(
            m.send("  Merci \r\n"),
            vec![Effect::Write {
                request: 1,
                text: "Merci".into()
            }]
        );
        assert_eq!(m.state().error, None);
        assert_eq!(m.state().writing, vec!["Merci".to_owned()]);
    }

    #[test]
    fn a_write_shows_through_the_store_and_a_failure_keeps_the_thread() {
        let mut m = ThreadMachine::new("in_1", vec![message("imsg_1", StoredMessageState::Sent)]);
        let Effect::Write { request, .. } = m.send("Bonjour").remove(0) else {
            panic!("a write")
        };
        assert_eq!(
            m.written(request, Ok(message("lmsg_1", StoredMessageState::Pending))),
            vec![Effect::Reload]
        );
        assert!(m.state().writing.is_empty());
        // An answer nobody asked for changes nothing.
        assert!(m.written(99, Err(offline())).is_empty());
        assert_eq!(m.state().error, None);
        let Effect::Write { request, .. } = m.send("Encore").remove(0) else {
            panic!("a write")
        };
        assert!(m.written(request, Err(offline())).is_empty());
        assert_eq!(m.state().error, Some(offline()));
        assert_eq!(m.state().messages.len(), 1);
    }

    #[test]
    fn only_the_latest_read_lands() {
        let mut m = ThreadMachine::new("in_1", Vec::new());
        let first = m.refresh();
        let second = m.refresh();
        assert!(m.state().syncing);
        let (Effect::Sync { request: a }, Effect::Sync { request: b }) = (&first[0], &second[0])
        else {
            panic!("two reads")
        };
        m.synced(*a, Ok(vec![message("imsg_old", StoredMessageState::Sent)]));
        assert!(m.state().syncing, "the older answer is dropped");
        assert!(m.state().messages.is_empty());
        m.synced(*b, Err(offline()));
        assert!(!m.state().syncing);
        assert_eq!(m.state().error, Some(offline()));
        let Effect::Sync { request } = m.refresh().remove(0) else {
            panic!("a read")
        };
        m.synced(
            request,
            Ok(vec![message("imsg_2", StoredMessageState::Sent)]),
        );
        assert_eq!(
            (m.state().messages.len(), m.state().error.clone()),
            (1, None)
        );
    }
}
