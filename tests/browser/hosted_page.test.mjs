// The hosted payment page in real headless Chromium (Debian's package), driven by
// playwright-core: the email link is opened, paid through the PSP's own card form, reloaded,
// and the SMS link of the same invoice shows "already paid"; an expired link offers a fresh
// one, a tampered link is refused, French and English follow the browser's language, the pay
// button is reached by keyboard alone, and everything works with JavaScript disabled.
//
// Environment (set by run.sh): TIERSPAY_MOCK_URL, CHROMIUM (default /usr/bin/chromium),
// ARTIFACTS (screenshots; default target/browser-artifacts).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const MOCK = process.env.TIERSPAY_MOCK_URL;
const SECRET_KEY = 'sk_test_tierspay';
const ARTIFACTS = process.env.ARTIFACTS ?? 'target/browser-artifacts';
const LINK_ORIGIN = 'https://app.tierspay.fr';

let browser;

async function api(method, path, body) {
  const response = await fetch(`${MOCK}${path}`, {
    method,
    headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const doc = await response.json();
  assert.equal(response.status, 200, JSON.stringify(doc));
  return doc;
}

// The mock serves the links' paths under its own address.
const local = (url) => url.replace(LINK_ORIGIN, MOCK);

// A premium arrears invoice of the demo member, and one link per channel.
async function invoiceWithLinks(amount, channels) {
  const arrears = await api('POST', '/v1/insurer/arrears', {
    contract: 'TP1000001',
    amount,
    description: 'Cotisation <script>alert(1)</script> de novembre',
  });
  const links = await api('POST', `/v1/test_helpers/invoices/${arrears.invoice}/links`, { channels });
  const byChannel = Object.fromEntries(
    links.data.map((l) => [l.channel, { long: local(l.url), short: l.short_url && local(l.short_url) }]),
  );
  return { arrears, links: byChannel };
}

async function shot(page, name) {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

async function newPage(options = {}) {
  const context = await browser.newContext({ locale: 'fr-FR', ...options });
  const page = await context.newPage();
  // No request may leave loopback: the page loads nothing from elsewhere.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
    return route.abort();
  });
  return { context, page };
}

async function payByCard(page, number) {
  await page.getByRole('button', { name: /Payer par carte|Pay by card/ }).click();
  await page.waitForURL(/\/c\/pay\//);
  await page.getByLabel(/Numéro de carte|Card number/).fill(number);
  await page.getByLabel(/Mois d'expiration|Expiry month/).fill('12');
  await page.getByLabel(/Année d'expiration|Expiry year/).fill('2034');
  await page.getByLabel(/Code de sécurité|Security code/).fill('123');
  await page.getByRole('button', { name: /^(Payer|Pay) / }).click();
}

before(async () => {
  assert.ok(MOCK, 'TIERSPAY_MOCK_URL is set by run.sh');
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
});

after(async () => {
  await browser?.close();
});

test('pay from the email link, reload, and the SMS link of the same invoice says already paid', async () => {
  const { arrears, links } = await invoiceWithLinks(4250, ['email', 'sms']);
  const { context, page } = await newPage();
  const response = await page.goto(links.email.long);
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await page.getByRole('heading', { level: 1, name: /Facture/ }).waitFor();
  const text = await page.locator('main').innerText();
  for (const fact of ['Camille Martin', '…0001', '42,50', 'À payer', arrears.rf_reference.slice(0, 4)]) {
    assert.ok(text.includes(fact), `missing ${fact}`);
  }
  assert.equal(await page.locator('script').count(), 0, 'no script on the page');
  // The insurer's description carried markup: it is shown as text, never run.
  assert.ok(text.includes('<script>alert(1)</script>'), 'the description, escaped');
  assert.ok(await page.locator('svg[role="img"]').isVisible(), 'the EPC QR code');
  await shot(page, '01-email-link-open');

  // A declined card is said on the PSP's form, in French.
  await payByCard(page, '4000000000000002');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /refusée/);
  await shot(page, '02-psp-form-declined');

  await page.getByLabel('Numéro de carte').fill('4242424242424242');
  await page.getByLabel("Mois d'expiration (MM)").fill('12');
  await page.getByLabel("Année d'expiration (AAAA)").fill('2034');
  await page.getByLabel('Code de sécurité (CVC)').fill('123');
  await page.getByRole('button', { name: /^Payer / }).click();
  await page.waitForURL(links.email.long);
  await page.getByRole('heading', { level: 1, name: 'Facture déjà payée' }).waitFor();
  await page.reload();
  const paid = await page.locator('main').innerText();
  assert.match(paid, /Reçu/);
  assert.match(paid, /Carte Visa •••• 4242/);
  assert.match(paid, /42,50/);
  assert.equal(await page.locator('form').count(), 0, 'no way to pay twice');
  await shot(page, '03-email-link-paid');

  // The SMS carries the short link: it leads to the same invoice, already paid.
  await page.goto(links.sms.short ?? links.sms.long);
  await page.getByRole('heading', { level: 1, name: 'Facture déjà payée' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Carte Visa •••• 4242/);
  await shot(page, '04-sms-link-paid');
  await context.close();
});

test('3-D Secure card goes through the challenge page', async () => {
  const { links } = await invoiceWithLinks(1999, ['email']);
  const { context, page } = await newPage({ locale: 'en-GB' });
  await page.goto(links.email.long);
  await payByCard(page, '4000002500003155');
  await page.waitForURL(/\/redirect\/authenticate\//);
  await shot(page, '05-3ds-challenge');
  await page.getByRole('button', { name: 'Complete authentication' }).click();
  await page.waitForURL(links.email.long);
  await page.getByRole('heading', { level: 1, name: 'Already paid' }).waitFor();
  assert.match(await page.locator('main').innerText(), /€19\.99/);
  await context.close();
});

test('an expired link offers a fresh link to the known address, with no address input', async () => {
  const { links } = await invoiceWithLinks(3000, ['email']);
  await api('POST', '/v1/test_helpers/clock/advance', { seconds: 61 * 86400 });
  const { context, page } = await newPage({ locale: 'en-US' });
  const response = await page.goto(links.email.long);
  assert.equal(response.status(), 410);
  await page.getByRole('heading', { level: 1, name: 'This link has expired' }).waitFor();
  assert.equal(await page.locator('input').count(), 0, 'no address can be typed');
  assert.match(await page.locator('main').innerText(), /c•••@example\.fr/);
  await shot(page, '06-expired');
  await page.getByRole('button', { name: 'Send a fresh link' }).click();
  await page.getByRole('heading', { level: 1, name: 'Fresh link sent' }).waitFor();
  await shot(page, '07-fresh-link-sent');
  const outbox = await api('GET', '/v1/test_helpers/outbox?channel=email&recipient=camille.martin%40example.fr');
  assert.ok(outbox.data.length >= 1);
  assert.match(outbox.data[0].body, /https:\/\/app\.tierspay\.fr\/l\//);
  await context.close();
});

test('a tampered link is refused and shows nothing of the invoice', async () => {
  const { links } = await invoiceWithLinks(4250, ['email']);
  const url = links.email.long;
  const at = url.length - 30;
  const tampered = url.slice(0, at) + (url[at] === 'A' ? 'B' : 'A') + url.slice(at + 1);
  const { context, page } = await newPage();
  const response = await page.goto(tampered);
  assert.equal(response.status(), 400);
  await page.getByRole('heading', { level: 1, name: 'Lien de paiement refusé' }).waitFor();
  const text = await page.locator('body').innerText();
  for (const secret of ['Camille', '42,50', 'Référence', 'IBAN']) {
    assert.ok(!text.includes(secret), `shows ${secret}`);
  }
  await shot(page, '08-tampered');
  await context.close();
});

test('French or English from the browser language', async () => {
  const { links } = await invoiceWithLinks(123456, ['email']);
  for (const [locale, lang, heading, amount] of [
    ['fr-FR', 'fr', 'Payer par virement SEPA', '1 234,56'],
    ['en-GB', 'en', 'Pay by SEPA transfer', '€1,234.56'],
  ]) {
    const { context, page } = await newPage({ locale });
    await page.goto(links.email.long);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await page.getByRole('heading', { level: 2, name: heading }).waitFor();
    const text = (await page.locator('main').innerText()).replace(/[\u00a0\u202f]/g, ' ');
    assert.ok(text.includes(amount), `${locale}: ${amount}`);
    await shot(page, `09-language-${lang}`);
    await context.close();
  }
});

test('keyboard only: the skip link comes first and Tab reaches the pay button', async () => {
  const { links } = await invoiceWithLinks(4250, ['email']);
  const { context, page } = await newPage();
  await page.goto(links.email.long);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(
      () => document.activeElement.tagName === 'BUTTON' && /Payer par carte/.test(document.activeElement.textContent),
    );
  }
  assert.ok(reached, 'Tab reaches the pay button');
  // The focus is visible: an outline is drawn around the focused button.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await shot(page, '10-keyboard-focus');
  // Enter on the focused button opens the card form, whose fields are reached by Tab too.
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/c\/pay\//);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'number');
  await context.close();
});

test('everything works with JavaScript disabled', async () => {
  const { links } = await invoiceWithLinks(2500, ['email', 'sms']);
  const { context, page } = await newPage({ javaScriptEnabled: false });
  await page.goto(links.email.long);
  await page.getByRole('heading', { level: 1, name: /Facture/ }).waitFor();
  await payByCard(page, '4242424242424242');
  await page.waitForURL(links.email.long);
  await page.getByRole('heading', { level: 1, name: 'Facture déjà payée' }).waitFor();
  await page.goto(links.sms.short ?? links.sms.long);
  await page.getByRole('heading', { level: 1, name: 'Facture déjà payée' }).waitFor();
  await shot(page, '11-no-javascript-paid');
  await context.close();
});
