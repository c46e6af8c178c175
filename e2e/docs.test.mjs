// Browser end-to-end test of the interactive API docs (/docs, Swagger UI)
// served by the icy-morning binary, used the way a person would use them:
// open /docs, click Authorize, enter the Basic credentials, open
// POST /api/v1/assets, see its description and documented examples, follow
// the link to the document, "Try it out" with an edited body, Execute, see
// 201; then check with a plain HTTP GET that the asset exists.
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
import { join } from 'node:path';
import {
  ARTIFACTS, TEST_TIMEOUT_MS,
  http, newPage, reportFailure, setUp, startBrowser, startServer, tearDown, watchPage,
} from './harness.mjs';

const SCREENSHOT = join(ARTIFACTS, 'docs.png');
const FAILURE_SCREENSHOT = join(ARTIFACTS, 'docs-failure.png');

const USER = 'docs';
const PASS = 'docs-pass';
const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
const ASSET = { name: 'From the docs', is_active: true, analyst_id: 1 };

test('API docs: Authorize, Try it out POST /api/v1/assets, 201, asset exists', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const tmp = setUp('icy-morning-e2e-', FAILURE_SCREENSHOT);
  let server, browser, page;
  const problems = []; // console errors, page errors, failed or 4xx/5xx requests
  const warnings = [];
  try {
    server = await startServer(join(tmp, 'e2e.db'), { BASIC_AUTH_USERNAME: USER, BASIC_AUTH_PASSWORD: PASS });
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
    page = await newPage(browser, { width: 1280, height: 1000 });
    page.on('console', (m) => {
      const where = m.location()?.url ? ` (${m.location().url}:${m.location().lineNumber})` : '';
      if (m.type() === 'error') problems.push(`console error: ${m.text()}${where}`);
      else if (m.type() === 'warning') warnings.push(`console warning: ${m.text()}${where}`);
    });
    watchPage(page, problems);

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

    // The document's words and examples are on the page: the operation's
    // description, the request body starting as the documented example,
    // and the documented example of a 422 among the responses.
    const doc = await (await http(`${base}/openapi.json`)).json();
    const documented = doc.paths['/api/v1/assets'].post;
    const example = documented.requestBody.content['application/json'].example;
    assert.equal(example?.name, 'Global Equity Fund', 'the document has a request body example');
    assert.deepEqual(JSON.parse(await body.inputValue()), example, 'the request body starts as the documented example');
    await op.locator('.opblock-description-wrapper').getByText('Who may call it:', { exact: false }).waitFor();
    const problem422 = op.locator('.responses-table tr.response[data-code="422"]');
    assert.match(await problem422.innerText(), /"location": "body\.name"/, 'the 422 example is shown');
    // The document itself can be downloaded from the page: Swagger UI links
    // it under the title, and the description links each of its forms.
    const links = page.locator('.information-container a[href="openapi.json"]');
    assert.ok(await links.count() >= 1, 'the page links openapi.json');
    const downloaded = await http(new URL(await links.first().getAttribute('href'), page.url()).href);
    assert.equal(downloaded.status, 200, 'the linked document downloads');
    assert.equal((await downloaded.json()).info.version, doc.info.version, 'the linked document is the API\'s');

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
    await reportFailure({ page, screenshot: FAILURE_SCREENSHOT, problems, processes: [server] });
    throw err;
  } finally {
    await tearDown(browser);
  }
});
