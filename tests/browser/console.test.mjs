// The support console in real headless Chromium (Debian's package), driven by playwright-core:
// a finance agent signs in, finds the invoice by its RF reference, answers the member on the
// invoice's thread, sees the member's reply arrive without a reload, issues a credit note for the whole amount through its confirmation, sees
// the status change arrive on the open view without a reload (server-sent events), and the
// member's payment link now says the invoice is paid. A support agent sees no finance forms, a
// wrong password is refused, and markup typed into the search is shown as text.
//
// Environment (set by run.sh): TIERSPAY_MOCK_URL, CHROMIUM, ARTIFACTS.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const MOCK = process.env.TIERSPAY_MOCK_URL;
const SECRET_KEY = 'sk_test_tierspay';
const ARTIFACTS = process.env.ARTIFACTS ?? 'target/browser-artifacts';
const LINK_ORIGIN = 'https://app.tierspay.fr';
const PASSWORD = 'correct horse battery staple';

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

const local = (url) => url.replace(LINK_ORIGIN, MOCK);

async function shot(page, name) {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

async function newPage(options = {}) {
  const context = await browser.newContext({ locale: 'fr-FR', ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
    return route.abort();
  });
  return { context, page, errors };
}

async function signIn(page, email, password) {
  await page.goto(`${MOCK}/console/login`);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}

before(async () => {
  assert.ok(MOCK, 'TIERSPAY_MOCK_URL is set by run.sh');
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
  await api('POST', '/v1/test_helpers/console/staff', {
    email: 'finance@insurer.example', password: PASSWORD, role: 'finance', display_name: 'Alice (service client)',
  });
  await api('POST', '/v1/test_helpers/console/staff', {
    email: 'support@insurer.example', password: PASSWORD, role: 'support',
  });
});

after(async () => {
  await browser?.close();
});

test('sign in, find the invoice, answer, credit it in full, and the member link says paid', async () => {
  const arrears = await api('POST', '/v1/insurer/arrears', {
    contract: 'TP1000001', amount: 4250, description: 'Cotisation de novembre',
  });
  const links = await api('POST', `/v1/test_helpers/invoices/${arrears.invoice}/links`, { channels: ['email'] });
  const memberLink = local(links.data[0].url);

  const { context, page, errors } = await newPage();
  await signIn(page, 'finance@insurer.example', 'not the password');
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /incorrect/);
  await shot(page, 'console-01-wrong-password');

  await signIn(page, 'finance@insurer.example', PASSWORD);
  await page.getByRole('heading', { level: 1, name: 'Rechercher une facture' }).waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-tierspay-console');
  assert.ok(session, 'the session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, 'Strict');

  // The RF reference as printed, in groups of four.
  const grouped = arrears.rf_reference.match(/.{1,4}/g).join(' ');
  await page.getByLabel(/Numéro de facture/).fill(grouped);
  await page.getByRole('button', { name: 'Rechercher' }).click();
  await page.getByRole('link', { name: arrears.number ?? /./ }).first().click();
  await page.getByRole('heading', { level: 1, name: /^Facture / }).waitFor();
  const main = await page.locator('main').innerText();
  for (const fact of ['TP1000001', 'Camille M.', '42,50', 'À payer', 'Facture créée']) {
    assert.ok(main.includes(fact), `missing ${fact}`);
  }
  assert.ok(!main.includes('+33612345678') && !main.includes('camille.martin@example.fr'));
  await shot(page, 'console-02-invoice');

  // An answer on the thread, with markup kept as text.
  await page.getByLabel(/Votre réponse/).fill('Bonjour, <b>un avoir</b> arrive.');
  await page.getByRole('button', { name: 'Répondre' }).click();
  const thread = page.locator('.thread li[data-author="staff"]');
  await thread.first().waitFor();
  assert.match(await thread.first().innerText(), /Alice \(service client\)/);
  assert.match(await thread.first().innerText(), /<b>un avoir<\/b> arrive\./);
  await shot(page, 'console-03-answered');

  // The member replies from the app (the mock's helper writes as the invoice's member): the
  // open view shows it without a reload, as text.
  await api('POST', '/v1/test_helpers/invoice_messages/member', {
    invoice: arrears.invoice, text: 'Merci ! <i>Je</i> paierai le reste vendredi.',
  });
  const reply = page.locator('.thread li[data-author="member"]');
  await reply.first().waitFor({ timeout: 10_000 });
  assert.match(await reply.first().innerText(), /<i>Je<\/i> paierai le reste vendredi\./);
  await shot(page, 'console-03b-member-reply');

  // The credit note, through its confirmation; a second tab keeps the view open and sees the
  // status change arrive without a reload.
  const watcher = await context.newPage();
  await watcher.goto(page.url());
  await watcher.locator('.status[data-status="open"]').waitFor();
  await page.getByLabel('Montant (€)').fill('42,50');
  await page.getByRole('button', { name: 'Émettre un avoir' }).click();
  await page.getByRole('heading', { level: 1, name: /Confirmer/ }).waitFor();
  assert.match(await page.locator('main').innerText(), /42,50/);
  await shot(page, 'console-04-confirm');
  await page.getByRole('button', { name: 'Confirmer' }).click();
  await page.getByText("C'est fait.").waitFor();
  await watcher.locator('.status[data-status="paid"]').waitFor({ timeout: 10_000 });
  assert.ok(await watcher.evaluate(() => document.getElementById('main').dataset.refreshed), 'refreshed in place');
  assert.match(await watcher.locator('.timeline').innerText(), /Avoir/);
  await shot(watcher, 'console-05-live-paid');

  // The member's link shows the change.
  const member = await newPage();
  await member.page.goto(memberLink);
  await member.page.getByRole('heading', { level: 1, name: 'Facture déjà payée' }).waitFor();
  await shot(member.page, 'console-06-member-link-paid');
  await member.context.close();
  // The wrong password's 401 is the page's own answer; anything else (a CSP or integrity
  // refusal, a failed fetch) is a failure.
  assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), [], 'no console errors (CSP, integrity)');
  await context.close();
});

test('support sees no finance action, and markup in the search is text', async () => {
  await api('POST', '/v1/insurer/arrears', { contract: 'TP1000001', amount: 1999, description: 'Cotisation' });
  const { context, page } = await newPage({ locale: 'en-GB' });
  // The browser asked for English: the form is in English.
  await page.goto(`${MOCK}/console/login`);
  await page.getByLabel('Email address').fill('support@insurer.example');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Find an invoice' }).waitFor();
  await page.getByLabel(/Invoice number/).fill('<img src=x onerror=alert(1)>');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No invoice matches.').waitFor();
  assert.equal(await page.locator('main img').count(), 0, 'no element from the search text');
  await page.goto(`${MOCK}/console/invoices?status=open`);
  await page.locator('tbody a').first().click();
  await page.getByText('Finance team only.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Void the invoice' }).count(), 0);
  await page.getByRole('link', { name: 'Français' }).click();
  await page.getByText("Réservé à l'équipe finance.").waitFor();
  await shot(page, 'console-07-support-view');
  await context.close();
});
