//! The member's own card, for what insurers do not pay: checked on the phone, sent to the PSP
//! only (with the platform's publishable key, at the PSP URL the platform gave if it passes
//! [`PspEndpoint::check`]), then handed to the platform by its `pm_…` id. The phone keeps the
//! public facts; the number and code live in memory for the one request.

use reqwest::{Method, Url};

use super::Core;
use crate::domain::payment;
use crate::error::{Error, Result};
use crate::net::psp::{self, CardEntry, PspEndpoint};
use crate::wire::{MemberPaymentMethod, PaymentSetup, SavePaymentMethodRequest};

impl Core {
    /// The member's own card as last known on this phone. No network.
    pub fn payment_method(&self) -> Result<Option<MemberPaymentMethod>> {
        self.store()?.load_payment_method()
    }

    /// Saves the member's own card: checks it, creates the PaymentMethod at the PSP, gives the
    /// platform its id, and keeps the public facts. `expiry` is `MM/YY`.
    pub async fn save_payment_method(
        &self,
        number: &str,
        expiry: &str,
        cvc: &str,
    ) -> Result<MemberPaymentMethod> {
        let today = self.today();
        let number = payment::card_number(number)?;
        let (exp_month, exp_year) =
            payment::card_expiry(expiry, (today.year(), u32::from(u8::from(today.month()))))?;
        let cvc = payment::card_cvc(cvc)?;
        let card = CardEntry {
            number,
            exp_month,
            exp_year,
            cvc,
        };
        let setup: PaymentSetup = self
            .authed(Method::GET, "/v1/me/payment_setup", None)
            .await?
            .json()?;
        let endpoint = PspEndpoint::check(&setup.psp_url, self.enrolled_server()?.as_str())?;
        let pm = psp::create_payment_method(
            &endpoint,
            &setup.publishable_key,
            &card,
            self.settings.request_timeout,
        )
        .await?;
        drop(card);
        let body = serde_json::to_vec(&SavePaymentMethodRequest {
            payment_method: pm.id,
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        let saved: MemberPaymentMethod = self
            .authed(Method::POST, "/v1/me/payment_method", Some(body))
            .await?
            .json()?;
        self.keep_payment_method(saved)
    }

    /// Reads the member's own card from the platform again (after the bank's challenge, most
    /// often); `None` when the platform has none.
    pub async fn refresh_payment_method(&self) -> Result<Option<MemberPaymentMethod>> {
        match self
            .authed(Method::GET, "/v1/me/payment_method", None)
            .await
        {
            Ok(response) => self.keep_payment_method(response.json()?).map(Some),
            Err(Error::Api { status: 404, .. }) => {
                self.store()?.delete_payment_method()?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The server this session's requests go to (the enrolled one; `authed` refuses others).
    fn enrolled_server(&self) -> Result<Url> {
        let url = self
            .session()?
            .and_then(|s| s.server_url)
            .unwrap_or_else(|| self.api.base_url().to_owned());
        Url::parse(&url).map_err(|_| Error::Internal("the server URL is not a URL".into()))
    }

    /// Checks what the platform said of the card before keeping it and handing it to a shell:
    /// four digits, and a challenge page the shell may open (https, or the enrolled server's
    /// origin; never `javascript:` or a page with credentials).
    fn keep_payment_method(&self, mut pm: MemberPaymentMethod) -> Result<MemberPaymentMethod> {
        let bad = |what: &str| Error::Protocol(format!("the platform's card answer: {what}"));
        if pm.last4.len() != 4 || !pm.last4.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("last4 is not four digits"));
        }
        if !pm.payment_method.starts_with("pm_") || pm.payment_method.len() > 255 {
            return Err(bad("not a pm_ id"));
        }
        if !(1..=12).contains(&pm.exp_month) || pm.brand.len() > 32 {
            return Err(bad("expiry or brand out of range"));
        }
        if let Some(url) = &pm.next_action_url {
            if url.len() > 2048 {
                return Err(bad("next_action_url is too long"));
            }
            // A path is the server's own page; the shell gets it whole.
            let page = self
                .enrolled_server()?
                .join(url)
                .map_err(|_| bad("next_action_url is not a URL"))?;
            if !challenge_page_allowed(&page, &self.enrolled_server()?) {
                return Err(bad("next_action_url is neither https nor the server's"));
            }
            pm.next_action_url = Some(page.to_string());
        }
        self.store()?
            .save_payment_method(&pm, crate::net::unix_now())?;
        Ok(pm)
    }
}

/// Whether a shell may open `page` for the bank's challenge: https, or the enrolled server's own
/// origin; never with credentials (`javascript:`, `file:`, `http://elsewhere` are refused).
fn challenge_page_allowed(page: &Url, server: &Url) -> bool {
    (page.scheme() == "https" || page.origin() == server.origin())
        && page.username().is_empty()
        && page.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_the_servers_own_pages_open_for_a_challenge() {
        let server = Url::parse("http://127.0.0.1:4010").unwrap();
        let page = |u: &str| server.join(u).unwrap();
        assert!(challenge_page_allowed(
            &page("/redirect/authenticate/3ds_x"),
            &server
        ));
        assert!(challenge_page_allowed(
            &page("https://bank.example/3ds?x=1"),
            &server
        ));
        for hostile in [
            "javascript:alert(1)",
            "http://evil.example/3ds",
            "//evil.example/3ds",
            "https://u:p@bank.example/",
            "file:///etc/passwd",
            "data:text/html,hi",
        ] {
            assert!(
                !challenge_page_allowed(&page(hostile), &server),
                "{hostile}"
            );
        }
    }
}
