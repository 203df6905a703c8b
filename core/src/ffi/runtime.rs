//! The tokio runtime the core owns. Async exports run their work here, whatever executor the
//! shell polls them from, and a panic inside becomes a `CoreError` instead of crossing the FFI.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

use super::CoreError;

/// What the runtime is given: every spawn and run hands tokio one boxed future type, so tokio's
/// task machinery (poll, wake, complete, read the output) exists once in the library, not once
/// per exported method: that was some 110 KB of near-identical copies (`make size`). The box
/// costs one allocation per call, next to a network request or a SQLite transaction.
type Task<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One thread runs every task: a phone app makes a few requests at a time, and a current-thread
/// scheduler is some 60 KB smaller in the library than the multi-thread one. The thread drives
/// the runtime until the facade is dropped; blocking work still goes to tokio's blocking pool.
pub(crate) struct CoreRuntime {
    handle: Handle,
    /// Dropped with the facade: the driving thread's `block_on` then returns and the runtime
    /// shuts down there (never inside someone else's async context, where dropping panics).
    _stop: oneshot::Sender<()>,
}

impl CoreRuntime {
    pub(crate) fn new() -> Result<Self, CoreError> {
        let internal = |detail: String| CoreError::Internal { detail };
        let rt = Builder::new_current_thread()
            .thread_name("tierspay-core")
            .enable_all()
            .build()
            .map_err(|e| internal(format!("cannot start the core runtime: {e}")))?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("tierspay-core".into())
            .spawn(move || {
                // Returns when the sender is dropped (or sends); tasks still pending are
                // dropped without being waited for, as the multi-thread runtime's were.
                rt.block_on(async {
                    let _ = stopped.await;
                });
                rt.shutdown_background();
            })
            .map_err(|e| internal(format!("cannot start the core thread: {e}")))?;
        Ok(Self {
            handle,
            _stop: stop,
        })
    }

    /// Starts `work` on the core's runtime without waiting for it (a flow's effects). A panic
    /// inside ends that task only.
    pub(crate) fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let erased: Task<()> = Box::pin(work);
        self.handle.spawn(erased);
    }

    /// Runs `work` on the core's runtime and waits for it.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: Future<Output = crate::error::Result<T>> + Send + 'static,
    {
        let erased: Task<Box<dyn Any + Send>> =
            Box::pin(async move { Box::new(work.await) as Box<dyn Any + Send> });
        match self.handle.spawn(erased).await {
            Ok(answer) => match answer.downcast::<crate::error::Result<T>>() {
                Ok(result) => (*result).map_err(CoreError::from),
                // Cannot happen (the box holds what `work` gave); answered, not panicked.
                Err(_) => Err(CoreError::Internal {
                    detail: "the core task answered with another type".into(),
                }),
            },
            Err(e) if e.is_panic() => Err(CoreError::Internal {
                detail: "the core hit a bug (panic); nothing was committed by that call".into(),
            }),
            Err(_) => Err(CoreError::Internal {
                detail: "the core task was cancelled".into(),
            }),
        }
    }
}
