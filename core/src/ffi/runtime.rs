//! The tokio runtime the core owns. Async exports run their work here, whatever executor the
//! shell polls them from, and a panic inside becomes a `CoreError` instead of crossing the FFI.

use std::future::Future;

use super::CoreError;

pub(crate) struct CoreRuntime(Option<tokio::runtime::Runtime>);

impl CoreRuntime {
    pub(crate) fn new() -> Result<Self, CoreError> {
        tokio::runtime::Builder::new_multi_thread()
            // Two workers: a phone app does a few requests at a time.
            .worker_threads(2)
            .thread_name("tierspay-core")
            .enable_all()
            .build()
            .map(|rt| Self(Some(rt)))
            .map_err(|e| CoreError::Internal {
                detail: format!("cannot start the core runtime: {e}"),
            })
    }

    /// Starts `work` on the core's runtime without waiting for it (a flow's effects). A panic
    /// inside ends that task only.
    pub(crate) fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Some(rt) = &self.0 {
            rt.spawn(work);
        }
    }

    /// Runs `work` on the core's runtime and waits for it.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: Future<Output = crate::error::Result<T>> + Send + 'static,
    {
        let Some(rt) = &self.0 else {
            return Err(CoreError::Internal {
                detail: "core runtime stopped".into(),
            });
        };
        match rt.spawn(work).await {
            Ok(result) => result.map_err(CoreError::from),
            Err(e) if e.is_panic() => Err(CoreError::Internal {
                detail: "the core hit a bug (panic); nothing was committed by that call".into(),
            }),
            Err(_) => Err(CoreError::Internal {
                detail: "the core task was cancelled".into(),
            }),
        }
    }
}

impl Drop for CoreRuntime {
    fn drop(&mut self) {
        // Dropping a runtime inside another async context panics; shutting it down in the
        // background never does, wherever the last reference to the facade goes away.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}
