use std::sync::Arc;

use super::runtime::CoreRuntime;
use super::{
    Arrears, ArrearsFlow, ArrearsListener, Card, CoreConfig, CoreError, Coverage, Enrollment,
    EnrollmentFlow, EnrollmentListener, Payments, Profile, PushService, SessionListener,
    SessionStatus, Subscription, ThreadFlow, ThreadListener, VisitFlow, VisitListener, WalletFlow,
    WalletKind, WalletListener,
};
use crate::app::{Core, Settings};
use crate::platform::{DeviceKey, SecureStorage};

/// The one object a shell holds: built once at app start, it hands out the areas of the app.
#[derive(uniffi::Object)]
pub struct TiersPay {
    core: Arc<Core>,
    runtime: Arc<CoreRuntime>,
}

#[uniffi::export(async_runtime = "tokio")]
impl TiersPay {
    /// Opens the core: the local database (migrations included) and the session. No network,
    /// so an app starting offline knows at once whether it is enrolled.
    #[uniffi::constructor]
    pub fn new(
        config: CoreConfig,
        secure_storage: Arc<dyn SecureStorage>,
        device_key: Arc<dyn DeviceKey>,
    ) -> Result<Arc<Self>, CoreError> {
        let settings = Settings::from_config(
            config.server_url,
            &config.data_dir,
            &config.server_public_key,
            config.link_key_id,
            config.link_public_key.as_deref(),
            config.device_name,
        )?;
        let core = Arc::new(Core::open(settings, secure_storage, device_key)?);
        let runtime = Arc::new(CoreRuntime::new()?);
        // Payments a crash or a lost network left in the outbox are resent now with their
        // keys (the server replays what it had done); offline they wait for the next chance.
        if core.outbox_pending().unwrap_or(0) > 0 && matches!(core.session(), Ok(Some(_))) {
            let resumed = core.clone();
            runtime.spawn(async move {
                if let Err(e) = resumed.send_outbox().await {
                    tracing::debug!("the resumed outbox waits: {e}");
                }
            });
        }
        Ok(Arc::new(Self { core, runtime }))
    }

    /// Whether this device is enrolled, and its profile; read locally, no network.
    pub fn status(&self) -> Result<SessionStatus, CoreError> {
        Ok(self.core.session()?.into())
    }

    /// The enrollment flow.
    pub fn enrollment(&self) -> Arc<Enrollment> {
        Arc::new(Enrollment {
            core: self.core.clone(),
            runtime: self.runtime.clone(),
        })
    }

    /// The virtual card and its wallets.
    pub fn card(&self) -> Arc<Card> {
        Arc::new(Card {
            core: self.core.clone(),
            runtime: self.runtime.clone(),
        })
    }

    /// Paying at the doctor: the member's own card, the visits paid with the virtual card.
    pub fn payments(&self) -> Arc<Payments> {
        Arc::new(Payments {
            core: self.core.clone(),
            runtime: self.runtime.clone(),
        })
    }

    /// Arrears: the member's invoices offline, and payment links verified before they show.
    pub fn arrears(&self) -> Arc<Arrears> {
        Arc::new(Arrears {
            core: self.core.clone(),
            runtime: self.runtime.clone(),
        })
    }

    /// The arrears screens' flow (invoice list, detail, opened links): its state goes to
    /// `listener` at every change; call `start`.
    pub fn arrears_flow(&self, listener: Arc<dyn ArrearsListener>) -> Arc<ArrearsFlow> {
        ArrearsFlow::new(self.core.clone(), self.runtime.clone(), listener)
    }

    /// The message thread of one invoice (`in_…`): its state goes to `listener` at every
    /// change; call `start`.
    pub fn thread_flow(
        &self,
        invoice_id: String,
        listener: Arc<dyn ThreadListener>,
    ) -> Arc<ThreadFlow> {
        ThreadFlow::new(
            self.core.clone(),
            self.runtime.clone(),
            invoice_id,
            listener,
        )
    }

    /// Coverage: synced data, providers, previews.
    pub fn coverage(&self) -> Arc<Coverage> {
        Arc::new(Coverage {
            core: self.core.clone(),
            runtime: self.runtime.clone(),
        })
    }

    /// The enrollment screens' flow, pre-filled with a contract number from a link; its state
    /// goes to `listener` at every change.
    pub fn enrollment_flow(
        &self,
        contract_number: Option<String>,
        listener: Arc<dyn EnrollmentListener>,
    ) -> Arc<EnrollmentFlow> {
        EnrollmentFlow::new(
            self.core.clone(),
            self.runtime.clone(),
            contract_number,
            listener,
        )
    }

    /// The visit screen's flow: its state goes to `listener` at every change; call `start`.
    pub fn visit_flow(&self, listener: Arc<dyn VisitListener>) -> Arc<VisitFlow> {
        VisitFlow::new(self.core.clone(), self.runtime.clone(), listener)
    }

    /// The card screen's wallet flow (Apple Pay or Google Pay): its states and the platform
    /// calls it asks for go to `listener`; call `start`.
    pub fn wallet_flow(
        &self,
        wallet: WalletKind,
        listener: Arc<dyn WalletListener>,
    ) -> Arc<WalletFlow> {
        WalletFlow::new(self.core.clone(), self.runtime.clone(), wallet, listener)
    }

    /// Fetches member, contract and beneficiaries from the server and updates the cache.
    pub async fn refresh_profile(&self) -> Result<Profile, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.refresh_profile().await.map(Into::into) })
            .await
    }

    /// Signs out: revokes this device on the server when reachable, then wipes local data,
    /// tokens and the device key. Works offline.
    pub async fn sign_out(&self) -> Result<(), CoreError> {
        let core = self.core.clone();
        self.runtime.run(async move { core.sign_out().await }).await
    }

    /// Hands over the push token the OS gave the app (APNs device token in hex, or FCM token);
    /// call it at every start and whenever the token changes. Before enrollment the token is
    /// kept and registered right after enrollment; once enrolled it is registered now, and a
    /// new token replaces the old one on the server. The same token twice costs no request.
    /// Sign-out forgets it.
    pub async fn register_push_token(
        &self,
        service: PushService,
        token: String,
    ) -> Result<(), CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.register_push_token(service.into(), &token).await })
            .await
    }

    /// Session events until the returned subscription is cancelled or dropped.
    pub fn subscribe(&self, listener: Arc<dyn SessionListener>) -> Arc<Subscription> {
        Arc::new(Subscription::new(self.core.clone(), listener))
    }

    /// HTTP requests sent since this object was built: a diagnostic for journey figures.
    pub fn round_trips(&self) -> u64 {
        self.core.round_trips()
    }
}
