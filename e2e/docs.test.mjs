// Browser end-to-end test of the interactive API docs (/docs, Swagger UI)
// served by the icy-morning binary, used the way a person would use them:
// open /docs, click Authorize, enter the Basic credentials, open
// POST /api/v1/assets, "Try it out" with an edited body, Execute, see 201;
// then check with a plain HTTP GET that the asset exists.
//
// Run with `node --test docs.test.mjs` (e2e/run.sh does the setup: headless
// Chromium, npm ci, the binary). The test starts everything it needs itself
// and stops it again: the server on a free 127.0.0.1 port with a fresh
// SQLite file, and Chromium with a new empty profile, both by PID.
//
// Environment (all optional):
//   ICY_MORNING_BIN  the binary (default: ../bin/icy-morning from this file)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.ICY_MORNING_BIN || resolve(here, '..', 'bin', 'icy-morning');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = join(here, 'artifacts');
const SCREENSHOT = join(ARTIFACTS, 'docs.png');
const FAILURE_SCREENSHOT = join(ARTIFACTS, 'docs-failure.png');

const USER = 'docs';
const PASS = 'docs-pass';
const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
const ASSET = { name: 'From the docs', is_active: true, analyst_id: 1 };

// Time budget. The whole file must end in < 60 s: the test itself times out
// at TEST_TIMEOUT_MS, every single wait below has its own shorter limit, and
// a last-resort watchdog kills the children and exits at WATCHDOG_MS.
const TEST_TIMEOUT_MS = 50_000;
const WATCHDOG_MS = 57_000;
const STEP_TIMEOUT_MS = 10_000; // any one browser action or wait
const STARTUP_TIMEOUT_MS = 15_000; // server listening + healthy; browser up
const HTTP_TIMEOUT_MS = 5_000; // one plain HTTP request from the test
const STOP_GRACE_MS = 5_000; // SIGTERM, then SIGKILL

const children = new Set(); // { proc, group } still to be stopped
let tmp = null; // this run's temporary folder (database, browser profile)

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

async function http(url, init = {}) {
  return fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
}

// startServer runs the binary on 127.0.0.1:0 (the kernel picks a free port,
// so no race with other processes) and reads the bound address from its
// "listening" log line, then waits for GET /healthz to answer 200.
async function startServer(dbPath) {
  const proc = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--database-url', `sqlite:///${dbPath}`], {
    env: { ...process.env, BASIC_AUTH_USERNAME: USER, BASIC_AUTH_PASSWORD: PASS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = { proc, group: false, log: '' };
  children.add(child);
  let spawnError = null;
  proc.on('error', (e) => (spawnError = e));
  const onData = (d) => (child.log += d);
  proc.stdout.setEncoding('utf8').on('data', onData);
  proc.stderr.setEncoding('utf8').on('data', onData);
  const failed = () =>
    spawnError ? `cannot start ${BIN}: ${spawnError.message}` :
    exited(proc) ? `server exited (${proc.exitCode ?? proc.signalCode}); log:\n${child.log}` : null;

  const addr = await waitFor('server listening', STARTUP_TIMEOUT_MS, () => {
    for (const line of child.log.split('\n')) {
      try {
        const rec = JSON.parse(line);
        if (rec.msg === 'listening' && rec.addr) return rec.addr;
      } catch {
        // not a JSON log line
      }
    }
    return null;
  }, failed);
  child.base = `http://${addr}`;
  await waitFor('GET /healthz 200', STARTUP_TIMEOUT_MS, async () => {
    try {
      return (await http(`${child.base}/healthz`)).status === 200;
    } catch {
      return false;
    }
  }, failed);
  return child;
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
    // Even with the flags above Chromium looks up Google service names
    // (sign-in, autofill, optimization guide, updates). The test needs no
    // name resolution at all (it uses 127.0.0.1), so answer every lookup
    // "not found" inside the browser: no DNS query leaves it.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    `--user-data-dir=${profileDir}`,
    '--remote-debugging-port=0',
    'about:blank',
  ];
  // detached: its own process group, so that stop() ends its helpers too.
  const proc = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const child = { proc, group: true, log: '' };
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

test('API docs: Authorize, Try it out POST /api/v1/assets, 201, asset exists', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  tmp = mkdtempSync(join(tmpdir(), 'icy-morning-e2e-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(FAILURE_SCREENSHOT, { force: true });
  let server, browser, page;
  const problems = []; // console errors, page errors, failed or 4xx/5xx requests
  const warnings = [];
  try {
    server = await startServer(join(tmp, 'e2e.db'));
    const base = server.base;
    t.diagnostic(`server ${base} (pid ${server.proc.pid})`);

    // The asset needs an analyst: made with plain HTTP, not the UI.
    const analystRes = await http(`${base}/api/v1/analysts`, {
      method: 'POST',
      headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', company: 'Acme' }),
    });
    const analystText = await analystRes.text();
    assert.equal(analystRes.status, 201, `create analyst: ${analystText}`);
    const analyst = JSON.parse(analystText);
    assert.equal(analyst.id, ASSET.analyst_id, 'the fresh database gives the first analyst id 1');

    browser = await startBrowser(join(tmp, 'chromium-profile'));
    t.diagnostic(`chromium pid ${browser.proc.pid}`);
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 1000 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    page = await context.newPage();
    page.on('console', (m) => {
      const where = m.location()?.url ? ` (${m.location().url}:${m.location().lineNumber})` : '';
      if (m.type() === 'error') problems.push(`console error: ${m.text()}${where}`);
      else if (m.type() === 'warning') warnings.push(`console warning: ${m.text()}${where}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
    });

    // 1. Open the docs.
    const docsRes = await page.goto(`${base}/docs`, { waitUntil: 'load' });
    assert.equal(docsRes?.status(), 200, 'GET /docs');
    const op = page.locator('#operations-assets-create-asset');
    await op.waitFor({ state: 'visible' });
    // The "Servers" drop-down must point at this server ("/" is resolved
    // against the page), or "Try it out" would call somewhere else.
    const servers = await page.locator('.servers select option').allTextContents();
    t.diagnostic(`servers offered: ${JSON.stringify(servers)}`);

    // 2. Authorize with Basic credentials.
    const authorize = page.locator('.auth-wrapper .btn.authorize');
    await authorize.waitFor({ state: 'visible' });
    assert.match(await authorize.getAttribute('class'), /\bunlocked\b/, 'Authorize starts unlocked');
    await authorize.click();
    const modal = page.locator('.dialog-ux .modal-ux');
    await modal.waitFor({ state: 'visible' });
    await modal.locator('#auth-basic-username').fill(USER);
    await modal.locator('#auth-basic-password').fill(PASS);
    await modal.locator('.auth-btn-wrapper button.authorize').click();
    await modal.locator('.auth-container').getByText('Authorized', { exact: true }).waitFor();
    await modal.locator('.auth-btn-wrapper .btn-done').click();
    await modal.waitFor({ state: 'detached' });
    assert.match(await authorize.getAttribute('class'), /\blocked\b/, 'Authorize shows locked after login');

    // 3. Open POST /api/v1/assets and "Try it out".
    await op.locator('.opblock-summary-control').click();
    const tryOut = op.locator('.try-out__btn');
    await tryOut.waitFor({ state: 'visible' });
    // The page sets tryItOutEnabled, so the operation may already be in
    // try-out mode (the button then reads "Cancel").
    if ((await tryOut.innerText()).trim() === 'Try it out') await tryOut.click();
    assert.equal((await tryOut.innerText()).trim(), 'Cancel', 'operation is in try-out mode');
    assert.equal(await op.locator('.authorization__btn').getAttribute('aria-label'), 'authorization button locked',
      'the operation\'s lock shows the credentials apply');

    const body = op.locator('textarea.body-param__text');
    await body.waitFor({ state: 'visible' });
    await body.fill(JSON.stringify(ASSET, null, 2));
    assert.deepEqual(JSON.parse(await body.inputValue()), ASSET, 'edited request body');

    // 4. Execute, and watch the request the page really sends.
    const sent = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/assets');
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/assets');
    await op.locator('button.execute').click();
    const req = await sent;
    const res = await answered;
    assert.equal(new URL(req.url()).origin, base, '"Try it out" calls this server');
    assert.equal(req.headers()['authorization'], AUTH, 'the request carries the Basic credentials');
    assert.deepEqual(JSON.parse(req.postData() ?? 'null'), ASSET, 'the request sends the edited body');
    assert.equal(res.status(), 201, `POST /api/v1/assets from the page: ${await res.text()}`);

    // 5. The UI shows the server's answer. Only the live response table:
    // the documented responses table below it lists "201" as well.
    const live = op.locator('.responses-wrapper .live-responses-table .response');
    await live.first().waitFor({ state: 'visible' });
    assert.equal((await live.first().locator('.response-col_status').innerText()).trim(), '201', 'status shown in the UI');
    const shownBody = JSON.parse(await live.first().locator('.response-col_description .highlight-code pre, .response-col_description pre.microlight').first().innerText());
    assert.equal(shownBody.name, ASSET.name);
    assert.equal(shownBody.is_active, true);
    assert.equal(shownBody.analyst_id, ASSET.analyst_id);
    assert.ok(Number.isInteger(shownBody.id) && shownBody.id > 0, `asset id shown: ${shownBody.id}`);
    assert.deepEqual(shownBody, await res.json(), 'the UI shows the body the server sent');
    const requestURL = (await op.locator('.request-url pre').innerText()).trim();
    assert.equal(requestURL, `${base}/api/v1/assets`, 'Request URL shown in the UI');

    // Screenshot: the operation from its summary bar (with the lock) down
    // to the end of the live response (status 201 and its body).
    const clip = await page.evaluate(() => {
      const top = document.querySelector('#operations-assets-create-asset .opblock-summary').getBoundingClientRect();
      const end = document.querySelector('#operations-assets-create-asset .live-responses-table').getBoundingClientRect();
      return { x: 0, y: top.top + window.scrollY, width: document.documentElement.clientWidth, height: end.bottom - top.top };
    });
    await page.screenshot({ path: SCREENSHOT, fullPage: true, clip });
    t.diagnostic(`screenshot ${SCREENSHOT}`);

    // 6. A plain HTTP GET finds the asset.
    const getRes = await http(`${base}/api/v1/assets/${shownBody.id}`, { headers: { Authorization: AUTH } });
    assert.equal(getRes.status, 200, `GET /api/v1/assets/${shownBody.id}`);
    assert.deepEqual(await getRes.json(), shownBody, 'GET returns the asset created from the docs');

    for (const w of warnings) t.diagnostic(w);
    assert.deepEqual(problems, [], 'no console errors, page errors or failed requests on the docs page');
  } catch (err) {
    if (page) {
      await page.screenshot({ path: FAILURE_SCREENSHOT, fullPage: true, timeout: 3_000 }).catch(() => {});
    }
    if (problems.length) console.error('browser problems:\n  ' + problems.join('\n  '));
    if (server?.log) console.error('server log (tail):\n' + server.log.split('\n').slice(-30).join('\n'));
    throw err;
  } finally {
    if (browser?.browser) {
      await Promise.race([browser.browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
    }
    // Every process started, newest (the browser) first, including one
    // whose start-up failed before startServer/startBrowser returned it.
    for (const child of [...children].reverse()) await stop(child);
    // maxRetries: a killed browser helper may still be letting go of files.
    rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
  }
});
