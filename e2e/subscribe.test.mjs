// Browser end-to-end test of e-mail notifications as a subscriber meets
// them: sign up on /subscribe, open the confirmation link from the mail and
// press its button, receive the mail about a new asset, and unsubscribe
// from the link in that mail (its List-Unsubscribe header).
//
// Run with `node --test subscribe.test.mjs` (e2e/run.sh does the setup:
// headless Chromium, npm ci, the binary, and checks that Mailpit is
// installed). The test starts everything it needs itself and stops it
// again, each by PID: Mailpit (SMTP server with an HTTP API to read what it
// received) and the server, each on free 127.0.0.1 ports with a fresh
// database in a temporary folder, and Chromium with a new empty profile.
//
// Environment (all optional):
//   ICY_MORNING_BIN  the binary (default: ../bin/icy-morning from this file)
//   MAILPIT_BIN      Mailpit (default: ../.tools/bin/mailpit, which `make init` installs)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import {
  ARTIFACTS, BIN, STARTUP_TIMEOUT_MS, TEST_TIMEOUT_MS, here,
  answers200, exited, http, newPage, reportFailure, setUp, sleep, spawnChild, startBrowser, stop, tearDown, waitFor, watchPage,
} from './harness.mjs';

const MAILPIT = process.env.MAILPIT_BIN || resolve(here, '..', '.tools', 'bin', 'mailpit');
const FAILURE_SCREENSHOT = join(ARTIFACTS, 'subscribe-failure.png');

const USER = 'operator';
const PASS = 'operator-pass';
const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
const EMAIL = 'ada.subscriber@example.com';
const WITNESS = 'witness@example.com'; // subscribed by the operator, to show a fan-out has happened
const TOPIC = 'asset::creation';

// Time budget: the whole file's is harness.mjs's; these waits are this
// test's own.
const MAIL_TIMEOUT_MS = 10_000; // a mail arriving in Mailpit
// How long a mail that must not come is waited for. A confirmation is sent
// within the sign-up request, so by its answer Mailpit has it; this only
// covers Mailpit's storing it after its SMTP reply.
const NO_MAIL_SETTLE_MS = 1_000;
const START_TRIES = 3; // a free port may be taken between probe and bind

// api calls the service's JSON API with the operator's credentials and
// returns the decoded body, failing unless the status is want.
async function api(base, method, path, body, want) {
  const res = await http(`${base}${path}`, {
    method,
    headers: { Authorization: AUTH, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.equal(res.status, want, `${method} ${path}: ${text}`);
  return JSON.parse(text);
}

// freePort asks the kernel for a free 127.0.0.1 port. Mailpit cannot report
// a port it picked, and the server's PUBLIC_BASE_URL must name its port
// before it starts; the port may be taken again before they bind it, so
// their starts are retried (START_TRIES).
function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function accepts(port) {
  return new Promise((res) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
  });
}

// startProcess runs bin with the arguments and environment that
// make(ports) gives for fresh free ports, and waits until ready(ports)
// holds. A process that exits before it is ready (another one took a port)
// is started again with new ports, up to START_TRIES times.
async function startProcess(name, bin, portCount, make, ready) {
  let lastError;
  for (let attempt = 1; attempt <= START_TRIES; attempt++) {
    const ports = [];
    for (let i = 0; i < portCount; i++) ports.push(await freePort());
    const { args, env } = make(ports);
    const child = spawnChild(name, bin, args, { env });
    child.ports = ports;
    try {
      await waitFor(`${name} ready`, STARTUP_TIMEOUT_MS, () => ready(ports, child), child.failed);
      return child;
    } catch (err) {
      lastError = err;
      await stop(child);
      if (child.spawnError || !exited(child.proc)) break; // not a port taken in between: do not retry
    }
  }
  throw lastError;
}

// startMailpit runs Mailpit on two free ports (SMTP, HTTP API) with its
// database in dir.
function startMailpit(dir) {
  return startProcess('mailpit', MAILPIT, 2, ([smtp, web]) => ({
    args: ['--smtp', `127.0.0.1:${smtp}`, '--listen', `127.0.0.1:${web}`, '--database', join(dir, 'mailpit.db'),
      '--disable-version-check', '--smtp-disable-rdns'],
    env: {},
  }), async ([smtp, web], child) => {
    if (!(await answers200(`http://127.0.0.1:${web}/readyz`)) || !(await accepts(smtp))) return false;
    child.smtp = `127.0.0.1:${smtp}`;
    child.api = `http://127.0.0.1:${web}`;
    return true;
  });
}

// startServer runs `icy-morning serve` on a free port with a fresh SQLite
// file, mailing through mailpit (plain SMTP, no send-rate cap).
function startServer(dbPath, mailpit) {
  return startProcess('icy-morning', BIN, 1, ([port]) => ({
    args: ['serve', '--addr', `127.0.0.1:${port}`, '--database-url', `sqlite:///${dbPath}`],
    env: {
      BASIC_AUTH_USERNAME: USER,
      BASIC_AUTH_PASSWORD: PASS,
      MAIL_URL: `smtp://${mailpit.smtp}?tls=none`,
      MAIL_MAX_PER_SECOND: '0',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}/`,
    },
  }), async ([port], child) => {
    if (!(await answers200(`http://127.0.0.1:${port}/healthz`))) return false;
    child.base = `http://127.0.0.1:${port}`;
    return true;
  });
}

// Mailpit's HTTP API.
async function mailpitGet(mailpit, path) {
  const res = await http(`${mailpit.api}${path}`);
  assert.equal(res.status, 200, `Mailpit GET ${path}`);
  return res.json();
}

// mailsTo lists the messages Mailpit holds for address, oldest first.
async function mailsTo(mailpit, address) {
  const { messages, total } = await mailpitGet(mailpit, '/api/v1/messages?limit=500');
  assert.ok(total <= 500, `Mailpit holds ${total} messages, more than one page`);
  return messages
    .filter((m) => (m.To ?? []).some((to) => to.Address.toLowerCase() === address.toLowerCase()))
    .reverse();
}

// waitForMail waits for a message to address that match(summary) accepts,
// and returns it whole (Text, HTML) with its headers.
async function waitForMail(mailpit, what, address, match) {
  const summary = await waitFor(what, MAIL_TIMEOUT_MS, async () => (await mailsTo(mailpit, address)).find(match));
  const message = await mailpitGet(mailpit, `/api/v1/message/${summary.ID}`);
  message.headers = await mailpitGet(mailpit, `/api/v1/message/${summary.ID}/headers`);
  return message;
}

// linksIn returns the http(s) URLs in a text part, and the href targets of
// an HTML part.
function linksIn(text) {
  return [...text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0]);
}
function hrefsIn(html) {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) =>
    m[1].replaceAll('&amp;', '&').replaceAll('&#43;', '+').replaceAll('&#61;', '='));
}

// theLink returns the one link of a mail under base+path: in its text part,
// and the same one in its HTML part.
function theLink(message, base, path) {
  const prefix = `${base}${path}`;
  const inText = [...new Set(linksIn(message.Text).filter((u) => u.startsWith(prefix)))];
  assert.equal(inText.length, 1, `one ${prefix}… link in the text part:\n${message.Text}`);
  const inHTML = [...new Set(hrefsIn(message.HTML).filter((u) => u.startsWith(prefix)))];
  assert.deepEqual(inHTML, inText, `the HTML part links to the same ${prefix}… URL:\n${message.HTML}`);
  assert.ok(inText[0].length > prefix.length, `the link has a token: ${inText[0]}`);
  return inText[0];
}

async function subscriptionOf(base, email) {
  const subs = await api(base, 'GET', `/api/v1/subscriptions?email=${encodeURIComponent(email)}`, null, 200);
  assert.equal(subs.length, 1, `one subscription of ${email}: ${JSON.stringify(subs)}`);
  return subs[0];
}

// expectPage checks that the browser shows the page titled heading: the
// one <h1>, and the document title that starts with it.
async function expectPage(page, heading) {
  const h1 = page.getByRole('heading', { level: 1 });
  await h1.waitFor({ state: 'visible' });
  assert.equal((await h1.innerText()).trim(), heading, `page heading (URL ${page.url()})`);
  assert.equal(await h1.count(), 1, 'one <h1>');
  assert.equal(await page.title(), `${heading} · Icy Morning`, 'document title');
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

// submit presses button and waits for the page the form's POST answers.
async function submit(page, button, path, heading) {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path);
  await button.click();
  const res = await answered;
  assert.equal(res.status(), 200, `POST ${path} from the page`);
  assert.ok(res.request().isNavigationRequest(), 'the button submits the form (a navigation), no script');
  return expectPage(page, heading);
}

// signUpInBrowser fills in and submits the form on /subscribe.
async function signUpInBrowser(page, base) {
  const res = await page.goto(`${base}/subscribe`, { waitUntil: 'load' });
  assert.equal(res?.status(), 200, 'GET /subscribe');
  await expectPage(page, 'Subscribe to Icy Morning');
  // Found by their labels, as a screen reader user finds them.
  await page.getByLabel('E-mail address').fill(EMAIL);
  const topic = page.getByLabel('Tell me about');
  assert.deepEqual(await topic.selectOption(TOPIC), [TOPIC], 'topic picked');
  const main = await submit(page, page.getByRole('button', { name: 'Subscribe' }), '/subscribe', 'Check your inbox');
  assert.match(main, /sent it a link to confirm/);
}

test('subscriber: sign up on /subscribe, confirm from the mail, get a notification, unsubscribe from its link',
  { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const tmp = setUp('icy-morning-e2e-subscribe-', FAILURE_SCREENSHOT);
    const started = Date.now();
    const step = (what) => t.diagnostic(`${((Date.now() - started) / 1000).toFixed(2)} s: ${what}`);
    let mailpit, server, browser, page;
    const problems = []; // console errors (CSP violations among them), page errors, failed or 4xx/5xx requests
    try {
      mailpit = await startMailpit(tmp);
      step(`mailpit smtp ${mailpit.smtp}, api ${mailpit.api} (pid ${mailpit.proc.pid})`);
      server = await startServer(join(tmp, 'e2e.db'), mailpit);
      const base = server.base;
      step(`server ${base} (pid ${server.proc.pid})`);

      const analyst = await api(base, 'POST', '/api/v1/analysts', { name: 'Ada', company: 'Acme' }, 201);

      browser = await startBrowser(join(tmp, 'chromium-profile'));
      step(`chromium pid ${browser.proc.pid}`);
      page = await newPage(browser, { width: 1000, height: 800 });
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()} (${page.url()})`);
      });
      watchPage(page, problems);

      // 1. Sign up on the page.
      await signUpInBrowser(page, base);
      step('signed up on /subscribe');
      let sub = await subscriptionOf(base, EMAIL);
      assert.equal(sub.status, 'pending', 'a sign-up is pending until confirmed');
      assert.equal(sub.topic, TOPIC);
      assert.equal(sub.analyst_id, null, 'no analyst entered: every analyst');

      // 2. The confirmation mail.
      const confirmation = await waitForMail(mailpit, 'the confirmation mail', EMAIL, () => true);
      assert.equal(confirmation.Subject, 'Confirm your Icy Morning subscription');
      assert.match(confirmation.Text, new RegExp(`${EMAIL.replace(/\./g, '\\.')} to be e-mailed about ${TOPIC}`));
      const confirmURL = theLink(confirmation, base, '/subscribe/confirm/');
      step('confirmation mail received');

      // 3. Signing up again within the hour mails nothing: the first link
      //    stands. (The page says the same either way.)
      await signUpInBrowser(page, base);
      await sleep(NO_MAIL_SETTLE_MS);
      assert.equal((await mailsTo(mailpit, EMAIL)).length, 1, 'a second sign-up within the hour sends no second confirmation');
      assert.deepEqual(await subscriptionOf(base, EMAIL), sub, 'the second sign-up changes nothing');
      step('second sign-up: no second mail');

      // 4. The link's page: a button, and the GET confirms nothing (mail
      //    scanners follow links).
      let res = await page.goto(confirmURL, { waitUntil: 'load' });
      assert.equal(res?.status(), 200, 'GET of the confirmation link');
      let main = await expectPage(page, 'Confirm your subscription');
      assert.ok(main.includes(EMAIL), `the page names the address: ${main}`);
      assert.equal((await subscriptionOf(base, EMAIL)).status, 'pending', 'still pending after the GET');
      main = await submit(page, page.getByRole('button', { name: 'Confirm my subscription' }),
        new URL(confirmURL).pathname, 'You are subscribed');
      assert.ok(main.includes(`${EMAIL} will receive e-mail about new assets`), `the confirmed page: ${main}`);
      sub = await subscriptionOf(base, EMAIL);
      assert.equal(sub.status, 'active', 'active after the button');
      step('confirmed');

      // 5. A new asset is mailed about.
      const asset = await api(base, 'POST', '/api/v1/assets',
        { name: 'Icy Morning e2e asset', description: 'created by subscribe.test.mjs', is_active: true, analyst_id: analyst.id }, 201);
      const note = await waitForMail(mailpit, 'the notification mail', EMAIL, (m) => m.Subject === `New asset: ${asset.name}`);
      step('notification mail received');
      const h = note.headers;
      assert.equal(h['List-Unsubscribe-Post']?.join(), 'List-Unsubscribe=One-Click', 'List-Unsubscribe-Post (RFC 8058)');
      const listUnsubscribe = h['List-Unsubscribe'] ?? [];
      assert.equal(listUnsubscribe.length, 1, `one List-Unsubscribe header: ${JSON.stringify(listUnsubscribe)}`);
      const unsubscribeURL = listUnsubscribe[0].match(/^<([^>]+)>$/)?.[1];
      assert.ok(unsubscribeURL?.startsWith(`${base}/unsubscribe/`), `List-Unsubscribe is <${base}/unsubscribe/…>: ${listUnsubscribe[0]}`);
      assert.equal(theLink(note, base, '/unsubscribe/'), unsubscribeURL, 'the mail\'s own unsubscribe link is the header\'s');
      assert.match(h['Message-Id']?.join() ?? '', new RegExp(`^<event-\\d+\\.subscription-${sub.id}@[^>]+>$`), 'Message-ID from (event, subscription)');
      assert.deepEqual(note.To.map((a) => a.Address), [EMAIL], 'one recipient');
      for (const part of [note.Text, note.HTML]) {
        assert.ok(part.includes(asset.name), `the mail names the asset:\n${part}`);
        assert.ok(part.includes(asset.description), `the mail shows the asset's description:\n${part}`);
      }
      assert.ok(linksIn(note.Text).includes(`${base}/api/v1/assets/${asset.id}`), `the text part links to the asset:\n${note.Text}`);

      // 6. The unsubscribe link's page: a button, and the GET unsubscribes
      //    nothing.
      res = await page.goto(unsubscribeURL, { waitUntil: 'load' });
      assert.equal(res?.status(), 200, 'GET of the unsubscribe link');
      main = await expectPage(page, 'Unsubscribe');
      assert.ok(main.includes(EMAIL), `the page names the address: ${main}`);
      assert.equal((await subscriptionOf(base, EMAIL)).status, 'active', 'still active after the GET');
      main = await submit(page, page.getByRole('button', { name: 'Unsubscribe' }),
        new URL(unsubscribeURL).pathname, 'You are unsubscribed');
      assert.ok(main.includes(`${EMAIL} will receive no more e-mail about new assets`), `the unsubscribed page: ${main}`);
      assert.equal((await subscriptionOf(base, EMAIL)).status, 'unsubscribed', 'unsubscribed after the button');
      step('unsubscribed');

      // 7. No more mail: the next asset reaches an address the operator
      //    subscribed (so its event has been fanned out), and not this one.
      await api(base, 'POST', '/api/v1/subscriptions', { email: WITNESS, topic: TOPIC }, 201);
      const second = await api(base, 'POST', '/api/v1/assets', { name: 'After unsubscribing', is_active: true, analyst_id: analyst.id }, 201);
      await waitForMail(mailpit, 'the witness\'s notification', WITNESS, (m) => m.Subject === `New asset: ${second.name}`);
      assert.deepEqual((await mailsTo(mailpit, EMAIL)).map((m) => m.Subject),
        ['Confirm your Icy Morning subscription', `New asset: ${asset.name}`],
        'the subscriber got one confirmation and one notification, nothing after unsubscribing');
      step('no mail after unsubscribing');

      assert.deepEqual(problems, [], 'no console errors, page errors or failed requests on the pages');
    } catch (err) {
      await reportFailure({ page, screenshot: FAILURE_SCREENSHOT, problems, processes: [server, mailpit] });
      throw err;
    } finally {
      await tearDown(browser);
    }
  });
