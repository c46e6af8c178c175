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
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.ICY_MORNING_BIN || resolve(here, '..', 'bin', 'icy-morning');
const MAILPIT = process.env.MAILPIT_BIN || resolve(here, '..', '.tools', 'bin', 'mailpit');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(here, 'artifacts');
const FAILURE_SCREENSHOT = join(ARTIFACTS, 'subscribe-failure.png');

const USER = 'operator';
const PASS = 'operator-pass';
const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
const EMAIL = 'ada.subscriber@example.com';
const WITNESS = 'witness@example.com'; // subscribed by the operator, to show a fan-out has happened
const TOPIC = 'asset::creation';

// Time budget. The whole file must end in < 60 s: the test itself times out
// at TEST_TIMEOUT_MS, every single wait below has its own shorter limit, and
// a last-resort watchdog kills the children and exits at WATCHDOG_MS.
const TEST_TIMEOUT_MS = 50_000;
const WATCHDOG_MS = 57_000;
const STEP_TIMEOUT_MS = 10_000; // any one browser action or wait
const STARTUP_TIMEOUT_MS = 15_000; // a process listening and healthy; browser up
const MAIL_TIMEOUT_MS = 10_000; // a mail arriving in Mailpit
// How long a mail that must not come is waited for. A confirmation is sent
// within the sign-up request, so by its answer Mailpit has it; this only
// covers Mailpit's storing it after its SMTP reply.
const NO_MAIL_SETTLE_MS = 1_000;
const HTTP_TIMEOUT_MS = 5_000; // one plain HTTP request from the test
const STOP_GRACE_MS = 5_000; // SIGTERM, then SIGKILL
const START_TRIES = 3; // a free port may be taken between probe and bind

const children = new Set(); // { name, proc, group, log } still to be stopped
let tmp = null; // this run's temporary folder (databases, browser profile)

const watchdog = setTimeout(() => {
  console.error(`watchdog: the test ran past ${WATCHDOG_MS} ms; killing its processes`);
  for (const c of children) hardKill(c);
  try {
    if (tmp) rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
  } catch {
    // best effort
  }
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

function hardKill({ proc, group }) {
  try {
    process.kill(group ? -proc.pid : proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function exited(proc) {
  return proc.exitCode !== null || proc.signalCode !== null;
}

// stop ends a child by its PID (its process group for the browser, whose
// renderers and helpers share the group): SIGTERM, then SIGKILL after
// STOP_GRACE_MS.
async function stop(child) {
  if (!child) return;
  const { proc, group } = child;
  if (!exited(proc)) {
    const gone = new Promise((res) => proc.once('exit', res));
    try {
      process.kill(group ? -proc.pid : proc.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const t = setTimeout(() => hardKill(child), STOP_GRACE_MS);
    await gone;
    clearTimeout(t);
  }
  // The leader may have gone before the rest of its group.
  if (group) hardKill(child);
  children.delete(child);
}

// waitFor resolves with the first truthy value of check(), polled every 50 ms,
// or rejects after ms (or at once when failed() returns a message).
async function waitFor(what, ms, check, failed = () => null) {
  const end = Date.now() + ms;
  for (;;) {
    const why = failed();
    if (why) throw new Error(`${what}: ${why}`);
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function http(url, init = {}) {
  return fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
}

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

async function answers200(url) {
  try {
    return (await http(url)).status === 200;
  } catch {
    return false;
  }
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
    const proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = { name, proc, group: false, log: '', ports };
    children.add(child);
    let spawnError = null;
    proc.on('error', (e) => (spawnError = e));
    const onData = (d) => (child.log += d);
    proc.stdout.setEncoding('utf8').on('data', onData);
    proc.stderr.setEncoding('utf8').on('data', onData);
    const failed = () =>
      spawnError ? `cannot start ${bin}: ${spawnError.message}` :
      exited(proc) ? `${name} exited (${proc.exitCode ?? proc.signalCode}); log:\n${child.log}` : null;
    try {
      await waitFor(`${name} ready`, STARTUP_TIMEOUT_MS, () => ready(ports, child), failed);
      return child;
    } catch (err) {
      lastError = err;
      await stop(child);
      if (spawnError || !exited(proc)) break; // not a port taken in between: do not retry
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

// startBrowser launches headless Chromium itself (so that the flags, the
// profile and the PID are ours) with DevTools on a kernel-picked loopback
// port, and connects Playwright to it over CDP.
async function startBrowser(profileDir) {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // A container's /dev/shm may be tiny; Debian's launcher script means to
    // add this itself but its check breaks where findmnt prints two lines.
    '--disable-dev-shm-usage',
    // The test needs no name resolution (it uses 127.0.0.1): answer every
    // lookup "not found" inside the browser, so no DNS query leaves it.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    `--user-data-dir=${profileDir}`,
    '--remote-debugging-port=0',
    'about:blank',
  ];
  // detached: its own process group, so that stop() ends its helpers too.
  const proc = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const child = { name: 'chromium', proc, group: true, log: '' };
  children.add(child);
  let spawnError = null;
  proc.on('error', (e) => (spawnError = e));
  proc.stderr.setEncoding('utf8').on('data', (d) => (child.log += d));
  const ws = await waitFor('Chromium DevTools endpoint', STARTUP_TIMEOUT_MS,
    () => child.log.match(/DevTools listening on (ws:\/\/\S+)/)?.[1],
    () => spawnError ? `cannot start ${CHROMIUM}: ${spawnError.message}` :
      exited(proc) ? `Chromium exited (${proc.exitCode ?? proc.signalCode}); stderr:\n${child.log}` : null);
  child.browser = await chromium.connectOverCDP(ws, { timeout: STARTUP_TIMEOUT_MS });
  return child;
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
    tmp = mkdtempSync(join(tmpdir(), 'icy-morning-e2e-subscribe-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    rmSync(FAILURE_SCREENSHOT, { force: true });
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
      const context = await browser.browser.newContext({ viewport: { width: 1000, height: 800 } });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
      page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()} (${page.url()})`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
      });

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
      if (page) {
        await page.screenshot({ path: FAILURE_SCREENSHOT, fullPage: true, timeout: 3_000 }).catch(() => {});
        console.error(`failure screenshot: ${FAILURE_SCREENSHOT} (page ${page.url()})`);
      }
      if (problems.length) console.error('browser problems:\n  ' + problems.join('\n  '));
      for (const c of [server, mailpit]) {
        if (c?.log) console.error(`${c.name} log (tail):\n` + c.log.split('\n').slice(-30).join('\n'));
      }
      throw err;
    } finally {
      if (browser?.browser) {
        await Promise.race([browser.browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
      }
      // Every process started, newest (the browser) first, including one
      // whose start-up failed before its start function returned it.
      for (const child of [...children].reverse()) await stop(child);
      // maxRetries: a killed browser helper may still be letting go of files.
      rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
    }
  });
